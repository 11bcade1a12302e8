"""The htmx client and a 503 "busy, not saved" (static/js/site.js): it waits Retry-After
seconds and sends the answer once more; if that is refused too, it says so and leaves the
page, and the learner's input, as they were."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, Route, expect

from learning import services
from learning.models import Attempt, Question, Quiz, Response
from tests.browser.answers import fill_answer
from tests.browser.conftest import log_in, wait_for_htmx

pytestmark = pytest.mark.django_db(transaction=True)

BUSY_BODY = "The site is very busy right now, so this was NOT saved."


@pytest.fixture
def attempt(course, student) -> Attempt:
    quiz = Quiz.objects.get(topic__slug="how-muscles-work")
    return services.start_attempt(learner=student, quiz=quiz)


def refuse_answers(page: Page, times: int) -> list[str]:
    """Answer the first `times` answer POSTs with a 503 (Retry-After: 1); pass the rest."""
    seen: list[str] = []

    def handle(route: Route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        seen.append(route.request.headers.get("x-busy-retry", ""))
        if len(seen) <= times:
            route.fulfill(status=503, headers={"Retry-After": "1"}, body=BUSY_BODY)
        else:
            route.continue_()

    page.route("**/attempts/**", handle)
    return seen


def open_first_question(page: Page, live_server, attempt: Attempt) -> Question:
    log_in(page, live_server.url, "ada")
    page.goto(live_server.url + reverse("learning:question", args=[attempt.pk, 1]))
    wait_for_htmx(page)
    question = Question.objects.prefetch_related("choices").get(pk=attempt.question_ids[0])
    fill_answer(page, question, right=True)
    return question


def test_one_503_is_retried_once_and_the_answer_is_stored(page: Page, live_server, attempt):
    open_first_question(page, live_server, attempt)
    seen = refuse_answers(page, times=1)
    page.get_by_role("button", name="Check answer").click()
    expect(page.locator("#feedback")).to_be_visible(timeout=10_000)
    assert seen == ["", "1"]  # the first try, then one retry
    expect(page.locator("#htmx-busy")).to_be_hidden()
    expect(page.locator("#htmx-error")).to_be_hidden()
    assert Response.objects.filter(attempt=attempt).count() == 1


def test_two_503s_say_not_saved_and_keep_the_input(page: Page, live_server, attempt):
    open_first_question(page, live_server, attempt)
    seen = refuse_answers(page, times=2)
    filled = page.locator("#question-panel form").evaluate(
        "form => new URLSearchParams(new FormData(form)).toString()"
    )
    page.get_by_role("button", name="Check answer").click()
    expect(page.locator("#htmx-busy")).to_be_visible(timeout=10_000)
    expect(page.locator("#htmx-busy")).to_contain_text("NOT saved")
    expect(page.locator("#htmx-error")).to_be_hidden()
    assert seen == ["", "1"]  # no third try on its own
    kept = page.locator("#question-panel form").evaluate(
        "form => new URLSearchParams(new FormData(form)).toString()"
    )
    assert kept == filled
    assert Response.objects.filter(attempt=attempt).count() == 0

    page.get_by_role("button", name="Check answer").click()  # the learner sends it again
    expect(page.locator("#feedback")).to_be_visible(timeout=10_000)
    expect(page.locator("#htmx-busy")).to_be_hidden()
    assert Response.objects.filter(attempt=attempt).count() == 1
