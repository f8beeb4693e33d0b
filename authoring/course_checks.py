"""Course checks on the exercises themselves (instructor tool; tests/instructor/test_course_checks.py runs them).

    python authoring/course_checks.py sizes     # distribution of solution body sizes, outliers marked
    python authoring/course_checks.py copied    # hints / TODO texts that copy a statement of their solution
    python authoring/course_checks.py hints     # tasks whose hints.md lacks one of the levels 1-3
    python authoring/course_checks.py           # all three; exit 1 if anything is reported

The rules:

Size. A solution body is the lines between `# BEGIN SOLUTION(taskX_Y): ...` and
`# END SOLUTION`. Its size counts code lines only (not blank, not comment-only). It must be
between MIN_LINES (3) and MAX_LINES (25), unless a justification comment
`# size: <why this block is smaller or larger>` is the block's first line (cut from the
starter with the body) or one of the hint comment lines directly above the marker (the
learner sees it: "# size: two lines on purpose, the idea is one broadcast expression").

Copied code. The hint of a block is the run of comment lines directly above its BEGIN
marker, plus the TODO text on the marker line. Both the hint and each solution statement
(a logical line, comments removed, split with Python's tokenize) are cut into tokens with
one regular expression: numbers, names, the two-character operators (** // == != <= >= ->
+= -= *= /= := << >>), any other single non-space character. A hint copies its solution
when it contains COPY_TOKENS (8) consecutive tokens of one solution statement in the same
order, whitespace and line breaks ignored; e.g. "call optimizer.zero_grad(set_to_none=True)"
is flagged (8 tokens), "zero the gradients" and "use torch.where" are not.

Hints. Every task id with a BEGIN SOLUTION marker has a section `## taskX_Y` in its lab's
hints.md with levels 1, 2 and 3, none empty (format: harness/hints.py).
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import textwrap
import tokenize
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import hints  # noqa: E402
from harness.markers import Block, file_blocks  # noqa: E402

MIN_LINES, MAX_LINES = 3, 25
COPY_TOKENS = 8
TOKEN = re.compile(r"\d+(?:\.\d+)?(?:[eE][-+]?\d+)?|\w+|\*\*|//|==|!=|<=|>=|->|\+=|-=|\*=|/=|:=|<<|>>|\S")


def blocks(path: Path) -> list[Block]:
    """Every BEGIN/END SOLUTION block of one solution file."""
    return file_blocks(path)


def where(block: Block) -> str:
    try:
        name = block.path.relative_to(ROOT)
    except ValueError:
        name = block.path
    return f"{name}:{block.begin_line}"


def all_blocks(root: Path = ROOT) -> list[Block]:
    return [block for path in sorted(root.glob("*/solution.py")) for block in blocks(path)]


# --------------------------------------------------------------------------- sizes


def size_problem(block: Block) -> str | None:
    if block.size_reason or MIN_LINES <= block.code_lines <= MAX_LINES:
        return None
    side = "fewer" if block.code_lines < MIN_LINES else "more"
    return (
        f"{block.task} (block {block.index}, {where(block)}): {block.code_lines} code lines, {side} than "
        f"{MIN_LINES}-{MAX_LINES}; resize it or justify it with '# size: <reason>' as the block's first line"
    )


def print_sizes(found: list[Block], out=sys.stdout) -> int:
    problems = 0
    print(f"{'task':10}{'block':>6}{'lines':>7}  where", file=out)
    for block in sorted(found, key=lambda b: (b.code_lines, b.task)):
        note = f"  justified: {block.size_reason}" if block.size_reason else ""
        flag = "  <- outside %d-%d" % (MIN_LINES, MAX_LINES) if size_problem(block) else ""
        problems += bool(flag)
        print(f"{block.task:10}{block.index:>6}{block.code_lines:>7}  {where(block)}{note}{flag}", file=out)
    buckets = Counter(min(block.code_lines // 5, 6) for block in found)
    print("\ndistribution (code lines per block):", file=out)
    for bucket in range(7):
        label = f"{bucket * 5:>2}-{bucket * 5 + 4:<2}" if bucket < 6 else "30+  "
        print(f"  {label} {'#' * buckets.get(bucket, 0)} {buckets.get(bucket, 0)}", file=out)
    print(f"{len(found)} blocks, {problems} outside {MIN_LINES}-{MAX_LINES} without a justification", file=out)
    return problems


# --------------------------------------------------------------------------- copied code


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def statements(body: list[str]) -> list[str]:
    """The solution body's logical lines, comments removed."""
    source = textwrap.dedent("\n".join(body)) + "\n"
    try:
        parts: list[list[str]] = [[]]
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE,):
                parts.append([])
            elif token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER):
                parts[-1].append(token.string)
        return [" ".join(part) for part in parts if part]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [line.split("#")[0] for line in body if line.split("#")[0].strip()]


def copied_statement(hint_text: str, body: list[str], window: int = COPY_TOKENS) -> str | None:
    """The first solution statement that has `window` consecutive tokens inside `hint_text`."""
    hint = " ".join(tokens(hint_text))
    hint_padded = f" {hint} "
    for statement in statements(body):
        code = tokens(statement)
        for start in range(0, len(code) - window + 1):
            if f" {' '.join(code[start:start + window])} " in hint_padded:
                return statement
    return None


def copy_problem(block: Block) -> str | None:
    for label, text in (("TODO text", block.todo), ("hint comment", " ".join(block.hint))):
        statement = copied_statement(text, block.body)
        if statement:
            return f"{block.task} (block {block.index}, {where(block)}): the {label} copies the solution's `{statement}`"
    return None


# --------------------------------------------------------------------------- hints


def hint_problems(root: Path = ROOT) -> list[str]:
    problems = []
    tasks = hints.task_folders(root)
    parsed: dict[Path, dict] = {}
    for task, folder in sorted(tasks.items(), key=lambda kv: hints.task_key(kv[0])):
        path = folder / "hints.md"
        if not path.exists():
            problems.append(f"{task}: {folder.name}/hints.md does not exist")
            continue
        if path not in parsed:
            try:
                parsed[path] = hints.parse_hints(path.read_text(), f"{folder.name}/hints.md")
            except hints.HintsError as error:
                parsed[path] = {}
                problems.append(f"{task}: {error}")
                continue
        levels = parsed[path].get(task, {}).get("levels", {})
        missing = [str(level) for level in hints.LEVELS if not levels.get(level, ("", ""))[1].strip()]
        if missing:
            problems.append(f"{task}: {folder.name}/hints.md has no level {', '.join(missing)}")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("check", nargs="?", choices=["sizes", "copied", "hints", "all"], default="all")
    args = parser.parse_args(argv)
    found, bad = all_blocks(), 0
    if args.check in ("sizes", "all"):
        bad += print_sizes(found)
    if args.check in ("copied", "all"):
        problems = [p for p in map(copy_problem, found) if p]
        print(f"\ncopied code ({COPY_TOKENS}+ consecutive tokens of a solution statement in its hint or TODO text):")
        print("\n".join(f"  {p}" for p in problems or ["none"]))
        bad += len(problems)
    if args.check in ("hints", "all"):
        problems = hint_problems()
        print("\nhints (levels 1-3 per task in <lab>/hints.md):")
        print("\n".join(f"  {p}" for p in problems or ["all present"]))
        bad += len(problems)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
