import io
import os
import random
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group, Permission, User
from django.core.cache import caches
from django.core.management import call_command
from django.db import connections
from django.test import Client
from hypothesis.configuration import set_hypothesis_home_dir

from learning.models import Quiz
from learning.teachers import sync_teachers_group
from tests.factories import (
    LessonFactory,
    MultipleAnswerQuestionFactory,
    NumericQuestionFactory,
    QuestionFactory,
    QuizFactory,
    TopicFactory,
    UserFactory,
)
from tests.helpers import empty_this_runs_cache
from tests.lti_platform import CURRENT, FakePlatform


def pytest_configure(config) -> None:
    # Hypothesis keeps its examples and the constants it reads from our source (with this
    # machine's paths in them) outside the checkout.
    set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "muscle-spasms-hypothesis")
    # The test client and live server speak plain HTTP and serve static files from the app
    # folders; tests/test_production.py checks the HTTPS redirect and the collected,
    # hashed static files separately.
    settings.SECURE_SSL_REDIRECT = False
    # The live server's request threads must not keep connections open past a request, or
    # PostgreSQL refuses to drop the test database at the end.
    settings.DATABASES["default"]["CONN_MAX_AGE"] = 0
    # A run's cache keys are its own, so two runs (or two workers of one) sharing one Redis
    # (REDIS_URL) never read, nor empty, each other's entries (helpers.empty_this_runs_cache).
    settings.CACHES["default"]["KEY_PREFIX"] = f"test-{os.getpid()}"
    # Transactional tests empty PostgreSQL's tables with DELETE, not a slow TRUNCATE.
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        settings.DATABASES["default"]["ENGINE"] = "tests.postgresql"
        del connections["default"]  # made with the settings' engine when Django set up
    settings.STATIC_ROOT = None
    settings.WHITENOISE_USE_FINDERS = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def learner() -> User:
    return UserFactory.create(username="ada")


@pytest.fixture
def other_learner() -> User:
    return UserFactory.create(username="grace")


@pytest.fixture
def teacher() -> User:
    """A staff user in the Teachers group (rebuilt if a transactional test emptied it)."""
    user = UserFactory.create(username="mrs-hill", is_staff=True)
    user.groups.add(sync_teachers_group(Group, Permission))
    return user


@pytest.fixture
def teacher_client(client: Client, teacher: User) -> Client:
    client.force_login(teacher)
    return client


@pytest.fixture
def learner_client(client: Client, learner: User) -> Client:
    client.force_login(learner)
    return client


@pytest.fixture
def quiz() -> Quiz:
    """A topic with a lesson and a quiz drawing all three of its questions: a single choice,
    a multiple-answer and a numeric one."""
    topic = TopicFactory(slug="how-muscles-work", title="How muscles work")
    LessonFactory(topic=topic)
    QuestionFactory(topic=topic, key="single")
    MultipleAnswerQuestionFactory(topic=topic, key="multiple")
    NumericQuestionFactory(topic=topic, key="numeric")
    return QuizFactory.create(topic=topic, question_count=3)


@pytest.fixture
def rng() -> random.Random:
    return random.Random(1234)


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Each test starts with an empty cache: what an earlier test cached under the same
    versions (rolled back with its database) is gone."""
    empty_this_runs_cache()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings) -> None:
    # Hashing strength is Django's concern, not ours; the default hasher costs ~0.3 s a user.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def lti_platform(live_server, settings) -> Iterator[FakePlatform]:
    """A test LMS served by the live server (tests/lti_platform.py), registered in the
    admin with one active deployment, and the tool's key pair made as `manage.py
    rotate_keys` makes it."""
    settings.ROOT_URLCONF = "tests.lti_platform_urls"
    # The launch cache is a table no model owns, so a transactional test's flush leaves
    # it: an earlier test's states and nonces would change this one's query counts.
    caches["lti"].clear()
    call_command("rotate_keys", stdout=io.StringIO())
    platform = FakePlatform(base_url=live_server.url)
    CURRENT.append(platform)
    yield platform
    CURRENT.remove(platform)
