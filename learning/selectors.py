"""Read-only queries that shape what the quiz screens show.

Feedback and reviews are built from the snapshot stored with each response, never from the
live question, so what a learner sees of their past never changes under them.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from learning import question_types
from learning.models import Attempt, Choice, Lesson, Question, Response
from learning.question_types.base import key_from_snapshot
from learning.versions import snapshot_question


@dataclass(frozen=True)
class Feedback:
    """What a learner sees once a question is answered: the verdict and explanation every
    type shares, and the type's own `detail`, shown by the type's `template`."""

    position: int
    question_type: str
    prompt: str
    explanation: str
    points: Decimal
    section_url: str | None
    section_title: str
    detail: Any
    template: str
    correction: str

    @property
    def is_correct(self) -> bool:
        return self.points >= 1

    @property
    def is_partly_correct(self) -> bool:
        return 0 < self.points < 1

    @property
    def announcement(self) -> str:
        """A one-line verdict for screen readers."""
        if self.is_correct:
            return "Right."
        verdict = "Partly right." if self.is_partly_correct else "Not right."
        return f"{verdict} {self.correction}"


def lessons_for(slugs: set[str]) -> dict[str, Lesson]:
    """The lessons of these topics, by topic slug, in one query."""
    lessons = Lesson.objects.filter(topic__slug__in=slugs).select_related("topic")
    return {lesson.topic.slug: lesson for lesson in lessons}


def _topic_slug(response: Response) -> str:
    return response.version.snapshot.get("topic_slug") or response.question.topic.slug


def _as_shown(snapshot: dict[str, Any], choice_order: list[int]) -> dict[str, Any]:
    """The snapshot with its choices in the order this learner saw them."""
    rank = {choice_id: index for index, choice_id in enumerate(choice_order)}
    choices = sorted(
        snapshot.get("choices", []), key=lambda choice: rank.get(choice["id"], len(rank))
    )
    return {**snapshot, "choices": choices}


def feedback_for(response: Response, lessons: dict[str, Lesson]) -> Feedback:
    order = response.attempt.choice_orders.get(str(response.question_id), [])
    return feedback_from(
        _as_shown(response.version.snapshot, order),
        response.answer,
        response.points,
        response.position,
        lessons.get(_topic_slug(response)),
    )


def feedback_from(
    snapshot: dict[str, Any],
    answer: dict[str, Any],
    points: Decimal,
    position: int,
    lesson: Lesson | None,
) -> Feedback:
    """Feedback on an answer to a question as it was asked (its snapshot)."""
    topic_url = lesson.topic.get_absolute_url() if lesson is not None else ""
    question_type = question_types.get(snapshot["type"])
    detail = question_type.feedback_detail(snapshot, answer)
    anchor = snapshot.get("lesson_anchor") or ""
    section_title = lesson.section_title(anchor) if (lesson and anchor) else ""
    return Feedback(
        position=position,
        question_type=question_type.value,
        prompt=snapshot["prompt"],
        explanation=snapshot.get("explanation", ""),
        points=points,
        section_url=(f"{topic_url}#{anchor}" if section_title else topic_url) or None,
        section_title=section_title,
        detail=detail,
        template=question_type.feedback_template,
        correction=question_type.correction(detail),
    )


class QuestionGone(Exception):
    """A question drawn in an attempt was deleted before the learner answered it."""


@dataclass(frozen=True)
class QuestionScreen:
    """One position of an attempt: the question to answer, or its feedback."""

    attempt: Attempt
    position: int
    question: Question | None
    choices: tuple[Choice, ...]
    feedback: Feedback | None
    answered_count: int

    @property
    def total(self) -> int:
        return self.attempt.question_total

    @property
    def progress_text(self) -> str:
        return f"{self.answered_count} of {self.total} answered"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.answered_count / self.total) if self.total else 0


def question_screen(attempt: Attempt, position: int) -> QuestionScreen:
    """The screen for `position` (1-based); the caller has checked it is in range."""
    question_id = attempt.question_ids[position - 1]
    responses = list(attempt.responses.select_related("version", "question__topic"))
    for response in responses:
        response.attempt = attempt  # already loaded: spare feedback_for a query
    response = next((r for r in responses if r.question_id == question_id), None)
    if response is not None:
        lessons = lessons_for({_topic_slug(response)})
        return QuestionScreen(
            attempt=attempt,
            position=position,
            question=None,
            choices=(),
            feedback=feedback_for(response, lessons),
            answered_count=len(responses),
        )
    question = Question.objects.prefetch_related("choices").filter(pk=question_id).first()
    if question is None:
        raise QuestionGone(question_id)
    by_id = {choice.id: choice for choice in question.choices.all()}
    order = attempt.choice_orders.get(str(question_id), [])
    choices = [by_id[i] for i in order if i in by_id]
    choices += [choice for choice in by_id.values() if choice.id not in order]
    return QuestionScreen(
        attempt=attempt,
        position=position,
        question=question,
        choices=tuple(choices),
        feedback=None,
        answered_count=len(responses),
    )


def screen_after_answer(screen: QuestionScreen, response: Response) -> QuestionScreen:
    """The screen once its question is answered, from the response just stored: no need
    to read the attempt and its responses again."""
    lessons = lessons_for({response.version.snapshot.get("topic_slug", "")})
    return QuestionScreen(
        attempt=response.attempt,
        position=screen.position,
        question=None,
        choices=(),
        feedback=feedback_for(response, lessons),
        answered_count=screen.answered_count + 1,
    )


def response_at(attempt: Attempt, position: int) -> Response:
    question_id = attempt.question_ids[position - 1]
    return (
        attempt.responses.select_related("question")
        .prefetch_related("question__choices")
        .get(question_id=question_id)
    )


def next_unanswered_position(attempt: Attempt) -> int | None:
    answered = set(attempt.responses.values_list("question_id", flat=True))
    for index, question_id in enumerate(attempt.question_ids, start=1):
        if question_id not in answered:
            return index
    return None


def attempt_review(attempt: Attempt) -> list[Feedback]:
    """Every question of a finished attempt with its feedback, in the order asked."""
    responses = list(attempt.responses.select_related("version", "question__topic"))
    for response in responses:
        response.attempt = attempt
    lessons = lessons_for({_topic_slug(response) for response in responses})
    return [feedback_for(response, lessons) for response in responses]


@dataclass(frozen=True)
class PreviewItem:
    """One question in a teacher's preview: its form, or the feedback on an answer."""

    question: Question
    form: Any
    feedback: Feedback | None
    url: str

    @property
    def target(self) -> str:
        return f"#preview-{self.question.pk}"


def preview_feedback(question: Question, answer: Any) -> Feedback:
    """Grade an answer exactly as an attempt would, and record nothing."""
    question_type = question_types.get(question.type)
    snapshot = snapshot_question(question)
    points = question_type.grade(key_from_snapshot(snapshot), answer)
    lesson = lessons_for({question.topic.slug}).get(question.topic.slug)
    return feedback_from(snapshot, question_type.answer_to_json(answer), points, 1, lesson)
