"""Multiple answers: the learner picks any number of options; each picked option adds its
credit (a right one a share of the point, a wrong one nothing or a penalty), and the sum
counts from 0 to the whole point, as Moodle grades it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from decimal import Decimal
from typing import TYPE_CHECKING

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    HUNDRED,
    ZERO,
    ChoiceKey,
    QuestionKey,
    credit_points,
    gift_from_moodle_xml,
    moodle_xml_answers,
    points,
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

_CREDIT_PLACES = Decimal("0.00001")  # Choice.credit's decimal places


def even_credits(rows: Sequence[ChoiceKey]) -> list[Decimal]:
    """Credits from the ticks alone: the right options share 100%, and each wrong one
    takes away as much as a right one gives."""
    right = sum(row.is_correct for row in rows)
    if not right:
        return [ZERO for _ in rows]
    share = (HUNDRED / right).quantize(_CREDIT_PLACES)
    return [share if row.is_correct else -share for row in rows]


def positive_total(credits: Sequence[Decimal]) -> Decimal:
    return sum((credit for credit in credits if credit > 0), ZERO)


class MultipleAnswers(PickingType):
    value = "multiple"
    label = "Multiple answers"
    rows_help = "options (tick the right ones; credit % each, right ones adding to 100)"
    picks_one = False

    def grade(self, key: QuestionKey, answer: ChoiceAnswer) -> Decimal:
        """The sum of the picked options' credits, from 0 to the whole point. Options
        with no credits at all (only ticked) grade by the ticks: (right picked - wrong
        picked) / right options."""
        if not any(row.credit for row in key.choices):
            correct = key.correct_choice_ids
            if not correct:
                return ZERO
            right_picked = len(answer.choice_ids & correct)
            wrong_picked = len(answer.choice_ids - correct)
            return max(ZERO, points(Decimal(right_picked - wrong_picked) / len(correct)))
        picked = sum((row.credit for row in key.choices if row.id in answer.choice_ids), ZERO)
        return credit_points(picked)

    def key_from_ticks(self, key: QuestionKey) -> QuestionKey:
        # Before credits counted, the ticks alone graded: the same as even credits.
        credits = even_credits(key.choices)
        rows = tuple(replace(row, credit=c) for row, c in zip(key.choices, credits, strict=True))
        return replace(key, choices=rows)

    def credits_to_store(self, rows: Sequence[ChoiceKey]) -> list[Decimal]:
        # Only ticks given (no credits, or the admin's defaults: 100% right, 0% wrong):
        # the right options share the point, and a wrong one takes away as much.
        only_ticks = all(not row.credit for row in rows) or all(
            row.credit == (HUNDRED if row.is_correct else ZERO) for row in rows
        )
        return even_credits(rows) if only_ticks else [row.credit for row in rows]

    def credits_shown(self, key: QuestionKey) -> dict[int, Decimal]:
        rows = key.choices
        credits = (
            [row.credit for row in rows] if any(r.credit for r in rows) else even_credits(rows)
        )
        return {row.id: credit for row, credit in zip(rows, credits, strict=True)}

    def part_credit(self, credit: Decimal) -> str:
        return f"{credit.normalize():f}%" if credit else ""

    def option_errors(self, options: int, right: int) -> list[str]:
        if options < 2:
            return ["A multiple-answer question needs at least two choices."]
        if right < 1:
            return ["A multiple-answer question needs at least one correct choice."]
        return []

    def credit_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        credits = self.credits_to_store(rows)
        rows = [replace(row, credit=c) for row, c in zip(rows, credits, strict=True)]
        if any(row.is_correct != (row.credit > 0) for row in rows):
            return [
                "Give each correct choice a positive credit and each wrong one 0% or a "
                "negative credit (or leave the credits as the ticks set them)."
            ]
        total = positive_total([row.credit for row in rows])
        if round(total / HUNDRED, 2) != 1:
            return [f"The correct choices' credits add up to {total.normalize():f}%, not 100%."]
        return []

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return is_options_block(source) and not has_equals_answer(source)

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        total = positive_total([choice.weight for choice in source.choices])
        if not total:
            return ["no answer is marked right (with '=' or a positive weight)"]
        if round(total / HUNDRED, 2) != 1:
            return [f"the positive weights add up to {total.normalize():f}%, not 100%"]
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
    """GIFT weights: the credits, or the ticks' even credits where no option has one."""
    if any(choice.credit for choice in choices):
        return [choice.credit for choice in choices]
    return even_credits([ChoiceKey(id=0, is_correct=choice.is_correct) for choice in choices])
