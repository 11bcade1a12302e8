"""CSV the site writes for teachers to open in a spreadsheet, with every text cell inert.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and some
skip a leading tab or carriage return first), so a learner named `=HYPERLINK(...)` could
run something on the teacher's machine. As OWASP's CSV-injection guidance says, such a
text cell gets a leading single quote: the spreadsheet shows it as text. The csv module
already quotes cells holding commas, quotes or line breaks, so one value never spills
into the next cell.

Numbers the site computes (ints, Decimals, floats) are written as they are: they are not
user input, and a quote would turn a negative number into text.
"""

import csv
import itertools
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime
from decimal import Decimal

from django.utils import timezone
from django.utils.text import slugify

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert_cell(value: object) -> object:
    if isinstance(value, int | float | Decimal):
        return value
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


class _Line:
    def write(self, line: str) -> str:
        return line


def csv_line(cells: Iterable[object]) -> str:
    """One CSV line (ending in CRLF), every text cell made inert."""
    # A writer per line: a csv writer keeps the line it builds, so threads cannot share one.
    return csv.writer(_Line()).writerow([inert_cell(cell) for cell in cells])


def csv_lines_in_chunks[T](
    header: list[str],
    items: Iterable[T],
    rows_of: Callable[[list[T]], Iterable[list[object]]],
    *,
    chunk: int,
) -> Iterator[str]:
    """The header, then the rows of `items` a chunk at a time (`rows_of` may query once per
    chunk), so a large download starts at once and holds little memory."""
    yield csv_line(header)
    for batch in itertools.batched(items, chunk):
        yield from map(csv_line, rows_of(list(batch)))


def local_time(moment: datetime | None) -> str:
    """A moment as a teacher reads it: 2026-11-27 18:02, in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else ""


def class_file_name(kind: str, class_name: str | None, today: date) -> str:
    """progress-year-9-biology-2026-11-27.csv; progress-all-classes-... without a class."""
    name = (slugify(class_name) or "class") if class_name is not None else "all-classes"
    return f"{kind}-{name}-{today:%Y-%m-%d}.csv"
