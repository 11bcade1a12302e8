from datetime import date
from decimal import Decimal

import pytest

from learning.mastery import MasteryState, mastery_after_attempt
from learning.models import Mastery

MONDAY = date(2026, 11, 23)
TUESDAY = date(2026, 11, 24)


def after(level: Mastery, percent: str, on: date = MONDAY, high_on: date | None = None):
    return mastery_after_attempt(MasteryState(level, high_on), Decimal(percent), on)


@pytest.mark.parametrize(
    ("percent", "expected"),
    [
        ("0", Mastery.ATTEMPTED),
        ("69.99", Mastery.ATTEMPTED),
        ("70", Mastery.FAMILIAR),
        ("89.99", Mastery.FAMILIAR),
        ("90", Mastery.PROFICIENT),
        ("100", Mastery.PROFICIENT),
    ],
)
def test_a_first_attempt_sets_the_level_from_its_score(percent, expected):
    assert after(Mastery.NOT_STARTED, percent).level == expected


def test_ninety_on_two_different_days_is_mastered():
    first = after(Mastery.NOT_STARTED, "95", on=MONDAY)
    assert first == MasteryState(Mastery.PROFICIENT, MONDAY)
    second = mastery_after_attempt(first, Decimal(92), TUESDAY)
    assert second.level == Mastery.MASTERED


def test_ninety_twice_on_the_same_day_stays_proficient():
    first = after(Mastery.NOT_STARTED, "95", on=MONDAY)
    assert mastery_after_attempt(first, Decimal(100), MONDAY).level == Mastery.PROFICIENT


@pytest.mark.parametrize(
    ("level", "percent", "expected"),
    [
        (Mastery.MASTERED, "89", Mastery.PROFICIENT),
        (Mastery.MASTERED, "10", Mastery.PROFICIENT),  # one level only, however low
        (Mastery.PROFICIENT, "80", Mastery.FAMILIAR),
        (Mastery.FAMILIAR, "60", Mastery.ATTEMPTED),
        (Mastery.ATTEMPTED, "10", Mastery.ATTEMPTED),  # never below attempted
    ],
)
def test_a_score_below_the_levels_threshold_moves_down_one_level(level, percent, expected):
    assert after(level, percent, high_on=MONDAY).level == expected


@pytest.mark.parametrize(
    ("level", "percent"),
    [(Mastery.MASTERED, "90"), (Mastery.PROFICIENT, "90"), (Mastery.FAMILIAR, "75")],
)
def test_a_score_at_the_threshold_keeps_the_level(level, percent):
    assert after(level, percent, on=MONDAY, high_on=MONDAY).level == level


def test_a_topic_moved_down_can_be_mastered_again_on_another_day():
    demoted = after(Mastery.MASTERED, "50", high_on=MONDAY)
    assert demoted.level == Mastery.PROFICIENT
    assert mastery_after_attempt(demoted, Decimal(90), TUESDAY).level == Mastery.MASTERED


def test_a_lower_score_at_a_lower_level_never_raises_it():
    assert after(Mastery.PROFICIENT, "95", high_on=MONDAY).level == Mastery.PROFICIENT
    assert after(Mastery.FAMILIAR, "70").level == Mastery.FAMILIAR
