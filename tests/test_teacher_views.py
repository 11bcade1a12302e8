"""The pages a teacher acts on: a learner's attempt question by question, the learner's
page, item analysis per question version (with typed answers and a CSV), the grade export,
and the name learners give at sign-up."""

import csv
import importlib
import io
import re
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import User
from django.http import HttpResponseBase, StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from learning import insight, question_types, services
from learning.models import (
    Attempt,
    Choice,
    ChoicePickCount,
    Classroom,
    Membership,
    Question,
    QuestionStatistics,
    Quiz,
)
from learning.question_types.matching import MatchingAnswer
from learning.question_types.numeric import NumericAnswer
from learning.question_types.picking import ChoiceAnswer
from learning.question_types.short_answer import TextAnswer
from learning.versions import current_key
from tests.factories import (
    FACTORY_BY_TYPE,
    LessonFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    ShortAnswerQuestionFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

ATTEMPT = "admin:learning_attempt_change"
LEARNER = "admin:learning_attempt_learner"
ITEMS = "admin:learning_itemanalysis_changelist"
REPORT = "admin:learning_progressreport_changelist"


def text_of(response: HttpResponseBase) -> str:
    if isinstance(response, StreamingHttpResponse):
        return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]
    return response.content.decode()  # type: ignore[attr-defined]


def csv_rows(response: HttpResponseBase) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(text_of(response))))


def pick(question: Question, text: str) -> ChoiceAnswer:
    return ChoiceAnswer(frozenset([question.choices.get(text=text).pk]))


def take(learner: User, quiz: Quiz, answers: dict[str, Any]) -> Attempt:
    """Answer every question drawn (by key: the answer given; others: a right answer)."""
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    for question_id in attempt.question_ids:
        question = Question.objects.get(pk=question_id)
        answer = answers.get(question.key)
        if answer is None:
            answer = question_types.get(question.type).sample_answer(current_key(question))
        services.record_answer(attempt=attempt, question_id=question_id, answer=answer)
    attempt.refresh_from_db()
    return attempt


@pytest.fixture
def every_type_quiz() -> Quiz:
    """One question of every registered type, keyed by its type."""
    topic = TopicFactory(slug="spasms", title="Spasms")
    LessonFactory(topic=topic)
    for value, factory in FACTORY_BY_TYPE.items():
        factory.create(topic=topic, key=value, prompt=f"The {value} question, as first written")
    return QuizFactory.create(topic=topic, question_count=len(FACTORY_BY_TYPE))


@pytest.fixture
def my_class(teacher, learner) -> Classroom:
    learner.first_name = "Ada Lovelace"
    learner.save()
    classroom = Classroom.objects.create(name="Year 9 Biology")
    classroom.teachers.add(teacher)
    Membership.objects.create(classroom=classroom, learner=learner)
    return classroom


@pytest.fixture
def taken(learner, every_type_quiz, my_class) -> Attempt:
    """Ada's attempt: single and true/false right, multiple wrong, numeric 17, short answer
    part right ("Ca", 50%), matching with one pair swapped."""
    multiple = Question.objects.get(key="multiple")
    matching = Question.objects.get(key="matching")
    pairs = {c.text: c.pk for c in matching.choices.all()}
    return take(
        learner,
        every_type_quiz,
        {
            "multiple": pick(multiple, "Wrong C"),
            "numeric": NumericAnswer(Decimal("17")),
            "short_answer": TextAnswer("Ca"),
            "matching": MatchingAnswer(
                (
                    (pairs["Tic"], "Lasting contraction"),
                    (pairs["Cramp"], "Rapid twitch"),
                    (pairs["Convulsion"], "Seizure jerks"),
                )
            ),
        },
    )


class TestTheAttemptPage:
    def test_it_shows_each_question_as_asked_with_the_answer_in_words(self, teacher_client, taken):
        # A later edit of a question does not change what the teacher reads of the past.
        Question.objects.filter(key="single").update(prompt="Reworded since")
        page = teacher_client.get(reverse(ATTEMPT, args=[taken.pk]))
        assertContains(page, "The single question, as first written")
        assertNotContains(page, "Reworded since")
        text = page.content.decode()
        answered = re.findall(r'<dd class="given-answer">([^<]*)</dd>', text)
        assert sorted(answered) == sorted(
            [
                "Right",  # single
                "Wrong C",  # multiple
                "True",  # true/false
                "17",  # numeric, as typed
                "Ca",  # short answer
                "Tic → Lasting contraction; Cramp → Rapid twitch; "
                "Convulsion → Seizure jerks",  # matching
            ]
        )
        assert text.count("verdict-tag verdict-right") == 2
        assert text.count("verdict-tag verdict-partly-right") == 2  # short answer, matching
        assert text.count("verdict-tag verdict-wrong") == 2  # multiple, numeric
        assertContains(page, "0.50 of 1")
        assertContains(page, f"{taken.percent}% (")
        assertContains(page, f"of {len(FACTORY_BY_TYPE)} points)")
        assertContains(page, "after the previous")
        for response in taken.responses.all():
            assertContains(page, f"{timezone.localtime(response.answered_at):%Y-%m-%d %H:%M}")
        # No raw ids or stored JSON: the answers table and question ids are gone.
        assertNotContains(page, '"choices"')
        assertNotContains(page, "Question ids")

    def test_the_first_answer_is_timed_from_the_start(self, teacher_client, taken):
        text = teacher_client.get(reverse(ATTEMPT, args=[taken.pk])).content.decode()
        assert text.count("after the start)") == 1
        assert text.count("after the previous answer)") == len(FACTORY_BY_TYPE) - 1

    def test_the_learner_link_opens_the_learner_page(self, teacher_client, taken):
        page = teacher_client.get(reverse(ATTEMPT, args=[taken.pk]))
        learner_url = reverse(LEARNER, args=[taken.learner_id])
        assertContains(page, f'href="{learner_url}"')
        assertContains(page, "ada (Ada Lovelace)")
        assert teacher_client.get(learner_url).status_code == 200

    def test_its_queries_do_not_grow_with_the_questions(
        self, teacher_client, taken, django_assert_max_num_queries
    ):
        # session, user, permissions (user's and group's), the attempt, its responses with
        # versions and questions, the lessons, the questions not answered (none here), the
        # admin's own lookups (quiz, content type for history links)
        with django_assert_max_num_queries(12):
            assert teacher_client.get(reverse(ATTEMPT, args=[taken.pk])).status_code == 200

    def test_a_question_not_answered_says_so(
        self, teacher_client, learner, every_type_quiz, my_class
    ):
        attempt = services.start_attempt(learner=learner, quiz=every_type_quiz)
        page = teacher_client.get(reverse(ATTEMPT, args=[attempt.pk]))
        assert page.content.decode().count("Not answered") >= len(FACTORY_BY_TYPE)

    @pytest.mark.parametrize("bad", ["abc", "999999", "1.5", "%00"])
    def test_an_odd_id_is_not_found(self, teacher_client, taken, bad):
        assert teacher_client.get(f"/admin/learning/attempt/{bad}/change/").status_code == 404


class TestTheLearnerPage:
    def test_it_shows_their_attempts_and_topic_progress(self, teacher_client, taken):
        page = teacher_client.get(reverse(LEARNER, args=[taken.learner_id]))
        assertContains(page, "Ada Lovelace")
        assertContains(page, "Year 9 Biology")
        assertContains(page, reverse(ATTEMPT, args=[taken.pk]))
        assertContains(page, "Spasms")
        assertContains(page, f"{taken.percent:.0f}%")
        assertContains(page, "1 attempt,")

    def test_a_learner_not_theirs_is_not_found(self, teacher_client, taken, other_learner):
        assert teacher_client.get(reverse(LEARNER, args=[other_learner.pk])).status_code == 404
        assert teacher_client.get(reverse(LEARNER, args=[987654])).status_code == 404
        assert teacher_client.get(reverse(LEARNER, args=[10**22])).status_code == 404
        odd = teacher_client.get("/admin/learning/attempt/learner/abc/", follow=True)
        assert odd.status_code == 404

    def test_a_superuser_sees_any_learner(self, client, taken, other_learner):
        client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
        assertContains(client.get(reverse(LEARNER, args=[other_learner.pk])), "grace")

    def test_staff_without_the_teachers_group_are_refused(self, client, taken):
        client.force_login(UserFactory.create(username="office", is_staff=True))
        assert client.get(reverse(LEARNER, args=[taken.learner_id])).status_code == 403

    def test_class_and_report_pages_link_to_it(self, teacher_client, taken, my_class):
        url = reverse(LEARNER, args=[taken.learner_id])
        assertContains(teacher_client.get(reverse(REPORT)), url)
        assertContains(
            teacher_client.get(reverse("admin:learning_classroom_change", args=[my_class.pk])),
            url,
        )

    def test_its_queries_do_not_grow_with_attempts(
        self, teacher_client, taken, every_type_quiz, django_assert_max_num_queries
    ):
        # session, user, permissions x2, the learner, their classes, topics, progress,
        # count and page of attempts with quizzes
        url = reverse(LEARNER, args=[taken.learner_id])
        with django_assert_max_num_queries(10):
            teacher_client.get(url)
        for _ in range(3):
            take(taken.learner, every_type_quiz, {})
        with django_assert_max_num_queries(10):
            assertContains(teacher_client.get(url), "4 attempts")


@pytest.fixture
def rekeyed() -> dict[str, Any]:
    """A question answered by four learners under its first key (one right), then re-keyed
    and reworded ("Wrong one" becomes the right "Now right"), then answered by two more."""
    topic = TopicFactory(slug="heat", title="Heat")
    question = QuestionFactory.create(topic=topic, key="rekeyed")
    quiz = QuizFactory.create(topic=topic, question_count=1)
    for index, text in enumerate(["Right", "Wrong one", "Wrong one", "Wrong two"]):
        take(
            UserFactory.create(username=f"before-{index}"), quiz, {"rekeyed": pick(question, text)}
        )
    Choice.objects.filter(question=question).update(is_correct=False)
    Choice.objects.filter(question=question, text="Wrong one").update(
        text="Now right", is_correct=True
    )
    for index in range(2):
        take(
            UserFactory.create(username=f"after-{index}"),
            quiz,
            {"rekeyed": pick(question, "Now right")},
        )
    return {"topic": topic, "question": question}


class TestItemAnalysisPerVersion:
    def test_a_rekey_keeps_each_versions_facility_and_choice_text(self, rekeyed):
        rows = insight.item_analysis(rekeyed["topic"])
        assert [(r.version_text, r.responses) for r in rows] == [
            ("v1 (earlier)", 4),
            ("v2 (current)", 2),
        ]
        before, after = rows
        assert before.facility == pytest.approx(0.25)
        assert after.facility == 1
        assert {(s.choice.text, s.choice.is_correct, s.picks) for s in before.choices} == {
            ("Right", True, 1),
            ("Wrong one", False, 2),
            ("Wrong two", False, 1),
        }
        assert {(s.choice.text, s.choice.is_correct, s.picks) for s in after.choices} == {
            ("Right", False, 0),
            ("Now right", True, 2),
            ("Wrong two", False, 0),
        }

    def test_the_rebuild_gives_the_same_per_version_sums(self, rekeyed):
        before = [(r.version_id, r.responses, r.facility) for r in insight.item_analysis()]
        insight.rebuild_item_statistics()
        assert [(r.version_id, r.responses, r.facility) for r in insight.item_analysis()] == (
            before
        )

    def test_the_migration_builds_the_same_sums_from_the_responses(self, rekeyed):
        migration = importlib.import_module("learning.migrations.0013_item_statistics_per_version")

        def sums() -> set[tuple[Any, ...]]:
            rows = QuestionStatistics.objects.values_list(
                "version_id", "question_id", "responses", "sum_x", "sum_xy"
            )
            picks = ChoicePickCount.objects.values_list("version_id", "choice_id", "picks")
            return {*rows, *picks}

        running = sums()
        QuestionStatistics.objects.all().delete()
        ChoicePickCount.objects.all().delete()
        migration.rebuild(django_apps, None)
        assert sums() == running

    def test_a_question_changed_since_its_answers_shows_its_current_version_unanswered(
        self, rekeyed
    ):
        Question.objects.filter(pk=rekeyed["question"].pk).update(prompt="Reworded again")
        rows = insight.item_analysis(rekeyed["topic"])
        assert [(r.version_text, r.responses, r.short_prompt) for r in rows][-1] == (
            "current",
            0,
            "Reworded again",
        )

    def test_typed_answers_list_the_common_wrong_ones(self):
        topic = TopicFactory(slug="numbers", title="Numbers")
        NumericQuestionFactory.create(topic=topic, key="numeric")
        ShortAnswerQuestionFactory.create(topic=topic, key="short")
        quiz = QuizFactory.create(topic=topic, question_count=2)
        given = [
            ("20", "calcuim"),
            ("20.0", "Calcuim "),
            ("20", "sodium"),
            ("99", "Calcium"),
            ("15", "Ca"),
        ]
        for index, (number, word) in enumerate(given):
            take(
                UserFactory.create(username=f"typist-{index}"),
                quiz,
                {"numeric": NumericAnswer(Decimal(number)), "short": TextAnswer(word)},
            )
        rows = {r.question.key: r for r in insight.item_analysis(topic)}
        numbers = [(w.answer, w.count) for w in rows["numeric"].wrong_answers]
        assert numbers == [("20", 3), ("99", 1)]  # 15 is right: not listed
        words = [(w.answer, w.count) for w in rows["short"].wrong_answers]
        # "Ca" earns half: not fully right, so it is listed; "Calcium" is right.
        assert words[0] == ("calcuim", 2)
        assert set(words[1:]) == {("sodium", 1), ("ca", 1)}
        assert rows["numeric"].choices == []

    def test_the_page_sorts_by_column_and_survives_odd_parameters(self, teacher_client, rekeyed):
        QuestionFactory.create(topic=rekeyed["topic"], key="unanswered", prompt="Never asked")
        page = teacher_client.get(reverse(ITEMS), {"o": "-facility"}).content.decode()
        table = page[page.index("<tbody>") :]
        # 100% (v2), then 25% (v1), then the question without responses
        assert table.index("v2 (current)") < table.index("v1 (earlier)") < table.index("Never")
        assert 'aria-sort="descending"' in page
        ascending = teacher_client.get(reverse(ITEMS), {"o": "facility"}).content.decode()
        table = ascending[ascending.index("<tbody>") :]
        assert table.index("v1 (earlier)") < table.index("v2 (current)") < table.index("Never")
        for params in ({"o": "bogus"}, {"o": "-"}, {"o": "--sd"}, {"flagged": "x"}, {"page": "z"}):
            assert teacher_client.get(reverse(ITEMS), params).status_code == 200, params
        for topic in ("abc", "999999", "1.5"):
            assert teacher_client.get(reverse(ITEMS), {"topic": topic}).status_code == 400

    def test_the_csv_has_a_row_per_version(self, teacher_client, rekeyed):
        response = teacher_client.get(
            reverse(ITEMS), {"topic": rekeyed["topic"].pk, "format": "csv"}
        )
        assert response["Content-Disposition"] == (
            f'attachment; filename="item-analysis-heat-{timezone.localdate():%Y-%m-%d}.csv"'
        )
        rows = csv_rows(response)
        assert rows[0][:7] == [
            "topic",
            "question",
            "version",
            "type",
            "prompt",
            "responses",
            "facility %",
        ]
        assert [(row[1], row[2], row[5], row[6]) for row in rows[1:]] == [
            ("rekeyed", "v1 (earlier)", "4", "25.0"),
            ("rekeyed", "v2 (current)", "2", "100.0"),
        ]
        assert "Wrong one: 2" in rows[1][10] and "✓ Now right: 2" in rows[2][10]

    def test_the_page_costs_the_same_with_more_questions(
        self, teacher_client, rekeyed, django_assert_max_num_queries
    ):
        # session, user, permissions (user's, group's), topics, and the six of item_analysis
        with django_assert_max_num_queries(11):
            assertContains(teacher_client.get(reverse(ITEMS)), "v2 (current)")
        quiz = Quiz.objects.get(topic=rekeyed["topic"])
        quiz.question_count = 6
        quiz.save()
        for index in range(5):
            question = QuestionFactory.create(topic=rekeyed["topic"], key=f"more-{index}")
        take(UserFactory.create(username="more"), quiz, {})
        Choice.objects.filter(question=question, text="Right").update(text="Right, reworded")
        with django_assert_max_num_queries(11):
            page = teacher_client.get(reverse(ITEMS)).content.decode()
        # rekeyed v1 and v2, five more, and the reworded one's current version unanswered
        assert page.count('<th scope="row">') == 2 + 5 + 1


class TestTheGradeExport:
    @pytest.fixture
    def graded(self, teacher, my_class, learner, every_type_quiz, taken) -> dict[str, Any]:
        take(learner, every_type_quiz, {})  # a second, all right
        services.start_attempt(learner=learner, quiz=every_type_quiz)  # in progress: left out
        outsider = UserFactory.create(username="=HYPERLINK(evil)", first_name="-2+3")
        take(outsider, every_type_quiz, {})
        other_class = Classroom.objects.create(name="Other")
        other_class.teachers.add(UserFactory.create(username="mr-b", is_staff=True))
        Membership.objects.create(classroom=other_class, learner=outsider)
        return {"outsider": outsider, "other_class": other_class}

    def test_it_lists_every_finished_attempt_of_their_class(
        self, teacher_client, my_class, graded, settings
    ):
        settings.TIME_ZONE = "Pacific/Auckland"
        response = teacher_client.get(reverse(REPORT), {"format": "grades", "class": my_class.pk})
        today = timezone.localdate()
        assert response["Content-Disposition"] == (
            f'attachment; filename="grades-year-9-biology-{today:%Y-%m-%d}.csv"'
        )
        rows = csv_rows(response)
        assert rows[0] == [
            "learner",
            "name",
            "class",
            "quiz",
            "attempt",
            "started",
            "finished",
            "score %",
        ]
        attempts = Attempt.objects.filter(learner__username="ada", finished_at__isnull=False)
        expected = [
            [
                "ada",
                "Ada Lovelace",
                "Year 9 Biology",
                "Spasms",
                str(number),
                f"{timezone.localtime(attempt.started_at):%Y-%m-%d %H:%M}",
                f"{timezone.localtime(attempt.finished_at):%Y-%m-%d %H:%M}",
                f"{attempt.percent}",
            ]
            for number, attempt in enumerate(attempts.order_by("started_at"), start=1)
        ]
        assert rows[1:] == expected
        first = attempts.order_by("started_at").first()
        assert first is not None
        assert rows[1][5] != f"{first.started_at:%Y-%m-%d %H:%M}"  # not UTC

    def test_the_class_page_links_to_its_grades(self, teacher_client, my_class, graded):
        page = teacher_client.get(reverse("admin:learning_classroom_change", args=[my_class.pk]))
        link = f"{reverse(REPORT)}?class={my_class.pk}&amp;format=grades"
        assertContains(page, link)
        rows = csv_rows(teacher_client.get(link.replace("&amp;", "&")))
        assert {row[0] for row in rows[1:]} == {"ada"}

    def test_a_teacher_exports_only_their_learners(self, teacher_client, graded):
        rows = csv_rows(teacher_client.get(reverse(REPORT), {"format": "grades"}))
        assert {row[0] for row in rows[1:]} == {"ada"}
        other = teacher_client.get(
            reverse(REPORT), {"format": "grades", "class": graded["other_class"].pk}
        )
        assert other.status_code == 400

    def test_a_superuser_gets_everyone_with_cells_made_inert(self, client, graded):
        client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
        response = client.get(reverse(REPORT), {"format": "grades"})
        assert "grades-all-classes-" in response["Content-Disposition"]
        rows = csv_rows(response)
        outsider = next(row for row in rows if "HYPERLINK" in row[0])
        assert outsider[:3] == ["'=HYPERLINK(evil)", "'-2+3", "Other"]

    def test_the_export_streams_in_few_queries(
        self, teacher_client, my_class, graded, django_assert_max_num_queries
    ):
        # session, user, permissions x2, topics, classes, the attempts, their classes
        with django_assert_max_num_queries(8):
            text_of(teacher_client.get(reverse(REPORT), {"format": "grades"}))


class TestTheProgressReportCsv:
    def test_it_names_each_learner_with_local_dates_and_a_file_named_after_the_class(
        self, teacher_client, my_class, learner, taken, settings
    ):
        settings.TIME_ZONE = "Pacific/Auckland"
        response = teacher_client.get(reverse(REPORT), {"format": "csv", "class": my_class.pk})
        today = timezone.localdate()
        assert response["Content-Disposition"] == (
            f'attachment; filename="progress-year-9-biology-{today:%Y-%m-%d}.csv"'
        )
        rows = csv_rows(response)
        assert rows[0][:3] == ["learner", "name", "last activity"]
        ada = next(row for row in rows if row[0] == "ada")
        last = Attempt.objects.filter(learner=learner).latest("finished_at").finished_at
        assert last is not None
        assert ada[1:3] == ["Ada Lovelace", f"{timezone.localtime(last):%Y-%m-%d %H:%M}"]


class TestTheNameAtSignUp:
    def sign_up(self, client: Client, **extra: str) -> User:
        data = {"username": "newbie", "password1": "a-long-pass-phrase", **extra}
        data["password2"] = data["password1"]
        response = client.post(reverse("learning:signup"), data)
        assert response.status_code == 302, response.content.decode()
        return User.objects.get(username="newbie")

    def test_the_name_is_optional(self, client):
        page = client.get(reverse("learning:signup"))
        assertContains(page, "Your name (optional)")
        assert self.sign_up(client).get_full_name() == ""

    def test_a_name_given_is_kept_whole_and_shown_to_their_teacher(
        self, client, teacher, every_type_quiz
    ):
        newbie = self.sign_up(client, name="  María José de la Cruz ")
        assert newbie.get_full_name() == "María José de la Cruz"
        classroom = Classroom.objects.create(name="Mine")
        classroom.teachers.add(teacher)
        Membership.objects.create(classroom=classroom, learner=newbie)
        attempt = take(newbie, every_type_quiz, {})
        client.force_login(teacher)
        for url in (
            reverse(REPORT),
            reverse(LEARNER, args=[newbie.pk]),
            reverse(ATTEMPT, args=[attempt.pk]),
            reverse("admin:learning_attempt_changelist"),
            reverse("admin:learning_classroom_change", args=[classroom.pk]),
        ):
            assertContains(client.get(url), "María José de la Cruz")
        rows = csv_rows(client.get(reverse(REPORT), {"format": "grades"}))
        assert rows[1][:2] == ["newbie", "María José de la Cruz"]
        assertContains(
            client.get(reverse("admin:learning_attempt_changelist"), {"q": "José"}), "newbie"
        )
