"""A small question type that exists only in the tests, registered the way README's
"Adding a question type" says: it proves a new type needs one module and its partials.

Keywords: the learner explains in a sentence; each keyword (a row's text) the sentence
contains earns an equal share of the point."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms

from learning.formats import gift
from learning.question_types.base import (
    ZERO,
    ChoiceKey,
    OptionCodes,
    QuestionKey,
    QuestionType,
    normalize_text,
    points,
)
from learning.question_types.true_false import TrueFalse

if TYPE_CHECKING:
    from learning.models import Choice, Question


@dataclass(frozen=True)
class Sentence:
    text: str


@dataclass(frozen=True)
class KeywordFeedback:
    sentence: str
    found: tuple[str, ...]
    missing: tuple[str, ...]


class Keywords(QuestionType[Sentence, KeywordFeedback]):
    value = "keywords"
    label = "Keywords in a sentence"
    answer_class = Sentence
    input_template = "extra_types/keywords_input.html"
    feedback_template = "extra_types/keywords_feedback.html"

    def grade(self, key: QuestionKey, answer: Sentence) -> Decimal:
        keywords = [row.text for row in key.choices if row.text]
        if not keywords:
            return ZERO
        said = normalize_text(answer.text)
        found = sum(normalize_text(keyword) in said for keyword in keywords)
        return points(Decimal(found) / len(keywords))

    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        if not isinstance(answer, Sentence) or not answer.text.strip():
            return "Write a sentence."
        return None

    def answer_to_json(self, answer: Sentence) -> dict[str, Any]:
        return {"sentence": answer.text}

    def answer_from_json(self, data: Mapping[str, Any]) -> Sentence:
        return Sentence(data["sentence"])

    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> Sentence:
        if right:
            return Sentence("It is " + " and ".join(row.text for row in key.choices) + ".")
        return Sentence("I do not know.")

    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        return [] if any(row.text.strip() for row in rows) else ["Give at least one keyword."]

    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        return {"sentence": forms.CharField(label="Your sentence", max_length=300)}

    def answer_from_form(self, cleaned_data: Mapping[str, Any], codes: OptionCodes) -> Sentence:
        return Sentence(cleaned_data["sentence"])

    def form_data(self, answer: Sentence, codes: OptionCodes) -> dict[str, str | list[str]]:
        return {"sentence": answer.text}

    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> KeywordFeedback:
        said = normalize_text(answer.get("sentence", ""))
        keywords = [choice["text"] for choice in snapshot.get("choices", [])]
        return KeywordFeedback(
            sentence=answer.get("sentence", ""),
            found=tuple(k for k in keywords if normalize_text(k) in said),
            missing=tuple(k for k in keywords if normalize_text(k) not in said),
        )

    def correction(self, detail: KeywordFeedback) -> str:
        return f"Missing: {', '.join(detail.missing)}."

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(
            gift.CHOICES_SYNTAX,
            choices=[gift.GiftChoice(choice.text, Decimal(100)) for choice in choices],
        )


class Statement(TrueFalse):
    """A careless copy of true/false that also claims GIFT's {T} blocks."""

    value = "statement"
    label = "Statement"
