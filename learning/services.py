"""Every write that touches more than one row, each in one transaction.

Services take keyword arguments, never a request; they validate before they save and raise
`QuizError` with a message a learner can read when the request cannot be honoured.
"""

import random
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, F, Q, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone

from learning import insight, page_cache, question_types, quiz_rules, reviews, scoring, selectors
from learning.answer_leaks import draw_without_leaks, profiles_of
from learning.lti import grades
from learning.mastery import (
    COMPLETION_LEVEL,
    MasteryState,
    course_complete,
    mastery_after_attempt,
    mastery_after_challenge,
    mastery_after_review_session,
    tally_session,
)
from learning.models import (
    Attempt,
    AttemptState,
    Certificate,
    Classroom,
    GradeSend,
    Lesson,
    Mastery,
    Membership,
    Navigation,
    PickedChoice,
    Question,
    QuestionVersion,
    Quiz,
    QuizKind,
    Response,
    ReviewCard,
    Topic,
    TopicProgress,
)
from learning.question_types.base import key_from_snapshot
from learning.versions import question_version


class QuizError(Exception):
    """A request about a quiz that cannot be honoured; the message is shown to the learner."""


TIME_IS_UP = "Time is up: this attempt has ended, and it is scored on what you answered."
TOPIC_NOT_OPEN = "This topic is not open to learners, so its quiz cannot be started."
QUIZ_CLOSED = "The quiz has closed: this attempt has ended, and it is scored on what you answered."


def ended_message(attempt: Attempt) -> str:
    """Why an expired attempt takes no more answers."""
    return QUIZ_CLOSED if attempt.closed_by_quiz else TIME_IS_UP


def is_overdue(attempt: Attempt) -> bool:
    """Whether an attempt in progress has passed its deadline or its quiz's closing time."""
    ends_at = attempt.ends_at
    return (
        attempt.state == AttemptState.IN_PROGRESS
        and ends_at is not None
        and timezone.now() > ends_at
    )


@transaction.atomic
def expire_if_overdue(*, attempt: Attempt) -> Attempt:
    """Close an attempt whose deadline or quiz's closing time has passed, scoring what was
    answered (once)."""
    if not is_overdue(attempt):
        return attempt
    return finish_attempt(attempt=attempt, state=AttemptState.EXPIRED)


def expire_overdue_attempts(*, learner: User) -> int:
    """Close every attempt of the learner whose time ran out, or whose quiz closed, while
    they were away."""
    return close_overdue_attempts(learner=learner).closed


@dataclass(frozen=True)
class OverdueClosed:
    closed: int
    # When the next of the learner's attempts still open runs out (None: none ever does).
    next_end: datetime | None


def close_overdue_attempts(*, learner: User) -> OverdueClosed:
    """`expire_overdue_attempts`, also saying when the next open attempt runs out (a page
    cached now is out of date then): one query for both."""
    timed = list(
        Attempt.objects.filter(learner=learner, state=AttemptState.IN_PROGRESS)
        .filter(Q(deadline__isnull=False) | Q(quiz__closes_at__isnull=False))
        .select_related("quiz")
    )
    overdue = [attempt for attempt in timed if is_overdue(attempt)]
    for attempt in overdue:
        expire_if_overdue(attempt=attempt)
    ends = [attempt.ends_at for attempt in timed if attempt not in overdue]
    return OverdueClosed(len(overdue), min((end for end in ends if end is not None), default=None))


class ClassError(Exception):
    """A join code that leads nowhere; the message is shown to the learner."""


def normalize_join_code(code: str) -> str:
    return "".join(char for char in code.upper() if char.isalnum())


@transaction.atomic
def join_class(*, learner: User, code: str) -> tuple[Classroom, bool]:
    """Add the learner to the class with this code; True when they were not in it yet."""
    classroom = Classroom.objects.filter(join_code=normalize_join_code(code)).first()
    if classroom is None:
        raise ClassError("No class has that code. Check it with your teacher and try again.")
    _, joined = Membership.objects.get_or_create(classroom=classroom, learner=learner)
    return classroom, joined


def draw_questions(*, quiz: Quiz, rng: random.Random) -> tuple[list[int], dict[str, list[int]]]:
    """Pick the questions of a new attempt and the order of each one's choices."""
    assert quiz.topic_id is not None, "only a topic quiz draws from its topic"
    questions = list(
        selectors.published_questions()
        .filter(topic_id=quiz.topic_id)
        .order_by("id")
        .prefetch_related("choices")
    )
    if quiz.shuffle_questions:
        by_id = {question.id: question for question in questions}
        shuffled = [question.id for question in rng.sample(questions, k=len(questions))]
        drawn_ids = draw_without_leaks(shuffled, profiles_of(questions), quiz.question_count)
        drawn = [by_id[question_id] for question_id in drawn_ids]
    else:
        drawn = questions[: quiz.question_count]
    return [question.id for question in drawn], _choice_orders(drawn, quiz, rng)


def _choice_orders(
    questions: list[Question], quiz: Quiz, rng: random.Random
) -> dict[str, list[int]]:
    choice_orders: dict[str, list[int]] = {}
    for question in questions:
        choice_ids = [choice.id for choice in question.choices.all()]
        if quiz.shuffle_choices and question_types.get(question.type).shuffles_choices:
            rng.shuffle(choice_ids)
        choice_orders[str(question.id)] = choice_ids
    return choice_orders


def course_quiz(kind: str) -> Quiz:
    """The course-wide quiz of this kind (review or challenge), made if missing."""
    defaults = {
        "question_count": 20 if kind == QuizKind.REVIEW else 12,
        "pass_mark": 70,
        "navigation": Navigation.IN_ORDER,
    }
    quiz, _ = Quiz.objects.get_or_create(kind=kind, defaults=defaults)
    return quiz


def due_review_question_ids(*, learner: User, limit: int) -> list[int]:
    """The learner's due cards, most overdue first."""
    return list(
        ReviewCard.objects.filter(
            learner=learner,
            due__lte=timezone.now(),
            question__is_published=True,
            question__topic__is_published=True,
        )
        .exclude(question__topic_id__in=selectors.topics_withholding_answers(learner))
        .order_by("due", "id")
        .values_list("question_id", flat=True)[:limit]
    )


CHALLENGE_WEIGHTS = {
    Mastery.NOT_STARTED: 4,
    Mastery.ATTEMPTED: 4,
    Mastery.FAMILIAR: 3,
    Mastery.PROFICIENT: 2,
    Mastery.MASTERED: 1,
}


def draw_challenge(*, learner: User, count: int, rng: random.Random) -> list[int]:
    """Questions from every topic the learner has started, weak topics drawn more often,
    no two giving each other away."""
    candidates = _challenge_order(learner=learner, rng=rng)
    return [question.id for question in _without_leaks(candidates, count)]


# How many candidates a course-wide draw looks at for each question it needs: enough to
# step around a few that give each other away, without loading the whole bank.
CANDIDATES_PER_QUESTION = 3


def _without_leaks(candidates: list[int], count: int) -> list[Question]:
    """Up to `count` of the first candidates, none giving another away, with choices."""
    looked_at = candidates[: count * CANDIDATES_PER_QUESTION]
    by_id = Question.objects.prefetch_related("choices").in_bulk(looked_at)
    drawn = draw_without_leaks(looked_at, profiles_of(by_id.values()), count)
    return [by_id[question_id] for question_id in drawn]


def _challenge_order(*, learner: User, rng: random.Random) -> list[int]:
    """Every question the challenge may draw, in the order it would draw them."""
    started = {
        progress.topic_id: CHALLENGE_WEIGHTS[Mastery(progress.mastery)]
        for progress in TopicProgress.objects.filter(learner=learner).filter(
            Q(lesson_read_at__isnull=False) | Q(attempt_count__gt=0)
        )
    }
    pools: dict[int, list[int]] = {topic_id: [] for topic_id in started}
    for topic_id, question_id in (
        selectors.published_questions()
        .filter(topic_id__in=started)
        .exclude(topic_id__in=selectors.topics_withholding_answers(learner))
        .values_list("topic_id", "id")
    ):
        pools[topic_id].append(question_id)
    drawn: list[int] = []
    while True:
        open_topics = [topic_id for topic_id, pool in pools.items() if pool]
        if not open_topics:
            break
        topic_id = rng.choices(open_topics, weights=[started[t] for t in open_topics])[0]
        pool = pools[topic_id]
        drawn.append(pool.pop(rng.randrange(len(pool))))
    return drawn


def _draw(
    *, learner: User, quiz: Quiz, rng: random.Random
) -> tuple[list[int], dict[str, list[int]]]:
    if quiz.kind == QuizKind.TOPIC:
        return draw_questions(quiz=quiz, rng=rng)
    count = quiz.question_count
    if quiz.kind == QuizKind.REVIEW:
        # A card left out because it would give another away stays due for next time.
        due = due_review_question_ids(learner=learner, limit=count * CANDIDATES_PER_QUESTION)
        questions = _without_leaks(due, count)
        if not questions:
            raise QuizError("Nothing is due for review right now. Come back when it is.")
    else:
        questions = _without_leaks(_challenge_order(learner=learner, rng=rng), count)
        if not questions:
            raise QuizError(
                "The course challenge draws from the topics you have started: "
                "read a lesson or take a quiz first."
            )
    return [question.id for question in questions], _choice_orders(questions, quiz, rng)


@transaction.atomic
def start_attempt(
    *, learner: User, quiz: Quiz, rng: random.Random | None = None, from_lesson: bool = False
) -> Attempt:
    """Resume the learner's open attempt at this quiz, or start one with a fresh draw.

    A topic quiz draws from its topic; a review session takes the learner's due cards,
    most overdue first; the course challenge mixes every topic they have started. Only
    published questions of published topics are drawn, and a draft topic's quiz does not
    start; an attempt already open when its topic or a question became a draft can still
    be finished.

    A topic quiz started `from_lesson` (its lesson page's button) counts the lesson as
    read, in the same transaction: nothing is marked when the quiz cannot start.
    """
    attempt = _start_or_resume(learner=learner, quiz=quiz, rng=rng)
    page_cache.bump_learner(learner)
    topic_id = quiz.topic_id
    if from_lesson and topic_id is not None and Lesson.objects.filter(topic_id=topic_id).exists():
        _mark_read(learner_id=learner.pk, topic_id=topic_id)
    return attempt


def _start_or_resume(*, learner: User, quiz: Quiz, rng: random.Random | None) -> Attempt:
    open_attempt = Attempt.objects.filter(
        learner=learner, quiz=quiz, state=AttemptState.IN_PROGRESS
    ).first()
    if open_attempt is not None:
        open_attempt = expire_if_overdue(attempt=open_attempt)
        if not open_attempt.is_finished:
            return open_attempt
    if quiz.topic is not None and not quiz.topic.is_published:
        raise QuizError(TOPIC_NOT_OPEN)
    _check_can_start(learner=learner, quiz=quiz)
    question_ids, choice_orders = _draw(
        learner=learner, quiz=quiz, rng=rng or random.SystemRandom()
    )
    if not question_ids:
        raise QuizError("This quiz has no published questions yet. Please try again later.")
    try:
        with transaction.atomic():
            attempt = Attempt.objects.create(
                learner=learner,
                quiz=quiz,
                question_ids=question_ids,
                choice_orders=choice_orders,
                deadline=quiz_rules.deadline_for(quiz, timezone.now()),
            )
    except IntegrityError:
        # Another request from the same learner started one a moment ago: use that one.
        return Attempt.objects.get(learner=learner, quiz=quiz, state=AttemptState.IN_PROGRESS)
    if quiz.topic_id is not None:
        _touch_progress(learner=learner, topic_id=quiz.topic_id)
    return attempt


def attempts_used(*, learner: User, quiz: Quiz) -> int:
    """The learner's finished or expired attempts at this quiz."""
    return Attempt.objects.filter(
        learner=learner, quiz=quiz, state__in=AttemptState.closed()
    ).count()


def _check_can_start(*, learner: User, quiz: Quiz) -> None:
    refusal = quiz_rules.start_refusal(
        quiz, attempts_used=attempts_used(learner=learner, quiz=quiz), now=timezone.now()
    )
    if refusal is not None:
        raise QuizError(refusal)


def _same_answer(response: Response, answer: Any) -> bool:
    """Whether `answer` is the one this response already holds (a double click)."""
    question_type = question_types.get(response.version.snapshot["type"])
    if not isinstance(answer, question_type.answer_class):
        return False
    return question_type.answer_to_json(answer) == response.answer


ALREADY_FINISHED = "This attempt is already finished, so it takes no more answers."
ALREADY_ANSWERED = "You have already answered this question; answers cannot be changed."
TOO_MANY_AT_ONCE = (
    "Your answer was not saved: other answers of yours were being saved at the same moment. "
    "Please send it again."
)
# How often an answer is graded again after others changed the attempt or the review card
# between its reads and its write (each time, one of those others was saved).
ANSWER_TRIES = 5


class _ChangedMeanwhile(Exception):
    """The attempt or the review card changed between an answer's reads and its write."""


def record_answer(
    *,
    attempt: Attempt,
    question_id: int,
    answer: Any,
    asked: selectors.QuestionToAnswer | None = None,
) -> Response:
    """Grade and store one answer; the attempt finishes when its last question is answered.

    Every read and the grading come first (`asked`: what the page's view has read already,
    see `selectors.question_to_answer`); the write transaction then holds only writes, and
    one conditional UPDATE of the attempt re-checks what another request could have
    changed meanwhile (still in progress, no other answer since the reads). If one did,
    the answer is checked again from fresh reads.

    Sending the same answer again (a double click, a retried request) returns the stored
    response unchanged; a different answer to an answered question is refused. A response
    is unique per attempt and question (a database constraint), so two requests at once
    store one.
    """
    if question_id not in attempt.question_ids:
        raise QuizError("That question is not part of this attempt.")
    # Checked again from fresh reads, the answer is still graded by the version shown.
    version_token = asked.version_token if asked is not None else ""
    check_again = attempt.state != AttemptState.IN_PROGRESS
    for _ in range(ANSWER_TRIES):
        if check_again:
            attempt, existing = _attempt_as_it_stands(attempt, question_id)
            if existing is not None and _same_answer(existing, answer):
                return existing
            if attempt.state != AttemptState.IN_PROGRESS:
                raise QuizError(ALREADY_FINISHED)
            if existing is not None:
                raise QuizError(ALREADY_ANSWERED)
            if question_id not in attempt.question_ids:
                raise QuizError("That question is not part of this attempt.")
            asked = None
        if is_overdue(attempt):
            raise QuizError(ended_message(attempt))
        try:
            graded = _grade_answer(
                attempt=attempt,
                question_id=question_id,
                answer=answer,
                asked=asked,
                version_token=version_token,
            )
            return _store_answer(graded)
        except (_ChangedMeanwhile, IntegrityError):
            check_again = True
    raise QuizError(TOO_MANY_AT_ONCE)


def _attempt_as_it_stands(attempt: Attempt, question_id: int) -> tuple[Attempt, Response | None]:
    fresh = selectors.attempts_with_quiz().get(pk=attempt.pk)
    existing = (
        Response.objects.select_related("version", "question__topic")
        .filter(attempt=fresh, question_id=question_id)
        .first()
    )
    if existing is not None:
        existing.attempt = fresh
    return fresh, existing


@dataclass(frozen=True)
class _GradedAnswer:
    """An answer checked and graded, with every row its write needs, before the write."""

    attempt: Attempt
    question: Question
    version: QuestionVersion
    position: int
    answer: dict[str, Any]
    points: Decimal
    picked_choice_ids: frozenset[int]
    review_card: ReviewCard
    reviews_before: int | None  # the card's review count as read; None: a new card
    # The last answer of a topic quiz: how the attempt finishes, worked out beforehand.
    finish: "_TopicFinish | None" = None


def _grade_answer(
    *,
    attempt: Attempt,
    question_id: int,
    answer: Any,
    asked: selectors.QuestionToAnswer | None,
    version_token: str = "",
) -> _GradedAnswer:
    """Check and grade an answer against the version of the question the learner was shown,
    schedule its review and, for the last answer of a topic quiz, work out the attempt's
    finish: reads only (but a version's first use, which stores it)."""
    position = attempt.question_ids.index(question_id) + 1
    if asked is None or asked.attempt.pk != attempt.pk or asked.question.pk != question_id:
        try:
            asked = selectors.question_to_answer(attempt, position, version_token=version_token)
        except selectors.QuestionGone:
            raise QuizError("That question has been withdrawn from this quiz.") from None
    if asked.answered:
        raise _ChangedMeanwhile  # answered since the attempt was read: see how, above
    question = asked.question
    version = asked.version or question_version(question, asked.rows)
    question_type = question_types.get(version.snapshot["type"])
    key = key_from_snapshot(version.snapshot)
    problem = question_type.answer_problem(key, answer)
    if problem is not None:
        raise QuizError(problem)
    points = question_types.grade(key, answer)
    now = timezone.now()
    card_row = asked.review_card
    reviews_before = card_row.review_count if card_row is not None else None
    card, lapsed = reviews.review(card_row, points, now)
    if card_row is None:
        card_row = ReviewCard(learner_id=attempt.learner_id, question=question)
    reviews.copy_into(card_row, card)
    card_row.review_count += 1
    card_row.lapse_count += int(lapsed)
    picked = question_type.picked_choice_ids(answer)
    finish = None
    if attempt.answered_count + 1 >= attempt.question_total and attempt.quiz.is_topic_quiz:
        earlier = _answers_of(attempt)
        latest = _Answered(0, question.pk, version.pk, points, picked)
        finish = _plan_topic_finish(attempt, [*earlier, latest], now, locked=False)
    return _GradedAnswer(
        attempt=attempt,
        question=question,
        version=version,
        position=position,
        answer=question_type.answer_to_json(answer),
        points=points,
        picked_choice_ids=picked,
        review_card=card_row,
        reviews_before=reviews_before,
        finish=finish,
    )


REVIEW_FIELDS = ("state", "step", "stability", "difficulty", "due", "last_review")
# Half the smallest step of an attempt's points (four decimal places).
POINTS_ROUNDING = Decimal("0.00005")


@transaction.atomic
def _store_answer(graded: _GradedAnswer) -> Response:
    """The answer's writes, all at once: the attempt, only if it is as it was read (still in
    progress, no answer since); the response; the review card, only if it is as it was
    read. The last answer of a topic quiz closes the attempt in the same UPDATE and writes
    what finishing writes (see `_TopicFinish`); a session's finishes as `finish_attempt`."""
    attempt = graded.attempt
    answered = attempt.answered_count
    finish = graded.finish
    closing = finish.attempt_fields(attempt) if finish is not None else {}
    changes = {"points": F("points") + graded.points, "answered_count": answered + 1}
    as_read = Attempt.objects.filter(
        pk=attempt.pk,
        state=AttemptState.IN_PROGRESS,
        answered_count=answered,
        question_ids=attempt.question_ids,
    )
    if finish is not None:
        # Its score was summed from the answers as read: only if no regrade moved them
        # since (within rounding: SQLite sums decimals as floats).
        as_read = as_read.filter(
            points__gt=attempt.points - POINTS_ROUNDING,
            points__lt=attempt.points + POINTS_ROUNDING,
        )
    changed = as_read.update(**(changes | closing))
    if not changed:
        raise _ChangedMeanwhile
    response = Response.objects.create(
        attempt=attempt,
        question=graded.question,
        version=graded.version,
        position=graded.position,
        answer=graded.answer,
        points=graded.points,
    )
    card = graded.review_card
    if graded.reviews_before is None:
        card.save(force_insert=True)  # a card made meanwhile breaks its unique constraint
    elif not ReviewCard.objects.filter(pk=card.pk, review_count=graded.reviews_before).update(
        review_count=card.review_count,
        lapse_count=card.lapse_count,
        **{name: getattr(card, name) for name in REVIEW_FIELDS},
    ):
        raise _ChangedMeanwhile
    page_cache.bump_learner(attempt.learner_id)
    attempt.answered_count = answered + 1
    attempt.points += graded.points
    if finish is not None:
        for name, value in closing.items():
            setattr(attempt, name, value)
        finish.answers[-1] = replace(finish.answers[-1], response_id=response.pk)
        finish.write(attempt)
    elif attempt.answered_count >= attempt.question_total:
        attempt = _finish_locked(attempt, AttemptState.FINISHED)
    response.attempt = attempt  # as it stands after this answer (finished or not)
    return response


@transaction.atomic
def drop_deleted_questions(*, attempt: Attempt) -> Attempt:
    """Take questions a teacher deleted before they were answered out of an open attempt."""
    attempt = Attempt.objects.select_for_update().get(pk=attempt.pk)
    if attempt.state != AttemptState.IN_PROGRESS:
        return attempt
    existing = set(
        Question.objects.filter(pk__in=attempt.question_ids).values_list("pk", flat=True)
    )
    kept = [question_id for question_id in attempt.question_ids if question_id in existing]
    if kept == attempt.question_ids:
        return attempt
    attempt.question_ids = kept
    attempt.choice_orders = {
        key: value for key, value in attempt.choice_orders.items() if int(key) in existing
    }
    attempt.save(update_fields=["question_ids", "choice_orders"])
    page_cache.bump_learner(attempt.learner_id)
    if attempt.responses.count() >= attempt.question_total:
        return finish_attempt(attempt=attempt)
    return attempt


@transaction.atomic
def finish_attempt(*, attempt: Attempt, state: str = AttemptState.FINISHED) -> Attempt:
    """Score the attempt, close it, and update the topic's progress, all at once, once."""
    attempt = (
        Attempt.objects.select_for_update()
        .select_related("quiz")
        .annotate(lms_linked=grades.lms_linked())
        .get(pk=attempt.pk)
    )
    if attempt.state != AttemptState.IN_PROGRESS:
        return attempt
    page_cache.bump_learner(attempt.learner_id)
    return _finish_locked(attempt, state)


def _finish_locked(attempt: Attempt, state: str) -> Attempt:
    """`finish_attempt` for an attempt in progress whose row this transaction holds."""
    answers = _answers_of(attempt)
    if not attempt.quiz.is_topic_quiz:
        _store_picks(answers)
        return _finish_course_attempt(attempt, state, answers)
    finish = _plan_topic_finish(attempt, answers, timezone.now(), locked=True, state=state)
    fields = finish.attempt_fields(attempt)
    for name, value in fields.items():
        setattr(attempt, name, value)
    attempt.save(update_fields=list(fields))
    finish.write(attempt)
    return attempt


@dataclass(frozen=True)
class _Answered:
    """A response as finishing its attempt reads it."""

    response_id: int
    question_id: int
    version_id: int
    points: Decimal
    picked: frozenset[int]


def _answers_of(attempt: Attempt) -> list[_Answered]:
    """The attempt's responses, read once for its score, its picks and its statistics."""
    rows = attempt.responses.order_by().values_list(
        "pk", "question_id", "version_id", "points", "answer", "version__snapshot__type"
    )
    answers = []
    for response_id, question_id, version_id, points, answer, type_value in rows:
        question_type = question_types.get(type_value)
        picked = question_type.picked_choice_ids(question_type.answer_from_json(answer))
        answers.append(_Answered(response_id, question_id, version_id, points, picked))
    return answers


def _store_picks(answers: list[_Answered]) -> None:
    """The picks of a finished attempt, which the item analysis counts (insight.py): an
    attempt in progress has none stored, so an answer writes one row fewer."""
    PickedChoice.objects.bulk_create(
        [
            PickedChoice(
                response_id=answer.response_id, question_id=answer.question_id, choice_id=choice_id
            )
            for answer in answers
            for choice_id in sorted(answer.picked)
        ],
        ignore_conflicts=True,  # rows stored per answer before they were stored here
    )


@dataclass
class _TopicFinish:
    """How a topic-quiz attempt finishes, worked out from reads: its score and sequence,
    the topic's progress as read and the mastery it moves to, whether a certificate may be
    due. `write` then only writes (but for a certificate, made once per learner)."""

    answers: list[_Answered]
    state: str
    percent: Decimal
    finished_at: datetime
    sequence: int
    progress: TopicProgress | None  # as read; None: none yet (or read under its lock)
    progress_locked: bool
    new_state: MasteryState
    certificate_due: bool
    grade_sends: list[GradeSend]  # the scores for LMS gradebooks (learning/lti/grades.py)

    @property
    def total(self) -> Decimal:
        return sum((answer.points for answer in self.answers), Decimal(0))

    def attempt_fields(self, attempt: Attempt) -> dict[str, Any]:
        return {
            "points": self.total,
            "percent": self.percent,
            "passed": scoring.has_passed(self.percent, attempt.quiz.pass_mark),
            "state": self.state,
            "finished_at": self.finished_at,
            "sequence": self.sequence,
        }

    def write(self, attempt: Attempt) -> None:
        _store_picks(self.answers)
        if self.sequence == 1:
            insight.record_first_attempt(
                [
                    Response(
                        pk=answer.response_id,
                        question_id=answer.question_id,
                        version_id=answer.version_id,
                        points=answer.points,
                    )
                    for answer in self.answers
                ],
                picked=[
                    (answer.question_id, answer.version_id, choice_id)
                    for answer in self.answers
                    for choice_id in answer.picked
                ],
            )
        self._write_progress(attempt)
        if self.certificate_due:
            award_certificates_if_complete(learner_ids=[attempt.learner_id], now=self.finished_at)
        grades.record_sends(self.grade_sends)

    def _write_progress(self, attempt: Attempt) -> None:
        progress = self.progress
        if progress is None:  # none yet (a topic quiz started before progress was kept)
            assert attempt.quiz.topic_id is not None
            progress = _locked_progress(
                learner_id=attempt.learner_id, topic_id=attempt.quiz.topic_id
            )
        rows = TopicProgress.objects.filter(pk=progress.pk)
        if not self.progress_locked and self.progress is not None:
            # Only if the mastery it was worked out from is still the topic's.
            rows = rows.filter(mastery=progress.mastery, high_score_on=progress.high_score_on)
        percent = Value(self.percent, output_field=DecimalField())
        if not rows.update(
            attempt_count=F("attempt_count") + 1,
            best_percent=Greatest(Coalesce("best_percent", percent), percent),
            mastery=self.new_state.level,
            high_score_on=self.new_state.high_score_on,
            last_activity_at=self.finished_at,
        ):
            raise _ChangedMeanwhile


def _plan_topic_finish(
    attempt: Attempt,
    answers: list[_Answered],
    now: datetime,
    *,
    locked: bool,
    state: str = AttemptState.FINISHED,
) -> _TopicFinish:
    """Work out how a topic-quiz attempt finishes with these answers (see `_TopicFinish`):
    three reads at most; `locked` inside the finishing transaction, which then holds the
    topic's progress."""
    topic_id = attempt.quiz.topic_id
    assert topic_id is not None, "a topic quiz has a topic (a database constraint)"
    closed_before = Attempt.objects.filter(
        learner_id=attempt.learner_id, quiz_id=attempt.quiz_id, state__in=AttemptState.closed()
    ).count()
    if locked:
        progress: TopicProgress | None = _locked_progress(
            learner_id=attempt.learner_id, topic_id=topic_id
        )
    else:
        progress = (
            TopicProgress.objects.filter(learner_id=attempt.learner_id, topic_id=topic_id)
            .order_by()
            .first()
        )
    total = sum((answer.points for answer in answers), Decimal(0))
    percent = scoring.attempt_percent([total], attempt.question_total)
    before = (
        MasteryState(Mastery(progress.mastery), progress.high_score_on)
        if progress is not None
        else MasteryState(Mastery.NOT_STARTED, None)
    )
    new_state = mastery_after_attempt(before, percent, timezone.localdate(now))
    # A certificate once made is kept: a learner who has one needs no look at the course.
    certificate_due = (
        new_state.level >= COMPLETION_LEVEL
        and not Certificate.objects.filter(learner_id=attempt.learner_id).exists()
    )
    return _TopicFinish(
        answers=answers,
        state=state,
        percent=percent,
        finished_at=now,
        sequence=closed_before + 1,
        progress=progress,
        progress_locked=locked,
        new_state=new_state,
        certificate_due=certificate_due,
        grade_sends=grades.plan_sends(attempt=attempt, percent=percent),
    )


def _close(attempt: Attempt, state: str, total_points: Decimal) -> Decimal:
    """Score a finished attempt: its points over its questions, and pass or fail; returns
    its percent."""
    percent = scoring.attempt_percent([total_points], attempt.question_total)
    attempt.points = total_points
    attempt.percent = percent
    attempt.passed = scoring.has_passed(percent, attempt.quiz.pass_mark)
    attempt.state = state
    attempt.finished_at = timezone.now()
    attempt.save(update_fields=["points", "percent", "passed", "state", "finished_at"])
    return percent


def _finish_course_attempt(attempt: Attempt, state: str, answers: list[_Answered]) -> Attempt:
    """A review session or a course challenge ends (answered in full, or expired): score
    it, then move each topic's mastery by the whole session, unanswered questions counting
    as wrong (learning/mastery.py)."""
    percent = _close(attempt, state, sum((answer.points for answer in answers), Decimal(0)))
    points = {answer.question_id: answer.points for answer in answers}
    topics = dict(
        Question.objects.filter(pk__in=attempt.question_ids).values_list("id", "topic_id")
    )
    tallies = tally_session(
        (topics[question_id], points.get(question_id))
        for question_id in attempt.question_ids
        if question_id in topics
    )
    assert attempt.finished_at is not None, "closed just now"
    today = timezone.localdate(attempt.finished_at)
    for topic_id, tally in sorted(tallies.items()):
        if not tally.counts:
            continue
        progress = _locked_progress(learner_id=attempt.learner_id, topic_id=topic_id)
        level = Mastery(progress.mastery)
        if attempt.quiz.kind == QuizKind.CHALLENGE:
            state_now = MasteryState(level, progress.high_score_on)
            new_level = mastery_after_challenge(state_now, tally, today)
        else:
            new_level = mastery_after_review_session(level, tally)
        progress.mastery = new_level
        progress.last_activity_at = attempt.finished_at
        progress.save(update_fields=["mastery", "last_activity_at"])
    if attempt.quiz.kind == QuizKind.CHALLENGE:  # the one session that raises mastery
        award_certificates_if_complete(learner_ids=[attempt.learner_id], now=attempt.finished_at)
    grades.record_sends(grades.plan_sends(attempt=attempt, percent=percent))
    return attempt


@transaction.atomic
def mark_lesson_read(*, learner: User, topic: Topic) -> TopicProgress:
    page_cache.bump_learner(learner)
    return _mark_read(learner_id=learner.pk, topic_id=topic.pk)


def _mark_read(*, learner_id: int, topic_id: int) -> TopicProgress:
    progress = _locked_progress(learner_id=learner_id, topic_id=topic_id)
    now = timezone.now()
    if progress.lesson_read_at is None:
        progress.lesson_read_at = now
    progress.last_activity_at = now
    progress.save(update_fields=["lesson_read_at", "last_activity_at"])
    return progress


def _locked_progress(*, learner_id: int, topic_id: int) -> TopicProgress:
    progress, _ = TopicProgress.objects.select_for_update().get_or_create(
        learner_id=learner_id, topic_id=topic_id
    )
    return progress


def _touch_progress(*, learner: User, topic_id: int) -> None:
    progress = _locked_progress(learner_id=learner.pk, topic_id=topic_id)
    progress.last_activity_at = timezone.now()
    progress.save(update_fields=["last_activity_at"])


@transaction.atomic
def claim_certificate(*, learner: User) -> Certificate | None:
    """The learner's certificate, made now if their course is complete and they have none
    yet (a course completed before certificates existed, or a topic unpublished since)."""
    award_certificates_if_complete(learner_ids=[learner.pk])
    page_cache.bump_learner(learner)
    return Certificate.objects.filter(learner=learner).first()


@transaction.atomic
def name_certificate(*, certificate: Certificate, name: str) -> Certificate:
    """The name printed on the certificate, as its learner writes it."""
    certificate.name = " ".join(name.split())[: Certificate._meta.get_field("name").max_length]
    certificate.save(update_fields=["name"])
    page_cache.bump_learner(certificate.learner_id)
    return certificate


def award_certificates_if_complete(
    *, learner_ids: Iterable[int], now: datetime | None = None
) -> None:
    """Make the certificate of each of these learners who has none yet and has every
    published topic at the completion level. Called by the services that raise mastery,
    inside their transaction; a certificate once made is kept whatever happens later.
    At most five queries, however many learners."""
    learner_ids = set(learner_ids)
    # Each learner's row locked first: two requests finishing a learner's last two topics at
    # once then read each other's progress in turn, and one of them makes the certificate.
    list(User.objects.select_for_update().filter(pk__in=learner_ids).order_by("pk").values("pk"))
    without = learner_ids - set(
        Certificate.objects.filter(learner_id__in=learner_ids).values_list("learner_id", flat=True)
    )
    if not without:
        return
    topics = list(Topic.objects.filter(is_published=True).order_by("order", "title"))
    levels: dict[int, dict[int, int]] = {learner_id: {} for learner_id in without}
    for learner_id, topic_id, mastery in TopicProgress.objects.filter(
        learner_id__in=without, topic__in=topics
    ).values_list("learner_id", "topic_id", "mastery"):
        levels[learner_id][topic_id] = mastery
    complete = {
        learner_id: [by_topic.get(topic.pk, Mastery.NOT_STARTED) for topic in topics]
        for learner_id, by_topic in levels.items()
        if course_complete(by_topic.get(topic.pk, Mastery.NOT_STARTED) for topic in topics)
    }
    if not complete:
        return
    completed_at = now or timezone.now()
    # ignore_conflicts: a certificate made a moment ago by another request is kept as it is.
    Certificate.objects.bulk_create(
        [
            Certificate(
                learner=learner,
                # Never the username: it is half of a log-in, and the page is public. A
                # learner without a display name is asked for the name to print.
                name=" ".join(learner.first_name.split()),
                completed_at=completed_at,
                topics=[
                    {"title": topic.title, "mastery": int(level)}
                    for topic, level in zip(topics, complete[learner.pk], strict=True)
                ],
            )
            for learner in User.objects.filter(pk__in=complete).order_by("pk")
        ],
        ignore_conflicts=True,
    )
