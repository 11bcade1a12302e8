"""Framing and cookies (learning/lti/framing.py): the launch's pages and a launched
session's pages may be framed by that session's platform only; every other response
keeps frame-ancestors 'none' and X-Frame-Options DENY. Over HTTPS a launched session's
cookies are SameSite=None; Secure, every other session's stay Lax."""

import re

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from tests.factories import UserFactory
from tests.lti_platform import LTI, FakePlatform

pytestmark = pytest.mark.django_db(transaction=True)

COURSE = reverse("learning:course")
DASHBOARD = reverse("learning:dashboard")


def frame_ancestors(response) -> str:
    match = re.search(r"frame-ancestors ([^;]*)", response["Content-Security-Policy"])
    assert match, response["Content-Security-Policy"]
    return match.group(1).strip()


def assert_not_framable(response) -> None:
    assert frame_ancestors(response) == "'none'"
    assert response["X-Frame-Options"] == "DENY"


def assert_framed_by(response, *origins: str) -> None:
    assert frame_ancestors(response) == " ".join(["'self'", *origins])
    assert "X-Frame-Options" not in response


def platform_origins(platform: FakePlatform) -> tuple[str, str]:
    """The issuer's origin and the auth URL's (the live server's)."""
    return platform.issuer, platform.base_url


def launched(platform: FakePlatform, registration, **claims) -> Client:
    client = Client()
    response = platform.launch(client, registration, **claims)
    assert response.status_code == 302, response.content[:300]
    return client


def test_pages_outside_a_launched_session_may_not_be_framed(lti_platform, client, quiz):
    assert_not_framable(client.get(COURSE))
    client.force_login(UserFactory.create(username="ada"))
    for url in (COURSE, DASHBOARD, reverse("learning:lesson", args=[quiz.topic.slug])):
        assert_not_framable(client.get(url))


def test_a_launched_session_may_be_framed_by_its_platform_only(lti_platform, quiz):
    registration = lti_platform.register()
    client = Client()
    response = lti_platform.launch(client, registration)
    assert_framed_by(response, *platform_origins(lti_platform))
    for url in (
        COURSE,
        DASHBOARD,
        reverse("learning:lesson", args=[quiz.topic.slug]),
        reverse("learning:quiz", args=[quiz.topic.slug]),
        "/no-such-page/",
    ):
        page = client.get(url)
        assert_framed_by(page, *platform_origins(lti_platform))
        # the rest of the policy stands
        assert "script-src 'self'" in page["Content-Security-Policy"]
        assert "form-action 'self'" in page["Content-Security-Policy"]


def test_the_origins_the_signed_launch_names_may_frame_it_too(lti_platform):
    """Canvas's issuer is not where a school's Canvas runs; its return URL is."""
    registration = lti_platform.register()
    client = launched(
        lti_platform,
        registration,
        **{
            LTI + "launch_presentation": {
                "document_target": "iframe",
                "return_url": "https://school.instructure.example/courses/7/external_content",
            },
            LTI + "tool_platform": {"guid": "g", "url": "https://lms.example.edu/"},
        },
    )
    assert_framed_by(
        client.get(COURSE), *platform_origins(lti_platform), "https://school.instructure.example"
    )


@pytest.mark.parametrize(
    "junk",
    [
        "javascript:alert(1)",
        "https://evil.example; script-src *",
        "https://a b.example/",
        "data:text/html,hi",
        "https://[::1/",
        "//no-scheme.example",
    ],
)
def test_what_is_not_an_origin_never_reaches_the_header(lti_platform, junk):
    registration = lti_platform.register()
    client = launched(
        lti_platform, registration, **{LTI + "launch_presentation": {"return_url": junk}}
    )
    assert_framed_by(client.get(COURSE), *platform_origins(lti_platform))


def test_the_same_learner_elsewhere_is_not_framed_and_the_cache_keeps_them_apart(
    lti_platform, quiz, django_assert_max_num_queries
):
    """The page cache stores a page without these headers: each response gets its own."""
    registration = lti_platform.register()
    in_the_lms = launched(lti_platform, registration)
    learner = in_the_lms.get(COURSE).wsgi_request.user
    on_its_own = Client()
    on_its_own.force_login(learner)
    for _ in range(2):
        # the session, the user, the page versions (and the platform, in the LMS's frame)
        with django_assert_max_num_queries(3):
            assert_not_framable(on_its_own.get(COURSE))
        with django_assert_max_num_queries(4):
            assert_framed_by(in_the_lms.get(COURSE), *platform_origins(lti_platform))


def test_a_second_platform_s_session_is_framed_by_that_one(lti_platform):
    first = lti_platform.register()
    other = FakePlatform(
        base_url=lti_platform.base_url,
        issuer="https://other-lms.example",
        client_id="other-client",
        key=lti_platform.key,
    )
    second = other.register()
    assert_framed_by(launched(lti_platform, first).get(COURSE), *platform_origins(lti_platform))
    assert_framed_by(
        launched(other, second).get(COURSE), "https://other-lms.example", lti_platform.base_url
    )


def test_switching_the_registration_off_ends_the_framing(lti_platform):
    registration = lti_platform.register()
    client = launched(lti_platform, registration)
    registration.is_active = False
    registration.save()
    assert_not_framable(client.get(COURSE))


def test_logging_out_inside_the_lms_ends_the_sign_in_but_not_the_frame(lti_platform):
    # Found by the tryout: the page after "Log out" refused the LMS's frame, and the
    # learner saw the browser's "refused to connect" inside their LMS course.
    registration = lti_platform.register()
    client = launched(lti_platform, registration)
    logged_out = client.post(reverse("logout"))
    assert logged_out.status_code == 302
    assert_framed_by(logged_out, *platform_origins(lti_platform))
    page = client.get(COURSE)
    assert not page.wsgi_request.user.is_authenticated
    assert_framed_by(page, *platform_origins(lti_platform))
    # The account has no password: the way back is the LMS, not "log in" or "sign up".
    assert "open the course&#x27;s link in your LMS again" in page.content.decode()
    assert_framed_by(client.get(reverse("login")), *platform_origins(lti_platform))
    # Switching the platform off still ends it.
    registration.is_active = False
    registration.save()
    assert_not_framable(client.get(COURSE))


def test_links_on_a_refusal_inside_a_frame_open_a_tab_of_their_own(lti_platform, client):
    # Outside a launched session our pages refuse the frame, so the refusal's links (the
    # course, log in) would show "refused to connect" there.
    registration = lti_platform.register()
    state, nonce = lti_platform.login(client, registration)
    expired = lti_platform.sign(lti_platform.claims(nonce=nonce, lifetime=-10))
    framed = client.post(
        reverse("lti:launch"),
        {"id_token": expired, "state": state},
        headers={"Sec-Fetch-Dest": "iframe"},
    )
    assert framed.status_code == 403
    assert b'<base target="_blank">' in framed.content
    # ...but "Skip to content" stays on the page (second tryout: it opened a tab).
    assert b'<a class="skip-link" href="#main" target="_self">' in framed.content
    in_a_window = lti_platform.post_launch(client, expired, state)
    assert b"<base" not in in_a_window.content


class TestTheLaunchsOwnPages:
    def test_the_cookie_check_may_be_framed_by_the_platform(self, lti_platform, client):
        registration = lti_platform.register()
        page = client.get(
            lti_platform.login_initiation_url(registration, "hint-1"),
            headers={"Sec-Fetch-Dest": "iframe"},
        )
        assert page.status_code == 200
        assert_framed_by(page, *platform_origins(lti_platform))

    def test_a_refused_login_may_be_framed_by_the_registered_platform(self, lti_platform, client):
        registration = lti_platform.register()
        url = reverse("lti:login", args=[registration.uuid])
        response = client.get(url, {"iss": lti_platform.issuer})  # no login_hint
        assert response.status_code == 400
        assert_framed_by(response, *platform_origins(lti_platform))

    def test_a_refused_launch_may_be_framed_by_the_platform_it_claims(self, lti_platform, client):
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        expired = lti_platform.sign(lti_platform.claims(nonce=nonce, lifetime=-10))
        response = lti_platform.post_launch(client, expired, state)
        assert response.status_code == 403
        assert_framed_by(response, *platform_origins(lti_platform))

    def test_a_refusal_for_a_platform_nobody_registered_may_not_be_framed(
        self, lti_platform, client
    ):
        registration = lti_platform.register()
        state, nonce = lti_platform.login(client, registration)
        stranger = lti_platform.sign(
            lti_platform.claims(nonce=nonce, iss="https://stranger.example")
        )
        response = lti_platform.post_launch(client, stranger, state)
        assert response.status_code == 403
        assert_not_framable(response)
        unknown = reverse("lti:login", args=["6c4ae0a4-0b8b-4d4c-9a53-2cfa1a7a4c11"])
        response = client.get(unknown, {"iss": "https://stranger.example", "login_hint": "x"})
        assert_not_framable(response)


class TestCookies:
    FRAMED = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, "messages")

    def test_a_launch_over_https_sets_cookies_that_work_in_a_frame(self, lti_platform, quiz):
        registration = lti_platform.register()
        client = Client()
        # a target it does not have: the launch leaves a message for the course page
        response = lti_platform.launch(
            client, registration, secure=True, custom={"target": "topic:nowhere"}
        )
        assert response.status_code == 302
        for name in self.FRAMED:
            cookie = response.cookies[name]
            assert (cookie["samesite"], cookie["secure"]) == ("None", True), name
        # PyLTI1p3's own cookies too (the state, and its session id over HTTPS)
        assert all(
            response.cookies[name]["samesite"] == "None"
            for name in response.cookies
            if name.startswith("lti1p3-")
        )
        page = client.get(COURSE, secure=True)
        assert "does not have, or not yet" in page.content.decode()
        assert page.wsgi_request.user.is_authenticated
        assert_framed_by(page, *platform_origins(lti_platform))

    def test_a_launch_over_plain_http_keeps_lax_cookies(self, lti_platform):
        registration = lti_platform.register()
        response = lti_platform.launch(Client(), registration)
        assert response.cookies[settings.SESSION_COOKIE_NAME]["samesite"] == "Lax"
        assert response.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"

    def test_a_log_in_over_https_outside_an_lms_keeps_lax_cookies(self, lti_platform, client):
        UserFactory.create(username="ada")
        client.get(reverse("login"), secure=True)
        response = client.post(
            reverse("login"),
            {"username": "ada", "password": "correct-horse-battery"},
            secure=True,
        )
        assert response.status_code == 302
        for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME):
            assert response.cookies[name]["samesite"] == "Lax", name
        assert_not_framable(client.get(COURSE, secure=True))
