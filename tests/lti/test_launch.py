"""An LMS launch through the test LMS (tests/lti_platform.py, real keys, live server): the
login initiation, the launch that signs in, the records it keeps, the roles, the class
the LMS course becomes, the page it opens and the graded link."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiContext, LtiMembership, LtiResourceLink, LtiUser
from pytest_django.asserts import assertContains, assertNotContains

from learning import services as course_services
from learning.lti.models import GradedLink, LmsClass
from learning.models import Classroom, Membership, Quiz, QuizKind
from learning.selectors import learners_taught_by
from learning.teachers import TEACHERS_GROUP
from tests.factories import TopicFactory, UserFactory
from tests.lti_platform import (
    ADMINISTRATOR,
    AGS,
    AGS_SCOPES,
    INSTRUCTOR,
    LEARNER,
    FakePlatform,
)

pytestmark = pytest.mark.django_db(transaction=True)

SYSTEM_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"
CONTEXT_ADMINISTRATOR = "http://purl.imsglobal.org/vocab/lis/v2/membership#Administrator"


def signed_in(client: Client) -> User | None:
    user = client.get(reverse("learning:glossary")).wsgi_request.user
    return user if user.is_authenticated else None


def login_params(platform: FakePlatform, registration, **changes) -> dict[str, str]:
    params = {
        "iss": platform.issuer,
        "client_id": registration.client_id,
        "login_hint": "hint-1",
        "lti_message_hint": "message-hint-1",
        "target_link_uri": f"{platform.base_url}/lti/launch/",
        "lti_deployment_id": platform.deployment_id,
    }
    params.update(changes)
    return {name: value for name, value in params.items() if value is not None}


class TestLoginInitiation:
    @pytest.mark.parametrize("method", ["get", "post"])
    def test_it_sends_the_browser_to_the_platform_with_state_and_nonce(
        self, lti_platform, client, method
    ):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        response = getattr(client, method)(url, login_params(lti_platform, registration))
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == registration.auth_url
        query = parse_qs(location.query)
        assert query["redirect_uri"] == [f"http://testserver{reverse('lti:launch')}"]
        assert query["client_id"] == [registration.client_id]
        assert query["login_hint"] == ["hint-1"]
        assert query["state"][0].startswith("state-") and query["nonce"][0]
        assert response.cookies[f"lti1p3-{query['state'][0]}"].value == query["state"][0]

    def test_a_login_without_client_id_finds_the_platform_by_its_url(self, lti_platform, client):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        response = client.get(url, login_params(lti_platform, registration, client_id=None))
        assert response.status_code == 302
        assert response["Location"].startswith(registration.auth_url)

    @pytest.mark.parametrize(
        ("missing", "said"),
        [
            ("iss", "did not say who it is"),
            ("login_hint", "did not say who it is or who is launching"),
            ("target_link_uri", "did not say which page to open"),
        ],
    )
    def test_a_login_missing_a_parameter_is_a_clear_400(self, lti_platform, client, missing, said):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        response = client.get(url, login_params(lti_platform, registration, **{missing: None}))
        assert response.status_code == 400
        assertContains(response, said, status_code=400)
        assert not any(name.startswith("lti1p3-") for name in response.cookies)

    @pytest.mark.parametrize("case", ["unknown", "switched off", "other issuer", "other client"])
    def test_a_login_for_a_platform_we_do_not_take_is_refused(self, lti_platform, client, case):
        registration = lti_platform.register()
        params = login_params(lti_platform, registration)
        url = reverse("lti:login", args=[registration.uuid])
        if case == "unknown":
            url = reverse("lti:login", args=["6c4ae0a4-0b8b-4d4c-9a53-2cfa1a7a4c11"])
        elif case == "switched off":
            registration.is_active = False
            registration.save()
        elif case == "other issuer":
            params["iss"] = "https://elsewhere.example"
        else:
            params["client_id"] = "someone-else"
        response = client.get(url, params)
        assert response.status_code == 403
        assertContains(response, "not registered here", status_code=403)

    @pytest.mark.parametrize("switched_off", [False, True])
    def test_a_login_for_a_deployment_we_do_not_take_is_refused(
        self, lti_platform, client, switched_off
    ):
        registration = lti_platform.register()
        params = login_params(lti_platform, registration)
        if switched_off:
            registration.deployments.update(is_active=False)
        else:
            params["lti_deployment_id"] = "deployment-nobody-registered"
        response = client.get(reverse("lti:login", args=[registration.uuid]), params)
        assertContains(response, "deployment is not registered here", status_code=403)


class TestTheCookieCheck:
    """Inside the LMS's frame the login first checks that the browser keeps our cookies
    there; PyLTI1p3's own check page is an inline script our CSP blocks, so ours is a
    template with the nonce."""

    def test_a_framed_login_checks_cookies_then_carries_on(self, lti_platform, client):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        params = login_params(lti_platform, registration)
        page = client.get(url, params, headers={"Sec-Fetch-Dest": "iframe"})
        assert page.status_code == 200
        assertContains(page, "Open the course in a new window")
        nonce = page.wsgi_request._csp_nonce
        assert f"'nonce-{nonce}'" in page["Content-Security-Policy"]
        assertContains(page, f'<script nonce="{nonce}">')
        continue_url = page.context["continue_url"]
        assert parse_qs(urlsplit(continue_url).query)["cookies_checked"] == ["1"]
        onward = client.get(continue_url, headers={"Sec-Fetch-Dest": "iframe"})
        assert onward.status_code == 302
        assert onward["Location"].startswith(registration.auth_url)
        query = parse_qs(urlsplit(onward["Location"]).query)
        assert query["login_hint"] == ["hint-1"]
        assert query["lti_message_hint"] == ["message-hint-1"]

    def test_a_login_in_a_window_of_its_own_goes_straight_on(self, lti_platform, client):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        params = login_params(lti_platform, registration)
        response = client.get(url, params, headers={"Sec-Fetch-Dest": "document"})
        assert response.status_code == 302


class TestLaunchSignsIn:
    def test_a_launch_signs_the_learner_in_as_an_account_of_its_own(self, lti_platform, client):
        registration = lti_platform.register()
        response = lti_platform.launch(client, registration)
        assert response.status_code == 302, response.content[:300]
        lti_user = LtiUser.objects.get(registration=registration, sub="learner-1")
        user = lti_user.auth_user
        assert user.username == f"lti-{lti_user.pk}"
        assert not user.has_usable_password()
        assert (user.get_full_name(), user.email) == ("Ada Lovelace", "ada@school.example")
        assert (user.is_staff, user.is_superuser) == (False, False)
        assert signed_in(client) == user
        assert client.session["lti_registration_id"] == registration.pk

    def test_the_name_and_email_follow_the_lms_and_are_never_blanked(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration)
        lti_platform.launch(client, registration, name="Ada King", email="ada@lovelace.example")
        user = User.objects.get(lti_users__sub="learner-1")
        assert (user.first_name, user.email) == ("Ada King", "ada@lovelace.example")
        lti_platform.launch(client, registration, name=None, email=None)
        user.refresh_from_db()
        assert (user.first_name, user.email) == ("Ada King", "ada@lovelace.example")
        assert User.objects.filter(lti_users__isnull=False).count() == 1

    def test_the_same_subject_of_two_platforms_is_two_accounts(self, lti_platform, client):
        first = lti_platform.register()
        lti_platform.launch(client, first)
        other = FakePlatform(
            base_url=lti_platform.base_url,
            issuer="https://other-lms.example",
            client_id="other-client",
            key=lti_platform.key,  # the test LMS's JWKS serves this key
        )
        second = other.register()
        other.launch(client, second)
        accounts = User.objects.filter(lti_users__sub="learner-1").distinct()
        assert accounts.count() == 2
        assert signed_in(client) == accounts.get(lti_users__registration=second)

    def test_sign_up_cannot_take_an_lms_accounts_name(self, client):
        for username in ("lti-1", "LTI-7", "Lti-ada"):
            response = client.post(
                reverse("learning:signup"),
                {
                    "username": username,
                    "password1": "a-long-pass-1234",
                    "password2": "a-long-pass-1234",
                },
            )
            assertContains(response, "kept for accounts made by an LMS", status_code=400)
        assert not User.objects.exists()

    def test_sign_up_with_a_taken_username_is_a_form_error_not_a_500(self, client):
        # Django's clean_username gives None for a name already taken (its error is added
        # aside), and the check for LMS names then raised AttributeError: a 500 found by
        # tests/test_hostile_input.py.
        UserFactory.create(username="ada")
        for fields in ({"username": "ada"}, {"username": "ADA"}, {"username": ""}, {}):
            response = client.post(
                reverse("learning:signup"),
                {**fields, "password1": "a-long-pass-1234", "password2": "a-long-pass-1234"},
            )
            assert response.status_code == 400
        assert User.objects.count() == 1

    def test_a_name_taken_in_the_admin_is_stepped_around(self, lti_platform, client):
        registration = lti_platform.register()
        taken = [UserFactory.create(username=f"LTI-{number}") for number in range(1, 4)]
        lti_platform.launch(client, registration)
        user = signed_in(client)
        assert user is not None and user not in taken
        assert user.username.lower() not in {t.username.lower() for t in taken}
        assert user.username.startswith("lti-")

    def test_another_persons_session_in_the_browser_is_replaced(self, lti_platform, client):
        registration = lti_platform.register()
        someone = UserFactory.create(username="someone")
        client.force_login(someone)
        old_key = client.session.session_key
        lti_platform.launch(client, registration)
        assert signed_in(client) == User.objects.get(lti_users__sub="learner-1")
        assert client.session.session_key != old_key
        assert not Session.objects.filter(session_key=old_key).exists()

    def test_the_same_persons_next_launch_gets_a_new_session_key(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration)
        first_key = client.session.session_key
        lti_platform.launch(client, registration)
        assert client.session.session_key != first_key
        assert signed_in(client) == User.objects.get(lti_users__sub="learner-1")


class TestTheRecordsKept:
    def test_context_membership_and_resource_link(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, resource_link_id="link-7")
        context = LtiContext.objects.get(id_on_platform="course-101")
        assert (context.title, context.label) == ("Physiology 101", "Physiology")
        assert context.deployment.deployment_id == lti_platform.deployment_id
        assert context.memberships_url == lti_platform.memberships_url
        assert context.lineitems_url == lti_platform.lineitems_url
        assert context.can_publish_scores and context.can_manage_lineitems
        assert context.can_access_results and context.is_course_offering
        membership = LtiMembership.objects.get(context=context, user__sub="learner-1")
        assert membership.is_learner and not membership.is_instructor
        link = LtiResourceLink.objects.get(context=context, id_on_platform="link-7")
        assert link.title == "Muscle spasms"

    def test_a_later_launch_updates_them_without_duplicating(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration)
        lti_platform.launch(client, registration, context_title="Physiology 101 (spring)")
        assert LtiContext.objects.get().title == "Physiology 101 (spring)"
        assert LtiMembership.objects.count() == LtiResourceLink.objects.count() == 1
        assert Classroom.objects.count() == 1

    def test_claims_too_long_for_their_columns_are_cut_or_left_out(
        self, lti_platform, client, quiz
    ):
        registration = lti_platform.register()
        long_url = "https://lms.example.edu/" + "x" * 1100
        response = lti_platform.launch(
            client,
            registration,
            name="Ada " + "L" * 700,
            email="a" * 64 + "@" + "b" * 250 + ".example",
            context_title="T" * 900,
            custom={"target": "quiz:how-muscles-work"},
            lineitem=long_url,
            **{
                "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                    "context_memberships_url": long_url,
                    "service_versions": ["2.0"],
                },
            },
        )
        assert response.status_code == 302
        user = signed_in(client)
        assert user is not None and len(user.first_name) == 150 and user.email == ""
        context = LtiContext.objects.get()
        assert len(context.title) == 500 and context.memberships_url == ""
        assert len(Classroom.objects.get().name) == 200
        assert not GradedLink.objects.exists()  # its line item URL does not fit


class TestRoles:
    @pytest.mark.parametrize(
        "roles",
        [
            [INSTRUCTOR],
            ["Instructor"],
            [CONTEXT_ADMINISTRATOR],
            ["Administrator"],
            [ADMINISTRATOR],  # the institution's
            [SYSTEM_ADMINISTRATOR],
        ],
        ids=[
            "instructor",
            "short-instructor",
            "administrator",
            "short-administrator",
            "institution-administrator",
            "system-administrator",
        ],
    )
    def test_an_instructor_or_administrator_teaches_the_lms_courses_class(
        self, lti_platform, client, roles
    ):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, sub="teacher-1", roles=roles)
        user = User.objects.get(lti_users__sub="teacher-1")
        assert user.is_staff and not user.is_superuser
        assert user.groups.filter(name=TEACHERS_GROUP).exists()
        classroom = Classroom.objects.get()
        assert classroom.name == "Physiology 101"
        assert LmsClass.objects.get().context.id_on_platform == "course-101"
        assert list(classroom.teachers.all()) == [user]
        assert not classroom.learners.exists()
        # and the admin opens for them
        assert client.get(reverse("admin:index")).status_code == 200

    def test_a_learner_joins_the_class_and_never_becomes_staff(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, roles=[LEARNER, "Mentor"])
        user = User.objects.get(lti_users__sub="learner-1")
        assert not user.is_staff and not user.groups.exists()
        assert Membership.objects.get().learner == user
        assert not Classroom.objects.get().teachers.exists()
        assert client.get(reverse("admin:index")).status_code == 302  # to the log-in

    def test_a_launch_with_no_role_joins_nothing(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, roles=[])
        assert signed_in(client) is not None
        assert not Membership.objects.exists() and not Classroom.objects.get().teachers.exists()

    def test_learning_elsewhere_takes_no_teaching_away(self, lti_platform, client):
        """The rule: a launch only adds. The teacher of course 101 who is a learner in
        course 202 keeps staff, the group and course 101's class."""
        registration = lti_platform.register()
        lti_platform.launch(client, registration, sub="t", roles=[INSTRUCTOR])
        lti_platform.launch(
            client,
            registration,
            sub="t",
            roles=[LEARNER],
            context_id="course-202",
            context_title="Anatomy 202",
        )
        user = User.objects.get(lti_users__sub="t")
        assert user.is_staff and user.groups.filter(name=TEACHERS_GROUP).exists()
        assert list(user.classes_taught.values_list("name", flat=True)) == ["Physiology 101"]
        assert list(user.classes_joined.values_list("name", flat=True)) == ["Anatomy 202"]

    def test_viewing_their_own_course_as_a_learner_keeps_the_teacher_its_teacher(
        self, lti_platform, client
    ):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, sub="t", roles=[INSTRUCTOR])
        lti_platform.launch(client, registration, sub="t", roles=[LEARNER])
        user = User.objects.get(lti_users__sub="t")
        classroom = Classroom.objects.get()
        assert list(classroom.teachers.all()) == [user]
        assert not classroom.learners.exists()  # not in their own report
        assert user.is_staff
        # what the LMS said last is recorded as it said it
        assert LtiMembership.objects.get().is_learner

    def test_two_lms_courses_are_two_classes(self, lti_platform, client):
        registration = lti_platform.register()
        lti_platform.launch(client, registration, sub="t", roles=[INSTRUCTOR])
        lti_platform.launch(
            client,
            registration,
            sub="t",
            roles=[INSTRUCTOR],
            context_id="course-202",
            context_title="Anatomy 202",
        )
        user = User.objects.get(lti_users__sub="t")
        assert sorted(user.classes_taught.values_list("name", flat=True)) == [
            "Anatomy 202",
            "Physiology 101",
        ]


def test_an_lms_teacher_sees_only_their_lms_courses_learners(lti_platform, quiz):
    """Teacher scope (tests/test_teacher_scope.py) holds for classes launches made: the
    teacher of course 101 sees course 101's learners in the reports, and nobody of
    course 202."""
    registration = lti_platform.register()
    mine = {"s-ann": "Ann Alpha", "s-bob": "Bob Alpha"}
    theirs = {"s-zoe": "Zoe Bravo", "s-yuri": "Yuri Bravo"}
    for sub, name in mine.items():
        lti_platform.launch(Client(), registration, sub=sub, name=name)
    for sub, name in theirs.items():
        lti_platform.launch(
            Client(),
            registration,
            sub=sub,
            name=name,
            context_id="course-202",
            context_title="Anatomy 202",
        )
    lti_platform.launch(
        Client(), registration, sub="other-teacher", roles=[INSTRUCTOR], context_id="course-202"
    )
    for sub in (*mine, *theirs):
        course_services.start_attempt(learner=User.objects.get(lti_users__sub=sub), quiz=quiz)
    teacher_client = Client()
    lti_platform.launch(teacher_client, registration, sub="teacher", roles=[INSTRUCTOR])
    teacher = User.objects.get(lti_users__sub="teacher")
    assert set(learners_taught_by(teacher).values_list("first_name", flat=True)) == set(
        mine.values()
    )
    report = teacher_client.get(reverse("admin:learning_progressreport_changelist"))
    attempts = teacher_client.get(reverse("admin:learning_attempt_changelist"))
    for page in (report, attempts):
        assert page.status_code == 200
        text = page.content.decode()
        for sub in mine:
            assert re.search(rf"\b{User.objects.get(lti_users__sub=sub).username}\b", text)
        for sub, name in theirs.items():
            assert name not in text
            assert not re.search(rf"\b{User.objects.get(lti_users__sub=sub).username}\b", text)
    for name in mine.values():
        assertContains(report, name)
    assertContains(report, "2 learners in your classes")


class TestTargets:
    @pytest.fixture
    def topic(self, quiz):
        return quiz.topic

    @pytest.mark.parametrize(
        ("target", "page"),
        [
            (None, "/"),
            ("", "/"),
            ("topic:how-muscles-work", "/topics/how-muscles-work/"),
            ("quiz:how-muscles-work", "/topics/how-muscles-work/quiz/"),
            ("review", "/review/"),
            ("challenge", "/challenge/"),
        ],
    )
    def test_a_target_opens_its_page(self, lti_platform, client, topic, target, page):
        registration = lti_platform.register()
        custom = None if target is None else {"target": target}
        response = lti_platform.launch(client, registration, custom=custom)
        assert response["Location"] == page
        landed = client.get(page)
        assert landed.status_code == 200
        assertNotContains(landed, "does not have, or not yet")

    @pytest.mark.parametrize(
        "target",
        [
            "topic:no-such-topic",
            "quiz:no-such-topic",
            "topic:a-draft",
            "quiz:a-draft",
            "quiz:no-quiz-yet",
            "lesson:how-muscles-work",
            "topic:",
            "everything",
        ],
    )
    def test_a_target_we_do_not_have_opens_the_course_page_saying_so(
        self, lti_platform, client, topic, target
    ):
        TopicFactory(slug="a-draft", is_published=False)
        TopicFactory(slug="no-quiz-yet")
        registration = lti_platform.register()
        response = lti_platform.launch(
            client, registration, custom={"target": target}, follow=True
        )
        assert response.redirect_chain == [("/", 302)]
        assertContains(response, "opens a page this course does not have, or not yet")
        assert signed_in(client) is not None


class TestGradedLinks:
    def test_a_quiz_link_with_a_line_item_is_graded(self, lti_platform, client, quiz):
        registration = lti_platform.register()
        lineitem = lti_platform.lineitem_url(7)
        lti_platform.launch(
            client, registration, custom={"target": "quiz:how-muscles-work"}, lineitem=lineitem
        )
        link = GradedLink.objects.get()
        assert (link.quiz, link.lineitem_url) == (quiz, lineitem)
        assert link.resource_link.id_on_platform == "link-1"

    def test_the_challenge_link_is_graded_and_a_changed_target_moves_it(
        self, lti_platform, client, quiz
    ):
        registration = lti_platform.register()
        lineitem = lti_platform.lineitem_url(7)
        lti_platform.launch(
            client, registration, custom={"target": "challenge"}, lineitem=lineitem
        )
        assert GradedLink.objects.get().quiz == Quiz.objects.get(kind=QuizKind.CHALLENGE)
        lti_platform.launch(
            Client(),
            registration,
            sub="learner-2",
            custom={"target": "quiz:how-muscles-work"},
            lineitem=lineitem,
        )
        assert GradedLink.objects.get().quiz == quiz

    @pytest.mark.parametrize(
        "case", ["no line item", "no score scope", "review", "a lesson", "an unknown quiz"]
    )
    def test_other_links_are_not_graded(self, lti_platform, client, quiz, case):
        registration = lti_platform.register()
        lineitem = lti_platform.lineitem_url(7)
        target = {"review": "review", "a lesson": "topic:how-muscles-work"}.get(
            case, "quiz:no-such-topic" if case == "an unknown quiz" else "quiz:how-muscles-work"
        )
        claims = {"custom": {"target": target}}
        if case != "no line item":
            claims["lineitem"] = lineitem
        if case == "no score scope":
            claims[AGS + "endpoint"] = {
                "scope": [scope for scope in AGS_SCOPES if not scope.endswith("/score")],
                "lineitems": lti_platform.lineitems_url,
                "lineitem": lineitem,
            }
        assert lti_platform.launch(client, registration, **claims).status_code == 302
        assert not GradedLink.objects.exists()


class TestDeepLinking:
    def test_a_teacher_is_signed_in_and_sent_to_the_picker(self, lti_platform, client):
        registration = lti_platform.register()
        response = lti_platform.launch(
            client,
            registration,
            sub="teacher",
            roles=[INSTRUCTOR],
            message_type="LtiDeepLinkingRequest",
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("lti:deep_link")
        teacher = User.objects.get(lti_users__sub="teacher")
        assert signed_in(client) == teacher and teacher.is_staff
        launch_id = client.session["lti_deep_link_launch_id"]
        assert launch_id.startswith("lti1p3-launch-")
        assert client.session["lti_registration_id"] == registration.pk
        assert Classroom.objects.get().teachers.get() == teacher
        assert not LtiResourceLink.objects.exists()

    def test_its_launch_can_be_restored_by_the_picker(self, lti_platform, client):
        from pylti1p3.contrib.django import DjangoMessageLaunch

        from learning.lti.tool import ToolConfig, launch_data_storage

        registration = lti_platform.register()
        lti_platform.launch(
            client,
            registration,
            sub="teacher",
            roles=[INSTRUCTOR],
            message_type="LtiDeepLinkingRequest",
        )
        request = client.get(reverse("learning:glossary")).wsgi_request
        restored = DjangoMessageLaunch.from_cache(
            client.session["lti_deep_link_launch_id"],
            request,
            ToolConfig(),
            launch_data_storage=launch_data_storage(),
        )
        assert restored.is_deep_link_launch()
        assert restored.get_launch_data()["sub"] == "teacher"


def test_a_switched_off_account_is_not_signed_in(lti_platform, client):
    registration = lti_platform.register()
    lti_platform.launch(client, registration)
    User.objects.filter(lti_users__sub="learner-1").update(is_active=False)
    fresh = Client()
    response = lti_platform.launch(fresh, registration)
    assertContains(response, "switched off", status_code=403)
    assert signed_in(fresh) is None
