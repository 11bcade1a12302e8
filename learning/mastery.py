"""Mastery rules, as pure functions: no database, no request.

The rule, per topic, applied after each finished quiz attempt:

- not started: no finished attempt yet;
- attempted: best score below 70%;
- familiar: an attempt at 70% or more;
- proficient: an attempt at 90% or more;
- mastered: attempts at 90% or more on two different days.

An attempt below the threshold of the level the topic is at (70% for familiar, 90% for
proficient and mastered) moves it down one level, never below attempted.

Two more roads change mastery, each only when its session ends (answered in full, or
expired), from the whole session, per topic. A topic counts when at least two of the
session's questions were on it; a question is right only with full marks (partly right,
wrong and unanswered questions are not right):

- the course challenge: at least 80% of the topic's questions right makes a proficient
  topic mastered, on a later day than its first quiz score of 90% or more (mastery takes
  two different days, whichever road gives the second); fewer than half right moves the
  topic down one level (never below attempted);
- spaced review: fewer than half right moves the topic down one level (never below
  attempted). Reviews never raise mastery: quizzes and the challenge do.
"""

from collections import Counter
from collections.abc import Iterable
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


SESSION_MIN_QUESTIONS = 2
CHALLENGE_MASTERED_SHARE = Decimal("0.8")


@dataclass(frozen=True)
class SessionTally:
    """One topic's questions in one finished review or challenge session."""

    asked: int
    right: int  # with full marks

    @property
    def counts(self) -> bool:
        return self.asked >= SESSION_MIN_QUESTIONS

    @property
    def mostly_wrong(self) -> bool:
        return self.right * 2 < self.asked

    @property
    def mostly_right(self) -> bool:
        return self.right >= CHALLENGE_MASTERED_SHARE * self.asked


def tally_session(questions: Iterable[tuple[int, Decimal | None]]) -> dict[int, SessionTally]:
    """Per topic, from `(topic id, points)` for every question of a session, `None`
    points for a question left unanswered."""
    asked: Counter[int] = Counter()
    right: Counter[int] = Counter()
    for topic_id, points in questions:
        asked[topic_id] += 1
        right[topic_id] += points is not None and points >= 1
    return {topic_id: SessionTally(asked[topic_id], right[topic_id]) for topic_id in asked}


def one_level_down(level: Mastery) -> Mastery:
    return Mastery(level - 1) if level > Mastery.ATTEMPTED else level


def mastery_after_review_session(level: Mastery, tally: SessionTally) -> Mastery:
    """A topic's level once a review session ends."""
    if tally.counts and tally.mostly_wrong:
        return one_level_down(level)
    return level


def mastery_after_challenge(state: MasteryState, tally: SessionTally, on: date) -> Mastery:
    """A topic's level once a course challenge ends on day `on`."""
    level = Mastery(state.level)
    if not tally.counts:
        return level
    if tally.mostly_wrong:
        return one_level_down(level)
    if level == Mastery.PROFICIENT and tally.mostly_right and state.high_score_on != on:
        return Mastery.MASTERED
    return level


# The course is complete when every published topic is at this level or above; the course
# page and dashboard count the topics at COURSE_PROGRESS_LEVEL or above.
COMPLETION_LEVEL = Mastery.PROFICIENT
COURSE_PROGRESS_LEVEL = Mastery.FAMILIAR


def course_complete(levels: Iterable[Mastery | int]) -> bool:
    """Whether these levels, one per published topic, complete the course."""
    levels = list(levels)
    return bool(levels) and all(level >= COMPLETION_LEVEL for level in levels)
