"""Numeric: a number within a tolerance of the right value; extra graded answers may give
part credit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms

from learning.formats import gift, moodle_xml
from learning.formats.moodle_xml import PLAIN
from learning.question_types.base import (
    HUNDRED,
    ONE,
    ZERO,
    ChoiceKey,
    ImportedQuestion,
    OptionCodes,
    QuestionKey,
    QuestionType,
    choice_row,
    clean_number,
    credit_points,
    gift_from_moodle_xml,
    key_from_snapshot,
    percent,
)

if TYPE_CHECKING:
    from learning.models import Choice, Question


@dataclass(frozen=True)
class NumericAnswer:
    value: Decimal


@dataclass(frozen=True)
class NumericFeedback:
    given_value: str | None
    expected_value: str | None
    tolerance: str | None
    # The feedback of the answer the given value matched (the right value's, or an extra
    # graded answer's), and that answer's credit as "50%" when it is part of the point.
    feedback: str = ""
    part_credit: str = ""


def matched_answer(key: QuestionKey, value: Decimal) -> ChoiceKey | None:
    """The extra graded answer a value falls within, the best credit first."""
    reached = [
        row
        for row in key.choices
        if row.numeric_value is not None
        and abs(value - row.numeric_value) <= row.numeric_tolerance
    ]
    return max(reached, key=lambda row: row.credit, default=None)


def is_within(key: QuestionKey, value: Decimal) -> bool:
    return key.numeric_answer is not None and abs(value - key.numeric_answer) <= (
        key.numeric_tolerance
    )


class Numeric(QuestionType[NumericAnswer, NumericFeedback]):
    answer_class = NumericAnswer
    shows_rows = False
    value = "numeric"
    label = "Numeric"
    input_template = "learning/question_types/numeric_input.html"
    feedback_template = "learning/question_types/numeric_feedback.html"
    answers_by_typing = True
    rows_help = "extra numeric answers (value ± tolerance, credit %; no value: any other number)"
    row_fields = ("numeric_value", "numeric_tolerance", "credit", "feedback")
    question_fields = ("numeric_answer", "numeric_tolerance", "numeric_feedback")

    def answers_from_memory(self, question: Question, choices: Sequence[Choice]) -> list[str]:
        values = [question.numeric_answer] + [
            choice.numeric_value for choice in choices if choice.credit > 0
        ]
        return [f"{value.normalize():f}" for value in values if value is not None]

    def grade(self, key: QuestionKey, answer: NumericAnswer) -> Decimal:
        """Full credit within the question's tolerance; else the best extra graded answer."""
        if is_within(key, answer.value):
            return ONE
        row = matched_answer(key, answer.value)
        return credit_points(row.credit) if row is not None else ZERO

    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        if not isinstance(answer, NumericAnswer):
            return "This question needs a number as its answer."
        return None

    def answer_to_json(self, answer: NumericAnswer) -> dict[str, Any]:
        return {"value": str(answer.value)}

    def answer_from_json(self, data: Mapping[str, Any]) -> NumericAnswer:
        return NumericAnswer(Decimal(data["value"]))

    def answer_in_words(self, snapshot: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
        return clean_number(answer.get("value")) or ""

    def typed_answer(self, answer: Mapping[str, Any]) -> str:
        return clean_number(answer.get("value")) or ""

    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> NumericAnswer:
        assert key.numeric_answer is not None, "an answerable numeric question has a value"
        if right:
            return NumericAnswer(key.numeric_answer)
        # Beyond the reach of the value and of every extra graded answer.
        reaches = [key.numeric_answer + key.numeric_tolerance] + [
            row.numeric_value + row.numeric_tolerance
            for row in key.choices
            if row.numeric_value is not None
        ]
        return NumericAnswer(max(reaches) + 7)

    def question_field_errors(self, values: Mapping[str, Any]) -> dict[str, str]:
        if values.get("numeric_answer") is None:
            return {"numeric_answer": "A numeric question needs a right value."}
        return {}

    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        others = [row for row in rows if row.numeric_value is None]
        if len(others) > 1 or any(row.credit or not row.feedback.strip() for row in others):
            return [
                "A numeric question's extra rows are graded answers: give each a numeric "
                "value (and a credit), or remove it. One row without a value may hold, at "
                "0% credit, the feedback for any other number."
            ]
        return []

    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        return {
            "value": forms.DecimalField(
                label="Your answer",
                max_digits=20,
                decimal_places=6,
                error_messages={
                    "required": "Type a number to answer.",
                    "invalid": "Enter a number, such as 12 or 3.5.",
                    "max_digits": "That number is too long.",
                    "max_decimal_places": "Use at most 6 decimal places.",
                    "max_whole_digits": "That number is too large.",
                },
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
            )
        }

    def answer_from_form(
        self, cleaned_data: Mapping[str, Any], codes: OptionCodes
    ) -> NumericAnswer:
        return NumericAnswer(cleaned_data["value"])

    def form_data(self, answer: NumericAnswer, codes: OptionCodes) -> dict[str, str | list[str]]:
        return {"value": clean_number(answer.value) or ""}

    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> NumericFeedback:
        tolerance = clean_number(snapshot.get("numeric_tolerance"))
        feedback, part_credit = "", ""
        if answer.get("value") is not None:
            key = key_from_snapshot(snapshot)
            value = Decimal(str(answer["value"]))
            row = matched_answer(key, value)
            if is_within(key, value):
                feedback = snapshot.get("numeric_feedback", "")
            elif row is not None:
                feedback = row.feedback
                part_credit = percent(row.credit) if ZERO < row.credit < HUNDRED else ""
            else:
                feedback = next((r.feedback for r in key.choices if r.numeric_value is None), "")
        return NumericFeedback(
            given_value=clean_number(answer.get("value")),
            expected_value=clean_number(snapshot.get("numeric_answer")),
            tolerance=tolerance if tolerance not in (None, "0") else None,
            feedback=feedback,
            part_credit=part_credit,
        )

    def correction(self, detail: NumericFeedback) -> str:
        return f"The right answer is {detail.expected_value}."

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return source.syntax == gift.NUMERIC_SYNTAX

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        if not any(
            answer.weight >= HUNDRED and answer.value is not None
            for answer in source.numeric_answers
        ):
            return ["a numeric question needs one answer worth full credit"]
        return []

    def from_gift(self, source: gift.GiftQuestion) -> ImportedQuestion:
        graded = [answer for answer in source.numeric_answers if answer.value is not None]
        full = [answer for answer in graded if answer.weight >= HUNDRED]
        extra = [answer for answer in graded if answer.weight < HUNDRED]
        # Moodle's `~#feedback`: what any other number is told; it earns nothing.
        other = [
            replace(answer, weight=ZERO)
            for answer in source.numeric_answers
            if answer.value is None
        ]
        main = full[0] if full else None
        return ImportedQuestion(
            values={
                **self.gift_values(
                    source,
                    numeric_answer=main.value if main else None,
                    numeric_tolerance=main.tolerance if main else ZERO,
                ),
                "numeric_feedback": main.feedback if main else "",
            },
            rows=[
                choice_row(
                    credit=answer.weight,
                    numeric_value=answer.value,
                    numeric_tolerance=answer.tolerance,
                    feedback=answer.feedback,
                )
                for answer in full[1:] + extra + other[:1]
            ],
        )

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        main = gift.GiftNumericAnswer(
            question.numeric_answer or ZERO,
            question.numeric_tolerance,
            feedback=question.numeric_feedback,
        )
        return gift.GiftAnswers(
            gift.NUMERIC_SYNTAX,
            numeric_answers=[main]
            + [
                gift.GiftNumericAnswer(c.numeric_value, c.numeric_tolerance, c.credit, c.feedback)
                for c in choices
                if c.numeric_value is not None
            ]
            + [
                gift.GiftNumericAnswer(None, weight=ZERO, feedback=c.feedback)
                for c in choices
                if c.numeric_value is None
            ][:1],
        )

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == "numerical"

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        answers = []
        for answer in source.answers:
            if moodle_xml.plain(answer.text) == "*":  # any other number: its feedback
                feedback = moodle_xml.as_markdown(answer.feedback)
                answers.append(gift.GiftNumericAnswer(None, weight=ZERO, feedback=feedback))
                continue
            value = moodle_xml.parse_number(moodle_xml.plain(answer.text))
            if value is not None:
                answers.append(
                    gift.GiftNumericAnswer(
                        value,
                        answer.tolerance or ZERO,
                        answer.fraction,
                        moodle_xml.as_markdown(answer.feedback),
                    )
                )
        return gift_from_moodle_xml(source, syntax=gift.NUMERIC_SYNTAX, numeric_answers=answers)

    def moodle_xml_errors(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        texts = [moodle_xml.plain(answer.text) for answer in source.answers]
        wrong = [text for text in texts if text != "*" and moodle_xml.parse_number(text) is None]
        if wrong:
            return [f"the answer {wrong[0]!r} is not a number"]
        return super().moodle_xml_errors(source)

    def moodle_xml_notes(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        notes = []
        others = [a for a in source.answers if moodle_xml.plain(a.text) == "*"]
        if any(a.fraction for a in others):
            notes.append("its answer '*' (any other number) keeps its feedback, not its credit")
        if any(source.units):
            notes.append(f"its units ({', '.join(u for u in source.units if u)}) are not imported")
        return notes

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        return moodle_xml.MoodleAnswerBlock(
            "numerical",
            answers=[
                moodle_xml.MoodleAnswer(
                    text=moodle_xml.MoodleText(
                        "*" if answer.value is None else clean_number(answer.value) or "0", PLAIN
                    ),
                    fraction=answer.weight,
                    feedback=moodle_xml.MoodleText(answer.feedback, moodle_xml.MARKDOWN),
                    tolerance=answer.tolerance,
                )
                for answer in self.to_gift(question, choices).numeric_answers
            ],
            penalty="0.1",
        )
