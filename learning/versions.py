"""Question versions: what a learner was asked, stored once per distinct content and never
rewritten, so a teacher's later edit does not change anyone's past."""

import hashlib
import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils.crypto import constant_time_compare, salted_hmac

from learning import question_types
from learning.models import Choice, Question, QuestionVersion
from learning.question_types.base import CREDITS_SCORING, QuestionKey, key_from_snapshot


def snapshot_question(
    question: Question, choices: Iterable[Choice] | None = None
) -> dict[str, Any]:
    """Everything a learner's answer to this question is judged and reviewed by (`choices`:
    its rows, when they are loaded already)."""
    rows = question.choices.all() if choices is None else choices
    ordered = sorted(rows, key=lambda choice: (choice.order, choice.id))
    return {
        "key": question.key,
        "topic_slug": question.topic.slug,
        "type": question.type,
        "prompt": question.prompt,
        "explanation": question.explanation,
        "lesson_anchor": question.lesson_anchor,
        "choices": [
            {
                "id": choice.id,
                "text": choice.text,
                "is_correct": choice.is_correct,
                "credit": str(choice.credit),
                "match_text": choice.match_text,
                "numeric_value": (
                    str(choice.numeric_value) if choice.numeric_value is not None else None
                ),
                "numeric_tolerance": str(choice.numeric_tolerance),
                "feedback": choice.feedback,
            }
            for choice in ordered
        ],
        "numeric_answer": (
            str(question.numeric_answer) if question.numeric_answer is not None else None
        ),
        "numeric_tolerance": str(question.numeric_tolerance),
        "numeric_feedback": question.numeric_feedback,
        "scoring": CREDITS_SCORING,
        **_grading_marks(question.type),
    }


def _grading_marks(type_value: str) -> dict[str, str]:
    try:
        return question_types.get(type_value).snapshot_marks()
    except question_types.UnknownQuestionType:
        return {}


def choices_of(version: QuestionVersion) -> list[Choice]:
    """The question's rows as this version holds them, in the author's order: unsaved
    choices, for an answer form that shows or reads that version."""
    return [
        Choice(
            id=row["id"],
            question_id=version.question_id,
            order=index,
            text=row.get("text", ""),
            is_correct=row.get("is_correct", False),
            credit=Decimal(row.get("credit", 100)),
            match_text=row.get("match_text", ""),
            numeric_value=(
                Decimal(row["numeric_value"]) if row.get("numeric_value") is not None else None
            ),
            numeric_tolerance=Decimal(row.get("numeric_tolerance") or 0),
            feedback=row.get("feedback", ""),
        )
        for index, row in enumerate(version.snapshot.get("choices", ()))
    ]


def current_key(question: Question) -> QuestionKey:
    """The question's answer key as it stands now."""
    return key_from_snapshot(snapshot_question(question))


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    """What tells one version from another: a hash of its snapshot."""
    return hashlib.sha256(
        json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def question_version(
    question: Question, choices: Iterable[Choice] | None = None
) -> QuestionVersion:
    """The stored version matching the question as it stands now, made on first use."""
    snapshot = snapshot_question(question, choices)
    digest = snapshot_digest(snapshot)
    version, _ = QuestionVersion.objects.get_or_create(
        question=question, digest=digest, defaults={"snapshot": snapshot}
    )
    return version


def shown_version_token(attempt_id: int, question_id: int, digest: str) -> str:
    """What an attempt's question page sends with its answer form to say which version of
    the question it showed: the version's digest, signed for this attempt and question, so
    that an answer is graded by what was on screen and no other version can be claimed."""
    signature = salted_hmac(
        "learning.shown-version", f"{attempt_id}:{question_id}:{digest}", algorithm="sha256"
    ).hexdigest()[:32]
    return f"{digest}:{signature}"


def shown_digest(token: str, *, attempt_id: int, question_id: int) -> str | None:
    """The digest of the version a page showed, from its token; None for a token missing,
    made up, or signed for another attempt or question."""
    digest = token.partition(":")[0]
    if len(digest) != 64:
        return None
    expected = shown_version_token(attempt_id, question_id, digest)
    return digest if constant_time_compare(token, expected) else None
