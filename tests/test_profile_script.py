"""`make profile` (scripts/profile_pages.py): the medians it takes and the table it prints.
No timings are tested, only the arithmetic and the layout of what it reports."""

from scripts import profile_pages
from scripts.profile_pages import ProfiledFunction, Sample, Split, median_split, table, top_lines


def test_the_split_takes_each_part_s_median_and_the_rest_is_what_no_part_holds() -> None:
    samples = [
        Sample(total=0.010, sql=0.001, orm=0.004, templates=0.002, queries=5),
        Sample(total=0.012, sql=0.001, orm=0.005, templates=0.003, queries=5),
        Sample(total=0.050, sql=0.002, orm=0.006, templates=0.002, queries=9),
    ]

    split = median_split([0.009, 0.011, 0.030], [0.002, 0.001, 0.003], samples)

    assert split.total_ms == 11.0
    assert split.bare_ms == 2.0
    assert (split.sql_ms, split.orm_ms, split.templates_ms) == (1.0, 5.0, 2.0)
    assert round(split.rest_ms, 6) == 3.0  # the rests are 3, 3 and 40 ms
    assert split.queries == 5


def test_a_page_s_row_shows_its_ratio_to_the_bare_view_and_adds_up_to_its_time() -> None:
    bare = Split(1.0, 1.0, 0.1, 0.4, 0.0, 0.5, 2)
    question = Split(6.0, 1.5, 0.3, 2.4, 1.5, 1.0, 5)

    lines = table(bare, {"quiz question": question}).splitlines()

    assert lines[0].startswith("| page | CPU ms | × bare |")
    assert lines[2] == "| bare view | 1.00 | 1.00 | 1.00 | – | – | – | – | 2 |"
    # 1.5 / 6.0 = 0.25; beyond the bare view: SQL 0.2, ORM 2.0, templates 1.5, rest 0.8
    assert lines[3] == "| quiz question | 6.00 | 0.25 | 1.50 | 0.20 | 2.00 | 1.50 | 0.80 | 5 |"


def test_the_profile_lists_what_lies_below_the_middleware_chain() -> None:
    entries = [
        ProfiledFunction("handlers/wsgi.py:120(__call__)", 10, 0.001, 0.100),
        ProfiledFunction("learning/views.py:378(attempt_question)", 10, 0.002, 0.060),
        ProfiledFunction("models/query.py:2285(_fetch_all)", 50, 0.010, 0.030),
        ProfiledFunction(f"{profile_pages.OWN_FILE}:1(wrapper)", 10, 0.000, 0.050),
    ]

    text = top_lines(entries, runs=10, count=2, own_count=1)

    assert text.splitlines()[0].startswith("10.00 ms a request")
    listed = text.splitlines()[2:4]
    assert [line.split()[-1] for line in listed] == [
        "learning/views.py:378(attempt_question)",
        "models/query.py:2285(_fetch_all)",
    ]
    assert text.splitlines()[-1].endswith("models/query.py:2285(_fetch_all)")  # most own time
    assert "wrapper" not in text and "wsgi.py" not in text
