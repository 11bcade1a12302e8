"""Only your own data, no answer key before answering, inert hostile markup, CSRF."""

from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from learning import services
from learning.models import Attempt, FeedbackTiming, Question, QuizKind
from learning.question_types.picking import ChoiceAnswer
from tests.factories import (
    FACTORY_BY_TYPE,
    LessonFactory,
    MatchingQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    ShortAnswerQuestionFactory,
    TopicFactory,
    UserFactory,
)
from tests.helpers import HTMX, answer_post

pytestmark = pytest.mark.django_db

SECRET = "ANSWER-KEY-MARKER"


@pytest.fixture
def every_type():
    """A quiz with one question of each type, every right answer, weight and feedback
    carrying a marker that must never reach a page before the question is answered."""
    topic = TopicFactory(slug="secrets")
    LessonFactory(topic=topic)
    single = QuestionFactory(topic=topic, explanation=f"{SECRET} explanation", choices=[])
    multiple = QuestionFactory(topic=topic, type="multiple", explanation=SECRET, choices=[])
    true_false = QuestionFactory(topic=topic, type="true_false", explanation=SECRET, choices=[])
    for question, rows in (
        (single, [("Calcium", True), ("Iron", False)]),
        (multiple, [("Sodium", True), ("Potassium", True), ("Glucose", False)]),
        (true_false, [("True", True), ("False", False)]),
    ):
        for order, (text, right) in enumerate(rows):
            question.choices.create(
                text=text, is_correct=right, order=order, feedback=f"{SECRET} on {text}"
            )
    NumericQuestionFactory(topic=topic, explanation=SECRET, numeric_answer=987654)
    ShortAnswerQuestionFactory(topic=topic, explanation=SECRET, accepted=[("Zyxwvutsrq", 100)])
    MatchingQuestionFactory(topic=topic, explanation=SECRET)
    return QuizFactory(topic=topic, question_count=6, shuffle_questions=False)


def test_no_answer_key_reaches_a_question_page_before_answering(
    learner_client, learner, every_type
):
    attempt = services.start_attempt(learner=learner, quiz=every_type)
    asked = Question.objects.filter(pk__in=attempt.question_ids).values_list("type", flat=True)
    assert set(asked) == set(FACTORY_BY_TYPE), "give each question type its secrets here"
    for position in range(1, 7):
        url = reverse("learning:question", args=[attempt.pk, position])
        for headers in ({}, HTMX):
            html = learner_client.get(url, **headers).content.decode()
            for leak in (SECRET, "987654", "Zyxwvutsrq", "is_correct", "credit", "%100%"):
                assert leak not in html, (position, leak, headers)
            assert "is-correct" not in html and "right answer" not in html


def test_no_answer_key_reaches_any_page_before_a_deferred_quiz_shows_it(
    learner_client, learner, every_type
):
    """A quiz showing its answers only after it closes: answering every type (with htmx
    and without), looking again, and the result give away nothing before the close."""
    closes = timezone.now() + timedelta(days=7)
    every_type.feedback_timing = FeedbackTiming.AFTER_CLOSE
    every_type.closes_at = closes
    every_type.save()
    attempt = services.start_attempt(learner=learner, quiz=every_type)
    pages = []
    for position in range(1, 7):
        url = reverse("learning:question", args=[attempt.pk, position])
        question = Question.objects.get(pk=attempt.question_ids[position - 1])
        headers = HTMX if position % 2 else {}
        answered = learner_client.post(
            url, answer_post(question, right=position > 3, attempt=attempt), **headers
        )
        pages.append(answered)
        pages.append(
            learner_client.post(
                url, answer_post(question, right=position > 3, attempt=attempt), **headers
            )
        )
        for headers in ({}, HTMX):
            pages.append(learner_client.get(url, **headers))
    pages.append(learner_client.get(reverse("learning:result", args=[attempt.pk])))
    pages.append(learner_client.get(reverse("learning:dashboard")))
    for page in pages:
        html = page.content.decode() + str(page.headers)
        for leak in (
            SECRET,
            "987654",
            "Zyxwvutsrq",
            "is-correct",
            "verdict-r",
            "verdict-w",
            "verdict-p",
        ):
            assert leak not in html, (page.request["PATH_INFO"], leak)
        assert "Not right" not in html and "Partly right" not in html
    with time_machine.travel(closes + timedelta(seconds=1)):
        learner_client.force_login(learner)
        result = learner_client.get(reverse("learning:result", args=[attempt.pk]))
    assert SECRET in result.content.decode()


def test_matching_options_do_not_give_the_pairing_away(learner_client, learner, every_type):
    attempt = services.start_attempt(learner=learner, quiz=every_type)
    position = 1 + next(
        i
        for i, q in enumerate(attempt.question_ids)
        if Question.objects.get(pk=q).type == "matching"
    )
    html = learner_client.get(reverse("learning:question", args=[attempt.pk, position])).content
    options = [b"Lasting contraction", b"Rapid twitch", b"Seizure jerks"]
    positions = [html.index(option) for option in options]
    assert positions == sorted(positions)  # alphabetical, not in pair order


XSS = [
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    '<a href="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="data:text/html,<script>alert(1)</script>"></iframe>',
    "<div style=\"background:url('javascript:alert(1)')\">x</div>",
    "<scr<script>ipt>alert(1)</script>",
    '"><script>alert(1)</script>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
]


class LiveMarkupFinder(HTMLParser):
    """Collects what a browser would run: inline scripts, event handlers, script URLs,
    frames. Escaped text and quoted attribute values are inert and ignored."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "script" and not (values.get("src") or "").startswith(("/static/", "/admin/")):
            self.found.append("inline <script>")
        # A <style> element is never ours (our CSS is a file), and markup inside one can
        # turn live under a browser's foreign-content rules (mutation XSS).
        if tag in ("iframe", "object", "embed", "style"):
            self.found.append(f"<{tag}>")
        for name, value in attrs:
            text = (value or "").strip().lower()
            if name.startswith("on"):
                self.found.append(f"{tag} {name}=")
            if name in ("href", "src", "action", "formaction") and text.startswith(
                ("javascript:", "data:", "vbscript:")
            ):
                self.found.append(f"{tag} {name}={text[:20]}")
            if name == "style" and "javascript:" in text:
                self.found.append(f"{tag} style=javascript:")


def live_markup(html: str) -> list[str]:
    finder = LiveMarkupFinder()
    finder.feed(html)
    finder.close()
    return finder.found


# Each payload but the Markdown link, and the split tag that only fools naive strippers,
# is live markup when left raw: the detector must say so.
RAW_LIVE = [p for p in XSS if p[0] in '<"' and not p.startswith("<scr<")]


@pytest.mark.parametrize("payload", RAW_LIVE)
def test_the_detector_flags_each_payload_left_raw(payload):
    assert live_markup(payload)


@pytest.mark.parametrize("payload", XSS)
def test_hostile_markup_is_inert_wherever_it_is_shown(client, learner, teacher, payload):
    topic = TopicFactory(slug="xss", title="XSS")
    LessonFactory(topic=topic, body_markdown=f"## Section {{#calcium}}\n\n{payload}\n")
    question = QuestionFactory(
        topic=topic, prompt=f"Prompt {payload}", explanation=f"Why {payload}", choices=[]
    )
    question.choices.create(text=f"Right {payload}", is_correct=True, feedback=f"Yes {payload}")
    question.choices.create(text=f"Wrong {payload}", is_correct=False, feedback=f"No {payload}")
    quiz = QuizFactory(topic=topic, question_count=1)
    attempt = services.start_attempt(learner=learner, quiz=quiz)

    client.force_login(learner)
    pages = [
        client.get(reverse("learning:lesson", args=["xss"])),
        client.get(reverse("learning:question", args=[attempt.pk, 1])),
        client.post(
            reverse("learning:question", args=[attempt.pk, 1]),
            answer_post(question, right=False, attempt=attempt),
            **HTMX,
        ),
        client.get(reverse("learning:result", args=[attempt.pk])),
    ]
    client.force_login(teacher)
    pages.append(client.get(reverse("admin:learning_question_preview", args=[question.pk])))
    pages.append(client.get(reverse("admin:learning_question_change", args=[question.pk])))
    for page in pages:
        assert page.status_code == 200
        assert live_markup(page.content.decode()) == [], page.request["PATH_INFO"]


def test_every_learner_url_of_an_attempt_is_404_for_another_learner(
    client, learner, other_learner
):
    topic = TopicFactory()
    question = QuestionFactory(topic=topic)
    quiz = QuizFactory(topic=topic, question_count=1)
    attempt = services.start_attempt(learner=learner, quiz=quiz)
    services.record_answer(
        attempt=attempt,
        question_id=question.pk,
        answer=ChoiceAnswer(frozenset([question.choices.get(is_correct=True).pk])),
    )
    review = Attempt.objects.create(
        learner=learner,
        quiz=services.course_quiz(QuizKind.REVIEW),
        question_ids=[question.pk],
        choice_orders={},
    )
    client.force_login(other_learner)
    for owned in (attempt, review):
        for url in (
            reverse("learning:attempt", args=[owned.pk]),
            reverse("learning:question", args=[owned.pk, 1]),
            reverse("learning:result", args=[owned.pk]),
        ):
            assert client.get(url).status_code == 404, url
            assert client.post(url, answer_post(question, True)).status_code in (404, 405), url
    assert attempt.responses.count() == 1


TEACHER_URLS = [
    "admin:index",
    "admin:learning_question_changelist",
    "admin:learning_question_add",
    "admin:learning_question_import",
    "admin:learning_question_export",
    "admin:learning_topicprogress_changelist",
    "admin:learning_attempt_changelist",
    "admin:learning_classroom_changelist",
    "admin:learning_itemanalysis_changelist",
    "admin:learning_progressreport_changelist",
    "admin:auth_user_changelist",
]


@pytest.mark.parametrize("name", TEACHER_URLS)
def test_teacher_and_admin_urls_turn_a_student_away(client, learner, name):
    client.force_login(learner)
    response = client.get(reverse(name))
    assert response.status_code in (302, 403)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("admin:login"))


def test_every_post_needs_a_csrf_token_htmx_ones_included(learner, every_type):
    attempt = services.start_attempt(learner=learner, quiz=every_type)
    question = Question.objects.get(pk=attempt.question_ids[0])
    client = Client(enforce_csrf_checks=True)
    client.force_login(learner)
    posts = [
        (reverse("learning:mark_read", args=["secrets"]), {}),
        (reverse("learning:start_quiz", args=["secrets"]), {}),
        (reverse("learning:question", args=[attempt.pk, 1]), answer_post(question, True, attempt)),
        (reverse("learning:join_class"), {"code": "ABCD2345"}),
        (reverse("learning:start_review"), {}),
        (reverse("learning:start_challenge"), {}),
        (reverse("logout"), {}),
    ]
    for url, data in posts:
        for headers in ({}, HTMX):
            assert client.post(url, data, **headers).status_code == 403, (url, headers)
    assert not attempt.responses.exists()
    anonymous = Client(enforce_csrf_checks=True)
    assert anonymous.post(reverse("learning:signup"), {"username": "x"}).status_code == 403


def test_no_view_is_exempt_from_csrf_but_the_lms_launch():
    """An LMS starts a launch with a cross-site GET or POST (OIDC login initiation) and
    ends it with a cross-site POST of a signed id_token: those two carry no CSRF token, and
    are protected by the OIDC state cookie, the nonce and the platform's signature
    (tests/lti/). Every other view checks CSRF."""
    from django.urls import get_resolver

    sources = [
        path
        for folder in ("learning", "quizsite")
        for path in (Path(settings.BASE_DIR) / folder).rglob("*.py")
    ]
    assert sources
    exempting = [path for path in sources if "csrf_exempt" in path.read_text(encoding="utf-8")]
    assert [path.relative_to(settings.BASE_DIR).as_posix() for path in exempting] == [
        "learning/lti/launch.py"
    ]

    def exempt_names(resolver, namespace=""):
        for pattern in resolver.url_patterns:
            if hasattr(pattern, "url_patterns"):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                yield from exempt_names(pattern, inner)
            elif getattr(pattern.callback, "csrf_exempt", False):
                yield f"{namespace}{pattern.name}"

    exempt = set(exempt_names(get_resolver()))
    assert exempt == {"lti:login", "lti:launch"}


def test_students_answers_stay_their_own_in_the_dashboard(client, learner, other_learner):
    UserFactory(username="third")
    client.force_login(other_learner)
    assert client.get(reverse("learning:dashboard")).status_code == 200


def every_admin_url() -> list[str]:
    """The list and add page of every model in the admin, and the teachers' own pages."""
    from django.contrib import admin
    from django.urls import NoReverseMatch

    urls = [reverse("admin:index"), reverse("admin:learning_question_import")]
    urls.append(reverse("admin:learning_question_export"))
    for model in admin.site._registry:
        for page in ("changelist", "add"):
            try:
                urls.append(
                    reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{page}")
                )
            except NoReverseMatch:
                continue
    return urls


def test_every_admin_page_turns_a_student_away(client, learner):
    client.force_login(learner)
    urls = every_admin_url()
    assert len(urls) > 20
    for url in urls:
        response = client.get(url)
        assert response.status_code in (302, 403), url
        if response.status_code == 302:
            assert response["Location"].startswith(reverse("admin:login")), url
