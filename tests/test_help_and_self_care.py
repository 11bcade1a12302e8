"""Issue 14, "Lessons people would rather look at": the "When to get help" box under every
lesson, the comparison table in "Kinds of spasm", and the self-care the course teaches."""

import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from learning.content import CourseSource, read_course
from learning.models import Topic

FIXTURES = settings.COURSE_CONTENT_DIR

# What each red flag must say, as a reader would find it on the page.
RED_FLAGS = {
    "clot": r"swollen, painful calf.*blood clot.*DVT",
    "cauda equina": r"saddle area.*urine or stools.*cauda equina",
    "rhabdomyolysis": r"cola-coloured urine after hard exercise.*rhabdomyolysis",
    "tetanus": r"jaw stiffness or spasms after a wound.*tetanus",
    "seizure": r"seizure lasting over five minutes.*first seizure.*call the emergency number",
}


def page_text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.mark.django_db
def test_every_lesson_page_has_the_help_box_with_every_red_flag(client):
    call_command("load_content", verbosity=0)
    topics = list(Topic.objects.all())
    assert len(topics) == 11
    for topic in topics:
        html = client.get(reverse("learning:lesson", args=[topic.slug])).content.decode()
        box = re.search(r'<aside class="help-box"[^>]*>(.*?)</aside>', html, re.DOTALL)
        assert box, f"{topic.slug}: no help box"
        assert 'aria-labelledby="help-box-heading"' in box.group(0)
        text = page_text(box.group(1))
        assert text.startswith("When to get help"), topic.slug
        for name, pattern in RED_FLAGS.items():
            assert re.search(pattern, text, re.IGNORECASE), f"{topic.slug}: no {name} flag"
        # The box follows the lesson body, and the page says once that it is not advice.
        assert html.index('class="prose"') < html.index('class="help-box"'), topic.slug
        assert page_text(html).count("not medical advice") >= 1


@pytest.mark.django_db
def test_kinds_of_spasm_compares_the_three_kinds_in_a_table(client):
    call_command("load_content", verbosity=0)
    html = client.get(reverse("learning:lesson", args=["kinds-of-spasm"])).content.decode()
    table = re.search(r"<table>(.*?)</table>", html, re.DOTALL)
    assert table, "no table in Kinds of spasm"
    headers = re.findall(r"<th[^>]*>(.*?)</th>", table.group(1))
    assert headers[1:] == ["Tic", "Cramp", "Convulsion"]
    rows = [page_text(row) for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.DOTALL)]
    for feature in (
        "What it is",
        "How long",
        "Awareness and pain",
        "Typical causes",
        "When to get help",
    ):
        assert any(row.startswith(feature) for row in rows), feature


@pytest.fixture(scope="module")
def course() -> CourseSource:
    return read_course(FIXTURES)


def lesson(course: CourseSource, slug: str) -> str:
    found = next(each for each in course.lessons if each.slug == slug)
    return " ".join(found.body.split())


def test_stretching_and_massage_are_taught_for_a_cramp(course):
    text = lesson(course, "spasm-or-cramp")
    assert "{#easing-a-cramp}" in text
    assert re.search(r"\*\*stretch\*\* the muscle", text)
    assert re.search(r"pull the toes up towards the shin", text)
    assert re.search(r"\*\*massaging\*\*", text)


def test_night_leg_cramps_are_taught_with_who_gets_them_and_what_helps(course):
    text = lesson(course, "spasm-or-cramp")
    assert "{#night-leg-cramps}" in text
    assert re.search(r"more common with age", text)
    assert re.search(r"pregnant", text)
    assert re.search(r"stretches before bed", text)


def test_medicines_that_can_cause_cramps_are_named_with_a_hedge(course):
    text = lesson(course, "diagnosis-and-treatment")
    assert "{#when-a-medicine-is-the-cause}" in text
    for medicine in ("diuretics", "statins", "asthma medicines"):
        assert medicine in text, medicine
    assert re.search(r"possible side effect of some medicines", text)
    assert re.search(r"do not stop taking it on your own", text)


def test_heat_cramps_are_taught_by_name(course):
    text = lesson(course, "heat")
    assert "{#heat-cramps}" in text
    assert re.search(r"called \*\*heat cramps\*\*", text)
    assert re.search(r"more than an hour", text)


@pytest.mark.django_db
def test_the_help_box_links_its_medical_terms_to_the_glossary(client):
    call_command("load_content", verbosity=0)
    glossary = client.get(reverse("learning:glossary")).content.decode()
    html = client.get(reverse("learning:lesson", args=["causes"])).content.decode()
    box = re.search(r'<aside class="help-box"[^>]*>(.*?)</aside>', html, re.DOTALL).group(1)
    linked = re.findall(r'href="([^"]*)#([a-z-]+)"', box)
    slugs = {slug for _url, slug in linked}
    assert slugs >= {
        "deep-vein-thrombosis",
        "cauda-equina-syndrome",
        "rhabdomyolysis",
        "tetanus",
        "seizure",
    }
    assert {url for url, _slug in linked} == {reverse("learning:glossary")}
    for slug in slugs:
        assert f'id="{slug}"' in glossary, slug
