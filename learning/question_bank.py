"""Import and export the question bank, in any format of `READERS` / `EXPORT_FORMATS`:
GIFT (Moodle's text format), Aiken and Moodle XML.

An import is planned first (`plan_import`): every question is read, given a topic and a
key, checked, and sorted into created, updated (with what changes) or unchanged, and every
problem is listed with its line. `apply_import` then writes the plan in one transaction,
refuses a plan with errors (a malformed file never half-imports) and records the import
(`QuestionImport`), which `undo_import` can take back while no learner has answered since.
Questions of a type we do not support are reported and skipped; the rest still imports.

A question is known by its key within its topic: the file's title (GIFT's ::title::,
Moodle's name) slugged, or the start of its text when it has none, with -2, -3, ... when a
file repeats a name. An import into one topic never reads or changes another topic's
questions.
"""

import hashlib
import json
import secrets
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.admin.models import ADDITION, CHANGE, DELETION, LogEntry
from django.contrib.auth.models import User
from django.core import serializers
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from django.utils.text import slugify

from learning import question_types
from learning.formats import gift, moodle_xml
from learning.formats.aiken import parse_aiken
from learning.models import (
    Attempt,
    AttemptState,
    Choice,
    ImportState,
    ImportVia,
    Lesson,
    Question,
    QuestionImport,
    QuestionOrigin,
    Quiz,
    Response,
    Topic,
)
from learning.question_types.base import ANCHOR_TAG, ImportedQuestion, keys_of_rows
from learning.rendering import field_problems
from learning.versions import snapshot_digest, snapshot_question

# -- models <-> GIFT dataclasses ---------------------------------------------------------


def imported(source: gift.GiftQuestion) -> ImportedQuestion:
    """The Question fields (but the topic) and Choice rows a typed GIFT question sets."""
    return question_types.get(source.kind).from_gift(source)


def authoring_errors(source: gift.GiftQuestion) -> list[str]:
    """Why a GIFT question could not be answered right."""
    return question_errors(source.kind, imported(source))


# More answers than any question a learner could read on one screen: a file with more is
# a mistake or an attack, and each of them would be rendered on every visit.
MAX_ANSWERS = 100


def question_errors(kind: str, question: ImportedQuestion) -> list[str]:
    """Why a question read from a file could not be answered right."""
    if len(question.rows) > MAX_ANSWERS:
        return [f"{len(question.rows)} answers; a question may have at most {MAX_ANSWERS}"]
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


def _html_read_as_markdown(source: gift.GiftQuestion) -> gift.GiftQuestion:
    """A `[html]` question as Moodle reads it: its text and feedback are HTML, which we
    keep as Markdown, sanitized as Moodle XML's HTML is; its options and matching items are
    HTML too, kept as the plain text they show (a short answer is compared as written)."""
    if source.text_format != "html":
        return source

    def markdown(text: str) -> str:
        return moodle_xml.as_markdown(moodle_xml.MoodleText(text, moodle_xml.HTML)) if text else ""

    shown_options = any(choice.marker == "~" or choice.match_text for choice in source.choices)

    def option(text: str) -> str:
        return moodle_xml.as_text(moodle_xml.MoodleText(text, moodle_xml.HTML)) if text else ""

    return replace(
        source,
        text_format="markdown",
        prompt=markdown(source.prompt),
        general_feedback=markdown(source.general_feedback),
        choices=[
            replace(
                choice,
                text=option(choice.text) if shown_options else choice.text,
                feedback=markdown(choice.feedback),
            )
            for choice in source.choices
        ],
        numeric_answers=[
            replace(answer, feedback=markdown(answer.feedback))
            for answer in source.numeric_answers
        ],
    )


def _from_gift_document(document: gift.GiftDocument) -> SourceDocument:
    document = replace(document, questions=[_html_read_as_markdown(q) for q in document.questions])
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
                source.category,
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

_KEY_LENGTH = 100
_BASE_KEY_LENGTH = 90  # room for a "-NN" suffix
_TEXT_KEY_LENGTH = 40  # an untitled question's key: the start of its text, like Moodle
_DIFF_LENGTH = 60


@dataclass(frozen=True)
class NewTopic:
    """A topic a file's category names and the bank does not have yet: the import creates
    it, as a draft."""

    slug: str
    title: str

    def __str__(self) -> str:
        return f"{self.title} (new)"


Target = Topic | NewTopic


@dataclass(frozen=True)
class Change:
    """One difference an update makes: "prompt: old -> new", "answer 3 added: text"."""

    what: str
    old: str = ""
    new: str = ""

    def __str__(self) -> str:
        if self.old and self.new:
            return f"{self.what}: {self.old} -> {self.new}"
        return f"{self.what}: {self.old or self.new}"


@dataclass
class PlannedQuestion:
    line: int
    key: str
    topic: Target
    source: SourceQuestion
    action: str  # "create", "update" or "unchanged"
    existing: Question | None = None
    changes: list[Change] = field(default_factory=list)

    @property
    def prompt(self) -> str:
        return self.source.prompt

    @property
    def kind_label(self) -> str:
        return question_types.label(self.source.kind)


@dataclass
class ImportPlan:
    filename: str
    file_format: str = "gift"
    chosen_topic: Topic | None = None
    questions: list[PlannedQuestion] = field(default_factory=list)
    new_topics: list[NewTopic] = field(default_factory=list)
    errors: list[gift.GiftProblem] = field(default_factory=list)
    skipped: list[gift.GiftProblem] = field(default_factory=list)
    # Parts of questions left out (a Moodle file's images...): those questions still import.
    notes: list[gift.GiftProblem] = field(default_factory=list)

    @property
    def can_apply(self) -> bool:
        return not self.errors and any(q.action != "unchanged" for q in self.questions)

    def count(self, action: str) -> int:
        return sum(1 for q in self.questions if q.action == action)

    def summary(self, *, done: bool = False) -> str:
        """What the import would do (a preview), or what it did (`done`)."""
        created, updated = ("created", "updated") if done else ("to create", "to update")
        text = (
            f"{self.count('create')} {created}, {self.count('update')} {updated}, "
            f"{self.count('unchanged')} unchanged, {len(self.skipped)} skipped"
        )
        if self.notes:
            text += f", {len(self.notes)} with parts left out"
        if self.new_topics:
            text += f", {len(self.new_topics)} new topic(s)"
        return text + (f", {len(self.errors)} error(s)" if self.errors else "")


class ImportRefused(Exception):
    def __init__(self, plan: ImportPlan) -> None:
        self.plan = plan
        super().__init__("; ".join(str(problem) for problem in plan.errors))


def decode_upload(raw: bytes) -> str | gift.GiftProblem:
    """The uploaded file's text, or the problem that keeps it from being text."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        byte = raw[error.start : error.start + 1].hex()
        return gift.GiftProblem(
            line, f"the file is not UTF-8 text (byte 0x{byte}); save it as UTF-8 and retry"
        )
    return refuse_nul(text)


def refuse_nul(text: str) -> str | gift.GiftProblem:
    """The text, or the problem of a NUL in it: no text file has one, and PostgreSQL
    cannot store one."""
    position = text.find("\0")
    if position < 0:
        return text
    line = text.count("\n", 0, position) + 1
    return gift.GiftProblem(
        line,
        "the file holds a NUL character (byte 0x00), so it is not a text file; "
        "save it as UTF-8 text and retry",
    )


def category_name(category: str) -> str:
    """The name a file's category gives its topic, read as Moodle reads a category path in
    any format: its last part (`$course$/top/Heat` names "Heat", `Heat//cold` "Heat/cold");
    "" for none, or for Moodle's root alone."""
    return moodle_xml.category_name(category)


def _slug_or_digest(text: str, *, length: int, prefix: str) -> str:
    slug = slugify(text)[:length].strip("-")
    if slug:
        return slug
    # Nothing slugifiable (only symbols, or a script slugify drops): stable all the same.
    return f"{prefix}-{hashlib.sha256(text.encode()).hexdigest()[:10]}"


class _TopicFinder:
    """Which topic a category names: an existing one by slug or title (case-insensitive),
    else one new topic per name."""

    def __init__(self, topics: Iterable[Topic]) -> None:
        self.topics = list(topics)
        self.new: dict[str, NewTopic] = {}
        self.found: dict[str, Target | None] = {}

    def find(self, category: str) -> Target | None:
        if category not in self.found:
            self.found[category] = self._find(category)
        return self.found[category]

    def _find(self, category: str) -> Target | None:
        name = category_name(category)
        if not name:
            return None
        slug = _slug_or_digest(name, length=50, prefix="topic")
        for topic in self.topics:
            if topic.slug in (slug, slugify(name)) or topic.title.casefold() == name.casefold():
                return topic
        return self.new.setdefault(slug, NewTopic(slug, name[:200]))


def _base_key(source: SourceQuestion) -> str:
    if source.title:
        return _slug_or_digest(source.title, length=_BASE_KEY_LENGTH, prefix="q")
    # The first words of the text (a missing word's blank is no word), cut at a word's end.
    slug = slugify(source.prompt.replace("_", " "))
    if len(slug) > _TEXT_KEY_LENGTH:
        cut = slug[: _TEXT_KEY_LENGTH + 1].rsplit("-", 1)[0]
        slug = cut if len(cut) >= _TEXT_KEY_LENGTH // 2 else slug[:_TEXT_KEY_LENGTH]
    return _slug_or_digest(slug or source.prompt, length=_TEXT_KEY_LENGTH, prefix="q")


def _target_id(target: Target) -> tuple[str, object]:
    return ("topic", target.pk) if isinstance(target, Topic) else ("new", target.slug)


def _keys_for(placed: list[tuple[SourceQuestion, Target]]) -> list[str]:
    """Each question's key in its topic: its base key, or when the file repeats it, the
    base with -2, -3, ... (skipping keys the file gives another question), so the same
    file imported again gets the same keys. Linear: each base remembers its next number."""
    bases = [_base_key(source) for source, _ in placed]
    targets = [_target_id(target) for _, target in placed]
    named = set(zip(targets, bases, strict=True))
    taken: set[tuple[tuple[str, object], str]] = set()
    next_number: dict[tuple[tuple[str, object], str], int] = defaultdict(lambda: 2)
    keys = []
    for base, target in zip(bases, targets, strict=True):
        key = base
        if (target, key) in taken:
            number = next_number[target, base]
            key = f"{base}-{number}"
            while (target, key) in taken or (target, key) in named:
                number += 1
                key = f"{base}-{number}"
            next_number[target, base] = number + 1
        taken.add((target, key))
        keys.append(key)
    return keys


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "(empty)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
    else:
        text = " ".join(str(value).split())
    return text if len(text) <= _DIFF_LENGTH else text[: _DIFF_LENGTH - 1] + "…"


def _label(model: type[Question] | type[Choice], name: str) -> str:
    model_field = model._meta.get_field(name)
    return str(getattr(model_field, "verbose_name", name))


def changes_of(question: Question, source: SourceQuestion) -> list[Change]:
    """What importing `source` over `question` changes: its fields, then its answers (in
    order, as `sync_choices` writes them)."""
    changes = [
        Change(_label(Question, name), _shown(getattr(question, name)), _shown(value))
        for name, value in source.question.values.items()
        if getattr(question, name) != value
    ]
    have = list(question.choices.all())
    wanted = source.question.rows
    for number, (choice, row) in enumerate(zip(have, wanted, strict=False), start=1):
        differing = [name for name, value in row.items() if getattr(choice, name) != value]
        if differing == ["text"]:
            changes.append(Change(f"answer {number}", _shown(choice.text), _shown(row["text"])))
        elif differing:
            where = f"answer {number} ({_shown(choice.text)})"
            changes.extend(
                Change(
                    f"{where} {_label(Choice, name)}",
                    _shown(getattr(choice, name)),
                    _shown(row[name]),
                )
                for name in differing
            )
    for number, row in enumerate(wanted[len(have) :], start=len(have) + 1):
        changes.append(Change(f"answer {number} added", new=_shown(row.get("text", ""))))
    for number, choice in enumerate(have[len(wanted) :], start=len(wanted) + 1):
        changes.append(Change(f"answer {number} removed", old=_shown(choice.text)))
    return changes


def plan_import(
    raw: bytes | str, *, filename: str = "", topic: Topic | None = None, file_format: str = "gift"
) -> ImportPlan:
    plan = ImportPlan(filename=filename, file_format=file_format, chosen_topic=topic)
    reader = READERS.get(file_format)
    if reader is None:
        plan.errors.append(gift.GiftProblem(1, f"no such file format: {file_format!r}"))
        return plan
    text = decode_upload(raw) if isinstance(raw, bytes) else refuse_nul(raw)
    if isinstance(text, gift.GiftProblem):
        plan.errors.append(text)
        return plan
    document = reader(text)
    for problem in document.problems:
        found_in = {gift.SKIPPED: plan.skipped, gift.NOTE: plan.notes}.get(problem.kind)
        (plan.errors if found_in is None else found_in).append(problem)

    finder = _TopicFinder(Topic.objects.all())
    placed: list[tuple[SourceQuestion, Target]] = []
    homeless: list[SourceQuestion] = []
    for source in document.questions:
        target = topic or finder.find(source.category)
        if target is None:
            homeless.append(source)
        else:
            placed.append((source, target))
    if homeless:
        # One problem for the file, not one per question: the fix is one choice.
        plan.errors.append(
            gift.GiftProblem(
                homeless[0].line,
                f"{len(homeless)} question(s), from this line on, have no category naming "
                "their topic (such as $CATEGORY: Heat): choose a topic for the file",
            )
        )
    plan.new_topics = list(finder.new.values()) if topic is None else []

    keys = _keys_for(placed)
    known_topics = {target for _, target in placed if isinstance(target, Topic)}
    existing = {
        (q.topic_id, q.key): q
        for q in Question.objects.filter(topic__in=known_topics, key__in=set(keys))
        .select_related("topic")
        .prefetch_related("choices")
    }
    for (source, target), key in zip(placed, keys, strict=True):
        problems = question_errors(source.kind, source.question)
        plan.errors.extend(gift.GiftProblem(source.line, message) for message in problems)
        current = existing.get((target.pk, key)) if isinstance(target, Topic) else None
        planned = PlannedQuestion(source.line, key, target, source, "create", current)
        if current is not None:
            planned.changes = changes_of(current, source)
            planned.action = "update" if planned.changes else "unchanged"
        plan.questions.append(planned)
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


class _ExactEncoder(json.JSONEncoder):
    """Dates with their microseconds (Django's JSON encoder drops them), so a restored
    question is exactly what it was."""

    def default(self, o: object) -> object:
        if isinstance(o, datetime):
            return o.isoformat()
        if isinstance(o, Decimal):
            return str(o)
        return super().default(o)


def _as_stored(question: Question) -> list[dict[str, Any]]:
    """The question and its choices as Django serializes them, for an undo to save back."""
    objects = [question, *question.choices.order_by("order", "id")]
    return json.loads(json.dumps(serializers.serialize("python", objects), cls=_ExactEncoder))


def _new_topic(new: NewTopic, order: int) -> Topic:
    # A draft: students do not see it until a teacher publishes it.
    return Topic.objects.create(slug=new.slug, title=new.title, order=order, is_published=False)


def _log(user: User | None, questions: list[Question], flag: int, message: str) -> None:
    """Entries in each question's admin History (only for a person: the command line
    has nobody to name)."""
    if user is not None and questions:
        LogEntry.objects.log_actions(user.pk, questions, flag, change_message=message)


@transaction.atomic
def apply_import(
    plan: ImportPlan,
    *,
    user: User | None = None,
    via: str = ImportVia.COMMAND,
    record: QuestionImport | None = None,
) -> QuestionImport:
    """Write the plan, and record what it did (in `record`, a previewed import, or a new
    one). A plan with errors is refused whole."""
    if plan.errors:
        raise ImportRefused(plan)
    last = Topic.objects.order_by("-order").values_list("order", flat=True).first() or 0
    created_topics = {
        new.slug: _new_topic(new, last + number)
        for number, new in enumerate(plan.new_topics, start=1)
    }
    created: list[Question] = []
    updated: list[Question] = []
    entries: list[dict[str, Any]] = []
    for planned in plan.questions:
        if planned.action == "unchanged":
            continue
        wanted = planned.source.question
        topic = (
            planned.topic
            if isinstance(planned.topic, Topic)
            else created_topics[planned.topic.slug]
        )
        question = planned.existing
        before: list[dict[str, Any]] = []
        if question is None:
            # A new question is a draft until a teacher publishes it.
            question = Question.objects.create(
                key=planned.key,
                topic=topic,
                origin=QuestionOrigin.IMPORT,
                is_published=False,
                **wanted.values,
            )
            created.append(question)
        else:
            before = _as_stored(question)
            for name, value in wanted.values.items():
                setattr(question, name, value)
            question.save()
            updated.append(question)
        sync_choices(question, wanted.rows)
        entries.append(
            {
                "id": question.pk,
                "key": question.key,
                "topic": topic.slug,
                "action": planned.action,
                "updated_at": question.updated_at.isoformat(),
                "before": before,
            }
        )
    message = f"Imported from {plan.filename or 'a file'}"
    _log(user, created, ADDITION, message)
    _log(user, updated, CHANGE, message)

    record = record or QuestionImport(filename=plan.filename[:255] or "(unnamed file)")
    if record.user_id is None:
        record.user = user
    record.via = via
    record.file_format = plan.file_format
    record.chosen_topic = plan.chosen_topic
    record.state = ImportState.IMPORTED
    record.imported_at = timezone.now()
    record.text = ""
    record.token = ""
    record.created_count = len(created)
    record.updated_count = len(updated)
    record.unchanged_count = plan.count("unchanged")
    record.skipped_count = len(plan.skipped)
    record.topics_created = [
        {"id": t.pk, "slug": t.slug, "title": t.title} for t in created_topics.values()
    ]
    digests = _content_digests([entry["id"] for entry in entries])
    for entry in entries:
        entry["digest"] = digests[entry["id"]]
    record.questions = entries
    record.save()
    return record


def _as_saved_by_a_form(value: Any) -> Any:
    """`value` with its texts as an admin form saves them unchanged (trimmed, lines ending
    in \n): pressing Save on a question without changing it is not an edit."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, dict):
        return {key: _as_saved_by_a_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_saved_by_a_form(item) for item in value]
    return value


def _content_digests(ids: list[int]) -> dict[int, str]:
    """What each question says (its version snapshot, choices and all), as a digest: an
    import keeps it, so its undo can tell a real edit from a save that changed nothing."""
    digests: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        questions = Question.objects.filter(pk__in=ids[start : start + 500])
        for question in questions.select_related("topic").prefetch_related("choices"):
            snapshot = _as_saved_by_a_form(snapshot_question(question))
            digests[question.pk] = snapshot_digest(snapshot)
    return digests


@transaction.atomic
def run_import(
    raw: bytes | str,
    *,
    filename: str,
    topic: Topic | None,
    file_format: str,
    user: User | None,
    via: str,
    record: QuestionImport | None = None,
) -> tuple[ImportPlan, QuestionImport]:
    """Plan and apply in one transaction, so what is written is what was just planned."""
    plan = plan_import(raw, filename=filename, topic=topic, file_format=file_format)
    return plan, apply_import(plan, user=user, via=via, record=record)


# -- the pending import between the admin's preview and its confirm -------------------------

PREVIEW_LIFETIME = timedelta(days=1)


def save_preview(
    *, text: str, filename: str, file_format: str, topic: Topic | None, user: User
) -> QuestionImport:
    """Keep an uploaded file on the server until its preview is confirmed (a large file
    would bloat the session); previews older than a day are dropped."""
    QuestionImport.objects.filter(
        state=ImportState.PREVIEWED, created_at__lt=timezone.now() - PREVIEW_LIFETIME
    ).delete()
    return QuestionImport.objects.create(
        user=user,
        via=ImportVia.ADMIN,
        filename=filename[:255],
        file_format=file_format,
        chosen_topic=topic,
        state=ImportState.PREVIEWED,
        token=secrets.token_hex(16),
        text=text,
    )


class PreviewExpired(Exception):
    pass


class AlreadyImported(Exception):
    def __init__(self, record: QuestionImport) -> None:
        self.record = record
        super().__init__(f"{record.filename} was already imported.")


@transaction.atomic
def confirm_preview(*, token: str, user: User) -> tuple[ImportPlan, QuestionImport]:
    """Import the file this user previewed (named by its token): planned again and applied
    in one transaction, the record locked so a double click imports once."""
    record = (
        QuestionImport.objects.select_for_update(of=("self",))
        .select_related("chosen_topic")
        .filter(token=token, user=user)
        .first()
        if token
        else None
    )
    if record is None:
        raise PreviewExpired
    if record.state != ImportState.PREVIEWED:
        raise AlreadyImported(record)
    return run_import(
        record.text,
        filename=record.filename,
        topic=record.chosen_topic,
        file_format=record.file_format,
        user=user,
        via=ImportVia.ADMIN,
        record=record,
    )


# -- undoing an import --------------------------------------------------------------------


class UndoRefused(Exception):
    pass


@dataclass
class UndoReport:
    record: QuestionImport
    deleted: int = 0
    restored: int = 0
    topics_deleted: list[str] = field(default_factory=list)
    topics_kept: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Undid the import of {self.record.filename}: {self.deleted} question(s) deleted, "
            f"{self.restored} restored as they were"
        )
        if self.topics_deleted:
            text += f"; topic(s) deleted: {', '.join(self.topics_deleted)}"
        if self.topics_kept:
            text += f"; topic(s) kept because they are in use: {', '.join(self.topics_kept)}"
        return text + "."


def undo_refusal(record: QuestionImport) -> str:
    """Why this import cannot be undone now ("" if it can)."""
    if record.state == ImportState.UNDONE:
        when = f" on {record.undone_at:%Y-%m-%d %H:%M}" if record.undone_at else ""
        return f"This import was already undone{when}."
    if record.state != ImportState.IMPORTED or record.imported_at is None:
        return "This file was previewed but never imported: there is nothing to undo."
    ids = [entry["id"] for entry in record.questions]
    answered = Response.objects.filter(question_id__in=ids, answered_at__gte=record.imported_at)
    if answered.exists():
        learners = answered.values("attempt__learner").distinct().count()
        return (
            f"{learners} learner(s) have answered questions this import created or changed, "
            "so undoing it would change what they were asked. Edit or unpublish those "
            "questions instead."
        )
    # An attempt started since that drew them would be left with questions it can never
    # answer, and so could never be finished.
    touched = set(ids)
    drawn_by = {
        attempt.learner_id
        for attempt in Attempt.objects.filter(
            state=AttemptState.IN_PROGRESS, started_at__gte=record.imported_at
        ).only("learner_id", "question_ids")
        if not touched.isdisjoint(attempt.question_ids)
    }
    if drawn_by:
        return (
            f"{len(drawn_by)} learner(s) have an attempt under way with questions this "
            "import created or changed, so undoing it would take questions out of it. "
            "Edit or unpublish those questions instead."
        )
    current = Question.objects.in_bulk(ids)
    saved_since = {
        entry["id"]
        for entry in record.questions
        if entry["id"] in current
        and current[entry["id"]].updated_at.isoformat() != entry["updated_at"]
    }
    # Saved since, but still saying what the import wrote: not an edit (an import recorded
    # before digests were kept counts any save as one).
    digests = _content_digests(sorted(saved_since))
    edited = []
    for entry in record.questions:
        if entry["id"] not in current:
            if entry["action"] == "update":
                edited.append(entry["key"])  # deleted since: nothing to restore it over
        elif entry["id"] in saved_since and digests[entry["id"]] != entry.get("digest"):
            edited.append(entry["key"])
    if edited:
        return (
            "These questions were edited or deleted after the import, and undoing it would "
            f"throw that work away: {', '.join(edited)}. Undo the later change first."
        )
    return ""


def _topic_in_use(topic: Topic) -> bool:
    return (
        topic.questions.exists()
        or Lesson.objects.filter(topic=topic).exists()
        or Quiz.objects.filter(topic=topic).exists()
        or topic.progress.exists()
    )


@transaction.atomic
def undo_import(*, record_id: int, user: User | None) -> UndoReport:
    """Delete what the import created and save back what it updated, exactly as it was;
    refused (and nothing changed) once a learner has answered since, or a question was
    edited since, or when already undone."""
    record = QuestionImport.objects.select_for_update().get(pk=record_id)
    refusal = undo_refusal(record)
    if refusal:
        raise UndoRefused(refusal)
    report = UndoReport(record)
    message = f"Undid the import of {record.filename}"
    created_ids = [e["id"] for e in record.questions if e["action"] == "create"]
    created = list(Question.objects.filter(pk__in=created_ids))
    _log(user, created, DELETION, message)
    try:
        report.deleted = len(created)
        Question.objects.filter(pk__in=created_ids).delete()
    except ProtectedError as error:
        raise UndoRefused(
            "A learner's attempt or review already holds a question this import created; "
            "unpublish it instead."
        ) from error
    restored: list[Question] = []
    for entry in record.questions:
        if entry["action"] != "update":
            continue
        stored = list(serializers.deserialize("python", entry["before"]))
        kept_choice_ids = [item.object.pk for item in stored if isinstance(item.object, Choice)]
        Choice.objects.filter(question_id=entry["id"]).exclude(pk__in=kept_choice_ids).delete()
        for item in stored:
            item.save()  # a raw save: every field as it was, updated_at included
        restored.append(Question.objects.get(pk=entry["id"]))
    report.restored = len(restored)
    _log(user, restored, CHANGE, message)
    for made in record.topics_created:
        topic = Topic.objects.filter(pk=made["id"]).first()
        if topic is None:
            continue
        if _topic_in_use(topic):
            report.topics_kept.append(topic.title)
        else:
            topic.delete()
            report.topics_deleted.append(made["title"])
    record.state = ImportState.UNDONE
    record.undone_at = timezone.now()
    record.undone_by = user
    record.save(update_fields=["state", "undone_at", "undone_by"])
    return report
