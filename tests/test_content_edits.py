"""load_content (run by `make run` every time) never overwrites what a teacher edited in
the admin: a question, topic or lesson changed since the course files last wrote it is
kept and named in the command's report; the rest still follow the files. And a question
saved without an explanation is kept, with a gentle warning."""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import question_bank
from learning.models import Choice, Lesson, Question, QuestionOrigin, Topic
from tests.factories import LessonFactory, QuestionFactory, QuizFactory, TopicFactory

pytestmark = pytest.mark.django_db

FIXTURES = settings.COURSE_CONTENT_DIR
HEAT_GIFT = Path("questions") / "08-heat.gift"
HEAT_LESSON = Path("lessons") / "08-heat.md"


def load(directory: Path = FIXTURES) -> str:
    out = StringIO()
    call_command("load_content", dir=directory, stdout=out)
    return out.getvalue()


@pytest.fixture
def course():
    load()


@pytest.fixture
def files(tmp_path) -> Path:
    """A copy of the course files to change."""
    copy = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, copy)
    return copy


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def as_field(value: object) -> str:
    return "" if value is None else str(value)


def change_form(question: Question, **fields: str | None) -> dict[str, str]:
    """The admin change form of `question` as it stands, with `fields` changed."""
    choices = list(question.choices.order_by("order", "id"))
    data = {
        "topic": str(question.topic_id),
        "type": question.type,
        "prompt": question.prompt,
        "explanation": question.explanation,
        "lesson_anchor": question.lesson_anchor,
        "numeric_answer": as_field(question.numeric_answer),
        "numeric_tolerance": str(question.numeric_tolerance),
        "key": question.key,
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": str(len(choices)),
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    if question.is_published:
        data["is_published"] = "on"
    for index, choice in enumerate(choices):
        prefix = f"choices-{index}-"
        data |= {
            f"{prefix}id": str(choice.pk),
            f"{prefix}question": str(question.pk),
            f"{prefix}order": str(choice.order),
            f"{prefix}text": choice.text,
            f"{prefix}credit": str(choice.credit),
            f"{prefix}match_text": choice.match_text,
            f"{prefix}numeric_value": as_field(choice.numeric_value),
            f"{prefix}numeric_tolerance": str(choice.numeric_tolerance),
            f"{prefix}feedback": choice.feedback,
        }
        if choice.is_correct:
            data[f"{prefix}is_correct"] = "on"
    data |= {name: value for name, value in fields.items() if value is not None}
    for name in [name for name, value in fields.items() if value is None]:
        data.pop(name)  # an unticked checkbox is not sent
    return data


def edit_in_admin(client, question: Question, **fields) -> None:
    url = reverse("admin:learning_question_change", args=[question.pk])
    response = client.post(url, change_form(question, **fields))
    assert response.status_code == 302, response.content.decode()[:3000]


class TestQuestionsEditedInTheAdmin:
    def test_an_edited_course_question_survives_load_content(self, course, teacher_client):
        question = Question.objects.get(key="hot-humid-hike")
        edit_in_admin(
            teacher_client,
            question,
            prompt="Why does muggy weather make overheating more likely?",
            **{"choices-1-text": "Muggy air stops the skin from sweating at all"},
        )

        output = load()

        question.refresh_from_db()
        assert question.prompt == "Why does muggy weather make overheating more likely?"
        assert question.choices.filter(text__startswith="Muggy air").exists()
        assert "kept 1 edited in the admin" in output
        assert "question hot-humid-hike" in output
        assert "updated nothing" in output

    def test_the_edit_survives_a_change_to_the_files_which_still_reach_the_others(
        self, course, teacher_client, files
    ):
        edited = Question.objects.get(key="hot-humid-hike")
        edit_in_admin(teacher_client, edited, explanation="Muggy air cools the body less.")
        replace_in(
            files / HEAT_GIFT,
            "Ella hikes the same trail",
            "Ella walks the same trail",
        )
        replace_in(
            files / HEAT_GIFT,
            "What does it mean to say that the body is overheating?",
            "What does it mean when the body overheats?",
        )

        output = load(files)

        edited.refresh_from_db()
        assert edited.explanation == "Muggy air cools the body less."
        assert edited.prompt.startswith("Ella hikes")
        untouched = Question.objects.get(key="hot-overheating-meaning")
        assert untouched.prompt == "What does it mean when the body overheats?"
        assert "updated 1 questions" in output
        assert "question hot-humid-hike" in output

    def test_a_question_only_unpublished_in_the_admin_stays_unpublished_and_follows_the_files(
        self, course, teacher_client, files
    ):
        question = Question.objects.get(key="hot-humid-hike")
        teacher_client.post(
            reverse("admin:learning_question_changelist"),
            {"action": "unpublish", "_selected_action": [question.pk]},
        )
        replace_in(files / HEAT_GIFT, "Ella hikes", "Ella walks")

        output = load(files)
        load(files)

        question.refresh_from_db()
        assert question.is_published is False
        assert question.prompt.startswith("Ella walks")
        assert "kept" not in output

    def test_a_removed_question_a_teacher_edited_is_not_unpublished(
        self, course, teacher_client, files
    ):
        question = Question.objects.get(key="hot-humid-hike")
        edit_in_admin(teacher_client, question, explanation="Our own words.")
        text = (files / HEAT_GIFT).read_text(encoding="utf-8")
        blocks = [block for block in text.split("\n\n") if "::hot-humid-hike::" not in block]
        (files / HEAT_GIFT).write_text("\n\n".join(blocks), encoding="utf-8")

        output = load(files)

        question.refresh_from_db()
        assert question.is_published is True
        assert "question hot-humid-hike (no longer in the files)" in output

    def test_a_question_made_in_the_admin_is_not_taken_over_by_a_file_using_its_key(self, course):
        heat = Topic.objects.get(slug="heat")
        question = Question.objects.get(key="hot-humid-hike")
        Question.objects.filter(pk=question.pk).update(
            origin=QuestionOrigin.ADMIN, files_digest="", prompt="A teacher's own question"
        )

        output = load()

        question.refresh_from_db()
        assert (question.prompt, question.origin) == ("A teacher's own question", "admin")
        assert question.topic == heat
        assert "question hot-humid-hike" in output

    def test_saving_a_question_unchanged_is_not_an_edit(self, course, teacher_client, files):
        question = Question.objects.get(key="hot-humid-hike")
        edit_in_admin(teacher_client, question, explanation=f"  {question.explanation}\r\n")
        replace_in(files / HEAT_GIFT, "Ella hikes", "Ella walks")

        output = load(files)

        assert Question.objects.get(key="hot-humid-hike").prompt.startswith("Ella walks")
        assert "kept" not in output

    def test_replace_edits_brings_course_questions_back_but_not_a_teachers_own(
        self, course, teacher_client
    ):
        edited = Question.objects.get(key="hot-humid-hike")
        edit_in_admin(teacher_client, edited, prompt="Edited", is_published=None)
        own = Question.objects.get(key="hot-confused-worker")
        Question.objects.filter(pk=own.pk).update(
            origin=QuestionOrigin.ADMIN, files_digest="", prompt="A teacher's own question"
        )
        Topic.objects.filter(slug="heat").update(title="Hot")

        out = StringIO()
        call_command("load_content", replace_edits=True, stdout=out)

        edited.refresh_from_db()
        assert (edited.prompt[:10], edited.is_published) == ("Ella hikes", True)
        assert Question.objects.get(pk=own.pk).prompt == "A teacher's own question"
        assert Topic.objects.get(slug="heat").title == "Heat"
        assert "kept 1 edited in the admin" in out.getvalue()
        assert out.getvalue().count("question ") == 1
        assert "question hot-confused-worker" in out.getvalue()

    def test_a_course_loaded_before_digests_were_kept_still_follows_the_files(self, course):
        Question.objects.update(files_digest="")
        Question.objects.filter(key="hot-humid-hike").update(prompt="Changed by an older run")

        output = load()

        assert Question.objects.get(key="hot-humid-hike").prompt.startswith("Ella hikes")
        assert "kept" not in output
        assert load() == "Course loaded: created nothing; updated nothing.\n"


class TestTopicsAndLessonsEditedInTheAdmin:
    def test_a_topic_title_edited_in_the_admin_survives(self, course, files):
        Topic.objects.filter(slug="heat").update(title="Heat and humidity")
        replace_in(files / HEAT_LESSON, "Why overheating", "How overheating")

        output = load(files)

        topic = Topic.objects.get(slug="heat")
        assert topic.title == "Heat and humidity"
        assert topic.summary.startswith("Why overheating")
        assert "topic heat" in output

    def test_a_lesson_edited_in_the_admin_survives(self, course):
        lesson = Lesson.objects.get(topic__slug="heat")
        lesson.body_markdown = "## Our own lesson {#when-the-body-overheats}\n\nShort.\n"
        lesson.save()

        output = load()

        lesson.refresh_from_db()
        assert lesson.body_markdown.startswith("## Our own lesson")
        assert "lesson of heat" in output

    def test_a_lesson_saved_unchanged_from_a_browser_still_follows_the_files(
        self, course, teacher_client, files
    ):
        lesson = Lesson.objects.get(topic__slug="heat")
        url = reverse("admin:learning_lesson_change", args=[lesson.pk])
        body = lesson.body_markdown.strip().replace("\n", "\r\n")  # as a browser sends it
        data = {"topic": lesson.topic_id, "title": lesson.title, "body_markdown": body}
        assert teacher_client.post(url, data).status_code == 302
        replace_in(files / HEAT_LESSON, "Hot days, hard exercise", "Hot weather, hard exercise")

        output = load(files)

        assert "Hot weather, hard exercise" in Lesson.objects.get(pk=lesson.pk).body_markdown
        assert "kept" not in output

    def test_an_untouched_topic_follows_the_files(self, course, files):
        replace_in(files / HEAT_LESSON, "title: Heat", "title: Heat and the body")
        load(files)
        assert Topic.objects.get(slug="heat").title == "Heat and the body"
        assert Lesson.objects.get(topic__slug="heat").title == "Heat and the body"


class TestPublishedTopics:
    def test_load_content_publishes_the_topics_it_creates(self, course):
        assert not Topic.objects.filter(is_published=False).exists()

    def test_it_leaves_a_topic_a_teacher_unpublished_as_a_draft(self, course):
        Topic.objects.filter(slug="heat").update(is_published=False)
        load()
        assert Topic.objects.get(slug="heat").is_published is False


class TestExplanationIsOptional:
    @pytest.fixture
    def question(self):
        topic = TopicFactory(title="Heat")
        LessonFactory(topic=topic)
        QuizFactory(topic=topic)
        return QuestionFactory(topic=topic, explanation="")

    def test_a_question_without_one_saves_unchanged_with_a_warning(self, teacher_client, question):
        url = reverse("admin:learning_question_change", args=[question.pk])
        response = teacher_client.post(url, change_form(question), follow=True)
        assertContains(response, "No explanation: learners who miss this question see only")
        question.refresh_from_db()
        assert question.explanation == ""
        assert list(question.choices.values_list("text", flat=True)) == [
            "Right",
            "Wrong one",
            "Wrong two",
        ]

    def test_with_an_explanation_there_is_no_warning(self, teacher_client, question):
        url = reverse("admin:learning_question_change", args=[question.pk])
        data = change_form(question, explanation="Because.")
        response = teacher_client.post(url, data, follow=True)
        assertNotContains(response, "No explanation")
        assert Choice.objects.filter(question=question).count() == 3


def test_an_imported_multiple_answer_question_saved_unchanged_keeps_its_credits(teacher_client):
    """Moodle's `~%100%` right and `~%0%` wrong: a wrong pick costs nothing. Saving the
    question unchanged in the admin must not read those credits as the form's tick defaults
    (and turn the wrong options into -100%)."""
    topic = TopicFactory(slug="heat", title="Heat")
    QuizFactory(topic=topic)
    text = "$CATEGORY: heat\n::warm:: Which are warm? {~%100%Sun ~%0%Ice ~%0%Snow}"
    question_bank.apply_import(question_bank.plan_import(text))
    question = Question.objects.get(key="warm")
    before = list(question.choices.order_by("order").values_list("text", "credit"))
    data = change_form(question, explanation="Because.")
    for index, choice in enumerate(question.choices.order_by("order", "id")):
        data[f"initial-choices-{index}-credit"] = str(choice.credit)  # as the browser sends it
    url = reverse("admin:learning_question_change", args=[question.pk])
    response = teacher_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(question.choices.order_by("order").values_list("text", "credit")) == before


def test_editing_an_option_of_an_imported_question_keeps_the_others_credits(teacher_client):
    """A typo fixed in one option is not a reason to rewrite the author's credits."""
    topic = TopicFactory(slug="heat", title="Heat")
    QuizFactory(topic=topic)
    text = "$CATEGORY: heat\n::warm:: Which are warm? {~%100%Sun ~%0%Ice ~%0%Snwo}"
    question_bank.apply_import(question_bank.plan_import(text))
    question = Question.objects.get(key="warm")
    data = change_form(question, explanation="Because.")
    for index, choice in enumerate(question.choices.order_by("order", "id")):
        data[f"initial-choices-{index}-credit"] = str(choice.credit)
    data["choices-2-text"] = "Snow"
    url = reverse("admin:learning_question_change", args=[question.pk])
    response = teacher_client.post(url, data)
    assert response.status_code == 302, response.content.decode()[-3000:]
    assert list(question.choices.order_by("order").values_list("text", "credit")) == [
        ("Sun", 100),
        ("Ice", 0),
        ("Snow", 0),
    ]
