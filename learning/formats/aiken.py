"""Aiken, the plainest multiple-choice format: a question line, options 'A. text', then
'ANSWER: B'. Pure text in, GIFT dataclasses out (each question a choice block with one
right answer)."""

import re
from decimal import Decimal

from learning.formats import gift

_HUNDRED = Decimal(100)

_AIKEN_OPTION = re.compile(r"^([A-Z])[.)]\s+(.+)$")
_AIKEN_ANSWER = re.compile(r"^ANSWER:\s*([A-Z])\s*$")


def parse_aiken(text: str) -> gift.GiftDocument:
    """Aiken: a question line, options 'A. text' or 'A) text', then 'ANSWER: B'."""
    document = gift.GiftDocument()
    lines = text.lstrip("\ufeff").splitlines()
    index = 0
    while index < len(lines):
        if not lines[index].strip():
            index += 1
            continue
        start = index + 1
        prompt_lines: list[str] = []
        options: list[tuple[str, str]] = []
        answer = None
        while index < len(lines) and lines[index].strip():
            line = lines[index].strip()
            option = _AIKEN_OPTION.match(line)
            answer_match = _AIKEN_ANSWER.match(line)
            if answer_match:
                answer = answer_match.group(1)
                index += 1
                break
            if option and prompt_lines:
                options.append((option.group(1), option.group(2).strip()))
            elif options:
                document.problems.append(
                    gift.GiftProblem(index + 1, "an option must look like 'A. text'")
                )
            else:
                prompt_lines.append(line)
            index += 1
        letters = [letter for letter, _ in options]
        if not prompt_lines:
            document.problems.append(gift.GiftProblem(start, "a question has no text"))
        elif len(options) < 2:
            document.problems.append(gift.GiftProblem(start, "a question needs two options"))
        elif answer is None:
            document.problems.append(gift.GiftProblem(start, "the 'ANSWER: X' line is missing"))
        elif answer not in letters:
            document.problems.append(gift.GiftProblem(start, f"ANSWER: {answer} names no option"))
        else:
            document.questions.append(
                gift.GiftQuestion(
                    line=start,
                    syntax=gift.CHOICES_SYNTAX,
                    prompt=" ".join(prompt_lines),
                    choices=[
                        gift.GiftChoice(
                            text,
                            _HUNDRED if letter == answer else Decimal(0),
                            marker="=" if letter == answer else "~",
                        )
                        for letter, text in options
                    ],
                )
            )
        while index < len(lines) and lines[index].strip():
            index += 1  # skip the rest of a broken block
    return document
