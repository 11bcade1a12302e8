"""The dashboard's activity chart reads the same in both schemes: more answers, a stronger
square (darker on a light page, lighter on a dark one)."""

import pytest
from playwright.sync_api import Browser

from tests.browser.conftest import log_in

pytestmark = pytest.mark.django_db(transaction=True)


def luminance(rgb: str) -> float:
    red, green, blue = (int(part) / 255 for part in rgb[rgb.index("(") + 1 : -1].split(",")[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


@pytest.mark.parametrize(("scheme", "stronger_is"), [("light", "darker"), ("dark", "lighter")])
def test_the_legends_levels_grow_in_one_direction(
    browser: Browser, live_server, student, scheme, stronger_is
):
    page = browser.new_context(color_scheme=scheme).new_page()
    log_in(page, live_server.url, student.username)
    levels = [
        luminance(
            page.locator(f".legend .level-{level}").first.evaluate(
                "square => getComputedStyle(square).backgroundColor"
            )
        )
        for level in range(1, 5)
    ]
    ordered = sorted(levels, reverse=stronger_is == "darker")
    assert levels == ordered and len(set(levels)) == 4, levels
