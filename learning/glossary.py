"""The course's glossary: terms and plain definitions from fixtures/glossary.yaml.

Read once per process and cached. Lessons link each term's first use to its entry on the
glossary page when they are rendered (learning.rendering.link_glossary_terms); rendering
itself stays pure, the terms and the page's address are passed in from here.
"""

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify

from learning.diagrams import lesson_figures
from learning.rendering import GlossaryTerm, RenderedLesson, render_lesson


class GlossaryError(Exception):
    pass


@dataclass(frozen=True)
class GlossaryEntry:
    term: str
    slug: str
    definition: str
    forms: tuple[str, ...]

    def as_link_target(self) -> GlossaryTerm:
        return GlossaryTerm(slug=self.slug, forms=self.forms)


def read_glossary(path: Path) -> tuple[GlossaryEntry, ...]:
    """The entries in `path`, alphabetical; GlossaryError names what is wrong."""
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise GlossaryError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, list):
        raise GlossaryError(f"{path}: expected a list of terms")
    entries: list[GlossaryEntry] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict) or not item.get("term") or not item.get("definition"):
            raise GlossaryError(f"{path}: entry {number} needs a term and a definition")
        term = str(item["term"]).strip()
        also = item.get("also") or []
        if not isinstance(also, list):
            raise GlossaryError(f"{path}: {term}: 'also' must be a list")
        forms = tuple(dict.fromkeys([term, *(str(form).strip() for form in also)]))
        entries.append(
            GlossaryEntry(
                term=term,
                slug=slugify(term),
                definition=" ".join(str(item["definition"]).split()),
                forms=forms,
            )
        )
    slugs = [entry.slug for entry in entries]
    if len(set(slugs)) != len(slugs):
        raise GlossaryError(f"{path}: two terms share an anchor")
    all_forms = [form.lower() for entry in entries for form in entry.forms]
    if len(set(all_forms)) != len(all_forms):
        raise GlossaryError(f"{path}: two terms share a form")
    return tuple(sorted(entries, key=lambda entry: entry.term.lower()))


@lru_cache(maxsize=1)
def glossary() -> tuple[GlossaryEntry, ...]:
    return read_glossary(Path(settings.COURSE_CONTENT_DIR) / "glossary.yaml")


def render_lesson_with_glossary(source: str) -> RenderedLesson:
    """render_lesson with the first use of each glossary term linked to its entry, and the
    course's diagrams placed where the lesson names them."""
    return render_lesson(
        source,
        glossary_terms=tuple(entry.as_link_target() for entry in glossary()),
        glossary_url=reverse("learning:glossary"),
        figures=lesson_figures(),
    )
