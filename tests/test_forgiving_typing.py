"""Short answers compared forgivingly (dashes, hyphens, apostrophes, a full stop), without
changing how answers given before are shown or regraded (issue 14)."""

from decimal import Decimal

import pytest

from learning import question_types
from learning.models import QuestionVersion
from learning.question_types.base import ChoiceKey
from learning.regrading import needs_regrade, plan_regrade
from learning.versions import question_version, snapshot_digest, snapshot_question
from tests.factories import ChoiceFactory, QuestionFactory, ResponseFactory

pytestmark = pytest.mark.django_db

SHORT = question_types.get("short_answer")


@pytest.fixture
def calcium():
    question = QuestionFactory.create(type="short_answer", choices=[])
    ChoiceFactory(question=question, text="calcium", credit=Decimal(100), feedback="Yes: calcium.")
    return question


def test_a_short_answer_version_says_it_compares_forgivingly_and_other_types_are_unchanged(
    calcium,
):
    assert snapshot_question(calcium)["typing"] == "forgiving"
    single = QuestionFactory.create()
    assert "typing" not in snapshot_question(single)
    # The mark is part of the version: a version made before it stays as it was.
    assert question_version(calcium).snapshot["typing"] == "forgiving"


def test_an_answer_given_to_an_older_version_is_shown_as_it_was_graded(calcium):
    before = {key: value for key, value in snapshot_question(calcium).items() if key != "typing"}
    now = snapshot_question(calcium)
    typed = {"text": "Calcium."}

    old_detail = SHORT.feedback_detail(before, typed, [])
    new_detail = SHORT.feedback_detail(now, typed, [])

    assert old_detail.feedback == ""  # it earned nothing then, and says nothing matched
    assert new_detail.feedback == "Yes: calcium."


def test_the_accepted_answers_list_each_answer_once(calcium):
    ChoiceFactory(question=calcium, text="Calcium.", credit=Decimal(100))
    ChoiceFactory(question=calcium, text="calcium ions", credit=Decimal(100))
    detail = SHORT.feedback_detail(snapshot_question(calcium), {"text": "zinc"}, [])
    assert [text for text, _credit in detail.accepted_answers] == ["calcium", "calcium ions"]


@pytest.mark.parametrize(
    ("rows", "problem"),
    [
        (
            [("writer's cramp", 100), ("writers cramp", 50)],
            "are compared as the same answer",
        ),
        ([("calcium", 100), ("...", 100)], "only punctuation"),
    ],
)
def test_accepted_answers_that_would_clash_are_refused(rows, problem):
    keys = [
        ChoiceKey(id=number, text=text, credit=Decimal(credit))
        for number, (text, credit) in enumerate(rows, start=1)
    ]
    errors = SHORT.answer_row_errors(keys)
    assert any(problem in error for error in errors), errors


def test_the_same_answer_written_twice_at_the_same_credit_is_allowed():
    keys = [
        ChoiceKey(id=1, text="tonic-clonic", credit=Decimal(100)),
        ChoiceKey(id=2, text="tonic clonic", credit=Decimal(100)),
    ]
    assert SHORT.answer_row_errors(keys) == []


def test_answers_graded_before_are_offered_for_regrading_with_what_would_change(calcium):
    before = {key: value for key, value in snapshot_question(calcium).items() if key != "typing"}
    old_version = QuestionVersion.objects.create(
        question=calcium, digest=snapshot_digest(before), snapshot=before
    )
    refused = ResponseFactory(
        question=calcium, version=old_version, answer={"text": "Calcium."}, points=Decimal(0)
    )
    ResponseFactory(
        question=calcium, version=old_version, answer={"text": "calcium"}, points=Decimal(1)
    )

    assert needs_regrade(calcium)
    plan = plan_regrade(question=calcium)
    assert [(change.response_id, change.after) for change in plan.changes] == [
        (refused.id, Decimal(1))
    ]
    refused.refresh_from_db()
    assert refused.points == 0  # nothing changes until a teacher confirms the regrade
