# The two commands: `make run` serves the course, `make test` checks everything.
# Both set the project up first (virtualenv, pinned packages, database, content) and are
# safe to run again.

SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
# The first Python 3.12+ on PATH (pyenv shims included).
PYTHON ?= $(shell for p in python3.14 python3.13 python3.12 python3 python; do \
	command -v $$p >/dev/null 2>&1 && $$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo $$p; break; }; \
	done)

DEV_ENV := DJANGO_DEBUG=1
TEST_ENV := DJANGO_SECRET_KEY=test-only-not-a-secret

.PHONY: run test setup install lint format clean screenshots serve bench profile loadtest \
	requirements check-requirements

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@test -n "$(PYTHON)" || { echo "Python 3.12 or newer is needed; none found on PATH." >&2; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $@

install: $(VENV)/.installed

# The direct dependencies live in requirements.in (runtime) and requirements-dev.in (tests,
# tools); pip-compile pins them and all they pull in, with hashes, in the .txt files, and
# keeps the versions already pinned there. This needs the package index. To move a package:
#   make requirements COMPILE_FLAGS="--upgrade-package django"
PIP_COMPILE := CUSTOM_COMPILE_COMMAND="make requirements" $(VENV)/bin/pip-compile --quiet \
	--generate-hashes --allow-unsafe --strip-extras \
	--no-emit-index-url --no-emit-find-links --no-emit-trusted-host

requirements: install
	$(PIP_COMPILE) $(COMPILE_FLAGS) --output-file=requirements.txt requirements.in
	$(PIP_COMPILE) $(COMPILE_FLAGS) --output-file=requirements-dev.txt requirements-dev.in
	$(PY) scripts/check_requirements.py --stamp

# Offline and quick: the .txt files are what `make requirements` made of the .in files.
check-requirements: install
	$(PY) scripts/check_requirements.py

setup: install
	$(DEV_ENV) $(PY) manage.py migrate --noinput -v 0
	$(DEV_ENV) $(PY) manage.py load_content
	$(DEV_ENV) $(PY) manage.py create_demo_accounts
	$(DEV_ENV) $(PY) manage.py ensure_lti_key

run: setup
	@echo "Serving on http://127.0.0.1:$(PORT)/  (teachers: http://127.0.0.1:$(PORT)/admin/)"
	$(DEV_ENV) $(PY) manage.py runserver 127.0.0.1:$(PORT)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(TEST_ENV) $(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The suite runs in TEST_WORKERS processes (pytest-xdist), each with its own test database
# and live server; TEST_WORKERS=0 runs it in this one.
TEST_WORKERS ?= 2

test: check-requirements setup lint
	scripts/ensure-chromium
	$(TEST_ENV) $(VENV)/bin/pytest --numprocesses $(TEST_WORKERS)

serve: install
	scripts/serve

# Not part of `make test`: timings belong here, query budgets in the tests.
bench: install
	scripts/ensure-wrk
	$(PY) scripts/bench.py

# Not part of `make test` either: where each request's CPU time goes, in-process.
profile: install
	$(PY) scripts/profile_pages.py

loadtest: install
	$(PY) scripts/loadtest.py

screenshots: install
	scripts/ensure-chromium
	$(PY) scripts/screenshots.py

clean:
	rm -rf $(VENV) db.sqlite3 db.sqlite3-* staticfiles .pytest_cache .ruff_cache
