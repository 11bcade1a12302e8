"""Read-only queries that shape what pages show: the quiz screens, the course page and the
dashboard, each in a few lean queries.

Feedback and reviews are built from the snapshot stored with each response, never from the
live question, so what a learner sees of their past never changes under them.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import (
    Count,
    Exists,
    F,
    FilteredRelation,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone

from learning import question_types, quiz_rules, regrading
from learning.lti import grades
from learning.mastery import COURSE_PROGRESS_LEVEL
from learning.models import (
    Attempt,
    AttemptState,
    Certificate,
    Choice,
    FeedbackTiming,
    Lesson,
    Mastery,
    Membership,
    Question,
    QuestionVersion,
    Quiz,
    QuizKind,
    Response,
    ReviewCard,
    Topic,
    TopicProgress,
)
from learning.question_types.base import OptionCodes, key_from_snapshot
from learning.templatetags.learning_tags import percent as shown_percent
from learning.versions import (
    choices_of,
    shown_digest,
    shown_version_token,
    snapshot_digest,
    snapshot_question,
)


@dataclass(frozen=True)
class Feedback:
    """What a learner sees once a question is answered: the verdict and explanation every
    type shares, and the type's own `detail`, shown by the type's `template`."""

    position: int
    prompt: str
    explanation: str
    points: Decimal
    section_url: str | None
    section_title: str
    detail: Any
    template: str
    correction: str
    # Set when a teacher regraded the answer: what changed, for the learner's review.
    regrade_note: str = ""
    # The topic the question comes from, named in review sessions and the challenge.
    topic_title: str = ""

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


def lessons_for(slugs: set[str], *, drafts: bool = False) -> dict[str, Lesson]:
    """The lessons of these topics, by topic slug, in one query; those of draft topics
    only when asked (a learner's feedback does not link to a lesson they cannot open)."""
    lessons = (
        Lesson.objects.filter(topic__slug__in=slugs)
        .select_related("topic")
        .defer("body_markdown", "body_html")
    )
    if not drafts:
        lessons = lessons.filter(topic__is_published=True)
    return {lesson.topic.slug: lesson for lesson in lessons}


def _topic_slug(response: Response) -> str:
    return response.version.snapshot.get("topic_slug") or response.question.topic.slug


def feedback_for(response: Response, lessons: dict[str, Lesson]) -> Feedback:
    """Feedback on a stored response; a regraded one shows the key it is now graded by
    (load with select_related("version", "graded_version"))."""
    snapshot = response.version.snapshot
    if response.graded_version_id is not None:
        assert response.graded_version is not None
        snapshot = regrading.snapshot_as_regraded(snapshot, response.graded_version.snapshot)
    lesson = lessons.get(_topic_slug(response))
    feedback = feedback_from(
        snapshot,
        response.answer,
        response.points,
        response.position,
        lesson,
        shown_order=response.attempt.choice_orders.get(str(response.question_id), []),
    )
    topic_title = lesson.topic.title if lesson is not None else response.question.topic.title
    note = regrading.regrade_note(response)
    return replace(feedback, regrade_note=note, topic_title=topic_title)


def feedback_from(
    snapshot: dict[str, Any],
    answer: dict[str, Any],
    points: Decimal,
    position: int,
    lesson: Lesson | None,
    shown_order: Sequence[int] = (),
) -> Feedback:
    """Feedback on an answer to a question as it was asked (its snapshot), its rows in the
    order this learner saw them (`shown_order`, choice ids; the author's order if empty)."""
    topic_url = lesson.topic.get_absolute_url() if lesson is not None else ""
    question_type = question_types.get(snapshot["type"])
    detail = question_type.feedback_detail(snapshot, answer, shown_order)
    anchor = snapshot.get("lesson_anchor") or ""
    section_title = lesson.section_title(anchor) if (lesson and anchor) else ""
    return Feedback(
        position=position,
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


def attempts_with_quiz() -> QuerySet[Attempt]:
    """Attempts with what every quiz screen shows beside them, in the same query: the quiz
    and its topic, and whether an LMS course of the learner links the quiz (its grade goes
    back there when the attempt finishes: learning/lti/grades.py)."""
    return Attempt.objects.select_related("quiz__topic").annotate(lms_linked=grades.lms_linked())


# A lesson loaded beside a question for its feedback's link needs its sections, not its body.
LESSON_BODY = ("body_markdown", "body_html")


def _lessons_from(topics: Iterable[Topic], slugs: set[str]) -> dict[str, Lesson]:
    """`lessons_for(slugs)`, from the lessons loaded with these topics (select_related) where
    it can: a query only for a topic none of them is (a question moved since it was
    answered)."""
    topics = list(topics)
    lessons = {
        topic.slug: topic.lesson
        for topic in topics
        if topic.slug in slugs and topic.is_published and getattr(topic, "lesson", None)
    }
    missing = slugs - {topic.slug for topic in topics}
    return lessons | lessons_for(missing) if missing else lessons


@dataclass(frozen=True)
class QuestionScreen:
    """One position of an attempt: the question to answer, or its feedback."""

    attempt: Attempt
    position: int
    question: Question | None
    choices: tuple[Choice, ...]
    feedback: Feedback | None
    answered_count: int
    # Answered, but the quiz shows its answers later: say when, and nothing more.
    feedback_promise: str = ""
    # The question's version on screen, signed for the answer form (versions.py).
    version_token: str = ""
    # In a quiz that goes in order: whether every question before this one is answered.
    earlier_answered: bool = True

    @property
    def total(self) -> int:
        return self.attempt.question_total

    @property
    def progress_text(self) -> str:
        return f"{self.answered_count} of {self.total} answered"

    @property
    def progress_percent(self) -> int:
        return round(100 * self.answered_count / self.total) if self.total else 0

    @property
    def topic_title(self) -> str:
        """The topic this position's question comes from, when it is known here."""
        if self.question is not None:
            return self.question.topic.title
        return self.feedback.topic_title if self.feedback is not None else ""

    @property
    def answers_wait(self) -> bool:
        """Whether answering only saves the answer: its quiz shows answers later."""
        return self.attempt.quiz.feedback_timing != FeedbackTiming.AFTER_ANSWER

    @cached_property
    def option_codes(self) -> OptionCodes:
        """The codes this attempt's page uses for the question's rows."""
        assert self.question is not None, "only an unanswered screen has options to code"
        return attempt_option_codes(self.attempt, self.question, self.choices)

    # The page's links, each reversed once.
    @cached_property
    def question_url(self) -> str:
        return reverse("learning:question", args=[self.attempt.pk, self.position])

    @cached_property
    def attempt_url(self) -> str:
        return reverse("learning:attempt", args=[self.attempt.pk])

    @cached_property
    def result_url(self) -> str:
        return reverse("learning:result", args=[self.attempt.pk])


def attempt_option_codes(
    attempt: Attempt, question: Question, choices: Iterable[Choice]
) -> OptionCodes:
    return OptionCodes.for_attempt(attempt.pk, question.pk, (choice.id for choice in choices))


def preview_option_codes(question: Question, choices: Iterable[Choice]) -> OptionCodes:
    return OptionCodes.for_preview(question.pk, (choice.id for choice in choices))


def in_shown_order(
    attempt: Attempt, question_id: int, rows: Iterable[Choice]
) -> tuple[Choice, ...]:
    """A question's rows in the order this attempt shows them; rows added since the draw
    come last, in the author's order."""
    by_id = {row.id: row for row in rows}
    order = attempt.choice_orders.get(str(question_id), [])
    shown = [by_id[row_id] for row_id in order if row_id in by_id]
    return (*shown, *(row for row_id, row in by_id.items() if row_id not in order))


def choices_as_shown(attempt: Attempt, question: Question) -> tuple[Choice, ...]:
    """The question's choices in the order this attempt shows them: one plain query."""
    return in_shown_order(attempt, question.pk, Choice.objects.filter(question=question))


REVIEW_CARD_FIELDS = (
    "id",
    "state",
    "step",
    "stability",
    "difficulty",
    "due",
    "last_review",
    "review_count",
    "lapse_count",
)


@dataclass(frozen=True)
class _QuestionHere:
    question: Question  # with its topic and the topic's lesson
    answered: bool
    # In a review session or the challenge: whether its topic's own quiz holds answers back.
    withheld: bool
    # For a quiz that goes in order: whether every question before this one is answered.
    earlier_answered: bool
    review_card: ReviewCard | None
    shown_version: QuestionVersion | None


def _question_at(
    attempt: Attempt, position: int, *, shown_digest: str | None = None, card: bool = False
) -> _QuestionHere | None:
    """The question at `position` with its topic and the topic's lesson, in one query, with
    whether this attempt has answered it, (in a quiz that goes in order) the ones before it,
    and (in a session) whether its topic holds its answers back; for an answer, also the
    learner's review card and the stored version whose digest the page showed. None once
    the question is deleted."""
    question_id = attempt.question_ids[position - 1]
    responses = Response.objects.filter(attempt_id=attempt.pk).order_by()
    questions = (
        Question.objects.filter(pk=question_id)
        .select_related("topic__lesson")
        .defer(*(f"topic__lesson__{name}" for name in LESSON_BODY))
        .order_by()
        .annotate(answered_here=Exists(responses.filter(question_id=OuterRef("pk"))))
    )
    if not attempt.quiz.is_topic_quiz:
        holding = topics_withholding_answers(attempt.learner_id)
        questions = questions.annotate(
            withheld=Exists(holding.filter(topic_id=OuterRef("topic_id")))
        )
    earlier = attempt.question_ids[: position - 1]
    if attempt.quiz.goes_in_order and earlier:
        earlier_responses = responses.filter(question_id__in=earlier).values("attempt_id")
        count = earlier_responses.annotate(count=Count("pk")).values("count")
        questions = questions.annotate(earlier_count=Coalesce(Subquery(count), Value(0)))
    if card:
        learner_cards = Q(review_cards__learner_id=attempt.learner_id)
        questions = questions.annotate(
            card=FilteredRelation("review_cards", condition=learner_cards),
            **{f"card_{name}": F(f"card__{name}") for name in REVIEW_CARD_FIELDS},
        )
    if shown_digest is not None:
        questions = questions.annotate(
            shown=FilteredRelation("versions", condition=Q(versions__digest=shown_digest)),
            shown_id=F("shown__id"),
            shown_snapshot=F("shown__snapshot"),
        )
    question = next(iter(questions[:1]), None)
    if question is None:
        return None
    row = vars(question)  # the annotations above, as the row gave them
    review_card = None
    if row.get("card_id") is not None:
        values = {name: row[f"card_{name}"] for name in REVIEW_CARD_FIELDS}
        review_card = ReviewCard(learner_id=attempt.learner_id, question=question, **values)
    shown_version = None
    if shown_digest is not None and row.get("shown_id") is not None:
        shown_version = QuestionVersion(
            id=row["shown_id"],
            question=question,
            digest=shown_digest,
            snapshot=row["shown_snapshot"],
        )
    return _QuestionHere(
        question=question,
        answered=row["answered_here"],
        withheld=row.get("withheld", False),
        earlier_answered=row.get("earlier_count", len(earlier)) >= len(earlier),
        review_card=review_card,
        shown_version=shown_version,
    )


def question_screen(attempt: Attempt, position: int) -> QuestionScreen:
    """The screen for `position` (1-based; the caller has checked it is in range): the
    question with its choices (two queries), or the feedback on its answer (two in a topic
    quiz), however long the attempt or the learner's history."""
    here = _question_at(attempt, position)
    if here is None:
        raise QuestionGone(attempt.question_ids[position - 1])
    question = here.question
    if here.answered:
        return answered_screen(attempt, position, question, withheld=here.withheld)
    choices = choices_as_shown(attempt, question)
    digest = snapshot_digest(snapshot_question(question, choices))
    return QuestionScreen(
        attempt=attempt,
        position=position,
        question=question,
        choices=choices,
        feedback=None,
        answered_count=attempt.answered_count,
        version_token=shown_version_token(attempt.pk, question.pk, digest),
        earlier_answered=here.earlier_answered,
    )


def answered_screen(
    attempt: Attempt,
    position: int,
    question: Question,
    response: Response | None = None,
    *,
    withheld: bool,
) -> QuestionScreen:
    """An answered position: its feedback (from the stored `response`, read here if not
    given; the lesson comes with the question), or only that it is saved while its quiz
    (or in a session, its topic's quiz: `withheld`) holds the answers back."""
    if not answers_shown(attempt):
        return _saved_screen(attempt, position, answered_count=attempt.answered_count)
    if withheld:
        return _saved_screen(
            attempt, position, answered_count=attempt.answered_count, promise=WITHHELD_BY_ITS_QUIZ
        )
    if response is None:
        response = Response.objects.select_related("version", "graded_version").get(
            attempt_id=attempt.pk, question_id=question.pk
        )
    response.attempt = attempt  # already loaded: spare feedback_for a query
    response.question = question
    return QuestionScreen(
        attempt=attempt,
        position=position,
        question=None,
        choices=(),
        feedback=feedback_for(response, _lessons_from([question.topic], {_topic_slug(response)})),
        answered_count=attempt.answered_count,
    )


@dataclass(frozen=True)
class QuestionToAnswer:
    """A position of an attempt as an answer to it is checked and graded, read before the
    answer's write begins: the question, whether it is answered already, the version the
    page showed (when the form said which and it is stored) and the rows the answer is
    checked against, in the order shown (that version's, else the question's own), and
    the learner's review card for the question (None before their first answer)."""

    attempt: Attempt
    position: int
    question: Question
    answered: bool
    earlier_answered: bool
    withheld: bool
    version: QuestionVersion | None
    rows: tuple[Choice, ...]
    review_card: ReviewCard | None
    version_token: str

    @cached_property
    def codes(self) -> OptionCodes:
        return attempt_option_codes(self.attempt, self.question, self.rows)

    @property
    def screen(self) -> QuestionScreen:
        """The question again, as its page showed it (a refused answer is shown by it)."""
        return QuestionScreen(
            attempt=self.attempt,
            position=self.position,
            question=self.question,
            choices=self.rows,
            feedback=None,
            answered_count=self.attempt.answered_count,
            version_token=self.version_token,
            earlier_answered=self.earlier_answered,
        )


def question_to_answer(
    attempt: Attempt, position: int, *, version_token: str = ""
) -> QuestionToAnswer:
    """The question at `position` as its answer is checked: one query when the page's
    `version_token` names a stored version (its snapshot gives the rows), two otherwise
    (the question's own rows, as they stand)."""
    question_id = attempt.question_ids[position - 1]
    digest = shown_digest(version_token, attempt_id=attempt.pk, question_id=question_id)
    here = _question_at(attempt, position, shown_digest=digest, card=True)
    if here is None:
        raise QuestionGone(question_id)
    version = here.shown_version
    rows: tuple[Choice, ...] = ()
    token = version_token if version is not None else ""
    if version is not None:
        rows = in_shown_order(attempt, question_id, choices_of(version))
    elif not here.answered:
        rows = choices_as_shown(attempt, here.question)
        digest = snapshot_digest(snapshot_question(here.question, rows))
        token = shown_version_token(attempt.pk, question_id, digest)
    return QuestionToAnswer(
        attempt=attempt,
        position=position,
        question=here.question,
        answered=here.answered,
        earlier_answered=here.earlier_answered,
        withheld=here.withheld,
        version=version,
        rows=rows,
        review_card=here.review_card,
        version_token=token,
    )


def stored_answer(asked: QuestionToAnswer) -> tuple[Response, tuple[Choice, ...]]:
    """An answered position's response, and the rows of the version it answered in the
    order shown: an answer sent again is read as that version read the first."""
    response = Response.objects.select_related("version", "graded_version").get(
        attempt_id=asked.attempt.pk, question_id=asked.question.pk
    )
    rows = in_shown_order(asked.attempt, asked.question.pk, choices_of(response.version))
    return response, rows


def screen_after_answer(asked: QuestionToAnswer, response: Response) -> QuestionScreen:
    """The screen once its question is answered, from the response just stored (with its
    attempt, question and version): no need to read them again."""
    return answered_screen(
        response.attempt, asked.position, asked.question, response, withheld=asked.withheld
    )


def answers_shown(attempt: Attempt) -> bool:
    """Whether this attempt's answered questions may show their verdict, right answers
    and explanation now (the quiz's feedback timing)."""
    return quiz_rules.feedback_shown(
        attempt.quiz, attempt_finished=attempt.is_finished, now=timezone.now()
    )


WITHHELD_BY_ITS_QUIZ = (
    "This question comes from a quiz that shows its answers later, so its answer is not "
    "shown here either."
)


def withheld_topic_ids(attempt: Attempt) -> set[int]:
    """In a review session or the course challenge, the topics whose own quiz does not show
    this learner its answers now: their questions' answers are not shown here either, even
    if the session drew them before that quiz began holding them back (one query; none
    for a topic quiz)."""
    if attempt.quiz.is_topic_quiz:
        return set()
    return set(topics_withholding_answers(attempt.learner_id).values_list("topic_id", flat=True))


def _saved_screen(
    attempt: Attempt, position: int, *, answered_count: int, promise: str = ""
) -> QuestionScreen:
    """An answered question whose feedback is not shown yet: that it is saved, no more."""
    return QuestionScreen(
        attempt=attempt,
        position=position,
        question=None,
        choices=(),
        feedback=None,
        answered_count=answered_count,
        feedback_promise=promise or quiz_rules.feedback_promise(attempt.quiz),
    )


def position_to_answer_first(
    attempt: Attempt, position: int, *, answered: bool, earlier_answered: bool
) -> int | None:
    """In a quiz that goes in order, the position to answer before this one can be opened
    (unanswered, with an earlier one still open); None when it may be opened."""
    if not attempt.quiz.goes_in_order or attempt.is_finished or answered or earlier_answered:
        return None
    first_open = next_unanswered_position(attempt)
    return first_open if first_open not in (None, position) else None


def screen_position_to_answer_first(attempt: Attempt, screen: QuestionScreen) -> int | None:
    """`position_to_answer_first` for a screen `question_screen` made."""
    return position_to_answer_first(
        attempt,
        screen.position,
        answered=screen.question is None,
        earlier_answered=screen.earlier_answered,
    )


def topics_withholding_answers(learner: User | int) -> QuerySet[Quiz, Any]:
    """The topics whose quiz does not show this learner its right answers now (feedback
    never, after a closing time still to come, or after an attempt they have in
    progress): the spaced review and the challenge leave their questions out, or they
    would give the answers away. A subquery: filtering by it costs no extra query."""
    now = timezone.now()
    in_progress = Attempt.objects.filter(learner=learner, state=AttemptState.IN_PROGRESS)
    return (
        Quiz.objects.filter(kind=QuizKind.TOPIC)
        .filter(
            Q(feedback_timing=FeedbackTiming.NEVER)
            | Q(feedback_timing=FeedbackTiming.AFTER_CLOSE, closes_at__isnull=True)
            | Q(feedback_timing=FeedbackTiming.AFTER_CLOSE, closes_at__gt=now)
            | Q(feedback_timing=FeedbackTiming.AFTER_ATTEMPT, pk__in=in_progress.values("quiz"))
        )
        .values("topic_id")
    )


def next_unanswered_position(attempt: Attempt) -> int | None:
    answered = set(attempt.responses.values_list("question_id", flat=True))
    for index, question_id in enumerate(attempt.question_ids, start=1):
        if question_id not in answered:
            return index
    return None


@dataclass(frozen=True)
class AttemptReview:
    """A finished attempt's answers with their feedback, in the order asked, and how many
    are left out because their own quiz holds its answers back for now."""

    feedback: list[Feedback]
    withheld_count: int


def attempt_review(attempt: Attempt) -> AttemptReview:
    """Every question of a finished attempt with its feedback (see `AttemptReview`): the
    responses with their questions' lessons in one query; in a session, one more for the
    topics holding answers back."""
    withheld = withheld_topic_ids(attempt)
    responses = list(
        attempt.responses.select_related(
            "version", "graded_version", "question__topic__lesson"
        ).defer(*(f"question__topic__lesson__{name}" for name in LESSON_BODY))
    )
    shown = [response for response in responses if response.question.topic_id not in withheld]
    for response in shown:
        response.attempt = attempt
    lessons = _lessons_from(
        {response.question.topic for response in shown},
        {_topic_slug(response) for response in shown},
    )
    return AttemptReview(
        feedback=[feedback_for(response, lessons) for response in shown],
        withheld_count=len(responses) - len(shown),
    )


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


class AnswerRefused(Exception):
    """An answer that an attempt would refuse; the message says why."""


def preview_feedback(question: Question, answer: Any) -> Feedback:
    """Check and grade an answer exactly as an attempt would, and record nothing."""
    question_type = question_types.get(question.type)
    snapshot = snapshot_question(question)
    key = key_from_snapshot(snapshot)
    problem = question_type.answer_problem(key, answer)
    if problem is not None:
        raise AnswerRefused(problem)
    points = question_types.grade(key, answer)
    lesson = lessons_for({question.topic.slug}, drafts=True).get(question.topic.slug)
    return feedback_from(snapshot, question_type.answer_to_json(answer), points, 1, lesson)


# -- progress: the course page, the dashboard and their guidance -------------------------


@dataclass(frozen=True)
class TopicRow:
    """One topic as a learner sees it on the course page and dashboard."""

    topic: Topic
    progress: TopicProgress | None
    open_attempt_id: int | None
    # Whether the topic has a quiz to take yet (a teacher may publish a topic without one).
    has_quiz: bool = True

    @property
    def mastery(self) -> Mastery:
        return Mastery(self.progress.mastery) if self.progress else Mastery.NOT_STARTED

    @property
    def mastery_percent(self) -> int:
        """How far along the five levels the topic is, for a progress bar."""
        return int(self.mastery) * 25

    @property
    def lesson_read(self) -> bool:
        return bool(self.progress and self.progress.lesson_read)

    @property
    def best_percent(self) -> Decimal | None:
        return self.progress.best_percent if self.progress else None

    def can_start_quiz(self, now: datetime) -> bool:
        """Whether a new attempt at the topic's quiz may start now (open, and attempts left
        counting the finished ones); no query."""
        if not self.has_quiz:
            return False
        used = self.progress.attempt_count if self.progress else 0
        return quiz_rules.start_refusal(self.topic.quiz, attempts_used=used, now=now) is None


def published_questions() -> QuerySet[Question]:
    """The questions learners may be asked: published, in a published topic."""
    return Question.objects.filter(is_published=True, topic__is_published=True)


def topic_rows_for(learner: User | None) -> list[TopicRow]:
    """Every published topic with the learner's progress: three queries, however many
    topics. A draft topic is left out (and so is the progress towards it)."""
    topics = list(Topic.objects.filter(is_published=True).select_related("quiz"))
    if learner is None:
        return [TopicRow(topic, None, None, hasattr(topic, "quiz")) for topic in topics]
    progress_by_topic = {p.topic_id: p for p in TopicProgress.objects.filter(learner=learner)}
    open_attempts = dict(
        Attempt.objects.filter(learner=learner, state=AttemptState.IN_PROGRESS).values_list(
            "quiz__topic_id", "id"
        )
    )
    return [
        TopicRow(
            topic,
            progress_by_topic.get(topic.pk),
            open_attempts.get(topic.pk),
            hasattr(topic, "quiz"),
        )
        for topic in topics
    ]


@dataclass(frozen=True)
class ReviewSummary:
    due_now: int
    next_due: datetime | None


def review_summary(learner: User) -> ReviewSummary:
    """How many reviews are due now and when the next falls due: one query."""
    now = timezone.now()
    published = Q(question__is_published=True, question__topic__is_published=True)
    totals = (
        ReviewCard.objects.filter(published, learner=learner)
        .exclude(question__topic_id__in=topics_withholding_answers(learner))
        .aggregate(
            due_now=Count("id", filter=Q(due__lte=now)),
            next_due=Min("due", filter=Q(due__gt=now)),
        )
    )
    return ReviewSummary(totals["due_now"], totals["next_due"])


@dataclass(frozen=True)
class NextStep:
    action: str  # resume, review, take, retake, read, challenge
    title: str
    reason: str
    url: str


def next_step(rows: list[TopicRow], reviews: ReviewSummary) -> NextStep:
    """The one thing to do next, from the learner's state, in this order of priority:
    finish an open quiz; do the due reviews; take the quiz of a lesson already read; retake
    the weakest topic still below 70%; read the next unread lesson; else the course
    challenge."""
    for row in rows:
        if row.open_attempt_id:
            return NextStep(
                "resume",
                f"Finish your quiz on {row.topic.title}",
                "You stopped part of the way through.",
                reverse("learning:attempt", args=[row.open_attempt_id]),
            )
    if reviews.due_now:
        plural = "s are" if reviews.due_now != 1 else " is"
        return NextStep(
            "review",
            f"Review {reviews.due_now} question{'s' if reviews.due_now != 1 else ''}",
            f"{reviews.due_now} question{plural} due: a review now, just as you might forget, "
            "makes it stick.",
            reverse("learning:review"),
        )
    now = timezone.now()
    for row in rows:
        if (
            row.lesson_read
            and not (row.progress and row.progress.attempt_count)
            and row.can_start_quiz(now)
        ):
            return NextStep(
                "take",
                f"Take the quiz on {row.topic.title}",
                "You have read the lesson; now check what stayed with you.",
                reverse("learning:quiz", args=[row.topic.slug]),
            )
    # A quiz that refuses a new attempt (closed, or no attempts left) is no next step.
    weak = [row for row in rows if row.mastery == Mastery.ATTEMPTED and row.can_start_quiz(now)]
    if weak:
        weakest = min(weak, key=lambda row: (row.best_percent or 0, row.topic.order))
        return NextStep(
            "retake",
            f"Retake the quiz on {weakest.topic.title}",
            f"Your best there is {shown_percent(weakest.best_percent or 0)}; "
            "70% makes it familiar.",
            reverse("learning:quiz", args=[weakest.topic.slug]),
        )
    for row in rows:
        if not row.lesson_read and row.mastery == Mastery.NOT_STARTED:
            return NextStep(
                "read",
                f"Read the lesson on {row.topic.title}",
                f"Topic {row.topic.order} is next.",
                reverse("learning:lesson", args=[row.topic.slug]),
            )
    return NextStep(
        "challenge",
        "Take the course challenge",
        "A mixed quiz across your topics, weighted to the weaker ones: the road to mastered.",
        reverse("learning:challenge"),
    )


HISTORY_PER_TOPIC = 10


def score_history(learner: User) -> dict[int, list[Decimal]]:
    """The last ten topic-quiz scores per topic, oldest first: one query, however long
    the learner's history."""
    latest_first = (
        Attempt.objects.filter(
            learner=learner, state__in=AttemptState.closed(), quiz__kind=QuizKind.TOPIC
        )
        .annotate(
            recency=Window(
                RowNumber(), partition_by=[F("quiz_id")], order_by=F("finished_at").desc()
            )
        )
        .filter(recency__lte=HISTORY_PER_TOPIC)
        .order_by("quiz__topic_id", "-finished_at")
        .values_list("quiz__topic_id", "percent")
    )
    history: dict[int, list[Decimal]] = {}
    for topic_id, percent in latest_first:
        assert percent is not None, "a closed attempt has been scored"
        history.setdefault(topic_id, []).insert(0, percent)
    return history


STREAK_LOOKBACK_DAYS = 366


def answers_by_day(learner: User, today: date) -> dict[date, int]:
    """Answers given per day over the last year (for the chart and the streak)."""
    since = timezone.now() - timedelta(days=STREAK_LOOKBACK_DAYS)
    rows = (
        Response.objects.filter(attempt__learner=learner, answered_at__gte=since)
        .annotate(day=TruncDate("answered_at"))
        .values("day")
        .annotate(answers=Count("id"))
        .values_list("day", "answers")
    )
    return {day: answers for day, answers in rows if day <= today}


def streak(active_days: set[date], today: date) -> int:
    """Consecutive active days up to today, or up to yesterday while today is still young."""
    day = today if today in active_days else today - timedelta(days=1)
    length = 0
    while day in active_days:
        length += 1
        day -= timedelta(days=1)
    return length


def learners_taught_by(user: User | AnonymousUser) -> QuerySet[User]:
    """The users whose learning records `user` may see: everyone for a superuser; for
    anyone else the learners in the classes they teach, and nobody if they teach none.

    The one rule for every teacher's view of learner data (the progress report and its
    CSV, attempts, topic progress, class members); use it as a subquery
    (`learner__in=learners_taught_by(user)`), which adds no query of its own."""
    users = User.objects.all()
    if user.is_superuser:
        return users
    if not user.is_authenticated:
        return users.none()
    classes_taught = Membership.objects.filter(classroom__teachers=user.pk)
    return users.filter(pk__in=classes_taught.values("learner_id"))


@dataclass(frozen=True)
class CourseProgress:
    """How many published topics are at familiar or better, of how many."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.done / self.total) if self.total else 0

    @property
    def percent_text(self) -> str:
        return f"{self.percent}%"

    @property
    def text(self) -> str:
        level = COURSE_PROGRESS_LEVEL.label.lower()
        return f"{self.done} of {self.total} topic{pluralize(self.total)} at {level} or better"


def course_progress(rows: list[TopicRow]) -> CourseProgress:
    """From the learner's topic rows (published topics only): no query."""
    done = sum(1 for row in rows if row.mastery >= COURSE_PROGRESS_LEVEL)
    return CourseProgress(done, len(rows))


@dataclass(frozen=True)
class TopicNeighbours:
    previous: Topic | None
    next: Topic | None


def topic_neighbours(topic: Topic, published: Iterable[Topic] | None = None) -> TopicNeighbours:
    """The published topics just before and after this one in course order: one query,
    none when the `published` topics are at hand (a learner's topic rows). For a draft
    topic (a teacher's look), its place among the published ones."""
    if published is None:
        published = Topic.objects.filter(is_published=True).only("slug", "title", "order")
    others = [other for other in published if other.pk != topic.pk]
    key = (topic.order, topic.title)
    before = [other for other in others if (other.order, other.title) < key]
    after = [other for other in others if (other.order, other.title) > key]
    return TopicNeighbours(before[-1] if before else None, after[0] if after else None)


def certificate_of(learner: User) -> Certificate | None:
    return Certificate.objects.filter(learner=learner).first()


def next_quiz_time(now: datetime) -> datetime | None:
    """The next moment any quiz opens or closes: one query."""
    times = Quiz.objects.aggregate(
        opens=Min("opens_at", filter=Q(opens_at__gt=now)),
        closes=Min("closes_at", filter=Q(closes_at__gt=now)),
    )
    return min((moment for moment in times.values() if moment is not None), default=None)
