"""`make bench`: requests per second and latency of each page under gunicorn on loopback.

1. Builds a fresh database (SQLite at bench/bench.sqlite3, or DATABASE_URL if set) with the
   course, a student with some history, a teacher, and learners with open attempts whose
   answers the POST benchmark sends.
2. Serves it in production mode (debug off) under gunicorn, with the bare /bench/ceiling
   view: same server, same middleware, no database, no template.
3. For each page: CONCURRENCY clients on keep-alive connections for DURATION seconds,
   then requests per second, p50 and p99, and the page's query count (in-process).
4. Runs `generate_load_data --learners BENCH_LEARNERS` and measures again.
Prints a table and writes bench/results.json. Loopback only; every loop is bounded.
"""

import http.client
import json
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DURATION = float(os.environ.get("BENCH_SECONDS", "4"))
WARMUP = 0.5
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
LEARNERS = int(os.environ.get("BENCH_LEARNERS", "10000"))
WORKERS = int(os.environ.get("WEB_CONCURRENCY", str(os.cpu_count() or 2)))
CSRF = secrets.token_hex(16)  # 32 characters: a valid unmasked CSRF secret
FOLDER = ROOT / os.environ.get("DJANGO_BENCH_FOLDER", "bench")
ENV = {
    "DJANGO_DEBUG": "0",
    "DJANGO_BENCHMARK": "1",
    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1,testserver",
    "DJANGO_STATIC_ROOT": str(FOLDER / "static"),
}
if not os.environ.get("DATABASE_URL"):
    ENV["SQLITE_PATH"] = str(FOLDER / "db.sqlite3")
os.environ.update(ENV)
os.environ["DJANGO_SETTINGS_MODULE"] = "quizsite.settings"


@dataclass
class Endpoint:
    name: str
    path: str
    cookie: str = ""
    method: str = "GET"
    jobs: list[tuple[str, str, str]] = field(default_factory=list)  # POSTs: (cookie, path, body)
    htmx: bool = False


@dataclass
class Result:
    name: str
    requests: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    queries: int | None


def manage(*args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, check=True)  # noqa: S603


def reset_database() -> None:
    FOLDER.mkdir(exist_ok=True)
    sqlite = ENV.get("SQLITE_PATH")
    if sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(sqlite + suffix).unlink(missing_ok=True)
    else:
        manage("flush", "--noinput")
    manage("migrate", "--noinput", "-v", "0")
    manage("load_content", "-v", "0")
    manage("collectstatic", "--noinput", "-v", "0")


def prepare(tag: str) -> tuple[dict[str, Endpoint], dict[str, str]]:
    """Accounts, attempts and sessions for the pages under test (in this process)."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, Permission, User
    from django.test import Client

    from learning import question_types, selectors, services
    from learning.models import Attempt, Classroom, Question, Quiz, QuizKind
    from learning.teachers import sync_teachers_group
    from learning.versions import current_key

    def session(user: User) -> str:
        client = Client()
        client.force_login(user)
        return f"sessionid={client.cookies['sessionid'].value}; csrftoken={CSRF}"

    def right_answer(question: Question) -> object:
        return question_types.get(question.type).sample_answer(current_key(question))

    def answer_form(attempt: Attempt, question: Question) -> str:
        codes = selectors.attempt_option_codes(attempt, question, question.choices.all())
        form = question_types.get(question.type).form_data(right_answer(question), codes)
        fields = [("question", str(question.pk))] + [
            (name, value)
            for name, wanted in form.items()
            for value in (wanted if isinstance(wanted, list) else [wanted])
        ]
        return urllib.parse.urlencode(fields)

    quizzes = list(Quiz.objects.filter(kind=QuizKind.TOPIC).order_by("topic__order"))
    student, _ = User.objects.get_or_create(username=f"bench-student-{tag}")
    for quiz in quizzes[:3]:  # some history: three finished quizzes
        done = services.start_attempt(learner=student, quiz=quiz)
        for question in Question.objects.filter(pk__in=done.question_ids).prefetch_related(
            "choices"
        ):
            services.record_answer(
                attempt=done, question_id=question.pk, answer=right_answer(question)
            )
    finished = done
    open_attempt = services.start_attempt(learner=student, quiz=quizzes[3])
    teacher, _ = User.objects.get_or_create(
        username=f"bench-teacher-{tag}", defaults={"is_staff": True}
    )
    teacher.groups.add(sync_teachers_group(Group, Permission))
    # A teacher's report shows the learners of their classes: the bench's are in one.
    classroom = Classroom.objects.create(name=f"Bench class {tag}")
    classroom.teachers.add(teacher)
    classroom.learners.add(student)

    jobs = []
    for index in range(120):  # learners answering: each POST is a new answer
        learner, _ = User.objects.get_or_create(username=f"bench-answering-{tag}-{index}")
        classroom.learners.add(learner)
        cookie = session(learner)
        attempt = services.start_attempt(learner=learner, quiz=quizzes[index % len(quizzes)])
        questions = Question.objects.prefetch_related("choices").in_bulk(attempt.question_ids)
        for position, question_id in enumerate(attempt.question_ids, start=1):
            jobs.append(
                (
                    cookie,
                    f"/attempts/{attempt.pk}/questions/{position}/",
                    answer_form(attempt, questions[question_id]),
                )
            )
    student_cookie, teacher_cookie = session(student), session(teacher)
    endpoints = {
        "course page": Endpoint("course page", "/", student_cookie),
        "lesson": Endpoint("lesson", "/topics/causes/", student_cookie),
        "quiz question": Endpoint(
            "quiz question", f"/attempts/{open_attempt.pk}/questions/1/", student_cookie
        ),
        "answer (POST)": Endpoint("answer (POST)", "", "", "POST", jobs, htmx=True),
        "result": Endpoint("result", f"/attempts/{finished.pk}/result/", student_cookie),
        "dashboard": Endpoint("dashboard", "/dashboard/", student_cookie),
        "item analysis": Endpoint(
            "item analysis", "/admin/learning/itemanalysis/", teacher_cookie
        ),
        "progress report": Endpoint(
            "progress report", "/admin/learning/progressreport/", teacher_cookie
        ),
        "ceiling (bare view)": Endpoint("ceiling (bare view)", "/bench/ceiling", student_cookie),
    }
    return endpoints, {"student": student.username, "teacher": teacher.username}


def count_queries(endpoint: Endpoint, users: dict[str, str]) -> int | None:
    """The page's database queries, counted in this process with Django's test client."""
    if endpoint.method != "GET":
        return None
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_FORWARDED_PROTO="https")
    who = "teacher" if "/admin/" in endpoint.path else "student"
    client.force_login(get_user_model().objects.get(username=users[who]))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(endpoint.path)
    assert response.status_code == 200, (endpoint.path, response.status_code)
    return len(queries)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, threads: int = 0) -> subprocess.Popen:
    """gunicorn with WORKERS sync workers, or threaded ones (gthread, as `make serve`)."""
    threading_flags = ["--worker-class", "gthread", "--threads", str(threads)] if threads else []
    server = subprocess.Popen(  # noqa: S603
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "quizsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(WORKERS),
            *threading_flags,
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


def hammer(port: int, endpoint: Endpoint) -> tuple[list[float], int]:
    """Concurrent keep-alive clients for DURATION seconds (after a short warm-up)."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    jobs = list(endpoint.jobs)
    measuring_from = time.monotonic() + WARMUP
    stop_at = measuring_from + DURATION

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.monotonic() < stop_at:
            headers = {
                "Host": f"127.0.0.1:{port}",
                "X-Forwarded-Proto": "https",
                "Cookie": endpoint.cookie,
            }
            body = None
            path = endpoint.path
            if endpoint.method == "POST":
                with lock:
                    if not jobs:
                        return
                    cookie, path, body = jobs.pop(0)
                headers.update(
                    {
                        "Cookie": cookie,
                        "X-CSRFToken": CSRF,
                        "Referer": f"https://127.0.0.1:{port}/",
                        "Content-Type": "application/x-www-form-urlencoded",
                        "HX-Request": "true",
                    }
                )
            began = time.monotonic()
            try:
                connection.request(endpoint.method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                ok = False
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            ended = time.monotonic()
            if began >= measuring_from:
                with lock:
                    latencies.append(ended - began)
                    errors[0] += not ok
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=DURATION + 60)
    return latencies, errors[0]


def measure(port: int, endpoints: dict[str, Endpoint], users: dict[str, str]) -> list[Result]:
    results = []
    for endpoint in endpoints.values():
        queries = count_queries(endpoint, users)
        began = time.monotonic()
        latencies, errors = hammer(port, endpoint)
        elapsed = min(time.monotonic() - began - WARMUP, DURATION) or DURATION
        ordered = sorted(latencies) or [0.0]
        results.append(
            Result(
                name=endpoint.name,
                requests=len(latencies),
                rps=round(len(latencies) / elapsed, 1),
                p50_ms=round(statistics.median(ordered) * 1000, 1),
                p99_ms=round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, 1),
                errors=errors,
                queries=queries,
            )
        )
        print(f"  {endpoint.name:<22} {results[-1].rps:>8} req/s", flush=True)
    return results


def table(title: str, results: list[Result]) -> str:
    ceiling = next(r for r in results if r.name.startswith("ceiling")).rps or 1
    columns = ("req/s", "x ceiling", "p50 ms", "p99 ms", "queries", "errors")
    lines = [title, f"{'page':<22} " + " ".join(f"{c:>9}" for c in columns)]
    for r in results:
        queries = "-" if r.queries is None else r.queries
        cells = (r.rps, f"{r.rps / ceiling:.2f}", r.p50_ms, r.p99_ms, queries, r.errors)
        lines.append(f"{r.name:<22} " + " ".join(f"{c:>9}" for c in cells))
    return "\n".join(lines)


def database_counts() -> dict[str, int]:
    from learning.models import Attempt, Response, ReviewCard

    return {
        "responses": Response.objects.count(),
        "attempts": Attempt.objects.count(),
        "review cards": ReviewCard.objects.count(),
    }


def main() -> None:
    (ROOT / "bench").mkdir(exist_ok=True)
    print("Building the benchmark database...", flush=True)
    reset_database()
    runs: list[dict[str, object]] = []
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "database": "PostgreSQL" if os.environ.get("DATABASE_URL") else "SQLite",
            "gunicorn workers": WORKERS,
            "concurrency": CONCURRENCY,
            "seconds per page": DURATION,
        },
        "runs": runs,
    }
    port = free_port()
    for label in ("empty", "loaded"):
        if label == "loaded":
            print(f"Adding {LEARNERS} learners with generate_load_data...", flush=True)
            manage("generate_load_data", "--learners", str(LEARNERS))
        endpoints, users = prepare(label)
        counts = database_counts()
        server = start_server(port)
        try:
            print(f"Measuring ({label}: {counts['responses']} responses)...", flush=True)
            results = measure(port, endpoints, users)
        finally:
            server.terminate()
            server.wait(timeout=30)
        runs.append({"label": label, "database": counts, "results": [asdict(r) for r in results]})
        print()
        print(table(f"{label} database: {counts['responses']:,} responses", results))
        print()
    (ROOT / "bench" / "results.json").write_text(json.dumps(report, indent=2) + "\n")
    print("Figures written to bench/results.json")


if __name__ == "__main__":
    main()
