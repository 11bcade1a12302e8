from decimal import Decimal

import pytest
from django.utils import timezone

from learning import services
from learning.models import Attempt, AttemptState, Mastery, Response, TopicProgress
from learning.question_types.numeric import NumericAnswer
from learning.question_types.picking import ChoiceAnswer
from tests.factories import QuestionFactory

pytestmark = pytest.mark.django_db


def right_answer(question):
    if question.type == "numeric":
        return NumericAnswer(question.numeric_answer)
    return ChoiceAnswer(frozenset(c.pk for c in question.choices.all() if c.is_correct))


def wrong_answer(question):
    if question.type == "numeric":
        return NumericAnswer(question.numeric_answer + 1000)
    return ChoiceAnswer(
        frozenset([next(c.pk for c in question.choices.all() if not c.is_correct)])
    )


def questions_of(attempt):
    from learning.models import Question

    by_id = Question.objects.in_bulk(attempt.question_ids)
    return [by_id[i] for i in attempt.question_ids]


def test_it_draws_the_quiz_size_from_published_questions_only(learner, quiz, rng):
    QuestionFactory(topic=quiz.topic, is_published=False)
    quiz.question_count = 10
    quiz.save()
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    assert len(attempt.question_ids) == 3
    assert set(attempt.question_ids) == set(
        quiz.topic.questions.filter(is_published=True).values_list("id", flat=True)
    )


def test_it_resumes_the_open_attempt_instead_of_starting_another(learner, quiz, rng):
    first = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    again = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    assert again.pk == first.pk
    assert Attempt.objects.filter(learner=learner).count() == 1


def test_it_refuses_a_quiz_with_no_published_questions(learner, quiz, rng):
    quiz.topic.questions.update(is_published=False)
    with pytest.raises(services.QuizError, match="no published questions"):
        services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    assert not Attempt.objects.exists()


def test_answering_every_question_finishes_and_scores_the_attempt(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    first, second, third = questions_of(attempt)
    services.record_answer(attempt=attempt, question_id=first.pk, answer=right_answer(first))
    services.record_answer(attempt=attempt, question_id=second.pk, answer=right_answer(second))
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.IN_PROGRESS
    services.record_answer(attempt=attempt, question_id=third.pk, answer=wrong_answer(third))

    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FINISHED
    assert attempt.points == Decimal(2)
    assert attempt.percent == Decimal("66.67")
    assert attempt.passed is False
    assert attempt.finished_at is not None
    progress = TopicProgress.objects.get(learner=learner, topic=quiz.topic)
    assert progress.attempt_count == 1
    assert progress.best_percent == Decimal("66.67")
    assert progress.mastery == Mastery.ATTEMPTED


def test_progress_keeps_the_best_score_and_follows_the_mastery_rule(learner, quiz, rng):
    for answers_right in (3, 1):
        attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
        for index, question in enumerate(questions_of(attempt)):
            answer = right_answer(question) if index < answers_right else wrong_answer(question)
            services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
    progress = TopicProgress.objects.get(learner=learner, topic=quiz.topic)
    assert progress.attempt_count == 2
    assert progress.best_percent == Decimal("100.00")
    # 100% made it proficient; 33% then moved it down one level.
    assert progress.mastery == Mastery.FAMILIAR


def test_a_finished_attempt_takes_no_more_answers(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    questions = questions_of(attempt)
    for question in questions:
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=wrong_answer(question)
        )
    with pytest.raises(services.QuizError, match="already finished"):
        services.record_answer(
            attempt=attempt, question_id=questions[0].pk, answer=right_answer(questions[0])
        )
    attempt.refresh_from_db()
    assert attempt.points == 0


def test_a_question_not_drawn_is_refused(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    stranger = QuestionFactory()
    with pytest.raises(services.QuizError, match="not part of this attempt"):
        services.record_answer(
            attempt=attempt, question_id=stranger.pk, answer=right_answer(stranger)
        )
    assert not Response.objects.exists()


def test_a_choice_of_another_question_is_refused(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    single = next(q for q in questions_of(attempt) if q.type == "single")
    stranger_choice = QuestionFactory().choices.first()
    with pytest.raises(services.QuizError, match="does not belong"):
        services.record_answer(
            attempt=attempt,
            question_id=single.pk,
            answer=ChoiceAnswer(frozenset([stranger_choice.pk])),
        )
    assert not Response.objects.exists()


def test_the_same_answer_twice_is_stored_once(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    question = questions_of(attempt)[0]
    first = services.record_answer(
        attempt=attempt, question_id=question.pk, answer=right_answer(question)
    )
    second = services.record_answer(
        attempt=attempt, question_id=question.pk, answer=right_answer(question)
    )
    assert first.pk == second.pk
    assert Response.objects.count() == 1
    attempt.refresh_from_db()
    assert attempt.points == 1


def test_a_different_answer_to_an_answered_question_is_refused(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    question = questions_of(attempt)[0]
    services.record_answer(attempt=attempt, question_id=question.pk, answer=wrong_answer(question))
    with pytest.raises(services.QuizError, match="already answered"):
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=right_answer(question)
        )
    assert Response.objects.get().points == 0


def test_a_teachers_later_edit_does_not_rewrite_a_past_answer(learner, quiz, rng):
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
    single = next(q for q in questions_of(attempt) if q.type == "single")
    services.record_answer(attempt=attempt, question_id=single.pk, answer=right_answer(single))

    single.prompt = "A reworded prompt"
    single.save()
    single.choices.update(is_correct=False)

    response = Response.objects.get(question=single)
    assert response.points == 1
    assert response.question_snapshot["prompt"] != "A reworded prompt"
    assert any(c["is_correct"] for c in response.question_snapshot["choices"])


def test_marking_a_lesson_read_twice_keeps_the_first_time(learner, quiz):
    first = services.mark_lesson_read(learner=learner, topic=quiz.topic)
    read_at = first.lesson_read_at
    again = services.mark_lesson_read(learner=learner, topic=quiz.topic)
    assert again.lesson_read_at == read_at
    assert again.lesson_read_at <= timezone.now()
    assert TopicProgress.objects.count() == 1
