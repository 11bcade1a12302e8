from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from factory.django import DjangoModelFactory

from learning.models import (
    Attempt,
    Choice,
    Lesson,
    Question,
    Quiz,
    Response,
    Topic,
    TopicProgress,
)
from learning.versions import question_version

PASSWORD = "correct-horse-battery"


class UserFactory(DjangoModelFactory[User]):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"learner{n}")
    password = factory.django.Password(PASSWORD)


class TopicFactory(DjangoModelFactory[Topic]):
    class Meta:
        model = Topic

    slug = factory.Sequence(lambda n: f"topic-{n}")
    title = factory.Sequence(lambda n: f"Topic {n}")
    order = factory.Sequence(lambda n: n + 1)
    summary = "What this topic is about."
    is_published = True


class LessonFactory(DjangoModelFactory[Lesson]):
    class Meta:
        model = Lesson

    topic = factory.SubFactory(TopicFactory)
    title = factory.SelfAttribute("topic.title")
    body_markdown = (
        "Opening words.\n\n## Calcium starts the pull {#calcium}\n\nCalcium is released.\n\n"
        "## Relaxing again {#relaxing}\n\nMagnesium helps.\n"
    )


class QuizFactory(DjangoModelFactory[Quiz]):
    class Meta:
        model = Quiz

    topic = factory.SubFactory(TopicFactory)
    question_count = 3
    pass_mark = 70


def options(default: list[tuple[str, bool]]) -> factory.PostGeneration:
    """The question's options: `default`, or those passed as `choices=[("text", True)]`."""

    def make(
        obj: Question, create: bool, extracted: list[tuple[str, bool]] | None, **kwargs: object
    ) -> None:
        if not create:
            return
        for order, (text, is_correct) in enumerate(default if extracted is None else extracted):
            Choice.objects.create(
                question=obj,
                text=text,
                is_correct=is_correct,
                order=order,
                feedback=f"Feedback on {text}.",
            )

    return factory.PostGeneration(make)


class QuestionFactory(DjangoModelFactory[Question]):
    """A single-choice question; pass `choices=[("text", True), ...]` to set its choices."""

    class Meta:
        model = Question
        skip_postgeneration_save = True

    topic = factory.SubFactory(TopicFactory)
    key = factory.Sequence(lambda n: f"question-{n}")
    type = "single"
    prompt = factory.Sequence(lambda n: f"Which answer is right for question {n}?")
    explanation = "Because the lesson says so."
    lesson_anchor = "calcium"
    is_published = True
    choices = options([("Right", True), ("Wrong one", False), ("Wrong two", False)])


class MultipleAnswerQuestionFactory(QuestionFactory):
    type = "multiple"
    choices = options([("Right A", True), ("Right B", True), ("Wrong C", False)])


class TrueFalseQuestionFactory(QuestionFactory):
    type = "true_false"
    choices = options([("True", True), ("False", False)])


class NumericQuestionFactory(QuestionFactory):
    type = "numeric"
    numeric_answer = Decimal("15")
    numeric_tolerance = Decimal("0.5")
    choices = options([])


class ChoiceFactory(DjangoModelFactory[Choice]):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory, choices=[])
    text = factory.Sequence(lambda n: f"Choice {n}")
    is_correct = False


class AttemptFactory(DjangoModelFactory[Attempt]):
    class Meta:
        model = Attempt

    learner = factory.SubFactory(UserFactory)
    quiz = factory.SubFactory(QuizFactory)


class ResponseFactory(DjangoModelFactory[Response]):
    class Meta:
        model = Response

    attempt = factory.SubFactory(AttemptFactory)
    question = factory.SubFactory(QuestionFactory)
    position = 1
    version = factory.LazyAttribute(lambda o: question_version(o.question))
    answer = factory.LazyFunction(lambda: {"choices": []})
    points = Decimal(0)


class TopicProgressFactory(DjangoModelFactory[TopicProgress]):
    class Meta:
        model = TopicProgress

    learner = factory.SubFactory(UserFactory)
    topic = factory.SubFactory(TopicFactory)


class ShortAnswerQuestionFactory(QuestionFactory):
    type = "short_answer"
    choices = options([])

    @factory.post_generation
    def accepted(
        obj: Question, create: bool, extracted: list[tuple[str, int]] | None, **kwargs: object
    ) -> None:
        if not create:
            return
        for order, (text, credit) in enumerate(extracted or [("Calcium", 100), ("Ca", 50)]):
            Choice.objects.create(question=obj, text=text, credit=Decimal(credit), order=order)


class MatchingQuestionFactory(QuestionFactory):
    type = "matching"
    choices = options([])

    @factory.post_generation
    def pairs(
        obj: Question, create: bool, extracted: list[tuple[str, str]] | None, **kwargs: object
    ) -> None:
        if not create:
            return
        default = [
            ("Tic", "Rapid twitch"),
            ("Cramp", "Lasting contraction"),
            ("Convulsion", "Seizure jerks"),
        ]
        for order, (text, match) in enumerate(extracted or default):
            Choice.objects.create(question=obj, text=text, match_text=match, order=order)


# One factory per registered question type: tests that must cover every type use this,
# and tests/test_question_types.py checks that no registered type is missing.
FACTORY_BY_TYPE: dict[str, type[QuestionFactory]] = {
    "single": QuestionFactory,
    "multiple": MultipleAnswerQuestionFactory,
    "true_false": TrueFalseQuestionFactory,
    "numeric": NumericQuestionFactory,
    "short_answer": ShortAnswerQuestionFactory,
    "matching": MatchingQuestionFactory,
}
