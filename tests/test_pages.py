"""The course page, lessons, the dashboard and accounts, with their query budgets."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning.models import Mastery, TopicProgress
from tests.factories import (
    AttemptFactory,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    TopicProgressFactory,
)
from tests.helpers import HTMX

pytestmark = pytest.mark.django_db


def make_topics(count: int) -> list:
    topics = []
    for _ in range(count):
        topic = TopicFactory()
        LessonFactory(topic=topic)
        QuizFactory(topic=topic)
        QuestionFactory(topic=topic)
        topics.append(topic)
    return topics


class TestCoursePage:
    def test_it_lists_every_topic_in_order_with_a_disclaimer(self, client):
        first, second = make_topics(2)
        response = client.get(reverse("learning:course"))
        html = response.content.decode()
        assert html.index(first.title) < html.index(second.title)
        assertContains(response, "not medical advice")
        assertContains(response, "Sign up to track your progress")

    def test_it_shows_the_learners_progress_and_next_step(self, learner_client, learner):
        read, quizzed, _fresh = make_topics(3)
        TopicProgressFactory(learner=learner, topic=read, lesson_read_at=timezone.now())
        TopicProgressFactory(
            learner=learner,
            topic=quizzed,
            lesson_read_at=timezone.now(),
            attempt_count=2,
            best_percent=Decimal("92.5"),
            mastery=Mastery.PROFICIENT,
        )
        response = learner_client.get(reverse("learning:course"))
        assertContains(response, "93%")  # 92.5 rounded half up
        assertContains(response, "Proficient")
        assertContains(response, "Retake the quiz")
        assertContains(response, "Take the quiz")
        assertContains(response, "Read the lesson")

    def test_an_open_attempt_offers_to_resume(self, learner_client, learner):
        (topic,) = make_topics(1)
        attempt = AttemptFactory(learner=learner, quiz=topic.quiz, question_ids=[1])
        response = learner_client.get(reverse("learning:course"))
        assertContains(response, reverse("learning:attempt", args=[attempt.pk]))

    def test_its_queries_do_not_grow_with_topics(
        self, learner_client, learner, django_assert_max_num_queries
    ):
        topics = make_topics(11)
        for topic in topics:
            TopicProgressFactory(learner=learner, topic=topic, attempt_count=1)
        # session, user, page versions, timed attempts, topics, the learner's progress,
        # their open attempts, reviews due
        with django_assert_max_num_queries(8):
            response = learner_client.get(reverse("learning:course"))
        assert response.status_code == 200


class TestLessonPage:
    def test_it_renders_the_lesson_with_a_table_of_contents(self, client):
        (topic,) = make_topics(1)
        response = client.get(reverse("learning:lesson", args=[topic.slug]))
        assertContains(response, '<h2 id="calcium">Calcium starts the pull</h2>', html=True)
        assertContains(response, 'href="#calcium"')
        assertContains(response, "Educational content, not medical advice.")
        assertContains(response, "Log in")

    def test_markup_in_a_lesson_is_sanitized(self, client):
        topic = TopicFactory()
        LessonFactory(
            topic=topic,
            body_markdown="## Hi {#hi}\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))",
        )
        response = client.get(reverse("learning:lesson", args=[topic.slug]))
        assertNotContains(response, "<script>alert")
        assertNotContains(response, "javascript:alert")

    def test_an_unknown_topic_is_404(self, client):
        assert client.get(reverse("learning:lesson", args=["nope"])).status_code == 404

    def test_mark_as_read_with_htmx_swaps_the_status(self, learner_client, learner):
        (topic,) = make_topics(1)
        url = reverse("learning:mark_read", args=[topic.slug])
        response = learner_client.post(url, **HTMX)
        assert response.status_code == 200
        assert "<html" not in response.content.decode()
        assertContains(response, "You have read this lesson")
        assertContains(response, reverse("learning:quiz", args=[topic.slug]))
        assert TopicProgress.objects.get(learner=learner, topic=topic).lesson_read

    def test_mark_as_read_without_javascript_redirects_back(self, learner_client, learner):
        (topic,) = make_topics(1)
        url = reverse("learning:mark_read", args=[topic.slug])
        response = learner_client.post(url)
        assertRedirects(response, reverse("learning:lesson", args=[topic.slug]))
        page = learner_client.get(reverse("learning:lesson", args=[topic.slug]))
        assertContains(page, "You have read this lesson")

    def test_mark_as_read_needs_a_login_and_a_post(self, learner_client):
        (topic,) = make_topics(1)
        url = reverse("learning:mark_read", args=[topic.slug])
        assertRedirects(Client().post(url), f"{reverse('login')}?next={url}")
        assert learner_client.get(url).status_code == 405
        assert not TopicProgress.objects.exists()


class TestDashboard:
    def test_it_shows_progress_and_the_attempt_history(self, learner_client, learner):
        (topic,) = make_topics(1)
        TopicProgressFactory(
            learner=learner,
            topic=topic,
            attempt_count=1,
            best_percent=Decimal(80),
            mastery=Mastery.FAMILIAR,
        )
        AttemptFactory(
            learner=learner, quiz=topic.quiz, state="finished", percent=Decimal(80),
            passed=True, finished_at=timezone.now(), question_ids=[1],
        )  # fmt: skip
        response = learner_client.get(reverse("learning:dashboard"))
        assertContains(response, topic.title)
        assertContains(response, "Familiar")
        assertContains(response, "80%")
        assertContains(response, "Passed")

    def test_the_page_title_is_plain_text(self, learner_client):
        response = learner_client.get(reverse("learning:dashboard"))
        assertContains(response, "<title>Your dashboard · Muscle Spasms, Explained</title>")
        assert response.content.decode().count('id="classes-heading"') == 1

    def test_someone_elses_attempts_are_not_listed(self, learner_client, other_learner):
        (topic,) = make_topics(1)
        AttemptFactory(
            learner=other_learner, quiz=topic.quiz, state="finished", percent=Decimal(33),
            passed=False, finished_at=timezone.now(), question_ids=[1],
        )  # fmt: skip
        response = learner_client.get(reverse("learning:dashboard"))
        assertContains(response, "No finished quizzes yet")

    def test_its_queries_do_not_grow_with_topics_or_attempts(
        self, learner_client, learner, django_assert_max_num_queries
    ):
        topics = make_topics(11)
        for topic in topics:
            TopicProgressFactory(learner=learner, topic=topic, attempt_count=3)
            for _ in range(3):
                AttemptFactory(
                    learner=learner, quiz=topic.quiz, state="finished", percent=Decimal(50),
                    passed=False, finished_at=timezone.now(), question_ids=[1],
                )  # fmt: skip
        # session, user, page versions, timed attempts, topics, progress, open attempts,
        # reviews due, score history, answers per day, count of attempts, one page of them,
        # classes, certificate
        with django_assert_max_num_queries(14):
            response = learner_client.get(reverse("learning:dashboard"))
        assertContains(response, "Page 1 of 2")


class TestAccounts:
    def test_sign_up_logs_the_new_learner_in(self, client):
        data = {
            "username": "newbie",
            "password1": "a-long-pass-phrase",
            "password2": "a-long-pass-phrase",
        }
        response = client.post(reverse("learning:signup"), data)
        assertRedirects(response, reverse("learning:course"))
        assert get_user_model().objects.filter(username="newbie").exists()
        assertContains(client.get(reverse("learning:dashboard")), "Your progress, newbie")

    def test_sign_up_refuses_a_weak_password_with_a_message(self, client):
        data = {"username": "newbie", "password1": "123", "password2": "123"}
        response = client.post(reverse("learning:signup"), data)
        assertContains(response, "too short", status_code=400)
        assert not get_user_model().objects.filter(username="newbie").exists()

    def test_log_in_and_out(self, client, learner):
        from tests.factories import PASSWORD

        response = client.post(
            reverse("login"), {"username": learner.username, "password": PASSWORD}
        )
        assertRedirects(response, reverse("learning:dashboard"))
        response = client.post(reverse("logout"))
        assertRedirects(response, reverse("learning:course"))
        assert client.get(reverse("learning:dashboard")).status_code == 302

    def test_a_wrong_password_says_so(self, client, learner):
        response = client.post(
            reverse("login"), {"username": learner.username, "password": "nope"}
        )
        assertContains(response, "enter a correct username and password")
