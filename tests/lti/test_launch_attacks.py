"""Launches an attacker (or a broken LMS) might send, through the test LMS: tokens meant for
other tools too, tokens replayed after a refusal, a platform whose keys are slow or huge,
and claims holding characters no database column takes. Each is refused with a 4xx page
or taken cleanly; none is a 500, none leaves anything behind."""

import time

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.urls import reverse
from lti_tool.models import LtiContext, LtiResourceLink, LtiUser
from pytest_django.asserts import assertContains

from learning.lti import launch as lti_launch
from learning.lti.models import GradedLink
from tests.factories import QuizFactory, TopicFactory
from tests.lti.test_deep_linking import JWT_FIELD, pick
from tests.lti.test_refusals import b64, unsigned
from tests.lti_platform import DL, INSTRUCTOR, LEARNER, LTI, FakePlatform, new_key_pair

pytestmark = pytest.mark.django_db(transaction=True)


def signed_in(client: Client) -> User | None:
    user = client.get(reverse("learning:glossary")).wsgi_request.user
    return user if user.is_authenticated else None


def lti_cache_keys() -> set[str]:
    """What PyLTI1p3 keeps in the LTI cache (settings.CACHES["lti"], a database table)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT cache_key FROM lti_launch_cache")
        return {key for (key,) in cursor.fetchall()}


class TestAudience:
    """LTI 1.3 core 5.1.3: the tool MUST reject a token that lists audiences it does not
    trust, and checks the authorized party (azp) is its own client id."""

    @pytest.mark.parametrize(
        "claims",
        [
            {"aud": ["muscle-course-tool", "another-tool"], "azp": "another-tool"},
            {"aud": ["muscle-course-tool", "another-tool"]},
            {"aud": ["muscle-course-tool", "another-tool"], "azp": "muscle-course-tool"},
            {"aud": "muscle-course-tool", "azp": "another-tool"},
        ],
        ids=["azp-another-tool", "no-azp", "azp-ours-other-audience", "single-aud-other-azp"],
    )
    def test_a_token_for_other_tools_too_is_refused(self, lti_platform, client, claims):
        registration = lti_platform.register()
        response = lti_platform.launch(client, registration, **claims)
        assertContains(response, "meant for another tool", status_code=403)
        assert signed_in(client) is None
        assert not LtiUser.objects.exists()

    @pytest.mark.parametrize(
        "claims",
        [
            {"aud": ["muscle-course-tool"]},
            {"aud": ["muscle-course-tool"], "azp": "muscle-course-tool"},
            {"aud": "muscle-course-tool", "azp": "muscle-course-tool"},
        ],
        ids=["list-of-one", "list-of-one-azp", "string-azp"],
    )
    def test_a_token_for_this_tool_alone_is_taken(self, lti_platform, client, claims):
        registration = lti_platform.register()
        assert lti_platform.launch(client, registration, **claims).status_code == 302
        assert signed_in(client) is not None


class TestARefusedLaunch:
    def test_leaves_the_lti_cache_as_it_was(self, lti_platform, client):
        """A launch refused after its signature was checked (a learner's deep linking)
        keeps nothing: neither the launch's claims nor a mark that its state was good."""
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        before = lti_cache_keys()
        body = lti_platform.claims(
            nonce=nonce, message_type="LtiDeepLinkingRequest", roles=[LEARNER]
        )
        response = lti_platform.post_launch(client, lti_platform.sign(body), state)
        assertContains(response, "Only a teacher", status_code=403)
        assert lti_cache_keys() == before

    def test_cannot_be_replayed_from_another_browser_once_the_refusal_is_lifted(
        self, lti_platform, client
    ):
        """A switched-off account's launch is refused. The same token and state, posted
        later from a browser that never had the state cookie (someone who copied them),
        must not sign in once the account is switched on again."""
        registration = lti_platform.register()
        lti_platform.launch(Client(), registration)  # the account exists
        User.objects.filter(lti_users__sub="learner-1").update(is_active=False)
        state, nonce = lti_platform.login(client, registration)
        id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
        assertContains(
            lti_platform.post_launch(client, id_token, state), "switched off", status_code=403
        )
        User.objects.filter(lti_users__sub="learner-1").update(is_active=True)
        stranger = Client()
        replay = lti_platform.post_launch(stranger, id_token, state)
        assertContains(replay, "did not start in this browser session", status_code=403)
        assert signed_in(stranger) is None

    def test_an_accepted_launch_keeps_no_claims_in_the_cache(self, lti_platform, client):
        """Only a deep-linking launch is restored later (by the picker); a resource link
        launch's claims (names, emails) have no reason to stay in the cache."""
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        before = lti_cache_keys()
        id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
        assert lti_platform.post_launch(client, id_token, state).status_code == 302
        assert not [key for key in lti_cache_keys() - before if "launch" in key]


class TestThePlatformsKeys:
    def test_a_slow_keyset_is_given_up_in_time(self, lti_platform, client, monkeypatch):
        monkeypatch.setattr(lti_launch, "KEYSET_SECONDS", 1)
        lti_platform.jwks_delay = 4
        registration = lti_platform.register()
        started = time.monotonic()
        response = lti_platform.launch(client, registration)
        assert time.monotonic() - started < 3
        assertContains(response, "signing keys could not be fetched", status_code=403)
        assert not LtiUser.objects.exists()

    def test_a_keyset_nested_too_deep_to_read_is_refused(self, lti_platform, client):
        lti_platform.jwks_text = "[" * 100_000 + "]" * 100_000
        registration = lti_platform.register()
        response = lti_platform.launch(client, registration)
        assertContains(response, "could not be checked", status_code=403)
        assert not LtiUser.objects.exists()

    def test_a_huge_keyset_is_not_read(self, lti_platform, client):
        lti_platform.jwks_padding = 3 * lti_launch.KEYSET_BYTES
        registration = lti_platform.register()
        response = lti_platform.launch(client, registration)
        assertContains(response, "signing keys could not be read", status_code=403)
        assert not LtiUser.objects.exists()


# A NUL (PostgreSQL's text refuses it) and a lone surrogate (no database can encode it),
# both valid in a JSON string.
NUL = "\x00"
SURROGATE = "\ud800"


class TestCharactersNoColumnTakes:
    def test_names_titles_and_targets_lose_them(self, lti_platform, client):
        TopicFactory(slug="cramps", title="Cramps")
        QuizFactory(topic__slug="other")
        registration = lti_platform.register()
        response = lti_platform.launch(
            client,
            registration,
            name=f"Ada{NUL} Love{SURROGATE}lace",
            email=f"ada@school{SURROGATE}.example",
            context_title=f"Physio{SURROGATE}logy 101",
            custom={"target": f"topic:cramps{NUL}"},
            **{LTI + "resource_link": {"id": "link-1", "title": f"Spasms{NUL}"}},
        )
        assert response.status_code == 302, response.content[:300]
        user = signed_in(client)
        assert user is not None
        assert (user.first_name, user.email) == ("Ada Lovelace", "")
        assert LtiUser.objects.get().name == "Ada Lovelace"
        assert LtiContext.objects.get().title == "Physiology 101"
        assert LtiResourceLink.objects.get().title == "Spasms"

    @pytest.mark.parametrize(
        "claims",
        [
            {"sub": f"learner{NUL}1"},
            {"sub": f"learner{SURROGATE}1"},
            {"context_id": f"course{NUL}101"},
            {"resource_link_id": f"link{SURROGATE}1"},
        ],
        ids=["sub-nul", "sub-surrogate", "course-nul", "link-surrogate"],
    )
    def test_identifiers_holding_them_are_refused(self, lti_platform, client, claims):
        registration = lti_platform.register()
        response = lti_platform.launch(client, registration, **claims)
        assertContains(response, "cannot read", status_code=403)
        assert signed_in(client) is None
        assert not LtiUser.objects.exists()

    def test_urls_holding_them_are_left_out(self, lti_platform, client):
        registration = lti_platform.register()
        QuizFactory(topic__slug="cramps")
        response = lti_platform.launch(
            client,
            registration,
            roles=[INSTRUCTOR],
            custom={"target": "quiz:cramps"},
            lineitem=f"{lti_platform.lineitem_url(1)}{NUL}",
            **{
                "https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice": {
                    "context_memberships_url": f"{lti_platform.memberships_url}{SURROGATE}",
                    "service_versions": ["2.0"],
                },
                LTI + "launch_presentation": {"return_url": f"https://lms.example{NUL}.edu/"},
            },
        )
        assert response.status_code == 302, response.content[:300]
        assert LtiContext.objects.get().memberships_url == ""
        assert not GradedLink.objects.exists()


def test_a_deep_linking_launch_without_settings_data_gets_no_data_back(
    lti_platform: FakePlatform, client
):
    """Deep Linking 2.0: the response echoes the request's `data` when it had one; a
    response to a request without one carries none (not null)."""
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    body = lti_platform.claims(
        nonce=nonce, message_type="LtiDeepLinkingRequest", sub="teacher-1", roles=[INSTRUCTOR]
    )
    del body[DL + "deep_linking_settings"]["data"]
    assert lti_platform.post_launch(client, lti_platform.sign(body), state).status_code == 302
    found = JWT_FIELD.search(pick(client, "challenge").content.decode())
    assert found is not None
    Client().post("/test-platform/deep-link-return/", {"JWT": found.group(1)})
    [claims] = lti_platform.deep_link_responses
    assert DL + "data" not in claims


def test_a_return_url_that_is_no_origin_never_reaches_the_csp_header(
    lti_platform: FakePlatform, client
):
    """The pick's page lets its form post to the LMS's return URL: what goes into its
    form-action must be an origin, never text that would add a directive of its own."""
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    body = lti_platform.claims(
        nonce=nonce, message_type="LtiDeepLinkingRequest", sub="teacher-1", roles=[INSTRUCTOR]
    )
    body[DL + "deep_linking_settings"]["deep_link_return_url"] = (
        "https://lms.example.edu;script-src 'unsafe-inline'/return/"
    )
    assert lti_platform.post_launch(client, lti_platform.sign(body), state).status_code == 302
    response = pick(client, "challenge")
    assertContains(response, "did not say where to send the activity back", status_code=400)
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert lti_platform.deep_link_responses == []


class TestANulFromAnyone:
    """Anyone can send these, unsigned: a NUL where the tool looks a platform, a state or
    a nonce up in the database. PostgreSQL refuses a NUL in text (a 500 if unhandled);
    each is a clear refusal on either database."""

    @pytest.mark.parametrize("param", ["lti_deployment_id", "client_id"])
    def test_in_a_login_parameter(self, lti_platform, client, param):
        registration = lti_platform.register()
        params = {
            "iss": lti_platform.issuer,
            "client_id": registration.client_id,
            "login_hint": "hint-1",
            "target_link_uri": f"{lti_platform.base_url}/lti/launch/",
            "lti_deployment_id": lti_platform.deployment_id,
        }
        params[param] += NUL
        response = client.get(reverse("lti:login", args=[registration.uuid]), params)
        assert 400 <= response.status_code < 500
        assertContains(response, "refused", status_code=response.status_code)

    def test_in_the_state(self, lti_platform, client):
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
        response = lti_platform.post_launch(client, id_token, state + NUL)
        assertContains(response, "refused", status_code=403)

    @pytest.mark.parametrize("claim", ["iss", "aud", "nonce"])
    def test_in_an_unsigned_tokens_claim(self, lti_platform, client, claim):
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        body = lti_platform.claims(nonce=nonce)
        body[claim] = f"{body[claim]}{NUL}"
        token = unsigned({"alg": "RS256", "kid": lti_platform.key["kid"]}, body) + ".c2ln"
        response = lti_platform.post_launch(client, token, state)
        assert 400 <= response.status_code < 500
        assertContains(response, "refused", status_code=response.status_code)
        assert signed_in(client) is None

    def test_in_the_launch_session_cookie_over_https(self, lti_platform, client):
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration, secure=True)
        [name] = [name for name in client.cookies if name.endswith("session-id")]
        client.cookies[name] = f"{client.cookies[name].value}{NUL}"
        id_token = lti_platform.sign(lti_platform.claims(nonce=nonce))
        response = lti_platform.post_launch(client, id_token, state, secure=True)
        assert 400 <= response.status_code < 500
        assertContains(response, "refused", status_code=response.status_code)

    def test_in_the_platform_a_refusal_names(self, lti_platform, client):
        """Refused for want of a state, the page still looks the claimed platform up (to
        show itself in its frame): a NUL there is no 500 either."""
        lti_platform.register()
        body = lti_platform.claims(nonce="n", iss=f"https://lms.example.edu{NUL}")
        token = unsigned({"alg": "RS256", "kid": lti_platform.key["kid"]}, body) + ".c2ln"
        response = client.post(reverse("lti:launch"), {"id_token": token})
        assertContains(response, "did not start in this browser session", status_code=400)


class TestTwoRegistrationsOfOneIssuer:
    """A superuser may register a second platform under an issuer already registered (a
    Canvas's several developer keys; or a mistake, or a malicious LMS): whatever it signs
    reaches only its own accounts, courses and deployments."""

    @pytest.fixture
    def impostor(self, lti_platform: FakePlatform):
        key = new_key_pair()
        lti_platform.other_keys["impostor"] = key
        registration = lti_platform.register(
            name="Impostor",
            client_id="impostor-tool",
            keyset_url=f"{lti_platform.jwks_url}?key=impostor",
        )
        registration.deployments.update(deployment_id="impostor-deployment")
        return key

    def test_it_cannot_sign_for_the_other_registration(self, lti_platform, client, impostor):
        genuine = lti_platform.register()
        lti_platform.launch(Client(), genuine, sub="victim", roles=[INSTRUCTOR])
        state, nonce = lti_platform.login(client, genuine)
        forged = lti_platform.sign(
            lti_platform.claims(nonce=nonce, sub="victim", roles=[INSTRUCTOR]), key=impostor
        )
        response = lti_platform.post_launch(client, forged, state)
        assertContains(response, "signature could not be checked", status_code=403)
        assert signed_in(client) is None

    def test_its_own_launch_is_another_account_in_another_class(
        self, lti_platform, client, impostor
    ):
        genuine = lti_platform.register()
        lti_platform.launch(Client(), genuine, sub="victim", roles=[INSTRUCTOR])
        victim = User.objects.get(lti_users__sub="victim")
        state, nonce = lti_platform.login(client, genuine)
        body = lti_platform.claims(
            nonce=nonce,
            sub="victim",
            roles=[INSTRUCTOR],
            aud="impostor-tool",
            **{LTI + "deployment_id": "impostor-deployment"},
        )
        response = lti_platform.post_launch(client, lti_platform.sign(body, key=impostor), state)
        assert response.status_code == 302
        impostor_account = signed_in(client)
        assert impostor_account is not None and impostor_account != victim
        assert LtiContext.objects.count() == 2  # the same course id: two courses
        assert not victim.classes_taught.filter(teachers=impostor_account).exists()

    def test_the_other_registrations_deployment_is_refused(self, lti_platform, client, impostor):
        genuine = lti_platform.register()
        state, nonce = lti_platform.login(client, genuine)
        body = lti_platform.claims(nonce=nonce, aud="impostor-tool")  # genuine's deployment
        response = lti_platform.post_launch(client, lti_platform.sign(body, key=impostor), state)
        assertContains(response, "deployment is not registered here", status_code=403)


def test_a_launch_in_a_superusers_browser_ends_the_superusers_session(lti_platform, client):
    root = User.objects.create_superuser("root", "root@example.org", "pw")
    client.force_login(root)
    old_key = client.session.session_key
    response = lti_platform.launch(client, lti_platform.register())
    assert response.status_code == 302
    assert signed_in(client) == User.objects.get(lti_users__sub="learner-1")
    assert client.session.session_key != old_key
    admin = client.get(reverse("admin:index"))
    assert admin.status_code == 302  # a learner: sent to log in


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/", "topic://evil.example", "quiz:../../admin/"],
)
def test_a_target_never_leads_off_the_course(lti_platform, client, target):
    """The custom `target` and the launch's target_link_uri name a page of the course or
    nothing: never an address elsewhere (an open redirect behind a signed-in launch)."""
    registration = lti_platform.register()
    response = lti_platform.launch(
        client,
        registration,
        custom={"target": target},
        target_link_uri="https://evil.example/lti/launch/",
    )
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_a_token_nested_too_deep_to_read_is_refused(lti_platform, client):
    """Anyone may post a token whose body is JSON nested a hundred thousand deep: Python's
    JSON reader gives up with a RecursionError, which must be a refusal too."""
    lti_platform.register()
    nested = b64(b"[" * 100_000 + b"]" * 100_000)
    token = f"{b64(b'{}')}.{nested}.c2ln"
    response = client.post(reverse("lti:launch"), {"id_token": token})
    assert 400 <= response.status_code < 500
    assertContains(response, "refused", status_code=response.status_code)
