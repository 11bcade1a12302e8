"""What teachers learn from the answers: item analysis and the progress report.

Item analysis follows Moodle's quiz statistics, over each learner's first finished attempt
at a topic quiz (`Attempt.sequence == 1`). The database keeps running sums per question
(`QuestionStatistics`) and pick counts per choice, added to with F() expressions in the
same transaction as each first attempt finishes, so the report costs the same at any
volume; `rebuild_item_statistics` recomputes them with aggregates over all responses:

- facility index: the mean score on the question as a share of its maximum (1 point);
- standard deviation of the question's score (sample);
- discrimination index: the correlation between the question's score and the score on the
  rest of the attempt (the attempt's points less this question's);
- how often each choice was picked.

A question is flagged, once at least `MIN_ATTEMPTS_FOR_FLAGS` first attempts exist, as too
easy (facility above 95%), too hard (below 20%) or not discriminating (index below 0.2).
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast

from learning.csv_export import csv_line
from learning.models import (
    AttemptState,
    Choice,
    ChoicePickCount,
    Classroom,
    Mastery,
    PickedChoice,
    Question,
    QuestionStatistics,
    QuizKind,
    Response,
    Topic,
    TopicProgress,
)

MIN_ATTEMPTS_FOR_FLAGS = 10
TOO_EASY = 0.95
TOO_HARD = 0.20
WEAK_DISCRIMINATION = 0.2


@dataclass(frozen=True)
class ChoiceShare:
    choice: Choice
    picks: int
    share: float  # of the question's responses

    @property
    def label(self) -> str:
        """One line for the report, formatted here rather than by template filters."""
        mark = "✓ " if self.choice.is_correct else ""
        text = self.choice.text if len(self.choice.text) <= 40 else self.choice.text[:39] + "…"
        return f"{mark}{text}: {self.picks} ({self.share:.0%})"


@dataclass
class ItemStats:
    question: Question
    responses: int = 0
    facility: float | None = None
    standard_deviation: float | None = None
    discrimination: float | None = None
    choices: list[ChoiceShare] = field(default_factory=list)

    @property
    def facility_text(self) -> str:
        return "–" if self.facility is None else f"{self.facility:.0%}"

    @property
    def deviation_text(self) -> str:
        return "–" if self.standard_deviation is None else f"{self.standard_deviation:.2f}"

    @property
    def discrimination_text(self) -> str:
        return "–" if self.discrimination is None else f"{self.discrimination:.2f}"

    @property
    def short_prompt(self) -> str:
        prompt = self.question.prompt
        return prompt if len(prompt) <= 70 else prompt[:69] + "…"

    @property
    def flags(self) -> list[str]:
        if self.responses < MIN_ATTEMPTS_FOR_FLAGS or self.facility is None:
            return []
        flags = []
        if self.facility > TOO_EASY:
            flags.append("too easy")
        if self.facility < TOO_HARD:
            flags.append("too hard")
        if self.discrimination is None or self.discrimination < WEAK_DISCRIMINATION:
            flags.append("does not discriminate")
        return flags


def first_attempt_responses() -> QuerySet[Response]:
    """Responses in learners' first finished attempt at a topic quiz (not reviews or the
    challenge, which are drawn per learner)."""
    return Response.objects.filter(
        attempt__state__in=AttemptState.closed(),
        attempt__sequence=1,
        attempt__quiz__kind=QuizKind.TOPIC,
    )


def _statistics(
    n: int, sx: float, sxx: float, sy: float, syy: float, sxy: float
) -> tuple[float, float | None, float | None]:
    facility = sx / n
    variance = (sxx - sx * sx / n) / (n - 1) if n > 1 else None
    deviation = math.sqrt(max(variance, 0.0)) if variance is not None else None
    spread = (n * sxx - sx * sx) * (n * syy - sy * sy)
    discrimination = (n * sxy - sx * sy) / math.sqrt(spread) if spread > 1e-12 else None
    return facility, deviation, discrimination


def _from_sums(stats: ItemStats, row: QuestionStatistics) -> None:
    stats.responses = row.responses
    if row.responses:
        stats.facility, stats.standard_deviation, stats.discrimination = _statistics(
            row.responses, row.sum_x, row.sum_xx, row.sum_y, row.sum_yy, row.sum_xy
        )


def item_analysis(topic: Topic | None = None) -> list[ItemStats]:
    """Statistics for every question (of a topic), from the running sums: four queries and
    the same cost with ten responses or ten million."""
    questions = Question.objects.select_related("topic", "statistics").prefetch_related("choices")
    counts = ChoicePickCount.objects.all()
    if topic is not None:
        questions = questions.filter(topic=topic)
        counts = counts.filter(question__topic=topic)
    pick_counts: dict[int, dict[int, int]] = defaultdict(dict)
    for question_id, choice_id, picks in counts.values_list("question_id", "choice_id", "picks"):
        pick_counts[question_id][choice_id] = picks

    results = []
    for question in questions.order_by("topic__order", "id"):
        stats = ItemStats(question)
        sums = getattr(question, "statistics", None)
        if sums is not None and sums.responses:
            _from_sums(stats, sums)
            if question.uses_picked_choices:
                counted = pick_counts.get(question.pk, {})
                stats.choices = [
                    ChoiceShare(choice, picked, picked / sums.responses)
                    for choice in question.choices.all()
                    for picked in [counted.get(choice.pk, 0)]
                ]
        results.append(stats)
    return results


def record_first_attempt(responses: Iterable[Response]) -> None:
    """Add one first finished attempt to the running sums, inside the finishing
    transaction: one insert and one UPDATE per table, however many questions."""
    responses = list(responses)
    total = sum((r.points for r in responses), Decimal(0))
    increments = {r.question_id: (float(r.points), float(total - r.points)) for r in responses}
    QuestionStatistics.objects.bulk_create(
        [QuestionStatistics(question_id=question_id) for question_id in increments],
        ignore_conflicts=True,
    )

    def add(term: Callable[[float, float], float]) -> Case:
        whens = [When(question_id=q, then=Value(term(x, y))) for q, (x, y) in increments.items()]
        return Case(*whens, default=Value(0.0), output_field=FloatField())

    QuestionStatistics.objects.filter(question_id__in=increments).update(
        responses=F("responses") + 1,
        sum_x=F("sum_x") + add(lambda x, y: x),
        sum_xx=F("sum_xx") + add(lambda x, y: x * x),
        sum_y=F("sum_y") + add(lambda x, y: y),
        sum_yy=F("sum_yy") + add(lambda x, y: y * y),
        sum_xy=F("sum_xy") + add(lambda x, y: x * y),
    )
    picked = list(
        PickedChoice.objects.filter(response__in=[r.pk for r in responses]).values_list(
            "question_id", "choice_id"
        )
    )
    if picked:
        ChoicePickCount.objects.bulk_create(
            [ChoicePickCount(question_id=q, choice_id=c) for q, c in picked],
            ignore_conflicts=True,
        )
        matching = Q()
        for question_id, choice_id in picked:
            matching |= Q(question_id=question_id, choice_id=choice_id)
        ChoicePickCount.objects.filter(matching).update(picks=F("picks") + 1)


@transaction.atomic
def rebuild_item_statistics() -> int:
    """Recompute every running sum from the responses themselves, with one GROUP BY per
    table. Returns how many questions have statistics."""
    responses = first_attempt_responses()
    score = Cast("points", FloatField())
    rest = Cast(F("attempt__points") - F("points"), FloatField())
    rows = responses.values("question_id").annotate(
        n=Count("id"),
        sx=Sum(score),
        sxx=Sum(score * score),
        sy=Sum(rest),
        syy=Sum(rest * rest),
        sxy=Sum(score * rest),
    )
    QuestionStatistics.objects.all().delete()
    QuestionStatistics.objects.bulk_create(
        QuestionStatistics(
            question_id=row["question_id"],
            responses=row["n"],
            sum_x=row["sx"],
            sum_xx=row["sxx"],
            sum_y=row["sy"],
            sum_yy=row["syy"],
            sum_xy=row["sxy"],
        )
        for row in rows
    )
    picks = (
        PickedChoice.objects.filter(response__in=responses.values("pk"))
        .values("question_id", "choice_id")
        .annotate(picks=Count("id"))
    )
    ChoicePickCount.objects.all().delete()
    ChoicePickCount.objects.bulk_create(
        ChoicePickCount(
            question_id=row["question_id"], choice_id=row["choice_id"], picks=row["picks"]
        )
        for row in picks
    )
    return QuestionStatistics.objects.count()


# -- the progress report ------------------------------------------------------------------

REPORT_PAGE_SIZE = 50
SORTS = {
    "learner": "username",
    "-learner": "-username",
    "activity": "last_activity",
    "-activity": "-last_activity",
}


@dataclass(frozen=True)
class ReportCell:
    mastery: Mastery
    best_percent: object
    attempts: int
    last_activity_at: datetime | None


def report_learners(
    *,
    among: QuerySet[Any],
    classroom: Classroom | None = None,
    sort: str = "learner",
    topics: Sequence[Topic] = (),
) -> QuerySet[Any]:
    """Learners (not staff) with their last activity, filtered by class and sorted.

    `among` is whom the viewer may see (`selectors.learners_taught_by`), kept a subquery.
    `sort` is one of SORTS or "topic:<slug>" / "-topic:<slug>" (by best score there).
    """
    learners = get_user_model().objects.filter(is_staff=False, is_superuser=False)
    learners = learners.filter(pk__in=among.values("pk"))
    if classroom is not None:
        learners = learners.filter(memberships__classroom=classroom)
    learners = learners.annotate(last_activity=Max("topic_progress__last_activity_at"))
    descending = sort.startswith("-")
    slug = sort.removeprefix("-").removeprefix("topic:") if "topic:" in sort else None
    topic = next((t for t in topics if t.slug == slug), None) if slug else None
    if topic is not None:
        best = TopicProgress.objects.filter(learner=OuterRef("pk"), topic=topic).values(
            "best_percent"
        )[:1]
        learners = learners.annotate(sort_score=Subquery(best))
        order = (
            F("sort_score").desc(nulls_last=True)
            if descending
            else F("sort_score").asc(nulls_first=True)
        )
        return learners.order_by(order, "username")
    field_name = SORTS.get(sort, "username")
    if "last_activity" in field_name:
        order = (
            F("last_activity").desc(nulls_last=True)
            if descending
            else F("last_activity").asc(nulls_first=True)
        )
        return learners.order_by(order, "username")
    return learners.order_by(field_name)


def report_cells(learner_ids: Iterable[int]) -> dict[tuple[int, int], ReportCell]:
    """(learner id, topic id) -> the cell, for these learners, in one query."""
    rows = TopicProgress.objects.filter(learner_id__in=list(learner_ids)).values_list(
        "learner_id", "topic_id", "mastery", "best_percent", "attempt_count", "last_activity_at"
    )
    return {
        (learner_id, topic_id): ReportCell(Mastery(mastery), best, attempts, last)
        for learner_id, topic_id, mastery, best, attempts, last in rows
    }


def report_csv_rows(
    learners: QuerySet[Any], topics: list[Topic], chunk: int = 1000
) -> Iterator[str]:
    """The report as CSV lines, produced a chunk of learners at a time, so a download of
    many thousands of learners starts at once and holds little memory."""
    header = ["learner", "last activity"]
    for topic in topics:
        header += [
            f"{topic.title}: mastery",
            f"{topic.title}: best %",
            f"{topic.title}: attempts",
            f"{topic.title}: last activity",
        ]
    yield csv_line(header)
    batch: list[Any] = []
    for learner in learners.iterator(chunk_size=chunk):
        batch.append(learner)
        if len(batch) == chunk:
            yield from map(csv_line, _csv_rows(batch, topics))
            batch = []
    if batch:
        yield from map(csv_line, _csv_rows(batch, topics))


def _csv_rows(learners: list[Any], topics: list[Topic]) -> Iterator[list[object]]:
    """One row per learner (from `report_learners`, so annotated with last_activity)."""
    cells = report_cells(learner.pk for learner in learners)
    for learner in learners:
        row: list[object] = [learner.get_username(), _iso(learner.last_activity)]
        for topic in topics:
            cell = cells.get((learner.pk, topic.pk))
            if cell is None:
                row += [Mastery.NOT_STARTED.label, "", 0, ""]
            else:
                best = "" if cell.best_percent is None else f"{cell.best_percent:f}"
                row += [cell.mastery.label, best, cell.attempts, _iso(cell.last_activity_at)]
        yield row


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds") if moment else ""
