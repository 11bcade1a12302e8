"""Question versions: what a learner was asked, stored once per distinct content and never
rewritten, so a teacher's later edit does not change anyone's past."""

import hashlib
import json
from typing import Any

from learning import question_types
from learning.models import Question, QuestionVersion
from learning.question_types.base import CREDITS_SCORING, QuestionKey, key_from_snapshot


def snapshot_question(question: Question) -> dict[str, Any]:
    """Everything a learner's answer to this question is judged and reviewed by."""
    ordered = sorted(question.choices.all(), key=lambda choice: (choice.order, choice.id))
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


def current_key(question: Question) -> QuestionKey:
    """The question's answer key as it stands now."""
    return key_from_snapshot(snapshot_question(question))


def snapshot_digest(snapshot: dict[str, Any]) -> str:
    """What tells one version from another: a hash of its snapshot."""
    return hashlib.sha256(
        json.dumps(snapshot, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def question_version(question: Question) -> QuestionVersion:
    """The stored version matching the question as it stands now, made on first use."""
    snapshot = snapshot_question(question)
    digest = snapshot_digest(snapshot)
    version, _ = QuestionVersion.objects.get_or_create(
        question=question, digest=digest, defaults={"snapshot": snapshot}
    )
    return version
