"""What every question type provides, and the answer key it grades against.

A question type is one class with one interface: grading (pure), the author's checks, the
answer form's fields and how a submitted form becomes an answer, what feedback shows, how
it reads from and writes to GIFT and Moodle XML, and a sample answer for tests and tools.
The registry (`learning.question_types`) maps each type's `value` to its class; nothing
outside this package asks which type a question is.
"""

from __future__ import annotations

import re
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django import forms
from django.utils.crypto import salted_hmac

from learning.formats import gift, moodle_xml

if TYPE_CHECKING:
    from learning.models import Choice, Question

ZERO = Decimal(0)
ONE = Decimal(1)
HUNDRED = Decimal(100)
_POINTS_PLACES = Decimal("0.0001")
# A snapshot's mark that its rows' credits grade as Moodle reads them (see the README's
# GIFT section). Snapshots taken before carry none: their picking rows were graded by the
# ticks alone, and `key_from_snapshot` reads them so (`QuestionType.key_from_ticks`).
CREDITS_SCORING = "moodle-credits"
# A snapshot's mark that typed answers are compared in `comparable_answer`'s form. Snapshots
# taken before compared them by `normalize_text` alone, and their answers are shown and
# regraded that way (`QuestionKey.forgiving_typing`).
FORGIVING_TYPING = "forgiving"


@dataclass(frozen=True)
class ChoiceKey:
    """One row of a question's answer key, as it was asked."""

    id: int
    is_correct: bool = False
    text: str = ""
    credit: Decimal = ZERO
    match_text: str = ""
    numeric_value: Decimal | None = None
    numeric_tolerance: Decimal = ZERO
    feedback: str = ""


@dataclass(frozen=True)
class QuestionKey:
    """Everything an answer is graded against: the question's type, its rows and value."""

    type: str
    choices: tuple[ChoiceKey, ...] = ()
    numeric_answer: Decimal | None = None
    numeric_tolerance: Decimal = ZERO
    forgiving_typing: bool = False

    @property
    def correct_choice_ids(self) -> frozenset[int]:
        return frozenset(choice.id for choice in self.choices if choice.is_correct)


def key_from_snapshot(snapshot: Mapping[str, Any]) -> QuestionKey:
    """The answer key stored in a question version's snapshot, graded as it was when the
    snapshot was taken."""
    numeric = snapshot.get("numeric_answer")
    key = QuestionKey(
        type=snapshot["type"],
        choices=tuple(
            ChoiceKey(
                id=choice["id"],
                is_correct=choice["is_correct"],
                text=choice.get("text", ""),
                credit=Decimal(choice.get("credit", 100)),
                match_text=choice.get("match_text", ""),
                numeric_value=(
                    Decimal(choice["numeric_value"])
                    if choice.get("numeric_value") is not None
                    else None
                ),
                numeric_tolerance=Decimal(choice.get("numeric_tolerance") or 0),
                feedback=choice.get("feedback", ""),
            )
            for choice in snapshot.get("choices", ())
        ),
        numeric_answer=Decimal(numeric) if numeric is not None else None,
        numeric_tolerance=Decimal(snapshot.get("numeric_tolerance") or 0),
        forgiving_typing=snapshot.get("typing") == FORGIVING_TYPING,
    )
    if snapshot.get("scoring") == CREDITS_SCORING:
        return key
    from learning import question_types  # the registry imports this module

    try:
        return question_types.get(key.type).key_from_ticks(key)
    except question_types.UnknownQuestionType:
        return key


def normalize_text(text: str) -> str:
    """Case and surrounding or repeated white space do not matter in typed answers."""
    return " ".join(text.split()).casefold()


_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"), "-")
_APOSTROPHES = re.compile("['\u2018\u2019\u02bc`\u00b4]")
_HYPHEN_BETWEEN_WORDS = re.compile(r"(?<=\w)-(?=\w)")


def comparable_text(text: str) -> str:
    """Text in the form typed answers are compared in: what a learner who knows the answer
    may type differently does not count: case and spacing, Unicode's forms of a character
    (Na⁺ is Na+), the kind of dash, a hyphen or a space between words (tonic-clonic, tonic
    clonic) and apostrophes (writer's cramp, writers cramp)."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES)
    return normalize_text(_HYPHEN_BETWEEN_WORDS.sub(" ", _APOSTROPHES.sub("", text)))


def comparable_answer(text: str) -> str:
    """A typed answer in `comparable_text`'s form, a full stop or comma after it aside."""
    return comparable_text(text).rstrip(".,;:!").rstrip()


def credit_points(credit: Decimal) -> Decimal:
    """A credit in percent as points from 0 to 1."""
    return max(ZERO, min(ONE, credit / 100)).quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)


def percent(credit: Decimal) -> str:
    """A credit as a reader writes it: 50%, 33.33333%, -100%."""
    text = f"{credit.normalize():f}"
    return f"{'0' if text in ('-0', '') else text}%"


def points(value: Decimal) -> Decimal:
    return value.quantize(_POINTS_PLACES, rounding=ROUND_HALF_UP)


def clean_number(raw: Any) -> str | None:
    """A stored number as a reader writes it: 15, not 15.0000."""
    if raw is None:
        return None
    return f"{Decimal(str(raw)).normalize():f}"


def rows_as_shown(snapshot: Mapping[str, Any], shown_order: Sequence[int]) -> list[Any]:
    """The snapshot's rows in the order shown to the learner (choice ids); rows missing
    from the order keep the author's order, after the others."""
    rows = list(snapshot.get("choices", []))
    rank = {choice_id: index for index, choice_id in enumerate(shown_order)}
    return sorted(rows, key=lambda row: rank.get(row["id"], len(rank)))


class OptionCodes:
    """The codes a page uses for a question's rows: opaque and different in every attempt,
    so nothing a page sends says which row is which, let alone which is right.

    A code is a keyed hash (the site's secret key) of the context (an attempt, or a
    teacher's preview), the question and the row; the server maps a code back with a
    dictionary lookup, whatever the code."""

    def __init__(self, context: str, question_id: int, choice_ids: Iterable[int]) -> None:
        self._code_of = {
            choice_id: salted_hmac(
                "learning.option-codes",
                f"{context}:{question_id}:{choice_id}",
                algorithm="sha256",
            ).hexdigest()[:16]
            for choice_id in choice_ids
        }
        self._choice_of = {code: choice_id for choice_id, code in self._code_of.items()}

    @classmethod
    def for_attempt(
        cls, attempt_id: int, question_id: int, choice_ids: Iterable[int]
    ) -> OptionCodes:
        return cls(f"attempt:{attempt_id}", question_id, choice_ids)

    @classmethod
    def for_preview(cls, question_id: int, choice_ids: Iterable[int]) -> OptionCodes:
        return cls("preview", question_id, choice_ids)

    def code(self, choice_id: int) -> str:
        return self._code_of[choice_id]

    def choice_id(self, code: str) -> int | None:
        """The row a code stands for; None for a code this question does not have."""
        return self._choice_of.get(code)


@dataclass(frozen=True)
class ImportedQuestion:
    """The Question fields and Choice rows that a question read from a file sets."""

    values: dict[str, Any]
    rows: list[dict[str, Any]] = field(default_factory=list)


def choice_row(
    *,
    text: str = "",
    is_correct: bool = False,
    credit: Decimal = ZERO,
    match_text: str = "",
    numeric_value: Decimal | None = None,
    numeric_tolerance: Decimal = ZERO,
    feedback: str = "",
) -> dict[str, Any]:
    """A Choice row with every field given, so rows compare field by field."""
    return {
        "text": text,
        "is_correct": is_correct,
        "credit": credit,
        "match_text": match_text,
        "numeric_value": numeric_value,
        "numeric_tolerance": numeric_tolerance,
        "feedback": feedback,
    }


def keys_of_rows(rows: Sequence[Mapping[str, Any]]) -> tuple[ChoiceKey, ...]:
    """Choice rows (from a file or a form) as answer-key rows, numbered in order."""
    return tuple(
        ChoiceKey(
            id=index,
            is_correct=bool(row.get("is_correct")),
            text=row.get("text") or "",
            credit=row["credit"] if row.get("credit") is not None else ZERO,
            match_text=row.get("match_text") or "",
            numeric_value=row.get("numeric_value"),
            numeric_tolerance=row.get("numeric_tolerance") or ZERO,
            feedback=row.get("feedback") or "",
        )
        for index, row in enumerate(rows)
    )


class QuestionType[AnswerT, DetailT](ABC):
    """The interface every question type implements. Subclasses set the class attributes
    and implement the abstract methods; `AnswerT` is the type's own answer dataclass and
    `DetailT` what its feedback partial shows."""

    value: ClassVar[str]  # stored in Question.type
    label: ClassVar[str]  # shown to teachers
    answer_class: type[AnswerT]  # the dataclass a learner's answer is
    input_template: ClassVar[str]  # the answer form's partial
    feedback_template: ClassVar[str]  # the feedback's partial
    # Whether the order of the rows may be shuffled for each attempt.
    shuffles_choices: ClassVar[bool] = True
    # Whether learners answer by picking rows (so the picks can be counted per row).
    answers_by_picking: ClassVar[bool] = False
    # What the rows of the admin's answers table mean for this type, for its heading.
    rows_help: ClassVar[str] = ""
    # The Choice fields this type's rows use: the admin's answers table shows only these.
    row_fields: ClassVar[tuple[str, ...]] = (
        "text",
        "is_correct",
        "credit",
        "match_text",
        "numeric_value",
        "numeric_tolerance",
        "feedback",
    )
    # The Question fields only some types use (beyond topic, prompt, explanation...): the
    # admin's question page shows only the ones of the type picked.
    question_fields: ClassVar[tuple[str, ...]] = ()
    # Whether learners see the rows (options, items to match) rather than type an answer
    # graded against hidden rows: a regrade then grades only against the rows they saw.
    shows_rows: ClassVar[bool] = True
    # Whether learners type their answer (a number, a word), so the item analysis can count
    # the most common answers given (`typed_answer`).
    answers_by_typing: ClassVar[bool] = False

    # -- grading (pure) -----------------------------------------------------------------

    @abstractmethod
    def grade(self, key: QuestionKey, answer: AnswerT) -> Decimal:
        """Points from 0 to 1 for an answer that fits (see `answer_problem`)."""

    @abstractmethod
    def answer_problem(self, key: QuestionKey, answer: object) -> str | None:
        """Why this answer cannot be taken for this question (a message for the learner),
        or None when it fits."""

    @abstractmethod
    def answer_to_json(self, answer: AnswerT) -> dict[str, Any]:
        """How an answer is stored with its response."""

    @abstractmethod
    def answer_from_json(self, data: Mapping[str, Any]) -> AnswerT:
        """The answer a stored response holds."""

    def picked_choice_ids(self, answer: AnswerT) -> frozenset[int]:
        """The rows an answer picked, counted for the item analysis."""
        return frozenset()

    def answer_in_words(self, snapshot: Mapping[str, Any], answer: Mapping[str, Any]) -> str:
        """A stored answer as a teacher reads it, from the question as asked: the options'
        text, the value typed, never an id. By default the answer's text and numbers."""
        return "; ".join(
            str(value) for value in answer.values() if isinstance(value, str | int | float)
        )

    def typed_answer(self, answer: Mapping[str, Any]) -> str:
        """For a type `answers_by_typing`: the typed answer as grading reads it, so answers
        that differ only in form are counted together."""
        return self.answer_in_words({}, answer)

    def answers_from_memory(self, question: Question, choices: Sequence[Choice]) -> list[str]:
        """The answers a learner must recall and type (an accepted word, a number), which
        another question must not show in the same quiz (learning/answer_leaks.py). Types
        whose answer is picked from what the page shows have none."""
        return []

    def snapshot_marks(self) -> dict[str, str]:
        """Marks a version's snapshot carries to say how its answers are graded, so that
        answers given before a rule changed are still shown and regraded by the old one."""
        return {}

    @abstractmethod
    def sample_answer(self, key: QuestionKey, *, right: bool = True) -> AnswerT:
        """A fully right answer, or one that earns nothing: for tests, load data, the
        benchmark and screenshots."""

    def key_from_ticks(self, key: QuestionKey) -> QuestionKey:
        """The key of a snapshot taken before credits graded picked options (no
        `CREDITS_SCORING` mark), with the credits that grade its answers as they were
        graded then. Types whose grading did not change return `key`."""
        return key

    # -- the author's checks ---------------------------------------------------------------

    def question_field_errors(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Errors on the question's own fields (by field name) for this type."""
        return {}

    @abstractmethod
    def answer_row_errors(self, rows: Sequence[ChoiceKey]) -> list[str]:
        """Why no learner could answer right with these rows; empty when they can."""

    def credits_to_store(self, rows: Sequence[ChoiceKey]) -> list[Decimal]:
        """The credits to store for rows an author saved: what each row earns, written out
        where the author left it to the type (so exports and other readers of a credit
        need not know the type's defaults). By default the credits as given."""
        return [row.credit for row in rows]

    def ticks_to_store(self, rows: Sequence[ChoiceKey]) -> list[bool]:
        """The ticks to store for rows an author saved: a type whose form shows no tick
        stores the one its files give (so an export imports back unchanged). By default
        the ticks as given."""
        return [row.is_correct for row in rows]

    def authoring_errors(self, values: Mapping[str, Any], rows: Sequence[ChoiceKey]) -> list[str]:
        """Every reason a question of this type, with these fields and rows, is not ready."""
        return [*self.question_field_errors(values).values(), *self.answer_row_errors(rows)]

    # -- the answer form ---------------------------------------------------------------------

    @abstractmethod
    def form_fields(self, choices: Sequence[Choice], codes: OptionCodes) -> dict[str, forms.Field]:
        """The answer form's fields, for the rows in the order shown. Wherever a row shows
        in a page (an option's value, a field's name) it is by its code, never its id."""

    @abstractmethod
    def answer_from_form(self, cleaned_data: Mapping[str, Any], codes: OptionCodes) -> AnswerT:
        """The answer a valid form holds."""

    @abstractmethod
    def form_data(self, answer: AnswerT, codes: OptionCodes) -> dict[str, str | list[str]]:
        """The form fields a learner fills in to give this answer (the inverse of
        `answer_from_form`)."""

    # -- feedback --------------------------------------------------------------------------

    @abstractmethod
    def feedback_detail(
        self, snapshot: Mapping[str, Any], answer: Mapping[str, Any], shown_order: Sequence[int]
    ) -> DetailT:
        """What the type's feedback partial shows, from the question as asked (its snapshot,
        rows in the author's order), the stored answer, and the order in which the rows were
        shown (choice ids; empty when shown in the author's order)."""

    @abstractmethod
    def correction(self, detail: DetailT) -> str:
        """One sentence saying what was right, for an answer that was not fully right."""

    # -- files ---------------------------------------------------------------------------

    def reads_gift(self, source: gift.GiftQuestion) -> bool:
        """Whether a GIFT question of this shape is of this type."""
        return False

    def gift_errors(self, source: gift.GiftQuestion) -> list[str]:
        """Why a GIFT question of this type cannot be imported."""
        return []

    def from_gift(self, source: gift.GiftQuestion) -> ImportedQuestion:
        """The fields and rows a GIFT question of this type sets."""
        return ImportedQuestion(
            values=self.gift_values(source, numeric_answer=None),
            rows=[
                choice_row(
                    text=choice.text,
                    is_correct=choice.is_correct,
                    credit=choice.weight,
                    match_text=choice.match_text,
                    feedback=choice.feedback,
                )
                for choice in source.choices
            ],
        )

    def gift_values(
        self,
        source: gift.GiftQuestion,
        *,
        numeric_answer: Decimal | None,
        numeric_tolerance: Decimal = ZERO,
    ) -> dict[str, Any]:
        return {
            "type": self.value,
            "prompt": source.prompt,
            "explanation": source.general_feedback,
            "lesson_anchor": source.metadata.get("anchor", ""),
            "numeric_answer": numeric_answer,
            "numeric_tolerance": numeric_tolerance,
            "numeric_feedback": "",
        }

    @abstractmethod
    def to_gift(self, question: Question, choices: Sequence[Choice]) -> gift.GiftAnswers:
        """The answer block of this question in GIFT."""

    # -- Moodle XML ----------------------------------------------------------------------
    # A Moodle XML question is read through the GIFT question that means the same
    # (`moodle_xml_as_gift`, then `from_gift`), and written from `to_gift`'s answers, so
    # both formats share one meaning. A type that reads no Moodle question keeps these
    # defaults: it is neither read from nor written to Moodle XML.

    def reads_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> bool:
        """Whether a Moodle XML question (of Moodle's `source.moodle_type`) is of this type."""
        return False

    def moodle_xml_as_gift(self, source: moodle_xml.MoodleQuestion) -> gift.GiftQuestion:
        """The GIFT question with the meaning of this Moodle question: by default a block
        of options, each answer's fraction its weight and '=' marking full credit."""
        return gift_from_moodle_xml(
            source,
            syntax=gift.CHOICES_SYNTAX,
            choices=[
                gift.GiftChoice(
                    text=moodle_xml.as_text(answer.text),
                    weight=answer.fraction,
                    feedback=moodle_xml.as_markdown(answer.feedback),
                    marker="=" if answer.fraction == HUNDRED else "~",
                    write_weight=answer.fraction not in (HUNDRED, ZERO),
                )
                for answer in source.answers
            ],
        )

    def moodle_xml_errors(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        """Why a Moodle XML question of this type cannot be imported."""
        return self.gift_errors(self.moodle_xml_as_gift(source))

    def moodle_xml_notes(self, source: moodle_xml.MoodleQuestion) -> list[str]:
        """What of a Moodle XML question this type leaves out (the rest imports)."""
        return []

    def from_moodle_xml(self, source: moodle_xml.MoodleQuestion) -> ImportedQuestion:
        """The fields and rows a Moodle XML question of this type sets."""
        return self.from_gift(self.moodle_xml_as_gift(source))

    def to_moodle_xml(
        self, question: Question, choices: Sequence[Choice]
    ) -> moodle_xml.MoodleAnswerBlock | None:
        """This question's answers in Moodle XML; None when Moodle has no such type."""
        return None


ANCHOR_TAG = "anchor:"  # a Moodle tag that keeps the question's lesson anchor


def gift_from_moodle_xml(
    source: moodle_xml.MoodleQuestion,
    *,
    syntax: str,
    choices: Sequence[gift.GiftChoice] = (),
    numeric_answers: Sequence[gift.GiftNumericAnswer] = (),
) -> gift.GiftQuestion:
    """A GIFT question with a Moodle XML question's texts (as Markdown), name, category and
    lesson anchor, and the answers given."""
    anchors = [tag.removeprefix(ANCHOR_TAG) for tag in source.tags if tag.startswith(ANCHOR_TAG)]
    return gift.GiftQuestion(
        line=source.line,
        syntax=syntax,
        prompt=moodle_xml.as_markdown(source.question_text),
        title=source.name,
        category=source.category_name,
        text_format="markdown",
        choices=list(choices),
        numeric_answers=list(numeric_answers),
        general_feedback=moodle_xml.as_markdown(source.general_feedback),
        metadata={"anchor": anchors[0]} if anchors else {},
    )


def moodle_xml_answers(answers: gift.GiftAnswers) -> list[moodle_xml.MoodleAnswer]:
    """GIFT options as Moodle XML answers: plain text (as options are shown), feedback in
    Markdown, each weight a fraction."""
    return [
        moodle_xml.MoodleAnswer(
            text=moodle_xml.MoodleText(choice.text, moodle_xml.PLAIN),
            fraction=choice.weight,
            feedback=moodle_xml.MoodleText(choice.feedback, moodle_xml.MARKDOWN),
        )
        for choice in answers.choices
    ]
