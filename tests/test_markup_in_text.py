"""Lesson and question text that mentions a tag (<style>, <script>, ...) is shown as written,
escaped, and nothing after it goes missing."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import services
from learning.rendering import render_lesson, render_text
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory
from tests.helpers import answer_post

pytestmark = pytest.mark.django_db

# Each of these makes an HTML parser read the rest of the document as the element's text.
SWALLOWING_TAGS = ["style", "script", "textarea", "title", "xmp", "noscript", "iframe"]


def lesson_source() -> str:
    parts = ["Opening words.\n"]
    for n, tag in enumerate(SWALLOWING_TAGS):
        parts.append(f"## Section {n} {{#section-{n}}}\n")
        parts.append(f"Never put a <{tag}> tag here, nor <{tag}>alert({n})</{tag}>.\n")
        parts.append(f"Paragraph {n} after the {tag}.\n")
    return "\n".join(parts)


class TestLessonText:
    def test_every_paragraph_after_a_tag_is_shown_escaped(self):
        rendered = render_lesson(lesson_source())
        for n, tag in enumerate(SWALLOWING_TAGS):
            assert f"Never put a &lt;{tag}&gt; tag here" in rendered.html
            assert f"&lt;{tag}&gt;alert({n})&lt;/{tag}&gt;" in rendered.html
            assert f"<p>Paragraph {n} after the {tag}.</p>" in rendered.html
            assert f"<{tag}" not in rendered.html

    def test_the_sections_listed_are_the_sections_shown(self):
        rendered = render_lesson(lesson_source())
        assert [s.anchor for s in rendered.sections] == [
            f"section-{n}" for n in range(len(SWALLOWING_TAGS))
        ]
        for section in rendered.sections:
            assert f'<h2 id="{section.anchor}">{section.title}</h2>' in rendered.html

    def test_a_heading_that_mentions_a_tag_is_listed_as_written(self):
        rendered = render_lesson("## Why <style> & co. go here {#why}\n\nText.\n")
        assert rendered.sections[0].title == "Why <style> & co. go here"
        assert '<h2 id="why">Why &lt;style&gt; &amp; co. go here</h2>' in rendered.html

    def test_the_lesson_page_shows_the_whole_lesson(self, client):
        topic = TopicFactory()
        LessonFactory(topic=topic, body_markdown=lesson_source())
        response = client.get(reverse("learning:lesson", args=[topic.slug]))
        for n, tag in enumerate(SWALLOWING_TAGS):
            assertContains(response, f"Never put a &lt;{tag}&gt; tag here")
            assertContains(response, f"Paragraph {n} after the {tag}.")
            assertContains(response, f'href="#section-{n}"')
        assertNotContains(response, "<script>alert")

    def test_markdown_still_works_around_the_escaped_text(self):
        rendered = render_lesson("A **bold** `<b>` and [a link](https://example.org) &amp; more.")
        assert "<strong>bold</strong>" in rendered.html
        assert "<code>&lt;b&gt;</code>" in rendered.html
        assert 'href="https://example.org"' in rendered.html
        assert "&amp; more" in rendered.html


def question_text(what: str) -> str:
    return " ".join(f"{what} mentions <{tag}> then goes on ({tag})." for tag in SWALLOWING_TAGS)


class TestQuestionText:
    def test_the_markdown_text_filter_shows_every_word(self):
        html = Template("{% load learning_tags %}{{ text|markdown_text }}").render(
            Context({"text": question_text("The prompt")})
        )
        for tag in SWALLOWING_TAGS:
            assert f"mentions &lt;{tag}&gt; then goes on ({tag})." in html
            assert f"<{tag}" not in html

    def test_render_text_keeps_its_strict_allow_list(self):
        html = render_text('<img src=x onerror="alert(1)"> <b>bold</b> *em*')
        assert "<img" not in html
        assert "<b>" not in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html
        assert "<em>em</em>" in html

    def test_a_question_page_and_its_feedback_show_the_whole_text(
        self, learner, learner_client, rng
    ):
        topic = TopicFactory()
        LessonFactory(topic=topic)
        question = QuestionFactory(
            topic=topic, prompt=question_text("The prompt"), explanation=question_text("Why")
        )
        quiz = QuizFactory(topic=topic, question_count=1)
        attempt = services.start_attempt(learner=learner, quiz=quiz, rng=rng)
        url = reverse("learning:question", args=[attempt.pk, 1])
        page = learner_client.get(url)
        for tag in SWALLOWING_TAGS:
            assertContains(page, f"The prompt mentions &lt;{tag}&gt; then goes on ({tag}).")

        answered = learner_client.post(
            url, answer_post(question, right=True, attempt=attempt), follow=True
        )
        for tag in SWALLOWING_TAGS:
            assertContains(answered, f"Why mentions &lt;{tag}&gt; then goes on ({tag}).")
