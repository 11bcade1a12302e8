"""`make profile`: where each request's CPU time goes, in-process, page by page.

On a fresh SQLite database built as `make bench` builds it (scripts/bench.py's own
preparation, in bench/profile/): the course, a student with three finished quizzes and an
open one, and learners with open attempts for real new answers. In production mode (debug
off, DJANGO_BENCHMARK=1 for the bare view), each request goes through Django's WSGI handler
as gunicorn calls it, with the student's cookies (environs built by Django's
RequestFactory; the test client is left out because its own work, about as much as the
bare view's, would be counted).

For each of the bare view (/bench/ceiling), quiz question, answered question, result, the
answer POST (each a real new answer to a question not answered yet) and the course page (a
page cached per learner, for comparison):

- the median CPU time (time.process_time) of PROFILE_RUNS (200) requests, each after one
  of the bare view (so both meet the same background load; the ratio is to those);
- where it goes, from as many requests again with timers: SQL (inside cursor.execute,
  through connection.execute_wrapper), the ORM's Python around it (QuerySet evaluation and
  the SQL compilers, less the SQL), template rendering (the template backend's render, less
  the ORM and SQL done while it renders), and the rest: for the bare view the middleware,
  session and user; for a page, what it costs beyond the bare view in the view's own code;
- a cProfile of PROFILE_CPROFILE_RUNS (50) requests, the top 15 by cumulative time.

Timings here are CPU time of this one process, less noisy than the bench's rates on a busy
machine but not free of it; the ratio is the bare view's CPU time over the page's.
"""

import cProfile
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
if __name__ == "__main__":  # the bench's database and files, in a folder of their own
    os.environ.setdefault("DJANGO_BENCH_FOLDER", str(Path("bench") / "profile"))

from scripts import bench  # noqa: E402 - after the folder is chosen

RUNS = int(os.environ.get("PROFILE_RUNS", "200"))
CPROFILE_RUNS = int(os.environ.get("PROFILE_CPROFILE_RUNS", "50"))
WARM_UP = 5
BARE = "bare view"
PAGES = ("quiz question", "answered question", "result", "answer (POST)", "course page")
SQL, ORM, TEMPLATES = "sql", "orm", "templates"
CHAIN_SHARE = 0.9
OWN_FILE = "scripts/profile_pages.py"


# ---- pure parts (tests/test_profile_script.py) -----------------------------------------


@dataclass(frozen=True)
class Sample:
    """One request: its CPU time and the parts of it spent in SQL, in the ORM's Python
    and in templates (each exclusive of the others), in seconds; and its queries."""

    total: float
    sql: float = 0.0
    orm: float = 0.0
    templates: float = 0.0
    queries: int = 0

    @property
    def rest(self) -> float:
        return self.total - self.sql - self.orm - self.templates


@dataclass(frozen=True)
class Split:
    """The medians of a page's samples, in milliseconds (each part's own median, so the
    parts add up to about the total, not exactly)."""

    total_ms: float
    bare_ms: float  # the bare view's median, in turns with this page
    sql_ms: float
    orm_ms: float
    templates_ms: float
    rest_ms: float
    queries: int


def median_split(
    cpu_times: Sequence[float], bare_times: Sequence[float], samples: Sequence[Sample]
) -> Split:
    """The median CPU time of the plain runs (`cpu_times`, in seconds), the bare view's in
    turns with them (`bare_times`) and the median of each part over the timed runs."""
    if not cpu_times or not bare_times or not samples:
        raise ValueError("No runs to take a median of.")

    def ms(values: Iterator[float]) -> float:
        return statistics.median(values) * 1000

    return Split(
        total_ms=ms(iter(cpu_times)),
        bare_ms=ms(iter(bare_times)),
        sql_ms=ms(sample.sql for sample in samples),
        orm_ms=ms(sample.orm for sample in samples),
        templates_ms=ms(sample.templates for sample in samples),
        rest_ms=ms(sample.rest for sample in samples),
        queries=round(statistics.median(sample.queries for sample in samples)),
    )


def table(bare: Split, pages: dict[str, Split]) -> str:
    """A Markdown table: each page's CPU time, its ratio (the CPU time of the bare view, in
    turns with the page, over the page's), then where its time goes: the bare view's
    share, and beyond it SQL, the ORM's Python, templates and the rest of the view (the
    rest absorbs what the page's SQL and ORM save or cost beside the bare view's own, so
    the row adds up to the total)."""
    lines = [
        "| page | CPU ms | × bare | bare view ms | SQL ms | ORM Python ms | templates ms "
        "| rest of view ms | queries |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {BARE} | {bare.total_ms:.2f} | 1.00 | {bare.total_ms:.2f} | – | – | – | – "
        f"| {bare.queries} |",
    ]
    for name, page in pages.items():
        sql = max(page.sql_ms - bare.sql_ms, 0.0)
        orm = max(page.orm_ms - bare.orm_ms, 0.0)
        rest = page.total_ms - page.bare_ms - sql - orm - page.templates_ms
        ratio = page.bare_ms / page.total_ms if page.total_ms else 0.0
        lines.append(
            f"| {name} | {page.total_ms:.2f} | {ratio:.2f} | {page.bare_ms:.2f} | {sql:.2f} "
            f"| {orm:.2f} | {page.templates_ms:.2f} | {rest:.2f} | {page.queries} |"
        )
    return "\n".join(lines)


def bare_note(bare: Split) -> str:
    return (
        f"bare view: {bare.total_ms:.2f} ms = SQL {bare.sql_ms:.2f} + ORM Python "
        f"{bare.orm_ms:.2f} (the session and the user) + middleware and the rest "
        f"{bare.rest_ms:.2f}"
    )


@dataclass(frozen=True)
class ProfiledFunction:
    place: str  # file:line(function)
    calls: int
    own: float  # seconds in the function itself, over all runs
    cumulative: float  # seconds in it and what it calls, over all runs


def short_place(file: str, line: int, function: str) -> str:
    """file:line(function) with the file's last two path parts (django/db/..., learning/...)."""
    return f"{'/'.join(Path(file).parts[-2:])}:{line}({function})"


def top_lines(
    entries: Sequence[ProfiledFunction], runs: int, count: int = 15, own_count: int = 10
) -> str:
    """The `count` functions of most cumulative time per request, below the chain every
    request passes through (the handler and the middleware, each holding nearly all of
    it: those over CHAIN_SHARE of the slowest are left out, and this script's timers);
    then the `own_count` of most time in their own code."""
    if not entries or runs < 1:
        return "(nothing profiled)"
    whole = max(entry.cumulative for entry in entries)
    below = [
        entry
        for entry in entries
        if entry.cumulative < CHAIN_SHARE * whole and not entry.place.startswith(OWN_FILE)
    ]
    lines = [
        f"{whole / runs * 1000:.2f} ms a request (under cProfile); functions below "
        f"{CHAIN_SHARE:.0%} of it:",
        f"{'cum ms':>8} {'own ms':>8} {'calls':>7}  function",
    ]

    def line(entry: ProfiledFunction) -> str:
        return (
            f"{entry.cumulative / runs * 1000:8.3f} {entry.own / runs * 1000:8.3f} "
            f"{entry.calls / runs:7.1f}  {entry.place}"
        )

    lines.extend(map(line, sorted(below, key=lambda entry: -entry.cumulative)[:count]))
    lines.append(f"and the {own_count} of most own time:")
    lines.extend(map(line, sorted(below, key=lambda entry: -entry.own)[:own_count]))
    return "\n".join(lines)


# ---- the timers ------------------------------------------------------------------------


@dataclass
class Timers:
    """Exclusive timers: entering a part pauses the one it runs inside, so SQL run while a
    template renders counts as SQL, not as template time."""

    active: bool = False
    totals: dict[str, float] = field(default_factory=dict)
    stack: list[str] = field(default_factory=list)
    mark: float = 0.0
    queries: int = 0

    def reset(self) -> None:
        self.totals = {SQL: 0.0, ORM: 0.0, TEMPLATES: 0.0}
        self.stack.clear()
        self.queries = 0

    @contextmanager
    def part(self, name: str) -> Iterator[None]:
        if not self.active or (self.stack and self.stack[-1] == name):
            yield  # not timing, or nested in the same part: already counted
            return
        now = time.process_time()
        if self.stack:
            self.totals[self.stack[-1]] += now - self.mark
        self.stack.append(name)
        self.mark = now
        try:
            yield
        finally:
            now = time.process_time()
            self.totals[self.stack.pop()] += now - self.mark
            self.mark = now


TIMERS = Timers()


def timed(part: str, function: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        with TIMERS.part(part):
            return function(*args, **kwargs)

    return wrapper


def install_timers() -> None:
    """Wraps the ORM's entry points (running and building queries), the template backend's
    render and the database's commit (this process only)."""
    from django.db import DEFAULT_DB_ALIAS, connection, connections
    from django.db.models.query import QuerySet
    from django.db.models.sql import compiler
    from django.db.models.sql.query import Query
    from django.template.backends.django import Template

    QuerySet._fetch_all = timed(ORM, QuerySet._fetch_all)  # type: ignore[method-assign]
    # Building a query (filter, select_related, ordering...) happens before it is run.
    for name in ("chain", "add_q", "add_annotation", "add_ordering", "add_select_related"):
        setattr(Query, name, timed(ORM, getattr(Query, name)))
    for name in ("SQLCompiler", "SQLInsertCompiler", "SQLUpdateCompiler", "SQLDeleteCompiler"):
        cls = getattr(compiler, name)
        if "execute_sql" in vars(cls):
            cls.execute_sql = timed(ORM, cls.execute_sql)
    Template.render = timed(TEMPLATES, Template.render)  # type: ignore[method-assign]

    def sql(execute: Callable[..., Any], *args: Any) -> Any:
        TIMERS.queries += 1
        with TIMERS.part(SQL):
            return execute(*args)

    connection.execute_wrappers.append(sql)
    database = type(connections[DEFAULT_DB_ALIAS])
    # The COMMIT is not through a cursor.
    database.commit = timed(SQL, database.commit)  # type: ignore[method-assign]


# ---- the requests ----------------------------------------------------------------------


@dataclass
class Request:
    name: str
    environs: Callable[[], dict[str, Any]]  # a new environ per request


def get_environ(path: str, cookie: str) -> Callable[[], dict[str, Any]]:
    from django.test import RequestFactory

    factory = RequestFactory()
    return lambda: factory.get(path, HTTP_COOKIE=cookie, HTTP_X_FORWARDED_PROTO="https").environ


def answer_environs(jobs: Sequence[bench.Job]) -> Callable[[], dict[str, Any]]:
    """Each call the next answer job: a new answer to a question not answered yet."""
    from django.test import RequestFactory

    factory = RequestFactory()
    pending = iter(jobs)

    def environ() -> dict[str, Any]:
        cookie, path, body = next(pending)
        return factory.post(
            path,
            body,
            content_type="application/x-www-form-urlencoded",
            HTTP_COOKIE=cookie,
            HTTP_X_FORWARDED_PROTO="https",
            HTTP_X_CSRFTOKEN=bench.CSRF,
            HTTP_HOST="testserver",
            HTTP_REFERER="https://testserver/",
            HTTP_HX_REQUEST="true",
        ).environ

    return environ


def serve(handler: Any, environ: dict[str, Any]) -> None:
    """One request through the WSGI handler, its body read and closed, as a server does."""
    statuses: list[str] = []
    response = handler(environ, lambda status, headers, *exc: statuses.append(status))
    try:
        b"".join(response)
    finally:
        response.close()
    if not statuses[0].startswith("200"):
        raise SystemExit(f"{environ['PATH_INFO']} answered {statuses[0]}")


def cpu_times(
    handler: Any, request: Request, runs: int, bare: Request
) -> tuple[list[float], list[float]]:
    """The CPU time of each of `runs` requests, each after one of the bare view, and the
    bare view's: both meet the same background load."""
    times: dict[str, list[float]] = {bare.name: [], request.name: []}
    for _ in range(runs):
        for asked in (bare, request):
            environ = asked.environs()
            began = time.process_time()
            serve(handler, environ)
            times[asked.name].append(time.process_time() - began)
    return times[request.name], times[bare.name]


def samples(handler: Any, request: Request, runs: int) -> list[Sample]:
    taken = []
    TIMERS.active = True
    try:
        for _ in range(runs):
            environ = request.environs()
            TIMERS.reset()
            began = time.process_time()
            serve(handler, environ)
            total = time.process_time() - began
            taken.append(
                Sample(
                    total=total,
                    sql=TIMERS.totals[SQL],
                    orm=TIMERS.totals[ORM],
                    templates=TIMERS.totals[TEMPLATES],
                    queries=TIMERS.queries,
                )
            )
    finally:
        TIMERS.active = False
    return taken


def top_functions(handler: Any, request: Request, runs: int) -> str:
    profile = cProfile.Profile()
    for _ in range(runs):
        environ = request.environs()
        profile.enable()
        serve(handler, environ)
        profile.disable()
    entries = [
        ProfiledFunction(short_place(file, line, function), calls, own, cumulative)
        for (file, line, function), (_, calls, own, cumulative, _) in pstats.Stats(
            profile
        ).stats.items()  # type: ignore[attr-defined]
    ]
    return top_lines(entries, runs)


def requests() -> list[Request]:
    """The student's pages and the bare view (scripts/bench.py's prepare) and answer jobs
    enough for every run (scripts/bench.py's prepare_answers)."""
    endpoints, _ = bench.prepare("profile")
    by_name = {endpoint.name: endpoint for endpoint in endpoints}
    cookie = by_name["course page"].cookie
    needed = 3 * WARM_UP + 2 * RUNS + CPROFILE_RUNS
    jobs = [job for _, _, mine in bench.prepare_answers("profile", needed) for job in mine]
    listed = [Request(BARE, get_environ("/bench/ceiling", cookie))]
    for name in PAGES:
        if name == "answer (POST)":
            listed.append(Request(name, answer_environs(jobs)))
        else:
            listed.append(Request(name, get_environ(by_name[name].path, cookie)))
    return listed


def main() -> None:
    bench.use_bench_settings()
    with bench.step("Building the profile's database (bench/profile/)"):
        bench.reset_database()
    import django

    django.setup()
    from django.core.handlers.wsgi import WSGIHandler

    with bench.step("Preparing the student, their pages and the answers"):
        listed = requests()
    handler = WSGIHandler()
    install_timers()
    splits: dict[str, Split] = {}
    profiles: dict[str, str] = {}
    for request in listed:
        with bench.step(f"Profiling {request.name} ({RUNS} + {RUNS} + {CPROFILE_RUNS} runs)"):
            cpu_times(handler, request, WARM_UP, listed[0])
            plain, bare_times = cpu_times(handler, request, RUNS, listed[0])
            timed_runs = samples(handler, request, RUNS)
            profiles[request.name] = top_functions(handler, request, CPROFILE_RUNS)
            splits[request.name] = median_split(plain, bare_times, timed_runs)
    for name, text in profiles.items():
        print(f"\n==== {name}: cProfile of {CPROFILE_RUNS} requests, top 15 by cumulative time")
        print(text.strip())
    bare = splits.pop(BARE)
    print(f"\nMedian CPU time per request over {RUNS} runs (SQLite, in-process):\n")
    print(table(bare, splits))
    print(f"\n{bare_note(bare)}")


if __name__ == "__main__":
    main()
