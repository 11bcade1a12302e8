"""`make bench`'s write-lock timer (quizsite/lock_timing.py): with DJANGO_BENCHMARK=1 each
committed write transaction of a POST leaves one duration in the bench folder; off, none."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.urls import reverse

from learning import services
from learning.models import Attempt, Question, Response
from learning.versions import question_version
from tests.helpers import HTMX, answer_post

# Transactional: the timer ends at COMMIT, which a test wrapped in a transaction never reaches.
pytestmark = pytest.mark.django_db(transaction=True)

TIMER = "quizsite.lock_timing.WriteLockTimer"


@pytest.fixture
def lock_times(settings, tmp_path) -> Path:
    """The timer on, as DJANGO_BENCHMARK=1 sets it up, writing into a folder of the test's."""
    settings.BENCHMARK = True
    settings.BENCHMARK_LOCK_TIMES_DIR = tmp_path
    settings.MIDDLEWARE = [TIMER, *settings.MIDDLEWARE]
    return tmp_path


def recorded(folder: Path) -> list[tuple[str, str, float]]:
    lines = [line for file in folder.glob("*.txt") for line in file.read_text().splitlines()]
    return [
        (label.split(" ", 1)[0], label.split(" ", 1)[1], float(ms))
        for label, ms in (line.rsplit(" ", 1) for line in lines)
    ]


def start(learner, quiz) -> Attempt:
    """An attempt whose questions have been answered by someone before: their versions are
    stored (the first answer to a question stores it, in a transaction of its own)."""
    for question in quiz.topic.questions.all():
        question_version(question)
    return services.start_attempt(learner=learner, quiz=quiz)


def answer(client, attempt: Attempt, position: int):
    question = Question.objects.get(pk=attempt.question_ids[position - 1])
    url = reverse("learning:question", args=[attempt.pk, position])
    return client.post(url, answer_post(question, right=True, attempt=attempt), **HTMX)


def test_one_answer_records_one_lock_duration(lock_times, learner, learner_client, quiz):
    attempt = start(learner, quiz)

    response = answer(learner_client, attempt, 1)

    assert response.status_code == 200
    assert Response.objects.filter(attempt=attempt).count() == 1
    [(method, path, milliseconds)] = recorded(lock_times)
    assert (method, path) == ("POST", reverse("learning:question", args=[attempt.pk, 1]))
    assert 0 < milliseconds < 10_000


def test_the_answer_that_finishes_an_attempt_is_one_transaction_too(
    lock_times, learner, learner_client, quiz
):
    attempt = start(learner, quiz)
    for position in range(1, attempt.question_total + 1):
        assert answer(learner_client, attempt, position).status_code == 200

    attempt.refresh_from_db()
    assert attempt.is_finished
    assert len(recorded(lock_times)) == attempt.question_total


def test_pages_and_refused_answers_record_nothing(lock_times, learner, learner_client, quiz):
    attempt = start(learner, quiz)
    url = reverse("learning:question", args=[attempt.pk, 1])
    assert learner_client.get(url).status_code == 200
    refused = learner_client.post(url, {"question": attempt.question_ids[0]}, **HTMX)

    assert refused.status_code == 422
    assert recorded(lock_times) == []


def test_without_the_flag_nothing_is_timed(settings, tmp_path, learner, learner_client, quiz):
    settings.BENCHMARK = False
    settings.BENCHMARK_LOCK_TIMES_DIR = tmp_path
    settings.MIDDLEWARE = [TIMER, *settings.MIDDLEWARE]
    attempt = start(learner, quiz)

    assert answer(learner_client, attempt, 1).status_code == 200
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("flag", "timed"), [("1", True), ("0", False)])
def test_the_benchmark_flag_alone_turns_the_timer_on(flag, timed):
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; "
            "print(settings.MIDDLEWARE[0])",
        ],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "quizsite.settings",
            "DJANGO_DEBUG": "1",
            "DJANGO_BENCHMARK": flag,
        },
        cwd=django_settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    assert (result.stdout.strip() == TIMER) is timed
