"""Matching: each item is matched with one of the matches offered; each right pair earns
a share of the point. A row with a match and no item is an extra wrong match (Moodle XML's
subquestion with empty text): offered among the matches, never right."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    HUNDRED,
    ZERO,
    ChoiceKey,
    ImportedQuestion,
    OptionCodes,
    QuestionKey,
    QuestionType,
    gift_from_moodle_xml,
    normalize_text,
    points,
    rows_as_shown,
)

if TYPE_CHECKING:
    from learning.models import Choice, Question

FIELD_PREFIX = "match-"


@dataclass(frozen=True)
class MatchingAnswer:
    """For each pair (by its choice id), the match the learner chose."""

    matches: tuple[tuple[int, str], ...]

    def as_dict(self) -> dict[int, str]:
        return dict(self.matches)


@dataclass(frozen=True)
class MatchRow:
    item: str
    chosen: str
    right: str
    is_right: bool
    feedback: str = ""


def pairs_of(rows: Sequence[ChoiceKey]) -> list[ChoiceKey]:
    """The rows learners match: an item and its match (not the extra wrong matches)."""
    return [row for row in rows if row.text.strip() and row.match_text]


def matches_offered(match_texts: Iterable[str]) -> list[str]:
    """Every match offered, each once, in an order that says nothing about the pairs."""
    return sorted({text for text in match_texts if text}, key=str.casefold)


@dataclass(frozen=True)
class MatchingFeedback:
    rows: tuple[MatchRow, ...]


class Matching(QuestionType[MatchingAnswer, MatchingFeedback]):
    answer_class = MatchingAnswer
    value = "matching"
    label = "Matching"
    input_template = "learning/question_types/matching_input.html"
    feedback_template = "learning/question_types/matching_feedback.html"
    rows_help = "matching pairs (text ↔ matches)"
    row_fields = ("text", "match_text")

    def credits_to_store(self, rows: Sequence[ChoiceKey]) -> list[Decimal]:
        # Not graded by (the matches are): stored as a file's pair is, at 100%.
        return [HUNDRED for _ in rows]

    def grade(self, key: QuestionKey, answer: MatchingAnswer) -> Decimal:
        """The share of pairs matched right."""
        pairs = pairs_of(key.choices)
        if not pairs:
            return ZERO
        chosen = answer.as_dict()
        right = sum(
            1
            for pair in pairs
            if normalize_text(chosen.get(pair.id, "")) == normalize_text(pair.match_text)
        )
        return points(Decimal(right) / len(pairs))

    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        if not isinstance(answer, MatchingAnswer):
            return "Choose a match for every item."
        pairs = {choice.id: choice for choice in pairs_of(key.choices)}
        options = {choice.match_text for choice in key.choices if choice.match_text}
        chosen = answer.as_dict()
        if set(chosen) != set(pairs) or not set(chosen.values()) <= options:
            return "Choose a match for every item, from the options given."
        return None

    def answer_to_json(self, answer: MatchingAnswer) -> dict[str, Any]:
        return {"matches": {str(choice_id): text for choice_id, text in sorted(answer.matches)}}

    def answer_from_json(self, data: Mapping[str, Any]) -> MatchingAnswer:
        return MatchingAnswer(
            tuple(sorted((int(choice_id), text) for choice_id, text in data["matches"].items()))
        )

    def answer_in_words(self, snapshot: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
        chosen = answer.get("matches", {})
        return "; ".join(
            f"{row['text']} → {chosen.get(str(row['id'])) or '–'}"
            for row in snapshot.get("choices", [])
            if row.get("text", "").strip() and row.get("match_text")  # not the extra matches
        )

    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> MatchingAnswer:
        pairs = pairs_of(key.choices)
        matches = [pair.match_text for pair in pairs]
        if not right:  # every item given the next item's match
            matches = matches[1:] + matches[:1]
        paired = zip(pairs, matches, strict=True)
        return MatchingAnswer(tuple((pair.id, match) for pair, match in paired))

    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        if any(row.text.strip() and not row.match_text.strip() for row in rows):
            return [
                "Every pair of a matching question needs both an item and its match "
                "(a match without an item is offered as an extra wrong match)."
            ]
        pairs = [row for row in rows if row.text.strip() and row.match_text.strip()]
        if len(pairs) < 2:
            return ["A matching question needs at least two pairs."]
        if len({normalize_text(row.text) for row in pairs}) != len(pairs):
            return ["The items of a matching question must all differ."]
        return []

    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        options = matches_offered(choice.match_text for choice in choices)
        return {
            f"{FIELD_PREFIX}{codes.code(choice.id)}": forms.ChoiceField(
                label=choice.text,
                choices=[("", "Choose a match…"), *((option, option) for option in options)],
                error_messages={
                    "required": "Choose a match for this item.",
                    "invalid_choice": "Choose one of the matches offered.",
                },
            )
            for choice in choices
            if choice.text.strip() and choice.match_text
        }

    def answer_from_form(
        self, cleaned_data: Mapping[str, Any], codes: OptionCodes
    ) -> MatchingAnswer:
        chosen = {
            codes.choice_id(name.removeprefix(FIELD_PREFIX)): value
            for name, value in cleaned_data.items()
            if name.startswith(FIELD_PREFIX)
        }
        return MatchingAnswer(
            tuple(sorted((item, text) for item, text in chosen.items() if item is not None))
        )

    def form_data(self, answer: MatchingAnswer, codes: OptionCodes) -> dict[str, str | list[str]]:
        return {
            f"{FIELD_PREFIX}{codes.code(choice_id)}": text for choice_id, text in answer.matches
        }

    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> MatchingFeedback:
        chosen = answer.get("matches", {})
        return MatchingFeedback(
            tuple(
                MatchRow(
                    item=choice["text"],
                    chosen=chosen.get(str(choice["id"]), ""),
                    right=choice["match_text"],
                    is_right=normalize_text(chosen.get(str(choice["id"]), ""))
                    == normalize_text(choice["match_text"]),
                    feedback=choice.get("feedback", ""),
                )
                for choice in rows_as_shown(snapshot, shown_order)
                if choice.get("text", "").strip() and choice.get("match_text")
            )
        )

    def correction(self, detail: MatchingFeedback) -> str:
        right = sum(row.is_right for row in detail.rows)
        return f"{right} of {len(detail.rows)} pairs matched."

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        return source.syntax == gift.CHOICES_SYNTAX and any(
            choice.match_text for choice in source.choices
        )

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        if sum(1 for choice in source.choices if choice.text) < 2:
            return ["a matching question needs at least two pairs"]
        return []

    def from_gift(self, source: gift.GiftQuestion) -> ImportedQuestion:
        read = super().from_gift(source)
        # A pair is neither right nor wrong: its match is what is right.
        return replace(read, rows=[{**row, "is_correct": False} for row in read.rows])

    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        return gift.GiftAnswers(
            gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=choice.text,
                    weight=HUNDRED,
                    feedback=choice.feedback,
                    match_text=choice.match_text,
                )
                for choice in choices
            ],
        )

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        return source.moodle_type in ("matching", "match")

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        # A subquestion with no text is an extra wrong match: a row with only its match.
        return gift_from_moodle_xml(
            source,
            syntax=gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=moodle_xml.as_text(sub.text),
                    weight=HUNDRED,
                    match_text=sub.answer,
                )
                for sub in source.subquestions
            ],
        )

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        return moodle_xml.MoodleAnswerBlock(
            "matching",
            subquestions=[
                moodle_xml.MoodleSubquestion(
                    moodle_xml.MoodleText(choice.text, moodle_xml.PLAIN), choice.match_text
                )
                for choice in self.to_gift(question, choices).choices
            ],
            options={"shuffleanswers": moodle_xml.flag_text(self.shuffles_choices)},
        )
