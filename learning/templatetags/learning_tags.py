from decimal import Decimal

from django import template
from django.utils.safestring import SafeString, mark_safe

from learning.rendering import render_text

register = template.Library()


@register.filter
def markdown_text(source: str) -> SafeString:
    return mark_safe(render_text(source or ""))  # noqa: S308 - sanitized by nh3


@register.filter
def percent(value: Decimal | float | None) -> str:
    """A score as a whole percentage: 66.67 -> "67%"; None -> an en dash."""
    if value is None:
        return "–"
    return f"{Decimal(value).quantize(Decimal(1)):f}%"
