"""True or false: two options, True then False, one of them right."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TYPE_CHECKING

from learning.formats import gift
from learning.question_types.base import HUNDRED, ONE, ZERO, QuestionKey
from learning.question_types.picking import ChoiceAnswer, PickingType

if TYPE_CHECKING:
    from learning.models import Choice, Question


class TrueFalse(PickingType):
    value = "true_false"
    label = "True or false"
    # True stays before False: shuffling the two only confuses.
    shuffles_choices = False

    def grade(self, key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
        return ONE if answer.choice_ids == key.correct_choice_ids else ZERO

    def option_errors(self, options: int, right: int) -> list[str]:
        if options != 2 or right != 1:
            return [
                "A true/false question needs exactly two choices (True and False) "
                "with exactly one marked correct."
            ]
        return []

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return source.syntax == gift.TRUE_FALSE_SYNTAX

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        # GIFT writes True's row then False's; a question whose rows were broken by hand
        # (not two) is still written from what it has, never refused halfway.
        rows = [
            gift.GiftChoice(
                text=choice.text,
                weight=HUNDRED if choice.is_correct else ZERO,
                feedback=choice.feedback,
            )
            for choice in choices
        ]
        rows += [gift.GiftChoice("True", ZERO), gift.GiftChoice("False", ZERO)][len(rows) :]
        return gift.GiftAnswers(gift.TRUE_FALSE_SYNTAX, choices=rows[:2])
