"""A way on from every page, and the certificate, in Chromium at 375 and 1280 px, light and
dark: the result's next step, previous and next lessons, a quiz started from its lesson,
and the printable certificate with its public verification page."""

import re

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Browser, ViewportSize, expect

from learning import services
from learning.models import Certificate, Quiz, Topic, TopicProgress
from tests.browser.conftest import log_in
from tests.browser.test_accessibility import answer, assert_no_problems, blocking_violations

pytestmark = pytest.mark.django_db(transaction=True)


def take_quiz(student: User, quiz: Quiz) -> None:
    attempt = services.start_attempt(learner=student, quiz=quiz)
    for question_id in attempt.question_ids:
        answer(attempt, question_id, right=True)


def sideways_overflow(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_a_quiz_started_from_its_lesson_leads_on_to_the_next_lesson(
    browser: Browser, live_server, student, course, width, scheme
):
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page = context.new_page()
    log_in(page, live_server.url, student.username)
    page.goto(f"{live_server.url}/topics/how-muscles-work/")
    expect(page.get_by_text("Starting the quiz marks this lesson as read.")).to_be_visible()
    lessons = page.get_by_role("navigation", name="Other lessons")
    expect(lessons.get_by_role("link", name=re.compile("Next lesson"))).to_have_attribute(
        "href", "/topics/kinds-of-muscle/"
    )
    expect(lessons.get_by_role("link", name=re.compile("Previous lesson"))).to_have_count(0)
    page.get_by_role("button", name="Take the quiz on How muscles work").click()
    page.wait_for_url("**/questions/1/")
    progress = TopicProgress.objects.get(learner=student, topic__slug="how-muscles-work")
    assert progress.lesson_read

    from learning.models import Attempt

    attempt = Attempt.objects.get(learner=student)
    for question_id in attempt.question_ids:
        answer(attempt, question_id, right=True)
    page.goto(f"{live_server.url}/attempts/{attempt.pk}/result/")
    second = Topic.objects.get(slug="kinds-of-muscle")
    way_on = page.get_by_role("region", name="Your next step")
    main_action = way_on.get_by_role("link", name=f"Read the lesson on {second.title}")
    expect(main_action).to_be_visible()
    expect(page.get_by_role("button", name="Retake the quiz")).to_be_visible()
    assert "button-secondary" in (
        page.get_by_role("button", name="Retake the quiz").get_attribute("class") or ""
    )
    # The way on comes before the retake, and before the review of every question.
    main_box = main_action.bounding_box()
    retake_box = page.get_by_role("button", name="Retake the quiz").bounding_box()
    assert main_box and retake_box and main_box["y"] <= retake_box["y"]
    pager = page.get_by_role("navigation", name="Lessons before and after this topic")
    expect(pager.get_by_role("link", name=f"Next lesson {second.title}")).to_be_visible()
    assert sideways_overflow(page) <= 0
    assert_no_problems({f"result at {width} px, {scheme}": blocking_violations(page)})
    main_action.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(second.title)
    context.close()


@pytest.fixture
def completed(course, student) -> Certificate:
    student.first_name = "Ada Lovelace"
    student.email = "ada@example.com"
    student.save()
    for topic in Topic.objects.filter(is_published=True):
        take_quiz(student, topic.quiz)
    return Certificate.objects.get(learner=student)


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("width", [375, 1280])
def test_the_certificate_and_its_public_check(
    browser: Browser, live_server, student, completed, width, scheme
):
    viewport: ViewportSize = {"width": width, "height": 900}
    context = browser.new_context(viewport=viewport, color_scheme=scheme)
    page = context.new_page()
    log_in(page, live_server.url, student.username)
    expect(page.get_by_role("region", name="You have completed the course")).to_be_visible()
    page.get_by_role("link", name="Open your certificate").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Certificate of completion")
    expect(page.get_by_role("main").get_by_text("Ada Lovelace", exact=True)).to_be_visible()
    topics = page.get_by_role("table", name="Each topic and its level on that day")
    expect(topics.get_by_role("row")).to_have_count(1 + Topic.objects.count())
    link = page.locator(".certificate-verify").get_by_role("link")
    verify_url = link.get_attribute("href") or ""
    assert completed.token in verify_url
    assert sideways_overflow(page) <= 0
    problems = {f"certificate at {width} px, {scheme}": blocking_violations(page)}

    page.emulate_media(media="print")
    expect(page.locator(".site-header")).to_be_hidden()
    expect(page.locator(".site-footer")).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    if width == 1280 and scheme == "light":
        pdf = page.pdf(format="A4")
        assert len(re.findall(rb"/Type\s*/Page[^s]", pdf)) == 1, "one printed page"

    stranger = browser.new_context(viewport=viewport, color_scheme=scheme).new_page()
    stranger.goto(verify_url)
    expect(stranger.get_by_text("Verified.")).to_be_visible()
    expect(stranger.get_by_text("Ada Lovelace", exact=True)).to_be_visible()
    body = stranger.locator("main").inner_text()
    assert "ada@example.com" not in body and student.username not in body.split()
    assert sideways_overflow(stranger) <= 0
    problems[f"verification at {width} px, {scheme}"] = blocking_violations(stranger)
    missing = stranger.goto(f"{live_server.url}/certificates/not-a-real-certificate-id/")
    assert missing is not None and missing.status == 404
    assert_no_problems(problems)
    context.close()
    stranger.context.close()
