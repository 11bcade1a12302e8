"""A way on from every page: the result's next step, previous and next lessons, a quiz
started from its lesson counting the lesson as read, and the course progress figure."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import question_types, services
from learning.models import Attempt, Mastery, Question, Quiz, Topic, TopicProgress
from learning.selectors import course_progress, topic_neighbours, topic_rows_for
from learning.versions import current_key
from tests.factories import (
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    TopicProgressFactory,
)

pytestmark = pytest.mark.django_db


def make_course(count: int) -> list[Topic]:
    topics: list[Topic] = []
    for number in range(1, count + 1):
        topic = TopicFactory.create(slug=f"topic-{number}", title=f"Topic {number}", order=number)
        LessonFactory(topic=topic)
        QuizFactory(topic=topic, question_count=2)
        QuestionFactory.create_batch(2, topic=topic)
        topics.append(topic)
    return topics


def take_quiz(learner: User, quiz: Quiz, *, right: bool = True) -> Attempt:
    """Start and answer the whole quiz through the services, every answer right or not."""
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    for question in Question.objects.filter(pk__in=attempt.question_ids):
        answer = question_types.get(question.type).sample_answer(
            current_key(question), right=right
        )
        services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
    attempt.refresh_from_db()
    assert attempt.is_finished
    return attempt


def result_url(attempt: Attempt) -> str:
    return reverse("learning:result", args=[attempt.pk])


class TestTheResultsWayOn:
    def test_after_a_pass_the_main_action_is_the_next_topics_lesson(self, learner_client, learner):
        first, _second, _third = make_course(3)
        attempt = take_quiz(learner, first.quiz)
        response = learner_client.get(result_url(attempt))
        html = response.content.decode()
        main_action = html.index('<a class="button" href="/topics/topic-2/">')
        assert "Read the lesson on Topic 2" in html[main_action : main_action + 120]
        # Retake is still there, secondary and after the way on.
        retake = html.index(
            '<button type="submit" class="button button-secondary">Retake the quiz'
        )
        assert retake > main_action

    def test_after_a_fail_the_main_action_is_the_weakest_topics_retake(
        self, learner_client, learner
    ):
        first, _second = make_course(2)
        attempt = take_quiz(learner, first.quiz, right=False)
        response = learner_client.get(result_url(attempt))
        assertContains(response, "Retake the quiz on Topic 1")
        assert response.context["retake_is_next"]

    def test_a_quiz_with_no_attempts_left_is_never_the_way_on(self, learner_client, learner):
        first, _second = make_course(2)
        Quiz.objects.filter(pk=first.quiz.pk).update(attempts_allowed=1)
        attempt = take_quiz(learner, first.quiz, right=False)
        response = learner_client.get(result_url(attempt))
        assert response.context["next_step"].action == "read"
        assertNotContains(response, "Retake the quiz on Topic 1")
        assertContains(response, "Read the lesson on Topic 2")
        assert not response.context["retake_is_next"]
        # The one retake action, not two side by side.
        assertNotContains(response, 'button-secondary">Retake the quiz</button>')

    def test_it_names_the_same_step_as_the_dashboard(self, learner_client, learner):
        first, _second = make_course(2)
        attempt = take_quiz(learner, first.quiz)
        on_result = learner_client.get(result_url(attempt)).context["next_step"]
        on_dashboard = learner_client.get(reverse("learning:dashboard")).context["next_step"]
        assert on_result == on_dashboard

    def test_the_result_links_to_the_lessons_before_and_after(self, learner_client, learner):
        _first, second, _third = make_course(3)
        attempt = take_quiz(learner, second.quiz)
        response = learner_client.get(result_url(attempt))
        assertContains(response, 'href="/topics/topic-1/" rel="prev"')
        assertContains(response, 'href="/topics/topic-3/" rel="next"')

    def test_its_queries_are_bounded(self, learner_client, learner, django_assert_max_num_queries):
        topics = make_course(6)
        attempt = take_quiz(learner, topics[0].quiz)
        for topic in topics[1:]:
            take_quiz(learner, topic.quiz, right=False)
        # session, user, attempt, its topic's progress, responses, lessons, attempts used;
        # the way on: topics, progress, open attempts, reviews due, neighbours, certificate
        with django_assert_max_num_queries(13):
            learner_client.get(result_url(attempt))


class TestPreviousAndNextLessons:
    def test_the_first_has_no_previous_and_the_last_no_next(self, client):
        first, second, third = make_course(3)
        assert topic_neighbours(first).previous is None
        assert topic_neighbours(first).next == second
        assert topic_neighbours(third).next is None
        first_page = client.get(reverse("learning:lesson", args=[first.slug]))
        assertNotContains(first_page, 'rel="prev"')
        assertContains(first_page, 'href="/topics/topic-2/" rel="next"')
        last_page = client.get(reverse("learning:lesson", args=[third.slug]))
        assertContains(last_page, 'href="/topics/topic-2/" rel="prev"')
        assertNotContains(last_page, 'rel="next"')

    def test_a_draft_topic_is_skipped(self, client):
        first, second, third = make_course(3)
        second.is_published = False
        second.save()
        assert topic_neighbours(first).next == third
        page = client.get(reverse("learning:lesson", args=[third.slug]))
        assertContains(page, 'href="/topics/topic-1/" rel="prev"')
        assertNotContains(page, "topic-2")

    def test_the_lesson_page_costs_few_queries(self, client, django_assert_max_num_queries):
        topics = make_course(11)
        # page versions, the topic with its lesson and quiz, the published topics around it
        # (anonymous)
        with django_assert_max_num_queries(3):
            client.get(reverse("learning:lesson", args=[topics[5].slug]))


class TestStartingTheQuizFromTheLesson:
    def test_the_lesson_says_starting_marks_it_read(self, learner_client):
        (topic,) = make_course(1)
        page = learner_client.get(reverse("learning:lesson", args=[topic.slug]))
        assertContains(page, "Starting the quiz marks this lesson as read.")
        assertContains(page, '<input type="hidden" name="from" value="lesson">')

    def test_it_marks_the_lesson_read(self, learner_client, learner):
        (topic,) = make_course(1)
        response = learner_client.post(
            reverse("learning:start_quiz", args=[topic.slug]), {"from": "lesson"}
        )
        attempt = Attempt.objects.get(learner=learner)
        assert response.url == reverse("learning:attempt", args=[attempt.pk])
        assert TopicProgress.objects.get(learner=learner, topic=topic).lesson_read

    def test_starting_from_the_quiz_page_does_not(self, learner_client, learner):
        (topic,) = make_course(1)
        learner_client.post(reverse("learning:start_quiz", args=[topic.slug]))
        assert Attempt.objects.filter(learner=learner).exists()
        assert not TopicProgress.objects.get(learner=learner, topic=topic).lesson_read

    def test_a_get_marks_nothing(self, learner_client, learner):
        (topic,) = make_course(1)
        response = learner_client.get(
            reverse("learning:start_quiz", args=[topic.slug]), {"from": "lesson"}
        )
        assert response.status_code == 405
        assert not TopicProgress.objects.filter(learner=learner).exists()

    def test_a_quiz_that_cannot_start_marks_nothing(self, learner_client, learner):
        (topic,) = make_course(1)
        topic.questions.update(is_published=False)
        response = learner_client.post(
            reverse("learning:start_quiz", args=[topic.slug]), {"from": "lesson"}, follow=True
        )
        assertContains(response, "no published questions")
        assert not TopicProgress.objects.filter(learner=learner, lesson_read_at__isnull=False)

    def test_a_full_score_no_longer_asks_to_read_the_lesson(self, learner_client, learner):
        first, _second = make_course(2)
        attempt = services.start_attempt(learner=learner, quiz=first.quiz, from_lesson=True)
        for question in first.questions.all():
            answer = question_types.get(question.type).sample_answer(
                current_key(question), right=True
            )
            services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
        course = learner_client.get(reverse("learning:course"))
        assertNotContains(course, 'Read the lesson<span class="visually-hidden"> on Topic 1')
        dashboard = learner_client.get(reverse("learning:dashboard"))
        assert dashboard.context["next_step"].title == "Read the lesson on Topic 2"


class TestCourseProgress:
    def test_it_counts_published_topics_at_familiar_or_better(self, learner):
        topics = make_course(5)
        levels = [Mastery.MASTERED, Mastery.FAMILIAR, Mastery.ATTEMPTED, Mastery.PROFICIENT]
        for topic, level in zip(topics, levels, strict=False):
            TopicProgressFactory(learner=learner, topic=topic, mastery=level)
        draft = TopicFactory(slug="draft", is_published=False)
        TopicProgressFactory(learner=learner, topic=draft, mastery=Mastery.MASTERED)
        progress = course_progress(topic_rows_for(learner))
        assert (progress.done, progress.total) == (3, 5)
        assert progress.text == "3 of 5 topics at familiar or better"
        assert progress.percent == 60

    def test_the_course_page_and_dashboard_show_it(self, learner_client, learner):
        topics = make_course(4)
        TopicProgressFactory(learner=learner, topic=topics[0], mastery=Mastery.FAMILIAR)
        for name in ("learning:course", "learning:dashboard"):
            page = learner_client.get(reverse(name))
            assertContains(page, "1 of 4 topics at familiar or better")
            assertContains(page, '<progress max="100" value="25" aria-label="Course progress">')

    def test_a_visitor_sees_no_progress(self, client):
        make_course(2)
        assertNotContains(client.get(reverse("learning:course")), "Course progress")

    def test_best_percent_is_not_the_measure(self, learner):
        (topic,) = make_course(1)
        TopicProgressFactory(
            learner=learner, topic=topic, mastery=Mastery.ATTEMPTED, best_percent=Decimal(95)
        )
        assert course_progress(topic_rows_for(learner)).done == 0
