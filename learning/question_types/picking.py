"""What the three types answered by picking options share: single choice, true/false and
multiple answers. Each is still its own module and class."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms

from learning.formats import gift, moodle_xml
from learning.question_types.base import (
    ChoiceKey,
    OptionCodes,
    QuestionKey,
    QuestionType,
    rows_as_shown,
)

if TYPE_CHECKING:
    from learning.models import Choice


@dataclass(frozen=True)
class ChoiceAnswer:
    choice_ids: frozenset[int]


@dataclass(frozen=True)
class ChoiceFeedback:
    id: int
    text: str
    is_correct: bool
    picked: bool
    feedback: str


@dataclass(frozen=True)
class PickedFeedback:
    """Every option as it was shown, whether it is right, and whether it was picked."""

    choices: tuple[ChoiceFeedback, ...]

    @property
    def right_answers(self) -> list[str]:
        return [choice.text for choice in self.choices if choice.is_correct]


def is_options_block(source: gift.GiftQuestion) -> bool:
    """A GIFT block of options, some marked wrong with '~' (no '->' pairs)."""
    return (
        source.syntax == gift.CHOICES_SYNTAX
        and not any(choice.match_text for choice in source.choices)
        and any(choice.marker == "~" for choice in source.choices)
    )


class SinglePickWidget(forms.RadioSelect):
    """Radio buttons that pass every value posted, so two picks can be refused by name
    instead of the browser's last one silently winning."""

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        getlist = getattr(data, "getlist", None)
        values = getlist(name) if getlist else [data.get(name)]
        values = [value for value in values if value not in (None, "")]
        return values if len(values) > 1 else (values[0] if values else None)


class SinglePickField(forms.ChoiceField):
    widget = SinglePickWidget

    def to_python(self, value: Any) -> str:
        if isinstance(value, list):
            raise forms.ValidationError("Pick exactly one answer.", code="several")
        return super().to_python(value)


class PickingType(QuestionType[ChoiceAnswer, PickedFeedback]):
    answer_class = ChoiceAnswer
    input_template = "learning/question_types/picking_input.html"
    feedback_template = "learning/question_types/picking_feedback.html"
    answers_by_picking = True
    rows_help = "options (tick the right ones)"
    row_fields = ("text", "is_correct", "credit", "feedback")
    picks_one: ClassVar[bool] = True

    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        if not isinstance(answer, ChoiceAnswer) or not answer.choice_ids:
            return "Pick an answer from the choices given."
        if not answer.choice_ids <= {choice.id for choice in key.choices}:
            return "That choice does not belong to this question."
        if self.picks_one and len(answer.choice_ids) != 1:
            return "Pick exactly one answer."
        return None

    def answer_to_json(self, answer: ChoiceAnswer) -> dict[str, Any]:
        return {"choices": sorted(answer.choice_ids)}

    def answer_from_json(self, data: Mapping[str, Any]) -> ChoiceAnswer:
        return ChoiceAnswer(frozenset(int(choice_id) for choice_id in data.get("choices", [])))

    def picked_choice_ids(self, answer: ChoiceAnswer) -> frozenset[int]:
        return answer.choice_ids

    def answer_in_words(self, snapshot: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
        picked = set(answer.get("choices", []))
        texts = [row["text"] for row in snapshot.get("choices", []) if row["id"] in picked]
        missing = len(picked) - len(texts)
        return "; ".join(texts + ["an option not in this version"] * min(missing, 1))

    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> ChoiceAnswer:
        wanted = [choice.id for choice in key.choices if choice.is_correct == right]
        return ChoiceAnswer(frozenset(wanted[:1] if self.picks_one else wanted))

    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        if any(not row.text.strip() for row in rows):
            return ["Every choice needs its text."]
        return self.option_errors(len(rows), sum(row.is_correct for row in rows))

    @abstractmethod
    def option_errors(self, options: int, right: int) -> list[str]:
        """Why `options` options of which `right` are right cannot make this question."""

    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        options = [(codes.code(choice.id), choice.text) for choice in choices]
        if self.picks_one:
            field: forms.Field = SinglePickField(
                label="Choose one",
                choices=options,
                error_messages={
                    "required": "Pick an answer.",
                    "invalid_choice": "That choice does not belong to this question.",
                },
            )
        else:
            field = forms.MultipleChoiceField(
                label="Choose all that apply",
                choices=options,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "required": "Pick at least one answer.",
                    "invalid_choice": "That choice does not belong to this question.",
                },
            )
        return {"choice": field}

    def answer_from_form(
        self, cleaned_data: Mapping[str, Any], codes: OptionCodes
    ) -> ChoiceAnswer:
        picked = cleaned_data["choice"]
        picked_codes = picked if isinstance(picked, list) else [picked]
        ids = (codes.choice_id(code) for code in picked_codes)
        return ChoiceAnswer(frozenset(choice_id for choice_id in ids if choice_id is not None))

    def form_data(self, answer: ChoiceAnswer, codes: OptionCodes) -> dict[str, str | list[str]]:
        picked = [codes.code(choice_id) for choice_id in sorted(answer.choice_ids)]
        return {"choice": picked[0] if self.picks_one and picked else picked}

    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> PickedFeedback:
        picked = set(answer.get("choices", []))
        return PickedFeedback(
            tuple(
                ChoiceFeedback(
                    id=choice["id"],
                    text=choice["text"],
                    is_correct=choice["is_correct"],
                    picked=choice["id"] in picked,
                    feedback=choice.get("feedback", ""),
                )
                for choice in rows_as_shown(snapshot, shown_order)
            )
        )

    def correction(self, detail: PickedFeedback) -> str:
        answers = "; ".join(detail.right_answers)
        noun = "answers are" if len(detail.right_answers) > 1 else "answer is"
        return f"The right {noun}: {answers}."


MULTICHOICE = "multichoice"  # Moodle's type for single choice and multiple answers


def is_single(source: moodle_xml.MoodleQuestion) -> bool:
    """Whether a Moodle multiple choice question takes one answer (<single>, true if absent)."""
    return moodle_xml.flag(source.options.get("single"), default=True)


def multichoice_block(
    answers: list[moodle_xml.MoodleAnswer], *, single: bool, shuffle: bool
) -> moodle_xml.MoodleAnswerBlock:
    return moodle_xml.MoodleAnswerBlock(
        MULTICHOICE,
        answers=answers,
        options={
            "single": moodle_xml.flag_text(single),
            "shuffleanswers": moodle_xml.flag_text(shuffle),
            "answernumbering": "abc",
            "showstandardinstruction": "0",
        },
    )
