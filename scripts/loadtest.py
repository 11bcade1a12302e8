"""`make loadtest`: 50 learners at once on loopback against the server `make run` starts
(runserver, one thread per request, debug on), or with LOAD_SERVER=gunicorn against
gunicorn as `make serve` runs it (production mode, threaded workers); then checks that
every accepted answer is stored once, every finished attempt's score is the sum of its
answers, every topic's progress agrees with its attempts, and nothing answered 5xx (a 503
"busy, not saved" included). SQLite by default (loadtest/ folder); set DATABASE_URL for
PostgreSQL."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_BENCH_FOLDER"] = "loadtest"
# Every simulated learner signs up from this one address: no sign-up limit here.
os.environ.setdefault("DJANGO_SIGNUP_LIMIT_PER_HOUR", "0")

from scripts import bench  # noqa: E402 - after the environment above

LEARNERS = int(os.environ.get("LOAD_LEARNERS", "50"))
TOPICS = ["how-muscles-work", "kinds-of-muscle", "causes", "heat", "the-brain"]
SERVER = os.environ.get("LOAD_SERVER", "runserver")


def start_runserver(port: int) -> subprocess.Popen:
    """`make run`'s server: Django's development server, threaded, debug on; its log goes
    to loadtest/runserver.log."""
    log = (bench.FOLDER / "runserver.log").open("w")
    server = subprocess.Popen(  # noqa: S603
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_DEBUG": "1", "DJANGO_LOG_LEVEL": "WARNING"},
        stdout=log,
        stderr=log,
    )
    return bench.wait_until_listening(server, port, "runserver", seconds=60)


def main() -> None:
    bench.use_bench_settings()
    bench.reset_database()
    import django

    django.setup()
    from tests.load import check_invariants, run_load

    port = bench.free_port()
    if SERVER == "gunicorn":
        server = bench.start_server(port, threads=int(os.environ.get("WEB_THREADS", "4")))
    elif SERVER == "runserver":
        server = start_runserver(port)
    else:
        raise SystemExit(f"LOAD_SERVER must be runserver or gunicorn; got {SERVER!r}")
    try:
        report = run_load("127.0.0.1", port, TOPICS, LEARNERS, secure_proxy=True)
    finally:
        server.terminate()
        server.wait(timeout=30)
    problems = check_invariants(report)
    if report.statuses[400]:
        problems.append(f"{report.statuses[400]} well-formed answers were refused")
    print(f"{LEARNERS} learners on {SERVER} in {report.seconds:.1f}s: {dict(report.statuses)}")
    print(f"{len(report.accepted)} answers accepted")
    for problem in problems:
        print("PROBLEM:", problem)
    if problems:
        raise SystemExit(1)
    print("Every accepted answer stored once, every score and progress consistent, no 5xx.")


if __name__ == "__main__":
    main()
