"""Multiple answers: several options may be right; each right pick earns a share."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    HUNDRED,
    ZERO,
    QuestionKey,
    gift_from_moodle_xml,
    moodle_xml_answers,
    points,
)
from learning.question_types.picking import (
    MULTICHOICE,
    ChoiceAnswer,
    PickingType,
    is_options_block,
    is_single,
    multichoice_block,
)
from learning.question_types.single import has_one_full_answer

if TYPE_CHECKING:
    from learning.models import Choice, Question


class MultipleAnswers(PickingType):
    value = "multiple"
    label = "Multiple answers"
    picks_one = False

    def grade(self, key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
        """(right picked - wrong picked) / number of right choices, never below zero."""
        correct = key.correct_choice_ids
        if not correct:
            return ZERO
        right_picked = len(answer.choice_ids & correct)
        wrong_picked = len(answer.choice_ids - correct)
        return max(ZERO, points(Decimal(right_picked - wrong_picked) / Decimal(len(correct))))

    def option_errors(self, options: int, right: int) -> list[str]:
        if options < 2:
            return ["A multiple-answer question needs at least two choices."]
        if right < 1:
            return ["A multiple-answer question needs at least one correct choice."]
        return []

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return is_options_block(source) and not has_one_full_answer(source)

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        if not any(choice.is_correct for choice in source.choices):
            return ["no answer is marked right (with '=' or a positive weight)"]
        return []

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(
            gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=choice.text,
                    weight=weight,
                    feedback=choice.feedback,
                    marker="~",
                    write_weight=True,
                )
                for choice, weight in zip(choices, _weights(choices), strict=True)
            ],
        )

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == MULTICHOICE and not is_single(source)

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        # Several answers may be picked: every option is written with its weight, no '='.
        read = super().moodle_xml_as_gift(source)
        return gift_from_moodle_xml(
            source,
            syntax=read.syntax,
            choices=[replace(c, marker="~", write_weight=True) for c in read.choices],
        )

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        answers = moodle_xml_answers(self.to_gift(question, choices))
        return multichoice_block(answers, single=False, shuffle=self.shuffles_choices)


def _weights(choices: Sequence[Choice]) -> list[Decimal]:
    """GIFT weights: the imported ones when they agree with the ticks, else Moodle's usual
    split (right ones share 100%, wrong ones -100%)."""
    right = [c for c in choices if c.is_correct]
    agrees = all((c.credit > 0) == c.is_correct for c in choices)
    if agrees and abs(sum(c.credit for c in right) - HUNDRED) < Decimal("0.001"):
        return [c.credit for c in choices]
    share = (HUNDRED / max(len(right), 1)).quantize(Decimal("0.00001"))
    return [share if c.is_correct else Decimal(-100) for c in choices]
