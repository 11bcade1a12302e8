"""Clinical corrections to the course (issue 14): the wrong claims are gone, the right ones taught.

Pure checks over fixtures/: no database, no server.
"""

import re
from decimal import Decimal

import pytest
from django.conf import settings

from learning.content import CourseSource, LessonSource, read_course

FIXTURES = settings.COURSE_CONTENT_DIR


@pytest.fixture(scope="module")
def course() -> CourseSource:
    return read_course(FIXTURES)


def lesson(course: CourseSource, slug: str) -> str:
    found: LessonSource = next(each for each in course.lessons if each.slug == slug)
    return " ".join(f"{found.summary}\n{found.body}".split())


def everything(course: CourseSource) -> dict[str, str]:
    """Every lesson and every question's whole text (stem, options, feedback), by where it is."""
    texts = {f"lesson {each.slug}": lesson(course, each.slug) for each in course.lessons}
    for _path, question in course.questions:
        texts[f"question {question.title}"] = " ".join(question.syntax.split())
    return texts


def saying(course: CourseSource, pattern: str) -> list[str]:
    return [
        where
        for where, text in everything(course).items()
        if re.search(pattern, text, re.IGNORECASE)
    ]


def question(course: CourseSource, key: str):
    return next(each for _path, each in course.questions if each.title == key)


@pytest.mark.parametrize(
    "wrong_claim",
    [
        r"help\w* (the )?(nerve )?signal (to )?(cross|pass)",
        r"(need|enough) water (for them )?to be dissolved",
        r"acidic waste",
        r"(as \**|also )waste\** builds up",
        r"fall into",
        r"wear\w* on the nerves",
        r"the more (painful a spasm|a spasm hurts)",
        r"risk of lasting injury",
        r"few seconds to about a minute",
        r"convulsion can be very painful",
        r"(ALS|twitching) (or|and) muscular dystrophy",
        r"three main kinds of (muscle )?spasm",
        r"deep bruise on the thigh left by a kick #No",
    ],
)
def test_no_lesson_or_question_repeats_a_corrected_error(course, wrong_claim):
    assert saying(course, wrong_claim) == []


def test_lesson_04_teaches_unconsciousness_and_the_usual_length_of_a_tonic_clonic_seizure(
    course,
):
    text = lesson(course, "kinds-of-spasm")
    assert "tonic-clonic" in text
    assert "unconscious" in text
    assert re.search(r"does \**not feel pain", text)
    assert "1 to 3 minutes" in text
    assert re.search(r"aching muscles, a headache", text)


def test_the_seizure_length_question_accepts_the_usual_range_and_not_a_few_seconds(course):
    (answer,) = question(course, "kos-convulsion-length").numeric_answers
    assert answer.value is not None
    low, high = answer.value - answer.tolerance, answer.value + answer.tolerance
    assert low <= Decimal(1) and high >= Decimal(3)
    assert low > Decimal("0.5") and high < Decimal(5)


def test_the_kinds_of_spasm_are_presented_as_one_way_to_group_them(course):
    assert "one way to group" in lesson(course, "kinds-of-spasm").lower()
    assert "not a formal medical classification" in lesson(course, "kinds-of-spasm")


def test_magnesium_is_taught_as_steadying_nerves_and_muscles(course):
    text = lesson(course, "how-muscles-work")
    assert "fire too easily" in text
    assert "releases" in text and "membrane stable" in text


def test_dehydration_is_taught_as_changing_concentrations_and_hedged(course):
    for slug in ("causes", "heat"):
        text = lesson(course, slug)
        assert "concentration" in text, slug
        assert "may contribute" in text, slug
        assert "nerve-muscle fatigue" in text, slug
        assert "contested" in text, slug


def test_iron_and_lactic_acid_are_hedged(course):
    text = lesson(course, "medical-conditions")
    assert "restless legs" in text
    assert "weak" in text
    assert "lactic-acid myth" in text


def test_twitching_points_to_motor_neurons_not_muscular_dystrophy(course):
    text = lesson(course, "signs-and-symptoms")
    assert "fasciculation" in text
    for cause in ("ALS", "spinal muscular atrophy", "trapped nerve root"):
        assert cause.lower() in text.lower(), cause
    assert "twitching is not typical" in text


def test_pain_is_not_taught_as_a_measure_of_lasting_injury(course):
    text = lesson(course, "signs-and-symptoms")
    assert "not** a measure of lasting injury" in text
    for sign in ("swelling", "bruising", "weakness", "pain that does not go away"):
        assert sign in text, sign


def test_blood_pressure_is_linked_to_cramps_through_diuretics(course):
    text = lesson(course, "who-is-at-risk")
    assert "diuretics" in text
    assert "include **five** broad groups" in text
    assert "weakness** rather than spasms" in text


def test_charley_horse_is_not_a_wrong_answer_for_a_thigh_bruise(course):
    key = question(course, "soc-charley-horse")
    wrong = [choice.text for choice in key.choices if not choice.is_correct]
    assert not any("bruise" in text.lower() for text in wrong)
    assert "dead leg" in lesson(course, "spasm-or-cramp")


def test_every_lesson_with_seizure_emergency_advice_says_call_the_emergency_number(course):
    giving_advice = [
        each.slug
        for each in course.lessons
        if re.search(r"seizure", each.body) and re.search(r"five minutes|5 minutes", each.body)
    ]
    assert set(giving_advice) >= {"kinds-of-spasm", "diagnosis-and-treatment"}
    for slug in giving_advice:
        assert "emergency number" in lesson(course, slug), slug
    assert not re.search(r"first time should see a doctor", lesson(course, "kinds-of-spasm"))
