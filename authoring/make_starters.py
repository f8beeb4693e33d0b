"""Write every lab's starter.py from its solution.py (the one source of truth). Instructor tool.

The generator replaces each BEGIN/END SOLUTION block of a solution file (the markers:
harness/markers.py) with a single line at the marker's indentation:

        raise NotImplementedError("TODO(task1_2): Build a (N, C) tensor with ...")

so `diff starter.py solution.py` shows exactly the learner's work (a block in a class body, such as a
dataclass's fields, becomes an `__init__` stub that raises: harness/markers.py). The module docstring is
adapted for the starter ("(reference solution)" -> "(starter)", `lab1_tensors/solution.py`
-> `lab1_tensors/starter.py` in the commands it shows).

Learner edits are safe: the first line of every starter records a hash of the text the
generator wrote. A starter whose text no longer matches its hash holds someone's work, and
is never overwritten unless `--force` is given (the list of what would be lost is printed
first). A starter without that line counts as unedited only when git says it is unchanged
from the last commit.

Usage (from the repository root):
    python authoring/make_starters.py            # rewrite every stale, unedited starter.py
    python authoring/make_starters.py --check    # exit 1 if any starter.py is not the generator's text
    python authoring/make_starters.py --force    # also overwrite edited starters (their edits are lost)
    python authoring/make_starters.py lab1_tensors/solution.py   # just one lab
"""

from __future__ import annotations

import argparse
import ast
import difflib
import hashlib
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import markers  # noqa: E402
from harness.markers import MarkerError  # noqa: E402

HEADER = re.compile(r"^# Starter file: written by authoring/make_starters\.py from solution\.py \(text sha256 (?P<hash>[0-9a-f]{16})\)\.\n")
STARTER_INTRO = "# Replace each `raise NotImplementedError(\"TODO(...)\")` with your code.\n"


def text_hash(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()[:16]


def header_line(body: str) -> str:
    return f"# Starter file: written by authoring/make_starters.py from solution.py (text sha256 {text_hash(body)}).\n"


def adapt_docstring(lines: list[str], source: str, folder: str) -> list[str]:
    """The module docstring speaks of the starter: its title and the commands it shows."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return lines
    if not (tree.body and isinstance(tree.body[0], ast.Expr) and isinstance(getattr(tree.body[0], "value", None), ast.Constant)):
        return lines
    end = tree.body[0].end_lineno
    replacements = [
        ("(reference solution)", "(starter: your work goes here)"),
        ("your starter.py; --impl solution for this file", "this file; --impl solution grades solution.py"),
    ]
    if folder:
        replacements.append((f"{folder}/solution.py", f"{folder}/starter.py"))
    adapted = []
    for number, line in enumerate(lines, start=1):
        if number <= end:
            for old, new in replacements:
                line = line.replace(old, new)
        adapted.append(line)
    return adapted


def make_starter(source: str, filename: str = "solution.py") -> str:
    """Return the starter text for one solution file's text."""
    found = markers.blocks(source, Path(filename))  # raises MarkerError on markers that do not pair up
    lines = adapt_docstring(source.splitlines(keepends=True), source, Path(filename).parent.name)
    plain = source.splitlines()
    out: list[str] = []
    done = 0
    for block in found:
        out += lines[done: block.begin_line - 1]
        out += block.stub_lines(plain)
        done = block.end_line
    out += lines[done:]
    body = STARTER_INTRO + "".join(out)
    return header_line(body) + body


def committed_text(path: Path) -> str | None:
    """The file's text in git's HEAD, or None (not in git, git missing)."""
    try:
        relative = path.resolve().relative_to(ROOT)
        result = subprocess.run(
            ["git", "show", f"HEAD:{relative.as_posix()}"], cwd=ROOT, capture_output=True, text=True, timeout=30
        )
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    return result.stdout if result.returncode == 0 else None


def is_edited(text: str, path: Path) -> bool:
    """Does this starter hold edits the generator did not write?"""
    header = HEADER.match(text)
    if header:
        return text_hash(text[header.end():]) != header["hash"]
    return committed_text(path) != text


def what_would_be_lost(current: str, expected: str, solution_text: str) -> list[str]:
    """One line per function whose text differs: `name() (taskX_Y): N lines changed`."""
    task_of = {block.function: block.task for block in reversed(markers.blocks(solution_text)) if block.function}
    current_lines, expected_lines = current.splitlines(), expected.splitlines()
    changed: dict[str, int] = {}
    matcher = difflib.SequenceMatcher(None, expected_lines, current_lines, autojunk=False)
    for tag, _, _, j1, j2 in matcher.get_opcodes():
        if tag == "equal" or (j1 == 0 and j2 == 1 and HEADER.match(current_lines[0] + "\n")):
            continue
        for number in range(j1 + 1, max(j2, j1 + 1) + 1):
            if number > len(current_lines):
                continue
            name = markers.enclosing_function(current_lines, number) or "(top level)"
            changed[name] = changed.get(name, 0) + 1
    lines = []
    for name, count in changed.items():
        task = task_of.get(name)
        lines.append(f"{name}{'()' if name != '(top level)' else ''}{f' ({task})' if task else ''}: {count} line(s) of yours")
    return lines


def solution_files(paths: list[str]) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(ROOT.glob("*/solution.py"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("solutions", nargs="*", help="solution.py files (default: every lab)")
    parser.add_argument("--check", action="store_true", help="only report starters that differ; write nothing")
    parser.add_argument("--force", action="store_true", help="also overwrite starters that hold edits (they are lost)")
    args = parser.parse_args(argv)

    stale, edited = [], []
    for solution in solution_files(args.solutions):
        starter = solution.with_name("starter.py")
        name = starter.relative_to(ROOT)
        try:
            source = solution.read_text()
            expected = make_starter(source, str(solution.relative_to(ROOT)))
        except MarkerError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        current = starter.read_text() if starter.exists() else None
        if current == expected:
            continue
        if current is not None and is_edited(current, starter):
            edited.append(name)
            losses = what_would_be_lost(current, expected, source)
            if args.check:
                continue
            if args.force:
                starter.write_text(expected)
                print(f"overwrote {name} (--force); these edits are gone:", *losses, sep="\n  ")
            else:
                print(f"kept {name}: it holds edits that regenerating would erase:", *losses, sep="\n  ")
            continue
        stale.append(name)
        if not args.check:
            starter.write_text(expected)
            print(f"wrote {name}")
    if args.check and (stale or edited):
        if stale:
            print("out of date (regenerate with `python authoring/make_starters.py`):", *stale, sep="\n  ", file=sys.stderr)
        if edited:
            print("edited by hand (not the generator's text):", *edited, sep="\n  ", file=sys.stderr)
        return 1
    if edited and not args.force:
        print(
            "Edited starters were left as they are. To regenerate one anyway, save your work elsewhere "
            "and pass --force.",
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
