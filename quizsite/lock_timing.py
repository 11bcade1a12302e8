"""`make bench`'s write-lock timer, on only with DJANGO_BENCHMARK=1.

For each write transaction of a POST it times how long the database's write lock is held:
from the moment the statement that takes it returns (SQLite's BEGIN IMMEDIATE; on
PostgreSQL the transaction's first INSERT, UPDATE, DELETE or SELECT ... FOR UPDATE) to the
end of its COMMIT, seen by an on-commit hook that runs right after it. A rolled-back
transaction records nothing. Each record is a line "METHOD PATH MILLISECONDS" appended to
one file per process in settings.BENCHMARK_LOCK_TIMES_DIR; scripts/bench.py reads them.
"""

import os
import re
import time
from collections.abc import Callable
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import MiddlewareNotUsed
from django.db import connections, transaction
from django.http import HttpRequest, HttpResponse

_BEGIN_WITH_LOCK = re.compile(r"\s*BEGIN\s+(IMMEDIATE|EXCLUSIVE)\b", re.IGNORECASE)
_WRITE = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)
_ROW_LOCK = re.compile(r"\bFOR\s+(NO\s+KEY\s+)?UPDATE\b", re.IGNORECASE)


def takes_write_lock(sql: str) -> bool:
    """A statement inside a transaction from which the transaction holds a write lock."""
    return bool(_WRITE.match(sql) or _ROW_LOCK.search(sql))


class TransactionTimer:
    """An execute wrapper (connection.execute_wrapper) that times each write transaction
    of one request and calls `record(milliseconds)` once it has committed."""

    def __init__(self, record: Callable[[float], None]) -> None:
        self.record = record
        self.begun_at: dict[str, float] = {}  # alias -> when BEGIN IMMEDIATE returned
        # alias -> the connection's list of on-commit hooks holding ours: Django replaces
        # that list when a transaction commits or rolls back, so while it is the same
        # list, the transaction is the one already timed.
        self.timed_hooks: dict[str, list[Any]] = {}

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        result = execute(sql, params, many, context)
        now = time.perf_counter()
        connection = context["connection"]
        alias = connection.alias
        if not connection.in_atomic_block:
            if _BEGIN_WITH_LOCK.match(sql):  # runs just before the atomic block opens
                self.begun_at[alias] = now
            return result
        if self.timed_hooks.get(alias) is connection.run_on_commit:
            return result
        started = self.begun_at.pop(alias, None)
        if started is None:
            if not takes_write_lock(sql):
                return result
            started = now
        transaction.on_commit(partial(self._committed, started), using=alias)
        self.timed_hooks[alias] = connection.run_on_commit
        return result

    def _committed(self, started: float) -> None:
        self.record((time.perf_counter() - started) * 1000)


_files: dict[tuple[int, Path], TextIO] = {}


def append_record(line: str) -> None:
    """One line to this process's file (opened once, flushed per line)."""
    pid, folder = os.getpid(), Path(settings.BENCHMARK_LOCK_TIMES_DIR)
    if (pid, folder) not in _files:
        folder.mkdir(parents=True, exist_ok=True)
        _files[pid, folder] = (folder / f"{pid}.txt").open("a", encoding="utf-8")
    file = _files[pid, folder]
    file.write(line + "\n")
    file.flush()


class WriteLockTimer:
    """Middleware: times the write transactions of every POST (see the module's doc)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        if not settings.BENCHMARK:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST":
            return self.get_response(request)
        label = f"{request.method} {request.path}"
        timer = TransactionTimer(lambda ms: append_record(f"{label} {ms:.3f}"))
        with ExitStack() as stack:
            for connection in connections.all():
                stack.enter_context(connection.execute_wrapper(timer))
            return self.get_response(request)
