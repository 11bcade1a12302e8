import secrets
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse

from learning import question_types
from learning.diagrams import diagrams
from learning.glossary import render_lesson_with_glossary
from learning.rendering import diagram_problems, field_problems


class Topic(models.Model):
    slug = models.SlugField(unique=True)
    title = models.CharField(max_length=200)
    order = models.PositiveSmallIntegerField(default=0)
    summary = models.TextField(blank=True)
    is_published = models.BooleanField(
        "published",
        default=False,
        help_text="Learners see only published topics: a new topic is a draft until you "
        "publish it.",
    )
    # The digest of title, order and summary as the course files last wrote them (empty:
    # never loaded from the files); load_content leaves a topic edited since then alone.
    files_digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    class Meta:
        ordering = ["order", "title"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("learning:lesson", args=[self.slug])


class Lesson(models.Model):
    topic = models.OneToOneField(Topic, on_delete=models.CASCADE, related_name="lesson")
    title = models.CharField(max_length=200)
    body_markdown = models.TextField(
        help_text="Markdown. Give each heading a stable anchor: ## Heading {#anchor}"
    )
    body_html = models.TextField(editable=False, default="")
    # [{"anchor": "...", "title": "...", "level": 2}, ...] in page order.
    sections = models.JSONField(editable=False, default=list)
    updated_at = models.DateTimeField(auto_now=True)
    # The digest of title and body as the course files last wrote them (see Topic).
    files_digest = models.CharField(max_length=64, blank=True, default="", editable=False)

    def __str__(self) -> str:
        return self.title

    def save(self, *args: Any, **kwargs: Any) -> None:
        rendered = render_lesson_with_glossary(self.body_markdown)
        self.body_html = rendered.html
        self.sections = [
            {"anchor": s.anchor, "title": s.title, "level": s.level} for s in rendered.sections
        ]
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "body_html", "sections"}
        super().save(*args, **kwargs)

    def clean(self) -> None:
        super().clean()
        problems = field_problems("body_markdown", self.body_markdown)
        problems += diagram_problems(self.body_markdown, diagrams())
        if problems:
            raise ValidationError({"body_markdown": problems})

    @property
    def anchors(self) -> set[str]:
        return {section["anchor"] for section in self.sections}

    def section_title(self, anchor: str) -> str:
        for section in self.sections:
            if section["anchor"] == anchor:
                return section["title"]
        return ""


class QuestionOrigin(models.TextChoices):
    FIXTURES = "fixtures", "Course files"
    ADMIN = "admin", "Admin"
    IMPORT = "import", "Imported file"


class Question(models.Model):
    topic = models.ForeignKey(Topic, on_delete=models.CASCADE, related_name="questions")
    key = models.SlugField(
        max_length=100,
        blank=True,
        help_text="Stable identifier within its topic, used by the course files, imports "
        "and exports; left blank, one is made for you.",
    )
    type = models.CharField(max_length=20, choices=question_types.type_choices)
    prompt = models.TextField()
    explanation = models.TextField(
        blank=True,
        help_text="Shown after answering: why the right answer is right. Without one, "
        "learners who miss the question see only the right answer.",
    )
    lesson_anchor = models.SlugField(
        max_length=100,
        blank=True,
        help_text="Anchor of the lesson section that teaches this (without #).",
    )
    numeric_answer = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numeric_tolerance = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0))],
        help_text="Answers within ± this of the value count as right.",
    )
    numeric_feedback = models.TextField(
        blank=True, help_text="Shown when a learner's number is within the tolerance of the value."
    )
    is_published = models.BooleanField(
        "published", default=True, help_text="Only published questions are drawn in quizzes."
    )
    origin = models.CharField(
        max_length=20, choices=QuestionOrigin.choices, default=QuestionOrigin.ADMIN, editable=False
    )
    # The digest of the question (its version snapshot and published state) as the course
    # files last wrote it (empty: never loaded from the files); load_content leaves a
    # question edited since then alone (learning/content.py).
    files_digest = models.CharField(max_length=64, blank=True, default="", editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic__order", "id"]
        indexes = [models.Index(fields=["topic", "is_published"])]
        constraints = [
            # A question is known by its key within its topic: an import into one topic
            # never touches another topic's question of the same name.
            models.UniqueConstraint(fields=["topic", "key"], name="one_key_per_topic")
        ]

    def __str__(self) -> str:
        return self.prompt if len(self.prompt) <= 80 else self.prompt[:79] + "…"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.key:
            self.key = f"q-{uuid.uuid4().hex[:12]}"
        super().save(*args, **kwargs)

    @property
    def uses_picked_choices(self) -> bool:
        """Whether learners answer by picking among the choices (so picks can be counted)."""
        return question_types.get(self.type).answers_by_picking


class Choice(models.Model):
    """One row of a question's answer key, read according to the question's type.

    - single choice, true/false: an option (`text`), right (the whole point) or not (its
      `credit`, usually 0%);
    - multiple answers: an option (`text`), right or not, adding its `credit` when picked;
    - short answer: an accepted answer (`text`) worth `credit` percent;
    - matching: a pair, `text` to be matched with `match_text`; a row with only a
      `match_text` is an extra wrong match;
    - numeric: an extra graded answer (`numeric_value` ± `numeric_tolerance`) worth
      `credit` percent, beside the question's own full-credit value.
    """

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="choices")
    text = models.CharField(max_length=500, blank=True)
    is_correct = models.BooleanField("correct", default=False)
    credit = models.DecimalField(
        max_digits=8,
        decimal_places=5,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(-100)), MaxValueValidator(Decimal(100))],
        help_text="Percent of the point this answer earns (100 = fully right, 50 = half, "
        "0 = nothing). Single choice: what a wrong option earns (a ticked one earns all). "
        "Multiple answers: what each option adds, right ones adding to 100, wrong ones 0 or "
        "negative (all left at 0: graded by the ticks).",
    )
    match_text = models.CharField(
        "matches", max_length=500, blank=True, help_text="Matching questions: the right match."
    )
    numeric_value = models.DecimalField(max_digits=14, decimal_places=4, null=True, blank=True)
    numeric_tolerance = models.DecimalField(max_digits=14, decimal_places=4, default=Decimal(0))
    feedback = models.TextField(blank=True, help_text="Shown when a learner gives this answer.")
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class ImportState(models.TextChoices):
    PREVIEWED = "previewed", "Previewed, not imported"
    IMPORTED = "imported", "Imported"
    UNDONE = "undone", "Undone"


class ImportVia(models.TextChoices):
    ADMIN = "admin", "Admin"
    COMMAND = "command", "Command line"


class QuestionImport(models.Model):
    """One import of a question file: who, when, which file, what it changed, and what
    undoing it restores.

    A record starts `previewed` in the admin, holding the uploaded text until the teacher
    confirms (so a large file never sits in the session); once imported the text is dropped
    and `questions` lists every question created or updated, each updated one with its
    rows as they were before (Django's serialized form), which an undo saves back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    via = models.CharField(max_length=20, choices=ImportVia.choices, default=ImportVia.ADMIN)
    filename = models.CharField("file", max_length=255)
    file_format = models.CharField("format", max_length=20)
    chosen_topic = models.ForeignKey(
        Topic,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="The topic every question was put in, if one was chosen.",
    )
    state = models.CharField(
        max_length=20, choices=ImportState.choices, default=ImportState.PREVIEWED
    )
    token = models.CharField(max_length=64, blank=True, editable=False)
    text = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    created_count = models.PositiveIntegerField("created", default=0)
    updated_count = models.PositiveIntegerField("updated", default=0)
    unchanged_count = models.PositiveIntegerField("unchanged", default=0)
    skipped_count = models.PositiveIntegerField("skipped", default=0)
    # [{"id", "slug", "title"}] of the topics this import created.
    topics_created = models.JSONField(default=list, blank=True)
    # [{"id", "key", "topic", "action": "create"|"update", "updated_at", "before": [...]}]
    questions = models.JSONField(default=list, blank=True)
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "created_at"])]

    def __str__(self) -> str:
        when = self.imported_at or self.created_at
        return f"Import of {self.filename} on {when:%Y-%m-%d %H:%M}"

    @property
    def who(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return ImportVia(self.via).label if self.via == ImportVia.COMMAND else "(deleted user)"


class QuizKind(models.TextChoices):
    TOPIC = "topic", "Topic quiz"
    REVIEW = "review", "Spaced review"
    CHALLENGE = "challenge", "Course challenge"


class Navigation(models.TextChoices):
    FREE = "free", "Free: any question can be opened, in any order"
    IN_ORDER = "in_order", "In order: each question only once the ones before it are answered"


class FeedbackTiming(models.TextChoices):
    """When a learner sees whether an answer was right, the right answer and the
    explanation (Moodle's review options, in plain words). The score is always shown."""

    AFTER_ANSWER = "after_answer", "Right after each answer"
    AFTER_ATTEMPT = "after_attempt", "After the attempt is finished"
    AFTER_CLOSE = "after_close", "After the quiz closes"
    NEVER = "never", "Never"


class LmsGrade(models.TextChoices):
    """Which score an LMS gradebook gets for a learner when a linked quiz is finished."""

    BEST = "best", "Their best attempt"
    LATEST = "latest", "Their latest attempt"


class Quiz(models.Model):
    """A topic's quiz, or one of the two course-wide ones (review sessions and the course
    challenge), which draw their questions from the learner's state instead of a topic."""

    kind = models.CharField(max_length=20, choices=QuizKind.choices, default=QuizKind.TOPIC)
    topic = models.OneToOneField(
        Topic, on_delete=models.CASCADE, related_name="quiz", null=True, blank=True
    )
    question_count = models.PositiveSmallIntegerField(
        default=10,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many published questions each attempt draws (all, if fewer).",
    )
    pass_mark = models.PositiveSmallIntegerField(
        default=70,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="Percentage needed to pass.",
    )
    time_limit_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600)],
        help_text="Leave empty for no time limit.",
    )
    shuffle_questions = models.BooleanField(default=True)
    shuffle_choices = models.BooleanField(default=True)
    attempts_allowed = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
        help_text="How many attempts each learner may start. Leave empty for no limit.",
    )
    opens_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="Before this moment the quiz cannot be started. Leave empty: open now.",
    )
    closes_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=(
            "From this moment no attempt can be started, and an attempt still in progress "
            "is closed and scored on what was answered. Leave empty: never closes."
        ),
    )
    feedback_timing = models.CharField(
        "show answers",
        max_length=20,
        choices=FeedbackTiming.choices,
        default=FeedbackTiming.AFTER_ANSWER,
        help_text=(
            "When learners see whether each answer was right, the right answer and the "
            "explanation. The score is always shown once an attempt is finished. "
            "“After the quiz closes” waits for the closing time (without one, answers stay "
            "hidden until you set one). When you give a quiz a time limit and leave this "
            "at “Right after each answer”, it is set to “After the quiz closes”: choose "
            "again and save to change it."
        ),
    )
    navigation = models.CharField(
        max_length=20,
        choices=Navigation.choices,
        default=Navigation.FREE,
        help_text=(
            "In order: a learner cannot look at a later question before answering the "
            "earlier ones. The spaced review and the course challenge always go in order."
        ),
    )
    lms_grade = models.CharField(
        "score sent to an LMS",
        max_length=10,
        choices=LmsGrade.choices,
        default=LmsGrade.BEST,
        help_text=(
            "When the quiz is linked from an LMS course (LTI), the score its gradebook "
            "receives each time a learner finishes an attempt."
        ),
    )

    class Meta:
        verbose_name_plural = "quizzes"
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=~models.Q(kind="topic"),
                name="one_review_and_one_challenge_quiz",
            ),
            models.CheckConstraint(
                condition=models.Q(kind="topic", topic__isnull=False)
                | (~models.Q(kind="topic") & models.Q(topic__isnull=True)),
                name="topic_quizzes_have_a_topic",
            ),
        ]

    def __str__(self) -> str:
        return self.title if self.topic_id is None else f"Quiz: {self.title}"

    @property
    def title(self) -> str:
        return self.topic.title if self.topic is not None else self.get_kind_display()

    @property
    def session_title(self) -> str:
        """What a learner calls an attempt at this quiz in a list: its topic, or the kind
        of session ("Review session", "Course challenge")."""
        if self.topic is not None:
            return self.topic.title
        return "Review session" if self.kind == QuizKind.REVIEW else self.get_kind_display()

    @property
    def is_topic_quiz(self) -> bool:
        return self.kind == QuizKind.TOPIC

    @property
    def is_practice(self) -> bool:
        """A review session is practice: it is scored but neither passed nor failed."""
        return self.kind == QuizKind.REVIEW

    @property
    def goes_in_order(self) -> bool:
        return self.navigation == Navigation.IN_ORDER

    def clean(self) -> None:
        super().clean()
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            raise ValidationError({"closes_at": "The quiz must close after it opens."})


class AttemptState(models.TextChoices):
    """An attempt starts in progress and ends once: finished when its last question is
    answered, expired when its time limit passes first. Both are scored."""

    IN_PROGRESS = "in_progress", "In progress"
    FINISHED = "finished", "Finished"
    EXPIRED = "expired", "Time ran out"

    @classmethod
    def closed(cls) -> list[str]:
        return [cls.FINISHED, cls.EXPIRED]


class Attempt(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="attempts"
    )
    quiz = models.ForeignKey(Quiz, on_delete=models.PROTECT, related_name="attempts")
    # Question ids in the order drawn for this attempt, and each question's choice ids in
    # the order shown, so a resumed attempt looks exactly as it did.
    question_ids = models.JSONField(default=list)
    choice_orders = models.JSONField(default=dict)
    state = models.CharField(
        max_length=20, choices=AttemptState.choices, default=AttemptState.IN_PROGRESS
    )
    points = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal(0))
    # How many of its questions have a response: kept by record_answer in the answer's own
    # write, so pages count without a query and a concurrent answer is seen at the write.
    answered_count = models.PositiveSmallIntegerField(default=0, editable=False)
    percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    passed = models.BooleanField(null=True)
    # 1 for the learner's first finished attempt at this quiz, 2 for the second, ...
    sequence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # When the quiz has a time limit: past this moment no answer is taken.
    deadline = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["learner", "quiz"],
                condition=models.Q(state="in_progress"),
                name="one_open_attempt_per_learner_and_quiz",
            )
        ]
        indexes = [
            models.Index(fields=["learner", "-started_at"]),
            models.Index(fields=["quiz", "sequence"]),
        ]

    def __str__(self) -> str:
        return f"Attempt {self.pk} by {self.learner} on {self.quiz.title}"

    @property
    def is_finished(self) -> bool:
        return self.state != AttemptState.IN_PROGRESS

    @property
    def question_total(self) -> int:
        return len(self.question_ids)

    @property
    def ends_at(self) -> datetime | None:
        """When this attempt stops taking answers: its deadline (a time limit, or a
        course session's expiry) or its quiz's closing time, whichever comes first."""
        ends = [moment for moment in (self.deadline, self.quiz.closes_at) if moment is not None]
        return min(ends) if ends else None

    @property
    def closed_by_quiz(self) -> bool:
        """Whether the quiz's closing time, not a time limit, ended this attempt."""
        closes_at = self.quiz.closes_at
        return (
            self.state == AttemptState.EXPIRED
            and closes_at is not None
            and self.ends_at == closes_at
        )


class QuestionVersion(models.Model):
    """A question exactly as it was asked: prompt, choices, answer key, explanation.

    Each distinct version is stored once and responses point at it, so a later edit by a
    teacher never rewrites a learner's past, and a million responses do not carry a million
    copies of the same question."""

    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="versions")
    digest = models.CharField(max_length=64)
    snapshot = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["question", "digest"], name="one_version_per_content")
        ]

    def __str__(self) -> str:
        return f"Question {self.question_id} as of {self.created_at:%Y-%m-%d %H:%M}"


class Response(models.Model):
    attempt = models.ForeignKey(Attempt, on_delete=models.CASCADE, related_name="responses")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="responses")
    version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, related_name="responses"
    )
    position = models.PositiveSmallIntegerField()
    # {"choices": [ids]}, {"value": "12.5"}, {"text": "..."} or {"matches": {id: text}}
    answer = models.JSONField()
    points = models.DecimalField(max_digits=5, decimal_places=4)
    answered_at = models.DateTimeField(auto_now_add=True)
    # Set by a regrade (learning.regrading): the version whose answer key `points` now come
    # from (None: `version`'s own), the points first awarded, and when they last changed.
    graded_version = models.ForeignKey(
        QuestionVersion, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    original_points = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    regraded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(
                fields=["attempt", "question"], name="one_response_per_attempt_question"
            )
        ]

    def __str__(self) -> str:
        return f"Response to question {self.question_id} in attempt {self.attempt_id}"

    @property
    def is_correct(self) -> bool:
        return self.points >= 1

    @property
    def question_snapshot(self) -> dict:
        """The question as this learner was asked it (load with select_related("version"))."""
        return self.version.snapshot


class Regrade(models.Model):
    """A teacher regraded past answers to a question against its answer key of the day
    (`version`): who, when, and how much it changed."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="regrades")
    version = models.ForeignKey(QuestionVersion, on_delete=models.PROTECT, related_name="+")
    teacher = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    responses_checked = models.PositiveIntegerField(default=0)
    responses_changed = models.PositiveIntegerField(default=0)
    attempts_changed = models.PositiveIntegerField(default=0)
    passes_flipped = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Regrade of question {self.question_id} on {self.created_at:%Y-%m-%d %H:%M}"


class ReviewCard(models.Model):
    """A question a learner has answered, scheduled for review by FSRS.

    The fields mirror `fsrs.Card`; `learning.reviews` converts between the two.
    """

    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="review_cards"
    )
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="review_cards")
    state = models.PositiveSmallIntegerField()  # fsrs.State: 1 learning, 2 review, 3 relearning
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    stability = models.FloatField(null=True, blank=True)
    difficulty = models.FloatField(null=True, blank=True)
    due = models.DateTimeField()
    last_review = models.DateTimeField(null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    lapse_count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["learner", "question"], name="one_card_per_question")
        ]
        indexes = [models.Index(fields=["learner", "due"])]

    def __str__(self) -> str:
        return f"Review of question {self.question_id} for {self.learner}, due {self.due:%Y-%m-%d}"


class PickedChoice(models.Model):
    """A choice a learner picked in a response, kept as a row so choice counts are one
    aggregate. The id stays even if a teacher later deletes the choice."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="picks")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="picks")
    choice_id = models.BigIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["response", "choice_id"], name="one_pick_per_choice")
        ]
        indexes = [models.Index(fields=["question", "choice_id"])]

    def __str__(self) -> str:
        return f"Choice {self.choice_id} picked in response {self.response_id}"


class Mastery(models.IntegerChoices):
    NOT_STARTED = 0, "Not started"
    ATTEMPTED = 1, "Attempted"
    FAMILIAR = 2, "Familiar"
    PROFICIENT = 3, "Proficient"
    MASTERED = 4, "Mastered"


class TopicProgress(models.Model):
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="topic_progress"
    )
    topic = models.ForeignKey(Topic, on_delete=models.PROTECT, related_name="progress")
    lesson_read_at = models.DateTimeField(null=True, blank=True)
    attempt_count = models.PositiveIntegerField(default=0)
    best_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    mastery = models.PositiveSmallIntegerField(
        choices=Mastery.choices, default=Mastery.NOT_STARTED
    )
    # The day of an attempt at 90% or more; a second such day makes the topic mastered.
    high_score_on = models.DateField(null=True, blank=True)
    last_activity_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "topic progress"
        ordering = ["topic__order"]
        constraints = [
            models.UniqueConstraint(fields=["learner", "topic"], name="one_progress_per_topic")
        ]

    def __str__(self) -> str:
        return f"{self.learner} – {self.topic}: {self.get_mastery_display()}"

    @property
    def lesson_read(self) -> bool:
        return self.lesson_read_at is not None

    @property
    def mastery_level(self) -> Mastery:
        return Mastery(self.mastery)


JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
JOIN_CODE_LENGTH = 8


def new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


class Classroom(models.Model):
    """A teacher's class: learners join it with its code; teachers filter reports by it."""

    name = models.CharField(max_length=200)
    teachers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="classes_taught", blank=True
    )
    join_code = models.CharField(max_length=16, unique=True, default=new_join_code)
    learners = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Membership",
        related_name="classes_joined",
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "class"
        verbose_name_plural = "classes"

    def __str__(self) -> str:
        return self.name

    @property
    def display_code(self) -> str:
        """The join code in two halves, easier to read out: K7QM-2XWP."""
        half = len(self.join_code) // 2
        return f"{self.join_code[:half]}-{self.join_code[half:]}"


class Membership(models.Model):
    classroom = models.ForeignKey(Classroom, on_delete=models.CASCADE, related_name="memberships")
    learner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["classroom", "learner"], name="one_membership_per_class"
            )
        ]
        permissions = [
            (
                "make_reset_link_membership",
                "Can make a one-time password reset link for a learner of their class",
            )
        ]

    def __str__(self) -> str:
        return f"{self.learner} in {self.classroom}"


class ItemAnalysis(Question):
    """The admin's item-analysis page (a view of Question; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "item analysis"
        verbose_name_plural = "item analysis"


class ProgressReport(TopicProgress):
    """The admin's progress report (a view of TopicProgress; no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = "progress report"
        verbose_name_plural = "progress report"


class QuestionStatistics(models.Model):
    """Running sums over learners' first finished attempts at topic quizzes, per version of
    a question (what those learners were asked), from which the item analysis computes
    facility, spread and discrimination: after a re-key the old key's answers are not mixed
    with the new. x is the question's score in an attempt, y the score on the rest of that
    attempt. Kept up to date in the same transaction as each attempt finishes;
    `rebuild_item_statistics` recomputes them."""

    version = models.OneToOneField(
        QuestionVersion, on_delete=models.CASCADE, primary_key=True, related_name="statistics"
    )
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="statistics")
    responses = models.PositiveIntegerField(default=0)
    sum_x = models.FloatField(default=0)
    sum_xx = models.FloatField(default=0)
    sum_y = models.FloatField(default=0)
    sum_yy = models.FloatField(default=0)
    sum_xy = models.FloatField(default=0)

    class Meta:
        verbose_name_plural = "question statistics"

    def __str__(self) -> str:
        return f"Statistics of version {self.version_id} of question {self.question_id}"


class ChoicePickCount(models.Model):
    """How many first finished attempts picked each choice of a question version."""

    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="pick_counts")
    version = models.ForeignKey(
        QuestionVersion, on_delete=models.CASCADE, related_name="pick_counts"
    )
    choice_id = models.BigIntegerField()
    picks = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "choice_id"], name="one_count_per_version_choice"
            )
        ]

    def __str__(self) -> str:
        return f"Choice {self.choice_id}: {self.picks} picks"


class SignUpRecord(models.Model):
    """One account created from one client address: the sign-up limit per address counts
    these. Kept only for the limit's window (learning/signups.py deletes older ones)."""

    address = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["address", "created_at"], name="signup_address_time")]

    def __str__(self) -> str:
        return f"Sign-up from {self.address} at {self.created_at:%Y-%m-%d %H:%M}"


def new_certificate_token() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits: not to be guessed


class Certificate(models.Model):
    """A learner's completion of the course: made once, when every published topic first
    reached the completion level, and kept as it was then (a later drop in mastery does
    not take it back). Its token is the public verification link's only key."""

    learner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="certificate"
    )
    token = models.CharField(max_length=64, unique=True, default=new_certificate_token)
    # As printed: the learner's display name (or username) when the course was completed.
    name = models.CharField(max_length=150)
    completed_at = models.DateTimeField()
    # Each topic as it stood then, in course order: [{"title": ..., "mastery": level}, ...]
    topics = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"Certificate of {self.name}, {self.completed_at:%Y-%m-%d}"

    def get_absolute_url(self) -> str:
        return reverse("learning:verify_certificate", args=[self.token])

    @property
    def topic_levels(self) -> list[tuple[str, Mastery]]:
        return [(topic["title"], Mastery(topic["mastery"])) for topic in self.topics]


class PasswordResetRequest(models.Model):
    """One "Forgot your password?" form sent from one client address: the limit per address
    counts these, whether or not an account had the e-mail. Kept only for the limit's
    window (learning/password_resets.py deletes older ones)."""

    address = models.CharField(max_length=64)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["address", "created_at"], name="reset_address_time")]

    def __str__(self) -> str:
        return f"Password reset asked from {self.address} at {self.created_at:%Y-%m-%d %H:%M}"


class PageVersion(models.Model):
    """A counter per set of cached pages (learning/page_cache.py): "content" for what
    every learner sees, "learner:<id>" for one learner's own pages. A service that changes
    what a page shows moves its counter in the same transaction, so a cached copy made
    before the change is never served after it, by any worker."""

    key = models.CharField(max_length=64, primary_key=True)
    version = models.PositiveBigIntegerField()

    def __str__(self) -> str:
        return f"{self.key} at version {self.version}"


# The LTI tool's models belong to this app (learning/lti/models.py).
from learning.lti.models import GradedLink, GradeSend, GradeSendState, LmsClass  # noqa: E402, F401
