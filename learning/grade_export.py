"""The grade export: every finished attempt of the learners a teacher may see, one CSV row
each, to open in a spreadsheet or paste into a markbook."""

from collections import defaultdict
from collections.abc import Iterator
from datetime import date
from typing import Any

from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber

from learning.csv_export import class_file_name, csv_lines_in_chunks, local_time
from learning.models import Attempt, AttemptState, Classroom, Membership

HEADER = [
    "learner",
    "name",
    "class",
    "quiz",
    "attempt",
    "started",
    "finished",
    "score %",
]


def finished_attempts(*, among: QuerySet[Any], classroom: Classroom | None) -> QuerySet[Attempt]:
    """Finished (or timed-out) attempts of these learners (of this class), by learner, quiz
    and time, each numbered among the learner's attempts at its quiz (1 = their first)."""
    attempts = Attempt.objects.filter(
        state__in=AttemptState.closed(), learner__in=among.values("pk")
    )
    if classroom is not None:
        attempts = attempts.filter(learner__memberships__classroom=classroom)
    return (
        attempts.select_related("learner", "quiz__topic")
        .annotate(
            number=Window(
                RowNumber(),
                partition_by=[F("learner_id"), F("quiz_id")],
                order_by=[F("started_at").asc(), F("id").asc()],
            )
        )
        .order_by("learner__username", "quiz__kind", "quiz__topic__order", "started_at", "id")
    )


def grade_file_name(classroom: Classroom | None, today: date) -> str:
    """grades-year-9-biology-2026-11-27.csv; grades-all-classes-... without a class."""
    return class_file_name("grades", classroom.name if classroom else None, today)


def grade_csv_rows(
    attempts: QuerySet[Attempt], *, classes: QuerySet[Classroom], chunk: int = 1000
) -> Iterator[str]:
    """The CSV, a chunk of attempts at a time. `classes` are the classes named in the class
    column (the teacher's, or the one chosen): one query per chunk finds them."""
    return csv_lines_in_chunks(
        HEADER,
        attempts.iterator(chunk_size=chunk),
        lambda batch: _rows(batch, classes),
        chunk=chunk,
    )


def _rows(attempts: list[Attempt], classes: QuerySet[Classroom]) -> Iterator[list[object]]:
    class_names: dict[int, list[str]] = defaultdict(list)
    memberships = Membership.objects.filter(
        learner_id__in={attempt.learner_id for attempt in attempts}, classroom__in=classes
    ).order_by("classroom__name")
    for learner_id, name in memberships.values_list("learner_id", "classroom__name"):
        class_names[learner_id].append(name)
    for attempt in attempts:
        learner = attempt.learner
        yield [
            learner.get_username(),
            learner.get_full_name(),
            "; ".join(class_names.get(learner.pk, [])),
            attempt.quiz.title,
            attempt.number,  # type: ignore[attr-defined]
            local_time(attempt.started_at),
            local_time(attempt.finished_at),
            attempt.percent if attempt.percent is not None else "",
        ]
