"""Property-based tests: random and malformed data posted to every form and htmx endpoint,
any query string on any page, any request header and content type, never get a 5xx or a
logged traceback, and never change a score when they are refused."""

import itertools
import logging

import pytest
from django.apps import apps
from django.contrib import admin
from django.test import Client
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from learning import services
from learning.models import Attempt, Question, Quiz, Response, TopicProgress
from tests.factories import (
    FACTORY_BY_TYPE,
    LessonFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

FIELD_NAMES = [
    *("question", "choice", "value", "text", "code", "username", "password", "password1"),
    *("password2", "match-1", "match-99999", "next", "page", "", "x"),
]
VALUES = st.one_of(
    st.text(max_size=60),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.sampled_from(
        [
            "",
            " ",
            "NaN",
            "Infinity",
            "-0",
            "1e999999",
            "0x10",
            "１２",
            "null",
            "[]",
            "{}",
            "9" * 400,
            "\x00",
            "\ud7ff",
            "' OR 1=1 --",
        ]
    ),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
)
FORMS = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=12)),
    st.one_of(VALUES, st.lists(VALUES, max_size=4)),
    max_size=6,
)
HYPOTHESIS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def world(learner):
    topic = TopicFactory(slug="heat")
    LessonFactory(topic=topic)
    for question_factory in FACTORY_BY_TYPE.values():
        question_factory(topic=topic)
    quiz = QuizFactory(topic=topic, question_count=len(FACTORY_BY_TYPE))
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    stranger_attempt = services.start_attempt(learner=UserFactory(username="someone"), quiz=quiz)
    return attempt, stranger_attempt


def scores() -> dict:
    """What no refused input may change: every attempt's points and state, every topic's
    mastery, best score and attempt count, and how many answers are stored."""
    return {
        "attempts": dict(Attempt.objects.values_list("pk", "points")),
        "states": dict(Attempt.objects.values_list("pk", "state")),
        "progress": {
            row[0]: row[1:]
            for row in TopicProgress.objects.values_list(
                "pk", "mastery", "best_percent", "attempt_count"
            )
        },
        "responses": Response.objects.count(),
    }


def unchanged_unless_answered(before: dict, after: dict) -> bool:
    if after["responses"] > before["responses"]:
        return True  # a well-formed answer to an open question was accepted
    same_attempts = all(after["attempts"].get(pk) == pts for pk, pts in before["attempts"].items())
    same_states = all(after["states"].get(pk) == st for pk, st in before["states"].items())
    same_progress = all(after["progress"].get(pk) == row for pk, row in before["progress"].items())
    return same_attempts and same_states and same_progress


def post_everywhere(client: Client, attempt: Attempt, stranger: Attempt) -> list[str]:
    urls = [reverse("learning:question", args=[attempt.pk, p]) for p in range(1, 7)]
    urls += [
        reverse("learning:question", args=[stranger.pk, 1]),
        reverse("learning:mark_read", args=["heat"]),
        reverse("learning:start_quiz", args=["no-such-topic"]),
        reverse("learning:join_class"),
        reverse("learning:start_review"),
        reverse("learning:start_challenge"),
        reverse("learning:signup"),
        reverse("login"),
    ]
    return urls


@HYPOTHESIS
@given(data=FORMS, htmx=st.booleans())
def test_random_posts_never_fail_and_never_change_scores(learner_client, world, data, htmx):
    attempt, stranger = world
    before = scores()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for url in post_everywhere(learner_client, attempt, stranger):
        response = learner_client.post(url, data, **headers)
        assert response.status_code < 500, (url, data)
    assert unchanged_unless_answered(before, scores()), data


@HYPOTHESIS
@given(
    body=st.binary(max_size=300),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded; charset=utf-16",
        ]
    ),
)
def test_raw_bodies_never_fail(learner_client, world, body, content_type):
    attempt, _ = world
    before = scores()
    url = reverse("learning:question", args=[attempt.pk, 1])
    response = learner_client.generic("POST", url, body, content_type=content_type)
    assert response.status_code < 500
    assert unchanged_unless_answered(before, scores())


@HYPOTHESIS
@given(path=st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=40))
def test_random_urls_under_the_learner_paths_never_fail(learner_client, world, path):
    for prefix in ("/attempts/", "/topics/", "/attempts/1/questions/"):
        response = learner_client.get(prefix + path)
        assert response.status_code < 500, prefix + path


@HYPOTHESIS
@given(data=FORMS)
def test_random_posts_to_the_teachers_forms_never_fail(teacher_client, world, data):
    questions_before = Question.objects.count()
    for name in (
        "admin:learning_question_add",
        "admin:learning_question_import",
        "admin:learning_classroom_add",
        "admin:learning_topic_add",
    ):
        response = teacher_client.post(reverse(name), data)
        assert response.status_code < 500, (name, data)
    question = Question.objects.first()
    response = teacher_client.post(
        reverse("admin:learning_question_preview", args=[question.pk]),
        data,
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code < 500
    assert Question.objects.count() >= questions_before  # nothing random deletes questions


# Query strings: the names the pages read (page, the report's class/sort/format, the item
# analysis's topic/flagged, the admin's q/o/p and list filters) and any other, with digits
# int() reads but a regular expression does not, NUL, huge numbers and plain junk.
QUERY_NAMES = [
    *("page", "topic", "sort", "class", "format", "flagged", "next", "q", "o", "p", "all"),
    *("e", "_popup", "_to_field", "_changelist_filters", "topic__id__exact", "type__exact"),
    *("is_published__exact", "origin__exact", "mastery__exact", "state__exact"),
    *("passed__exact", "quiz__kind__exact", "quiz__topic__id__exact", "id__in"),
]
QUERY_VALUES = st.one_of(
    VALUES,
    st.sampled_from(
        [
            *("²", "١", "١٢", "１", "Ⅷ", "\x00", "-1", "0", "1.5", "99999999999999999999999"),
            *("csv", "json", "learner", "-learner", "best", "1.2.-3", "-", "~", "%", "1,2,x"),
            *("true", "1", "None", "https://evil.example/", "//evil.example", "\\\\x"),
        ]
    ),
)
QUERIES = st.dictionaries(
    st.one_of(st.sampled_from(QUERY_NAMES), st.text(max_size=8)),
    st.one_of(QUERY_VALUES, st.lists(QUERY_VALUES, max_size=3)),
    max_size=4,
)
QUICK = settings(HYPOTHESIS, max_examples=12)


def stored() -> dict:
    """Everything a GET must leave as it was: the scores and how many rows each of our
    models holds."""
    counts = {
        model.__name__: model._default_manager.count()
        for model in apps.get_app_config("learning").get_models()
    }
    return {**scores(), **counts}


def nothing_logged_as_an_error(caplog) -> bool:
    """No record at ERROR or above: a 500 (django.request) or a SuspiciousOperation
    (django.security) would be one. A 403 from the admin is a WARNING, with Django's own
    traceback of PermissionDenied, and is not what these tests are about."""
    return not [r for r in caplog.records if r.levelno >= logging.ERROR]


def learner_pages(attempt: Attempt, stranger: Attempt) -> list[str]:
    return [
        reverse("learning:course"),
        reverse("learning:dashboard"),
        reverse("learning:review"),
        reverse("learning:challenge"),
        reverse("learning:lesson", args=["heat"]),
        reverse("learning:quiz", args=["heat"]),
        reverse("learning:attempt", args=[attempt.pk]),
        reverse("learning:question", args=[attempt.pk, 1]),
        reverse("learning:result", args=[attempt.pk]),
        reverse("learning:attempt", args=[stranger.pk]),
        reverse("learning:signup"),
        reverse("login"),
    ]


def teacher_pages() -> list[str]:
    """Every changelist of the course in the admin (the two reports are changelists too),
    the export, the import form, the previews and the regrade page."""
    changelists = [
        reverse(f"admin:learning_{model._meta.model_name}_changelist")
        for model in admin.site._registry
        if model._meta.app_label == "learning"
    ]
    question = Question.objects.earliest("pk")
    quiz = Quiz.objects.earliest("pk")
    return [
        *changelists,
        reverse("admin:index"),
        reverse("admin:learning_question_export"),
        reverse("admin:learning_question_import"),
        reverse("admin:learning_question_preview", args=[question.pk]),
        reverse("admin:learning_question_regrade", args=[question.pk]),
        reverse("admin:learning_quiz_preview", args=[quiz.pk]),
    ]


@QUICK
@given(query=QUERIES, htmx=st.booleans())
def test_any_query_string_on_a_learners_page_never_fails(
    learner_client, world, caplog, query, htmx
):
    attempt, stranger = world
    before = stored()
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    for url in learner_pages(attempt, stranger):
        response = learner_client.get(url, query, **headers)
        assert response.status_code < 500, (url, query)
    assert stored() == before, query
    assert nothing_logged_as_an_error(caplog)


# Every odd value under every name the teachers' pages read, all in one query string.
NASTY_QUERY = {
    name: value
    for name, value in zip(
        QUERY_NAMES,
        itertools.cycle(["²", "١", "\x00", "9" * 30, "-1", "Ⅷ", "１", "x"]),
        strict=False,
    )
}


def test_odd_digits_and_nul_under_every_name_on_every_teachers_page(teacher_client, world, caplog):
    before = stored()
    for url in teacher_pages():
        for query in (NASTY_QUERY, {name: "²" for name in QUERY_NAMES}):
            response = teacher_client.get(url, query)
            assert response.status_code < 500, (url, query)
    assert stored() == before
    assert nothing_logged_as_an_error(caplog)


# An admin page takes a while to draw, so each example visits one page, drawn at random.
@settings(HYPOTHESIS, max_examples=25)
@given(page=st.integers(min_value=0), query=QUERIES)
def test_any_query_string_on_a_teachers_page_never_fails(
    teacher_client, world, caplog, page, query
):
    pages = teacher_pages()
    url = pages[page % len(pages)]
    before = stored()
    response = teacher_client.get(url, query)
    assert response.status_code < 500, (url, query)
    assert stored() == before, query
    assert nothing_logged_as_an_error(caplog)


# Header values arrive through WSGI as Latin-1 text: any of the first 256 code points.
HEADER_TEXT = st.one_of(
    st.text(alphabet=st.characters(max_codepoint=255, blacklist_categories=["Cs"]), max_size=60),
    st.sampled_from(["", "true", "false", "\xe9" * 3000, "a" * 9000, "http://[", "null"]),
)
URLISH = st.one_of(
    HEADER_TEXT,
    st.sampled_from(
        [
            "http://testserver/dashboard/",
            "http://testserver:99999/",
            "http://[::1/",
            "//testserver/../../",
            "https://evil.example/",
        ]
    ),
)
HEADERS = st.fixed_dictionaries(
    {},
    optional={
        "HTTP_HX_REQUEST": HEADER_TEXT,
        "HTTP_HX_TARGET": HEADER_TEXT,
        "HTTP_HX_CURRENT_URL": URLISH,
        "HTTP_HX_TRIGGER": HEADER_TEXT,
        "HTTP_HX_TRIGGER_NAME": HEADER_TEXT,
        "HTTP_HX_BOOSTED": HEADER_TEXT,
        "HTTP_HX_HISTORY_RESTORE_REQUEST": HEADER_TEXT,
        "HTTP_HX_PROMPT": HEADER_TEXT,
        "HTTP_ACCEPT_LANGUAGE": st.one_of(
            HEADER_TEXT, st.sampled_from(["de-DE;q=²", "*;q=0.5, xx-" + "y" * 500, "ar;q=١"])
        ),
        "HTTP_ACCEPT": HEADER_TEXT,
        "HTTP_REFERER": URLISH,
        "HTTP_ORIGIN": URLISH,
        "HTTP_USER_AGENT": HEADER_TEXT,
        "HTTP_X_FORWARDED_FOR": HEADER_TEXT,
    },
)
CHARSETS = st.one_of(
    st.sampled_from(
        ["utf-8", "UTF-8", "utf-16", "utf-32", "latin-1", "ascii", "nope", "", "\xe9"]
    ),
    # Not NUL: Django's WSGIRequest cannot even be made with one in the charset (its
    # codec lookup raises ValueError before any middleware), and gunicorn refuses a header
    # with a NUL in it first, so no request of that kind reaches the site.
    st.text(
        alphabet=st.characters(
            max_codepoint=255, blacklist_categories=["Cs"], blacklist_characters="\x00"
        ),
        max_size=12,
    ),
)
BOUNDARIES = st.one_of(
    st.sampled_from(["x", "", "-", "a" * 200, "\xe9", '"x"', "x; charset=utf-16"]),
    st.text(alphabet=st.characters(max_codepoint=255, blacklist_categories=["Cs"]), max_size=20),
)
CONTENT_TYPES = st.one_of(
    st.builds("application/x-www-form-urlencoded; charset={}".format, CHARSETS),
    st.builds("multipart/form-data; boundary={}".format, BOUNDARIES),
    st.builds("multipart/form-data; boundary=x; charset={}".format, CHARSETS),
    st.sampled_from(["multipart/form-data", "application/json", "text/plain", "", ";;;=="]),
)
BODIES = st.one_of(
    st.binary(max_size=200),
    st.just(b"username=ada&password=x&choice=1&value=2"),
    st.just(b'--x\r\nContent-Disposition: form-data; name="value"\r\n\r\n2\r\n--x--\r\n'),
    st.just(b'--x\r\nContent-Disposition: form-data; name="value"\r\n\r\n2'),  # truncated
)
COOKIES = st.one_of(
    HEADER_TEXT,
    st.sampled_from(["sessionid=", "csrftoken=\xff; sessionid=x", ";;=;==", "a=" + "b" * 9000]),
)


@QUICK
@given(headers=HEADERS, cookie=st.none() | COOKIES, csrf=st.booleans())
def test_any_request_headers_on_a_page_never_fail(
    learner_client, world, caplog, headers, cookie, csrf
):
    attempt, stranger = world
    before = stored()
    client = with_headers(learner_client, headers, cookie, csrf)
    for url in learner_pages(attempt, stranger):
        response = client.get(url)
        assert response.status_code < 500, (url, headers, cookie)
    assert stored() == before
    assert nothing_logged_as_an_error(caplog)


@QUICK
@given(
    headers=HEADERS,
    cookie=st.none() | COOKIES,
    csrf=st.booleans(),
    content_type=CONTENT_TYPES,
    body=BODIES,
)
def test_any_content_type_and_headers_on_a_post_never_fail(
    learner_client, world, caplog, headers, cookie, csrf, content_type, body
):
    attempt, stranger = world
    before = scores()
    client = with_headers(learner_client, headers, cookie, csrf)
    for url in post_everywhere(client, attempt, stranger):
        response = client.generic("POST", url, body, content_type=content_type)
        assert response.status_code < 500, (url, content_type, body)
    assert unchanged_unless_answered(before, scores())
    assert nothing_logged_as_an_error(caplog)


def with_headers(client: Client, headers: dict, cookie: str | None, csrf: bool) -> Client:
    """The client, sending these headers with every request from now on, its own cookies
    (the learner's session) followed by `cookie`, and checking CSRF as a browser would
    meet it (then with the right token in X-CSRFToken) or not."""
    if "csrftoken" not in client.cookies:
        client.get(reverse("login"))
    own = "; ".join(f"{morsel.key}={morsel.coded_value}" for morsel in client.cookies.values())
    client.defaults = {**headers, "HTTP_COOKIE": f"{own}; {cookie}" if cookie else own}
    client.handler.enforce_csrf_checks = csrf
    if csrf:
        client.defaults["HTTP_X_CSRFTOKEN"] = client.cookies["csrftoken"].value
    return client
