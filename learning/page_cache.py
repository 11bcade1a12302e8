"""Whole pages cached per learner: the course, lesson, dashboard, review and challenge pages.

These pages are read far more often than they change. A cached copy is keyed by the page
(its path and allowed query), the user ("anonymous" for a visitor), two versions read in
one query from `PageVersion`, and a build token:

- "content" counts changes to what every learner sees (topics, lessons, questions,
  choices, quizzes, a course load). Model saves and deletes bump it through the signals
  below (the admin saves outside our services, inside its own transaction); a
  `queryset.update()` or `bulk_update()` on those models bumps it where it is called.
- "learner:<id>" counts changes to one learner's own pages. The rule: a service that
  changes what a learner sees bumps their version in the same transaction as the
  change (answers, finishing, starting, marking read, regrading, certificates, classes,
  their account).
- the build token changes when the templates, the code or the static manifest do, so a
  deploy never serves a page rendered by the code before it; and the placeholders
  below, so a worker given another secret key never serves a copy it cannot fill in.

A version only moves forward: a bump sets it to the larger of one more and the clock in
microseconds, so a database rebuilt or restored from a backup never hands out a version
that a shared cache (Redis) still holds a page for.

Time changes some pages with no write: a review falls due, an open attempt runs out, a
quiz opens or closes, the dashboard's day ends. A view says when its page next changes by
itself (`keep_until`); a copy is never kept past that, nor past `LONGEST_KEEP`.

The copy stores the page with placeholders where the CSRF token and the CSP nonce go
(the context processor below puts them in while a cached view renders); each response
gets its own token and nonce. A request with a query string the page does not take, or
with messages waiting to be shown, is rendered as usual and not stored. If the cache
cannot be reached the page is rendered as usual.
"""

import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import cache, wraps
from pathlib import Path
from typing import Any, cast

from django.apps import apps
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.models import User
from django.core.cache import cache as default_cache
from django.db import connection
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.csp import get_nonce
from django.middleware.csrf import get_token
from django.utils import timezone

from learning.models import (
    Choice,
    Classroom,
    Lesson,
    Membership,
    PageVersion,
    Question,
    Quiz,
    Topic,
)

logger = logging.getLogger(__name__)

CONTENT = "content"
# The longest a copy is kept, even with no write and no moment in sight.
LONGEST_KEEP = timedelta(minutes=10)
# A learner bump per statement, at most (regrading may reach thousands of learners).
BUMP_BATCH = 500
# The models whose rows every learner sees; a save or delete of any of them is a content
# change (proxies such as the item-analysis admin's are subclasses, so they count too).
CONTENT_MODELS = (Topic, Lesson, Question, Choice, Quiz)


def learner_key(learner_id: int) -> str:
    return f"learner:{learner_id}"


# -- versions ---------------------------------------------------------------------------


def bump_content() -> None:
    """Every cached page is out of date: call in the transaction that changes content."""
    _bump([CONTENT])


def bump_learner(learner: User | int) -> None:
    """This learner's cached pages are out of date: call in the transaction that changes
    what they show."""
    _bump([learner_key(learner if isinstance(learner, int) else learner.pk)])


def bump_learners(learner_ids: Iterable[int]) -> None:
    """Many learners' pages at once: one statement per BUMP_BATCH learners."""
    _bump([learner_key(learner_id) for learner_id in learner_ids])


def _bump(keys: Iterable[str]) -> None:
    # Sorted: two transactions bumping the same keys lock their rows in the same order.
    unique = sorted(set(keys))
    if not unique:
        return
    quote = connection.ops.quote_name
    table = quote(PageVersion._meta.db_table)
    key, version = quote("key"), quote("version")
    # The clock in microseconds: a version never seen before, even after a restore.
    start = int(time.time() * 1_000_000)
    for first in range(0, len(unique), BUMP_BATCH):
        batch = unique[first : first + BUMP_BATCH]
        rows = ", ".join(["(%s, %s)"] * len(batch))
        # One upsert, in SQLite (3.24+) and PostgreSQL alike.
        # Only our own table's quoted names are put in the text; the values are parameters.
        sql = (
            f"INSERT INTO {table} ({key}, {version}) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {version} = CASE "
            f"WHEN {table}.{version} + 1 > excluded.{version} THEN {table}.{version} + 1 "
            f"ELSE excluded.{version} END"
        )
        params: list[str | int] = []
        for name in batch:
            params += [name, start]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


def read_versions(learner_id: int | None) -> tuple[int, int]:
    """The content version and the learner's (0 for a visitor): one query. A key never
    bumped reads 0."""
    keys = [CONTENT] if learner_id is None else [CONTENT, learner_key(learner_id)]
    quote = connection.ops.quote_name
    # Raw, as PageVersion.objects.filter(key__in=keys) would be: read on every cached view,
    # where the ORM's own work would cost more than the query.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {quote('key')}, {quote('version')} "  # noqa: S608 - names, not values
            f"FROM {quote(PageVersion._meta.db_table)} "
            f"WHERE {quote('key')} IN ({', '.join(['%s'] * len(keys))})",
            keys,
        )
        found = dict(cursor.fetchall())
    learner_version = 0 if learner_id is None else found.get(learner_key(learner_id), 0)
    return found.get(CONTENT, 0), learner_version


# -- what bumps content or a learner without a service: model signals ---------------------


def _content_changed(sender: type[Model], instance: Model, **kwargs: Any) -> None:
    bump_content()


def _membership_changed(sender: type[Model], instance: Membership, **kwargs: Any) -> None:
    # Deleting a class deletes its memberships one by one, each bumping its learner.
    bump_learner(instance.learner_id)


def _class_saved(sender: type[Model], instance: Classroom, created: bool, **kwargs: Any) -> None:
    if not created:  # its name is on its learners' dashboards
        bump_learners(instance.memberships.values_list("learner_id", flat=True))


def _user_saved(
    sender: type[Model],
    instance: User,
    created: bool,
    update_fields: frozenset[str] | None,
    **kwargs: Any,
) -> None:
    # A log-in only stamps last_login, which no page shows. A new account's pages start at
    # a version of their own: were its id handed out before (a database restored, a
    # sequence reset), the pages a shared cache keeps for the old account are not its.
    if update_fields != frozenset({"last_login"}):
        bump_learner(instance.pk)


def _class_learners_changed(
    sender: type[Model],
    instance: Model,
    action: str,
    reverse: bool,
    pk_set: set[int] | None,
    **kwargs: Any,
) -> None:
    """`classroom.learners.add(...)` and the like make memberships without saving them."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if reverse:  # user.classes_joined.add(...): the instance is the learner
        bump_learner(instance.pk)
    elif action == "pre_clear" and isinstance(instance, Classroom):
        bump_learners(
            Membership.objects.filter(classroom=instance).values_list("learner_id", flat=True)
        )
    else:
        bump_learners(pk_set or ())


def connect_signals() -> None:
    """Each receiver for its own models only: a post_delete receiver makes Django load the
    rows of every queryset.delete() of its sender, so none listens to all models."""
    for model in apps.get_models():  # the content models and their proxies (item analysis)
        if issubclass(model, CONTENT_MODELS):
            uid = f"learning.page_cache.content.{model._meta.label}"
            post_save.connect(_content_changed, sender=model, dispatch_uid=f"{uid}.saved")
            post_delete.connect(_content_changed, sender=model, dispatch_uid=f"{uid}.deleted")
    uid = "learning.page_cache"
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid=f"{uid}.joined")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid=f"{uid}.left")
    post_save.connect(_class_saved, sender=Classroom, dispatch_uid=f"{uid}.class")
    post_save.connect(_user_saved, sender=User, dispatch_uid=f"{uid}.user")
    m2m_changed.connect(
        _class_learners_changed,
        sender=Classroom.learners.through,
        dispatch_uid=f"{uid}.class_learners",
    )


# -- when a page changes by itself ---------------------------------------------------------


def keep_until(response: HttpResponse, *moments: datetime | None) -> HttpResponse:
    """Mark the page as changing by itself at the earliest of these moments (None: no
    such moment); a cached copy is not kept past it."""
    known = [moment for moment in moments if moment is not None]
    if known:
        response.page_changes_at = min(known)  # type: ignore[attr-defined]
    return response


def review_text_changes_at(next_due: datetime | None, now: datetime) -> datetime | None:
    """When "the next review falls due in 3 hours" (`due_in`) next reads differently, or
    the review falls due: the remaining time in whole minutes, hours or days drops by
    one. None when nothing is to fall due."""
    if next_due is None:
        return None
    left = (next_due - now).total_seconds()
    if left <= 60:
        return next_due
    unit = 60 if left < 3600 else 3600 if left < 86400 else 86400
    return now + timedelta(seconds=left % unit)


def quiz_times_change_at(quizzes: Iterable[Quiz | None], now: datetime) -> datetime | None:
    """The first opening or closing time still to come among these quizzes: a quiz that
    opens may be the next step; one that closes ends attempts and shows held answers."""
    moments = [
        moment
        for quiz in quizzes
        if quiz is not None
        for moment in (quiz.opens_at, quiz.closes_at)
        if moment is not None and moment > now
    ]
    return min(moments, default=None)


def next_midnight(now: datetime) -> datetime:
    """When "today" ends, in the site's time zone."""
    tomorrow = timezone.localtime(now).date() + timedelta(days=1)
    return timezone.make_aware(datetime.combine(tomorrow, datetime.min.time()))


# -- the CSRF token and CSP nonce, put in per response -----------------------------------


@cache
def _placeholders() -> tuple[str, str]:
    """Stand-ins for the CSRF token and the CSP nonce in a stored page; derived from the
    secret key, so no teacher can write one into a lesson."""
    seed = hashlib.sha256(f"page-cache-placeholders:{settings.SECRET_KEY}".encode()).hexdigest()
    return f"csrf{seed[:28]}", f"nonce{seed[28:52]}"


def placeholders(request: HttpRequest) -> dict[str, str]:
    """Context processor: while a cached view renders, the CSRF token and the CSP nonce
    are placeholders (the page is then filled in for the request at hand)."""
    if not getattr(request, "_page_cache_rendering", False):
        return {}
    csrf_placeholder, nonce_placeholder = _placeholders()
    context = {"csrf_token": csrf_placeholder}
    if get_nonce(request) is not None:
        context["csp_nonce"] = nonce_placeholder
    return context


def _filled_in(content: bytes, request: HttpRequest) -> bytes:
    csrf_placeholder, nonce_placeholder = (p.encode() for p in _placeholders())
    if csrf_placeholder in content:
        content = content.replace(csrf_placeholder, get_token(request).encode())
    nonce = get_nonce(request)
    if nonce is not None and nonce_placeholder in content:
        # Reading the nonce makes the CSP middleware put the same one in its header.
        content = content.replace(nonce_placeholder, str(nonce).encode())
    return content


# -- the build token -------------------------------------------------------------------


@cache
def build_token() -> str:
    """Changes when the templates, the code or the static files' manifest do: computed
    once per process, from the files' contents."""
    digest = hashlib.sha256()
    base = Path(settings.BASE_DIR)
    engines = cast(list[dict[str, Any]], settings.TEMPLATES)
    folders = [Path(folder) for engine in engines for folder in engine.get("DIRS", [])]
    folders += [base / "learning", base / "quizsite"]
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.suffix in {".py", ".html", ".txt", ".svg", ".json"}:
                digest.update(str(path.relative_to(base)).encode())
                digest.update(path.read_bytes())
    if settings.STATIC_ROOT:
        manifest = Path(settings.STATIC_ROOT) / "staticfiles.json"
        if manifest.is_file():
            digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


# -- the view decorator --------------------------------------------------------------------

type View = Callable[..., HttpResponse]


def learner_page_cache(*, query: tuple[str, ...] = ()) -> Callable[[View], View]:
    """Cache the view's page per user, as the module docstring says. `query` names the
    query parameters the page takes (each a whole number, such as the dashboard's
    `page`); any other query string is rendered and not stored. Put it below the
    decorators that check the method and the log-in."""

    def decorate(view: View) -> View:
        page_name = f"{view.__module__}.{view.__name__}"

        @wraps(view)
        def cached_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not _may_use_cache(request, query):
                return view(request, *args, **kwargs)
            learner_id = request.user.pk if request.user.is_authenticated else None
            key = _cache_key(request, page_name, learner_id)
            stored = _cache_get(key)
            if stored is not None and stored[0] > time.time():
                return _response_from(stored, request)
            request._page_cache_rendering = True  # type: ignore[attr-defined]
            try:
                response = view(request, *args, **kwargs)
            finally:
                del request._page_cache_rendering  # type: ignore[attr-defined]
            if _storable(response):
                _store(key, response)
            if not response.streaming:
                response.content = _filled_in(response.content, request)
            return response

        return cached_view

    return decorate


def _may_use_cache(request: HttpRequest, query: tuple[str, ...]) -> bool:
    if request.method not in ("GET", "HEAD"):
        return False
    for name in request.GET:
        values = request.GET.getlist(name)
        if name not in query or len(values) != 1 or not _whole_number(values[0]):
            return False
    # Messages waiting are shown on this page (counting them does not use them up).
    waiting = getattr(request, "_messages", None)
    return not (waiting is not None and len(messages.get_messages(request)))


def _whole_number(value: str) -> bool:
    return value.isascii() and value.isdigit() and len(value) <= 9


def _cache_key(request: HttpRequest, page_name: str, learner_id: int | None) -> str:
    content_version, learner_version = read_versions(learner_id)
    parts = [
        page_name,
        request.path,
        request.GET.urlencode(),
        "anonymous" if learner_id is None else str(learner_id),
        # The same pages are served to htmx requests; kept apart should one ever differ.
        "htmx" if getattr(request, "htmx", False) else "page",
        str(content_version),
        str(learner_version),
        build_token(),
        # The placeholders the copy holds: a worker with another secret key has others.
        *_placeholders(),
    ]
    return "page:" + hashlib.sha256("\n".join(parts).encode()).hexdigest()


type Stored = tuple[float, bytes, list[tuple[str, str]]]


def _storable(response: HttpResponseBase) -> bool:
    return (
        isinstance(response, HttpResponse) and response.status_code == 200 and not response.cookies
    )


def _store(key: str, response: HttpResponse) -> None:
    now = timezone.now()
    changes_at = getattr(response, "page_changes_at", None)
    until = min(now + LONGEST_KEEP, changes_at) if changes_at else now + LONGEST_KEEP
    seconds = math.floor((until - now).total_seconds())
    if seconds < 1:
        return
    stored: Stored = (time.time() + seconds, response.content, list(response.items()))
    try:
        default_cache.set(key, stored, timeout=seconds)
    except Exception:  # any cache failure (Redis down): the page is served anyway
        logger.warning("The page cache could not store a page", exc_info=True)


def _cache_get(key: str) -> Stored | None:
    try:
        stored = default_cache.get(key)
    except Exception:  # any cache failure (Redis down): render the page instead
        logger.warning("The page cache could not be read; rendering the page", exc_info=True)
        return None
    return stored if isinstance(stored, tuple) and len(stored) == 3 else None


def _response_from(stored: Stored, request: HttpRequest) -> HttpResponse:
    _, content, headers = stored
    response = HttpResponse(_filled_in(content, request))
    for name, value in headers:
        response[name] = value
    return response
