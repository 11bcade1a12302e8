"""Load the course from fixtures/: an idempotent upsert by stable keys.

Lessons are Markdown files with YAML front matter (``lessons/NN-slug.md``); questions are
GIFT files (``questions/NN-slug.gift``) whose ``$CATEGORY`` is the topic's slug and whose
``::title::`` is the question's stable key. A ``// anchor: section-id`` comment above a
question names the lesson section that teaches it.

Everything is read and checked before anything is written, and the write is one
transaction: a course with a mistake in it changes nothing. Learner data is never touched;
a question removed from the files is unpublished, not deleted. A topic, lesson or question
a teacher edited in the admin since the files last wrote it is left as it is, and named
in the report. New topics are published; an existing topic keeps its published state.
"""

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from django.conf import settings
from django.db import transaction
from django.db.models import Model

from learning import page_cache, question_types
from learning.diagrams import DiagramError, read_diagrams
from learning.formats import gift
from learning.glossary import GlossaryError, read_glossary, render_lesson_with_glossary
from learning.models import Lesson, Question, QuestionOrigin, Quiz, Topic
from learning.question_bank import authoring_errors, imported, sync_choices
from learning.rendering import diagram_problems, field_problems, render_lesson
from learning.versions import snapshot_digest, snapshot_question

_QUIZ_SETTINGS = ("question_count", "pass_mark", "shuffle_questions", "shuffle_choices")


class ContentError(Exception):
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class LessonSource:
    path: Path
    slug: str
    title: str
    order: int
    summary: str
    body: str
    quiz: dict[str, Any]
    anchors: set[str]


@dataclass
class CourseSource:
    lessons: list[LessonSource] = field(default_factory=list)
    questions: list[tuple[Path, gift.GiftQuestion]] = field(default_factory=list)


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    unpublished: int = 0
    # Rows edited in the admin since the files last wrote them, left as they are.
    kept: list[str] = field(default_factory=list)

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        def fmt(bucket: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(bucket.items())) or "nothing"

        text = f"created {fmt(self.created)}; updated {fmt(self.updated)}"
        if self.unpublished:
            text += f"; unpublished {self.unpublished} question(s) no longer in the files"
        if self.kept:
            text += (
                f"; kept {len(self.kept)} edited in the admin since the files last wrote "
                f"them, not overwritten: {', '.join(self.kept)}"
            )
        return text


def _split_front_matter(text: str, path: Path) -> tuple[dict[str, Any], str]:
    lines = text.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        raise ContentError([f"{path}: a lesson must start with '---' front matter"])
    for index, line in enumerate(lines[1:], start=1):
        if line.strip() == "---":
            try:
                meta = yaml.safe_load("".join(lines[1:index])) or {}
            except yaml.YAMLError as error:
                raise ContentError([f"{path}: front matter is not valid YAML: {error}"]) from None
            if not isinstance(meta, dict):
                raise ContentError([f"{path}: front matter must be 'key: value' lines"])
            return meta, "".join(lines[index + 1 :])
    raise ContentError([f"{path}: the front matter is never closed with '---'"])


def read_lesson(path: Path, diagram_names: frozenset[str] = frozenset()) -> LessonSource:
    meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
    missing = [key for key in ("slug", "title", "order") if key not in meta]
    if missing:
        raise ContentError([f"{path}: front matter lacks {', '.join(missing)}"])
    quiz = meta.get("quiz") or {}
    unknown = set(quiz) - set(_QUIZ_SETTINGS)
    if unknown:
        raise ContentError([f"{path}: unknown quiz setting(s) {', '.join(sorted(unknown))}"])
    problems = field_problems("body_markdown", body) or diagram_problems(body, diagram_names)
    if problems:
        raise ContentError([f"{path}: {problem}" for problem in problems])
    rendered = render_lesson(body)
    return LessonSource(
        path=path,
        slug=str(meta["slug"]),
        title=str(meta["title"]),
        order=int(meta["order"]),
        summary=str(meta.get("summary", "")).strip(),
        body=body.strip() + "\n",
        quiz=dict(quiz),
        anchors={section.anchor for section in rendered.sections},
    )


def read_course(directory: Path) -> CourseSource:
    """Read and check every lesson and question file; raise ContentError listing problems."""
    course = CourseSource()
    problems: list[str] = []
    diagram_names: frozenset[str] = frozenset()
    try:
        registry = read_diagrams(directory / "diagrams.yaml", settings.COURSE_DIAGRAMS_DIR)
        diagram_names = frozenset(diagram.name for diagram in registry)
    except DiagramError as error:
        problems.append(str(error))
    for path in sorted((directory / "lessons").glob("*.md")):
        try:
            course.lessons.append(read_lesson(path, diagram_names))
        except ContentError as error:
            problems.extend(error.problems)
    try:
        read_glossary(directory / "glossary.yaml")
    except GlossaryError as error:
        problems.append(str(error))
    lessons_by_slug = {lesson.slug: lesson for lesson in course.lessons}
    if len(lessons_by_slug) != len(course.lessons):
        problems.append("two lesson files share a slug")

    seen_keys: dict[str, str] = {}
    for path in sorted((directory / "questions").glob("*.gift")):
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as error:
            problems.append(f"{path}: not UTF-8 text ({error.reason} at byte {error.start})")
            continue
        document = question_types.parse_gift(text)
        problems.extend(f"{path}:{problem}" for problem in document.problems)
        for question in document.questions:
            where = f"{path}:line {question.line}"
            lesson = lessons_by_slug.get(question.category)
            if lesson is None:
                problems.append(f"{where}: $CATEGORY {question.category!r} is no lesson's slug")
                continue
            if not question.title:
                problems.append(f"{where}: give the question a stable key as ::key::")
                continue
            if question.title in seen_keys:
                problems.append(f"{where}: key {question.title!r} is used twice")
                continue
            seen_keys[question.title] = where
            anchor = question.metadata.get("anchor", "")
            if anchor and anchor not in lesson.anchors:
                problems.append(f"{where}: anchor {anchor!r} is not a section of {lesson.path}")
            problems.extend(f"{where}: {error}" for error in authoring_errors(question))
            course.questions.append((path, question))
    if problems:
        raise ContentError(problems)
    return course


def _upsert[M: Model](
    model: type[M], lookup: dict[str, Any], values: dict[str, Any], report: LoadReport, kind: str
) -> tuple[M, str]:
    """Create or update one row; returns it and "created", "updated" or "unchanged"."""
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values)
        instance.save()
        report.count(report.created, kind)
        return instance, "created"
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    if not changed:
        return instance, "unchanged"
    for name in changed:
        setattr(instance, name, values[name])
    instance.save(update_fields=changed)
    report.count(report.updated, kind)
    return instance, "updated"


# -- what the files last wrote ------------------------------------------------------------
#
# Each topic, lesson and question keeps `files_digest`, a digest of what this loader last
# wrote into it. A row whose content no longer matches its digest was edited in the admin
# since: it is kept as the teacher left it and named in the report. An empty digest is a
# row loaded before digests were kept, taken to be as the files left it (the loader always
# overwrote such rows); a question made in the admin or imported that happens to use a
# file's key is never taken over.


def _as_saved_by_a_form(value: Any) -> Any:
    """`value` with its texts as an admin form saves them unchanged (no surrounding
    whitespace, lines ending in \n rather than a browser's \r\n): saving a row without
    changing it is not an edit."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").strip()
    if isinstance(value, dict):
        return {key: _as_saved_by_a_form(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_as_saved_by_a_form(item) for item in value]
    return value


def _fields_digest(values: dict[str, Any]) -> str:
    return snapshot_digest(_as_saved_by_a_form(values))


def _upsert_unless_edited[M: (Topic, Lesson)](
    model: type[M],
    lookup: dict[str, Any],
    values: dict[str, Any],
    report: LoadReport,
    kind: str,
    name: str,
    *,
    new_values: dict[str, Any] | None = None,
    replace_edits: bool = False,
) -> M:
    """Create the row, or update it from the files unless it was edited since the files
    last wrote it (or `replace_edits`); `new_values` are set only on a row created now."""
    wanted_digest = _fields_digest(values)
    instance = model._default_manager.filter(**lookup).first()
    if instance is None:
        instance = model(**lookup, **values, **(new_values or {}), files_digest=wanted_digest)
        instance.save()
        report.count(report.created, kind)
        return instance
    as_stored = _fields_digest({attribute: getattr(instance, attribute) for attribute in values})
    if not replace_edits and instance.files_digest and instance.files_digest != as_stored:
        report.kept.append(name)
        return instance
    changed: list[str] = [
        attribute for attribute, value in values.items() if getattr(instance, attribute) != value
    ]
    if not changed and instance.files_digest == wanted_digest:
        return instance
    for attribute in changed:
        setattr(instance, attribute, values[attribute])
    instance.files_digest = wanted_digest
    instance.save(update_fields=[*changed, "files_digest"])
    if changed:
        report.count(report.updated, kind)
    return instance


def _rerender_if_stale(lesson: Lesson) -> None:
    """Render the lesson again when its stored HTML is not what its Markdown renders to now
    (the glossary or a diagram changed). Not an edit: the digest is of the Markdown, which
    is untouched."""
    if render_lesson_with_glossary(lesson.body_markdown).html != lesson.body_html:
        lesson.save(update_fields=["body_html", "sections"])


def _question_digest(question: Question, *, published: bool) -> str:
    """The question's content (its version snapshot, choices and all) and published state."""
    return _fields_digest({**snapshot_question(question), "is_published": published})


class _Edits(Enum):
    NONE = "as the files left it"
    PUBLISHED_STATE = "only published or unpublished in the admin"
    CONTENT = "edited in the admin"


def _question_edits(question: Question, *, replace_edits: bool) -> _Edits:
    """What was changed in the admin since the files last wrote this question (load with
    select_related("topic") and prefetch_related("choices")); with `replace_edits`, a
    course question's edits are ignored (to be overwritten)."""
    if replace_edits and question.origin == QuestionOrigin.FIXTURES:
        return _Edits.NONE
    if not question.files_digest:
        return _Edits.NONE if question.origin == QuestionOrigin.FIXTURES else _Edits.CONTENT
    if question.files_digest == _question_digest(question, published=question.is_published):
        return _Edits.NONE
    if question.files_digest == _question_digest(question, published=not question.is_published):
        return _Edits.PUBLISHED_STATE
    return _Edits.CONTENT


def _load_question(
    source: gift.GiftQuestion,
    topic: Topic,
    existing: Question | None,
    report: LoadReport,
    *,
    replace_edits: bool,
) -> tuple[int, bool] | None:
    """Create or update one question from the files, unless it was edited in the admin.

    Returns (its id, the published state the files want) when its digest is to be stored,
    None when it was kept as the teacher left it.
    """
    wanted = imported(source)
    values = {**wanted.values, "topic": topic}
    if existing is None:
        question = Question.objects.create(
            key=source.title, origin=QuestionOrigin.FIXTURES, is_published=True, **values
        )
        sync_choices(question, wanted.rows)
        report.count(report.created, "questions")
        return question.pk, True
    edits = _question_edits(existing, replace_edits=replace_edits)
    if edits == _Edits.CONTENT:
        report.kept.append(f"question {source.title}")
        return None
    # The files publish their questions, but one a teacher (un)published keeps that state.
    if edits == _Edits.NONE:
        values["is_published"] = True
    changed = [name for name, value in values.items() if getattr(existing, name) != value]
    for name in changed:
        setattr(existing, name, values[name])
    if existing.origin != QuestionOrigin.FIXTURES:
        existing.origin = QuestionOrigin.FIXTURES
        changed.append("origin")
    if changed:
        existing.save(update_fields=[*changed, "updated_at"])
    answers_written = sync_choices(existing, wanted.rows)
    if (set(changed) - {"origin", "is_published"}) or answers_written:
        report.count(report.updated, "questions")
    return existing.pk, True


def _withdraw_question(
    question: Question, report: LoadReport, *, replace_edits: bool
) -> tuple[int, bool] | None:
    """A course question no longer in the files: unpublished (never deleted: learners'
    answers point at it), unless it was edited in the admin."""
    edits = _question_edits(question, replace_edits=replace_edits)
    if edits == _Edits.CONTENT:
        report.kept.append(f"question {question.key} (no longer in the files)")
        return None
    if edits == _Edits.NONE and question.is_published:
        question.is_published = False
        question.save(update_fields=["is_published", "updated_at"])
        report.unpublished += 1
    return question.pk, False


def _store_question_digests(wanted_published: dict[int, bool]) -> None:
    """Remember what the files wrote, read back from the database (so decimals look as
    they will on the next run)."""
    questions = list(
        Question.objects.filter(pk__in=wanted_published)
        .select_related("topic")
        .prefetch_related("choices")
    )
    stale = []
    for question in questions:
        digest = _question_digest(question, published=wanted_published[question.pk])
        if question.files_digest != digest:
            question.files_digest = digest
            stale.append(question)
    Question.objects.bulk_update(stale, ["files_digest"])


@transaction.atomic
def load_course(directory: Path, *, replace_edits: bool = False) -> LoadReport:
    """Load the course from `directory`; with `replace_edits`, course rows edited in the
    admin are brought back to the files too (questions made in the admin or imported
    never are)."""
    course = read_course(directory)
    report = LoadReport()
    topics: dict[str, Topic] = {}
    for lesson in course.lessons:
        topic = _upsert_unless_edited(
            Topic,
            {"slug": lesson.slug},
            {"title": lesson.title, "order": lesson.order, "summary": lesson.summary},
            report,
            "topics",
            f"topic {lesson.slug}",
            new_values={"is_published": True},  # an existing topic keeps its state
            replace_edits=replace_edits,
        )
        topics[lesson.slug] = topic
        stored_lesson = _upsert_unless_edited(
            Lesson,
            {"topic": topic},
            {"title": lesson.title, "body_markdown": lesson.body},
            report,
            "lessons",
            f"lesson of {lesson.slug}",
            replace_edits=replace_edits,
        )
        _rerender_if_stale(stored_lesson)
        quiz = Quiz.objects.filter(topic=topic).first()
        if quiz is None:
            Quiz.objects.create(topic=topic, **lesson.quiz)
            report.count(report.created, "quizzes")
        elif lesson.quiz:
            _upsert(Quiz, {"topic": topic}, lesson.quiz, report, "quizzes")

    with_content = Question.objects.select_related("topic").prefetch_related("choices")
    loaded_keys = [source.title for _path, source in course.questions]
    candidates = list(with_content.filter(key__in=loaded_keys))
    # A question is known by its key within its topic; a course question whose file moved
    # it to another topic is found by its key alone (course keys are unique in the files).
    in_place = {(question.topic_id, question.key): question for question in candidates}
    course_by_key = {q.key: q for q in candidates if q.origin == QuestionOrigin.FIXTURES}
    claimed: set[int] = set()
    wanted_published: dict[int, bool] = {}
    for _path, source in course.questions:
        topic = topics[source.category]
        current = in_place.get((topic.pk, source.title))
        if current is None:
            moved = course_by_key.get(source.title)
            if moved is not None and moved.pk not in claimed:
                current = moved
        if current is not None:
            claimed.add(current.pk)
        loaded = _load_question(source, topic, current, report, replace_edits=replace_edits)
        if loaded is not None:
            claimed.add(loaded[0])
            wanted_published[loaded[0]] = loaded[1]
    removed = with_content.filter(origin=QuestionOrigin.FIXTURES).exclude(pk__in=claimed)
    for question in removed:
        withdrawn = _withdraw_question(question, report, replace_edits=replace_edits)
        if withdrawn is not None:
            wanted_published[withdrawn[0]] = withdrawn[1]
    _store_question_digests(wanted_published)
    page_cache.bump_content()
    return report
