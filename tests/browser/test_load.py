"""A small load test inside `make test`: concurrent learners over loopback against the
live server, on whichever database the suite runs (SQLite or PostgreSQL)."""

import urllib.parse

import pytest

from learning.models import Attempt, Response
from tests.load import check_invariants, run_load

pytestmark = pytest.mark.django_db(transaction=True)

TOPICS = ["how-muscles-work", "heat", "causes"]


def test_concurrent_learners_lose_nothing_and_count_nothing_twice(live_server, course, settings):
    settings.SIGNUP_LIMIT_PER_HOUR = 0  # every learner signs up from 127.0.0.1
    address = urllib.parse.urlparse(live_server.url)
    report = run_load(address.hostname, address.port, TOPICS, learners=8)
    assert check_invariants(report) == []
    assert report.statuses[500] == 0
    # double clicks included, no well-formed answer was refused
    assert report.statuses[400] == 0, dict(report.statuses)
    assert report.accepted, "no answer was accepted: the load test did not run"
    assert Response.objects.count() == len(report.accepted)
    assert Attempt.objects.filter(state="finished").count() == 8
