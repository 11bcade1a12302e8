"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

One browser serves the whole session (pytest-playwright's session-scoped `browser`); each
test gets a fresh context and page. `SKIP_BROWSER_TESTS=1` leaves these tests out; without
it a missing Chromium is a failure that says how to install it, never a silent skip.
"""

import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from tests.factories import PASSWORD, UserFactory

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between page actions are still plain synchronous calls.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SKIP = os.environ.get("SKIP_BROWSER_TESTS") == "1"
# Chromium as root in a sandbox-less container, with nothing reaching out to the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(config, items) -> None:
    browser_dir = Path(__file__).parent
    for item in items:
        if browser_dir in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if SKIP:
                item.add_marker(pytest.mark.skip(reason="SKIP_BROWSER_TESTS=1"))


def _ensure_chromium() -> None:
    if CHROMIUM.exists():
        return
    script = Path(settings.BASE_DIR) / "scripts" / "ensure-chromium"
    subprocess.run([str(script)], check=False)  # noqa: S603 - our own script
    if not CHROMIUM.exists():
        pytest.fail(
            "The browser tests need Debian's Chromium at /usr/bin/chromium and apt-get could "
            "not install it. Install it with `apt-get install chromium`, or run with "
            "SKIP_BROWSER_TESTS=1 to leave the browser tests out.",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    _ensure_chromium()
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": CHROMIUM_ARGS,
    }


@pytest.fixture
def course(transactional_db):
    call_command("load_content", verbosity=0)


@pytest.fixture
def student(transactional_db):
    return UserFactory(username="ada")


def log_in(page, base_url: str, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{base_url}/dashboard/")


def wait_for_htmx(page) -> None:
    """Wait until htmx has set up the page: a click before that submits natively, which
    works, but is not what an htmx test means to check."""
    page.wait_for_function("() => window.htmx !== undefined && document.readyState === 'complete'")
