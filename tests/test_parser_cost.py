"""The GIFT and Aiken parsers cost time in proportion to the file, whatever its shape.

No wall clock: the cost of a parse is counted with `sys.setprofile`, which is the same on
every machine. Two counts, and doubling the input must not much more than double either:

- calls: every Python and built-in function call made while parsing;
- characters handed over: for each call of a Python function, the length of the text (or
  of the list of lines) it is given. A helper that rescans the whole block once per line
  makes few extra calls but is handed the block again each time: this count sees it.

Work done inside one built-in call (a regular expression, `str.find`) is not counted; the
parsers only ever hand such calls one line, one answer or one block, once.
"""

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import pytest

from learning.formats.aiken import parse_aiken
from learning.formats.gift import GiftDocument, parse_gift
from learning.uploads import MAX_IMPORT_BYTES

Parser = Callable[[str], GiftDocument]

SMALL = 16 * 1024  # n; each shape is also parsed at 2n


def _gift_block(answer: str) -> Callable[[int], str]:
    """One question whose answer block repeats `answer` to fill `size` characters."""
    return lambda size: "Q {\n" + answer * (size // len(answer)) + "}\n"


def _repeat(unit: str) -> Callable[[int], str]:
    return lambda size: unit * (size // len(unit))


GIFT_SHAPES: dict[str, Callable[[int], str]] = {
    # The shape that took 6 s at 16 KB: a title line after an unclosed block, many times.
    "title lines": _repeat("::a\n"),
    "title lines after an open brace": _repeat("{\n::a\n"),
    "open braces": _repeat("{"),
    "closed braces on lines": _repeat("{}\n"),
    "tildes": _repeat("~"),
    "equals signs": _repeat("="),
    "hashes": _repeat("#"),
    "backslashes": _repeat("\\"),
    "colons": _repeat("::"),
    "arrows": _repeat("->"),
    "percents": _repeat("%"),
    "blank-separated questions": _repeat("Q {=a ~b}\n\n"),
    "questions without blank lines": _repeat("::t:: Q {=a ~b}\n"),
    "comments": _repeat("// key: value\n"),
    "short lines": _repeat("a\n"),
    "one long line": lambda size: "Q " + "a" * size + " {=a ~b}",
    "many answers": _gift_block("=a#f\n~b#g\n"),
    "many weighted answers": _gift_block("~%50%a\n"),
    "many matching pairs": _gift_block("=a -> b\n"),
    "many escapes in answers": _gift_block("=\\{\\=\\#\\n\\\\\n"),
    "many feedbacks": _gift_block("=a####b#c"),
    "many numeric answers": lambda size: "Q {#\n" + "=1:1#f\n~%50%2..3\n" * (size // 18) + "}\n",
    "a long number": lambda size: "Q {#" + "1" * size + "}",
    "unescaped braces in answers": _gift_block("=a{}\n"),
}

AIKEN_SHAPES: dict[str, Callable[[int], str]] = {
    "options": lambda size: "Q\n" + "A. a\n" * (size // 5) + "ANSWER: A\n",
    "answer lines": _repeat("ANSWER: A\n"),
    "questions": _repeat("Q\nA. a\nB. b\nANSWER: A\n\n"),
    "short lines": _repeat("a\n"),
    "one long line": lambda size: "A. " + "a" * size,
    "bad options": lambda size: "Q\nA. a\n" + "b\n" * (size // 2),
    "spaces before the answer": lambda size: "Q\nA. a\nB. b\nANSWER:" + " " * size + "A\n",
}

CASES = [(parse_gift, name, make) for name, make in GIFT_SHAPES.items()] + [
    (parse_aiken, name, make) for name, make in AIKEN_SHAPES.items()
]
IDS = [f"{parser.__name__}: {name}" for parser, name, _ in CASES]


def _cost(parser: Parser, text: str) -> tuple[int, int]:
    """(calls, characters handed to Python functions) while `parser` reads `text`."""
    calls = handed = 0

    def count(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls, handed
        if event == "c_call":
            calls += 1
        elif event == "call":
            calls += 1
            # At a call, the frame's locals are exactly its arguments.
            for value in frame.f_locals.values():
                if isinstance(value, str):
                    handed += len(value)
                elif isinstance(value, list):
                    handed += sum(len(item) for item in value if isinstance(item, str))

    sys.setprofile(count)
    try:
        parser(text)
    finally:
        sys.setprofile(None)
    return calls, handed


@pytest.mark.parametrize(("parser", "name", "make"), CASES, ids=IDS)
def test_doubling_the_input_at_most_doubles_the_cost(
    parser: Parser, name: str, make: Callable[[int], str]
) -> None:
    small_calls, small_handed = _cost(parser, make(SMALL))
    large_calls, large_handed = _cost(parser, make(2 * SMALL))
    assert large_calls <= 2.5 * small_calls + 100, (small_calls, large_calls)
    assert large_handed <= 2.5 * small_handed + 100, (small_handed, large_handed)


@pytest.mark.parametrize(
    ("parser", "make"),
    [
        # The shapes that were slowest, filled to the upload limit.
        (parse_gift, GIFT_SHAPES["title lines after an open brace"]),
        (parse_gift, GIFT_SHAPES["one long line"]),
        (parse_gift, GIFT_SHAPES["backslashes"]),
        (parse_aiken, AIKEN_SHAPES["short lines"]),
    ],
    ids=["gift: title lines", "gift: a long line", "gift: backslashes", "aiken: lines"],
)
def test_a_file_at_the_upload_limit_is_read(parser: Parser, make: Callable[[int], str]) -> None:
    text = make(MAX_IMPORT_BYTES - 64)
    assert len(text.encode()) <= MAX_IMPORT_BYTES
    document = parser(text)  # no exception: questions, or problems that say why not
    assert document.questions or document.problems


def test_a_huge_number_is_refused_in_words_not_by_an_overflow() -> None:
    document = parse_gift("Q {#1e999999999..1e999999999}\n\nR {#1:1e9999999}")
    assert [problem.message for problem in document.problems] == [
        "the lower bound '1e999999999' is too large or too small",
        "the tolerance '1e9999999' is too large or too small",
    ]
