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
SHORT_ANSWER = "short_answer"
MATCHING = "matching"
CHOICE_TYPES = frozenset({SINGLE, MULTIPLE, TRUE_FALSE})

ZERO = Decimal(0)
ONE = Decimal(1)
_POINTS_PLACES = Decimal("0.0001")
_PERCENT_PLACES = Decimal("0.01")


@dataclass(frozen=True)
class ChoiceKey:
    id: int
    is_correct: bool = False
    text: str = ""
    credit: Decimal = Decimal(100)
    match_text: str = ""
    numeric_value: Decimal | None = None
    numeric_tolerance: Decimal = ZERO


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


@dataclass(frozen=True)
class TextAnswer:
    text: str


@dataclass(frozen=True)
class MatchingAnswer:
    """For each pair (by its choice id), the match the learner chose."""

    matches: tuple[tuple[int, str], ...]

    def as_dict(self) -> dict[int, str]:
        return dict(self.matches)


Answer = ChoiceAnswer | NumericAnswer | TextAnswer | MatchingAnswer


def answer_as_json(answer: Answer) -> dict[str, Any]:
    """How an answer is stored with its response."""
    if isinstance(answer, NumericAnswer):
        return {"value": str(answer.value)}
    if isinstance(answer, TextAnswer):
        return {"text": answer.text}
    if isinstance(answer, MatchingAnswer):
        return {"matches": {str(choice_id): text for choice_id, text in sorted(answer.matches)}}
    return {"choices": sorted(answer.choice_ids)}


def normalize_text(text: str) -> str:
    """Case and surrounding or repeated white space do not matter in typed answers."""
    return " ".join(text.split()).casefold()


def _credit_points(credit: Decimal) -> Decimal:
    return max(ZERO, min(ONE, credit / 100)).quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)


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
    """Full credit within the question's tolerance; else the best extra graded answer."""
    if (
        key.numeric_answer is not None
        and abs(answer.value - key.numeric_answer) <= key.numeric_tolerance
    ):
        return ONE
    credits = [
        choice.credit
        for choice in key.choices
        if choice.numeric_value is not None
        and abs(answer.value - choice.numeric_value) <= choice.numeric_tolerance
    ]
    return _credit_points(max(credits)) if credits else ZERO


def grade_short_answer(key: QuestionKey, answer: TextAnswer) -> Decimal:
    """The credit of the accepted answer typed, ignoring case and surrounding space."""
    typed = normalize_text(answer.text)
    credits = [choice.credit for choice in key.choices if normalize_text(choice.text) == typed]
    return _credit_points(max(credits)) if typed and credits else ZERO


def grade_matching(key: QuestionKey, answer: MatchingAnswer) -> Decimal:
    """The share of pairs matched right."""
    pairs = [choice for choice in key.choices if choice.match_text]
    if not pairs:
        return ZERO
    chosen = answer.as_dict()
    right = sum(
        1
        for pair in pairs
        if normalize_text(chosen.get(pair.id, "")) == normalize_text(pair.match_text)
    )
    return (Decimal(right) / len(pairs)).quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)


def grade(key: QuestionKey, answer: Answer) -> Decimal:
    """Points for one answer, from 0 to 1. An answer of the wrong shape scores 0."""
    if key.type == NUMERIC:
        return grade_numeric(key, answer) if isinstance(answer, NumericAnswer) else ZERO
    if key.type == SHORT_ANSWER:
        return grade_short_answer(key, answer) if isinstance(answer, TextAnswer) else ZERO
    if key.type == MATCHING:
        return grade_matching(key, answer) if isinstance(answer, MatchingAnswer) else ZERO
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
    question_type: str,
    correct_flags: Iterable[bool],
    numeric_answer: Decimal | None,
    choices: Iterable[ChoiceKey] = (),
) -> list[str]:
    """Why no learner could answer this question right; empty when they can.

    `correct_flags` serve the choice types; `choices` the short-answer and matching ones.
    """
    flags = list(correct_flags)
    right = sum(flags)
    rows = list(choices)
    if question_type == SHORT_ANSWER:
        if not any(row.text.strip() and row.credit >= 100 for row in rows):
            return ["A short-answer question needs at least one accepted answer worth 100%."]
        return []
    if question_type == MATCHING:
        pairs = [row for row in rows if row.text.strip() or row.match_text.strip()]
        if len(pairs) < 2:
            return ["A matching question needs at least two pairs."]
        if any(not row.text.strip() or not row.match_text.strip() for row in pairs):
            return ["Every pair of a matching question needs both an item and its match."]
        if len({normalize_text(row.text) for row in pairs}) != len(pairs):
            return ["The items of a matching question must all differ."]
        return []
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
            ChoiceKey(
                id=choice["id"],
                is_correct=choice["is_correct"],
                text=choice.get("text", ""),
                credit=Decimal(choice.get("credit", 100)),
                match_text=choice.get("match_text", ""),
                numeric_value=(
                    Decimal(choice["numeric_value"])
                    if choice.get("numeric_value") is not None
                    else None
                ),
                numeric_tolerance=Decimal(choice.get("numeric_tolerance") or 0),
            )
            for choice in snapshot.get("choices", ())
        ),
        numeric_answer=Decimal(numeric) if numeric is not None else None,
        numeric_tolerance=Decimal(snapshot.get("numeric_tolerance") or 0),
    )
