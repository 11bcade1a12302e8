"""Import and export the question bank: GIFT (Moodle's text format) and Aiken.

An import is planned first (`plan_import`): every question is parsed, given a topic and a
key, checked, and sorted into created, updated or unchanged, and every problem is listed
with its line. `apply_import` then writes the plan in one transaction, and refuses a plan
with errors: a malformed file never half-imports. Questions of a type we do not support are
reported and skipped; the rest of the file still imports.
"""

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from learning import gift, scoring
from learning.models import Choice, Question, QuestionOrigin, QuestionType, Topic

_HUNDRED = Decimal(100)


# -- models <-> GIFT dataclasses ---------------------------------------------------------


def question_values(source: gift.GiftQuestion, topic: Topic) -> dict[str, Any]:
    """The Question fields a GIFT question sets."""
    full_credit = next((a for a in source.numeric_answers if a.weight >= _HUNDRED), None)
    return {
        "topic": topic,
        "type": source.kind,
        "prompt": source.prompt,
        "explanation": source.general_feedback,
        "lesson_anchor": source.metadata.get("anchor", ""),
        "numeric_answer": full_credit.value if full_credit else None,
        "numeric_tolerance": full_credit.tolerance if full_credit else Decimal(0),
    }


def choice_rows(source: gift.GiftQuestion) -> list[dict[str, Any]]:
    """The Choice rows a GIFT question sets, in order."""
    if source.kind == gift.NUMERIC:
        extra = [a for a in source.numeric_answers if a.weight < _HUNDRED]
        full = [a for a in source.numeric_answers if a.weight >= _HUNDRED][1:]
        return [
            {
                "text": "",
                "is_correct": False,
                "credit": answer.weight,
                "match_text": "",
                "numeric_value": answer.value,
                "numeric_tolerance": answer.tolerance,
                "feedback": answer.feedback,
            }
            for answer in full + extra
        ]
    return [
        {
            "text": choice.text,
            "is_correct": choice.is_correct if source.kind != gift.MATCHING else False,
            "credit": choice.weight,
            "match_text": choice.match_text,
            "numeric_value": None,
            "numeric_tolerance": Decimal(0),
            "feedback": choice.feedback,
        }
        for choice in source.choices
    ]


def answerability(source: gift.GiftQuestion) -> list[str]:
    rows = [
        scoring.ChoiceKey(
            id=index,
            is_correct=row["is_correct"],
            text=row["text"],
            credit=row["credit"],
            match_text=row["match_text"],
        )
        for index, row in enumerate(choice_rows(source))
    ]
    numeric = question_values(source, Topic())["numeric_answer"]
    return scoring.answerability_errors(
        source.kind, [row.is_correct for row in rows], numeric, rows
    )


def to_gift(question: Question) -> gift.GiftQuestion:
    choices = list(question.choices.all())
    metadata = {"anchor": question.lesson_anchor} if question.lesson_anchor else {}
    result = gift.GiftQuestion(
        line=0,
        kind=question.type,
        prompt=question.prompt,
        title=question.key,
        category=question.topic.slug,
        text_format="markdown",
        general_feedback=question.explanation,
        metadata=metadata,
    )
    if question.type == QuestionType.NUMERIC:
        result.numeric_answers = [
            gift.GiftNumericAnswer(question.numeric_answer, question.numeric_tolerance)
        ] + [
            gift.GiftNumericAnswer(c.numeric_value, c.numeric_tolerance, c.credit, c.feedback)
            for c in choices
            if c.numeric_value is not None
        ]
        return result
    weights = (
        _multiple_weights(choices)
        if question.type == QuestionType.MULTIPLE
        else [_single_weight(question.type, c) for c in choices]
    )
    result.choices = [
        gift.GiftChoice(text=c.text, weight=weight, feedback=c.feedback, match_text=c.match_text)
        for c, weight in zip(choices, weights, strict=True)
    ]
    return result


def _single_weight(question_type: str, choice: Choice) -> Decimal:
    if question_type == QuestionType.SHORT_ANSWER:
        return choice.credit
    if question_type == QuestionType.MATCHING:
        return _HUNDRED
    return _HUNDRED if choice.is_correct else Decimal(0)


def _multiple_weights(choices: list[Choice]) -> list[Decimal]:
    """GIFT weights for a multiple-answer question: the imported ones when they agree with
    the ticks, else Moodle's usual split (right ones share 100%, wrong ones -100%)."""
    right = [c for c in choices if c.is_correct]
    agrees = all((c.credit > 0) == c.is_correct for c in choices)
    if agrees and abs(sum(c.credit for c in right) - _HUNDRED) < Decimal("0.001"):
        return [c.credit for c in choices]
    share = (_HUNDRED / max(len(right), 1)).quantize(Decimal("0.00001"))
    return [share if c.is_correct else Decimal(-100) for c in choices]


def export_gift(topic: Topic | None = None) -> str:
    questions = Question.objects.select_related("topic").prefetch_related("choices")
    if topic is not None:
        questions = questions.filter(topic=topic)
    exported = [to_gift(q) for q in questions.order_by("topic__order", "topic__slug", "id")]
    scope = f"topic {topic.slug}" if topic else "the whole bank"
    return gift.write_gift(exported, header=f"Muscle Spasms, Explained: questions of {scope}")


# -- Aiken -------------------------------------------------------------------------------

_AIKEN_OPTION = re.compile(r"^([A-Z])[.)]\s+(.+)$")
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*([A-Z])\s*$")


def parse_aiken(text: str) -> gift.GiftDocument:
    """Aiken: a question line, options 'A. text' or 'A) text', then 'ANSWER: B'."""
    document = gift.GiftDocument()
    lines = text.lstrip("\ufeff").splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        start = index + 1
        prompt_lines: list[str] = []
        options: list[tuple[str, str]] = []
        answer = None
        while index < len(lines) and lines[index].strip():
            line = lines[index].strip()
            option = _AIKEN_OPTION.match(line)
            answer_match = _AIKEN_ANSWER.match(line)
            if answer_match:
                answer = answer_match.group(1)
                index += 1
                break
            if option and prompt_lines:
                options.append((option.group(1), option.group(2).strip()))
            elif options:
                document.problems.append(
                    gift.GiftProblem(index + 1, "an option must look like 'A. text'")
                )
            else:
                prompt_lines.append(line)
            index += 1
        letters = [letter for letter, _ in options]
        if not prompt_lines:
            document.problems.append(gift.GiftProblem(start, "a question has no text"))
        elif len(options) < 2:
            document.problems.append(gift.GiftProblem(start, "a question needs two options"))
        elif answer is None:
            document.problems.append(gift.GiftProblem(start, "the 'ANSWER: X' line is missing"))
        elif answer not in letters:
            document.problems.append(gift.GiftProblem(start, f"ANSWER: {answer} names no option"))
        else:
            document.questions.append(
                gift.GiftQuestion(
                    line=start,
                    kind=gift.SINGLE,
                    prompt=" ".join(prompt_lines),
                    choices=[
                        gift.GiftChoice(text, _HUNDRED if letter == answer else Decimal(0))
                        for letter, text in options
                    ],
                )
            )
        while index < len(lines) and lines[index].strip():
            index += 1  # skip the rest of a broken block
    return document


# -- planning and applying an import ------------------------------------------------------


@dataclass
class PlannedQuestion:
    line: int
    key: str
    topic: Topic
    source: gift.GiftQuestion
    action: str  # "create", "update" or "unchanged"
    existing: Question | None = None

    @property
    def prompt(self) -> str:
        return self.source.prompt

    @property
    def kind_label(self) -> str:
        return QuestionType(self.source.kind).label


@dataclass
class ImportPlan:
    filename: str
    questions: list[PlannedQuestion] = field(default_factory=list)
    errors: list[gift.GiftProblem] = field(default_factory=list)
    skipped: list[gift.GiftProblem] = field(default_factory=list)

    @property
    def can_apply(self) -> bool:
        return not self.errors and any(q.action != "unchanged" for q in self.questions)

    def count(self, action: str) -> int:
        return sum(1 for q in self.questions if q.action == action)

    def summary(self) -> str:
        text = (
            f"{self.count('create')} to create, {self.count('update')} to update, "
            f"{self.count('unchanged')} unchanged, {len(self.skipped)} skipped"
        )
        return text + (f", {len(self.errors)} error(s)" if self.errors else "")


class ImportRefused(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        super().__init__("; ".join(str(problem) for problem in plan.errors))


def decode_upload(raw: bytes) -> tuple[str | None, gift.GiftProblem | None]:
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        return None, gift.GiftProblem(
            line, f"the file is not UTF-8 text (byte 0x{byte}); save it as UTF-8 and retry"
        )


def _topic_for(category: str, topics: Iterable[Topic]) -> Topic | None:
    name = category.strip().strip("/").rsplit("/", 1)[-1].strip()
    if not name:
        return None
    for topic in topics:
        if topic.slug == slugify(name) or topic.title.casefold() == name.casefold():
            return topic
    return None


def _key_for(source: gift.GiftQuestion) -> str:
    return slugify(source.title)[:100] if source.title else f"q-{uuid.uuid4().hex[:12]}"


def _differs(question: Question, source: gift.GiftQuestion, topic: Topic) -> bool:
    values = question_values(source, topic)
    if any(getattr(question, name) != value for name, value in values.items()):
        return True
    wanted = choice_rows(source)
    have = list(question.choices.all())
    if len(wanted) != len(have):
        return True
    return any(
        getattr(choice, name) != value
        for choice, row in zip(have, wanted, strict=True)
        for name, value in row.items()
    )


def plan_import(
    raw: bytes | str, *, filename: str = "", topic: Topic | None = None, file_format: str = "gift"
) -> ImportPlan:
    plan = ImportPlan(filename=filename)
    if isinstance(raw, bytes):
        text, problem = decode_upload(raw)
        if problem is not None:
            plan.errors.append(problem)
            return plan
    else:
        text = raw
    document = parse_aiken(text) if file_format == "aiken" else gift.parse_gift(text)
    for problem in document.problems:
        (plan.skipped if problem.kind == gift.SKIPPED else plan.errors).append(problem)

    topics = list(Topic.objects.all())
    keys = [_key_for(source) for source in document.questions]
    existing = {
        q.key: q for q in Question.objects.filter(key__in=keys).prefetch_related("choices")
    }
    seen: set[str] = set()
    for source, key in zip(document.questions, keys, strict=True):
        target = topic or _topic_for(source.category, topics)
        if target is None:
            where = (
                f"category {source.category!r} matches no topic"
                if source.category
                else ("no $CATEGORY names its topic")
            )
            plan.errors.append(gift.GiftProblem(source.line, f"{where}; choose a topic"))
            continue
        if key in seen:
            plan.errors.append(gift.GiftProblem(source.line, f"the key {key!r} is used twice"))
            continue
        seen.add(key)
        problems = answerability(source)
        plan.errors.extend(gift.GiftProblem(source.line, message) for message in problems)
        current = existing.get(key)
        if current is None:
            action = "create"
        else:
            action = "update" if _differs(current, source, target) else "unchanged"
        plan.questions.append(PlannedQuestion(source.line, key, target, source, action, current))
    plan.errors.sort(key=lambda problem: problem.line)
    return plan


def sync_choices(question: Question, rows: list[dict[str, Any]]) -> int:
    """Make the question's choices equal `rows`, updating in place so ids stay put.

    Returns how many rows were written.
    """
    existing = list(question.choices.order_by("order", "id"))
    written = 0
    for position, row in enumerate(rows):
        values = {**row, "order": position}
        if position < len(existing):
            choice = existing[position]
            changed = [name for name, value in values.items() if getattr(choice, name) != value]
            if changed:
                for name in changed:
                    setattr(choice, name, values[name])
                choice.save(update_fields=changed)
                written += 1
        else:
            Choice.objects.create(question=question, **values)
            written += 1
    for surplus in existing[len(rows) :]:
        surplus.delete()
        written += 1
    return written


@transaction.atomic
def apply_import(plan: ImportPlan) -> ImportPlan:
    if plan.errors:
        raise ImportRefused(plan)
    for planned in plan.questions:
        if planned.action == "unchanged":
            continue
        values = question_values(planned.source, planned.topic)
        question = planned.existing
        if question is None:
            question = Question.objects.create(
                key=planned.key, origin=QuestionOrigin.IMPORT, **values
            )
        else:
            for name, value in values.items():
                setattr(question, name, value)
            question.save()
        sync_choices(question, choice_rows(planned.source))
    return plan
