import html
import json
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from pytest_django.asserts import assertContains

from learning import selectors, services
from learning.models import Attempt, Question, Response, TopicProgress
from learning.question_types.picking import ChoiceAnswer
from learning.teachers import TEACHERS_GROUP
from tests.factories import (
    LessonFactory,
    MatchingQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    TrueFalseQuestionFactory,
    UserFactory,
)
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic():
    topic = TopicFactory(title="Heat")
    LessonFactory(topic=topic)
    QuizFactory(topic=topic, question_count=5)
    return topic


def question_form(topic, question_type="single", choices=(), **fields):
    data = {
        "topic": topic.pk,
        "type": question_type,
        "prompt": "Which sign points to heat exhaustion?",
        "is_published": "on",
        "explanation": "Heavy sweating is one of the signs.",
        "lesson_anchor": "calcium",
        "numeric_answer": "",
        "numeric_tolerance": "0",
        "key": "",
        "choices-TOTAL_FORMS": str(len(choices)),
        "choices-INITIAL_FORMS": "0",
        "choices-MIN_NUM_FORMS": "0",
        "choices-MAX_NUM_FORMS": "1000",
    }
    for index, (text, correct) in enumerate(choices):
        data[f"choices-{index}-order"] = str(index)
        data[f"choices-{index}-text"] = text
        data[f"choices-{index}-feedback"] = ""
        data[f"choices-{index}-credit"] = "0"  # the form's default: the tick says what is right
        data[f"choices-{index}-numeric_tolerance"] = "0"
        if correct:
            data[f"choices-{index}-is_correct"] = "on"
    data.update(fields)
    return data


ADD_URL = reverse("admin:learning_question_add")


class TestTeachersGroup:
    def test_it_holds_authoring_and_viewing_rights_and_nothing_over_users(self):
        group = Group.objects.get(name=TEACHERS_GROUP)
        codenames = set(group.permissions.values_list("codename", flat=True))
        assert {"add_question", "change_question", "delete_question", "add_choice"} <= codenames
        assert {"view_topicprogress", "view_attempt", "view_response"} <= codenames
        assert not {"change_topicprogress", "change_attempt", "delete_response"} & codenames
        assert not group.permissions.filter(content_type__app_label="auth").exists()

    def test_a_teacher_sees_the_course_but_not_users(self, teacher_client):
        index = teacher_client.get(reverse("admin:index"))
        assertContains(index, "Questions")
        assert teacher_client.get(reverse("admin:auth_user_changelist")).status_code == 403
        assert (
            teacher_client.get(reverse("admin:learning_topicprogress_changelist")).status_code
            == 200
        )

    def test_createteacher_makes_a_staff_user_in_the_group(self):
        call_command("createteacher", "mr-jones", password="a-long-pass-phrase")
        from django.contrib.auth import get_user_model

        user = get_user_model().objects.get(username="mr-jones")
        assert user.is_staff and not user.is_superuser
        assert user.groups.filter(name=TEACHERS_GROUP).exists()
        assert user.check_password("a-long-pass-phrase")

    def test_createteacher_refuses_a_weak_password_and_an_existing_name(self, teacher):
        with pytest.raises(CommandError, match="too short"):
            call_command("createteacher", "mr-jones", password="abc")
        with pytest.raises(CommandError, match="already exists"):
            call_command("createteacher", teacher.username, password="a-long-pass-phrase")


class TestQuestionValidation:
    @pytest.mark.parametrize(
        ("question_type", "choices", "message"),
        [
            ("single", [("Sweating", False), ("Shivering", False)], "at least one correct choice"),
            ("true_false", [("True", True)], "exactly two choices"),
            ("multiple", [("Sweating", False), ("Shivering", False)], "at least one correct"),
        ],
    )
    def test_it_refuses_a_question_no_one_could_answer(
        self, teacher_client, topic, question_type, choices, message
    ):
        response = teacher_client.post(ADD_URL, question_form(topic, question_type, choices))
        assertContains(response, message)
        assert not Question.objects.exists()

    def test_it_refuses_a_numeric_question_without_a_value(self, teacher_client, topic):
        response = teacher_client.post(ADD_URL, question_form(topic, "numeric"))
        assertContains(response, "A numeric question needs a right value.")
        assert not Question.objects.exists()

    def test_it_refuses_an_anchor_the_lesson_does_not_have(self, teacher_client, topic):
        data = question_form(
            topic, choices=[("Sweating", True), ("Shivering", False)], lesson_anchor="nowhere"
        )
        response = teacher_client.post(ADD_URL, data)
        assertContains(response, "is not a section of the lesson")
        assert not Question.objects.exists()


def test_a_question_a_teacher_adds_is_drawn_in_the_quiz_at_once(teacher_client, topic, learner):
    data = question_form(topic, choices=[("Heavy sweating", True), ("Shivering", False)])
    response = teacher_client.post(ADD_URL, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    question = Question.objects.get()
    assert question.key.startswith("q-")
    assert list(question.choices.values_list("text", "is_correct")) == [
        ("Heavy sweating", True),
        ("Shivering", False),
    ]
    attempt = services.start_attempt(learner=learner, quiz=topic.quiz)
    assert attempt.question_ids == [question.pk]


def test_the_question_list_filters_and_searches(teacher_client, topic):
    teacher_client.post(
        ADD_URL, question_form(topic, choices=[("Heavy sweating", True), ("Shivering", False)])
    )
    url = reverse("admin:learning_question_changelist")
    assertContains(
        teacher_client.get(url, {"type__exact": "single", "is_published__exact": "1"}),
        "heat exhaustion",
    )
    response = teacher_client.get(url, {"q": "shivering"})
    assertContains(response, "heat exhaustion")
    assertContains(response, "By type")


def test_a_teacher_has_no_change_rights_over_learner_records():
    perms = Permission.objects.filter(group__name=TEACHERS_GROUP, codename__startswith="change_")
    assert set(perms.values_list("codename", flat=True)) == {
        "change_topic", "change_lesson", "change_quiz", "change_question", "change_choice",
        "change_classroom",
    }  # fmt: skip


class TestPreview:
    @pytest.fixture
    def previewed(self, topic):
        from tests.factories import (
            QuestionFactory,
        )

        return [
            QuestionFactory(topic=topic, key="p-single"),
            NumericQuestionFactory(topic=topic, key="p-numeric"),
            MatchingQuestionFactory(topic=topic, key="p-matching"),
        ]

    def test_a_question_preview_answers_with_feedback_and_records_nothing(
        self, teacher_client, previewed
    ):
        question = previewed[0]
        url = reverse("admin:learning_question_preview", args=[question.pk])
        page = teacher_client.get(url)
        assertContains(page, "Preview.")
        assertContains(page, question.prompt)
        assertContains(page, "Check answer")
        answered = teacher_client.post(url, answer_post(question, right=False), **HTMX)
        assertContains(answered, "Not right")
        assertContains(answered, "Feedback on Wrong one.")
        assert "<html" not in answered.content.decode()
        plain = teacher_client.post(url, answer_post(question, right=True))
        assertContains(plain, "Right")
        assert not Attempt.objects.exists()
        assert not Response.objects.exists()
        assert not TopicProgress.objects.exists()

    def test_a_bad_preview_answer_is_a_422_with_a_message(self, teacher_client, previewed):
        url = reverse("admin:learning_question_preview", args=[previewed[1].pk])
        response = teacher_client.post(url, {"question": previewed[1].pk, "value": "lots"})
        assertContains(response, "Enter a number", status_code=422)

    def test_the_quiz_preview_shows_every_published_question(
        self, teacher_client, topic, previewed
    ):
        hidden = QuestionFactory(topic=topic, is_published=False, prompt="Unpublished one")
        response = teacher_client.get(reverse("admin:learning_quiz_preview", args=[topic.quiz.pk]))
        for question in previewed:
            assertContains(response, f'id="preview-{question.pk}"')
        assert hidden.prompt not in response.content.decode()
        assertContains(response, "draws 3 of these 3 published questions")

    def test_students_cannot_preview(self, client, previewed):
        client.force_login(UserFactory())
        response = client.get(reverse("admin:learning_question_preview", args=[previewed[0].pk]))
        assert response.status_code == 302


class TestHistorySurvivesEditing:
    @pytest.fixture
    def answered(self, topic, learner):
        question = QuestionFactory(topic=topic, key="answered", prompt="The original wording?")
        attempt = services.start_attempt(learner=learner, quiz=topic.quiz)
        right = question.choices.get(is_correct=True)
        services.record_answer(
            attempt=attempt, question_id=question.pk, answer=ChoiceAnswer(frozenset([right.pk]))
        )
        return question, attempt

    def test_deleting_an_answered_question_is_refused(self, teacher_client, answered):
        question, _ = answered
        url = reverse("admin:learning_question_delete", args=[question.pk])
        page = teacher_client.get(url)
        assertContains(page, "would require deleting the following protected related objects")
        teacher_client.post(url, {"post": "yes"})
        assert Question.objects.filter(pk=question.pk).exists()
        assert Response.objects.filter(question=question).count() == 1

    def test_the_learners_review_keeps_the_question_as_asked(self, answered, client, learner):
        question, attempt = answered
        question.prompt = "A new wording?"
        question.save()
        question.choices.all().delete()
        client.force_login(learner)
        review = client.get(reverse("learning:result", args=[attempt.pk]))
        assertContains(review, "The original wording?")
        assertContains(review, "Right")
        assert "A new wording?" not in review.content.decode()


class TestTypedQuestionValidation:
    def test_a_short_answer_needs_a_full_credit_answer(self, teacher_client, topic):
        data = question_form(topic, "short_answer", [("Ca", False)])
        data["choices-0-credit"] = "50"
        response = teacher_client.post(ADD_URL, data)
        assertContains(response, "at least one accepted answer worth 100%")
        assert not Question.objects.exists()

    def test_a_matching_question_needs_whole_pairs(self, teacher_client, topic):
        data = question_form(topic, "matching", [("Tic", False), ("Cramp", False)])
        data["choices-0-match_text"] = "rapid twitch"
        response = teacher_client.post(ADD_URL, data)
        assertContains(response, "needs both an item and its match")
        assert not Question.objects.exists()

    def test_a_valid_matching_question_is_saved(self, teacher_client, topic):
        data = question_form(topic, "matching", [("Tic", False), ("Cramp", False)])
        data["choices-0-match_text"] = "rapid twitch"
        data["choices-1-match_text"] = "lasting pain"
        response = teacher_client.post(ADD_URL, data)
        assert response.status_code == 302
        assert list(Question.objects.get().choices.values_list("text", "match_text")) == [
            ("Tic", "rapid twitch"),
            ("Cramp", "lasting pain"),
        ]


def test_the_quiz_list_names_the_course_wide_quizzes(teacher_client, topic):
    services.course_quiz("review")
    services.course_quiz("challenge")
    page = teacher_client.get(reverse("admin:learning_quiz_changelist"))
    html = page.content.decode()
    places = [html.index(f">{title}</a></th>") for title in ("Heat", "Spaced review")]
    assert places == sorted(places)  # topic quizzes first
    assertContains(page, ">Course challenge</a></th>")


def test_a_true_false_question_broken_by_hand_still_exports(teacher_client, topic):
    broken = TrueFalseQuestionFactory(topic=topic, key="broken-tf")
    broken.choices.filter(text="False").delete()  # as a raw edit in the database might
    response = teacher_client.get(reverse("admin:learning_question_export"))
    assert response.status_code == 200
    assert "::broken-tf::" in response.content.decode()


def test_the_preview_refuses_what_an_attempt_would_refuse(topic):
    question = NumericQuestionFactory(topic=topic)
    with pytest.raises(selectors.AnswerRefused, match="needs a number"):
        selectors.preview_feedback(question, ChoiceAnswer(frozenset({1})))


def total_forms(page) -> int:
    found = re.search(r'name="choices-TOTAL_FORMS" value="(\d+)"', page.content.decode())
    assert found, "the page has the answers table"
    return int(found[1])


def as_the_page_showed(data: dict[str, str], shown: dict[int, str]) -> dict[str, str]:
    """The post a browser makes: each new row's credit and the credit the page showed
    (`shown`, by row), which the form takes as "not typed" when they are equal."""
    return {**data, **{f"initial-choices-{index}-credit": value for index, value in shown.items()}}


class TestAnswersTable:
    def test_an_existing_question_starts_with_no_empty_rows_and_a_new_one_with_a_few(
        self, teacher_client, topic
    ):
        question = QuestionFactory(topic=topic)
        change = teacher_client.get(reverse("admin:learning_question_change", args=[question.pk]))
        assert total_forms(change) == 3  # its three options, nothing blank
        assertContains(change, 'name="choices-1-credit" value="0"')  # as a teacher writes it
        assert total_forms(teacher_client.get(ADD_URL)) == 4

    def test_each_type_names_the_columns_its_rows_use(self, teacher_client, topic):
        page = teacher_client.get(ADD_URL)
        found = re.search(r'data-answer-columns="([^"]+)"', page.content.decode())
        assert found, "the type picker tells the answers table which columns each type uses"
        columns = json.loads(html.unescape(found[1]))
        options = ["text", "is_correct", "credit", "feedback"]
        assert {value: spec["fields"] for value, spec in columns.items()} == {
            "single": options,
            "multiple": options,
            "true_false": options,
            "numeric": ["numeric_value", "numeric_tolerance", "credit", "feedback"],
            "short_answer": ["text", "credit", "feedback"],
            "matching": ["text", "match_text"],
        }
        assertContains(page, "js/answers-table.js")

    def test_a_new_wrong_option_is_worth_nothing_unless_the_teacher_types_a_credit(
        self, teacher_client, topic
    ):
        data = question_form(
            topic, "single", [("Heavy sweating", True), ("Shivering", False), ("Cold", False)]
        )
        data.update({"choices-0-credit": "0", "choices-1-credit": "0", "choices-2-credit": "25"})
        response = teacher_client.post(ADD_URL, as_the_page_showed(data, {0: "0", 1: "0", 2: "0"}))
        assert response.status_code == 302, response.content.decode()[:2000]
        credits = Question.objects.get().choices.values_list("text", "credit")
        assert [(text, int(credit)) for text, credit in credits] == [
            ("Heavy sweating", 100),  # ticked right, credit left as shown
            ("Shivering", 0),  # wrong, left as shown
            ("Cold", 25),  # typed
        ]

    def test_a_new_accepted_short_answer_needs_its_credit_typed(self, teacher_client, topic):
        data = question_form(topic, "short_answer", [("Calcium", False), ("Potassium", False)])
        data.update({"choices-0-credit": "", "choices-1-credit": ""})
        response = teacher_client.post(ADD_URL, as_the_page_showed(data, {0: "", 1: ""}))
        assertContains(response, "Give this answer its credit in %")
        assert not Question.objects.exists()
        data.update({"choices-0-credit": "100", "choices-1-credit": "0"})  # 0%: feedback only
        response = teacher_client.post(ADD_URL, as_the_page_showed(data, {0: "", 1: ""}))
        assert response.status_code == 302, response.content.decode()[:2000]
        credits = Question.objects.get().choices.values_list("text", "credit")
        assert [(text, int(credit)) for text, credit in credits] == [
            ("Calcium", 100),
            ("Potassium", 0),
        ]

    def test_an_existing_rows_credit_is_kept_as_stored(self, teacher_client, topic):
        question = QuestionFactory(topic=topic, choices=[("Right", True), ("Wrong", False)])
        wrong = question.choices.get(text="Wrong")
        wrong.credit = Decimal(40)
        wrong.save()
        data = question_form(topic, "single", [("Right", True), ("Wrong", False)])
        data.update(
            {
                "key": question.key,
                "choices-INITIAL_FORMS": "2",
                "choices-0-id": str(question.choices.get(text="Right").pk),
                "choices-1-id": str(wrong.pk),
                "choices-0-credit": "100",
                "choices-1-credit": "40",
            }
        )
        url = reverse("admin:learning_question_change", args=[question.pk])
        response = teacher_client.post(url, as_the_page_showed(data, {0: "100", 1: "40"}))
        assert response.status_code == 302, response.content.decode()[:2000]
        wrong.refresh_from_db()
        assert wrong.credit == 40

    def test_a_new_matching_pair_saves_though_its_table_has_no_credit_column(
        self, teacher_client, topic
    ):
        # The page's script hides the credit column for matching and leaves it blank.
        data = question_form(topic, "matching", [("Tic", False), ("Cramp", False)])
        data.update({"choices-0-match_text": "rapid twitch", "choices-1-match_text": "lasting"})
        data.update({"choices-0-credit": "", "choices-1-credit": ""})
        response = teacher_client.post(ADD_URL, as_the_page_showed(data, {0: "", 1: ""}))
        assert response.status_code == 302, response.content.decode()[:2000]
        assert list(Question.objects.get().choices.values_list("text", "match_text")) == [
            ("Tic", "rapid twitch"),
            ("Cramp", "lasting"),
        ]

    def test_moving_the_tick_moves_a_credit_left_as_the_old_tick_gave_it(
        self, teacher_client, topic
    ):
        question = QuestionFactory(
            topic=topic, choices=[("Sodium", True), ("Iron", False), ("Zinc", False)]
        )
        rows = {choice.text: choice for choice in question.choices.all()}
        # As the course files and the form store them: right 100%, wrong 0%, and a part
        # credit the teacher gave on purpose.
        for text, credit in (("Sodium", 100), ("Iron", 0), ("Zinc", 25)):
            rows[text].credit = Decimal(credit)
            rows[text].save()
        # The teacher re-keys: Iron is right, Sodium is not; no credit typed.
        data = question_form(topic, "single", [("Sodium", False), ("Iron", True), ("Zinc", False)])
        data.update({"key": question.key, "choices-INITIAL_FORMS": "3"})
        shown = {0: "100", 1: "0", 2: "25"}
        for index, text in enumerate(("Sodium", "Iron", "Zinc")):
            data[f"choices-{index}-id"] = str(rows[text].pk)
            data[f"choices-{index}-credit"] = shown[index]
        url = reverse("admin:learning_question_change", args=[question.pk])
        response = teacher_client.post(url, as_the_page_showed(data, shown))
        assert response.status_code == 302, response.content.decode()[:2000]
        credits = {
            text: int(credit) for text, credit in question.choices.values_list("text", "credit")
        }
        assert credits == {"Sodium": 0, "Iron": 100, "Zinc": 25}

    def test_the_question_page_links_to_its_preview(self, teacher_client, topic):
        question = QuestionFactory(topic=topic)
        page = teacher_client.get(reverse("admin:learning_question_change", args=[question.pk]))
        preview = reverse("admin:learning_question_preview", args=[question.pk])
        assertContains(page, f'<a href="{preview}">Preview</a>', html=True)
