"""Sessions and the cache are shared by every worker: a log-out is seen by all at once.

With REDIS_URL set (CI's PostgreSQL pass; locally `export REDIS_URL=$(scripts/ensure-redis
| tail -n 1)`) the cache is Redis and sessions are cached_db; without it sessions are in
the database. A second worker is played by another thread: its own database connection
and its own cache client, as another process would have.
"""

import os
import pickle
import subprocess
import sys
import threading
from collections.abc import Callable

import pytest
from django.conf import settings
from django.contrib.sessions.backends.cached_db import KEY_PREFIX as SESSION_CACHE_PREFIX
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.test import Client
from django.urls import reverse

from quizsite import settings as project_settings
from tests.helpers import empty_this_runs_cache

needs_redis = pytest.mark.skipif(
    not settings.REDIS_URL,
    reason="needs a Redis: set REDIS_URL (scripts/ensure-redis starts one and prints it); "
    "CI's PostgreSQL pass sets it",
)


def in_another_worker[T](work: Callable[[], T]) -> T:
    """Run `work` in a thread of its own: its own database connection and cache client."""
    results: list[T] = []
    errors: list[BaseException] = []

    def run() -> None:
        try:
            results.append(work())
        except BaseException as error:  # handed back to the test
            errors.append(error)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    if errors:
        raise errors[0]
    return results[0]


def client_with_cookies_of(original: Client) -> Client:
    """Another browser holding the same cookies (copied: a log-out in one clears only its own)."""
    copy = Client()
    for name, morsel in original.cookies.items():
        copy.cookies[name] = morsel.value
    return copy


@pytest.mark.django_db(transaction=True)
class TestLoggingOut:
    """On whichever sessions the settings give: Redis's cached_db or the database's."""

    def test_a_session_logged_out_is_refused_to_another_client_holding_its_cookie(
        self, client, learner
    ):
        dashboard = reverse("learning:dashboard")
        client.force_login(learner)
        stolen = client_with_cookies_of(client)
        assert in_another_worker(lambda: stolen.get(dashboard).status_code) == 200

        assert client.post(reverse("logout")).status_code == 302

        later = in_another_worker(lambda: stolen.get(dashboard))
        assert later.status_code == 302
        assert later["Location"].startswith(reverse("login"))


@needs_redis
@pytest.mark.django_db(transaction=True)
class TestWithRedis:
    def test_the_cache_is_redis_and_sessions_are_kept_in_the_database_too(self):
        assert isinstance(caches["default"], RedisCache)
        assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"

    def test_a_value_cached_by_one_worker_is_read_by_another(self):
        cache.set("shared-value", {"answered": 3})
        assert in_another_worker(lambda: caches["default"].get("shared-value")) == {"answered": 3}
        # And by any Redis client, under the site's prefix.
        from redis import Redis

        raw = Redis.from_url(settings.REDIS_URL).get(cache.make_key("shared-value"))
        assert raw is not None and pickle.loads(raw) == {"answered": 3}  # noqa: S301 - our own

    def test_a_value_changed_by_another_worker_is_seen_at_once(self):
        cache.set("shared-value", 1)
        assert cache.get("shared-value") == 1
        in_another_worker(lambda: caches["default"].set("shared-value", 2))
        assert cache.get("shared-value") == 2

    def test_a_session_is_copied_to_redis_and_survives_redis_being_emptied(self, client, learner):
        from redis import Redis

        dashboard = reverse("learning:dashboard")
        client.force_login(learner)
        assert client.get(dashboard).status_code == 200
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        in_redis = cache.make_key(SESSION_CACHE_PREFIX + session_key)
        redis = Redis.from_url(settings.REDIS_URL)
        assert redis.exists(in_redis)

        # A Redis restarted without its data (this run's part of it: others share it).
        empty_this_runs_cache()
        assert client.get(dashboard).status_code == 200  # still logged in, from the database
        assert redis.exists(in_redis)  # and copied back

        empty_this_runs_cache()
        assert client.post(reverse("logout")).status_code == 302
        stale = client_with_cookies_of(client)
        stale.cookies[settings.SESSION_COOKIE_NAME] = session_key
        assert stale.get(dashboard).status_code == 302


@needs_redis
def test_emptying_the_cache_between_tests_leaves_another_runs_entries_alone():
    """Another run of the tests, or another worker of this one (its own key prefix), may
    share the Redis database: a test starting must not empty that one's cache."""
    another_run = RedisCache(settings.REDIS_URL, {"KEY_PREFIX": "another-run"})
    another_run.set("page", "theirs", timeout=60)
    cache.set("page", "ours")
    try:
        empty_this_runs_cache()
        assert cache.get("page") is None
        assert another_run.get("page") == "theirs"
    finally:
        another_run.delete("page")


class TestWithoutRedis:
    def test_sessions_are_in_the_database_and_the_cache_in_each_workers_memory(self):
        caches_setting, session_engine = project_settings.caches_and_session_engine("")
        assert session_engine == "django.contrib.sessions.backends.db"
        assert caches_setting["default"]["BACKEND"] == (
            "django.core.cache.backends.locmem.LocMemCache"
        )
        assert caches_setting["default"]["KEY_PREFIX"]

    @pytest.mark.skipif(bool(settings.REDIS_URL), reason="the suite runs on Redis")
    def test_the_suite_runs_on_them(self):
        assert isinstance(caches["default"], LocMemCache)
        assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.db"


@pytest.mark.django_db
def test_a_redis_that_does_not_answer_still_serves_visitors_who_are_not_logged_in(settings, quiz):
    """A dead Redis fails fast and leaves pages without a session alone (README, Redis)."""
    caches_setting, session_engine = project_settings.caches_and_session_engine(
        "redis://127.0.0.1:1/0"  # nothing listens there
    )
    settings.CACHES = caches_setting
    settings.SESSION_ENGINE = session_engine
    visitor = Client()
    assert visitor.get(reverse("learning:course")).status_code == 200
    assert visitor.get(reverse("learning:lesson", args=[quiz.topic.slug])).status_code == 200
    assert visitor.get(reverse("login")).status_code == 200


class TestRedisUrl:
    def test_redis_gets_short_timeouts_so_a_dead_one_cannot_hang_a_worker(self):
        caches_setting, session_engine = project_settings.caches_and_session_engine(
            "redis://127.0.0.1:6379/2"
        )
        redis_cache = caches_setting["default"]
        assert redis_cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
        assert redis_cache["LOCATION"] == "redis://127.0.0.1:6379/2"
        assert redis_cache["KEY_PREFIX"]
        assert redis_cache["OPTIONS"]["socket_connect_timeout"] <= 1
        assert redis_cache["OPTIONS"]["socket_timeout"] <= 1
        assert session_engine == "django.contrib.sessions.backends.cached_db"

    @pytest.mark.parametrize(
        "url",
        [
            "redis://127.0.0.1:6379/0",
            "redis://:secret@cache.internal:6380/3",
            "rediss://user:secret@cache.example.org:6380",
            "unix:///run/redis/redis.sock?db=1",
        ],
    )
    def test_well_formed_urls_are_taken(self, monkeypatch, url):
        monkeypatch.setenv("REDIS_URL", url)
        assert project_settings.redis_url_from_env() == url

    @pytest.mark.parametrize(
        ("url", "says"),
        [
            ("localhost:6379", "must specify one of the following schemes"),
            ("http://127.0.0.1:6379/0", "must specify one of the following schemes"),
            ("redis://127.0.0.1:port/0", "Port could not be cast"),
            ("redis://", "names no host"),
            ("redis://127.0.0.1:6379/sessions", "database must be a number"),
        ],
    )
    def test_a_malformed_url_is_refused_in_words(self, monkeypatch, url, says):
        monkeypatch.setenv("REDIS_URL", url)
        with pytest.raises(ImproperlyConfigured, match="REDIS_URL") as refused:
            project_settings.redis_url_from_env()
        assert says in str(refused.value)
        assert "expected redis://HOST:PORT/DB" in str(refused.value)

    def test_a_malformed_url_stops_start_up(self):
        result = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()"],
            env={
                **os.environ,
                "DJANGO_SETTINGS_MODULE": "quizsite.settings",
                "DJANGO_DEBUG": "1",
                "REDIS_URL": "redis://127.0.0.1:port/0",
            },
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode != 0
        assert "ImproperlyConfigured: REDIS_URL is not a Redis URL" in result.stderr


@pytest.mark.django_db
def test_a_redis_that_does_not_answer_gives_a_logged_in_learner_a_503_that_says_try_again(
    settings, learner, quiz
):
    """Sessions read through Redis: while it is down a learner gets "try again in a moment"
    with Retry-After, never a bare server error, and nothing of theirs changes."""
    client = Client(raise_request_exception=False)
    client.force_login(learner)  # a session in the database, as cached_db keeps one
    caches_setting, session_engine = project_settings.caches_and_session_engine(
        "redis://127.0.0.1:1/0"  # nothing listens there
    )
    settings.CACHES = caches_setting
    settings.SESSION_ENGINE = session_engine
    for url in (reverse("learning:course"), reverse("learning:dashboard")):
        page = client.get(url)
        assert page.status_code == 503
        assert page["Retry-After"]
        assert "Try again in a moment" in page.content.decode()
        assert "cannot reach part of its storage" in page.content.decode()
    answered = client.post(
        reverse("learning:start_quiz", args=[quiz.topic.slug]), HTTP_HX_REQUEST="true"
    )
    assert answered.status_code == 503
    assert "try again in a moment" in answered.content.decode()
    assert not learner.attempts.exists()
