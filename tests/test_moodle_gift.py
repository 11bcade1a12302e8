"""GIFT as Moodle reads it (question/format/gift/format.php and question/type/multichoice):
each case below is written as Moodle's documentation writes GIFT, with the score Moodle
gives a few answers; then the feedback learners see, export and import round trips, and
the grading of answers given before credits counted."""

import importlib
import itertools
import random
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning import question_bank, question_types, regrading, selectors, services
from learning.models import Attempt, Choice, Question, Response
from learning.question_types import parse_gift
from learning.question_types.base import (
    CREDITS_SCORING,
    ChoiceKey,
    OptionCodes,
    QuestionKey,
    key_from_snapshot,
    keys_of_rows,
)
from learning.question_types.matching import MatchingAnswer
from learning.question_types.numeric import NumericAnswer
from learning.question_types.picking import ChoiceAnswer
from learning.question_types.short_answer import TextAnswer
from learning.versions import question_version, snapshot_question
from tests.factories import (
    LessonFactory,
    MatchingQuestionFactory,
    MultipleAnswerQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    ResponseFactory,
    ShortAnswerQuestionFactory,
    TopicFactory,
)
from tests.helpers import HTMX, answer_post
from tests.test_admin import question_form

pytestmark = pytest.mark.django_db


# -- the cases: GIFT, the type Moodle makes of it, and what Moodle scores --------------------


@dataclass(frozen=True)
class MoodleCase:
    name: str
    gift: str
    kind: str
    # (the answer: option texts picked, a number, a typed text or {item: match}, the score)
    scores: tuple[tuple[Any, str], ...]


CASES = [
    MoodleCase(
        "one '=' among '~': single choice",
        "Who's buried in Grant's tomb?{~Grant ~Jefferson =no one}",
        "single",
        ((["no one"], "1"), (["Grant"], "0"), (["Jefferson"], "0")),
    ),
    MoodleCase(
        "'=' with a '~%50%' wrong option: single choice, the part credit kept",
        "What's between orange and green in the spectrum?"
        "{=yellow # right; good! ~%50%lime # close ~red # wrong, it's yellow}",
        "single",
        ((["yellow"], "1"), (["lime"], "0.5"), (["red"], "0")),
    ),
    MoodleCase(
        "several '=': single choice, each right option the full point",
        "Name a unit of length.{=metre =inch ~kilogram ~second}",
        "single",
        ((["metre"], "1"), (["inch"], "1"), (["kilogram"], "0")),
    ),
    MoodleCase(
        "a negative credit in single choice: never below zero",
        "Grant is buried in Grant's tomb.{=yes ~%-50%no ~%25%maybe}",
        "single",
        ((["yes"], "1"), (["no"], "0"), (["maybe"], "0.25")),
    ),
    MoodleCase(
        "no '=': multiple answers, the picked credits summed from 0 to 1",
        "What two people are entombed in Grant's tomb? {"
        "~%-100%No one ~%50%Grant ~%50%Grant's wife ~%-100%Grant's father}",
        "multiple",
        (
            (["Grant", "Grant's wife"], "1"),
            (["Grant"], "0.5"),
            (["Grant", "No one"], "0"),  # 50% - 100%, floored at 0
            (["Grant", "Grant's wife", "No one"], "0"),
            (["No one", "Grant's father"], "0"),
        ),
    ),
    MoodleCase(
        "three right options of 33.33333% each make the full point",
        "Which are minerals?{~%33.33333%Calcium ~%33.33333%Sodium ~%33.33333%Potassium"
        " ~%-100%Fiber}",
        "multiple",
        (
            (["Calcium", "Sodium", "Potassium"], "1"),
            (["Calcium", "Sodium"], "0.6667"),
            (["Calcium"], "0.3333"),
            (["Calcium", "Sodium", "Potassium", "Fiber"], "0"),
        ),
    ),
    MoodleCase(
        "multiple answers with plain '~' wrong options: a wrong pick costs nothing",
        "Which are muscle types?{~%50%Skeletal ~%50%Smooth ~Bony}",
        "multiple",
        ((["Skeletal", "Smooth", "Bony"], "1"), (["Smooth", "Bony"], "0.5")),
    ),
    MoodleCase(
        "true or false",
        "Grant was buried in a tomb in New York City.{T#No, he was.#Yes.}",
        "true_false",
        ((["True"], "1"), (["False"], "0")),
    ),
    MoodleCase(
        "numeric with graded answers and feedback, the main answer's kept",
        "When was Ulysses S. Grant born?{#=1822:0#Right on. =%50%1822:2#Within two years.}",
        "numeric",
        ((Decimal("1822"), "1"), (Decimal("1821"), "0.5"), (Decimal("1830"), "0")),
    ),
    MoodleCase(
        "a numeric range",
        "What is a number from 1 to 5? {#1..5}",
        "numeric",
        ((Decimal("3"), "1"), (Decimal("5"), "1"), (Decimal("5.1"), "0")),
    ),
    MoodleCase(
        "a numeric main answer with feedback, and a close one",
        "What is 2 + 3?{#=5:0#well done =%50%4:1#close ~#Count again.}",
        "numeric",
        ((Decimal("5"), "1"), (Decimal("3.5"), "0.5"), (Decimal("7"), "0")),
    ),
    MoodleCase(
        "short answers with credits and feedback",
        "Who's buried in Grant's tomb?{=no one#Right. =nobody#Right too. "
        "=%50%Grant#Half: he is there, but not alone.}",
        "short_answer",
        (("No One", "1"), ("  nobody ", "1"), ("grant", "0.5"), ("Lincoln", "0")),
    ),
    MoodleCase(
        "matching, with an extra wrong match as Moodle writes it ('= -> match')",
        "Match the countries with their capitals.{=Canada -> Ottawa =Italy -> Rome "
        "=Japan -> Tokyo = -> Paris}",
        "matching",
        (
            ({"Canada": "Ottawa", "Italy": "Rome", "Japan": "Tokyo"}, "1"),
            ({"Canada": "Paris", "Italy": "Rome", "Japan": "Tokyo"}, "0.6667"),
        ),
    ),
]


def answer_for(key: QuestionKey, given: Any) -> object:
    if isinstance(given, Decimal):
        return NumericAnswer(given)
    if isinstance(given, str):
        return TextAnswer(given)
    if isinstance(given, dict):
        ids = {row.text: row.id for row in key.choices if row.text}
        return MatchingAnswer(tuple(sorted((ids[item], m) for item, m in given.items())))
    ids = {row.text: row.id for row in key.choices}
    return ChoiceAnswer(frozenset(ids[text] for text in given))


def key_of(gift_text: str) -> tuple[str, QuestionKey]:
    document = parse_gift(gift_text)
    assert not document.problems, document.problems
    (source,) = document.questions
    read = question_bank.imported(source)
    errors = question_types.get(source.kind).authoring_errors(read.values, keys_of_rows(read.rows))
    assert not errors, "the case's question must be answerable"
    return source.kind, QuestionKey(
        type=source.kind,
        choices=keys_of_rows(read.rows),
        numeric_answer=read.values["numeric_answer"],
        numeric_tolerance=read.values["numeric_tolerance"],
    )


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_each_case_is_read_and_scored_as_moodle_does(case):
    kind, key = key_of(case.gift)
    assert kind == case.kind
    for given, score in case.scores:
        assert question_types.grade(key, answer_for(key, given)) == Decimal(score), given


def test_positive_weights_of_multiple_answers_must_add_up_to_100_as_moodle_requires():
    document = parse_gift("Q {~%50%a ~%100%b ~%-100%c}")
    assert not document.questions
    assert "add up to 150%, not 100%" in document.problems[0].message


def test_the_numeric_main_answers_feedback_is_imported():
    (source,) = parse_gift(
        "What is 2 + 3?{#=5:0#well done =%50%4:1#close ~#Count again.}"
    ).questions
    read = question_bank.imported(source)
    assert read.values["numeric_feedback"] == "well done"
    assert [(row["numeric_value"], row["credit"], row["feedback"]) for row in read.rows] == [
        (Decimal(4), Decimal(50), "close"),
        (None, Decimal(0), "Count again."),  # Moodle's feedback for any other number
    ]


# -- what the learner sees after answering -------------------------------------------------


@pytest.fixture
def topic():
    topic = TopicFactory(slug="grant", title="Grant")
    LessonFactory(topic=topic)
    return topic


def answered(client, learner, question: Question, data: Any = None) -> str:
    """The feedback partial a learner gets after answering `question` alone in a quiz, with
    the posted `data` (a dict, or a function of the attempt giving one; the right answer
    when None)."""
    quiz = QuizFactory.create(topic=question.topic, question_count=1)
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=random.Random(3))
    post = answer_post(question, right=True, attempt=attempt)
    if data is not None:
        fields = data(attempt) if callable(data) else data
        post = {"question": question.pk, **fields}
    url = reverse("learning:question", args=[attempt.pk, 1])
    response = client.post(url, post, **HTMX)
    assert response.status_code == 200
    return response.content.decode()


def codes_for(attempt: Attempt, question: Question) -> OptionCodes:
    return selectors.attempt_option_codes(attempt, question, question.choices.all())


class TestFeedbackLearnersSee:
    def test_a_part_credit_option_shows_its_credit_and_feedback(
        self, learner_client, learner, topic
    ):
        question = QuestionFactory(topic=topic, choices=[("Yellow", True), ("Lime", False)])
        lime = question.choices.get(text="Lime")
        lime.credit = Decimal(50)
        lime.save()
        html = answered(
            learner_client,
            learner,
            question,
            lambda attempt: {"choice": codes_for(attempt, question).code(lime.pk)},
        )
        assert "Feedback on Lime." in html
        assert "50% credit" in html
        assert Response.objects.get().points == Decimal("0.5")

    def test_the_numeric_main_answers_feedback(self, learner_client, learner, topic):
        question = NumericQuestionFactory(topic=topic, numeric_feedback="Spot on: 15 mmol.")
        html = answered(learner_client, learner, question, {"value": "15.2"})
        assert "Spot on: 15 mmol." in html

    def test_the_matched_numeric_answers_feedback(self, learner_client, learner, topic):
        question = NumericQuestionFactory(topic=topic, numeric_feedback="Spot on.")
        Choice.objects.create(
            question=question,
            numeric_value=Decimal(150),
            credit=Decimal(50),
            feedback="Ten times too much: check the unit.",
        )
        Choice.objects.create(question=question, feedback="Read the lesson's table again.")
        html = answered(learner_client, learner, question, {"value": "150"})
        assert "Ten times too much: check the unit." in html
        assert "50% credit" in html
        assert "Spot on." not in html
        assert "table again" not in html
        assert Response.objects.get().points == Decimal("0.5")

    def test_the_feedback_for_any_other_number(self, learner_client, learner, topic):
        question = NumericQuestionFactory(topic=topic)
        Choice.objects.create(question=question, feedback="Read the lesson's table again.")
        html = answered(learner_client, learner, question, {"value": "3"})
        assert "Read the lesson's table again." in html
        assert Response.objects.get().points == 0

    def test_the_typed_short_answers_feedback(self, learner_client, learner, topic):
        question = ShortAnswerQuestionFactory(topic=topic, accepted=[])
        Choice.objects.create(question=question, text="Calcium", credit=100, feedback="Yes!")
        Choice.objects.create(
            question=question, text="Ca", credit=50, feedback="The symbol: name it in full."
        )
        html = answered(learner_client, learner, question, {"text": " ca "})
        assert "The symbol: name it in full." in html
        assert "Yes!" not in html
        assert Response.objects.get().points == Decimal("0.5")

    def test_matching_rows_feedback_and_an_extra_wrong_match_offered(
        self, learner_client, learner, topic
    ):
        question = MatchingQuestionFactory(topic=topic)
        Choice.objects.create(question=question, match_text="Heat stroke", order=9)
        tic = question.choices.get(text="Tic")
        tic.feedback = "A tic repeats."
        tic.save()
        quiz = QuizFactory.create(topic=topic, question_count=1)
        attempt = services.start_attempt(learner=learner, quiz=quiz, rng=random.Random(3))
        url = reverse("learning:question", args=[attempt.pk, 1])
        page = learner_client.get(url).content.decode()
        assert page.count('value="Heat stroke"') == 3  # offered to each of the three items
        post = answer_post(question, right=True, attempt=attempt)
        post[f"match-{codes_for(attempt, question).code(tic.pk)}"] = "Heat stroke"
        response = learner_client.post(url, post, **HTMX)
        assertContains(response, "A tic repeats.")
        assert Response.objects.get().points == Decimal("0.6667")


# -- export writes the same meaning back ---------------------------------------------------

EVERY_TYPE = """$CATEGORY: grant

::single::Which colour lies between orange and green?{
=yellow#Right.
~%50%lime#Close: half a point.
~red#No.
####Yellow lies between them.}

::single-two-right::Name a unit of length.{=metre#Yes. =inch#Yes. ~kilogram#A mass.}

::multiple::Who is entombed in Grant's tomb?{
~%50%Grant#Yes.
~%50%Grant's wife#Yes.
~%-100%No one#Two people are.
}

::thirds::Which are minerals?{
~%33.33333%Calcium ~%33.33333%Sodium ~%33.33333%Potassium ~%-100%Fiber#Not a mineral.}

::tf::Grant was buried in New York City.{T#No, he was.#Yes.}

::numeric::When was Grant born?{#
=1822:0#Right on.
=%50%1822:2#Within two years.
=%0%1922:0#A century late.
~#Grant was born in the 1820s.}

::short::Who is buried in Grant's tomb?{=no one#Right. =%50%Grant#Half: not alone.}

::matching::Match the countries with their capitals.{
=Canada -> Ottawa
=Italy -> Rome
=Japan -> Tokyo
= -> Paris
}
"""


def test_every_type_exports_and_imports_unchanged(topic):
    plan = question_bank.plan_import(EVERY_TYPE, filename="x.gift")
    assert not plan.errors, plan.errors
    defaults = {
        "single",
        "multiple",
        "true_false",
        "numeric",
        "short_answer",
        "matching",
    }
    assert {planned.source.kind for planned in plan.questions} == defaults
    question_bank.apply_import(plan)

    exported = question_bank.export_gift()
    again = question_bank.plan_import(exported, filename="x.gift")
    assert not again.errors, again.errors
    assert (again.count("create"), again.count("update")) == (0, 0)
    assert again.count("unchanged") == len(plan.questions)

    # What each type writes: Moodle's own way of saying the same thing.
    assert "=yellow#Right." in exported
    assert "~%50%lime#Close\\: half a point." in exported  # ':' escaped as '\:'

    assert "~red#No." in exported
    assert "~%-100%No one#Two people are." in exported
    assert "~%33.33333%Calcium" in exported
    assert "=1822:0#Right on." in exported
    assert "=%50%1822:2#Within two years." in exported
    assert "=%50%Grant#Half\\: not alone." in exported
    assert "= -> Paris" in exported
    assert "~#Grant was born in the 1820s." in exported


def test_the_course_bank_exports_and_imports_unchanged():
    call_command("load_content", verbosity=0)
    plan = question_bank.plan_import(question_bank.export_gift(), filename="x.gift")
    assert not plan.errors, plan.errors
    assert (plan.count("create"), plan.count("update")) == (0, 0)
    assert plan.count("unchanged") == Question.objects.count()


# -- answers given before credits counted keep their points --------------------------------


def ticks_rule(right: set[int], picked: set[int]) -> Decimal:
    """How multiple answers were graded before credits counted."""
    score = Decimal(len(picked & right) - len(picked - right)) / len(right)
    return max(Decimal(0), score.quantize(Decimal("0.0001")))


def old_snapshot(question: Question) -> dict[str, Any]:
    """A snapshot as taken before this change: no scoring mark, every credit 100%."""
    snapshot = snapshot_question(question)
    del snapshot["scoring"], snapshot["numeric_feedback"]
    for row in snapshot["choices"]:
        row["credit"] = "100.00000"
    return snapshot


@pytest.mark.parametrize(("right", "wrong"), [(1, 1), (2, 2), (3, 1), (3, 3), (6, 1), (7, 2)])
def test_old_multiple_answer_snapshots_grade_as_they_did(right, wrong):
    question = MultipleAnswerQuestionFactory(
        choices=[(f"R{i}", True) for i in range(right)] + [(f"W{i}", False) for i in range(wrong)]
    )
    key = key_from_snapshot(old_snapshot(question))
    ids = [row.id for row in key.choices]
    right_ids = {row.id for row in key.choices if row.is_correct}
    for size in range(len(ids) + 1):
        for picks in itertools.combinations(ids, size):
            answer = ChoiceAnswer(frozenset(picks))
            assert question_types.grade(key, answer) == ticks_rule(right_ids, set(picks))


def test_old_single_choice_snapshots_give_nothing_for_a_wrong_option():
    question = QuestionFactory(choices=[("Right", True), ("Wrong", False)])
    key = key_from_snapshot(old_snapshot(question))
    wrong = question.choices.get(text="Wrong")
    assert question_types.grade(key, ChoiceAnswer(frozenset({wrong.pk}))) == 0


def test_new_snapshots_are_marked_as_graded_by_credits():
    assert snapshot_question(QuestionFactory())["scoring"] == CREDITS_SCORING


def test_the_data_migration_keeps_every_point_and_a_regrade_changes_nothing(learner):
    migration = importlib.import_module("learning.migrations.0015_moodle_credits")
    single = QuestionFactory(choices=[("Right", True), ("Wrong", False), ("Other", False)])
    multiple = MultipleAnswerQuestionFactory(
        choices=[("A", True), ("B", True), ("C", True), ("D", False)]
    )
    # Rows as the old form and imports left them: every credit 100%, or GIFT weights.
    Choice.objects.filter(question=single).update(credit=100)
    weights = {"A": 33, "B": 33, "C": 34, "D": -100}
    for choice in multiple.choices.all():
        choice.credit = weights[choice.text]
        choice.save()
    answers = {
        single: [["Wrong"], ["Right"]],
        multiple: [["A", "D"], ["A", "B", "C", "D"], ["A", "B"], ["A", "B", "C"]],
    }
    for question, picks_list in answers.items():
        version = question_version(question)
        version.snapshot = old_snapshot(question)  # as it was stored then
        version.save()
        right = {c.pk for c in question.choices.all() if c.is_correct}
        for picks in picks_list:
            ids = {question.choices.get(text=text).pk for text in picks}
            points = (
                ticks_rule(right, ids)
                if question.type == "multiple"
                else Decimal(ids <= right and len(ids) == 1)
            )
            ResponseFactory(
                question=question, version=version, answer={"choices": sorted(ids)}, points=points
            )

    migration.credits_as_graded(apps, None)

    assert [c.credit for c in single.choices.all()] == [100, 0, 0]
    assert [c.credit for c in multiple.choices.all()] == [
        Decimal("33.33333"),
        Decimal("33.33333"),
        Decimal("33.33333"),
        Decimal("-33.33333"),
    ]
    for question in (single, multiple):
        question.refresh_from_db()
        assert not regrading.needs_regrade(question)
        assert not regrading.plan_regrade(question=question).stale
        key = key_from_snapshot(snapshot_question(question))
        for response in Response.objects.filter(question=question).select_related("version"):
            after = regrading.regrade_points(response.version.snapshot, key, response.answer)
            assert after == response.points


def test_feedback_for_any_other_number_after_a_single_numeric_answer():
    (source,) = parse_gift("What is a number from 1 to 5? {#3:2 ~#From 1 to 5.}").questions
    read = question_bank.imported(source)
    assert (read.values["numeric_answer"], read.values["numeric_tolerance"]) == (3, 2)
    assert [(row["numeric_value"], row["feedback"]) for row in read.rows] == [
        (None, "From 1 to 5.")
    ]


# -- the author's checks on credits and extra matches --------------------------------------


def row(text: str, correct: bool = False, credit: int | str = 0, match: str = "") -> ChoiceKey:
    return ChoiceKey(id=0, text=text, is_correct=correct, credit=Decimal(credit), match_text=match)


@pytest.mark.parametrize(
    ("question_type", "rows", "problem"),
    [
        ("single", [row("a", True), row("b", credit=100)], "A choice worth 100%"),
        ("multiple", [row("a", True, 50), row("b", True, 40), row("c")], "add up to 90%"),
        ("multiple", [row("a", True, 100), row("b", True, 0)], "positive credit"),
        ("matching", [row("a", match="1"), row("b", match="2"), row("c")], "both an item"),
        ("matching", [row("a", match="1"), row("", match="2")], "at least two pairs"),
    ],
)
def test_the_author_is_told_what_credits_and_matches_mean(question_type, rows, problem):
    (error,) = question_types.get(question_type).answer_row_errors(rows)
    assert problem in error


@pytest.mark.parametrize(
    ("question_type", "rows"),
    [
        ("single", [row("a", True), row("b", True), row("c", credit=50), row("d", credit=-50)]),
        ("multiple", [row("a", True), row("b", True), row("c")]),  # graded by the ticks
        ("multiple", [row(t, True, "33.33333") for t in "abc"] + [row("d", credit=-100)]),
        ("matching", [row("a", match="1"), row("b", match="2"), row("", match="3")]),
    ],
)
def test_moodles_credits_and_extra_matches_are_accepted(question_type, rows):
    assert question_types.get(question_type).answer_row_errors(rows) == []


@pytest.mark.parametrize(
    ("question_type", "choices", "stored"),
    [
        ("single", [("Sweating", True), ("Shivering", False)], [100, 0]),
        ("multiple", [("Sweating", True), ("Thirst", True), ("Shivering", False)], [50, 50, -50]),
    ],
)
def test_a_question_saved_in_the_admin_with_the_default_credits_round_trips(
    teacher_client, topic, question_type, choices, stored
):
    QuizFactory.create(topic=topic)
    data = question_form(topic, question_type, choices, lesson_anchor="")
    response = teacher_client.post(reverse("admin:learning_question_add"), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    question = Question.objects.get()
    # The tick said what is right; the stored credits say what each option earns.
    assert [c.credit for c in question.choices.all()] == stored
    plan = question_bank.plan_import(question_bank.export_gift(), filename="x.gift")
    assert (plan.count("create"), plan.count("update"), plan.count("unchanged")) == (0, 0, 1)


def test_moving_the_tick_in_the_admin_moves_the_credit(teacher_client, topic):
    question = QuestionFactory(topic=topic, choices=[("Sweating", True), ("Shivering", False)])
    Choice.objects.filter(question=question, is_correct=True).update(credit=100)
    choices = list(question.choices.all())
    data = question_form(topic, "single", [("Sweating", False), ("Shivering", True)])
    data["lesson_anchor"] = question.lesson_anchor
    data["choices-INITIAL_FORMS"] = str(len(choices))
    for index, choice in enumerate(choices):
        data[f"choices-{index}-id"] = str(choice.pk)
        data[f"choices-{index}-question"] = str(question.pk)
        data[f"choices-{index}-credit"] = str(choice.credit.normalize())
        data[f"initial-choices-{index}-credit"] = str(choice.credit)
    url = reverse("admin:learning_question_change", args=[question.pk])
    response = teacher_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(question.choices.values_list("text", "is_correct", "credit")) == [
        ("Sweating", False, 0),
        ("Shivering", True, 100),
    ]


def _admin_form_for(topic, question_type: str) -> dict[str, str]:
    """A question of `question_type` as a teacher fills in the admin form, leaving the
    columns the type does not show as the browser posts them (empty, unticked)."""
    rows: list[dict[str, str]] = {
        "true_false": [{"text": "True", "is_correct": "on"}, {"text": "False"}],
        "numeric": [{"numeric_value": "40", "numeric_tolerance": "2", "credit": "50"}],
        "short_answer": [{"text": "Calcium", "credit": "100"}, {"text": "Ca", "credit": "50"}],
        "matching": [
            {"text": "Tic", "match_text": "Rapid twitch"},
            {"text": "Cramp", "match_text": "Lasting contraction"},
            {"text": "", "match_text": "Seizure jerks"},
        ],
    }[question_type]
    data = question_form(topic, question_type, lesson_anchor="")
    if question_type == "numeric":
        data["numeric_answer"] = "37"
    data["choices-TOTAL_FORMS"] = str(len(rows))
    for index, row in enumerate(rows):
        data[f"choices-{index}-order"] = str(index)
        data[f"choices-{index}-numeric_tolerance"] = "0"
        data.update({f"choices-{index}-{name}": value for name, value in row.items()})
    return data


@pytest.mark.parametrize("file_format", sorted(question_bank.EXPORT_FORMATS))
@pytest.mark.parametrize("question_type", ["true_false", "numeric", "short_answer", "matching"])
def test_a_question_of_any_type_saved_in_the_admin_exports_and_imports_unchanged(
    teacher_client, topic, question_type, file_format
):
    QuizFactory.create(topic=topic)
    response = teacher_client.post(
        reverse("admin:learning_question_add"), _admin_form_for(topic, question_type)
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    exported = question_bank.EXPORT_FORMATS[file_format].write(None)
    plan = question_bank.plan_import(exported, filename="x", file_format=file_format)
    assert plan.errors == []
    assert [(q.action, [str(c) for c in q.changes]) for q in plan.questions] == [("unchanged", [])]


def test_an_html_question_is_read_as_html_as_moodle_does(topic, learner_client, learner):
    # Moodle's example file: `[html]` says the text (and its feedback) is HTML. Learners
    # must see the formatting, never the tags as text, and nothing unsafe is kept.
    plan = question_bank.plan_import(
        "$CATEGORY: grant\n"
        "::Html::[html]<p>Who's buried in <b>Grant's tomb</b>?<script>alert(1)</script></p>{\n"
        "=no one#<i>excellent</i> answer!\n"
        "=nobody#excellent answer!\n"
        '####<p>See <a href="javascript:alert(2)">the tomb</a>.</p>}\n',
        filename="x.gift",
    )
    assert not plan.errors, plan.errors
    question_bank.apply_import(plan)
    question = Question.objects.get(key="html")
    assert question.prompt == "Who's buried in **Grant's tomb**?"
    assert question.explanation == "See the tomb."
    assert question.choices.get(text="no one").feedback == "*excellent* answer!"
    question.is_published = True
    question.save()

    html = answered(learner_client, learner, question, {"text": "no one"})
    assert "<strong>Grant's tomb</strong>" in html
    assert "&lt;p&gt;" not in html and "&lt;b&gt;" not in html
    assert "<em>excellent</em> answer!" in html
    assert "alert(" not in html

    # Stored as Markdown, exported as Markdown: importing the export changes nothing.
    again = question_bank.plan_import(question_bank.export_gift(topic), filename="x.gift")
    assert again.count("unchanged") == 1, again.questions


def test_the_options_and_items_of_an_html_question_show_as_their_text(topic):
    # Moodle reads a `[html]` question's options and matching items as HTML too: learners
    # see "Calcium", not "<b>Calcium</b>". A short answer is compared as typed.
    plan = question_bank.plan_import(
        "$CATEGORY: grant\n"
        "::pick::[html]<p>Which starts a contraction?</p>{=<b>Calcium</b> ~<i>Iron</i>"
        "<script>x()</script> ~Zinc &amp; copper}\n"
        "::pair::[html]Match them {=<b>Calcium</b> -> contraction =Magnesium -> relaxation}\n"
        "::typed::[html]Name it {=sodium}\n",
        filename="x.gift",
    )
    assert not plan.errors, plan.errors
    question_bank.apply_import(plan)
    texts = {
        question.key: [choice.text for choice in question.choices.all()]
        for question in Question.objects.prefetch_related("choices")
    }
    assert texts == {
        "pick": ["Calcium", "Iron", "Zinc & copper"],
        "pair": ["Calcium", "Magnesium"],
        "typed": ["sodium"],
    }
    again = question_bank.plan_import(question_bank.export_gift(topic), filename="x.gift")
    assert again.count("unchanged") == 3, again.questions
