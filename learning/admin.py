import uuid

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from learning import insight, question_bank, question_types, selectors
from learning.forms import AnswerForm
from learning.models import (
    Attempt,
    Choice,
    Classroom,
    ItemAnalysis,
    Lesson,
    Membership,
    ProgressReport,
    Question,
    QuestionOrigin,
    Quiz,
    Response,
    Topic,
    TopicProgress,
    new_join_code,
)
from learning.question_types.base import keys_of_rows
from learning.teachers import TEACHERS_GROUP

MAX_IMPORT_BYTES = 2 * 1024 * 1024
IMPORT_SESSION_KEY = "question_import"

admin.site.site_header = "Muscle Spasms, Explained: teaching"
admin.site.site_title = "Course admin"
admin.site.index_title = "Author the course and follow your learners"


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    max_num = 1
    fields = ("title", "body_markdown")


class QuizInline(admin.StackedInline):
    model = Quiz
    extra = 0
    max_num = 1


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
    list_display = ("order", "title", "slug", "published_questions")
    list_display_links = ("title",)
    search_fields = ("title", "summary")
    prepopulated_fields = {"slug": ("title",)}
    inlines = (LessonInline, QuizInline)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Topic]:
        return (
            super()
            .get_queryset(request)
            .annotate(published=Count("questions", filter=Q(questions__is_published=True)))
        )

    @admin.display(description="Published questions", ordering="published")
    def published_questions(self, topic: Topic) -> int:
        return topic.published


@admin.register(Lesson)
class LessonAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "updated_at")
    search_fields = ("title", "body_markdown")
    readonly_fields = ("section_anchors",)
    fields = ("topic", "title", "body_markdown", "section_anchors")

    @admin.display(description="Section anchors (for questions' lesson anchor)")
    def section_anchors(self, lesson: Lesson) -> str:
        return ", ".join(section["anchor"] for section in lesson.sections) or "–"


@admin.register(Quiz)
class QuizAdmin(admin.ModelAdmin):
    list_display = ("topic", "question_count", "pass_mark", "shuffle_questions", "preview_link")

    def get_urls(self):
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
        questions = quiz.topic.questions.filter(is_published=True).prefetch_related("choices")
        items = [
            selectors.PreviewItem(
                question,
                AnswerForm(question=question, choices=tuple(question.choices.all())),
                None,
                reverse("admin:learning_question_preview", args=[question.pk]),
            )
            for question in questions.select_related("topic")
        ]
        context = {
            "items": items,
            "heading": f"Preview: quiz on {quiz.topic.title}",
            "intro": (
                f"Each attempt draws {min(quiz.question_count, len(items))} of these "
                f"{len(items)} published questions; the pass mark is {quiz.pass_mark}%."
            ),
            "back_url": reverse("admin:learning_quiz_change", args=[quiz.pk]),
        }
        return render(request, "learning/preview.html", context)


class ChoiceInlineFormSet(forms.BaseInlineFormSet):
    """Refuse a question no learner could answer right, naming what is missing."""

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        # A table row has no visible label per input: name each one for screen readers.
        number = index + 1 if index is not None else "new"
        for field in form.fields.values():
            if not field.widget.is_hidden:
                field.widget.attrs["aria-label"] = f"Choice {number}: {field.label}"

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        question: Question = self.instance
        kept = [
            form.cleaned_data
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        ]
        try:
            question_type = question_types.get(question.type)
        except question_types.UnknownQuestionType:
            return  # the question form reports the type
        errors = question_type.answer_row_errors(keys_of_rows(kept))
        if errors:
            raise ValidationError(errors)


class ChoiceInline(admin.TabularInline):
    model = Choice
    formset = ChoiceInlineFormSet
    extra = 2
    fields = (
        "order",
        "text",
        "is_correct",
        "credit",
        "match_text",
        "numeric_value",
        "numeric_tolerance",
        "feedback",
    )
    verbose_name = "answer"
    verbose_name_plural = (
        "Answers: options (tick the right ones) · short answers (text + credit %) · "
        "matching pairs (text ↔ matches) · extra numeric answers (value ± tolerance, credit %)"
    )
    formfield_overrides = {
        models.TextField: {"widget": forms.Textarea(attrs={"rows": 2, "cols": 40})}
    }


class QuestionAdminForm(forms.ModelForm):
    class Meta:
        model = Question
        fields = (
            "topic",
            "type",
            "prompt",
            "is_published",
            "explanation",
            "lesson_anchor",
            "numeric_answer",
            "numeric_tolerance",
            "key",
        )

    def clean(self) -> dict:
        data = super().clean()
        if data.get("type"):
            question_type = question_types.get(data["type"])
            for name, message in question_type.question_field_errors(data).items():
                self.add_error(name, message)
        topic, anchor = data.get("topic"), data.get("lesson_anchor")
        if topic and anchor:
            lesson = Lesson.objects.filter(topic=topic).first()
            if lesson is not None and anchor not in lesson.anchors:
                self.add_error(
                    "lesson_anchor",
                    f"“{anchor}” is not a section of the lesson. Its sections are: "
                    + (", ".join(sorted(lesson.anchors)) or "none"),
                )
        return data


@admin.register(Question)
class QuestionAdmin(admin.ModelAdmin):
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
                "fields": ("numeric_answer", "numeric_tolerance"),
                "description": "Only for the numeric type; the other types use choices below.",
            },
        ),
        ("Identity", {"fields": ("key", "origin", "created_at", "updated_at")}),
    )
    actions = ("publish", "unpublish")

    @admin.display(description="Question", ordering="prompt")
    def short_prompt(self, question: Question) -> str:
        return str(question)

    @admin.action(description="Publish the selected questions")
    def publish(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        count = queryset.update(is_published=True)
        self.message_user(request, f"Published {count} question(s).")

    @admin.action(description="Unpublish the selected questions")
    def unpublish(self, request: HttpRequest, queryset: QuerySet[Question]) -> None:
        count = queryset.update(is_published=False)
        self.message_user(request, f"Unpublished {count} question(s).")

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("origin", QuestionOrigin.ADMIN)
        return initial

    def get_urls(self):
        extra = [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="learning_question_import",
            ),
            path(
                "export/",
                self.admin_site.admin_view(self.export_view),
                name="learning_question_export",
            ),
            path(
                "<int:object_id>/preview/",
                self.admin_site.admin_view(self.preview_view),
                name="learning_question_preview",
            ),
        ]
        return extra + super().get_urls()

    @admin.display(description="Preview")
    def preview_link(self, question: Question) -> str:
        url = reverse("admin:learning_question_preview", args=[question.pk])
        return format_html(
            '<a href="{}">Preview<span class="visually-hidden"> question {}</span></a>',
            url,
            question.pk,
        )

    def preview_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """The question as a learner sees it; an answer gets feedback and is not recorded."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        question = get_object_or_404(
            Question.objects.select_related("topic").prefetch_related("choices"), pk=object_id
        )
        choices = tuple(question.choices.all())
        url = reverse("admin:learning_question_preview", args=[question.pk])
        form, feedback, status = AnswerForm(question=question, choices=choices), None, 200
        if request.method == "POST":
            form = AnswerForm(request.POST, question=question, choices=choices)
            if form.is_valid():
                feedback = selectors.preview_feedback(question, form.to_answer())
            else:
                status = 400
        item = selectors.PreviewItem(question, form, feedback, url)
        if request.htmx:
            return render(request, "learning/_preview_panel.html", {"item": item}, status=status)
        context = {
            "items": [item],
            "heading": f"Preview: {question.topic.title}",
            "back_url": reverse("admin:learning_question_change", args=[question.pk]),
        }
        return render(request, "learning/preview.html", context, status=status)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload, preview what would change (a dry run), then confirm."""
        if not (self.has_add_permission(request) and self.has_change_permission(request)):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": "Import questions",
        }
        if request.method == "POST" and "confirm" in request.POST:
            return self._confirm_import(request, context)
        is_post = request.method == "POST"
        form = QuestionImportForm(request.POST, request.FILES) if is_post else QuestionImportForm()
        if is_post and form.is_valid():
            raw = form.cleaned_data["file"].read()
            topic = form.cleaned_data["topic"]
            file_format = form.cleaned_data["file_format"]
            name = form.cleaned_data["file"].name
            plan = question_bank.plan_import(
                raw, filename=name, topic=topic, file_format=file_format
            )
            token = uuid.uuid4().hex
            if not plan.errors:
                request.session[IMPORT_SESSION_KEY] = {
                    "token": token,
                    "text": raw.decode("utf-8-sig"),
                    "filename": name,
                    "topic": topic.pk if topic else None,
                    "format": file_format,
                }
            context.update(plan=plan, token=token)
            return TemplateResponse(
                request, "admin/learning/question/import_preview.html", context
            )
        context["form"] = form
        return TemplateResponse(
            request, "admin/learning/question/import.html", context, status=400 if is_post else 200
        )

    def _confirm_import(self, request: HttpRequest, context: dict) -> HttpResponse:
        pending = request.session.get(IMPORT_SESSION_KEY)
        if not pending or pending["token"] != request.POST.get("token"):
            messages.error(request, "That import preview has expired; upload the file again.")
            return redirect("admin:learning_question_import")
        topic = Topic.objects.filter(pk=pending["topic"]).first() if pending["topic"] else None
        plan = question_bank.plan_import(
            pending["text"],
            filename=pending["filename"],
            topic=topic,
            file_format=pending["format"],
        )
        try:
            question_bank.apply_import(plan)
        except question_bank.ImportRefused:
            context.update(plan=plan, token="")
            return TemplateResponse(
                request, "admin/learning/question/import_preview.html", context, status=400
            )
        del request.session[IMPORT_SESSION_KEY]
        messages.success(request, f"Imported {plan.filename}: {plan.summary()}.")
        return redirect("admin:learning_question_changelist")

    def export_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        topic = None
        if request.GET.get("topic"):
            topic_id = request.GET["topic"]
            topic = Topic.objects.filter(pk=topic_id).first() if topic_id.isdigit() else None
            if topic is None:
                return HttpResponseBadRequest("No such topic.")
        name = f"questions-{topic.slug if topic else 'all'}.gift"
        response = HttpResponse(
            question_bank.export_gift(topic), content_type="text/plain; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


class ReadOnlyAdmin(admin.ModelAdmin):
    """Learner records: teachers may look, nobody edits them by hand."""

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(TopicProgress)
class TopicProgressAdmin(ReadOnlyAdmin):
    list_display = (
        "learner",
        "topic",
        "mastery",
        "best_percent",
        "attempt_count",
        "lesson_read_at",
        "last_activity_at",
    )
    list_filter = ("topic", "mastery")
    list_select_related = ("learner", "topic")
    search_fields = ("learner__username",)


class ResponseInline(admin.TabularInline):
    model = Response
    fields = ("position", "question", "points", "answered_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyAdmin):
    list_display = ("id", "learner", "topic", "state", "score", "passed", "started_at")
    list_filter = ("state", "passed", "quiz__topic")
    list_select_related = ("learner", "quiz__topic")
    search_fields = ("learner__username",)
    inlines = (ResponseInline,)

    @admin.display(description="Topic", ordering="quiz__topic__order")
    def topic(self, attempt: Attempt) -> str:
        return attempt.quiz.topic.title

    @admin.display(description="Score", ordering="percent")
    def score(self, attempt: Attempt) -> str:
        if attempt.percent is None:
            return "–"
        return format_html("{}%", attempt.percent)


class QuestionImportForm(forms.Form):
    file = forms.FileField(
        label="Question file",
        help_text="A GIFT file (.gift or .txt, as Moodle exports) or an Aiken file, UTF-8.",
    )
    file_format = forms.ChoiceField(
        label="Format", choices=[("gift", "GIFT"), ("aiken", "Aiken")], initial="gift"
    )
    topic = forms.ModelChoiceField(
        queryset=Topic.objects.all(),
        required=False,
        help_text="Put every question in this topic. Leave empty to use each $CATEGORY.",
    )

    def clean_file(self) -> UploadedFile:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            limit = MAX_IMPORT_BYTES // 1024
            raise ValidationError(
                f"The file is {upload.size // 1024} KB; the limit is {limit} KB."
            )
        return upload


class MembershipInline(admin.TabularInline):
    model = Membership
    fields = ("learner", "joined_at")
    readonly_fields = fields
    extra = 0
    verbose_name = "learner"
    verbose_name_plural = "Learners in this class (tick Delete to remove one)"

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Classroom)
class ClassroomAdmin(admin.ModelAdmin):
    """A teacher's classes: they see and manage the ones they teach."""

    list_display = ("name", "code", "learner_count", "created_at")
    search_fields = ("name", "join_code")
    fields = ("name", "code", "teachers")
    readonly_fields = ("code",)
    inlines = (MembershipInline,)
    actions = ("new_join_codes",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Classroom]:
        classes = super().get_queryset(request).annotate(learners_total=Count("memberships"))
        if request.user.is_superuser:
            return classes
        return classes.filter(teachers=request.user)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs):
        if db_field.name == "teachers":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True)
            kwargs["widget"] = forms.CheckboxSelectMultiple
            kwargs["help_text"] = "Teachers who see this class; you are added when you save."
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        if not request.user.is_superuser:
            # A teacher always teaches the classes they create or edit.
            form.instance.teachers.add(request.user)

    @admin.display(description="Join code", ordering="join_code")
    def code(self, classroom: Classroom) -> str:
        return classroom.display_code if classroom.pk else "Made when you save"

    @admin.display(description="Learners", ordering="learners_total")
    def learner_count(self, classroom: Classroom) -> int:
        return classroom.learners_total

    @admin.action(description="Give the selected classes new join codes")
    def new_join_codes(self, request: HttpRequest, queryset: QuerySet[Classroom]) -> None:
        for classroom in queryset:
            classroom.join_code = new_join_code()
            classroom.save(update_fields=["join_code"])
        self.message_user(request, f"New join codes for {queryset.count()} class(es).")


def is_teacher(user) -> bool:
    """In the Teachers group (or a superuser); asked many times a page, queried once."""
    if not hasattr(user, "_is_teacher"):
        user._is_teacher = user.is_active and (
            user.is_superuser or user.groups.filter(name=TEACHERS_GROUP).exists()
        )
    return user._is_teacher


class TeachersOnlyReport(admin.ModelAdmin):
    """A read-only page in the admin that only the Teachers group (and superusers) see."""

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return is_teacher(request.user)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return is_teacher(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.report_view), name=name)]

    def report_view(self, request: HttpRequest) -> HttpResponse:
        raise NotImplementedError

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title}


@admin.register(ItemAnalysis)
class ItemAnalysisAdmin(TeachersOnlyReport):
    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        topics = list(Topic.objects.all())
        topic_id = request.GET.get("topic", "")
        topic = next((t for t in topics if str(t.pk) == topic_id), None)
        stats = insight.item_analysis(topic)
        flagged_only = request.GET.get("flagged") == "1"
        if flagged_only:
            stats = [item for item in stats if item.flags]
        context = {
            **self._context(request, "Item analysis"),
            "topics": topics,
            "topic": topic,
            "stats": stats,
            "flagged_only": flagged_only,
            "min_attempts": insight.MIN_ATTEMPTS_FOR_FLAGS,
        }
        return TemplateResponse(request, "admin/learning/item_analysis.html", context)


@admin.register(ProgressReport)
class ProgressReportAdmin(TeachersOnlyReport):
    def report_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            raise PermissionDenied
        topics = list(Topic.objects.all())
        classes = Classroom.objects.all()
        if not request.user.is_superuser:
            classes = classes.filter(teachers=request.user)
        classes = list(classes)
        class_id = request.GET.get("class", "")
        classroom = next((c for c in classes if str(c.pk) == class_id), None)
        if class_id and classroom is None:
            return HttpResponseBadRequest("You teach no class with that id.")
        sort = request.GET.get("sort", "learner")
        learners = insight.report_learners(classroom=classroom, sort=sort, topics=topics)
        if request.GET.get("format") == "csv":
            name = f"progress-{classroom.pk if classroom else 'all'}.csv"
            response = StreamingHttpResponse(
                insight.report_csv_rows(learners, topics), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = f'attachment; filename="{name}"'
            return response
        page = Paginator(learners, insight.REPORT_PAGE_SIZE).get_page(request.GET.get("page"))
        cells = insight.report_cells(learner.pk for learner in page.object_list)
        rows = [
            (learner, [cells.get((learner.pk, topic.pk)) for topic in topics])
            for learner in page.object_list
        ]
        context = {
            **self._context(request, "Progress report"),
            "topics": topics,
            "classes": classes,
            "classroom": classroom,
            "sort": sort,
            "page": page,
            "rows": rows,
            "query": request.GET.copy(),
        }
        return TemplateResponse(request, "admin/learning/progress_report.html", context)
