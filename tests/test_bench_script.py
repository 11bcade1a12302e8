"""`make bench` (scripts/bench.py, bench/wrk.lua): what it reads from wrk, the answer jobs
it writes, the verdicts it gives; and, when wrk is installed, a short real run of wrk
against the live server: a page, and answers that run out without one sent twice."""

import itertools
import shutil
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User

from learning import services
from learning.models import Response
from scripts import bench
from tests.factories import UserFactory

WRK_OUTPUT = """Running 3s test @ http://127.0.0.1:8123/
  2 threads and 8 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     4.10ms    1.20ms  30.00ms   90.00%
  3000 requests in 3.00s, 1.00MB read
Requests/sec:   1000.00
BENCH-RESULT {"requests": 3000, "seconds": 3.000000, "p50_ms": 3.912, "p99_ms": 11.505, \
"errors": {"connect": 0, "read": 1, "write": 0, "timeout": 0, "status": 2}}
"""

ANSWERS_OUTPUT = """BENCH-RESULT {"requests": 280, "seconds": 2.000000, "p50_ms": 20.100, \
"p99_ms": 95.000, "errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0, "status": 1}, \
"jobs": {"prepared": 300, "sent": 284, "ran_out": false, "2xx": 276, "3xx": 3, "4xx": 1, "5xx": 0}}
"""


class TestReadingWrk:
    def test_it_reads_rate_latency_and_errors(self):
        measure = bench.parse_wrk_output(WRK_OUTPUT)
        assert (measure.requests, measure.rps) == (3000, 1000.0)
        assert (measure.p50_ms, measure.p99_ms) == (3.91, 11.51)
        assert measure.errors == 3  # a read error and two statuses of 400 or more
        assert measure.jobs is None

    def test_a_redirected_answer_is_an_error_too(self):
        measure = bench.parse_wrk_output(ANSWERS_OUTPUT)
        assert measure.rps == 140.0
        assert measure.errors == 1 + 3  # the 4xx (wrk's status count) and the 3xx
        assert measure.jobs is not None and measure.jobs["2xx"] == 276

    def test_output_without_the_scripts_line_is_refused(self):
        with pytest.raises(ValueError, match="no BENCH-RESULT"):
            bench.parse_wrk_output("Requests/sec: 1000.00\n")


def jobs_of(attempt: str, count: int) -> list[bench.Job]:
    return [
        (f"c-{attempt}", f"/attempts/{attempt}/questions/{n}/", f"a={n}")
        for n in range(1, count + 1)
    ]


class TestTheAnswerJobsFile:
    def test_each_attempt_stays_on_one_thread_answered_position_by_position(self):
        attempts = [jobs_of(name, 2) for name in "abcd"]
        lines = bench.answer_job_lines(attempts, threads=2, spread=2)
        assert lines == [
            "0\tc-a\t/attempts/a/questions/1/\ta=1",
            "0\tc-c\t/attempts/c/questions/1/\ta=1",
            "0\tc-a\t/attempts/a/questions/2/\ta=2",
            "0\tc-c\t/attempts/c/questions/2/\ta=2",
            "1\tc-b\t/attempts/b/questions/1/\ta=1",
            "1\tc-d\t/attempts/d/questions/1/\ta=1",
            "1\tc-b\t/attempts/b/questions/2/\ta=2",
            "1\tc-d\t/attempts/d/questions/2/\ta=2",
        ]

    def test_every_job_appears_once_and_one_attempts_answers_stay_apart(self):
        attempts = [jobs_of(str(n), 10) for n in range(40)]
        lines = bench.answer_job_lines(attempts, threads=2, spread=8)
        assert sorted(lines) == sorted(
            f"{n % 2}\t" + "\t".join(job) for n, jobs in enumerate(attempts) for job in jobs
        )
        thread_zero = [line.split("\t")[2] for line in lines if line.startswith("0\t")]
        for attempt in {path.split("/")[2] for path in thread_zero}:
            places = [i for i, path in enumerate(thread_zero) if path.split("/")[2] == attempt]
            assert min(b - a for a, b in itertools.pairwise(places)) >= 8

    def test_a_tab_in_a_job_is_refused(self):
        with pytest.raises(ValueError, match="tab"):
            bench.answer_job_lines([[("c", "/p/", "a=1\tb=2")]], threads=1, spread=1)


class TestTheReport:
    def test_lock_times_are_the_answers_only(self):
        lines = [f"POST /attempts/1/questions/{n}/ {n}.000" for n in range(1, 101)]
        lines.append("POST /dashboard/ 900.0")  # joining a class: not an answer
        assert bench.lock_summary(lines) == {"count": 100, "p50_ms": 50.0, "p99_ms": 99.0}
        assert bench.lock_summary([]) == {"count": 0, "p50_ms": 0.0, "p99_ms": 0.0}

    def test_verdicts_compare_each_ratio_with_its_target(self):
        assert bench.verdict(0.5, 0.5) == "met"
        assert bench.verdict(0.49, 0.5) == "not met"
        assert bench.verdict(0.31, 0.3) == "met"
        assert bench.verdict(0.2, None) == "-"

    def test_the_table_gives_each_page_its_ratio_to_the_bare_view_before_it(self):
        page = bench.Measure(1000, 3.0, 500.0, 12.0, 30.0, 0)
        answer = bench.Measure(300, 3.0, 100.0, 60.0, 150.0, 2)
        bare = bench.Measure(6000, 2.0, 3000.0, 2.0, 6.0, 0)
        rows = [
            bench.Row("course page", page, 800.0, 0.5, 6),
            bench.Row("answer (POST)", answer, 1000.0, 0.3, 12),
            bench.Row("item analysis", page, 2000.0, None, 9),
        ]
        lines = bench.table("SQLite", rows, bare).splitlines()
        assert lines[0] == "SQLite"
        assert lines[2].split() == [
            "course",
            "page",
            "500",
            "12.0",
            "30.0",
            "0.62",
            "0.5x",
            "met",
            "6",
            "0",
        ]
        assert lines[3].split()[-7:] == ["150.0", "0.10", "0.3x", "not", "met", "12", "2"]
        assert lines[4].split()[-4:] == ["-", "-", "9", "0"]
        assert lines[5].split()[:5] == ["bare", "view", "3,000", "2.0", "6.0"]

    def test_rounds_add_up_to_one_measure(self):
        rounds = [
            bench.Measure(300, 1.0, 300.0, 20.0, 80.0, 0, {"2xx": 300, "ran_out": False}),
            bench.Measure(100, 1.0, 100.0, 60.0, 150.0, 1, {"2xx": 99, "ran_out": True}),
            bench.Measure(200, 1.0, 200.0, 30.0, 90.0, 0, {"2xx": 200, "ran_out": False}),
        ]
        measure = bench.combine(rounds)
        assert (measure.requests, measure.seconds, measure.rps) == (600, 3.0, 200.0)
        assert (measure.p50_ms, measure.p99_ms) == (30.0, 150.0)  # median p50, highest p99
        assert measure.errors == 1
        assert measure.jobs == {"2xx": 599, "ran_out": True}

    def test_a_round_that_finished_nothing_has_no_latency_to_give(self):
        rounds = [
            bench.Measure(0, 1.0, 0.0, 0.0, 0.0, 0),
            bench.Measure(1, 1.0, 1.0, 1500.0, 1500.0, 0),
        ]
        assert bench.combine(rounds).p50_ms == 1500.0

    def test_a_page_slower_than_the_run_says_so(self):
        none = bench.Measure(0, 3.0, 0.0, 0.0, 0.0, 0)
        bare = bench.Measure(6000, 2.0, 3000.0, 2.0, 6.0, 0)
        lines = bench.table("SQLite", [bench.Row("item analysis", none, 3000.0, None, 9)], bare)
        assert lines.splitlines()[2].split()[:5] == ["item", "analysis", "0.0", "-", "-"]
        assert "item analysis: no request finished within the run" in lines

    def test_query_counts_that_grow_with_the_data_are_named(self):
        empty = {
            "pages": [{"name": "course page", "queries": 6}, {"name": "answer", "queries": None}]
        }
        same = {
            "pages": [{"name": "course page", "queries": 6}, {"name": "answer", "queries": None}]
        }
        grown = {
            "pages": [{"name": "course page", "queries": 9}, {"name": "answer", "queries": None}]
        }
        assert bench.flat_queries([empty, same]).endswith("yes")
        assert bench.flat_queries([empty, grown]).endswith("NO: course page 6 -> 9")


@pytest.mark.skipif(
    shutil.which("wrk") is None, reason="wrk is not installed (scripts/ensure-wrk)"
)
@pytest.mark.django_db(transaction=True)
class TestARealRun:
    """wrk with bench/wrk.lua against the live server, one second at a time."""

    def test_a_page_is_measured(self, live_server, learner, quiz):
        cookie = bench.session_cookie(learner)
        port = urlsplit(live_server.url).port
        measure = bench.run_wrk(port, "/", cookie, seconds=1)
        assert measure.requests > 0
        assert measure.errors == 0
        assert 0 < measure.p50_ms <= measure.p99_ms

    def test_answers_stop_when_the_jobs_run_out_and_none_is_sent_twice(
        self, live_server, quiz, tmp_path
    ):
        prepared = []
        for n in range(4):
            learner = UserFactory.create(username=f"learner-{n}")
            attempt = services.start_attempt(learner=learner, quiz=quiz, rng=bench.draw(n))
            cookie = bench.session_cookie(learner)
            jobs = [
                (
                    cookie,
                    f"/attempts/{attempt.pk}/questions/{position}/",
                    bench.answer_body(attempt, position, right=position % 2 == 0),
                )
                for position in range(1, attempt.question_total + 1)
            ]
            prepared.append(jobs)
        jobs_file = tmp_path / "jobs.txt"
        jobs_file.write_text("\n".join(bench.answer_job_lines(prepared, threads=2, spread=2)))

        measure = bench.run_wrk(urlsplit(live_server.url).port, "/", "", 2, jobs_file)

        assert measure.jobs is not None
        assert measure.jobs["ran_out"] is True
        assert measure.jobs["sent"] == measure.jobs["prepared"] == 12
        assert measure.jobs["2xx"] == 12
        assert measure.errors == 0
        assert Response.objects.count() == 12
        assert User.objects.filter(attempts__state="finished").count() == 4


def test_the_report_also_gives_each_page_against_a_visitors_bare_view():
    """The logged-in bare view pays the session and user reads; the visitor's does not, so
    its ratios are the stricter ones, and both are shown."""
    rows = [
        bench.Row("course page", bench.Measure(1000, 3.0, 500.0, 12.0, 30.0, 0), 800.0, 0.5, 6),
        bench.Row("result", bench.Measure(100, 3.0, 50.0, 60.0, 90.0, 0), 800.0, 0.5, 9),
    ]
    line = bench.visitor_ratios(rows, bench.Measure(6000, 3.0, 2000.0, 2.0, 6.0, 0))
    assert "2,000 req/s" in line
    assert "course page 0.25x" in line
    assert "result 0.03x" in line
    assert "no request finished" in bench.visitor_ratios(
        rows, bench.Measure(0, 3.0, 0.0, 0.0, 0.0, 0)
    )
