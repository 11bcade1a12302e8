"""Grading, as pure functions: no database, no request.

A question is graded from its answer key (`QuestionKey`), which views and services build from
the snapshot stored with each response, so a past answer is always graded against the
question as it was asked.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

SINGLE = "single"
MULTIPLE = "multiple"
TRUE_FALSE = "true_false"
NUMERIC = "numeric"
CHOICE_TYPES = frozenset({SINGLE, MULTIPLE, TRUE_FALSE})

ZERO = Decimal(0)
ONE = Decimal(1)
_POINTS_PLACES = Decimal("0.0001")
_PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ChoiceKey:
    id: int
    is_correct: bool


@dataclass(frozen=True)
class QuestionKey:
    type: str
    choices: tuple[ChoiceKey, ...] = ()
    numeric_answer: Decimal | None = None
    numeric_tolerance: Decimal = ZERO

    @property
    def correct_choice_ids(self) -> frozenset[int]:
        return frozenset(choice.id for choice in self.choices if choice.is_correct)


@dataclass(frozen=True)
class ChoiceAnswer:
    choice_ids: frozenset[int]


@dataclass(frozen=True)
class NumericAnswer:
    value: Decimal


Answer = ChoiceAnswer | NumericAnswer


def grade_single_choice(key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
    """Single choice and true/false: one point for the one right choice, else none."""
    return ONE if answer.choice_ids == key.correct_choice_ids else ZERO


def grade_multiple_answers(key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
    """(right picked - wrong picked) / number of right choices, never below zero."""
    correct = key.correct_choice_ids
    if not correct:
        return ZERO
    right_picked = len(answer.choice_ids & correct)
    wrong_picked = len(answer.choice_ids - correct)
    points = Decimal(right_picked - wrong_picked) / Decimal(len(correct))
    return max(ZERO, points).quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)


def grade_numeric(key: QuestionKey, answer: NumericAnswer) -> Decimal:
    if key.numeric_answer is None:
        return ZERO
    return ONE if abs(answer.value - key.numeric_answer) <= key.numeric_tolerance else ZERO


def grade(key: QuestionKey, answer: Answer) -> Decimal:
    """Points for one answer, from 0 to 1. An answer of the wrong shape scores 0."""
    if key.type == NUMERIC:
        return grade_numeric(key, answer) if isinstance(answer, NumericAnswer) else ZERO
    if not isinstance(answer, ChoiceAnswer):
        return ZERO
    if key.type == MULTIPLE:
        return grade_multiple_answers(key, answer)
    return grade_single_choice(key, answer)


def attempt_percent(points: Iterable[Decimal], question_total: int) -> Decimal:
    """An attempt's score: its points over its questions, as a percentage with 2 places."""
    if question_total <= 0:
        return ZERO.quantize(_PERCENT_PLACES)
    total = sum(points, ZERO)
    return (total * 100 / question_total).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)


def has_passed(percent: Decimal, pass_mark: int) -> bool:
    return percent >= pass_mark


def answerability_errors(
    question_type: str, correct_flags: Iterable[bool], numeric_answer: Decimal | None
) -> list[str]:
    """Why no learner could answer this question right; empty when they can."""
    flags = list(correct_flags)
    right = sum(flags)
    if question_type == NUMERIC:
        return [] if numeric_answer is not None else ["A numeric question needs a right value."]
    if question_type == TRUE_FALSE:
        if len(flags) != 2 or right != 1:
            return [
                "A true/false question needs exactly two choices (True and False) "
                "with exactly one marked correct."
            ]
        return []
    if question_type == SINGLE:
        if len(flags) < 2:
            return ["A single-choice question needs at least two choices."]
        if right != 1:
            return [f"A single-choice question needs exactly one correct choice; it has {right}."]
        return []
    if question_type == MULTIPLE:
        if len(flags) < 2:
            return ["A multiple-answer question needs at least two choices."]
        if right < 1:
            return ["A multiple-answer question needs at least one correct choice."]
        return []
    return [f"Unknown question type {question_type!r}."]


def key_from_snapshot(snapshot: Mapping[str, Any]) -> QuestionKey:
    """The answer key stored in a response's snapshot of its question."""
    numeric = snapshot.get("numeric_answer")
    return QuestionKey(
        type=snapshot["type"],
        choices=tuple(
            ChoiceKey(id=choice["id"], is_correct=choice["is_correct"])
            for choice in snapshot.get("choices", ())
        ),
        numeric_answer=Decimal(numeric) if numeric is not None else None,
        numeric_tolerance=Decimal(snapshot.get("numeric_tolerance") or 0),
    )
