"""GIFT, the Moodle question text format: parse text into dataclasses, and write it back.

Pure text in, plain data out: no database. Every problem is reported with the line it starts
on and the question is skipped, so a bad file gives a list of errors, never a crash. This
module knows GIFT's syntax only; `learning.question_types.read_gift` decides which question
type each block is, and each type writes its own answer block back as `GiftAnswers`.

Supported: ``//`` comments, ``$CATEGORY:``, ``::title::``, ``[markdown]``-style format
markers, single choice ``{=right ~%50%part ~wrong}``, multiple answers ``{~%50%a ~%-100%b}``,
true/false ``{T}``/``{FALSE}`` with feedback, numeric ``{#value:tolerance}``,
``{#low..high}``, several graded numeric answers ``{#=60:5 =%50%45:5}`` and the feedback
for any other number ``{#=60:5 ~#feedback}``, short answer
``{=a =%50%b}``, matching ``{=item -> match}`` (``= -> match``: an extra wrong match),
missing word (answers inside the sentence),
per-answer feedback after ``#``, general feedback after ``####``, and the escapes
``\\~ \\= \\# \\{ \\} \\:`` and ``\\\\``. Essays and descriptions are reported and skipped.
"""

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import cache
from itertools import pairwise

# The three shapes of an answer block; which question type a shape makes is for
# `learning.question_types` to say.
TRUE_FALSE_SYNTAX = "{T}"  # {T} or {FALSE}
NUMERIC_SYNTAX = "{#}"  # {#...}
CHOICES_SYNTAX = "{=~}"  # {=a ~b}, {=a =b}, {=a -> b}

SKIPPED = "skipped"  # a question type we do not support: reported, the rest imports
ERROR = "error"  # a malformed question: the file is refused
NOTE = "note"  # a part of a question left out: reported, the question imports

_SPECIAL = "~=#{}:"
_FORMATS = ("markdown", "html", "plain", "moodle")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_ESCAPE = re.compile(r"\\([~=#{}:\\n])")  # the escapes `unescape` turns into text
_ESCAPED_PAIR = re.compile(r"\\.", re.DOTALL)
_MASKED_PAIR = "\0\0"  # no GIFT syntax is made of NUL characters
# A number this far from 1 is no answer anyone means, and arithmetic on it overflows.
_LARGEST_EXPONENT = 99
_HUNDRED = Decimal(100)


@dataclass(frozen=True)
class GiftChoice:
    text: str
    weight: Decimal  # percent of the question's credit: 100 right, 0 or negative wrong
    feedback: str = ""
    match_text: str = ""
    marker: str = "="  # "=" or "~" as written
    write_weight: bool = False  # write the weight as %n% when writing GIFT

    @property
    def is_correct(self) -> bool:
        return self.weight > 0


@dataclass(frozen=True)
class GiftNumericAnswer:
    value: Decimal | None  # None: Moodle's `~#feedback`, the feedback for any other number
    tolerance: Decimal = Decimal(0)
    weight: Decimal = _HUNDRED
    feedback: str = ""


@dataclass(frozen=True)
class GiftAnswers:
    """An answer block: its syntax and its answers."""

    syntax: str
    choices: list[GiftChoice] = field(default_factory=list)
    numeric_answers: list[GiftNumericAnswer] = field(default_factory=list)


@dataclass
class GiftQuestion:
    line: int
    syntax: str
    prompt: str
    title: str = ""
    category: str = ""
    text_format: str = "moodle"
    choices: list[GiftChoice] = field(default_factory=list)
    numeric_answers: list[GiftNumericAnswer] = field(default_factory=list)
    general_feedback: str = ""
    # The `key: value` lines of the `//` comments just above the question.
    metadata: dict[str, str] = field(default_factory=dict)
    # The question type's value, once `learning.question_types.read_gift` has decided it.
    kind: str = ""


@dataclass(frozen=True)
class GiftProblem:
    line: int
    message: str
    kind: str = ERROR

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


@dataclass
class GiftDocument:
    questions: list[GiftQuestion] = field(default_factory=list)
    problems: list[GiftProblem] = field(default_factory=list)


class _Skip(Exception):
    """A question that cannot be imported; the message says why."""

    kind = ERROR


class _Unsupported(_Skip):
    kind = SKIPPED


def unescape(text: str) -> str:
    return _ESCAPE.sub(_unescaped_char, text)


def _unescaped_char(match: re.Match[str]) -> str:
    char = match.group(1)
    return "\n" if char == "n" else char


def escape(text: str) -> str:
    text = text.replace("\\", "\\\\")
    for char in _SPECIAL:
        text = text.replace(char, "\\" + char)
    return text.replace("\n", "\\n")


def _mask(text: str) -> str:
    """`text` with each escaped pair (a backslash and the character after it) blanked out,
    so that plain `str` searches find only unescaped characters, in one pass."""
    return _ESCAPED_PAIR.sub(_MASKED_PAIR, text)


@cache
def _any_of(targets: str) -> re.Pattern[str]:
    return re.compile(f"[{re.escape(targets)}]")


def _unescaped_positions(text: str, targets: str) -> list[int]:
    return [found.start() for found in _any_of(targets).finditer(_mask(text))]


def _find_unescaped(text: str, needle: str, start: int = 0) -> int:
    found = _mask(text[start:]).find(needle)
    return found if found < 0 else start + found


def _split_unescaped(text: str, separator: str) -> list[str]:
    """`text` cut at each `separator` that is not escaped with a backslash."""
    bounds = [-1, *_unescaped_positions(text, separator), len(text)]
    return [text[start + 1 : end] for start, end in pairwise(bounds)]


def _split_feedback(text: str) -> tuple[str, str]:
    cut = _find_unescaped(text, "#")
    if cut < 0:
        return text, ""
    return text[:cut], text[cut + 1 :]


def _number(raw: str, what: str) -> Decimal:
    try:
        number = Decimal(unescape(raw).strip())
    except InvalidOperation:
        raise _Skip(f"{what} {raw.strip()!r} is not a number") from None
    if not number.is_finite():
        raise _Skip(f"{what} {raw.strip()!r} is not a number")
    if number and abs(number.adjusted()) > _LARGEST_EXPONENT:
        raise _Skip(f"{what} {_shortened(raw.strip())} is too large or too small")
    return number


def _shortened(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _parse_numeric(body: str) -> list[GiftNumericAnswer]:
    body = body.strip()
    if not body:
        raise _Skip("a numeric question needs a value after '#'")
    parts = [body]
    if body.startswith(("=", "~")):
        starts = _unescaped_positions(body, "=~")
        parts = [body[a:b] for a, b in zip(starts, [*starts[1:], len(body)], strict=True)]
    elif (cut := _find_unescaped(body, "~")) >= 0:  # `{#3:2 ~#feedback}`
        parts = [body[:cut], body[cut:]]
    answers = []
    for part in parts:
        weight, wrong = _HUNDRED, False
        part = part.strip()
        if part.startswith(("=", "~")):
            wrong = part.startswith("~")
            part = part[1:].strip()
            match = _WEIGHT.match(part)
            if match:
                weight = Decimal(match.group(1))
                part = part[match.end() :].strip()
            elif wrong:
                weight = Decimal(0)
        spec, feedback = _split_feedback(part)
        spec = spec.strip()
        if wrong and not spec:  # `~#feedback`: what any other number is told
            other = GiftNumericAnswer(None, weight=weight, feedback=unescape(feedback).strip())
            answers.append(other)
            continue
        if ".." in spec:
            low_raw, high_raw = spec.split("..", 1)
            low = _number(low_raw, "the lower bound")
            high = _number(high_raw, "the upper bound")
            if low > high:
                raise _Skip(f"the range {spec!r} runs backwards")
            value, tolerance = (low + high) / 2, (high - low) / 2
        else:
            cut = _find_unescaped(spec, ":")
            value_raw, tolerance_raw = (spec, "0") if cut < 0 else (spec[:cut], spec[cut + 1 :])
            value = _number(value_raw, "the value")
            tolerance = abs(_number(tolerance_raw or "0", "the tolerance"))
        answers.append(GiftNumericAnswer(value, tolerance, weight, unescape(feedback).strip()))
    return answers


def _parse_choices(body: str) -> list[tuple[str, str]]:
    """Split `=a #fb ~b` into [("=", "a #fb"), ("~", "b")]."""
    starts = _unescaped_positions(body, "=~")
    if not starts or body[: starts[0]].strip():
        raise _Skip("each answer must start with '=' (right) or '~' (wrong)")
    ends = [*starts[1:], len(body)]
    return [(body[start], body[start + 1 : end]) for start, end in zip(starts, ends, strict=True)]


def _parse_question(
    block: str, line: int, category: str, metadata: dict[str, str]
) -> GiftQuestion:
    text = block.strip()
    title = ""
    if text.startswith("::"):
        close = _find_unescaped(text, "::", 2)
        if close < 0:
            raise _Skip("the title opened with '::' is never closed")
        title = unescape(text[2:close]).strip()
        text = text[close + 2 :].lstrip()
    text_format = "moodle"
    format_match = re.match(r"^\[(\w+)\]", text)
    if format_match and format_match.group(1).lower() in _FORMATS:
        text_format = format_match.group(1).lower()
        text = text[format_match.end() :].lstrip()

    opening = _find_unescaped(text, "{")
    if opening < 0:
        raise _Unsupported("a question without answers (a description) is not supported")
    depth, closing = 0, -1
    for position in _unescaped_positions(text, "{}"):
        if position < opening:
            continue
        depth += 1 if text[position] == "{" else -1
        if depth == 0:
            closing = position
            break
    if closing < 0:
        raise _Skip("the answer block opened with '{' is never closed")
    before, after = text[:opening].strip(), text[closing + 1 :].strip()
    if _find_unescaped(after, "{") >= 0:
        raise _Unsupported("a question with several answer blocks is not supported")
    if _unescaped_positions(before, "}") or _unescaped_positions(after, "}"):
        raise _Skip("a '}' stands outside the answers; escape it as \\}")
    # Missing word: the answers stand in the middle of the sentence, shown as a blank.
    # Punctuation that closes the sentence stays next to the blank: "equals _____."
    gap = "" if after[:1] in ".,;:!?)" else " "
    prompt = unescape(f"{before} _____{gap}{after}" if after else before).strip()
    if not prompt:
        raise _Skip("the question has no text")
    body = text[opening + 1 : closing]
    if _unescaped_positions(body, "{}"):
        raise _Skip("braces inside the answers must be escaped as \\{ and \\}")

    general_feedback = ""
    cut = _find_unescaped(body, "####")
    if cut >= 0:
        body, general_feedback = body[:cut], unescape(body[cut + 4 :]).strip()
    question = GiftQuestion(
        line=line,
        syntax=CHOICES_SYNTAX,
        prompt=prompt,
        title=title,
        category=category,
        text_format=text_format,
        general_feedback=general_feedback,
        metadata=metadata,
    )

    stripped = body.strip()
    if not stripped:
        raise _Unsupported("essay questions (an empty answer block) are not supported")
    if stripped.startswith("#"):
        question.syntax = NUMERIC_SYNTAX
        question.numeric_answers = _parse_numeric(stripped[1:])
        return question

    truth, *feedbacks = _split_unescaped(stripped, "#")
    if truth.strip().upper() in {"T", "TRUE", "F", "FALSE"} and len(feedbacks) <= 2:
        is_true = truth.strip().upper() in {"T", "TRUE"}
        # Moodle's order: the first feedback is for a wrong answer, the second for a right one.
        wrong_feedback = unescape(feedbacks[0]).strip() if feedbacks else ""
        right_feedback = unescape(feedbacks[1]).strip() if len(feedbacks) > 1 else ""
        question.syntax = TRUE_FALSE_SYNTAX
        question.choices = [
            GiftChoice("True", _HUNDRED if is_true else Decimal(0),
                       right_feedback if is_true else wrong_feedback),
            GiftChoice("False", Decimal(0) if is_true else _HUNDRED,
                       wrong_feedback if is_true else right_feedback),
        ]  # fmt: skip
        return question

    parts = _parse_choices(body)
    is_matching = any(_find_unescaped(raw, "->") >= 0 for _, raw in parts)
    choices = []
    for marker, raw in parts:
        raw = raw.strip()
        weight = _HUNDRED if marker == "=" else Decimal(0)
        match = _WEIGHT.match(raw)
        if match:
            weight = Decimal(match.group(1))
            raw = raw[match.end() :].strip()
        answer_text, feedback = _split_feedback(raw)
        match_text = ""
        if is_matching:
            arrow = _find_unescaped(answer_text, "->")
            if marker != "=" or arrow < 0:
                raise _Skip("every pair of a matching question is written '=item -> match'")
            answer_text, match_text = (
                answer_text[:arrow],
                unescape(answer_text[arrow + 2 :]).strip(),
            )
            if not match_text:
                raise _Skip("a matching pair has no match after '->'")
        answer_text = unescape(answer_text).strip()
        # `= -> match` (no item) is an extra wrong match, as Moodle reads and writes it.
        if not answer_text and not match_text:
            raise _Skip("an answer is empty")
        if weight < -_HUNDRED or weight > _HUNDRED:
            raise _Skip(f"the weight {weight}% is outside -100% to 100%")
        choices.append(
            GiftChoice(
                answer_text,
                weight,
                unescape(feedback).strip(),
                match_text,
                marker=marker,
                write_weight=match is not None,
            )
        )
    question.choices = choices
    return question


def _brace_count(line: str) -> tuple[int, int]:
    """How many unescaped '{' and '}' a line holds. A backslash that ends a line escapes
    only the line break, so each line can be counted alone."""
    masked = _mask(line)
    return masked.count("{"), masked.count("}")


def _metadata(comments: list[str]) -> dict[str, str]:
    found = {}
    for comment in comments:
        key, sep, value = comment.partition(":")
        if sep and re.fullmatch(r"[a-z][a-z0-9_-]*", key.strip()):
            found[key.strip()] = value.strip()
    return found


def parse_gift(text: str) -> GiftDocument:
    """Every question of a GIFT text, and a problem for each one that cannot be read."""
    document = GiftDocument()
    category = ""
    block: list[str] = []
    block_line = 0
    comments: list[str] = []
    block_comments: list[str] = []
    # Kept as lines are added, so that no line rescans the block: whether the block has
    # opened an answer block, and its unescaped '{' less its '}'.
    block_opened, block_balance = False, 0

    def flush() -> None:
        nonlocal block, block_comments, block_opened, block_balance
        if not block:
            return
        try:
            document.questions.append(
                _parse_question("\n".join(block), block_line, category, _metadata(block_comments))
            )
        except _Skip as problem:
            document.problems.append(GiftProblem(block_line, str(problem), problem.kind))
        block, block_comments = [], []
        block_opened, block_balance = False, 0

    for number, raw_line in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        stripped = raw_line.strip()
        if stripped.startswith("//"):
            if not block:
                comments.append(stripped[2:].strip())
            continue
        if not stripped:
            flush()
            comments = []
            continue
        if not block and stripped.startswith("$CATEGORY:"):
            category = stripped[len("$CATEGORY:") :].strip()
            comments = []
            continue
        # A `::title::` line after a whole answer block starts the next question, even
        # without a blank line between them.
        if block and stripped.startswith("::") and block_opened and block_balance == 0:
            flush()
        if not block:
            block_line, block_comments, comments = number, comments, []
        block.append(raw_line)
        opened, closed = _brace_count(raw_line)
        block_opened = block_opened or opened > 0
        block_balance += opened - closed
    flush()
    return document


def _number_text(number: Decimal) -> str:
    text = f"{number.normalize():f}"
    return "0" if text in ("-0", "") else text


def _answer_line(marker: str, weight: Decimal | None, text: str, feedback: str) -> str:
    weight_text = f"%{_number_text(weight)}%" if weight is not None else ""
    feedback_text = f"#{escape(feedback)}" if feedback else ""
    return f"\t{marker}{weight_text}{text}{feedback_text}"


def _answer_block(question: GiftQuestion) -> list[str]:
    if question.syntax == TRUE_FALSE_SYNTAX:
        true_choice, false_choice = question.choices
        is_true = true_choice.is_correct
        right, wrong = (true_choice, false_choice) if is_true else (false_choice, true_choice)
        feedback = ""
        if wrong.feedback or right.feedback:
            feedback = f"#{escape(wrong.feedback)}#{escape(right.feedback)}"
        return [f"\t{'TRUE' if is_true else 'FALSE'}{feedback}"]
    if question.syntax == NUMERIC_SYNTAX:
        lines = ["\t#"]
        for answer in question.numeric_answers:
            if answer.value is None:
                lines.append(_answer_line("~", None, "", answer.feedback))
                continue
            weight = None if answer.weight == _HUNDRED else answer.weight
            spec = f"{_number_text(answer.value)}:{_number_text(answer.tolerance)}"
            lines.append(_answer_line("=", weight, spec, answer.feedback))
        return lines
    lines = []
    for choice in question.choices:
        text = escape(choice.text)
        if choice.match_text:
            text = f"{text} -> {escape(choice.match_text)}"
        weight = choice.weight if choice.write_weight else None
        lines.append(_answer_line(choice.marker, weight, text, choice.feedback))
    return lines


def write_gift(questions: list[GiftQuestion], header: str = "") -> str:
    """GIFT text for the questions, grouped under a $CATEGORY line per category."""
    lines: list[str] = [f"// {line}" for line in header.splitlines()]
    category = None
    for question in questions:
        if question.category != category:
            category = question.category
            lines += ["", f"$CATEGORY: {category}"]
        lines.append("")
        lines += [f"// {key}: {value}" for key, value in question.metadata.items()]
        title = f"::{escape(question.title)}::" if question.title else ""
        text_format = f"[{question.text_format}]" if question.text_format != "moodle" else ""
        lines.append(f"{title}{text_format}{escape(question.prompt)} {{")
        lines += _answer_block(question)
        if question.general_feedback:
            lines.append(f"\t####{escape(question.general_feedback)}")
        lines.append("}")
    return "\n".join(lines).lstrip("\n") + "\n"
