"""Attempt-level arithmetic, as pure functions: no database, no request.

Each question is graded by its type (`learning.question_types`); an attempt's score is the
sum of its points over its questions.
"""

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

ZERO = Decimal(0)
_PERCENT_PLACES = Decimal("0.01")


def attempt_percent(points: Iterable[Decimal], question_total: int) -> Decimal:
    """An attempt's score: its points over its questions, as a percentage with 2 places."""
    if question_total <= 0:
        return ZERO.quantize(_PERCENT_PLACES)
    total = sum(points, ZERO)
    return (total * 100 / question_total).quantize(_PERCENT_PLACES, rounding=ROUND_HALF_UP)


def has_passed(percent: Decimal, pass_mark: int) -> bool:
    return percent >= pass_mark
