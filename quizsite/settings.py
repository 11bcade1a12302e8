"""Settings for the muscle-spasm course, driven by environment variables.

Every variable is optional for local development (``DJANGO_DEBUG=1``); with debug off the
secret key must be given. A malformed value stops start-up with a message naming it.
"""

import os
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE_WORDS = {"1", "true", "yes", "on"}
_FALSE_WORDS = {"0", "false", "no", "off", ""}


def envbool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ImproperlyConfigured(
        f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}"
    )


def envint(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}") from None


def envlist(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def envloglevel(name: str, default: str) -> str:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    level = raw.strip().upper()
    if level not in _LOG_LEVELS:
        raise ImproperlyConfigured(f"{name} must be one of {', '.join(_LOG_LEVELS)}; got {raw!r}")
    return level


DEBUG = envbool("DJANGO_DEBUG", False)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off "
            "(for local development set DJANGO_DEBUG=1, as `make run` does)."
        )
    SECRET_KEY = "django-insecure-local-development-only"

ALLOWED_HOSTS = envlist("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = envlist("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "lti_tool",
    "learning",
]

MIDDLEWARE = [
    # A body declared larger than the import limit allows is refused (413) unread, before
    # anything parses it (learning/uploads.py); this reads nothing but Content-Length.
    "learning.uploads.UploadSizeLimit",
    # Then: a request whose Host, cookies, query string or form body cannot be read
    # answers 400 here, before any other middleware reads it (learning/middleware.py).
    "learning.middleware.UnreadableRequestMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # In a session an LTI launch started, over HTTPS, the session, CSRF and messages
    # cookies get SameSite=None; Secure, so they work inside the LMS's frame (it sees
    # the cookies the two below set).
    "learning.lti.framing.LtiSessionCookiesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Marks every response to a logged-in user Cache-Control: private, no-store.
    "learning.caching.PrivatePagesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # A launch's pages and a launched session's pages may be framed by that platform
    # only (frame-ancestors, no X-Frame-Options): decided before the two above write.
    "learning.lti.framing.LtiFramingMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its lockout page.
    "axes.middleware.AxesMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # A view's write that could not get the database in time answers 503 "not saved, try
    # again" with Retry-After, not a 500 (learning/busy.py).
    "learning.busy.BusyDatabaseMiddleware",
]

ROOT_URLCONF = "quizsite.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                # While a cached page renders: placeholders for the CSRF token and the CSP
                # nonce, filled in per response (learning/page_cache.py).
                "learning.page_cache.placeholders",
            ],
        },
    },
]

WSGI_APPLICATION = "quizsite.wsgi.application"

# SQLite tuned for a site with many readers and short writes: WAL lets reads run beside a
# write, IMMEDIATE takes the write lock at BEGIN so transactions queue instead of failing
# with "database is locked" halfway, and the timeout is how long they queue. The engine is
# Django's own with two additions: a process's threads take turns to write, first come
# first served, instead of racing in SQLite's busy handler, and its health check tests
# the connection, as PostgreSQL's does (quizsite/sqlite/base.py).
SQLITE_ENGINE = "quizsite.sqlite"
SQLITE_OPTIONS = {
    "transaction_mode": "IMMEDIATE",
    "timeout": envint("SQLITE_TIMEOUT_SECONDS", 20),
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
}


def database_from_env() -> dj_database_url.DBConfig:
    # Persistent connections, SQLite's as PostgreSQL's: a worker thread keeps its connection
    # for this many seconds (0: one per request) instead of reconnecting, reading the pages
    # cold and checkpointing the WAL on every request. The health check tests a kept
    # connection once per request before it is used, and replaces it if it broke.
    conn_max_age = envint("DATABASE_CONN_MAX_AGE", 60)
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return {
            "ENGINE": SQLITE_ENGINE,
            "NAME": os.environ.get("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": SQLITE_OPTIONS,
            "CONN_MAX_AGE": conn_max_age,
            "CONN_HEALTH_CHECKS": True,
            # A file, not memory, so the live server's threads each open their own
            # connection, as they do in production.
            "TEST": {"NAME": str(BASE_DIR / "test-db.sqlite3")},
        }
    try:
        config = dj_database_url.parse(url, conn_max_age=conn_max_age, conn_health_checks=True)
    except (ValueError, KeyError) as error:
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL we can use ({error}); "
            "expected postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:///PATH"
        ) from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config["ENGINE"] = SQLITE_ENGINE
        config["OPTIONS"] = {**SQLITE_OPTIONS, **config.get("OPTIONS", {})}
    elif config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite.")
    return config


DATABASES = {"default": database_from_env()}

# The cache and the sessions, shared by every worker, so that a log-out or a new answer is
# seen by all of them at once.
#
# With REDIS_URL (redis://HOST:PORT/DB): Django's Redis cache, and sessions in the
# database with a copy in Redis (cached_db): a session is read from Redis, and from the
# database when Redis does not have it, so an emptied or restarted Redis logs nobody out,
# and a log-out deletes both at once. Connecting to and reading from Redis give up after
# half a second, so a Redis that stopped answering cannot hang a worker: while it is
# down, pages for visitors who are not logged in are served, and requests that read a
# session fail (500) until it answers again; nothing is lost. README: "Redis".
#
# Without REDIS_URL: sessions in the database (Django's default), and a cache in each
# worker's own memory (LocMemCache), not shared. That stays correct with several
# workers by one rule: the cache only ever holds values whose keys carry a version
# stored in the database and changed in the same transaction as what the value shows.
# Every request reads the version, so a worker whose copy is stale looks it up under a
# key that is no longer asked for. Nothing may be cached under a key without one.
CACHE_KEY_PREFIX = "course"
REDIS_TIMEOUT_SECONDS = 0.5


def redis_url_from_env() -> str:
    url = os.environ.get("REDIS_URL", "").strip()
    if not url:
        return ""
    from redis.connection import parse_url

    expected = (
        "expected redis://HOST:PORT/DB (e.g. redis://127.0.0.1:6379/0), rediss:// or unix://"
    )
    try:
        parts = parse_url(url)
    except ValueError as error:
        raise ImproperlyConfigured(f"REDIS_URL is not a Redis URL ({error}); {expected}") from None
    path = urlsplit(url).path.strip("/")
    if "path" not in parts and "host" not in parts:
        raise ImproperlyConfigured(f"REDIS_URL names no host; {expected}")
    if "path" not in parts and path and not path.isdigit():
        raise ImproperlyConfigured(
            f"REDIS_URL's database must be a number, not {path!r}; {expected}"
        )
    return url


def caches_and_session_engine(redis_url: str) -> tuple[dict[str, dict[str, Any]], str]:
    if redis_url:
        redis_cache = {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": CACHE_KEY_PREFIX,
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT_SECONDS,
                "socket_timeout": REDIS_TIMEOUT_SECONDS,
            },
        }
        return {"default": redis_cache}, "django.contrib.sessions.backends.cached_db"
    memory_cache = {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "course",
        "KEY_PREFIX": CACHE_KEY_PREFIX,
        # Per worker; the least recently used third goes when it is full.
        "OPTIONS": {"MAX_ENTRIES": 1000},
    }
    return {"default": memory_cache}, "django.contrib.sessions.backends.db"


REDIS_URL = redis_url_from_env()
CACHES, SESSION_ENGINE = caches_and_session_engine(REDIS_URL)
# An LTI launch's OIDC state and nonce (PyLTI1p3 keeps them in a cache) live in the database:
# the login and the launch that follows may reach different workers, with or without Redis,
# and a nonce must outlive neither its five minutes nor a restart in between.
CACHES["lti"] = {
    "BACKEND": "learning.lti.tool.LaunchCache",  # Django's DatabaseCache, keys checked
    "LOCATION": "lti_launch_cache",
    "TIMEOUT": 3600,
    "OPTIONS": {"MAX_ENTRIES": 100_000},
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Refuses a log-in while its username is locked out from this address, before the
    # password is even checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Five failed log-ins for a username from one address lock that username out from that
# address for 15 minutes; from any other address it still logs in, so nobody can lock a
# learner out by guessing at their name. One list inside the list: both must match (a
# flat ["username", "ip_address"] would lock the name everywhere, or the address for
# everyone, a whole school behind one router). README, "Log-in lockout", has the trade-off.
AXES_FAILURE_LIMIT = envint("DJANGO_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=envint("DJANGO_LOGIN_LOCKOUT_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
AXES_CLIENT_IP_CALLABLE = "learning.addresses.client_ip"
# How many proxies in front of gunicorn add to X-Forwarded-For (0: none, use the socket).
TRUSTED_PROXY_COUNT = envint("DJANGO_TRUSTED_PROXY_COUNT", 0)
# New accounts one client address may create in an hour (0: no limit); learning/signups.py.
SIGNUP_LIMIT_PER_HOUR = envint("DJANGO_SIGNUP_LIMIT_PER_HOUR", 5)
# "Forgot your password?" forms one client address may send in an hour (0: no limit), so
# nobody can fill a learner's mailbox; learning/password_resets.py.
PASSWORD_RESET_LIMIT_PER_HOUR = envint("DJANGO_PASSWORD_RESET_LIMIT_PER_HOUR", 10)

# E-mail: only the password reset sends any (Django 6.1's MAILERS; the old EMAIL_* settings
# are deprecated, so the environment variables keep those names and fill MAILERS). With
# debug on (`make run`) a message is printed on the console that runs the server instead
# of being sent; in production it goes out through the SMTP server the variables name (the
# deploy check, learning.W002, refuses a production site without EMAIL_HOST). Tests get
# Django's in-memory outbox.
MAILERS: dict[str, dict[str, Any]]
if DEBUG:
    MAILERS = {"default": {"BACKEND": "learning.console_mail.ReadableConsoleEmailBackend"}}
else:
    MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {
                "host": os.environ.get("EMAIL_HOST", "").strip(),
                "port": envint("EMAIL_PORT", 587),
                "username": os.environ.get("EMAIL_HOST_USER", ""),
                "password": os.environ.get("EMAIL_HOST_PASSWORD", ""),
                "use_tls": envbool("EMAIL_USE_TLS", True),
                "timeout": 20,
            },
        }
    }
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "").strip() or "webmaster@localhost"

# Request bodies. No form but the question import sends more than a few KB: 1 MB of form
# fields (files excluded) is plenty, and a larger urlencoded body is refused by its
# Content-Length before it is read. Any body larger than a question file at the import
# limit (2 MB) and its fields is refused the same way, with a 413 (learning.uploads); an
# upload within it stays in memory, never a temporary file.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 3 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "learning.uploads.RequestSizeLimit",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "learning:dashboard"
LOGOUT_REDIRECT_URL = "learning:course"

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
# Production serves collected files with content hashes in their names (cached for ever)
# and pre-compressed (gzip and Brotli), by whitenoise.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security for production. TLS is expected to end at a proxy in front of gunicorn that
# sets X-Forwarded-Proto (and strips it from clients).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = envint("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = envbool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = envbool("DJANGO_HSTS_PRELOAD", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Strict: scripts and styles only from our own files (scripts also by nonce), no inline
# style attributes, no plugins, no framing, forms post only to us.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
X_FRAME_OPTIONS = "DENY"

# Logs go to stderr, where gunicorn's own log goes (and the console under `make run`), one
# event per record: the timestamp, level, logger and message on one line, then the
# traceback, if any, indented below it. Every unhandled exception (django.request's 500s)
# is written with its full traceback, with debug on or off; 4xx responses are warnings.
# Our own code logs under "learning"; other libraries' warnings and errors reach the root
# logger. DJANGO_LOG_LEVEL sets the level of Django's and our loggers. No e-mail: Django's
# mail_admins handler is replaced. The development server's request lines ("django.server")
# keep Django's own format.
LOG_LEVEL = envloglevel("DJANGO_LOG_LEVEL", "INFO")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "one_event_per_record": {
            "()": "quizsite.log_format.OneEventPerRecordFormatter",
            "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
        },
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        },
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "one_event_per_record",
        },
        "django.server": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "django.server",
        },
    },
    "root": {"handlers": ["stderr"], "level": "WARNING"},
    "loggers": {
        # Naming these loggers removes the handlers Django gives them (console, only with
        # debug on, and mail_admins); their records reach stderr through the root logger.
        "django": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        "learning": {"handlers": [], "level": LOG_LEVEL, "propagate": True},
        # Configuring "django" resets its children, so the development server's request
        # lines are set up again here exactly as Django's defaults have them.
        "django.server": {"handlers": ["django.server"], "level": "INFO", "propagate": False},
    },
}

# `make bench` serves a bare view at /bench/ceiling: the fastest any page can be here.
BENCHMARK = envbool("DJANGO_BENCHMARK", False)
# ...and times how long each POST's write transactions hold the database's lock, in one
# file per process here (quizsite/lock_timing.py).
BENCHMARK_LOCK_TIMES_DIR = Path(
    os.environ.get("DJANGO_BENCHMARK_LOCK_TIMES_DIR", BASE_DIR / "bench" / "lock-times")
)
if BENCHMARK:
    MIDDLEWARE.insert(0, "quizsite.lock_timing.WriteLockTimer")

# Where the course content lives; `load_content` reads it.
COURSE_CONTENT_DIR = Path(os.environ.get("COURSE_CONTENT_DIR", BASE_DIR / "fixtures"))
# The lessons' SVG diagrams; fixtures/diagrams.yaml names them, the app serves them.
COURSE_DIAGRAMS_DIR = BASE_DIR / "static" / "diagrams"
