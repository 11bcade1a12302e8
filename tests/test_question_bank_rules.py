"""Item-writing rules for the course's question bank (issue 14), checked over fixtures/.

Pure checks: no database, no server. Each rule is one a reviewer of assessments would
apply by hand; here it is applied to every question of every topic on every run, so a
new question that cues its answer, counts a list or repeats a fact fails the build.

Two comments above a question carry what a reader cannot compute from its text:

- ``// skill: apply`` marks a short scenario that asks the learner to use what they
  read (a runner cramping in the heat...); such a stem must read as a scenario;
- ``// fact: <name>`` names the fact the question tests; no fact is asked more than
  twice in a topic;
- ``// figure: exact`` marks a numeric answer that is a threshold, not an estimate (call
  for help after five minutes): only those may have no tolerance.
"""

import re
from collections import Counter, defaultdict
from decimal import Decimal
from difflib import SequenceMatcher
from fractions import Fraction

import pytest
from django.conf import settings

from learning.answer_leaks import answer_as_found_in_text
from learning.content import CourseSource, read_course
from learning.formats.gift import GiftQuestion
from learning.question_types.base import comparable_answer, comparable_text

SIX_TYPES = {"single", "multiple", "true_false", "numeric", "short_answer", "matching"}
# What a learner could ever type as a number with a unit: a figure to estimate, not a list.
UNITS = (
    "seconds|minutes|hours|days|weeks|months|years|degrees|per cent|percent|"
    "millimoles|litres|millilitres|kilograms|grams|beats|breaths|times|muscles"
)


@pytest.fixture(scope="module")
def course() -> CourseSource:
    return read_course(settings.COURSE_CONTENT_DIR)


def by_topic(course: CourseSource) -> dict[str, list[GiftQuestion]]:
    topics: dict[str, list[GiftQuestion]] = defaultdict(list)
    for _path, question in course.questions:
        topics[question.category].append(question)
    return topics


def words(text: str) -> list[str]:
    return re.findall(r"[\w'-]+", text.lower())


def stem(question: GiftQuestion) -> str:
    return " ".join(question.prompt.split())


def kind(question: GiftQuestion) -> str:
    return question.kind


def right_options(question: GiftQuestion) -> list[str]:
    return [choice.text for choice in question.choices if choice.weight > 0]


def wrong_options(question: GiftQuestion) -> list:
    return [choice for choice in question.choices if choice.weight <= 0]


def test_every_topic_uses_all_six_question_types(course):
    for topic, questions in by_topic(course).items():
        assert {kind(q) for q in questions} == SIX_TYPES, topic


def test_a_quarter_or_more_of_every_topic_is_scenarios_that_apply_the_lesson(course):
    for topic, questions in by_topic(course).items():
        scenarios = [q for q in questions if q.metadata.get("skill") == "apply"]
        assert Fraction(len(scenarios), len(questions)) >= Fraction(1, 4), topic
        for question in scenarios:
            # A situation and then a question about it: two sentences at least, the
            # first one setting the scene.
            assert len(words(stem(question))) >= 18, question.title
            assert len(re.findall(r"[.?!:](\s|$)", stem(question))) >= 2, question.title


def test_no_question_counts_the_items_of_a_list(course):
    counting = re.compile(
        rf"\bhow many\b(?!\s+({UNITS})\b)|\bnumber of (kinds|types|groups|ways|causes|signs)"
        r"|\bthe lesson (lists|names|gives|mentions)\b",
        re.IGNORECASE,
    )
    found = [q.title for _path, q in course.questions if counting.search(stem(q))]
    assert found == []


def test_every_question_names_the_fact_it_tests_and_none_is_asked_more_than_twice(course):
    for topic, questions in by_topic(course).items():
        unnamed = [q.title for q in questions if not q.metadata.get("fact")]
        assert unnamed == [], topic
        asked = Counter(q.metadata["fact"] for q in questions)
        assert [fact for fact, times in asked.items() if times > 2] == [], topic


def test_no_two_questions_share_a_stem(course):
    stems = [(q.title, " ".join(words(stem(q)))) for _path, q in course.questions]
    alike = []
    # Each pair compares the earlier stem (a) with the later one (b). The matcher indexes b
    # once for all its pairs, and real_quick_ratio() and quick_ratio(), upper bounds of
    # ratio() (difflib's docs), rule out most pairs before the slow ratio() is computed.
    matcher = SequenceMatcher(None, autojunk=False)
    for index, (second, other) in enumerate(stems):
        matcher.set_seq2(other)
        for first, text in stems[:index]:
            matcher.set_seq1(text)
            if (
                matcher.real_quick_ratio() > 0.92
                and matcher.quick_ratio() > 0.92
                and matcher.ratio() > 0.92
            ):
                alike.append((first, second))
    assert alike == []


def test_the_right_option_is_the_longest_in_at_most_a_third_of_single_choice_questions(
    course,
):
    single = [q for _path, q in course.questions if kind(q) == "single"]
    longest_is_right = [
        q.title
        for q in single
        if max(q.choices, key=lambda choice: len(choice.text)).weight > 0
        and len({len(choice.text) for choice in q.choices}) > 1
    ]
    assert Fraction(len(longest_is_right), len(single)) <= Fraction(1, 3), longest_is_right
    for topic in by_topic(course):
        in_topic = [q for q in single if q.category == topic]
        cued = [q for q in in_topic if q.title in longest_is_right]
        assert len(cued) <= max(1, len(in_topic) // 2), topic


def test_options_are_parallel_in_length(course):
    """No option stands out by length: the longest is at most three times the shortest
    (and a few characters of slack for one-word options)."""
    uneven = []
    for _path, q in course.questions:
        if kind(q) not in ("single", "multiple"):
            continue
        lengths = [len(choice.text) for choice in q.choices]
        if max(lengths) > 3 * min(lengths) + 6:
            uneven.append((q.title, lengths))
    assert uneven == []


def test_every_wrong_option_says_why_it_is_wrong(course):
    silent = [
        (q.title, choice.text)
        for _path, q in course.questions
        if kind(q) in ("single", "multiple")
        for choice in wrong_options(q)
        if len(words(choice.feedback)) < 4
    ]
    assert silent == []


def test_multiple_answer_questions_have_two_or_more_plausible_wrong_options(course):
    absurd = re.compile(r"star sign|eye colou?r|hair colou?r|shoe size|favourite", re.I)
    for _path, q in course.questions:
        if kind(q) != "multiple":
            continue
        wrong = wrong_options(q)
        assert len(wrong) >= 2, q.title
        assert not any(absurd.search(choice.text) for choice in wrong), q.title
        # Ticking every option must not score full marks.
        assert sum(choice.weight for choice in q.choices) < 100, q.title


def test_short_answers_accept_more_than_one_way_of_writing_them(course):
    for _path, q in course.questions:
        if kind(q) != "short_answer":
            continue
        accepted = [choice.text for choice in q.choices if choice.weight == 100]
        # Different answers or spellings, not the same one with another dash or case.
        compared = [comparable_answer(text) for text in accepted]
        assert len(set(compared)) >= 2, q.title
        assert len(set(compared)) == len(compared), (q.title, accepted)


def test_numeric_answers_allow_a_tolerance_that_fits_an_approximate_figure(course):
    for _path, q in course.questions:
        if kind(q) != "numeric":
            continue
        full = [a for a in q.numeric_answers if a.value is not None and a.weight == 100]
        assert full, q.title
        for answer in full:
            if q.metadata.get("figure") != "exact":
                assert answer.tolerance > 0, q.title
            assert answer.tolerance <= max(abs(answer.value), Decimal(1)), q.title


def shown_text(question: GiftQuestion) -> str:
    """What a learner reads of a question in a quiz: its stem, options and every
    feedback (shown after answering)."""
    parts = [question.prompt, question.general_feedback]
    for choice in question.choices:
        parts += [choice.text, choice.match_text, choice.feedback]
    parts += [answer.feedback for answer in question.numeric_answers]
    return comparable_text(" ".join(parts))


def test_no_question_gives_away_the_typed_answer_of_another_in_its_topic(course):
    """A short or numeric answer is typed from memory: another question drawn into the same
    quiz must not show it, in its stem, options or feedback."""
    leaks = []
    for _topic, questions in by_topic(course).items():
        for typed in questions:
            if kind(typed) == "short_answer":
                answers = [comparable_answer(c.text) for c in typed.choices if c.weight > 0]
            elif kind(typed) == "numeric":
                answers = [
                    f"{a.value.normalize():f}"
                    for a in typed.numeric_answers
                    if a.value is not None and a.weight > 0
                ]
            else:
                continue
            for other in questions:
                if other is typed:
                    continue
                leaks += [
                    (typed.title, answer, other.title)
                    for answer in answers
                    if answer_as_found_in_text(answer).search(shown_text(other))
                ]
    assert leaks == []


def test_true_false_statements_are_not_all_true(course):
    statements = [q for _path, q in course.questions if kind(q) == "true_false"]
    true = [q for q in statements if right_options(q) and right_options(q)[0].lower() == "true"]
    assert Fraction(1, 4) <= Fraction(len(true), len(statements)) <= Fraction(3, 4)
