"""Markdown to sanitized HTML, for lessons and for the text of questions.

Teachers write Markdown; raw HTML in it is not passed through but shown as text (so
"never put a <style> tag here" reads as written), and what reaches a page is cleaned by nh3
against an allow-list as well, so nothing in content is ever live markup.

Why escape rather than let nh3 drop the tags: an HTML parser reads everything after an
unclosed <style>, <script>, <textarea>, <title>, <xmp>, <noscript> or <iframe> as that
element's content, so nh3 removed the rest of the lesson with it while the table of
contents, built from the Markdown, still listed the sections that had gone.
"""

import html as html_lib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import markdown
import nh3
from markdown.extensions import Extension

_LESSON_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "dl", "dt", "em", "h2", "h3", "h4",
    "hr", "i", "li", "ol", "p", "pre", "strong", "sub", "sup", "table", "tbody", "td",
    "th", "thead", "tr", "ul",
}  # fmt: skip
_INLINE_TAGS = {"a", "b", "br", "code", "em", "i", "p", "strong", "sub", "sup", "ul", "ol", "li"}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "h2": {"id"},
    "h3": {"id"},
    "h4": {"id"},
    "td": {"align"},
    "th": {"align"},
}


class _EscapeRawHtml(Extension):
    """Treat raw HTML in Markdown as text: the block and inline HTML readers are removed, so
    "<style>" comes out as "&lt;style&gt;". Code spans, links and entities work as before."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


# Limits on teacher Markdown (issue 12, "bounded rendering"). Python-Markdown's link reader
# scans from every "[" to its matching "]" or to the end of the paragraph, so unmatched
# brackets cost the square of their number (20,000 took 30 s); a list or quote nested a
# few hundred deep raises RecursionError. Text over these limits is refused when saved or
# imported, and shown as plain text if it is already stored.
MAX_PROMPT_CHARS = 2_000
MAX_TEXT_CHARS = 4_000  # an explanation, a choice, a choice's feedback
MAX_LESSON_CHARS = 100_000
MAX_NESTING = 10  # levels of lists (4 spaces each) and quotes (">")
# The characters the link reader steps over, summed over every "[" in the text: 50,000
# steps render in under 20 ms (100,000 took 35 ms); a lesson with hundreds of ordinary
# links uses a few thousand.
MAX_BRACKET_SCAN = 50_000

_BLANK_LINE = re.compile(r"\n[ \t]*\n")
# What opens a level at the start of a line: a quote's ">", a list item's marker, and
# indentation (4 columns a level, as Python-Markdown counts it).
_LINE_START = re.compile(r"^(?:[ \t]+|>|[-*+](?=[ \t])|\d{1,9}[.)](?=[ \t]))*", re.MULTILINE)
_LEVEL_TOKEN = re.compile(r"[ \t]+|>|[-*+]|\d+[.)]")


def _bracket_scan_cost(text: str) -> int:
    """How many characters the link reader steps over: for each "[" (and each link
    target's "]("), the distance to its matching "]" (or ")"), or to the end of its
    paragraph if there is none. Linear in the text."""
    cost = 0
    for block in _BLANK_LINE.split(text):
        open_at: list[int] = []
        # A link's target, "](", is read up to its ")" the same way: "[x](" repeated
        # without the ")" is as slow as stray brackets.
        target_at: list[int] = []
        for index, char in enumerate(block):
            if char == "[":
                open_at.append(index)
            elif char == "]" and open_at:
                cost += index - open_at.pop()
            elif char == "(" and index and block[index - 1] == "]":
                target_at.append(index)
            elif char == ")" and target_at:
                cost += index - target_at.pop()
        cost += sum(len(block) - start for start in open_at + target_at)
    return cost


def _nesting_depth(text: str) -> int:
    """The deepest nesting of lists and quotes any line opens: "    - a" is two levels,
    "> - a" is two, "- - - a" is three."""
    deepest = 0
    for match in _LINE_START.finditer(text):
        depth, after_opener = 0, True
        for token in _LEVEL_TOKEN.findall(match.group(0)):
            if token[0] in " \t":
                # Only indentation before a marker nests; the space after one does not.
                if after_opener:
                    depth += len(token.expandtabs(4)) // 4
                continue
            depth += 1
            after_opener = token == ">"
        deepest = max(deepest, depth)
    return deepest


def markdown_problems(text: str, *, field: str, max_chars: int) -> list[str]:
    """Why this Markdown would render too slowly or too deep, as messages a teacher can act
    on; empty when it is fine. Linear in the text, so it is safe to run on anything."""
    problems: list[str] = []
    if len(text) > max_chars:
        problems.append(
            f"{field} is {len(text):,} characters long; the limit is {max_chars:,}. "
            "Shorten it or split it up."
        )
        # Longer text is not measured further: the length alone refuses it.
        return problems
    if _bracket_scan_cost(text) > MAX_BRACKET_SCAN:
        problems.append(
            f"{field} has too many square brackets or link targets that are never closed (or "
            'nested too deep) to render quickly. Close each "[" with "]" and each "](" with '
            '")", or write \\[ for a literal bracket.'
        )
    depth = _nesting_depth(text)
    if depth > MAX_NESTING:
        problems.append(
            f"{field} nests lists or quotes {depth} levels deep; the limit is {MAX_NESTING}. "
            "Use fewer levels of indentation, list markers or >."
        )
    return problems


# The limit and the name a teacher sees, per field that is rendered as Markdown.
FIELD_LIMITS: dict[str, tuple[str, int]] = {
    "prompt": ("The prompt", MAX_PROMPT_CHARS),
    "explanation": ("The explanation", MAX_TEXT_CHARS),
    "text": ("The choice", MAX_TEXT_CHARS),
    "feedback": ("The choice's feedback", MAX_TEXT_CHARS),
    "body_markdown": ("The lesson", MAX_LESSON_CHARS),
}


def field_problems(name: str, text: str) -> list[str]:
    """markdown_problems for one of the FIELD_LIMITS fields, by its model field name."""
    label, max_chars = FIELD_LIMITS[name]
    return markdown_problems(text or "", field=label, max_chars=max_chars)


def _refused_html(source: str, max_chars: int) -> str:
    """Text that fails the limits, shown as plain escaped text with a note, never parsed;
    cut at the field's limit, so even a huge stored text costs little to show."""
    shown = source if len(source) <= max_chars else source[:max_chars] + "…"
    return (
        '<p class="render-refused"><em>This text is too long or too deeply nested to show '
        "formatted; it is shown as plain text.</em></p>"
        f"<p>{html_lib.escape(shown)}</p>"
    )


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int


@dataclass(frozen=True)
class RenderedLesson:
    html: str
    sections: tuple[Section, ...]


def _flatten_toc(tokens: list[dict[str, Any]]) -> list[Section]:
    sections: list[Section] = []
    for token in tokens:
        # The toc extension gives the title as HTML text ("A &amp; B"); templates escape it.
        title = html_lib.unescape(token["name"])
        sections.append(Section(anchor=token["id"], title=title, level=token["level"]))
        sections.extend(_flatten_toc(token.get("children", [])))
    return sections


@dataclass(frozen=True)
class GlossaryTerm:
    """A glossary entry as lessons link to it: its anchor and the forms it is written in."""

    slug: str
    forms: tuple[str, ...]


@dataclass(frozen=True)
class LessonFigure:
    """A diagram as a lesson places it (see learning/diagrams.py): the image's address and
    the texts that go with it."""

    name: str
    src: str
    caption: str
    alt: str
    description: str

    def as_html(self) -> str:
        escape = html_lib.escape
        return (
            '<figure class="diagram">'
            f'<img src="{escape(self.src)}" alt="{escape(self.alt)}">'
            f"<figcaption>{escape(self.caption)}</figcaption>"
            '<details class="diagram-description"><summary>Describe this diagram</summary>'
            f"<p>{escape(self.description)}</p></details>"
            "</figure>"
        )


# A paragraph that is only "[diagram: name]" places a diagram. It is found in the HTML
# after sanitizing, so a directive in code or inside other text stays as it was written.
_DIAGRAM_DIRECTIVE = re.compile(r"<p>\[diagram:\s*([^\]<]*?)\s*\]</p>", re.IGNORECASE)
DIAGRAM_DIRECTIVE_LINE = re.compile(r"^[ \t]*\[diagram:[^\]\n]*\][ \t]*$", re.MULTILINE)


def placed_diagram_names(html: str) -> list[str]:
    """The names of the diagrams a rendered lesson places, in order."""
    return _DIAGRAM_DIRECTIVE.findall(html)


def diagram_problems(source: str, known_names: Iterable[str]) -> list[str]:
    """A message for each diagram the lesson places that is not one of `known_names`."""
    if markdown_problems(source, field="The lesson", max_chars=MAX_LESSON_CHARS):
        return []
    try:
        placed = placed_diagram_names(_render_lesson(source).html)
    except RecursionError:
        return []
    known = set(known_names)
    # The names are read from the rendered HTML: shown as the teacher wrote them.
    unknown = [html_lib.unescape(name) for name in dict.fromkeys(placed) if name not in known]
    if not unknown:
        return []
    named = ", ".join(repr(name[:80]) for name in unknown[:5])
    more = f" and {len(unknown) - 5} more" if len(unknown) > 5 else ""
    return [
        f"The lesson places {'a diagram' if len(unknown) == 1 else 'diagrams'} that "
        f"{'does' if len(unknown) == 1 else 'do'} not exist: {named}{more}. "
        f"Known diagrams: {', '.join(sorted(known)) or 'none'}."
    ]


def _place_figures(html: str, figures: tuple[LessonFigure, ...]) -> str:
    """Each directive naming a known figure replaced by the figure; an unknown name stays
    as the text it was (the admin and load_content refuse one when it is saved)."""
    by_name = {figure.name: figure for figure in figures}

    def place(match: re.Match[str]) -> str:
        figure = by_name.get(match.group(1))
        return figure.as_html() if figure else match.group(0)

    return _DIAGRAM_DIRECTIVE.sub(place, html)


def render_lesson(
    source: str,
    glossary_terms: tuple[GlossaryTerm, ...] = (),
    glossary_url: str = "",
    figures: tuple[LessonFigure, ...] = (),
) -> RenderedLesson:
    if markdown_problems(source, field="The lesson", max_chars=MAX_LESSON_CHARS):
        return RenderedLesson(html=_refused_html(source, MAX_LESSON_CHARS), sections=())
    try:
        rendered = _render_lesson(source)
    except RecursionError:
        return RenderedLesson(html=_refused_html(source, MAX_LESSON_CHARS), sections=())
    # Figures are placed after nh3 has cleaned the teacher's Markdown: their markup is
    # written here from the course's own registry, escaped, so the allow-list for
    # lessons still has no img, and raw HTML in a lesson is still shown as text.
    html = _place_figures(rendered.html, figures) if figures else rendered.html
    if glossary_terms:
        html = link_glossary_terms(html, glossary_terms, glossary_url)
    return RenderedLesson(html=html, sections=rendered.sections)


# Text inside these elements is never linked: headings (and so the table of contents built
# from them), links already, code, and diagrams' captions and descriptions.
_NO_GLOSSARY_LINKS = {"h1", "h2", "h3", "h4", "h5", "h6", "a", "code", "pre", "figure"}
_TAG = re.compile(r"(<[^>]*>)")
_TAG_NAME = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")


@lru_cache(maxsize=8)
def _terms_pattern(
    glossary_terms: tuple[GlossaryTerm, ...],
) -> tuple[re.Pattern[str], dict[str, str]]:
    slug_by_form = {
        form.lower(): term.slug for term in glossary_terms for form in term.forms if form
    }
    # Longest first, so "tonic-clonic seizure" is found before "seizure" at the same place.
    alternatives = "|".join(
        re.escape(form) for form in sorted(slug_by_form, key=len, reverse=True)
    )
    pattern = re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE)
    return pattern, slug_by_form


def link_glossary_terms(
    html: str, glossary_terms: tuple[GlossaryTerm, ...], glossary_url: str
) -> str:
    """Link the first use of each term in the text of `html` (sanitized HTML, so its tags are
    well formed) to `glossary_url#slug`; never inside a heading, a link or code. Whole words,
    any case, any of the term's forms. Linear in the HTML."""
    pattern, slug_by_form = _terms_pattern(glossary_terms)
    linked: set[str] = set()
    open_skipped = 0
    pieces: list[str] = []
    for piece in _TAG.split(html):
        if piece.startswith("<"):
            tag = _TAG_NAME.match(piece)
            if tag and tag.group(2).lower() in _NO_GLOSSARY_LINKS:
                open_skipped += -1 if tag.group(1) else 1
                open_skipped = max(open_skipped, 0)
            pieces.append(piece)
            continue
        if open_skipped or not piece:
            pieces.append(piece)
            continue

        def link(match: re.Match[str]) -> str:
            slug = slug_by_form[match.group(0).lower()]
            if slug in linked:
                return match.group(0)
            linked.add(slug)
            href = html_lib.escape(f"{glossary_url}#{slug}")
            return f'<a class="glossary-term" href="{href}">{match.group(0)}</a>'

        pieces.append(pattern.sub(link, piece))
    return "".join(pieces)


def _render_lesson(source: str) -> RenderedLesson:
    converter = markdown.Markdown(
        extensions=[_EscapeRawHtml(), "attr_list", "toc", "tables", "sane_lists"],
        extension_configs={"toc": {"toc_depth": "2-3"}},
    )
    raw_html = converter.convert(source)
    html = nh3.clean(
        raw_html,
        tags=_LESSON_TAGS,
        attributes=_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
    )
    # The toc extension sets toc_tokens on the converter; the Markdown stubs do not declare it.
    tokens: list[dict[str, Any]] = converter.toc_tokens  # type: ignore[attr-defined]
    return RenderedLesson(html=html, sections=tuple(_flatten_toc(tokens)))


def render_text(source: str) -> str:
    """Render a short piece of teacher-written Markdown (a prompt, a choice, feedback).

    Text over the limits (stored before they existed) is shown escaped, never parsed, and
    never cached, so the cache holds only texts of at most 4,000 characters."""
    if markdown_problems(source, field="The text", max_chars=MAX_TEXT_CHARS):
        return _refused_html(source, MAX_TEXT_CHARS)
    return _render_text(source)


@lru_cache(maxsize=4096)
def _render_text(source: str) -> str:
    """Cached by the text, so the prompt every student sees is rendered once per process,
    not per view: 4,096 texts of at most 4,000 characters are a few tens of MB at most."""
    try:
        raw_html = markdown.markdown(source, extensions=[_EscapeRawHtml(), "sane_lists"])
    except RecursionError:
        return _refused_html(source, MAX_TEXT_CHARS)
    return nh3.clean(raw_html, tags=_INLINE_TAGS, attributes={"a": {"href", "title"}})


# HTML written elsewhere (a Moodle XML import) keeps only these tags, and links only to
# these schemes, before it is turned into Markdown: no script, no event attribute, no
# javascript: URL. Images are kept so the importer can name the ones it leaves out.
_IMPORTED_TAGS = _LESSON_TAGS | {"div", "h1", "h5", "h6", "img", "span", "u"}


def clean_imported_html(source: str, keep: Iterable[str] = _IMPORTED_TAGS) -> str:
    """`source` with only the tags in `keep` (the HTML a Moodle XML import turns into
    Markdown, by default; none for plain text)."""
    return nh3.clean(
        source,
        tags=set(keep),
        attributes={"a": {"href", "title"}, "img": {"src", "alt"}},
        url_schemes={"http", "https", "mailto"},
    )
