"""Timed quizzes: the deadline lives on the server; late answers are refused; an attempt
left open past its deadline is scored when the learner comes back."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import services
from learning.models import Attempt, AttemptState, Question, Response, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

START = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def timed_quiz():
    topic = TopicFactory(slug="timed", title="Timed")
    LessonFactory(topic=topic)
    for _ in range(3):
        QuestionFactory(topic=topic)
    return QuizFactory(topic=topic, question_count=3, time_limit_minutes=10)


def start(client, quiz) -> Attempt:
    client.post(reverse("learning:start_quiz", args=[quiz.topic.slug]))
    return Attempt.objects.latest("id")


def url(attempt: Attempt, position: int) -> str:
    return reverse("learning:question", args=[attempt.pk, position])


def test_the_deadline_is_set_at_the_start_and_the_page_shows_the_time_left(
    learner_client, timed_quiz
):
    with time_machine.travel(START, tick=False):
        assertContains(
            learner_client.get(reverse("learning:quiz", args=["timed"])),
            "Time limit: <strong>10 minutes",
        )
        attempt = start(learner_client, timed_quiz)
        assert attempt.deadline == START + timedelta(minutes=10)
    with time_machine.travel(START + timedelta(minutes=4), tick=False):
        page = learner_client.get(url(attempt, 1))
    assertContains(page, "Time left:")
    assertContains(page, "6\xa0minutes")
    assertContains(page, f'data-deadline="{int(attempt.deadline.timestamp())}"')


def test_an_answer_after_the_deadline_is_refused_and_the_attempt_scored(
    learner_client, learner, timed_quiz
):
    with time_machine.travel(START, tick=False):
        attempt = start(learner_client, timed_quiz)
        first = Question.objects.get(pk=attempt.question_ids[0])
        learner_client.post(url(attempt, 1), answer_post(first, right=True, attempt=attempt))
    second = Question.objects.get(pk=attempt.question_ids[1])
    with time_machine.travel(START + timedelta(minutes=10, seconds=1), tick=False):
        late = learner_client.post(
            url(attempt, 2), answer_post(second, right=True, attempt=attempt), **HTMX
        )
        assertContains(late, "Time is up", status_code=422)
        assert Response.objects.count() == 1
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.EXPIRED
        assert str(attempt.percent) == "33.33"  # 1 of 3 answered: the others score 0
        result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
    assertContains(result, "The time limit ran out")
    progress = TopicProgress.objects.get(learner=learner, topic=timed_quiz.topic)
    assert progress.attempt_count == 1


def test_a_learner_who_closed_the_tab_finds_the_attempt_finished(
    learner_client, learner, timed_quiz
):
    with time_machine.travel(START, tick=False):
        attempt = start(learner_client, timed_quiz)
    with time_machine.travel(START + timedelta(hours=2), tick=False):
        course = learner_client.get(reverse("learning:course"))
        assertNotContains(course, "Resume quiz")
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.EXPIRED and attempt.percent == 0
        dashboard = learner_client.get(reverse("learning:dashboard"))
        assertContains(dashboard, reverse("learning:result", args=[attempt.pk]))
        assertRedirects(
            learner_client.get(url(attempt, 1)), reverse("learning:result", args=[attempt.pk])
        )
    assert TopicProgress.objects.get(learner=learner).attempt_count == 1


def test_expiring_happens_once(learner, timed_quiz):
    with time_machine.travel(START, tick=False):
        attempt = services.start_attempt(learner=learner, quiz=timed_quiz)
    with time_machine.travel(START + timedelta(minutes=11), tick=False):
        services.expire_if_overdue(attempt=attempt)
        services.expire_if_overdue(attempt=attempt)
        assert services.expire_overdue_attempts(learner=learner) == 0
    assert TopicProgress.objects.get(learner=learner).attempt_count == 1
    attempt.refresh_from_db()
    with pytest.raises(services.QuizError, match="already finished"):
        services.record_answer(
            attempt=attempt,
            question_id=attempt.question_ids[0],
            answer=ChoiceAnswer(frozenset([1])),
        )


def test_an_untimed_quiz_has_no_deadline(learner, timed_quiz):
    timed_quiz.time_limit_minutes = None
    timed_quiz.save()
    attempt = services.start_attempt(learner=learner, quiz=timed_quiz)
    assert attempt.deadline is None
