"""Spaced review: every answer becomes an FSRS card; due cards come back in Review."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import fsrs.card
import pytest
import time_machine
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import services
from learning.models import Attempt, Mastery, Question, Quiz, QuizKind, ReviewCard, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from learning.reviews import rating_for
from learning.selectors import review_summary
from learning.templatetags.learning_tags import due_in
from tests.factories import QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import answer_post

pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def answer(attempt: Attempt, question: Question, right: bool) -> None:
    choice = next(c for c in question.choices.all() if c.is_correct == right)
    services.record_answer(
        attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
    )


def start_review(learner) -> Attempt:
    return services.start_attempt(learner=learner, quiz=services.course_quiz(QuizKind.REVIEW))


def take_quiz(learner, quiz: Quiz, right: set[str]) -> Attempt:
    """Answer every question; those whose key is in `right` correctly."""
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    for question in Question.objects.filter(pk__in=attempt.question_ids):
        answer(attempt, question, question.key in right)
    return attempt


@pytest.fixture
def heat_quiz():
    topic = TopicFactory(slug="heat", title="Heat")
    for key in ("h1", "h2", "h3"):
        QuestionFactory(topic=topic, key=key)
    return QuizFactory(topic=topic, question_count=3)


def test_ratings_follow_the_points():
    assert rating_for(Decimal(0)).name == "Again"
    assert rating_for(Decimal("0.5")).name == "Hard"
    assert rating_for(Decimal(1)).name == "Good"


def test_a_first_answer_makes_its_card_without_sleeping_in_the_write_lock(
    learner, heat_quiz, monkeypatch
):
    # fsrs sleeps 1 ms to make a card id from the clock when given none; in the answer's
    # transaction that sleep holds the database's write lock.
    def refuse_to_sleep(seconds: float) -> None:
        raise AssertionError(f"slept {seconds} s while making a card")

    monkeypatch.setattr(fsrs.card.time, "sleep", refuse_to_sleep)
    take_quiz(learner, heat_quiz, right={"h1"})
    assert ReviewCard.objects.filter(learner=learner, review_count=1).count() == 3


@time_machine.travel(MONDAY_9AM, tick=False)
def test_every_answer_makes_a_card_wrong_ones_due_soon_right_ones_later(learner, heat_quiz):
    take_quiz(learner, heat_quiz, right={"h1", "h2"})
    cards = {card.question.key: card for card in ReviewCard.objects.select_related("question")}
    assert set(cards) == {"h1", "h2", "h3"}
    assert cards["h3"].due <= MONDAY_9AM + timedelta(minutes=2)  # wrong: back in a minute
    assert cards["h1"].due >= MONDAY_9AM + timedelta(minutes=9)  # right: further off
    assert all(
        card.review_count == 1 and card.last_review == MONDAY_9AM for card in cards.values()
    )


def test_a_wrong_answer_comes_back_in_review_when_due(learner_client, learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2"})
        assert review_summary(learner).due_now == 0
        page = learner_client.get(reverse("learning:review"))
        assertContains(page, "Nothing to review now")

    with time_machine.travel(MONDAY_9AM + timedelta(minutes=5), tick=False):
        summary = review_summary(learner)
        assert summary.due_now == 1
        assertContains(learner_client.get(reverse("learning:course")), "1 question due for review")
        response = learner_client.post(reverse("learning:start_review"))
        review_attempt = Attempt.objects.get(learner=learner, quiz__kind=QuizKind.REVIEW)
        assertRedirects(
            response, reverse("learning:attempt", args=[review_attempt.pk]), target_status_code=302
        )
        wrong_one = Question.objects.get(key="h3")
        assert review_attempt.question_ids == [wrong_one.pk]
        url = reverse("learning:question", args=[review_attempt.pk, 1])
        assertContains(learner_client.get(url), wrong_one.prompt)
        learner_client.post(url, answer_post(wrong_one, right=True, attempt=review_attempt))
        card = ReviewCard.objects.get(question=wrong_one)
        assert card.review_count == 2
        assert card.due > MONDAY_9AM + timedelta(minutes=5)
        review_attempt.refresh_from_db()
        assert review_attempt.is_finished and review_attempt.percent == 100
        assertContains(
            learner_client.get(reverse("learning:result", args=[review_attempt.pk])),
            "Review session",
        )


def test_a_session_takes_at_most_twenty_most_overdue_first(learner):
    topic = TopicFactory()
    questions = [QuestionFactory(topic=topic) for _ in range(25)]
    base = MONDAY_9AM - timedelta(days=30)
    for index, question in enumerate(questions):
        ReviewCard.objects.create(
            learner=learner, question=question, state=2, due=base + timedelta(hours=index)
        )
    QuestionFactory(topic=topic, is_published=False)
    with time_machine.travel(MONDAY_9AM, tick=False):
        attempt = services.start_attempt(
            learner=learner, quiz=services.course_quiz(QuizKind.REVIEW)
        )
    assert attempt.question_ids == [q.pk for q in questions[:20]]


def test_unpublished_questions_are_not_reviewed(learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right=set())
    Question.objects.update(is_published=False)
    with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
        assert review_summary(learner).due_now == 0
        with pytest.raises(services.QuizError, match="Nothing is due"):
            start_review(learner)


def test_reviews_gone_wrong_take_a_topic_down_a_level(learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2", "h3"})
    progress = TopicProgress.objects.get(learner=learner, topic=heat_quiz.topic)
    assert progress.mastery == Mastery.PROFICIENT
    with time_machine.travel(MONDAY_9AM + timedelta(days=60), tick=False):
        review = services.start_attempt(
            learner=learner, quiz=services.course_quiz(QuizKind.REVIEW)
        )
        assert len(review.question_ids) == 3
        for question in Question.objects.filter(pk__in=review.question_ids):
            answer(review, question, right=question.key == "h1")  # one of three right
    progress.refresh_from_db()
    assert progress.mastery == Mastery.FAMILIAR
    assert progress.attempt_count == 1  # reviews are not quiz attempts
    assert progress.best_percent == 100


def test_good_reviews_leave_mastery_alone(learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2"})
    with time_machine.travel(MONDAY_9AM + timedelta(days=60), tick=False):
        review = services.start_attempt(
            learner=learner, quiz=services.course_quiz(QuizKind.REVIEW)
        )
        for question in Question.objects.filter(pk__in=review.question_ids):
            answer(review, question, right=True)
    assert TopicProgress.objects.get(learner=learner).mastery == Mastery.ATTEMPTED


def test_the_dashboard_history_names_a_review_session(learner_client, learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right=set())
    with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
        take_quiz(learner, services.course_quiz(QuizKind.REVIEW), right=set())
        page = learner_client.get(reverse("learning:dashboard"))
    # The history's second column names the quiz: a review session has no topic.
    assertContains(page, '<td role="cell" data-label="Topic">Heat</td>', html=True)
    assertContains(page, '<td role="cell" data-label="Topic">Review session</td>', html=True)
    # Not graded:
    assertContains(page, '<td role="cell" data-label="Result">Practice</td>', html=True)
    assertNotContains(page, "Spaced review")


def test_an_attempt_is_named_after_its_quiz_even_without_a_topic(learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        quiz_attempt = take_quiz(learner, heat_quiz, right=set())
    with time_machine.travel(MONDAY_9AM + timedelta(days=2), tick=False):
        review_attempt = start_review(learner)
    assert str(quiz_attempt) == f"Attempt {quiz_attempt.pk} by ada on Heat"
    assert str(review_attempt) == f"Attempt {review_attempt.pk} by ada on Spaced review"


def test_the_dashboard_says_when_the_next_review_falls_due(learner_client, learner, heat_quiz):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2", "h3"})
        response = learner_client.get(reverse("learning:dashboard"))
    assertContains(response, "the next review falls due in 10\xa0minutes")


def test_due_in_words():
    with time_machine.travel(MONDAY_9AM, tick=False):
        assert due_in(MONDAY_9AM + timedelta(seconds=20)) == "in under a minute"
        assert due_in(MONDAY_9AM + timedelta(days=3, hours=2)) == "in 3\xa0days"
        assert due_in(None) == ""


def test_a_review_left_open_after_two_wrong_answers_still_takes_the_topic_down(
    learner_client, learner, heat_quiz
):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2", "h3"})
    progress = TopicProgress.objects.get(learner=learner, topic=heat_quiz.topic)
    assert progress.mastery == Mastery.PROFICIENT
    session_start = MONDAY_9AM + timedelta(days=60)
    with time_machine.travel(session_start, tick=False):
        review = start_review(learner)
        assert len(review.question_ids) == 3
        for question_id in review.question_ids[:2]:
            answer(review, Question.objects.get(pk=question_id), right=False)
        progress.refresh_from_db()
        assert progress.mastery == Mastery.PROFICIENT  # the session is not over yet
        learner_client.force_login(learner)  # two months on: a fresh log-in
        page = learner_client.get(reverse("learning:question", args=[review.pk, 3]))
        assertContains(page, "Open until")
    with time_machine.travel(session_start + timedelta(hours=24, seconds=1), tick=False):
        page = learner_client.get(reverse("learning:review"))
        assertNotContains(page, "Resume your review session")
    review.refresh_from_db()
    assert review.state == "expired"
    progress.refresh_from_db()
    assert progress.mastery == Mastery.FAMILIAR  # 0 of 3 right: one level down


def test_in_a_review_an_unanswered_question_counts_as_wrong_when_the_session_ends(
    learner, heat_quiz
):
    with time_machine.travel(MONDAY_9AM, tick=False):
        take_quiz(learner, heat_quiz, right={"h1", "h2", "h3"})
    session_start = MONDAY_9AM + timedelta(days=60)
    with time_machine.travel(session_start, tick=False):
        review = start_review(learner)
        answer(review, Question.objects.get(pk=review.question_ids[0]), right=True)
        # 1 right of 2 answered would hold; 1 right of 3 asked does not
    with time_machine.travel(session_start + timedelta(days=2), tick=False):
        services.expire_overdue_attempts(learner=learner)
    assert TopicProgress.objects.get(learner=learner).mastery == Mastery.FAMILIAR
