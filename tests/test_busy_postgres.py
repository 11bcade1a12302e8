"""PostgreSQL's side of "busy, not broken": a write that waits longer than its lock
timeout gets a 503 that says the answer was not saved, and nothing is stored; once the
lock is gone the same answer is stored once.

Another real connection holds the attempt's row lock (SELECT ... FOR UPDATE, which the
answer's transaction also takes) while the learner answers, with the learner's
connection told to wait at most a fifth of a second (lock_timeout: PostgreSQL's 55P03).
"""

from collections.abc import Iterator

import psycopg
import pytest
from django.db import connection
from django.urls import reverse

from learning import services
from learning.models import Attempt, Question, Response
from tests.helpers import HTMX, answer_post

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's row locks"),
]


@pytest.fixture
def attempt(learner, quiz, rng) -> Attempt:
    return services.start_attempt(learner=learner, quiz=quiz, rng=rng)


@pytest.fixture
def short_lock_timeout() -> Iterator[None]:
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '200ms'")
    yield
    with connection.cursor() as cursor:
        cursor.execute("RESET lock_timeout")


def hold_row_lock(attempt: Attempt) -> psycopg.Connection:
    """Another session, holding the attempt's row until it rolls back."""
    params = connection.get_connection_params()
    holder = psycopg.connect(**params)
    holder.execute("SELECT id FROM learning_attempt WHERE id = %s FOR UPDATE", [attempt.pk])
    return holder


@pytest.mark.usefixtures("short_lock_timeout")
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_an_answer_blocked_past_the_lock_timeout_is_a_503_and_stored_once_later(
    learner_client, attempt, headers
):
    question = Question.objects.get(pk=attempt.question_ids[0])
    data = answer_post(question, right=True, attempt=attempt)
    url = reverse("learning:question", args=[attempt.pk, 1])
    holder = hold_row_lock(attempt)
    try:
        busy = learner_client.post(url, data, **headers)
    finally:
        holder.rollback()
        holder.close()
    assert busy.status_code == 503
    assert busy["Retry-After"] == "2"
    assert "NOT saved" in busy.content.decode()
    assert not Response.objects.exists()

    stored = learner_client.post(url, data, **headers)
    assert stored.status_code in (200, 302)
    assert Response.objects.filter(attempt=attempt).count() == 1
