import csv
import io
import statistics
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import insight, services
from learning.models import (
    Attempt,
    ChoicePickCount,
    Classroom,
    Membership,
    Question,
    QuestionStatistics,
    Quiz,
    Response,
)
from learning.question_types.numeric import NumericAnswer
from learning.question_types.picking import ChoiceAnswer
from tests.factories import (
    LessonFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

LEARNERS = 12


def answer(attempt: Attempt, question: Question, right: bool) -> None:
    if question.type == "numeric":
        assert question.numeric_answer is not None, "a numeric question has its answer"
        value = question.numeric_answer if right else question.numeric_answer + 50
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=NumericAnswer(value)
        )
        return
    choice = next(c for c in question.choices.all() if c.is_correct == right)
    services.record_answer(
        attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
    )


@pytest.fixture
def quiz_taken() -> Quiz:
    """Twelve learners take a four-question quiz once; three of them take it again.

    "easy" is right for all, "hard" for learner-00 only, "mixed" and its "partner" for
    two learners in three (so each tells the stronger learners apart)."""
    topic = TopicFactory(slug="heat", title="Heat")
    LessonFactory(topic=topic)
    easy = QuestionFactory.create(topic=topic, key="easy")
    hard = QuestionFactory.create(topic=topic, key="hard")
    mixed = NumericQuestionFactory.create(topic=topic, key="mixed")
    partner = QuestionFactory.create(topic=topic, key="partner")
    quiz = QuizFactory.create(topic=topic, question_count=4)
    for index in range(LEARNERS):
        learner = UserFactory.create(username=f"learner-{index:02d}")
        attempt = services.start_attempt(learner=learner, quiz=quiz)
        answer(attempt, easy, right=True)
        answer(attempt, hard, right=index == 0)
        answer(attempt, mixed, right=index % 3 != 0)
        answer(attempt, partner, right=index % 3 != 0)
        if index < 3:  # second attempts, all wrong: they must not count
            again = services.start_attempt(learner=learner, quiz=quiz)
            for question in (easy, hard, mixed, partner):
                answer(again, question, right=False)
    return quiz


def expected(question: Question) -> tuple[float, float, float | None]:
    responses = Response.objects.filter(question=question, attempt__sequence=1).select_related(
        "attempt"
    )
    scores = [float(r.points) for r in responses]
    rest = [float(r.attempt.points - r.points) for r in responses]
    try:
        correlation = statistics.correlation(scores, rest)
    except statistics.StatisticsError:
        correlation = None
    return statistics.mean(scores), statistics.stdev(scores), correlation


class TestItemAnalysis:
    def test_statistics_match_a_direct_computation_over_first_attempts(self, quiz_taken):
        stats = {item.question.key: item for item in insight.item_analysis(quiz_taken.topic)}
        for key in ("easy", "hard", "mixed", "partner"):
            item = stats[key]
            facility, deviation, correlation = expected(item.question)
            assert item.responses == LEARNERS
            assert item.facility == pytest.approx(facility)
            assert item.standard_deviation == pytest.approx(deviation)
            if correlation is None:
                assert item.discrimination is None
            else:
                assert item.discrimination == pytest.approx(correlation)

    def test_flags_name_too_easy_too_hard_and_weak_questions(self, quiz_taken):
        stats = {item.question.key: item for item in insight.item_analysis(quiz_taken.topic)}
        assert stats["easy"].facility == 1
        assert stats["easy"].flags == ["too easy", "does not discriminate"]
        assert stats["hard"].facility == pytest.approx(1 / 12)
        assert "too hard" in stats["hard"].flags
        assert stats["mixed"].flags == []  # two thirds right, and it tells learners apart

    def test_no_flags_before_ten_responses(self, quiz_taken):
        Response.objects.filter(attempt__learner__username__gte="learner-03").delete()
        insight.rebuild_item_statistics()
        stats = {item.question.key: item for item in insight.item_analysis(quiz_taken.topic)}
        assert stats["easy"].responses == 3
        assert stats["easy"].flags == []

    def test_choice_counts(self, quiz_taken):
        stats = {item.question.key: item for item in insight.item_analysis(quiz_taken.topic)}
        shares = {share.choice.text: share.picks for share in stats["hard"].choices}
        assert shares == {"Right": 1, "Wrong one": 11, "Wrong two": 0}
        assert stats["mixed"].choices == []  # numeric: nothing to pick

    def test_it_costs_six_queries_however_many_responses(
        self, quiz_taken, django_assert_num_queries
    ):
        # questions, their choices, their versions, the running sums with the versions'
        # snapshots, the pick counts, the typed answers not fully right (one GROUP BY)
        with django_assert_num_queries(6):
            insight.item_analysis(quiz_taken.topic)

    def test_the_running_sums_equal_a_rebuild_from_every_response(self, quiz_taken):
        def sums():
            return {
                row.question_id: (row.responses, round(row.sum_x, 9), round(row.sum_xx, 9),
                                  round(row.sum_y, 9), round(row.sum_yy, 9), round(row.sum_xy, 9))
                for row in QuestionStatistics.objects.all()
            }  # fmt: skip

        def picks():
            return set(ChoicePickCount.objects.values_list("question_id", "choice_id", "picks"))

        running, running_picks = sums(), picks()
        assert len(running) == 4 and running_picks
        assert insight.rebuild_item_statistics() == 4
        assert sums() == running
        assert picks() == running_picks


@pytest.fixture
def teaches_them_all(teacher, quiz_taken) -> Classroom:
    """A class the teacher teaches, with every learner of the quiz in it."""
    classroom = Classroom.objects.create(name="Heat group")
    classroom.teachers.add(teacher)
    for learner in set(Attempt.objects.values_list("learner", flat=True)):
        Membership.objects.create(classroom=classroom, learner_id=learner)
    return classroom


class TestReportPages:
    def test_item_analysis_page(self, teacher_client, quiz_taken):
        url = reverse("admin:learning_itemanalysis_changelist")
        response = teacher_client.get(url, {"topic": quiz_taken.topic.pk})
        assertContains(response, "too easy")
        assertContains(response, "100%")
        flagged = teacher_client.get(url, {"topic": quiz_taken.topic.pk, "flagged": "1"})
        assertContains(flagged, "too hard")
        assertNotContains(flagged, ">mixed<")

    def test_the_progress_report_grid_filters_by_class_and_sorts(
        self, teacher_client, teacher, quiz_taken, teaches_them_all
    ):
        classroom = Classroom.objects.create(name="Year 10")
        classroom.teachers.add(teacher)
        for username in ("learner-05", "learner-01"):
            Membership.objects.create(classroom=classroom, learner=UserFactory(username=username))
        url = reverse("admin:learning_progressreport_changelist")
        everyone = teacher_client.get(url)
        assertContains(everyone, "12 learners")
        assertNotContains(everyone, '<th scope="row">mrs-hill</th>', html=True)  # staff
        in_class = teacher_client.get(url, {"class": classroom.pk})
        assertContains(in_class, "2 learners")
        html = in_class.content.decode()
        assert html.index("learner-01") < html.index("learner-05")
        best_first = teacher_client.get(url, {"sort": "-topic:heat"}).content.decode()
        top = best_first.index("<tbody>")
        # best scores: learner-01 75%, learner-00 50%, learner-03 25%
        position = {
            name: best_first.index(name, top)
            for name in ("learner-00", "learner-01", "learner-03")
        }
        assert position["learner-01"] < position["learner-00"] < position["learner-03"]

    def test_a_class_the_teacher_does_not_teach_is_refused(self, teacher_client, quiz_taken):
        other = Classroom.objects.create(name="Not mine")
        url = reverse("admin:learning_progressreport_changelist")
        assert teacher_client.get(url, {"class": other.pk}).status_code == 400

    def test_the_csv_is_streamed_with_one_row_per_learner(
        self, teacher_client, quiz_taken, teaches_them_all
    ):
        url = reverse("admin:learning_progressreport_changelist")
        response = teacher_client.get(url, {"format": "csv"})
        assert response.streaming
        assert response["Content-Type"].startswith("text/csv")
        rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
        assert rows[0][:5] == ["learner", "name", "last activity", "Heat: mastery", "Heat: best %"]
        assert len(rows) == 1 + LEARNERS
        fourth = next(row for row in rows if row[0] == "learner-04")
        assert fourth[3:6] == ["Familiar", "75.00", "1"]
        first = next(row for row in rows if row[0] == "learner-01")
        # 75% then 0%: the best stays, the second attempt moved mastery down a level
        assert (first[3], Decimal(first[4]), first[5]) == ("Attempted", 75, "2")

    def test_the_report_query_count_does_not_grow_with_learners(
        self, teacher_client, quiz_taken, teaches_them_all, django_assert_max_num_queries
    ):
        url = reverse("admin:learning_progressreport_changelist")
        # session, user, the user's and group's permissions (read once for the report's
        # view permission, reused by the admin's sidebar), topics, classes, count, page of
        # learners, their cells; whom the teacher may see is a subquery in the last three
        with django_assert_max_num_queries(9):
            assertContains(teacher_client.get(url), "12 learners")
        for index in range(30):
            extra = UserFactory(username=f"extra-{index}")
            Membership.objects.create(classroom=teaches_them_all, learner=extra)
        with django_assert_max_num_queries(9):
            assertContains(teacher_client.get(url), "42 learners")
        with django_assert_max_num_queries(9):
            teacher_client.get(url, {"class": teaches_them_all.pk, "sort": "-topic:heat"})

    @pytest.mark.parametrize(
        "name",
        ["admin:learning_itemanalysis_changelist", "admin:learning_progressreport_changelist"],
    )
    def test_only_the_teachers_group_sees_the_reports(self, client, name):
        staff = UserFactory(username="office", is_staff=True)
        client.force_login(staff)
        assert client.get(reverse(name)).status_code == 403
        client.force_login(UserFactory(username="pupil"))
        response = client.get(reverse(name))
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
