"""Moodle XML, the format Moodle's question bank exports by default: parse text into
dataclasses, and write it back.

Pure text in, plain data out: no database. The file is read with defusedxml: a DOCTYPE (and
so every entity, the billion laughs and external entities included) is refused, and the
parser's cost is linear in the file's size. A malformed file gives one problem with its line,
never a traceback. This module knows Moodle's layout only (`<quiz>`, `<question type=...>`,
`<text>` in CDATA, `format="html"`, `<answer fraction=...>`, ...); which of our question
types a Moodle question becomes is for `learning.question_types.read_moodle_xml` to say, and
each type writes its own answers back as a `MoodleAnswerBlock`.

Moodle's texts come in several formats; `as_markdown` turns each into the Markdown we store:
HTML is sanitized (the project's nh3 allow-list, `learning.rendering.clean_imported_html`)
and then written as Markdown, so no script, event attribute or `javascript:` URL survives,
and images are dropped (reported by name). Our own exports write Markdown (`format=
"markdown"`), which comes back exactly as written.
"""

import html as html_lib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser
from typing import Any
from urllib.parse import unquote
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

from learning.formats.gift import NOTE, GiftProblem
from learning.rendering import MAX_NESTING, clean_imported_html

HTML = "html"
MARKDOWN = "markdown"
MOODLE_AUTO = "moodle_auto_format"
PLAIN = "plain_text"
_PLAIN_FORMATS = (PLAIN, "wiki_like")

# How the skip message names a type no question type of ours reads.
_UNSUPPORTED_NAMES = {
    "essay": "essays",
    "description": "descriptions",
    "cloze": "cloze (embedded answers) questions",
    "multianswer": "cloze (embedded answers) questions",
    "calculated": "calculated questions",
    "calculatedsimple": "calculated questions",
    "calculatedmulti": "calculated questions",
    "ddwtos": "drag-and-drop questions",
    "ddimageortext": "drag-and-drop questions",
    "ddmarker": "drag-and-drop questions",
    "gapselect": "select-missing-words questions",
    "randomsamatch": "random matching questions",
    "random": "random questions",
}
# The roots of a category path that name no category of ours.
_CATEGORY_ROOTS = {"$course$", "$system$", "$module$", "$cat$", "$coursecategory$", "top"}
_LARGEST_EXPONENT = 99  # as in GIFT: a number this far from 1 is no answer anyone means
# HTML nested n deep costs the sanitizer's HTML parser (html5ever, in nh3) the square of n:
# 20,000 nested lists took 3 s. A text with more tags than this is refused, so one text
# costs a few milliseconds at most, and a file its size times that.
MAX_HTML_TAGS = 2_000
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True)
class MoodleText:
    """A text as Moodle stores it: the text and its format's name."""

    text: str = ""
    format: str = HTML


@dataclass(frozen=True)
class MoodleAnswer:
    text: MoodleText
    fraction: Decimal = Decimal(0)  # percent of the question's mark, as written: 100, -50
    feedback: MoodleText = field(default_factory=MoodleText)
    tolerance: Decimal | None = None  # numerical answers have one


@dataclass(frozen=True)
class MoodleSubquestion:
    """A matching pair: an item (empty for an extra wrong match) and its match."""

    text: MoodleText
    answer: str


@dataclass(frozen=True)
class MoodleAnswerBlock:
    """What a question type writes for one question: Moodle's type, its answers, and the
    elements that type has (<single>, <shuffleanswers>, <usecase>...) in Moodle's order."""

    moodle_type: str
    answers: list[MoodleAnswer] = field(default_factory=list)
    subquestions: list[MoodleSubquestion] = field(default_factory=list)
    options: dict[str, str] = field(default_factory=dict)
    penalty: str = "0.3333333"


@dataclass
class MoodleQuestion:
    line: int
    moodle_type: str  # as in <question type="...">: multichoice, truefalse, essay...
    name: str
    category: str = ""  # the category path in force, as written: $course$/top/Heat
    question_text: MoodleText = field(default_factory=MoodleText)
    general_feedback: MoodleText = field(default_factory=MoodleText)
    answers: list[MoodleAnswer] = field(default_factory=list)
    subquestions: list[MoodleSubquestion] = field(default_factory=list)
    # The question's one-value elements by tag (<single>, <shuffleanswers>, <usecase>...):
    # which ones mean something is for the question types to say; `flag` reads a yes/no.
    options: dict[str, str] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    # What the file embeds that is not imported: "image 'logo.jpg'", "file 'hello.mp3'".
    not_imported: list[str] = field(default_factory=list)
    # Why the question cannot be read (a fraction that is no number...); such a question
    # is an error if one of our types reads its Moodle type, else skipped as unsupported.
    unreadable: str = ""
    # The question type's value, once `learning.question_types.read_moodle_xml` decided it.
    kind: str = ""

    @property
    def category_name(self) -> str:
        return category_name(self.category)

    @property
    def described(self) -> str:
        """How messages name the question: its Moodle type and name."""
        kind = self.moodle_type or "question"
        return f"{kind} {self.name!r}" if self.name else kind


@dataclass
class MoodleDocument:
    questions: list[MoodleQuestion] = field(default_factory=list)
    problems: list[GiftProblem] = field(default_factory=list)


class _Invalid(Exception):
    """A question that cannot be read; the message says why."""


# -- reading -----------------------------------------------------------------------------


class _LineRecorder:
    """A parser target that builds the tree and remembers where each <question> starts."""

    def __init__(self) -> None:
        self.builder = TreeBuilder()
        self.lines: dict[Element, int] = {}
        self.current_line = lambda: 0

    def start(self, tag: str, attrs: dict[str, str]) -> Element:
        element = self.builder.start(tag, attrs)
        if tag == "question":
            self.lines[element] = self.current_line()
        return element

    def end(self, tag: str) -> Element:
        return self.builder.end(tag)

    def data(self, data: str) -> None:
        self.builder.data(data)

    def close(self) -> Element:
        return self.builder.close()


def parse_moodle_xml(text: str) -> MoodleDocument:
    """Every question of a Moodle XML text, and a problem for each that cannot be read."""
    recorder = _LineRecorder()
    parser = DefusedXMLParser(target=recorder, forbid_dtd=True)
    expat = parser.parser
    recorder.current_line = lambda: int(expat.CurrentLineNumber)
    try:
        parser.feed(text)
        root = parser.close()
    except ParseError as error:
        line = error.position[0] if error.position else 1
        reason = str(error).split(":")[0].removeprefix("not well-formed ").strip("()")
        return _refused(line, f"the file is not well-formed XML ({reason})")
    except DefusedXmlException:
        return _refused(
            int(expat.CurrentLineNumber),
            "the file declares a DOCTYPE or entities, which Moodle XML never has; "
            "they are refused (they can make a file expand without end or read other files)",
        )
    if root.tag != "quiz":
        return _refused(1, f"this is not Moodle XML: it starts with <{root.tag}>, not <quiz>")

    document = MoodleDocument()
    category = ""
    for element in root:
        if element.tag != "question":
            continue
        line = recorder.lines.get(element, 0)
        kind = element.get("type", "").strip()
        try:
            if kind == "category":
                category = _category_path(element)
                continue
            document.questions.append(_question(element, line, kind, category))
        except _Invalid as error:
            name = (element.findtext("name/text") or "").strip()
            document.questions.append(
                MoodleQuestion(line, kind, name, category, unreadable=str(error))
            )
    return document


def _refused(line: int, message: str) -> MoodleDocument:
    return MoodleDocument(problems=[GiftProblem(line, message)])


def _category_path(element: Element) -> str:
    category = element.find("category")
    if category is None:
        return ""
    return _plain(category) if category.find("text") is not None else (category.text or "").strip()


def _plain(element: Element | None) -> str:
    """The <text> inside `element` (or the element's own text, as old files have it)."""
    if element is None:
        return ""
    inner = element.find("text")
    holder = inner if inner is not None else element
    if inner is not None and len(inner):
        raise _Invalid(
            f"<{element.tag}> holds XML elements inside its <text>; HTML must be in CDATA"
        )
    return (holder.text or "").strip()


def _text(element: Element | None, default_format: str) -> MoodleText:
    if element is None:
        return MoodleText("", default_format)
    return _checked(
        MoodleText(_plain(element), (element.get("format") or default_format).strip()),
        element.tag,
    )


def _checked(text: MoodleText, where: str) -> MoodleText:
    if text.format not in (MARKDOWN, *_PLAIN_FORMATS) and text.text.count("<") > MAX_HTML_TAGS:
        raise _Invalid(
            f"its <{where}> has more than {MAX_HTML_TAGS:,} HTML tags; simplify it in Moodle"
        )
    return text


def flag(raw: str | None, default: bool) -> bool:
    """Moodle's trans_single: "false", "0" and empty are false, anything else true."""
    if raw is None:
        return default
    return raw.strip() not in ("", "false", "0")


def _decimal(raw: str, what: str) -> Decimal:
    try:
        number = Decimal(raw.strip())
    except InvalidOperation:
        raise _Invalid(f"{what} {_shortened(raw.strip())} is not a number") from None
    if not number.is_finite() or (number and abs(number.adjusted()) > _LARGEST_EXPONENT):
        raise _Invalid(f"{what} {_shortened(raw.strip())} is not a usable number")
    return number


def parse_number(raw: str) -> Decimal | None:
    """A number as an answer's text gives it, or None when it is not one."""
    try:
        return _decimal(raw, "the answer")
    except _Invalid:
        return None


def _shortened(text: str, limit: int = 40) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")


def _answer(element: Element, default_format: str) -> MoodleAnswer:
    fraction = _decimal(element.get("fraction") or "0", "the fraction")
    old_fraction = element.findtext("fraction")  # numerical files before Moodle 2 had this
    if old_fraction is not None and old_fraction.strip():
        fraction = _decimal(old_fraction, "the fraction") * 100
    if not Decimal(-100) <= fraction <= Decimal(100):
        raise _Invalid(f"the fraction {fraction} is outside -100 to 100")
    tolerance = (element.findtext("tolerance") or "").strip()
    return MoodleAnswer(
        text=_checked(
            MoodleText(_plain(element), (element.get("format") or default_format).strip()),
            element.tag,
        ),
        fraction=fraction,
        feedback=_text(element.find("feedback"), default_format),
        tolerance=abs(_decimal(tolerance, "the tolerance")) if tolerance else None,
    )


def _question(element: Element, line: int, kind: str, category: str) -> MoodleQuestion:
    question_text = _text(element.find("questiontext"), HTML)
    text_format = question_text.format
    question = MoodleQuestion(
        line=line,
        moodle_type=kind,
        name=_plain(element.find("name")),
        category=category,
        question_text=question_text,
        general_feedback=_text(element.find("generalfeedback"), text_format),
        answers=[_answer(answer, text_format) for answer in element.findall("answer")],
        subquestions=[
            MoodleSubquestion(text=_text(sub, text_format), answer=_plain(sub.find("answer")))
            for sub in element.findall("subquestion")
        ],
        options={
            child.tag: (child.text or "").strip()
            for child in element
            if not len(child) and child.tag not in ("answer", "subquestion")
        },
        units=[
            (unit.findtext("unit_name") or "").strip() for unit in element.findall("units/unit")
        ],
        tags=[_plain(tag) for tag in element.findall("tags/tag")],
    )
    question.not_imported = _not_imported(element, question)
    return question


# A tag is searched only up to the next "<" or ">", so each character is looked at by one
# search at most: "<img <img <img ..." without an end cost the square of its length.
_IMAGE_SOURCE = re.compile(r"""<img\b[^<>]*?\bsrc\s*=\s*["']([^"'<>]*)["']""", re.IGNORECASE)
_PLUGIN_FILE = re.compile(r"@@PLUGINFILE@@/([^\"'<>\s?#]+)")


def _not_imported(element: Element, question: MoodleQuestion) -> list[str]:
    """The images and files a question shows that the import leaves out, each named once."""
    texts = [question.question_text, question.general_feedback]
    for answer in question.answers:
        texts += [answer.text, answer.feedback]
    texts += [sub.text for sub in question.subquestions]
    found: list[str] = []
    for text in texts:
        if text.format in _PLAIN_FORMATS:
            continue
        for source in _IMAGE_SOURCE.findall(text.text):
            found.append(f"image {_file_name(source)!r}")
        for name in _PLUGIN_FILE.findall(text.text):
            found.append(f"file {unquote(name)!r}")
    old_image = (element.findtext("image") or "").strip()  # Moodle 1.9's image field
    if old_image:
        found.append(f"image {_file_name(old_image)!r}")
    for embedded in element.iter("file"):
        found.append(f"file {embedded.get('name', '')!r}")
    shown: list[str] = []
    names: set[str] = set()
    for item in found:
        name = item.split(" ", 1)[1]
        if name not in names:  # an image's <file> is the same file: name it once
            names.add(name)
            shown.append(item)
    return shown


def _file_name(source: str) -> str:
    return unquote(source.split("?")[0].rstrip("/").rsplit("/", 1)[-1]) or source


def category_name(path: str) -> str:
    """The category a path names, its last part: "$course$/top/Heat" -> "Heat".

    Moodle writes a "/" inside a category's name as "//"."""
    parts = [part.replace("\0", "/").strip() for part in path.replace("//", "\0").split("/")]
    named = [part for part in parts if part and part not in _CATEGORY_ROOTS]
    return named[-1] if named else ""


def unsupported_message(question: MoodleQuestion) -> str:
    kind = question.moodle_type
    what = _UNSUPPORTED_NAMES.get(kind, f"{kind!r} questions" if kind else "untyped questions")
    return f"{question.described} skipped: {what} are not supported"


def not_imported_problem(question: MoodleQuestion) -> GiftProblem | None:
    """A note that a question's images and files are left out, or None when it has none."""
    if not question.not_imported:
        return None
    return GiftProblem(
        question.line,
        f"{question.described}: {', '.join(question.not_imported)} not imported "
        "(files embedded in Moodle XML are not supported); the rest of it imports",
        kind=NOTE,
    )


# -- Moodle's text formats to our Markdown --------------------------------------------------


def as_markdown(text: MoodleText) -> str:
    """A Moodle text as the Markdown we store (a prompt, an explanation, feedback): HTML
    sanitized, images left out."""
    if text.format == MARKDOWN:
        return text.text
    source = text.text.replace("\r\n", "\n").replace("\r", "\n")
    if text.format in _PLAIN_FORMATS:
        source = html_lib.escape(source).replace("\n", "<br>")
    elif text.format == MOODLE_AUTO:
        source = source.replace("\n", "<br>")
    return html_to_markdown(clean_imported_html(source))


_BLOCKS = {
    "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre", "table", "dl", "hr",
}  # fmt: skip
_INLINE_MARKERS = {"b": "**", "strong": "**", "i": "*", "em": "*"}
_ESCAPED = re.compile(r"([\\`*_\[\]])")
_ENTITY_LIKE = re.compile(r"&(?=#?[0-9A-Za-z]+;)")
_LINE_START = re.compile(r"^(?:([#>+-])|(\d+)([.)]))")
_SAFE_SCHEMES = ("http://", "https://", "mailto:")


class _MarkdownWriter(HTMLParser):
    """Sanitized HTML to Markdown: paragraphs, line breaks, bold, italics, code, links and
    lists; the text of anything else is kept as text, escaped so it reads as written."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.line_start = True
        self.pending_space = False
        self.open_markers: list[str] = []
        self.lists: list[list[int]] = []  # per open list: [items so far, ordered 1/0]
        self.links: list[str | None] = []
        self.code = 0
        self.line_ends = 0

    # The output only ever grows at its end, and what a break needs to know of it is kept
    # as it grows (how many line ends it ends with), so each piece of HTML costs the same
    # however long the text before it.
    def _break(self, blank: bool, hard: bool = True) -> None:
        """End the current line: a paragraph break, a hard line break, or (`hard` false,
        between list items) a plain new line."""
        if self.out:
            wanted = 2 if blank else 1
            if self.line_ends < wanted:
                ending = "\n" * (wanted - self.line_ends)
                self.out.append("  " + ending if hard and not blank else ending)
                self.line_ends = wanted
        self.line_start = True
        self.pending_space = False

    def _emit(self, text: str) -> None:
        if self.line_start and self.lists:
            depth = min(len(self.lists), MAX_NESTING) - 1
            self.out.append("    " * depth)
        self.out.append(text)
        self.line_ends = 0
        self.line_start = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCKS:
            self._break(blank=True)
        elif tag == "br":
            self._break(blank=False)
        elif tag in ("ul", "ol"):
            self._break(blank=not self.lists, hard=False)
            self.lists.append([0, int(tag == "ol")])
        elif tag == "li" and self.lists:
            self._break(blank=False, hard=False)
            counter = self.lists[-1]
            counter[0] += 1
            self._emit(f"{counter[0]}. " if counter[1] else "- ")
        elif tag in ("tr", "dt", "dd"):
            self._break(blank=False)
        elif tag in ("td", "th"):
            self.pending_space = not self.line_start
        elif tag in _INLINE_MARKERS:
            self._open_marker(_INLINE_MARKERS[tag])
        elif tag == "code":
            self._open_marker("`")
            self.code += 1
        elif tag == "a":
            href = dict(attrs).get("href") or ""
            self.links.append(href if href.lower().startswith(_SAFE_SCHEMES) else None)
            if self.links[-1] is not None:
                self._space()
                self._emit("[")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BLOCKS or tag in ("ul", "ol"):
            if tag in ("ul", "ol") and self.lists:
                self.lists.pop()
            self._break(blank=True)
        elif tag in _INLINE_MARKERS:
            self._close_marker(_INLINE_MARKERS[tag])
        elif tag == "code":
            self.code = max(0, self.code - 1)
            self._close_marker("`")
        elif tag == "a" and self.links:
            href = self.links.pop()
            if href is not None:
                url = href.replace(" ", "%20").replace("(", "%28").replace(")", "%29")
                self._emit(f"]({url})")

    def _space(self) -> None:
        if self.pending_space and not self.line_start:
            self._emit(" ")
        self.pending_space = False

    def _open_marker(self, marker: str) -> None:
        # The marker is written with the first text inside it, so that "<b> x</b>" gives
        # " **x**" (Markdown ignores "** x**") and an empty "<b></b>" gives nothing.
        self.open_markers.append(marker)

    def _close_marker(self, marker: str) -> None:
        if self.open_markers and self.open_markers[-1] == marker:
            self.open_markers.pop()  # never written: nothing was inside
            return
        # Text never ends in a space (a space is written only before what follows it), so
        # "<b>x </b>y" closes as "**x** y".
        self.out.append(marker)
        self.line_ends = 0

    def handle_data(self, data: str) -> None:
        collapsed = " ".join(data.split())
        if not collapsed:
            self.pending_space = self.pending_space or (bool(data) and not self.line_start)
            return
        if data[:1].isspace():
            self.pending_space = True
        self._space()
        if self.open_markers:
            self._emit("".join(self.open_markers))
            self.open_markers = []
        if self.code:
            self._emit(collapsed.replace("`", "'"))
        else:
            escaped = _ENTITY_LIKE.sub("&amp;", _ESCAPED.sub(r"\\\1", collapsed))
            if self.line_start:
                escaped = _LINE_START.sub(_escaped_line_start, escaped)
            self._emit(escaped)
        self.pending_space = data[-1:].isspace()

    def markdown(self) -> str:
        self.close()
        return "".join(self.out).strip()


def _escaped_line_start(match: re.Match[str]) -> str:
    """A "#", ">", "+", "-" or "1." that would start a heading, quote or list: escaped."""
    if match.group(1):
        return "\\" + match.group(1)
    return f"{match.group(2)}\\{match.group(3)}"


def html_to_markdown(html: str) -> str:
    writer = _MarkdownWriter()
    writer.feed(html)
    return writer.markdown()


def plain(text: MoodleText) -> str:
    """A text Moodle keeps as plain text whatever its format (a short answer, a number,
    a match): as written, trimmed."""
    return text.text.strip()


def as_text(text: MoodleText) -> str:
    """A Moodle text as the plain text an option or a matching item is shown as: HTML's
    tags dropped (a script with its content), its entities read, its spaces collapsed."""
    if text.format not in (HTML, MOODLE_AUTO):
        return text.text.strip()
    return " ".join(html_lib.unescape(clean_imported_html(text.text, keep=())).split())


# -- writing -------------------------------------------------------------------------------


def fraction_text(value: Decimal) -> str:
    """A fraction as Moodle writes it: 100, 50, -100, 33.33333."""
    return f"{value.normalize():f}" if value else "0"


def _escaped(text: str) -> str:
    """Moodle's xml_escape: the text as is, or in CDATA when it has markup characters."""
    text = _XML_ILLEGAL.sub("", text)
    if text and html_lib.escape(text) != text:
        return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"
    return text


def _text_element(tag: str, text: MoodleText, indent: int, extra: str = "") -> str:
    pad = "  " * indent
    return (
        f'{pad}<{tag} format="{text.format}">\n'
        f"{pad}  <text>{_escaped(text.text)}</text>\n{extra}"
        f"{pad}</{tag}>\n"
    )


def _answer_xml(answer: MoodleAnswer) -> str:
    tolerance = ""
    if answer.tolerance is not None:
        tolerance = f"      <tolerance>{fraction_text(answer.tolerance)}</tolerance>\n"
    return (
        f'    <answer fraction="{fraction_text(answer.fraction)}" format="{answer.text.format}">\n'
        f"      <text>{_escaped(answer.text.text)}</text>\n"
        + _text_element("feedback", answer.feedback, 3)
        + tolerance
        + "    </answer>\n"
    )


def flag_text(value: bool) -> str:
    """A yes or no as Moodle writes <single> and <shuffleanswers>."""
    return "true" if value else "false"


def _question_xml(question: MoodleQuestion, block: MoodleAnswerBlock) -> str:
    out = [
        f'  <question type="{block.moodle_type}">\n',
        f"    <name>\n      <text>{_escaped(question.name)}</text>\n    </name>\n",
        _text_element("questiontext", question.question_text, 2),
        _text_element("generalfeedback", question.general_feedback, 2),
        f"    <defaultgrade>1</defaultgrade>\n    <penalty>{block.penalty}</penalty>\n",
        "    <hidden>0</hidden>\n    <idnumber></idnumber>\n",
    ]
    out.extend(f"    <{tag}>{_escaped(value)}</{tag}>\n" for tag, value in block.options.items())
    out.extend(_answer_xml(answer) for answer in block.answers)
    for sub in block.subquestions:
        answer = f"      <answer>\n        <text>{_escaped(sub.answer)}</text>\n      </answer>\n"
        out.append(_text_element("subquestion", sub.text, 2, extra=answer))
    if question.tags:
        out.append("    <tags>\n")
        out.extend(f"      <tag><text>{_escaped(tag)}</text></tag>\n" for tag in question.tags)
        out.append("    </tags>\n")
    out.append("  </question>\n")
    return "".join(out)


def category_path(name: str) -> str:
    """The category path our exports write for a topic: $course$/top/<name>."""
    return "$course$/top/" + name.replace("/", "//")


def write_moodle_xml(
    questions: Sequence[tuple[MoodleQuestion, MoodleAnswerBlock]], *, comment: str = ""
) -> str:
    """A Moodle XML file of `questions` (each its texts and names, and its type's answers),
    with a category element before each run of questions of one category, in Moodle's
    own layout."""
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n']
    if comment:
        out.append(f"<!-- {comment.replace('--', '- -')} -->\n")
    category: Any = None
    for question, block in questions:
        if question.category != category:
            category = question.category
            out.append(
                '  <question type="category">\n'
                f"    <category>\n      <text>{_escaped(category)}</text>\n    </category>\n"
                "  </question>\n\n"
            )
        out.append(_question_xml(question, block) + "\n")
    out.append("</quiz>\n")
    return "".join(out)
