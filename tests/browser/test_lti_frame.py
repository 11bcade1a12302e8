"""A launch inside the LMS's frame, in Chromium: the login's cookie check (our template,
its script allowed by the CSP nonce) sees cookies work and carries on, the test LMS posts
the signed launch, and the learner lands signed in on the linked lesson, inside the frame,
with nothing blocked by the Content Security Policy."""

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, expect

from tests.lti_platform import FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)

WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


def test_a_framed_launch_passes_the_cookie_check_and_signs_in(
    browser: Browser, lti_platform: FakePlatform, course
):
    lti_platform.register()
    login_hint = lti_platform.prepare_browser_launch(custom={"target": "topic:heat"})
    context = browser.new_context()
    context.add_init_script(WATCH)
    page = context.new_page()
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(lti_platform.course_page_url(login_hint))
    tool = page.frame_locator("iframe")
    expect(tool.get_by_role("heading", level=1)).to_contain_text("Heat", timeout=15_000)
    logins = [url for url in requested if "/lti/login/" in url]
    # the cookie check first, then the login its script carried on with
    assert len(logins) == 2 and "cookies_checked=1" in logins[1], logins
    frame = page.frames[1]
    assert "/topics/heat/" in frame.url
    expect(tool.get_by_role("button", name="Log out")).to_be_attached()
    assert frame.evaluate("window.__cspViolations") == []
    assert page.evaluate("window.__cspViolations") == []
    assert User.objects.filter(lti_users__sub="learner-1").exists()
    context.close()
