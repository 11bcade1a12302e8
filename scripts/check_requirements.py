"""Check that requirements*.txt are what `make requirements` compiled from requirements*.in.

The direct dependencies live in requirements.in (runtime) and requirements-dev.in (tests and
tools; it includes requirements.in with -r and is constrained to requirements.txt with -c).
`make requirements` compiles each with pip-compile into exact pins with hashes and then runs
this script with --stamp, which records in each .txt a digest of its input's requirements.

Without --stamp (`make check-requirements`, part of `make test`) it reads the files and
fails, naming each problem, when
- a line of a .txt is not `name==version` with its hashes (a hand edit),
- a requirement of a .in (or of a .in it includes) is missing from its .txt, or pinned at a
  version the requirement does not allow,
- a package pinned in a -c constraint file is pinned at another version in the .txt,
- the digest recorded in a .txt is not the digest of its .in as it is now (a .in edited
  without running `make requirements`; comments and blank lines do not count).
It needs only the standard library and packaging, and reads nothing but these files: it
works offline and in a fraction of a second.
"""

import argparse
import hashlib
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Each input and the file compiled from it, in the order they are compiled.
COMPILED_FROM = [
    ("requirements.in", "requirements.txt"),
    ("requirements-dev.in", "requirements-dev.txt"),
]
DIGEST_LINE = re.compile(r"^# input-sha256: ([0-9a-f]{64})\b")
HASH_OPTION = re.compile(r"^--hash=sha256:[0-9a-f]{64}$")
COMMENT = re.compile(r"(^|\s)#.*$")
INCLUDE_OPTIONS = {"-r": "-r", "--requirement": "-r", "-c": "-c", "--constraint": "-c"}
HOW_TO_FIX = "Run `make requirements` to compile the .txt files from the .in files again."


@dataclass
class Input:
    """A .in file: its requirements, those of the files it includes, its constraint files."""

    path: Path
    files: list[Path] = field(default_factory=list)
    requirements: list[tuple[Path, Requirement]] = field(default_factory=list)
    constraint_files: list[Path] = field(default_factory=list)
    # What the digest is taken of: every line that is not a comment, included files' too.
    significant_lines: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.significant_lines).encode()).hexdigest()


@dataclass
class Compiled:
    """A .txt file: its exact pins and the digest of the input it was compiled from."""

    path: Path
    pins: dict[str, Version] = field(default_factory=dict)
    recorded_digest: str | None = None
    problems: list[str] = field(default_factory=list)


def logical_lines(path: Path) -> list[str]:
    """The file's lines with backslash continuations joined and comments dropped."""
    joined: list[str] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = COMMENT.sub("", raw).strip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = (pending + line).strip()
        pending = ""
        if line:
            joined.append(line)
    if pending.strip():
        joined.append(pending.strip())
    return joined


def read_input(path: Path, into: Input | None = None) -> Input:
    found = into or Input(path)
    if path in found.files:
        return found
    found.files.append(path)
    if not path.is_file():
        found.problems.append(f"{path.name}: missing")
        return found
    for line in logical_lines(path):
        found.significant_lines.append(" ".join(line.split()))
        if line.startswith("-"):
            option, _, argument = line.replace("=", " ", 1).partition(" ")
            kind = INCLUDE_OPTIONS.get(option)
            target = path.parent / argument.strip()
            if kind == "-r":
                read_input(target, found)
            elif kind == "-c":
                found.constraint_files.append(target)
            else:
                found.problems.append(f"{path.name}: only -r and -c options are expected: {line}")
            continue
        try:
            found.requirements.append((path, Requirement(line)))
        except InvalidRequirement as error:
            found.problems.append(f"{path.name}: not a requirement: {line} ({error})")
    return found


def read_compiled(path: Path) -> Compiled:
    compiled = Compiled(path)
    if not path.is_file():
        compiled.problems.append(f"{path.name}: missing")
        return compiled
    for raw in path.read_text(encoding="utf-8").splitlines():
        if match := DIGEST_LINE.match(raw):
            compiled.recorded_digest = match.group(1)
    for line in logical_lines(path):
        requirement_text, *options = line.split(" --", 1)
        options = ("--" + options[0]).split() if options else []
        try:
            requirement = Requirement(requirement_text)
        except InvalidRequirement:
            requirement = None
        specifiers = list(requirement.specifier) if requirement else []
        if (
            requirement is None
            or requirement.extras
            or len(specifiers) != 1
            or specifiers[0].operator != "=="
            or specifiers[0].version.endswith(".*")
        ):
            compiled.problems.append(f"{path.name}: not an exact `name==version` pin: {line}")
            continue
        if not options or not all(HASH_OPTION.match(option) for option in options):
            compiled.problems.append(
                f"{path.name}: {requirement_text} needs its --hash=sha256:... and nothing else"
            )
            continue
        name = canonicalize_name(requirement.name)
        if name in compiled.pins:
            compiled.problems.append(f"{path.name}: {requirement.name} is pinned twice")
        compiled.pins[name] = Version(specifiers[0].version)
    return compiled


def problems_with(input_path: Path, compiled_path: Path) -> list[str]:
    source = read_input(input_path)
    compiled = read_compiled(compiled_path)
    problems = [*source.problems, *compiled.problems]
    for where, requirement in source.requirements:
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        pinned = compiled.pins.get(canonicalize_name(requirement.name))
        if pinned is None:
            problems.append(
                f"{compiled_path.name}: {requirement.name} (required by {where.name}) "
                "is not pinned"
            )
        elif not requirement.specifier.contains(pinned, prereleases=True):
            problems.append(
                f"{compiled_path.name}: {requirement.name}=={pinned} is not allowed by "
                f"{where.name}'s `{requirement}`"
            )
    for constraint_path in source.constraint_files:
        constraint = read_compiled(constraint_path)
        problems.extend(constraint.problems)
        for name, version in constraint.pins.items():
            if name in compiled.pins and compiled.pins[name] != version:
                problems.append(
                    f"{compiled_path.name}: {name}=={compiled.pins[name]} but "
                    f"{constraint_path.name} pins {name}=={version}"
                )
    if compiled.recorded_digest is None:
        problems.append(
            f"{compiled_path.name}: no `# input-sha256:` line records which "
            f"{input_path.name} it was compiled from"
        )
    elif compiled.recorded_digest != source.digest():
        problems.append(
            f"{compiled_path.name}: was compiled from another {input_path.name} "
            "(it, or a file it includes, changed since)"
        )
    return problems


def stamp(input_path: Path, compiled_path: Path) -> None:
    """Record the input's digest in the compiled file, just below pip-compile's header."""
    lines = [
        line
        for line in compiled_path.read_text(encoding="utf-8").splitlines()
        if not DIGEST_LINE.match(line)
    ]
    header_end = next((i for i, line in enumerate(lines) if not line.startswith("#")), len(lines))
    digest_line = f"# input-sha256: {read_input(input_path).digest()} ({input_path.name})"
    lines.insert(header_end, digest_line)
    compiled_path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--stamp",
        action="store_true",
        help="record each input's digest in its compiled file (after pip-compile), then check",
    )
    parser.add_argument("--root", type=Path, default=PROJECT_ROOT, help="the project folder")
    args = parser.parse_args(argv)
    pairs = [(args.root / source, args.root / compiled) for source, compiled in COMPILED_FROM]
    if args.stamp:
        for source, compiled in pairs:
            stamp(source, compiled)
    problems = [
        problem for source, compiled in pairs for problem in problems_with(source, compiled)
    ]
    if problems:
        print("The pinned requirements do not match their inputs:", file=sys.stderr)
        for problem in problems:
            print(f"  - {problem}", file=sys.stderr)
        print(HOW_TO_FIX, file=sys.stderr)
        return 1
    counts = ", ".join(
        f"{len(read_compiled(compiled).pins)} in {compiled.name}" for _, compiled in pairs
    )
    print(f"Pinned requirements match their inputs ({counts}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
