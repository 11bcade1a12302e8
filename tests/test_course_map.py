"""The way around the course (issue 15): the course map, sessions named as such in every
list, Review meaning the spaced practice only, and the small things (a dead link, mastery
twice, a silent logout, the activity chart, the site icon and manifest)."""

import json
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import services
from learning.auth_messages import LOGGED_OUT
from learning.models import Attempt, Classroom, Membership, Question, Quiz, QuizKind
from learning.question_types.picking import ChoiceAnswer
from tests.factories import PASSWORD, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def take(learner, quiz: Quiz, right: bool = False) -> Attempt:
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    for question in Question.objects.filter(pk__in=attempt.question_ids):
        choice = next(c for c in question.choices.all() if c.is_correct == right)
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
        )
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def heat_quiz() -> Quiz:
    topic = TopicFactory(slug="heat", title="Heat")
    for key in ("h1", "h2", "h3"):
        QuestionFactory(topic=topic, key=key)
    return QuizFactory.create(topic=topic, question_count=3)


@pytest.fixture
def sessions(learner, heat_quiz) -> dict[str, Attempt]:
    """A topic quiz, then (two days on, with everything due again) a review session and a
    course challenge, all finished and all wrong."""
    with time_machine.travel(MONDAY_9AM, tick=False):
        quiz = take(learner, heat_quiz)
    with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
        review = take(learner, services.course_quiz(QuizKind.REVIEW))
        challenge = take(learner, services.course_quiz(QuizKind.CHALLENGE))
    assert review.is_finished and challenge.is_finished
    return {"quiz": quiz, "review": review, "challenge": challenge}


class TestTheCourseMap:
    def test_a_learner_sees_course_dashboard_review_and_challenge(self, learner_client):
        page = learner_client.get(reverse("learning:challenge"))
        for name in ("course", "dashboard", "review", "challenge", "glossary"):
            assertContains(page, f'href="{reverse(f"learning:{name}")}"')
        assertContains(
            page, f'<a href="{reverse("learning:challenge")}" aria-current="page">Challenge</a>'
        )
        assertContains(page, 'aria-current="page"', count=1)
        assertContains(page, "Log out")

    def test_each_page_of_the_map_is_marked_as_the_current_one(self, learner_client):
        for name, label in (("dashboard", "Dashboard"), ("review", "Review")):
            page = learner_client.get(reverse(f"learning:{name}"))
            url = reverse(f"learning:{name}")
            assertContains(page, f'<a href="{url}" aria-current="page">{label}</a>', html=True)


class TestSessionsNamedInLists:
    def test_the_dashboard_history_names_each_session_and_grades_no_practice(
        self, learner_client, sessions
    ):
        page = learner_client.get(reverse("learning:dashboard"))
        html = page.content.decode()
        for name in ("Heat", "Review session", "Course challenge"):
            assertContains(page, f'<td role="cell" data-label="Topic">{name}</td>', html=True)
        assert '<td role="cell" data-label="Topic"></td>' not in html  # no row without a name
        # Three rows: the review is practice, the quiz and the challenge were not passed.
        practice = '<td role="cell" data-label="Result">Practice</td>'
        not_passed = '<td role="cell" data-label="Result">Not passed</td>'
        assertContains(page, practice, html=True, count=1)
        assertContains(page, not_passed, html=True, count=2)

    def test_a_review_sessions_result_is_practice_not_a_pass_or_fail(
        self, learner_client, sessions
    ):
        page = learner_client.get(reverse("learning:result", args=[sessions["review"].pk]))
        assertContains(page, "Review session: result")
        assertContains(page, "Practice, not a test")
        assertNotContains(page, "Not passed")
        assertNotContains(page, "(pass mark")
        assertNotContains(page, "Passed")

    def test_a_challenge_result_keeps_its_pass_mark(self, learner_client, sessions):
        page = learner_client.get(reverse("learning:result", args=[sessions["challenge"].pk]))
        assertContains(page, "Course challenge: result")
        assertContains(page, "Not passed yet")

    def test_session_results_say_which_topic_each_question_comes_from(
        self, learner_client, sessions
    ):
        for kind in ("review", "challenge"):
            attempt = sessions[kind]
            page = learner_client.get(reverse("learning:result", args=[attempt.pk]))
            assertContains(
                page, "From the topic <strong>Heat</strong>", count=attempt.question_total
            )
            assertContains(page, "<h2>Your answers</h2>", html=True)

    def test_a_topic_quiz_result_does_not_repeat_its_topic_per_question(
        self, learner_client, sessions
    ):
        page = learner_client.get(reverse("learning:result", args=[sessions["quiz"].pk]))
        assertNotContains(page, "From the topic")
        assertContains(page, "Read the lesson again")

    def test_session_questions_say_their_topic_before_and_after_answering(
        self, learner_client, learner, heat_quiz
    ):
        with time_machine.travel(MONDAY_9AM, tick=False):
            take(learner, heat_quiz)
        with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
            attempt = services.start_attempt(
                learner=learner, quiz=services.course_quiz(QuizKind.REVIEW)
            )
            url = reverse("learning:question", args=[attempt.pk, 1])
            before = learner_client.get(url)
            assertContains(before, "From the topic <strong>Heat</strong>")
            assertContains(before, "<title>Question 1 of 3 · Review session")
            question = Question.objects.get(pk=attempt.question_ids[0])
            after = learner_client.post(
                url, answer_post(question, right=True, attempt=attempt), **HTMX
            )
        assertContains(after, "From the topic <strong>Heat</strong>")

    def test_the_teachers_learner_page_names_the_sessions(
        self, teacher, teacher_client, learner, sessions
    ):
        classroom = Classroom.objects.create(name="Year 9")
        classroom.teachers.add(teacher)
        Membership.objects.create(classroom=classroom, learner=learner)
        url = reverse("admin:learning_attempt_learner", args=[learner.pk])
        page = teacher_client.get(url)
        for name in ("Heat", "Review session", "Course challenge"):
            assertContains(page, f"<td>{name}</td>", html=True)
        changelist = teacher_client.get(reverse("admin:learning_attempt_changelist"))
        assertContains(changelist, '<td class="field-quiz_title">Review session</td>', html=True)


class TestTheSmallThings:
    def test_the_review_page_has_no_link_to_itself(self, learner_client, learner, heat_quiz):
        with time_machine.travel(MONDAY_9AM, tick=False):
            take(learner, heat_quiz)
        with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
            page = learner_client.get(reverse("learning:review"))
            dashboard = learner_client.get(reverse("learning:dashboard"))
        assertContains(page, "due for review now")
        assertNotContains(page, "Review now")
        assertContains(page, "Start reviewing (3 due)")
        assertContains(dashboard, "Review now")  # elsewhere it leads to the review page

    def test_each_course_card_shows_mastery_once(self, learner_client, learner, heat_quiz):
        take(learner, heat_quiz, right=True)
        page = learner_client.get(reverse("learning:course"))
        assertContains(page, "Proficient", count=1)

    def test_logging_out_says_so_on_the_page_it_lands_on(self, client, learner):
        client.post(reverse("login"), {"username": learner.username, "password": PASSWORD})
        response = client.post(reverse("logout"), follow=True)
        assertRedirects(response, reverse("learning:course"))
        assertContains(response, LOGGED_OUT)
        assertNotContains(client.get(reverse("learning:course")), LOGGED_OUT)  # said once

    def test_the_activity_chart_names_its_weeks_and_days(self, learner_client):
        with time_machine.travel(MONDAY_9AM, tick=False):
            page = learner_client.get(reverse("learning:dashboard"))
        for label in ("Sep", "Oct", "Nov", "Mon", "Wed", "Fri", "Sun"):
            assertContains(page, f">{label}</text>")
        assertContains(page, "Each column is a week, Monday at the top")
        assertContains(page, "No answers in the last 12 weeks.")  # the text alternative


class TestSiteIconAndManifest:
    def test_every_page_links_the_icon_and_the_manifest(self, client):
        page = client.get(reverse("learning:course"))
        assertContains(page, 'rel="icon"', count=2)
        assertContains(page, f'<link rel="manifest" href="{reverse("learning:web_manifest")}">')

    def test_the_manifest_names_the_site_with_its_colours_and_icons(self, client):
        response = client.get("/manifest.webmanifest")
        assert response.status_code == 200
        assert response["Content-Type"] == "application/manifest+json"
        manifest = json.loads(response.content)
        assert manifest["name"] == "Muscle Spasms, Explained"
        assert manifest["theme_color"] == "#1d5f8a"
        assert manifest["background_color"] == "#f7f6f2"
        assert manifest["start_url"] == "/"
        types = {icon["type"]: icon for icon in manifest["icons"]}
        assert set(types) == {"image/svg+xml", "image/png"}
        sizes = {icon["sizes"] for icon in manifest["icons"]}
        assert {"192x192", "512x512"} <= sizes

    def test_favicon_ico_leads_to_the_icon(self, client):
        response = client.get("/favicon.ico")
        assert response.status_code == 302
        assert response["Location"].endswith("icons/favicon.ico")

    @pytest.mark.parametrize(
        ("name", "content_type"),
        [
            ("icon.svg", "image/svg+xml"),
            ("icon-192.png", "image/png"),
            ("icon-512.png", "image/png"),
            ("favicon.ico", ("image/x-icon", "image/vnd.microsoft.icon")),
        ],
    )
    def test_the_icons_are_served_with_their_types(self, client, name, content_type):
        response = client.get(f"/static/icons/{name}")
        assert response.status_code == 200
        allowed = content_type if isinstance(content_type, tuple) else (content_type,)
        assert response["Content-Type"] in allowed
        assert len(b"".join(response.streaming_content)) > 100


def test_the_stacked_tables_keep_their_table_roles_for_screen_readers(learner_client):
    """Under 600 px the tables are shown as cards (display: block), which makes some
    browsers drop their table semantics: the roles keep them."""
    TopicFactory.create_batch(2)
    page = learner_client.get(reverse("learning:dashboard")).content.decode()
    tables = re.findall(r"<table [^>]*stacked-on-phone.*?</table>", page, re.DOTALL)
    assert tables
    for table in tables:
        assert table.startswith('<table role="table"')
        assert "<tr>" not in table and "<td>" not in table and "<th>" not in table
        assert table.count('role="row"') == table.count("<tr")
        assert table.count('role="cell"') == table.count("<td")
