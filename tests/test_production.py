"""Production mode: settings from the environment, health check, HTTPS, static files."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7Qp2-fake-but-long-enough-secret-for-the-deploy-check-9Lm4Rt8Vw",
    "DJANGO_ALLOWED_HOSTS": "course.example.org,testserver",
}


def run(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run Python with the project's settings in a fresh process and this environment."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SQLITE_"))}
    return subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        env={**clean, "DJANGO_SETTINGS_MODULE": "quizsite.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    return run(
        "import sys; from django.core.management import execute_from_command_line; "
        f"execute_from_command_line(['manage.py', *{list(args)!r}])",
        **env,
    )


HEALTH = (
    "import django; django.setup(); from django.test import Client; "
    "r = Client().get('/healthz'); print(r.status_code, r.content.decode().strip())"
)


def test_healthz_answers_after_a_database_round_trip(client, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = client.get(reverse("healthz"))
    assert (response.status_code, response.content) == (200, b"ok\n")


@pytest.mark.parametrize(
    "url",
    ["sqlite:////nonexistent-folder/quiz.sqlite3", "postgres://nobody:x@127.0.0.1:1/nothing"],
)
def test_healthz_is_503_when_the_database_is_unreachable(url):
    result = run(HEALTH, DATABASE_URL=url, **PRODUCTION)
    assert result.stdout.strip() == "503 database unreachable", result.stderr[-2000:]
    # The operator learns why, in the log.
    assert "WARNING learning.views Health check: the database cannot be reached" in result.stderr
    assert "OperationalError" in result.stderr


def test_the_deploy_check_passes_with_debug_off(tmp_path):
    # A database of its own: the project's database (db.sqlite3, or DATABASE_URL's) holds
    # `make test`'s demo accounts, which the check refuses (tests/test_demo_accounts.py).
    database = str(tmp_path / "production.sqlite3")
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL=f"sqlite:///{database}",  # even when the suite runs on PostgreSQL
        EMAIL_HOST="smtp.example.org",
        DEFAULT_FROM_EMAIL="course@example.org",
        **PRODUCTION,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_deploy_check_stops_a_site_that_cannot_send_password_resets(tmp_path):
    database = str(tmp_path / "production.sqlite3")
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DATABASE_URL=f"sqlite:///{database}",
        **PRODUCTION,
    )
    assert result.returncode != 0
    assert "learning.W002" in result.stderr + result.stdout
    assert "EMAIL_HOST is not set" in result.stderr + result.stdout


MAILER = "from django.conf import settings; print(settings.MAILERS['default'])"


def test_email_goes_to_the_console_with_debug_on_and_to_smtp_from_the_environment_without():
    console = run(MAILER, DJANGO_DEBUG="1")
    assert "ReadableConsoleEmailBackend" in console.stdout, console.stderr[-2000:]
    smtp = run(
        MAILER,
        EMAIL_HOST="smtp.example.org",
        EMAIL_PORT="465",
        EMAIL_HOST_USER="course",
        EMAIL_HOST_PASSWORD="s3cret",
        EMAIL_USE_TLS="0",
        **PRODUCTION,
    )
    assert "smtp.EmailBackend" in smtp.stdout, smtp.stderr[-2000:]
    for option in (
        "'host': 'smtp.example.org'",
        "'port': 465",
        "'username': 'course'",
        "'password': 's3cret'",
        "'use_tls': False",
    ):
        assert option in smtp.stdout
    assert "Deprecat" not in smtp.stderr + console.stderr


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"DATABASE_URL": "mysql://u:p@localhost/db"}, "must point at PostgreSQL or SQLite"),
        ({"DATABASE_URL": "not a url"}, "DATABASE_URL is not a database URL"),
        ({"SQLITE_TIMEOUT_SECONDS": "soon"}, "SQLITE_TIMEOUT_SECONDS must be a whole number"),
        ({"DJANGO_HSTS_SECONDS": "a year"}, "DJANGO_HSTS_SECONDS must be a whole number"),
        ({"DJANGO_SECRET_KEY": ""}, "DJANGO_SECRET_KEY is required"),
    ],
)
def test_a_bad_setting_stops_start_up_with_its_name(env, message):
    result = run("import django; django.setup()", **{**PRODUCTION, **env})
    assert result.returncode != 0
    assert message in result.stderr


def test_plain_http_is_sent_to_https_but_not_the_health_check(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(reverse("learning:course"))
    assert response.status_code == 301
    assert response["Location"].startswith("https://")
    proxied = client.get(reverse("learning:course"), HTTP_X_FORWARDED_PROTO="https")
    assert proxied.status_code == 200
    assert client.get(reverse("healthz")).status_code == 200


def test_collected_static_files_are_hashed_compressed_and_used(tmp_path):
    static_root = tmp_path / "static"
    env = {**PRODUCTION, "DJANGO_STATIC_ROOT": str(static_root)}
    collected = manage("collectstatic", "--noinput", "-v", "0", **env)
    assert collected.returncode == 0, collected.stderr[-2000:]
    manifest = json.loads((static_root / "staticfiles.json").read_text())["paths"]
    hashed = manifest["css/site.css"]
    assert hashed != "css/site.css"
    assert (static_root / hashed).exists()
    assert (static_root / f"{hashed}.gz").exists() and (static_root / f"{hashed}.br").exists()
    page = run(
        "import django; django.setup(); from django.test import Client; "
        "r = Client().get('/signup/', HTTP_X_FORWARDED_PROTO='https'); "
        "print(r.status_code); print(r.content.decode())",
        **env,
    )
    assert page.stdout.startswith("200"), page.stderr[-2000:]
    assert f"/static/{hashed}" in page.stdout
    assert Path(manifest["django_htmx/htmx-2.min.js"]).name in page.stdout


@pytest.mark.parametrize("name", ["learning:course", "login", "learning:signup"])
def test_pages_carry_a_strict_csp_and_the_usual_security_headers(client, name):
    response = client.get(reverse(name))
    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self' 'nonce-" in policy
    assert "style-src 'self'" in policy and "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    html = response.content.decode()
    assert html.count("<script") == html.count(f'nonce="{nonce}"') + html.count('src="/static/js/')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
