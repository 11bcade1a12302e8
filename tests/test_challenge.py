"""The course challenge: drawn from started topics, weighted to weak ones, and a second
road to mastery in both directions, by the whole challenge once it ends."""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertRedirects

from learning import services
from learning.models import AttemptState, Mastery, Navigation, Question, QuizKind, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from tests.factories import QuestionFactory, TopicFactory, TopicProgressFactory

pytestmark = pytest.mark.django_db


def topic_with_questions(slug: str, count: int = 12):
    topic = TopicFactory(slug=slug, title=slug.title())
    for index in range(count):
        QuestionFactory(topic=topic, key=f"{slug}-{index}")
    return topic


def challenge(learner, rng=None):
    return services.start_attempt(
        learner=learner, quiz=services.course_quiz(QuizKind.CHALLENGE), rng=rng
    )


def answer_all(attempt, right_on: set[str]) -> None:
    for question in Question.objects.filter(pk__in=attempt.question_ids).select_related("topic"):
        right = question.topic.slug in right_on
        choice = next(c for c in question.choices.all() if c.is_correct == right)
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
        )


def test_it_draws_only_from_started_topics(learner):
    heat, causes, unstarted = (topic_with_questions(s) for s in ("heat", "causes", "other"))
    TopicProgressFactory(learner=learner, topic=heat, lesson_read_at=timezone.now())
    TopicProgressFactory(learner=learner, topic=causes, attempt_count=1, mastery=Mastery.FAMILIAR)
    TopicProgressFactory(learner=learner, topic=unstarted)  # a row, but nothing done yet
    attempt = challenge(learner)
    assert len(attempt.question_ids) == 12
    topics = set(
        Question.objects.filter(pk__in=attempt.question_ids).values_list("topic__slug", flat=True)
    )
    assert topics <= {"heat", "causes"}


def test_weak_topics_are_drawn_more_often(learner):
    weak, strong = topic_with_questions("weak", 60), topic_with_questions("strong", 60)
    TopicProgressFactory(learner=learner, topic=weak, attempt_count=1, mastery=Mastery.ATTEMPTED)
    TopicProgressFactory(learner=learner, topic=strong, attempt_count=1, mastery=Mastery.MASTERED)
    counts = Counter()
    rng = random.Random(7)
    for _ in range(20):
        drawn = services.draw_challenge(learner=learner, count=12, rng=rng)
        counts.update(Question.objects.filter(pk__in=drawn).values_list("topic__slug", flat=True))
    # weights 4 to 1: expect about 80% from the weak topic
    assert counts["weak"] > 3 * counts["strong"]


def test_it_moves_mastery_up_on_proficient_and_down_on_mastered_topics_when_it_ends(learner):
    rising, falling, steady = (topic_with_questions(s, 4) for s in ("rising", "falling", "steady"))
    TopicProgressFactory(
        learner=learner, topic=rising, attempt_count=1, mastery=Mastery.PROFICIENT
    )
    TopicProgressFactory(learner=learner, topic=falling, attempt_count=1, mastery=Mastery.MASTERED)
    TopicProgressFactory(learner=learner, topic=steady, attempt_count=1, mastery=Mastery.FAMILIAR)
    attempt = challenge(learner)
    answer_all(attempt, right_on={"rising", "steady"})
    levels = dict(TopicProgress.objects.values_list("topic__slug", "mastery"))
    assert levels == {
        "rising": Mastery.MASTERED,
        "falling": Mastery.PROFICIENT,
        "steady": Mastery.FAMILIAR,  # the challenge raises only proficient topics
    }
    attempt.refresh_from_db()
    assert attempt.is_finished


def test_with_nothing_started_it_says_what_to_do(learner_client):
    topic_with_questions("heat")
    page = learner_client.get(reverse("learning:challenge"))
    assertContains(page, "Read a lesson")
    response = learner_client.post(reverse("learning:start_challenge"), follow=True)
    assertContains(response, "draws from the topics you have started")


def test_the_challenge_page_lists_the_topics_in_the_draw(learner_client, learner):
    heat = topic_with_questions("heat")
    TopicProgressFactory(learner=learner, topic=heat, lesson_read_at=timezone.now())
    page = learner_client.get(reverse("learning:challenge"))
    assertContains(page, "Your topics in the draw")
    assertContains(page, "Heat")
    learner_client.post(reverse("learning:start_challenge"))
    assertContains(learner_client.get(reverse("learning:challenge")), "Resume the challenge")


MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def answer_one(attempt, position: int, right: bool) -> None:
    question = Question.objects.get(pk=attempt.question_ids[position - 1])
    choice = next(c for c in question.choices.all() if c.is_correct == right)
    services.record_answer(
        attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
    )


def level_of(learner, topic) -> Mastery:
    return Mastery(TopicProgress.objects.get(learner=learner, topic=topic).mastery)


def test_a_right_answer_changes_nothing_until_the_challenge_ends(learner):
    topic = topic_with_questions("heat", 4)
    TopicProgressFactory(learner=learner, topic=topic, attempt_count=1, mastery=Mastery.PROFICIENT)
    attempt = challenge(learner)
    answer_one(attempt, 1, right=True)
    assert level_of(learner, topic) == Mastery.PROFICIENT
    for position in (2, 3, 4):
        answer_one(attempt, position, right=True)
    assert level_of(learner, topic) == Mastery.MASTERED


def test_a_topic_made_proficient_today_is_not_mastered_by_todays_challenge(learner):
    topic = topic_with_questions("heat", 3)
    with time_machine.travel(MONDAY_9AM, tick=False):
        TopicProgressFactory(
            learner=learner,
            topic=topic,
            attempt_count=1,
            mastery=Mastery.PROFICIENT,
            high_score_on=date(2026, 11, 23),
        )
        answer_all(challenge(learner), right_on={"heat"})
        assert level_of(learner, topic) == Mastery.PROFICIENT
    with time_machine.travel(MONDAY_9AM + timedelta(days=1), tick=False):
        answer_all(challenge(learner), right_on={"heat"})
        assert level_of(learner, topic) == Mastery.MASTERED


def test_a_challenge_left_open_expires_and_counts_the_unanswered_as_wrong(learner_client, learner):
    topic = topic_with_questions("heat", 4)
    TopicProgressFactory(learner=learner, topic=topic, attempt_count=1, mastery=Mastery.MASTERED)
    with time_machine.travel(MONDAY_9AM, tick=False):
        attempt = challenge(learner)
        assert attempt.deadline == MONDAY_9AM + timedelta(hours=24)
        answer_one(attempt, 1, right=True)
    with time_machine.travel(MONDAY_9AM + timedelta(hours=23, minutes=59), tick=False):
        learner_client.get(reverse("learning:dashboard"))
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.IN_PROGRESS
        assert level_of(learner, topic) == Mastery.MASTERED  # nothing gained by waiting...
    with time_machine.travel(MONDAY_9AM + timedelta(hours=24, minutes=1), tick=False):
        learner_client.get(reverse("learning:dashboard"))
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.EXPIRED
        assert attempt.percent == 25
        # ...for 1 right of 4 is fewer than half: mastered goes down one level
        assert level_of(learner, topic) == Mastery.PROFICIENT
        result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
    assertContains(result, "left open too long")


def test_the_challenge_goes_in_order(learner_client, learner):
    heat = topic_with_questions("heat", 4)
    TopicProgressFactory(learner=learner, topic=heat, lesson_read_at=timezone.now())
    assert services.course_quiz(QuizKind.CHALLENGE).navigation == Navigation.IN_ORDER
    learner_client.post(reverse("learning:start_challenge"))
    attempt = services.course_quiz(QuizKind.CHALLENGE).attempts.get()
    first = reverse("learning:question", args=[attempt.pk, 1])
    assertRedirects(learner_client.get(reverse("learning:question", args=[attempt.pk, 3])), first)
    assertContains(learner_client.get(first), "Question 1 of 4")
