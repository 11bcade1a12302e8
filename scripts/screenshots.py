"""Take the README's screenshots from the real site: `make screenshots`.

Builds a throwaway database in a temporary folder (migrations, the course, the demo
accounts, the LTI key), serves it with runserver on a free loopback port, lets the demo
student read a lesson and take a quiz in Debian's Chromium (then completes the course for
them, in that throwaway database, for the certificate), shows two LMS platforms to a
superuser in the admin, and saves PNGs to docs/screenshots/.
"""

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import Browser

ROOT = Path(__file__).resolve().parent.parent
# The superuser of the throwaway database, which is deleted afterwards.
SCREENSHOT_ADMIN_PASSWORD = "screenshots-only-admin"
OUT = ROOT / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)  # noqa: S603


def wait_until_up(url: str) -> None:
    for _ in range(100):
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback only
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"The site did not come up at {url}")


def take(base_url: str, env: dict[str, str]) -> None:
    os.environ.update(env)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "quizsite.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from playwright.sync_api import Page, sync_playwright

    from learning.models import Question
    from tests.browser.answers import fill_answer

    def complete_the_course_for_the_demo_student() -> None:
        """Every topic's quiz answered right, in this throwaway database only, so that the
        certificate has something to show."""
        from django.contrib.auth.models import User

        from learning import question_types, services
        from learning.models import Topic
        from learning.versions import current_key

        student = User.objects.get(username="student")
        for topic in Topic.objects.filter(is_published=True).select_related("quiz"):
            attempt = services.start_attempt(learner=student, quiz=topic.quiz)
            for question in Question.objects.filter(pk__in=attempt.question_ids):
                question_type = question_types.get(question.type)
                right = question_type.sample_answer(current_key(question), right=True)
                services.record_answer(attempt=attempt, question_id=question.pk, answer=right)

    def answer(page: Page, right: bool) -> None:
        question_id = int(page.locator("input[name=question]").input_value())
        fill_answer(page, Question.objects.prefetch_related("choices").get(pk=question_id), right)

    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        page.goto(f"{base_url}/accounts/login/")
        page.get_by_label("Username").fill("student")
        page.get_by_label("Password").fill("learn-muscles-2026")
        page.get_by_role("button", name="Log in").click()

        page.goto(f"{base_url}/topics/how-muscles-work/")
        page.get_by_role("button", name="Mark as read").click()
        page.get_by_text("You have read this lesson.").wait_for()
        page.goto(f"{base_url}/topics/how-muscles-work/quiz/")
        page.get_by_role("button", name="Start the quiz").click()
        position = 1
        while True:
            answer(page, right=position % 4 != 2)
            page.get_by_role("button", name="Check answer").click()
            page.locator("#feedback").wait_for()
            if position == 2:
                page.screenshot(path=OUT / "question-feedback.png", full_page=True)
            if page.get_by_role("link", name="See your result").count():
                break
            page.get_by_role("link", name="Next question").click()
            position += 1
            page.get_by_role("button", name="Check answer").wait_for()
        page.get_by_role("link", name="See your result").click()
        page.screenshot(path=OUT / "result.png")
        page.goto(f"{base_url}/")
        page.screenshot(path=OUT / "course.png")
        page.goto(f"{base_url}/dashboard/")
        page.screenshot(path=OUT / "dashboard.png", full_page=True)
        page.goto(f"{base_url}/topics/kinds-of-spasm/")
        page.locator(".prose table").screenshot(path=OUT / "lesson-table.png")
        page.locator(".help-box").screenshot(path=OUT / "help-box.png")
        page.goto(f"{base_url}/glossary/")
        page.screenshot(path=OUT / "glossary.png")
        for slug, name in (
            ("how-muscles-work", "sliding-filaments"),
            ("kinds-of-spasm", "timelines"),
        ):
            page.goto(f"{base_url}/topics/{slug}/")
            figure = page.locator("figure.diagram")
            page.wait_for_function(
                "img => img.complete && img.naturalWidth > 0",
                arg=figure.locator("img").element_handle(),
            )
            figure.screenshot(path=OUT / f"diagram-{name}.png")
        complete_the_course_for_the_demo_student()
        page.goto(f"{base_url}/certificate/")
        # The name to print, as a learner without a display name is asked for it.
        page.get_by_label("Name to print on your certificate").fill("Sam Student")
        page.get_by_role("button", name="Save the name").click()
        page.locator(".certificate").screenshot(path=OUT / "certificate.png")
        for scheme in ("light", "dark"):
            phone = browser.new_page(
                viewport={"width": 375, "height": 760}, color_scheme=scheme, device_scale_factor=2
            )
            phone.goto(f"{base_url}/topics/heat/")
            figure = phone.locator("figure.diagram")
            figure.evaluate("figure => figure.scrollIntoView({block: 'center'})")
            phone.wait_for_function(
                "img => img.complete && img.naturalWidth > 0",
                arg=figure.locator("img").element_handle(),
            )
            phone.screenshot(path=OUT / f"lesson-diagram-{scheme}.png")
            phone.close()
        take_lti_platform_pages(browser, base_url)
        browser.close()


def register_example_platforms() -> int:
    """A Moodle and a Canvas registered as a superuser would, in the throwaway database;
    the Moodle one has seen a launch. Returns the Moodle registration's id."""
    from django.contrib.auth.models import User
    from lti_tool.models import LtiDeployment, LtiRegistration, LtiUser

    User.objects.create_superuser("admin", password=SCREENSHOT_ADMIN_PASSWORD)
    moodle_url = "https://moodle.hill-school.example"
    moodle = LtiRegistration.objects.create(
        name="Moodle at Hill School",
        issuer=moodle_url,
        client_id="kq3ZtU0bQ1cW8sY",
        auth_url=f"{moodle_url}/mod/lti/auth.php",
        token_url=f"{moodle_url}/mod/lti/token.php",
        keyset_url=f"{moodle_url}/mod/lti/certs.php",
    )
    LtiDeployment.objects.create(registration=moodle, deployment_id="3", is_active=True)
    LtiUser.objects.create(registration=moodle, sub="27", name="Sam Student")
    canvas = LtiRegistration.objects.create(
        name="Canvas at Hill School",
        issuer="https://canvas.instructure.com",
        client_id="10000000000042",
        auth_url="https://sso.canvaslms.com/api/lti/authorize_redirect",
        token_url="https://sso.canvaslms.com/login/oauth2/token",
        keyset_url="https://sso.canvaslms.com/api/lti/security/jwks",
    )
    LtiDeployment.objects.create(
        registration=canvas,
        deployment_id="42:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
        is_active=True,
    )
    return int(moodle.pk)


def take_lti_platform_pages(browser: "Browser", base_url: str) -> None:
    """The LMS platforms' list and a platform's "Set up in your LMS" page, at 1280 px."""
    moodle_id = register_example_platforms()
    page = browser.new_page(viewport={"width": 1280, "height": 860})
    page.goto(f"{base_url}/admin/login/")
    page.locator("#id_username").fill("admin")
    page.locator("#id_password").fill(SCREENSHOT_ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"{base_url}/admin/lti_tool/ltiregistration/")
    page.screenshot(path=OUT / "lti-platforms.png")
    page.goto(f"{base_url}/admin/lti_tool/ltiregistration/{moodle_id}/setup/")
    page.get_by_role("button", name="Copy").first.wait_for()  # the copy script ran
    # The top of the page (status and the values any LMS asks for), then Canvas's steps.
    page.set_viewport_size({"width": 1280, "height": 1350})
    page.screenshot(path=OUT / "lti-platform-page.png")
    page.locator("section[aria-labelledby=canvas-heading]").screenshot(
        path=OUT / "lti-platform-canvas.png"
    )
    page.close()


def main() -> None:
    # The throwaway SQLite file, always: a DATABASE_URL would win over SQLITE_PATH and get
    # the demo accounts.
    os.environ.pop("DATABASE_URL", None)
    with tempfile.TemporaryDirectory() as folder:
        env = {
            **os.environ,
            "DJANGO_DEBUG": "1",
            "SQLITE_PATH": str(Path(folder) / "screenshots.sqlite3"),
        }
        manage(env, "migrate", "--noinput", "-v", "0")
        manage(env, "load_content", "-v", "0")
        manage(env, "create_demo_accounts", "-v", "0")
        manage(env, "ensure_lti_key", "-v", "0")
        port = free_port()
        server = subprocess.Popen(  # noqa: S603
            [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base_url = f"http://127.0.0.1:{port}"
            wait_until_up(base_url + "/")
            take(base_url, env)
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"Screenshots written to {OUT.relative_to(ROOT)}/")


if __name__ == "__main__":
    main()
