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


def render_lesson(source: str) -> RenderedLesson:
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


@lru_cache(maxsize=4096)
def render_text(source: str) -> str:
    """Render a short piece of teacher-written Markdown (a prompt, a choice, feedback)."""
    raw_html = markdown.markdown(source, extensions=[_EscapeRawHtml(), "sane_lists"])
    return nh3.clean(raw_html, tags=_INLINE_TAGS, attributes={"a": {"href", "title"}})
