"""README's "Adding a question type", followed in the test settings only: one module
(tests/extra_question_type.py), its two partials, and its dotted path in QUESTION_TYPES.
A learner then takes a whole quiz of it, and a teacher can pick it in the admin."""

from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning import question_types
from learning.models import Attempt, Question
from learning.question_types import DEFAULT_QUESTION_TYPES
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

KEYWORDS = "tests.extra_question_type.Keywords"


@pytest.fixture
def keywords_registered(settings) -> None:
    settings.QUESTION_TYPES = [*DEFAULT_QUESTION_TYPES, KEYWORDS]
    engine = settings.TEMPLATES[0]
    settings.TEMPLATES = [
        {**engine, "DIRS": [*engine["DIRS"], Path(__file__).parent / "templates"]}
    ]


@pytest.fixture
def keywords_quiz(keywords_registered):
    topic = TopicFactory(slug="contraction", title="Contraction")
    LessonFactory(topic=topic)
    for key in ("why-contract", "why-relax"):
        QuestionFactory(
            topic=topic,
            key=key,
            type="keywords",
            prompt=f"In a sentence: {key}?",
            choices=[("calcium", False), ("troponin", False)],
        )
    return QuizFactory(
        topic=topic, question_count=2, shuffle_questions=False, shuffle_choices=False
    )


def test_a_learner_takes_a_whole_quiz_of_the_new_type(keywords_quiz, learner, learner_client):
    start = learner_client.post(reverse("learning:start_quiz", args=["contraction"]))
    attempt = Attempt.objects.get(learner=learner)
    assert start.url == reverse("learning:attempt", args=[attempt.pk])

    first_url = reverse("learning:question", args=[attempt.pk, 1])
    page = learner_client.get(first_url)
    assertContains(page, 'class="keywords-sentence"')  # the type's own partial
    first = Question.objects.get(pk=attempt.question_ids[0])
    right = learner_client.post(first_url, answer_post(first, right=True, attempt=attempt), **HTMX)
    assertContains(right, "Found: calcium, troponin")
    assertContains(right, "Right")

    second_url = reverse("learning:question", args=[attempt.pk, 2])
    second = Question.objects.get(pk=attempt.question_ids[1])
    half = {"question": second.pk, "sentence": "Calcium, I think."}
    partly = learner_client.post(second_url, half, **HTMX)
    assertContains(partly, "Partly right")
    assertContains(partly, "Missing: troponin.")  # the feedback and the announcement

    attempt.refresh_from_db()
    assert attempt.is_finished
    assert attempt.percent == 75
    result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
    assertContains(result, "You scored 75%")
    assertContains(result, "Found: calcium, troponin")


def test_an_empty_sentence_is_refused_with_the_types_message(keywords_quiz, learner_client):
    learner_client.post(reverse("learning:start_quiz", args=["contraction"]))
    attempt = Attempt.objects.get()
    url = reverse("learning:question", args=[attempt.pk, 1])
    response = learner_client.post(url, {"question": attempt.question_ids[0], "sentence": ""})
    assertContains(response, "This field is required.", status_code=422)
    assert not attempt.responses.exists()


def test_teachers_can_choose_the_new_type_in_the_admin(keywords_registered, teacher_client):
    page = teacher_client.get(reverse("admin:learning_question_add"))
    assertContains(page, '<option value="keywords">Keywords in a sentence</option>', html=True)


def test_without_the_setting_the_type_does_not_exist():
    question = QuestionFactory.build(type="keywords", topic=TopicFactory())
    with pytest.raises(ValidationError, match="keywords"):
        question.full_clean(exclude=["key"])


def test_a_gift_block_that_two_types_claim_is_refused_not_guessed(settings):
    settings.QUESTION_TYPES = [*DEFAULT_QUESTION_TYPES, "tests.extra_question_type.Statement"]
    document = question_types.parse_gift("::q:: Cramps can be harmless. {T}")
    assert document.questions == []
    assert "True or false and Statement both read this question" in document.problems[0].message
