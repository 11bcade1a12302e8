"""How a log record looks on stderr, where gunicorn's own log goes."""

import logging


class OneEventPerRecordFormatter(logging.Formatter):
    """Formats a record, traceback included, as one event: its first line starts at the
    left margin and every further line (a multi-line message, the traceback) is indented.

    A line at the margin is always the start of a new record, so a reader, ``grep -A`` or
    a log collector's multi-line rule ("indented lines continue the event") keeps a record
    and its traceback together.
    """

    continuation = "    "

    def format(self, record: logging.LogRecord) -> str:
        return super().format(record).replace("\n", "\n" + self.continuation)
