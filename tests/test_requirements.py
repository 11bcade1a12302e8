"""The pinned requirements stay in sync with their inputs: scripts/check_requirements.py."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from scripts.check_requirements import COMPILED_FROM, main

PROJECT_FILES = [name for pair in COMPILED_FROM for name in pair]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the project's requirement files, to edit."""
    for name in PROJECT_FILES:
        shutil.copy(Path(settings.BASE_DIR) / name, tmp_path / name)
    return tmp_path


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert re.search(old, text, flags=re.MULTILINE), old
    path.write_text(re.sub(old, new, text, count=1, flags=re.MULTILINE))


def check(root: Path, capsys, *options: str) -> tuple[int, str]:
    status = main([*options, "--root", str(root)])
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_the_project_requirements_match_their_inputs():
    result = subprocess.run(
        [sys.executable, "scripts/check_requirements.py"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Pinned requirements match their inputs" in result.stdout


def test_the_copied_requirements_pass(project, capsys):
    status, output = check(project, capsys)

    assert status == 0
    assert output.startswith("Pinned requirements match their inputs (")


def test_it_refuses_an_input_edited_without_recompiling(project, capsys):
    (project / "requirements.in").write_text(
        (project / "requirements.in").read_text() + "tomli-w\n"
    )

    status, output = check(project, capsys)

    assert status == 1
    assert "requirements.txt: tomli-w (required by requirements.in) is not pinned" in output
    assert "requirements.txt: was compiled from another requirements.in" in output
    # requirements-dev.in includes requirements.in, so its compiled file is stale too.
    assert "requirements-dev.txt: was compiled from another requirements-dev.in" in output
    assert "Run `make requirements`" in output


def test_it_refuses_a_changed_specifier_even_when_the_pin_still_fits(project, capsys):
    edit(project / "requirements-dev.in", r"^ruff$", "ruff>=0.1")

    status, output = check(project, capsys)

    assert status == 1
    assert "requirements-dev.txt: was compiled from another requirements-dev.in" in output


def test_comments_and_blank_lines_in_an_input_need_no_recompiling(project, capsys):
    edit(project / "requirements.in", r"^nh3$", "\n# Sanitizes teachers' HTML.\nnh3  # nh3")

    assert check(project, capsys)[0] == 0


def test_it_refuses_a_pin_its_input_does_not_allow(project, capsys):
    for name in ("requirements.txt", "requirements-dev.txt"):
        edit(project / name, r"^django==6\.1\.3 ", "django==6.0.1 ")

    status, output = check(project, capsys)

    assert status == 1
    assert (
        "requirements.txt: Django==6.0.1 is not allowed by requirements.in's `Django~=6.1.0`"
        in output
    )


def test_it_refuses_a_dev_pin_that_differs_from_the_runtime_pin(project, capsys):
    edit(project / "requirements-dev.txt", r"^django==6\.1\.3 ", "django==6.1.2 ")

    status, output = check(project, capsys)

    assert status == 1
    assert "requirements-dev.txt: django==6.1.2 but requirements.txt pins django==6.1.3" in output


def test_it_refuses_a_compiled_file_missing_a_direct_requirement(project, capsys):
    # nh3's pin and the indented lines below it (its hashes and what it is there for).
    edit(project / "requirements.txt", r"^nh3==.*\n(?: .*\n)*", "")

    status, output = check(project, capsys)

    assert status == 1
    assert "requirements.txt: nh3 (required by requirements.in) is not pinned" in output


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("requests==2.32.0\n", "requests==2.32.0 needs its --hash=sha256:... and nothing else"),
        (
            "requests>=2 --hash=sha256:" + "0" * 64 + "\n",
            "not an exact `name==version` pin: requests>=2",
        ),
        ("--index-url https://example.org/simple\n", "not an exact `name==version` pin"),
        (
            "requests==2.32.0 --hash=md5:0\n",
            "requests==2.32.0 needs its --hash=sha256:... and nothing else",
        ),
    ],
)
def test_it_refuses_a_hand_written_line(project, capsys, line, problem):
    compiled = project / "requirements.txt"
    compiled.write_text(compiled.read_text() + line)

    status, output = check(project, capsys)

    assert status == 1
    assert f"requirements.txt: {problem}" in output


def test_it_refuses_a_compiled_file_without_its_input_digest(project, capsys):
    # As pip-compile leaves it when run by hand rather than by `make requirements`.
    edit(project / "requirements-dev.txt", r"^# input-sha256: .*\n", "")

    status, output = check(project, capsys)

    assert status == 1
    assert "requirements-dev.txt: no `# input-sha256:` line records which" in output


def test_stamping_records_the_digest_the_check_expects(project, capsys):
    compiled = project / "requirements.txt"
    stamped = compiled.read_text()
    edit(compiled, r"^# input-sha256: .*\n", "")

    assert check(project, capsys, "--stamp")[0] == 0
    assert compiled.read_text() == stamped
