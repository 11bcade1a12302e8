"""Mastery rules (pure) and the per-topic progress a learner sees (read-only queries).

The rule, per topic, applied after each finished quiz attempt:

- not started: no finished attempt yet;
- attempted: best score below 70%;
- familiar: an attempt at 70% or more;
- proficient: an attempt at 90% or more;
- mastered: attempts at 90% or more on two different days.

An attempt below the threshold of the level the topic is at (70% for familiar, 90% for
proficient and mastered) moves it down one level, never below attempted.

Two more roads change mastery:

- the course challenge, answer by answer: a right answer on a proficient topic makes it
  mastered, a wrong one on a mastered topic takes it back to proficient;
- spaced review, when a review session ends: a topic of which at least two questions were
  reviewed, fewer than half of them right, moves down one level (never below attempted).
  Reviews never raise mastery: quizzes and the challenge do.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count, F, Min, Q, Window
from django.db.models.functions import RowNumber, TruncDate
from django.urls import reverse
from django.utils import timezone

from learning.models import (
    Attempt,
    AttemptState,
    Mastery,
    QuizKind,
    Response,
    ReviewCard,
    Topic,
    TopicProgress,
)

FAMILIAR_PERCENT = Decimal(70)
PROFICIENT_PERCENT = Decimal(90)

_LEVEL_THRESHOLD = {
    Mastery.NOT_STARTED: Decimal(0),
    Mastery.ATTEMPTED: Decimal(0),
    Mastery.FAMILIAR: FAMILIAR_PERCENT,
    Mastery.PROFICIENT: PROFICIENT_PERCENT,
    Mastery.MASTERED: PROFICIENT_PERCENT,
}


@dataclass(frozen=True)
class MasteryState:
    level: Mastery
    high_score_on: date | None = None


def mastery_after_attempt(state: MasteryState, percent: Decimal, on: date) -> MasteryState:
    """The topic's mastery after a finished attempt scoring `percent` on day `on`."""
    current = Mastery(state.level)
    if percent < _LEVEL_THRESHOLD[current] and current > Mastery.ATTEMPTED:
        return MasteryState(Mastery(current - 1), state.high_score_on)
    if percent >= PROFICIENT_PERCENT:
        if state.high_score_on is not None and state.high_score_on != on:
            return MasteryState(Mastery.MASTERED, state.high_score_on)
        return MasteryState(max(current, Mastery.PROFICIENT), state.high_score_on or on)
    if percent >= FAMILIAR_PERCENT:
        return MasteryState(max(current, Mastery.FAMILIAR), state.high_score_on)
    return MasteryState(max(current, Mastery.ATTEMPTED), state.high_score_on)


def mastery_after_challenge_answer(level: Mastery, right: bool, wrong: bool) -> Mastery:
    """`right`: full marks; `wrong`: no marks. A partly right answer changes nothing."""
    if level == Mastery.PROFICIENT and right:
        return Mastery.MASTERED
    if level == Mastery.MASTERED and wrong:
        return Mastery.PROFICIENT
    return level


REVIEW_MIN_ANSWERS = 2


def topics_falling_after_review(points_by_topic: dict[int, list[Decimal]]) -> set[int]:
    """Topics whose review answers in one session went wrong often enough to drop a level."""
    return {
        topic_id
        for topic_id, points in points_by_topic.items()
        if len(points) >= REVIEW_MIN_ANSWERS and sum(p >= 1 for p in points) * 2 < len(points)
    }


def mastery_after_review(level: Mastery) -> Mastery:
    return Mastery(level - 1) if level > Mastery.ATTEMPTED else level


@dataclass(frozen=True)
class TopicRow:
    """One topic as a learner sees it on the course page and dashboard."""

    topic: Topic
    progress: TopicProgress | None
    open_attempt_id: int | None

    @property
    def mastery(self) -> Mastery:
        return Mastery(self.progress.mastery) if self.progress else Mastery.NOT_STARTED

    @property
    def mastery_percent(self) -> int:
        """How far along the five levels the topic is, for a progress bar."""
        return int(self.mastery) * 25

    @property
    def lesson_read(self) -> bool:
        return bool(self.progress and self.progress.lesson_read)


def topic_rows_for(learner: AbstractBaseUser | None) -> list[TopicRow]:
    """Every topic with the learner's progress: three queries, however many topics."""
    topics = list(Topic.objects.all())
    if learner is None or not learner.is_authenticated:
        return [TopicRow(topic, None, None) for topic in topics]
    progress_by_topic = {p.topic_id: p for p in TopicProgress.objects.filter(learner=learner)}
    open_attempts = dict(
        Attempt.objects.filter(learner=learner, state=AttemptState.IN_PROGRESS).values_list(
            "quiz__topic_id", "id"
        )
    )
    return [
        TopicRow(topic, progress_by_topic.get(topic.pk), open_attempts.get(topic.pk))
        for topic in topics
    ]


@dataclass(frozen=True)
class ReviewSummary:
    due_now: int
    next_due: datetime | None


def review_summary(learner: AbstractBaseUser) -> ReviewSummary:
    """How many reviews are due now and when the next falls due: one query."""
    now = timezone.now()
    published = Q(question__is_published=True)
    totals = ReviewCard.objects.filter(published, learner=learner).aggregate(
        due_now=Count("id", filter=Q(due__lte=now)),
        next_due=Min("due", filter=Q(due__gt=now)),
    )
    return ReviewSummary(totals["due_now"], totals["next_due"])


@dataclass(frozen=True)
class NextStep:
    action: str  # resume, review, take, retake, read, challenge
    title: str
    reason: str
    url: str


def next_step(rows: list[TopicRow], reviews: ReviewSummary) -> NextStep:
    """The one thing to do next, from the learner's state, in this order of priority:
    finish an open quiz; do the due reviews; take the quiz of a lesson already read; retake
    the weakest topic still below 70%; read the next unread lesson; else the course
    challenge."""
    for row in rows:
        if row.open_attempt_id:
            return NextStep(
                "resume",
                f"Finish your quiz on {row.topic.title}",
                "You stopped part of the way through.",
                reverse("learning:attempt", args=[row.open_attempt_id]),
            )
    if reviews.due_now:
        plural = "s are" if reviews.due_now != 1 else " is"
        return NextStep(
            "review",
            f"Review {reviews.due_now} question{'s' if reviews.due_now != 1 else ''}",
            f"{reviews.due_now} question{plural} due: a review now, just as you might forget, "
            "makes it stick.",
            reverse("learning:review"),
        )
    for row in rows:
        if row.lesson_read and not (row.progress and row.progress.attempt_count):
            return NextStep(
                "take",
                f"Take the quiz on {row.topic.title}",
                "You have read the lesson; now check what stayed with you.",
                reverse("learning:quiz", args=[row.topic.slug]),
            )
    weak = [row for row in rows if row.mastery == Mastery.ATTEMPTED]
    if weak:
        weakest = min(weak, key=lambda row: (row.progress.best_percent or 0, row.topic.order))
        return NextStep(
            "retake",
            f"Retake the quiz on {weakest.topic.title}",
            f"Your best there is {weakest.progress.best_percent:.0f}%; 70% makes it familiar.",
            reverse("learning:quiz", args=[weakest.topic.slug]),
        )
    for row in rows:
        if not row.lesson_read and row.mastery == Mastery.NOT_STARTED:
            return NextStep(
                "read",
                f"Read the lesson on {row.topic.title}",
                f"Topic {row.topic.order} is next.",
                reverse("learning:lesson", args=[row.topic.slug]),
            )
    return NextStep(
        "challenge",
        "Take the course challenge",
        "A mixed quiz across your topics, weighted to the weaker ones: the road to mastered.",
        reverse("learning:challenge"),
    )


HISTORY_PER_TOPIC = 10


def score_history(learner: AbstractBaseUser) -> dict[int, list[Decimal]]:
    """The last ten topic-quiz scores per topic, oldest first: one query, however long
    the learner's history."""
    latest_first = (
        Attempt.objects.filter(
            learner=learner, state__in=AttemptState.closed(), quiz__kind=QuizKind.TOPIC
        )
        .annotate(
            recency=Window(
                RowNumber(), partition_by=[F("quiz_id")], order_by=F("finished_at").desc()
            )
        )
        .filter(recency__lte=HISTORY_PER_TOPIC)
        .order_by("quiz__topic_id", "-finished_at")
        .values_list("quiz__topic_id", "percent")
    )
    history: dict[int, list[Decimal]] = {}
    for topic_id, percent in latest_first:
        history.setdefault(topic_id, []).insert(0, percent)
    return history


STREAK_LOOKBACK_DAYS = 366


def answers_by_day(learner: AbstractBaseUser, today: date) -> dict[date, int]:
    """Answers given per day over the last year (for the chart and the streak)."""
    since = timezone.now() - timedelta(days=STREAK_LOOKBACK_DAYS)
    rows = (
        Response.objects.filter(attempt__learner=learner, answered_at__gte=since)
        .annotate(day=TruncDate("answered_at"))
        .values("day")
        .annotate(answers=Count("id"))
        .values_list("day", "answers")
    )
    return {day: answers for day, answers in rows if day <= today}


def streak(active_days: set[date], today: date) -> int:
    """Consecutive active days up to today, or up to yesterday while today is still young."""
    day = today if today in active_days else today - timedelta(days=1)
    length = 0
    while day in active_days:
        length += 1
        day -= timedelta(days=1)
    return length
