import logging
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import DatabaseError, OperationalError, connection
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import cache_control
from django.views.decorators.http import etag, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import HttpResponseClientRedirect, push_url, trigger_client_event

from learning import (
    busy,
    charts,
    page_cache,
    password_resets,
    quiz_rules,
    selectors,
    services,
    signups,
)
from learning.addresses import client_ip
from learning.diagrams import diagram_svg, diagrams
from learning.forms import (
    ANSWER_REFUSED_STATUS,
    AnswerForm,
    CertificateNameForm,
    JoinClassForm,
    SignUpForm,
)
from learning.glossary import glossary
from learning.http import AuthenticatedHtmxHttpRequest, AuthenticatedHttpRequest, HtmxHttpRequest
from learning.lti import grades
from learning.mastery import COMPLETION_LEVEL
from learning.models import (
    Attempt,
    AttemptState,
    Certificate,
    FeedbackTiming,
    Quiz,
    QuizKind,
    Topic,
    TopicProgress,
)
from learning.selectors import topic_rows_for

ATTEMPTS_PER_PAGE = 20

logger = logging.getLogger(__name__)


TOPIC_NOT_PUBLISHED = "This topic is not open to learners."

# The site's colours, as in static/css/site.css (light scheme).
THEME_COLOUR = "#1d5f8a"
BACKGROUND_COLOUR = "#f7f6f2"


def _get_topic(slug: str) -> Topic:
    """A published topic: a draft is a 404, as if it did not exist."""
    topic = get_object_or_404(Topic.objects.select_related("lesson", "quiz"), slug=slug)
    if not topic.is_published:
        raise Http404(TOPIC_NOT_PUBLISHED)
    return topic


def _get_topic_to_read(request: HttpRequest, slug: str) -> Topic:
    """A topic whose lesson this user may read: a published one, or a draft for staff
    (a teacher checking it before publishing)."""
    topic = get_object_or_404(Topic.objects.select_related("lesson", "quiz"), slug=slug)
    if not (topic.is_published or request.user.is_staff):
        raise Http404(TOPIC_NOT_PUBLISHED)
    return topic


def _get_attempt_for_user(request: AuthenticatedHttpRequest, attempt_id: int) -> Attempt:
    """The learner's own attempt (404 for anyone else's), closed first if its time ran out."""
    attempt = get_object_or_404(
        selectors.attempts_with_quiz(), pk=attempt_id, learner=request.user
    )
    if services.is_overdue(attempt):
        services.expire_if_overdue(attempt=attempt)
        attempt.refresh_from_db()
    return attempt


@require_http_methods(["GET", "HEAD"])
@cache_control(max_age=86400, public=True)
def web_manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest, drawn here so its icons point at the hashed static files."""
    icons = [
        {"src": static("icons/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
        {"src": static("icons/icon-192.png"), "sizes": "192x192", "type": "image/png"},
        {"src": static("icons/icon-512.png"), "sizes": "512x512", "type": "image/png"},
    ]
    manifest = {
        "name": "Muscle Spasms, Explained",
        "short_name": "Muscle spasms",
        "description": "Short lessons and scored quizzes on muscles and muscle spasms.",
        "start_url": reverse("learning:course"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": BACKGROUND_COLOUR,
        "icons": icons,
    }
    return JsonResponse(manifest, content_type="application/manifest+json")


@require_http_methods(["GET", "HEAD"])
@cache_control(max_age=86400, public=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers and crawlers ask for /favicon.ico whatever the page links to."""
    return redirect(static("icons/favicon.ico"))


@require_http_methods(["GET", "HEAD"])
def healthz(request: HttpRequest) -> HttpResponse:
    """200 once the database has answered a query; 503 when it cannot be reached."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("Health check: the database cannot be reached", exc_info=True)
        return HttpResponse("database unreachable\n", status=503, content_type="text/plain")
    return HttpResponse("ok\n", content_type="text/plain")


@page_cache.learner_page_cache()
def course(request: HttpRequest) -> HttpResponse:
    learner = request.user if request.user.is_authenticated else None
    if learner is None:
        return render(request, "learning/course.html", {"rows": topic_rows_for(None)})
    now = timezone.now()
    overdue = services.close_overdue_attempts(learner=learner)
    rows = topic_rows_for(learner)
    reviews = selectors.review_summary(learner)
    context = {
        "rows": rows,
        "reviews": reviews,
        "course_progress": selectors.course_progress(rows),
    }
    return page_cache.keep_until(
        render(request, "learning/course.html", context),
        overdue.next_end,
        page_cache.review_text_changes_at(reviews.next_due, now),
        page_cache.quiz_times_change_at((_quiz_of(row.topic) for row in rows), now),
    )


def _quiz_of(topic: Topic) -> Quiz | None:
    return getattr(topic, "quiz", None)


@require_http_methods(["GET", "HEAD"])
def glossary_page(request: HttpRequest) -> HttpResponse:
    return render(request, "learning/glossary.html", {"entries": glossary()})


def _diagram_etag(request: HttpRequest, name: str) -> str | None:
    return f'"{diagram_svg(name)[1]}"' if name in diagrams() else None


# The diagram is loaded by <img>, which shows it as a still image: it needs no script and
# no other file, only its own <style> (its colours follow the reader's light or dark scheme).
DIAGRAM_CSP = "default-src 'none'; style-src 'unsafe-inline'"


# The cache header outside the ETag check, so that a 304 renews the day's caching too.
@require_http_methods(["GET", "HEAD"])
@cache_control(public=True, max_age=24 * 60 * 60)
@etag(_diagram_etag)
def diagram(request: HttpRequest, name: str) -> HttpResponse:
    if name not in diagrams():
        raise Http404("No such diagram.")
    response = HttpResponse(diagram_svg(name)[0], content_type="image/svg+xml")
    response["Content-Security-Policy"] = DIAGRAM_CSP
    return response


@page_cache.learner_page_cache()
def lesson(request: HttpRequest, slug: str) -> HttpResponse:
    topic = _get_topic_to_read(request, slug)
    # A topic an import made has no lesson until a teacher writes one; its page still
    # leads to its quiz, so no link to the topic is a 404.
    topic_lesson = getattr(topic, "lesson", None)
    topic_progress = None
    if request.user.is_authenticated:
        topic_progress = TopicProgress.objects.filter(learner=request.user, topic=topic).first()
    context = {
        "topic": topic,
        "lesson": topic_lesson,
        "progress": topic_progress,
        "neighbours": selectors.topic_neighbours(topic),
    }
    return render(request, "learning/lesson.html", context)


@require_POST
@login_required
def mark_read(request: AuthenticatedHtmxHttpRequest, slug: str) -> HttpResponse:
    topic = _get_topic(slug)
    topic_progress = services.mark_lesson_read(learner=request.user, topic=topic)
    if request.htmx:
        context = {
            "topic": topic,
            "lesson": getattr(topic, "lesson", None),
            "progress": topic_progress,
        }
        response = render(request, "learning/lesson.html#read-status", context)
        return trigger_client_event(response, "progress-changed")
    messages.success(request, f"Marked “{topic.title}” as read.")
    return redirect("learning:lesson", slug=topic.slug)


@login_required
def quiz_detail(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    topic = _get_topic(slug)
    if not hasattr(topic, "quiz"):
        raise Http404("This topic has no quiz yet.")
    services.expire_overdue_attempts(learner=request.user)
    topic_progress = TopicProgress.objects.filter(learner=request.user, topic=topic).first()
    open_attempt = Attempt.objects.filter(
        learner=request.user, quiz=topic.quiz, state=AttemptState.IN_PROGRESS
    ).first()
    available = topic.questions.filter(is_published=True).count()
    attempts_used = services.attempts_used(learner=request.user, quiz=topic.quiz)
    context = {
        "topic": topic,
        "quiz": topic.quiz,
        "progress": topic_progress,
        "open_attempt": open_attempt,
        "question_count": min(topic.quiz.question_count, available),
        "attempts_used": attempts_used,
        "start_refusal": quiz_rules.start_refusal(
            topic.quiz, attempts_used=attempts_used, now=timezone.now()
        ),
    }
    return render(request, "learning/quiz_detail.html", context)


@require_POST
@login_required
def start_quiz(request: AuthenticatedHttpRequest, slug: str) -> HttpResponse:
    topic = _get_topic(slug)
    if not hasattr(topic, "quiz"):
        raise Http404("This topic has no quiz yet.")
    from_lesson = request.POST.get("from") == "lesson"
    try:
        attempt = services.start_attempt(
            learner=request.user, quiz=topic.quiz, from_lesson=from_lesson
        )
    except services.QuizError as error:
        messages.error(request, str(error))
        return redirect("learning:quiz", slug=topic.slug)
    return redirect("learning:attempt", attempt_id=attempt.pk)


def _start_course_quiz(request: AuthenticatedHttpRequest, kind: str, back: str) -> HttpResponse:
    try:
        attempt = services.start_attempt(learner=request.user, quiz=services.course_quiz(kind))
    except services.QuizError as error:
        messages.info(request, str(error))
        return redirect(back)
    return redirect("learning:attempt", attempt_id=attempt.pk)


def _open_course_attempt(
    request: AuthenticatedHttpRequest, kind: str
) -> tuple[Attempt | None, datetime | None]:
    """The learner's open session of this kind, and when the next open attempt runs out."""
    overdue = services.close_overdue_attempts(learner=request.user)  # a session left open
    open_attempt = Attempt.objects.filter(
        learner=request.user, quiz__kind=kind, state=AttemptState.IN_PROGRESS
    ).first()
    return open_attempt, overdue.next_end


@login_required
@page_cache.learner_page_cache()
def review(request: AuthenticatedHttpRequest) -> HttpResponse:
    now = timezone.now()
    reviews = selectors.review_summary(request.user)
    open_attempt, next_end = _open_course_attempt(request, QuizKind.REVIEW)
    context = {
        "reviews": reviews,
        "open_attempt": open_attempt,
        "session_size": services.course_quiz(QuizKind.REVIEW).question_count,
        "session_hours": quiz_rules.COURSE_SESSION_HOURS,
    }
    return page_cache.keep_until(
        render(request, "learning/review.html", context),
        next_end,
        page_cache.review_text_changes_at(reviews.next_due, now),
        # A quiz that closes may stop holding its questions back from review.
        selectors.next_quiz_time(now),
    )


@require_POST
@login_required
def start_review(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _start_course_quiz(request, QuizKind.REVIEW, "learning:review")


@login_required
@page_cache.learner_page_cache()
def challenge(request: AuthenticatedHttpRequest) -> HttpResponse:
    started = [
        row
        for row in topic_rows_for(request.user)
        if row.lesson_read or (row.progress and row.progress.attempt_count)
    ]
    open_attempt, next_end = _open_course_attempt(request, QuizKind.CHALLENGE)
    context = {
        "started": started,
        "open_attempt": open_attempt,
        "quiz": services.course_quiz(QuizKind.CHALLENGE),
        "session_hours": quiz_rules.COURSE_SESSION_HOURS,
    }
    return page_cache.keep_until(render(request, "learning/challenge.html", context), next_end)


@require_POST
@login_required
def start_challenge(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _start_course_quiz(request, QuizKind.CHALLENGE, "learning:challenge")


@login_required
def attempt_detail(request: AuthenticatedHttpRequest, attempt_id: int) -> HttpResponse:
    """Send the learner on to where this attempt stands: its next question, or its result."""
    attempt = _get_attempt_for_user(request, attempt_id)
    position = selectors.next_unanswered_position(attempt)
    if attempt.is_finished or position is None:
        return redirect("learning:result", attempt_id=attempt.pk)
    return redirect("learning:question", attempt_id=attempt.pk, position=position)


def _render_question(
    request: HtmxHttpRequest,
    screen: selectors.QuestionScreen,
    form: AnswerForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    if screen.question is not None and form is None:
        form = AnswerForm(
            question=screen.question, choices=screen.choices, codes=screen.option_codes
        )
    template = "learning/quiz.html#question" if request.htmx else "learning/quiz.html"
    context = {"screen": screen, "form": form, "error": error, "topic": screen.attempt.quiz.topic}
    return render(request, template, context, status=status)


def _question_withdrawn(request: AuthenticatedHttpRequest, attempt: Attempt) -> HttpResponse:
    services.drop_deleted_questions(attempt=attempt)
    messages.info(request, "A question was withdrawn by your teacher and taken out of this quiz.")
    return redirect("learning:attempt", attempt_id=attempt.pk)


@vary_on_headers("HX-Request")
@require_http_methods(["GET", "POST"])
@login_required
def attempt_question(
    request: AuthenticatedHtmxHttpRequest, attempt_id: int, position: int
) -> HttpResponse:
    attempt = _get_attempt_for_user(request, attempt_id)
    if not 1 <= position <= attempt.question_total:
        raise Http404("This attempt has no question at that position.")
    if request.method == "POST" and attempt.state != AttemptState.EXPIRED:
        return _answer(request, attempt, position)
    try:
        screen = selectors.question_screen(attempt, position)
    except selectors.QuestionGone:
        return _question_withdrawn(request, attempt)
    answer_first = selectors.screen_position_to_answer_first(attempt, screen)
    if answer_first is not None:
        return redirect("learning:question", attempt_id=attempt.pk, position=answer_first)
    if request.method == "POST":  # an expired attempt
        message = services.ended_message(attempt)
        return _render_question(request, screen, error=message, status=ANSWER_REFUSED_STATUS)
    if screen.question is not None and attempt.is_finished:
        return redirect("learning:result", attempt_id=attempt.pk)
    return _render_question(request, screen)


def _answer(
    request: AuthenticatedHtmxHttpRequest, attempt: Attempt, position: int
) -> HttpResponse:
    """An answer posted: checked against the question as its page showed it, graded and
    stored (services.record_answer); then its feedback, or the next step."""
    try:
        asked = selectors.question_to_answer(
            attempt, position, version_token=request.POST.get("version", "")
        )
    except selectors.QuestionGone:
        return _question_withdrawn(request, attempt)
    answer_first = selectors.position_to_answer_first(
        attempt, position, answered=asked.answered, earlier_answered=asked.earlier_answered
    )
    if answer_first is not None:
        return redirect("learning:question", attempt_id=attempt.pk, position=answer_first)
    if asked.answered:
        return _answer_again(request, asked)
    form = AnswerForm(request.POST, question=asked.question, choices=asked.rows, codes=asked.codes)
    if not form.is_valid():
        return _render_question(request, asked.screen, form=form, status=ANSWER_REFUSED_STATUS)
    try:
        stored = services.record_answer(
            attempt=attempt, question_id=asked.question.pk, answer=form.to_answer(), asked=asked
        )
    except services.QuizError as error:
        return _render_question(
            request, asked.screen, form=form, error=str(error), status=ANSWER_REFUSED_STATUS
        )
    except OperationalError as error:
        if not busy.is_database_busy(error):
            raise
        # Nothing was stored (one transaction): the question again, with what was typed.
        response = _render_question(
            request, asked.screen, form=form, error=busy.BUSY_MESSAGE, status=503
        )
        return busy.mark_busy(response, request, error)
    stored.attempt.quiz = attempt.quiz  # keep the loaded quiz and topic
    if attempt.quiz.feedback_timing != FeedbackTiming.AFTER_ANSWER:
        return _answer_saved(request, stored.attempt)
    if not request.htmx:
        return redirect("learning:question", attempt_id=attempt.pk, position=position)
    response = _render_question(request, selectors.screen_after_answer(asked, stored))
    return trigger_client_event(response, "progress-changed")


def _answer_saved(request: HtmxHttpRequest, attempt: Attempt) -> HttpResponse:
    """A quiz that shows its answers later: say the answer is saved (no verdict) and move
    on to the next question, or to the result after the last one."""
    position = None if attempt.is_finished else selectors.next_unanswered_position(attempt)
    if position is None:
        result_url = reverse("learning:result", args=[attempt.pk])
        return HttpResponseClientRedirect(result_url) if request.htmx else redirect(result_url)
    if not request.htmx:
        messages.success(request, "Answer saved.")
        return redirect("learning:question", attempt_id=attempt.pk, position=position)
    try:
        screen = selectors.question_screen(attempt, position)
    except selectors.QuestionGone:
        screen = None
    if screen is None or screen.question is None:  # withdrawn: let the question page say so
        return HttpResponseClientRedirect(reverse("learning:attempt", args=[attempt.pk]))
    form = AnswerForm(question=screen.question, choices=screen.choices, codes=screen.option_codes)
    context = {
        "screen": screen,
        "form": form,
        "notice": "Answer saved.",
        "topic": attempt.quiz.topic,
    }
    response = render(request, "learning/quiz.html#question", context)
    push_url(response, screen.question_url)
    return trigger_client_event(response, "progress-changed")


def _answer_again(request: HtmxHttpRequest, asked: selectors.QuestionToAnswer) -> HttpResponse:
    """A question already answered is posted again: the same answer (a double click, a
    retried request) gets the same feedback; a different one is refused. The answer is
    read as the version answered then would read it."""
    attempt, position = asked.attempt, asked.position
    stored, rows = selectors.stored_answer(asked)
    codes = selectors.attempt_option_codes(attempt, asked.question, rows)
    form = AnswerForm(request.POST, question=asked.question, choices=rows, codes=codes)
    same = form.is_valid() and form.question_type.answer_to_json(form.to_answer()) == stored.answer
    if same and not request.htmx:
        return redirect("learning:question", attempt_id=attempt.pk, position=position)
    screen = selectors.answered_screen(
        attempt, position, asked.question, stored, withheld=asked.withheld
    )
    if same:
        return _render_question(request, screen)
    message = services.ALREADY_ANSWERED
    return _render_question(request, screen, error=message, status=ANSWER_REFUSED_STATUS)


@login_required
def attempt_result(request: AuthenticatedHttpRequest, attempt_id: int) -> HttpResponse:
    attempt = _get_attempt_for_user(request, attempt_id)
    if not attempt.is_finished:
        return redirect("learning:attempt", attempt_id=attempt.pk)
    topic = attempt.quiz.topic  # None for a review session or the course challenge
    answers_shown = selectors.answers_shown(attempt)
    review = selectors.attempt_review(attempt) if answers_shown else None
    rows = topic_rows_for(request.user)
    # The topic's progress is in the rows, unless the topic has become a draft since.
    in_rows = [row for row in rows if topic is not None and row.topic.pk == topic.pk]
    topic_progress = (
        in_rows[0].progress
        if in_rows
        else TopicProgress.objects.filter(learner=request.user, topic=topic).first()
        if topic is not None
        else None
    )
    next_step = selectors.next_step(rows, selectors.review_summary(request.user))
    context = {
        "attempt": attempt,
        "topic": topic,
        "next_step": next_step,
        "retake_is_next": topic is not None
        and next_step.action in ("retake", "take")
        and next_step.url == reverse("learning:quiz", args=[topic.slug]),
        "neighbours": (
            selectors.topic_neighbours(topic, (row.topic for row in rows))
            if topic is not None
            else None
        ),
        "certificate": selectors.certificate_of(request.user),
        "completion_level": COMPLETION_LEVEL.label.lower(),
        "review": review.feedback if review is not None else [],
        "withheld_count": review.withheld_count if review is not None else 0,
        "answers_shown": answers_shown,
        "feedback_promise": quiz_rules.feedback_promise(attempt.quiz),
        "progress": topic_progress,
        "retake_refusal": _retake_refusal(request, attempt),
        "lms_grades": grades.result_notes(attempt),
    }
    return render(request, "learning/result.html", context)


def _retake_refusal(request: AuthenticatedHttpRequest, attempt: Attempt) -> str | None:
    """Why the quiz of this finished attempt cannot be taken again now, if it cannot."""
    topic = attempt.quiz.topic
    if topic is not None and not topic.is_published:
        return "This topic is not open right now, so its quiz cannot be taken again."
    quiz = attempt.quiz
    # The count of attempts used matters only to a quiz that limits them.
    used = (
        0
        if quiz.attempts_allowed is None
        else services.attempts_used(learner=request.user, quiz=quiz)
    )
    return quiz_rules.start_refusal(quiz, attempts_used=used, now=timezone.now())


def _dashboard_context(request: AuthenticatedHttpRequest) -> dict[str, Any]:
    now = timezone.now()
    overdue = services.close_overdue_attempts(learner=request.user)
    rows = topic_rows_for(request.user)
    reviews = selectors.review_summary(request.user)
    history = selectors.score_history(request.user)
    today = timezone.localdate(now)
    by_day = selectors.answers_by_day(request.user, today)
    finished = (
        Attempt.objects.filter(learner=request.user, state__in=AttemptState.closed())
        .select_related("quiz__topic")
        .order_by("-finished_at", "-id")
    )
    page = Paginator(finished, ATTEMPTS_PER_PAGE).get_page(request.GET.get("page"))
    return {
        "rows": rows,
        "sparklines": {
            row.topic.pk: charts.sparkline(history.get(row.topic.pk, [])) for row in rows
        },
        "reviews": reviews,
        "next_step": selectors.next_step(rows, reviews),
        "course_progress": selectors.course_progress(rows),
        "certificate": selectors.certificate_of(request.user),
        "completion_level": COMPLETION_LEVEL.label.lower(),
        "activity": charts.activity_chart(by_day, today),
        "streak": selectors.streak(set(by_day), today),
        "attempts_page": page,
        "classes": list(request.user.classes_joined.order_by("name")),
        "join_form": JoinClassForm(),
        # When the page next changes with no write: an attempt runs out, a review falls
        # due, a quiz opens or closes (the next step), the day ends (chart and streak).
        "changes_at": [
            overdue.next_end,
            page_cache.review_text_changes_at(reviews.next_due, now),
            page_cache.quiz_times_change_at((_quiz_of(row.topic) for row in rows), now),
            page_cache.next_midnight(now),
        ],
    }


@require_http_methods(["GET", "POST"])
@login_required
@page_cache.learner_page_cache(query=("page",))
def dashboard(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The learner's progress; its class-code form posts back here, so a refused code is
    shown on the dashboard's own address, where a reload makes sense."""
    if request.method == "POST":
        return _join_class(request)
    context = _dashboard_context(request)
    response = render(request, "learning/dashboard.html", context)
    return page_cache.keep_until(response, *context["changes_at"])


def _join_class(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = JoinClassForm(request.POST)
    if form.is_valid():
        try:
            classroom, joined = services.join_class(
                learner=request.user, code=form.cleaned_data["code"]
            )
        except services.ClassError as error:
            form.add_error("code", str(error))
        else:
            if joined:
                messages.success(request, f"You joined the class “{classroom.name}”.")
            else:
                messages.info(request, f"You are already in the class “{classroom.name}”.")
            return redirect("learning:dashboard")
    context = {**_dashboard_context(request), "join_form": form}
    return render(request, "learning/dashboard.html", context, status=400)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def my_certificate(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The learner's own certificate, or how far they are from it. A POST names it (the
    name printed), or claims it for a course completed before certificates were made."""
    certificate = selectors.certificate_of(request.user)
    if request.method == "POST":
        if certificate is None:
            certificate = services.claim_certificate(learner=request.user)
        form = CertificateNameForm(request.POST)
        if certificate is not None and "name" in request.POST:
            if not form.is_valid():
                return _certificate_page(request, certificate, form, status=400)
            services.name_certificate(certificate=certificate, name=form.cleaned_data["name"])
            messages.success(request, "The name on your certificate is saved.")
        return redirect("learning:certificate")
    return _certificate_page(request, certificate, CertificateNameForm())


def _certificate_page(
    request: AuthenticatedHttpRequest,
    certificate: Certificate | None,
    form: CertificateNameForm,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, object] = {"certificate": certificate, "public": False, "form": form}
    if certificate is not None:
        context["verify_url"] = request.build_absolute_uri(certificate.get_absolute_url())
    if certificate is None:
        rows = topic_rows_for(request.user)
        context["rows"] = rows
        context["completion_level"] = COMPLETION_LEVEL.label.lower()
        context["topics_done"] = sum(1 for row in rows if row.mastery >= COMPLETION_LEVEL)
    return render(request, "learning/certificate.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
def verify_certificate(request: HttpRequest, token: str) -> HttpResponse:
    """Anyone with the link sees the certificate is real: what it prints, nothing more."""
    certificate = get_object_or_404(Certificate, token=token)
    context = {
        "certificate": certificate,
        "public": True,
        "verify_url": request.build_absolute_uri(certificate.get_absolute_url()),
    }
    response = render(request, "learning/certificate.html", context)
    response["X-Robots-Tag"] = "noindex"  # for whoever holds the link, not for search engines
    return response


@require_POST
@login_required
def join_class(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The form's old address (a dashboard open since before the move still posts here):
    307 sends the same POST on to the dashboard, which answers it there."""
    forward = redirect("learning:dashboard")
    forward.status_code = 307
    return forward


def _safe_next(request: HttpRequest) -> str:
    """Where to go after signing up: the `next` the form or link carried, if it is a path
    on this site (anything else, such as another host, is dropped)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    # Only a path from the root: a relative "next" means nothing on the sign-up page.
    return target if allowed and target.startswith("/") else ""


@require_http_methods(["GET", "POST"])
def signup(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request)
    if request.user.is_authenticated:
        return HttpResponseRedirect(next_url or reverse("learning:course"))
    form = SignUpForm(request.POST or None)
    if request.method == "POST":
        wait = signups.minutes_until_sign_up_allowed(address=client_ip(request))
        if wait:
            context = {"form": SignUpForm(), "wait_minutes": wait, "next": next_url}
            refused = render(request, "registration/signup.html", context, status=429)
            refused["Retry-After"] = str(wait * 60)
            return refused
    if request.method == "POST" and form.is_valid():
        user = signups.sign_up(form=form, address=client_ip(request))
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        if next_url:
            messages.success(
                request, f"Welcome, {user.get_username()}! You are back where you were."
            )
            return HttpResponseRedirect(next_url)
        messages.success(request, f"Welcome, {user.get_username()}! Start with the first lesson.")
        return redirect(reverse("learning:course"))
    status = 400 if request.method == "POST" else 200
    context = {"form": form, "next": next_url}
    return render(request, "registration/signup.html", context, status=status)


class LoginView(auth_views.LoginView):
    """Django's log-in, whose `next` must be a path on this site from its root, as
    sign-up's: a relative or encoded one (`0`, `%2F%2Fhost`) is dropped, not followed."""

    def get_redirect_url(self, request: HttpRequest | None = None) -> str:
        return _safe_next(request or self.request)


class PasswordResetView(auth_views.PasswordResetView):
    """Django's "Forgot your password?" view, with at most PASSWORD_RESET_LIMIT_PER_HOUR
    forms from one address in an hour (learning/password_resets.py). Every valid form
    counts, whether or not an account has the address, so the limit gives nothing away."""

    def post(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        address = client_ip(request)
        wait = password_resets.minutes_until_reset_allowed(address=address)
        if wait:
            context = self.get_context_data(form=self.get_form_class()(), wait_minutes=wait)
            refused = self.render_to_response(context, status=429)
            refused["Retry-After"] = str(wait * 60)
            return refused
        form = self.get_form()
        if not form.is_valid():
            return self.form_invalid(form)
        password_resets.count_reset_request(address=address)
        return self.form_valid(form)
