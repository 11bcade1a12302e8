"""What a student sees on a phone (375 px): nothing the answer needs hides off screen."""

import pytest
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect

from tests.browser.conftest import log_in, wait_for_htmx
from tests.factories import LessonFactory, MatchingQuestionFactory, QuizFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

PHONE: ViewportSize = {"width": 375, "height": 800}
PAIRS = [
    ("Heat cramps", "Painful spasms during or after hard effort in the heat"),
    ("Heat exhaustion", "The body struggles to cool, but its cooling has not failed"),
    ("Heat stroke", "Cooling fails, and it is a medical emergency that needs help now"),
]


def assert_fully_on_screen(page: Page, cell: Locator) -> None:
    expect(cell).to_be_visible()
    box = cell.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"] + 0.5, box
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def assert_every_pair_shown(page: Page, table: Locator) -> None:
    for label in ("Your match", "Right match"):
        assert table.locator(f'td[data-label="{label}"]').count() == len(PAIRS)
    for _item, right in PAIRS:
        cell = table.locator('td[data-label="Right match"]', has_text=right)
        assert_fully_on_screen(page, cell)
        # The label says which column this is, now that the header row is hidden.
        label = cell.evaluate("cell => getComputedStyle(cell, '::before').content")
        assert "Right match" in label


def test_a_matching_answer_shows_every_right_match_on_a_phone(
    browser: Browser, live_server, student
):
    topic = TopicFactory(slug="heat-illness", title="Heat illness")
    LessonFactory(topic=topic)
    MatchingQuestionFactory(topic=topic, key="ladder", pairs=PAIRS)
    QuizFactory(topic=topic, question_count=1, shuffle_questions=False)
    page = browser.new_context(viewport=PHONE).new_page()
    log_in(page, live_server.url, student.username)

    page.goto(f"{live_server.url}/topics/{topic.slug}/quiz/")
    page.get_by_role("button", name="Start the quiz").click()
    page.wait_for_url("**/questions/1/")
    wait_for_htmx(page)
    # Every item given the next item's match: all three wrong.
    for index, (item, _match) in enumerate(PAIRS):
        wrong = PAIRS[(index + 1) % len(PAIRS)][1]
        page.get_by_label(item).select_option(wrong)
    page.get_by_role("button", name="Check answer").click()

    feedback = page.locator("#feedback")
    expect(feedback).to_contain_text("Right match")
    assert_every_pair_shown(page, feedback.locator("table.match-review"))

    page.get_by_role("link", name="See your result").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("You scored")
    assert_every_pair_shown(page, page.locator("table.match-review"))
