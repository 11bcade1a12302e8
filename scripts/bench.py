"""`make bench`: each learner page and the answer POST, side by side with a bare view.

For each database, in a process of its own: SQLite, then PostgreSQL (BENCH_DATABASE_URL,
or the one scripts/ensure-postgres makes; BENCH_POSTGRES=0 leaves it out, =1 insists on
it, and by default it runs when it can be had, see postgres_url):

1. Builds a fresh database (bench/db.sqlite3, or the PostgreSQL one with its tables dropped)
   with the course, a student with some history, a teacher with a class.
2. Serves it in production mode (debug off) under gunicorn as `make serve` does (threaded
   workers, keep-alive), with the bare /bench/ceiling view: same server, same
   middleware, no database, no template.
3. For each page, wrk (Debian's, a load generator in C) with a fixed number of threads and
   keep-alive connections and the learner's cookies, the bare view and the page in turns:
   BENCH_ROUNDS rounds of the bare view for BENCH_CEILING_SECONDS, then the page for
   BENCH_SECONDS, so both meet the same background load; requests per second, p50 and
   p99, the ratio to the bare view's rate in those turns and the verdict against its
   target; the page's query count (in this process, with Django's test client).
4. The answer POST with real new answers: learners with open attempts, one job per
   question not answered yet, walked by bench/wrk.lua so no answer is sent twice; the
   answers stored are counted in the database afterwards. The server times how long each
   answer's write transaction holds the lock (quizsite/lock_timing.py), and the workers'
   memory (VmRSS) is read after the run.
5. Runs `generate_load_data --learners BENCH_LEARNERS` and measures again.
Prints a table per run and writes bench/results.json. Loopback only; every wait is bounded.
"""

import http.client
import json
import math
import os
import platform
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# Each page and the bare view take turns: ROUNDS rounds of the bare view for
# CEILING_DURATION seconds, then the page for DURATION seconds.
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
DURATION = int(os.environ.get("BENCH_SECONDS", "1"))
CEILING_DURATION = int(os.environ.get("BENCH_CEILING_SECONDS", "1"))
WRK_THREADS = int(os.environ.get("BENCH_THREADS", "2"))
CONNECTIONS = int(os.environ.get("BENCH_CONNECTIONS", "8"))
LEARNERS = int(os.environ.get("BENCH_LEARNERS", "1500"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 2)))
WEB_THREADS = int(os.environ.get("WEB_THREADS", "4"))
# Answer jobs prepared for this share of the bare view's rate: beyond the 0.3x target, so
# a list that runs out still shows the target met (its rate is then a lower bound).
ANSWER_JOBS_SHARE = 0.45
PAGE_TARGET, ANSWER_TARGET = 0.5, 0.3
LOCK_TARGET_MS, ANSWER_QUERY_BUDGET = 2.0, 10
CSRF = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
FOLDER = ROOT / os.environ.get("DJANGO_BENCH_FOLDER", "bench")
WRK_SCRIPT = ROOT / "bench" / "wrk.lua"
LOCK_TIMES = FOLDER / "lock-times"
ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_BENCHMARK": "1",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DJANGO_STATIC_ROOT": str(FOLDER / "static"),
    "DJANGO_BENCHMARK_LOCK_TIMES_DIR": str(LOCK_TIMES),
}
if not os.environ.get("DATABASE_URL"):
    ENV["SQLITE_PATH"] = str(FOLDER / "db.sqlite3")
CEILING = "bare view"


@dataclass
class Endpoint:
    name: str
    path: str
    cookie: str
    target: float | None  # the least ratio to the bare view this page should reach
    who: str = "student"  # whose queries count_queries counts


@dataclass
class Measure:
    """One wrk run, as bench/wrk.lua reports it."""

    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    jobs: dict[str, Any] | None = None


@dataclass
class Row:
    name: str
    measure: Measure
    bare_rps: float
    target: float | None
    queries: int | None

    @property
    def ratio(self) -> float:
        return self.measure.rps / self.bare_rps if self.bare_rps else 0.0


# ---- pure parts (tests/test_bench_script.py) ------------------------------------------


def parse_wrk_output(text: str) -> Measure:
    """The BENCH-RESULT line bench/wrk.lua's done() prints, as a Measure. Errors are wrk's
    socket errors and statuses of 400 and up; with jobs, also the 3xx answers and, when
    wrk counted no status errors, the 4xx and 5xx the script counted (the same ones)."""
    lines = [line for line in text.splitlines() if line.startswith("BENCH-RESULT ")]
    if not lines:
        raise ValueError(f"wrk printed no BENCH-RESULT line:\n{text}")
    data = json.loads(lines[-1].removeprefix("BENCH-RESULT "))
    errors = sum(data["errors"].values())
    jobs = data.get("jobs")
    if jobs is not None:
        errors += jobs["3xx"]
    seconds = data["seconds"] or 1.0
    return Measure(
        requests=data["requests"],
        seconds=round(seconds, 3),
        rps=round(data["requests"] / seconds, 1),
        p50_ms=round(data["p50_ms"], 2),
        p99_ms=round(data["p99_ms"], 2),
        errors=errors,
        jobs=jobs,
    )


Job = tuple[str, str, str]  # (cookie, path, body) of one answer POST


def combine(rounds: Sequence[Measure]) -> Measure:
    """The rounds of one page as one measure: requests over seconds, the median of the
    rounds' p50 and the highest of their p99, every error; their jobs added up."""
    jobs: dict[str, Any] | None = None
    if any(measure.jobs for measure in rounds):
        jobs = {}
        for measure in rounds:
            for key, value in (measure.jobs or {}).items():
                if key == "ran_out":
                    jobs[key] = jobs.get(key, False) or value
                else:
                    jobs[key] = jobs.get(key, 0) + value
    requests = sum(measure.requests for measure in rounds)
    seconds = sum(measure.seconds for measure in rounds) or 1.0
    finished = [measure for measure in rounds if measure.requests] or list(rounds)
    return Measure(
        requests=requests,
        seconds=round(seconds, 3),
        rps=round(requests / seconds, 1),
        p50_ms=round(statistics.median(measure.p50_ms for measure in finished), 2),
        p99_ms=max(measure.p99_ms for measure in finished),
        errors=sum(measure.errors for measure in rounds),
        jobs=jobs,
    )


def answer_job_lines(attempts: Sequence[Sequence[Job]], threads: int, spread: int) -> list[str]:
    """The lines of bench/wrk.lua's jobs file: "THREAD\\tCOOKIE\\tPATH\\tBODY".

    Each attempt's answers go to one wrk thread, attempts dealt out in turn. A thread takes
    its attempts in groups of `spread` or more and answers a group position by position
    (the first question of each, then the second of each...), so two answers of one
    attempt are at least `spread` requests apart (not in flight together when `spread`
    exceeds the thread's connections; fewer apart only if the thread has fewer attempts)
    and any stretch of the run has first, middle and last answers alike."""
    if any("\t" in part or "\n" in part for jobs in attempts for job in jobs for part in job):
        raise ValueError("A job holds a tab or a line break.")
    lines: list[str] = []
    for thread in range(threads):
        mine = list(attempts[thread::threads])
        groups = max(1, len(mine) // spread)  # each of `spread` attempts or more
        for group in (mine[first::groups] for first in range(groups)):
            for position in range(max((len(jobs) for jobs in group), default=0)):
                lines.extend(
                    "\t".join((str(thread), *jobs[position]))
                    for jobs in group
                    if position < len(jobs)
                )
    return lines


def percentile(values: Sequence[float], share: float) -> float:
    """The nearest-rank percentile (share 0.5 is the median, 0.99 the p99)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[max(0, math.ceil(share * len(ordered)) - 1)]


def lock_summary(lines: Iterable[str]) -> dict[str, float | int]:
    """p50 and p99 of the answers' lock times, from quizsite/lock_timing.py's records
    ("POST /attempts/1/questions/2/ 1.234")."""
    times = [
        float(milliseconds)
        for label, milliseconds in (line.rsplit(" ", 1) for line in lines if line.strip())
        if label.startswith("POST /attempts/")
    ]
    return {
        "count": len(times),
        "p50_ms": round(percentile(times, 0.5), 2),
        "p99_ms": round(percentile(times, 0.99), 2),
    }


def verdict(ratio: float, target: float | None) -> str:
    if target is None:
        return "-"
    return "met" if ratio >= target else "not met"


def rate(rps: float) -> str:
    return f"{rps:,.1f}" if rps < 10 else f"{rps:,.0f}"


def table(title: str, rows: Sequence[Row], bare: Measure, extra: Sequence[str] = ()) -> str:
    """The run's table: each page's rate, latency, ratio to the bare view run right before
    it, target and verdict, and query count."""
    head = ("req/s", "p50 ms", "p99 ms", "x bare", "target", "verdict", "queries", "errors")
    width = max([len(CEILING), *(len(row.name) for row in rows)]) + 2
    lines = [title, f"{'page':<{width}}" + "".join(f"{c:>9}" for c in head)]
    for row in rows:
        target = "-" if row.target is None else f"{row.target}x"
        queries = "-" if row.queries is None else row.queries
        finished = row.measure.requests > 0
        cells = (
            rate(row.measure.rps),
            f"{row.measure.p50_ms:.1f}" if finished else "-",
            f"{row.measure.p99_ms:.1f}" if finished else "-",
            f"{row.ratio:.2f}",
            target,
            verdict(row.ratio, row.target),
            queries,
            row.measure.errors,
        )
        lines.append(f"{row.name:<{width}}" + "".join(f"{c:>9}" for c in cells))
    slow = [row.name for row in rows if row.measure.requests == 0]
    if slow:  # every request took longer than the run: no rate, no latency to show
        extra = [f"{', '.join(slow)}: no request finished within the run", *extra]
    cells = (
        rate(bare.rps),
        f"{bare.p50_ms:.1f}",
        f"{bare.p99_ms:.1f}",
        "1.00",
        "-",
        "-",
        0,
        bare.errors,
    )
    lines.append(f"{CEILING:<{width}}" + "".join(f"{c:>9}" for c in cells))
    return "\n".join([*lines, *extra])


# ---- the server and the load ----------------------------------------------------------


@contextmanager
def step(what: str) -> Iterator[None]:
    """Says what is being done, then how long it took."""
    print(f"{what}...", end=" ", flush=True)
    began = time.monotonic()
    yield
    print(f"{time.monotonic() - began:.0f} s", flush=True)


def use_bench_settings() -> None:
    """This process, the commands it runs and its server: production mode, the bench's
    database and the benchmark's extras (ENV)."""
    os.environ.update(ENV)
    os.environ["DJANGO_SETTINGS_MODULE"] = "quizsite.settings"


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603


def reset_database() -> None:
    """A fresh database, as migrations make it (a flush would empty the rows they add)."""
    FOLDER.mkdir(exist_ok=True)
    sqlite = ENV.get("SQLITE_PATH")
    if sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite + suffix).unlink(missing_ok=True)
    else:
        drop_tables()
    manage("migrate", "--noinput", "-v", "0")
    manage("load_content", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")


def drop_tables() -> None:
    """Every table of DATABASE_URL's database (in its search path), with what depends on it."""
    import django

    django.setup()
    from django.db import connection

    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(table)} CASCADE")
    connection.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, threads: int = WEB_THREADS) -> subprocess.Popen:
    """gunicorn as `make serve` runs it: WORKERS workers of `threads` threads (gthread),
    keep-alive; without its access log."""
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "quizsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            "--worker-class",
            "gthread",
            "--threads",
            str(threads),
            "--keep-alive",
            "5",
            "--forwarded-allow-ips",
            "127.0.0.1",
        ],
        cwd=ROOT,
        env={**os.environ},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return wait_until_listening(server, port, "gunicorn", seconds=30)


def wait_until_listening(
    server: subprocess.Popen, port: int, name: str, *, seconds: float
) -> subprocess.Popen:
    """`server` once it accepts connections on `port`; stopped, and the run ended, if it
    does not within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"{name} did not start")


def worker_rss_mb(master: int) -> list[float]:
    """VmRSS of each process whose parent is `master` (gunicorn's workers), in MB."""
    sizes = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(round(int(line.split()[1]) / 1024, 1))
    return sorted(sizes)


def headers_for(port: int, cookie: str) -> dict[str, str]:
    return {"Host": f"127.0.0.1:{port}", "X-Forwarded-Proto": "https", "Cookie": cookie}


def answer_headers(port: int) -> dict[str, str]:
    return {
        "X-CSRFToken": CSRF,
        "Referer": f"https://127.0.0.1:{port}/",
        "HX-Request": "true",
    }


def check_page(port: int, endpoint: Endpoint, connections: int = 8) -> None:
    """The page answers 200 (not a redirect to the log-in page), asked on a few fresh
    connections so every worker has loaded it once before it is measured."""
    for _ in range(connections):
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            connection.request("GET", endpoint.path, headers=headers_for(port, endpoint.cookie))
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        if response.status != 200:
            raise SystemExit(f"{endpoint.name} ({endpoint.path}) answered {response.status}")


def wrk_binary() -> str:
    return shutil.which("wrk") or "wrk"


def run_wrk(
    port: int, path: str, cookie: str, seconds: int, jobs_file: Path | None = None
) -> Measure:
    command = [
        wrk_binary(),
        "--threads",
        str(WRK_THREADS),
        "--connections",
        str(CONNECTIONS),
        "--duration",
        f"{seconds}s",
        "--timeout",
        "30s",
        "--script",
        str(WRK_SCRIPT),
    ]
    headers = headers_for(port, cookie)
    del headers["Host"]  # wrk sends it
    if jobs_file is not None:
        del headers["Cookie"]  # each job has its learner's
        headers.update(answer_headers(port))
    for name, value in headers.items():
        command += ["--header", f"{name}: {value}"]
    command.append(f"http://127.0.0.1:{port}{path}")
    if jobs_file is not None:
        command += ["--", str(jobs_file)]
    done = subprocess.run(  # noqa: S603
        command, capture_output=True, text=True, timeout=seconds + 60, check=True
    )
    return parse_wrk_output(done.stdout)


def measure_bare(port: int, cookie: str) -> Measure:
    return run_wrk(port, "/bench/ceiling", cookie, CEILING_DURATION)


def measure_page(port: int, path: str, cookie: str) -> tuple[Measure, Measure]:
    """The bare view and the page, in turns (ROUNDS rounds): both, each combined."""
    bare, page = [], []
    for _ in range(ROUNDS):
        bare.append(measure_bare(port, cookie))
        page.append(settled(run_wrk(port, path, cookie, DURATION)))
    return combine(bare), combine(page)


def settled(measure: Measure) -> Measure:
    """`measure`, once the requests wrk left in flight have likely been answered (about
    its p99, a second at most), so they do not weigh on the next bare view."""
    time.sleep(min(1.0, measure.p99_ms / 1000))
    return measure


# ---- the learners and their pages (in this process, on the bench database) -------------


def session_cookie(user: Any) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}"


def sample_answer(question: Any, right: bool) -> Any:
    from learning import question_types
    from learning.versions import current_key

    return question_types.get(question.type).sample_answer(current_key(question), right=right)


def answer_body(attempt: Any, position: int, right: bool) -> str:
    """The form a learner posts from the page of `position` in `attempt` (its fields, the
    option codes it shows and the token of the version it showed), answering right or
    earning nothing."""
    from learning import question_types, selectors

    screen = selectors.question_screen(attempt, position)
    question = screen.question
    assert question is not None, "a new attempt's questions are not answered yet"
    answer = sample_answer(question, right=right)
    form = question_types.get(question.type).form_data(answer, screen.option_codes)
    fields = [("question", str(question.pk)), ("version", screen.version_token)] + [
        (name, value)
        for name, wanted in form.items()
        for value in (wanted if isinstance(wanted, list) else [wanted])
    ]
    return urllib.parse.urlencode(fields)


def draw(seed: int) -> random.Random:
    """The same questions in the same order in every run, so each page shows the same."""
    return random.Random(seed)  # noqa: S311 - a draw of questions, not a secret


def prepare(tag: str) -> tuple[list[Endpoint], dict[str, str]]:
    """A student with three finished quizzes and an open one whose first question is
    answered, and a teacher of theirs: the pages under test."""
    from django.contrib.auth.models import Group, Permission, User

    from learning import services
    from learning.models import Classroom, Question, Quiz, QuizKind, Topic
    from learning.teachers import sync_teachers_group

    quizzes = list(Quiz.objects.filter(kind=QuizKind.TOPIC).order_by("topic__order"))
    questions = Question.objects.prefetch_related("choices").in_bulk()
    student = User.objects.create(username=f"bench-student-{tag}")
    finished = []
    for quiz in quizzes[:3]:  # some history: three finished quizzes
        attempt = services.start_attempt(learner=student, quiz=quiz, rng=draw(quiz.pk))
        for question_id in attempt.question_ids:
            answer = sample_answer(questions[question_id], right=question_id % 4 != 0)
            services.record_answer(attempt=attempt, question_id=question_id, answer=answer)
        finished.append(attempt)
    open_attempt = services.start_attempt(
        learner=student, quiz=quizzes[3], rng=draw(quizzes[3].pk)
    )
    first = questions[open_attempt.question_ids[0]]
    services.record_answer(
        attempt=open_attempt, question_id=first.pk, answer=sample_answer(first, right=False)
    )
    teacher = User.objects.create(username=f"bench-teacher-{tag}", is_staff=True)
    teacher.groups.add(sync_teachers_group(Group, Permission))
    # A teacher's report shows the learners of their classes: the bench's are in one.
    classroom = Classroom.objects.create(name=f"Bench class {tag}")
    classroom.teachers.add(teacher)
    classroom.learners.add(student)

    cookie, teacher_cookie = session_cookie(student), session_cookie(teacher)
    question = f"/attempts/{open_attempt.pk}/questions/"
    lesson = Topic.objects.order_by("order").values_list("slug", flat=True)[2]
    endpoints = [
        Endpoint("course page", "/", cookie, PAGE_TARGET),
        Endpoint("lesson", f"/topics/{lesson}/", cookie, PAGE_TARGET),
        Endpoint("quiz question", f"{question}2/", cookie, PAGE_TARGET),
        Endpoint("answered question", f"{question}1/", cookie, PAGE_TARGET),
        Endpoint("result", f"/attempts/{finished[-1].pk}/result/", cookie, PAGE_TARGET),
        Endpoint("dashboard", "/dashboard/", cookie, PAGE_TARGET),
        Endpoint("review", "/review/", cookie, PAGE_TARGET),
        Endpoint("challenge", "/challenge/", cookie, PAGE_TARGET),
        Endpoint(
            "item analysis", "/admin/learning/itemanalysis/", teacher_cookie, None, "teacher"
        ),
        Endpoint(
            "progress report", "/admin/learning/progressreport/", teacher_cookie, None, "teacher"
        ),
    ]
    return endpoints, {"student": student.username, "teacher": teacher.username}


def prepare_answers(tag: str, count: int) -> list[tuple[int, str, list[Job]]]:
    """Learners with an open attempt each, one job per question (70% answered right),
    `count` jobs at least (whole attempts): (attempt id, username, jobs) each."""
    from django.contrib.auth.models import User

    from learning import services
    from learning.models import Quiz, QuizKind

    quizzes = list(Quiz.objects.filter(kind=QuizKind.TOPIC).order_by("topic__order"))
    prepared: list[tuple[int, str, list[Job]]] = []
    total = 0
    while total < count:
        index = len(prepared)
        learner = User.objects.create(username=f"bench-answering-{tag}-{index}")
        cookie = session_cookie(learner)
        quiz = quizzes[index % len(quizzes)]
        attempt = services.start_attempt(learner=learner, quiz=quiz, rng=draw(index))
        jobs = [
            (
                cookie,
                f"/attempts/{attempt.pk}/questions/{position}/",
                answer_body(attempt, position, right=(index + position) % 10 < 7),
            )
            for position in range(1, len(attempt.question_ids) + 1)
        ]
        prepared.append((attempt.pk, learner.username, jobs))
        total += len(jobs)
    return prepared


def count_queries(path: str, username: str, body: str | None = None) -> int:
    """The queries of one request (a GET, or with `body` the htmx answer POST), counted in
    this process with Django's test client."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    client.force_login(get_user_model().objects.get(username=username))
    with CaptureQueriesContext(connection) as queries:
        if body is None:
            response = client.get(path)
        else:
            response = client.post(
                path,
                body,
                content_type="application/x-www-form-urlencoded",
                HTTP_HX_REQUEST="true",
            )
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code} in this process")
    return len(queries)


def stored_answers(attempt_ids: Sequence[int]) -> int:
    from learning.models import Response

    return Response.objects.filter(attempt_id__in=attempt_ids).count()


def database_counts() -> dict[str, int]:
    from learning.models import Attempt, Response, ReviewCard

    return {
        "responses": Response.objects.count(),
        "attempts": Attempt.objects.count(),
        "review cards": ReviewCard.objects.count(),
    }


def measure_answers(
    port: int, bare_rps: float, bare_cookie: str, tag: str
) -> tuple[Row, Measure, dict[str, Any]]:
    """The answer POST, in turns with the bare view (asked with `bare_cookie`, as for the
    pages) as a page is: jobs for
    ANSWER_JOBS_SHARE of `bare_rps` (the bare view's rate so far), each round walking its
    own attempts with bench/wrk.lua; the answers stored, counted in the database; the lock
    times the server recorded. The row, the bare view's measure, the details."""
    wanted = max(100 * ROUNDS, int(bare_rps * ANSWER_JOBS_SHARE * DURATION * ROUNDS))
    with step(f"  (preparing {wanted:,} new answers)"):
        (_, spare_learner, spare_jobs), *prepared = prepare_answers(tag, wanted)
    # The first attempt (the same question in every run) answers here once: its queries.
    queries = count_queries(spare_jobs[0][1], spare_learner, spare_jobs[0][2])
    attempt_ids = [attempt_id for attempt_id, _, _ in prepared]
    spread = 2 * math.ceil(CONNECTIONS / WRK_THREADS)
    jobs_files = []
    for round_number in range(ROUNDS):  # each round its own attempts: none answered twice
        attempts = [jobs for _, _, jobs in prepared[round_number::ROUNDS]]
        jobs_files.append(FOLDER / f"answer-jobs-{round_number + 1}.txt")
        lines = answer_job_lines(attempts, WRK_THREADS, spread)
        jobs_files[-1].write_text("\n".join(lines) + "\n")
    shutil.rmtree(LOCK_TIMES, ignore_errors=True)
    before = stored_answers(attempt_ids)
    bare, rounds = [], []
    for jobs_file in jobs_files:
        bare.append(measure_bare(port, bare_cookie))
        rounds.append(settled(run_wrk(port, "/", "", DURATION, jobs_file)))
    measure = combine(rounds)
    new_answers = stored_answers(attempt_ids) - before
    jobs = measure.jobs or {}
    # A 2xx that stored nothing would be a repeat answered with its old feedback: an error.
    repeats = max(0, jobs.get("2xx", 0) - new_answers)
    measure.errors += repeats
    lock_lines = [
        line for file in LOCK_TIMES.glob("*.txt") for line in file.read_text().splitlines()
    ]
    answers = {
        "jobs prepared": jobs.get("prepared", 0),
        "jobs sent": jobs.get("sent", 0),
        "ran out": bool(jobs.get("ran_out")),
        "new answers stored": new_answers,
        "answered 2xx but stored nothing": repeats,
        "statuses": {key: jobs.get(key, 0) for key in ("2xx", "3xx", "4xx", "5xx")},
        "queries": queries,
        "lock": lock_summary(lock_lines),
    }
    bare_view = combine(bare)
    row = Row("answer (POST)", measure, bare_view.rps, ANSWER_TARGET, queries)
    return row, bare_view, answers


def answer_notes(answers: dict[str, Any]) -> list[str]:
    lock = answers["lock"]
    lock_verdict = "met" if lock["count"] and lock["p50_ms"] < LOCK_TARGET_MS else "not met"
    query_verdict = "met" if answers["queries"] <= ANSWER_QUERY_BUDGET else "not met"
    ran_out = " (the jobs ran out: the rate is a lower bound)" if answers["ran out"] else ""
    return [
        f"answers: {answers['new answers stored']:,} real new answers stored of "
        f"{answers['jobs prepared']:,} prepared{ran_out}; statuses {answers['statuses']}",
        f"answer write lock: p50 {lock['p50_ms']} ms, p99 {lock['p99_ms']} ms over "
        f"{lock['count']:,} transactions (target p50 under {LOCK_TARGET_MS} ms: {lock_verdict})",
        f"answer queries: {answers['queries']} (budget {ANSWER_QUERY_BUDGET}: {query_verdict})",
    ]


def measure_run(label: str, port: int) -> dict[str, Any]:
    """Every page and the answer on the database as it is now, each in turns with the
    bare view."""
    with step(f"Preparing the {label} run"):
        endpoints, users = prepare(label)
        counts = database_counts()
        queries = {e.name: count_queries(e.path, users[e.who]) for e in endpoints}
    print(f"Measuring ({label} database: {counts['responses']:,} responses)...", flush=True)
    server = start_server(port)
    try:
        rows, bares = [], []
        for endpoint in endpoints:
            check_page(port, endpoint)
            bare, page = measure_page(port, endpoint.path, endpoint.cookie)
            bares.append(bare)
            rows.append(
                Row(endpoint.name, page, bare.rps, endpoint.target, queries[endpoint.name])
            )
            print(
                f"  {endpoint.name:<20} {page.rps:>8,.0f} req/s  {rows[-1].ratio:.2f}x", flush=True
            )
        bare_so_far = statistics.median(bare.rps for bare in bares)
        answer_row, bare, answers = measure_answers(port, bare_so_far, endpoints[0].cookie, label)
        bares.append(bare)
        rows.insert(4, answer_row)
        print(f"  {answer_row.name:<20} {answer_row.measure.rps:>8,.0f} req/s", flush=True)
        # The bare view again, as a visitor with no session: what a page could reach if
        # nothing read the session and the user. Reported beside the logged-in ratios.
        visitor_bare = combine([measure_bare(port, "") for _ in range(ROUNDS)])
        rss = worker_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "label": label,
        "database": counts,
        "pages": [row_to_json(row) for row in rows],
        "bare view": asdict(bare_summary(bares)),
        "bare view runs": [asdict(bare) for bare in bares],
        "answers": answers,
        "worker rss mb": rss,
        "visitor bare view": asdict(visitor_bare),
    }


def bare_summary(bares: Sequence[Measure]) -> Measure:
    """The bare view over the run: the median of its measures (each page's ratio is to
    the one taken in turns with it)."""
    return Measure(
        requests=sum(bare.requests for bare in bares),
        seconds=round(sum(bare.seconds for bare in bares), 3),
        rps=round(statistics.median(bare.rps for bare in bares), 1),
        p50_ms=round(statistics.median(bare.p50_ms for bare in bares), 2),
        p99_ms=round(statistics.median(bare.p99_ms for bare in bares), 2),
        errors=sum(bare.errors for bare in bares),
    )


def row_to_json(row: Row) -> dict[str, Any]:
    return {
        "name": row.name,
        "measure": asdict(row.measure),
        "bare_rps": row.bare_rps,
        "ratio": round(row.ratio, 3),
        "target": row.target,
        "verdict": verdict(row.ratio, row.target),
        "queries": row.queries,
    }


def row_from_json(data: dict[str, Any]) -> Row:
    return Row(
        data["name"], Measure(**data["measure"]), data["bare_rps"], data["target"], data["queries"]
    )


def run_table(database: str, run: dict[str, Any]) -> str:
    title = f"{database}, {run['label']} database: {run['database']['responses']:,} responses"
    rows = [row_from_json(row) for row in run["pages"]]
    rss = ", ".join(f"{size} MB" for size in run["worker rss mb"])
    extra = [*answer_notes(run["answers"]), f"worker memory after the run (VmRSS): {rss}"]
    if "visitor bare view" in run:
        extra.append(visitor_ratios(rows, Measure(**run["visitor bare view"])))
    return table(title, rows, Measure(**run["bare view"]), extra)


def visitor_ratios(rows: Sequence[Row], visitor_bare: Measure) -> str:
    """Each page's rate over the bare view asked by a visitor (no session, no user read):
    the stricter ceiling."""
    if not visitor_bare.rps:
        return "bare view for a visitor: no request finished"
    ratios = ", ".join(f"{row.name} {row.measure.rps / visitor_bare.rps:.2f}x" for row in rows)
    return (
        f"against the bare view for a visitor ({rate(visitor_bare.rps)} req/s, "
        f"no session or user read): {ratios}"
    )


def flat_queries(runs: Sequence[dict[str, Any]]) -> str:
    """Whether each page makes as many queries on the loaded database as on the empty one."""
    counts = [{row["name"]: row["queries"] for row in run["pages"]} for run in runs]
    grown = [
        f"{name} {before} -> {counts[-1].get(name)}"
        for name, before in counts[0].items()
        if before is not None and counts[-1].get(name) != before
    ]
    return "query counts flat from empty to loaded: " + (
        "yes" if not grown else "NO: " + ", ".join(grown)
    )


def run_database() -> None:
    """Both runs (empty, loaded) on this process's database; bench/results-<vendor>.json."""
    FOLDER.mkdir(exist_ok=True)
    with step("Building the benchmark database"):
        reset_database()
    import django

    django.setup()
    from django.db import connection

    database = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    port = free_port()
    runs = []
    for label in ("empty", "loaded"):
        if label == "loaded":
            connection.close()
            with step(f"Adding {LEARNERS:,} learners with generate_load_data"):
                manage("generate_load_data", "--learners", str(LEARNERS))
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:  # as autovacuum would soon after
                        cursor.execute("ANALYZE")
        runs.append(measure_run(label, port))
        print()
        print(run_table(database, runs[-1]))
        print()
    result = {"database": database, "runs": runs, "flat queries": flat_queries(runs)}
    (FOLDER / f"results-{connection.vendor}.json").write_text(json.dumps(result, indent=2) + "\n")


def postgres_url() -> str | None:
    """The PostgreSQL database of the second run: BENCH_DATABASE_URL, else the one
    scripts/ensure-postgres makes (quizsite_bench); none with BENCH_POSTGRES=0, or when it
    cannot be had and BENCH_POSTGRES is not 1."""
    mode = os.environ.get("BENCH_POSTGRES", "auto")
    if mode == "0":
        return None
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"]
    result = subprocess.run(  # noqa: S603
        [str(ROOT / "scripts" / "ensure-postgres")],
        env={**os.environ, "PGDATABASE_NAME": "quizsite_bench"},
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode == 0 and result.stdout.strip():
        return result.stdout.strip().splitlines()[-1]
    why = (result.stderr.strip().splitlines() or ["no reason given"])[-1]
    if mode == "1":
        raise SystemExit(f"BENCH_POSTGRES=1 but scripts/ensure-postgres failed: {why}")
    print(f"PostgreSQL left out: scripts/ensure-postgres failed ({why}).", flush=True)
    return None


def main() -> None:
    if "--one-database" in sys.argv:
        use_bench_settings()
        run_database()
        return
    if shutil.which("wrk") is None:
        subprocess.run([str(ROOT / "scripts" / "ensure-wrk")], check=True)  # noqa: S603
    FOLDER.mkdir(exist_ok=True)
    base = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SQLITE_PATH")}
    databases = {"sqlite": base}
    url = postgres_url()
    if url:
        databases["postgresql"] = {**base, "DATABASE_URL": url}
    began = time.monotonic()
    results = []
    for vendor, env in databases.items():
        partial = FOLDER / f"results-{vendor}.json"
        partial.unlink(missing_ok=True)
        subprocess.run(  # noqa: S603
            [sys.executable, __file__, "--one-database"], cwd=ROOT, env=env, check=True
        )
        results.append(json.loads(partial.read_text()))
        partial.unlink()
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "wrk": subprocess.run(  # noqa: S603
                [wrk_binary(), "--version"], capture_output=True, text=True, check=False
            )
            .stdout.split(" Copyright")[0]
            .strip(),
        },
        "settings": {
            "gunicorn workers": WORKERS,
            "threads per worker": WEB_THREADS,
            "wrk threads": WRK_THREADS,
            "wrk connections": CONNECTIONS,
            "rounds per page": ROUNDS,
            "seconds of the page per round": DURATION,
            "seconds of the bare view per round, before the page": CEILING_DURATION,
            "learners added": LEARNERS,
            "cache and sessions": (
                "Redis (REDIS_URL)"
                if os.environ.get("REDIS_URL")
                else "sessions in the database, a cache per worker"
            ),
        },
        "minutes": round((time.monotonic() - began) / 60, 1),
        "databases": results,
    }
    (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print("\nAll runs:\n")
    for result in results:
        for run in result["runs"]:
            print(run_table(result["database"], run))
            print()
        print(f"{result['database']}: {result['flat queries']}\n")
    print(f"Figures written to bench/results.json ({report['minutes']} minutes).")


if __name__ == "__main__":
    main()
