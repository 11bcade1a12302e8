"""At most DJANGO_SIGNUP_LIMIT_PER_HOUR new accounts from one client address in an hour."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning.models import SignUpRecord

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def limit_of_five(settings) -> None:
    settings.SIGNUP_LIMIT_PER_HOUR = 5


def sign_up(client, name: str, address: str = "203.0.113.7"):
    client.logout()
    data = {"username": name, "password1": "a-long-pass-phrase", "password2": "a-long-pass-phrase"}
    return client.post(reverse("learning:signup"), data, REMOTE_ADDR=address)


def test_the_sixth_account_from_one_address_in_an_hour_is_refused_in_words(client):
    with time_machine.travel(NOON, tick=False):
        for n in range(5):
            assert sign_up(client, f"learner-{n}").status_code == 302
    with time_machine.travel(NOON + timedelta(minutes=20), tick=False):
        response = sign_up(client, "learner-6")
    assert response.status_code == 429
    assert response["Retry-After"] == str(40 * 60)
    assertContains(
        response,
        "Too many new accounts from your network; try again in 40 minutes.",
        status_code=429,
    )
    assert not User.objects.filter(username="learner-6").exists()
    assert User.objects.count() == 5


def test_another_address_still_signs_up(client):
    with time_machine.travel(NOON, tick=False):
        for n in range(5):
            sign_up(client, f"learner-{n}")
        assert sign_up(client, "learner-6").status_code == 429
        assert sign_up(client, "neighbour", address="198.51.100.4").status_code == 302
    assert User.objects.filter(username="neighbour").exists()


def test_once_the_hour_has_passed_the_address_signs_up_again(client):
    for n in range(5):
        with time_machine.travel(NOON + timedelta(minutes=10 * n), tick=False):
            sign_up(client, f"learner-{n}")
    with time_machine.travel(NOON + timedelta(minutes=59, seconds=30), tick=False):
        refused = sign_up(client, "learner-6")
    assertContains(refused, "try again in 1 minute.", status_code=429)
    with time_machine.travel(NOON + timedelta(hours=1, seconds=1), tick=False):
        assert sign_up(client, "learner-6").status_code == 302
    # the place that freed up is taken again: the next waits for the second sign-up to age
    with time_machine.travel(NOON + timedelta(hours=1, minutes=2), tick=False):
        assertContains(sign_up(client, "learner-7"), "try again in 8 minutes.", status_code=429)
    assert User.objects.filter(username="learner-6").exists()


def test_behind_a_proxy_the_clients_address_counts(client, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    with time_machine.travel(NOON, tick=False):
        for n in range(5):
            response = client.post(
                reverse("learning:signup"),
                {
                    "username": f"l{n}",
                    "password1": "a-long-pass-phrase",
                    "password2": "a-long-pass-phrase",
                },
                REMOTE_ADDR="10.0.0.1",
                HTTP_X_FORWARDED_FOR=f"198.51.100.{n}",
            )
            client.logout()
            assert response.status_code == 302
    assert set(SignUpRecord.objects.values_list("address", flat=True)) == {
        f"198.51.100.{n}" for n in range(5)
    }


def test_old_addresses_are_not_kept_past_the_hour(client):
    with time_machine.travel(NOON, tick=False):
        sign_up(client, "early")
    with time_machine.travel(NOON + timedelta(hours=2), tick=False):
        sign_up(client, "late", address="198.51.100.4")
    assert list(SignUpRecord.objects.values_list("address", flat=True)) == ["198.51.100.4"]


def test_a_limit_of_zero_turns_the_limit_off(client, settings):
    settings.SIGNUP_LIMIT_PER_HOUR = 0
    for n in range(7):
        assert sign_up(client, f"learner-{n}").status_code == 302


def test_a_refused_form_is_not_checked_so_it_tells_nothing_about_usernames(client):
    with time_machine.travel(NOON, tick=False):
        for n in range(5):
            sign_up(client, f"learner-{n}")
        response = sign_up(client, "learner-0")
    assert response.status_code == 429
    assert "already exists" not in response.content.decode()
