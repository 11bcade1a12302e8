"""One spelling throughout the site: British English in lessons, questions and templates.

Pure: reads fixtures/ and templates/ as text, no database and no server. Only words a
reader sees are checked: section ids ({#...}), question keys (::key::), GIFT comments
(anchors), template tags and HTML tags with their attributes (class names, CSS such as
`color`) are blanked out first, keeping line numbers.

The house style for -ise/-ize is -ise, as the NHS and most British health writing use it
("stabilises", "generalised dystonia"). Words that are
American in every British style (-yze, -or, -er, -e for -ae/-oe, single l) are listed below.
"""

import re
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# American form -> British form. Whole words, case-insensitive; each form listed as it is
# written (plurals and other endings spelled out), so nothing matches inside another word.
AMERICAN_TO_BRITISH = {
    "fiber": "fibre",
    "fibers": "fibres",
    "hemoglobin": "haemoglobin",
    "anemia": "anaemia",
    "anemic": "anaemic",
    "edema": "oedema",
    "esophagus": "oesophagus",
    "estrogen": "oestrogen",
    "diarrhea": "diarrhoea",
    "hemorrhage": "haemorrhage",
    "ischemia": "ischaemia",
    "leukemia": "leukaemia",
    "anesthesia": "anaesthesia",
    "anesthetic": "anaesthetic",
    "pediatric": "paediatric",
    "orthopedic": "orthopaedic",
    "behavior": "behaviour",
    "behaviors": "behaviours",
    "behavioral": "behavioural",
    "color": "colour",
    "colors": "colours",
    "colored": "coloured",
    "colorful": "colourful",
    "favor": "favour",
    "favorite": "favourite",
    "favorable": "favourable",
    "flavor": "flavour",
    "honor": "honour",
    "labor": "labour",
    "neighbor": "neighbour",
    "neighbors": "neighbours",
    "neighboring": "neighbouring",
    "humor": "humour",
    "tumor": "tumour",
    "tumors": "tumours",
    "odor": "odour",
    "vapor": "vapour",
    "center": "centre",
    "centers": "centres",
    "centered": "centred",
    "liter": "litre",
    "liters": "litres",
    "milliliter": "millilitre",
    "milliliters": "millilitres",
    "centimeter": "centimetre",
    "centimeters": "centimetres",
    "millimeter": "millimetre",
    "kilometer": "kilometre",
    "kilometers": "kilometres",
    "theater": "theatre",
    "analyze": "analyse",
    "analyzed": "analysed",
    "analyzes": "analyses",
    "analyzing": "analysing",
    "paralyze": "paralyse",
    "paralyzed": "paralysed",
    "catalog": "catalogue",
    "defense": "defence",
    "offense": "offence",
    "gray": "grey",
    "aluminum": "aluminium",
    "traveling": "travelling",
    "traveled": "travelled",
    "traveler": "traveller",
    "canceled": "cancelled",
    "canceling": "cancelling",
    "labeled": "labelled",
    "labeling": "labelling",
    "signaling": "signalling",
    "signaled": "signalled",
    "fueled": "fuelled",
    "modeling": "modelling",
    "counseling": "counselling",
    "enrollment": "enrolment",
    "fulfill": "fulfil",
    "skillful": "skilful",
    "mold": "mould",
    "moldy": "mouldy",
    "maneuver": "manoeuvre",
    "pajamas": "pyjamas",
    "artifact": "artefact",
    "jewelry": "jewellery",
}

# The house style is -ise, so the -ize spellings of the same words would split the course in two.
IZE_TO_ISE = {
    f"{stem}iz{ending}": f"{stem}is{ending}"
    for stem in (
        "general",
        "organ",
        "recogn",
        "stabil",
        "real",
        "special",
        "minim",
        "maxim",
        "categor",
        "summar",
        "emphas",
        "immobil",
        "hospital",
        "character",
        "priorit",
        "memor",
        "util",
        "normal",
        "visual",
        "neutral",
        "steril",
        "personal",
        "standard",
        "apolog",
    )
    for ending in ("e", "es", "ed", "ing", "ation", "ations")
}

NOT_HOUSE_STYLE = AMERICAN_TO_BRITISH | IZE_TO_ISE
WORD = re.compile(r"[A-Za-z]+")


def _blank(match: re.Match[str]) -> str:
    """Replace what a reader does not see by spaces, keeping the newlines (line numbers)."""
    return re.sub(r"[^\n]", " ", match.group(0))


def visible_markdown(text: str) -> str:
    text = re.sub(r"^slug:.*$", _blank, text, flags=re.M)  # front matter's identifier
    text = re.sub(r"\{#[^}]*\}", _blank, text)  # section ids
    text = re.sub(r"\]\([^)]*\)", _blank, text)  # link and image addresses
    return re.sub(r"<[^>]*>", _blank, text)


def _other_accepted_answers(block: re.Match[str]) -> str:
    """A short answer may accept other spellings (a learner typing "fiber" is right too):
    only its first accepted answer, the one shown to learners, has to be in house style."""
    answers = block.group(0)
    if "~" in answers or "->" in answers or answers[1:].lstrip().startswith("#"):
        return answers
    accepted = list(re.finditer(r"=(?:%[-\d.]+%)?([^=#~}]*)", answers))
    for answer in accepted[1:]:
        start, end = answer.span(1)
        answers = answers[:start] + re.sub(r"[^\n]", " ", answers[start:end]) + answers[end:]
    return answers


def visible_gift(text: str) -> str:
    text = re.sub(r"^\s*//.*$", _blank, text, flags=re.M)  # comments, anchors
    text = re.sub(r"^\s*\$CATEGORY:.*$", _blank, text, flags=re.M)
    text = re.sub(r"::[^:\n]*::", _blank, text)  # question keys
    return re.sub(r"\{[^{}]*\}", _other_accepted_answers, text)


def visible_yaml(text: str) -> str:
    return re.sub(r"^\s*#.*$|^\s*-?\s*[a-z]+:", _blank, text, flags=re.M)  # comments, keys


def visible_template(text: str) -> str:
    text = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", _blank, text, flags=re.S)
    text = re.sub(r"<(style|script)\b.*?</\1>", _blank, text, flags=re.S | re.I)
    text = re.sub(r"<!--.*?-->", _blank, text, flags=re.S)
    return re.sub(r"<[^>]*>", _blank, text, flags=re.S)


def course_texts() -> list[tuple[Path, str]]:
    readers = [
        ("fixtures/lessons", "*.md", visible_markdown),
        ("fixtures/questions", "*.gift", visible_gift),
        ("fixtures", "glossary.yaml", visible_yaml),
        ("templates", "**/*.html", visible_template),
    ]
    return [
        (path, visible(path.read_text(encoding="utf-8")))
        for folder, pattern, visible in readers
        for path in sorted((ROOT / folder).glob(pattern))
    ]


def misspellings(text: str) -> list[tuple[int, str, str]]:
    """(line number, word as written, the house spelling) for each word not in house style."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        for word in WORD.findall(line):
            better = NOT_HOUSE_STYLE.get(word.lower())
            if better:
                found.append((number, word, better))
    return found


def test_the_word_list_is_long_enough_and_pairs_differ() -> None:
    assert len(AMERICAN_TO_BRITISH) >= 40
    assert all(american != british for american, british in NOT_HOUSE_STYLE.items())
    assert not set(NOT_HOUSE_STYLE) & set(NOT_HOUSE_STYLE.values())


def test_the_course_and_the_interface_use_one_spelling() -> None:
    texts = course_texts()
    assert {path.parent.name for path, _ in texts} >= {"lessons", "questions", "learning"}
    problems = [
        f"{path.relative_to(ROOT)}:{number}: {word!r} -> {better!r}"
        for path, text in texts
        for number, word, better in misspellings(text)
    ]
    assert not problems, "American spellings:\n" + "\n".join(problems)


@pytest.mark.parametrize(
    ("reader", "text", "expected"),
    [
        (visible_markdown, "## Fibers {#fibers}\nIts color.", [(1, "Fibers"), (2, "color")]),
        (visible_markdown, "---\nslug: gray-matter\ntitle: Gray\n---\n", [(3, "Gray")]),
        (visible_gift, "// anchor: fiber\n::rsk-fiber:: Low in fiber? {T}", [(2, "fiber")]),
        (visible_gift, "Iron makes? {=haemoglobin =%100%hemoglobin #color}", [(1, "color")]),
        (visible_gift, "Iron makes? {=hemoglobin =haemoglobin}", [(1, "hemoglobin")]),
        (visible_gift, "Pick {=Fibre ~Fiber #No. Fiber...}", [(1, "Fiber"), (1, "Fiber")]),
        (
            visible_template,
            '<p class="center" style="color: red">{% if color %}Colors{% endif %}</p>',
            [(1, "Colors")],
        ),
        (visible_template, "{# a color #}<!-- gray -->Fibre", []),
    ],
)
def test_only_words_a_reader_sees_are_checked(
    reader: Callable[[str], str], text: str, expected: list[tuple[int, str]]
) -> None:
    assert [(number, word) for number, word, _ in misspellings(reader(text))] == expected
