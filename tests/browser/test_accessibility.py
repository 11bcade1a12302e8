"""WCAG 2.2 AA checks in Chromium: axe-core scans of every page type, the keyboard, narrow
screens, and what a failed request shows."""

import re

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from learning import question_types, services
from learning.models import Attempt, Classroom, Membership, Question, Quiz
from learning.versions import current_key
from tests.browser.conftest import log_in, wait_for_htmx

pytestmark = pytest.mark.django_db(transaction=True)

AXE = Axe()
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
BLOCKING_IMPACTS = {"serious", "critical"}


def blocking_violations(page: Page) -> list[str]:
    results = AXE.run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} at "
        + ", ".join(str(node["target"]) for node in violation["nodes"][:3])
        for violation in results.response["violations"]
        if violation["impact"] in BLOCKING_IMPACTS
    ]


def assert_no_problems(problems: dict[str, list[str]]) -> None:
    failing = {name: found for name, found in problems.items() if found}
    listing = "\n".join(f"{name}: {line}" for name, found in failing.items() for line in found)
    assert not failing, f"axe found serious or critical violations:\n{listing}"


def answer(attempt: Attempt, question_id: int, right: bool) -> None:
    question = Question.objects.prefetch_related("choices").get(pk=question_id)
    answer = question_types.get(question.type).sample_answer(current_key(question), right=right)
    services.record_answer(attempt=attempt, question_id=question_id, answer=answer)


@pytest.fixture
def student_history(course, student):
    """One finished attempt (some right, some wrong) and one half-answered attempt."""
    finished = services.start_attempt(
        learner=student, quiz=Quiz.objects.get(topic__slug="how-muscles-work")
    )
    for index, question_id in enumerate(finished.question_ids):
        answer(finished, question_id, right=index % 3 != 0)
    open_attempt = services.start_attempt(
        learner=student, quiz=Quiz.objects.get(topic__slug="kinds-of-muscle")
    )
    answer(open_attempt, open_attempt.question_ids[0], right=False)
    finished.refresh_from_db()
    return finished, open_attempt


def learner_pages(finished: Attempt, open_attempt: Attempt) -> dict[str, str]:
    return {
        "course": reverse("learning:course"),
        "lesson": reverse("learning:lesson", args=["how-muscles-work"]),
        "lesson with a table": reverse("learning:lesson", args=["kinds-of-spasm"]),
        "glossary": reverse("learning:glossary"),
        "quiz start": reverse("learning:quiz", args=["heat"]),
        "quiz question": reverse("learning:question", args=[open_attempt.pk, 2]),
        "answered question with feedback": reverse("learning:question", args=[open_attempt.pk, 1]),
        "result": reverse("learning:result", args=[finished.pk]),
        "dashboard": reverse("learning:dashboard"),
        "review": reverse("learning:review"),
        "course challenge": reverse("learning:challenge"),
    }


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_learner_pages_have_no_serious_violations(
    browser: Browser, live_server, student, student_history, scheme
):
    finished, open_attempt = student_history
    page = browser.new_context(color_scheme=scheme).new_page()
    problems = {}
    for name, path in {"sign-up": "/signup/", "log-in": "/accounts/login/"}.items():
        page.goto(live_server.url + path)
        problems[name] = blocking_violations(page)
    log_in(page, live_server.url, student.username)
    for name, path in learner_pages(finished, open_attempt).items():
        page.goto(live_server.url + path)
        problems[name] = blocking_violations(page)
    assert_no_problems(problems)


def test_admin_pages_teachers_use_have_no_serious_violations(
    browser: Browser, live_server, teacher, course
):
    question = Question.objects.filter(type="multiple").first()
    assert question is not None, "the course has a multiple-answer question"
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    paths = {
        "admin index": reverse("admin:index"),
        "question list": reverse("admin:learning_question_changelist"),
        "question add": reverse("admin:learning_question_add"),
        "question change": reverse("admin:learning_question_change", args=[question.pk]),
        "lesson change": reverse("admin:learning_lesson_change", args=[question.topic.lesson.pk]),
        "topic progress": reverse("admin:learning_topicprogress_changelist"),
        "attempts": reverse("admin:learning_attempt_changelist"),
        "import": reverse("admin:learning_question_import"),
        "question preview": reverse("admin:learning_question_preview", args=[question.pk]),
        "quiz preview": reverse("admin:learning_quiz_preview", args=[question.topic.quiz.pk]),
        "classes": reverse("admin:learning_classroom_changelist"),
        "class add": reverse("admin:learning_classroom_add"),
        "item analysis": reverse("admin:learning_itemanalysis_changelist"),
        "progress report": reverse("admin:learning_progressreport_changelist"),
    }
    problems = {}
    for name, path in paths.items():
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_be_visible()
        problems[name] = blocking_violations(page)
    assert_no_problems(problems)


def test_a_whole_quiz_can_be_taken_with_the_keyboard_alone(
    page: Page, live_server, student, course
):
    log_in(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/topics/heat/quiz/")
    page.get_by_role("button", name="Start the quiz").focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/questions/1/")
    wait_for_htmx(page)
    answered = 0
    in_answer = "document.activeElement.closest('fieldset') !== null"
    while True:
        if answered == 0:
            # Tab from the top of the page until the first answer input has focus.
            page.locator("#main").focus()
            for _ in range(30):
                page.keyboard.press("Tab")
                if page.evaluate(in_answer):
                    break
        else:
            # After "Next question" the focus is on the new question's heading, and one
            # Tab from there reaches its first answer.
            page.keyboard.press("Tab")
            assert page.evaluate(in_answer), f"one Tab from question {answered + 1}'s heading"
        kind = page.evaluate("document.activeElement.type")
        if kind == "text":
            page.keyboard.type("3")
        elif kind == "select-one":
            # A matching question: choose a match for each item, moving on with Tab.
            items = page.locator("fieldset select").count()
            for index in range(items):
                page.keyboard.press("ArrowDown")
                if index < items - 1:
                    page.keyboard.press("Tab")
        else:
            page.keyboard.press("Space")  # ticks the focused radio or checkbox
        expect(page.locator(":focus")).to_be_visible()
        page.keyboard.press("Enter") if kind == "text" else _tab_to_and_press(page, "Check answer")
        feedback = page.locator("#feedback")
        expect(feedback).to_be_focused()
        answered += 1
        if page.get_by_role("link", name="See your result").count():
            _tab_to_and_press(page, "See your result")
            break
        _tab_to_and_press(page, "Next question")
        heading = page.get_by_role("heading", name=f"Question {answered + 1} of", exact=False)
        expect(heading).to_be_focused()
        expect(page).to_have_title(re.compile(rf"^Question {answered + 1} of \d+ · Heat"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("You scored")
    expect(page).to_have_title(re.compile(r"^You scored \d+% · Heat"))
    assert Attempt.objects.get(learner=student).is_finished


def _tab_to_and_press(page: Page, name: str) -> None:
    for _ in range(40):
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        if focused.startswith(name):
            outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline != "none", f"no visible focus on {name!r}"
            page.keyboard.press("Enter")
            return
    raise AssertionError(f"could not reach {name!r} with the Tab key")


@pytest.mark.parametrize("width", [375, 1280])
def test_no_page_scrolls_sideways(browser: Browser, live_server, student, student_history, width):
    finished, open_attempt = student_history
    page = browser.new_context(viewport={"width": width, "height": 800}).new_page()
    log_in(page, live_server.url, student.username)
    wide = {}
    for name, path in learner_pages(finished, open_attempt).items():
        page.goto(live_server.url + path)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[name] = overflow
    assert wide == {}


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_a_lesson_with_a_diagram_is_accessible_and_fits(
    browser: Browser, live_server, course, scheme, width
):
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    page.goto(live_server.url + reverse("learning:lesson", args=["heat"]))
    figure = page.locator("figure.diagram")
    figure.scroll_into_view_if_needed()
    image = figure.locator("img")
    expect(image).to_have_attribute("alt", re.compile(r"staircase"))
    # The picture loaded (the page's policy lets it through), and fits the screen.
    loaded = "img => img.complete && img.naturalWidth > 0"
    page.wait_for_function(loaded, arg=image.element_handle())
    box = figure.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= width
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    page.get_by_text("Describe this diagram").click()
    expect(figure.get_by_text("Four steps climb")).to_be_visible()
    assert_no_problems({f"heat lesson at {width} px, {scheme}": blocking_violations(page)})


def test_a_failed_request_shows_a_message(page: Page, live_server, student, course):
    log_in(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/topics/heat/")
    wait_for_htmx(page)
    page.route("**/read/", lambda route: route.abort())
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_role("alert")).to_contain_text("Something went wrong reaching the server")
    page.unroute("**/read/")
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("You have read this lesson.")).to_be_visible()
    expect(page.locator("#htmx-error")).to_be_hidden()


def test_an_answer_in_flight_shows_a_loading_state(page: Page, live_server, student, course):
    log_in(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/topics/heat/quiz/")
    page.get_by_role("button", name="Start the quiz").click()
    wait_for_htmx(page)
    held = []
    page.route(
        "**/questions/*/",
        lambda route: held.append(route) if route.request.method == "POST" else route.continue_(),
    )
    choices = page.locator("fieldset input[type=radio], fieldset input[type=checkbox]")
    matches = page.locator("fieldset select")
    if choices.count():
        choices.first.check()
    elif matches.count():  # a matching question drawn first
        for index in range(matches.count()):
            matches.nth(index).select_option(index=1)
    else:
        page.get_by_label("Your answer").fill("3")
    button = page.get_by_role("button", name="Check answer")
    button.click()
    expect(button).to_be_disabled()
    expect(page.locator(".htmx-indicator")).to_be_visible()
    page.wait_for_timeout(50)
    assert held, "the answer was never sent"
    held[0].continue_()
    expect(page.locator("#feedback")).to_be_visible()


def test_teacher_pages_fit_375_px_and_stay_accessible(
    browser: Browser, live_server, teacher, student, student_history
):
    finished, _ = student_history
    classroom = Classroom.objects.create(name="Year 9 Biology")
    classroom.teachers.add(teacher)
    Membership.objects.create(classroom=classroom, learner=student)
    question = Question.objects.filter(type="single").first()
    assert question is not None
    page = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    paths = {
        "question list": reverse("admin:learning_question_changelist"),
        "learner page": reverse("admin:learning_attempt_learner", args=[student.pk]),
        "attempt page": reverse("admin:learning_attempt_change", args=[finished.pk]),
        "item analysis": reverse("admin:learning_itemanalysis_changelist"),
        "progress report": reverse("admin:learning_progressreport_changelist"),
        "class page": reverse("admin:learning_classroom_change", args=[classroom.pk]),
        "regrade": reverse("admin:learning_question_regrade", args=[question.pk]),
    }
    wide, problems = {}, {}
    for name, path in paths.items():
        page.goto(live_server.url + path)
        expect(page.locator("main")).to_be_visible()
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        if overflow > 0:
            wide[name] = overflow
        problems[name] = blocking_violations(page)  # a table that scrolls can be reached
    assert wide == {}
    assert_no_problems(problems)


def test_the_import_preview_fits_375_px(browser: Browser, live_server, teacher, course):
    # A Moodle file's preview: long keys and prompts, and an update with its diff.
    known = Question.objects.filter(topic__slug="heat").first()
    assert known is not None
    gift = (
        "$CATEGORY: heat\n"
        f"::{known.key}::Which of these describes what heat does to a "
        "tired muscle after a long run? {=It relaxes ~It tightens}\n\n"
        "::A very long question name that a Moodle teacher gave::Pick one of these "
        "options, please. {=first ~second}\n"
    )
    page = browser.new_context(viewport={"width": 375, "height": 812}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Log in").click()
    page.goto(live_server.url + reverse("admin:learning_question_import"))
    page.set_input_files(
        "input[type=file]",
        files={"name": "moodle.gift", "mimeType": "text/plain", "buffer": gift.encode()},
    )
    page.get_by_role("button", name="Preview the import").click()
    expect(page.get_by_text("prompt:").first).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow == 0
    assert_no_problems({"import preview": blocking_violations(page)})


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_the_error_pages_are_accessible(browser: Browser, live_server, width, scheme):
    """The 404 page (debug is off under the live server), and the CSRF page a form sent
    without its token gets: in the site's look, with no serious violation."""
    page = browser.new_context(
        viewport={"width": width, "height": 800}, color_scheme=scheme
    ).new_page()
    problems = {}
    response = page.goto(f"{live_server.url}/no-such-page/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Page not found")).to_be_visible()
    problems["404"] = blocking_violations(page)
    page.set_content("")  # a form posted from nowhere: no CSRF cookie, no token
    page.evaluate(
        """url => { const form = document.createElement("form"); form.method = "post";
        form.action = url; document.body.append(form); form.submit(); }""",
        f"{live_server.url}/dashboard/",
    )
    expect(page.get_by_role("heading", name="This form has expired")).to_be_visible()
    problems["403 CSRF"] = blocking_violations(page)
    assert_no_problems(
        {f"{name} at {width} px, {scheme}": found for name, found in problems.items()}
    )
