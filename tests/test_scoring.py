from decimal import Decimal

from learning import scoring


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
