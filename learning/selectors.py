"""Read-only queries that shape what the quiz screens show.

Feedback and reviews are built from the snapshot stored with each response, never from the
live question, so what a learner sees of their past never changes under them.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from learning import scoring
from learning.models import Attempt, Choice, Lesson, Question, Response
from learning.scoring import normalize_text


@dataclass(frozen=True)
class ChoiceFeedback:
    id: int
    text: str
    is_correct: bool
    picked: bool
    feedback: str


@dataclass(frozen=True)
class MatchRow:
    item: str
    chosen: str
    right: str
    is_right: bool


@dataclass(frozen=True)
class Feedback:
    """What a learner sees once a question is answered."""

    position: int
    question_type: str
    prompt: str
    explanation: str
    points: Decimal
    choices: tuple[ChoiceFeedback, ...]
    given_value: str | None
    expected_value: str | None
    tolerance: str | None
    section_url: str | None
    section_title: str
    given_text: str | None = None
    accepted_answers: tuple[tuple[str, str], ...] = ()  # (text, credit shown as "50%")
    match_rows: tuple[MatchRow, ...] = ()

    @property
    def is_correct(self) -> bool:
        return self.points >= 1

    @property
    def is_partly_correct(self) -> bool:
        return 0 < self.points < 1

    @property
    def picked_feedback(self) -> list[ChoiceFeedback]:
        return [choice for choice in self.choices if choice.picked and choice.feedback]

    @property
    def right_answers(self) -> list[str]:
        return [choice.text for choice in self.choices if choice.is_correct]

    @property
    def announcement(self) -> str:
        """A one-line verdict for screen readers."""
        if self.is_correct:
            return "Right."
        verdict = "Partly right." if self.is_partly_correct else "Not right."
        if self.question_type == "numeric":
            return f"{verdict} The right answer is {self.expected_value}."
        if self.question_type == "matching":
            right = sum(row.is_right for row in self.match_rows)
            return f"{verdict} {right} of {len(self.match_rows)} pairs matched."
        if self.question_type == "short_answer":
            full = [text for text, credit in self.accepted_answers if credit == "100%"]
            return f"{verdict} Accepted: {'; '.join(full)}."
        answers = "; ".join(self.right_answers)
        noun = "answers are" if len(self.right_answers) > 1 else "answer is"
        return f"{verdict} The right {noun}: {answers}."


def _clean_number(raw: str | None) -> str | None:
    if raw is None:
        return None
    number = Decimal(raw)
    return f"{number.normalize():f}" if number == number.to_integral() else f"{number:f}"


def _percent(raw: Any) -> str:
    return f"{Decimal(str(raw)).normalize():f}%"


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
    picked = set(answer.get("choices", []))
    question_type = snapshot["type"]
    chosen_matches = answer.get("matches", {})
    match_rows = tuple(
        MatchRow(
            item=choice["text"],
            chosen=chosen_matches.get(str(choice["id"]), ""),
            right=choice["match_text"],
            is_right=normalize_text(chosen_matches.get(str(choice["id"]), ""))
            == normalize_text(choice["match_text"]),
        )
        for choice in snapshot.get("choices", [])
        if question_type == "matching" and choice.get("match_text")
    )
    accepted = tuple(
        (choice["text"], _percent(choice.get("credit", 100)))
        for choice in snapshot.get("choices", [])
        if question_type == "short_answer" and Decimal(str(choice.get("credit", 100))) > 0
    )
    anchor = snapshot.get("lesson_anchor") or ""
    section_title = lesson.section_title(anchor) if (lesson and anchor) else ""
    tolerance = _clean_number(snapshot.get("numeric_tolerance"))
    return Feedback(
        position=position,
        question_type=question_type,
        prompt=snapshot["prompt"],
        explanation=snapshot.get("explanation", ""),
        points=points,
        choices=tuple(
            ChoiceFeedback(
                id=choice["id"],
                text=choice["text"],
                is_correct=choice["is_correct"],
                picked=choice["id"] in picked,
                feedback=choice.get("feedback", ""),
            )
            for choice in snapshot.get("choices", [])
        ),
        given_value=_clean_number(answer.get("value")),
        expected_value=_clean_number(snapshot.get("numeric_answer")),
        tolerance=tolerance if tolerance not in (None, "0") else None,
        section_url=(f"{topic_url}#{anchor}" if section_title else topic_url) or None,
        section_title=section_title,
        given_text=answer.get("text"),
        accepted_answers=accepted,
        match_rows=match_rows,
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
    def is_last(self) -> bool:
        return self.position == self.total

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


def preview_feedback(question: Question, answer: scoring.Answer) -> Feedback:
    """Grade an answer exactly as an attempt would, and record nothing."""
    from learning.services import snapshot_question

    snapshot = snapshot_question(question)
    points = scoring.grade(scoring.key_from_snapshot(snapshot), answer)
    lesson = lessons_for({question.topic.slug}).get(question.topic.slug)
    return feedback_from(snapshot, scoring.answer_as_json(answer), points, 1, lesson)
