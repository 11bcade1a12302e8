"""On SQLite a process's writers take turns, first come first served
(quizsite/sqlite/base.py), instead of racing in SQLite's busy handler."""

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from django.db import OperationalError, connection, transaction

from learning.models import Topic
from quizsite.sqlite.base import WriteQueue, is_write

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's write queue")


def in_threads(count: int, work: Callable[[int], None]) -> list[BaseException]:
    """Run work(0..count-1) in threads started in that order; the errors they raised."""
    errors: list[BaseException] = []

    def run(index: int) -> None:
        try:
            work(index)
        except BaseException as error:  # reported to the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
        time.sleep(0.005)  # in order of arrival
    for thread in threads:
        thread.join(30)
    return errors


class TestWriteQueue:
    def test_turns_are_given_in_the_order_they_were_asked_for(self):
        queue = WriteQueue()
        assert queue.acquire(1)
        order: list[int] = []

        def wait_turn(index: int) -> None:
            assert queue.acquire(5)
            order.append(index)
            queue.release()

        threads = [threading.Thread(target=wait_turn, args=(index,)) for index in range(10)]
        for thread in threads:
            thread.start()
            time.sleep(0.01)
        queue.release()
        for thread in threads:
            thread.join(5)
        assert order == list(range(10))

    def test_a_turn_not_given_in_time_is_refused_and_leaves_the_line(self):
        queue = WriteQueue()
        assert queue.acquire(1)
        assert not queue.acquire(0.05)
        queue.release()
        assert queue.acquire(0)  # nobody left waiting in front

    def test_only_writes_queue(self):
        assert is_write("  insert into x values (1)")
        assert is_write("UPDATE x SET a = 1")
        assert not is_write("SELECT 1")
        assert not is_write("PRAGMA journal_mode")


@pytest.fixture
def busy_timeout() -> Iterator[Callable[[float], None]]:
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")

    def set_timeout(seconds: float) -> None:
        options["timeout"] = seconds
        connection.close()

    yield set_timeout
    options["timeout"] = saved
    connection.close()


@pytest.mark.django_db(transaction=True)
class TestWritersOnSQLite:
    def test_many_writers_at_once_all_get_their_turn(self, busy_timeout):
        # 30 writers of 20 ms each: 0.6 s of writing, within a 3 s timeout each, however
        # unluckily they would race in SQLite's busy handler.
        busy_timeout(3)

        def write(index: int) -> None:
            with transaction.atomic():
                Topic.objects.create(slug=f"t{index}", title=f"T{index}", order=index)
                time.sleep(0.02)

        assert in_threads(30, write) == []
        assert Topic.objects.count() == 30

    def test_a_writer_waiting_past_the_timeout_gets_database_is_locked(self, busy_timeout):
        busy_timeout(0.2)
        holding = threading.Event()
        done = threading.Event()

        def work(index: int) -> None:
            if index == 0:
                with transaction.atomic():
                    Topic.objects.create(slug="slow", title="Slow", order=0)
                    holding.set()
                    done.wait(5)
            else:
                holding.wait(5)
                try:
                    with transaction.atomic():
                        Topic.objects.create(slug="late", title="Late", order=1)
                finally:
                    done.set()

        errors = in_threads(2, work)
        assert len(errors) == 1
        assert isinstance(errors[0], OperationalError)
        assert "database is locked" in str(errors[0])
        assert list(Topic.objects.values_list("slug", flat=True)) == ["slow"]

    def test_reads_do_not_wait_for_a_writer(self, busy_timeout):
        busy_timeout(5)
        Topic.objects.create(slug="there", title="There", order=0)
        holding = threading.Event()
        done = threading.Event()
        read_in: list[float] = []

        def work(index: int) -> None:
            if index == 0:
                with transaction.atomic():
                    Topic.objects.create(slug="new", title="New", order=1)
                    holding.set()
                    done.wait(5)
            else:
                holding.wait(5)
                started = time.monotonic()
                assert Topic.objects.filter(slug="there").exists()
                read_in.append(time.monotonic() - started)
                done.set()

        assert in_threads(2, work) == []
        assert read_in and read_in[0] < 1

    def test_a_failed_transaction_gives_up_its_turn(self, busy_timeout):
        busy_timeout(0.5)
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            Topic.objects.create(slug="gone", title="Gone", order=0)
            1 / 0  # noqa: B018
        assert not connection.holds_write_turn

        def write(index: int) -> None:
            Topic.objects.create(slug=f"after{index}", title="After", order=index)

        assert in_threads(3, write) == []
        assert Topic.objects.count() == 3

    def test_a_write_outside_a_transaction_takes_a_turn_too(self, busy_timeout):
        busy_timeout(0.2)
        holding = threading.Event()
        done = threading.Event()

        def work(index: int) -> None:
            if index == 0:
                with transaction.atomic():
                    Topic.objects.create(slug="slow", title="Slow", order=0)
                    holding.set()
                    done.wait(5)
            else:
                holding.wait(5)
                try:
                    started = time.monotonic()
                    with pytest.raises(OperationalError, match="this process's other writers"):
                        Topic.objects.create(slug="late", title="Late", order=1)
                    assert time.monotonic() - started < 1
                finally:
                    done.set()

        assert in_threads(2, work) == []
