from decimal import Decimal

import pytest

from learning.gift import MULTIPLE, NUMERIC, SINGLE, TRUE_FALSE, escape, parse_gift, unescape


def only(text: str):
    document = parse_gift(text)
    assert document.problems == []
    assert len(document.questions) == 1
    return document.questions[0]


def test_single_choice_with_title_feedback_and_general_feedback():
    question = only(
        "::calcium:: What starts a contraction? {\n"
        "=Calcium #Right, calcium.\n"
        "~Iron #No, iron carries oxygen.\n"
        "####Calcium released inside the cell starts it.\n"
        "}"
    )
    assert question.kind == SINGLE
    assert question.title == "calcium"
    assert question.prompt == "What starts a contraction?"
    assert [(c.text, c.is_correct, c.feedback) for c in question.choices] == [
        ("Calcium", True, "Right, calcium."),
        ("Iron", False, "No, iron carries oxygen."),
    ]
    assert question.general_feedback == "Calcium released inside the cell starts it."


def test_weighted_answers_make_a_multiple_answer_question():
    question = only("Pick the electrolytes. {~%50%Sodium ~%50%Potassium ~%-100%Glucose}")
    assert question.kind == MULTIPLE
    assert [c.weight for c in question.choices] == [Decimal(50), Decimal(50), Decimal(-100)]
    assert [c.is_correct for c in question.choices] == [True, True, False]


def test_a_single_full_weight_answer_is_still_single_choice():
    assert only("Q {~%100%right ~%0%wrong}").kind == SINGLE


@pytest.mark.parametrize(
    ("marker", "true_is_right"), [("T", True), ("TRUE", True), ("F", False), ("FALSE", False)]
)
def test_true_false_in_every_spelling(marker, true_is_right):
    question = only(f"Calcium triggers contraction. {{{marker}}}")
    assert question.kind == TRUE_FALSE
    assert [(c.text, c.is_correct) for c in question.choices] == [
        ("True", true_is_right),
        ("False", not true_is_right),
    ]


def test_true_false_feedback_follows_moodles_order():
    question = only("Sky is green. {F#Look again.#Well spotted.####The sky is blue.}")
    true, false = question.choices
    assert true.feedback == "Look again."  # shown for the wrong answer
    assert false.feedback == "Well spotted."  # shown for the right answer
    assert question.general_feedback == "The sky is blue."


@pytest.mark.parametrize(
    ("body", "value", "tolerance"),
    [
        ("#800", "800", "0"),
        ("#15:2", "15", "2"),
        ("#650..800", "725", "75"),
        ("#=60:5 ~%50%45:5", "60", "5"),
    ],
)
def test_numeric_forms(body, value, tolerance):
    question = only(f"How many? {{{body}}}")
    assert question.kind == NUMERIC
    first = question.numeric_answers[0]
    assert (first.value, first.tolerance) == (Decimal(value), Decimal(tolerance))


def test_comments_categories_formats_and_metadata():
    document = parse_gift(
        "// a file comment\n\n$CATEGORY: heat\n\n// anchor: signs\n"
        "::q1::[markdown]Is **heat** risky? {T}\n\n::q2:: Another {F}\n"
    )
    first, second = document.questions
    assert first.category == second.category == "heat"
    assert first.text_format == "markdown"
    assert first.metadata == {"anchor": "signs"}
    assert second.metadata == {}


def test_escapes_round_trip():
    text = "a ~ b = c # d { e } f : g \\ h"
    assert unescape(escape(text)) == text
    question = only("What is 1 \\= 1? {=yes \\{really\\} ~no \\# never}")
    assert question.prompt == "What is 1 = 1?"
    assert [c.text for c in question.choices] == ["yes {really}", "no # never"]


def test_answers_may_span_lines_and_blank_lines_inside_braces():
    question = only("Which?\n{\n=one\n\n~two\n}")
    assert [c.text for c in question.choices] == ["one", "two"]


def test_questions_start_on_the_line_reported():
    document = parse_gift("\n\n::a:: First {T}\n\n\n::b:: Second {=x ~y}")
    assert [q.line for q in document.questions] == [3, 6]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("Just a description.", "description"),
        ("Write an essay. {}", "essay"),
        ("Unclosed {=a ~b", "never closed"),
        ("The {=sun ~moon} is a star.", "missing-word"),
        ("Match {=cat -> meow =dog -> woof}", "matching"),
        ("Name it. {=calcium =Ca}", "short-answer"),
        ("Empty answer {= ~b}", "empty"),
        ("No right {~a ~b}", "no answer is marked right"),
        ("Bad number {#lots}", "not a number"),
        ("::open title Q {T}", "never closed"),
    ],
)
def test_unsupported_or_broken_questions_are_reported_not_raised(text, problem):
    document = parse_gift("::ok:: Fine {T}\n\n" + text + "\n\n::ok2:: Also fine {F}")
    assert [q.title for q in document.questions] == ["ok", "ok2"] or "never closed" in problem
    assert len(document.problems) == 1
    assert problem in document.problems[0].message
    assert document.problems[0].line == 3
