"""Drafts: a topic or question that is not published is invisible to learners (course
page, dashboard, lessons, quizzes, review and the challenge); teachers publish and
unpublish them from the admin lists, and can still read a draft topic's lesson."""

import random
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains, assertNotContains

from learning import selectors, services
from learning.models import Attempt, AttemptState, Question, QuizKind, ReviewCard, Topic
from learning.question_types.picking import ChoiceAnswer
from tests.factories import (
    LessonFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    TopicProgressFactory,
)
from tests.helpers import answer_post

pytestmark = pytest.mark.django_db


def make_topic(slug: str, *, published: bool = True, questions: int = 3) -> Topic:
    topic = TopicFactory.create(
        slug=slug, title=slug.replace("-", " ").title(), is_published=published
    )
    LessonFactory(topic=topic)
    QuizFactory(topic=topic, question_count=questions)
    for number in range(questions):
        QuestionFactory(topic=topic, key=f"{slug}-{number}")
    return topic


@pytest.fixture
def published():
    return make_topic("cramps")


@pytest.fixture
def draft():
    return make_topic("heat-draft", published=False)


def test_a_new_topic_starts_as_a_draft():
    assert Topic.objects.create(slug="new", title="New").is_published is False


def test_a_topic_added_in_the_admin_is_a_draft_until_published(teacher_client):
    data = {"title": "Heat cramps", "slug": "heat-cramps", "order": "9", "summary": "Heat."}
    for prefix in ("lesson", "quiz"):
        data |= {f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"}
    response = teacher_client.post(reverse("admin:learning_topic_add"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Topic.objects.get(slug="heat-cramps").is_published is False


class TestLearnersDoNotSeeDrafts:
    def test_the_course_page_lists_only_published_topics(self, client, published, draft):
        response = client.get(reverse("learning:course"))
        assertContains(response, published.title)
        assertNotContains(response, draft.title)
        assertNotContains(response, draft.slug)

    def test_the_dashboard_and_next_step_leave_draft_topics_out(
        self, learner_client, learner, published, draft, django_assert_max_num_queries
    ):
        TopicProgressFactory(learner=learner, topic=published, lesson_read_at=timezone.now())
        TopicProgressFactory(learner=learner, topic=draft)
        # session, user, page versions, timed attempts, published topics, progress, open
        # attempts, reviews due, score history, answers per day, count of attempts, classes,
        # certificate
        with django_assert_max_num_queries(13):
            response = learner_client.get(reverse("learning:dashboard"))
        assertNotContains(response, draft.title)
        assert [row.topic for row in response.context["rows"]] == [published]
        assert response.context["next_step"].title == f"Take the quiz on {published.title}"

    def test_the_course_page_costs_the_same_with_drafts(
        self, learner_client, published, draft, django_assert_max_num_queries
    ):
        # session, user, page versions, timed attempts, published topics, progress, open
        # attempts, reviews due
        with django_assert_max_num_queries(8):
            response = learner_client.get(reverse("learning:course"))
        assert [row.topic for row in response.context["rows"]] == [published]

    @pytest.mark.parametrize("name", ["lesson", "quiz"])
    def test_a_draft_topics_pages_are_404_for_a_learner(self, learner_client, draft, name):
        response = learner_client.get(reverse(f"learning:{name}", args=[draft.slug]))
        assert response.status_code == 404

    def test_a_draft_topics_lesson_is_404_for_a_visitor(self, client, draft):
        assert client.get(reverse("learning:lesson", args=[draft.slug])).status_code == 404

    def test_starting_a_draft_topics_quiz_is_a_404_and_starts_nothing(self, learner_client, draft):
        response = learner_client.post(reverse("learning:start_quiz", args=[draft.slug]))
        assert response.status_code == 404
        assert not Attempt.objects.exists()

    def test_marking_a_draft_lesson_read_is_a_404(self, learner_client, learner, draft):
        response = learner_client.post(reverse("learning:mark_read", args=[draft.slug]))
        assert response.status_code == 404
        assert not learner.topic_progress.exists()

    def test_the_service_refuses_to_start_a_draft_topics_quiz(self, learner, draft):
        with pytest.raises(services.QuizError, match="not open to learners"):
            services.start_attempt(learner=learner, quiz=draft.quiz)

    def test_a_draft_question_is_never_drawn(self, learner, published):
        hidden = QuestionFactory(topic=published, key="hidden", is_published=False)
        attempt = services.start_attempt(learner=learner, quiz=published.quiz)
        assert hidden.pk not in attempt.question_ids
        assert len(attempt.question_ids) == 3


def test_a_published_topic_without_a_lesson_links_to_a_page_not_a_404(learner_client):
    # An import makes a topic with questions and no lesson; a teacher adds a quiz and
    # publishes it. Every link to the topic must lead somewhere: to its quiz.
    topic = TopicFactory.create(slug="imported", title="Imported", is_published=True)
    QuizFactory(topic=topic, question_count=1)
    QuestionFactory(topic=topic, key="imported-0")
    course = learner_client.get(reverse("learning:course"))
    assertContains(course, reverse("learning:lesson", args=["imported"]))

    page = learner_client.get(reverse("learning:lesson", args=["imported"]))
    assertContains(page, "This topic has no lesson yet.")
    assertContains(page, reverse("learning:quiz", args=["imported"]))
    assertNotContains(page, "Mark as read")


class TestTeachersStillSeeDrafts:
    def test_a_teacher_reads_a_draft_lesson_marked_as_a_draft(self, teacher_client, draft):
        response = teacher_client.get(reverse("learning:lesson", args=[draft.slug]))
        assertContains(response, "learners do not see this topic until it is published")
        assertNotContains(response, reverse("learning:mark_read", args=[draft.slug]))
        assertNotContains(response, reverse("learning:quiz", args=[draft.slug]))

    def test_the_quiz_preview_says_the_topic_is_a_draft(self, teacher_client, draft):
        response = teacher_client.get(reverse("admin:learning_quiz_preview", args=[draft.quiz.pk]))
        assertContains(response, "The topic is a draft")
        assertContains(response, "3 published questions")


class TestAnAttemptAlreadyStarted:
    """Unpublishing a topic or a question stops new attempts, not one already open: the
    learner may finish it, and its result stays theirs."""

    def test_it_can_be_finished_after_its_topic_is_unpublished(
        self, learner_client, learner, published
    ):
        attempt = services.start_attempt(learner=learner, quiz=published.quiz)
        Topic.objects.filter(pk=published.pk).update(is_published=False)
        for position, question_id in enumerate(attempt.question_ids, start=1):
            question = Question.objects.get(pk=question_id)
            url = reverse("learning:question", args=[attempt.pk, position])
            assert learner_client.get(url).status_code == 200
            response = learner_client.post(url, answer_post(question, True, attempt))
            assert response.status_code == 302
        attempt.refresh_from_db()
        assert attempt.state == AttemptState.FINISHED
        assert attempt.percent == 100
        result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
        assertContains(result, "You scored 100%")
        assertContains(result, "its quiz cannot be taken again")
        assertNotContains(result, reverse("learning:lesson", args=[published.slug]))
        assertNotContains(result, reverse("learning:start_quiz", args=[published.slug]))

    def test_a_question_unpublished_mid_attempt_can_still_be_answered(
        self, learner_client, learner, published
    ):
        attempt = services.start_attempt(learner=learner, quiz=published.quiz)
        question = Question.objects.get(pk=attempt.question_ids[0])
        Question.objects.filter(pk=question.pk).update(is_published=False)
        url = reverse("learning:question", args=[attempt.pk, 1])
        response = learner_client.post(url, answer_post(question, True, attempt))
        assert response.status_code == 302
        assert attempt.responses.filter(question=question).exists()

    def test_no_new_attempt_starts_once_it_is_finished(self, learner, published):
        attempt = services.start_attempt(learner=learner, quiz=published.quiz)
        Topic.objects.filter(pk=published.pk).update(is_published=False)
        published.refresh_from_db()
        for question_id in attempt.question_ids:
            question = Question.objects.get(pk=question_id)
            choice = question.choices.get(is_correct=True)
            services.record_answer(
                attempt=attempt,
                question_id=question_id,
                answer=ChoiceAnswer(frozenset([choice.pk])),
            )
        with pytest.raises(services.QuizError):
            services.start_attempt(learner=learner, quiz=published.quiz)


class TestReviewAndChallenge:
    def cards_due(self, learner, *questions: Question) -> None:
        for question in questions:
            ReviewCard.objects.create(
                learner=learner, question=question, state=2, due=timezone.now() - timedelta(1)
            )

    def test_cards_of_draft_questions_and_draft_topics_are_not_due(
        self, learner_client, learner, published, draft
    ):
        shown, hidden_question = published.questions.all()[:2]
        hidden_question.is_published = False
        hidden_question.save(update_fields=["is_published"])
        self.cards_due(learner, shown, hidden_question, draft.questions.first())
        assert selectors.review_summary(learner).due_now == 1
        review = services.start_attempt(
            learner=learner, quiz=services.course_quiz(QuizKind.REVIEW)
        )
        assert review.question_ids == [shown.pk]
        assertContains(learner_client.get(reverse("learning:course")), "1 question")

    def test_nothing_due_but_draft_cards_means_no_review(self, learner, draft):
        self.cards_due(learner, *draft.questions.all())
        assert selectors.review_summary(learner).due_now == 0
        with pytest.raises(services.QuizError, match="Nothing is due"):
            services.start_attempt(learner=learner, quiz=services.course_quiz(QuizKind.REVIEW))

    def test_the_challenge_draws_only_published_questions_of_published_topics(
        self, learner_client, learner, published, draft
    ):
        hidden = QuestionFactory(topic=published, key="hidden", is_published=False)
        for topic in (published, draft):
            TopicProgressFactory(learner=learner, topic=topic, lesson_read_at=timezone.now())
        drawn = services.draw_challenge(learner=learner, count=50, rng=random.Random(3))
        assert set(drawn) == set(
            published.questions.filter(is_published=True).values_list("pk", flat=True)
        )
        assert hidden.pk not in drawn
        page = learner_client.get(reverse("learning:challenge"))
        assertContains(page, published.title)
        assertNotContains(page, draft.title)


class TestTopicAdmin:
    def test_the_list_shows_and_filters_the_published_state(
        self, teacher_client, published, draft
    ):
        url = reverse("admin:learning_topic_changelist")
        response = teacher_client.get(url)
        assertContains(response, "column-is_published")
        drafts = teacher_client.get(url, {"is_published__exact": "0"})
        assert list(drafts.context["cl"].result_list) == [draft]

    def test_publish_and_unpublish_say_how_many_changed(self, teacher_client, published, draft):
        url = reverse("admin:learning_topic_changelist")
        both = [str(published.pk), str(draft.pk)]
        response = teacher_client.post(
            url, {"action": "publish", "_selected_action": both}, follow=True
        )
        assertContains(response, "Published 1 topic (1 already was).")
        assert Topic.objects.filter(is_published=True).count() == 2
        response = teacher_client.post(
            url, {"action": "unpublish", "_selected_action": both}, follow=True
        )
        assertContains(response, "Unpublished 2 topics.")
        assert not Topic.objects.filter(is_published=True).exists()

    def test_publishing_a_topic_without_a_lesson_warns(self, teacher_client):
        bare = TopicFactory.create(title="No lesson yet", is_published=False)
        response = teacher_client.post(
            reverse("admin:learning_topic_changelist"),
            {"action": "publish", "_selected_action": [bare.pk]},
            follow=True,
        )
        assertContains(response, "Published 1 topic.")
        assertContains(response, "Published without a lesson")

    def test_a_quiz_added_with_its_default_settings_is_saved(self, teacher_client):
        # The teacher clicks "Add another Quiz" and keeps every setting as offered.
        data = {"title": "Heat cramps", "slug": "heat-cramps", "order": "9", "summary": "Heat."}
        data |= {"lesson-TOTAL_FORMS": "0", "lesson-INITIAL_FORMS": "0"}
        data |= {"quiz-TOTAL_FORMS": "1", "quiz-INITIAL_FORMS": "0"}
        data |= {
            "quiz-0-question_count": "10",
            "quiz-0-pass_mark": "70",
            "quiz-0-shuffle_questions": "on",
            "quiz-0-shuffle_choices": "on",
            "quiz-0-feedback_timing": "after_answer",
            "quiz-0-navigation": "free",
        }
        response = teacher_client.post(reverse("admin:learning_topic_add"), data)
        assert response.status_code == 302, response.content.decode()[:2000]
        quiz = Topic.objects.get(slug="heat-cramps").quiz
        assert (quiz.question_count, quiz.pass_mark) == (10, 70)

    def test_a_new_topic_is_offered_the_place_after_the_last(self, teacher_client, published):
        page = teacher_client.get(reverse("admin:learning_topic_add"))
        assertContains(page, f'name="order" value="{published.order + 1}"')

    def test_publishing_a_topic_without_a_quiz_warns(self, teacher_client):
        bare = TopicFactory.create(title="No quiz yet", is_published=False)
        LessonFactory(topic=bare)
        response = teacher_client.post(
            reverse("admin:learning_topic_changelist"),
            {"action": "publish", "_selected_action": [bare.pk]},
            follow=True,
        )
        assertContains(response, "Published 1 topic.")
        assertContains(response, "Published without a quiz")
        assertNotContains(response, "Published without a lesson")


class TestATopicWithoutAQuiz:
    @pytest.fixture
    def read(self, learner):
        topic = TopicFactory.create(slug="no-quiz", title="No quiz", is_published=True)
        LessonFactory(topic=topic)
        TopicProgressFactory(learner=learner, topic=topic, lesson_read_at=timezone.now())
        return topic

    def test_its_lesson_and_course_row_offer_no_quiz(self, learner_client, read):
        quiz_url = reverse("learning:quiz", args=[read.slug])
        for page in ("learning:course", "learning:dashboard"):
            assertNotContains(learner_client.get(reverse(page)), quiz_url)
        lesson = learner_client.get(reverse("learning:lesson", args=[read.slug]))
        assertNotContains(lesson, quiz_url)
        assertContains(lesson, "no quiz yet")


class TestQuestionAdmin:
    def test_publish_counts_the_changed_and_warns_of_a_draft_topic(self, teacher_client, draft):
        first, second, _ = draft.questions.all()
        Question.objects.filter(pk=first.pk).update(is_published=False)
        response = teacher_client.post(
            reverse("admin:learning_question_changelist"),
            {"action": "publish", "_selected_action": [first.pk, second.pk]},
            follow=True,
        )
        assertContains(response, "Published 1 question (1 already was).")
        assertContains(response, "still a draft: “Heat Draft”")

    def test_unpublish_counts_the_changed(self, teacher_client, published):
        pks = list(published.questions.values_list("pk", flat=True))
        response = teacher_client.post(
            reverse("admin:learning_question_changelist"),
            {"action": "unpublish", "_selected_action": pks},
            follow=True,
        )
        assertContains(response, "Unpublished 3 questions.")
        assert not published.questions.filter(is_published=True).exists()
