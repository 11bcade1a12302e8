"""The question page's answers table in Chromium: it fits a 1280 px screen with the columns
of each type (and with every column when JavaScript is off), nothing is cut off at 375 px,
and changing the type, adding a row and ticking an option behave as a teacher expects."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from learning.models import Choice, Question
from tests.factories import FACTORY_BY_TYPE, PASSWORD, LessonFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

EVERY_ROW_FIELD = [
    "text",
    "is_correct",
    "match_text",
    "numeric_value",
    "numeric_tolerance",
    "credit",
    "feedback",
]
OPTIONS = ["text", "is_correct", "credit", "feedback"]
COLUMNS_BY_TYPE = {
    "single": OPTIONS,
    "multiple": OPTIONS,
    "true_false": OPTIONS,
    "numeric": ["numeric_value", "numeric_tolerance", "credit", "feedback"],
    "short_answer": ["text", "credit", "feedback"],
    "matching": ["text", "match_text"],
}

MEASURE = """() => {
  const page = document.documentElement;
  const wrapper = document.querySelector("#choices-group .wrapper");
  const headers = [...document.querySelectorAll("#choices-group thead th")]
    .filter((th) => th.offsetParent !== null && !th.classList.contains("original"))
    .map((th) => ({
      column: [...th.classList].find((name) => name.startsWith("column-")) || "delete",
      left: th.getBoundingClientRect().left,
      right: th.getBoundingClientRect().right,
    }));
  const hint = document.querySelector(".answers-scroll-hint");
  return {
    pageOverflow: page.scrollWidth - page.clientWidth,
    tableOverflow: wrapper.scrollWidth - wrapper.clientWidth,
    tableScrolls: getComputedStyle(wrapper).overflowX === "auto",
    hintShown: hint !== null && hint.offsetParent !== null,
    headers,
    viewport: window.innerWidth,
  };
}"""


@pytest.fixture
def question_per_type(transactional_db) -> dict[str, Question]:
    topic = TopicFactory(slug="heat", title="Heat")
    LessonFactory(topic=topic)
    questions = {value: factory.create(topic=topic) for value, factory in FACTORY_BY_TYPE.items()}
    Choice.objects.create(
        question=questions["numeric"],
        numeric_value=Decimal(14),
        numeric_tolerance=Decimal(1),
        credit=Decimal(50),
        feedback="Close: the value is 15.",
    )
    return questions


def teacher_page(browser: Browser, live_server, teacher, width: int, javascript: bool) -> Page:
    context = browser.new_context(
        viewport={"width": width, "height": 900}, java_script_enabled=javascript
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/admin/")
    return page


def change_url(live_server, question: Question) -> str:
    return live_server.url + reverse("admin:learning_question_change", args=[question.pk])


def shown_columns(measured: dict) -> list[str]:
    return [header["column"] for header in measured["headers"]]


def test_at_1280_each_type_shows_its_own_columns_and_all_fit(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    for value, question in question_per_type.items():
        page.goto(change_url(live_server, question))
        measured = page.evaluate(MEASURE)
        expected = ["column-order", *(f"column-{name}" for name in COLUMNS_BY_TYPE[value])]
        assert shown_columns(measured) == [*expected, "delete"], value
        assert measured["pageOverflow"] <= 0, value
        assert measured["tableOverflow"] <= 0, value
        for header in measured["headers"]:
            assert header["left"] >= 0, (value, header)
            assert header["right"] <= measured["viewport"], (value, header)
        expect(page.get_by_role("heading", name="Answers:")).not_to_contain_text("·")


def test_at_1280_without_javascript_every_column_fits(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=False)
    for value, question in question_per_type.items():
        page.goto(change_url(live_server, question))
        measured = page.evaluate(MEASURE)
        every = ["column-order", *(f"column-{name}" for name in EVERY_ROW_FIELD), "delete"]
        assert shown_columns(measured) == every, value
        assert measured["pageOverflow"] <= 0, value
        assert measured["tableOverflow"] <= 0, value
        for header in measured["headers"]:
            assert header["right"] <= measured["viewport"], (value, header)


@pytest.mark.parametrize("javascript", [True, False], ids=["javascript", "no-javascript"])
def test_at_375_nothing_is_cut_off(
    browser: Browser, live_server, teacher, question_per_type, javascript
):
    page = teacher_page(browser, live_server, teacher, 375, javascript=javascript)
    urls = [change_url(live_server, question) for question in question_per_type.values()]
    for url in [*urls, live_server.url + reverse("admin:learning_question_add")]:
        page.goto(url)
        measured = page.evaluate(MEASURE)
        assert measured["pageOverflow"] <= 0, url
        if measured["tableOverflow"] > 0:
            # what does not fit scrolls inside the table, and the page says so
            assert measured["tableScrolls"], url
            assert measured["hintShown"], url


def test_picking_a_type_adding_a_row_and_ticking_an_option(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(live_server.url + reverse("admin:learning_question_add"))
    rows = page.locator("#choices-group tbody tr.form-row:not(.empty-form)")
    expect(rows).to_have_count(4)
    every = ["column-order", *(f"column-{name}" for name in EVERY_ROW_FIELD), "delete"]
    assert shown_columns(page.evaluate(MEASURE)) == every  # no type picked yet

    page.get_by_label("Type").select_option("numeric")
    numeric = ["column-order", *(f"column-{name}" for name in COLUMNS_BY_TYPE["numeric"])]
    assert shown_columns(page.evaluate(MEASURE)) == [*numeric, "delete"]
    expect(page.get_by_label("Choice 1: Credit %")).to_have_value("")  # to be typed

    page.get_by_role("button", name="Add another Answer").click()
    expect(rows).to_have_count(5)
    expect(rows.last.locator("td.field-text")).to_be_hidden()
    expect(rows.last.locator("td.field-numeric_value")).to_be_visible()

    page.get_by_label("Type").select_option("single")
    page.get_by_label("Topic").select_option(label="Heat")
    page.get_by_label("Prompt").fill("Which mineral starts a contraction?")
    page.get_by_label("Explanation").fill("Calcium released in the cell starts it.")
    page.get_by_label("Choice 1: Text").fill("Calcium")
    page.get_by_label("Choice 1: Correct").check()
    expect(page.get_by_label("Choice 1: Credit %")).to_have_value("100")
    page.get_by_label("Choice 2: Text").fill("Iron")
    page.get_by_label("Choice 2: Correct").check()
    page.get_by_label("Choice 2: Correct").uncheck()
    expect(page.get_by_label("Choice 2: Credit %")).to_have_value("0")
    page.get_by_label("Choice 3: Text").fill("Zinc")
    page.get_by_label("Choice 3: Credit %").fill("25")
    page.get_by_label("Choice 3: Correct").check()
    page.get_by_label("Choice 3: Correct").uncheck()
    expect(page.get_by_label("Choice 3: Credit %")).to_have_value("25")  # typed: kept
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()

    question = Question.objects.get(prompt="Which mineral starts a contraction?")
    saved = [(row.text, row.is_correct, int(row.credit)) for row in question.choices.all()]
    assert saved == [("Calcium", True, 100), ("Iron", False, 0), ("Zinc", False, 25)]


def test_the_question_page_links_to_its_preview(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(change_url(live_server, question_per_type["single"]))
    page.locator(".object-tools").get_by_role("link", name="Preview").click()
    expect(page.get_by_role("button", name="Check answer")).to_be_visible()


def test_a_matching_question_written_in_the_page_saves(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(live_server.url + reverse("admin:learning_question_add"))
    page.get_by_label("Topic").select_option(label="Heat")
    page.get_by_label("Type").select_option("matching")
    page.get_by_label("Prompt").fill("Match each sign to what it suggests.")
    page.get_by_label("Choice 1: Text").fill("Cramp after long sweaty exercise")
    page.get_by_label("Choice 1: Matches").fill("Heat cramp")
    page.get_by_label("Choice 2: Text").fill("Confusion and hot dry skin")
    page.get_by_label("Choice 2: Matches").fill("Heat stroke")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    question = Question.objects.get(prompt="Match each sign to what it suggests.")
    assert list(question.choices.values_list("text", "match_text")) == [
        ("Cramp after long sweaty exercise", "Heat cramp"),
        ("Confusion and hot dry skin", "Heat stroke"),
    ]


def test_moving_the_tick_of_a_saved_option_moves_its_credit(
    browser: Browser, live_server, teacher, question_per_type
):
    question = question_per_type["single"]
    right = question.choices.filter(is_correct=True).first()
    wrong = question.choices.filter(is_correct=False).first()
    assert right and wrong
    Choice.objects.filter(pk=wrong.pk).update(credit=Decimal(0))
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(change_url(live_server, question))
    rows = page.locator("#choices-group tbody tr.has_original")
    right_row = rows.filter(has=page.locator(f"input[value='{right.pk}']"))
    wrong_row = rows.filter(has=page.locator(f"input[value='{wrong.pk}']"))
    right_row.locator("td.field-is_correct input").uncheck()
    wrong_row.locator("td.field-is_correct input").check()
    expect(right_row.locator("td.field-credit input:not([type=hidden])")).to_have_value("0")
    expect(wrong_row.locator("td.field-credit input:not([type=hidden])")).to_have_value("100")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_be_visible()
    right.refresh_from_db()
    wrong.refresh_from_db()
    assert (right.is_correct, int(right.credit)) == (False, 0)
    assert (wrong.is_correct, int(wrong.credit)) == (True, 100)


def test_at_1280_the_question_lists_preview_links_are_on_screen(
    browser: Browser, live_server, teacher, question_per_type
):
    long_title = TopicFactory(title="Diagnosis, treatment, and when to get medical help")
    for factory in FACTORY_BY_TYPE.values():
        factory.create(topic=long_title)
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(live_server.url + reverse("admin:learning_question_changelist"))
    box = page.locator("#changelist .results").bounding_box()
    links = page.locator("#result_list td.field-preview_link a")
    assert box and links.count() == 2 * len(FACTORY_BY_TYPE)
    for index in range(links.count()):
        link = links.nth(index).bounding_box()
        assert link and link["x"] + link["width"] <= box["x"] + box["width"], index


def test_the_numeric_fields_show_only_for_a_numeric_question(
    browser: Browser, live_server, teacher, question_per_type
):
    page = teacher_page(browser, live_server, teacher, 1280, javascript=True)
    page.goto(change_url(live_server, question_per_type["single"]))
    numeric_section = page.get_by_role("heading", name="Numeric questions")
    expect(numeric_section).to_be_hidden()
    expect(page.locator("#id_numeric_answer")).to_be_hidden()
    expect(page.get_by_label("Explanation")).to_be_visible()

    page.get_by_label("Type").select_option("numeric")
    expect(numeric_section).to_be_visible()
    expect(page.locator("#id_numeric_answer")).to_be_visible()

    page.goto(change_url(live_server, question_per_type["numeric"]))
    expect(page.locator("#id_numeric_answer")).to_be_visible()
