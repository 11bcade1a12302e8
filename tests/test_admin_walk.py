"""Every admin page a teacher or a superuser can reach answers without a server error.

The walk starts at the admin index and follows every link under /admin/ breadth-first, so a
page added later is covered without touching this file; the forms (previews, import) and
the report options that are not links are posted or asked for explicitly.
"""

import importlib
from collections import deque
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from learning import insight, services
from learning.models import (
    Attempt,
    AttemptState,
    Classroom,
    Membership,
    Question,
    QuizKind,
    ReviewCard,
    Topic,
)
from learning.teachers import TEACHERS_GROUP
from tests.factories import (
    FACTORY_BY_TYPE,
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

# Several times the pages of the course below (about 300 for a superuser): a walk that
# reaches it has found links that make new URLs without end.
MAX_PAGES = 1000
NOT_WALKED = ("/admin/logout/", "/admin/password_change/")
REPORTS = ("admin:learning_itemanalysis_changelist", "admin:learning_progressreport_changelist")
REPORT_PERMISSIONS = ("view_itemanalysis", "view_progressreport")
SMALL_GIFT = b"""$CATEGORY: walk-heat

::walk-1:: Which mineral starts a contraction? {=Calcium ~Iron ~Zinc}

::walk-2:: Sweat carries salt out of the body. {T}

::walk-3:: Broken {=x ~y
"""


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)


def admin_links(page_url: str, html: str) -> list[str]:
    """The same-origin links under /admin/ on a page, without fragments, in page order.

    The filters a change page's links carry back to the list are dropped: the plain page
    is the same page."""
    parser = _Links()
    parser.feed(html)
    links = []
    for href in parser.hrefs:
        url = urlsplit(urljoin(f"http://testserver{page_url}", href))
        if url.scheme not in ("http", "https") or url.netloc != "testserver":
            continue
        if not url.path.startswith("/admin/") or url.path.startswith(NOT_WALKED):
            continue
        query = [(k, v) for k, v in parse_qsl(url.query) if k != "_changelist_filters"]
        links.append(f"{url.path}?{urlencode(query)}" if query else url.path)
    return links


def walk(client: Client, start: str = "/admin/") -> dict[str, int]:
    """Visit every admin page reachable by links from `start`; the status of each.

    Every link on a page without a query string (an index, a list, an object) is followed,
    so every filter and sort in a list is; from a page with one, only links with at most
    one parameter that is not a sort (such as the export link of a filtered list), so that
    filters and sorts are not combined with each other without end."""
    statuses: dict[str, int] = {}
    queue = deque([start])
    while queue and len(statuses) < MAX_PAGES:
        url = queue.popleft()
        if url in statuses:
            continue
        try:
            response = client.get(url)
            if isinstance(response, StreamingHttpResponse):
                b"".join(response.streaming_content)  # a CSV report fails as it streams
        except Exception as error:
            # The test client raises a view's exception instead of answering 500.
            raise AssertionError(f"GET {url} failed") from error
        statuses[url] = response.status_code
        if response.streaming:
            continue
        if response.status_code != 200 or "html" not in response.get("Content-Type", ""):
            continue
        for link in admin_links(url, response.content.decode()):
            parameters = [name for name, _ in parse_qsl(urlsplit(link).query)]
            if "?" in url and (len(parameters) > 1 or "o" in parameters):
                continue
            if link not in statuses:
                queue.append(link)
    assert len(statuses) < MAX_PAGES, "the walk did not end: some link makes new URLs"
    return statuses


def server_errors(statuses: dict[str, int]) -> list[str]:
    return [f"{status} {url}" for url, status in statuses.items() if status >= 500]


def answer(client: Client, attempt: Attempt, count: int | None = None) -> Attempt:
    """Answer the attempt's questions through the quiz pages, right and wrong in turn."""
    for position, question_id in enumerate(attempt.question_ids[:count], start=1):
        question = Question.objects.get(pk=question_id)
        url = reverse("learning:question", args=[attempt.pk, position])
        response = client.post(
            url, answer_post(question, right=position % 2 == 1, attempt=attempt)
        )
        assert response.status_code == 302, (url, response.status_code)
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def course(teacher):
    """Two topics with quizzes (the first with a question of every type), the review and
    challenge quizzes, two learners with attempts of every kind, finished and in progress,
    and two classes, one of them the teacher's."""
    heat = TopicFactory(slug="heat", title="Heat")
    LessonFactory(topic=heat)
    for type_value, question_factory in FACTORY_BY_TYPE.items():
        question_factory(topic=heat, key=type_value.replace("_", "-"))
    QuestionFactory(topic=heat, key="draft", is_published=False)
    heat_quiz = QuizFactory(topic=heat, question_count=6)
    causes = TopicFactory(slug="causes", title="Causes")
    LessonFactory(topic=causes)
    for index in range(3):
        QuestionFactory(topic=causes, key=f"causes-{index}")
    causes_quiz = QuizFactory(topic=causes, question_count=3)
    TopicFactory(slug="empty", title="Not written yet")
    review = services.course_quiz(QuizKind.REVIEW)
    challenge = services.course_quiz(QuizKind.CHALLENGE)

    ada, grace = UserFactory(username="ada"), UserFactory(username="grace")
    ada_client, grace_client = Client(), Client()
    ada_client.force_login(ada)
    grace_client.force_login(grace)
    assert answer(ada_client, services.start_attempt(learner=ada, quiz=heat_quiz)).is_finished
    assert answer(
        grace_client, services.start_attempt(learner=grace, quiz=causes_quiz)
    ).is_finished
    answer(grace_client, services.start_attempt(learner=grace, quiz=heat_quiz), count=2)
    ReviewCard.objects.update(due=timezone.now() - timedelta(hours=1))
    assert answer(ada_client, services.start_attempt(learner=ada, quiz=review)).is_finished
    answer(grace_client, services.start_attempt(learner=grace, quiz=review), count=1)
    assert answer(grace_client, services.start_attempt(learner=grace, quiz=challenge)).is_finished
    answer(ada_client, services.start_attempt(learner=ada, quiz=challenge), count=1)
    kinds_and_states = set(Attempt.objects.values_list("quiz__kind", "state"))
    assert kinds_and_states == {
        (kind, state)
        for kind in QuizKind.values
        for state in (AttemptState.FINISHED, AttemptState.IN_PROGRESS)
    }

    taught = Classroom.objects.create(name="Year 10")
    taught.teachers.add(teacher)
    Membership.objects.create(classroom=taught, learner=ada)
    Membership.objects.create(classroom=taught, learner=grace)
    not_taught = Classroom.objects.create(name="Another teacher's class")
    Membership.objects.create(classroom=not_taught, learner=grace)
    return {"taught": taught, "not_taught": not_taught, "review": review, "heat": heat}


@pytest.fixture
def superuser_client() -> Client:
    # A client of its own, so a test can hold it beside the teacher's.
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def short_report_pages(monkeypatch) -> None:
    # Two learners fill two pages, so the report's paging links are there to follow.
    monkeypatch.setattr(insight, "REPORT_PAGE_SIZE", 1)


class TestWalk:
    def test_a_teacher_meets_no_server_error_on_any_admin_page(
        self, teacher_client, course, short_report_pages
    ):
        statuses = walk(teacher_client)
        assert not server_errors(statuses)
        visited = set(statuses)
        attempt = Attempt.objects.filter(quiz=course["review"]).first()
        question = Question.objects.get(key="matching")
        for name, args in [
            ("admin:learning_attempt_changelist", []),
            ("admin:learning_attempt_change", [attempt.pk]),
            ("admin:learning_attempt_history", [attempt.pk]),
            ("admin:learning_question_add", []),
            ("admin:learning_question_delete", [question.pk]),
            ("admin:learning_question_preview", [question.pk]),
            ("admin:learning_quiz_preview", [course["review"].pk]),
            ("admin:learning_question_export", []),
            ("admin:learning_itemanalysis_changelist", []),
            ("admin:learning_progressreport_changelist", []),
        ]:
            assert reverse(name, args=args) in visited, name
        assert f"{reverse('admin:learning_progressreport_changelist')}?page=2" in visited

    def test_a_superuser_meets_no_server_error_on_any_admin_page(
        self, superuser_client, course, short_report_pages
    ):
        statuses = walk(superuser_client)
        assert not server_errors(statuses)
        assert len(statuses) > 150
        user = UserFactory(username="ada")
        assert reverse("admin:auth_user_change", args=[user.pk]) in statuses
        assert statuses[reverse("admin:learning_attempt_changelist")] == 200

    @pytest.mark.parametrize("who", ["teacher", "superuser"])
    def test_every_list_answers_every_search(self, request, course, who):
        client = request.getfixturevalue(f"{who}_client")
        for model, model_admin in admin.site._registry.items():
            if not model_admin.search_fields:
                continue
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            for term in ("ada", "heat", "²", "' OR 1=1 --", "%_", "a" * 300):
                response = client.get(url, {"q": term})
                assert response.status_code in (200, 403), f"{response.status_code} {url}"

    def test_the_previews_answer_right_wrong_and_nonsense(self, teacher_client, course):
        for question in Question.objects.all():
            url = reverse("admin:learning_question_preview", args=[question.pk])
            for right in (True, False):
                data = answer_post(question, right=right)
                assert teacher_client.post(url, data).status_code == 200, url
                assert teacher_client.post(url, data, **HTMX).status_code == 200, url
            response = teacher_client.post(url, {"question": question.pk, "value": "lots"})
            assert response.status_code in (200, 422), url
            assert teacher_client.post(url, {}).status_code == 422, url

    def test_the_reports_answer_every_sort_page_and_class(self, teacher_client, course):
        progress = reverse("admin:learning_progressreport_changelist")
        sorts = ["learner", "-learner", "activity", "-activity", "nonsense", "topic:nope"]
        sorts += [f"{sign}topic:{topic.slug}" for topic in Topic.objects.all() for sign in "-+"]
        for sort in sorts:
            for page in ("1", "2", "999", "x"):
                for options in ({}, {"class": course["taught"].pk}, {"format": "csv"}):
                    query = {"sort": sort, "page": page, **options}
                    response = teacher_client.get(progress, query)
                    if response.streaming:
                        b"".join(response.streaming_content)
                    assert response.status_code == 200, (progress, query)
        for wrong_class in (course["not_taught"].pk, "x", "²"):
            assert teacher_client.get(progress, {"class": wrong_class}).status_code == 400
        items = reverse("admin:learning_itemanalysis_changelist")
        orders = ["", "facility", "-discrimination", "-", "nonsense", "--sd"]
        for topic in ["", *Topic.objects.values_list("pk", flat=True)]:
            for flagged in ("", "1"):
                for order in orders:
                    for extra in ({}, {"format": "csv"}):
                        query = {"topic": topic, "flagged": flagged, "o": order, **extra}
                        response = teacher_client.get(items, query)
                        if response.streaming:
                            b"".join(response.streaming_content)
                        assert response.status_code == 200, (items, query)
        for wrong_topic in ("x", "²", "999999"):
            assert teacher_client.get(items, {"topic": wrong_topic}).status_code == 400

    def test_an_import_reaches_its_preview_and_a_confirm(self, teacher_client, course):
        url = reverse("admin:learning_question_import")
        assert teacher_client.get(url).status_code == 200
        broken = teacher_client.post(
            url, {"file": SimpleUploadedFile("q.gift", SMALL_GIFT), "file_format": "gift"}
        )
        assertContains(broken, "cannot be imported until these errors are fixed")
        good = SMALL_GIFT.split(b"::walk-3::")[0]
        preview = teacher_client.post(
            url,
            {
                "file": SimpleUploadedFile("q.gift", good),
                "file_format": "gift",
                "topic": course["heat"].pk,
            },
        )
        assertContains(preview, "2 to create")
        token = preview.context["token"]
        done = teacher_client.post(url, {"confirm": "1", "token": token})
        assert done.status_code == 302
        assert Question.objects.filter(key__startswith="walk-").count() == 2

    @pytest.mark.parametrize("topic", ["²", "x", "1.0", "-1", "0", "99999", str(10**30)])
    def test_an_export_of_no_such_topic_is_a_400(self, teacher_client, course, topic):
        url = reverse("admin:learning_question_export")
        assert teacher_client.get(url, {"topic": topic}).status_code == 400

    def test_an_export_of_all_or_one_topic(self, teacher_client, course):
        url = reverse("admin:learning_question_export")
        everything = teacher_client.get(url).content.decode()
        heat = teacher_client.get(url, {"topic": course["heat"].pk}).content.decode()
        assert "::causes-0::" in everything and "::causes-0::" not in heat
        assert "::single::" in heat


class TestCourseQuizzesInTheAdmin:
    def test_the_attempt_list_names_the_course_quizzes(self, teacher_client, course):
        response = teacher_client.get(reverse("admin:learning_attempt_changelist"))
        assertContains(response, "Spaced review")
        assertContains(response, "Course challenge")

    def test_an_attempt_is_named_by_its_quiz(self, course):
        attempt = Attempt.objects.filter(quiz=course["review"]).first()
        assert str(attempt) == f"Attempt {attempt.pk} by {attempt.learner} on Spaced review"

    def test_the_preview_of_a_course_quiz_says_what_it_draws(self, teacher_client, course):
        url = reverse("admin:learning_quiz_preview", args=[course["review"].pk])
        response = teacher_client.get(url)
        assertContains(response, "Preview: Spaced review")
        assertContains(response, "own due review cards")
        for question in Question.objects.filter(is_published=True):
            assertContains(response, f'id="preview-{question.pk}"')
        draft = Question.objects.get(key="draft")
        assertNotContains(response, f'id="preview-{draft.pk}"')
        challenge = services.course_quiz(QuizKind.CHALLENGE)
        url = reverse("admin:learning_quiz_preview", args=[challenge.pk])
        assertContains(teacher_client.get(url), "the topics the learner has started")


class TestReportLinks:
    def test_paging_keeps_the_class_and_sort_and_the_csv_link_drops_the_page(
        self, teacher_client, course, short_report_pages
    ):
        url = reverse("admin:learning_progressreport_changelist")
        query = {"class": course["taught"].pk, "sort": "-learner", "page": "2"}
        links = admin_links(url, teacher_client.get(url, query).content.decode())
        taught = course["taught"].pk
        assert f"{url}?class={taught}&sort=-learner&page=1" in links
        assert f"{url}?class={taught}&sort=-learner&format=csv" in links

    def test_the_export_link_names_the_topic_the_list_is_filtered_by(self, teacher_client, course):
        url = reverse("admin:learning_question_changelist")
        export = reverse("admin:learning_question_export")
        assert export in admin_links(url, teacher_client.get(url).content.decode())
        heat = course["heat"].pk
        filtered = teacher_client.get(url, {"topic__id__exact": heat})
        assertContains(filtered, "Export GIFT (this topic)")
        assert f"{export}?topic={heat}" in admin_links(url, filtered.content.decode())


class TestReportPermission:
    @pytest.mark.parametrize("name", REPORTS)
    def test_staff_outside_the_teachers_group_cannot_see_the_reports(self, client, name):
        client.force_login(UserFactory(username="office", is_staff=True))
        assert client.get(reverse(name)).status_code == 403
        assertNotContains(client.get(reverse("admin:index")), "Progress report")
        client.force_login(UserFactory(username="pupil"))
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))

    @pytest.mark.parametrize("name", REPORTS)
    def test_a_teacher_and_a_superuser_can(self, teacher_client, superuser_client, name):
        assert teacher_client.get(reverse(name)).status_code == 200
        assert superuser_client.get(reverse(name)).status_code == 200

    def test_the_teachers_group_holds_the_reports_view_permissions(self):
        group = Group.objects.get(name=TEACHERS_GROUP)
        held = group.permissions.filter(codename__in=REPORT_PERMISSIONS)
        assert sorted(held.values_list("content_type__model", flat=True)) == [
            "itemanalysis",
            "progressreport",
        ]

    def test_the_permission_not_the_group_name_opens_the_reports(self, teacher, client):
        group = Group.objects.get(name=TEACHERS_GROUP)
        group.permissions.remove(*Permission.objects.filter(codename="view_progressreport"))
        client.force_login(teacher)
        url = reverse("admin:learning_progressreport_changelist")
        assert client.get(url).status_code == 403
        office = UserFactory(username="office", is_staff=True)
        office.user_permissions.add(Permission.objects.get(codename="view_progressreport"))
        client.force_login(office)
        assert client.get(url).status_code == 200

    def test_the_migration_gives_an_existing_group_the_report_permissions(self):
        name = "0007_teachers_see_the_reports"
        migration = importlib.import_module(f"learning.migrations.{name}")
        # The models as that migration sees them, as when it runs.
        historical = MigrationLoader(connection).project_state(("learning", name)).apps
        group = Group.objects.get(name=TEACHERS_GROUP)
        reports = Permission.objects.filter(codename__in=REPORT_PERMISSIONS)
        group.permissions.remove(*reports)
        migration.give_teachers_the_reports(historical, None)
        assert set(group.permissions.filter(pk__in=reports)) == set(reports)
        migration.take_the_reports_away(historical, None)
        assert not group.permissions.filter(pk__in=reports).exists()
        assert group.permissions.filter(codename="view_attempt").exists()
