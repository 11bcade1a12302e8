"""Repeated failed log-ins lock the account and the address out for a while."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning.addresses import client_ip
from learning.models import Classroom, Membership
from learning.teachers import sync_teachers_group
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)
ALICE = "198.51.100.2"  # alice's school
MALLORY = "203.0.113.66"  # someone guessing at alice's password


def log_in(username: str, password: str, address: str = "203.0.113.7", admin: bool = False):
    url = reverse("admin:login") if admin else reverse("login")
    return Client(REMOTE_ADDR=address).post(url, {"username": username, "password": password})


@time_machine.travel(NOON, tick=False)
def test_five_wrong_passwords_lock_the_account_from_that_address_with_a_clear_message():
    UserFactory(username="ada")
    for _ in range(4):
        assertContains(log_in("ada", "wrong"), "enter a correct username and password")
    locked = log_in("ada", "wrong")
    assertContains(locked, "Too many failed log-ins", status_code=429)
    assertContains(locked, "wait 15\xa0minutes", status_code=429)
    assertContains(locked, "your teacher can let you log in again", status_code=429)
    # even the right password waits out the lock, from that address
    assertContains(log_in("ada", PASSWORD), "Too many", status_code=429)


@time_machine.travel(NOON, tick=False)
def test_a_flood_of_wrong_passwords_from_one_address_does_not_lock_alice_out_elsewhere():
    UserFactory(username="alice")
    for _ in range(5):
        log_in("alice", "wrong", address=MALLORY)
    assert log_in("alice", PASSWORD, address=MALLORY).status_code == 429
    assert log_in("alice", PASSWORD, address=ALICE).status_code == 302


@time_machine.travel(NOON, tick=False)
def test_guesses_at_many_names_from_one_address_lock_none_of_them():
    # The trade-off (README): an address is not locked as a whole, so a classroom behind
    # one router is never locked out by one learner's typos.
    UserFactory(username="grace")
    for index in range(5):
        log_in(f"guess-{index}", "wrong")
    assert log_in("grace", PASSWORD).status_code == 302


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


class TestLiftingALockOut:
    @pytest.fixture
    def alice(self):
        return UserFactory.create(username="alice")

    @pytest.fixture
    def classroom(self, teacher, alice):
        classroom = Classroom.objects.create(name="Year 10 Biology")
        classroom.teachers.add(teacher)
        Membership.objects.create(classroom=classroom, learner=alice)
        return classroom

    @pytest.fixture
    def alice_locked_out(self, alice):
        for _ in range(5):
            log_in("alice", "wrong", address=ALICE)
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 429

    def lift_url(self, classroom, learner) -> str:
        return reverse("admin:learning_classroom_lift_lockout", args=[classroom.pk, learner.pk])

    def test_the_teacher_of_alices_class_lets_her_log_in_again(
        self, teacher_client, classroom, alice, alice_locked_out
    ):
        page = teacher_client.get(reverse("admin:learning_classroom_change", args=[classroom.pk]))
        assertContains(page, "Locked out after too many wrong passwords")
        assertContains(page, f'formaction="{self.lift_url(classroom, alice)}"')
        assertContains(page, "Let alice log in again")

        lifted = teacher_client.post(self.lift_url(classroom, alice), follow=True)

        assertContains(lifted, "Lock-out lifted: alice can log in again.")
        assertNotContains(lifted, "Locked out after too many wrong passwords")
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 302

    def test_a_learner_who_is_not_locked_out_has_no_button(self, teacher_client, classroom):
        page = teacher_client.get(reverse("admin:learning_classroom_change", args=[classroom.pk]))
        assertContains(page, "alice")
        assertNotContains(page, "log in again")

    def test_a_teacher_of_another_class_cannot_lift_it(
        self, client, classroom, alice, alice_locked_out
    ):
        other_teacher = UserFactory.create(username="mr-k", is_staff=True)
        other_teacher.groups.add(sync_teachers_group(Group, Permission))
        theirs = Classroom.objects.create(name="Year 11 Chemistry")
        theirs.teachers.add(other_teacher)
        client.force_login(other_teacher)

        assert client.post(self.lift_url(classroom, alice)).status_code == 404
        # nor through a class of their own that alice is not in
        assert client.post(self.lift_url(theirs, alice)).status_code == 404
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 429

    def test_a_learner_cannot_lift_it(self, client, classroom, alice, alice_locked_out):
        client.force_login(UserFactory.create(username="bob"))
        client.post(self.lift_url(classroom, alice))
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 429

    def test_a_superuser_lifts_it_in_any_class(self, client, classroom, alice, alice_locked_out):
        client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
        lifted = client.post(self.lift_url(classroom, alice), follow=True)
        assertContains(lifted, "Lock-out lifted: alice can log in again.")
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 302

    def test_lifting_is_a_post(self, teacher_client, classroom, alice, alice_locked_out):
        assert teacher_client.get(self.lift_url(classroom, alice)).status_code == 405
        assert log_in("alice", PASSWORD, address=ALICE).status_code == 429
