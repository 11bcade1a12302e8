"""Import and export the question bank: GIFT (Moodle's text format), Aiken and Moodle XML.

An import is planned first (`plan_import`): every question is parsed, given a topic and a
key, checked, and sorted into created, updated or unchanged, and every problem is listed
with its line. `apply_import` then writes the plan in one transaction, and refuses a plan
with errors: a malformed file never half-imports. Questions of a type we do not support are
reported and skipped; the rest of the file still imports.
"""

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.text import slugify

from learning import question_types
from learning.formats import gift, moodle_xml
from learning.formats.aiken import parse_aiken
from learning.models import Choice, Question, QuestionOrigin, Topic
from learning.question_types.base import ANCHOR_TAG, ImportedQuestion, keys_of_rows
from learning.rendering import field_problems

# -- models <-> GIFT dataclasses ---------------------------------------------------------


def imported(source: gift.GiftQuestion) -> ImportedQuestion:
    """The Question fields (but the topic) and Choice rows a typed GIFT question sets."""
    return question_types.get(source.kind).from_gift(source)


def authoring_errors(source: gift.GiftQuestion) -> list[str]:
    """Why a GIFT question could not be answered right."""
    return question_errors(source.kind, imported(source))


def question_errors(kind: str, question: ImportedQuestion) -> list[str]:
    """Why a question read from a file could not be answered right."""
    # Markdown that would render too slowly or too deep is refused first, and alone: the
    # text is not worth checking further.
    too_heavy = [
        message
        for name in ("prompt", "explanation")
        for message in field_problems(name, str(question.values.get(name) or ""))
    ]
    for number, row in enumerate(question.rows, start=1):
        for name in ("text", "feedback"):
            too_heavy.extend(
                f"answer {number}: {message}"
                for message in field_problems(name, str(row.get(name) or ""))
            )
    if too_heavy:
        return too_heavy
    return question_types.get(kind).authoring_errors(question.values, keys_of_rows(question.rows))


def to_gift(question: Question) -> gift.GiftQuestion:
    choices = list(question.choices.all())
    answers = question_types.get(question.type).to_gift(question, choices)
    metadata = {"anchor": question.lesson_anchor} if question.lesson_anchor else {}
    return gift.GiftQuestion(
        line=0,
        syntax=answers.syntax,
        kind=question.type,
        prompt=question.prompt,
        title=question.key,
        category=question.topic.slug,
        text_format="markdown",
        choices=answers.choices,
        numeric_answers=answers.numeric_answers,
        general_feedback=question.explanation,
        metadata=metadata,
    )


def export_gift(topic: Topic | None = None) -> str:
    questions = Question.objects.select_related("topic").prefetch_related("choices")
    if topic is not None:
        questions = questions.filter(topic=topic)
    exported = [to_gift(q) for q in questions.order_by("topic__order", "topic__slug", "id")]
    scope = f"topic {topic.slug}" if topic else "the whole bank"
    return gift.write_gift(exported, header=f"Muscle Spasms, Explained: questions of {scope}")


def to_moodle_xml(
    question: Question,
) -> tuple[moodle_xml.MoodleQuestion, moodle_xml.MoodleAnswerBlock] | None:
    """The question in Moodle XML, or None when Moodle has no type for it."""
    choices = list(question.choices.all())
    block = question_types.get(question.type).to_moodle_xml(question, choices)
    if block is None:
        return None
    anchor = [f"{ANCHOR_TAG}{question.lesson_anchor}"] if question.lesson_anchor else []
    header = moodle_xml.MoodleQuestion(
        line=0,
        moodle_type=block.moodle_type,
        name=question.key,
        category=moodle_xml.category_path(question.topic.title),
        question_text=moodle_xml.MoodleText(question.prompt, moodle_xml.MARKDOWN),
        general_feedback=moodle_xml.MoodleText(question.explanation, moodle_xml.MARKDOWN),
        tags=anchor,
    )
    return header, block


def export_moodle_xml(topic: Topic | None = None) -> str:
    """The bank (or one topic) as Moodle XML: a category per topic ($course$/top/<title>),
    each question named by its key, its texts in Markdown (which Moodle reads)."""
    questions = Question.objects.select_related("topic").prefetch_related("choices")
    if topic is not None:
        questions = questions.filter(topic=topic)
    ordered = questions.order_by("topic__order", "topic__slug", "id")
    exported = [pair for pair in (to_moodle_xml(q) for q in ordered) if pair is not None]
    scope = f"topic {topic.slug}" if topic else "the whole bank"
    return moodle_xml.write_moodle_xml(
        exported, comment=f"Muscle Spasms, Explained: questions of {scope}"
    )


@dataclass(frozen=True)
class ExportFormat:
    write: Callable[[Topic | None], str]  # the bank (or one topic) as a file's text
    extension: str
    content_type: str


# The export formats, by the name `--format` and the admin's export link use.
EXPORT_FORMATS: dict[str, ExportFormat] = {
    "gift": ExportFormat(export_gift, "gift", "text/plain; charset=utf-8"),
    "moodle-xml": ExportFormat(export_moodle_xml, "xml", "application/xml; charset=utf-8"),
}


# -- reading a file, whatever its format ---------------------------------------------------


@dataclass(frozen=True)
class SourceQuestion:
    """A question read from a file, in any format, with its type decided."""

    line: int  # where it starts in the file, for messages
    title: str  # GIFT's ::title::, Moodle XML's <name>: the key is made from it
    category: str  # GIFT's $CATEGORY, Moodle XML's category: may name a topic
    kind: str  # the question type's value
    question: ImportedQuestion  # the Question fields (but the topic) and Choice rows

    @property
    def prompt(self) -> str:
        return str(self.question.values.get("prompt", ""))


@dataclass
class SourceDocument:
    questions: list[SourceQuestion] = field(default_factory=list)
    problems: list[gift.GiftProblem] = field(default_factory=list)


def _from_gift_document(document: gift.GiftDocument) -> SourceDocument:
    typed = question_types.read_gift(document)
    return SourceDocument(
        questions=[
            SourceQuestion(
                source.line, source.title, source.category, source.kind, imported(source)
            )
            for source in typed.questions
        ],
        problems=typed.problems,
    )


def read_gift_file(text: str) -> SourceDocument:
    return _from_gift_document(gift.parse_gift(text))


def read_aiken_file(text: str) -> SourceDocument:
    return _from_gift_document(parse_aiken(text))


def read_moodle_xml_file(text: str) -> SourceDocument:
    typed = question_types.read_moodle_xml(moodle_xml.parse_moodle_xml(text))
    return SourceDocument(
        questions=[
            SourceQuestion(
                source.line,
                source.name,
                source.category_name,
                source.kind,
                question_types.get(source.kind).from_moodle_xml(source),
            )
            for source in typed.questions
        ],
        problems=typed.problems,
    )


# The import formats: each reads a file's text into questions and problems.
READERS: dict[str, Callable[[str], SourceDocument]] = {
    "gift": read_gift_file,
    "aiken": read_aiken_file,
    "moodle-xml": read_moodle_xml_file,
}


# -- planning and applying an import ------------------------------------------------------


@dataclass
class PlannedQuestion:
    line: int
    key: str
    topic: Topic
    source: SourceQuestion
    action: str  # "create", "update" or "unchanged"
    existing: Question | None = None

    @property
    def prompt(self) -> str:
        return self.source.prompt

    @property
    def kind_label(self) -> str:
        return question_types.label(self.source.kind)


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


def decode_upload(raw: bytes) -> str | gift.GiftProblem:
    """The uploaded file's text, or the problem that keeps it from being text."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        return gift.GiftProblem(
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


def _key_for(source: SourceQuestion) -> str:
    return slugify(source.title)[:100] if source.title else f"q-{uuid.uuid4().hex[:12]}"


def _differs(question: Question, source: SourceQuestion, topic: Topic) -> bool:
    wanted_question = source.question
    values = {**wanted_question.values, "topic": topic}
    if any(getattr(question, name) != value for name, value in values.items()):
        return True
    wanted = wanted_question.rows
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
    text = decode_upload(raw) if isinstance(raw, bytes) else raw
    if isinstance(text, gift.GiftProblem):
        plan.errors.append(text)
        return plan
    document = READERS[file_format](text)
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
        problems = question_errors(source.kind, source.question)
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
        wanted = planned.source.question
        values = {**wanted.values, "topic": planned.topic}
        question = planned.existing
        if question is None:
            question = Question.objects.create(
                key=planned.key, origin=QuestionOrigin.IMPORT, **values
            )
        else:
            for name, value in values.items():
                setattr(question, name, value)
            question.save()
        sync_choices(question, wanted.rows)
    return plan
