"""What teachers learn from the answers: item analysis and the progress report.

Item analysis follows Moodle's quiz statistics, over each learner's first finished attempt
at a topic quiz (`Attempt.sequence == 1`), per question *version*: what those learners
were asked, so after a teacher re-keys or rewords a question its old answers are not mixed
with the new. The database keeps running sums per version (`QuestionStatistics`) and pick
counts per choice, added to with F() expressions in the same transaction as each first
attempt finishes, so the report costs the same at any volume; `rebuild_item_statistics`
recomputes them with aggregates over all responses:

- facility index: the mean score on the question as a share of its maximum (1 point);
- standard deviation of the question's score (sample);
- discrimination index: the correlation between the question's score and the score on the
  rest of the attempt (the attempt's points less this question's);
- how often each choice was picked (its text as that version had it), and for typed
  answers (numeric, short answer) the most common answers that were not fully right.

A question is flagged, once at least `MIN_ATTEMPTS_FOR_FLAGS` first attempts exist, as too
easy (facility above 95%), too hard (below 20%) or not discriminating (index below 0.2).
"""

import math
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, TypedDict

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

from learning import question_types, regrading
from learning.csv_export import csv_line, csv_lines_in_chunks, local_time
from learning.models import (
    AttemptState,
    ChoicePickCount,
    Classroom,
    Mastery,
    PickedChoice,
    Question,
    QuestionStatistics,
    QuestionVersion,
    QuizKind,
    Response,
    Topic,
    TopicProgress,
)
from learning.question_types.base import ChoiceKey, key_from_snapshot
from learning.versions import snapshot_digest, snapshot_question

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

MIN_ATTEMPTS_FOR_FLAGS = 10
TOO_EASY = 0.95
TOO_HARD = 0.20
WEAK_DISCRIMINATION = 0.2


WRONG_ANSWERS_SHOWN = 5


@dataclass(frozen=True)
class ChoiceShare:
    choice: ChoiceKey  # the option as learners saw it in this version
    picks: int
    share: float  # of the version's responses

    @property
    def label(self) -> str:
        """One line for the report, formatted here rather than by template filters."""
        mark = "✓ " if self.choice.is_correct else ""
        text = self.choice.text if len(self.choice.text) <= 40 else self.choice.text[:39] + "…"
        return f"{mark}{text}: {self.picks} ({self.share:.0%})"


@dataclass(frozen=True)
class TypedAnswerCount:
    """An answer learners typed (as grading reads it) that was not fully right."""

    answer: str
    count: int
    share: float  # of the version's responses

    @property
    def label(self) -> str:
        text = self.answer if len(self.answer) <= 40 else self.answer[:39] + "…"
        return f"{text}: {self.count} ({self.share:.0%})"


class GradedSnapshot(TypedDict):
    # After a regrade, the snapshot whose answer key graded the version's answers.
    graded_snapshot: dict[str, Any] | None


@dataclass
class ItemStats:
    """The statistics of one version of a question: what its learners were asked."""

    question: Question
    snapshot: dict[str, Any]
    version_id: int | None = None
    # After a regrade, the snapshot whose answer key graded this version's answers.
    graded_snapshot: dict[str, Any] | None = None
    version_number: int | None = None  # 1 for the question's first version
    is_current: bool = True
    responses: int = 0
    facility: float | None = None
    standard_deviation: float | None = None
    discrimination: float | None = None
    choices: list[ChoiceShare] = field(default_factory=list)
    wrong_answers: list[TypedAnswerCount] = field(default_factory=list)

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
    def prompt(self) -> str:
        return str(self.snapshot.get("prompt", self.question.prompt))

    @property
    def short_prompt(self) -> str:
        prompt = self.prompt
        return prompt if len(prompt) <= 70 else prompt[:69] + "…"

    @property
    def type_label(self) -> str:
        return question_types.label(str(self.snapshot.get("type", self.question.type)))

    @property
    def version_text(self) -> str:
        if self.version_number is None:
            return "current"
        return f"v{self.version_number}" + (" (current)" if self.is_current else " (earlier)")

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


# The report's sortable columns: ?o=<name> ascending, ?o=-<name> descending. Questions
# without a value (no responses yet) come last either way.
ITEM_SORTS: dict[str, Callable[[ItemStats], Any]] = {
    "question": lambda item: (item.question.topic.order, item.question.pk),
    "responses": lambda item: item.responses,
    "facility": lambda item: item.facility,
    "sd": lambda item: item.standard_deviation,
    "discrimination": lambda item: item.discrimination,
}


def sort_items(items: list[ItemStats], order: str) -> list[ItemStats]:
    """The items sorted by one of ITEM_SORTS; an unknown name leaves them as they are (by topic
    and question, each question's versions oldest first)."""
    key = ITEM_SORTS.get(order.removeprefix("-"))
    if key is None:
        return items
    known = [item for item in items if key(item) is not None]
    unknown = [item for item in items if key(item) is None]
    known.sort(key=key, reverse=order.startswith("-"))
    return known + unknown


def item_analysis(topic: Topic | None = None) -> list[ItemStats]:
    """Statistics for every version learners answered of every question (of a topic), from
    the running sums, in six queries at any volume: the questions, their choices (to tell
    the current version), their versions, the running sums with the versions' snapshots,
    the pick counts, and the typed answers that were not fully right."""
    questions = Question.objects.select_related("topic").prefetch_related("choices")
    if topic is not None:
        questions = questions.filter(topic=topic)
    question_list = list(questions.order_by("topic__order", "id"))
    question_ids = [question.pk for question in question_list]

    numbers: dict[int, int] = {}
    digests: dict[int, str] = {}
    per_question: dict[int, int] = defaultdict(int)
    versions = QuestionVersion.objects.filter(question_id__in=question_ids).order_by(
        "created_at", "id"
    )
    for version_id, question_id, digest in versions.values_list("id", "question_id", "digest"):
        per_question[question_id] += 1
        numbers[version_id] = per_question[question_id]
        digests[version_id] = digest

    sums: dict[int, list[WithAnnotations[QuestionStatistics, GradedSnapshot]]] = defaultdict(list)
    regraded = Response.objects.filter(
        version_id=OuterRef("version_id"), graded_version__isnull=False
    )
    statistics = (
        QuestionStatistics.objects.filter(question_id__in=question_ids)
        .select_related("version")
        .annotate(graded_snapshot=Subquery(regraded.values("graded_version__snapshot")[:1]))
    )
    for statistic in statistics:
        sums[statistic.question_id].append(statistic)
    pick_counts: dict[int, dict[int, int]] = defaultdict(dict)
    counts = ChoicePickCount.objects.filter(question_id__in=question_ids)
    for version_id, choice_id, picks in counts.values_list("version_id", "choice_id", "picks"):
        pick_counts[version_id][choice_id] = picks
    typed = _typed_wrong_answers(question_ids)

    results = []
    for question in question_list:
        current = snapshot_question(question)
        current_digest = snapshot_digest(current)
        rows = sorted(sums.get(question.pk, []), key=lambda row: numbers.get(row.pk, 0))
        for row in rows:
            stats = ItemStats(
                question,
                snapshot=row.version.snapshot,
                version_id=row.pk,
                graded_snapshot=row.graded_snapshot,
                version_number=numbers.get(row.pk),
                is_current=digests.get(row.pk) == current_digest,
            )
            _from_sums(stats, row)
            if row.responses:
                _add_answers(stats, pick_counts.get(row.pk, {}), typed.get(row.pk, Counter()))
            results.append(stats)
        if not any(digests.get(row.pk) == current_digest for row in rows):
            # The question as it stands has no responses yet: say so in its own row.
            current_id = next((v for v, d in digests.items() if d == current_digest), None)
            results.append(
                ItemStats(
                    question,
                    snapshot=current,
                    version_id=current_id,
                    version_number=numbers.get(current_id) if current_id else None,
                )
            )
    return results


def _add_answers(stats: ItemStats, picks: dict[int, int], typed: Counter[str]) -> None:
    question_type = question_types.get(str(stats.snapshot.get("type", stats.question.type)))
    if question_type.answers_by_picking:
        key = key_from_snapshot(stats.graded_snapshot or stats.snapshot)
        stats.choices = [
            ChoiceShare(choice, picked, picked / stats.responses)
            for choice in regrading.key_as_asked(stats.snapshot, key).choices
            for picked in [picks.get(choice.id, 0)]
        ]
    stats.wrong_answers = [
        TypedAnswerCount(answer, count, count / stats.responses)
        for answer, count in typed.most_common(WRONG_ANSWERS_SHOWN)
    ]


def _typed_wrong_answers(question_ids: list[int]) -> dict[int, Counter[str]]:
    """Per version, how often each typed answer that was not fully right was given (in
    first attempts), counted as grading reads it: one GROUP BY over the answers."""
    typing = [t.value for t in question_types.registered() if t.answers_by_typing]
    rows = (
        first_attempt_responses()
        .filter(question_id__in=question_ids, version__snapshot__type__in=typing, points__lt=1)
        .values("version_id", "version__snapshot__type", "answer")
        .annotate(given=Count("id"))
        .order_by()
    )
    counts: dict[int, Counter[str]] = defaultdict(Counter)
    for row in rows:
        question_type = question_types.get(row["version__snapshot__type"])
        if question_type.answers_by_typing:
            typed = question_type.typed_answer(row["answer"])
            if typed:
                counts[row["version_id"]][typed] += row["given"]
    return counts


CSV_HEADER = [
    "topic",
    "question",
    "version",
    "type",
    "prompt",
    "responses",
    "facility %",
    "SD",
    "discrimination",
    "flags",
    "choices picked",
    "common answers not fully right",
]


def item_csv_rows(items: Iterable[ItemStats]) -> Iterator[str]:
    """The item analysis as CSV lines, one per question version."""
    yield csv_line(CSV_HEADER)
    for item in items:
        yield csv_line(
            [
                item.question.topic.title,
                item.question.key,
                item.version_text,
                item.type_label,
                item.prompt,
                item.responses,
                round(item.facility * 100, 1) if item.facility is not None else "",
                round(item.standard_deviation, 3) if item.standard_deviation is not None else "",
                round(item.discrimination, 3) if item.discrimination is not None else "",
                "; ".join(item.flags),
                "; ".join(
                    f"{'✓ ' if s.choice.is_correct else ''}{s.choice.text}: {s.picks}"
                    for s in item.choices
                ),
                "; ".join(f"{w.answer}: {w.count}" for w in item.wrong_answers),
            ]
        )


def record_first_attempt(
    responses: Iterable[Response], picked: Iterable[tuple[int, int, int]] | None = None
) -> None:
    """Add one first finished attempt to the running sums of the versions it answered,
    inside the finishing transaction: one insert and one UPDATE per table, however many
    questions. `picked`: its picks as (question, version, choice), when read already."""
    responses = list(responses)
    total = sum((r.points for r in responses), Decimal(0))
    increments = {r.version_id: (float(r.points), float(total - r.points)) for r in responses}
    QuestionStatistics.objects.bulk_create(
        [
            QuestionStatistics(version_id=r.version_id, question_id=r.question_id)
            for r in responses
        ],
        ignore_conflicts=True,
    )

    def add(term: Callable[[float, float], float]) -> Case:
        whens = [When(version_id=v, then=Value(term(x, y))) for v, (x, y) in increments.items()]
        return Case(*whens, default=Value(0.0), output_field=FloatField())

    QuestionStatistics.objects.filter(version_id__in=increments).update(
        responses=F("responses") + 1,
        sum_x=F("sum_x") + add(lambda x, y: x),
        sum_xx=F("sum_xx") + add(lambda x, y: x * x),
        sum_y=F("sum_y") + add(lambda x, y: y),
        sum_yy=F("sum_yy") + add(lambda x, y: y * y),
        sum_xy=F("sum_xy") + add(lambda x, y: x * y),
    )
    if picked is None:
        picked = PickedChoice.objects.filter(response__in=[r.pk for r in responses]).values_list(
            "question_id", "response__version_id", "choice_id"
        )
    picked = list(picked)
    if picked:
        ChoicePickCount.objects.bulk_create(
            [ChoicePickCount(question_id=q, version_id=v, choice_id=c) for q, v, c in picked],
            ignore_conflicts=True,
        )
        matching = Q()
        for _, version_id, choice_id in picked:
            matching |= Q(version_id=version_id, choice_id=choice_id)
        ChoicePickCount.objects.filter(matching).update(picks=F("picks") + 1)


def _statistics_rows(responses: QuerySet[Response]) -> list[QuestionStatistics]:
    """The running sums of each question of these responses, in one GROUP BY."""
    score = Cast("points", FloatField())
    rest = Cast(F("attempt__points") - F("points"), FloatField())
    rows = responses.values("version_id", "question_id").annotate(
        n=Count("id"),
        sx=Sum(score),
        sxx=Sum(score * score),
        sy=Sum(rest),
        syy=Sum(rest * rest),
        sxy=Sum(score * rest),
    )
    return [
        QuestionStatistics(
            version_id=row["version_id"],
            question_id=row["question_id"],
            responses=row["n"],
            sum_x=row["sx"],
            sum_xx=row["sxx"],
            sum_y=row["sy"],
            sum_yy=row["syy"],
            sum_xy=row["sxy"],
        )
        for row in rows
    ]


@transaction.atomic
def rebuild_item_statistics() -> int:
    """Recompute every running sum from the responses themselves, with one GROUP BY per
    table. Returns how many question versions have statistics."""
    responses = first_attempt_responses()
    rows = _statistics_rows(responses)
    QuestionStatistics.objects.all().delete()
    QuestionStatistics.objects.bulk_create(rows)
    picks = (
        PickedChoice.objects.filter(response__in=responses.values("pk"))
        .values("question_id", "response__version_id", "choice_id")
        .annotate(picks=Count("id"))
        .order_by()
    )
    ChoicePickCount.objects.all().delete()
    ChoicePickCount.objects.bulk_create(
        ChoicePickCount(
            question_id=row["question_id"],
            version_id=row["response__version_id"],
            choice_id=row["choice_id"],
            picks=row["picks"],
        )
        for row in picks
    )
    return QuestionStatistics.objects.count()


def rebuild_question_statistics(*, attempt_ids: QuerySet[Any] | list[int]) -> None:
    """Recompute the running sums of every question in these attempts (after their points
    changed, e.g. by a regrade): one GROUP BY, one delete and one insert, however many.
    Pick counts do not change with points, so they are left as they are."""
    question_ids = Response.objects.filter(attempt_id__in=attempt_ids).values("question_id")
    rows = _statistics_rows(first_attempt_responses().filter(question_id__in=question_ids))
    QuestionStatistics.objects.filter(question_id__in=question_ids).delete()
    QuestionStatistics.objects.bulk_create(rows)


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
    header = ["learner", "name", "last activity"]
    for topic in topics:
        header += [
            f"{topic.title}: mastery",
            f"{topic.title}: best %",
            f"{topic.title}: attempts",
            f"{topic.title}: last activity",
        ]
    return csv_lines_in_chunks(
        header,
        learners.iterator(chunk_size=chunk),
        lambda batch: _csv_rows(batch, topics),
        chunk=chunk,
    )


def _csv_rows(learners: list[Any], topics: list[Topic]) -> Iterator[list[object]]:
    """One row per learner (from `report_learners`, so annotated with last_activity)."""
    cells = report_cells(learner.pk for learner in learners)
    for learner in learners:
        row: list[object] = [
            learner.get_username(),
            learner.get_full_name(),
            local_time(learner.last_activity),
        ]
        for topic in topics:
            cell = cells.get((learner.pk, topic.pk))
            if cell is None:
                row += [Mastery.NOT_STARTED.label, "", 0, ""]
            else:
                best = "" if cell.best_percent is None else f"{cell.best_percent:f}"
                row += [cell.mastery.label, best, cell.attempts, local_time(cell.last_activity_at)]
        yield row
