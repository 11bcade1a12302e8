import random
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import selectors, services
from learning.models import Attempt, AttemptState, Question, Response, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db


def question_url(attempt: Attempt, position: int) -> str:
    return reverse("learning:question", args=[attempt.pk, position])


def question_at(attempt: Attempt, position: int) -> Question:
    return Question.objects.get(pk=attempt.question_ids[position - 1])


@pytest.fixture
def attempt(learner, quiz, rng) -> Attempt:
    return services.start_attempt(learner=learner, quiz=quiz, rng=rng)


class TestStartingAQuiz:
    def test_the_quiz_page_shows_its_size_and_pass_mark(self, learner_client, quiz):
        response = learner_client.get(reverse("learning:quiz", args=[quiz.topic.slug]))
        assertContains(response, "3</strong> questions")
        assertContains(response, "70%")
        assertContains(response, "Start the quiz")

    def test_starting_redirects_to_the_first_question(self, learner_client, learner, quiz):
        response = learner_client.post(reverse("learning:start_quiz", args=[quiz.topic.slug]))
        attempt = Attempt.objects.get(learner=learner)
        assertRedirects(
            response, reverse("learning:attempt", args=[attempt.pk]), target_status_code=302
        )
        response = learner_client.get(reverse("learning:attempt", args=[attempt.pk]))
        assertRedirects(response, question_url(attempt, 1))

    def test_an_unfinished_attempt_resumes_where_it_stopped(self, learner_client, attempt):
        first = question_at(attempt, 1)
        learner_client.post(
            question_url(attempt, 1), answer_post(first, right=True, attempt=attempt)
        )
        response = learner_client.get(reverse("learning:attempt", args=[attempt.pk]))
        assertRedirects(response, question_url(attempt, 2))
        page = learner_client.get(reverse("learning:quiz", args=[attempt.quiz.topic.slug]))
        assertContains(page, "Resume the quiz")

    def test_a_quiz_page_needs_a_login(self, client, quiz):
        url = reverse("learning:quiz", args=[quiz.topic.slug])
        response = client.get(url)
        assertRedirects(response, f"{reverse('login')}?next={url}")

    def test_an_unknown_topic_is_404(self, learner_client, quiz):
        assert (
            learner_client.get(reverse("learning:quiz", args=["no-such-topic"])).status_code == 404
        )
        response = learner_client.post(reverse("learning:start_quiz", args=["no-such-topic"]))
        assert response.status_code == 404

    def test_a_quiz_without_published_questions_says_so(self, learner_client, quiz):
        quiz.topic.questions.update(is_published=False)
        url = reverse("learning:start_quiz", args=[quiz.topic.slug])
        response = learner_client.post(url, follow=True)
        assertContains(response, "no published questions")
        assert not Attempt.objects.exists()

    def test_start_is_post_only(self, learner_client, quiz):
        response = learner_client.get(reverse("learning:start_quiz", args=[quiz.topic.slug]))
        assert response.status_code == 405


class TestAnsweringWithHtmx:
    def test_the_answer_comes_back_as_feedback_in_the_partial(self, learner_client, attempt):
        question = question_at(attempt, 1)
        response = learner_client.post(
            question_url(attempt, 1), answer_post(question, right=True, attempt=attempt), **HTMX
        )
        assert response.status_code == 200
        html = response.content.decode()
        assert "<html" not in html  # a partial, not a page
        assert 'id="question-panel"' in html
        assertContains(response, "Right")
        assertContains(response, question.explanation)
        assertContains(response, "1 of 3 answered")
        assertContains(response, f"{question.topic.get_absolute_url()}#calcium")
        assert "progress-changed" in response.headers["HX-Trigger"]

    def test_a_wrong_answer_shows_the_right_one_and_the_picked_feedback(
        self, learner_client, attempt
    ):
        position, question = next(
            (p, question_at(attempt, p))
            for p in range(1, 4)
            if question_at(attempt, p).type == "single"
        )
        response = learner_client.post(
            question_url(attempt, position),
            answer_post(question, right=False, attempt=attempt),
            **HTMX,
        )
        assertContains(response, "Not right")
        assertContains(response, "right answer")
        assertContains(response, "Feedback on Wrong one.")

    def test_the_next_question_arrives_as_a_partial(self, learner_client, attempt):
        learner_client.post(
            question_url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt)
        )
        response = learner_client.get(question_url(attempt, 2), **HTMX)
        assert "<html" not in response.content.decode()
        assertContains(response, question_at(attempt, 2).prompt)
        assertContains(response, "Question 2 of 3")

    def test_the_next_question_brings_its_tab_title_and_focuses_its_heading(
        self, learner_client, attempt
    ):
        learner_client.post(
            question_url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt)
        )
        response = learner_client.get(question_url(attempt, 2), **HTMX)
        title = f"<title>Question 2 of 3 · {attempt.quiz.title} · Muscle Spasms, Explained</title>"
        assert response.content.decode().lstrip().startswith(title)
        assertContains(
            response, 'id="question-heading" class="question-heading" tabindex="-1" autofocus'
        )

    def test_a_whole_page_neither_repeats_its_title_nor_takes_the_focus(
        self, learner_client, attempt
    ):
        response = learner_client.get(question_url(attempt, 1))
        assertContains(response, "<title>", count=1)
        assertContains(response, f"<title>Question 1 of 3 · {attempt.quiz.title} · ")
        assertNotContains(response, "autofocus")

    def test_a_refused_answer_is_a_422_with_the_question_and_its_title(
        self, learner_client, attempt
    ):
        question = question_at(attempt, 1)
        response = learner_client.post(question_url(attempt, 1), {"question": question.pk}, **HTMX)
        assert response.status_code == 422  # htmx swaps it in; django-htmx's debug page does not
        assertContains(response, "<title>Question 1 of 3 · ", status_code=422)
        assertContains(response, 'id="answer-errors"', status_code=422)
        assertContains(response, question.prompt, status_code=422)


class TestAnsweringWithoutJavaScript:
    def test_post_redirects_to_the_same_question_which_shows_feedback(
        self, learner_client, attempt
    ):
        question = question_at(attempt, 1)
        response = learner_client.post(
            question_url(attempt, 1), answer_post(question, right=True, attempt=attempt)
        )
        assertRedirects(response, question_url(attempt, 1))
        page = learner_client.get(question_url(attempt, 1))
        assertContains(page, "<html")
        assertContains(page, "Right")
        assertContains(page, "Next question")

    def test_the_last_answer_finishes_and_links_to_the_result(self, learner_client, attempt):
        for position in (1, 2, 3):
            question = question_at(attempt, position)
            learner_client.post(
                question_url(attempt, position), answer_post(question, position != 3, attempt)
            )
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.FINISHED
        page = learner_client.get(question_url(attempt, 3))
        assertContains(page, "See your result")
        result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
        assertContains(result, "You scored 67%")
        assertContains(result, "Not passed yet")
        for position in (1, 2, 3):
            assertContains(result, question_at(attempt, position).prompt)


class TestBadInput:
    def test_no_answer_is_a_422_with_a_message_and_stores_nothing(self, learner_client, attempt):
        question = question_at(attempt, 1)
        response = learner_client.post(question_url(attempt, 1), {"question": question.pk}, **HTMX)
        assert response.status_code == 422
        assert b"Pick" in response.content or b"Type a number" in response.content
        assert not Response.objects.exists()

    def test_a_choice_of_another_question_is_a_422(self, learner_client, attempt):
        position = next(p for p in (1, 2, 3) if question_at(attempt, p).type == "single")
        stranger = QuestionFactory().choices.first()
        data = {"question": question_at(attempt, position).pk, "choice": stranger.pk}
        response = learner_client.post(question_url(attempt, position), data)
        assertContains(response, "does not belong to this question", status_code=422)
        assert not Response.objects.exists()

    def test_a_question_not_drawn_in_the_attempt_is_a_422(self, learner_client, attempt):
        stranger = QuestionFactory()
        data = answer_post(stranger, right=True, attempt=attempt)
        response = learner_client.post(question_url(attempt, 1), data)
        assertContains(response, "not the one on this screen", status_code=422)
        assert not Response.objects.exists()

    def test_a_number_that_is_not_a_number_is_a_422(self, learner_client, attempt):
        position = next(p for p in (1, 2, 3) if question_at(attempt, p).type == "numeric")
        data = {"question": question_at(attempt, position).pk, "value": "fifteen"}
        response = learner_client.post(question_url(attempt, position), data)
        assertContains(response, "Enter a number", status_code=422)

    def test_the_same_answer_twice_stores_one_response_and_gives_the_same_feedback(
        self, learner_client, attempt
    ):
        question = question_at(attempt, 1)
        data = answer_post(question, right=False, attempt=attempt)
        first = learner_client.post(question_url(attempt, 1), data, **HTMX)
        again = learner_client.post(question_url(attempt, 1), data, **HTMX)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        assert Response.objects.count() == 1
        plain = learner_client.post(question_url(attempt, 1), data)
        assertRedirects(plain, question_url(attempt, 1))
        assert Response.objects.count() == 1

    def test_a_different_second_answer_is_refused_and_changes_nothing(
        self, learner_client, attempt
    ):
        question = question_at(attempt, 1)
        learner_client.post(
            question_url(attempt, 1), answer_post(question, right=False, attempt=attempt)
        )
        response = learner_client.post(
            question_url(attempt, 1), answer_post(question, right=True, attempt=attempt)
        )
        assertContains(response, "answers cannot be changed", status_code=422)
        assert Response.objects.get().points == 0

    def test_answering_a_finished_attempt_is_a_422_and_keeps_the_score(
        self, learner_client, attempt
    ):
        for position in (1, 2, 3):
            question = question_at(attempt, position)
            learner_client.post(
                question_url(attempt, position), answer_post(question, False, attempt)
            )
        attempt.refresh_from_db()
        before = attempt.points
        question = question_at(attempt, 1)
        response = learner_client.post(
            question_url(attempt, 1), answer_post(question, True, attempt)
        )
        assertContains(response, "already answered", status_code=422)
        attempt.refresh_from_db()
        assert attempt.points == before

    def test_a_position_outside_the_attempt_is_404(self, learner_client, attempt):
        assert learner_client.get(question_url(attempt, 4)).status_code == 404
        assert learner_client.get(question_url(attempt, 0)).status_code == 404

    def test_an_unknown_attempt_is_404(self, learner_client, attempt):
        assert (
            learner_client.get(reverse("learning:attempt", args=[attempt.pk + 99])).status_code
            == 404
        )


class TestOtherLearnersAttempts:
    def test_every_attempt_url_is_404_for_another_learner(self, client, other_learner, attempt):
        client.force_login(other_learner)
        question = question_at(attempt, 1)
        urls = [
            reverse("learning:attempt", args=[attempt.pk]),
            question_url(attempt, 1),
            reverse("learning:result", args=[attempt.pk]),
        ]
        for url in urls:
            assert client.get(url).status_code == 404, url
        response = client.post(question_url(attempt, 1), answer_post(question, True, attempt))
        assert response.status_code == 404
        assert not Response.objects.exists()


class TestResultAndRetake:
    def finish(self, client, attempt, right: bool = True) -> None:
        for position in range(1, attempt.question_total + 1):
            question = question_at(attempt, position)
            client.post(question_url(attempt, position), answer_post(question, right, attempt))

    def test_an_unfinished_result_redirects_to_the_quiz(self, learner_client, attempt):
        response = learner_client.get(reverse("learning:result", args=[attempt.pk]))
        assertRedirects(
            response, reverse("learning:attempt", args=[attempt.pk]), fetch_redirect_response=False
        )

    def test_a_passed_result_shows_pass_and_mastery(self, learner_client, attempt):
        self.finish(learner_client, attempt)
        response = learner_client.get(reverse("learning:result", args=[attempt.pk]))
        assertContains(response, "You scored 100%")
        assertContains(response, "Passed")
        assertContains(response, "Proficient")
        assertContains(response, f"<title>You scored 100% · {attempt.quiz.title} · ")

    def test_a_retake_draws_a_fresh_order(self, learner_client, learner):
        topic = TopicFactory()
        for _ in range(12):
            QuestionFactory(topic=topic)
        quiz = QuizFactory(topic=topic, question_count=12)
        orders = set()
        for _ in range(4):
            learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
            attempt = Attempt.objects.filter(learner=learner).latest("id")
            orders.add(tuple(attempt.question_ids))
            self.finish(learner_client, attempt)
        assert Attempt.objects.filter(learner=learner, quiz=quiz).count() == 4
        assert len(orders) > 1  # 12! orders: four equal draws would be a broken shuffle
        assert TopicProgress.objects.get(learner=learner, topic=topic).attempt_count == 4


class TestQueryBudget:
    def test_a_question_page_costs_the_same_however_big_the_quiz_and_history(
        self, learner_client, learner, django_assert_max_num_queries
    ):
        topic = TopicFactory()
        for _ in range(40):
            QuestionFactory(topic=topic)
        quiz = QuizFactory(topic=topic, question_count=30)
        for _ in range(3):
            done = services.start_attempt(learner=learner, quiz=quiz)
            for question_id in done.question_ids:
                question = Question.objects.get(pk=question_id)
                services.record_answer(
                    attempt=done,
                    question_id=question_id,
                    answer=ChoiceAnswer(frozenset([question.choices.first().pk])),
                )
        attempt = services.start_attempt(learner=learner, quiz=quiz)
        for position in range(1, 21):
            learner_client.post(
                question_url(attempt, position),
                answer_post(question_at(attempt, position), True, attempt),
            )

        # session, user, attempt with its quiz, topic and lesson, the question with its topic
        # and whether it is answered, its choices
        with django_assert_max_num_queries(5):
            response = learner_client.get(question_url(attempt, 21))
        assertContains(response, "Question 21 of 30")
        # ... and an answered one: its response with its version replaces the choices (the
        # lesson, for the section title, came with the attempt)
        with django_assert_max_num_queries(5):
            response = learner_client.get(question_url(attempt, 20))
        assertContains(response, "20 of 30 answered")


def test_a_question_deleted_mid_attempt_is_taken_out_not_a_crash(learner_client, attempt):
    learner_client.post(
        question_url(attempt, 1), answer_post(question_at(attempt, 1), True, attempt)
    )
    question_at(attempt, 2).delete()
    response = learner_client.get(question_url(attempt, 2), follow=True)
    assertContains(response, "withdrawn by your teacher")
    attempt.refresh_from_db()
    assert attempt.question_total == 2
    assertContains(response, "Question 2 of 2")
    last = question_at(attempt, 2)
    learner_client.post(question_url(attempt, 2), answer_post(last, True, attempt))
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FINISHED
    assert attempt.percent == 100


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"question": "not-a-number", "choice": "1"},
        {"question": "99999999999999999999999", "choice": "1"},
        {"choice": "99999999999999999999999"},
        {"value": "NaN"},
        {"value": "1e999999"},
        {"value": "Infinity"},
        {"choice": ["1", "2", "3"]},
        {"choice": "", "value": ""},
    ],
)
def test_malformed_answers_get_a_422_and_change_nothing(learner_client, attempt, data):
    for position in (1, 2, 3):
        posted = {"question": question_at(attempt, position).pk, **data}
        response = learner_client.post(question_url(attempt, position), posted, **HTMX)
        assert response.status_code == 422, (position, data)
    attempt.refresh_from_db()
    assert attempt.points == 0
    assert not Response.objects.exists()


def test_huge_ids_in_urls_are_404(learner_client):
    huge = "99999999999999999999999"
    for url in (
        f"/attempts/{huge}/",
        f"/attempts/{huge}/questions/1/",
        f"/attempts/{huge}/result/",
    ):
        assert learner_client.get(url).status_code == 404


class TestTypedQuestions:
    @pytest.fixture
    def typed_attempt(self, learner, rng):
        from tests.factories import MatchingQuestionFactory, ShortAnswerQuestionFactory

        topic = TopicFactory()
        ShortAnswerQuestionFactory(topic=topic, key="short")
        MatchingQuestionFactory(topic=topic, key="match")
        quiz = QuizFactory(topic=topic, question_count=2, shuffle_questions=False)
        return services.start_attempt(learner=learner, quiz=quiz, rng=rng)

    def test_a_short_answer_ignores_case_and_space_and_shows_the_accepted_answers(
        self, learner_client, typed_attempt
    ):
        position = 1 if question_at(typed_attempt, 1).type == "short_answer" else 2
        question = question_at(typed_attempt, position)
        page = learner_client.get(question_url(typed_attempt, position))
        assertContains(page, 'name="text"')
        assert "Calcium" not in page.content.decode()  # no answer key before answering
        data = {**answer_post(question, right=True, attempt=typed_attempt), "text": "  cALCIUM  "}
        response = learner_client.post(question_url(typed_attempt, position), data, **HTMX)
        assertContains(response, "Right")
        assertContains(response, "Accepted answers")
        assertContains(response, "50% credit")
        assert Response.objects.get(question=question).points == 1

    def test_matching_scores_the_share_of_pairs_and_reviews_each_pair(
        self, learner_client, typed_attempt
    ):
        position = 1 if question_at(typed_attempt, 1).type == "matching" else 2
        question = question_at(typed_attempt, position)
        page = learner_client.get(question_url(typed_attempt, position))
        assertContains(page, "Choose a match…")
        data = answer_post(question, right=True, attempt=typed_attempt)
        first_pair = question.choices.first()
        codes = selectors.attempt_option_codes(typed_attempt, question, question.choices.all())
        data[f"match-{codes.code(first_pair.pk)}"] = "Seizure jerks"  # one of three wrong
        response = learner_client.post(question_url(typed_attempt, position), data, **HTMX)
        assertContains(response, "Partly right")
        assertContains(response, "Your match")
        assert Response.objects.get(question=question).points == Decimal("0.6667")

    def test_a_matching_answer_with_an_invented_option_is_a_422(
        self, learner_client, typed_attempt
    ):
        position = 1 if question_at(typed_attempt, 1).type == "matching" else 2
        question = question_at(typed_attempt, position)
        data = answer_post(question, right=True, attempt=typed_attempt)
        codes = selectors.attempt_option_codes(typed_attempt, question, question.choices.all())
        data[f"match-{codes.code(question.choices.first().pk)}"] = "Something I made up"
        response = learner_client.post(question_url(typed_attempt, position), data)
        assertContains(response, "Choose one of the matches offered", status_code=422)
        assert not Response.objects.exists()

    def test_a_refused_matching_answer_points_each_select_at_the_error_it_shows(
        self, learner_client, typed_attempt
    ):
        """A screen reader on an invalid select reads the error: every aria-describedby
        names an element the page has (it named a `<id>_error` that none had)."""
        position = 1 if question_at(typed_attempt, 1).type == "matching" else 2
        question = question_at(typed_attempt, position)
        data = answer_post(question, right=True, attempt=typed_attempt)
        codes = selectors.attempt_option_codes(typed_attempt, question, question.choices.all())
        data[f"match-{codes.code(question.choices.first().pk)}"] = "Something I made up"
        page = learner_client.post(question_url(typed_attempt, position), data).content.decode()
        described = re.findall(r'aria-describedby="([^"]+)"', page)
        assert described
        for ids in described:
            for element_id in ids.split():
                assert f'id="{element_id}"' in page, element_id


def test_the_feedback_lists_the_options_in_the_order_the_question_showed_them(
    learner_client, learner
):
    topic = TopicFactory()
    LessonFactory(topic=topic)
    QuestionFactory(
        topic=topic,
        choices=[("Alpha", True), ("Bravo", False), ("Charlie", False), ("Delta", False)],
    )
    quiz = QuizFactory(topic=topic, question_count=1, shuffle_choices=True)
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=random.Random(7))
    page = learner_client.get(question_url(attempt, 1)).content.decode()
    shown = re.findall(r">(Alpha|Bravo|Charlie|Delta)</label>", page)
    assert shown != ["Alpha", "Bravo", "Charlie", "Delta"]  # really shuffled with this seed
    answered = learner_client.post(
        question_url(attempt, 1),
        answer_post(question_at(attempt, 1), right=True, attempt=attempt),
        **HTMX,
    ).content.decode()
    assert re.findall(r"<span>(Alpha|Bravo|Charlie|Delta)</span>", answered) == shown
