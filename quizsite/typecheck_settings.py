"""The settings mypy's Django plugin loads: the real ones, importable without the secrets
production needs (a plain `mypy` run has no DJANGO_SECRET_KEY)."""

import os

os.environ.setdefault("DJANGO_DEBUG", "1")

from quizsite.settings import *  # noqa: F403
