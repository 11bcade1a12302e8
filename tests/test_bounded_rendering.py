"""Issue 12, bounded rendering: teacher Markdown that would render slowly or too deep is
refused where it is written, and shown as plain text if it is already stored.

Cost is measured by counting Python calls while rendering (sys.setprofile), not by the
clock, so the tests say the same on a busy machine."""

import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning import question_bank, services
from learning.content import ContentError, read_course
from learning.models import Attempt, Lesson, Question
from learning.rendering import (
    MAX_LESSON_CHARS,
    MAX_NESTING,
    _render_text,
    field_problems,
    markdown_problems,
    render_lesson,
    render_text,
)
from tests.factories import LessonFactory, QuizFactory, TopicFactory
from tests.test_admin import question_form

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"

BRACKETS = "Which? " + "[" * 20_000
DEEP_LIST = "".join("\t" * level + "- deeper\n" for level in range(300))  # 48,000 chars
DEEP_LINE = "- " * 300 + "deeper"  # the same 300 levels in 606 characters


def render_text_uncached(text: str) -> str:
    """The cache must not hide the cost: empty it first."""
    _render_text.cache_clear()
    return render_text(text)


def calls_during(render: Callable[[], object]) -> int:
    """How many Python and C functions run while render() does."""
    count = 0

    def profile(frame: object, event: str, arg: object) -> None:
        nonlocal count
        if event in ("call", "c_call"):
            count += 1

    sys.setprofile(profile)
    try:
        render()
    finally:
        sys.setprofile(None)
    return count


class TestTheValidator:
    @pytest.mark.parametrize(
        ("text", "words"),
        [
            (BRACKETS, "limit is 2,000"),
            ("Which? " + "[" * 1_900, "square brackets"),
            ("Which? " + "[a" * 900, "square brackets"),
            ("[" * 700 + "a" + "]" * 700, "square brackets"),
            (DEEP_LIST[:1_900], "levels deep"),
            ("- " * 50 + "a", "50 levels deep"),
            (">" * 40 + " a", "40 levels deep"),
        ],
    )
    def test_it_refuses_text_that_renders_slowly_or_too_deep(self, text, words):
        problems = field_problems("prompt", text)
        assert problems and words in problems[0]
        assert problems[0].startswith("The prompt ")

    @pytest.mark.parametrize(
        "text",
        [
            "Which sign points to **heat exhaustion**? See [the lesson](https://example.org).",
            "A stray [ bracket, or `code` and *emphasis*, is fine.",
            "".join("    " * level + "- item\n" for level in range(MAX_NESTING)),
            "> quoted\n>\n> - a list in a quote\n",
        ],
    )
    def test_it_accepts_ordinary_text(self, text):
        assert field_problems("prompt", text) == []

    def test_each_field_has_its_own_length(self):
        assert field_problems("prompt", "a" * 2_001)
        assert not field_problems("explanation", "a" * 4_000)
        assert field_problems("feedback", "a" * 4_001)
        assert not field_problems("body_markdown", "a" * 100_000)

    def test_a_stray_bracket_in_a_long_lesson_is_fine(self):
        lesson = "Opening [ words.\n\n" + ("A sentence of the lesson. " * 30 + "\n\n") * 100
        assert markdown_problems(lesson, field="The lesson", max_chars=100_000) == []


class TestTheRenderer:
    @pytest.mark.parametrize("text", [BRACKETS, DEEP_LIST, DEEP_LINE, "- " * 2_000 + "a"])
    def test_bad_text_is_shown_escaped_and_cheaply(self, text):
        calls = calls_during(lambda: render_text_uncached(text))
        html = render_text_uncached(text)
        assert "shown as plain text" in html
        assert "<li>" not in html
        assert calls < 1_000

    def test_a_bad_lesson_is_shown_escaped_without_sections(self):
        rendered = render_lesson("## Title {#t}\n\n" + DEEP_LIST)
        assert "shown as plain text" in rendered.html
        assert rendered.sections == ()

    def test_raw_html_in_refused_text_stays_text(self):
        html = render_text_uncached("<script>alert(1)</script>" + "[" * 5_000)
        assert "<script>" not in html and "&lt;script&gt;" in html

    def test_a_recursion_error_becomes_plain_text(self, monkeypatch):
        import markdown

        def explode(*args: object, **kwargs: object) -> str:
            raise RecursionError

        monkeypatch.setattr(markdown, "markdown", explode)
        assert "shown as plain text" in render_text_uncached("fine text")

    def test_the_cache_is_bounded_and_holds_only_accepted_text(self):
        _render_text.cache_clear()
        render_text(BRACKETS)
        render_text("Which is a sign?")
        render_text("Which is a sign?")
        info = _render_text.cache_info()
        assert (info.maxsize, info.currsize, info.hits) == (4096, 1, 1)

    def test_huge_stored_text_is_cut_at_the_limit(self):
        html = render_text("[" * 1_000_000)
        assert len(html) < 5_000 and html.endswith("…</p>")


def _grows_linearly(render: Callable[[str], object], make: Callable[[int], str], n: int) -> None:
    render(make(1))  # the first render imports and compiles what it needs; do not count it
    small = calls_during(lambda: render(make(n)))
    large = calls_during(lambda: render(make(2 * n)))
    assert large <= 2.5 * small, (small, large)


class TestLinearity:
    """Text the validator accepts renders in time that grows with its length, not faster."""

    SHAPES: dict[str, Callable[[int], str]] = {
        "plain": lambda n: "word " * n,
        "links": lambda n: "[a link](https://example.org) " * n,
        "emphasis": lambda n: "*a* **b** _c_ " * n,
        "code": lambda n: "`x` " * n,
        "stray brackets": lambda n: "a [ b ] c ] [ " * n,
        "deep lists": lambda n: "".join("    " * (i % MAX_NESTING) + "- item\n" for i in range(n)),
        "quotes": lambda n: "".join("> " * (1 + i % 9) + "quoted\n" for i in range(n)),
    }

    @pytest.mark.parametrize("shape", SHAPES)
    def test_short_text(self, shape):
        make = self.SHAPES[shape]
        n = 10
        while len(make(4 * n)) <= 2_000:
            n *= 2
        assert field_problems("prompt", make(2 * n)) == []
        _grows_linearly(render_text_uncached, make, n)

    @pytest.mark.parametrize("shape", SHAPES)
    def test_lessons(self, shape):
        make = self.SHAPES[shape]
        n = 10
        while len(make(4 * n)) <= 40_000:
            n *= 2
        assert field_problems("body_markdown", make(2 * n)) == []
        _grows_linearly(render_lesson, make, n)


class TestWhereTeachersWrite:
    @pytest.fixture
    def topic(self):
        topic = TopicFactory(title="Heat")
        LessonFactory(topic=topic)
        QuizFactory(topic=topic, question_count=5)
        return topic

    @pytest.mark.parametrize(("field", "text"), [("prompt", BRACKETS), ("prompt", DEEP_LINE)])
    def test_the_question_form_refuses_it(self, teacher_client, topic, field, text):
        data = question_form(topic, choices=[("Sweating", True), ("Shivering", False)])
        data[field] = text
        response = teacher_client.post(reverse("admin:learning_question_add"), data)
        assert response.status_code == 200
        assertContains(response, "The prompt ")
        assert not Question.objects.filter(topic=topic).exists()

    def test_the_choice_inline_refuses_it(self, teacher_client, topic):
        # A choice is at most 500 characters (the model's limit): 480 "[" is still too many.
        data = question_form(topic, choices=[("Sweating", True), ("[" * 480, False)])
        data["choices-0-feedback"] = DEEP_LINE
        response = teacher_client.post(reverse("admin:learning_question_add"), data)
        assert response.status_code == 200
        assertContains(response, "The choice has too many square brackets")
        assertContains(response, "The choice&#x27;s feedback nests lists")
        assert not Question.objects.filter(topic=topic).exists()

    def test_the_lesson_admin_refuses_it(self, teacher_client, topic, teacher):
        from django.contrib.auth.models import Permission

        teacher.user_permissions.add(Permission.objects.get(codename="change_lesson"))
        lesson = Lesson.objects.get(topic=topic)
        before = lesson.body_markdown
        response = teacher_client.post(
            reverse("admin:learning_lesson_change", args=[lesson.pk]),
            {"topic": topic.pk, "title": lesson.title, "body_markdown": DEEP_LIST},
        )
        assert response.status_code == 200
        assertContains(response, "The lesson nests lists or quotes 300 levels deep")
        lesson.refresh_from_db()
        assert lesson.body_markdown == before

    @pytest.mark.parametrize("text", [BRACKETS, DEEP_LINE])
    def test_a_gift_import_refuses_it_before_writing(self, topic, text):
        gift = (
            "$CATEGORY: heat\n\n::fine:: Which is a sign? {=Sweating ~Shivering}\n\n"
            f"::bad:: {text} {{=Yes ~No}}\n"
        )
        topic.slug = "heat"
        topic.save()
        plan = question_bank.plan_import(gift.encode(), filename="bad.gift")
        assert not plan.can_apply
        [problem] = plan.errors
        assert problem.line == 5
        assert "The prompt " in problem.message

    def test_the_course_loader_refuses_a_lesson_and_a_question(self, tmp_path):
        copy = tmp_path / "fixtures"
        shutil.copytree(FIXTURES, copy)
        lesson = copy / "lessons" / "01-how-muscles-work.md"
        lesson.write_text(lesson.read_text(encoding="utf-8") + "\n" + DEEP_LIST, "utf-8")
        questions = copy / "questions" / "02-kinds-of-muscle.gift"
        questions.write_text(
            questions.read_text(encoding="utf-8")
            + f"\n\n::too-many-brackets:: {BRACKETS} {{=Yes ~No}}\n",
            encoding="utf-8",
        )
        with pytest.raises(ContentError) as caught:
            read_course(copy)
        text = "\n".join(caught.value.problems)
        assert "01-how-muscles-work.md: The lesson nests lists or quotes 300 levels" in text
        assert "02-kinds-of-muscle.gift:line" in text and "The prompt is 20,007" in text
        with pytest.raises(CommandError):
            call_command("load_content", dir=copy, verbosity=0)


class TestAlreadyStored:
    @pytest.mark.parametrize("text", [BRACKETS, DEEP_LIST, DEEP_LINE])
    def test_the_question_page_renders_cheaply_and_never_500s(
        self, learner_client, learner, quiz, rng, text
    ):
        Question.objects.filter(topic=quiz.topic).update(prompt=text)
        attempt: Attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
        url = reverse("learning:question", args=[attempt.pk, 1])
        _render_text.cache_clear()
        response = learner_client.get(url)
        assert response.status_code == 200
        assertContains(response, "shown as plain text")
        assert calls_during(lambda: render_text_uncached(text)) < 1_000


def test_link_targets_never_closed_are_refused_like_stray_brackets():
    """`[x](` repeated makes the link reader scan to the paragraph's end from every "](":
    a lesson of 96,000 such characters took minutes to save, holding the write lock."""
    slow = "[x](" * 24000
    problems = markdown_problems(slow, field="The lesson", max_chars=MAX_LESSON_CHARS)
    assert problems and 'each "](" with ")"' in problems[0]
    fine = "[a link](https://example.org) in a sentence. " * 1500
    assert markdown_problems(fine, field="The lesson", max_chars=MAX_LESSON_CHARS) == []
