"""Spaced review with FSRS: how an answer becomes a rating, and cards to and from the
database. Pure apart from the model it fills in; the services call it inside the answer's
transaction."""

from datetime import UTC, datetime
from decimal import Decimal

import fsrs

from learning.models import ReviewCard

# FSRS's defaults: 90% desired retention, learning steps of 1 and 10 minutes, and a little
# fuzz so cards answered together do not all fall due together.
SCHEDULER = fsrs.Scheduler()

# The id a card has before its row is saved. fsrs only copies a card's id into the review
# logs it returns (we keep none) and its `to_dict`; a saved card's id is its row's pk. Left
# out, fsrs makes one from the clock and sleeps 1 ms so the next differs, and that would
# be inside the answer's write transaction.
NEW_CARD_ID = 0


def rating_for(points: Decimal) -> fsrs.Rating:
    """Wrong is Again, right is Good, partly right (say, some of a multiple answer) is Hard."""
    if points >= 1:
        return fsrs.Rating.Good
    if points > 0:
        return fsrs.Rating.Hard
    return fsrs.Rating.Again


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def to_fsrs(row: ReviewCard) -> fsrs.Card:
    return fsrs.Card(
        card_id=row.pk,
        state=fsrs.State(row.state),
        step=row.step,
        stability=row.stability,
        difficulty=row.difficulty,
        due=_utc(row.due),
        last_review=_utc(row.last_review),
    )


def review(row: ReviewCard | None, points: Decimal, at: datetime) -> tuple[fsrs.Card, bool]:
    """The card after this answer, and whether it was a lapse (a known card forgotten)."""
    card = to_fsrs(row) if row is not None else fsrs.Card(card_id=NEW_CARD_ID, due=_utc(at))
    rating = rating_for(points)
    was_known = card.state == fsrs.State.Review
    new_card, _log = SCHEDULER.review_card(card, rating, review_datetime=_utc(at))
    return new_card, was_known and rating == fsrs.Rating.Again


def copy_into(row: ReviewCard, card: fsrs.Card) -> None:
    row.state = int(card.state)
    row.step = card.step
    row.stability = card.stability
    row.difficulty = card.difficulty
    row.due = card.due
    row.last_review = card.last_review
