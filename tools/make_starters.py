"""Write every lab's starter.py from its solution.py (the one source of truth).

In a solution file each exercise body sits between two marker comments:

    def one_hot(labels, num_classes):
        \"\"\"Docstring stays in the starter.\"\"\"
        # Hint comments above the marker stay in the starter too.
        # BEGIN SOLUTION(task1_2): Build a (N, C) tensor with a 1 in each row's label column.
        ...the reference code...
        # END SOLUTION

The generator replaces each block with a single line at the marker's indentation:

        raise NotImplementedError("TODO(task1_2): Build a (N, C) tensor with ...")

so `diff starter.py solution.py` shows exactly the learner's work.

Usage (from the repository root):
    python tools/make_starters.py            # rewrite every starter.py
    python tools/make_starters.py --check    # exit 1 if any starter.py is out of date
    python tools/make_starters.py lab1_tensors/solution.py   # just one lab
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\((?P<task>task\w+)\):\s*(?P<todo>.+?)\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
STARTER_HEADER = (
    "# Starter file: written by tools/make_starters.py from solution.py.\n"
    "# Replace each `raise NotImplementedError(\"TODO(...)\")` with your code.\n"
)


class MarkerError(ValueError):
    """A solution file whose markers cannot be turned into a starter."""


def make_starter(source: str, filename: str = "solution.py") -> str:
    """Return the starter text for one solution file's text."""
    out: list[str] = []
    open_block: tuple[int, str] | None = None  # (line number, task id) of an unclosed BEGIN
    for number, line in enumerate(source.splitlines(keepends=True), start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if open_block:
                raise MarkerError(f"{filename}:{number}: BEGIN SOLUTION inside the block opened at line {open_block[0]}")
            open_block = (number, begin["task"])
            message = f"TODO({begin['task']}): {begin['todo']}"
            out.append(f"{begin['indent']}raise NotImplementedError({message!r})\n")
        elif end:
            if not open_block:
                raise MarkerError(f"{filename}:{number}: END SOLUTION without a BEGIN SOLUTION above it")
            open_block = None
        elif "BEGIN SOLUTION" in line and line.lstrip().startswith("#"):
            raise MarkerError(f"{filename}:{number}: write the marker as '# BEGIN SOLUTION(taskN_M): what to do'")
        elif not open_block:
            out.append(line)
    if open_block:
        raise MarkerError(f"{filename}:{open_block[0]}: BEGIN SOLUTION({open_block[1]}) is never closed by # END SOLUTION")
    return STARTER_HEADER + "".join(out)


def solution_files(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(ROOT.glob("*/solution.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("solutions", nargs="*", help="solution.py files (default: every lab)")
    parser.add_argument("--check", action="store_true", help="only report starters that differ; write nothing")
    args = parser.parse_args(argv)

    stale = []
    for solution in solution_files(args.solutions):
        starter = solution.with_name("starter.py")
        try:
            expected = make_starter(solution.read_text(), str(solution.relative_to(ROOT)))
        except MarkerError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        current = starter.read_text() if starter.exists() else None
        if current == expected:
            continue
        stale.append(starter.relative_to(ROOT))
        if not args.check:
            starter.write_text(expected)
            print(f"wrote {starter.relative_to(ROOT)}")
    if args.check and stale:
        print("out of date (run `python tools/make_starters.py`):", *stale, sep="\n  ", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
