"""Logs an operator can use: tracebacks of unhandled errors on stderr, one event per record.

Each test starts a fresh Python process with the settings read from its environment, as
gunicorn does, so what it checks is what the configured handlers write to the real stderr.
"""

import logging
import os
import re
import subprocess
import sys

import pytest
from django.conf import settings
from django.utils.log import AdminEmailHandler

PRODUCTION = {
    "DJANGO_DEBUG": "0",
    "DJANGO_SECRET_KEY": "x7Qp2-fake-but-long-enough-secret-for-the-logging-tests-9Lm4Rt8Vw",
    "DJANGO_ALLOWED_HOSTS": "testserver",
}

# A request whose view raises, through Django's whole request handling (middleware, the
# 500 page), as a browser's request would go; tests/failing_urls.py has the view.
FAILING_REQUEST = (
    "import django; django.setup()\n"
    "from django.test import Client, override_settings\n"
    "with override_settings(ROOT_URLCONF='tests.failing_urls'):\n"
    "    response = Client(raise_request_exception=False).get('/fail', secure=True)\n"
    "print(response.status_code)\n"
)

LOG_FROM_OUR_CODE = (
    "import django, logging; django.setup()\n"
    "logging.getLogger('learning.services').warning('a warning from our code')\n"
    "logging.getLogger('learning.services').info('some news from our code')\n"
)

RECORD_START = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3} [A-Z]+ \S+ ")


def run(code: str, tmp_path, **env: str) -> subprocess.CompletedProcess:
    """Run Python with the project's settings in a fresh process and this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SQLITE_"))}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env={
            **clean,
            "DJANGO_SETTINGS_MODULE": "quizsite.settings",
            "SQLITE_PATH": str(tmp_path / "db.sqlite3"),
            "DJANGO_STATIC_ROOT": str(tmp_path),
            **env,
        },
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def records(stderr: str) -> list[str]:
    """The log records on stderr: each starts at the margin, its further lines indented."""
    found: list[str] = []
    for line in stderr.splitlines():
        if RECORD_START.match(line):
            found.append(line)
        elif found and line.startswith(" "):
            found[-1] += "\n" + line
    return found


def test_an_unhandled_error_writes_its_traceback_to_stderr_as_one_event(tmp_path):
    result = run(FAILING_REQUEST, tmp_path, **PRODUCTION)

    assert result.stdout.strip() == "500", result.stderr
    errors = [r for r in records(result.stderr) if " ERROR django.request " in r]
    assert len(errors) == 1, result.stderr
    (error,) = errors
    first_line, *rest = error.splitlines()
    assert first_line.endswith("ERROR django.request Internal Server Error: /fail")
    traceback = "\n".join(rest)
    assert "    Traceback (most recent call last):" in traceback
    assert 'raise RuntimeError("the test view failed on purpose")' in traceback
    assert rest[-1] == "    RuntimeError: the test view failed on purpose"
    # Nothing of the traceback escapes the record to the margin, where a reader or a log
    # collector would take it for a record of its own.
    assert "Traceback" not in result.stderr.replace(error, "")


def test_warnings_from_our_code_reach_stderr_under_the_learning_logger(tmp_path):
    result = run(LOG_FROM_OUR_CODE, tmp_path, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    messages = [r.split(" ", 2)[-1] for r in records(result.stderr)]
    assert messages == [
        "WARNING learning.services a warning from our code",
        "INFO learning.services some news from our code",
    ]


@pytest.mark.parametrize("level", ["ERROR", "error", " Error "])
def test_django_log_level_sets_the_level_of_django_and_our_loggers(tmp_path, level):
    result = run(
        LOG_FROM_OUR_CODE
        + "print(logging.getLevelName(logging.getLogger('django.request').getEffectiveLevel()))",
        tmp_path,
        DJANGO_LOG_LEVEL=level,
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ERROR"
    assert records(result.stderr) == []


def test_an_unhandled_error_is_still_logged_at_the_error_level(tmp_path):
    result = run(FAILING_REQUEST, tmp_path, DJANGO_LOG_LEVEL="ERROR", **PRODUCTION)

    assert "RuntimeError: the test view failed on purpose" in result.stderr


@pytest.mark.parametrize("level", ["loud", "WARN", "10"])
def test_a_bad_log_level_stops_start_up_with_its_name(tmp_path, level):
    result = run("import django; django.setup()", tmp_path, DJANGO_LOG_LEVEL=level, **PRODUCTION)

    assert result.returncode != 0
    assert "DJANGO_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL" in result.stderr


def test_the_development_server_still_logs_each_request_as_django_does(tmp_path):
    result = run(
        "import django, logging; django.setup()\n"
        "logging.getLogger('django.server').info('\"GET /healthz HTTP/1.1\" 200 3')\n",
        tmp_path,
        DJANGO_DEBUG="1",
    )

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(
        r'\[\d{2}/\w{3}/\d{4} [\d:,]+\] "GET /healthz HTTP/1.1" 200 3\n', result.stderr
    )


def test_no_log_is_sent_by_email():
    loggers = [logging.getLogger(), *map(logging.getLogger, logging.root.manager.loggerDict)]
    handlers = [handler for logger in loggers for handler in logger.handlers]
    assert handlers
    assert not any(isinstance(handler, AdminEmailHandler) for handler in handlers)
