"""No quiz draws a question whose typed answer another drawn question shows (issue 14).

A learner who types "calcium" from memory must not have just read "calcium" in the
feedback of the question before. Topic quizzes, review sessions and the course challenge
all draw around such pairs, and still draw as many questions as they would have.
"""

import random
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from learning import services
from learning.answer_leaks import leak_profile
from learning.models import Question, QuizKind, ReviewCard, TopicProgress
from tests.factories import (
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def short_answer(topic, prompt: str, *answers: str) -> Question:
    question = QuestionFactory.create(topic=topic, type="short_answer", prompt=prompt, choices=[])
    for answer in answers:
        ChoiceFactory(question=question, text=answer, is_correct=True, credit=Decimal(100))
    return question


def telling(topic, word: str) -> Question:
    """A choice question whose feedback names `word`."""
    question = QuestionFactory.create(topic=topic, prompt=f"What starts it all ({word} aside)?")
    question.choices.update(feedback="Feedback.")
    question.choices.filter(is_correct=True).update(feedback=f"Right: the {word} does it.")
    return question


def profile(question: Question):
    return leak_profile(question, list(question.choices.all()))


class TestWhatGivesAnAnswerAway:
    def test_a_typed_word_shown_in_another_questions_feedback(self):
        topic = TopicFactory.create()
        typed = short_answer(topic, "Which mineral is released?", "calcium", "Ca")
        assert profile(typed).clashes_with(profile(telling(topic, "calcium")))
        assert profile(telling(topic, "calcium")).clashes_with(profile(typed))

    def test_only_whole_words_and_whole_numbers_count(self):
        topic = TopicFactory.create()
        salt = short_answer(topic, "What does sweat take?", "salt")
        assert not profile(salt).clashes_with(profile(telling(topic, "salty taste")))
        forty = NumericQuestionFactory(topic=topic, numeric_answer=Decimal("40"))
        for harmless in ("140 mg", "40.5 units", "4.0 litres"):
            assert not profile(forty).clashes_with(profile(telling(topic, harmless))), harmless
        assert profile(forty).clashes_with(profile(telling(topic, "40 °C")))

    def test_questions_answered_by_picking_give_nothing_away_to_each_other(self):
        topic = TopicFactory.create()
        assert not profile(telling(topic, "calcium")).clashes_with(
            profile(telling(topic, "calcium"))
        )


def test_a_topic_quiz_never_draws_both_questions_of_a_pair(learner):
    topic = TopicFactory()
    typed = short_answer(topic, "Which mineral is released?", "calcium")
    teller = telling(topic, "calcium")
    others = [QuestionFactory(topic=topic) for _ in range(4)]
    quiz = QuizFactory(topic=topic, question_count=5)  # of 6: one must be left out
    drawn_sets = []
    for seed in range(30):
        ids, _orders = services.draw_questions(quiz=quiz, rng=random.Random(seed))
        assert len(ids) == 5
        assert not {typed.id, teller.id} <= set(ids), seed
        drawn_sets.append(frozenset(ids))
    # Both still appear, each in some quizzes, with every other question.
    seen = set().union(*drawn_sets)
    assert seen == {typed.id, teller.id, *(q.id for q in others)}


def test_a_topic_quiz_that_needs_every_question_still_draws_them_all(learner):
    topic = TopicFactory()
    typed = short_answer(topic, "Which mineral is released?", "calcium")
    teller = telling(topic, "calcium")
    quiz = QuizFactory(topic=topic, question_count=2)
    ids, _orders = services.draw_questions(quiz=quiz, rng=random.Random(1))
    assert sorted(ids) == sorted([typed.id, teller.id])


def test_the_course_challenge_leaves_out_a_question_another_topic_gives_away(learner):
    heat, risks = TopicFactory(slug="heat"), TopicFactory(slug="risks")
    typed = short_answer(risks, "What kind of medicine makes you pass more urine?", "diuretic")
    teller = telling(heat, "diuretic")
    for topic in (heat, risks):
        QuestionFactory.create_batch(6, topic=topic)
    for topic in (heat, risks):
        TopicProgress.objects.create(learner=learner, topic=topic, attempt_count=1)
    both = 0
    for seed in range(25):
        drawn = services.draw_challenge(learner=learner, count=10, rng=random.Random(seed))
        assert len(drawn) == 10
        both += {typed.id, teller.id} <= set(drawn)
    assert both == 0


def test_a_review_session_keeps_a_card_that_would_be_given_away_for_later(learner):
    topic = TopicFactory()
    typed = short_answer(topic, "Which mineral is released?", "calcium")
    teller = telling(topic, "calcium")
    others = [QuestionFactory(topic=topic) for _ in range(3)]
    now = timezone.now()
    for age, question in enumerate([teller, typed, *others]):
        ReviewCard.objects.create(
            learner=learner, question=question, state=2, due=now - timedelta(days=10 - age)
        )
    review = services.course_quiz(QuizKind.REVIEW)
    review.question_count = 4
    review.save()

    attempt = services.start_attempt(learner=learner, quiz=review, rng=random.Random(2))

    drawn = attempt.question_ids
    assert len(drawn) == 4
    assert teller.id in drawn and typed.id not in drawn  # the most overdue of the pair stays
    assert ReviewCard.objects.get(learner=learner, question=typed).due <= now


def starting_the_challenge_costs(questions_per_topic: int) -> tuple[int, int]:
    """The queries starting the challenge makes, and the most questions one of them loads
    by id (the draw looks at a few candidates per question, not the whole bank)."""
    learner = UserFactory.create()
    for _ in range(2):
        topic = TopicFactory.create()
        QuestionFactory.create_batch(questions_per_topic, topic=topic)
        TopicProgress.objects.create(learner=learner, topic=topic, attempt_count=1)
    with CaptureQueriesContext(connection) as queries:
        services.start_attempt(
            learner=learner, quiz=services.course_quiz(QuizKind.CHALLENGE), rng=random.Random(4)
        )
    loaded_by_id = [
        len(found.group(1).split(","))
        for query in queries.captured_queries
        for found in re.finditer(r'"learning_question"\."id" IN \(([^)]*)\)', query["sql"])
    ]
    return len(queries), max(loaded_by_id)


def test_starting_the_challenge_costs_the_same_however_big_the_bank():
    challenge = services.course_quiz(QuizKind.CHALLENGE)
    small, big = starting_the_challenge_costs(20), starting_the_challenge_costs(200)
    assert small == big
    assert big[1] <= challenge.question_count * services.CANDIDATES_PER_QUESTION
