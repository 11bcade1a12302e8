"""True or false: two options, True then False, one of them right."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from learning.formats import gift, moodle_xml
from learning.question_types.base import HUNDRED, ZERO, gift_from_moodle_xml
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

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == "truefalse"

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        # As Moodle reads it: the answers are found by their text, "true" and "false" (old
        # files wrote them translated: then the first is True); a fraction of 100 is right.
        by_word: dict[str, moodle_xml.MoodleAnswer] = {}
        for position, answer in enumerate(source.answers[:2]):
            word = moodle_xml.plain(answer.text).casefold()
            by_word[word if word in ("true", "false") else ("true", "false")[position]] = answer
        return gift_from_moodle_xml(
            source,
            syntax=gift.TRUE_FALSE_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=text,
                    weight=HUNDRED if answer is not None and answer.fraction == HUNDRED else ZERO,
                    feedback=moodle_xml.as_markdown(answer.feedback) if answer else "",
                )
                for text, answer in (
                    ("True", by_word.get("true")),
                    ("False", by_word.get("false")),
                )
            ],
        )

    def moodle_xml_errors(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        if sum(answer.fraction == HUNDRED for answer in source.answers[:2]) != 1:
            return ["a true/false question needs exactly one of true and false worth 100%"]
        return super().moodle_xml_errors(source)

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        return moodle_xml.MoodleAnswerBlock(
            "truefalse",
            answers=[
                moodle_xml.MoodleAnswer(
                    text=moodle_xml.MoodleText(choice.text.lower(), moodle_xml.MOODLE_AUTO),
                    fraction=choice.weight,
                    feedback=moodle_xml.MoodleText(choice.feedback, moodle_xml.MARKDOWN),
                )
                for choice in self.to_gift(question, choices).choices
            ],
            penalty="1",
        )
