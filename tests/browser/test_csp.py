"""The Content Security Policy holds in a real browser: no page, learner's or teacher's,
has anything blocked by it (a blocked script or style would be a broken page)."""

import pytest
from django.urls import reverse
from playwright.sync_api import Browser

from learning import services
from learning.models import Question, Quiz
from tests.browser.answers import fill_answer
from tests.browser.conftest import log_in, wait_for_htmx

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  const where = `${event.sourceFile}:${event.lineNumber}`;
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI} ${where}`);
});
"""


def visit(page, url: str) -> list[str]:
    page.goto(url)
    page.wait_for_load_state("networkidle")
    return page.evaluate("window.__cspViolations")


def test_no_page_breaks_the_content_security_policy(
    browser: Browser, live_server, student, teacher, course
):
    quiz = Quiz.objects.get(topic__slug="heat")
    attempt = services.start_attempt(learner=student, quiz=quiz)
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    violations = {}
    for path in ("/", "/signup/", "/accounts/login/"):
        violations[path] = visit(page, live_server.url + path)
    log_in(page, live_server.url, student.username)
    for path in (
        "/",
        "/topics/heat/",
        reverse("learning:question", args=[attempt.pk, 1]),
        "/dashboard/",
        "/review/",
        "/challenge/",
    ):
        violations[path] = visit(page, live_server.url + path)
    # an answer swapped in by htmx, and its feedback
    page.goto(live_server.url + reverse("learning:question", args=[attempt.pk, 1]))
    wait_for_htmx(page)
    # Whatever type the draw put first (a matching question has neither boxes nor one
    # "Your answer" field: the test waited 30 s for it when the draw put one first).
    fill_answer(page, Question.objects.get(pk=attempt.question_ids[0]), right=True)

    page.get_by_role("button", name="Check answer").click()
    page.locator("#feedback").wait_for()
    violations["answer"] = page.evaluate("window.__cspViolations")

    teacher_page = browser.new_context()
    teacher_page.add_init_script(WATCH)
    admin = teacher_page.new_page()
    admin.goto(f"{live_server.url}/admin/login/")
    admin.get_by_label("Username").fill(teacher.username)
    admin.get_by_label("Password").fill("correct-horse-battery")
    admin.get_by_role("button", name="Log in").click()
    question = Question.objects.filter(topic__slug="heat").first()
    assert question is not None, "the heat topic has questions"
    for name, args in (
        ("admin:index", []),
        ("admin:learning_question_changelist", []),
        ("admin:learning_question_add", []),
        ("admin:learning_question_change", [question.pk]),
        ("admin:learning_question_preview", [question.pk]),
        ("admin:learning_itemanalysis_changelist", []),
        ("admin:learning_progressreport_changelist", []),
    ):
        violations[name] = visit(admin, live_server.url + reverse(name, args=args))
    assert {where: found for where, found in violations.items() if found} == {}
