"""The exercise markers, defined once, and the one parser of them.

In a solution file each exercise body sits between two marker comments:

    def one_hot(labels, num_classes):
        \"\"\"Docstring (stays in the starter).\"\"\"
        # Hint comments above the marker stay in the starter too.
        # BEGIN SOLUTION(task1_2): Build a (N, C) tensor with a 1 in each row's label column.
        ...the reference code...
        # END SOLUTION

and in a starter each body is one line at the marker's indentation:

        raise NotImplementedError("TODO(task1_2): Build a (N, C) tensor with ...")

A block straight in a class body (a dataclass's fields) cannot be that line: it would run when the
class is defined and stop the file importing. Its stub is an `__init__` that raises when the class
is first used (`stub_lines`); the TODO then belongs to the class, not to the stub's `__init__`.

`blocks()` reads the first form (a `Block` each), `todos()` the second; the scope finder
(`enclosing_function`) names the function around a line, even in a file that does not parse.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

BEGIN = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION\((?P<task>task\w+)\):\s*(?P<todo>.+?)\s*$")
END = re.compile(r"^[ \t]*# END SOLUTION\s*$")
# The text of a TODO as raised (and printed by a child process): "TODO(task1_2): what to do".
TODO_TEXT = re.compile(r"TODO\((?P<task>task\w+)\)")
TODO_MESSAGE = re.compile(r"^(?:NotImplementedError: )?(?P<text>TODO\((?P<task>task\w+)\): .*)$", re.MULTILINE)
# A starter's stub line, with either quote: raise NotImplementedError("TODO(task1_2): ...")
TODO_RAISE = re.compile(r"""^(?P<indent>[ \t]*)raise NotImplementedError\((?P<quote>["'])(?P<text>TODO\((?P<task>task\w+)\): .*?)(?P=quote)\)""")
# The first line of a class-body block's stub (after the indentation).
CLASS_STUB = "def __init__(self, *args, **kwargs):  # a stub so that this file imports: replace these two lines"
SIZE_NOTE = re.compile(r"^\s*#\s*size:\s*(?P<reason>\S.*)$")
DEF_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")


class MarkerError(ValueError):
    """Markers that do not pair up, or a misspelt marker."""


@dataclass
class Block:
    """One BEGIN/END SOLUTION block of a solution file."""

    path: Path | None
    task: str
    index: int  # which block of this task in the file, from 1
    begin_line: int  # 1-based line of the BEGIN marker
    end_line: int  # 1-based line of the END marker
    indent: str
    todo: str  # the marker's text after the colon: the starter's TODO message
    hint: list[str] = field(default_factory=list)  # the comment lines directly above the marker, without '#'
    body: list[str] = field(default_factory=list)  # the lines between the markers
    function: str | None = None  # `Class.method` or `function` around the block

    @property
    def todo_message(self) -> str:
        return f"TODO({self.task}): {self.todo}"

    def stub_lines(self, lines: list[str]) -> list[str]:
        """The starter's text for this block (`lines`: the solution file's lines): the raise, or in a
        class body an `__init__` stub around it."""
        raise_line = f"raise NotImplementedError({self.todo_message!r})\n"
        definition = definition_line(lines, self.function) if self.function else None
        if definition and lines[definition - 1].lstrip().startswith("class "):
            return [f"{self.indent}{CLASS_STUB}\n", f"{self.indent}    {raise_line}"]
        return [f"{self.indent}{raise_line}"]

    @property
    def code_lines(self) -> int:
        return sum(1 for line in self.body if line.strip() and not line.lstrip().startswith("#"))

    @property
    def size_reason(self) -> str | None:
        """The `# size: <reason>` comment: the block's first line, or a line of the hint above it."""
        first = next((line for line in self.body if line.strip()), "")
        for line in [first, *(f"# {text}" for text in self.hint)]:
            match = SIZE_NOTE.match(line)
            if match:
                return match["reason"]
        return None


def blocks(text: str, path: Path | None = None) -> list[Block]:
    """Every block of a solution file's text, in order. Raises MarkerError on markers that do not pair up."""
    name = str(path) if path else "solution.py"
    lines = text.splitlines()
    found: list[Block] = []
    seen: Counter = Counter()
    current: Block | None = None
    for number, line in enumerate(lines, start=1):
        begin, end = BEGIN.match(line), END.match(line)
        if begin:
            if current:
                raise MarkerError(f"{name}:{number}: BEGIN SOLUTION inside the block opened at line {current.begin_line}")
            hint, above = [], number - 2
            while above >= 0 and lines[above].lstrip().startswith("#") and not END.match(lines[above]):
                hint.insert(0, lines[above].lstrip()[1:].strip())
                above -= 1
            seen[begin["task"]] += 1
            current = Block(path, begin["task"], seen[begin["task"]], number, 0, begin["indent"], begin["todo"], hint,
                            function=enclosing_function(lines, number))
        elif end:
            if not current:
                raise MarkerError(f"{name}:{number}: END SOLUTION without a BEGIN SOLUTION above it")
            current.end_line = number
            found.append(current)
            current = None
        elif "BEGIN SOLUTION" in line and line.lstrip().startswith("#"):
            raise MarkerError(f"{name}:{number}: write the marker as '# BEGIN SOLUTION(taskN_M): what to do'")
        elif current is not None:
            current.body.append(line)
    if current:
        raise MarkerError(f"{name}:{current.begin_line}: BEGIN SOLUTION({current.task}) is never closed by # END SOLUTION")
    return found


def file_blocks(path: Path) -> list[Block]:
    return blocks(Path(path).read_text(encoding="utf-8"), Path(path))


@dataclass(frozen=True)
class Todo:
    """An unfinished exercise in a starter (or a learner's file): its stub line."""

    task: str
    line: int
    text: str  # "TODO(task1_2): what to do"
    function: str | None


def todos(text: str) -> list[Todo]:
    """Every `raise NotImplementedError("TODO(...)")` line of a lab file, in order."""
    lines = text.splitlines()
    found = []
    for number, line in enumerate(lines, start=1):
        match = TODO_RAISE.match(line)
        if match:
            function = stub_class(lines, number) or enclosing_function(lines, number)
            found.append(Todo(match["task"], number, match["text"], function))
    return found


def stub_class(lines: list[str], lineno: int) -> str | None:
    """The class whose body the learner writes, when 1-based `lineno` is the raise of a class-body stub."""
    if 1 < lineno <= len(lines) and lines[lineno - 2].strip() == CLASS_STUB:
        return (enclosing_function(lines, lineno) or "").rpartition(".")[0] or None
    return None


def file_todos(path: Path) -> list[Todo]:
    return todos(Path(path).read_text(encoding="utf-8"))


def task_functions(path: Path) -> dict[str, str]:
    """Function name -> task id, from the blocks of a solution file (the first task of each function)."""
    mapping: dict[str, str] = {}
    if Path(path).exists():
        for block in file_blocks(path):
            if block.function:
                mapping.setdefault(block.function, block.task)
    return mapping


# --------------------------------------------------------------------------- the scope finder


def enclosing_scope(lines: list[str], lineno: int) -> list[str]:
    """Names of the def/class blocks around 1-based `lineno`, outermost first, found by
    indentation (so it works on files that do not parse)."""
    if not 1 <= lineno <= len(lines):
        return []

    def indent_of(text: str) -> int:
        return len(text) - len(text.lstrip())

    line = lines[lineno - 1]
    scope = []
    found = DEF_LINE.match(line)
    if found:
        scope.append(found["name"])
    current = indent_of(line) if line.strip() else 10**6
    for number in range(lineno - 1, 0, -1):
        text = lines[number - 1]
        # A closing bracket at a lower indent ends a multi-line signature (`) -> Tensor:`): not a scope.
        if not text.strip() or text.lstrip().startswith(("#", ")", "]", "}")) or indent_of(text) >= current:
            continue
        current = indent_of(text)
        found = DEF_LINE.match(text)
        if found:
            scope.append(found["name"])
        if current == 0:
            break
    return scope[::-1]


def enclosing_function(lines: list[str], lineno: int) -> str | None:
    """`Class.method` or `function` around 1-based `lineno`, or None at the top level."""
    return ".".join(enclosing_scope(lines, lineno)) or None


def definition_line(lines: list[str], qualified_name: str) -> int | None:
    """The 1-based line of `def name` (or `class`) whose qualified name is `qualified_name`."""
    for number, line in enumerate(lines, start=1):
        if DEF_LINE.match(line) and enclosing_function(lines, number) == qualified_name:
            return number
    return None
