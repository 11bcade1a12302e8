"""The roster (Names and Role Provisioning): a teacher of an LMS class fetches its member
list from the test LMS; learners become accounts and class members, leavers leave."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiContext, LtiMembership, LtiRegistration, LtiUser
from pytest_django.asserts import assertContains

from learning.models import Attempt, Classroom, LmsClass, Membership
from tests.factories import AttemptFactory, QuizFactory, UserFactory
from tests.lti.records import lms_course, lms_learner
from tests.lti_platform import INSTRUCTOR, LEARNER, NRPS_SCOPE, FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)


def member(sub: str, name: str, *, roles=(LEARNER,), status: str = "Active") -> dict:
    given, _, family = name.partition(" ")
    return {
        "user_id": sub,
        "status": status,
        "name": name,
        "given_name": given,
        "family_name": family,
        "email": f"{given.lower()}@school.example",
        "roles": list(roles),
    }


@pytest.fixture
def registration(lti_platform: FakePlatform) -> LtiRegistration:
    return lti_platform.register()


@pytest.fixture
def course(lti_platform, registration, teacher) -> LmsClass:
    return lms_course(lti_platform, registration, teachers=(teacher,))


def fetch(client: Client, classroom: Classroom):
    return client.post(reverse("lti:roster", args=[classroom.pk]))


def said(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


class TestFetchingTheMemberList:
    def test_learners_become_accounts_and_class_members(
        self, lti_platform, teacher_client, course
    ):
        lti_platform.members = [
            member("s-1", "Ada Lovelace"),
            member("s-2", "Alan Turing", roles=["Learner"]),  # the short form of the role
            member("t-1", "Rosalind Franklin", roles=[INSTRUCTOR]),
        ]
        response = fetch(teacher_client, course.classroom)
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:learning_classroom_change", args=[course.classroom.pk]
        )
        assert said(response) == [
            "Fetched the member list from the LMS: 2 added, 0 updated, 0 removed (0 unchanged)."
        ]
        ada = User.objects.get(lti_users__sub="s-1")
        # The whole name in the first name, as a launch and sign-up keep it.
        assert (ada.first_name, ada.last_name, ada.email) == (
            "Ada Lovelace",
            "",
            "ada@school.example",
        )
        assert not ada.has_usable_password()
        assert set(course.classroom.learners.values_list("lti_users__sub", flat=True)) == {
            "s-1",
            "s-2",
        }
        assert not LtiUser.objects.filter(sub="t-1").exists()  # not a learner
        assert LtiMembership.objects.filter(
            context=course.context, user__sub="s-1", is_learner=True, is_active=True
        ).exists()
        course.refresh_from_db()
        assert course.roster_synced_at is not None
        # The LMS checked our token request against our JWKS, for the roster's scope.
        assert [request["scope"] for request in lti_platform.token_requests] == [NRPS_SCOPE]

    def test_a_later_launch_signs_in_the_account_the_roster_made(
        self, lti_platform, teacher_client, course, registration
    ):
        lti_platform.members = [member("s-1", "Ada Lovelace")]
        fetch(teacher_client, course.classroom)
        made = User.objects.get(lti_users__sub="s-1")
        learner_client = Client()
        assert lti_platform.launch(learner_client, registration, sub="s-1").status_code == 302
        assert learner_client.get("/").wsgi_request.user == made
        assert User.objects.filter(lti_users__sub="s-1").count() == 1

    def test_fetching_again_counts_changes_and_leavers_keep_their_records(
        self, lti_platform, teacher_client, course, registration
    ):
        leaver = UserFactory(username="leaver")
        lms_learner(registration, course, leaver, sub="s-3")
        attempt = AttemptFactory(
            learner=leaver, quiz=QuizFactory(), state="finished", percent=Decimal(80)
        )
        lti_platform.members = [member("s-1", "Ada Lovelace"), member("s-2", "Alan Turing")]
        fetch(teacher_client, course.classroom)
        lti_platform.members = [
            member("s-1", "Ada King"),  # her name changed in the LMS
            member("s-2", "Alan Turing"),
            member("s-3", "Lee Ver", status="Inactive"),
            member("s-4", "Never Here", status="Deleted"),  # unknown here: nothing to do
        ]
        response = fetch(teacher_client, course.classroom)
        assert said(response)[-1] == (
            "Fetched the member list from the LMS: 0 added, 1 updated, 1 removed (1 unchanged)."
        )
        assert User.objects.get(lti_users__sub="s-1").first_name == "Ada King"
        assert not Membership.objects.filter(learner=leaver).exists()
        assert Attempt.objects.get(pk=attempt.pk).learner == leaver  # nothing deleted
        assert LtiMembership.objects.get(user__sub="s-3").is_active is False
        assert not LtiUser.objects.filter(sub="s-4").exists()

    def test_the_lms_failing_is_a_message_not_an_error_page(
        self, lti_platform, teacher_client, course
    ):
        LtiContext.objects.filter(pk=course.context_id).update(
            memberships_url=lti_platform.url("no-such-endpoint/")
        )
        response = fetch(teacher_client, course.classroom)
        assert response.status_code == 302
        [message] = said(response)
        assert message.startswith("The member list could not be fetched from the LMS.")
        assert "404" in message
        # The LMS's error page is HTML: it is left out, not shown as escaped markup.
        assert "<" not in message and "doctype" not in message.lower()
        assert not course.classroom.learners.exists()

    def test_a_member_id_longer_than_an_lms_may_send_is_skipped_not_a_500(
        self, lti_platform, teacher_client, course
    ):
        # LTI caps a user id at 255 characters; PostgreSQL refused the whole roster on one
        # longer id with a database error (a 500), SQLite kept an account no launch reaches.
        lti_platform.members = [member("s" * 256, "Too Long"), member("s-1", "Ada Lovelace")]
        response = fetch(teacher_client, course.classroom)
        assert response.status_code == 302
        assert said(response) == [
            "Fetched the member list from the LMS: 1 added, 0 updated, 0 removed (0 unchanged)."
            " 1 member the LMS listed could not be read and was left out."
        ]
        assert list(course.classroom.learners.values_list("lti_users__sub", flat=True)) == ["s-1"]

    def test_a_course_without_the_service_says_so(self, lti_platform, teacher_client, course):
        LtiContext.objects.filter(pk=course.context_id).update(memberships_url="")
        [message] = said(fetch(teacher_client, course.classroom))
        assert "has not offered its member list" in message
        assert lti_platform.membership_requests == 0

    def test_the_class_page_offers_it(self, lti_platform, teacher_client, course):
        page = teacher_client.get(
            reverse("admin:learning_classroom_change", args=[course.classroom.pk])
        )
        assertContains(page, reverse("lti:roster", args=[course.classroom.pk]))
        assertContains(page, "Fetch the member list from the LMS")
        other = Classroom.objects.create(name="Not from an LMS")
        other.teachers.add(course.classroom.teachers.get())
        page = teacher_client.get(reverse("admin:learning_classroom_change", args=[other.pk]))
        assert "Fetch the member list" not in page.content.decode()


class TestWhoMayFetchIt:
    def test_another_teacher_is_refused(self, lti_platform, client, course):
        someone = UserFactory(username="another-teacher", is_staff=True)
        client.force_login(someone)
        assert fetch(client, course.classroom).status_code == 403
        assert lti_platform.membership_requests == 0

    def test_a_learner_is_refused(self, lti_platform, client, course):
        client.force_login(UserFactory())
        assert fetch(client, course.classroom).status_code == 403

    def test_a_superuser_may(self, lti_platform, client, course):
        client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
        lti_platform.members = [member("s-1", "Ada Lovelace")]
        assert fetch(client, course.classroom).status_code == 302
        assert lti_platform.membership_requests == 1

    def test_a_visitor_is_sent_to_log_in(self, lti_platform, client, course):
        response = fetch(client, course.classroom)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))

    def test_it_takes_only_a_post(self, lti_platform, teacher_client, course):
        assert (
            teacher_client.get(reverse("lti:roster", args=[course.classroom.pk])).status_code
            == 405
        )

    def test_a_class_that_is_no_lms_course_is_not_found(self, lti_platform, teacher_client):
        classroom = Classroom.objects.create(name="Joined by code")
        classroom.teachers.add(User.objects.get(username="mrs-hill"))
        assert fetch(teacher_client, classroom).status_code == 404


# Valid in a JSON string, refused by the database: a NUL (PostgreSQL) and a lone
# surrogate (any database).
NUL = "\x00"
SURROGATE = "\ud800"


class TestAHostileRoster:
    def test_ids_no_column_takes_are_skipped_and_names_cleaned(
        self, lti_platform, teacher_client, course
    ):
        lti_platform.members = [
            member("s" * 256, "Too Long"),
            member(f"s{NUL}2", "Nul Id"),
            member(f"s{SURROGATE}3", "Broken Id"),
            {**member("s-4", "Ada Lovelace"), "name": f"Ada{NUL} Love{SURROGATE}lace"},
            {**member("s-5", "Alan Turing"), "given_name": f"Al{SURROGATE}an"},
        ]
        response = fetch(teacher_client, course.classroom)
        assert said(response) == [
            "Fetched the member list from the LMS: 2 added, 0 updated, 0 removed (0 unchanged). "
            "3 members the LMS listed could not be read and were left out."
        ]
        assert set(LtiUser.objects.values_list("sub", flat=True)) == {"s-4", "s-5"}
        assert User.objects.get(lti_users__sub="s-4").first_name == "Ada Lovelace"
        assert LtiUser.objects.get(sub="s-4").name == "Ada Lovelace"
        assert LtiUser.objects.get(sub="s-5").given_name == "Alan"

    def test_the_same_subject_on_another_platform_is_another_person(
        self, lti_platform, teacher_client, course
    ):
        elsewhere = FakePlatform(base_url=lti_platform.base_url, issuer="https://other.example")
        someone = UserFactory(username="someone-elsewhere", first_name="Someone Else")
        lms_learner(elsewhere.register(), None, someone, sub="s-1")
        lti_platform.members = [member("s-1", "Ada Lovelace")]
        fetch(teacher_client, course.classroom)
        assert list(course.classroom.learners.all()) == [
            User.objects.get(
                lti_users__sub="s-1", lti_users__registration__issuer=lti_platform.issuer
            )
        ]
        someone.refresh_from_db()
        assert someone.first_name == "Someone Else"
        assert not course.classroom.learners.filter(pk=someone.pk).exists()

    def test_a_teacher_of_the_class_is_not_made_one_of_its_learners(
        self, lti_platform, teacher_client, course, registration, teacher
    ):
        """As a launch does it: the LMS may list a course's teacher as a learner too."""
        lms_learner(registration, None, teacher, sub="t-1")
        lti_platform.members = [member("t-1", "Mrs Hill", roles=(INSTRUCTOR, LEARNER))]
        fetch(teacher_client, course.classroom)
        assert not course.classroom.learners.filter(pk=teacher.pk).exists()
        assert course.classroom.teachers.filter(pk=teacher.pk).exists()


def test_a_big_roster_costs_a_few_queries_a_member(
    lti_platform, teacher_client, course, django_assert_max_num_queries
):
    """Linear in the roster, each member in a fixed number of queries (SQLite's savepoints
    counted): a new one about 22 (their LMS account locked or made, their account made and
    named, their LMS membership, their class membership, page versions bumped), one
    already there 8 (read, locked, memberships confirmed)."""
    lti_platform.members = [member(f"s-{n}", f"Learner Number{n}") for n in range(60)]
    with django_assert_max_num_queries(20 + 23 * 60):
        fetch(teacher_client, course.classroom)
    assert course.classroom.learners.count() == 60
    with django_assert_max_num_queries(20 + 8 * 60):
        said_again = said(fetch(teacher_client, course.classroom))
    assert said_again[-1].endswith("(60 unchanged).")


class TestPages:
    def test_every_page_is_read_its_link_as_the_lms_wrote_it(
        self, lti_platform, teacher_client, course
    ):
        lti_platform.member_pages = [
            [member("s-1", "Ada Lovelace")],
            [member("s-2", "Alan Turing")],
            [member("s-3", "Grace Hopper")],
        ]
        response = fetch(teacher_client, course.classroom)
        assert said(response)[-1].startswith("Fetched the member list from the LMS: 3 added")
        assert lti_platform.membership_requests == 3

    def test_a_roster_whose_pages_never_end_is_refused_in_words(
        self, lti_platform, teacher_client, course
    ):
        lti_platform.members = [member("s-1", "Ada Lovelace")]
        lti_platform.roster_loops = True
        [message] = said(fetch(teacher_client, course.classroom))
        assert message.startswith("The member list could not be fetched from the LMS.")
        assert "page it gave already" in message
        assert lti_platform.membership_requests == 1
        assert not course.classroom.learners.exists()

    def test_a_roster_nested_too_deep_to_read_is_said_in_words(
        self, lti_platform, teacher_client, course
    ):
        lti_platform.roster_text = "[" * 100_000 + "]" * 100_000
        [message] = said(fetch(teacher_client, course.classroom))
        assert message.startswith("The member list could not be fetched from the LMS.")
        assert "could not be read" in message

    def test_a_roster_that_is_no_json_is_said_in_words_not_a_parser_s(
        self, lti_platform, teacher_client, course
    ):
        # Second tryout: an HTML page answered 200 gave "Expecting value: line 1 column 1".
        lti_platform.roster_text = "<!doctype html><title>Log in to Moodle</title>"
        [message] = said(fetch(teacher_client, course.classroom))
        assert message == (
            "The member list could not be fetched from the LMS. The LMS's answer could not "
            "be read: it was not the data the service promises."
        )
