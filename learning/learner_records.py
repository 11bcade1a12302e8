"""What a teacher reads about one learner: an attempt question by question (as asked, as
answered, as graded) and the learner's page (their attempts and progress per topic).

Built from each response's version snapshot, like the learner's own review, so a later
edit of a question never changes what the teacher sees of the past. Which learners a
teacher may read is `selectors.learners_taught_by`; the admin views check it.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet

from learning import question_types
from learning.models import Attempt, Classroom, Question, Topic, TopicProgress
from learning.selectors import Feedback, feedback_for, lessons_for

ATTEMPTS_PER_PAGE = 50


def learner_label(user: User) -> str:
    """The username, with the name the learner gave at sign-up if any."""
    name = user.get_full_name()
    return f"{user.get_username()} ({name})" if name else user.get_username()


@dataclass(frozen=True)
class AnsweredQuestion:
    """One position of an attempt, for the teacher: the question as asked and the answer,
    or the question alone if it was not answered."""

    position: int
    prompt: str
    type_label: str
    feedback: Feedback | None = None
    answer_text: str = ""
    answered_at: datetime | None = None
    # Since the previous answer (or the start, for the first): roughly how long it took.
    time_taken: timedelta | None = None
    timed_from_start: bool = False  # the first answer given, timed from the start

    @property
    def verdict(self) -> str:
        if self.feedback is None:
            return "Not answered"
        if self.feedback.is_correct:
            return "Right"
        return "Partly right" if self.feedback.is_partly_correct else "Wrong"

    @property
    def time_taken_text(self) -> str:
        if self.time_taken is None:
            return ""
        seconds = max(0, int(self.time_taken.total_seconds()))
        minutes, seconds = divmod(seconds, 60)
        return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


def attempt_answers(attempt: Attempt) -> list[AnsweredQuestion]:
    """Every question drawn in the attempt, in the order asked, in three queries: the
    responses with their versions, the lessons they point to, and the questions never
    answered."""
    responses = list(
        attempt.responses.select_related("version", "graded_version", "question__topic")
    )
    for each in responses:
        each.attempt = attempt  # spares feedback_for a query
    by_question = {each.question_id: each for each in responses}
    lessons = lessons_for(
        {r.version.snapshot.get("topic_slug") or r.question.topic.slug for r in responses}
    )
    unanswered_ids = [pk for pk in attempt.question_ids if pk not in by_question]
    unanswered = Question.objects.in_bulk(unanswered_ids) if unanswered_ids else {}

    # Learners may answer out of order: time each answer from the one given before it.
    time_taken: dict[int, timedelta] = {}
    previous = attempt.started_at
    in_time_order = sorted(responses, key=lambda r: r.answered_at)
    first_answered = in_time_order[0].pk if in_time_order else None
    for answered in in_time_order:
        time_taken[answered.pk] = answered.answered_at - previous
        previous = answered.answered_at

    rows = []
    for position, question_id in enumerate(attempt.question_ids, start=1):
        response = by_question.get(question_id)
        if response is None:
            question = unanswered.get(question_id)
            rows.append(
                AnsweredQuestion(
                    position=position,
                    prompt=question.prompt if question else "(a question since deleted)",
                    type_label=question_types.label(question.type) if question else "",
                )
            )
            continue
        snapshot = response.version.snapshot
        question_type = question_types.get(snapshot["type"])
        feedback = feedback_for(response, lessons)
        rows.append(
            AnsweredQuestion(
                position=position,
                prompt=snapshot["prompt"],
                type_label=question_type.label,
                feedback=feedback,
                answer_text=question_type.answer_in_words(snapshot, response.answer),
                answered_at=response.answered_at,
                time_taken=time_taken[response.pk],
                timed_from_start=response.pk == first_answered,
            )
        )
    return rows


@dataclass(frozen=True)
class TopicRow:
    topic: Topic
    progress: TopicProgress | None


def learner_topics(learner: User) -> list[TopicRow]:
    """Every topic with the learner's progress on it (none if not started): two queries."""
    progress = {p.topic_id: p for p in TopicProgress.objects.filter(learner=learner)}
    return [TopicRow(topic, progress.get(topic.pk)) for topic in Topic.objects.order_by("order")]


def learner_attempts(learner: User) -> QuerySet[Attempt]:
    """The learner's attempts, newest first, with their quizzes."""
    return (
        Attempt.objects.filter(learner=learner)
        .select_related("quiz__topic")
        .order_by("-started_at", "-id")
    )


def learner_classes(learner: User, *, seen_by: User | AnonymousUser) -> list[Classroom]:
    """The classes of the learner that `seen_by` teaches (all of them for a superuser)."""
    classes = Classroom.objects.filter(memberships__learner=learner)
    if not seen_by.is_superuser:
        classes = classes.filter(teachers=seen_by.pk)
    return list(classes.distinct().order_by("name"))
