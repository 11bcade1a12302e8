"""Short answer: a typed word or phrase, compared with the accepted answers in the form
`comparable_answer` gives both (`normalize_text`'s for versions made before it), each
worth a credit."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    FORGIVING_TYPING,
    HUNDRED,
    ZERO,
    ChoiceKey,
    OptionCodes,
    QuestionKey,
    QuestionType,
    comparable_answer,
    credit_points,
    gift_from_moodle_xml,
    key_from_snapshot,
    normalize_text,
    percent,
)

if TYPE_CHECKING:
    from learning.models import Choice, Question


@dataclass(frozen=True)
class TextAnswer:
    text: str


@dataclass(frozen=True)
class TypedFeedback:
    given_text: str | None
    accepted_answers: tuple[tuple[str, str], ...]  # (text, credit shown as "50%")
    # The feedback of the answer typed, when it is one of the question's answers.
    feedback: str = ""

    @property
    def full_answers(self) -> list[str]:
        return [text for text, credit in self.accepted_answers if credit == "100%"]


class ShortAnswer(QuestionType[TextAnswer, TypedFeedback]):
    answer_class = TextAnswer
    shows_rows = False
    answers_by_typing = True
    value = "short_answer"
    label = "Short answer"
    input_template = "learning/question_types/short_answer_input.html"
    feedback_template = "learning/question_types/short_answer_feedback.html"
    rows_help = "short answers (text + credit %)"
    row_fields = ("text", "credit", "feedback")

    def ticks_to_store(self, rows: Sequence[ChoiceKey]) -> list[bool]:
        # As a file's answer is: any answer earning credit.
        return [row.credit > 0 for row in rows]

    def grade(self, key: QuestionKey, answer: TextAnswer) -> Decimal:
        """The credit of the accepted answer typed, ignoring case and surrounding space."""
        row = matched_answer(key, answer.text)
        return credit_points(row.credit) if row is not None else ZERO

    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        if not isinstance(answer, TextAnswer) or not answer.text.strip():
            return "Type an answer."
        return None

    def answer_to_json(self, answer: TextAnswer) -> dict[str, Any]:
        return {"text": answer.text}

    def answer_from_json(self, data: Mapping[str, Any]) -> TextAnswer:
        return TextAnswer(data["text"])

    def answer_in_words(self, snapshot: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
        return str(answer.get("text", ""))

    def typed_answer(self, answer: Mapping[str, Any]) -> str:
        return normalize_text(str(answer.get("text", "")))

    def answers_from_memory(self, question: Question, choices: Sequence[Choice]) -> list[str]:
        return [
            comparable_answer(choice.text)
            for choice in choices
            if choice.credit > 0 and comparable_answer(choice.text)
        ]

    def snapshot_marks(self) -> dict[str, str]:
        return {"typing": FORGIVING_TYPING}

    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> TextAnswer:
        if right:
            return TextAnswer(max(key.choices, key=lambda choice: choice.credit).text)
        accepted = {comparable_answer(choice.text) for choice in key.choices}
        guess = "not sure"
        while comparable_answer(guess) in accepted:
            guess += " at all"
        return TextAnswer(guess)

    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        if not any(row.text.strip() and row.credit >= HUNDRED for row in rows):
            return ["A short-answer question needs at least one accepted answer worth 100%."]
        errors = []
        written = [row for row in rows if row.text.strip()]
        for row in written:
            if not comparable_answer(row.text):
                errors.append(f"The accepted answer {row.text!r} is only punctuation.")
        credits: dict[str, ChoiceKey] = {}
        for row in written:
            first = credits.setdefault(comparable_answer(row.text), row)
            if first.credit != row.credit:
                errors.append(
                    f"{first.text!r} and {row.text!r} are compared as the same answer "
                    f"(case, dashes, hyphens and apostrophes aside) but earn different credit."
                )
        return errors

    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        return {
            "text": forms.CharField(
                label="Your answer",
                max_length=500,
                error_messages={
                    "required": "Type an answer.",
                    "max_length": "Keep the answer under 500 characters.",
                },
                widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
            )
        }

    def answer_from_form(self, cleaned_data: Mapping[str, Any], codes: OptionCodes) -> TextAnswer:
        return TextAnswer(cleaned_data["text"])

    def form_data(self, answer: TextAnswer, codes: OptionCodes) -> dict[str, str | list[str]]:
        return {"text": answer.text}

    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> TypedFeedback:
        # Accepted answers are listed in the author's order, each way of writing one answer
        # once (tonic-clonic and tonic clonic are one answer).
        key = key_from_snapshot(snapshot)
        given = answer.get("text")
        row = matched_answer(key, given) if given else None
        compared = comparable_answer if key.forgiving_typing else normalize_text
        accepted: dict[str, tuple[str, str]] = {}
        for choice in snapshot.get("choices", []):
            credit = Decimal(str(choice.get("credit", 100)))
            if credit > 0:
                accepted.setdefault(compared(choice["text"]), (choice["text"], percent(credit)))
        return TypedFeedback(
            given_text=given,
            accepted_answers=tuple(accepted.values()),
            feedback=row.feedback if row is not None else "",
        )

    def correction(self, detail: TypedFeedback) -> str:
        return f"Accepted: {'; '.join(detail.full_answers)}."

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return (
            source.syntax == gift.CHOICES_SYNTAX
            and not any(choice.match_text for choice in source.choices)
            and all(choice.marker == "=" for choice in source.choices)
        )

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        if not any(choice.weight >= HUNDRED for choice in source.choices):
            return ["no accepted answer is worth full credit"]
        return []

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(
            gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=choice.text,
                    weight=choice.credit,
                    feedback=choice.feedback,
                    write_weight=choice.credit != HUNDRED,
                )
                for choice in choices
            ],
        )

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type == "shortanswer"

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        # Moodle keeps short answers as plain text; "*" alone (any other answer) is left out.
        return gift_from_moodle_xml(
            source,
            syntax=gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=moodle_xml.plain(answer.text),
                    weight=answer.fraction,
                    feedback=moodle_xml.as_markdown(answer.feedback),
                    write_weight=answer.fraction != HUNDRED,
                )
                for answer in source.answers
                if moodle_xml.plain(answer.text) not in ("", "*")
            ],
        )

    def moodle_xml_notes(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        texts = [moodle_xml.plain(answer.text) for answer in source.answers]
        notes = []
        if "*" in texts:
            notes.append("its answer '*' (any other answer) is not imported")
        if any("*" in text and text != "*" for text in texts):
            notes.append("a '*' inside an answer is read as a star, not as Moodle's wildcard")
        if moodle_xml.flag(source.options.get("usecase"), default=False):
            notes.append("answers are compared ignoring case (case-sensitive is not supported)")
        return notes

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        return moodle_xml.MoodleAnswerBlock(
            "shortanswer",
            answers=[
                moodle_xml.MoodleAnswer(
                    text=moodle_xml.MoodleText(choice.text, moodle_xml.PLAIN),
                    fraction=choice.weight,
                    feedback=moodle_xml.MoodleText(choice.feedback, moodle_xml.MARKDOWN),
                )
                for choice in self.to_gift(question, choices).choices
            ],
            options={"usecase": "0"},  # answers are compared ignoring case
        )


def matched_answer(key: QuestionKey, text: str) -> ChoiceKey | None:
    """The question's answer a typed text is (compared as the key's version compares
    them), the best credit first; None when it is none of them."""
    compared = comparable_answer if key.forgiving_typing else normalize_text
    typed = compared(text)
    if not typed:
        return None
    rows = [row for row in key.choices if compared(row.text) == typed]
    return max(rows, key=lambda row: row.credit, default=None)
