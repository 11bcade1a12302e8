"""The question types, one module each, registered by the value stored in Question.type.

`settings.QUESTION_TYPES` (optional) lists the classes by dotted path; without it the six
below are registered. Everything that varies by type is asked of the registered class:

    question_types.get(question.type).grade(key, answer)
"""

from __future__ import annotations

import functools
from dataclasses import replace
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils.module_loading import import_string

from learning.formats import gift, moodle_xml
from learning.question_types.base import ZERO, QuestionKey, QuestionType

DEFAULT_QUESTION_TYPES = (
    "learning.question_types.single.SingleChoice",
    "learning.question_types.multiple.MultipleAnswers",
    "learning.question_types.true_false.TrueFalse",
    "learning.question_types.numeric.Numeric",
    "learning.question_types.short_answer.ShortAnswer",
    "learning.question_types.matching.Matching",
)


class UnknownQuestionType(LookupError):
    pass


@functools.cache
def _registry() -> dict[str, QuestionType[Any, Any]]:
    registry: dict[str, QuestionType[Any, Any]] = {}
    for path in getattr(settings, "QUESTION_TYPES", DEFAULT_QUESTION_TYPES):
        question_type = import_string(path)()
        if question_type.value in registry:
            raise ValueError(f"Two question types are registered as {question_type.value!r}.")
        registry[question_type.value] = question_type
    return registry


@receiver(setting_changed)
def _forget_registry(*, setting: str, **kwargs: Any) -> None:
    if setting == "QUESTION_TYPES":
        _registry.cache_clear()


def get(value: str) -> QuestionType[Any, Any]:
    """The registered type stored as `value` in Question.type."""
    try:
        return _registry()[value]
    except KeyError:
        raise UnknownQuestionType(f"No question type is registered as {value!r}.") from None


def registered() -> list[QuestionType[Any, Any]]:
    return list(_registry().values())


def type_choices() -> list[tuple[str, str]]:
    """Question.type's choices: every registered type."""
    return [(question_type.value, question_type.label) for question_type in registered()]


def label(value: str) -> str:
    try:
        return get(value).label
    except UnknownQuestionType:
        return value


def grade(key: QuestionKey, answer: object) -> Decimal:
    """Points for one answer, from 0 to 1; an answer of another type's shape scores 0."""
    question_type = get(key.type)
    if not isinstance(answer, question_type.answer_class):
        return ZERO
    return question_type.grade(key, answer)


def read_gift(document: gift.GiftDocument) -> gift.GiftDocument:
    """The document with each question given its type (`kind`); a question that no type
    reads, or that its type refuses, becomes a problem on its line."""
    questions: list[gift.GiftQuestion] = []
    problems = list(document.problems)
    for source in document.questions:
        readers = [t for t in registered() if t.reads_gift(source)]
        if len(readers) != 1:
            names = " and ".join(t.label for t in readers)
            message = (
                f"{names} both read this question; make their reads_gift exclusive"
                if readers
                else "no question type reads this question"
            )
            problems.append(gift.GiftProblem(source.line, message))
            continue
        question_type = readers[0]
        errors = question_type.gift_errors(source)
        if errors:
            problems.extend(gift.GiftProblem(source.line, message) for message in errors)
            continue
        questions.append(replace(source, kind=question_type.value))
    problems.sort(key=lambda problem: problem.line)
    return gift.GiftDocument(questions=questions, problems=problems)


def parse_gift(text: str) -> gift.GiftDocument:
    """Every question of a GIFT text with its type, and a problem for each that cannot be
    read."""
    return read_gift(gift.parse_gift(text))


def read_moodle_xml(document: moodle_xml.MoodleDocument) -> moodle_xml.MoodleDocument:
    """The document with each question given its type (`kind`). A question of a Moodle type
    no type of ours reads (an essay, a cloze...) is reported by name and skipped; one its type
    refuses is an error on its line; what a type leaves out of a question is a note."""
    questions: list[moodle_xml.MoodleQuestion] = []
    problems = list(document.problems)
    for source in document.questions:
        readers = [t for t in registered() if t.reads_moodle_xml(source)]
        if len(readers) > 1:
            names = " and ".join(t.label for t in readers)
            message = f"{names} both read this question; make their reads_moodle_xml exclusive"
            problems.append(gift.GiftProblem(source.line, message))
            continue
        if not readers:
            message = moodle_xml.unsupported_message(source)
            problems.append(gift.GiftProblem(source.line, message, kind=gift.SKIPPED))
            continue
        question_type = readers[0]
        errors = (
            [source.unreadable] if source.unreadable else question_type.moodle_xml_errors(source)
        )
        if errors:
            problems.extend(
                gift.GiftProblem(source.line, f"{source.described}: {message}")
                for message in errors
            )
            continue
        left_out = moodle_xml.not_imported_problem(source)
        if left_out is not None:
            problems.append(left_out)
        problems.extend(
            gift.GiftProblem(source.line, f"{source.described}: {note}", kind=gift.NOTE)
            for note in question_type.moodle_xml_notes(source)
        )
        questions.append(replace(source, kind=question_type.value))
    problems.sort(key=lambda problem: problem.line)
    return moodle_xml.MoodleDocument(questions=questions, problems=problems)
