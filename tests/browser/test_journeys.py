"""Whole journeys in a real Chromium: a student with and without JavaScript, and a teacher."""

import re

import pytest
from playwright.sync_api import Page, expect

from learning.models import Attempt, Question, TopicProgress
from tests.browser.answers import fill_answer
from tests.browser.conftest import log_in, wait_for_htmx
from tests.factories import LessonFactory, QuizFactory, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_PASSWORD = "muscles-and-nerves-42"


def answer_current_question(page: Page, right: bool) -> Question:
    """Give the right (or a wrong) answer to the question on screen, as a learner would."""
    question_id = int(page.locator("input[name=question]").input_value())
    question = Question.objects.prefetch_related("choices").get(pk=question_id)
    fill_answer(page, question, right)
    return question


def sign_up(page: Page, base_url: str, username: str) -> None:
    page.goto(base_url)
    page.get_by_role("link", name="Sign up").first.click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=True).fill(NEW_PASSWORD)
    page.get_by_label("Password confirmation").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_text(f"Welcome, {username}!")).to_be_visible()


def read_first_lesson_and_start_its_quiz(page: Page) -> None:
    page.get_by_role("link", name="How muscles work", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("How muscles work")
    expect(page.get_by_role("navigation", name="In this lesson")).to_be_visible()
    page.get_by_role("button", name="Mark as read").click()
    expect(page.get_by_text("You have read this lesson.")).to_be_visible()
    page.get_by_role("button", name="Take the quiz on How muscles work").click()
    expect(page.get_by_role("heading", name=re.compile(r"Question 1 of \d+"))).to_be_visible()


def check_result_and_dashboard(page: Page, username: str, right_count: int) -> None:
    attempt = Attempt.objects.get(learner__username=username)
    assert attempt.is_finished
    total = attempt.question_total
    expected = f"You scored {round(100 * right_count / total)}%"
    expect(page.get_by_role("heading", level=1)).to_have_text(expected)
    expect(page.get_by_role("heading", name="Your answers")).to_be_visible()
    expect(page.locator(".review-item")).to_have_count(total)

    page.get_by_role("link", name="Dashboard", exact=True).click()
    topics = page.get_by_role("table", name="By topic")
    row = topics.get_by_role("row", name=re.compile("How muscles work"))
    expect(row).to_contain_text("✓ Read")
    expect(row).to_contain_text(f"{round(100 * right_count / total)}%")
    expect(page.get_by_role("table", name="Your attempts")).to_contain_text("How muscles work")
    progress = TopicProgress.objects.get(
        learner__username=username, topic__slug="how-muscles-work"
    )
    assert progress.attempt_count == 1 and progress.lesson_read


def test_a_new_student_learns_takes_a_quiz_and_sees_progress(page: Page, live_server, course):
    sign_up(page, live_server.url, "newbie")
    read_first_lesson_and_start_its_quiz(page)
    wait_for_htmx(page)
    # Anything that reloads the page would wipe this marker: htmx must swap, not navigate.
    page.evaluate("window.__noReload = true")

    right_count = 0
    position = 1
    while True:
        right = position % 3 != 0  # two right, one wrong, ...
        answer_current_question(page, right)
        page.get_by_role("button", name="Check answer").click()
        feedback = page.locator("#feedback")
        expect(feedback).to_be_visible()
        expect(feedback).to_contain_text("Right" if right else "Not right")
        expect(feedback).to_be_focused()
        expect(page.locator("#quiz-announcer")).to_contain_text("Right" if right else "Not right")
        assert page.evaluate("window.__noReload") is True
        right_count += right
        if page.get_by_role("link", name="See your result").count():
            break
        page.get_by_role("link", name="Next question").click()
        position += 1
        expect(
            page.get_by_role("heading", name=f"Question {position} of", exact=False)
        ).to_be_visible()

    page.get_by_role("link", name="See your result").click()
    check_result_and_dashboard(page, "newbie", right_count)


def test_the_same_journey_works_with_javascript_off(browser, live_server, course):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    sign_up(page, live_server.url, "no-js")
    read_first_lesson_and_start_its_quiz(page)

    right_count = 0
    position = 1
    while True:
        right = position % 2 == 1
        answer_current_question(page, right)
        page.get_by_role("button", name="Check answer").click()
        # A full page came back (post, redirect, get) with the feedback in it.
        expect(page).to_have_url(re.compile(rf"/questions/{position}/$"))
        expect(page.locator("#feedback")).to_contain_text("Right" if right else "Not right")
        right_count += right
        if page.get_by_role("link", name="See your result").count():
            break
        page.get_by_role("link", name="Next question").click()
        position += 1

    page.get_by_role("link", name="See your result").click()
    check_result_and_dashboard(page, "no-js", right_count)
    context.close()


def test_a_teacher_adds_a_question_and_a_student_meets_it(browser, live_server, teacher, student):
    topic = TopicFactory(title="Cramp first aid", slug="cramp-first-aid")
    LessonFactory(topic=topic)
    QuizFactory(topic=topic, question_count=5)

    teacher_page = browser.new_context().new_page()
    teacher_page.goto(f"{live_server.url}/admin/")
    teacher_page.get_by_label("Username").fill(teacher.username)
    teacher_page.get_by_label("Password").fill("correct-horse-battery")
    teacher_page.get_by_role("button", name="Log in").click()
    teacher_page.get_by_role("link", name="Questions").first.click()
    teacher_page.get_by_role("link", name="Add question").click()
    teacher_page.get_by_label("Topic").select_option(label="Cramp first aid")
    teacher_page.get_by_label("Type").select_option(label="Single choice")
    teacher_page.get_by_label("Prompt").fill("Which stretch eases a calf cramp?")
    teacher_page.get_by_label("Explanation").fill("Pulling the toes up stretches the calf.")
    teacher_page.locator("#id_choices-0-text").fill("Pull the toes towards the shin")
    teacher_page.locator("#id_choices-0-is_correct").check()
    teacher_page.locator("#id_choices-1-text").fill("Point the toes away")
    teacher_page.get_by_role("button", name="Save", exact=True).click()
    expect(teacher_page.locator(".messagelist")).to_contain_text("was added successfully")

    student_page = browser.new_context().new_page()
    log_in(student_page, live_server.url, student.username)
    student_page.goto(f"{live_server.url}/topics/cramp-first-aid/quiz/")
    student_page.get_by_role("button", name="Start the quiz").click()
    expect(student_page.get_by_text("Which stretch eases a calf cramp?")).to_be_visible()
    expect(student_page.get_by_label("Pull the toes towards the shin")).to_be_visible()
