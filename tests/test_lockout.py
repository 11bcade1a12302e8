"""Repeated failed log-ins lock the account and the address out for a while."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning.addresses import client_ip
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


def log_in(username: str, password: str, address: str = "203.0.113.7", admin: bool = False):
    url = reverse("admin:login") if admin else reverse("login")
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password})


@time_machine.travel(NOON, tick=False)
def test_five_wrong_passwords_lock_the_account_with_a_clear_message():
    UserFactory(username="ada")
    for _ in range(4):
        assertContains(log_in("ada", "wrong"), "enter a correct username and password")
    locked = log_in("ada", "wrong")
    assertContains(locked, "Too many failed log-ins", status_code=429)
    # even the right password, from another address, waits out the lock on the account
    assertContains(log_in("ada", PASSWORD, address="198.51.100.2"), "Too many", status_code=429)


@time_machine.travel(NOON, tick=False)
def test_the_address_is_locked_for_other_accounts_too():
    UserFactory(username="grace")
    for index in range(5):
        log_in(f"guess-{index}", "wrong")
    assertContains(log_in("grace", PASSWORD), "Too many", status_code=429)
    assert log_in("grace", PASSWORD, address="198.51.100.9").status_code == 302


def test_the_lock_lifts_after_the_cool_off():
    UserFactory(username="ada")
    with time_machine.travel(NOON, tick=False):
        for _ in range(5):
            log_in("ada", "wrong")
        assert log_in("ada", PASSWORD).status_code == 429
    with time_machine.travel(NOON + timedelta(minutes=16), tick=False):
        assert log_in("ada", PASSWORD).status_code == 302


@time_machine.travel(NOON, tick=False)
def test_the_admin_log_in_is_protected_the_same_way():
    UserFactory(username="mr-k", is_staff=True)
    for _ in range(5):
        log_in("mr-k", "wrong", admin=True)
    assert log_in("mr-k", PASSWORD, admin=True).status_code == 429


@time_machine.travel(NOON, tick=False)
def test_a_success_clears_earlier_failures():
    UserFactory(username="ada")
    for _ in range(4):
        log_in("ada", "wrong")
    assert log_in("ada", PASSWORD).status_code == 302
    for _ in range(4):
        log_in("ada", "wrong")
    assert log_in("ada", PASSWORD).status_code == 302


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.5"),  # no proxy trusted: the socket's address
        (1, "198.51.100.1", "198.51.100.1"),
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),  # the client cannot spoof the left
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        (2, "198.51.100.1", "10.0.0.5"),  # fewer hops than proxies: do not trust them
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, rf, proxies, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
