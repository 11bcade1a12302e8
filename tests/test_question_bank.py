"""Importing and exporting questions: GIFT and Aiken, the commands, all or nothing."""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import question_bank
from learning.models import Choice, Question, QuestionImport, QuestionOrigin, Topic
from learning.question_types import parse_gift
from tests.factories import (
    LessonFactory,
    QuizFactory,
    TopicFactory,
    TrueFalseQuestionFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

DATA = Path(__file__).parent / "data"
EVERY_FORM = DATA / "every-form.gift"


@pytest.fixture
def heat():
    topic = TopicFactory(slug="heat", title="Heat")
    LessonFactory(topic=topic)
    QuizFactory(topic=topic)
    return topic


def snapshot_bank() -> list[tuple]:
    return [
        (
            q.key,
            q.topic.slug,
            q.type,
            q.prompt,
            q.explanation,
            q.numeric_answer,
            q.numeric_tolerance,
            tuple(
                (c.text, c.is_correct, c.credit, c.match_text, c.numeric_value, c.feedback)
                for c in q.choices.all()
            ),
        )
        for q in Question.objects.select_related("topic")
        .prefetch_related("choices")
        .order_by("key")
    ]


class TestEveryForm:
    def test_the_file_of_every_form_imports_and_reports_what_it_skips(self, heat):
        plan = question_bank.plan_import(EVERY_FORM.read_bytes(), filename="every-form.gift")
        assert plan.errors == []
        assert [(p.line, p.message.split(" (")[0]) for p in plan.skipped] == [
            (58, "essay questions"),
            (60, "a question without answers"),
        ]
        question_bank.apply_import(plan)
        by_key = {q.key: q for q in Question.objects.prefetch_related("choices")}
        assert len(by_key) == 12
        assert {q.topic for q in by_key.values()} == {heat}
        assert {q.origin for q in by_key.values()} == {QuestionOrigin.IMPORT}
        types = {key: q.type for key, q in by_key.items()}
        assert types["gift-single"] == types["gift-missing"] == "single"
        assert types["gift-multiple"] == "multiple"
        assert types["gift-true"] == types["gift-false"] == "true_false"
        assert types["gift-short"] == "short_answer"
        assert types["gift-matching"] == "matching"
        assert by_key["gift-range"].numeric_answer == Decimal("36.65")
        assert by_key["gift-range"].numeric_tolerance == Decimal("0.55")
        graded = by_key["gift-graded"].choices.get()
        assert (graded.numeric_value, graded.numeric_tolerance, graded.credit) == (59, 2, 50)
        assert by_key["gift-missing"].prompt.startswith("The heart's muscle is called the _____")
        assert by_key["gift-escapes"].prompt == (
            "In GIFT, which of these needs a backslash: { or a letter?"
        )
        assert by_key["gift-false"].explanation == "Sweating goes on while the body is hot."

    def test_export_then_import_gives_back_the_same_questions(self, heat):
        question_bank.apply_import(question_bank.plan_import(EVERY_FORM.read_bytes()))
        before = snapshot_bank()
        exported = question_bank.export_gift()
        plan = question_bank.plan_import(exported)
        assert plan.errors == [] and plan.skipped == []
        assert {p.action for p in plan.questions} == {"unchanged"}
        Question.objects.all().delete()
        question_bank.apply_import(question_bank.plan_import(exported))
        assert snapshot_bank() == before


class TestTheCoursesOwnFiles:
    def test_they_import_unchanged_and_export_round_trips(self):
        call_command("load_content", verbosity=0)
        before = snapshot_bank()
        for path in sorted((settings.COURSE_CONTENT_DIR / "questions").glob("*.gift")):
            plan = question_bank.plan_import(path.read_bytes(), filename=path.name)
            assert plan.errors == [], path.name
            assert {p.action for p in plan.questions} == {"unchanged"}, path.name
        exported = question_bank.export_gift()
        Choice.objects.all().delete()
        Question.objects.all().delete()
        question_bank.apply_import(question_bank.plan_import(exported))
        assert snapshot_bank() == before

    def test_a_topic_exports_alone(self):
        call_command("load_content", verbosity=0)
        text = question_bank.export_gift(Topic.objects.get(slug="heat"))
        assert "$CATEGORY: heat" in text
        assert "$CATEGORY: causes" not in text
        assert text.count("::hot-") == Question.objects.filter(topic__slug="heat").count()


NASTY = {
    "unbalanced braces": "::a:: One {=x ~y\n\n::b:: Two {=x ~y}}",
    "stray closing brace": "::a:: One } {=x ~y}",
    "empty answer": "::a:: One {= ~y}",
    "no right answer": "::a:: One {~x ~y}",
    "bad number": "::a:: How many? {#lots}",
    "weight out of range": "::a:: Pick {~%150%x ~%-100%y}",
}


class TestNastyFiles:
    @pytest.mark.parametrize("name", NASTY)
    def test_a_malformed_file_imports_nothing_and_says_where(self, heat, name):
        text = "$CATEGORY: heat\n\n::good:: Fine {=a ~b}\n\n" + NASTY[name].replace(
            "$CATEGORY: heat", ""
        )
        plan = question_bank.plan_import(text)
        assert plan.errors, name
        assert all(problem.line >= 5 for problem in plan.errors), plan.errors
        with pytest.raises(question_bank.ImportRefused):
            question_bank.apply_import(plan)
        assert not Question.objects.exists()

    def test_non_utf8_bytes_are_an_error_not_a_crash(self, heat):
        raw = b"$CATEGORY: heat\n\n::a:: Caf\xe9 {=x ~y}"
        plan = question_bank.plan_import(raw)
        assert len(plan.errors) == 1
        assert "not UTF-8" in plan.errors[0].message
        assert plan.errors[0].line == 3

    def test_stray_escapes_are_kept_as_written(self, heat):
        plan = question_bank.plan_import("$CATEGORY: heat\n::a:: Odd \\q and \\, here {=x ~y}")
        assert plan.errors == []
        assert plan.questions[0].prompt == "Odd \\q and \\, here"


class TestCommands:
    def test_dry_run_changes_nothing(self, heat):
        out = StringIO()
        call_command("import_gift", str(EVERY_FORM), dry_run=True, stdout=out)
        assert "12 to create" in out.getvalue()
        assert "Dry run" in out.getvalue()
        assert not Question.objects.exists()

    def test_import_into_a_named_topic_then_export_to_a_file(self, heat, tmp_path):
        other = TopicFactory(slug="other")
        call_command("import_gift", str(EVERY_FORM), topic="other", stdout=StringIO())
        assert Question.objects.filter(topic=other).count() == 12
        target = tmp_path / "out.gift"
        call_command("export_gift", topic="other", output=target, stderr=StringIO())
        assert target.read_text(encoding="utf-8").count("\n::") == 12

    def test_a_malformed_file_is_refused_with_its_line(self, heat, tmp_path):
        bad = tmp_path / "bad.gift"
        bad.write_text("$CATEGORY: heat\n\n::ok:: Fine {=a ~b}\n\n::bad:: Broken {=a ~b\n")
        err = StringIO()
        with pytest.raises(CommandError, match="not imported"):
            call_command("import_gift", str(bad), stdout=StringIO(), stderr=err)
        assert "line 5: error" in err.getvalue()
        assert not Question.objects.exists()

    def test_an_unknown_topic_is_refused(self, heat):
        with pytest.raises(CommandError, match="No topic"):
            call_command("import_gift", str(EVERY_FORM), topic="nope", stdout=StringIO())


class TestAiken:
    def test_aiken_questions_import_as_single_choice(self, heat):
        text = (
            "Which organ makes insulin?\nA. The liver\nB. The pancreas\nC) The kidneys\n"
            "ANSWER: B\n\nWhich mineral starts a contraction?\nA. Calcium\nB. Iron\nANSWER: A\n"
        )
        plan = question_bank.plan_import(text, topic=heat, file_format="aiken")
        assert plan.errors == []
        question_bank.apply_import(plan)
        question = Question.objects.get(prompt="Which organ makes insulin?")
        assert question.type == "single"
        assert list(question.choices.values_list("text", "is_correct")) == [
            ("The liver", False),
            ("The pancreas", True),
            ("The kidneys", False),
        ]

    @pytest.mark.parametrize(
        ("text", "problem"),
        [
            ("Q?\nA. x\nB. y\n", "ANSWER"),
            ("Q?\nA. x\nB. y\nANSWER: D\n", "names no option"),
            ("Q?\nA. x\nANSWER: A\n", "two options"),
        ],
    )
    def test_broken_aiken_is_reported(self, heat, text, problem):
        plan = question_bank.plan_import(text, topic=heat, file_format="aiken")
        assert any(problem in p.message for p in plan.errors)


class TestAdminImport:
    def upload(self, client, content: bytes, name="qs.gift", **fields):
        data = {"file": SimpleUploadedFile(name, content), "file_format": "gift", **fields}
        return client.post(reverse("admin:learning_question_import"), data)

    def test_preview_then_confirm(self, teacher_client, heat):
        preview = self.upload(teacher_client, EVERY_FORM.read_bytes())
        assertContains(preview, "12 to create, 0 to update, 0 unchanged, 2 skipped")
        assertContains(preview, "essay questions")
        assert not Question.objects.exists()  # the preview is a dry run
        token = preview.context["token"]
        done = teacher_client.post(
            reverse("admin:learning_question_import"), {"confirm": "1", "token": token}
        )
        record = QuestionImport.objects.get()
        assertRedirects(done, reverse("admin:learning_questionimport_change", args=[record.pk]))
        assert Question.objects.count() == 12
        # Once imported, the message says what was done, not what would be.
        (message,) = [str(m) for m in get_messages(done.wsgi_request)]
        assert message == "Imported qs.gift: 12 created, 0 updated, 0 unchanged, 2 skipped."
        again = teacher_client.post(
            reverse("admin:learning_question_import"), {"confirm": "1", "token": token}
        )
        assert Question.objects.count() == 12  # a replayed confirm does nothing
        assert again.status_code == 302

    @pytest.mark.parametrize(
        "name, content",
        [
            ("comments.gift", b"// only comments\n// nothing else\n"),
            ("empty.xml", b'<?xml version="1.0" encoding="UTF-8"?>\n<quiz>\n</quiz>\n'),
        ],
    )
    def test_a_file_with_no_questions_says_so(self, teacher_client, heat, name, content):
        preview = teacher_client.post(
            reverse("admin:learning_question_import"),
            {"file": SimpleUploadedFile(name, content), "topic": heat.pk},
        )
        assertContains(preview, "This file holds no question to import.")
        assertNotContains(preview, "every question in the file is already in the bank")

    def test_a_file_with_errors_shows_them_and_offers_no_confirm(self, teacher_client, heat):
        preview = self.upload(teacher_client, b"$CATEGORY: heat\n\n::a:: Broken {=x ~y\n")
        assertContains(preview, "cannot be imported until these errors are fixed")
        assertContains(preview, "never closed")
        assertNotContains(preview, 'name="confirm"')

    def test_non_utf8_is_reported(self, teacher_client, heat):
        preview = self.upload(teacher_client, b"$CATEGORY: heat\n::a:: Caf\xe9 {=x ~y}")
        assertContains(preview, "not UTF-8")

    def test_no_file_is_a_form_error(self, teacher_client, heat):
        response = teacher_client.post(reverse("admin:learning_question_import"), {})
        assertContains(response, "This field is required", status_code=400)

    def test_export_downloads_gift(self, teacher_client, heat):
        question_bank.apply_import(question_bank.plan_import(EVERY_FORM.read_bytes()))
        response = teacher_client.get(
            reverse("admin:learning_question_export"), {"topic": heat.pk}
        )
        assert response["Content-Disposition"] == 'attachment; filename="questions-heat.gift"'
        assert response.content.decode().count("\n::") == 12
        bad = teacher_client.get(reverse("admin:learning_question_export"), {"topic": "x"})
        assert bad.status_code == 400

    def test_students_cannot_import(self, client, heat):
        client.force_login(UserFactory())
        response = client.get(reverse("admin:learning_question_import"))
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


def test_a_true_false_question_written_false_first_exports_what_is_true(heat):
    question = TrueFalseQuestionFactory(
        topic=heat, key="false-first", choices=[("False", True), ("True", False)]
    )
    exported = question_bank.export_gift(heat)
    assert "::false-first::" in exported
    (read,) = [q for q in parse_gift(exported).questions if q.title == "false-first"]
    assert "FALSE" in exported
    assert [(c.text, c.is_correct) for c in read.choices] == [("True", False), ("False", True)]
    assert question.choices.get(is_correct=True).text == "False"
