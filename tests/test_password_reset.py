"""Getting back into an account: an optional email at sign-up, Django's password reset by
email, the email settings, and one-time reset links a teacher makes for a learner of their
class who has no email."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission, User
from django.core import mail
from django.core.checks import run_checks
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning.checks import NO_EMAIL_SERVER
from learning.models import Classroom, Membership
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a-fresh-pass-phrase-42"
LINK = re.compile(r"https?://testserver(/accounts/reset/[^/\s]+/[^/\s]+/)")
SMTP = "django.core.mail.backends.smtp.EmailBackend"
NOON = datetime(2026, 11, 25, 12, tzinfo=UTC)


def sign_up(client: Client, name: str, email: str = ""):
    data = {
        "username": name,
        "email": email,
        "password1": "a-long-pass-phrase",
        "password2": "a-long-pass-phrase",
    }
    return client.post(reverse("learning:signup"), data)


def ask_for_reset(client: Client, email: str):
    return client.post(reverse("password_reset"), {"email": email})


def choose_password(client: Client, path: str, password: str = NEW_PASSWORD):
    """Follow a reset link as a browser does: it redirects to a URL without the token."""
    form = client.get(path)
    if form.status_code != 302:
        return form
    data = {"new_password1": password, "new_password2": password}
    return client.post(form["Location"], data, follow=True)


def logs_in(username: str, password: str) -> int:
    response = Client().post(reverse("login"), {"username": username, "password": password})
    return response.status_code


class TestSignUpEmail:
    def test_the_form_offers_an_optional_email_and_says_what_it_is_for(self, client):
        page = client.get(reverse("learning:signup"))
        assertContains(page, 'type="email" name="email"')
        assertContains(page, "Email (optional)")
        assertContains(page, "Only used to send you a link if you forget your password")

    def test_the_email_is_stored_on_the_account(self, client):
        assert sign_up(client, "ada", "Ada@Example.ORG").status_code == 302
        assert User.objects.get(username="ada").email == "Ada@example.org"

    def test_an_account_without_email_is_fine(self, client):
        assert sign_up(client, "ada").status_code == 302
        assert User.objects.get(username="ada").email == ""

    def test_a_malformed_address_is_a_form_error_and_no_account(self, client):
        response = sign_up(client, "ada", "not an address")
        assertContains(response, "Enter a valid email address.", status_code=400)
        assert not User.objects.filter(username="ada").exists()

    def test_an_address_another_account_has_is_not_given_away(self, client):
        UserFactory(username="grace", email="shared@example.org")
        assert sign_up(client, "ada", "shared@example.org").status_code == 302
        assert User.objects.get(username="ada").email == "shared@example.org"


class TestResetByEmail:
    def test_the_login_page_links_to_the_reset_page(self, client):
        assertContains(client.get(reverse("login")), reverse("password_reset"))

    def test_the_reset_pages_are_the_sites_own(self, client):
        page = client.get(reverse("password_reset"))
        assertContains(page, "Reset your password")
        assertContains(page, "Ask your teacher")
        assertContains(page, "Muscle Spasms, Explained")  # base.html, not the admin's look
        assertNotContains(page, "Django administration")

    def test_a_known_address_gets_a_link_that_sets_a_new_password_once(self, client):
        UserFactory(username="ada", email="ada@example.org")
        response = ask_for_reset(client, "ADA@example.org")
        assert response["Location"] == reverse("password_reset_done")
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["ada@example.org"]
        assert "ada" in message.body
        path = LINK.search(message.body)[1]

        assertContains(choose_password(client, path), "Log in with your new password")
        assert logs_in("ada", NEW_PASSWORD) == 302
        assert logs_in("ada", PASSWORD) == 200  # the old one is gone

        again = choose_password(Client(), path, "yet-another-pass-phrase-7")
        assertContains(again, "already been used or has expired")
        assert logs_in("ada", NEW_PASSWORD) == 302

    def test_an_unknown_address_gets_the_same_answer_and_no_mail(self, client):
        UserFactory(username="ada", email="ada@example.org")
        known = ask_for_reset(client, "ada@example.org")
        unknown = ask_for_reset(client, "nobody@example.org")
        assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
        assert len(mail.outbox) == 1
        done = client.get(known["Location"])
        assertContains(done, "If an account has the address you typed")

    def test_a_link_expires(self, client, settings):
        UserFactory(username="ada", email="ada@example.org")
        with time_machine.travel(NOON, tick=False):
            ask_for_reset(client, "ada@example.org")
        path = LINK.search(mail.outbox[0].body)[1]
        seconds = settings.PASSWORD_RESET_TIMEOUT + 60
        with time_machine.travel(NOON + timedelta(seconds=seconds), tick=False):
            assertContains(choose_password(client, path), "already been used or has expired")
        assert logs_in("ada", PASSWORD) == 302

    def test_a_malformed_address_is_a_form_error(self, client):
        response = ask_for_reset(client, "not an address")
        assertContains(response, "Enter a valid email address.")
        assert not mail.outbox

    def test_a_new_password_does_not_lift_a_log_in_lock_out(self, client, settings):
        UserFactory(username="ada", email="ada@example.org")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            logs_in("ada", "wrong")
        assert logs_in("ada", PASSWORD) == 429
        ask_for_reset(client, "ada@example.org")
        choose_password(client, LINK.search(mail.outbox[0].body)[1])
        assert logs_in("ada", NEW_PASSWORD) == 429  # the pause holds; a teacher can lift it

    def test_the_lock_out_page_points_to_the_reset(self, client, settings):
        UserFactory(username="ada")
        for _ in range(settings.AXES_FAILURE_LIMIT):
            logs_in("ada", "wrong")
        page = Client().post(reverse("login"), {"username": "ada", "password": "wrong"})
        assertContains(page, reverse("password_reset"), status_code=429)


class TestResetLimit:
    @pytest.fixture(autouse=True)
    def limit_of_three(self, settings) -> None:
        settings.PASSWORD_RESET_LIMIT_PER_HOUR = 3

    def test_the_fourth_request_from_one_address_in_an_hour_is_refused_in_words(self):
        UserFactory(username="ada", email="ada@example.org")
        school = Client(REMOTE_ADDR="198.51.100.2")
        with time_machine.travel(NOON, tick=False):
            for address in ("ada@example.org", "nobody@example.org", "ada@example.org"):
                assert ask_for_reset(school, address).status_code == 302
        assert len(mail.outbox) == 2
        with time_machine.travel(NOON + timedelta(minutes=20), tick=False):
            refused = ask_for_reset(school, "ada@example.org")
            assert (
                ask_for_reset(Client(REMOTE_ADDR="203.0.113.9"), "ada@example.org").status_code
                == 302
            )
        assertContains(refused, "try again in 40 minutes", status_code=429)
        assert refused["Retry-After"] == str(40 * 60)
        assert len(mail.outbox) == 3  # the refused one sent nothing
        with time_machine.travel(NOON + timedelta(minutes=61), tick=False):
            assert ask_for_reset(school, "ada@example.org").status_code == 302

    def test_a_malformed_address_does_not_count(self):
        for _ in range(5):
            ask_for_reset(Client(), "not an address")
        assert ask_for_reset(Client(), "nobody@example.org").status_code == 302


class TestEmailSettings:
    def test_production_without_an_email_server_fails_the_deploy_check(self, settings):
        settings.MAILERS = {"default": {"BACKEND": SMTP, "OPTIONS": {"host": ""}}}
        found = [m for m in run_checks(include_deployment_checks=True) if m.id == NO_EMAIL_SERVER]
        assert found
        assert "EMAIL_HOST is not set" in found[0].msg

    def test_production_with_an_email_server_passes(self, settings):
        settings.MAILERS = {"default": {"BACKEND": SMTP, "OPTIONS": {"host": "smtp.example.org"}}}
        settings.DEFAULT_FROM_EMAIL = "course@example.org"
        assert not [
            m for m in run_checks(include_deployment_checks=True) if m.id == NO_EMAIL_SERVER
        ]

    def test_production_sending_from_localhost_fails_the_deploy_check(self, settings):
        settings.MAILERS = {"default": {"BACKEND": SMTP, "OPTIONS": {"host": "smtp.example.org"}}}
        settings.DEFAULT_FROM_EMAIL = "webmaster@localhost"
        found = [m for m in run_checks(include_deployment_checks=True) if m.id == NO_EMAIL_SERVER]
        assert found and "DEFAULT_FROM_EMAIL" in found[0].msg


def reset_link_url(learner: User) -> str:
    return reverse("admin:learning_attempt_learner_reset_link", args=[learner.pk])


@pytest.fixture
def my_class(teacher) -> Classroom:
    classroom = Classroom.objects.create(name="Year 10 Alpha")
    classroom.teachers.add(teacher)
    return classroom


def enrol(classroom: Classroom, user: User) -> User:
    Membership.objects.create(classroom=classroom, learner=user)
    return user


class TestTeacherResetLink:
    def test_the_learner_page_offers_the_link(self, teacher_client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        page = teacher_client.get(reverse("admin:learning_attempt_learner", args=[ada.pk]))
        assertContains(page, reset_link_url(ada))

    def test_asking_shows_a_confirmation_and_makes_nothing(self, teacher_client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        page = teacher_client.get(reset_link_url(ada))
        assertContains(page, "Make the link")
        assertNotContains(page, "/accounts/reset/")
        assert not LogEntry.objects.exists()

    def test_the_link_is_shown_once_works_once_and_is_logged(self, teacher_client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        page = teacher_client.post(reset_link_url(ada))
        path = LINK.search(page.content.decode())[1]
        entry = LogEntry.objects.get()
        assert entry.object_id == str(ada.pk)
        assert entry.user.username == "mrs-hill"
        assert "password reset link" in entry.change_message

        learner = Client()
        assertContains(choose_password(learner, path), "Log in with your new password")
        assert logs_in("ada", NEW_PASSWORD) == 302
        again = choose_password(Client(), path, "yet-another-pass-phrase-7")
        assertContains(again, "already been used or has expired")

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_learner_with_an_email_resets_it_themselves(self, teacher_client, my_class, method):
        bea = enrol(my_class, UserFactory(username="bea", email="bea@example.org"))
        page = teacher_client.get(reverse("admin:learning_attempt_learner", args=[bea.pk]))
        assertNotContains(page, reset_link_url(bea))
        response = getattr(teacher_client, method)(reset_link_url(bea))
        assert response.status_code == 404
        assertNotContains(response, "/accounts/reset/", status_code=404)
        assert not LogEntry.objects.exists()

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_a_learner_outside_their_classes_is_not_found(self, teacher_client, my_class, method):
        other_class = Classroom.objects.create(name="Year 10 Bravo")
        zoe = enrol(other_class, UserFactory(username="zoe"))
        nobody = UserFactory(username="nel")
        for learner in (zoe, nobody):
            response = getattr(teacher_client, method)(reset_link_url(learner))
            assert response.status_code == 404
            assertNotContains(response, "/accounts/reset/", status_code=404)
        assert not LogEntry.objects.exists()

    @pytest.mark.parametrize("method", ["get", "post"])
    def test_staff_in_their_class_are_not_found(self, teacher_client, my_class, method):
        colleague = enrol(my_class, UserFactory(username="mr-lee", is_staff=True))
        boss = enrol(my_class, UserFactory(username="root", is_staff=True, is_superuser=True))
        for user in (colleague, boss):
            page = teacher_client.get(reverse("admin:learning_attempt_learner", args=[user.pk]))
            assertNotContains(page, reset_link_url(user))
            assert getattr(teacher_client, method)(reset_link_url(user)).status_code == 404
        assert not LogEntry.objects.exists()

    def test_a_learner_is_refused(self, client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        bob = enrol(my_class, UserFactory(username="bob"))
        client.force_login(bob)
        response = client.post(reset_link_url(ada))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
        assert not LogEntry.objects.exists()

    def test_staff_without_the_teachers_rights_are_refused(self, client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        bare_staff = UserFactory(username="clerk", is_staff=True)
        my_class.teachers.add(bare_staff)
        client.force_login(bare_staff)
        assert client.post(reset_link_url(ada)).status_code == 403
        assert not LogEntry.objects.exists()

    def test_a_read_only_assistant_who_may_see_records_cannot_make_one(self, client, my_class):
        ada = enrol(my_class, UserFactory(username="ada"))
        assistant = UserFactory(username="assistant", is_staff=True)
        assistant.user_permissions.add(
            *Permission.objects.filter(
                content_type__app_label="learning",
                codename__in=["view_attempt", "view_response", "view_topicprogress"],
            )
        )
        my_class.teachers.add(assistant)
        client.force_login(assistant)
        learner_page = client.get(reverse("admin:learning_attempt_learner", args=[ada.pk]))
        assert learner_page.status_code == 200
        assertNotContains(learner_page, "Make a one-time reset link")
        assert client.post(reset_link_url(ada)).status_code == 403
        assert not LogEntry.objects.exists()
