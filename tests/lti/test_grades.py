"""Grades back: a learner's score reaches the test LMS's gradebook over HTTP when they
finish a linked quiz, is tried again while the LMS cannot take it, and is shown to them."""

import io
import itertools
import re
import threading
import time
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import LtiRegistration
from pytest_django.asserts import assertContains, assertNotContains

from learning import regrading, services
from learning.lti import connector, grades
from learning.models import (
    Attempt,
    AttemptState,
    GradedLink,
    GradeSend,
    GradeSendState,
    LmsClass,
    LmsGrade,
    Question,
    Quiz,
    QuizKind,
)
from tests.factories import QuestionFactory, TopicFactory, UserFactory
from tests.helpers import answer_post
from tests.lti.records import graded_link, lms_course, lms_learner
from tests.lti_platform import AGS_SCOPES, FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)

SCORE_SCOPE = AGS_SCOPES[2]


@pytest.fixture(autouse=True)
def no_send_left_running():
    """Every background send ends before its test's tables are emptied."""
    yield
    grades.wait_for_background_sends()


@pytest.fixture
def registration(lti_platform: FakePlatform) -> LtiRegistration:
    return lti_platform.register()


@pytest.fixture
def course(lti_platform: FakePlatform, registration: LtiRegistration) -> LmsClass:
    return lms_course(lti_platform, registration)


@pytest.fixture
def link(lti_platform: FakePlatform, course: LmsClass, quiz: Quiz) -> GradedLink:
    return graded_link(lti_platform, course, quiz)


@pytest.fixture
def lms_user(registration: LtiRegistration, course: LmsClass, learner: User):
    return lms_learner(registration, course, learner)


def take_quiz(client: Client, learner: User, quiz: Quiz, *, right: int | None = None) -> Attempt:
    """Answer every question through the question pages, as the learner does: the first
    `right` of them right (all by default), the others earning nothing."""
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    right = attempt.question_total if right is None else right
    for position in range(1, attempt.question_total + 1):
        question = Question.objects.get(pk=attempt.question_ids[position - 1])
        client.post(
            reverse("learning:question", args=[attempt.pk, position]),
            answer_post(question, position <= right, attempt),
            HTTP_HX_REQUEST="true",
        )
    attempt.refresh_from_db()
    assert attempt.state == AttemptState.FINISHED
    return attempt


def result_page(client: Client, attempt: Attempt):
    return client.get(reverse("learning:result", args=[attempt.pk]))


def finish_the_wait(send: GradeSend):
    """A clock just past the send's next try."""
    send.refresh_from_db()
    assert send.next_try_at is not None
    return time_machine.travel(send.next_try_at + timedelta(seconds=1), tick=True)


class TestAScoreReachesTheGradebook:
    def test_finishing_a_linked_quiz_sends_its_score(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        attempt = take_quiz(learner_client, learner, quiz, right=2)
        grades.wait_for_background_sends()
        [received] = lti_platform.scores
        assert received.lineitem_url == link.lineitem_url
        score = received.score
        assert score["userId"] == "learner-1"
        assert (score["scoreGiven"], score["scoreMaximum"]) == (66.67, 100)
        assert (score["activityProgress"], score["gradingProgress"]) == (
            "Completed",
            "FullyGraded",
        )
        assert score["timestamp"].startswith(attempt.finished_at.isoformat()[:19])
        send = GradeSend.objects.get()
        assert (send.state, send.tries, send.last_error) == (GradeSendState.SENT, 1, "")
        assert send.sent_at is not None
        page = result_page(learner_client, attempt)
        assertContains(page, "Sent to Physiology 101&#x27;s gradebook")
        assertContains(page, "66.67 out of 100")

    def test_the_lms_checks_the_token_request_against_the_tools_keys(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        # The test LMS verified the client assertion with the tool's JWKS, fetched over HTTP.
        [token_request] = lti_platform.token_requests
        assert token_request["iss"] == token_request["sub"] == lti_platform.client_id
        assert token_request["aud"] == lti_platform.token_url
        assert token_request["scope"] == SCORE_SCOPE
        assert lti_platform.scores[0].access_token in lti_platform.issued_tokens

    def test_the_answer_does_not_wait_for_a_slow_lms(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        lti_platform.score_gate = threading.Event()
        attempt = take_quiz(learner_client, learner, quiz)  # answered while the LMS holds
        send = GradeSend.objects.get(attempt=attempt)
        assert send.state == GradeSendState.WAITING
        assertContains(result_page(learner_client, attempt), "On its way to Physiology 101")
        lti_platform.score_gate.set()
        grades.wait_for_background_sends()
        send.refresh_from_db()
        assert send.state == GradeSendState.SENT

    def test_an_expired_attempt_sends_what_it_scored(
        self, lti_platform, learner, quiz, link, lms_user
    ):
        attempt = services.start_attempt(learner=learner, quiz=quiz)
        Attempt.objects.filter(pk=attempt.pk).update(deadline=timezone.now() - timedelta(1))
        attempt.refresh_from_db()
        services.expire_if_overdue(attempt=attempt)
        grades.wait_for_background_sends()
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [0]

    def test_the_course_challenge_sends_its_score_too(
        self, lti_platform, learner, course, lms_user
    ):
        challenge = services.course_quiz(QuizKind.CHALLENGE)
        graded_link(lti_platform, course, challenge, number=7)
        topic = TopicFactory()
        questions = [QuestionFactory(topic=topic) for _ in range(2)]
        attempt = Attempt.objects.create(
            learner=learner, quiz=challenge, question_ids=[each.pk for each in questions]
        )
        for question in questions:
            services.record_answer(
                attempt=attempt, question_id=question.pk, answer=_right_answer(question)
            )
        grades.wait_for_background_sends()
        [received] = lti_platform.scores
        assert received.lineitem_url == lti_platform.lineitem_url(7)
        assert received.score["scoreGiven"] == 100


def _right_answer(question: Question) -> object:
    from learning import question_types
    from learning.versions import current_key

    return question_types.get(question.type).sample_answer(current_key(question))


class TestWhichScore:
    def test_best_sends_the_best_finished_score(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        assert quiz.lms_grade == LmsGrade.BEST
        take_quiz(learner_client, learner, quiz, right=3)
        take_quiz(learner_client, learner, quiz, right=1)
        grades.wait_for_background_sends()
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [100, 100]
        latest = Attempt.objects.filter(learner=learner).order_by("sequence").last()
        assertContains(result_page(learner_client, latest), "your best score on this quiz")

    def test_latest_sends_this_attempts_score(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        Quiz.objects.filter(pk=quiz.pk).update(lms_grade=LmsGrade.LATEST)
        take_quiz(learner_client, learner, quiz, right=3)
        # Each finish sends from a thread of its own: two in flight at once may reach the
        # LMS in either order (it keeps the one with the later timestamp, as AGS says).
        grades.wait_for_background_sends()
        take_quiz(learner_client, learner, quiz, right=1)
        grades.wait_for_background_sends()
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [100, 33.33]
        first, second = (score.score["timestamp"] for score in lti_platform.scores)
        assert first < second


class TestARegrade:
    """A teacher's regrade moves scores: the gradebook gets the new one (review finding:
    it kept the score of before)."""

    def regrade_numeric_key(self, quiz: Quiz, teacher: User) -> None:
        question = Question.objects.get(topic=quiz.topic, key="numeric")
        assert question.numeric_answer is not None
        question.numeric_answer += 1000  # the answers given are now wrong
        question.numeric_tolerance = 0
        question.save()
        question = Question.objects.get(pk=question.pk)  # as the confirm button reads it
        plan = regrading.plan_regrade(question=question)
        regrading.apply_regrade(question=question, teacher=teacher, token=plan.token)

    def test_the_new_score_is_sent(
        self, lti_platform, learner_client, learner, quiz, link, lms_user, teacher
    ):
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        self.regrade_numeric_key(quiz, teacher)
        grades.wait_for_background_sends()
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [100, 66.67]
        send = GradeSend.objects.get()  # the attempt's own send, sent again
        assert (send.state, send.score_given) == (GradeSendState.SENT, Decimal("66.67"))

    def test_best_sends_the_best_after_the_regrade(
        self, lti_platform, learner_client, learner, quiz, link, lms_user, teacher
    ):
        take_quiz(learner_client, learner, quiz)  # 100
        take_quiz(learner_client, learner, quiz, right=0)  # 0: the best is still 100
        grades.wait_for_background_sends()
        self.regrade_numeric_key(quiz, teacher)  # the first falls to 66.67
        grades.wait_for_background_sends()
        given = [score.score["scoreGiven"] for score in lti_platform.scores]
        assert given == [100, 100, 66.67]

    def test_a_regrade_that_leaves_the_score_sends_nothing(
        self, lti_platform, learner_client, learner, quiz, link, lms_user, teacher
    ):
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        question = Question.objects.get(topic=quiz.topic, key="numeric")
        question.numeric_tolerance += 1  # a wider tolerance: the answer stays right
        question.save()
        question = Question.objects.get(pk=question.pk)
        plan = regrading.plan_regrade(question=question)
        regrading.apply_regrade(question=question, teacher=teacher, token=plan.token)
        grades.wait_for_background_sends()
        assert len(lti_platform.scores) == 1

    def test_learners_without_an_lms_link_cost_no_send(
        self, lti_platform, learner_client, learner, quiz, teacher
    ):
        take_quiz(learner_client, learner, quiz)
        self.regrade_numeric_key(quiz, teacher)
        grades.wait_for_background_sends()
        assert lti_platform.scores == [] and not GradeSend.objects.exists()


class TestWhenTheLmsCannotBeReached:
    def test_a_503_is_tried_again_by_the_command_once_the_wait_is_over(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        lti_platform.failing_score_posts = 1
        attempt = take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        send = GradeSend.objects.get()
        assert (send.state, send.tries) == (GradeSendState.RETRYING, 1)
        assert "503" in send.last_error and "maintenance" in send.last_error
        assert send.next_try_at > timezone.now()
        page = result_page(learner_client, attempt)
        assertContains(page, "Not reached yet: trying again")
        # Not due yet: the command leaves it.
        call_command("send_lms_grades", stdout=(out := io.StringIO()))
        assert lti_platform.scores == []
        assert "0 sent" in out.getvalue()
        with finish_the_wait(send):
            call_command("send_lms_grades", stdout=(out := io.StringIO()))
        assert out.getvalue() == (
            "LMS grades: 1 sent; 0 not reached (to be tried again); 0 given up; "
            "0 replaced by a later score.\n"
        )
        send.refresh_from_db()
        assert (send.state, send.tries, send.last_error) == (GradeSendState.SENT, 2, "")
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [100]
        assertContains(result_page(learner_client, attempt), "Sent to Physiology 101")
        # Run again: nothing more is sent.
        call_command("send_lms_grades", stdout=io.StringIO())
        assert len(lti_platform.scores) == 1

    def test_it_gives_up_after_the_last_try_and_says_so(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        lti_platform.failing_score_posts = 100
        attempt = take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        send = GradeSend.objects.get()
        tries_at = []
        while send.state == GradeSendState.RETRYING:
            tries_at.append(send.next_try_at)
            with finish_the_wait(send):
                call_command("send_lms_grades", stdout=io.StringIO())
                send.refresh_from_db()
        assert (send.state, send.tries) == (GradeSendState.GAVE_UP, grades.MAX_TRIES)
        assert send.next_try_at is None
        assert len(tries_at) == grades.MAX_TRIES - 1
        waits = [later - earlier for earlier, later in itertools.pairwise(tries_at)]
        assert all(shorter < longer for shorter, longer in itertools.pairwise(waits))  # growing
        page = result_page(learner_client, attempt)
        assertContains(page, "Not sent to Physiology 101&#x27;s gradebook")
        assertContains(page, f"after {grades.MAX_TRIES} tries")
        assert lti_platform.scores == []

    def test_an_unreachable_lms_is_said_in_words(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        GradedLink.objects.filter(pk=link.pk).update(
            lineitem_url="http://127.0.0.1:9/lineitems/1/"  # nothing listens there
        )
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        send = GradeSend.objects.get()
        assert send.state == GradeSendState.RETRYING
        assert send.last_error == "The LMS could not be reached (no connection)."

    def test_a_late_retry_never_overwrites_a_newer_score(
        self, lti_platform, learner_client, learner, quiz, link, lms_user
    ):
        Quiz.objects.filter(pk=quiz.pk).update(lms_grade=LmsGrade.LATEST)
        lti_platform.failing_score_posts = 1
        first = take_quiz(learner_client, learner, quiz, right=3)
        grades.wait_for_background_sends()
        older = GradeSend.objects.get(attempt=first)
        assert older.state == GradeSendState.RETRYING
        retry_at = older.next_try_at + timedelta(seconds=1)
        second = take_quiz(learner_client, learner, quiz, right=0)
        grades.wait_for_background_sends()
        with time_machine.travel(retry_at, tick=True):
            call_command("send_lms_grades", stdout=io.StringIO())
        older.refresh_from_db()
        assert older.state == GradeSendState.SUPERSEDED
        assert [score.score["scoreGiven"] for score in lti_platform.scores] == [0]
        assertContains(result_page(learner_client, first), "Replaced in Physiology 101")
        assertContains(result_page(learner_client, second), "Sent to Physiology 101")

    def test_two_senders_at_once_send_each_score_once(
        self, lti_platform, learner, other_learner, registration, course, quiz, link
    ):
        lms_learner(registration, course, learner, sub="learner-1")
        lms_learner(registration, course, other_learner, sub="learner-2")
        lti_platform.failing_score_posts = 2
        for each in (learner, other_learner):
            client = Client()
            client.force_login(each)
            take_quiz(client, each, quiz)
        grades.wait_for_background_sends()
        assert set(GradeSend.objects.values_list("state", flat=True)) == {"retrying"}
        tallies: list[grades.SendTally] = []

        def send_due() -> None:
            try:
                tallies.append(grades.send_due())
            finally:
                connection.close()

        with finish_the_wait(GradeSend.objects.order_by("next_try_at").last()):
            senders = [threading.Thread(target=send_due) for _ in range(2)]
            for sender in senders:
                sender.start()
            for sender in senders:
                sender.join(60)
        assert sorted(score.score["userId"] for score in lti_platform.scores) == [
            "learner-1",
            "learner-2",
        ]
        assert sum(tally.states.get("sent", 0) for tally in tallies) == 2


def test_a_send_whose_sender_kept_crashing_is_given_up_not_claimed_for_ever(
    lti_platform, learner_client, learner, quiz, link, lms_user
):
    # Review finding: only an LMS failure in words counted towards giving up; a send whose
    # sender died each time was claimed again every lease, without end.
    take_quiz(learner_client, learner, quiz)
    grades.wait_for_background_sends()
    send = GradeSend.objects.get()
    GradeSend.objects.filter(pk=send.pk).update(
        state=GradeSendState.RETRYING,
        tries=grades.MAX_TRIES,
        next_try_at=timezone.now() - timedelta(seconds=1),
    )
    assert grades.send_grade(send.pk) == GradeSendState.GAVE_UP
    send.refresh_from_db()
    assert (send.state, send.next_try_at) == (GradeSendState.GAVE_UP, None)
    assert "failed unexpectedly" in send.last_error
    assert len(lti_platform.scores) == 1  # the first send only
    assert grades.send_grade(send.pk) is None


class TestWhoseScoresGo:
    def test_no_score_for_a_learner_outside_the_links_course(
        self, lti_platform, client, registration, quiz, link
    ):
        elsewhere = lms_course(lti_platform, registration, context_id="course-202", title="Other")
        outsider = UserFactory()
        lms_learner(registration, elsewhere, outsider, sub="outsider")
        client.force_login(outsider)
        attempt = take_quiz(client, outsider, quiz)
        grades.wait_for_background_sends()
        assert not GradeSend.objects.exists()
        assert lti_platform.scores == []
        assertNotContains(result_page(client, attempt), "gradebook")

    def test_no_score_once_the_learner_is_inactive_in_the_course(
        self, lti_platform, client, registration, course, quiz, link
    ):
        former = UserFactory()
        lms_learner(registration, course, former, sub="former", active=False)
        client.force_login(former)
        take_quiz(client, former, quiz)
        assert not GradeSend.objects.exists()

    @pytest.mark.parametrize("switched_off", ["registration", "deployment"])
    def test_no_score_to_a_platform_switched_off_in_the_admin(
        self,
        lti_platform,
        learner_client,
        learner,
        registration,
        quiz,
        link,
        lms_user,
        switched_off,
    ):
        # Review finding: scores still went to a platform a superuser had switched off.
        if switched_off == "registration":
            LtiRegistration.objects.filter(pk=registration.pk).update(is_active=False)
        else:
            registration.deployments.update(is_active=False)
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        assert not GradeSend.objects.exists()
        assert lti_platform.scores == []

    def test_a_learner_without_lms_links_costs_no_query_more(
        self, lti_platform, learner_client, learner, quiz, link, lms_user, other_learner
    ):
        """The last answer (tests/test_lean_paths.py pins the rest): a linked learner's
        costs the reads of its links and scores, one without links nothing more."""

        def last_answer_queries(client: Client, who: User) -> list[str]:
            attempt = services.start_attempt(learner=who, quiz=quiz)
            for position in range(1, attempt.question_total + 1):
                question = Question.objects.get(pk=attempt.question_ids[position - 1])
                url = reverse("learning:question", args=[attempt.pk, position])
                data = answer_post(question, True, attempt)
                if position < attempt.question_total:
                    client.post(url, data, HTTP_HX_REQUEST="true")
                    continue
                with CaptureQueriesContext(connection) as captured:
                    client.post(url, data, HTTP_HX_REQUEST="true")
            return [query["sql"] for query in captured.captured_queries]

        other_client = Client()
        other_client.force_login(other_learner)
        # Each takes the quiz once first: the questions' versions are stored, as in use.
        take_quiz(learner_client, learner, quiz)
        take_quiz(other_client, other_learner, quiz)
        linked = last_answer_queries(learner_client, learner)
        unlinked = last_answer_queries(other_client, other_learner)
        grades.wait_for_background_sends()
        assert not [sql for sql in unlinked if "learning_gradesend" in sql]
        assert (
            len([sql for sql in linked if sql.startswith('INSERT INTO "learning_gradesend"')]) == 1
        )
        # The links (with the learner's LTI user), the best earlier score, the sends' INSERT
        # and the UPDATE superseding older ones.
        assert len(linked) == len(unlinked) + 4
        assert {send.attempt.learner for send in GradeSend.objects.all()} == {learner}


class TestTheAdminList:
    @pytest.fixture
    def taught_course(self, lti_platform, registration, teacher) -> LmsClass:
        return lms_course(lti_platform, registration, teachers=(teacher,))

    def test_a_teacher_follows_their_learners_scores_and_sends_them_again(
        self, lti_platform, teacher_client, learner, registration, taught_course, quiz
    ):
        graded_link(lti_platform, taught_course, quiz)
        lms_learner(registration, taught_course, learner)
        stranger = UserFactory(username="not-my-learner")
        elsewhere = lms_course(lti_platform, registration, context_id="c-2", title="Elsewhere")
        graded_link(lti_platform, elsewhere, quiz, number=2)
        lms_learner(registration, elsewhere, stranger, sub="stranger")
        lti_platform.failing_score_posts = 100
        for each in (learner, stranger):
            client = Client()
            client.force_login(each)
            take_quiz(client, each, quiz)
        grades.wait_for_background_sends()
        mine = GradeSend.objects.get(attempt__learner=learner)
        GradeSend.objects.filter(pk=mine.pk).update(state=GradeSendState.GAVE_UP)
        changelist = reverse("admin:learning_gradesend_changelist")
        page = teacher_client.get(changelist, {"state": "gave_up"})
        assertContains(page, "ada")
        assertContains(page, "Physiology 101")
        assertContains(page, "The LMS answered 503")
        assertNotContains(page, "not-my-learner")
        assertNotContains(teacher_client.get(changelist, {"state": "sent"}), "Physiology 101")
        lti_platform.failing_score_posts = 0
        response = teacher_client.post(
            changelist,
            {"action": "send_again_now", "_selected_action": [mine.pk]},
            follow=True,
        )
        assertContains(response, "Sent again: 1 sent")
        mine.refresh_from_db()
        assert (mine.state, mine.tries) == (GradeSendState.SENT, 1)
        assert [score.score["userId"] for score in lti_platform.scores] == ["learner-1"]
        # Sent already: left as it is.
        response = teacher_client.post(
            changelist, {"action": "send_again_now", "_selected_action": [mine.pk]}, follow=True
        )
        assertContains(response, "1 left as they were")
        assert len(lti_platform.scores) == 1

    def test_another_teachers_learners_sends_are_not_found(
        self, lti_platform, teacher_client, learner, registration, course, quiz, link, lms_user
    ):
        learner_client = Client()
        learner_client.force_login(learner)
        take_quiz(learner_client, learner, quiz)
        grades.wait_for_background_sends()
        send = GradeSend.objects.get()
        url = reverse("admin:learning_gradesend_change", args=[send.pk])
        assert teacher_client.get(url).status_code == 404

    def test_the_list_costs_the_same_for_many_scores(
        self, lti_platform, teacher_client, registration, taught_course, quiz
    ):
        graded_link(lti_platform, taught_course, quiz)
        changelist = reverse("admin:learning_gradesend_changelist")
        costs = []
        for number in range(3):
            each = UserFactory(username=f"learner-{number}")
            lms_learner(registration, taught_course, each, sub=f"sub-{number}")
            client = Client()
            client.force_login(each)
            take_quiz(client, each, quiz)
            grades.wait_for_background_sends()
            with CaptureQueriesContext(connection) as captured:
                assertContains(teacher_client.get(changelist), f"learner-{number}")
            costs.append(len(captured.captured_queries))
        # session (from Redis, when there is one: no query), user, its permissions (two),
        # the quiz filter's quizzes and topics, the counts (two), the page of scores with
        # their learners, quizzes and courses, the date hierarchy (two): the same for 1, 2
        # and 3 scores
        assert len(set(costs)) == 1 and costs[0] <= 11, costs


def test_the_score_is_what_ags_2_asks_for(
    lti_platform, learner_client, learner, quiz, link, lms_user
):
    """Assignment and Grade Services 2.0, the score publish service: its media type, the
    LMS's user id, a given score within the maximum, an ISO 8601 timestamp with its time
    zone and sub-second precision, and the two progress values of a finished attempt."""
    attempt = take_quiz(learner_client, learner, quiz, right=1)
    grades.wait_for_background_sends()
    [received] = lti_platform.scores
    assert received.content_type == "application/vnd.ims.lis.v1.score+json"
    assert received.lineitem_url == link.lineitem_url
    score = received.score
    assert set(score) == {
        "userId",
        "scoreGiven",
        "scoreMaximum",
        "activityProgress",
        "gradingProgress",
        "timestamp",
    }
    assert score["userId"] == lms_user.sub
    assert 0 <= score["scoreGiven"] <= score["scoreMaximum"] == 100
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", score["timestamp"])
    assert datetime.fromisoformat(score["timestamp"]) == attempt.finished_at.replace(
        microsecond=attempt.finished_at.microsecond // 1000 * 1000
    )
    assert (score["activityProgress"], score["gradingProgress"]) == ("Completed", "FullyGraded")


def test_sending_again_while_the_lms_hangs_does_not_hold_the_admin_page(
    lti_platform, teacher_client, learner, registration, quiz, monkeypatch
):
    """A teacher picks many scores during an LMS outage and sends them again: the page
    answers after about SEND_AGAIN_SECONDS (gunicorn stops a request at 60), the rest go
    on in the background."""
    taught = lms_course(
        lti_platform, registration, teachers=(User.objects.get(username="mrs-hill"),)
    )
    lms_user = lms_learner(registration, taught, learner)
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    services.finish_attempt(attempt=attempt)
    grades.wait_for_background_sends()
    sends = [
        GradeSend.objects.create(
            attempt=attempt,
            link=graded_link(lti_platform, taught, quiz, number=number),
            lti_user=lms_user,
            score_given=50,
            state=GradeSendState.GAVE_UP,
        )
        for number in range(1, 7)
    ]
    monkeypatch.setattr(connector, "SERVICE_TIMEOUT", 1)
    monkeypatch.setattr(grades, "SEND_AGAIN_SECONDS", 1.5)
    lti_platform.score_gate = threading.Event()  # the LMS takes a score but never answers
    started = time.monotonic()
    response = teacher_client.post(
        reverse("admin:learning_gradesend_changelist"),
        {"action": "send_again_now", "_selected_action": [send.pk for send in sends]},
        follow=True,
    )
    assert time.monotonic() - started < 4
    assertContains(response, "sent in the background")
    lti_platform.score_gate.set()
    grades.wait_for_background_sends()
    assert not GradeSend.objects.filter(state=GradeSendState.GAVE_UP).exists()
