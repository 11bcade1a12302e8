from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django import template
from django.conf import settings
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince, timeuntil

from learning.rendering import render_text

register = template.Library()


@register.filter
def markdown_text(source: str) -> SafeString:
    return mark_safe(render_text(source or ""))  # noqa: S308 - sanitized by nh3


@register.filter
def percent(value: Decimal | float | str | None) -> str:
    """A score as a whole percentage: 66.67 -> "67%"; no score yet -> an en dash."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return "–"
    if not number.is_finite():
        return "–"
    return f"{number.quantize(Decimal(1), rounding=ROUND_HALF_UP):f}%"


@register.filter
def get_item(mapping: dict, key: object) -> object:
    return mapping.get(key)


@register.filter
def as_values(value: object) -> list[str]:
    """A form field's value as the list of strings its inputs are checked against, as
    Django's choice widgets read it: none, one, or (several posted) a list."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(each) for each in value]
    return [str(value)]


@register.filter
def duration(length: timedelta | None) -> str:
    """A length of time in words: "15 minutes", "1 hour, 30 minutes"."""
    if not length:
        return "a few minutes"
    start = timezone.now()
    return timesince(start, start + length)


@register.filter
def due_in(moment: datetime | None) -> str:
    """When a review falls due, in words: "in under a minute", "in 3 days"."""
    if moment is None:
        return ""
    if moment - timezone.now() < timedelta(minutes=1):
        return "in under a minute"
    return f"in {timeuntil(moment, depth=1)}"


@register.simple_tag
def reset_link_lifetime() -> str:
    """How long a password reset link works (PASSWORD_RESET_TIMEOUT), in words."""
    return duration(timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT))
