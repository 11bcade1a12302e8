"""The settings a teacher gives a quiz in the admin, as a learner meets them: attempts
allowed, opening and closing times, when answers are shown, and navigation in order."""

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.apps import apps
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import selectors, services
from learning.forms import QuizAdminForm
from learning.models import (
    Attempt,
    AttemptState,
    FeedbackTiming,
    Navigation,
    Question,
    Quiz,
    QuizKind,
    Response,
    TopicProgress,
)
from learning.question_types.picking import ChoiceAnswer
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

MONDAY_9AM = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
EXPLANATION = "Calcium binds troponin, which is why."
# What feedback is made of: the verdict, the right answer, per-option feedback, the "why".
VERDICTS = (
    "verdict verdict-",
    "Not right",
    "Partly right",
    "is-correct",
    "tag-right",
    "Feedback on",
    EXPLANATION,
    "Why",
    "Read in the lesson",
)


@pytest.fixture
def exam():
    """A three-question quiz whose explanations carry a marker."""
    topic = TopicFactory(slug="exam", title="Exam")
    LessonFactory(topic=topic)
    for index in range(3):
        QuestionFactory(topic=topic, key=f"exam-{index}", explanation=EXPLANATION)
    return QuizFactory(topic=topic, question_count=3, shuffle_questions=False)


def start(client, quiz: Quiz) -> Attempt:
    assert quiz.topic is not None
    client.post(reverse("learning:start_quiz", args=[quiz.topic.slug]))
    return Attempt.objects.latest("id")


def url(attempt: Attempt, position: int) -> str:
    return reverse("learning:question", args=[attempt.pk, position])


def question_at(attempt: Attempt, position: int) -> Question:
    return Question.objects.get(pk=attempt.question_ids[position - 1])


def result_url(attempt: Attempt) -> str:
    return reverse("learning:result", args=[attempt.pk])


def assert_no_verdict(response) -> None:
    html = response.content.decode()
    for leak in VERDICTS:
        assert leak not in html, leak
    for name, value in response.headers.items():
        assert "right" not in value.lower() or name == "Content-Security-Policy", name


def set_feedback(quiz: Quiz, timing: str, **fields) -> None:
    quiz.feedback_timing = timing
    for name, value in fields.items():
        setattr(quiz, name, value)
    quiz.save()


# -- when answers are shown -------------------------------------------------------------


class TestAnswersAfterTheAttempt:
    def test_htmx_answering_says_saved_and_moves_on_without_a_verdict(self, learner_client, exam):
        set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
        attempt = start(learner_client, exam)
        response = learner_client.post(
            url(attempt, 1),
            answer_post(question_at(attempt, 1), right=False, attempt=attempt),
            **HTMX,
        )
        assert response.status_code == 200
        assertContains(response, "Answer saved.", count=2)  # on the page and announced
        assertContains(response, "Question 2 of 3")
        assertContains(response, question_at(attempt, 2).prompt)
        assert response.headers["HX-Push-Url"] == url(attempt, 2)
        assert json.loads(response.headers["HX-Trigger"]) == {"progress-changed": {}}
        assert_no_verdict(response)
        for headers in ({}, HTMX):
            again = learner_client.get(url(attempt, 1), **headers)
            assertContains(again, "Answer saved.")
            assertContains(again, "shown when you finish the attempt")
            assert_no_verdict(again)

    def test_without_javascript_answering_goes_on_to_the_next_question(self, learner_client, exam):
        set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
        attempt = start(learner_client, exam)
        response = learner_client.post(
            url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt=attempt)
        )
        assertRedirects(response, url(attempt, 2), fetch_redirect_response=False)
        page = learner_client.get(url(attempt, 2))
        assertContains(page, "Answer saved.")
        assert_no_verdict(page)

    def test_the_last_answer_goes_to_the_result_which_shows_everything(self, learner_client, exam):
        set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
        attempt = start(learner_client, exam)
        for position in (1, 2):
            learner_client.post(
                url(attempt, position),
                answer_post(question_at(attempt, position), True, attempt=attempt),
            )
        last = learner_client.post(
            url(attempt, 3), answer_post(question_at(attempt, 3), False, attempt=attempt), **HTMX
        )
        assert last.headers["HX-Redirect"] == result_url(attempt)
        result = learner_client.get(result_url(attempt))
        assertContains(result, "You scored 67%")
        assertContains(result, EXPLANATION, count=3)
        assertContains(result, "Not right")
        assertContains(learner_client.get(url(attempt, 3)), "Not right")

    def test_the_last_answer_without_javascript_goes_to_the_result(self, learner_client, exam):
        set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
        attempt = start(learner_client, exam)
        for position in (1, 2, 3):
            response = learner_client.post(
                url(attempt, position),
                answer_post(question_at(attempt, position), True, attempt=attempt),
            )
        assertRedirects(response, result_url(attempt))


class TestAnswersAfterTheQuizCloses:
    def test_nothing_is_revealed_before_the_close_and_everything_after(
        self, learner_client, learner, exam
    ):
        closes = MONDAY_9AM + timedelta(days=3)
        set_feedback(exam, FeedbackTiming.AFTER_CLOSE, closes_at=closes)
        with time_machine.travel(MONDAY_9AM, tick=False):
            learner_client.force_login(learner)
            quiz_page = learner_client.get(reverse("learning:quiz", args=["exam"]))
            assertContains(quiz_page, "come once the quiz closes, on 26 Nov 2026, 09:00")
            attempt = start(learner_client, exam)
            for position in (1, 2, 3):
                answered = learner_client.post(
                    url(attempt, position),
                    answer_post(question_at(attempt, position), position != 2, attempt=attempt),
                    **HTMX,
                )
                assert_no_verdict(answered)
            result = learner_client.get(result_url(attempt))
            assertContains(result, "You scored 67%")  # the score, yes
            assertContains(result, "Not passed yet")
            assertContains(result, "shown once the quiz closes, on 26 Nov 2026, 09:00")
            assert_no_verdict(result)
            for position in (1, 2, 3):
                assertNotContains(result, question_at(attempt, position).prompt)
                for headers in ({}, HTMX):
                    assert_no_verdict(learner_client.get(url(attempt, position), **headers))
        with time_machine.travel(closes + timedelta(minutes=1), tick=False):
            learner_client.force_login(learner)
            result = learner_client.get(result_url(attempt))
            assertContains(result, EXPLANATION, count=3)
            assertContains(result, "Not right")
            assertContains(learner_client.get(url(attempt, 2), **HTMX), "Not right")

    def test_without_a_closing_time_answers_wait_for_one(self, learner_client, exam):
        set_feedback(exam, FeedbackTiming.AFTER_CLOSE)
        attempt = start(learner_client, exam)
        for position in (1, 2, 3):
            learner_client.post(
                url(attempt, position),
                answer_post(question_at(attempt, position), True, attempt=attempt),
            )
        result = learner_client.get(result_url(attempt))
        assertContains(result, "shown once the quiz closes.")
        assert_no_verdict(result)


def test_with_never_the_result_gives_the_score_and_no_answers_ever(learner_client, learner, exam):
    set_feedback(exam, FeedbackTiming.NEVER)
    with time_machine.travel(MONDAY_9AM, tick=False):
        learner_client.force_login(learner)
        attempt = start(learner_client, exam)
        for position in (1, 2, 3):
            learner_client.post(
                url(attempt, position),
                answer_post(question_at(attempt, position), True, attempt=attempt),
            )
    with time_machine.travel(MONDAY_9AM + timedelta(days=400), tick=False):
        learner_client.force_login(learner)
        result = learner_client.get(result_url(attempt))
        assertContains(result, "You scored 100%")
        assertContains(result, "This quiz does not show the right answers.")
        assert_no_verdict(result)
        assert_no_verdict(learner_client.get(url(attempt, 1)))


def test_answers_shown_right_after_each_answer_stay_the_default(learner_client, exam):
    assert exam.feedback_timing == FeedbackTiming.AFTER_ANSWER
    attempt = start(learner_client, exam)
    response = learner_client.post(
        url(attempt, 1), answer_post(question_at(attempt, 1), False, attempt=attempt), **HTMX
    )
    assertContains(response, "Not right")
    assertContains(response, EXPLANATION)


def answer_wrong(attempt: Attempt, question: Question) -> None:
    choice = question.choices.filter(is_correct=False).first()
    assert choice is not None
    services.record_answer(
        attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([choice.pk]))
    )


def test_review_and_challenge_leave_out_questions_whose_answers_are_withheld(learner, exam):
    """Otherwise a review session or the challenge would show what a quiz holds back, and
    a wrong answer's review falling due in a minute would give its verdict away."""
    other = TopicFactory(slug="other")
    other_question = QuestionFactory(topic=other)
    open_quiz = QuizFactory(topic=other, question_count=1)
    set_feedback(exam, FeedbackTiming.AFTER_CLOSE, closes_at=MONDAY_9AM + timedelta(days=30))
    with time_machine.travel(MONDAY_9AM, tick=False):
        attempt = services.start_attempt(learner=learner, quiz=exam)
        for question in Question.objects.filter(pk__in=attempt.question_ids):
            answer_wrong(attempt, question)
        answer_wrong(services.start_attempt(learner=learner, quiz=open_quiz), other_question)
    with time_machine.travel(MONDAY_9AM + timedelta(hours=1), tick=False):
        assert selectors.review_summary(learner).due_now == 1  # the other topic's only
        review = services.start_attempt(learner=learner, quiz=services.course_quiz("review"))
        assert review.question_ids == [other_question.pk]
        drawn = services.draw_challenge(learner=learner, count=12, rng=random.Random(1))
        assert drawn == [other_question.pk]
    with time_machine.travel(MONDAY_9AM + timedelta(days=31), tick=False):
        assert selectors.review_summary(learner).due_now == 4  # the exam has closed


def test_a_quiz_in_progress_with_answers_after_the_attempt_is_left_out_until_finished(
    learner, exam
):
    set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
    with time_machine.travel(MONDAY_9AM, tick=False):
        attempt = services.start_attempt(learner=learner, quiz=exam)
        first, second, third = (question_at(attempt, p) for p in (1, 2, 3))
        answer_wrong(attempt, first)
    with time_machine.travel(MONDAY_9AM + timedelta(minutes=5), tick=False):
        assert selectors.review_summary(learner).due_now == 0
        answer_wrong(attempt, second)
        answer_wrong(attempt, third)
        assert selectors.review_summary(learner).due_now == 1  # finished: the first is due


# -- attempts allowed --------------------------------------------------------------------


def test_a_quiz_allowing_one_attempt_refuses_a_second(learner_client, exam):
    exam.attempts_allowed = 1
    exam.save()
    quiz_page = learner_client.get(reverse("learning:quiz", args=["exam"]))
    assertContains(quiz_page, "Attempts allowed: <strong>1</strong>; you have used 0.")
    assertContains(quiz_page, "Start the quiz")
    attempt = start(learner_client, exam)
    for position in (1, 2, 3):
        learner_client.post(
            url(attempt, position),
            answer_post(question_at(attempt, position), True, attempt=attempt),
        )
    result = learner_client.get(result_url(attempt))
    assertNotContains(result, "Retake the quiz")
    assertContains(result, "You have used the 1 attempt this quiz allows.")
    quiz_page = learner_client.get(reverse("learning:quiz", args=["exam"]))
    assertContains(quiz_page, "You have used the 1 attempt this quiz allows.")
    assertNotContains(quiz_page, "Retake the quiz")
    refused = learner_client.post(reverse("learning:start_quiz", args=["exam"]), follow=True)
    assertContains(refused, "You have used the 1 attempt this quiz allows.")
    assert Attempt.objects.count() == 1


def test_an_unfinished_attempt_resumes_whatever_the_limit(learner_client, exam):
    exam.attempts_allowed = 1
    exam.save()
    attempt = start(learner_client, exam)
    assert start(learner_client, exam) == attempt
    assertContains(learner_client.get(reverse("learning:quiz", args=["exam"])), "Resume the quiz")


def test_unlimited_attempts_by_default(learner, exam):
    assert exam.attempts_allowed is None
    for _ in range(3):
        attempt = services.start_attempt(learner=learner, quiz=exam)
        services.finish_attempt(attempt=attempt)
    assert services.attempts_used(learner=learner, quiz=exam) == 3


# -- opening and closing -----------------------------------------------------------------


def test_before_it_opens_a_quiz_says_when_and_cannot_start(learner_client, learner, exam):
    exam.opens_at = MONDAY_9AM + timedelta(days=1)
    exam.save()
    with time_machine.travel(MONDAY_9AM, tick=False):
        learner_client.force_login(learner)
        page = learner_client.get(reverse("learning:quiz", args=["exam"]))
        assertContains(page, "This quiz opens on 24 Nov 2026, 09:00.", count=1)
        assertNotContains(page, "Start the quiz")
        learner_client.post(reverse("learning:start_quiz", args=["exam"]))
        assert not Attempt.objects.exists()
    with time_machine.travel(MONDAY_9AM + timedelta(days=1), tick=False):
        learner_client.force_login(learner)
        page = learner_client.get(reverse("learning:quiz", args=["exam"]))
        assertContains(page, "Start the quiz")
        assert start(learner_client, exam).state == AttemptState.IN_PROGRESS


def test_an_attempt_open_when_the_quiz_closes_is_scored_when_the_learner_comes_back(
    learner_client, learner, exam
):
    closes = MONDAY_9AM + timedelta(hours=2)
    exam.closes_at = closes
    exam.save()
    with time_machine.travel(MONDAY_9AM, tick=False):
        learner_client.force_login(learner)
        attempt = start(learner_client, exam)
        learner_client.post(
            url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt=attempt)
        )
        assertContains(learner_client.get(url(attempt, 2)), "Open until")
    with time_machine.travel(closes + timedelta(seconds=1), tick=False):
        learner_client.force_login(learner)
        late = learner_client.post(
            url(attempt, 2), answer_post(question_at(attempt, 2), True, attempt=attempt)
        )
        assertContains(late, "The quiz has closed", status_code=422)
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.EXPIRED
        assert str(attempt.percent) == "33.33"
        assertRedirects(learner_client.get(url(attempt, 3)), result_url(attempt))
        assertContains(
            learner_client.get(result_url(attempt)), "The quiz closed before you finished"
        )
        page = learner_client.get(reverse("learning:quiz", args=["exam"]))
        assertContains(page, "This quiz closed on 23 Nov 2026, 11:00")
        assertNotContains(page, "Start the quiz")
        assertNotContains(page, "Retake the quiz")
    assert TopicProgress.objects.get(learner=learner).attempt_count == 1


def test_a_closed_quiz_closes_an_attempt_left_open_on_the_dashboard(learner_client, learner, exam):
    exam.closes_at = MONDAY_9AM + timedelta(hours=2)
    exam.save()
    with time_machine.travel(MONDAY_9AM, tick=False):
        attempt = services.start_attempt(learner=learner, quiz=exam)
    with time_machine.travel(MONDAY_9AM + timedelta(days=1), tick=False):
        learner_client.force_login(learner)
        dashboard = learner_client.get(reverse("learning:dashboard"))
    assertContains(dashboard, result_url(attempt))
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.EXPIRED and attempt.percent == 0


# -- navigation --------------------------------------------------------------------------


def test_in_order_a_later_question_cannot_be_opened_or_answered_first(learner_client, exam):
    exam.navigation = Navigation.IN_ORDER
    exam.save()
    attempt = start(learner_client, exam)
    for headers in ({}, HTMX):
        assertRedirects(learner_client.get(url(attempt, 3), **headers), url(attempt, 1))
    skipped = learner_client.post(
        url(attempt, 2), answer_post(question_at(attempt, 2), True, attempt=attempt)
    )
    assertRedirects(skipped, url(attempt, 1))
    assert not Response.objects.exists()
    learner_client.post(
        url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt=attempt)
    )
    assertContains(learner_client.get(url(attempt, 1)), "verdict-right")  # answered: opens
    assertContains(learner_client.get(url(attempt, 2)), "Question 2 of 3")
    assertRedirects(learner_client.get(url(attempt, 3)), url(attempt, 2))


def test_free_navigation_opens_any_question_and_stays_the_default(learner_client, exam):
    assert exam.navigation == Navigation.FREE
    attempt = start(learner_client, exam)
    assertContains(learner_client.get(url(attempt, 3)), question_at(attempt, 3).prompt)


def test_the_course_quizzes_go_in_order_even_when_made_before_the_setting(db):
    for kind in (QuizKind.REVIEW, QuizKind.CHALLENGE):
        Quiz.objects.update_or_create(kind=kind, defaults={"navigation": Navigation.FREE})
    migration = __import__(
        "learning.migrations.0009_quiz_settings", fromlist=["course_sessions_go_in_order"]
    )
    migration.course_sessions_go_in_order(apps, None)
    for kind in (QuizKind.REVIEW, QuizKind.CHALLENGE):
        assert services.course_quiz(kind).navigation == Navigation.IN_ORDER
    assert Quiz.objects.filter(kind=QuizKind.TOPIC).count() == 0


# -- the admin ---------------------------------------------------------------------------


def quiz_form_data(quiz: Quiz, **changes) -> dict[str, object]:
    data: dict[str, object] = {
        "kind": quiz.kind,
        "topic": quiz.topic_id,
        "question_count": quiz.question_count,
        "pass_mark": quiz.pass_mark,
        "shuffle_questions": quiz.shuffle_questions,
        "shuffle_choices": quiz.shuffle_choices,
        "feedback_timing": quiz.feedback_timing,
        "navigation": quiz.navigation,
        "time_limit_minutes": quiz.time_limit_minutes or "",
        "attempts_allowed": quiz.attempts_allowed or "",
        "opens_at": "",
        "closes_at": "",
    }
    return {**data, **changes}


def test_giving_a_quiz_a_time_limit_holds_its_answers_back_until_it_closes(exam):
    form = QuizAdminForm(quiz_form_data(exam, time_limit_minutes=20), instance=exam)
    assert form.is_valid(), form.errors
    assert form.save().feedback_timing == FeedbackTiming.AFTER_CLOSE


def test_a_timed_quiz_keeps_the_feedback_timing_the_teacher_picks(exam):
    picked = quiz_form_data(
        exam, time_limit_minutes=20, feedback_timing=FeedbackTiming.AFTER_ATTEMPT
    )
    form = QuizAdminForm(picked, instance=exam)
    assert form.is_valid(), form.errors
    quiz = form.save()
    assert quiz.feedback_timing == FeedbackTiming.AFTER_ATTEMPT
    # and later, with the time limit already set, "right after each answer" can be chosen
    again = QuizAdminForm(
        quiz_form_data(quiz, feedback_timing=FeedbackTiming.AFTER_ANSWER), instance=quiz
    )
    assert again.is_valid(), again.errors
    assert again.save().feedback_timing == FeedbackTiming.AFTER_ANSWER


def test_a_quiz_must_close_after_it_opens(exam):
    form = QuizAdminForm(
        quiz_form_data(exam, opens_at="2026-11-24 09:00", closes_at="2026-11-23 09:00"),
        instance=exam,
    )
    assert not form.is_valid()
    assert form.errors["closes_at"] == ["The quiz must close after it opens."]


def test_the_teacher_sets_the_quiz_settings_in_the_admin(teacher_client, exam):
    change = reverse("admin:learning_quiz_change", args=[exam.pk])
    page = teacher_client.get(change)
    for text in (
        "When learners may take it",
        "Attempts allowed",
        "Opens at",
        "Closes at",
        "Show answers",
        "After the quiz closes",
        "Navigation",
    ):
        assertContains(page, text)
    data = quiz_form_data(exam, attempts_allowed=2, feedback_timing=FeedbackTiming.NEVER)
    data.update({"closes_at_0": "2026-12-01", "closes_at_1": "17:00", "opens_at_0": ""})
    data.update({"opens_at_1": ""})
    response = teacher_client.post(change, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    exam.refresh_from_db()
    assert exam.attempts_allowed == 2 and exam.feedback_timing == FeedbackTiming.NEVER
    assert exam.closes_at is not None


def test_the_course_quizzes_navigation_is_not_the_teachers_to_change(teacher_client):
    challenge = services.course_quiz(QuizKind.CHALLENGE)
    page = teacher_client.get(reverse("admin:learning_quiz_change", args=[challenge.pk]))
    assertContains(page, "In order: each question only once the ones before it are answered")
    for fixed in ("navigation", "feedback_timing", "time_limit_minutes", "closes_at_0"):
        assertNotContains(page, f'name="{fixed}"')
    assertContains(page, 'name="question_count"')


def test_a_time_limit_says_it_moved_the_answers_to_after_the_close(teacher_client, exam):
    change = reverse("admin:learning_quiz_change", args=[exam.pk])
    data = quiz_form_data(exam, time_limit_minutes=20)
    response = teacher_client.post(change, data, follow=True)
    assertContains(response, "is now “after the quiz closes”")
    exam.refresh_from_db()
    assert exam.feedback_timing == FeedbackTiming.AFTER_CLOSE


def test_a_topic_quiz_without_a_topic_is_refused_in_words(teacher_client):
    add = reverse("admin:learning_quiz_add")
    data = {"question_count": 10, "pass_mark": 70, "feedback_timing": "after_answer"}
    data.update({"navigation": "free", "opens_at_0": "", "opens_at_1": ""})
    data.update({"closes_at_0": "", "closes_at_1": ""})
    response = teacher_client.post(add, data)
    assertContains(response, "A topic quiz needs its topic.")
    assertNotContains(response, "Constraint")


def test_a_challenge_drawn_before_a_quiz_held_its_answers_back_does_not_show_them(
    learner_client, learner, exam
):
    """The learner starts the challenge, then the topic's quiz, which shows its answers
    after the attempt: the challenge's questions of that topic show no verdict either,
    not after answering, not when opened again, not on the challenge's result."""
    set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
    assert exam.topic is not None
    services.mark_lesson_read(learner=learner, topic=exam.topic)
    challenge = services.start_attempt(
        learner=learner, quiz=services.course_quiz("challenge"), rng=random.Random(3)
    )
    start(learner_client, exam)  # now the exam's answers are held back
    for position, question_id in enumerate(challenge.question_ids, start=1):
        question = Question.objects.get(pk=question_id)
        data = answer_post(question, right=False, attempt=challenge)
        answered = learner_client.post(url(challenge, position), data, **HTMX)
        assert answered.status_code == 200
        assert_no_verdict(answered)
        assert_no_verdict(learner_client.get(url(challenge, position)))
    challenge.refresh_from_db()
    assert challenge.is_finished
    result = learner_client.get(result_url(challenge))
    assert_no_verdict(result)
    assertContains(result, "3 answers not shown here")


def test_the_button_says_save_when_answers_come_later_and_check_when_at_once(learner_client, exam):
    attempt = start(learner_client, exam)
    assertContains(learner_client.get(url(attempt, 1)), "Check answer")
    set_feedback(exam, FeedbackTiming.AFTER_ATTEMPT)
    page = learner_client.get(url(attempt, 1))
    assertContains(page, "Save answer")
    assertNotContains(page, "Check answer")
