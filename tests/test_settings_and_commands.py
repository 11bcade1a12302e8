import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

pytestmark = pytest.mark.django_db


def run_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_")}
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        env={**clean, "DJANGO_SETTINGS_MODULE": "quizsite.settings", **env},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
    )


def test_start_up_refuses_production_without_a_secret_key():
    result = run_settings({})
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_start_up_refuses_a_malformed_debug_flag():
    result = run_settings({"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be one of" in result.stderr


def test_local_development_needs_no_configuration():
    assert run_settings({"DJANGO_DEBUG": "1"}).returncode == 0


def test_demo_accounts_are_refused_outside_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="local development only"):
        call_command("create_demo_accounts")
    assert not get_user_model().objects.exists()


def test_demo_accounts_are_made_once_and_can_log_in(settings, client, capsys):
    settings.DEBUG = True
    call_command("create_demo_accounts")
    call_command("create_demo_accounts")
    out = capsys.readouterr().out
    assert "student" in out and "teacher" in out
    User = get_user_model()
    assert User.objects.count() == 2
    teacher = User.objects.get(username="teacher")
    assert teacher.is_staff and not teacher.is_superuser
    response = client.post(
        reverse("login"), {"username": "student", "password": "learn-muscles-2026"}
    )
    assert response.status_code == 302 and "_auth_user_id" in client.session
