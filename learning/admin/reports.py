"""The teachers' reports: item analysis, the progress of learners per topic, and the grade
export."""

from collections.abc import Iterable

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Model, QuerySet
from django.http import (
    HttpRequest,
    HttpResponseBadRequest,
    HttpResponseBase,
    StreamingHttpResponse,
)
from django.template.response import TemplateResponse
from django.urls import URLPattern, path
from django.utils import timezone

from learning import grade_export, insight
from learning.admin.read_only import ReadOnlyAdminMixin
from learning.csv_export import class_file_name
from learning.models import Classroom, ItemAnalysis, ProgressReport, Topic
from learning.selectors import learners_taught_by


class ReportAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """A read-only page in the admin in place of a proxy model's list, for those with the
    proxy's view permission (the Teachers group, and superusers)."""

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        codename = get_permission_codename("view", self.opts)
        return request.user.has_perm(f"{self.opts.app_label}.{codename}")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def get_urls(self) -> list[URLPattern]:
        name = f"{self.opts.app_label}_{self.opts.model_name}_changelist"
        return [path("", self.admin_site.admin_view(self.report_view), name=name)]

    def report_view(self, request: HttpRequest) -> HttpResponseBase:
        raise NotImplementedError

    def _context(self, request: HttpRequest, title: str) -> dict:
        return {**self.admin_site.each_context(request), "opts": self.opts, "title": title}


@admin.register(ItemAnalysis)
class ItemAnalysisAdmin(ReportAdmin):
    # The sortable columns, as (?o= value, heading); "-" before a value sorts descending.
    sort_columns = (
        ("question", "Question"),
        ("responses", "Responses"),
        ("facility", "Facility"),
        ("sd", "SD"),
        ("discrimination", "Discrimination"),
    )

    def report_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        topics = list(Topic.objects.all())
        topic_id = request.GET.get("topic", "")
        topic = next((t for t in topics if str(t.pk) == topic_id), None)
        if topic_id and topic is None:
            return HttpResponseBadRequest("There is no topic with that id.")
        order = request.GET.get("o", "question")
        if order.removeprefix("-") not in insight.ITEM_SORTS:
            order = "question"
        stats = insight.sort_items(insight.item_analysis(topic), order)
        flagged_only = request.GET.get("flagged") == "1"
        if flagged_only:
            stats = [item for item in stats if item.flags]
        if request.GET.get("format") == "csv":
            name = f"item-analysis-{topic.slug if topic else 'all-topics'}"
            return csv_download(
                insight.item_csv_rows(stats), f"{name}-{timezone.localdate():%Y-%m-%d}.csv"
            )
        columns = [
            (value, heading, order.removeprefix("-") == value, order.startswith("-"))
            for value, heading in self.sort_columns
        ]
        context = {
            **self._context(request, "Item analysis"),
            "topics": topics,
            "topic": topic,
            "stats": stats,
            "flagged_only": flagged_only,
            "min_attempts": insight.MIN_ATTEMPTS_FOR_FLAGS,
            "order": order,
            "columns": columns,
        }
        return TemplateResponse(request, "admin/learning/item_analysis.html", context)


@admin.register(ProgressReport)
class ProgressReportAdmin(ReportAdmin):
    def report_view(self, request: HttpRequest) -> HttpResponseBase:
        if not self.has_view_permission(request):
            raise PermissionDenied
        topics = list(Topic.objects.all())
        taught = Classroom.objects.all()
        if not request.user.is_superuser:
            taught = taught.filter(teachers=request.user.pk)
        classes = list(taught)
        class_id = request.GET.get("class", "")
        classroom = next((c for c in classes if str(c.pk) == class_id), None)
        if class_id and classroom is None:
            return HttpResponseBadRequest("You teach no class with that id.")
        sort = request.GET.get("sort", "learner")
        learners = insight.report_learners(
            among=learners_taught_by(request.user), classroom=classroom, sort=sort, topics=topics
        )
        if request.GET.get("format") == "grades":
            return self._grades_csv(request, classroom, taught)
        if request.GET.get("format") == "csv":
            name = class_file_name(
                "progress", classroom.name if classroom else None, timezone.localdate()
            )
            return csv_download(insight.report_csv_rows(learners, topics), name)
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
            # A teacher sees the learners of their classes; with none, a word on how to start.
            "sees_everyone": request.user.is_superuser,
            "sort": sort,
            "page": page,
            "rows": rows,
        }
        return TemplateResponse(request, "admin/learning/progress_report.html", context)

    def _grades_csv(
        self, request: HttpRequest, classroom: Classroom | None, taught: QuerySet[Classroom]
    ) -> StreamingHttpResponse:
        attempts = grade_export.finished_attempts(
            among=learners_taught_by(request.user), classroom=classroom
        )
        named = taught.filter(pk=classroom.pk) if classroom is not None else taught
        return csv_download(
            grade_export.grade_csv_rows(attempts, classes=named),
            grade_export.grade_file_name(classroom, timezone.localdate()),
        )


def csv_download(lines: Iterable[str], file_name: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{file_name}"'
    return response
