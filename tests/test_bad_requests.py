"""A request whose parts cannot be read answers 400 with a short message and one log line
without a traceback, never a 500 (learning/middleware.py)."""

import logging

import pytest
from django.test import Client
from django.urls import reverse
from pytest_django.asserts import assertContains

pytestmark = pytest.mark.django_db

FORM = "application/x-www-form-urlencoded"
MULTIPART_FIELD = b'--x\r\nContent-Disposition: form-data; name="username"\r\n\r\nada\r\n'


@pytest.fixture
def csrf_client() -> Client:
    """A browser as it really is: CSRF checked, with the token from the log-in page, and
    Django's error pages instead of exceptions."""
    client = Client(enforce_csrf_checks=True, raise_request_exception=False)
    client.get(reverse("login"))
    client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client


def assert_one_short_warning(caplog, response) -> None:
    assert response.status_code == 400
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert len(response.content) < 200
    records = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(records) == 1, [r.getMessage() for r in records]
    (record,) = records
    assert record.levelno == logging.WARNING
    assert record.name == "django.request"
    assert record.exc_info is None
    assert "\n" not in record.getMessage()


@pytest.mark.parametrize("url_name", ["login", "learning:signup"])
def test_a_utf16_form_to_log_in_or_sign_up_is_a_400_without_a_traceback(
    csrf_client, caplog, url_name
):
    response = csrf_client.post(
        reverse(url_name),
        data="username=ada&password=x",  # the client encodes it in UTF-16
        content_type=f"{FORM}; charset=utf-16",
    )

    assert_one_short_warning(caplog, response)
    assert response.content == b"Bad request: the form data cannot be read.\n"


SPOILED_BODIES = {
    "utf-16 form": (b"username=ada", f"{FORM}; charset=utf-16"),
    "latin-1 form": (b"username=\xe9", f"{FORM}; charset=latin-1"),
    "multipart without a boundary": (MULTIPART_FIELD, "multipart/form-data"),
    "multipart with an empty boundary": (MULTIPART_FIELD, "multipart/form-data; boundary="),
    "multipart with a non-ASCII boundary": (MULTIPART_FIELD, "multipart/form-data; boundary=é"),
}


@pytest.mark.parametrize("body, content_type", SPOILED_BODIES.values(), ids=SPOILED_BODIES)
def test_a_form_body_that_cannot_be_read_is_a_400(csrf_client, caplog, body, content_type):
    response = csrf_client.generic("POST", reverse("login"), body, content_type=content_type)

    assert_one_short_warning(caplog, response)


READABLE_ENOUGH = {
    "unknown charset": (b"username=ada", f"{FORM}; charset=nope"),
    "truncated multipart": (MULTIPART_FIELD[:30], "multipart/form-data; boundary=x"),
    "multipart in an unknown charset": (
        MULTIPART_FIELD,
        "multipart/form-data; boundary=x; charset=nope",
    ),
    "multipart in utf-16": (MULTIPART_FIELD, "multipart/form-data; boundary=x; charset=utf-16"),
    "multipart with a long boundary": (
        MULTIPART_FIELD,
        "multipart/form-data; boundary=" + "x" * 200,
    ),
    "garbage": (b"\xff\xfe\x00=\x00&&==", FORM),
}


@pytest.mark.parametrize("body, content_type", READABLE_ENOUGH.values(), ids=READABLE_ENOUGH)
def test_a_form_django_can_read_in_part_gets_the_log_in_page_back(
    csrf_client, caplog, body, content_type
):
    response = csrf_client.generic("POST", reverse("login"), body, content_type=content_type)

    # An unknown charset is ignored (UTF-8 is read), a truncated body yields what was
    # there; either way the token check or the form refuses it, as for any poor form.
    assert response.status_code in (200, 403)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_body_past_the_upload_limit_is_a_400_without_a_traceback(csrf_client, caplog, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = csrf_client.post(reverse("login"), {"username": "a" * 200, "password": "x"})

    assert_one_short_warning(caplog, response)


def test_too_many_fields_in_the_query_string_is_a_400(client, caplog, settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 10
    response = client.get("/?" + "&".join(f"f{n}=1" for n in range(20)))

    assert_one_short_warning(caplog, response)
    assert response.content == b"Bad request: the query string cannot be read.\n"


def test_a_host_we_do_not_serve_is_a_400_without_a_traceback(client, caplog):
    response = client.get("/", HTTP_HOST="evil.example\u00e9:99999")

    assert_one_short_warning(caplog, response)


@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "99999999999999999999", " "])
def test_an_invalid_content_length_is_not_a_500(csrf_client, caplog, length):
    response = csrf_client.generic(
        "POST", reverse("login"), b"username=ada", content_type=FORM, CONTENT_LENGTH=length
    )

    assert response.status_code < 500
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


@pytest.mark.parametrize(
    "header, value",
    [
        ("HTTP_COOKIE", "sessionid=" + "a" * 20_000),
        ("HTTP_COOKIE", "csrftoken=\xe9\xff; sessionid=\x00; ;;=;=="),
        ("HTTP_HX_REQUEST", "\xe9" * 5000),
        ("HTTP_HX_CURRENT_URL", "http://[::1"),
        ("HTTP_HX_TRIGGER", "\xff\x00"),
        ("HTTP_ACCEPT_LANGUAGE", "xx-" * 3000),
        ("HTTP_ACCEPT_LANGUAGE", "\xe9\xe9;q=\xb2"),
    ],
)
def test_odd_headers_are_not_a_500(client, caplog, learner, header, value):
    client.force_login(learner)
    for url in ("/", reverse("learning:dashboard")):
        response = client.get(url, **{header: value})
        assert response.status_code < 500
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_a_field_the_admin_may_not_reference_is_a_400_with_a_warning(teacher_client, caplog):
    response = teacher_client.get(reverse("admin:learning_topic_changelist"), {"_to_field": "²"})

    assert response.status_code == 400
    assert response.content == b"Bad request: the request asks for something it may not.\n"
    (record,) = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert record.name == "django.security.DisallowedModelAdminToField"
    assert record.levelno == logging.WARNING
    assert record.exc_info is None


HUGE = "9" * 25


@pytest.mark.parametrize(
    "path",
    [
        f"/admin/learning/lesson/?topic={HUGE}",
        f"/admin/learning/question/?topic={HUGE}",
        f"/admin/learning/quiz/?topic={HUGE}",
        f"/admin/learning/topicprogress/?topic={HUGE}",
        f"/admin/learning/attempt/?quiz__topic={HUGE}",
        f"/admin/learning/question/?id__in=1,{HUGE}",
    ],
)
def test_a_number_too_large_for_the_database_in_an_admin_filter_is_a_400(
    admin_client, caplog, path
):
    """Found by trying it: SQLite raised OverflowError (a 500) for these."""
    response = admin_client.get(path)
    assert response.status_code in (200, 400), path  # PostgreSQL may compare it fine
    assert not [r for r in caplog.records if r.levelname == "ERROR"]


def test_a_post_only_address_opened_as_a_page_says_so_in_words(learner_client):
    """Django's require_POST answers 405 with an empty body, which a browser shows as its
    own error page (found trying the LMS roster button's address): the site says why."""
    response = learner_client.get(reverse("learning:join_class"))
    assert response.status_code == 405
    assert response["Allow"] == "POST"
    assertContains(response, "This address is not opened that way", status_code=405)
    assertContains(response, "A button on this site sends it", status_code=405)
    # What a browser reads: Content-Length was 0 from CommonMiddleware, so it showed nothing.
    assert int(response["Content-Length"]) == len(response.content)
    assert learner_client.head(reverse("learning:join_class")).content == b""
