"""Cheating bots: learners who answer from what the page shows instead of what they know.

Each bot takes every topic quiz of the real course several times (a fixed seed draws the
questions and shuffles the options) through the question pages, as a browser would: it
reads the options the page offers and picks one by a rule that ignores the question. If
nothing in the page (option values, their order, their ids, their labels' length) tells
a right option from a wrong one, such a bot scores what a blind guess scores.

The test, per bot, over every question answered by picking one option (single choice,
true/false, multiple answers; the bot picks exactly one option):

- under blind guessing, a question with options o_1..o_k scores each g(o_j) (the points
  picking o_j alone earns) with probability 1/k: mean m = mean(g), variance v = var(g);
- the bot's total S is compared with E = sum(m) and V = sum(v):
  z = (S - E) / sqrt(V), a one-sided z-test (the questions are independent draws);
- a bot fails when z > 3 (p < 0.0014 by chance for each bot; the seed is fixed, so the
  outcome is the same on every run).

A positive control shows the test has the power to catch a real cue: a bot that is told
the right option one time in three (and otherwise guesses blind) must fail it.
"""

import math
import random
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from learning import question_types, services
from learning.models import Attempt, Question, Quiz, Response
from learning.question_types.picking import ChoiceAnswer
from learning.versions import current_key
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

RUNS_PER_QUIZ = 2
Z_LIMIT = 3.0


@dataclass
class Option:
    value: str
    label: str


class AnswerPage(HTMLParser):
    """The answer form as a browser sees it: its fields, options and labels."""

    def __init__(self) -> None:
        super().__init__()
        self.options: dict[str, list[Option]] = {}  # by field name, in page order
        self.kinds: dict[str, str] = {}  # field name -> radio, checkbox, text or select
        self.hidden: dict[str, str] = {}
        self._label_for: dict[str, str] = {}
        self._value_of_id: dict[str, tuple[str, str]] = {}
        self._open_label: str | None = None
        self._open_select: str | None = None
        self._open_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "input" and found.get("type") == "hidden":
            self.hidden[found["name"]] = found.get("value", "")
        elif tag == "input" and found.get("type") in ("radio", "checkbox"):
            name = found["name"]
            self.kinds[name] = found["type"]
            self.options.setdefault(name, []).append(Option(found["value"], ""))
            self._value_of_id[found.get("id", "")] = (name, found["value"])
        elif tag == "input" and found.get("type") == "text":
            self.kinds[found["name"]] = "text"
        elif tag == "select":
            self._open_select = found["name"]
            self.kinds[found["name"]] = "select"
        elif tag == "option" and self._open_select and found.get("value"):
            self._open_option = found["value"]
            self.options.setdefault(self._open_select, []).append(Option(found["value"], ""))
        elif tag == "label":
            self._open_label = found.get("for", "")
            self._label_for[self._open_label] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self._open_label = None
        elif tag == "select":
            self._open_select = None
        elif tag == "option":
            self._open_option = None

    def handle_data(self, data: str) -> None:
        if self._open_label is not None:
            self._label_for[self._open_label] += data
        elif self._open_option is not None and self._open_select:
            self.options[self._open_select][-1].label += data

    def close(self) -> None:
        super().close()
        for element_id, (name, value) in self._value_of_id.items():
            for option in self.options[name]:
                if option.value == value:
                    option.label = self._label_for.get(element_id, "").strip()

    @property
    def pick_one_field(self) -> str | None:
        """The field of a question answered by picking options, if this is one."""
        return next(
            (name for name, kind in self.kinds.items() if kind in ("radio", "checkbox")), None
        )


Rule = Callable[[list[Option], random.Random], Option]

BOTS: dict[str, Rule] = {
    "always the lowest value": lambda options, rng: min(options, key=lambda o: o.value),
    "always the highest value": lambda options, rng: max(options, key=lambda o: o.value),
    "always the first option in the page": lambda options, rng: options[0],
    "always the last option in the page": lambda options, rng: options[-1],
    "always the longest text": lambda options, rng: max(options, key=lambda o: len(o.label)),
}


@dataclass
class Tally:
    scored: Decimal = Decimal(0)
    expected: float = 0.0
    variance: float = 0.0
    questions: int = 0

    @property
    def z(self) -> float:
        return (float(self.scored) - self.expected) / math.sqrt(self.variance)


def blind_guess_points(question_id: int) -> list[float]:
    """What picking each option alone earns: a blind guess draws one of these."""
    question = (
        Question.objects.prefetch_related("choices").select_related("topic").get(pk=question_id)
    )
    key = current_key(question)
    return [
        float(question_types.grade(key, ChoiceAnswer(frozenset({choice.id}))))
        for choice in key.choices
    ]


def take_every_quiz(
    client: Client, learner, choose: Callable[[int, list[Option]], Option], seed: int
) -> Tally:
    """Answer every topic quiz RUNS_PER_QUIZ times through the pages, picking with
    `choose`; the other questions get a fixed filler answer and are not counted."""
    rng = random.Random(seed)
    tally = Tally()
    quizzes = Quiz.objects.filter(kind="topic").select_related("topic").order_by("topic__order")
    for _run in range(RUNS_PER_QUIZ):
        for quiz in quizzes:
            attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
            for position, question_id in enumerate(attempt.question_ids, start=1):
                url = reverse("learning:question", args=[attempt.pk, position])
                page = AnswerPage()
                page.feed(client.get(url).content.decode())
                page.close()
                data: dict[str, str] = {"question": page.hidden["question"]}
                picking = page.pick_one_field
                if picking is not None:
                    data[picking] = choose(question_id, page.options[picking]).value
                else:  # typed or matched: a filler that moves on, not counted
                    for name, kind in page.kinds.items():
                        data[name] = page.options[name][0].value if kind == "select" else "1"
                response = client.post(url, data, headers={"HX-Request": "true"})
                assert response.status_code == 200, (url, response.status_code)
                if picking is not None:
                    points = Response.objects.get(attempt=attempt, question_id=question_id).points
                    guesses = blind_guess_points(question_id)
                    tally.scored += points
                    tally.expected += statistics.fmean(guesses)
                    tally.variance += statistics.pvariance(guesses)
                    tally.questions += 1
            assert Attempt.objects.get(pk=attempt.pk).is_finished
    return tally


@pytest.fixture
def course(db) -> None:
    call_command("load_content", verbosity=0)


@pytest.mark.parametrize("bot", BOTS)
def test_a_bot_reading_the_page_scores_no_better_than_a_blind_guess(course, client, bot):
    learner = UserFactory()
    client.force_login(learner)
    rule = BOTS[bot]
    rng = random.Random(2026)
    tally = take_every_quiz(client, learner, lambda _question, options: rule(options, rng), 11)
    assert tally.questions >= 150
    spread = math.sqrt(tally.variance)
    assert tally.z < Z_LIMIT, (
        f"{bot}: {float(tally.scored):.1f} points over {tally.questions} questions, "
        f"blind guessing {tally.expected:.1f} ± {spread:.1f} (z = {tally.z:.2f})"
    )


def test_the_test_catches_a_bot_with_a_real_cue(course, client):
    """Positive control: told the right option one time in three, a bot must be caught."""
    learner = UserFactory()
    client.force_login(learner)
    rng = random.Random(7)

    def one_in_three(question_id: int, options: list[Option]) -> Option:
        if rng.random() < 1 / 3:
            question = Question.objects.get(pk=question_id)
            right = {c.text for c in question.choices.all() if c.is_correct}
            return next(o for o in options if o.label in right)
        return rng.choice(options)

    tally = take_every_quiz(client, learner, one_in_three, 12)
    assert tally.z > Z_LIMIT, f"control not caught: z = {tally.z:.2f}"
