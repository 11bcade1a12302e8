"""The course map in the navigation, the footer at the foot of a short page and a first
load without a console error (issue 15), in Chromium at a phone's and a desktop's width."""

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Response, expect

from tests.browser.conftest import log_in
from tests.browser.test_accessibility import assert_no_problems, blocking_violations

pytestmark = pytest.mark.django_db(transaction=True)

WIDTHS = [375, 1280]
MAP = ["Course", "Dashboard", "Review", "Challenge", "Glossary"]


def assert_on_screen(page: Page, name: str) -> None:
    box = page.get_by_role("navigation", name="Main").get_by_text(name, exact=True).bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None, f"{name} is not shown"
    assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"], f"{name} is off screen"


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", WIDTHS)
def test_the_course_map_is_all_there_and_marks_the_page(
    browser: Browser, live_server, student, course, width, scheme
):
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    log_in(page, live_server.url, student.username)
    nav = page.get_by_role("navigation", name="Main")
    problems = {}
    for name in MAP:
        link = nav.get_by_role("link", name=name, exact=True)
        expect(link).to_be_visible()
        link.click()
        expect(nav.get_by_role("link", name=name, exact=True)).to_have_attribute(
            "aria-current", "page"
        )
        expect(nav.locator("[aria-current]")).to_have_count(1)
        for other in MAP:
            assert_on_screen(page, other)
        expect(nav.get_by_role("button", name="Log out")).to_be_in_viewport()
        problems[name] = blocking_violations(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    assert_no_problems(problems)
    context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_the_footer_sits_at_the_bottom_of_a_short_page(browser: Browser, live_server, width):
    context = browser.new_context(viewport={"width": width, "height": 1400})
    page = context.new_page()
    page.goto(f"{live_server.url}/accounts/login/")
    footer = page.locator(".site-footer").bounding_box()
    assert footer is not None
    assert page.evaluate("document.documentElement.scrollHeight") <= 1400  # a short page
    assert abs(footer["y"] + footer["height"] - 1400) <= 1
    context.close()


@pytest.mark.parametrize("logged_in", [False, True])
def test_the_first_load_of_the_course_page_has_no_console_error(
    browser: Browser, live_server, student, course, logged_in
):
    context = browser.new_context()
    page = context.new_page()
    if logged_in:
        log_in(page, live_server.url, student.username)
    errors: list[str] = []
    failed: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    page.goto(f"{live_server.url}/", wait_until="networkidle")
    # What a browser fetches on its own: the linked icons, the manifest, /favicon.ico.
    links = page.eval_on_selector_all(
        "link[rel~=icon], link[rel=apple-touch-icon], link[rel=manifest]",
        "links => links.map(link => link.href)",
    )
    assert len(links) == 4
    for url in [*links, f"{live_server.url}/favicon.ico"]:
        response = page.request.get(url)
        assert response.ok, f"{url}: {response.status}"
    assert not errors, errors
    assert not failed, failed
    context.close()
