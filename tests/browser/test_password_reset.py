"""Getting back into an account in Chromium: the whole reset by email, with the message read
from the console backend `make run` uses; the new pages scanned by axe in both schemes at
phone and desktop widths; a teacher's one-time link from the admin."""

import io
import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from learning.models import Classroom, Membership
from learning.password_resets import reset_link_path
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import assert_no_problems, blocking_violations
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "a-fresh-pass-phrase-42"
SCREENSHOTS = "/tmp/f5-shots"  # noqa: S108 - looked at while working, not kept


@pytest.fixture
def console_outbox(settings) -> io.StringIO:
    """The console backend of `make run`, printing to a stream the test can read instead of
    the server's stdout."""
    stream = io.StringIO()
    settings.MAILERS = {
        "default": {
            "BACKEND": "learning.console_mail.ReadableConsoleEmailBackend",
            "OPTIONS": {"stream": stream},
        }
    }
    return stream


def fits_the_screen(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_a_learner_resets_a_forgotten_password_with_the_link_the_console_printed(
    browser: Browser, live_server, student, console_outbox
):
    student.email = "ada@example.org"
    student.save(update_fields=["email"])
    page = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Email").fill("ada@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert fits_the_screen(page)

    printed = console_outbox.getvalue()
    assert "To: ada@example.org" in printed
    link = re.search(r"http://\S+/accounts/reset/\S+/", printed)
    assert link, printed
    page.goto(link[0])
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "/set-password/" in page.url  # the token left the address bar
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    page.screenshot(path=f"{SCREENSHOTS}/choose-375.png", full_page=True)
    page.get_by_role("button", name="Set my password").click()
    expect(page.get_by_role("heading", name="Your password is changed")).to_be_visible()
    page.get_by_role("link", name="Log in").last.click()
    log_in(page, live_server.url, student.username, NEW_PASSWORD)

    page.goto(link[0])
    expect(page.get_by_role("heading", name="Reset link not valid")).to_be_visible()


def test_an_unknown_address_sees_the_same_page_and_nothing_is_printed(
    page: Page, live_server, student, console_outbox
):
    page.goto(f"{live_server.url}/accounts/password_reset/")
    page.get_by_label("Email").fill("nobody@example.org")
    page.get_by_role("button", name="Send the link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    assert console_outbox.getvalue() == ""


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_the_reset_pages_are_accessible_and_fit(
    browser: Browser, live_server, student, scheme, width
):
    page = browser.new_context(
        viewport={"width": width, "height": 812}, color_scheme=scheme
    ).new_page()
    pages = {
        "sign-up with email": "/signup/",
        "log-in": "/accounts/login/",
        "reset form": reverse("password_reset"),
        "reset sent": reverse("password_reset_done"),
        "choose a password": reset_link_path(student),  # redirects to set-password
        "link not valid": reverse(
            "password_reset_confirm", kwargs={"uidb64": "MQ", "token": "used-token"}
        ),
        "password changed": reverse("password_reset_complete"),
    }
    problems, wide = {}, []
    for name, path in pages.items():
        page.goto(live_server.url + path)
        expect(page.locator("main h1")).to_be_visible()
        problems[name] = blocking_violations(page)
        if not fits_the_screen(page):
            wide.append(name)
        page.screenshot(path=f"{SCREENSHOTS}/{name}-{width}-{scheme}.png", full_page=True)
    assert wide == []
    assert_no_problems(problems)


@pytest.mark.parametrize("width", [375, 1280])
def test_a_teacher_makes_a_one_time_link_for_a_learner_of_their_class(
    browser: Browser, live_server, teacher, student, width
):
    classroom = Classroom.objects.create(name="Year 9 Biology")
    classroom.teachers.add(teacher)
    Membership.objects.create(classroom=classroom, learner=student)
    page = browser.new_context(viewport={"width": width, "height": 812}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + reverse("admin:learning_attempt_learner", args=[student.pk]))
    page.get_by_role("link", name="Make a one-time reset link").click()
    problems = {"confirm": blocking_violations(page)}
    assert fits_the_screen(page)
    page.screenshot(path=f"{SCREENSHOTS}/teacher-confirm-{width}.png", full_page=True)
    page.get_by_role("button", name="Make the link").click()
    link = page.get_by_label("One-time link").input_value()
    problems["link shown"] = blocking_violations(page)
    assert fits_the_screen(page)
    page.screenshot(path=f"{SCREENSHOTS}/teacher-link-{width}.png", full_page=True)
    assert_no_problems(problems)

    learner = browser.new_context().new_page()
    learner.goto(link)
    learner.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    learner.get_by_label("New password confirmation").fill(NEW_PASSWORD)
    learner.get_by_role("button", name="Set my password").click()
    expect(learner.get_by_role("heading", name="Your password is changed")).to_be_visible()
    log_in(learner, live_server.url, student.username, NEW_PASSWORD)
