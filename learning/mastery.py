"""Mastery rules, as pure functions: no database, no request.

The rule, per topic, applied after each finished quiz attempt:

- not started: no finished attempt yet;
- attempted: best score below 70%;
- familiar: an attempt at 70% or more;
- proficient: an attempt at 90% or more;
- mastered: attempts at 90% or more on two different days.

An attempt below the threshold of the level the topic is at (70% for familiar, 90% for
proficient and mastered) moves it down one level, never below attempted.

Two more roads change mastery:

- the course challenge, answer by answer: a right answer on a proficient topic makes it
  mastered, a wrong one on a mastered topic takes it back to proficient;
- spaced review, when a review session ends: a topic of which at least two questions were
  reviewed, fewer than half of them right, moves down one level (never below attempted).
  Reviews never raise mastery: quizzes and the challenge do.
"""

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from learning.models import Mastery

FAMILIAR_PERCENT = Decimal(70)
PROFICIENT_PERCENT = Decimal(90)

_LEVEL_THRESHOLD = {
    Mastery.NOT_STARTED: Decimal(0),
    Mastery.ATTEMPTED: Decimal(0),
    Mastery.FAMILIAR: FAMILIAR_PERCENT,
    Mastery.PROFICIENT: PROFICIENT_PERCENT,
    Mastery.MASTERED: PROFICIENT_PERCENT,
}


@dataclass(frozen=True)
class MasteryState:
    level: Mastery
    high_score_on: date | None = None


def mastery_after_attempt(state: MasteryState, percent: Decimal, on: date) -> MasteryState:
    """The topic's mastery after a finished attempt scoring `percent` on day `on`."""
    current = Mastery(state.level)
    if percent < _LEVEL_THRESHOLD[current] and current > Mastery.ATTEMPTED:
        return MasteryState(Mastery(current - 1), state.high_score_on)
    if percent >= PROFICIENT_PERCENT:
        if state.high_score_on is not None and state.high_score_on != on:
            return MasteryState(Mastery.MASTERED, state.high_score_on)
        return MasteryState(max(current, Mastery.PROFICIENT), state.high_score_on or on)
    if percent >= FAMILIAR_PERCENT:
        return MasteryState(max(current, Mastery.FAMILIAR), state.high_score_on)
    return MasteryState(max(current, Mastery.ATTEMPTED), state.high_score_on)


def mastery_after_challenge_answer(level: Mastery, right: bool, wrong: bool) -> Mastery:
    """`right`: full marks; `wrong`: no marks. A partly right answer changes nothing."""
    if level == Mastery.PROFICIENT and right:
        return Mastery.MASTERED
    if level == Mastery.MASTERED and wrong:
        return Mastery.PROFICIENT
    return level


REVIEW_MIN_ANSWERS = 2


def topics_falling_after_review(points_by_topic: dict[int, list[Decimal]]) -> set[int]:
    """Topics whose review answers in one session went wrong often enough to drop a level."""
    return {
        topic_id
        for topic_id, points in points_by_topic.items()
        if len(points) >= REVIEW_MIN_ANSWERS and sum(p >= 1 for p in points) * 2 < len(points)
    }


def mastery_after_review(level: Mastery) -> Mastery:
    return Mastery(level - 1) if level > Mastery.ATTEMPTED else level
