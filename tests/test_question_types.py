"""Each registered question type: grading, the author's checks, samples and forms."""

import json
import re
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.http import QueryDict

from learning import question_types
from learning.formats.gift import write_gift
from learning.forms import AnswerForm
from learning.models import Question
from learning.question_bank import imported, to_gift
from learning.question_types.base import (
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
from learning.versions import current_key
from tests.factories import FACTORY_BY_TYPE


def choice_key(question_type: str, *flags: bool) -> QuestionKey:
    return QuestionKey(
        type=question_type,
        choices=tuple(ChoiceKey(id=i, is_correct=flag) for i, flag in enumerate(flags, start=1)),
    )


def picked(*ids: int) -> ChoiceAnswer:
    return ChoiceAnswer(frozenset(ids))


def authoring_errors(question_type: str, flags: list[bool], numeric: Decimal | None) -> list[str]:
    rows = [ChoiceKey(id=i, is_correct=flag, text=f"Option {i}") for i, flag in enumerate(flags)]
    return question_types.get(question_type).authoring_errors({"numeric_answer": numeric}, rows)


class TestSingleChoice:
    key = choice_key("single", False, True, False)

    def test_the_right_choice_scores_one(self):
        assert question_types.grade(self.key, picked(2)) == 1

    def test_a_wrong_choice_scores_zero(self):
        assert question_types.grade(self.key, picked(1)) == 0

    def test_picking_several_scores_zero(self):
        assert question_types.grade(self.key, picked(1, 2)) == 0

    def test_a_number_for_a_choice_question_scores_zero(self):
        assert question_types.grade(self.key, NumericAnswer(Decimal(2))) == 0


class TestTrueFalse:
    key = choice_key("true_false", True, False)

    def test_right_and_wrong(self):
        assert question_types.grade(self.key, picked(1)) == 1
        assert question_types.grade(self.key, picked(2)) == 0


class TestMultipleAnswers:
    # Three right choices (1, 2, 3) and two wrong ones (4, 5).
    key = choice_key("multiple", True, True, True, False, False)

    @pytest.mark.parametrize(
        ("ids", "expected"),
        [
            ((1, 2, 3), Decimal(1)),
            ((1, 2), Decimal("0.6667")),
            ((1,), Decimal("0.3333")),
            ((1, 2, 3, 4), Decimal("0.6667")),
            ((1, 2, 4), Decimal("0.3333")),
            ((1, 4), Decimal(0)),
            ((1, 4, 5), Decimal(0)),  # would be negative: floored at zero
            ((4, 5), Decimal(0)),
            ((), Decimal(0)),
        ],
    )
    def test_right_picked_minus_wrong_picked_over_number_right(self, ids, expected):
        assert question_types.grade(self.key, picked(*ids)) == expected


class TestNumeric:
    key = QuestionKey(type="numeric", numeric_answer=Decimal(15), numeric_tolerance=Decimal("0.5"))

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("15", 1), ("14.5", 1), ("15.5", 1), ("15.51", 0), ("14", 0), ("-15", 0)],
    )
    def test_right_within_tolerance(self, value, expected):
        assert question_types.grade(self.key, NumericAnswer(Decimal(value))) == expected

    def test_exact_answers_need_the_exact_value(self):
        exact = QuestionKey(type="numeric", numeric_answer=Decimal(800))
        assert question_types.grade(exact, NumericAnswer(Decimal(800))) == 1
        assert question_types.grade(exact, NumericAnswer(Decimal("800.01"))) == 0

    def test_a_choice_for_a_numeric_question_scores_zero(self):
        assert question_types.grade(self.key, picked(15)) == 0


class TestAnswerability:
    @pytest.mark.parametrize(
        ("question_type", "flags", "numeric", "problem"),
        [
            ("single", [False, False], None, "at least one correct"),
            ("single", [True], None, "at least two choices"),
            ("true_false", [True, True], None, "exactly two choices"),
            ("true_false", [True, False, False], None, "exactly two choices"),
            ("multiple", [False, False, False], None, "at least one correct"),
            ("numeric", [], None, "needs a right value"),
        ],
    )
    def test_it_explains_why_no_one_could_answer(self, question_type, flags, numeric, problem):
        errors = authoring_errors(question_type, flags, numeric)
        assert len(errors) == 1
        assert problem in errors[0]

    @pytest.mark.parametrize(
        ("question_type", "flags", "numeric"),
        [
            ("single", [False, True, False], None),
            ("single", [True, True], None),  # several right options, each the full point
            ("true_false", [False, True], None),
            ("multiple", [True, False, True], None),
            ("numeric", [], Decimal(0)),
        ],
    )
    def test_it_accepts_answerable_questions(self, question_type, flags, numeric):
        assert authoring_errors(question_type, flags, numeric) == []


def test_key_from_snapshot_reads_the_stored_answer_key():
    snapshot = {
        "type": "numeric",
        "choices": [],
        "numeric_answer": "12.5",
        "numeric_tolerance": "0.5",
    }
    key = key_from_snapshot(snapshot)
    assert question_types.grade(key, NumericAnswer(Decimal(13))) == 1
    assert question_types.grade(key, NumericAnswer(Decimal("13.01"))) == 0


class TestShortAnswer:
    key = QuestionKey(
        type="short_answer",
        choices=(
            ChoiceKey(id=1, text="Calcium", credit=Decimal(100)),
            ChoiceKey(id=2, text="calcium ions", credit=Decimal(100)),
            ChoiceKey(id=3, text="Ca", credit=Decimal(50)),
        ),
    )

    @pytest.mark.parametrize(
        ("typed", "expected"),
        [
            ("Calcium", Decimal(1)),
            ("  cALCIUM ", Decimal(1)),
            ("calcium   ions", Decimal(1)),
            ("ca", Decimal("0.5")),
            ("magnesium", Decimal(0)),
            ("", Decimal(0)),
            ("   ", Decimal(0)),
        ],
    )
    def test_case_and_surrounding_space_are_ignored_partial_credit_kept(self, typed, expected):
        assert question_types.grade(self.key, TextAnswer(typed)) == expected

    def test_a_negative_credit_never_takes_points_below_zero(self):
        key = QuestionKey(
            type="short_answer", choices=(ChoiceKey(id=1, text="x", credit=Decimal(-50)),)
        )
        assert question_types.grade(key, TextAnswer("x")) == 0

    @pytest.mark.parametrize(
        ("accepted", "typed"),
        [
            ("tonic-clonic", "Tonic-clonic."),
            ("tonic-clonic", "tonic clonic"),
            ("tonic-clonic", "tonic\u2013clonic"),  # an en dash, as word processors type it
            ("Willis-Ekbom disease", "Willis\u2014Ekbom disease"),
            ("anti-inflammatory medicines", "anti inflammatory medicines"),
            ("Na+", "Na\u207a"),  # superscript plus
            ("writer's cramp", "writer\u2019s cramp"),
            ("writer's cramp", "writers cramp"),
            ("Achilles tendon", "Achilles' tendon"),
            ("restless legs syndrome", "restless-legs syndrome,"),
        ],
    )
    def test_a_right_answer_typed_another_usual_way_is_right(self, accepted, typed):
        key = QuestionKey(
            type="short_answer",
            choices=(ChoiceKey(id=1, text=accepted, credit=Decimal(100)),),
            forgiving_typing=True,
        )
        assert question_types.grade(key, TextAnswer(typed)) == 1
        # A version made before the forgiving comparison keeps grading as it did then.
        before = QuestionKey(type="short_answer", choices=key.choices)
        assert question_types.grade(before, TextAnswer(typed)) == 0

    @pytest.mark.parametrize(
        ("accepted", "typed"),
        [
            ("salt", "salty"),
            ("Na+", "Na"),
            ("sodium", "sodium chloride"),
            ("anti-inflammatory", "antinflammatory"),
            ("tonic-clonic", "tonic"),
        ],
    )
    def test_a_different_answer_is_still_wrong(self, accepted, typed):
        key = QuestionKey(
            type="short_answer",
            choices=(ChoiceKey(id=1, text=accepted, credit=Decimal(100)),),
            forgiving_typing=True,
        )
        assert question_types.grade(key, TextAnswer(typed)) == 0


class TestMatching:
    key = QuestionKey(
        type="matching",
        choices=(
            ChoiceKey(id=1, text="Tic", match_text="Rapid repeating twitch"),
            ChoiceKey(id=2, text="Cramp", match_text="Painful lasting contraction"),
            ChoiceKey(id=3, text="Convulsion", match_text="Jerking caused by a seizure"),
            ChoiceKey(id=4, text="Cramp again", match_text="Painful lasting contraction"),
        ),
    )

    def answer(self, **chosen: str) -> MatchingAnswer:
        ids = {"tic": 1, "cramp": 2, "convulsion": 3, "again": 4}
        return MatchingAnswer(tuple((ids[name], text) for name, text in chosen.items()))

    def test_score_is_the_share_of_pairs_matched_right(self):
        all_right = self.answer(
            tic="Rapid repeating twitch",
            cramp="Painful lasting contraction",
            convulsion="Jerking caused by a seizure",
            again="Painful lasting contraction",
        )
        assert question_types.grade(self.key, all_right) == 1
        half = self.answer(
            tic="Rapid repeating twitch",
            cramp="Jerking caused by a seizure",
            convulsion="Painful lasting contraction",
            again="Painful lasting contraction",
        )
        assert question_types.grade(self.key, half) == Decimal("0.5")

    def test_missing_matches_count_as_wrong(self):
        assert question_types.grade(
            self.key, self.answer(tic="Rapid repeating twitch")
        ) == Decimal("0.25")


def test_numeric_extra_answers_give_partial_credit():
    key = QuestionKey(
        type="numeric",
        numeric_answer=Decimal(60),
        numeric_tolerance=Decimal(5),
        choices=(
            ChoiceKey(
                id=1, numeric_value=Decimal(45), numeric_tolerance=Decimal(5), credit=Decimal(50)
            ),
        ),
    )
    assert question_types.grade(key, NumericAnswer(Decimal(63))) == 1
    assert question_types.grade(key, NumericAnswer(Decimal(41))) == Decimal("0.5")
    assert question_types.grade(key, NumericAnswer(Decimal(30))) == 0


@pytest.mark.parametrize(
    ("question_type", "rows", "problem"),
    [
        ("short_answer", [ChoiceKey(id=1, text="Ca", credit=Decimal(50))], "worth 100%"),
        ("short_answer", [], "worth 100%"),
        ("matching", [ChoiceKey(id=1, text="a", match_text="b")], "at least two pairs"),
        (
            "matching",
            [ChoiceKey(id=1, text="a", match_text="b"), ChoiceKey(id=2, text="c")],
            "both an item and its match",
        ),
        (
            "matching",
            [ChoiceKey(id=1, text="a", match_text="b"), ChoiceKey(id=2, text="A", match_text="c")],
            "must all differ",
        ),
    ],
)
def test_answerability_of_the_typed_types(question_type, rows, problem):
    errors = question_types.get(question_type).answer_row_errors(rows)
    assert errors and problem in errors[0]


# -- every registered type, through its whole interface ---------------------------------


def test_every_registered_type_has_a_factory():
    assert set(FACTORY_BY_TYPE) == {t.value for t in question_types.registered()}


@pytest.fixture(params=sorted(FACTORY_BY_TYPE))
def question(request, db) -> Question:
    made = FACTORY_BY_TYPE[request.param].create()
    return Question.objects.prefetch_related("choices").select_related("topic").get(pk=made.pk)


@pytest.mark.parametrize("right", [True, False])
def test_the_sample_answer_is_fully_right_or_earns_nothing(question, right):
    question_type = question_types.get(question.type)
    key = current_key(question)
    answer = question_type.sample_answer(key, right=right)
    assert question_type.answer_problem(key, answer) is None
    assert question_types.grade(key, answer) == (1 if right else 0)


def test_a_stored_answer_reads_back_the_same(question):
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question))
    stored = json.loads(json.dumps(question_type.answer_to_json(answer)))
    assert question_type.answer_from_json(stored) == answer


@pytest.mark.parametrize("right", [True, False])
def test_the_form_a_learner_fills_gives_the_answer_back(question, right):
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question), right=right)
    choices = tuple(question.choices.all())
    codes = OptionCodes.for_attempt(41, question.pk, [choice.id for choice in choices])
    data = QueryDict(mutable=True)
    data["question"] = str(question.pk)
    for name, value in question_type.form_data(answer, codes).items():
        data.setlist(name, value if isinstance(value, list) else [value])
    form = AnswerForm(data, question=question, choices=choices, codes=codes)
    assert form.is_valid(), form.errors
    assert form.to_answer() == answer

    # The same form posted to another attempt's page means nothing there.
    other = OptionCodes.for_attempt(42, question.pk, [choice.id for choice in choices])
    elsewhere = AnswerForm(data, question=question, choices=choices, codes=other)
    assert not question_type.answers_by_picking or not elsewhere.is_valid()


def test_option_codes_are_opaque_different_per_attempt_and_stable_within_one():
    ids = [7, 8, 9]
    first = OptionCodes.for_attempt(1, 5, ids)
    again = OptionCodes.for_attempt(1, 5, ids)
    second = OptionCodes.for_attempt(2, 5, ids)
    assert [first.code(i) for i in ids] == [again.code(i) for i in ids]
    assert {first.code(i) for i in ids}.isdisjoint({second.code(i) for i in ids})
    assert all(str(i) not in first.code(i) or len(first.code(i)) == 16 for i in ids)
    assert [first.choice_id(first.code(i)) for i in ids] == ids
    assert first.choice_id(second.code(7)) is None
    assert first.choice_id("7") is None


def test_an_answer_of_another_types_shape_is_refused(question):
    question_type = question_types.get(question.type)
    key = current_key(question)
    others = [
        t for t in question_types.registered() if t.answer_class is not question_type.answer_class
    ]
    foreign = FACTORY_BY_TYPE[others[0].value]()
    wrong_shape = others[0].sample_answer(current_key(foreign))
    assert question_type.answer_problem(key, wrong_shape)
    assert question_types.grade(key, wrong_shape) == 0


def test_gift_export_reads_back_as_the_same_question(question):
    text = write_gift([to_gift(question)])
    document = question_types.parse_gift(text)
    assert document.problems == []
    (source,) = document.questions
    assert source.kind == question.type
    read = imported(source)
    assert (read.values["prompt"], read.values["explanation"]) == (
        question.prompt,
        question.explanation,
    )
    choices = list(question.choices.all())
    assert [row["text"] for row in read.rows] == [choice.text for choice in choices]
    read_key = QuestionKey(
        type=source.kind,
        choices=tuple(
            replace(row, id=choice.id)
            for row, choice in zip(keys_of_rows(read.rows), choices, strict=True)
        ),
        numeric_answer=read.values["numeric_answer"],
        numeric_tolerance=read.values["numeric_tolerance"],
    )
    key = current_key(question)
    for right in (True, False):
        answer = question_types.get(question.type).sample_answer(key, right=right)
        assert question_types.grade(read_key, answer) == question_types.grade(key, answer)


def test_no_module_outside_question_types_asks_which_type_a_question_is():
    root = Path(settings.BASE_DIR)
    names = "|".join(re.escape(t.value) for t in question_types.registered())
    asks = re.compile(rf"""(\.type|question_type|\.kind)\s*(==|!=|\bin\b)|["']({names})["']""")
    sources = [
        *(root / "learning").rglob("*.py"),
        *(root / "templates").rglob("*.html"),
        *(root / "scripts").glob("*.py"),
    ]
    found = [
        f"{path.relative_to(root)}:{number}: {line.strip()}"
        for path in sources
        if "question_types" not in path.parts and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if asks.search(line) and not re.search(r"QuizKind|quiz\.kind|problem\.kind", line)
    ]
    assert not found, "\n".join(found)


def test_feedback_lists_the_rows_in_the_order_shown_the_snapshot_keeps_the_authors():
    snapshot = {
        "type": "multiple",
        "choices": [
            {"id": 1, "text": "First written", "is_correct": True},
            {"id": 2, "text": "Second written", "is_correct": False},
            {"id": 3, "text": "Third written", "is_correct": True},
        ],
    }
    multiple = question_types.get("multiple")
    shown = multiple.feedback_detail(snapshot, {"choices": [3]}, shown_order=[3, 1, 2])
    assert [row.text for row in shown.choices] == [
        "Third written",
        "First written",
        "Second written",
    ]
    assert [row.picked for row in shown.choices] == [True, False, False]
    as_written = multiple.feedback_detail(snapshot, {"choices": [3]}, shown_order=[])
    assert [row.id for row in as_written.choices] == [1, 2, 3]
