"""Questions that would give each other away in one quiz.

A short answer or a number is typed from memory. If another question of the same session
shows it, in its text, options or feedback (shown after answering), the second is answered
by reading. The course's own files keep each topic free of such pairs
(tests/test_question_bank_rules.py), but a course-wide session mixes topics, and teachers
add their own questions: so every shuffled draw skips a question that would give away, or
be given away by, one already drawn, and uses the skipped ones only if it would otherwise
come up short.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from learning import question_types
from learning.models import Choice, Question
from learning.question_types.base import comparable_text


@dataclass(frozen=True)
class LeakProfile:
    recalled: tuple[re.Pattern[str], ...]  # the answers typed from memory, as found in text
    shown: str  # everything the learner reads of the question in a quiz

    def gives_away(self, other: "LeakProfile") -> bool:
        return any(answer.search(other.shown) for answer in self.recalled)

    def clashes_with(self, other: "LeakProfile") -> bool:
        return self.gives_away(other) or other.gives_away(self)


def answer_as_found_in_text(answer: str) -> re.Pattern[str]:
    # Whole words only ("salt" is not in "salty"); a number is not part of a longer number.
    return re.compile(rf"(?<![\w.-]){re.escape(answer)}(?![\w-]|[.,]\d)")


def leak_profile(question: Question, choices: Sequence[Choice]) -> LeakProfile:
    question_type = question_types.get(question.type)
    shown = [question.prompt, question.explanation, question.numeric_feedback]
    for choice in choices:
        shown += [choice.text, choice.match_text, choice.feedback]
    # Both in the form typed answers are compared in: "tonic-clonic" is found in "Tonic
    # clonic seizures", "writers cramp" in "writer's cramp".
    return LeakProfile(
        recalled=tuple(
            answer_as_found_in_text(comparable_text(answer))
            for answer in question_type.answers_from_memory(question, choices)
        ),
        shown=comparable_text(" ".join(shown)),
    )


def profiles_of(questions: Iterable[Question]) -> dict[int, LeakProfile]:
    """Each question's profile; its choices must be prefetched."""
    return {
        question.id: leak_profile(question, list(question.choices.all())) for question in questions
    }


def draw_without_leaks(
    candidates: Sequence[int], profiles: dict[int, LeakProfile], count: int
) -> list[int]:
    """Up to `count` of `candidates`, taken in their order, skipping any that clashes
    with one already taken; skipped ones fill the draw only if too few are left."""
    taken: list[int] = []
    skipped: list[int] = []
    for candidate in candidates:
        if len(taken) == count:
            break
        profile = profiles[candidate]
        if any(profile.clashes_with(profiles[other]) for other in taken):
            skipped.append(candidate)
        else:
            taken.append(candidate)
    return taken + skipped[: count - len(taken)]
