"""Deep linking: from the test LMS's "add external tool" screen an instructor picks a quiz,
and the LMS receives a signed link to it with its gradebook column."""

import re
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.core.cache import caches
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiRegistration
from pytest_django.asserts import assertContains, assertNotContains

from learning import services
from learning.lti.deep_linking import SESSION_KEY
from learning.models import LmsGrade, QuizKind
from tests.factories import QuizFactory, TopicFactory, UserFactory
from tests.lti_platform import DL, INSTRUCTOR, LEARNER, LTI, FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)

FORM = re.compile(r'<form id="deep-link-return" method="post" action="([^"]+)">')
JWT_FIELD = re.compile(r'name="JWT" value="([^"]+)"')
SCRIPT_NONCE = re.compile(r'<script nonce="([^"]+)">document.getElementById\("deep-link-return"\)')


def deep_link_launch(
    platform: FakePlatform, client: Client, registration: LtiRegistration, **claims: Any
) -> str:
    """An instructor's deep-linking launch from the test LMS; returns its launch id."""
    state, nonce = platform.login(client, registration)
    body = platform.claims(
        nonce=nonce,
        message_type="LtiDeepLinkingRequest",
        **{"sub": "teacher-1", "roles": [INSTRUCTOR], "name": "Rosalind Franklin", **claims},
    )
    response = platform.post_launch(client, platform.sign(body), state)
    assert response.status_code == 302, response.content[:300]
    assert response["Location"] == reverse("lti:deep_link")
    return client.session[SESSION_KEY]


@pytest.fixture
def registration(lti_platform: FakePlatform) -> LtiRegistration:
    return lti_platform.register()


@pytest.fixture
def course_quizzes():
    cramps = TopicFactory(slug="cramps", title="Cramps", summary="Why a muscle locks.")
    QuizFactory(topic=cramps, question_count=5, pass_mark=80, lms_grade=LmsGrade.LATEST)
    draft = TopicFactory(slug="draft", title="Half-written topic", is_published=False)
    QuizFactory(topic=draft)
    TopicFactory(slug="no-quiz", title="Topic without a quiz")
    # The challenge's settings row, as migrations make it (an earlier transactional test's
    # flush may have emptied it; the picker would make it again, costing writes).
    services.course_quiz(QuizKind.CHALLENGE)
    return cramps


def pick(client: Client, target: str):
    return client.post(reverse("lti:deep_link"), {"target": target})


class TestThePicker:
    def test_it_lists_each_published_quiz_and_the_challenge(
        self, lti_platform, client, registration, course_quizzes, django_assert_max_num_queries
    ):
        deep_link_launch(lti_platform, client, registration)
        # session, user, the launch from the LTI cache, the registration and our key (the
        # launch restored), whether the user is the instructor who launched, the topics
        # with their quizzes, the challenge, and the platform's origins that may frame the
        # page (learning/lti/framing.py)
        with django_assert_max_num_queries(9):
            page = client.get(reverse("lti:deep_link"))
        assert page.status_code == 200
        assertContains(page, "Cramps quiz")
        assertContains(page, "<dd>5</dd>", html=False)
        assertContains(page, "<dd>80%</dd>", html=False)
        assertContains(page, "Cramps quiz, out of 100")
        assertContains(page, "Their latest attempt")
        assertContains(page, 'value="quiz:cramps"')
        assertContains(page, "Course challenge")
        assertContains(page, 'value="challenge"')
        assertNotContains(page, "Half-written topic")
        assertNotContains(page, "Topic without a quiz")

    def test_without_a_launch_it_says_so(self, lti_platform, client, registration):
        client.force_login(UserFactory())
        page = client.get(reverse("lti:deep_link"))
        assertContains(page, "No request from your LMS to add an activity", status_code=400)

    def test_an_expired_launch_is_refused(self, lti_platform, client, registration):
        deep_link_launch(lti_platform, client, registration)
        caches["lti"].clear()  # its hour in the cache is over
        page = client.get(reverse("lti:deep_link"))
        assertContains(page, "too long ago", status_code=410)

    def test_only_the_instructor_who_launched_may_pick(self, lti_platform, client, registration):
        launch_id = deep_link_launch(lti_platform, client, registration)
        client.force_login(UserFactory(username="someone-else"))
        session = client.session
        session[SESSION_KEY] = launch_id
        session.save()
        page = client.get(reverse("lti:deep_link"))
        assertContains(page, "Only the teacher who opened this", status_code=403)
        assert pick(client, "challenge").status_code == 403
        assert lti_platform.deep_link_responses == []

    def test_a_learner_may_not_pick(self, lti_platform, client, registration):
        state, nonce = lti_platform.login(client, registration)
        body = lti_platform.claims(
            nonce=nonce, message_type="LtiDeepLinkingRequest", roles=[LEARNER], sub="learner-1"
        )
        refused = lti_platform.post_launch(client, lti_platform.sign(body), state)
        assert refused.status_code == 403
        assert SESSION_KEY not in client.session
        assert client.get(reverse("lti:deep_link")).status_code == 400


class TestThePick:
    def test_the_lms_receives_a_signed_link_with_its_gradebook_column(
        self, lti_platform, client, registration, course_quizzes
    ):
        deep_link_launch(lti_platform, client, registration)
        response = pick(client, "quiz:cramps")
        assert response.status_code == 200
        html = response.content.decode()
        return_url = FORM.search(html).group(1)
        assert return_url == lti_platform.deep_link_return_url
        # The form may post there, from this response only; its script runs by our nonce.
        policy = response["Content-Security-Policy"]
        assert f"form-action 'self' {lti_platform.base_url}" in policy
        assert f"'nonce-{SCRIPT_NONCE.search(html).group(1)}'" in policy
        assert (
            "form-action 'self';"
            in client.get(reverse("learning:course"))["Content-Security-Policy"] + ";"
        )
        # What the browser then posts to the LMS, which checks it against our JWKS.
        jwt = JWT_FIELD.search(html).group(1)
        received = Client().post(urlsplit(return_url).path, {"JWT": jwt})
        assertContains(received, "Link saved")
        [claims] = lti_platform.deep_link_responses
        assert claims["iss"] == lti_platform.client_id
        assert claims["aud"] == [lti_platform.issuer]
        assert claims[LTI + "message_type"] == "LtiDeepLinkingResponse"
        assert claims[LTI + "deployment_id"] == lti_platform.deployment_id
        assert claims[DL + "data"] == "platform-opaque-data"
        [item] = claims[DL + "content_items"]
        assert item == {
            "type": "ltiResourceLink",
            "title": "Cramps quiz",
            "url": "http://testserver/lti/launch/",  # the tool's launch URL
            "custom": {"target": "quiz:cramps"},
            "lineItem": {
                "scoreMaximum": 100,
                "label": "Cramps quiz",
                "resourceId": "quiz:cramps",
                "tag": "muscle-spasms-course",
            },
        }

    def test_the_challenge_can_be_picked(self, lti_platform, client, registration):
        deep_link_launch(lti_platform, client, registration)
        html = pick(client, "challenge").content.decode()
        return_path = urlsplit(lti_platform.deep_link_return_url).path
        Client().post(return_path, {"JWT": JWT_FIELD.search(html).group(1)})
        [item] = lti_platform.deep_link_responses[0][DL + "content_items"]
        assert item["custom"] == {"target": "challenge"}
        assert item["lineItem"]["label"] == "Course challenge"

    def test_a_launch_serves_one_pick(self, lti_platform, client, registration, course_quizzes):
        deep_link_launch(lti_platform, client, registration)
        assert pick(client, "quiz:cramps").status_code == 200
        again = pick(client, "challenge")
        assert again.status_code in (400, 410)
        assertNotContains(again, "deep-link-return", status_code=again.status_code)

    def test_an_unknown_pick_is_refused_and_the_launch_kept(
        self, lti_platform, client, registration, course_quizzes
    ):
        deep_link_launch(lti_platform, client, registration)
        refused = pick(client, "quiz:no-such-topic")
        assertContains(refused, "not one of these", status_code=400)
        assertNotContains(refused, "deep-link-return", status_code=400)
        assert pick(client, "quiz:cramps").status_code == 200

    def test_a_draft_topics_quiz_cannot_be_picked(
        self, lti_platform, client, registration, course_quizzes
    ):
        deep_link_launch(lti_platform, client, registration)
        assertContains(pick(client, "quiz:draft"), "not one of these", status_code=400)
