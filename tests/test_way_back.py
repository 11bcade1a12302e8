"""Signing up or logging in from a page brings the learner back to that page, and only to
a page on this site."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from tests.factories import PASSWORD, LessonFactory, TopicFactory

pytestmark = pytest.mark.django_db

NEW_ACCOUNT = {
    "username": "newbie",
    "password1": "a-long-pass-phrase",
    "password2": "a-long-pass-phrase",
}
UNSAFE_NEXTS = [
    "https://evil.example/topics/",
    "//evil.example/",
    "/\\evil.example/",
    "javascript:alert(1)",
    "http:///evil.example",
]
# Not a view's name, nor a path relative to the sign-up page.
NOT_PATHS = ["0", "learning:dashboard", "dashboard/", "%2F%2Fevil.example"]


@pytest.fixture
def lesson_url() -> str:
    topic = TopicFactory(slug="cramps", title="Cramps")
    LessonFactory(topic=topic)
    return reverse("learning:lesson", args=[topic.slug])


def test_the_lessons_sign_up_and_log_in_links_carry_the_lesson(client, lesson_url):
    response = client.get(lesson_url)
    assertContains(response, f'href="{reverse("learning:signup")}?next={lesson_url}"', count=2)
    assertContains(response, f'href="{reverse("login")}?next={lesson_url}"', count=2)


def test_the_sign_up_form_keeps_next_and_signing_up_returns_to_the_lesson(client, lesson_url):
    page = client.get(reverse("learning:signup"), {"next": lesson_url})
    assertContains(page, f'<input type="hidden" name="next" value="{lesson_url}">', html=True)
    # The way across to logging in keeps it too.
    assertContains(page, f'href="{reverse("login")}?next={lesson_url}"')

    response = client.post(reverse("learning:signup"), {**NEW_ACCOUNT, "next": lesson_url})
    assertRedirects(response, lesson_url, fetch_redirect_response=False)
    assert get_user_model().objects.filter(username="newbie").exists()
    assertContains(client.get(lesson_url), "You are back where you were.")


def test_a_refused_sign_up_keeps_next_for_the_second_try(client, lesson_url):
    data = {**NEW_ACCOUNT, "password2": "something-else", "next": lesson_url}
    response = client.post(reverse("learning:signup"), data)
    assertContains(
        response,
        f'<input type="hidden" name="next" value="{lesson_url}">',
        html=True,
        status_code=400,
    )


@pytest.mark.parametrize("unsafe", UNSAFE_NEXTS + NOT_PATHS)
def test_sign_up_ignores_a_next_that_leaves_the_site(client, unsafe):
    page = client.get(reverse("learning:signup"), {"next": unsafe})
    assertNotContains(page, 'name="next"')
    assertNotContains(page, "evil.example")
    response = client.post(reverse("learning:signup"), {**NEW_ACCOUNT, "next": unsafe})
    assertRedirects(response, reverse("learning:course"))


def test_a_signed_in_learner_on_the_sign_up_page_goes_to_next(client, learner, lesson_url):
    client.force_login(learner)
    response = client.get(reverse("learning:signup"), {"next": lesson_url})
    assertRedirects(response, lesson_url)
    response = client.get(reverse("learning:signup"), {"next": UNSAFE_NEXTS[0]})
    assertRedirects(response, reverse("learning:course"))


def test_logging_in_from_a_lesson_returns_to_it(client, learner, lesson_url):
    page = client.get(reverse("login"), {"next": lesson_url})
    assertContains(page, f'href="{reverse("learning:signup")}?next={lesson_url}"')
    data = {"username": learner.username, "password": PASSWORD, "next": lesson_url}
    assertRedirects(client.post(reverse("login"), data), lesson_url)


@pytest.mark.parametrize("unsafe", UNSAFE_NEXTS + NOT_PATHS)
def test_logging_in_ignores_a_next_that_leaves_the_site(client, learner, unsafe):
    page = client.get(reverse("login"), {"next": unsafe})
    assertNotContains(page, "evil.example")
    data = {"username": learner.username, "password": PASSWORD, "next": unsafe}
    assertRedirects(client.post(reverse("login"), data), reverse("learning:dashboard"))


def test_the_sign_up_and_log_in_pages_do_not_send_back_to_themselves(client):
    for url in (reverse("learning:signup"), reverse("login")):
        page = client.get(url)
        assertNotContains(page, "?next=")
