"""The lessons' original SVG diagrams (issue 14): the registry and the files, placing one in a
lesson, the page showing it with its caption and description, and the app serving it."""

import html
import re
import shutil
from io import StringIO
from pathlib import Path

import pytest
from defusedxml import ElementTree
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning.content import read_course
from learning.diagrams import DiagramError, diagram_svg, diagrams, read_diagrams
from learning.models import Lesson
from learning.rendering import placed_diagram_names, render_lesson
from tests.factories import LessonFactory, TopicFactory

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"
FIXTURES = Path(settings.COURSE_CONTENT_DIR)
PHONE_WIDTH = 375


# -- the registry and the files (pure) --------------------------------------------------


def test_every_diagram_has_a_file_caption_alt_and_description():
    assert len(diagrams()) >= 8
    for diagram in diagrams().values():
        assert diagram.path.is_file(), diagram.name
        assert diagram.caption and diagram.alt and diagram.description, diagram.name
        # The alt text is one sentence; the description says more.
        assert len(re.findall(r"[.!?](\s|$)", diagram.alt)) == 1, diagram.name
        assert len(diagram.description) > len(diagram.alt), diagram.name


@pytest.mark.parametrize("name", sorted(diagrams()))
def test_each_svg_is_a_still_picture_that_scales_and_follows_the_dark_scheme(name):
    source = diagrams()[name].path.read_text(encoding="utf-8")
    root = ElementTree.fromstring(source)
    assert root.tag == f"{SVG}svg"
    assert len(root.get("viewBox", "").split()) == 4
    for attribute in ("width", "height"):
        value = root.get(attribute)
        # A fixed size would not shrink to a phone's screen.
        assert value is None or (value.endswith("%")), f"{name}: {attribute}={value}"
    for element in root.iter():
        tag = element.tag.removeprefix(SVG)
        assert tag not in {"script", "image", "foreignObject", "iframe", "use"}, name
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1]
            assert not local.lower().startswith("on"), f"{name}: {attribute}"
            if local == "href":
                assert value.startswith("#"), f"{name}: links to {value}"
    assert "url(http" not in source and "@import" not in source
    assert "prefers-color-scheme: dark" in source.replace("scheme:dark", "scheme: dark")


def test_at_least_eight_lessons_place_a_known_diagram():
    course = read_course(FIXTURES)  # refuses a lesson naming an unknown diagram
    placing = [
        lesson.slug
        for lesson in course.lessons
        if placed_diagram_names(render_lesson(lesson.body).html)
    ]
    assert len(placing) >= 8
    for lesson in course.lessons:
        for name in placed_diagram_names(render_lesson(lesson.body).html):
            assert name in diagrams(), f"{lesson.slug} places {name}"


def test_a_registry_entry_without_its_file_is_refused(tmp_path):
    registry = tmp_path / "diagrams.yaml"
    registry.write_text(
        "- name: ghost\n  file: ghost.svg\n  caption: C.\n  alt: A.\n  description: D.\n"
    )
    with pytest.raises(DiagramError, match=r"no file ghost\.svg"):
        read_diagrams(registry, tmp_path)
    registry.write_text("- name: ghost\n  file: ghost.svg\n")
    with pytest.raises(DiagramError, match="needs caption, alt, description"):
        read_diagrams(registry, tmp_path)


@pytest.mark.parametrize(
    ("name", "file", "problem"),
    [
        ("Heat Ladder", "ghost.svg", "lower-case letters, digits and hyphens"),
        ("heat/ladder", "ghost.svg", "lower-case letters, digits and hyphens"),
        ("ghost", "../ghost.svg", r"no file \.\./ghost\.svg"),
    ],
)
def test_a_registry_entry_that_cannot_be_addressed_is_refused(tmp_path, name, file, problem):
    (tmp_path / "ghost.svg").write_text("<svg/>")
    registry = tmp_path / "diagrams.yaml"
    registry.write_text(
        f"- name: {name}\n  file: {file}\n  caption: C.\n  alt: A.\n  description: D.\n"
    )
    with pytest.raises(DiagramError, match=problem):
        read_diagrams(registry, tmp_path)


# -- rendering and the page -------------------------------------------------------------


@pytest.fixture
def course():
    call_command("load_content", stdout=StringIO())


def test_the_lesson_page_shows_the_figure_caption_alt_and_description(client, course):
    diagram = diagrams()["sliding-filaments"]
    lesson = Lesson.objects.get(topic__slug="how-muscles-work")
    response = client.get(reverse("learning:lesson", args=[lesson.topic.slug]))
    src = f"{reverse('learning:diagram', args=[diagram.name])}?v={diagram_svg(diagram.name)[1]}"
    assertContains(response, f'<img src="{src}" alt="{html.escape(diagram.alt)}">')
    assertContains(response, f"<figcaption>{html.escape(diagram.caption)}</figcaption>")
    assertContains(response, "<summary>Describe this diagram</summary>")
    assertContains(response, f"<p>{html.escape(diagram.description)}</p>")
    assertNotContains(response, "[diagram:")
    # The table of contents is the lesson's sections, as before.
    assert [s["anchor"] for s in lesson.sections][:3] == [
        "how-many-muscles",
        "from-brain-to-muscle",
        "how-fibres-shorten",
    ]


def test_captions_get_no_glossary_links(course):
    for lesson in Lesson.objects.all():
        for figure in re.findall(r"<figure.*?</figure>", lesson.body_html, re.DOTALL):
            assert "glossary-term" not in figure, lesson.topic.slug


def test_the_image_answers_as_svg_with_caching_and_its_own_policy(client):
    url = reverse("learning:diagram", args=["heat-ladder"])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "max-age=86400" in response["Cache-Control"]
    assert response["Content-Security-Policy"] == "default-src 'none'; style-src 'unsafe-inline'"
    assert response.content == diagrams()["heat-ladder"].path.read_bytes()
    again = client.get(url, headers={"If-None-Match": response["ETag"]})
    assert again.status_code == 304
    assert "max-age=86400" in again["Cache-Control"]  # a revalidation renews the caching
    head = client.head(url)
    assert head.status_code == 200 and head["ETag"] == response["ETag"]
    assert client.post(url).status_code in (403, 405)


def test_an_unknown_diagram_is_a_404(client):
    assert client.get("/diagrams/no-such-thing.svg").status_code == 404


def test_a_directive_naming_no_diagram_stays_text_not_a_broken_image():
    rendered = render_lesson("Words.\n\n[diagram: no-such-thing]\n")
    assert "<img" not in rendered.html
    assert "[diagram: no-such-thing]" in rendered.html


def test_raw_img_and_svg_in_a_lesson_are_still_shown_as_text(client):
    topic = TopicFactory()
    LessonFactory(
        topic=topic,
        body_markdown=(
            'Look: <img src="/diagrams/heat-ladder.svg" onerror="alert(1)"> and '
            "<svg><script>alert(2)</script></svg>\n\n"
            "![a picture](https://example.com/x.png)\n"
        ),
    )
    response = client.get(reverse("learning:lesson", args=[topic.slug]))
    assertContains(response, "&lt;img src=")
    assertContains(response, "&lt;svg&gt;&lt;script&gt;")
    assertNotContains(response, "<img")
    assertNotContains(response, "<svg")


def test_the_lesson_admin_refuses_an_unknown_diagram_name(teacher_client, teacher):
    teacher.user_permissions.add(Permission.objects.get(codename="change_lesson"))
    lesson = LessonFactory()
    before = lesson.body_markdown
    response = teacher_client.post(
        reverse("admin:learning_lesson_change", args=[lesson.pk]),
        {
            "topic": lesson.topic.pk,
            "title": lesson.title,
            "body_markdown": "Words.\n\n[diagram: sliding-filament]\n",
        },
    )
    assert response.status_code == 200
    assertContains(response, "a diagram that does not exist: &#x27;sliding-filament&#x27;")
    assertContains(response, "sliding-filaments")
    lesson.refresh_from_db()
    assert lesson.body_markdown == before


def test_many_unknown_diagrams_get_one_message_with_names_as_written(teacher_client, teacher):
    teacher.user_permissions.add(Permission.objects.get(codename="change_lesson"))
    lesson = LessonFactory()
    names = ["<img src=x onerror=alert(1)>", *(f"missing-{n}" for n in range(499))]
    body = "Words.\n\n" + "\n\n".join(f"[diagram: {name}]" for name in names) + "\n"
    response = teacher_client.post(
        reverse("admin:learning_lesson_change", args=[lesson.pk]),
        {"topic": lesson.topic.pk, "title": lesson.title, "body_markdown": body},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count("do not exist") == 1
    assert "and 495 more" in page
    # The teacher's text shown once escaped, as typed: never live, never double-escaped.
    assert "&#x27;&lt;img src=x onerror=alert(1)&gt;&#x27;" in page
    assert "<img src=x" not in page
    assert "&amp;lt;" not in page
    lesson.refresh_from_db()
    assert lesson.body_markdown != body


def test_the_lesson_admin_places_a_known_diagram(teacher_client, teacher):
    teacher.user_permissions.add(Permission.objects.get(codename="change_lesson"))
    lesson = LessonFactory()
    response = teacher_client.post(
        reverse("admin:learning_lesson_change", args=[lesson.pk]),
        {
            "topic": lesson.topic.pk,
            "title": lesson.title,
            "body_markdown": "Words.\n\n[diagram: heat-ladder]\n",
        },
    )
    assert response.status_code == 302
    lesson.refresh_from_db()
    assert '<figure class="diagram">' in lesson.body_html


def test_load_content_reports_an_unknown_diagram_and_changes_nothing(tmp_path, course):
    content = tmp_path / "course"
    shutil.copytree(FIXTURES, content)
    lesson_file = content / "lessons" / "08-heat.md"
    text = lesson_file.read_text(encoding="utf-8")
    lesson_file.write_text(text.replace("[diagram: heat-ladder]", "[diagram: heat-lader]"))
    before = Lesson.objects.get(topic__slug="heat").body_html
    with pytest.raises(CommandError) as error:
        call_command("load_content", "--dir", str(content), stdout=StringIO())
    assert "08-heat.md" in str(error.value)
    assert "'heat-lader'" in str(error.value)
    assert Lesson.objects.get(topic__slug="heat").body_html == before


def test_the_lesson_admin_lists_the_diagrams_a_teacher_can_place(teacher_client, teacher):
    teacher.user_permissions.add(Permission.objects.get(codename="change_lesson"))
    lesson = LessonFactory()
    response = teacher_client.get(reverse("admin:learning_lesson_change", args=[lesson.pk]))
    assertContains(response, "place one with a paragraph [diagram: name]")
    for name in diagrams():
        assertContains(response, name)
