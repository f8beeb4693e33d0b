"""Unfinished exercises: recognising a TODO, and finding the learner's line it stands on.

A test that reaches `raise NotImplementedError("TODO(task1_2): ...")` fails with one line naming
the task, the file, the function, the README section and `pytest --hint TASK`. A TODO met in a
child process (a script, torchrun workers) is raised again in the test by `raise_todo_from_output`.
"""

from __future__ import annotations

import re
from pathlib import Path

from harness import markers


class TodoReached(NotImplementedError):
    """A TODO met somewhere the traceback cannot show: `where` is (file, line, function) in the
    learner's file, or a sentence saying where to work (the quiz's answers file)."""

    def __init__(self, text: str, where: tuple[str, int, str] | str | None = None):
        super().__init__(text)
        self.where = where


def todo_task(error: BaseException | None) -> str | None:
    """The task id of an unfinished-TODO error, else None."""
    if not isinstance(error, NotImplementedError):
        return None
    found = markers.TODO_TEXT.match(str(error))
    return found["task"] if found else None


def find_todo(path: Path | None, task: str) -> tuple[str, int, str] | None:
    """(file, line, function) of the first stub of `task` in a lab file."""
    if path is None or not Path(path).exists():
        return None
    todo = next((todo for todo in markers.file_todos(path) if todo.task == task), None)
    return (str(path), todo.line, todo.function or "?") if todo else None


def raise_todo_from_output(output: str):
    """Re-raise a TODO NotImplementedError printed by a child process (script or torchrun worker).
    The failure line points at the TODO in the graded lab file (when the child's traceback shows it)."""
    match = markers.TODO_MESSAGE.search(output)
    if match:
        where = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', output[: match.start()])
        raise TodoReached(match["text"], (where[-1][0], int(where[-1][1]), where[-1][2]) if where else None)


def raise_todo_of_untouched_task(path: Path, task: str | None):
    """Raise the TODO of `task` when every one of its blocks in the graded file is still a TODO.

    A test that runs the file in a child process spends seconds importing torch before it meets
    that TODO; nobody has started the task, so the outcome is known. A task that is partly
    written runs for real."""
    if task is None or not Path(path).exists():
        return
    stubs = [todo for todo in markers.file_todos(path) if todo.task == task]
    solution = Path(path).parent / "solution.py"
    blocks = sum(1 for block in markers.file_blocks(solution) if block.task == task) if solution.exists() else 1
    if stubs and len(stubs) >= blocks:
        raise TodoReached(stubs[0].text, (str(path), stubs[0].line, stubs[0].function or "?"))


def first_unfinished_task(source: Path) -> str | None:
    """The lowest-numbered TODO left in a lab file, as "TODO(taskc_N): text (file, line L)" with where
    to read and the hint command; None when every task is done.

    The capstone's command line reaches the command line (taskc_11) and the process setup (taskc_10)
    before the data plan (taskc_1): naming the first unfinished task instead of the first TODO
    reached keeps the learner on the tasks in order."""
    from harness import course as course_structure

    found = markers.file_todos(source)
    if not found:
        return None
    first = min(found, key=lambda todo: (course_structure.task_sort_key(todo.task), todo.line))
    task = course_structure.load().task(first.task)
    section = task.readme_section if task else "the lab README"
    return f"{first.text} ({source}, line {first.line})\n(read {section}; more help: pytest --hint {first.task})"
