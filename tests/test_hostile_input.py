"""Property-based tests: random and malformed data posted to every form and htmx endpoint
never gets a 5xx, and never changes a score when it is refused."""

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning import services
from learning.models import Attempt, Question, Response, TopicProgress
from tests.factories import (
    FACTORY_BY_TYPE,
    LessonFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FIELD_NAMES = [
    *("question", "choice", "value", "text", "code", "username", "password", "password1"),
    *("password2", "match-1", "match-99999", "next", "page", "", "x"),
]
VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "Infinity",
            "-0",
            "1e999999",
            "0x10",
            "１２",
            "null",
            "[]",
            "{}",
            "9" * 400,
            "\x00",
            "\ud7ff",
            "' OR 1=1 --",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
FORMS = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)),
    st.one_of(VALUES, st.lists(VALUES, max_size=4)),
    max_size=6,
)
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(learner):
    topic = TopicFactory(slug="heat")
    LessonFactory(topic=topic)
    for question_factory in FACTORY_BY_TYPE.values():
        question_factory(topic=topic)
    quiz = QuizFactory(topic=topic, question_count=len(FACTORY_BY_TYPE))
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    stranger_attempt = services.start_attempt(learner=UserFactory(username="someone"), quiz=quiz)
    return attempt, stranger_attempt


def scores() -> dict:
    """What no refused input may change: every attempt's points and state, every topic's
    mastery, best score and attempt count, and how many answers are stored."""
    return {
        "attempts": dict(Attempt.objects.values_list("pk", "points")),
        "states": dict(Attempt.objects.values_list("pk", "state")),
        "progress": {
            row[0]: row[1:]
            for row in TopicProgress.objects.values_list(
                "pk", "mastery", "best_percent", "attempt_count"
            )
        },
        "responses": Response.objects.count(),
    }


def unchanged_unless_answered(before: dict, after: dict) -> bool:
    if after["responses"] > before["responses"]:
        return True  # a well-formed answer to an open question was accepted
    same_attempts = all(after["attempts"].get(pk) == pts for pk, pts in before["attempts"].items())
    same_states = all(after["states"].get(pk) == st for pk, st in before["states"].items())
    same_progress = all(after["progress"].get(pk) == row for pk, row in before["progress"].items())
    return same_attempts and same_states and same_progress


def post_everywhere(client: Client, attempt: Attempt, stranger: Attempt) -> list[str]:
    urls = [reverse("learning:question", args=[attempt.pk, p]) for p in range(1, 7)]
    urls += [
        reverse("learning:question", args=[stranger.pk, 1]),
        reverse("learning:mark_read", args=["heat"]),
        reverse("learning:start_quiz", args=["no-such-topic"]),
        reverse("learning:join_class"),
        reverse("learning:start_review"),
        reverse("learning:start_challenge"),
        reverse("learning:signup"),
        reverse("login"),
    ]
    return urls


@HYPOTHESIS
@given(data=FORMS, htmx=st.booleans())
def test_random_posts_never_fail_and_never_change_scores(learner_client, world, data, htmx):
    attempt, stranger = world
    before = scores()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for url in post_everywhere(learner_client, attempt, stranger):
        response = learner_client.post(url, data, **headers)
        assert response.status_code < 500, (url, data)
    assert unchanged_unless_answered(before, scores()), data


@HYPOTHESIS
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded; charset=utf-16",
        ]
    ),
)
def test_raw_bodies_never_fail(learner_client, world, body, content_type):
    attempt, _ = world
    before = scores()
    url = reverse("learning:question", args=[attempt.pk, 1])
    response = learner_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code < 500
    assert unchanged_unless_answered(before, scores())


@HYPOTHESIS
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_random_urls_under_the_learner_paths_never_fail(learner_client, world, path):
    for prefix in ("/attempts/", "/topics/", "/attempts/1/questions/"):
        response = learner_client.get(prefix + path)
        assert response.status_code < 500, prefix + path


@HYPOTHESIS
@given(data=FORMS)
def test_random_posts_to_the_teachers_forms_never_fail(teacher_client, world, data):
    questions_before = Question.objects.count()
    for name in (
        "admin:learning_question_add",
        "admin:learning_question_import",
        "admin:learning_classroom_add",
        "admin:learning_topic_add",
    ):
        response = teacher_client.post(reverse(name), data)
        assert response.status_code < 500, (name, data)
    question = Question.objects.first()
    response = teacher_client.post(
        reverse("admin:learning_question_preview", args=[question.pk]),
        data,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code < 500
    assert Question.objects.count() >= questions_before  # nothing random deletes questions
