"""Load the course from fixtures/: an idempotent upsert by stable keys.

Lessons are Markdown files with YAML front matter (``lessons/NN-slug.md``); questions are
GIFT files (``questions/NN-slug.gift``) whose ``$CATEGORY`` is the topic's slug and whose
``::title::`` is the question's stable key. A ``// anchor: section-id`` comment above a
question names the lesson section that teaches it.

Everything is read and checked before anything is written, and the write is one
transaction: a course with a mistake in it changes nothing. Learner data is never touched;
a question removed from the files is unpublished, not deleted.
"""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from django.db import transaction
from django.db.models import Model

from learning import question_types
from learning.formats import gift
from learning.models import Lesson, Question, QuestionOrigin, Quiz, Topic
from learning.question_bank import authoring_errors, imported, sync_choices
from learning.rendering import field_problems, render_lesson

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

    def count(self, bucket: dict[str, int], kind: str) -> None:
        bucket[kind] = bucket.get(kind, 0) + 1

    def summary(self) -> str:
        def fmt(bucket: dict[str, int]) -> str:
            return ", ".join(f"{n} {kind}" for kind, n in sorted(bucket.items())) or "nothing"

        text = f"created {fmt(self.created)}; updated {fmt(self.updated)}"
        if self.unpublished:
            text += f"; unpublished {self.unpublished} question(s) no longer in the files"
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


def read_lesson(path: Path) -> LessonSource:
    meta, body = _split_front_matter(path.read_text(encoding="utf-8"), path)
    missing = [key for key in ("slug", "title", "order") if key not in meta]
    if missing:
        raise ContentError([f"{path}: front matter lacks {', '.join(missing)}"])
    quiz = meta.get("quiz") or {}
    unknown = set(quiz) - set(_QUIZ_SETTINGS)
    if unknown:
        raise ContentError([f"{path}: unknown quiz setting(s) {', '.join(sorted(unknown))}"])
    problems = field_problems("body_markdown", body)
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
    for path in sorted((directory / "lessons").glob("*.md")):
        try:
            course.lessons.append(read_lesson(path))
        except ContentError as error:
            problems.extend(error.problems)
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


@transaction.atomic
def load_course(directory: Path) -> LoadReport:
    course = read_course(directory)
    report = LoadReport()
    topics: dict[str, Topic] = {}
    for lesson in course.lessons:
        topic, _ = _upsert(
            Topic,
            {"slug": lesson.slug},
            {"title": lesson.title, "order": lesson.order, "summary": lesson.summary},
            report,
            "topics",
        )
        topics[lesson.slug] = topic
        _upsert(
            Lesson,
            {"topic": topic},
            {"title": lesson.title, "body_markdown": lesson.body},
            report,
            "lessons",
        )
        quiz = Quiz.objects.filter(topic=topic).first()
        if quiz is None:
            Quiz.objects.create(topic=topic, **lesson.quiz)
            report.count(report.created, "quizzes")
        elif lesson.quiz:
            _upsert(Quiz, {"topic": topic}, lesson.quiz, report, "quizzes")

    loaded_ids: set[int] = set()
    for _path, source in course.questions:
        wanted = imported(source)
        question, status = _upsert(
            Question,
            {"topic": topics[source.category], "key": source.title},
            {**wanted.values, "is_published": True},
            report,
            "questions",
        )
        if question.origin != QuestionOrigin.FIXTURES:
            question.origin = QuestionOrigin.FIXTURES
            question.save(update_fields=["origin"])
        if sync_choices(question, wanted.rows) and status == "unchanged":
            report.count(report.updated, "questions")  # only its answers changed
        loaded_ids.add(question.pk)

    report.unpublished = (
        Question.objects.filter(origin=QuestionOrigin.FIXTURES, is_published=True)
        .exclude(pk__in=loaded_ids)
        .update(is_published=False)
    )
    return report
