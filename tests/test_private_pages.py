"""A page made for a logged-in learner is never cached: Cache-Control private, no-store."""

import pytest
from django.urls import reverse
from django.utils.cache import has_vary_header

from learning import services
from learning.models import Question
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db


def assert_private(response) -> None:
    cache_control = response.get("Cache-Control", "")
    directives = {part.strip() for part in cache_control.split(",")}
    assert {"private", "no-store"} <= directives, (response.request["PATH_INFO"], cache_control)


@pytest.fixture
def attempt(learner, quiz, rng):
    return services.start_attempt(learner=learner, quiz=quiz, rng=rng)


def test_the_learners_own_pages_are_private(learner_client, quiz, attempt):
    slug = quiz.topic.slug
    for url in (
        reverse("learning:course"),
        reverse("learning:dashboard"),
        reverse("learning:review"),
        reverse("learning:challenge"),
        reverse("learning:lesson", args=[slug]),
        reverse("learning:quiz", args=[slug]),
        reverse("learning:attempt", args=[attempt.pk]),
        reverse("learning:question", args=[attempt.pk, 1]),
    ):
        assert_private(learner_client.get(url))


def test_question_partials_and_answers_are_private(learner_client, attempt):
    url = reverse("learning:question", args=[attempt.pk, 1])
    partial = learner_client.get(url, **HTMX)
    assert partial.status_code == 200
    assert_private(partial)
    question = Question.objects.get(pk=attempt.question_ids[0])
    answered = learner_client.post(url, answer_post(question, True, attempt=attempt), **HTMX)
    assert answered.status_code == 200
    assert_private(answered)
    read = learner_client.post(reverse("learning:mark_read", args=[attempt.quiz.topic.slug]))
    assert_private(read)


def test_a_result_is_private(learner_client, attempt):
    services.finish_attempt(attempt=attempt)
    response = learner_client.get(reverse("learning:result", args=[attempt.pk]))
    assert response.status_code == 200
    assert_private(response)


def test_the_pages_a_visitor_sees_are_not_marked_private_but_vary_on_the_cookie(client, quiz):
    for url in (reverse("learning:course"), reverse("learning:lesson", args=[quiz.topic.slug])):
        response = client.get(url)
        assert response.status_code == 200
        assert "private" not in response.get("Cache-Control", "")
        assert has_vary_header(response, "Cookie")


def test_a_teacher_in_the_admin_is_private(teacher_client):
    assert_private(teacher_client.get(reverse("admin:index")))
