"""A teacher sees the learners of the classes they teach, and nobody else; a superuser sees
every learner.

Two classes with different teachers; each learner has finished a topic quiz, a review and
the course challenge and has progress on the topic. The teacher of class A walks every
page that shows learner data and must meet nothing of class B's learners: not their
usernames, not links to their attempts or progress."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from learning import insight, question_types, services
from learning.models import (
    Attempt,
    AttemptState,
    Classroom,
    Membership,
    Question,
    Quiz,
    QuizKind,
    ReviewCard,
    TopicProgress,
)
from learning.selectors import learners_taught_by
from learning.teachers import sync_teachers_group
from learning.versions import current_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MINE = ("ann-alpha", "cy-both")  # cy-both is in both classes: teacher A sees them
OUTSIDERS = ("zoe-bravo", "yuri-bravo", "nel-nowhere")  # class B's, and in no class
REPORT = "admin:learning_progressreport_changelist"


def take(learner: User, quiz: Quiz) -> Attempt:
    """Start the quiz and answer every question, right and wrong in turn."""
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    for position, question_id in enumerate(attempt.question_ids):
        question = Question.objects.get(pk=question_id)
        question_type = question_types.get(question.type)
        answer = question_type.sample_answer(current_key(question), right=position % 2 == 0)
        services.record_answer(attempt=attempt, question_id=question_id, answer=answer)
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FINISHED
    return attempt


@pytest.fixture
def classes(teacher, quiz) -> dict[str, Classroom]:
    review = services.course_quiz(QuizKind.REVIEW)
    challenge = services.course_quiz(QuizKind.CHALLENGE)
    learners = {name: UserFactory.create(username=name) for name in (*MINE, *OUTSIDERS)}
    for learner in learners.values():
        take(learner, quiz)
        ReviewCard.objects.filter(learner=learner).update(due=timezone.now() - timedelta(hours=1))
        take(learner, review)
        take(learner, challenge)
    services.start_attempt(learner=learners["zoe-bravo"], quiz=quiz)  # one in progress

    class_a = Classroom.objects.create(name="Year 10 Alpha")
    class_a.teachers.add(teacher)
    class_b = Classroom.objects.create(name="Year 10 Bravo")
    class_b.teachers.add(UserFactory.create(username="mr-teach-b", is_staff=True))
    for name in MINE:
        Membership.objects.create(classroom=class_a, learner=learners[name])
    for name in ("zoe-bravo", "yuri-bravo", "cy-both"):
        Membership.objects.create(classroom=class_b, learner=learners[name])
    return {"a": class_a, "b": class_b}


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def one_learner_a_page(monkeypatch) -> None:
    monkeypatch.setattr(insight, "REPORT_PAGE_SIZE", 1)


def outsider_traces() -> list[str]:
    """What would give class B's learners away: their names, and their records' URLs."""
    attempts = Attempt.objects.filter(learner__username__in=OUTSIDERS)
    progress = TopicProgress.objects.filter(learner__username__in=OUTSIDERS)
    assert attempts.count() >= 10 and progress.exists()
    return [
        *OUTSIDERS,
        *(f"/attempt/{pk}/" for pk in attempts.values_list("pk", flat=True)),
        *(f"/topicprogress/{pk}/" for pk in progress.values_list("pk", flat=True)),
    ]


def body(response: HttpResponseBase) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    assert isinstance(response, HttpResponse)
    return response.content.decode()


def assert_nothing_of_outsiders(response: HttpResponseBase, traces: list[str]) -> str:
    """The page's text (a streamed CSV can be read once), once checked."""
    assert response.status_code == 200, response.status_code
    text = body(response)
    leaked = [trace for trace in traces if trace in text]
    assert not leaked, leaked
    return text


def query_links(response: HttpResponseBase) -> list[str]:
    """The links of a list page to itself with other filters or sorts ("?state=...")."""
    return sorted(
        {html.unescape(href) for href in re.findall(r'href="(\?[^"]*)"', body(response))}
    )


class TestTheTeacherOfClassA:
    def test_the_progress_report_shows_their_learners_only(
        self, teacher_client, classes, one_learner_a_page
    ):
        traces = outsider_traces()
        url = reverse(REPORT)
        sorts = ["learner", "-learner", "activity", "-activity", "topic:how-muscles-work"]
        seen: list[str] = []
        for options in ({}, {"class": classes["a"].pk}):
            for sort in [*sorts, "-topic:how-muscles-work"]:
                for page in ("1", "2", "3", "999"):
                    response = teacher_client.get(url, {**options, "sort": sort, "page": page})
                    text = assert_nothing_of_outsiders(response, traces)
                    seen += [name for name in MINE if name in text]
        assert set(seen) == set(MINE)
        assertContains(teacher_client.get(url), "2 learners in your classes")
        assert teacher_client.get(url, {"class": classes["b"].pk}).status_code == 400

    def test_the_csv_holds_their_learners_once_each(self, teacher_client, classes):
        traces = outsider_traces()
        url = reverse(REPORT)
        for options in ({}, {"class": classes["a"].pk}):
            response = teacher_client.get(url, {**options, "format": "csv"})
            rows = list(csv.reader(io.StringIO(assert_nothing_of_outsiders(response, traces))))
            assert [row[0] for row in rows[1:]] == list(MINE)

    def test_the_attempt_list_its_searches_and_filters_show_their_learners_only(
        self, teacher_client, classes
    ):
        traces = outsider_traces()
        url = reverse("admin:learning_attempt_changelist")
        listing = teacher_client.get(url)
        assert_nothing_of_outsiders(listing, traces)
        for name in MINE:
            assertContains(listing, name)
        links = query_links(listing)
        assert any("state" in link for link in links) and any(
            "quiz__kind" in link for link in links
        )
        for link in links:
            assert_nothing_of_outsiders(teacher_client.get(url + link), traces)
        for term in ("bravo", "nowhere", "o"):
            assert_nothing_of_outsiders(teacher_client.get(url, {"q": term}), traces)
        for name in OUTSIDERS:
            # The search box shows the name typed; the list finds nothing.
            response = teacher_client.get(url, {"q": name})
            assert_nothing_of_outsiders(response, [t for t in traces if t != name])
            assertContains(response, "0 attempts")

    def test_an_outsiders_attempt_is_not_found(self, teacher_client, classes):
        for attempt in Attempt.objects.filter(learner__username__in=OUTSIDERS):
            for view in ("change", "history", "delete"):
                url = reverse(f"admin:learning_attempt_{view}", args=[attempt.pk])
                assert teacher_client.get(url).status_code in (403, 404), url

    def test_their_learners_attempt_links_to_the_learner_page_not_the_user_admin(
        self, teacher_client, classes
    ):
        attempt = Attempt.objects.filter(learner__username="ann-alpha").first()
        response = teacher_client.get(reverse("admin:learning_attempt_change", args=[attempt.pk]))
        assertContains(response, "ann-alpha")
        assertNotContains(response, "/admin/auth/user/")
        assertContains(response, "Responses, question by question")
        learner_page = reverse("admin:learning_attempt_learner", args=[attempt.learner_id])
        assertContains(response, learner_page)
        assertContains(teacher_client.get(learner_page), "ann-alpha")

    def test_an_outsiders_learner_page_is_not_found(self, teacher_client, classes):
        traces = outsider_traces()
        for name in MINE:
            learner = User.objects.get(username=name)
            page = teacher_client.get(reverse("admin:learning_attempt_learner", args=[learner.pk]))
            assert_nothing_of_outsiders(page, traces)
        for name in OUTSIDERS:
            learner = User.objects.get(username=name)
            url = reverse("admin:learning_attempt_learner", args=[learner.pk])
            assert teacher_client.get(url).status_code == 404

    def test_the_grade_export_holds_their_learners_only(self, teacher_client, classes):
        traces = outsider_traces()
        response = teacher_client.get(reverse(REPORT), {"format": "grades"})
        rows = list(csv.reader(io.StringIO(assert_nothing_of_outsiders(response, traces))))
        assert {row[0] for row in rows[1:]} == set(MINE)
        # cy-both is in class B too, but only the teacher's own class is named
        assert {row[2] for row in rows[1:]} == {"Year 10 Alpha"}

    def test_topic_progress_shows_their_learners_only(self, teacher_client, classes):
        traces = outsider_traces()
        url = reverse("admin:learning_topicprogress_changelist")
        listing = teacher_client.get(url)
        assert_nothing_of_outsiders(listing, traces)
        for name in MINE:
            assertContains(listing, name)
        for link in query_links(listing):
            assert_nothing_of_outsiders(teacher_client.get(url + link), traces)
        assert_nothing_of_outsiders(teacher_client.get(url, {"q": "bravo"}), traces)
        for name in OUTSIDERS:
            response = teacher_client.get(url, {"q": name})
            assert_nothing_of_outsiders(response, [t for t in traces if t != name])
            assertContains(response, "0 topic progress")
        for progress in TopicProgress.objects.filter(learner__username__in=OUTSIDERS):
            change = reverse("admin:learning_topicprogress_change", args=[progress.pk])
            assert teacher_client.get(change).status_code == 404
        mine = TopicProgress.objects.filter(learner__username="ann-alpha").first()
        page = teacher_client.get(reverse("admin:learning_topicprogress_change", args=[mine.pk]))
        assertContains(page, "ann-alpha")
        assertNotContains(page, "/admin/auth/user/")

    def test_their_classes_show_their_members_and_the_other_class_is_not_found(
        self, teacher_client, classes
    ):
        traces = outsider_traces()
        listing = teacher_client.get(reverse("admin:learning_classroom_changelist"))
        assert_nothing_of_outsiders(listing, traces)
        assertNotContains(listing, "Year 10 Bravo")
        page = teacher_client.get(
            reverse("admin:learning_classroom_change", args=[classes["a"].pk])
        )
        assert_nothing_of_outsiders(page, traces)
        for name in MINE:
            assertContains(page, name)
        assertNotContains(page, "/admin/auth/user/")
        other = reverse("admin:learning_classroom_change", args=[classes["b"].pk])
        assert teacher_client.get(other).status_code == 404

    def test_the_home_page_and_item_analysis_name_no_learner(self, teacher_client, classes):
        traces = outsider_traces()
        for name in ("admin:index", "admin:learning_itemanalysis_changelist"):
            response = teacher_client.get(reverse(name))
            assert_nothing_of_outsiders(response, traces)
            for learner in MINE:
                assertNotContains(response, learner)


class TestASuperuser:
    def test_sees_every_learner(self, superuser_client, classes):
        report = superuser_client.get(reverse(REPORT))
        assertContains(report, "All learners")
        assertContains(report, "5 learners")
        csv_rows = body(superuser_client.get(reverse(REPORT), {"format": "csv"})).splitlines()
        attempts = superuser_client.get(reverse("admin:learning_attempt_changelist"))
        progress = superuser_client.get(reverse("admin:learning_topicprogress_changelist"))
        for name in (*MINE, *OUTSIDERS):
            assertContains(report, name)
            assert sum(row.startswith(f"{name},") for row in csv_rows) == 1, name
            assertContains(attempts, name)
            assertContains(progress, name)
        for attempt in Attempt.objects.filter(learner__username__in=OUTSIDERS):
            change = reverse("admin:learning_attempt_change", args=[attempt.pk])
            assertContains(superuser_client.get(change), attempt.learner.username)
        other = reverse("admin:learning_classroom_change", args=[classes["b"].pk])
        assertContains(superuser_client.get(other), "zoe-bravo")


class TestATeacherWithoutAClass:
    def test_sees_no_learner_and_is_told_how_to_get_some(self, client, classes):
        newcomer = UserFactory.create(username="mr-new", is_staff=True)
        newcomer.groups.add(sync_teachers_group(Group, Permission))
        client.force_login(newcomer)
        report = client.get(reverse(REPORT))
        assertContains(report, "0 learners")
        assertContains(report, "Create a class")
        assertContains(report, "share its join code")
        assertContains(report, reverse("admin:learning_classroom_add"))
        csv_rows = body(client.get(reverse(REPORT), {"format": "csv"})).splitlines()
        assert len(csv_rows) == 1  # the header alone
        for name in ("attempt", "topicprogress"):
            response = client.get(reverse(f"admin:learning_{name}_changelist"))
            assert response.status_code == 200
            for learner in (*MINE, *OUTSIDERS):
                assertNotContains(response, learner)
        assert not learners_taught_by(newcomer).exists()

    def test_a_teacher_of_a_class_with_no_learner_is_told_they_appear_on_joining(
        self, client, teacher
    ):
        Classroom.objects.create(name="Empty").teachers.add(teacher)
        client.force_login(teacher)
        report = client.get(reverse(REPORT))
        assertContains(report, "0 learners in your classes")
        assertContains(report, "once they join one of your classes")
        assertNotContains(report, "Create a class")
