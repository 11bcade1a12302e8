"""Importing safely: a question's identity is its key within its topic, categories name
topics (new ones as drafts), the dry run shows what an update changes, and every import is
recorded and can be undone while no learner has answered since."""

import random
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains, assertRedirects

from learning import question_bank, services
from learning.management.commands.import_questions import guess_format
from learning.models import (
    Choice,
    ImportState,
    ImportVia,
    Question,
    QuestionImport,
    QuestionOrigin,
    Topic,
)
from learning.teachers import sync_teachers_group
from learning.versions import snapshot_question
from tests.factories import (
    ChoiceFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    ResponseFactory,
    TopicFactory,
    UserFactory,
)
from tests.test_admin import question_form
from tests.test_content_edits import change_form

pytestmark = pytest.mark.django_db

MOODLE_LAYOUT = Path(__file__).parent / "data" / "moodle-layout.gift"


@pytest.fixture
def heat() -> Topic:
    return TopicFactory.create(slug="heat", title="Heat")


@pytest.fixture
def causes() -> Topic:
    return TopicFactory.create(slug="causes", title="Causes")


def run(text: str, *, topic: Topic | None = None, user=None, filename: str = "qs.gift"):
    plan = question_bank.plan_import(text, filename=filename, topic=topic)
    assert plan.errors == [], plan.errors
    return plan, question_bank.apply_import(plan, user=user)


def state_of(question: Question) -> tuple:
    question.refresh_from_db()
    return (
        question.topic_id,
        question.key,
        question.type,
        question.prompt,
        question.explanation,
        question.is_published,
        question.updated_at,
        tuple(
            (c.pk, c.text, c.is_correct, c.credit, c.feedback, c.order)
            for c in question.choices.order_by("order", "id")
        ),
    )


class TestIdentity:
    def test_a_key_is_unique_within_its_topic_only(self, heat, causes):
        QuestionFactory(topic=heat, key="q1")
        QuestionFactory(topic=causes, key="q1")
        with pytest.raises(IntegrityError), transaction.atomic():
            QuestionFactory(topic=heat, key="q1")

    @pytest.mark.parametrize("how", ["category", "chosen topic"])
    def test_importing_q1_into_heat_leaves_another_topics_q1_alone(self, heat, causes, how):
        theirs = QuestionFactory(
            topic=causes, key="q1", prompt="A teacher's own question?", explanation="Theirs."
        )
        before = state_of(theirs)
        text = "::Q1:: How hot is too hot? {#40:1}"
        if how == "category":
            run("$CATEGORY: $course$/top/Heat\n" + text)
        else:
            run(text, topic=heat)
        assert state_of(theirs) == before
        new = Question.objects.get(topic=heat)
        assert (new.key, new.type, new.prompt) == ("q1", "numeric", "How hot is too hot?")
        assert Question.objects.count() == 2

    def test_a_dry_run_never_offers_to_change_another_topics_question(self, heat, causes):
        QuestionFactory(topic=causes, key="q1")
        plan = question_bank.plan_import("::Q1:: Name it {=a =b}", topic=heat)
        assert [(q.action, q.topic) for q in plan.questions] == [("create", heat)]

    def test_repeated_names_get_suffixes_that_are_stable(self, heat):
        text = (
            "::q1:: One {=a ~b}\n\n::q1:: Two {=a ~b}\n\n::q1-2:: Three {=a ~b}\n\n"
            "::q1:: Four {=a ~b}"
        )
        first, _ = run(text, topic=heat)
        assert [q.key for q in first.questions] == ["q1", "q1-3", "q1-2", "q1-4"]
        again = question_bank.plan_import(text, topic=heat)
        assert [q.key for q in again.questions] == ["q1", "q1-3", "q1-2", "q1-4"]
        assert {q.action for q in again.questions} == {"unchanged"}

    def test_a_name_repeated_many_times_gets_a_key_each(self, heat):
        text = "\n\n".join(["::q1:: Same {=a ~b}"] * 300 + ["::q1-7:: Other {=a ~b}"])
        keys = [q.key for q in question_bank.plan_import(text, topic=heat).questions]
        assert len(set(keys)) == 301
        assert keys[:3] == ["q1", "q1-2", "q1-3"] and keys[6] == "q1-8" and keys[-1] == "q1-7"

    def test_an_untitled_question_is_keyed_by_its_text_and_does_not_duplicate(self, heat):
        text = "Which mineral starts a muscle contraction? {=Calcium ~Iron}\n"
        plan, _ = run(text + "\n" + text, topic=heat)
        assert [q.key for q in plan.questions] == [
            "which-mineral-starts-a-muscle",
            "which-mineral-starts-a-muscle-2",
        ]
        run(text + "\n" + text, topic=heat)
        assert Question.objects.count() == 2

    def test_a_title_with_nothing_to_slug_still_gets_a_stable_key(self, heat):
        plan = question_bank.plan_import("::???:: Odd {=a ~b}", topic=heat)
        again = question_bank.plan_import("::???:: Odd {=a ~b}", topic=heat)
        assert plan.questions[0].key.startswith("q-")
        assert plan.questions[0].key == again.questions[0].key

    def test_the_course_files_still_load_by_their_keys(self):
        call_command("load_content", verbosity=0)
        count = Question.objects.count()
        call_command("load_content", verbosity=0)
        assert Question.objects.count() == count
        assert not Question.objects.filter(is_published=False, origin="fixtures").exists()

    def test_a_course_key_imported_into_another_topic_is_left_to_both(self):
        call_command("load_content", verbosity=0)
        course = Question.objects.get(key="hot-humid-hike")
        before = state_of(course)
        causes = Topic.objects.get(slug="causes")
        run("::hot-humid-hike:: A teacher's own question? {=a ~b}", topic=causes)
        call_command("load_content", verbosity=0)
        assert state_of(course) == before
        theirs = Question.objects.get(topic=causes, key="hot-humid-hike")
        assert (theirs.prompt, theirs.origin) == ("A teacher's own question?", "import")

    def test_the_same_key_in_two_topics_exports_and_imports_back_unchanged(self, heat, causes):
        run("::Q1:: Hot? {=yes ~no}", topic=heat)
        run("::Q1:: Why? {=this ~that}", topic=causes)
        plan = question_bank.plan_import(question_bank.export_gift())
        assert [(q.topic, q.key, q.action) for q in plan.questions] == [
            (heat, "q1", "unchanged"),
            (causes, "q1", "unchanged"),
        ]


class TestCategories:
    def test_a_category_names_a_topic_by_title_whatever_its_case(self, heat):
        plan = question_bank.plan_import("$CATEGORY: $course$/top/HEAT\n::a:: One {=x ~y}")
        assert plan.errors == [] and plan.new_topics == []
        assert plan.questions[0].topic == heat

    def test_a_category_that_names_no_topic_becomes_a_new_draft_topic(self, heat):
        plan = question_bank.plan_import(
            "$CATEGORY: $course$/top/Night cramps\n::a:: One {=x ~y}\n\n::b:: Two {=x ~y}"
        )
        assert plan.errors == []
        assert [(t.slug, t.title) for t in plan.new_topics] == [("night-cramps", "Night cramps")]
        assert "1 new topic(s)" in plan.summary()
        record = question_bank.apply_import(plan)
        topic = Topic.objects.get(slug="night-cramps")
        assert topic.questions.count() == 2
        assert topic.is_published is False
        assert record.topics_created == [
            {"id": topic.pk, "slug": "night-cramps", "title": "Night cramps"}
        ]

    def test_a_chosen_topic_takes_every_question(self, heat):
        plan = question_bank.plan_import(
            "$CATEGORY: Elsewhere\n::a:: One {=x ~y}\n$CATEGORY: Other\n::b:: Two {=x ~y}",
            topic=heat,
        )
        assert plan.new_topics == []
        assert {q.topic for q in plan.questions} == {heat}

    def test_no_category_and_no_topic_is_one_problem_for_the_file(self, heat):
        text = "\n\n".join(f"::q{n}:: Question {n}? {{=x ~y}}" for n in range(43))
        plan = question_bank.plan_import(text)
        assert len(plan.errors) == 1
        assert "43 question(s)" in plan.errors[0].message
        assert "choose a topic" in plan.errors[0].message
        assert question_bank.plan_import(text, topic=heat).errors == []

    def test_a_file_in_the_layout_of_moodles_examples_imports(self, heat):
        text = MOODLE_LAYOUT.read_text(encoding="utf-8")
        plan, record = run(text, filename="examples.gift")
        assert [t.title for t in plan.new_topics] == ["GIFT examples"]
        assert plan.count("create") == 29
        assert [p.message.split(" (")[0] for p in plan.skipped] == ["essay questions"]
        keys = {q.key for q in Question.objects.all()}
        assert {"cramp-site", "cramp-site-2", "insulin-origin"} <= keys
        assert record.created_count == 29 and record.skipped_count == 1
        again = question_bank.plan_import(text)
        assert {q.action for q in again.questions} == {"unchanged"}
        assert again.new_topics == []


class TestDryRunDiff:
    def test_an_update_lists_what_changes(self, heat):
        run("$CATEGORY: heat\n::hot:: How hot? {=Warm#Yes ~Cold ~Cool}")
        plan = question_bank.plan_import(
            "$CATEGORY: heat\n::hot:: How hot is it? {~Warm =Hot ~Cold ~Tepid}"
        )
        (planned,) = plan.questions
        assert planned.action == "update"
        changes = [str(change) for change in planned.changes]
        assert "prompt: How hot? -> How hot is it?" in changes
        assert "answer 1 (Warm) correct: yes -> no" in changes
        assert "answer 1 (Warm) feedback: Yes -> (empty)" in changes
        assert "answer 2 (Cold) text: Cold -> Hot" in changes
        assert "answer 4 added: Tepid" in changes
        shrink = question_bank.plan_import("$CATEGORY: heat\n::hot:: How hot? {=Warm#Yes ~Cold}")
        assert [str(c) for c in shrink.questions[0].changes] == ["answer 3 removed: Cool"]
        retitle = question_bank.plan_import(
            "$CATEGORY: heat\n::hot:: How hot? {=Hot#Yes ~Cold ~Cool}"
        )
        assert [str(c) for c in retitle.questions[0].changes] == ["answer 1: Warm -> Hot"]

    def test_a_long_value_is_shortened(self, heat):
        run("$CATEGORY: heat\n::hot:: Short? {=a ~b}")
        plan = question_bank.plan_import(f"$CATEGORY: heat\n::hot:: {'Long ' * 40}? {{=a ~b}}")
        (change,) = plan.questions[0].changes
        assert len(change.new) <= 60 and change.new.endswith("…")

    def test_the_command_prints_the_diff_and_the_new_topics(self, heat, tmp_path):
        run("$CATEGORY: heat\n::hot:: How hot? {=Warm ~Cold}")
        path = tmp_path / "new.gift"
        path.write_text(
            "$CATEGORY: heat\n::hot:: How warm? {=Warm ~Cold}\n\n"
            "$CATEGORY: Night cramps\n::n:: When? {=Night ~Day}\n"
        )
        out = StringIO()
        call_command("import_questions", str(path), dry_run=True, stdout=out)
        assert "prompt: How hot? -> How warm?" in out.getvalue()
        assert "new topic (a draft): Night cramps (night-cramps)" in out.getvalue()
        assert "Dry run" in out.getvalue()
        assert not Topic.objects.filter(slug="night-cramps").exists()
        assert QuestionImport.objects.count() == 1  # the first import only


class TestDrafts:
    def test_new_questions_are_drafts_and_updated_ones_keep_their_state(self, heat):
        run("$CATEGORY: heat\n::a:: One {=x ~y}\n\n::b:: Two {=x ~y}")
        assert set(Question.objects.values_list("is_published", flat=True)) == {False}
        Question.objects.filter(key="a").update(is_published=True)
        run("$CATEGORY: heat\n::a:: One again {=x ~y}\n\n::b:: Two again {=x ~y}")
        assert dict(Question.objects.values_list("key", "is_published")) == {
            "a": True,
            "b": False,
        }


class TestRecordAndUndo:
    def test_an_import_is_recorded_with_its_counts_and_history(self, heat, teacher):
        run("$CATEGORY: heat\n::a:: One {=x ~y}", user=teacher)
        _, record = run(
            "$CATEGORY: heat\n::a:: One, changed {=x ~y}\n\n::b:: Two {=x ~y}\n\nEssay {}",
            user=teacher,
            filename="second.gift",
        )
        assert (record.created_count, record.updated_count, record.skipped_count) == (1, 1, 1)
        assert (record.user, record.via, record.state) == (teacher, "command", "imported")
        assert record.text == ""
        entries = LogEntry.objects.filter(change_message="Imported from second.gift")
        assert entries.count() == 2

    def test_undo_deletes_what_it_created_and_restores_what_it_updated(self, heat, teacher):
        run("$CATEGORY: heat\n::a:: One {=x#good ~y ~z}", user=teacher)
        question = Question.objects.get(key="a")
        question.is_published = True
        question.save()
        before = state_of(question)
        _, record = run(
            "$CATEGORY: heat\n::a:: One, reworded {~x =w}\n\n"
            "$CATEGORY: Night cramps\n::n:: When? {=Night ~Day}",
            user=teacher,
        )
        assert state_of(question) != before
        report = question_bank.undo_import(record_id=record.pk, user=teacher)
        assert state_of(question) == before  # same fields, same choice ids, same updated_at
        assert not Question.objects.filter(key="n").exists()
        assert not Topic.objects.filter(slug="night-cramps").exists()
        assert (report.deleted, report.restored, report.topics_deleted) == (
            1,
            1,
            ["Night cramps"],
        )
        record.refresh_from_db()
        assert record.state == ImportState.UNDONE and record.undone_by == teacher
        assert LogEntry.objects.filter(object_id=str(question.pk)).count() == 3

    def test_undo_twice_is_refused(self, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        question_bank.undo_import(record_id=record.pk, user=None)
        with pytest.raises(question_bank.UndoRefused, match="already undone"):
            question_bank.undo_import(record_id=record.pk, user=None)

    def test_undo_is_refused_once_a_learner_has_answered(self, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        ResponseFactory(question=Question.objects.get(key="a"))
        with pytest.raises(question_bank.UndoRefused, match="1 learner"):
            question_bank.undo_import(record_id=record.pk, user=None)
        assert Question.objects.filter(key="a").exists()

    def test_undo_is_refused_while_an_attempt_that_drew_them_is_under_way(self, heat, learner):
        # Published and drawn into a learner's quiz, not answered yet: deleting them would
        # leave the attempt with questions it can never answer, so it could never finish.
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}\n\n::b:: Two {T}")
        Question.objects.filter(key__in=["a", "b"]).update(is_published=True)
        quiz = QuizFactory(topic=heat, question_count=2)
        attempt = services.start_attempt(learner=learner, quiz=quiz, rng=random.Random(1))
        assert len(attempt.question_ids) == 2
        with pytest.raises(question_bank.UndoRefused, match=r"1 learner.*under way"):
            question_bank.undo_import(record_id=record.pk, user=None)
        assert Question.objects.filter(key__in=["a", "b"]).count() == 2

    def test_answers_from_before_an_update_do_not_block_its_undo(self, heat):
        run("$CATEGORY: heat\n::a:: One {=x ~y}")
        ResponseFactory(question=Question.objects.get(key="a"))
        _, record = run("$CATEGORY: heat\n::a:: One, reworded {=x ~y}")
        question_bank.undo_import(record_id=record.pk, user=None)
        assert Question.objects.get(key="a").prompt == "One"

    def test_undo_is_refused_when_a_question_was_edited_since(self, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        question = Question.objects.get(key="a")
        question.prompt = "A teacher's better wording"
        question.save()
        with pytest.raises(question_bank.UndoRefused, match="edited or deleted"):
            question_bank.undo_import(record_id=record.pk, user=None)
        assert Question.objects.get(key="a").prompt == "A teacher's better wording"

    def test_a_created_topic_in_use_is_kept(self, heat):
        _, record = run("$CATEGORY: Night cramps\n::n:: When? {=Night ~Day}")
        topic = Topic.objects.get(slug="night-cramps")
        QuestionFactory(topic=topic)  # a teacher added a question of their own
        report = question_bank.undo_import(record_id=record.pk, user=None)
        assert report.topics_kept == ["Night cramps"]
        assert Topic.objects.filter(pk=topic.pk).exists()


class TestCommands:
    def test_import_questions_records_the_import(self, heat, tmp_path):
        path = tmp_path / "qs.gift"
        path.write_text("$CATEGORY: heat\n::a:: One {=x ~y}\n")
        out = StringIO()
        call_command("import_questions", str(path), stdout=out)
        record = QuestionImport.objects.get()
        assert (record.user, record.via, record.filename) == (None, ImportVia.COMMAND, "qs.gift")
        assert record.who == "Command line"
        assert f"import record {record.pk}" in out.getvalue()
        assert Question.objects.get().origin == QuestionOrigin.IMPORT

    def test_the_format_is_guessed_from_the_file(self, tmp_path, heat):
        aiken = tmp_path / "qs.txt"
        aiken.write_text("Which organ makes insulin?\nA. Liver\nB. Pancreas\nANSWER: B\n")
        assert guess_format(aiken, aiken.read_bytes()) == "aiken"
        assert guess_format(Path("bank.xml"), b"<quiz/>") == "moodle-xml"
        assert guess_format(Path("bank.txt"), b"::a:: One {=x ~y}") == "gift"
        call_command("import_questions", str(aiken), topic="heat", stdout=StringIO())
        assert Question.objects.get().type == "single"

    def test_an_unknown_format_is_a_command_error(self, tmp_path, heat):
        path = tmp_path / "qs.gift"
        path.write_text("::a:: One {=x ~y}")
        with pytest.raises(CommandError, match="invalid choice"):
            call_command("import_questions", str(path), "--format", "docx", stdout=StringIO())
        with pytest.raises(CommandError, match="invalid choice"):
            call_command("export_questions", "--format", "docx", stdout=StringIO())

    def test_a_file_that_is_not_text_is_a_command_error(self, tmp_path, heat):
        path = tmp_path / "qs.gift"
        path.write_bytes(b"\xff\xfe\x00binary")
        with pytest.raises(CommandError, match="not imported"):
            call_command("import_questions", str(path), stdout=StringIO(), stderr=StringIO())

    def test_export_questions_and_the_aliases(self, heat, tmp_path):
        run("$CATEGORY: heat\n::a:: One {=x ~y}")
        target = tmp_path / "out.gift"
        call_command("export_questions", format="gift", topic="heat", output=target)
        assert "::a::" in target.read_text(encoding="utf-8")
        out = StringIO()
        call_command("export_gift", topic="heat", stdout=out)
        assert "::a::" in out.getvalue()
        call_command("import_gift", str(target), stdout=StringIO())
        assert Question.objects.count() == 1
        with pytest.raises(CommandError, match="Cannot write"):
            call_command("export_questions", output=tmp_path / "missing" / "out.gift")


class TestAdmin:
    def upload(self, client, content: bytes, name="qs.gift", **fields):
        data = {"file": SimpleUploadedFile(name, content), "file_format": "gift", **fields}
        return client.post(reverse("admin:learning_question_import"), data)

    def test_the_preview_shows_the_diff_and_new_topics_and_keeps_the_file_off_the_session(
        self, teacher_client, heat
    ):
        run("$CATEGORY: heat\n::hot:: How hot? {=Warm ~Cold}")
        preview = self.upload(
            teacher_client,
            b"$CATEGORY: heat\n::hot:: How warm? {=Warm ~Cold}\n\n"
            b"$CATEGORY: Night cramps\n::n:: When? {=Night ~Day}\n",
        )
        assertContains(preview, "prompt: How hot? -&gt; How warm?")
        assertContains(preview, "New topics, created as drafts")
        assertContains(preview, "Night cramps")
        assert not any("How warm" in str(v) for v in teacher_client.session.values())
        pending = QuestionImport.objects.get(state=ImportState.PREVIEWED)
        assert "How warm" in pending.text
        done = teacher_client.post(
            reverse("admin:learning_question_import"),
            {"confirm": "1", "token": preview.context["token"]},
        )
        assertRedirects(done, reverse("admin:learning_questionimport_change", args=[pending.pk]))
        pending.refresh_from_db()
        assert (pending.state, pending.text, pending.updated_count) == ("imported", "", 1)

    def test_a_file_with_a_nul_character_is_refused_with_its_line(self, teacher_client, heat):
        # PostgreSQL cannot store a NUL in text: refused as not a text file, never a 500.
        preview = self.upload(
            teacher_client, b"$CATEGORY: heat\n::a:: One {=x ~y}\n\n::b:: T\x00wo {T}"
        )
        assert preview.status_code == 200
        assertContains(preview, "NUL character")
        assert preview.context["plan"].errors[0].line == 4
        assert not preview.context["token"]
        assert not QuestionImport.objects.exists()
        assert not Question.objects.exists()

    def test_someone_elses_preview_cannot_be_confirmed(self, client, teacher_client, heat):
        preview = self.upload(teacher_client, b"$CATEGORY: heat\n::a:: One {=x ~y}")
        other = UserFactory(is_staff=True)
        other.groups.add(sync_teachers_group(Group, Permission))
        client.force_login(other)
        response = client.post(
            reverse("admin:learning_question_import"),
            {"confirm": "1", "token": preview.context["token"]},
        )
        assertRedirects(response, reverse("admin:learning_question_import"))
        assert not Question.objects.exists()

    def test_the_history_shows_imported_from_the_file(self, teacher_client, heat, teacher):
        run("$CATEGORY: heat\n::a:: One {=x ~y}", user=teacher, filename="heat.gift")
        question = Question.objects.get()
        history = teacher_client.get(
            reverse("admin:learning_question_history", args=[question.pk])
        )
        assertContains(history, "Imported from heat.gift")

    def test_the_import_list_and_record(
        self, teacher_client, heat, teacher, django_assert_max_num_queries
    ):
        for number in range(5):
            run(f"$CATEGORY: heat\n::a{number}:: One {{=x ~y}}", user=teacher)
        # session, user, count, count all, the page of records with their users
        with django_assert_max_num_queries(8):
            listing = teacher_client.get(reverse("admin:learning_questionimport_changelist"))
        assertContains(listing, "qs.gift", count=5)
        record = QuestionImport.objects.first()
        page = teacher_client.get(
            reverse("admin:learning_questionimport_change", args=[record.pk])
        )
        assertContains(page, "Undo this import")
        assertContains(
            page, reverse("admin:learning_question_change", args=[record.questions[0]["id"]])
        )
        assert teacher_client.get(reverse("admin:learning_questionimport_add")).status_code == 403

    def test_undo_from_the_admin_confirms_then_undoes(self, teacher_client, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}", user=UserFactory())
        url = reverse("admin:learning_questionimport_undo", args=[record.pk])
        confirm = teacher_client.get(url)
        assertContains(confirm, "Yes, undo this import")
        assert Question.objects.exists()  # a GET changes nothing
        done = teacher_client.post(url)
        assertRedirects(done, reverse("admin:learning_questionimport_change", args=[record.pk]))
        assert not Question.objects.exists()
        again = teacher_client.post(url)
        assertContains(again, "already undone", status_code=409)
        page = teacher_client.get(
            reverse("admin:learning_questionimport_change", args=[record.pk])
        )
        assertNotContains(page, "Undo this import")

    def test_saving_an_imported_question_unchanged_does_not_block_its_undo(
        self, teacher_client, heat
    ):
        # A teacher opens an imported question and presses Save without changing it:
        # nothing was edited, so nothing is lost by undoing the import.
        _, record = run("$CATEGORY: heat\n::a:: One {=x#yes ~%50%y#half ~z}")
        question = Question.objects.get(key="a")
        url = reverse("admin:learning_question_change", args=[question.pk])
        saved = teacher_client.post(url, change_form(question))
        assert saved.status_code == 302
        assert question_bank.undo_refusal(QuestionImport.objects.get(pk=record.pk)) == ""
        question_bank.undo_import(record_id=record.pk, user=None)
        assert not Question.objects.exists()

    def test_a_real_edit_in_the_admin_still_blocks_the_undo(self, teacher_client, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        question = Question.objects.get(key="a")
        url = reverse("admin:learning_question_change", args=[question.pk])
        teacher_client.post(url, change_form(question, prompt="One, better worded"))
        with pytest.raises(question_bank.UndoRefused, match="edited or deleted"):
            question_bank.undo_import(record_id=record.pk, user=None)

    def test_undo_refused_after_an_answer_says_why(self, teacher_client, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        ResponseFactory(question=Question.objects.get())
        url = reverse("admin:learning_questionimport_undo", args=[record.pk])
        assertContains(teacher_client.get(url), "have answered")
        assertContains(teacher_client.post(url), "have answered", status_code=409)
        assert Question.objects.exists()

    def test_undo_needs_the_import_permissions(self, client, heat):
        _, record = run("$CATEGORY: heat\n::a:: One {=x ~y}")
        viewer = UserFactory(is_staff=True)
        viewer.user_permissions.add(Permission.objects.get(codename="view_questionimport"))
        client.force_login(viewer)
        url = reverse("admin:learning_questionimport_undo", args=[record.pk])
        assert client.get(url).status_code == 403
        assert client.post(url).status_code == 403
        assert Question.objects.exists()

    @pytest.mark.parametrize("object_id", ["99999", "0"])
    def test_undo_of_no_such_import_is_a_404(self, teacher_client, object_id):
        url = f"{reverse('admin:learning_questionimport_changelist')}{object_id}/undo/"
        assert teacher_client.post(url).status_code == 404

    def test_a_preview_is_not_an_import_to_undo(self, teacher_client, heat):
        self.upload(teacher_client, b"$CATEGORY: heat\n::a:: One {=x ~y}")
        pending = QuestionImport.objects.get()
        url = reverse("admin:learning_questionimport_undo", args=[pending.pk])
        assert teacher_client.post(url).status_code == 404


def test_a_choice_removed_by_an_import_comes_back_with_its_id(heat):
    question = QuestionFactory(topic=heat, key="a", prompt="One")
    ids = list(question.choices.values_list("pk", flat=True))
    Choice.objects.filter(pk=ids[1]).update(credit=Decimal(25))  # the import writes 0
    _, record = run("$CATEGORY: heat\n::a:: One {=Right ~Wrong one}")
    assert Choice.objects.filter(question=question).count() == 2
    question_bank.undo_import(record_id=record.pk, user=None)
    assert list(question.choices.values_list("pk", flat=True)) == ids
    assert question.choices.get(pk=ids[2]).text == "Wrong two"
    assert Decimal(question.choices.get(pk=ids[1]).credit) == Decimal(25)


def test_the_admin_form_refuses_a_key_its_topic_already_has(teacher_client, heat, causes):
    QuestionFactory(topic=heat, key="q1")
    choices = [("Sweating", True), ("Shivering", False)]
    url = reverse("admin:learning_question_add")
    clash = teacher_client.post(url, question_form(heat, choices=choices, key="q1"))
    assertContains(clash, "already exists")
    assert Question.objects.filter(key="q1").count() == 1
    elsewhere = teacher_client.post(url, question_form(causes, choices=choices, key="q1"))
    assert elsewhere.status_code == 302
    assert Question.objects.filter(key="q1").count() == 2


@pytest.mark.parametrize("file_format", sorted(question_bank.EXPORT_FORMATS))
def test_an_update_of_feedback_and_credits_shows_in_the_diff_and_undoes_whole(
    heat, teacher, file_format
):
    """Through every format: the file's numeric feedback and credits are what the dry run
    lists, what the import writes, and what its undo takes back."""
    numeric = NumericQuestionFactory.create(
        topic=heat, key="how-hot", numeric_feedback="Spot on.", explanation="Why."
    )
    ChoiceFactory.create(
        question=numeric, text="", numeric_value=Decimal("16"), numeric_tolerance=Decimal("0.5"),
        credit=Decimal("50"), feedback="Close.", order=0,
    )  # fmt: skip
    single = QuestionFactory.create(topic=heat, key="which", choices=[])
    for order, (text, right, credit) in enumerate([("Sun", True, 100), ("Lamp", False, 50)]):
        ChoiceFactory.create(
            question=single, text=text, is_correct=right, credit=Decimal(credit), order=order
        )
    exported = question_bank.EXPORT_FORMATS[file_format].write(heat)
    Question.objects.filter(pk=numeric.pk).update(numeric_feedback="Old feedback.")
    Choice.objects.filter(question=numeric).update(credit=Decimal("25"))
    Choice.objects.filter(question=single, text="Lamp").update(credit=Decimal("0"))
    before = {q.pk: state_with_key(q) for q in (numeric, single)}

    plan = question_bank.plan_import(exported, filename="x", file_format=file_format)
    assert plan.errors == []
    changes = {
        planned.key: [str(change) for change in planned.changes] for planned in plan.questions
    }
    assert changes == {
        "how-hot": [
            "numeric feedback: Old feedback. -> Spot on.",
            "answer 1 ((empty)) credit: 25 -> 50",
        ],
        "which": ["answer 2 (Lamp) credit: 0 -> 50"],
    }
    record = question_bank.apply_import(plan, user=teacher)
    assert Question.objects.get(pk=numeric.pk).numeric_feedback == "Spot on."
    question_bank.undo_import(record_id=record.pk, user=teacher)
    assert {q.pk: state_with_key(q) for q in (numeric, single)} == before


def state_with_key(question: Question) -> tuple:
    """The question as learners are graded and shown it (every field of its version), and
    when it last changed."""
    fresh = (
        Question.objects.select_related("topic").prefetch_related("choices").get(pk=question.pk)
    )
    return snapshot_question(fresh), fresh.updated_at


def test_a_question_with_more_answers_than_a_learner_could_read_is_refused(heat):
    options = "\n".join(f"~wrong {number}" for number in range(question_bank.MAX_ANSWERS))
    text = f"$CATEGORY: heat\n::many:: Which one? {{\n=right\n{options}\n}}\n::fine:: Sweat? {{T}}"
    plan = question_bank.plan_import(text, filename="many.gift")
    assert [str(problem) for problem in plan.errors] == [
        f"line 2: {question_bank.MAX_ANSWERS + 1} answers; a question may have at most "
        f"{question_bank.MAX_ANSWERS}"
    ]
    with pytest.raises(question_bank.ImportRefused):
        question_bank.apply_import(plan)
    assert not Question.objects.exists()
