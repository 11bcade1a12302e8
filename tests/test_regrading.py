"""Regrading past answers after a teacher fixes a question's answer key."""

import random
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.asserts import assertContains, assertNotContains

from learning import insight, regrading, services
from learning.models import (
    Attempt,
    Choice,
    Classroom,
    Mastery,
    Membership,
    Question,
    QuestionStatistics,
    Quiz,
    Regrade,
    Response,
    Topic,
    TopicProgress,
)
from learning.question_types.base import key_from_snapshot
from learning.question_types.numeric import NumericAnswer
from learning.question_types.picking import ChoiceAnswer
from learning.question_types.short_answer import TextAnswer
from learning.versions import current_key
from tests.factories import (
    ChoiceFactory,
    LessonFactory,
    MultipleAnswerQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def regrade_url(question: Question) -> str:
    return reverse("admin:learning_question_regrade", args=[question.pk])


def change_url(question: Question) -> str:
    return reverse("admin:learning_question_change", args=[question.pk])


def take(quiz: Quiz, learner: User, answers: dict[Question, object]) -> Attempt:
    """The learner takes the quiz, answering each question as given; returns it finished."""
    attempt = services.start_attempt(learner=learner, quiz=quiz, rng=random.Random(1))
    for question, answer in answers.items():
        services.record_answer(attempt=attempt, question_id=question.pk, answer=answer)
    attempt.refresh_from_db()
    assert attempt.is_finished
    return attempt


def pick(question: Question, text: str) -> ChoiceAnswer:
    return ChoiceAnswer(frozenset([question.choices.get(text=text).pk]))


def apply(question: Question, teacher: User) -> Regrade:
    """What the confirm button does: apply the dry run just shown."""
    question = Question.objects.get(pk=question.pk)
    plan = regrading.plan_regrade(question=question)
    return regrading.apply_regrade(question=question, teacher=teacher, token=plan.token)


@pytest.fixture
def course() -> dict:
    """A two-question quiz: "key" (A right, B and C wrong) and "easy", which everyone gets
    right. Ada picks A (100%, passed), Grace B (50%), Linus C (50%)."""
    topic = TopicFactory.create(slug="cramps", title="Cramps")
    LessonFactory.create(topic=topic)
    key = QuestionFactory.create(
        topic=topic, key="key", choices=[("A", True), ("B", False), ("C", False)]
    )
    easy = QuestionFactory.create(topic=topic, key="easy")
    quiz = QuizFactory.create(topic=topic, question_count=2)
    learners = {}
    for name, letter in [("ada", "A"), ("grace", "B"), ("linus", "C")]:
        learner = UserFactory.create(username=name)
        take(quiz, learner, {key: pick(key, letter), easy: pick(easy, "Right")})
        learners[name] = learner
    return {"quiz": quiz, "key": key, "easy": easy, **learners}


def move_the_key_to_b(question: Question) -> None:
    """What a teacher does in the change form: untick A, tick B (rows edited in place)."""
    Choice.objects.filter(question=question, text="A").update(is_correct=False)
    Choice.objects.filter(question=question, text="B").update(is_correct=True)


def attempt_of(learner: User) -> Attempt:
    return Attempt.objects.get(learner=learner)


def progress_of(learner: User) -> TopicProgress:
    return TopicProgress.objects.get(learner=learner)


class TestTheDryRun:
    def test_it_lists_the_answers_and_attempts_that_would_change(
        self, teacher_client, teacher, course
    ):
        taught = Classroom.objects.create(name="Taught")
        taught.teachers.add(teacher)
        for name in ("ada", "grace", "linus"):
            Membership.objects.create(classroom=taught, learner=course[name])
        move_the_key_to_b(course["key"])
        response = teacher_client.get(regrade_url(course["key"]))
        assert response.status_code == 200
        plan = response.context["plan"]
        assert plan.checked == 3
        assert len(plan.changes) == 2
        assert {(c.before, c.after) for c in plan.changes} == {(1, 0), (0, 1)}
        by_learner = {change.before.learner: change for change in plan.attempts}
        assert set(by_learner) == {"ada", "grace"}
        assert (by_learner["ada"].before.percent, by_learner["ada"].percent) == (100, 50)
        assert (by_learner["grace"].before.percent, by_learner["grace"].percent) == (50, 100)
        assert plan.passes_flipped == 2
        assertContains(response, "3 past answers graded by another key; 2 would change points")
        (version,) = plan.versions
        assert (version.responses, version.gained, version.lost) == (3, 1, 1)
        assertContains(response, "2 pass/fail verdicts flip")
        assertContains(response, "100% → 50%")
        assertContains(response, "50% → 100%")

    def test_it_writes_nothing(self, teacher_client, course):
        move_the_key_to_b(course["key"])
        teacher_client.get(regrade_url(course["key"]))
        assert attempt_of(course["ada"]).percent == 100
        assert not Regrade.objects.exists()
        assert not Response.objects.filter(graded_version__isnull=False).exists()

    def test_the_change_page_links_to_it_only_when_a_key_changed(self, teacher_client, course):
        question = course["key"]
        assertNotContains(teacher_client.get(change_url(question)), "Regrade past answers")
        move_the_key_to_b(question)
        page = teacher_client.get(change_url(question))
        assertContains(page, f'href="{regrade_url(question)}"')

    def test_a_prompt_or_explanation_edit_offers_nothing(self, teacher_client, course):
        question = course["key"]
        Question.objects.filter(pk=question.pk).update(
            prompt="Which letter, now asked better?", explanation="A clearer reason."
        )
        Choice.objects.filter(question=question, text="A").update(feedback="New feedback.")
        question = Question.objects.get(pk=question.pk)
        assert not regrading.needs_regrade(question)
        assertNotContains(teacher_client.get(change_url(question)), "Regrade past answers")
        response = teacher_client.get(regrade_url(question))
        assert response.context["plan"].is_empty
        assertContains(response, "Nothing to regrade")

    def test_a_new_wrong_option_offers_nothing(self, course):
        ChoiceFactory.create(question=course["key"], text="D", is_correct=False)
        assert not regrading.needs_regrade(Question.objects.get(pk=course["key"].pk))


class TestConfirming:
    def confirm(self, client, question: Question):
        token = client.get(regrade_url(question)).context["plan"].token
        return client.post(regrade_url(question), {"token": token})

    def test_it_rescores_answers_attempts_and_passes(self, teacher_client, course):
        move_the_key_to_b(course["key"])
        response = self.confirm(teacher_client, course["key"])
        assert response.status_code == 302 and response["Location"] == change_url(course["key"])
        ada, grace, linus = (attempt_of(course[name]) for name in ("ada", "grace", "linus"))
        assert (ada.points, ada.percent, ada.passed) == (1, 50, False)
        assert (grace.points, grace.percent, grace.passed) == (2, 100, True)
        assert (linus.points, linus.percent, linus.passed) == (1, 50, False)
        regraded = Response.objects.get(attempt=ada, question=course["key"])
        assert (regraded.points, regraded.original_points) == (0, 1)
        assert regraded.regraded_at is not None
        assert regraded.answer == {"choices": [course["key"].choices.get(text="A").pk]}

    def test_it_updates_best_scores_and_mastery(self, teacher_client, course):
        assert progress_of(course["ada"]).mastery == Mastery.PROFICIENT
        assert progress_of(course["grace"]).mastery == Mastery.ATTEMPTED
        move_the_key_to_b(course["key"])
        self.confirm(teacher_client, course["key"])
        ada, grace = progress_of(course["ada"]), progress_of(course["grace"])
        assert (ada.best_percent, ada.mastery) == (50, Mastery.ATTEMPTED)
        assert (grace.best_percent, grace.mastery) == (100, Mastery.PROFICIENT)
        assert grace.high_score_on is not None
        assert progress_of(course["linus"]).best_percent == 50
        assert ada.attempt_count == 1

    def test_it_keeps_the_item_statistics_right(self, teacher_client, course):
        # A fourth learner also picks B, so the question's facility moves from 1/4 to 2/4.
        take(
            course["quiz"],
            UserFactory.create(username="hedy"),
            {
                course["key"]: pick(course["key"], "B"),
                course["easy"]: pick(course["easy"], "Right"),
            },
        )
        facility = {s.question.key: s.facility for s in insight.item_analysis()}
        assert facility["key"] == pytest.approx(0.25)
        move_the_key_to_b(course["key"])
        self.confirm(teacher_client, course["key"])
        # The answers given stay with the version asked (regraded); the new key has none yet.
        facility = {s.question.key: s.facility for s in insight.item_analysis() if s.responses}
        assert facility["key"] == pytest.approx(0.5)
        kept = {row.pk: row.sum_xy for row in QuestionStatistics.objects.all()}
        insight.rebuild_item_statistics()
        rebuilt = {row.pk: row.sum_xy for row in QuestionStatistics.objects.all()}
        assert kept == pytest.approx(rebuilt)

    def test_item_analysis_marks_the_options_by_the_key_that_graded_them(
        self, teacher_client, course
    ):
        move_the_key_to_b(course["key"])
        self.confirm(teacher_client, course["key"])
        (asked,) = [
            s for s in insight.item_analysis() if s.question == course["key"] and s.responses
        ]
        # Its facility comes from the regraded points, so its marks come from that key too.
        assert [(share.choice.text, share.choice.is_correct) for share in asked.choices] == [
            ("A", False),
            ("B", True),
            ("C", False),
        ]

    def test_it_records_who_regraded_and_shows_it_on_the_question(
        self, teacher_client, teacher, course
    ):
        move_the_key_to_b(course["key"])
        self.confirm(teacher_client, course["key"])
        regrade = Regrade.objects.get()
        assert regrade.teacher == teacher and regrade.question == course["key"]
        assert (regrade.responses_checked, regrade.responses_changed) == (3, 2)
        assert (regrade.attempts_changed, regrade.passes_flipped) == (2, 2)
        page = teacher_client.get(change_url(course["key"]))
        assertContains(page, "Regrades of past answers")
        assertContains(page, "<td>mrs-hill</td>")
        assertNotContains(page, "Regrade past answers")

    def test_a_second_dry_run_finds_nothing_to_do(self, teacher_client, course):
        move_the_key_to_b(course["key"])
        self.confirm(teacher_client, course["key"])
        response = teacher_client.get(regrade_url(course["key"]))
        assert response.context["plan"].is_empty
        assertContains(response, "Nothing to regrade")
        # Changing the key back regrades again, from the points as they now stand.
        Choice.objects.filter(question=course["key"]).update(is_correct=False)
        Choice.objects.filter(question=course["key"], text="A").update(is_correct=True)
        self.confirm(teacher_client, course["key"])
        ada = Response.objects.get(attempt=attempt_of(course["ada"]), question=course["key"])
        assert (ada.points, ada.original_points) == (1, 1)
        assert attempt_of(course["ada"]).percent == 100

    def test_a_stale_token_is_refused_and_nothing_changes(self, teacher_client, course):
        move_the_key_to_b(course["key"])
        token = teacher_client.get(regrade_url(course["key"])).context["plan"].token
        # Another teacher edits the question between the dry run and the confirm.
        Choice.objects.filter(question=course["key"], text="C").update(is_correct=True)
        Choice.objects.filter(question=course["key"], text="B").update(is_correct=False)
        response = teacher_client.post(regrade_url(course["key"]), {"token": token})
        assert response.status_code == 409
        assertContains(response, "changed since that dry run", status_code=409)
        assert not Regrade.objects.exists()
        assert attempt_of(course["ada"]).percent == 100
        # The page shows the dry run as things stand now: Linus's C is the one right now.
        assert {c.before.learner for c in response.context["plan"].attempts} == {"ada", "linus"}

    def test_a_made_up_token_is_refused(self, teacher_client, course):
        move_the_key_to_b(course["key"])
        response = teacher_client.post(regrade_url(course["key"]), {"token": "guess"})
        assert response.status_code == 409
        assert not Regrade.objects.exists()

    def test_it_needs_the_csrf_token(self, teacher, course):
        client = Client(enforce_csrf_checks=True)
        client.force_login(teacher)
        move_the_key_to_b(course["key"])
        token = client.get(regrade_url(course["key"])).context["plan"].token
        assert client.post(regrade_url(course["key"]), {"token": token}).status_code == 403
        assert not Regrade.objects.exists()


class TestWhoMayRegrade:
    def test_staff_without_the_change_permission_get_403(self, client, course):
        office = UserFactory.create(username="office", is_staff=True)
        office.user_permissions.add(Permission.objects.get(codename="view_question"))
        client.force_login(office)
        move_the_key_to_b(course["key"])
        assert client.get(regrade_url(course["key"])).status_code == 403
        assert client.post(regrade_url(course["key"]), {"token": "x"}).status_code == 403
        assertNotContains(client.get(change_url(course["key"])), "Regrade past answers")
        assert not Regrade.objects.exists()

    def test_a_learner_is_sent_to_the_admin_login(self, client, course):
        client.force_login(course["ada"])
        move_the_key_to_b(course["key"])
        response = client.post(regrade_url(course["key"]), {"token": "x"})
        assert response.status_code == 302 and "/admin/login/" in response["Location"]
        assert not Regrade.objects.exists()


class TestWhatTheLearnerSees:
    def test_the_result_page_says_the_answer_was_regraded(self, client, teacher, course):
        move_the_key_to_b(course["key"])
        apply(course["key"], teacher)
        client.force_login(course["grace"])
        page = client.get(reverse("learning:result", args=[attempt_of(course["grace"]).pk]))
        assertContains(page, "your answer now earns 1 of 1 point (was 0).")
        assertContains(page, "Regraded on ")
        assertContains(page, "You scored 100%")
        review = page.context["review"]
        assert [feedback.is_correct for feedback in review] == [True, True]

    def test_the_review_shows_the_new_key_on_the_question_as_asked(self, client, teacher, course):
        Question.objects.filter(pk=course["key"].pk).update(prompt="A prompt asked later")
        move_the_key_to_b(course["key"])
        apply(course["key"], teacher)
        client.force_login(course["ada"])
        page = client.get(reverse("learning:result", args=[attempt_of(course["ada"]).pk]))
        assertContains(page, "your answer now earns 0 of 1 point (was 1).")
        assertNotContains(page, "A prompt asked later")
        feedback = next(f for f in page.context["review"] if f.regrade_note)
        assert feedback.correction == "The right answer is: B."

    def test_the_words_beside_the_new_verdict_are_todays(self, client, teacher, course):
        """The teacher fixes the key and its feedback together: the regraded review does not
        say "Right" beside yesterday's "No, that is wrong"."""
        move_the_key_to_b(course["key"])
        Choice.objects.filter(question=course["key"], text="B").update(feedback="Yes: B it is.")
        Question.objects.filter(pk=course["key"].pk).update(explanation="B, as fixed.")
        apply(course["key"], teacher)
        client.force_login(course["grace"])
        page = client.get(reverse("learning:result", args=[attempt_of(course["grace"]).pk]))
        assertContains(page, "Yes: B it is.")
        assertContains(page, "B, as fixed.")
        assertNotContains(page, "Feedback on B.")

    def test_an_unchanged_answer_gets_no_note(self, client, teacher, course):
        move_the_key_to_b(course["key"])
        apply(course["key"], teacher)
        client.force_login(course["linus"])
        page = client.get(reverse("learning:result", args=[attempt_of(course["linus"]).pk]))
        assertNotContains(page, "Regraded on")


class TestOtherKeys:
    def test_a_widened_numeric_tolerance(self, teacher):
        question = NumericQuestionFactory.create(key="n")  # 15 ± 0.5
        quiz = QuizFactory.create(topic=question.topic, question_count=1)
        close = take(quiz, UserFactory.create(), {question: NumericAnswer(Decimal("15.8"))})
        far = take(quiz, UserFactory.create(), {question: NumericAnswer(Decimal("17"))})
        assert close.percent == 0
        Question.objects.filter(pk=question.pk).update(numeric_tolerance=Decimal(1))
        regrade = apply(question, teacher)
        assert (regrade.responses_checked, regrade.responses_changed) == (2, 1)
        close.refresh_from_db()
        far.refresh_from_db()
        assert (close.percent, close.passed) == (100, True)
        assert far.percent == 0

    def test_a_multiple_answer_key_change(self, teacher):
        question = MultipleAnswerQuestionFactory.create(key="m")  # A and B right, C wrong
        quiz = QuizFactory.create(topic=question.topic, question_count=1)
        a_and_c = ChoiceAnswer(
            frozenset(
                question.choices.filter(text__in=["Right A", "Wrong C"]).values_list(
                    "pk", flat=True
                )
            )
        )
        both = take(quiz, UserFactory.create(), {question: a_and_c})
        only_a = take(quiz, UserFactory.create(), {question: pick(question, "Right A")})
        assert (both.points, only_a.points) == (0, Decimal("0.5"))
        Choice.objects.filter(question=question, text="Wrong C").update(is_correct=True)
        apply(question, teacher)
        both.refresh_from_db()
        only_a.refresh_from_db()
        assert (both.points, both.percent) == (Decimal("0.6667"), Decimal("66.67"))
        assert (only_a.points, only_a.percent) == (Decimal("0.3333"), Decimal("33.33"))

    def test_a_short_answer_credit_change_and_a_new_accepted_answer(self, teacher):
        question = QuestionFactory.create(key="s", type="short_answer", choices=[])
        ChoiceFactory.create(question=question, text="cramp", credit=Decimal(100))
        ChoiceFactory.create(question=question, text="spasm", credit=Decimal(50))
        quiz = QuizFactory.create(topic=question.topic, question_count=1)
        spasm = take(quiz, UserFactory.create(), {question: TextAnswer("Spasm")})
        charley = take(quiz, UserFactory.create(), {question: TextAnswer("charley horse")})
        assert (spasm.points, charley.points) == (Decimal("0.5"), 0)
        Choice.objects.filter(question=question, text="spasm").update(credit=Decimal(100))
        # Learners typed their answers, so an accepted answer added since counts too.
        ChoiceFactory.create(question=question, text="charley horse", credit=Decimal(50))
        apply(question, teacher)
        spasm.refresh_from_db()
        charley.refresh_from_db()
        assert (spasm.points, charley.points) == (1, Decimal("0.5"))

    def test_a_right_option_added_since_is_left_out_and_a_deleted_one_earns_nothing(
        self, teacher, course
    ):
        question = course["key"]
        # The teacher deletes A (Ada's pick) and adds D as the right answer: no one saw D.
        Choice.objects.filter(question=question, text="A").delete()
        ChoiceFactory.create(question=question, text="D", is_correct=True)
        regrade = apply(question, teacher)
        assert regrade.responses_changed == 1
        assert attempt_of(course["ada"]).percent == 50
        assert attempt_of(course["grace"]).percent == 50

    def test_answers_given_to_another_type_are_left_alone(self, teacher_client, course):
        Question.objects.filter(pk=course["key"].pk).update(type="multiple")
        move_the_key_to_b(course["key"])
        response = teacher_client.get(regrade_url(course["key"]))
        assert response.context["plan"].is_empty
        assertContains(response, "3 answers given when the question was of another type")


class TestTheRules:
    def test_regrade_points_is_pure_and_maps_onto_the_rows_asked(self, course):
        question = course["key"]
        asked = Response.objects.filter(question=question).first().version.snapshot
        a, b, c = (question.choices.get(text=t).pk for t in "ABC")
        move_the_key_to_b(question)
        key = current_key(question)
        assert regrading.regrade_points(asked, key, {"choices": [b]}) == 1
        assert regrading.regrade_points(asked, key, {"choices": [a]}) == 0
        assert regrading.regrade_points(asked, key, {"choices": [c]}) == 0

    def test_a_changed_option_text_does_not_change_the_grading_terms(self, course):
        question = course["key"]
        asked = Response.objects.filter(question=question).first().version.snapshot
        Choice.objects.filter(question=question, text="C").update(text="C, reworded")
        key = current_key(question)
        before = regrading.key_as_asked(asked, key)
        assert regrading.grading_terms(before) == regrading.grading_terms(
            regrading.key_as_asked(asked, key_from_snapshot(asked))
        )


class TestCost:
    def test_the_apply_costs_the_same_with_twice_the_answers(self, teacher):
        def queries_to_regrade(learners: int) -> int:
            # One published topic each time, so that both regrades complete the course for
            # the learners they raise to proficient (and make their certificates).
            Topic.objects.update(is_published=False)
            topic = TopicFactory.create()
            question = QuestionFactory.create(topic=topic, choices=[("A", True), ("B", False)])
            quiz = QuizFactory.create(topic=topic, question_count=1)
            for index in range(learners):
                take(quiz, UserFactory.create(), {question: pick(question, "AB"[index % 2])})
            move_the_key_to_b(question)
            fresh = Question.objects.get(pk=question.pk)
            token = regrading.plan_regrade(question=fresh).token
            with CaptureQueriesContext(connection) as queries:
                regrading.apply_regrade(question=fresh, teacher=teacher, token=token)
            assert Regrade.objects.get(question=question).responses_changed == learners
            return len(queries)

        assert queries_to_regrade(4) == queries_to_regrade(8)

    def test_the_apply_query_count_is_pinned(self, teacher, course, django_assert_max_num_queries):
        move_the_key_to_b(course["key"])
        question = Question.objects.get(pk=course["key"].pk)
        token = regrading.plan_regrade(question=question).token
        # The transaction's savepoint and its release (2); the question locked with its
        # topic, and its choices (2); the plan: response groups, versions, responses,
        # attempts (4); today's version: looked up, then made in a savepoint (4); the
        # responses' graded version and their points (2); the learners' quiz attempts,
        # their progress and its update (3); the attempts (1); the statistics: GROUP BY,
        # delete, insert (3); the regrade (1); the learners it brings to proficient in
        # every topic: their rows locked, their certificates, the topics, their progress,
        # the users, the certificates made (6); the learners' page versions bumped (1); the
        # LMS grades: the changed attempts' learners and quizzes, and their LMS links (2).
        with django_assert_max_num_queries(31):
            regrading.apply_regrade(question=question, teacher=teacher, token=token)


def test_the_dry_run_names_only_the_teachers_own_learners(teacher_client, teacher, course):
    """Another teacher's learners are counted, never named."""
    mine = Classroom.objects.create(name="Mine")
    mine.teachers.add(teacher)
    Membership.objects.create(classroom=mine, learner=course["ada"])
    theirs = Classroom.objects.create(name="Theirs")
    Membership.objects.create(classroom=theirs, learner=course["grace"])
    move_the_key_to_b(course["key"])
    page = teacher_client.get(regrade_url(course["key"]))
    assertContains(page, "<td>ada</td>", html=True)
    assertNotContains(page, "grace")
    assertContains(page, "1 attempt of learners in classes you do not teach")
