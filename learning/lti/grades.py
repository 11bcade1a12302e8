"""Grades back to the LMS (LTI Assignment and Grade Services).

When a learner finishes an attempt at a quiz that an LMS course links to (a GradedLink in
a course they are an active member of), the finishing transaction stores one GradeSend per
link (`plan_sends` reads before it, `record_sends` writes in it); once that transaction
has committed, a background thread posts the scores, so no answer waits on an LMS.
A send the LMS does not take is tried again with growing waits by `manage.py
send_lms_grades` (run it from cron every few minutes), then given up.

Two senders at once (the thread and the command, or two commands) never post the same
send twice at the same time: each claims a send with a conditional UPDATE that pushes its
`next_try_at` forward by CLAIM_LEASE; a sender that dies mid-send leaves it due again
after the lease. A send is superseded as soon as a later attempt of the same learner
makes one for the same line item, so an older score retried late never overwrites a
newer one; every score also carries its attempt's finishing time as its timestamp, which
an LMS uses to keep the newest.
"""

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial, reduce
from operator import or_
from typing import Any, Final

from django.db import connections, transaction
from django.db.models import Exists, F, Max, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade

from learning.lti.connector import ServiceFailure, lms_errors_in_words, service_connector
from learning.models import (
    Attempt,
    AttemptState,
    GradedLink,
    GradeSend,
    GradeSendState,
    LmsGrade,
)

logger = logging.getLogger(__name__)

SCORE_SCOPE: Final = "https://purl.imsglobal.org/spec/lti-ags/scope/score"
# The wait after each failed try; after the last of them one more try, then we give up
# (about 15 hours in all: an LMS down for a night's maintenance still gets its scores).
RETRY_WAITS = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=12),
)
MAX_TRIES = len(RETRY_WAITS) + 1
# How long a claimed send is left to its sender (longer than a token request and a score
# post, each limited by connector.SERVICE_TIMEOUT).
CLAIM_LEASE = timedelta(minutes=2)
# How long a teacher's "send again now" sends while they wait (each send may take two
# connector.SERVICE_TIMEOUTs when the LMS hangs; gunicorn stops a request at 60 s); the
# rest are sent in the background.
SEND_AGAIN_SECONDS = 20
PENDING = (GradeSendState.WAITING, GradeSendState.RETRYING)

# A platform (or its deployment) a superuser switched off in the admin gets no scores.
SWITCHED_ON = {
    "resource_link__context__deployment__is_active": True,
    "resource_link__context__deployment__registration__is_active": True,
}
# The learner's active membership in the link's LMS course.
_MEMBER = "resource_link__context__memberships__"


def _links_for(*, learner_id: Any, quiz_id: Any) -> QuerySet[GradedLink]:
    return GradedLink.objects.filter(
        quiz_id=quiz_id,
        **{f"{_MEMBER}user__auth_user_id": learner_id, f"{_MEMBER}is_active": True},
        **SWITCHED_ON,
    )


def lms_linked() -> Exists:
    """For an Attempt queryset, as `annotate(lms_linked=lms_linked())`: whether an LMS
    course the attempt's learner belongs to links its quiz. Read in the attempt's own
    query, so a learner without LMS links costs no query more when an attempt finishes."""
    return Exists(_links_for(learner_id=OuterRef("learner_id"), quiz_id=OuterRef("quiz_id")))


# -- made when an attempt finishes ---------------------------------------------------------


def plan_sends(*, attempt: Attempt, percent: Decimal) -> list[GradeSend]:
    """The scores an attempt finishing at `percent` sends, unsaved: reads only. None (and
    no query) when the attempt was read with `lms_linked` false."""
    if getattr(attempt, "lms_linked", None) is False:
        return []
    targets = dict(
        _links_for(learner_id=attempt.learner_id, quiz_id=attempt.quiz_id).values_list(
            "pk", f"{_MEMBER}user_id"
        )
    )
    if not targets:
        return []
    score = percent
    if attempt.quiz.lms_grade == LmsGrade.BEST:
        earlier = (
            Attempt.objects.filter(
                learner_id=attempt.learner_id,
                quiz_id=attempt.quiz_id,
                state__in=AttemptState.closed(),
            )
            .exclude(pk=attempt.pk)
            .aggregate(best=Max("percent"))["best"]
        )
        if earlier is not None:
            score = max(score, earlier)
    return [
        GradeSend(
            attempt_id=attempt.pk, link_id=link_id, lti_user_id=lti_user_id, score_given=score
        )
        for link_id, lti_user_id in sorted(targets.items())
    ]


def record_sends(sends: list[GradeSend]) -> None:
    """Inside the finishing transaction: store the sends, supersede the same learner's
    older ones still waiting for those line items, and send them once it commits."""
    if not sends:
        return
    GradeSend.objects.bulk_create(sends)
    _supersede_older_then_send(sends)


def _supersede_older_then_send(sends: list[GradeSend]) -> None:
    """The same learners' older sends still waiting for these line items are replaced;
    these go once the transaction commits."""
    same_line_items = reduce(
        or_, (Q(link_id=send.link_id, lti_user_id=send.lti_user_id) for send in sends)
    )
    GradeSend.objects.filter(same_line_items, state__in=PENDING).exclude(
        pk__in=[send.pk for send in sends]
    ).update(state=GradeSendState.SUPERSEDED, next_try_at=None)
    transaction.on_commit(partial(send_in_background, [send.pk for send in sends]))


def resend_after_regrade(attempt_ids: Iterable[int]) -> None:
    """Inside a regrade's transaction, after the attempts' new percents are stored: each
    learner whose score on an LMS-linked quiz moved gets the score the quiz's setting now
    gives (best or latest) sent again, once for each line item. A fixed number of
    queries, however many attempts."""
    changed = list(
        Attempt.objects.filter(pk__in=list(attempt_ids), state__in=AttemptState.closed())
        .values_list("learner_id", "quiz_id")
        .distinct()
    )
    if not changed:
        return
    pairs = reduce(or_, (Q(learner_id=learner, quiz_id=quiz) for learner, quiz in changed))
    links = list(
        GradedLink.objects.filter(
            reduce(
                or_,
                (
                    Q(quiz_id=quiz, **{f"{_MEMBER}user__auth_user_id": learner})
                    for learner, quiz in changed
                ),
            ),
            **{f"{_MEMBER}is_active": True},
            **SWITCHED_ON,
        ).values_list("pk", "quiz_id", f"{_MEMBER}user_id", f"{_MEMBER}user__auth_user_id")
    )
    if not links:
        return
    closed = Attempt.objects.filter(pairs, state__in=AttemptState.closed()).select_related("quiz")
    latest: dict[tuple[int, int], Attempt] = {}
    best: dict[tuple[int, int], Decimal] = {}
    for closed_attempt in closed.order_by("finished_at", "pk"):
        key = (closed_attempt.learner_id, closed_attempt.quiz_id)
        latest[key] = closed_attempt
        if closed_attempt.percent is not None:
            best[key] = max(best.get(key, closed_attempt.percent), closed_attempt.percent)
    wanted: dict[tuple[int, int], GradeSend] = {}
    for link_id, quiz_id, lti_user_id, learner_id in links:
        last = latest.get((learner_id, quiz_id))
        if last is None or last.percent is None:
            continue
        by_best = last.quiz.lms_grade == LmsGrade.BEST
        score = best[(learner_id, quiz_id)] if by_best else last.percent
        wanted[(last.pk, link_id)] = GradeSend(
            attempt_id=last.pk, link_id=link_id, lti_user_id=lti_user_id, score_given=score
        )
    existing = {
        (send.attempt_id, send.link_id): send
        for send in GradeSend.objects.filter(
            reduce(or_, (Q(attempt_id=a, link_id=link) for a, link in wanted))
        )
    }
    to_update, to_create = [], []
    for key, send in wanted.items():
        current = existing.get(key)
        if current is None:
            to_create.append(send)
        elif current.score_given != send.score_given or current.state != GradeSendState.SENT:
            current.score_given = send.score_given
            current.state = GradeSendState.WAITING
            current.tries = 0
            current.next_try_at = None
            current.last_error = ""
            current.sent_at = None
            to_update.append(current)
    if not to_create and not to_update:
        return
    GradeSend.objects.bulk_create(to_create)
    GradeSend.objects.bulk_update(
        to_update, ["score_given", "state", "tries", "next_try_at", "last_error", "sent_at"]
    )
    _supersede_older_then_send([*to_create, *to_update])


# -- sending -------------------------------------------------------------------------------

_threads: list[threading.Thread] = []
_threads_lock = threading.Lock()


def send_in_background(send_ids: list[int]) -> None:
    """Send these in a thread of their own, with its own database connection."""
    thread = threading.Thread(
        target=_send_then_close, args=(send_ids,), name="lms-grades", daemon=True
    )
    with _threads_lock:
        _threads[:] = [each for each in _threads if each.is_alive()]
        _threads.append(thread)
    thread.start()


def _send_then_close(send_ids: list[int]) -> None:
    try:
        for send_id in send_ids:
            send_grade(send_id)
    except Exception:  # the send stays claimed; the command tries again after the lease
        logger.exception("Sending LMS grades %s failed", send_ids)
    finally:
        connections.close_all()  # this thread's connections only


def wait_for_background_sends(timeout: float = 60) -> None:
    """Wait until every send started in the background has ended (for tests, and for a
    process that wants to stop cleanly)."""
    with _threads_lock:
        running = list(_threads)
    for thread in running:
        thread.join(timeout)


def _due(now: datetime) -> Q:
    return Q(state__in=PENDING) & (Q(next_try_at__isnull=True) | Q(next_try_at__lte=now))


def send_grade(send_id: int) -> str | None:
    """Claim the send if it is due and post its score; returns its state afterwards, or
    None when it was not due (sent already, or claimed by another sender)."""
    now = timezone.now()
    claimed = (
        GradeSend.objects.filter(_due(now), pk=send_id)
        .order_by()
        .update(next_try_at=now + CLAIM_LEASE, tries=F("tries") + 1)
    )
    if not claimed:
        return None
    send = GradeSend.objects.select_related(
        "attempt", "lti_user", "link__resource_link__context__deployment__registration"
    ).get(pk=send_id)
    as_claimed = GradeSend.objects.filter(pk=send.pk, state=send.state, tries=send.tries)
    if GradeSend.objects.filter(
        link_id=send.link_id, lti_user_id=send.lti_user_id, pk__gt=send.pk
    ).exists():
        as_claimed.update(state=GradeSendState.SUPERSEDED, next_try_at=None)
        return GradeSendState.SUPERSEDED
    if send.tries > MAX_TRIES:
        # Claimed every try so far, yet never ended in words: a sender that crashed (see
        # the log) each time. Given up like any other, not claimed again for ever.
        as_claimed.update(
            state=GradeSendState.GAVE_UP,
            next_try_at=None,
            last_error=f"Given up after {MAX_TRIES} tries that failed unexpectedly.",
        )
        return GradeSendState.GAVE_UP
    try:
        _post_score(send)
    except ServiceFailure as failure:
        gave_up = send.tries >= MAX_TRIES
        state = GradeSendState.GAVE_UP if gave_up else GradeSendState.RETRYING
        next_try_at = None if gave_up else timezone.now() + RETRY_WAITS[send.tries - 1]
        logger.warning("LMS grade %s not sent (try %s): %s", send.pk, send.tries, failure)
        changed = as_claimed.update(
            state=state,
            next_try_at=next_try_at,
            last_error=str(failure)[: GradeSend._meta.get_field("last_error").max_length],
        )
    else:
        state = GradeSendState.SENT
        changed = as_claimed.update(
            state=state, next_try_at=None, last_error="", sent_at=timezone.now()
        )
    # Not changed: superseded, or sent again from the admin, while this one was on its way.
    return state if changed else None


def _post_score(send: GradeSend) -> None:
    registration = send.link.resource_link.context.deployment.registration
    finished_at = send.attempt.finished_at or send.created_at
    grade = (
        Grade()
        .set_score_given(float(send.score_given))
        .set_score_maximum(float(send.score_maximum))
        .set_activity_progress("Completed")
        .set_grading_progress("FullyGraded")
        .set_timestamp(finished_at.isoformat(timespec="milliseconds"))
        .set_user_id(send.lti_user.sub)
    )
    with lms_errors_in_words(registration):
        service = AssignmentsGradesService(
            service_connector(registration),
            {"scope": [SCORE_SCOPE], "lineitem": send.link.lineitem_url},
        )
        service.put_grade(grade)


@dataclass
class SendTally:
    """What a round of sending did, for the command's and the admin's messages."""

    states: dict[str, int] = field(default_factory=dict)
    skipped: int = 0  # not due (any more): sent or claimed by another sender
    in_background: int = 0  # left to a background thread (send_again_now)

    def count(self, state: str | None) -> None:
        if state is None:
            self.skipped += 1
        else:
            self.states[state] = self.states.get(state, 0) + 1

    def __str__(self) -> str:
        # The labels have semicolons of their own; the tally says each state in a word.
        words = {
            GradeSendState.SENT: "sent",
            GradeSendState.RETRYING: "not reached (to be tried again)",
            GradeSendState.GAVE_UP: "given up",
            GradeSendState.SUPERSEDED: "replaced by a later score",
        }
        parts = [f"{self.states.get(state, 0)} {word}" for state, word in words.items()]
        if self.skipped:
            parts.append(f"{self.skipped} not due (already sent, or being sent by another)")
        if self.in_background:
            parts.append(f"{self.in_background} being sent in the background")
        return "; ".join(parts)


def send_due() -> SendTally:
    """Send every send that is due: new ones the background thread has not sent (a
    process that stopped first) and retries whose wait is over."""
    tally = SendTally()
    due = GradeSend.objects.filter(_due(timezone.now())).order_by("pk")
    for send_id in due.values_list("pk", flat=True):
        tally.count(send_grade(send_id))
    return tally


def send_again_now(send_ids: Iterable[int]) -> tuple[SendTally, int]:
    """A teacher's "send again now": sends not sent yet start afresh (their tries
    counted from zero) and are sent at once. Returns the tally and how many were left
    alone (sent already, or replaced by a later attempt's score)."""
    send_ids = list(send_ids)
    again = GradeSend.objects.filter(pk__in=send_ids, state__in=[*PENDING, GradeSendState.GAVE_UP])
    chosen = list(again.order_by("pk").values_list("pk", flat=True))
    again.update(state=GradeSendState.WAITING, tries=0, next_try_at=None)
    tally = SendTally()
    deadline = time.monotonic() + SEND_AGAIN_SECONDS
    for index, send_id in enumerate(chosen):
        if time.monotonic() > deadline:
            tally.in_background = len(chosen) - index
            transaction.on_commit(partial(send_in_background, chosen[index:]))
            break
        tally.count(send_grade(send_id))
    return tally, len(send_ids) - len(chosen)


# -- what the learner sees on the result page --------------------------------------------


@dataclass(frozen=True)
class GradeNote:
    state: str
    headline: str
    detail: str


def result_notes(attempt: Attempt) -> list[GradeNote]:
    """Where this attempt's score went in the LMS, and how far it got. No query when the
    attempt was read with `lms_linked` false (it has no LMS course)."""
    if not getattr(attempt, "lms_linked", False):
        return []
    sends = GradeSend.objects.filter(attempt=attempt).select_related(
        "link__resource_link__context"
    )
    return [_note(send, attempt) for send in sends.order_by("pk")]


def _note(send: GradeSend, attempt: Attempt) -> GradeNote:
    title = send.link.resource_link.context.title
    book = f"{title}'s gradebook" if title else "your LMS course's gradebook"
    which = (
        "your best score on this quiz"
        if attempt.quiz.lms_grade == LmsGrade.BEST
        else "this attempt's score"
    )
    score = f"{send.score_given.normalize():f} out of {send.score_maximum.normalize():f}"
    state = GradeSendState(send.state)
    if state == GradeSendState.SENT:
        return GradeNote(state, f"Sent to {book}", f"{score}, {which}.")
    if state == GradeSendState.WAITING:
        return GradeNote(state, f"On its way to {book}", f"{score}, {which}.")
    if state == GradeSendState.RETRYING:
        when = (
            f" The next try is at {date_format(timezone.localtime(send.next_try_at), 'H:i')}."
            if send.next_try_at is not None
            else ""
        )
        detail = f"{book[0].upper()}{book[1:]} gets {score} as soon as the LMS answers.{when}"
        return GradeNote(state, "Not reached yet: trying again", detail)
    if state == GradeSendState.GAVE_UP:
        return GradeNote(
            state,
            f"Not sent to {book}",
            f"The LMS could not be reached after {send.tries} tries. Your teacher can send "
            "it again from the course admin.",
        )
    return GradeNote(state, f"Replaced in {book}", "A later attempt's score went there instead.")
