"""The question bank's import (upload, dry-run preview, confirm) and its export."""

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path

from learning import question_bank
from learning.forms import QuestionImportForm
from learning.models import Topic

CHANGED_MEANWHILE = (
    "The question bank changed while this file was importing, and nothing was imported. "
    "Upload the file again to see what it would change now."
)


def can_import(request: HttpRequest) -> bool:
    """Importing, and undoing an import (anyone's), asks to add and change questions."""
    return request.user.has_perms(["learning.add_question", "learning.change_question"])


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
        if not can_import(request):
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
            token = ""
            if plan.can_apply:
                assert isinstance(request.user, User)
                token = question_bank.save_preview(
                    text=raw.decode("utf-8-sig"),
                    filename=name,
                    file_format=file_format,
                    topic=topic,
                    user=request.user,
                ).token
            context.update(plan=plan, token=token)
            return TemplateResponse(
                request, "admin/learning/question/import_preview.html", context
            )
        context["form"] = form
        return TemplateResponse(
            request, "admin/learning/question/import.html", context, status=400 if is_post else 200
        )

    def _confirm_import(self, request: HttpRequest, context: dict) -> HttpResponse:
        assert isinstance(request.user, User)
        try:
            plan, done = question_bank.confirm_preview(
                token=request.POST.get("token", ""), user=request.user
            )
        except question_bank.PreviewExpired:
            messages.error(request, "That import preview has expired; upload the file again.")
            return redirect("admin:learning_question_import")
        except question_bank.AlreadyImported as already:
            messages.info(request, str(already))
            return redirect("admin:learning_questionimport_change", already.record.pk)
        except question_bank.ImportRefused as refused:
            # The bank changed since the preview (a topic renamed, a question edited).
            context.update(plan=refused.plan, token="")
            return TemplateResponse(
                request, "admin/learning/question/import_preview.html", context, status=409
            )
        except IntegrityError:
            # Someone else added the same topic or question while this one was importing.
            messages.error(request, CHANGED_MEANWHILE)
            return redirect("admin:learning_question_import")
        messages.success(request, f"Imported {plan.filename}: {plan.summary(done=True)}.")
        return redirect("admin:learning_questionimport_change", done.pk)

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
