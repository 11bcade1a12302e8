"""One browser journey in Chromium inside the LMS's frame (issue 17).

A teacher places a topic quiz in the test LMS's course by deep linking; a learner opens
that link, takes the quiz signed in and their score reaches the LMS's gradebook; all of it
inside the LMS's iframe, through the login's cookie check, with nothing blocked by our
Content Security Policy. The browser itself refuses the same pages framed by a site that
is not the registered platform, and any page framed outside an LTI session. Screenshots
of the picker, the quiz and its result in the frame, at a desktop's and a phone's width,
go to the test's tmp dir.
"""

import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Frame,
    Page,
    Response,
    ViewportSize,
    expect,
)

from learning.lti import grades
from learning.models import Attempt, Question
from learning.templatetags.learning_tags import percent
from tests.browser.answers import fill_answer
from tests.browser.conftest import wait_for_htmx
from tests.lti_platform import DL, INSTRUCTOR, LTI, FakePlatform, serve_pages

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
DESKTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 375, "height": 740}


@dataclass
class Lms:
    platform: FakePlatform
    origin: str  # where the LMS's pages are served, the registered framing platform
    stranger: str  # the same framing page on an origin nobody registered


@pytest.fixture
def lms(lti_platform: FakePlatform, course) -> Iterator[Lms]:
    # The LMS's pages are served on a port of their own: another ORIGIN than the tool's
    # live server, on the same SITE (a site is the scheme and the registrable host, not
    # the port). Framed by another site (localhost in 127.0.0.1's page), the tool's
    # cookies would need `SameSite=None; Secure`, which the tool sends over HTTPS only,
    # and the live server speaks plain http: the cookie check would rightly say "open it
    # in a new window". Same-site, the cookies reach the frame as `SameSite=None; Secure`
    # ones do over HTTPS (tests/lti/test_framing.py checks those headers), while
    # `frame-ancestors`, which lists origins, ports included, is enforced by the browser
    # as between two sites. The registration's auth URL names the LMS's origin.
    with serve_pages() as lms_origin, serve_pages() as stranger_origin:
        lti_platform.pages_base_url = lms_origin
        lti_platform.register()
        yield Lms(lti_platform, lms_origin, stranger_origin)
    grades.wait_for_background_sends()


def new_page(browser: Browser) -> tuple[BrowserContext, Page]:
    context = browser.new_context(viewport=DESKTOP)
    context.add_init_script(WATCH)
    return context, context.new_page()


def tool_frame(page: Page) -> Frame:
    [frame] = page.main_frame.child_frames
    return frame


def assert_no_csp_violations(page: Page) -> None:
    assert page.evaluate("window.__cspViolations") == []
    assert tool_frame(page).evaluate("window.__cspViolations") == []


def screenshots(page: Page, folder: Path, name: str) -> None:
    """The LMS's page with the tool in its frame, at a desktop's and a phone's width;
    at neither does the tool's page scroll sideways in the frame."""
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        page.screenshot(path=folder / f"{name}-{size['width']}.png")
        scroll_width, frame_width = tool_frame(page).evaluate(
            "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
        )
        assert scroll_width <= frame_width, (name, size, scroll_width, frame_width)
    page.set_viewport_size(DESKTOP)


def test_a_teacher_places_a_quiz_and_a_learner_s_score_reaches_the_lms_all_inside_its_frame(
    browser: Browser, lms: Lms, tmp_path: Path
):
    platform = lms.platform

    # 1. The teacher adds an activity from the LMS course: a deep-linking launch.
    context, page = new_page(browser)
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    hint = platform.prepare_browser_launch(
        message_type="LtiDeepLinkingRequest",
        sub="teacher-1",
        roles=[INSTRUCTOR],
        name="Rosalind Franklin",
        email="rosalind@school.example",
    )
    page.goto(platform.course_page_url(hint))
    tool = page.frame_locator("iframe")
    expect(tool.get_by_role("heading", level=1)).to_have_text(
        "Add a quiz to your LMS course", timeout=15_000
    )
    logins = [url for url in requested if "/lti/login/" in url]
    # the cookie check first, then the login its script carried on with
    assert len(logins) == 2 and "cookies_checked=1" in logins[1], logins
    assert_no_csp_violations(page)
    screenshots(page, tmp_path, "picker")

    tool.get_by_role("button", name=re.compile(r"^Add this\W+Heat quiz$")).click()
    expect(tool.get_by_text("Link saved in the course.")).to_be_visible()
    [response] = platform.deep_link_responses
    assert response[LTI + "message_type"] == "LtiDeepLinkingResponse"
    assert response["aud"] == [platform.issuer]
    [item] = response[DL + "content_items"]
    launch_url = item["url"]
    assert urlsplit(launch_url).path == "/lti/launch/"
    assert item == {
        "type": "ltiResourceLink",
        "title": "Heat quiz",
        "url": launch_url,
        "custom": {"target": "quiz:heat"},
        "lineItem": {
            "scoreMaximum": 100,
            "label": "Heat quiz",
            "resourceId": "quiz:heat",
            "tag": "muscle-spasms-course",
        },
    }
    teacher = User.objects.get(lti_users__sub="teacher-1")
    assert teacher.is_staff and teacher.first_name == "Rosalind Franklin"
    context.close()

    # 2. A learner opens that link, with the gradebook column the LMS made from its line
    # item.
    lineitem_url = platform.lineitem_url(1)
    hint = platform.prepare_browser_launch(
        resource_link_id="heat-quiz-link",
        custom=item["custom"],
        lineitem=lineitem_url,
        target_link_uri=launch_url,
    )
    context, page = new_page(browser)
    page.goto(platform.course_page_url(hint))
    tool = page.frame_locator("iframe")
    expect(tool.get_by_role("heading", level=1)).to_contain_text("Heat", timeout=15_000)
    frame = tool_frame(page)
    quiz_url = frame.url
    assert urlsplit(quiz_url).path == "/topics/heat/quiz/"
    expect(tool.get_by_role("button", name="Log out")).to_be_attached()
    assert User.objects.filter(lti_users__sub="learner-1").exists()

    tool.get_by_role("button", name="Start the quiz").click()
    expect(tool.get_by_role("heading", name=re.compile(r"Question 1 of \d+"))).to_be_visible()
    wait_for_htmx(frame)
    assert_no_csp_violations(page)
    screenshots(page, tmp_path, "quiz")

    position = 1
    while True:
        right = position % 4 != 0  # three right, one wrong, ...
        question_id = int(frame.locator("input[name=question]").input_value())
        fill_answer(frame, Question.objects.get(pk=question_id), right)
        tool.get_by_role("button", name="Check answer").click()
        expect(tool.locator("#feedback")).to_contain_text("Right" if right else "Not right")
        if tool.get_by_role("link", name="See your result").count():
            break
        tool.get_by_role("link", name="Next question").click()
        position += 1
        expect(tool.get_by_role("heading", name=f"Question {position} of")).to_be_visible()
    tool.get_by_role("link", name="See your result").click()

    attempt = Attempt.objects.get(learner__lti_users__sub="learner-1")
    expect(tool.get_by_role("heading", level=1)).to_have_text(
        f"You scored {percent(attempt.percent)}"
    )
    grade_note = tool.locator(".lms-grade")
    expect(grade_note).to_contain_text("Physiology 101's gradebook")
    shown = re.search(r"([\d.]+) out of 100", grade_note.inner_text())
    assert shown and Decimal(shown[1]) == attempt.percent, grade_note.inner_text()
    summary_box = tool.locator(".result-summary").bounding_box()
    lms_section = tool.locator(".lms-grades").bounding_box()
    assert summary_box and lms_section
    # the LMS's part stands apart from the result's box, as the next step's does
    assert lms_section["y"] - (summary_box["y"] + summary_box["height"]) >= 16
    screenshots(page, tmp_path, "result")
    grades.wait_for_background_sends()
    frame.goto(frame.url)
    expect(grade_note).to_have_text(
        f"Sent to Physiology 101's gradebook. {shown[1]} out of 100, your best score on this quiz."
    )
    [score] = platform.scores
    assert score.lineitem_url == lineitem_url
    assert score.score["userId"] == "learner-1"
    assert (score.score["scoreGiven"], score.score["scoreMaximum"]) == (float(shown[1]), 100)
    assert_no_csp_violations(page)

    # 3. The same page framed by a site nobody registered: the browser refuses it.
    stranger = context.new_page()
    headers = framed_and_refused(stranger, platform.framing_page_url(quiz_url, on=lms.stranger))
    ancestors = frame_ancestors(headers["content-security-policy"])
    assert lms.origin in ancestors and lms.stranger not in ancestors, ancestors
    assert "x-frame-options" not in headers  # the refusal is frame-ancestors'
    context.close()

    # 4. Outside an LTI session no page may be framed, by the platform either.
    context, page = new_page(browser)
    lesson_url = quiz_url.removesuffix("quiz/")
    headers = framed_and_refused(page, platform.framing_page_url(lesson_url))
    assert frame_ancestors(headers["content-security-policy"]) == ["'none'"]
    assert headers["x-frame-options"] == "DENY"
    context.close()


def framed_and_refused(page: Page, framing_page_url: str) -> dict[str, str]:
    """Open a page framing one of ours: the browser was sent our page and showed none of
    it. Returns the headers our page came with."""
    documents: list[Response] = []

    def keep_framed_document(response: Response) -> None:
        if response.request.resource_type == "document" and response.frame != page.main_frame:
            documents.append(response)

    page.on("response", keep_framed_document)
    page.goto(framing_page_url)
    page.wait_for_load_state("load")
    assert documents and documents[-1].status == 200, documents
    frame = tool_frame(page)
    assert frame.url.startswith("chrome-error://"), frame.url
    return documents[-1].headers


def frame_ancestors(policy: str) -> list[str]:
    [sources] = [part.split()[1:] for part in policy.split(";") if "frame-ancestors" in part]
    return sources
