"""True or false: two options, True then False, one of them right."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from learning.formats import gift
from learning.question_types.base import HUNDRED, ZERO
from learning.question_types.single import SingleChoice

if TYPE_CHECKING:
    from learning.models import Choice, Question


class TrueFalse(SingleChoice):
    """Graded as a single choice between its two options."""

    value = "true_false"
    label = "True or false"
    # True stays before False: shuffling the two only confuses.
    shuffles_choices = False

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
        # GIFT says whether the statement is true: find the rows by their words (a teacher
        # may have written False first), else take them in order, True first.
        by_word = {choice.text.strip().casefold(): choice for choice in choices}
        in_order = iter(choices)
        true_row = by_word.get("true") or next(in_order, None)
        false_row = by_word.get("false") or next(
            (choice for choice in in_order if choice is not true_row), None
        )
        return gift.GiftAnswers(
            gift.TRUE_FALSE_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=text,
                    weight=HUNDRED if row is not None and row.is_correct else ZERO,
                    feedback=row.feedback if row is not None else "",
                )
                for text, row in (("True", true_row), ("False", false_row))
            ],
        )
