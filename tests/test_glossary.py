"""The glossary page, and lessons linking each term's first use to it (issue 14)."""

import html
import importlib
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning.glossary import GlossaryError, glossary, read_glossary, render_lesson_with_glossary
from learning.models import Lesson
from learning.rendering import render_lesson

pytestmark = pytest.mark.django_db

GLOSSARY_LINK = re.compile(r'<a class="glossary-term" href="/glossary/#([a-z0-9-]+)">([^<]*)</a>')
ARTICLE = Path(settings.BASE_DIR).parent / "shared" / "content" / "muscle-spasms-article.txt"


@pytest.fixture
def course():
    call_command("load_content", stdout=StringIO())


def test_the_glossary_has_the_course_terms_with_definitions():
    terms = {entry.term for entry in glossary()}
    assert 25 <= len(terms) <= 40
    assert {"myocardium", "fasciculation", "dystonia", "electrolyte"} <= terms
    assert [entry.term.lower() for entry in glossary()] == sorted(t.lower() for t in terms)
    for entry in glossary():
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", entry.definition) if s]
        assert 1 <= len(sentences) <= 3, entry.term


def test_the_page_lists_every_term_with_its_definition_and_anchor(client):
    response = client.get(reverse("learning:glossary"))
    assert response.status_code == 200
    assertContains(response, "<h1>Glossary</h1>")
    page = response.content.decode()
    for entry in glossary():
        assert f'<dt id="{entry.slug}">{html.escape(entry.term)}</dt>' in page
        assert f"<dd>{html.escape(entry.definition)}</dd>" in page
    slugs = re.findall(r'<dt id="([^"]+)">', page)
    assert slugs == [entry.slug for entry in glossary()]


def test_a_visitor_who_is_not_logged_in_can_open_it_from_the_navigation(client):
    response = client.get(reverse("learning:course"))
    assertContains(response, f'href="{reverse("learning:glossary")}"')
    response = client.get(reverse("learning:glossary"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


def test_it_answers_within_its_query_budget(client, learner, django_assert_max_num_queries):
    # A visitor: no query at all (the glossary is read from the course files).
    with django_assert_max_num_queries(0):
        assert client.get(reverse("learning:glossary")).status_code == 200
    client.force_login(learner)
    # Logged in: the session and the user.
    with django_assert_max_num_queries(2):
        response = client.get(reverse("learning:glossary"))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]


def test_each_lesson_links_a_term_only_at_its_first_use(course):
    slugs = {entry.slug for entry in glossary()}
    lessons_with_links = 0
    for lesson in Lesson.objects.select_related("topic"):
        links = GLOSSARY_LINK.findall(lesson.body_html)
        linked = [slug for slug, _ in links]
        assert len(linked) == len(set(linked)), f"{lesson.topic.slug} links a term twice"
        assert set(linked) <= slugs
        lessons_with_links += bool(links)
    assert lessons_with_links == Lesson.objects.count() == 11


def test_a_lesson_page_shows_the_links(client, course):
    response = client.get(reverse("learning:lesson", args=["kinds-of-muscle"]))
    assertContains(response, 'href="/glossary/#myocardium"')


def test_a_term_in_a_heading_a_link_or_code_is_not_linked_but_its_next_use_is():
    source = (
        "## Cramp at night {#night}\n\n"
        "See [a cramp](https://example.org) and `cramp` first.\n\n"
        "Then a Cramp in the calf, and another cramp.\n"
    )
    rendered = render_lesson_with_glossary(source).html
    assert '<h2 id="night">Cramp at night</h2>' in rendered
    assert "<code>cramp</code>" in rendered
    assert GLOSSARY_LINK.findall(rendered) == [("cramp", "Cramp")]
    assert "another cramp." in rendered
    assert [section.title for section in render_lesson_with_glossary(source).sections] == [
        "Cramp at night"
    ]


def test_only_whole_words_are_linked_and_the_markup_is_otherwise_unchanged():
    source = (
        "Ticking clocks, a tic, *dystonias* & a DVT | in a table.\n\n"
        "| a | b |\n|---|---|\n| tics | x |\n"
    )
    linked = render_lesson_with_glossary(source).html
    assert GLOSSARY_LINK.findall(linked) == [
        ("tic", "tic"),
        ("dystonia", "dystonias"),
        ("deep-vein-thrombosis", "DVT"),
    ]
    assert GLOSSARY_LINK.sub(r"\2", linked) == render_lesson(source).html


def test_load_content_renders_stale_lessons_again_without_calling_it_an_edit(course):
    plain = {
        lesson.pk: render_lesson(lesson.body_markdown).html for lesson in Lesson.objects.all()
    }
    for pk, body_html in plain.items():
        Lesson.objects.filter(pk=pk).update(body_html=body_html)
    digests = dict(Lesson.objects.values_list("pk", "files_digest"))
    output = StringIO()
    call_command("load_content", stdout=output)
    assert "kept" not in output.getvalue()
    assert "lessons" not in output.getvalue()
    for lesson in Lesson.objects.all():
        assert GLOSSARY_LINK.search(lesson.body_html)
    assert dict(Lesson.objects.values_list("pk", "files_digest")) == digests


def test_the_migration_links_the_terms_in_stored_lessons(course):
    Lesson.objects.update(body_html="")
    migration = importlib.import_module("learning.migrations.0016_glossary_links")
    migration.rerender_lessons(apps, None)
    assert all(GLOSSARY_LINK.search(lesson.body_html) for lesson in Lesson.objects.all())


def test_a_glossary_with_a_form_given_twice_is_refused(tmp_path):
    path = tmp_path / "glossary.yaml"
    path.write_text(
        "- {term: cramp, definition: A cramp.}\n"
        "- {term: spasm, also: [cramp], definition: A spasm.}\n",
        encoding="utf-8",
    )
    with pytest.raises(GlossaryError):
        read_glossary(path)


def test_load_content_refuses_a_broken_glossary_and_changes_nothing(tmp_path):
    content = tmp_path / "course"
    shutil.copytree(settings.COURSE_CONTENT_DIR, content)
    (content / "glossary.yaml").write_text("- term: cramp\n", encoding="utf-8")
    with pytest.raises(CommandError, match="needs a term and a definition"):
        call_command("load_content", "--dir", str(content), stdout=StringIO())
    assert not Lesson.objects.exists()


@pytest.mark.skipif(not ARTICLE.exists(), reason="the source article is kept outside the repo")
def test_no_definition_copies_ten_words_of_the_article():
    def words(text: str) -> list[str]:
        return re.findall(r"[a-z0-9]+", text.lower().replace("’", "'"))

    article = words(ARTICLE.read_text(encoding="utf-8"))
    runs = {tuple(article[i : i + 10]) for i in range(len(article) - 9)}
    for entry in glossary():
        ours = words(entry.definition)
        assert not any(tuple(ours[i : i + 10]) in runs for i in range(len(ours) - 9)), entry.term
