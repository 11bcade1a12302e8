"""Learners' tables on a phone (375 px) are labelled cards with nothing off screen; at
1280 px they are still tables. Also the lesson's title before its contents list, the way
back to a lesson after signing up, and a refused class code, as a browser shows them."""

from typing import Literal

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from learning import services
from learning.models import Attempt, Classroom, Quiz
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import answer, assert_no_problems, blocking_violations

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 375, "height": 800}
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
TOPIC_LABELS = ["Lesson", "Best score", "Attempts", "Recent scores", "Mastery"]
HISTORY_LABELS = ["Date", "Topic", "Score", "Result"]
# A value counts as shown when it sits inside the screen, not cut off by its card.
FITS = """element => {
  const box = element.getBoundingClientRect();
  const fitsCell = [...element.querySelectorAll('*')].every(inner => {
    const r = inner.getBoundingClientRect();
    return r.width === 0 || (r.left >= box.left - 3 && r.right <= box.right + 3);
  });
  return box.left >= 0 && box.right <= window.innerWidth + 0.5 && fitsCell
    && element.scrollWidth <= element.clientWidth + 1;
}"""


@pytest.fixture
def dashboard_history(course, student) -> list[Attempt]:
    """Two finished quizzes, one with a long title, so both tables have rows to show."""
    finished = []
    for slug in ("how-muscles-work", "diagnosis-and-treatment"):
        attempt = services.start_attempt(learner=student, quiz=Quiz.objects.get(topic__slug=slug))
        for index, question_id in enumerate(attempt.question_ids):
            answer(attempt, question_id, right=index % 2 == 0)
        finished.append(services.finish_attempt(attempt=attempt))
    return finished


def phone_page(browser: Browser, scheme: Literal["light", "dark"] = "light") -> Page:
    return browser.new_context(viewport=PHONE, color_scheme=scheme).new_page()


def assert_nothing_scrolls_sideways(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    for wrap in page.locator(".table-wrap").all():
        assert wrap.evaluate("w => w.scrollWidth - w.clientWidth") <= 0, wrap.inner_html()[:200]


def assert_rows_are_labelled_cards(page: Page, table: Locator, labels: list[str]) -> None:
    expect(table).to_be_visible()
    # The header row is there for screen readers, not shown: each value carries its name.
    assert table.locator("thead").evaluate("h => h.getBoundingClientRect().height") <= 1
    rows = table.locator("tbody tr")
    assert rows.count() > 0
    for row in rows.all():
        for label in labels:
            cell = row.locator(f'td[data-label="{label}"]')
            expect(cell).to_be_visible()
            cell.scroll_into_view_if_needed()
            assert cell.evaluate(FITS), f"{label} in {row.inner_text()!r} does not fit"
            shown = cell.evaluate("c => getComputedStyle(c, '::before').content")
            assert label in shown, shown
            # The label and the value sit side by side, not on top of each other.
            assert cell.evaluate("c => c.getBoundingClientRect().height") >= 16
    assert_nothing_scrolls_sideways(page)


def test_the_dashboard_tables_are_labelled_cards_on_a_phone(
    browser: Browser, live_server, student, dashboard_history
):
    page = phone_page(browser)
    log_in(page, live_server.url, student.username)
    topics = page.locator("table.progress-table")
    assert_rows_are_labelled_cards(page, topics, TOPIC_LABELS)
    # The topic heads its card, above the values.
    first = topics.locator("tbody tr").first
    heading = first.locator("th").bounding_box()
    mastery = first.locator('td[data-label="Mastery"]').bounding_box()
    assert heading and mastery and heading["y"] < mastery["y"]
    expect(first.locator('td[data-label="Mastery"] progress')).to_be_visible()
    history = page.locator("table.history-table")
    assert_rows_are_labelled_cards(page, history, HISTORY_LABELS)
    expect(history).to_contain_text(dashboard_history[1].quiz.title)


def test_the_results_review_fits_a_phone(
    browser: Browser, live_server, student, dashboard_history
):
    page = phone_page(browser)
    log_in(page, live_server.url, student.username)
    for attempt in dashboard_history:
        page.goto(live_server.url + reverse("learning:result", args=[attempt.pk]))
        expect(page.get_by_role("heading", level=1)).to_contain_text("You scored")
        assert_nothing_scrolls_sideways(page)
        for item in page.locator(".review-item").all():
            assert item.evaluate(FITS), item.inner_text()[:100]
        for table in page.locator(".review-item table").all():
            labels = table.locator("td[data-label]")
            for cell in labels.all():
                assert cell.evaluate("c => getComputedStyle(c, '::before').content") != "none"


def test_the_dashboard_tables_are_tables_on_a_desktop(
    browser: Browser, live_server, student, dashboard_history
):
    page = browser.new_context(viewport=DESKTOP).new_page()
    log_in(page, live_server.url, student.username)
    for selector, labels in (
        ("table.progress-table", TOPIC_LABELS),
        ("table.history-table", HISTORY_LABELS),
    ):
        table = page.locator(selector)
        assert table.evaluate("t => getComputedStyle(t).display") == "table"
        for label in labels:
            expect(table.get_by_role("columnheader", name=label)).to_be_visible()
        for cell in table.locator("td[data-label]").all():
            assert cell.evaluate("c => getComputedStyle(c, '::before').content") == "none"
        # A row's values share one line.
        first = table.locator("tbody tr").first
        tops = {
            round(cell.evaluate("c => c.getBoundingClientRect().top"))
            for cell in first.locator("td").all()
        }
        assert len(tops) == 1, tops
    assert_nothing_scrolls_sideways(page)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_phone_dashboard_and_lesson_stay_accessible(
    browser: Browser, live_server, student, dashboard_history, scheme
):
    page = phone_page(browser, scheme)
    log_in(page, live_server.url, student.username)
    problems = {f"dashboard at 375 px, {scheme}": blocking_violations(page)}
    page.goto(live_server.url + reverse("learning:lesson", args=["how-muscles-work"]))
    problems[f"lesson at 375 px, {scheme}"] = blocking_violations(page)
    assert_no_problems(problems)


def test_the_lessons_title_comes_before_its_contents_on_a_phone(
    browser: Browser, live_server, course
):
    page = phone_page(browser)
    page.goto(live_server.url + reverse("learning:lesson", args=["how-muscles-work"]))
    title = page.get_by_role("heading", level=1)
    contents = page.get_by_role("navigation", name="In this lesson")
    expect(title).to_be_in_viewport()
    title_box, contents_box = title.bounding_box(), contents.bounding_box()
    assert title_box and contents_box
    assert title_box["y"] + title_box["height"] <= contents_box["y"]
    # In reading order too: the title, then the contents, then the lesson.
    headings = page.locator("main h1, main h2").all_inner_texts()
    assert headings[0] == title.inner_text()
    assert headings[1] == "In this lesson"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0


def test_the_lessons_contents_sit_beside_it_on_a_desktop(browser: Browser, live_server, course):
    page = browser.new_context(viewport=DESKTOP).new_page()
    page.goto(live_server.url + reverse("learning:lesson", args=["how-muscles-work"]))
    title = page.get_by_role("heading", level=1).bounding_box()
    contents = page.get_by_role("navigation", name="In this lesson").bounding_box()
    prose = page.locator(".prose").bounding_box()
    assert title and contents and prose
    assert contents["x"] + contents["width"] <= title["x"]
    assert abs(contents["y"] - title["y"]) < 60
    assert prose["x"] == pytest.approx(title["x"], abs=1) and prose["y"] > title["y"]
    # Still in view (sticky) after scrolling down the lesson.
    page.mouse.wheel(0, 1500)
    expect(page.get_by_role("navigation", name="In this lesson")).to_be_in_viewport()


def test_signing_up_from_a_lesson_comes_back_to_it(browser: Browser, live_server, course):
    page = phone_page(browser)
    lesson = live_server.url + reverse("learning:lesson", args=["how-muscles-work"])
    page.goto(lesson)
    page.locator("#read-status").get_by_role("link", name="sign up").click()
    page.get_by_label("Username").fill("newcomer")
    page.get_by_label("Password", exact=True).fill("a-long-pass-phrase")
    page.get_by_label("Password confirmation").fill("a-long-pass-phrase")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url(lesson)
    expect(page.get_by_text("You are back where you were.")).to_be_visible()
    expect(page.get_by_role("button", name="Mark as read")).to_be_visible()


def test_a_wrong_class_code_leaves_the_dashboards_address(browser: Browser, live_server, student):
    Classroom.objects.create(name="Year 10 Biology")
    page = phone_page(browser)
    log_in(page, live_server.url, student.username)
    page.get_by_label("Class code").fill("NOPE-NOPE")
    page.get_by_role("button", name="Join the class").click()
    expect(page.locator(".field-error")).to_be_visible()
    assert page.url == live_server.url + reverse("learning:dashboard")
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Your progress")
