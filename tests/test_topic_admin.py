"""A teacher creates a topic with its lesson and quiz in one step on the Topic add page."""

import pytest
from django.forms import inlineformset_factory
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning.forms import QuizAdminForm
from learning.models import Quiz, QuizKind, Topic
from tests.factories import TopicFactory

pytestmark = pytest.mark.django_db


def inline_management(prefix: str, total: int) -> dict[str, str]:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1",
    }


def topic_add_form(*, with_lesson: bool = True, with_quiz: bool = True) -> dict[str, str]:
    data = {"title": "Heat cramps", "slug": "heat-cramps", "order": "9", "summary": "Heat."}
    data |= inline_management("lesson", int(with_lesson))
    data |= inline_management("quiz", int(with_quiz))
    if with_lesson:
        data |= {"lesson-0-title": "Heat cramps", "lesson-0-body_markdown": "## Why {#why}\n"}
    if with_quiz:
        data |= {
            "quiz-0-question_count": "5",
            "quiz-0-pass_mark": "80",
            "quiz-0-shuffle_questions": "on",
            "quiz-0-shuffle_choices": "on",
            "quiz-0-opens_at_0": "",
            "quiz-0-opens_at_1": "",
            "quiz-0-closes_at_0": "",
            "quiz-0-closes_at_1": "",
            "quiz-0-attempts_allowed": "",
            "quiz-0-time_limit_minutes": "",
            "quiz-0-feedback_timing": "after_answer",
            "quiz-0-navigation": "free",
        }
    return data


def test_the_add_page_shows_the_lesson_and_quiz_inlines(teacher_client):
    page = teacher_client.get(reverse("admin:learning_topic_add"))
    assertContains(page, 'name="quiz-TOTAL_FORMS"')
    assertContains(page, 'name="lesson-TOTAL_FORMS"')


def test_a_topic_is_created_with_its_lesson_and_quiz_in_one_step(teacher_client):
    response = teacher_client.post(reverse("admin:learning_topic_add"), topic_add_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    topic = Topic.objects.get(slug="heat-cramps")
    assert topic.lesson.title == "Heat cramps"
    quiz = Quiz.objects.get(topic=topic)
    assert (quiz.kind, quiz.question_count, quiz.pass_mark) == (QuizKind.TOPIC, 5, 80)


def test_a_topic_can_still_be_created_without_a_quiz(teacher_client):
    data = topic_add_form(with_quiz=False)
    response = teacher_client.post(reverse("admin:learning_topic_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert not Quiz.objects.filter(topic__slug="heat-cramps").exists()


def test_a_wrong_quiz_setting_is_shown_in_words_and_nothing_is_saved(teacher_client):
    data = topic_add_form() | {"quiz-0-pass_mark": "0"}
    response = teacher_client.post(reverse("admin:learning_topic_add"), data)
    assert response.status_code == 200
    assertContains(response, "Ensure this value is greater than or equal to 1.")
    assertNotContains(response, "Constraint")
    assert not Topic.objects.filter(slug="heat-cramps").exists()


def test_a_quiz_is_added_to_an_existing_topic_on_its_change_page(teacher_client):
    topic = TopicFactory(slug="cold", title="Cold")
    data = topic_add_form(with_lesson=False) | {"title": "Cold", "slug": "cold"}
    data["order"] = str(topic.order)
    response = teacher_client.post(reverse("admin:learning_topic_change", args=[topic.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Quiz.objects.get(topic=topic).pass_mark == 80


def test_the_quiz_add_page_still_creates_a_topic_quiz(teacher_client):
    topic = TopicFactory(slug="cold", title="Cold")
    data = {
        key.removeprefix("quiz-0-"): value
        for key, value in topic_add_form().items()
        if key.startswith("quiz-0-")
    }
    data |= {"kind": "topic", "topic": str(topic.pk)}
    response = teacher_client.post(reverse("admin:learning_quiz_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Quiz.objects.get(topic=topic).pass_mark == 80


def test_the_quiz_inline_does_not_ask_for_a_topic_that_is_being_created():
    """Even with the kind on the form, the new topic's quiz is not refused for having no
    topic yet: the check that a topic quiz has its topic waits for the save."""
    formset_class = inlineformset_factory(
        Topic,
        Quiz,
        form=QuizAdminForm,
        fields=("kind", "question_count", "pass_mark", "feedback_timing", "navigation"),
        extra=0,
        max_num=1,
    )
    data = inline_management("quiz", 1) | {
        "quiz-0-kind": "topic",
        "quiz-0-question_count": "5",
        "quiz-0-pass_mark": "80",
        "quiz-0-feedback_timing": "after_answer",
        "quiz-0-navigation": "free",
    }
    topic = Topic(slug="heat-cramps", title="Heat cramps", order=9)
    formset = formset_class(data, instance=topic, prefix="quiz")
    assert formset.is_valid(), formset.errors
    topic.save()
    formset.instance = topic
    (quiz,) = formset.save()
    assert (quiz.topic, quiz.kind, quiz.pass_mark) == (topic, QuizKind.TOPIC, 80)


def test_a_course_quiz_in_the_inline_is_still_refused():
    formset_class = inlineformset_factory(
        Topic, Quiz, form=QuizAdminForm, fields=("kind", "question_count", "pass_mark")
    )
    data = inline_management("quiz", 1) | {
        "quiz-0-kind": "review",
        "quiz-0-question_count": "5",
        "quiz-0-pass_mark": "80",
    }
    topic = TopicFactory()
    formset = formset_class(data, instance=topic, prefix="quiz")
    assert not formset.is_valid()
    assert "topic_quizzes_have_a_topic" in str(formset.errors)
