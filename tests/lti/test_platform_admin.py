"""LMS platforms in the admin: superusers only, checked registrations, deployments on when
entered, and the page the LMS administrator pastes from."""

import html
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import Permission, User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from lti_tool.models import Key, LtiContext, LtiDeployment, LtiRegistration, LtiUser
from pytest_django.asserts import assertContains, assertNotContains

from learning.lti import keys
from learning.models import Classroom, LmsClass
from tests.factories import TopicFactory, UserFactory
from tests.lti_platform import FakePlatform

pytestmark = pytest.mark.django_db

LIST = "admin:lti_tool_ltiregistration_changelist"
ADD = "admin:lti_tool_ltiregistration_add"
LTI_ADMIN_LISTS = (
    "admin:lti_tool_ltiregistration_changelist",
    "admin:lti_tool_ltiregistration_add",
    "admin:lti_tool_lticontext_changelist",
    "admin:lti_tool_ltiuser_changelist",
    "admin:lti_tool_key_changelist",
)


@pytest.fixture
def superuser_client() -> Client:
    client = Client()
    client.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def tool_key() -> Key:
    call_command("ensure_lti_key", stdout=io.StringIO())
    key = keys.signing_key()
    assert key is not None
    return key


def moodle(**fields: object) -> LtiRegistration:
    values: dict[str, object] = {
        "name": "Moodle at Hill School",
        "issuer": "https://moodle.hill.example",
        "client_id": "aBc123",
        "auth_url": "https://moodle.hill.example/mod/lti/auth.php",
        "token_url": "https://moodle.hill.example/mod/lti/token.php",
        "keyset_url": "https://moodle.hill.example/mod/lti/certs.php",
    }
    values.update(fields)
    registration = LtiRegistration.objects.create(**values)
    LtiDeployment.objects.create(registration=registration, deployment_id="7", is_active=True)
    return registration


def form_data(**fields: str) -> dict[str, str]:
    """The add form as a superuser fills it, with one deployment ID."""
    data = {
        "name": "Canvas at Hill School",
        "issuer": "https://canvas.instructure.com",
        "client_id": "10000000000042",
        "auth_url": "https://sso.canvaslms.com/api/lti/authorize_redirect",
        "token_url": "https://sso.canvaslms.com/login/oauth2/token",
        "keyset_url": "https://sso.canvaslms.com/api/lti/security/jwks",
        "audience": "",
        "is_active": "on",
        "deployments-TOTAL_FORMS": "1",
        "deployments-INITIAL_FORMS": "0",
        "deployments-MIN_NUM_FORMS": "0",
        "deployments-MAX_NUM_FORMS": "1000",
        "deployments-0-deployment_id": "12:a1b2c3",
        "deployments-0-is_active": "on",
    }
    data.update(fields)
    return {name: value for name, value in data.items() if value is not None}


def setup_page(client: Client, registration: LtiRegistration, **extra: Any):
    url = reverse("admin:lti_tool_ltiregistration_setup", args=[registration.pk])
    return client.get(url, **extra)


def field_value(response, element_id: str) -> str:
    """The text of the read-only input or textarea with this id, unescaped."""
    page = response.content.decode()
    textarea = rf'<textarea id="{element_id}"[^>]*>(.*?)</textarea>'
    text_input = rf'<input id="{element_id}"[^>]*value="([^"]*)"'
    match = re.search(f"{textarea}|{text_input}", page, re.S)
    assert match, f"no field {element_id}"
    return html.unescape(match.group(1) if match.group(1) is not None else match.group(2))


class TestOnlySuperusers:
    def test_a_teacher_sees_no_lti_page_and_cannot_add_a_platform(self, teacher_client):
        registration = moodle()
        assertNotContains(teacher_client.get(reverse("admin:index")), "LTI")
        for name in LTI_ADMIN_LISTS:
            assert teacher_client.get(reverse(name)).status_code == 403, name
        for name in ("change", "setup", "delete"):
            url = reverse(f"admin:lti_tool_ltiregistration_{name}", args=[registration.pk])
            assert teacher_client.get(url).status_code == 403, name
        assert teacher_client.post(reverse(ADD), form_data()).status_code == 403
        change = reverse("admin:lti_tool_ltiregistration_change", args=[registration.pk])
        teacher_client.post(change, form_data(name="Taken over", issuer=registration.issuer))
        assert LtiRegistration.objects.get().name == "Moodle at Hill School"

    def test_staff_given_every_lti_permission_are_still_refused(self, client):
        office = UserFactory.create(username="office", is_staff=True)
        office.user_permissions.set(Permission.objects.filter(content_type__app_label="lti_tool"))
        client.force_login(office)
        for name in LTI_ADMIN_LISTS:
            assert client.get(reverse(name)).status_code == 403, name
        assertNotContains(client.get(reverse("admin:index")), "LTI")

    def test_a_superuser_sees_the_lti_tool_in_the_index(self, superuser_client):
        response = superuser_client.get(reverse("admin:index"))
        assertContains(response, "LTI registrations")
        assertContains(response, "LTI contexts")
        assertContains(response, "LTI users")
        for hidden in ("LTI memberships", "LTI resource links", "LTI line items"):
            assertNotContains(response, hidden)


class TestRegistering:
    def test_a_new_deployment_row_is_active_by_default(self, superuser_client):
        page = superuser_client.get(reverse(ADD)).content.decode()
        checkbox = re.search(r'<input[^>]*name="deployments-0-is_active"[^>]*>', page)
        assert checkbox and "checked" in checkbox.group(0)

    def test_a_superuser_registers_a_platform_and_lands_on_its_setup_page(self, superuser_client):
        response = superuser_client.post(reverse(ADD), form_data())
        registration = LtiRegistration.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "admin:lti_tool_ltiregistration_setup", args=[registration.pk]
        )
        assert registration.client_id == "10000000000042"
        deployment = registration.deployments.get()
        assert (deployment.deployment_id, deployment.is_active) == ("12:a1b2c3", True)

    @pytest.mark.parametrize(
        ("field", "value", "message"),
        [
            ("auth_url", "http://lms.example.edu/auth", "Use an https:// address"),
            ("token_url", "http://localhost:8080/token", "only for localhost or 127.0.0.1"),
            ("keyset_url", "ftp://lms.example.edu/jwks", "Use an https:// address"),
            ("issuer", "canvas", "Enter a full address"),
            ("issuer", "http://canvas.instructure.com", "Use an https:// address"),
            ("issuer", "https://lms.example.edu/?tenant=3", "without a query"),
            ("name", "", "This field is required"),
        ],
    )
    def test_a_bad_value_is_a_form_error_and_nothing_is_saved(
        self, superuser_client, field, value, message
    ):
        response = superuser_client.post(reverse(ADD), form_data(**{field: value}))
        assert response.status_code == 200
        assert message in str(response.context["adminform"].form.errors[field])
        assert not LtiRegistration.objects.exists()
        assert not LtiDeployment.objects.exists()

    def test_plain_http_on_localhost_is_accepted_while_debug_is_on(
        self, superuser_client, settings
    ):
        settings.DEBUG = True
        local = "http://127.0.0.1:8081"
        data = form_data(
            issuer=local,
            auth_url=f"{local}/mod/lti/auth.php",
            token_url="http://localhost:8081/mod/lti/token.php",
            keyset_url=f"{local}/mod/lti/certs.php",
        )
        assert superuser_client.post(reverse(ADD), data).status_code == 302
        assert LtiRegistration.objects.get().issuer == local

    def test_the_same_issuer_and_client_id_twice_is_refused_by_name(self, superuser_client):
        moodle(issuer="https://canvas.instructure.com", client_id="10000000000042")
        response = superuser_client.post(reverse(ADD), form_data(name="Canvas again"))
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert "“Moodle at Hill School” is already registered" in str(errors["client_id"])
        assert LtiRegistration.objects.count() == 1

    def test_a_platform_is_saved_without_its_client_id_but_not_switched_on(self, superuser_client):
        refused = superuser_client.post(reverse(ADD), form_data(client_id=""))
        assert "only once it has all the LMS gives: Client ID" in str(
            refused.context["adminform"].form.errors["is_active"]
        )
        assert not LtiRegistration.objects.exists()
        saved = superuser_client.post(reverse(ADD), form_data(client_id="", is_active=None))
        assert saved.status_code == 302
        registration = LtiRegistration.objects.get()
        assert (registration.client_id, registration.is_active) == ("", False)
        assertContains(superuser_client.get(saved["Location"]), "It still needs the client ID")

    def test_a_deployment_with_lms_courses_is_switched_off_not_deleted(self, superuser_client):
        registration = moodle()
        deployment = registration.deployments.get()
        LtiContext.objects.create(deployment=deployment, id_on_platform="c-1", title="Bio 9")
        change = reverse("admin:lti_tool_ltiregistration_change", args=[registration.pk])
        data = form_data(
            name=registration.name,
            issuer=registration.issuer,
            client_id=registration.client_id,
            **{
                "deployments-INITIAL_FORMS": "1",
                "deployments-0-id": str(deployment.pk),
                "deployments-0-registration": str(registration.pk),
                "deployments-0-deployment_id": "7",
                "deployments-0-DELETE": "on",
            },
        )
        response = superuser_client.post(change, data)
        assert response.status_code == 200
        assertContains(response, "switch it off (untick Active) instead of deleting it")
        assert LtiDeployment.objects.filter(pk=deployment.pk).exists()

    def test_a_platform_that_launched_cannot_be_deleted(self, superuser_client):
        used, unused = moodle(), moodle(name="Spare", client_id="spare")
        LtiUser.objects.create(registration=used, sub="learner-1")
        delete = "admin:lti_tool_ltiregistration_delete"
        assert superuser_client.get(reverse(delete, args=[used.pk])).status_code == 403
        assert (
            superuser_client.post(reverse(delete, args=[unused.pk]), {"post": "yes"}).status_code
            == 302
        )
        assert list(LtiRegistration.objects.all()) == [used]


class TestTheList:
    def test_each_platform_links_to_its_setup_page_in_a_fixed_number_of_queries(
        self, superuser_client, django_assert_max_num_queries
    ):
        registrations = [moodle(name=f"LMS {n}", client_id=f"client-{n}") for n in range(5)]
        LtiUser.objects.create(registration=registrations[0], sub="learner-1")
        # Session and user, the count, the page of platforms with their active deployments
        # and last launches, and the filter's counts.
        with django_assert_max_num_queries(8):
            response = superuser_client.get(reverse(LIST))
        for registration in registrations:
            setup = reverse("admin:lti_tool_ltiregistration_setup", args=[registration.pk])
            assertContains(response, f'href="{setup}"')
        assertContains(response, "No launch yet", count=4)

    def test_the_change_page_links_to_the_setup_page(self, superuser_client):
        registration = moodle()
        change = reverse("admin:lti_tool_ltiregistration_change", args=[registration.pk])
        setup = reverse("admin:lti_tool_ltiregistration_setup", args=[registration.pk])
        assertContains(superuser_client.get(change), f'href="{setup}"', count=2)


class TestTheSetupPage:
    def test_it_lists_absolute_https_urls_from_the_request_host(self, superuser_client, tool_key):
        registration = moodle()
        response = setup_page(superuser_client, registration, HTTP_HOST="localhost")
        assert response.status_code == 200
        base = "https://localhost"
        assert field_value(response, "login-url") == f"{base}/lti/login/{registration.uuid}/"
        for element_id in ("redirect-url", "target-link-uri", "deep-linking-url"):
            assert field_value(response, element_id) == f"{base}/lti/launch/"
        assert field_value(response, "jwks-url") == f"{base}/lti/jwks.json"
        assert field_value(response, "moodle-login") == f"{base}/lti/login/{registration.uuid}/"
        assert field_value(response, "public-key") == tool_key.public_key.strip()
        assertNotContains(response, tool_key.private_key.strip().splitlines()[1])

    def test_with_debug_on_the_urls_keep_the_requests_scheme(self, superuser_client, settings):
        settings.DEBUG = True
        response = setup_page(superuser_client, moodle())
        assert field_value(response, "jwks-url") == "http://testserver/lti/jwks.json"

    def test_the_canvas_json_is_ready_to_paste(self, superuser_client, tool_key):
        registration = moodle()
        config = json.loads(field_value(setup_page(superuser_client, registration), "canvas-json"))
        assert config["title"] == "Muscle Spasms, Explained"
        assert config["oidc_initiation_url"].endswith(f"/lti/login/{registration.uuid}/")
        assert config["target_link_uri"] == "https://testserver/lti/launch/"
        assert config["public_jwk_url"] == "https://testserver/lti/jwks.json"
        assert "https://purl.imsglobal.org/spec/lti-ags/scope/score" in config["scopes"]
        assert (
            "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly"
            in config["scopes"]
        )
        (extension,) = config["extensions"]
        assert (extension["platform"], extension["privacy_level"]) == (
            "canvas.instructure.com",
            "public",
        )
        assert extension["domain"] == "testserver"
        placements = {p["placement"]: p for p in extension["settings"]["placements"]}
        assert set(placements) == {"link_selection", "assignment_selection"}
        for placement in placements.values():
            assert placement["message_type"] == "LtiDeepLinkingRequest"
            assert placement["target_link_uri"] == "https://testserver/lti/launch/"
        assert config["custom_fields"] == {}

    def test_it_names_moodles_fields_and_the_services_to_enable(self, superuser_client):
        response = setup_page(superuser_client, moodle())
        for moodle_field in (
            "Tool URL",
            "LTI version",
            "Public key type",
            "Public keyset",
            "Initiate login URL",
            "Redirection URI(s)",
            "Supports Deep Linking (Content-Item Message)",
            "Content Selection URL",
            "IMS LTI Assignment and Grade Services",
            "IMS LTI Names and Role Provisioning",
            "Share launcher's name with tool",
            "Share launcher's email with tool",
        ):
            assertContains(response, moodle_field)
        assertContains(response, "Keyset URL")
        assertContains(response, "Developer Keys")
        assertContains(response, "https://sso.canvaslms.com/api/lti/authorize_redirect")

    def test_it_gives_each_published_topics_custom_parameters(self, superuser_client):
        TopicFactory(slug="cramps", title="Cramps", is_published=True)
        TopicFactory(slug="draft-topic", title="Draft", is_published=False)
        response = setup_page(superuser_client, moodle())
        assertContains(response, "target=quiz:cramps")
        assertContains(response, "target=topic:cramps")
        assertContains(response, "target=challenge")
        assertNotContains(response, "draft-topic")

    def test_the_copy_script_carries_the_pages_csp_nonce(self, superuser_client):
        response = setup_page(superuser_client, moodle())
        nonce = re.search(r'<script nonce="([^"]+)">', response.content.decode())
        assert nonce, "no script with a nonce"
        assert f"'nonce-{nonce.group(1)}'" in response["Content-Security-Policy"]
        # Without JavaScript the buttons stay hidden and the fields are plain read-only text.
        assertContains(response, 'class="button lti-copy" data-copy="login-url"')
        assertContains(response, " hidden>Copy</button>")

    def test_the_status_says_what_is_missing(self, superuser_client):
        registration = moodle(is_active=False)
        registration.deployments.update(is_active=False)
        response = setup_page(superuser_client, registration)
        assertContains(response, "Not yet.")
        assertContains(response, "an active deployment ID")
        assertContains(response, "Active switched on")
        assertContains(response, "the tool&#x27;s signing key (manage.py ensure_lti_key)")
        assertContains(response, "<code>7</code> (switched off)", html=False)
        assertContains(response, "None yet")

    def test_the_status_of_a_ready_platform_with_a_launch_seen(self, superuser_client, tool_key):
        registration = moodle()
        with time_machine.travel(datetime(2026, 11, 20, 9, 30, tzinfo=UTC), tick=False):
            LtiUser.objects.create(registration=registration, sub="learner-1")
        response = setup_page(superuser_client, registration)
        assertContains(response, '<span class="lti-ok">Yes</span>')
        assertContains(response, f"key <code>{tool_key}</code>")
        assertContains(response, "<code>7</code> (active)")
        assertContains(response, "2026-11-20 09:30")

    def test_a_platform_that_does_not_exist_is_not_found(self, superuser_client):
        url = reverse("admin:lti_tool_ltiregistration_setup", args=[999])
        assert superuser_client.get(url).status_code == 404

    def test_the_page_answers_in_a_fixed_number_of_queries(
        self, superuser_client, tool_key, django_assert_max_num_queries
    ):
        registration = moodle()
        for n in range(5):
            TopicFactory(slug=f"topic-{n}", is_published=True)
        # Session and user, the platform, its status (signing key, key count, deployments,
        # newest LTI user and LMS course) and the topics.
        with django_assert_max_num_queries(9):
            assert setup_page(superuser_client, registration).status_code == 200


class TestWhatLaunchesRecorded:
    def test_lms_courses_list_their_class_in_a_fixed_number_of_queries(
        self, superuser_client, django_assert_max_num_queries
    ):
        registration = moodle()
        deployment = registration.deployments.get()
        for n in range(4):
            context = LtiContext.objects.create(
                deployment=deployment, id_on_platform=f"c-{n}", title=f"Biology {n}"
            )
            classroom = Classroom.objects.create(name=f"Biology {n} (LMS)")
            LmsClass.objects.create(context=context, classroom=classroom)
        with django_assert_max_num_queries(8):
            response = superuser_client.get(reverse("admin:lti_tool_lticontext_changelist"))
        classroom = Classroom.objects.get(name="Biology 2 (LMS)")
        assertContains(response, reverse("admin:learning_classroom_change", args=[classroom.pk]))
        context = LtiContext.objects.get(id_on_platform="c-2")
        change = reverse("admin:lti_tool_lticontext_change", args=[context.pk])
        page = superuser_client.get(change)
        assertContains(page, "Biology 2 (LMS)")
        assertNotContains(page, 'name="_save"')

    def test_an_lms_account_shows_the_account_it_signs_in_as(self, superuser_client):
        registration = moodle()
        account = User.objects.create_user(username="lti-1")
        lti_user = LtiUser.objects.create(
            registration=registration, sub="learner-1", name="Ada Lovelace", auth_user=account
        )
        response = superuser_client.get(reverse("admin:lti_tool_ltiuser_changelist"))
        assertContains(response, "Ada Lovelace")
        assertContains(response, reverse("admin:auth_user_change", args=[account.pk]))
        change = reverse("admin:lti_tool_ltiuser_change", args=[lti_user.pk])
        assertNotContains(superuser_client.get(change), 'name="_save"')

    def test_the_keys_page_shows_public_halves_only(self, superuser_client, tool_key):
        response = superuser_client.get(reverse("admin:lti_tool_key_changelist"))
        assertContains(response, str(tool_key))
        assertContains(response, "Signs now")
        change = superuser_client.get(reverse("admin:lti_tool_key_change", args=[tool_key.pk]))
        assertContains(change, tool_key.public_key.strip().splitlines()[1])
        assertNotContains(change, tool_key.private_key.strip().splitlines()[1])
        assertNotContains(change, "PRIVATE KEY")
        assert superuser_client.get(reverse("admin:lti_tool_key_add")).status_code == 403


@pytest.mark.django_db(transaction=True)
def test_a_platform_registered_in_the_admin_launches_and_its_page_says_when(
    lti_platform: FakePlatform, settings
):
    """The test LMS, registered through the add form as a superuser would (plain http on
    localhost: debug on), launches a learner at the login URL its setup page gives."""
    settings.DEBUG = True
    superuser = Client()
    superuser.force_login(UserFactory.create(username="root", is_staff=True, is_superuser=True))
    data = form_data(
        name="Test LMS",
        issuer=lti_platform.issuer,
        client_id=lti_platform.client_id,
        auth_url=lti_platform.auth_url,
        token_url=lti_platform.token_url,
        keyset_url=lti_platform.jwks_url,
        **{"deployments-0-deployment_id": lti_platform.deployment_id},
    )
    assert superuser.post(reverse(ADD), data).status_code == 302
    registration = LtiRegistration.objects.get()
    page = setup_page(superuser, registration)
    assertContains(page, "None yet")
    login_url = field_value(page, "login-url")
    assert login_url == f"http://testserver{reverse('lti:login', args=[registration.uuid])}"

    learner = Client()
    assert lti_platform.launch(learner, registration).status_code == 302
    page = setup_page(superuser, registration)
    assertNotContains(page, "None yet")
    last_launch = LtiUser.objects.get(registration=registration).datetime_modified
    assertContains(page, timezone.localtime(last_launch).strftime("%Y-%m-%d %H:%M"))
