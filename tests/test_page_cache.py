"""Cached pages (learning/page_cache.py): the course, lesson, dashboard, review and
challenge pages are served from a per-user cache, and every write that changes one is
seen on the next view of it, on the same client, with the cache warm before the write."""

import re
import shutil
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache.backends.base import BaseCache
from django.core.management import call_command
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import page_cache, services
from learning.models import (
    Attempt,
    Classroom,
    Mastery,
    Membership,
    Question,
    ReviewCard,
    Topic,
)
from learning.question_bank import run_import, undo_import
from tests.factories import (
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    TopicProgressFactory,
    UserFactory,
)
from tests.helpers import HTMX, answer_post
from tests.test_regrading import apply, move_the_key_to_b, pick, take
from tests.test_way_on import make_course, take_quiz

pytestmark = pytest.mark.django_db

COURSE = reverse("learning:course")
DASHBOARD = reverse("learning:dashboard")
REVIEW = reverse("learning:review")
CHALLENGE = reverse("learning:challenge")
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


def lesson_url(topic: Topic) -> str:
    return reverse("learning:lesson", args=[topic.slug])


def warm(client: Client, url: str) -> str:
    """View the page, so that the next view of it may come from the cache."""
    page = client.get(url)
    assert page.status_code == 200
    return page.content.decode()


@pytest.fixture
def topic() -> Topic:
    (made,) = make_course(1)
    return made


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="head", is_staff=True, is_superuser=True))
    return client


# -- the cache is used, and for the right person --------------------------------------------


class TestServedFromTheCache:
    @pytest.mark.parametrize("url", [COURSE, DASHBOARD, REVIEW, CHALLENGE, "lesson"])
    @pytest.mark.parametrize("size", [1, 8])
    def test_a_second_view_costs_session_user_and_versions_however_long_the_history(
        self, learner_client, learner, url, size, django_assert_max_num_queries
    ):
        topics = make_course(size)
        for made in topics:
            take_quiz(learner, made.quiz)
            take_quiz(learner, made.quiz, right=False)
        url = lesson_url(topics[0]) if url == "lesson" else url
        first = warm(learner_client, url)
        # the session, the user, the page versions
        with django_assert_max_num_queries(3):
            second = learner_client.get(url)
        assert strip_tokens(second.content.decode()) == strip_tokens(first)

    @pytest.mark.parametrize("url", [COURSE, "lesson"])
    def test_a_visitor_s_second_view_costs_one_query(
        self, client, topic, url, django_assert_max_num_queries
    ):
        url = lesson_url(topic) if url == "lesson" else url
        warm(client, url)
        with django_assert_max_num_queries(1):  # the content version
            assertContains(client.get(url), topic.title)

    def test_a_learner_never_gets_another_learners_page(
        self, learner_client, learner, other_learner, topic
    ):
        take_quiz(learner, topic.quiz)
        assertContains(learner_client.get(DASHBOARD), "Your progress, ada")
        other = Client()
        other.force_login(other_learner)
        page = other.get(DASHBOARD)
        assertContains(page, "Your progress, grace")
        assertNotContains(page, "ada")
        assertContains(other.get(COURSE), "<dd>–</dd>", html=True)  # no score yet
        assertContains(learner_client.get(COURSE), "<dd>100%</dd>", html=True)

    def test_an_account_given_a_deleted_account_s_id_never_gets_its_pages(self, topic):
        gone = UserFactory.create(username="gone-for-good")
        client = Client()
        client.force_login(gone)
        warm(client, DASHBOARD)
        warm(client, COURSE)
        reused_id = gone.pk
        gone.delete()
        # A database restored from a backup, or a sequence reset, hands the id out again
        # while a shared cache (Redis) still holds the pages made for the old account.
        newcomer = UserFactory.create(pk=reused_id, username="newcomer")
        client = Client()
        client.force_login(newcomer)
        assertContains(client.get(DASHBOARD), "Your progress, newcomer")
        assertNotContains(client.get(COURSE), "gone-for-good")

    def test_a_visitor_never_gets_a_learners_page(self, learner_client, client, topic):
        warm(learner_client, COURSE)
        warm(learner_client, lesson_url(topic))
        visitor = Client()
        assertContains(visitor.get(COURSE), "Sign up to track your progress")
        page = visitor.get(lesson_url(topic))
        assertContains(page, "to mark lessons read and take the quizzes")
        assertNotContains(page, "ada")

    def test_a_learner_who_logs_out_gets_the_visitors_page(self, learner_client, topic):
        assertContains(learner_client.get(COURSE), "Log out")
        learner_client.post(reverse("logout"))
        for _ in range(2):  # the first says "You have logged out"; the second is cached
            page = learner_client.get(COURSE)
            assertContains(page, "Sign up to track your progress")
            assertNotContains(page, "ada")

    def test_a_visitor_who_logs_in_gets_their_own_page(self, client, learner, topic):
        warm(client, COURSE)
        client.force_login(learner)
        assertContains(client.get(COURSE), "Log out")

    def test_messages_waiting_are_shown_not_a_cached_page(self, learner_client, topic):
        warm(learner_client, lesson_url(topic))
        learner_client.post(reverse("learning:mark_read", args=[topic.slug]))
        assertContains(learner_client.get(lesson_url(topic)), "Marked “Topic 1” as read.")
        assertNotContains(learner_client.get(lesson_url(topic)), "Marked “Topic 1” as read.")

    def test_each_page_of_the_attempt_history_is_its_own(self, learner_client, learner):
        (made,) = make_course(1)
        for _ in range(21):
            take_quiz(learner, made.quiz)
        assertContains(warm_and_view(learner_client, DASHBOARD), "Page 1 of 2")
        assertContains(warm_and_view(learner_client, DASHBOARD + "?page=2"), "Page 2 of 2")
        assertContains(learner_client.get(DASHBOARD), "Page 1 of 2")

    def test_a_query_the_page_does_not_take_is_rendered_afresh(self, learner_client, topic):
        warm(learner_client, COURSE + "?utm=1")
        with CaptureQueriesContext(connection) as queries:
            assertContains(learner_client.get(COURSE + "?utm=1"), "Read the lesson")
        assert len(queries) > 3

    def test_htmx_requests_get_the_same_page(self, learner_client, topic):
        warm(learner_client, COURSE)
        assertContains(learner_client.get(COURSE, **HTMX), "<!doctype html>")
        assertContains(learner_client.get(COURSE, **HTMX), "Read the lesson")


def warm_and_view(client: Client, url: str) -> Any:
    warm(client, url)
    return client.get(url)


# -- the CSRF token and the CSP nonce --------------------------------------------------------

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
NONCE = re.compile(r'nonce="([^"]+)"')


def strip_tokens(html: str) -> str:
    html = TOKEN.sub("", html)
    html = NONCE.sub("", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


class TestTokens:
    def test_a_cached_page_s_token_is_accepted_by_the_next_post(self, learner, topic):
        client = Client(enforce_csrf_checks=True)
        client.force_login(learner)
        warm(client, lesson_url(topic))
        cached = client.get(lesson_url(topic)).content.decode()
        token = TOKEN.search(cached)
        assert token is not None
        marked = client.post(
            reverse("learning:mark_read", args=[topic.slug]), {"csrfmiddlewaretoken": token[1]}
        )
        assert marked.status_code == 302
        assertContains(client.get(lesson_url(topic)), "You have read this lesson")

    def test_a_page_cached_before_the_secret_key_was_rotated_gets_a_working_token(
        self, learner, topic, settings
    ):
        client = Client(enforce_csrf_checks=True)
        client.force_login(learner)
        warm(client, lesson_url(topic))
        # A deploy that rotates the key (the old one kept as a fallback, so nobody is
        # logged out) with the same code: its workers start afresh, the shared cache stays.
        settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
        settings.SECRET_KEY = "a-new-secret-key-" + "x" * 50
        page_cache._placeholders.cache_clear()
        try:
            page = client.get(lesson_url(topic))
            token = TOKEN.search(page.content.decode())
            assert token is not None
            marked = client.post(
                reverse("learning:mark_read", args=[topic.slug]), {"csrfmiddlewaretoken": token[1]}
            )
            assert marked.status_code == 302
            nonce = NONCE.search(page.content.decode())
            assert f"'nonce-{nonce[1]}'" in page["Content-Security-Policy"]
        finally:
            page_cache._placeholders.cache_clear()

    def test_every_view_gets_its_own_token_and_nonce_matching_its_header(
        self, learner_client, topic
    ):
        pages = [learner_client.get(COURSE) for _ in range(3)]
        tokens = {TOKEN.search(page.content.decode())[1] for page in pages}
        nonces = [NONCE.search(page.content.decode())[1] for page in pages]
        assert len(tokens) == 3
        assert len(set(nonces)) == 3
        for page, nonce in zip(pages, nonces, strict=True):
            assert f"'nonce-{nonce}'" in page["Content-Security-Policy"]

    def test_a_cached_page_keeps_the_private_headers(self, learner_client, topic):
        warm(learner_client, COURSE)
        page = learner_client.get(COURSE)
        assert "no-store" in page["Cache-Control"]
        assert page["Content-Type"] == "text/html; charset=utf-8"
        assert "Cookie" in page["Vary"]

    def test_a_visitor_s_cached_page_stays_cacheable_by_the_browser(self, client, topic):
        warm(client, COURSE)
        page = client.get(COURSE)
        assert "Cache-Control" not in page
        assert "Cookie" in page["Vary"]
        assert "csrftoken" in page.cookies


# -- each write is seen on the next view ----------------------------------------------------


class TestALearnersWrites:
    def test_starting_a_quiz_offers_to_resume_it(self, learner_client, topic):
        assertContains(learner_client.get(COURSE), "Read the lesson")
        learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
        assertContains(learner_client.get(COURSE), "Resume quiz")

    def test_an_answer_is_on_the_dashboard_and_schedules_a_review(
        self, learner_client, learner, topic
    ):
        learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
        attempt = Attempt.objects.get(learner=learner)
        assertContains(learner_client.get(DASHBOARD), "No answers in the last 12 weeks.")
        assertContains(learner_client.get(COURSE), "Questions you answer come back for review")
        question = Question.objects.get(pk=attempt.question_ids[0])
        learner_client.post(
            reverse("learning:question", args=[attempt.pk, 1]),
            answer_post(question, right=True, attempt=attempt),
        )
        assertContains(learner_client.get(DASHBOARD), "1 answer on 1 of the last 84 days")
        assertContains(learner_client.get(COURSE), "the next review falls due")

    def test_the_last_answer_finishes_the_quiz(self, learner_client, learner, topic):
        assertContains(learner_client.get(COURSE), "Read the lesson")
        learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
        attempt = Attempt.objects.get(learner=learner)
        assertContains(learner_client.get(COURSE), "Resume quiz")
        for position, question_id in enumerate(attempt.question_ids, start=1):
            question = Question.objects.get(pk=question_id)
            learner_client.post(
                reverse("learning:question", args=[attempt.pk, position]),
                answer_post(question, right=True, attempt=attempt),
            )
        page = learner_client.get(COURSE)
        assertNotContains(page, "Resume quiz")
        assertContains(page, "<dd>100%</dd>", html=True)

    def test_marking_the_lesson_read(self, learner_client, topic):
        assertContains(learner_client.get(lesson_url(topic)), "Mark as read")
        assertContains(learner_client.get(COURSE), "Not read yet")
        learner_client.post(reverse("learning:mark_read", args=[topic.slug]), **HTMX)
        assertContains(learner_client.get(lesson_url(topic)), "You have read this lesson")
        assertContains(learner_client.get(COURSE), "✓ Read")
        assertContains(learner_client.get(CHALLENGE), "Your topics in the draw")

    def test_joining_a_class(self, learner_client, learner):
        assertContains(learner_client.get(DASHBOARD), "You are not in a class yet")
        classroom = Classroom.objects.create(name="Year 10 Biology")
        learner_client.post(DASHBOARD, {"code": classroom.join_code})
        learner_client.get(DASHBOARD)  # "You joined the class", shown once
        assertContains(learner_client.get(DASHBOARD), "<li>Year 10 Biology</li>", html=True)

    def test_claiming_the_certificate(self, learner_client, learner):
        for made in make_course(2):
            TopicProgressFactory(learner=learner, topic=made, mastery=Mastery.MASTERED)
        assertNotContains(learner_client.get(DASHBOARD), "You have completed the course")
        learner_client.post(reverse("learning:certificate"))
        learner_client.get(DASHBOARD)  # no message here, but a first view after the claim
        assertContains(learner_client.get(DASHBOARD), "You have completed the course")

    def test_a_withdrawn_question_taken_out_of_an_open_attempt(self, learner_client, learner):
        (made,) = make_course(1)
        attempt = services.start_attempt(learner=learner, quiz=made.quiz)
        first, second = attempt.question_ids
        question = Question.objects.get(pk=first)
        learner_client.post(
            reverse("learning:question", args=[attempt.pk, 1]),
            answer_post(question, right=True, attempt=attempt),
        )
        # The teacher deletes the other question (no learner answered it).
        Question.objects.filter(pk=second).delete()
        assertContains(learner_client.get(COURSE), "Resume quiz")
        learner_client.get(reverse("learning:question", args=[attempt.pk, 2]))
        learner_client.get(COURSE)  # "A question was withdrawn", shown once
        page = learner_client.get(COURSE)
        assertNotContains(page, "Resume quiz")
        assertContains(page, "<dd>100%</dd>", html=True)

    def test_a_review_session_finished(self, learner_client, learner, topic):
        take_quiz(learner, topic.quiz)
        ReviewCard.objects.filter(learner=learner).update(due=NOW - timedelta(days=1))
        with time_machine.travel(NOW, tick=False):
            assertContains(learner_client.get(REVIEW), "2 questions due for review now")
            learner_client.post(reverse("learning:start_review"))
            assertContains(learner_client.get(REVIEW), "Resume your review session")
            attempt = Attempt.objects.get(learner=learner, state="in_progress")
            for position, question_id in enumerate(attempt.question_ids, start=1):
                question = Question.objects.get(pk=question_id)
                learner_client.post(
                    reverse("learning:question", args=[attempt.pk, position]),
                    answer_post(question, right=True, attempt=attempt),
                )
            page = learner_client.get(REVIEW)
        assertNotContains(page, "Resume your review session")
        assertContains(page, "Nothing to review now")

    def test_the_learner_s_account_changed_in_the_admin(
        self, learner_client, learner, superuser_client
    ):
        assertContains(learner_client.get(DASHBOARD), "Your progress, ada")
        url = reverse("admin:auth_user_change", args=[learner.pk])
        data = form_data(superuser_client.get(url), "user_form")
        data |= {"username": "ada-l", "is_staff": "on"}
        assert superuser_client.post(url, data).status_code == 302
        page = learner_client.get(DASHBOARD)
        assertContains(page, "Your progress, ada-l")
        assertContains(page, ">Teach</a>")


class TestRegrading:
    def test_every_learner_whose_score_moved_sees_it(self, teacher):
        topic = TopicFactory.create(slug="cramps", title="Cramps")
        LessonFactory.create(topic=topic)
        key = QuestionFactory.create(
            topic=topic, key="key", choices=[("A", True), ("B", False), ("C", False)]
        )
        easy = QuestionFactory.create(topic=topic, key="easy")
        quiz = QuizFactory.create(topic=topic, question_count=2)
        clients = {}
        for name, letter in [("ada", "A"), ("grace", "B")]:
            learner = UserFactory.create(username=name)
            take(quiz, learner, {key: pick(key, letter), easy: pick(easy, "Right")})
            clients[name] = Client()
            clients[name].force_login(learner)
        move_the_key_to_b(key)
        assertContains(clients["ada"].get(COURSE), "100%")
        assertContains(clients["grace"].get(COURSE), "50%")
        apply(key, teacher)
        assertContains(clients["ada"].get(COURSE), "50%")
        assertContains(clients["grace"].get(COURSE), "100%")
        assertContains(clients["grace"].get(DASHBOARD), "Scores, oldest first: 100%")


class TestClassesInTheAdmin:
    @pytest.fixture
    def classroom(self, learner: User) -> Classroom:
        classroom = Classroom.objects.create(name="Year 10 Biology")
        Membership.objects.create(classroom=classroom, learner=learner)
        return classroom

    def test_a_class_renamed(self, learner_client, classroom, superuser_client):
        assertContains(learner_client.get(DASHBOARD), "Year 10 Biology")
        url = reverse("admin:learning_classroom_change", args=[classroom.pk])
        data = form_data(superuser_client.get(url), "classroom_form") | {"name": "Year 11"}
        assert superuser_client.post(url, data).status_code == 302
        page = learner_client.get(DASHBOARD)
        assertContains(page, "<li>Year 11</li>", html=True)
        assertNotContains(page, "Year 10 Biology")

    def test_a_learner_removed_from_a_class(self, learner_client, classroom, superuser_client):
        assertContains(learner_client.get(DASHBOARD), "Year 10 Biology")
        url = reverse("admin:learning_classroom_change", args=[classroom.pk])
        data = form_data(superuser_client.get(url), "classroom_form")
        data["memberships-0-DELETE"] = "on"
        assert superuser_client.post(url, data).status_code == 302
        assert not Membership.objects.exists()
        page = learner_client.get(DASHBOARD)
        assertContains(page, "You are not in a class yet")

    def test_a_class_deleted(self, learner_client, classroom, superuser_client):
        assertContains(learner_client.get(DASHBOARD), "Year 10 Biology")
        url = reverse("admin:learning_classroom_delete", args=[classroom.pk])
        assert superuser_client.post(url, {"post": "yes"}).status_code == 302
        assertContains(learner_client.get(DASHBOARD), "You are not in a class yet")

    def test_a_learner_added_through_the_class_s_learners(self, learner_client, learner):
        assertContains(learner_client.get(DASHBOARD), "You are not in a class yet")
        classroom = Classroom.objects.create(name="Year 9")
        classroom.learners.add(learner)
        assertContains(learner_client.get(DASHBOARD), "<li>Year 9</li>", html=True)
        classroom.learners.clear()
        assertContains(learner_client.get(DASHBOARD), "You are not in a class yet")


# -- content changes: every learner's pages, and the visitors' ------------------------------


class TestContentChanges:
    def test_a_topic_retitled_in_the_admin(self, learner_client, client, topic, superuser_client):
        assertContains(learner_client.get(COURSE), "Topic 1")
        assertContains(client.get(COURSE), "Topic 1")
        url = reverse("admin:learning_topic_change", args=[topic.pk])
        data = form_data(superuser_client.get(url), "topic_form") | {"title": "Cramps at night"}
        assert superuser_client.post(url, data).status_code == 302
        assertContains(learner_client.get(COURSE), "Cramps at night")
        assertContains(Client().get(COURSE), "Cramps at night")

    def test_a_lesson_edited_in_the_admin(self, client, topic, superuser_client):
        assertContains(client.get(lesson_url(topic)), "is released.")
        url = reverse("admin:learning_topic_change", args=[topic.pk])
        data = form_data(superuser_client.get(url), "topic_form")
        data["lesson-0-body_markdown"] = "## Calcium {#calcium}\n\nCalcium floods in.\n"
        assert superuser_client.post(url, data).status_code == 302
        page = client.get(lesson_url(topic))
        assertContains(page, "floods in.")
        assertNotContains(page, "is released.")

    def test_a_quiz_given_a_time_limit_in_the_admin(self, learner_client, topic, superuser_client):
        assertNotContains(learner_client.get(lesson_url(topic)), "Time limit")
        url = reverse("admin:learning_quiz_change", args=[topic.quiz.pk])
        data = form_data(superuser_client.get(url), "quiz_form") | {"time_limit_minutes": "20"}
        assert superuser_client.post(url, data).status_code == 302
        assertContains(learner_client.get(lesson_url(topic)), "Time limit: 20 minutes")

    def test_topics_unpublished_and_published_again(self, learner_client, superuser_client):
        _first, second = make_course(2)
        assertContains(learner_client.get(COURSE), "Topic 2")
        changelist = reverse("admin:learning_topic_changelist")
        action = {"_selected_action": [second.pk]}
        superuser_client.post(changelist, {"action": "unpublish", **action})
        assertNotContains(learner_client.get(COURSE), "Topic 2")
        superuser_client.post(changelist, {"action": "publish", **action})
        assertContains(learner_client.get(COURSE), "Topic 2")

    def test_questions_unpublished_leave_the_reviews_due(
        self, learner_client, learner, topic, superuser_client
    ):
        take_quiz(learner, topic.quiz)
        ReviewCard.objects.filter(learner=learner).update(due=NOW - timedelta(days=1))
        with time_machine.travel(NOW, tick=False):
            assertContains(learner_client.get(COURSE), "2 questions due for review now")
            changelist = reverse("admin:learning_question_changelist")
            selected = list(topic.questions.values_list("pk", flat=True))
            superuser_client.post(
                changelist, {"action": "unpublish", "_selected_action": selected[:1]}
            )
            assertContains(learner_client.get(COURSE), "1 question due for review now")
            superuser_client.post(
                changelist, {"action": "publish", "_selected_action": selected[:1]}
            )
            assertContains(learner_client.get(COURSE), "2 questions due for review now")

    def test_the_course_loaded_again_from_its_files(self, learner_client, client, tmp_path):
        copy = tmp_path / "fixtures"
        shutil.copytree(settings.COURSE_CONTENT_DIR, copy)
        call_command("load_content", dir=copy, verbosity=0)
        assertContains(client.get(COURSE), "How a nerve signal, calcium and magnesium")
        assertContains(learner_client.get(COURSE), "How a nerve signal, calcium and magnesium")
        lesson = copy / "lessons" / "01-how-muscles-work.md"
        text = lesson.read_text(encoding="utf-8")
        lesson.write_text(
            text.replace("summary: How a nerve signal,", "summary: How a nerve impulse,"),
            encoding="utf-8",
        )
        call_command("load_content", dir=copy, verbosity=0)
        assertContains(client.get(COURSE), "How a nerve impulse, calcium and magnesium")
        assertContains(learner_client.get(COURSE), "How a nerve impulse, calcium and magnesium")

    def test_an_import_and_its_undo(self, superuser_client):
        # An import that makes a new draft topic; a teacher may open its lesson page.
        _, made = run_import(
            "$CATEGORY: Night cramps\n\n::night-1::Do cramps wake you?{=Yes ~No}\n",
            filename="night.gift",
            topic=None,
            file_format="gift",
            user=None,
            via="command",
        )
        night = Topic.objects.get(title="Night cramps")
        page = superuser_client.get(lesson_url(night))
        assertContains(page, "Draft:")
        undo_import(record_id=made.pk, user=None)
        assert superuser_client.get(lesson_url(night)).status_code == 404


# -- time alone changes some pages --------------------------------------------------------


class TestTime:
    """Each step is less than LONGEST_KEEP after the page was cached: what changes the page
    is the moment the view named, not the cache's longest keep."""

    def test_a_review_falling_due(self, learner_client, learner, topic):
        take_quiz(learner, topic.quiz)
        due = NOW + timedelta(hours=2, minutes=3)
        ReviewCard.objects.filter(learner=learner).update(due=due)
        with time_machine.travel(NOW, tick=False):
            assertContains(learner_client.get(COURSE), "falls due in 2\xa0hours")
            assertContains(learner_client.get(REVIEW), "falls due in 2\xa0hours")
        with time_machine.travel(NOW + timedelta(minutes=4), tick=False):
            assertContains(learner_client.get(COURSE), "falls due in 1\xa0hour")
            assertContains(learner_client.get(REVIEW), "falls due in 1\xa0hour")
        with time_machine.travel(due - timedelta(minutes=2), tick=False):
            assertContains(learner_client.get(COURSE), "falls due in 2\xa0minutes")
            assertContains(learner_client.get(REVIEW), "falls due in 2\xa0minutes")
            assertContains(learner_client.get(DASHBOARD), "falls due in 2\xa0minutes")
        with time_machine.travel(due + timedelta(seconds=1), tick=False):
            assertContains(learner_client.get(COURSE), "2 questions due for review now")
            assertContains(learner_client.get(REVIEW), "Start reviewing (2 due)")
            assertContains(learner_client.get(DASHBOARD), "2 questions due for review now")

    def test_a_timed_quiz_running_out(self, learner_client, learner, topic):
        topic.quiz.time_limit_minutes = 5
        topic.quiz.save()
        with time_machine.travel(NOW, tick=False):
            learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
            assertContains(learner_client.get(DASHBOARD), "Finish your quiz on Topic 1")
            assertContains(learner_client.get(COURSE), "Resume quiz")
        with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
            # No write: the course page itself closes the attempt, scored on no answers.
            page = learner_client.get(COURSE)
            assertNotContains(page, "Resume quiz")
            assertContains(page, "<dd>0%</dd>", html=True)
            assertNotContains(learner_client.get(DASHBOARD), "Finish your quiz")

    def test_a_review_session_running_out(self, learner_client, learner, topic):
        take_quiz(learner, topic.quiz)
        ReviewCard.objects.filter(learner=learner).update(due=NOW - timedelta(days=1))
        with time_machine.travel(NOW, tick=False):
            learner_client.post(reverse("learning:start_review"))
        # A session left open ends its hours after it started: here, in a minute.
        Attempt.objects.filter(learner=learner, state="in_progress").update(
            deadline=NOW + timedelta(minutes=1)
        )
        with time_machine.travel(NOW, tick=False):
            assertContains(learner_client.get(REVIEW), "Resume your review session")
        with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
            assertNotContains(learner_client.get(REVIEW), "Resume your review session")

    def test_a_challenge_running_out(self, learner_client, learner, topic):
        take_quiz(learner, topic.quiz)
        with time_machine.travel(NOW, tick=False):
            learner_client.post(reverse("learning:start_challenge"))
        Attempt.objects.filter(learner=learner, state="in_progress").update(
            deadline=NOW + timedelta(minutes=1)
        )
        with time_machine.travel(NOW, tick=False):
            assertContains(learner_client.get(CHALLENGE), "Resume the challenge")
        with time_machine.travel(NOW + timedelta(minutes=2), tick=False):
            assertContains(learner_client.get(CHALLENGE), "Start the challenge")

    def test_midnight_starts_a_new_day_on_the_dashboard(self, learner_client, learner, topic):
        evening = datetime(2026, 11, 25, 23, 55, tzinfo=UTC)  # a Wednesday
        with time_machine.travel(evening, tick=False):
            take_quiz(learner, topic.quiz)
            page = learner_client.get(DASHBOARD)
            assertContains(page, "<title>Wed 25 Nov: 2 answers</title>", html=False)
            assertNotContains(page, "Thu 26 Nov")
        with time_machine.travel(evening + timedelta(minutes=6), tick=False):
            assertContains(learner_client.get(DASHBOARD), "<title>Thu 26 Nov: 0 answers</title>")

    def test_a_quiz_opening_becomes_the_next_step(self, learner_client, learner, topic):
        topic.quiz.opens_at = NOW + timedelta(minutes=5)
        topic.quiz.save()
        TopicProgressFactory(learner=learner, topic=topic, lesson_read_at=NOW - timedelta(days=1))
        with time_machine.travel(NOW, tick=False):
            assertNotContains(learner_client.get(DASHBOARD), "Take the quiz on Topic 1")
        with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
            assertContains(learner_client.get(DASHBOARD), "Take the quiz on Topic 1")

    def test_a_quiz_closing_shows_the_answers_it_held_back_for_review(
        self, learner_client, learner, topic
    ):
        take_quiz(learner, topic.quiz)
        ReviewCard.objects.filter(learner=learner).update(due=NOW - timedelta(days=1))
        topic.quiz.feedback_timing = "after_close"
        topic.quiz.closes_at = NOW + timedelta(minutes=5)
        topic.quiz.save()
        with time_machine.travel(NOW, tick=False):
            assertNotContains(learner_client.get(REVIEW), "due for review now")
        with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
            assertContains(learner_client.get(REVIEW), "2 questions due for review now")


# -- the cache unreachable ------------------------------------------------------------------


class UnreachableCache(BaseCache):
    """A cache that fails every call, as Redis does when it is down. The one stand-in in
    these tests: a real Redis cannot be stopped and started from a test, and what is
    checked is only that the page is rendered when the cache raises."""

    def __init__(self, location: str, params: dict[str, Any]) -> None:
        super().__init__(params)

    def get(self, key: str, default: Any = None, version: int | None = None) -> Any:
        raise ConnectionError("the cache is unreachable")

    def set(self, key: str, value: Any, timeout: Any = None, version: int | None = None) -> None:
        raise ConnectionError("the cache is unreachable")

    def clear(self) -> None:
        raise ConnectionError("the cache is unreachable")


# Sessions in the database: with REDIS_URL they are read through the cache too, and fail
# while it is down (README, "Redis"); here only the page cache is under test.
@override_settings(
    CACHES={"default": {"BACKEND": "tests.test_page_cache.UnreachableCache"}},
    SESSION_ENGINE="django.contrib.sessions.backends.db",
)
def test_the_pages_render_when_the_cache_is_down(learner_client, learner, topic, caplog):
    take_quiz(learner, topic.quiz)
    for url in (COURSE, DASHBOARD, REVIEW, CHALLENGE, lesson_url(topic)):
        for _ in range(2):
            assert learner_client.get(url).status_code == 200
    assertContains(learner_client.get(COURSE), "<dd>100%</dd>", html=True)
    assertContains(Client().get(COURSE), "Sign up to track your progress")
    assert "The page cache could not be read" in caplog.text


# -- a form as the admin shows it -----------------------------------------------------------


class _FormFields(HTMLParser):
    """The fields of one form, with the values the page gives them, as a browser sends."""

    def __init__(self, form_id: str) -> None:
        super().__init__()
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, Any] = {}
        self.select: str | None = None
        self.textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form" and found.get("id") == self.form_id:
            self.inside = True
        if not self.inside:
            return
        name = found.get("name")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind in ("checkbox", "radio"):
                if "checked" in found:
                    self._add(name, found.get("value") or "on")
            elif kind not in ("submit", "button", "file"):
                self.data[name] = found.get("value") or ""
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in found:
            self._add(self.select, found.get("value") or "")
        elif tag == "textarea" and name:
            self.textarea = name
            self.data[name] = ""

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.data[self.textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.data[self.textarea] = self.data[self.textarea].removeprefix("\n")
            self.textarea = None

    def _add(self, name: str, value: str) -> None:
        if name in self.data:
            existing = self.data[name]
            self.data[name] = (
                [*existing, value] if isinstance(existing, list) else [existing, value]
            )
        else:
            self.data[name] = value


def form_data(page: Any, form_id: str) -> dict[str, Any]:
    assert page.status_code == 200
    parser = _FormFields(form_id)
    parser.feed(page.content.decode())
    assert parser.data, f"no form #{form_id} on the page"
    return parser.data
