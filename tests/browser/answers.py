"""Answer a question in the browser as a learner would, from its type's sample answer.

Shared by the browser tests and `scripts/screenshots.py`."""

from playwright.sync_api import Page

from learning import question_types
from learning.models import Question
from learning.versions import current_key


def fill_answer(page: Page, question: Question, right: bool) -> None:
    """Fill in the answer form on screen with the right answer (or one earning nothing)."""
    question_type = question_types.get(question.type)
    answer = question_type.sample_answer(current_key(question), right=right)
    for name, wanted in question_type.form_data(answer).items():
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
