"""A teacher opens a question imported from a Moodle file and presses Save without touching
anything: it saves, and what learners are asked does not change. Before drafts and
Moodle's credits, imported questions could not be saved unchanged."""

from pathlib import Path

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, expect

from learning import question_bank
from learning.models import Question
from learning.versions import snapshot_question
from tests.factories import PASSWORD, TopicFactory

pytestmark = pytest.mark.django_db(transaction=True)

DATA = Path(__file__).resolve().parent.parent / "data"


def import_file(path: Path, file_format: str) -> list[Question]:
    plan = question_bank.plan_import(
        path.read_bytes(), filename=path.name, file_format=file_format
    )
    assert not plan.errors, plan.errors
    question_bank.apply_import(plan)
    return list(Question.objects.prefetch_related("choices").order_by("id"))


@pytest.mark.parametrize(
    ("file_name", "file_format"),
    [("moodle-xml/every-type.xml", "moodle-xml"), ("moodle-layout.gift", "gift")],
)
def test_each_imported_question_saves_unchanged(
    browser: Browser, live_server, teacher, file_name, file_format
):
    TopicFactory(slug="heat", title="Heat")
    questions = import_file(DATA / file_name, file_format)
    one_per_type = {question.type: question for question in questions}
    assert len(one_per_type) >= 5, sorted(one_per_type)
    page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    page.goto(f"{live_server.url}/admin/login/")
    page.get_by_label("Username").fill(teacher.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    for question in one_per_type.values():
        before = snapshot_question(question)
        page.goto(live_server.url + reverse("admin:learning_question_change", args=[question.pk]))
        page.get_by_role("button", name="Save", exact=True).click()
        expect(page.locator(".messagelist .success")).to_be_visible()
        assert page.locator(".errornote").count() == 0
        saved = Question.objects.prefetch_related("choices").get(pk=question.pk)
        assert snapshot_question(saved) == before, question.type
