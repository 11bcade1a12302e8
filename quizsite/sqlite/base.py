"""Django's SQLite backend, with the writers of one process queuing in turn.

SQLite lets one writer at a time hold the database. A writer that finds it taken waits
in SQLite's busy handler, which sleeps and tries again: whoever happens to try just as
the lock comes free gets it, not whoever has waited longest. With 50 learners answering
at once on `make run` (one thread each), an unlucky request can lose that race for the
whole busy timeout and fail with "database is locked".

So here each write transaction (every `transaction.atomic` block, which begins
IMMEDIATE, i.e. takes SQLite's write lock at once) and each write statement outside one
first takes its turn in a first-come-first-served queue shared by the process's threads,
per database file, and holds it until it commits or rolls back. One thread of the process
at a time then asks SQLite for the lock; the others wait in line in Python. Reads outside
a transaction never queue (WAL lets them run beside the writer). Another process (a
second gunicorn worker, a management command) still meets SQLite's busy handler, with
only one contender from here.

A turn not given within the connection's busy timeout (OPTIONS "timeout", from
SQLITE_TIMEOUT_SECONDS) raises OperationalError "database is locked", as SQLite would:
learning/busy.py answers it with a 503.

And a health check that looks: a kept (persistent) connection that broke is found out and
replaced before a request uses it (`is_usable`), where Django's SQLite backend takes every
connection for usable.
"""

import sqlite3
import threading
import time
from collections import deque
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

DEFAULT_TIMEOUT_SECONDS = 5.0


class WriteQueue:
    """A lock granted in the order it was asked for (FIFO), with a timeout."""

    def __init__(self) -> None:
        self._mutex = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Event] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._mutex:
            if not self._held and not self._waiting:
                self._held = True
                return True
            turn = threading.Event()
            self._waiting.append(turn)
        if turn.wait(timeout):
            return True  # handed over by release()
        with self._mutex:
            if turn.is_set():  # handed over just as the wait ran out
                return True
            self._waiting.remove(turn)
            return False

    def release(self) -> None:
        with self._mutex:
            if self._waiting:
                self._waiting.popleft().set()  # the lock passes on, still held
            else:
                self._held = False


_queues: dict[str, WriteQueue] = {}
_queues_mutex = threading.Lock()


def write_queue(name: str) -> WriteQueue:
    """The queue of the writers to the database file `name`, in this process."""
    with _queues_mutex:
        return _queues.setdefault(name, WriteQueue())


_WRITE_WORDS = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER")


def is_write(sql: str) -> bool:
    return sql.lstrip().upper().startswith(_WRITE_WORDS)


class DatabaseWrapper(base.DatabaseWrapper):
    # The hooks below are Django's private transaction steps, which django-stubs leaves out.
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.holds_write_turn = False

    def is_usable(self) -> bool:
        # Django's SQLite backend answers True without looking. With persistent connections
        # and CONN_HEALTH_CHECKS, a kept connection that was closed or broke must fail here
        # to be replaced before a request uses it, as PostgreSQL's does.
        if self.connection is None:
            return False
        try:
            self.connection.execute("SELECT 1")
        except sqlite3.Error:
            return False
        return True

    def _write_queue_timeout(self) -> float:
        timeout = self.settings_dict.get("OPTIONS", {}).get("timeout", DEFAULT_TIMEOUT_SECONDS)
        return float(timeout)

    def take_write_turn(self) -> None:
        if self.holds_write_turn:
            return
        timeout = self._write_queue_timeout()
        started = time.monotonic()
        if not write_queue(str(self.settings_dict["NAME"])).acquire(timeout):
            waited = time.monotonic() - started
            raise OperationalError(
                f"database is locked (waited {waited:.1f} s for this process's other writers)"
            )
        self.holds_write_turn = True

    def give_up_write_turn(self) -> None:
        if self.holds_write_turn:
            self.holds_write_turn = False
            write_queue(str(self.settings_dict["NAME"])).release()

    def _start_transaction_under_autocommit(self) -> None:
        self.take_write_turn()
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]  # private, not in the stubs
        except BaseException:
            self.give_up_write_turn()
            raise

    def _commit(self) -> None:
        try:
            super()._commit()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self.give_up_write_turn()

    def _rollback(self) -> None:
        try:
            super()._rollback()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self.give_up_write_turn()

    def _set_autocommit(self, autocommit: bool) -> None:
        super()._set_autocommit(autocommit)  # type: ignore[misc]  # private, not in the stubs
        if autocommit:
            self.give_up_write_turn()

    def _close(self) -> None:
        try:
            super()._close()  # type: ignore[misc]  # private, not in the stubs
        finally:
            self.give_up_write_turn()

    def create_cursor(self, name: str | None = None) -> "QueuedCursor":
        cursor = self.connection.cursor(factory=QueuedCursor)
        cursor.wrapper = self
        return cursor


class QueuedCursor(base.SQLiteCursorWrapper):
    """A write statement outside a transaction takes its turn for that statement alone."""

    wrapper: DatabaseWrapper

    def _queued(self, sql: str) -> bool:
        wrapper = self.wrapper
        if wrapper.holds_write_turn or not wrapper.get_autocommit() or not is_write(sql):
            return False
        wrapper.take_write_turn()
        return True

    def execute(self, query: str, params: Any = None) -> Any:
        queued = self._queued(query)
        try:
            return super().execute(query, params)
        finally:
            if queued:
                self.wrapper.give_up_write_turn()

    def executemany(self, query: str, param_list: Any) -> Any:
        queued = self._queued(query)
        try:
            return super().executemany(query, param_list)
        finally:
            if queued:
                self.wrapper.give_up_write_turn()
