"""Django's PostgreSQL backend for the tests: it empties the tables between transactional
tests with DELETE instead of TRUNCATE, and does not wait for the disk at each commit.

A transactional test (the browser tests, the live server's) ends with Django's `flush`,
which on PostgreSQL is one TRUNCATE of every table: each table and index gets a new
file, and that takes 0.5-1 s per test whatever the tables hold. The tests leave a few
hundred rows, which DELETE removes in about 30 ms. The foreign keys Django makes are
DEFERRABLE INITIALLY DEFERRED and `flush` runs its statements in one transaction, so the
order of the DELETEs does not matter. A flush asked to reset sequences or to cascade is
left to TRUNCATE.

A commit normally waits until PostgreSQL has written it to disk, 3 ms each here; the
transactional tests commit at every write (each request of the live server, each factory
call). With synchronous_commit off a commit returns at once: a crash of the server could
lose the last few commits but never leaves the database inconsistent (PostgreSQL's docs),
and a test database is thrown away anyway. Locks, isolation and constraints are the same.

tests/conftest.py uses this engine when the settings name Django's own.
"""

from collections.abc import Sequence
from typing import Any

from django.core.management.color import Style
from django.db.backends.postgresql import base, operations


class DatabaseOperations(operations.DatabaseOperations):
    def sql_flush(
        self,
        style: Style,
        tables: Sequence[str],
        *,
        reset_sequences: bool = False,
        allow_cascade: bool = False,
    ) -> list[str]:
        if reset_sequences or allow_cascade:
            return super().sql_flush(
                style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        return [
            f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(table))};"
            for table in tables
        ]


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations

    def get_connection_params(self) -> dict[str, Any]:
        params = super().get_connection_params()
        params["options"] = f"{params.get('options', '')} -c synchronous_commit=off".strip()
        return params
