"""Charts drawn on the server as SVG, with a text alternative: no chart library."""

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

WEEKS = 12
CELL = 22  # px, a square of the activity grid with its gap
SQUARE = 18  # px, the square itself
DAY_GUTTER = 34  # px left of the grid for the day names
WEEK_GUTTER = 20  # px above the grid for the month names
# The rows named on the left axis: every other day, as GitHub does, so they stay legible.
DAY_LABELS = ((0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun"))
SPARK_WIDTH = 120
SPARK_HEIGHT = 32
SPARK_PAD = 4


@dataclass(frozen=True)
class ActivityDay:
    day: date
    answers: int
    level: int  # 0 none, 1-4 more
    x: int
    y: int


@dataclass(frozen=True)
class AxisLabel:
    x: int
    y: int
    text: str


@dataclass(frozen=True)
class ActivityChart:
    days: list[ActivityDay]
    total_answers: int
    active_days: int
    busiest: ActivityDay | None
    # The columns' months along the top (where a month's first week starts) and the
    # days of the week down the left.
    week_labels: list[AxisLabel]
    day_labels: list[AxisLabel]
    width: int = DAY_GUTTER + WEEKS * CELL
    height: int = WEEK_GUTTER + 7 * CELL
    square: int = SQUARE

    @property
    def summary(self) -> str:
        if not self.total_answers:
            return f"No answers in the last {WEEKS} weeks."
        text = (
            f"{self.total_answers} answer{'s' if self.total_answers != 1 else ''} on "
            f"{self.active_days} of the last {WEEKS * 7} days"
        )
        if self.busiest:
            busiest = f"{self.busiest.day.day} {self.busiest.day:%b}"
            text += f"; the busiest day was {busiest} ({self.busiest.answers})"
        return text + "."


def _level(answers: int) -> int:
    if answers == 0:
        return 0
    if answers < 5:
        return 1
    if answers < 15:
        return 2
    if answers < 30:
        return 3
    return 4


def activity_chart(answers_by_day: dict[date, int], today: date) -> ActivityChart:
    """Twelve weeks as columns of seven days (Monday on top), ending with this week."""
    last_monday = today - timedelta(days=today.weekday())
    first = last_monday - timedelta(weeks=WEEKS - 1)
    days = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        answers = answers_by_day.get(day, 0)
        x = DAY_GUTTER + (offset // 7) * CELL
        y = WEEK_GUTTER + (offset % 7) * CELL
        days.append(ActivityDay(day, answers, _level(answers), x, y))
    active = [d for d in days if d.answers]
    busiest = max(active, key=lambda d: (d.answers, d.day)) if active else None
    return ActivityChart(
        days,
        sum(d.answers for d in days),
        len(active),
        busiest,
        week_labels=_month_labels(first),
        day_labels=[
            AxisLabel(DAY_GUTTER - 6, WEEK_GUTTER + row * CELL + SQUARE - 4, name)
            for row, name in DAY_LABELS
        ],
    )


def _month_labels(first_monday: date) -> list[AxisLabel]:
    """A month's name over the first week column that starts in it, and over the first
    column unless the next one already names a month (the two would overlap)."""
    labels = []
    for week in range(WEEKS):
        monday = first_monday + timedelta(weeks=week)
        starts_month = monday.day <= 7
        if week == 0 and (first_monday + timedelta(weeks=1)).day <= 7:
            continue
        if week == 0 or starts_month:
            labels.append(AxisLabel(DAY_GUTTER + week * CELL, WEEK_GUTTER - 6, f"{monday:%b}"))
    return labels


@dataclass(frozen=True)
class Sparkline:
    scores: list[Decimal]
    points: str  # the SVG polyline's points
    dots: list[tuple[float, float]]
    width: int = SPARK_WIDTH
    height: int = SPARK_HEIGHT

    @property
    def label(self) -> str:
        shown = ", ".join(f"{score:.0f}%" for score in self.scores)
        return f"Scores, oldest first: {shown}" if self.scores else "No scores yet"


def sparkline(scores: list[Decimal]) -> Sparkline:
    """Scores from 0 to 100% as a little line, oldest on the left."""
    inner_w, inner_h = SPARK_WIDTH - 2 * SPARK_PAD, SPARK_HEIGHT - 2 * SPARK_PAD
    step = inner_w / (len(scores) - 1) if len(scores) > 1 else 0
    dots = [
        (
            round(SPARK_PAD + index * step if len(scores) > 1 else SPARK_WIDTH / 2, 1),
            round(SPARK_PAD + inner_h * (1 - float(score) / 100), 1),
        )
        for index, score in enumerate(scores)
    ]
    return Sparkline(scores, " ".join(f"{x},{y}" for x, y in dots), dots)
