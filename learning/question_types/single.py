"""Single choice: one right option among several."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from learning.formats import gift, moodle_xml
from learning.question_types.base import HUNDRED, ONE, ZERO, QuestionKey, moodle_xml_answers
from learning.question_types.picking import (
    MULTICHOICE,
    ChoiceAnswer,
    PickingType,
    is_options_block,
    is_single,
    multichoice_block,
)

if TYPE_CHECKING:
    from learning.models import Choice, Question


def has_one_full_answer(source: gift.GiftQuestion) -> bool:
    right = [choice for choice in source.choices if choice.is_correct]
    return len(right) == 1 and right[0].weight == HUNDRED


class SingleChoice(PickingType):
    value = "single"
    label = "Single choice"

    def grade(self, key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
        """One point for the one right choice, else none."""
        return ONE if answer.choice_ids == key.correct_choice_ids else ZERO

    def option_errors(self, options: int, right: int) -> list[str]:
        if options < 2:
            return ["A single-choice question needs at least two choices."]
        if right != 1:
            return [f"A single-choice question needs exactly one correct choice; it has {right}."]
        return []

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return is_options_block(source) and has_one_full_answer(source)

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(
            gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=choice.text,
                    weight=HUNDRED if choice.is_correct else ZERO,
                    feedback=choice.feedback,
                    marker="=" if choice.is_correct else "~",
                )
                for choice in choices
            ],
        )

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == MULTICHOICE and is_single(source)

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        answers = moodle_xml_answers(self.to_gift(question, choices))
        return multichoice_block(answers, single=True, shuffle=self.shuffles_choices)
