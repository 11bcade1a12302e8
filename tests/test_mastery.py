from datetime import date
from decimal import Decimal

import pytest

from learning.mastery import (
    MasteryState,
    SessionTally,
    mastery_after_attempt,
    mastery_after_challenge,
    mastery_after_review_session,
    tally_session,
)
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


# -- the course challenge and spaced review: by the whole session, when it ends ----------


def test_a_session_tally_counts_unanswered_and_partly_right_as_not_right():
    tallies = tally_session(
        [(1, Decimal(1)), (1, None), (1, Decimal("0.5")), (2, Decimal(1)), (2, Decimal(1))]
    )
    assert tallies == {1: SessionTally(asked=3, right=1), 2: SessionTally(asked=2, right=2)}


def challenge(level: Mastery, asked: int, right: int, on: date = TUESDAY, high_on=MONDAY):
    return mastery_after_challenge(MasteryState(level, high_on), SessionTally(asked, right), on)


@pytest.mark.parametrize(
    ("asked", "right", "expected"),
    [
        (2, 2, Mastery.MASTERED),
        (5, 4, Mastery.MASTERED),  # 80%
        (5, 3, Mastery.PROFICIENT),  # 60%: neither
        (4, 2, Mastery.PROFICIENT),  # half: neither
        (5, 2, Mastery.FAMILIAR),  # fewer than half: down one
        (1, 1, Mastery.PROFICIENT),  # one question says nothing
        (1, 0, Mastery.PROFICIENT),
    ],
)
def test_the_challenge_moves_a_proficient_topic_by_its_share_right(asked, right, expected):
    assert challenge(Mastery.PROFICIENT, asked, right) == expected


def test_the_challenge_never_masters_a_topic_on_the_day_of_its_first_high_score():
    assert challenge(Mastery.PROFICIENT, 4, 4, on=MONDAY, high_on=MONDAY) == Mastery.PROFICIENT
    assert challenge(Mastery.PROFICIENT, 4, 4, on=TUESDAY, high_on=MONDAY) == Mastery.MASTERED


@pytest.mark.parametrize(
    ("level", "expected"),
    [
        (Mastery.MASTERED, Mastery.PROFICIENT),
        (Mastery.FAMILIAR, Mastery.ATTEMPTED),
        (Mastery.ATTEMPTED, Mastery.ATTEMPTED),  # never below attempted
    ],
)
def test_a_challenge_mostly_wrong_moves_any_topic_down_one_level(level, expected):
    assert challenge(level, 3, 1) == expected


def test_the_challenge_raises_only_proficient_topics():
    assert challenge(Mastery.FAMILIAR, 4, 4) == Mastery.FAMILIAR
    assert challenge(Mastery.MASTERED, 4, 4) == Mastery.MASTERED


@pytest.mark.parametrize(
    ("asked", "right", "expected"),
    [
        (2, 0, Mastery.FAMILIAR),
        (3, 1, Mastery.FAMILIAR),
        (2, 1, Mastery.PROFICIENT),  # half right holds
        (1, 0, Mastery.PROFICIENT),  # one question says nothing
        (4, 4, Mastery.PROFICIENT),  # reviews never raise mastery
    ],
)
def test_a_review_session_moves_a_topic_down_when_fewer_than_half_are_right(
    asked, right, expected
):
    level = mastery_after_review_session(Mastery.PROFICIENT, SessionTally(asked, right))
    assert level == expected
