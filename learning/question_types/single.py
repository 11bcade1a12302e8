"""Single choice: the learner picks one option. A right (ticked) option earns the point;
a wrong one earns its credit, 0% unless the author gives it part of the point (Moodle's
`~%50%`). Several options may be right."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    HUNDRED,
    ONE,
    ZERO,
    ChoiceKey,
    ImportedQuestion,
    QuestionKey,
    choice_row,
    credit_points,
    moodle_xml_answers,
)
from learning.question_types.picking import (
    MULTICHOICE,
    ChoiceAnswer,
    PickingType,
    has_equals_answer,
    is_options_block,
    is_single,
    multichoice_block,
)

if TYPE_CHECKING:
    from learning.models import Choice, Question


class SingleChoice(PickingType):
    value = "single"
    label = "Single choice"
    rows_help = "options (tick the right ones; a wrong one may earn a credit %)"

    def grade(self, key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
        """The point for a right option; a wrong one's credit (never below zero)."""
        if len(answer.choice_ids) != 1:
            return ZERO
        (picked,) = answer.choice_ids
        for row in key.choices:
            if row.id == picked:
                return ONE if row.is_correct else credit_points(row.credit)
        return ZERO

    def key_from_ticks(self, key: QuestionKey) -> QuestionKey:
        # Before credits counted here, a wrong option earned nothing whatever its credit.
        return replace(
            key,
            choices=tuple(
                replace(row, credit=HUNDRED if row.is_correct else ZERO) for row in key.choices
            ),
        )

    def credits_to_store(self, rows: Sequence[ChoiceKey]) -> list[Decimal]:
        return [HUNDRED if row.is_correct else row.credit for row in rows]

    def credits_shown(self, key: QuestionKey) -> dict[int, Decimal]:
        return {row.id: HUNDRED if row.is_correct else row.credit for row in key.choices}

    def option_errors(self, options: int, right: int) -> list[str]:
        if options < 2:
            return ["A single-choice question needs at least two choices."]
        if right < 1:
            return ["A single-choice question needs at least one correct choice."]
        return []

    def credit_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        if any(not row.is_correct and row.credit >= HUNDRED for row in rows):
            return [
                "A choice worth 100% is a correct choice: tick it as correct, or give it "
                "less credit (a wrong choice may earn part of the point, such as 50%)."
            ]
        return []

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return is_options_block(source) and has_equals_answer(source)

    def from_gift(self, source: gift.GiftQuestion) -> ImportedQuestion:
        return ImportedQuestion(
            values=self.gift_values(source, numeric_answer=None),
            rows=[
                choice_row(
                    text=choice.text,
                    is_correct=choice.weight >= HUNDRED,
                    credit=min(choice.weight, HUNDRED),
                    feedback=choice.feedback,
                )
                for choice in source.choices
            ],
        )

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(gift.CHOICES_SYNTAX, choices=[_option(c) for c in choices])

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == MULTICHOICE and is_single(source)

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        answers = moodle_xml_answers(self.to_gift(question, choices))
        return multichoice_block(answers, single=True, shuffle=self.shuffles_choices)


def _option(choice: Choice) -> gift.GiftChoice:
    """`=right`, `~wrong`, or `~%50%` for a wrong option that earns part of the point."""
    if choice.is_correct:
        return gift.GiftChoice(choice.text, HUNDRED, choice.feedback, marker="=")
    return gift.GiftChoice(
        choice.text,
        choice.credit,
        choice.feedback,
        marker="~",
        write_weight=choice.credit != ZERO,
    )
