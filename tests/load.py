"""Concurrent learners over HTTP, then checks that nothing was lost or counted twice.

Each learner signs up, starts a topic quiz and answers every question as a browser with
htmx would, sending some answers twice at once (a double click). Used small by the test
suite against the live server, and with 50 learners by `make loadtest` against gunicorn.
"""

import http.client
import random
import re
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

QUESTION_ID = re.compile(r'name="question" value="(\d+)"')
VERSION = re.compile(r'name="version" value="([^"]+)"')
CHOICE = re.compile(r'name="choice" value="([0-9a-f]+)"')
MATCH_FIELD = re.compile(r'<select name="(match-[0-9a-f]+)"[^>]*>(.*?)</select>', re.S)
OPTION = re.compile(r'<option value="([^"]+)"')


@dataclass
class LoadReport:
    statuses: Counter = field(default_factory=Counter)
    accepted: set = field(default_factory=set)  # (attempt id, question id) answered with a 200
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def server_errors(self) -> int:
        return sum(count for status, count in self.statuses.items() if status >= 500)


class Browser:
    """One learner's connection: cookies, CSRF header, and the answers they give."""

    def __init__(self, host: str, port: int, secure_proxy: bool) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = {}
        self.secure_proxy = secure_proxy
        self.connection = http.client.HTTPConnection(host, port, timeout=60)

    def request(self, method: str, path: str, form=None, htmx: bool = False):
        headers = {"Host": f"{self.host}:{self.port}", "Referer": f"{self.origin}/"}
        if self.secure_proxy:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form, doseq=True)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get("csrftoken", "")
        if htmx:
            headers["HX-Request"] = "true"
        self.connection.request(method, path, body=body, headers=headers)
        response = self.connection.getresponse()
        text = response.read().decode("utf-8", "replace")
        for value in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = value.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, response.headers.get("Location", ""), text

    @property
    def origin(self) -> str:
        scheme = "https" if self.secure_proxy else "http"
        return f"{scheme}://{self.host}:{self.port}"

    def close(self) -> None:
        self.connection.close()


def _answer_form(html: str, rng: random.Random) -> dict | None:
    found = QUESTION_ID.search(html)
    if not found:
        return None
    form: dict = {"question": found.group(1)}
    version = VERSION.search(html)
    if version:  # the version of the question the page showed, as a browser sends it
        form["version"] = version.group(1)
    choices = CHOICE.findall(html)
    matches = MATCH_FIELD.findall(html)
    if matches:
        for name, options in matches:
            form[name] = rng.choice([o for o in OPTION.findall(options) if o])
    elif choices:
        form["choice"] = rng.sample(choices, k=rng.randint(1, min(2, len(choices))))
        if 'type="radio"' in html:
            form["choice"] = form["choice"][:1]
    elif 'name="text"' in html:
        form["text"] = rng.choice(["calcium", "magnesium", "not sure"])
    else:
        form["value"] = str(rng.randint(0, 20))
    return form


def _post_into(browser: Browser, path: str, form: dict, results: list[int]) -> None:
    results.append(browser.request("POST", path, form, htmx=True)[0])


def _learner(index: int, host: str, port: int, topics: list[str], secure: bool,
             report: LoadReport, lock: threading.Lock, rng: random.Random) -> None:  # fmt: skip
    browser = Browser(host, port, secure)
    twin = Browser(host, port, secure)  # a second connection for double clicks
    try:

        def note(status: int) -> None:
            with lock:
                report.statuses[status] += 1

        status, _, _ = browser.request("GET", "/signup/")
        note(status)
        name = f"load-{index}-{rng.randrange(10**9)}"
        password = f"pw-{rng.randrange(10**12)}-muscles"
        status, _, _ = browser.request(
            "POST", "/signup/", {"username": name, "password1": password, "password2": password}
        )
        note(status)
        twin.cookies = dict(browser.cookies)
        status, location, _ = browser.request(
            "POST", f"/topics/{rng.choice(topics)}/quiz/start/", {}
        )
        note(status)
        attempt_path = urllib.parse.urlparse(location).path
        for _ in range(40):  # bounded: a quiz has at most a few dozen questions
            status, location, _ = browser.request("GET", attempt_path)
            note(status)
            if "/questions/" not in location:
                break  # finished: redirected to the result
            question_path = urllib.parse.urlparse(location).path
            status, _, html = browser.request("GET", question_path)
            note(status)
            form = _answer_form(html, rng)
            if form is None:
                break
            if rng.random() < 0.3:
                results: list[int] = []
                thread = threading.Thread(
                    target=_post_into, args=(twin, question_path, form, results)
                )
                thread.start()
                status, _, _ = browser.request("POST", question_path, form, htmx=True)
                thread.join(60)
                for twin_status in results:
                    note(twin_status)
            else:
                status, _, _ = browser.request("POST", question_path, form, htmx=True)
            note(status)
            if status == 200:
                attempt_id = int(attempt_path.strip("/").split("/")[-1])
                with lock:
                    report.accepted.add((attempt_id, int(form["question"])))
    except Exception as error:
        with lock:
            report.errors.append(f"learner {index}: {error!r}")
    finally:
        browser.close()
        twin.close()


def run_load(host: str, port: int, topics: list[str], learners: int, *, secure_proxy: bool = False,
             seed: int = 7) -> LoadReport:  # fmt: skip
    report = LoadReport()
    lock = threading.Lock()
    began = time.monotonic()
    threads = [
        threading.Thread(
            target=_learner,
            args=(i, host, port, topics, secure_proxy, report, lock, random.Random(seed + i)),
        )
        for i in range(learners)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(600)
    report.seconds = time.monotonic() - began
    return report


def check_invariants(report: LoadReport) -> list[str]:
    """Everything that must hold after the run, as a list of failures (empty when sound)."""
    from django.db.models import Max, Sum

    from learning.models import Attempt, AttemptState, QuizKind, Response, TopicProgress

    problems = list(report.errors)
    if report.server_errors:
        problems.append(f"{report.server_errors} responses were 5xx: {dict(report.statuses)}")
    stored = set(Response.objects.values_list("attempt_id", "question_id"))
    if report.accepted - stored:
        problems.append(f"accepted answers not stored: {sorted(report.accepted - stored)[:5]}")
    if Response.objects.count() != len(stored):
        problems.append("some answer is stored twice")
    closed = Attempt.objects.filter(state__in=AttemptState.closed()).annotate(
        total=Sum("responses__points")
    )
    for attempt in closed:
        if (attempt.total or Decimal(0)) != attempt.points:
            problems.append(
                f"attempt {attempt.pk}: {attempt.points} points, answers {attempt.total}"
            )
    for progress in TopicProgress.objects.all():
        attempts = Attempt.objects.filter(
            learner_id=progress.learner_id,
            quiz__topic_id=progress.topic_id,
            quiz__kind=QuizKind.TOPIC,
            state__in=AttemptState.closed(),
        )
        best = attempts.aggregate(best=Max("percent"))["best"]
        if progress.attempt_count != attempts.count() or progress.best_percent != best:
            problems.append(f"progress {progress.pk} disagrees with its attempts")
    return problems
