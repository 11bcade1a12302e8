from decimal import Decimal

import pytest

from learning import scoring
from learning.scoring import ChoiceAnswer, ChoiceKey, NumericAnswer, QuestionKey


def choice_key(question_type: str, *flags: bool) -> QuestionKey:
    return QuestionKey(
        type=question_type,
        choices=tuple(ChoiceKey(id=i, is_correct=flag) for i, flag in enumerate(flags, start=1)),
    )


def picked(*ids: int) -> ChoiceAnswer:
    return ChoiceAnswer(frozenset(ids))


class TestSingleChoice:
    key = choice_key("single", False, True, False)

    def test_the_right_choice_scores_one(self):
        assert scoring.grade(self.key, picked(2)) == 1

    def test_a_wrong_choice_scores_zero(self):
        assert scoring.grade(self.key, picked(1)) == 0

    def test_picking_several_scores_zero(self):
        assert scoring.grade(self.key, picked(1, 2)) == 0

    def test_a_number_for_a_choice_question_scores_zero(self):
        assert scoring.grade(self.key, NumericAnswer(Decimal(2))) == 0


class TestTrueFalse:
    key = choice_key("true_false", True, False)

    def test_right_and_wrong(self):
        assert scoring.grade(self.key, picked(1)) == 1
        assert scoring.grade(self.key, picked(2)) == 0


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
        assert scoring.grade(self.key, picked(*ids)) == expected


class TestNumeric:
    key = QuestionKey(type="numeric", numeric_answer=Decimal(15), numeric_tolerance=Decimal("0.5"))

    @pytest.mark.parametrize(
        ("value", "expected"),
        [("15", 1), ("14.5", 1), ("15.5", 1), ("15.51", 0), ("14", 0), ("-15", 0)],
    )
    def test_right_within_tolerance(self, value, expected):
        assert scoring.grade(self.key, NumericAnswer(Decimal(value))) == expected

    def test_exact_answers_need_the_exact_value(self):
        exact = QuestionKey(type="numeric", numeric_answer=Decimal(800))
        assert scoring.grade(exact, NumericAnswer(Decimal(800))) == 1
        assert scoring.grade(exact, NumericAnswer(Decimal("800.01"))) == 0

    def test_a_choice_for_a_numeric_question_scores_zero(self):
        assert scoring.grade(self.key, picked(15)) == 0


class TestAttemptScore:
    def test_percent_is_points_over_questions(self):
        points = [Decimal(1), Decimal("0.5"), Decimal(0)]
        assert scoring.attempt_percent(points, 3) == Decimal("50.00")

    def test_percent_rounds_to_two_places(self):
        assert scoring.attempt_percent([Decimal(2)], 3) == Decimal("66.67")

    def test_unanswered_questions_count_as_zero(self):
        assert scoring.attempt_percent([Decimal(1)], 4) == Decimal("25.00")

    def test_pass_mark_is_inclusive(self):
        assert scoring.has_passed(Decimal("70.00"), 70)
        assert not scoring.has_passed(Decimal("69.99"), 70)


class TestAnswerability:
    @pytest.mark.parametrize(
        ("question_type", "flags", "numeric", "problem"),
        [
            ("single", [False, False], None, "exactly one correct"),
            ("single", [True, True], None, "exactly one correct"),
            ("single", [True], None, "at least two choices"),
            ("true_false", [True, True], None, "exactly two choices"),
            ("true_false", [True, False, False], None, "exactly two choices"),
            ("multiple", [False, False, False], None, "at least one correct"),
            ("numeric", [], None, "needs a right value"),
        ],
    )
    def test_it_explains_why_no_one_could_answer(self, question_type, flags, numeric, problem):
        errors = scoring.answerability_errors(question_type, flags, numeric)
        assert len(errors) == 1
        assert problem in errors[0]

    @pytest.mark.parametrize(
        ("question_type", "flags", "numeric"),
        [
            ("single", [False, True, False], None),
            ("true_false", [False, True], None),
            ("multiple", [True, False, True], None),
            ("numeric", [], Decimal(0)),
        ],
    )
    def test_it_accepts_answerable_questions(self, question_type, flags, numeric):
        assert scoring.answerability_errors(question_type, flags, numeric) == []


def test_key_from_snapshot_reads_the_stored_answer_key():
    snapshot = {
        "type": "numeric",
        "choices": [],
        "numeric_answer": "12.5",
        "numeric_tolerance": "0.5",
    }
    key = scoring.key_from_snapshot(snapshot)
    assert scoring.grade(key, NumericAnswer(Decimal(13))) == 1
    assert scoring.grade(key, NumericAnswer(Decimal("13.01"))) == 0
