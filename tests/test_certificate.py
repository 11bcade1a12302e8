"""Completing the course: every published topic at proficient or better gives a
certificate, made once and kept, with a public verification link that shows nothing more
about the learner."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import services
from learning.mastery import COMPLETION_LEVEL, course_complete
from learning.models import Certificate, Mastery
from tests.factories import TopicFactory, TopicProgressFactory, UserFactory
from tests.test_way_on import make_course, take_quiz

pytestmark = pytest.mark.django_db


def complete_course(learner: User, count: int = 3) -> Certificate:
    for topic in make_course(count):
        take_quiz(learner, topic.quiz)
    return Certificate.objects.get(learner=learner)


class TestTheRule:
    def test_proficient_everywhere_completes_the_course(self):
        assert COMPLETION_LEVEL == Mastery.PROFICIENT
        assert course_complete([Mastery.PROFICIENT, Mastery.MASTERED])
        assert not course_complete([Mastery.PROFICIENT, Mastery.FAMILIAR])
        assert not course_complete([])


class TestAwarding:
    def test_the_last_topic_to_reach_proficient_makes_the_certificate(self, learner):
        first, second = make_course(2)
        take_quiz(learner, first.quiz)
        assert not Certificate.objects.filter(learner=learner).exists()
        with time_machine.travel(datetime(2026, 11, 20, 10, tzinfo=UTC), tick=False):
            take_quiz(learner, second.quiz)
        certificate = Certificate.objects.get(learner=learner)
        assert certificate.completed_at == datetime(2026, 11, 20, 10, tzinfo=UTC)
        assert certificate.name == ""  # no display name: the learner is asked for one
        assert certificate.topic_levels == [
            ("Topic 1", Mastery.PROFICIENT),
            ("Topic 2", Mastery.PROFICIENT),
        ]
        assert len(certificate.token) >= 32

    def test_the_display_name_is_printed_when_there_is_one(self):
        learner = UserFactory(username="ada2", first_name="Ada Lovelace")
        assert complete_course(learner, 1).name == "Ada Lovelace"

    def test_a_draft_topic_is_not_needed(self, learner):
        TopicFactory(slug="draft", is_published=False)
        complete_course(learner, 2)

    def test_familiar_everywhere_is_not_complete(self, learner):
        for topic in make_course(2):
            TopicProgressFactory(learner=learner, topic=topic, mastery=Mastery.FAMILIAR)
        assert services.claim_certificate(learner=learner) is None

    def test_it_is_made_once_and_kept_when_mastery_drops(self, learner):
        first, second = make_course(2)
        take_quiz(learner, first.quiz)
        take_quiz(learner, second.quiz)
        certificate = Certificate.objects.get(learner=learner)
        take_quiz(learner, first.quiz, right=False)  # proficient -> familiar
        assert learner.topic_progress.get(topic=first).mastery == Mastery.FAMILIAR
        take_quiz(learner, first.quiz)  # back to proficient: complete again
        kept = Certificate.objects.get(learner=learner)
        assert (kept.token, kept.completed_at) == (certificate.token, certificate.completed_at)
        assert Certificate.objects.count() == 1


class TestPages:
    def test_the_dashboard_and_result_show_the_moment(self, learner_client, learner):
        first, second = make_course(2)
        take_quiz(learner, first.quiz)
        assertNotContains(
            learner_client.get(reverse("learning:dashboard")), "completed the course"
        )
        last = take_quiz(learner, second.quiz)
        for page in (
            learner_client.get(reverse("learning:dashboard")),
            learner_client.get(reverse("learning:result", args=[last.pk])),
        ):
            assertContains(page, "You have completed the course")
            assertContains(page, "Every topic reached proficient or better")
            assertContains(page, 'href="/certificate/">Open your certificate</a>')

    def test_its_owner_sees_it_with_the_verification_link(
        self, learner_client, learner, django_assert_max_num_queries
    ):
        certificate = complete_course(learner, 3)
        # session, user, certificate
        with django_assert_max_num_queries(3):
            page = learner_client.get(reverse("learning:certificate"))
        assertContains(page, "Certificate of completion")
        assertContains(page, "Add the name to print on your certificate")
        assertNotContains(page, '<p class="certificate-name">ada</p>')
        assertContains(page, f"http://testserver/certificates/{certificate.token}/")
        assertContains(page, "stays valid if a level drops later")
        for number in (1, 2, 3):
            assertContains(
                page, f'<tr><th scope="row">Topic {number}</th><td>Proficient</td></tr>'
            )

    def test_before_completion_it_says_how_far(self, learner_client, learner):
        topics = make_course(3)
        take_quiz(learner, topics[0].quiz)
        page = learner_client.get(reverse("learning:certificate"))
        assertContains(page, "Not yet")
        assertContains(page, "You have 1 of 3.")

    def test_anyone_can_verify_it_without_logging_in(self, client, django_assert_max_num_queries):
        learner = UserFactory(
            username="secret-handle", first_name="Ada L.", email="ada@example.com"
        )
        certificate = complete_course(learner, 2)
        # the certificate, nothing else (no session, no user)
        with django_assert_max_num_queries(1):
            page = client.get(reverse("learning:verify_certificate", args=[certificate.token]))
        assertContains(page, "Verified.")
        assert page["X-Robots-Tag"] == "noindex"
        assertContains(page, "Ada L.")
        assertContains(page, "Topic 2")
        assertNotContains(page, "secret-handle")
        assertNotContains(page, "ada@example.com")

    def test_a_learner_without_a_name_is_never_printed_by_username(self, client, learner):
        certificate = complete_course(learner, 2)
        public = client.get(reverse("learning:verify_certificate", args=[certificate.token]))
        assertContains(public, "A learner who has not yet added their name")
        assertNotContains(public, learner.username)

        client.force_login(learner)
        saved = client.post(reverse("learning:certificate"), {"name": "  Ada   Lovelace "})
        assert saved.status_code == 302
        client.logout()
        public = client.get(reverse("learning:verify_certificate", args=[certificate.token]))
        assertContains(public, '<p class="certificate-name">Ada Lovelace</p>')

    @pytest.mark.parametrize("name", ["", "   ", "x" * 151])
    def test_a_name_that_cannot_be_printed_is_refused(self, learner_client, learner, name):
        certificate = complete_course(learner, 2)
        page = learner_client.post(reverse("learning:certificate"), {"name": name})
        assert page.status_code == 400
        assertContains(page, 'class="field-error"', status_code=400)
        certificate.refresh_from_db()
        assert certificate.name == ""

    def test_a_course_completed_before_certificates_can_claim_one(self, learner_client, learner):
        for topic in make_course(2):
            TopicProgressFactory(learner=learner, topic=topic, mastery=Mastery.MASTERED)
        page = learner_client.get(reverse("learning:certificate"))
        assertContains(page, "Get your certificate")
        assert not Certificate.objects.filter(learner=learner).exists()  # not on a GET

        claimed = learner_client.post(reverse("learning:certificate"))
        assert claimed.status_code == 302
        certificate = Certificate.objects.get(learner=learner)
        assert [level for _title, level in certificate.topic_levels] == [Mastery.MASTERED] * 2

    def test_claiming_before_completion_makes_nothing(self, learner_client, learner):
        make_course(2)
        assert learner_client.post(reverse("learning:certificate")).status_code == 302
        assert not Certificate.objects.exists()

    def test_a_learner_cannot_see_anothers_but_through_its_link(
        self, client, learner, other_learner
    ):
        theirs = complete_course(other_learner, 2)
        client.force_login(learner)
        own_page = client.get(reverse("learning:certificate"))
        assertNotContains(own_page, theirs.token)
        assertNotContains(own_page, "grace")
        assertContains(own_page, "Not yet")

    @pytest.mark.parametrize(
        "token", ["unknown-but-well-formed-token-123", "short", "a" * 65, "bad%00token-xxxxxxxxxx"]
    )
    def test_an_unknown_or_malformed_id_is_a_404(self, client, token):
        response = client.get(f"/certificates/{token}/")
        assert response.status_code == 404

    def test_the_certificate_page_needs_a_login(self, client):
        response = client.get(reverse("learning:certificate"))
        assert response.status_code == 302
