"""The import history: every question import, read-only, each with an undo."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join

from learning import question_bank
from learning.admin.bank import can_import
from learning.admin.read_only import ReadOnlyAdminMixin
from learning.models import ImportState, Question, QuestionImport


@admin.register(QuestionImport)
class QuestionImportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "imported_at",
        "who",
        "filename",
        "file_format",
        "created_count",
        "updated_count",
        "unchanged_count",
        "skipped_count",
        "state",
    )
    list_filter = ("state", "via", "file_format")
    list_select_related = ("user",)
    search_fields = ("filename", "user__username")
    fields = (
        "filename",
        "file_format",
        "who",
        "via",
        "imported_at",
        "chosen_topic",
        "state",
        "created_count",
        "updated_count",
        "unchanged_count",
        "skipped_count",
        "topics_made",
        "questions_touched",
        "undone_at",
        "undone_by",
    )
    readonly_fields = fields
    date_hierarchy = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[QuestionImport]:
        # A preview that was never confirmed is no import.
        return super().get_queryset(request).exclude(state=ImportState.PREVIEWED)

    def get_urls(self) -> list[URLPattern]:
        undo = path(
            "<int:object_id>/undo/",
            self.admin_site.admin_view(self.undo_view),
            name="learning_questionimport_undo",
        )
        return [undo, *super().get_urls()]

    @admin.display(description="By")
    def who(self, record: QuestionImport) -> str:
        return record.who

    @admin.display(description="Topics created")
    def topics_made(self, record: QuestionImport) -> str:
        return ", ".join(topic["title"] for topic in record.topics_created) or "None"

    @admin.display(description="Questions created or updated")
    def questions_touched(self, record: QuestionImport) -> str:
        if not record.questions:
            return "None"
        still_there = set(
            Question.objects.filter(pk__in=[e["id"] for e in record.questions]).values_list(
                "pk", flat=True
            )
        )
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}: {}</li>",
                (
                    (
                        "Created" if entry["action"] == "create" else "Updated",
                        format_html(
                            '<a href="{}">{} ({})</a>',
                            reverse("admin:learning_question_change", args=[entry["id"]]),
                            entry["key"],
                            entry["topic"],
                        )
                        if entry["id"] in still_there
                        else f"{entry['key']} ({entry['topic']})",
                    )
                    for entry in record.questions
                ),
            ),
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context: dict[str, Any] = {}
        if object_id.isdigit() and can_import(request):
            record = self.get_queryset(request).filter(pk=int(object_id)).first()
            if record is not None and record.state == ImportState.IMPORTED:
                context["undo_url"] = reverse(
                    "admin:learning_questionimport_undo", args=[record.pk]
                )
        return super().change_view(
            request, object_id, form_url, {**context, **(extra_context or {})}
        )

    def undo_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """GET: what the undo would do, and a confirm button. POST: undo."""
        record = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not (self.has_view_permission(request, record) and can_import(request)):
            raise PermissionDenied
        status = 200
        if request.method == "POST":
            assert isinstance(request.user, User)
            try:
                report = question_bank.undo_import(record_id=record.pk, user=request.user)
            except question_bank.UndoRefused as refusal:
                messages.error(request, str(refusal))
                status = 409
            else:
                messages.success(request, report.summary())
                return redirect("admin:learning_questionimport_change", record.pk)
            record.refresh_from_db()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": record,
            "title": f"Undo the import of {record.filename}",
            "record": record,
            "refusal": question_bank.undo_refusal(record),
            "created": [e for e in record.questions if e["action"] == "create"],
            "updated": [e for e in record.questions if e["action"] == "update"],
        }
        return TemplateResponse(
            request, "admin/learning/questionimport/undo.html", context, status=status
        )
