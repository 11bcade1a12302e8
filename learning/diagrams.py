"""The lessons' diagrams: original SVG files in static/diagrams/, named, captioned and
described in fixtures/diagrams.yaml.

A lesson places one with a paragraph that is only ``[diagram: name]``. Lesson HTML is
rendered once and stored, so it points at a stable address served by the app
(``/diagrams/<name>.svg?v=<digest>``, learning.views.diagram), never at a hashed static
file name that the next collectstatic would change. The digest of the file is in the
address, so a redrawn diagram gets a new address when load_content renders the lessons
again, and browsers may cache each address for a day.
"""

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from django.conf import settings
from django.urls import reverse
from django.utils.text import slugify

from learning.rendering import LessonFigure

_FIELDS = ("name", "file", "caption", "alt", "description")


class DiagramError(Exception):
    pass


@dataclass(frozen=True)
class Diagram:
    name: str
    file: str
    caption: str
    alt: str
    description: str

    @property
    def path(self) -> Path:
        return Path(settings.COURSE_DIAGRAMS_DIR) / self.file


def read_diagrams(path: Path, svg_dir: Path) -> tuple[Diagram, ...]:
    """The diagrams `path` lists, each with its SVG file in `svg_dir`; DiagramError names
    what is wrong."""
    if not path.exists():
        return ()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except yaml.YAMLError as error:
        raise DiagramError(f"{path}: not valid YAML: {error}") from None
    if not isinstance(data, list):
        raise DiagramError(f"{path}: expected a list of diagrams")
    diagrams: list[Diagram] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise DiagramError(f"{path}: entry {number} is not 'key: value' lines")
        missing = [key for key in _FIELDS if not str(item.get(key) or "").strip()]
        if missing:
            raise DiagramError(f"{path}: entry {number} needs {', '.join(missing)}")
        values = {key: " ".join(str(item[key]).split()) for key in _FIELDS}
        diagram = Diagram(**values)
        if diagram.name != slugify(diagram.name):
            raise DiagramError(
                f"{path}: {diagram.name!r}: a diagram's name is lower-case letters, digits "
                f"and hyphens (it is part of the image's address)"
            )
        if Path(diagram.file).name != diagram.file or not (svg_dir / diagram.file).is_file():
            raise DiagramError(f"{path}: {diagram.name}: no file {diagram.file} in the diagrams")
        diagrams.append(diagram)
    names = [diagram.name for diagram in diagrams]
    if len(set(names)) != len(names):
        raise DiagramError(f"{path}: two diagrams share a name")
    return tuple(diagrams)


@lru_cache(maxsize=1)
def diagrams() -> dict[str, Diagram]:
    registry = Path(settings.COURSE_CONTENT_DIR) / "diagrams.yaml"
    return {d.name: d for d in read_diagrams(registry, Path(settings.COURSE_DIAGRAMS_DIR))}


@lru_cache(maxsize=64)
def diagram_svg(name: str) -> tuple[bytes, str]:
    """The SVG file of a known diagram and a short digest of it."""
    content = diagrams()[name].path.read_bytes()
    return content, hashlib.sha256(content).hexdigest()[:12]


def lesson_figures() -> tuple[LessonFigure, ...]:
    """Every diagram as a lesson places it: its address, caption and texts."""
    return tuple(
        LessonFigure(
            name=diagram.name,
            src=f"{reverse('learning:diagram', args=[diagram.name])}?v={diagram_svg(name)[1]}",
            caption=diagram.caption,
            alt=diagram.alt,
            description=diagram.description,
        )
        for name, diagram in diagrams().items()
    )
