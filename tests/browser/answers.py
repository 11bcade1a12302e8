"""Answer a question in the browser as a learner would, from its type's sample answer.

Shared by the browser tests and `scripts/screenshots.py`."""

import re

from playwright.sync_api import Frame, Page

from learning import question_types, selectors
from learning.models import Attempt, Question
from learning.versions import current_key


def fill_answer(page: Page | Frame, question: Question, right: bool) -> None:
    """Fill in the answer form on screen (an attempt's question page) with the right answer
    (or one earning nothing)."""
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question), right=right)
    found = re.search(r"/attempts/(\d+)/", page.url)
    assert found, f"not an attempt's page: {page.url}"
    attempt = Attempt.objects.get(pk=int(found.group(1)))
    codes = selectors.attempt_option_codes(attempt, question, question.choices.all())
    for name, wanted in question_type.form_data(answer, codes).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        first = page.locator(f"[name='{name}']").first
        kind = first.evaluate("element => element.type")
        if kind in ("radio", "checkbox"):
            for value in values:
                page.locator(f"[name='{name}'][value='{value}']").check()
        elif kind.startswith("select"):
            first.select_option(values)
        else:
            first.fill(values[0])
