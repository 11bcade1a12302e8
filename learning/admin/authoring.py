"""Authoring the course: topics, lessons, quizzes and questions, with their previews."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.db.models import Count, Max, Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from learning import page_cache, question_types, selectors
from learning.admin.bank import QuestionBankAdmin
from learning.admin.regrading import QuestionRegradeAdmin
from learning.diagrams import diagrams
from learning.forms import (
    ANSWER_REFUSED_STATUS,
    AnswerForm,
    ChoiceAdminForm,
    ChoiceInlineFormSet,
    QuestionAdminForm,
    QuizAdminForm,
    TextAreaField,
)
from learning.http import HtmxHttpRequest
from learning.models import (
    Choice,
    Lesson,
    Question,
    QuestionOrigin,
    Quiz,
    QuizKind,
    Topic,
)
from learning.question_types.base import ChoiceKey

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations


# Text typed in the admin's textareas is stored with LF line breaks.
TEXT_AREAS: Mapping[type[models.Field[Any, Any]], Mapping[str, Any]] = {
    models.TextField: {"form_class": TextAreaField}
}


class LessonInline(admin.StackedInline):
    formfield_overrides = TEXT_AREAS
    model = Lesson
    extra = 0
    max_num = 1
    fields = ("title", "body_markdown")


# A quiz's settings, grouped as a teacher thinks of them.
QUIZ_FIELDSETS = (
    (None, {"fields": ("question_count", "pass_mark", "shuffle_questions", "shuffle_choices")}),
    (
        "When learners may take it",
        {"fields": ("opens_at", "closes_at", "attempts_allowed", "time_limit_minutes")},
    ),
    ("What learners see", {"fields": ("feedback_timing", "navigation")}),
)


class TopicQuizForm(QuizAdminForm):
    def has_changed(self) -> bool:
        # The inline shows no empty form: a new one is there because the teacher clicked
        # "Add another Quiz", so it is saved even with every setting left as offered.
        return self.instance._state.adding or super().has_changed()


class QuizInline(admin.StackedInline):
    model = Quiz
    form = TopicQuizForm
    extra = 0
    max_num = 1

    def get_fieldsets(self, request: HttpRequest, obj: Any = None) -> Any:
        return QUIZ_FIELDSETS


class PublishedCount(TypedDict):
    published: int


def _changed_message(verb: str, changed: int, selected: int, noun: str) -> str:
    """“Published 2 topics (1 already was).”"""
    text = f"{verb} {changed} {noun}{'s' if changed != 1 else ''}"
    unchanged = selected - changed
    if unchanged:
        text += f" ({unchanged} already {'was' if unchanged == 1 else 'were'})"
    return text + "."


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    formfield_overrides = TEXT_AREAS
    list_display = ("order", "title", "slug", "is_published", "published_questions")
    list_display_links = ("title",)
    list_filter = ("is_published",)
    search_fields = ("title", "summary")
    prepopulated_fields = {"slug": ("title",)}
    inlines = (LessonInline, QuizInline)
    actions = ("publish", "unpublish")

    @admin.action(description="Publish the selected topics")
    def publish(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        selected = queryset.count()
        with transaction.atomic():
            changed = Topic.objects.filter(
                pk__in=queryset.values("pk"), is_published=False
            ).update(is_published=True)
            page_cache.bump_content()  # update() sends no signal
        self.message_user(request, _changed_message("Published", changed, selected, "topic"))
        self._warn_of_missing_parts(request, queryset)

    @admin.action(description="Unpublish the selected topics (learners stop seeing them)")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Topic]) -> None:
        selected = queryset.count()
        with transaction.atomic():
            changed = Topic.objects.filter(pk__in=queryset.values("pk"), is_published=True).update(
                is_published=False
            )
            page_cache.bump_content()  # update() sends no signal
        self.message_user(request, _changed_message("Unpublished", changed, selected, "topic"))

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        topic = form.instance
        if topic.is_published:
            self._warn_of_missing_parts(request, Topic.objects.filter(pk=topic.pk))

    def _warn_of_missing_parts(self, request: HttpRequest, topics: QuerySet[Topic]) -> None:
        for missing, consequence in (
            ("lesson", "learners find nothing to read yet"),
            ("quiz", "learners find no quiz to take yet"),
        ):
            titles = list(
                topics.filter(**{f"{missing}__isnull": True}).values_list("title", flat=True)
            )
            if titles:
                self.message_user(
                    request,
                    f"Published without a {missing}, so {consequence}: "
                    + ", ".join(f"“{title}”" for title in titles)
                    + ".",
                    messages.WARNING,
                )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return (
            super()
            .get_queryset(request)
            .annotate(published=Count("questions", filter=Q(questions__is_published=True)))
        )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        # A new topic goes after the last, not before the first (order 0).
        last = Topic.objects.aggregate(last=Max("order"))["last"]
        return {"order": (last or 0) + 1, **super().get_changeform_initial_data(request)}

    @admin.display(description="Published questions", ordering="published")
    def published_questions(self, topic: WithAnnotations[Topic, PublishedCount]) -> int:
        return topic.published


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    formfield_overrides = TEXT_AREAS
    list_display = ("title", "topic", "updated_at")
    search_fields = ("title", "body_markdown")
    readonly_fields = ("section_anchors", "diagram_names")
    fields = ("topic", "title", "body_markdown", "section_anchors", "diagram_names")

    @admin.display(description="Section anchors (for questions' lesson anchor)")
    def section_anchors(self, lesson: Lesson) -> str:
        return ", ".join(section["anchor"] for section in lesson.sections) or "–"

    @admin.display(description="Diagrams (place one with a paragraph [diagram: name])")
    def diagram_names(self, lesson: Lesson) -> str:
        return ", ".join(sorted(diagrams())) or "–"


# A course-wide quiz has no fixed set of questions: what it draws depends on the learner.
COURSE_QUIZ_INTROS: dict[str, str] = {
    QuizKind.REVIEW: (
        "A spaced review has no fixed set of questions: each session takes up to {count} of "
        "the learner's own due review cards, most overdue first (questions they answered "
        "before, coming back on a spaced schedule). Any of these {total} published questions "
        "can come up; the pass mark is {pass_mark}%."
    ),
    QuizKind.CHALLENGE: (
        "The course challenge has no fixed set of questions: each attempt takes up to "
        "{count} from the topics the learner has started (read the lesson or taken the "
        "quiz), weaker topics more often. Any of these {total} published questions can come "
        "up; the pass mark is {pass_mark}%."
    ),
}


COURSE_SESSION_FIXED = (
    "kind",
    "topic",
    "navigation",
    "feedback_timing",
    "time_limit_minutes",
    "attempts_allowed",
    "opens_at",
    "closes_at",
)


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    form = QuizAdminForm
    ordering = ("-kind", "topic__order")  # the topic quizzes in course order, then the rest
    list_display = (
        "quiz_title",
        "question_count",
        "pass_mark",
        "shuffle_questions",
        "feedback_timing",
        "closes_at",
        "preview_link",
    )

    def get_fieldsets(self, request: HttpRequest, obj: Quiz | None = None) -> Any:
        return ((None, {"fields": ("kind", "topic")}), *QUIZ_FIELDSETS)

    def get_readonly_fields(self, request: HttpRequest, obj: Quiz | None = None) -> Any:
        # The review and the challenge are sessions of a learner's own questions: they go
        # in order (their mastery rules count on it), close after a day, show each answer
        # at once (their questions come from quizzes that already showed them), and are
        # always open. Their size and pass mark are the teacher's to set.
        if obj is not None and not obj.is_topic_quiz:
            return COURSE_SESSION_FIXED
        return ("kind",)  # a teacher adds topic quizzes; the two course quizzes exist

    def save_model(self, request: HttpRequest, obj: Quiz, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if getattr(form, "feedback_timing_switched", False):
            self.message_user(
                request,
                "A quiz with a time limit shows its answers after it closes, so “Show "
                "answers” is now “after the quiz closes”. Without a closing time they are "
                "not shown until you set one; pick another timing to change it.",
                messages.WARNING,
            )

    @admin.display(description="Quiz", ordering="topic__order")
    def quiz_title(self, quiz: Quiz) -> str:
        return quiz.title

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="learning_quiz_preview",
        )
        return [preview, *super().get_urls()]

    @admin.display(description="Preview")
    def preview_link(self, quiz: Quiz) -> str:
        url = reverse("admin:learning_quiz_preview", args=[quiz.pk])
        return format_html(
            '<a href="{}">Preview<span class="visually-hidden"> {}</span></a>', url, quiz
        )

    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Every question this quiz can draw, each answerable as a learner would; nothing
        is recorded."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        quiz = get_object_or_404(Quiz.objects.select_related("topic"), pk=object_id)
        if quiz.is_topic_quiz:
            questions = Question.objects.filter(topic=quiz.topic, is_published=True)
        else:
            questions = selectors.published_questions()
        questions = questions.prefetch_related("choices")
        items = [
            selectors.PreviewItem(
                question,
                AnswerForm(
                    question=question,
                    choices=tuple(question.choices.all()),
                    codes=selectors.preview_option_codes(question, question.choices.all()),
                ),
                None,
                reverse("admin:learning_question_preview", args=[question.pk]),
            )
            for question in questions.select_related("topic")
        ]
        if quiz.topic is not None:
            heading = f"Preview: quiz on {quiz.topic.title}"
            intro = (
                f"Each attempt draws {min(quiz.question_count, len(items))} of these "
                f"{len(items)} published questions; the pass mark is {quiz.pass_mark}%."
            )
            if not quiz.topic.is_published:
                intro += (
                    " The topic is a draft: learners cannot take this quiz until you publish it."
                )
        else:
            heading = f"Preview: {quiz.title}"
            intro = COURSE_QUIZ_INTROS[quiz.kind].format(
                count=quiz.question_count, total=len(items), pass_mark=quiz.pass_mark
            )
        context = {
            "items": items,
            "heading": heading,
            "intro": intro,
            "back_url": reverse("admin:learning_quiz_change", args=[quiz.pk]),
        }
        return render(request, "learning/preview.html", context)


def store_credits(question: Question) -> None:
    """Write out the credits (and ticks) the author left to the question's type (a right
    single option's 100%, the ticks' shares of multiple answers), so that what is stored
    says what each answer earns, as an import of the question's export would store it."""
    choices = list(question.choices.order_by("order", "id"))
    rows = [ChoiceKey(id=c.pk, is_correct=c.is_correct, credit=c.credit) for c in choices]
    question_type = question_types.get(question.type)
    credits = question_type.credits_to_store(rows)
    ticks = question_type.ticks_to_store(rows)
    changed = []
    for choice, credit, tick in zip(choices, credits, ticks, strict=True):
        if (choice.credit, choice.is_correct) != (credit, tick):
            choice.credit, choice.is_correct = credit, tick
            changed.append(choice)
    Choice.objects.bulk_update(changed, ["credit", "is_correct"])
    if changed:
        page_cache.bump_content()  # bulk_update() sends no signal


class ChoiceInline(admin.TabularInline):
    formfield_overrides = TEXT_AREAS
    model = Choice
    form = ChoiceAdminForm
    formset = ChoiceInlineFormSet
    fields = (
        "order",
        "text",
        "is_correct",
        "match_text",
        "numeric_value",
        "numeric_tolerance",
        "credit",
        "feedback",
    )
    verbose_name = "answer"

    class Media:
        # Shows only the columns of the type picked on the page (all of them without it).
        js = ("js/answers-table.js",)

    def get_extra(self, request: HttpRequest, obj: Question | None = None, **kwargs: Any) -> int:
        """A few empty rows to start a new question; none under an existing one (its
        "Add another answer" link adds one)."""
        return 0 if obj is not None else 4

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # What the rows mean, type by type, as the registered types describe them.
        meanings = dict.fromkeys(t.rows_help for t in question_types.registered() if t.rows_help)
        self.verbose_name_plural = "Answers: " + " · ".join(meanings)


@admin.register(Question)
class QuestionAdmin(QuestionRegradeAdmin, QuestionBankAdmin):
    formfield_overrides = TEXT_AREAS
    form = QuestionAdminForm
    inlines = (ChoiceInline,)
    list_display = (
        "short_prompt",
        "topic",
        "type",
        "is_published",
        "origin",
        "updated_at",
        "preview_link",
    )
    list_filter = ("topic", "type", "is_published", "origin")
    list_select_related = ("topic",)
    search_fields = ("prompt", "key", "explanation", "choices__text")
    readonly_fields = ("origin", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("topic", "type", "prompt", "is_published")}),
        ("After answering", {"fields": ("explanation", "lesson_anchor")}),
        (
            "Numeric questions",
            {
                "fields": ("numeric_answer", "numeric_tolerance", "numeric_feedback"),
                "description": "The right number, how far off still counts, and what a "
                "learner who gives it reads.",
            },
        ),
        ("Identity", {"fields": ("key", "origin", "created_at", "updated_at")}),
    )
    actions = ("publish", "unpublish")

    def save_related(
        self, request: HttpRequest, form: Any, formsets: list[Any], change: bool
    ) -> None:
        super().save_related(request, form, formsets, change)
        # Only when the type changed, or rows came or went, or a credit was left to its
        # tick: answers whose text alone changed, such as a typo fixed in an imported
        # question's `~%100%` and `~%0%` options, keep the credits their author gave.
        if "type" in form.changed_data or any(
            rows.new_objects
            or rows.deleted_objects
            or any(getattr(row, "credit_from_tick", False) for row in rows.forms)
            for rows in formsets
        ):
            store_credits(form.instance)

    @admin.display(description="Question", ordering="prompt")
    def short_prompt(self, question: Question) -> str:
        return str(question)

    @admin.action(description="Publish the selected questions")
    def publish(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        selected = queryset.count()
        chosen = Question.objects.filter(pk__in=queryset.values("pk"))
        with transaction.atomic():
            changed = chosen.filter(is_published=False).update(is_published=True)
            page_cache.bump_content()  # update() sends no signal
        self.message_user(request, _changed_message("Published", changed, selected, "question"))
        drafts = list(
            Topic.objects.filter(is_published=False, questions__in=chosen)
            .distinct()
            .values_list("title", flat=True)
        )
        if drafts:
            self.message_user(
                request,
                "Learners see them once their topic is published too; still a draft: "
                + ", ".join(f"“{title}”" for title in drafts)
                + ".",
                messages.WARNING,
            )

    @admin.action(description="Unpublish the selected questions")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        selected = queryset.count()
        with transaction.atomic():
            changed = Question.objects.filter(
                pk__in=queryset.values("pk"), is_published=True
            ).update(is_published=False)
            page_cache.bump_content()  # update() sends no signal
        self.message_user(request, _changed_message("Unpublished", changed, selected, "question"))

    def save_model(self, request: HttpRequest, obj: Question, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if not obj.explanation.strip():
            self.message_user(
                request,
                "No explanation: learners who miss this question see only the right answer.",
                messages.WARNING,
            )

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("origin", QuestionOrigin.ADMIN)
        return initial

    def get_urls(self) -> list[URLPattern]:
        preview = path(
            "<int:object_id>/preview/",
            self.admin_site.admin_view(self.preview_view),
            name="learning_question_preview",
        )
        return [preview, *super().get_urls()]

    @admin.display(description="Preview")
    def preview_link(self, question: Question) -> str:
        url = reverse("admin:learning_question_preview", args=[question.pk])
        return format_html(
            '<a href="{}">Preview<span class="visually-hidden"> question {}</span></a>',
            url,
            question.pk,
        )

    def preview_view(self, request: HtmxHttpRequest, object_id: int) -> HttpResponse:
        """The question as a learner sees it; an answer gets feedback and is not recorded."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        question = get_object_or_404(
            Question.objects.select_related("topic").prefetch_related("choices"), pk=object_id
        )
        choices = tuple(question.choices.all())
        url = reverse("admin:learning_question_preview", args=[question.pk])
        codes = selectors.preview_option_codes(question, choices)
        form = AnswerForm(question=question, choices=choices, codes=codes)
        feedback, status = None, 200
        if request.method == "POST":
            form = AnswerForm(request.POST, question=question, choices=choices, codes=codes)
            if form.is_valid():
                try:
                    feedback = selectors.preview_feedback(question, form.to_answer())
                except selectors.AnswerRefused as refusal:
                    form.add_error(None, str(refusal))
            if not form.is_valid():
                status = ANSWER_REFUSED_STATUS
        item = selectors.PreviewItem(question, form, feedback, url)
        if request.htmx:
            return render(request, "learning/_preview_panel.html", {"item": item}, status=status)
        context = {
            "items": [item],
            "heading": f"Preview: {question.topic.title}",
            "back_url": reverse("admin:learning_question_change", args=[question.pk]),
        }
        return render(request, "learning/preview.html", context, status=status)
