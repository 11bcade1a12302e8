"""The question bank's import (upload, dry-run preview, confirm) and GIFT export."""

import uuid
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from learning import question_bank
from learning.forms import QuestionImportForm
from learning.models import Topic

IMPORT_SESSION_KEY = "question_import"


class QuestionBankAdmin(admin.ModelAdmin):
    """The import and export pages of the Question admin, which is built on this."""

    def get_urls(self) -> list[URLPattern]:
        bank_urls = [
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
        ]
        return bank_urls + super().get_urls()

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        # The export link exports the topic the list is filtered by, if any.
        topic_id = request.GET.get("topic__id__exact")
        export_query = {"topic": topic_id} if topic_id else {}
        return super().changelist_view(
            request, {"export_query": export_query, **(extra_context or {})}
        )

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
            try:
                topic = Topic.objects.get(pk=int(request.GET["topic"]))
            except (ValueError, Topic.DoesNotExist):
                return HttpResponseBadRequest("No such topic.")
        export_format = question_bank.EXPORT_FORMATS.get(request.GET.get("format", "gift"))
        if export_format is None:
            return HttpResponseBadRequest("No such export format.")
        name = f"questions-{topic.slug if topic else 'all'}.{export_format.extension}"
        response = HttpResponse(
            export_format.write(topic), content_type=export_format.content_type
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
