"""Persistent database connections: a worker thread keeps its connection between requests
(CONN_MAX_AGE), on SQLite as on PostgreSQL, and one that broke is replaced, not a 500.

The requests go through Django's WSGI handler as gunicorn calls it, so the signals that
open and close connections around a request fire (the test client turns them off).
"""

from collections.abc import Iterator
from io import BytesIO
from wsgiref.util import setup_testing_defaults

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.handlers.wsgi import WSGIHandler
from django.db import connection
from django.urls import reverse

from quizsite import settings as project_settings
from tests.factories import TopicFactory


def get(path: str) -> int:
    """One GET through the WSGI handler, read to the end and closed; its status code."""
    environ: dict = {"PATH_INFO": path, "REQUEST_METHOD": "GET", "wsgi.input": BytesIO()}
    setup_testing_defaults(environ)
    statuses: list[str] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: object):
        statuses.append(status)
        return lambda data: None

    body = WSGIHandler()(environ, start_response)
    b"".join(body)
    body.close()  # request_finished: where Django closes a connection past its age
    return int(statuses[0].split()[0])


@pytest.fixture
def database_settings_as_served(monkeypatch) -> Iterator[None]:
    """The test database's connection with the lifetime and health check the project's
    settings give a served site (the suite's own conftest turns persistence off)."""
    monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
    served = project_settings.database_from_env()
    saved = {key: connection.settings_dict[key] for key in ("CONN_MAX_AGE", "CONN_HEALTH_CHECKS")}
    connection.close()
    connection.settings_dict["CONN_MAX_AGE"] = served["CONN_MAX_AGE"]
    connection.settings_dict["CONN_HEALTH_CHECKS"] = served["CONN_HEALTH_CHECKS"]
    yield
    connection.close()
    connection.settings_dict.update(saved)


@pytest.fixture
def course_url() -> str:
    TopicFactory(slug="how-muscles-work", title="How muscles work")
    return reverse("learning:course")


# Transactional: a test's own transaction would keep Django from closing any connection.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("database_settings_as_served")
class TestServedRequests:
    def test_two_requests_in_one_thread_share_one_connection(self, course_url):
        assert get(course_url) == 200
        kept = connection.connection
        assert kept is not None
        assert get(course_url) == 200
        assert connection.connection is kept

    def test_a_connection_that_broke_between_requests_is_replaced(self, course_url):
        assert get(course_url) == 200
        broken = connection.connection
        broken.close()  # behind Django's back, as a lost server or file would
        assert get(course_url) == 200
        assert connection.connection is not None
        assert connection.connection is not broken
        assert get(course_url) == 200

    def test_with_max_age_zero_each_request_has_its_own_connection(self, course_url):
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = 0
        assert get(course_url) == 200
        assert connection.connection is None  # closed at the request's end


class TestTheSettings:
    def test_sqlite_and_postgresql_keep_connections_a_minute_with_health_checks(self, monkeypatch):
        monkeypatch.delenv("DATABASE_CONN_MAX_AGE", raising=False)
        for url in ("", "sqlite:///elsewhere.sqlite3", "postgres://u:p@127.0.0.1:5432/course"):
            monkeypatch.setenv("DATABASE_URL", url)
            config = project_settings.database_from_env()
            assert (config["CONN_MAX_AGE"], config["CONN_HEALTH_CHECKS"]) == (60, True), url

    def test_the_lifetime_comes_from_the_environment(self, monkeypatch):
        monkeypatch.setenv("DATABASE_URL", "")
        monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "0")
        assert project_settings.database_from_env()["CONN_MAX_AGE"] == 0
        monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "a minute")
        with pytest.raises(ImproperlyConfigured, match="DATABASE_CONN_MAX_AGE"):
            project_settings.database_from_env()
