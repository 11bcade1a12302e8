"""A write that cannot get the database in time: 503, "not saved", nothing stored.

A raw sqlite3 connection to the test database file holds SQLite's write lock
(BEGIN IMMEDIATE) for longer than the busy timeout, lowered here to a fraction of a
second, while a learner answers.
"""

import logging
import re
import sqlite3
from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.db import OperationalError, connection
from django.urls import reverse

from learning import busy, services
from learning.models import Attempt, Question, Response
from tests.helpers import HTMX, answer_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "sqlite", reason="holds SQLite's file lock"),
]

BUSY_TIMEOUT_SECONDS = 0.2


@pytest.fixture
def short_busy_timeout() -> Iterator[None]:
    options = connection.settings_dict["OPTIONS"]
    saved = options.get("timeout")
    options["timeout"] = BUSY_TIMEOUT_SECONDS
    connection.close()  # the next query opens a connection with the short timeout
    yield
    options["timeout"] = saved
    connection.close()


@pytest.fixture
def write_lock() -> Iterator[sqlite3.Connection]:
    """Another connection that holds the database's write lock until the test releases it."""
    holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    yield holder
    if holder.in_transaction:
        holder.rollback()
    holder.close()


@pytest.fixture
def attempt(learner, quiz, rng) -> Attempt:
    return services.start_attempt(learner=learner, quiz=quiz, rng=rng)


def question_url(attempt: Attempt, position: int) -> str:
    return reverse("learning:question", args=[attempt.pk, position])


def first_question(attempt: Attempt) -> Question:
    return Question.objects.get(pk=attempt.question_ids[0])


@pytest.mark.usefixtures("short_busy_timeout")
class TestAnsweringWhileTheDatabaseIsLocked:
    def test_the_answer_is_a_503_not_saved_and_stored_after_the_lock_is_released(
        self, learner_client, attempt
    ):
        question = first_question(attempt)
        data = answer_post(question, right=True, attempt=attempt)
        holder = sqlite3.connect(connection.settings_dict["NAME"], isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            response = learner_client.post(question_url(attempt, 1), data)
        finally:
            holder.rollback()
            holder.close()

        assert response.status_code == 503
        assert response["Retry-After"] == "2"
        html = response.content.decode()
        assert "NOT saved" in html
        assert "<html" in html  # the whole question page, its form still there
        assert f'name="question" value="{question.pk}"' in html
        assert Response.objects.filter(attempt=attempt).count() == 0

        again = learner_client.post(question_url(attempt, 1), data)
        assert again.status_code == 302
        assert Response.objects.filter(attempt=attempt).count() == 1
        assert learner_client.post(question_url(attempt, 1), data).status_code == 302
        assert Response.objects.filter(attempt=attempt).count() == 1

    def test_with_htmx_the_partial_says_not_saved_and_keeps_the_input(
        self, learner_client, attempt, write_lock
    ):
        question = first_question(attempt)
        data = answer_post(question, right=True, attempt=attempt)
        response = learner_client.post(question_url(attempt, 1), data, **HTMX)
        write_lock.rollback()

        assert response.status_code == 503
        assert response["Retry-After"] == "2"
        html = response.content.decode()
        assert "<html" not in html
        assert 'id="question-panel"' in html
        assert "NOT saved" in html
        for name, value in data.items():
            for sent in value if isinstance(value, list) else [value]:
                kept = re.search(rf'<input[^>]*name="{name}"[^>]*value="{sent}"[^>]*>', html)
                assert kept is not None, (name, sent)
                if 'type="radio"' in kept[0] or 'type="checkbox"' in kept[0]:
                    assert "checked" in kept[0]
        assert Response.objects.filter(attempt=attempt).count() == 0

    def test_any_other_write_is_a_503_page_too(self, learner_client, quiz, write_lock, caplog):
        url = reverse("learning:mark_read", args=[quiz.topic.slug])
        response = learner_client.post(url)
        busy_lines = [record for record in caplog.records if record.name == "learning.busy"]
        assert [record.levelname for record in busy_lines] == ["WARNING"]
        assert not [record for record in caplog.records if record.levelno >= logging.ERROR]
        assert response.status_code == 503
        assert response["Retry-After"] == "2"
        assert "NOT saved" in response.content.decode()

        htmx = learner_client.post(url, **HTMX)
        assert htmx.status_code == 503
        assert htmx["Retry-After"] == "2"
        assert "NOT saved" in htmx.content.decode()
        assert "<html" not in htmx.content.decode()

    def test_reads_are_served_while_the_lock_is_held(self, client, write_lock):
        assert client.get(reverse("healthz")).status_code == 200


def test_a_sign_up_hashes_the_password_before_its_write_transaction(client, monkeypatch):
    """Hashing takes most of a second on purpose; no writer should wait for it."""
    seen: list[bool] = []
    set_password = User.set_password

    def spy(user: User, raw_password: str | None) -> None:
        seen.append(connection.in_atomic_block)
        set_password(user, raw_password)

    monkeypatch.setattr(User, "set_password", spy)
    password = "a-long-muscle-password-9"
    form = {"username": "newbie", "password1": password, "password2": password}
    response = client.post(reverse("learning:signup"), form)
    assert response.status_code == 302
    assert seen == [False]
    assert User.objects.filter(username="newbie").exists()


class TestOutsideAView:
    """A busy database met in a middleware after the view (a session save) reaches
    handler500, with debug off."""

    def test_a_busy_database_is_the_503_page(self, rf):
        request = rf.post("/anything/")
        try:
            raise OperationalError("database is locked")
        except OperationalError:
            response = busy.server_error(request)
        assert response.status_code == 503
        assert response["Retry-After"] == "2"
        assert "NOT saved" in response.content.decode()

    def test_any_other_error_is_the_plain_500(self, rf):
        try:
            raise ValueError("broken")
        except ValueError:
            response = busy.server_error(rf.get("/anything/"))
        assert response.status_code == 500
        assert "Retry-After" not in response


class TestWhatCountsAsBusy:
    def test_sqlite_locked_is_busy(self):
        assert busy.is_database_busy(OperationalError("database is locked"))

    def test_a_postgres_lock_timeout_or_serialization_failure_is_busy(self):
        for code in ("55P03", "40001", "40P01"):
            cause = type("PgError", (Exception,), {"sqlstate": code})()
            error = OperationalError("could not obtain lock")
            error.__cause__ = cause
            assert busy.is_database_busy(error)

    def test_other_errors_are_not(self):
        assert not busy.is_database_busy(OperationalError("no such table: x"))
        assert not busy.is_database_busy(ValueError("database is locked"))
