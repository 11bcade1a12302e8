"""A refused answer (nothing picked, "abc" for a number, an empty short answer, a matching
item left unmatched) shows its message by the question, with the page around it intact:
with DEBUG on, as `make run` serves, where django-htmx's debug script replaces the whole
document with a 400, 403, 404 or 500, and with DEBUG off; for learners and in the
teacher's preview; and without JavaScript, as a whole page."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from learning import question_types, services
from learning.models import Attempt, Question, Quiz
from learning.versions import current_key
from tests.browser.conftest import log_in, wait_for_htmx
from tests.factories import (
    PASSWORD,
    LessonFactory,
    MatchingQuestionFactory,
    MultipleAnswerQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    ShortAnswerQuestionFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

QUIZ_TITLE = "Refusals"


@pytest.fixture
def quiz_of_every_refusal() -> Quiz:
    lesson = LessonFactory(topic__title=QUIZ_TITLE)
    for factory in (
        QuestionFactory,
        MultipleAnswerQuestionFactory,
        NumericQuestionFactory,
        ShortAnswerQuestionFactory,
        MatchingQuestionFactory,
    ):
        factory(topic=lesson.topic)
    return QuizFactory.create(topic=lesson.topic, question_count=5)


def refuse(page: Page, question: Question) -> None:
    """Send the answer this question's type refuses, the way a learner would."""
    form = page.locator("form.answer-form")
    if question.type == "numeric":
        form.get_by_label("Your answer").fill("abc")
    elif question.type == "matching":
        form.locator("select").first.select_option(index=1)  # the others left unmatched
    # single and multiple: nothing picked; short answer: left empty
    form.get_by_role("button", name=re.compile("Check answer")).click()


def assert_refused_in_place(page: Page, question: Question, title: str) -> None:
    panel = page.locator(".question-panel")
    expect(panel.get_by_role("alert").first).to_be_visible()
    expect(panel.locator(".answer-form")).to_contain_text(question.prompt)
    expect(page.locator("header nav")).to_be_visible()
    expect(page.get_by_role("link", name="Muscle Spasms, Explained")).to_be_visible()
    expect(page.locator("footer")).to_contain_text("not medical advice")
    assert page.title() == title


def answer_right(attempt: Attempt, question: Question) -> None:
    key = current_key(question)
    answer = question_types.get(question.type).sample_answer(key, right=True)
    services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)


def debug_script_count(page: Page) -> int:
    return page.locator("script[src*='django-htmx']").count()


@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_a_learner_sees_each_refusal_by_the_question(
    page: Page, live_server, settings, student, quiz_of_every_refusal, debug
):
    settings.DEBUG = debug
    log_in(page, live_server.url, student.username)
    attempt = services.start_attempt(learner=student, quiz=quiz_of_every_refusal)
    for position, question_id in enumerate(attempt.question_ids, start=1):
        question = Question.objects.get(pk=question_id)
        page.goto(live_server.url + reverse("learning:question", args=[attempt.pk, position]))
        wait_for_htmx(page)
        assert debug_script_count(page) == (1 if debug else 0)
        title = page.title()
        assert title.startswith(f"Question {position} of 5 · {QUIZ_TITLE}")
        refuse(page, question)
        assert_refused_in_place(page, question, title)
        expect(page.get_by_role("heading", name=f"Question {position} of 5")).to_be_focused()
        assert attempt.responses.count() == position - 1  # nothing stored for a refusal
        answer_right(attempt, question)


@pytest.mark.parametrize("debug", [True, False], ids=["debug-on", "debug-off"])
def test_the_preview_shows_each_refusal_by_the_question(
    page: Page, live_server, settings, teacher, quiz_of_every_refusal, debug
):
    settings.DEBUG = debug
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for question in Question.objects.filter(topic=quiz_of_every_refusal.topic):
        page.goto(live_server.url + reverse("admin:learning_question_preview", args=[question.pk]))
        wait_for_htmx(page)
        assert debug_script_count(page) == (1 if debug else 0)
        title = page.title()
        refuse(page, question)
        assert_refused_in_place(page, question, title)
        expect(page.get_by_role("heading", name=question.key)).to_be_focused()


def test_without_javascript_a_refusal_is_the_whole_page_again(
    browser: Browser, live_server, student, quiz_of_every_refusal
):
    page = browser.new_context(java_script_enabled=False).new_page()
    log_in(page, live_server.url, student.username)
    attempt = services.start_attempt(learner=student, quiz=quiz_of_every_refusal)
    for position, question_id in enumerate(attempt.question_ids, start=1):
        question = Question.objects.get(pk=question_id)
        page.goto(live_server.url + reverse("learning:question", args=[attempt.pk, position]))
        title = page.title()
        refuse(page, question)
        page.wait_for_load_state()
        assert_refused_in_place(page, question, title)
        answer_right(attempt, question)


def test_with_debug_on_a_server_error_still_shows_the_debug_page(
    page: Page, live_server, settings, student, quiz_of_every_refusal
):
    """django-htmx's debug script is kept for what it is for: a 500's traceback page. A
    403 (or any other 4xx) leaves the page as it is and says something went wrong."""
    settings.DEBUG = True
    log_in(page, live_server.url, student.username)
    attempt = services.start_attempt(learner=student, quiz=quiz_of_every_refusal)
    page.goto(live_server.url + reverse("learning:question", args=[attempt.pk, 1]))
    wait_for_htmx(page)
    answers = "**/questions/*/"
    status = {"code": 403}

    def fail(route) -> None:
        if route.request.method != "POST":
            route.continue_()
            return
        body = f"<html><head><title>Failure {status['code']}</title></head><body>tb</body></html>"
        route.fulfill(status=status["code"], body=body, content_type="text/html")

    page.route(answers, fail)
    page.locator("form.answer-form button[type=submit]").click()
    expect(page.locator("#htmx-error")).to_be_visible()
    expect(page.locator("header nav")).to_be_visible()
    status["code"] = 500
    page.locator("form.answer-form button[type=submit]").click()
    expect(page).to_have_title("Failure 500")
    expect(page.locator("header nav")).to_have_count(0)
