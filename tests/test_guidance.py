"""The dashboard that guides: the next step, the streak and the charts."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from learning import charts, services
from learning.models import Mastery, Question, Quiz, ReviewCard, Topic, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from learning.selectors import ReviewSummary, TopicRow, next_step, streak
from tests.factories import QuestionFactory, QuizFactory, TopicFactory

NONE_DUE = ReviewSummary(0, None)


def row(
    order: int, *, read=False, attempts=0, best=None, mastery=Mastery.NOT_STARTED, open_id=None
):
    topic = Topic(pk=order, slug=f"topic-{order}", title=f"Topic {order}", order=order)
    topic.quiz = Quiz(question_count=10)  # open, attempts unlimited
    progress = None
    if read or attempts:
        progress = TopicProgress(
            topic=topic,
            lesson_read_at=timezone.now() if read else None,
            attempt_count=attempts,
            best_percent=best,
            mastery=mastery,
        )
    return TopicRow(topic, progress, open_id)


class TestNextStep:
    def test_a_new_learner_reads_the_first_lesson(self):
        step = next_step([row(1), row(2)], NONE_DUE)
        assert (step.action, step.title) == ("read", "Read the lesson on Topic 1")
        assert step.url == reverse("learning:lesson", args=["topic-1"])

    def test_a_read_lesson_leads_to_its_quiz(self):
        step = next_step([row(1, read=True), row(2)], NONE_DUE)
        assert (step.action, step.url) == ("take", reverse("learning:quiz", args=["topic-1"]))

    def test_the_weakest_topic_below_seventy_is_retaken(self):
        rows = [
            row(1, read=True, attempts=1, best=Decimal(60), mastery=Mastery.ATTEMPTED),
            row(2, read=True, attempts=2, best=Decimal(40), mastery=Mastery.ATTEMPTED),
            row(3),
        ]
        step = next_step(rows, NONE_DUE)
        assert (step.action, step.title) == ("retake", "Retake the quiz on Topic 2")
        assert "40%" in step.reason

    def test_the_best_score_is_rounded_as_the_result_page_rounds_it(self):
        """22.5% is "23%" on the result page and the topic table: the next step agrees
        (the tryout found "22%" beside "You scored 23%")."""
        rows = [row(1, read=True, attempts=1, best=Decimal("22.50"), mastery=Mastery.ATTEMPTED)]
        step = next_step(rows, NONE_DUE)
        assert "Your best there is 23%;" in step.reason

    def test_with_nothing_weak_the_next_unread_lesson_comes_next(self):
        rows = [row(1, read=True, attempts=1, best=Decimal(80), mastery=Mastery.FAMILIAR), row(2)]
        assert next_step(rows, NONE_DUE).title == "Read the lesson on Topic 2"

    def test_due_reviews_come_before_new_work(self):
        step = next_step([row(1), row(2)], ReviewSummary(3, None))
        assert (step.action, step.title) == ("review", "Review 3 questions")

    def test_an_open_quiz_comes_first_of_all(self):
        step = next_step([row(1, read=True, open_id=42)], ReviewSummary(3, None))
        assert (step.action, step.url) == ("resume", reverse("learning:attempt", args=[42]))

    def test_with_every_topic_started_and_none_weak_the_challenge(self):
        rows = [
            row(n, read=True, attempts=1, best=Decimal(95), mastery=Mastery.PROFICIENT)
            for n in (1, 2)
        ]
        step = next_step(rows, NONE_DUE)
        assert (step.action, step.url) == ("challenge", reverse("learning:challenge"))


class TestStreakAndCharts:
    today = date(2026, 11, 25)

    def test_a_streak_counts_consecutive_days_to_today(self):
        days = {self.today - timedelta(days=n) for n in (0, 1, 2, 4)}
        assert streak(days, self.today) == 3

    def test_a_streak_still_counts_until_today_is_over(self):
        days = {self.today - timedelta(days=n) for n in (1, 2)}
        assert streak(days, self.today) == 2
        assert streak({self.today - timedelta(days=2)}, self.today) == 0

    def test_the_activity_chart_covers_twelve_weeks_with_a_summary(self):
        chart = charts.activity_chart(
            {self.today: 6, self.today - timedelta(days=3): 2}, self.today
        )
        assert len(chart.days) == 11 * 7 + self.today.weekday() + 1
        assert chart.days[-1].day == self.today and chart.days[-1].level == 2
        assert chart.days[0].day.weekday() == 0  # columns start on Mondays
        assert (
            chart.summary == "8 answers on 2 of the last 84 days; the busiest day was 25 Nov (6)."
        )

    def test_a_sparkline_puts_higher_scores_higher(self):
        spark = charts.sparkline([Decimal(20), Decimal(90)])
        (x1, y1), (x2, y2) = spark.dots
        assert x1 < x2 and y2 < y1
        assert spark.label == "Scores, oldest first: 20%, 90%"


@pytest.mark.django_db
def test_the_dashboard_shows_history_activity_and_streak_within_its_budget(
    learner_client, learner, django_assert_max_num_queries
):
    topic = TopicFactory(slug="heat", title="Heat")
    questions = [QuestionFactory(topic=topic) for _ in range(3)]
    quiz = QuizFactory(topic=topic, question_count=3)
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    for day in range(15):  # fifteen days of quizzes, ending today
        with time_machine.travel(start + timedelta(days=day), tick=False):
            attempt = services.start_attempt(learner=learner, quiz=quiz)
            for index, question in enumerate(Question.objects.filter(pk__in=attempt.question_ids)):
                choice = question.choices.filter(is_correct=index <= day % 3).first()
                services.record_answer(
                    attempt=attempt,
                    question_id=question.pk,
                    answer=ChoiceAnswer(frozenset([choice.pk])),
                )
    assert len(questions) == 3
    later_that_day = start + timedelta(days=14, hours=3)
    # The dashboard's queries (tests/test_pages.py lists them), the page versions included.
    with time_machine.travel(later_that_day, tick=False), django_assert_max_num_queries(14):
        response = learner_client.get(reverse("learning:dashboard"))
    assertContains(response, "15</span> days in a row")
    assertContains(response, 'role="img" aria-label="Heat: Scores, oldest first:')
    assertContains(response, "45 answers on 15 of the last 84 days")
    assertContains(response, "<title>Sun 1 Nov: 3 answers</title>", html=False)
    assert ReviewCard.objects.filter(learner=learner).count() == 3
