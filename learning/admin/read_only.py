from django.db.models import Model
from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """For a ModelAdmin or an inline: anyone who may view may look, nobody adds, edits or
    deletes through the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
