"""Failure reports a learner can act on.

- A test that reaches an unfinished TODO: one line naming the task, the file, the function, the
  README section and `pytest --hint TASK` (a TODO already reported costs one line).
- Any other failure of a lab test: the assertion message, the learner's own line, the function
  to edit and where to read. `--tb=long` (or short/line/native) gives pytest's usual report.
- At most MAX_TASK_LINES lines per failing task: the task's first failing test shows its whole report
  (the diagnosis and the fix first, never cut); each later failing test of the task is one line under
  it, naming the test, and is left out of the FAILURES section (it still counts as failed, and -ra
  still lists it). `--tb=long` shows every test's report.
"""

from __future__ import annotations

import inspect
import linecache
import re
from pathlib import Path
from typing import NamedTuple

import pytest

from harness import environment, markers
from harness.fixtures import PlainFailure
from harness.state import TaskFailures, lab_of, run_state, task_of
from harness.todos import TodoReached, find_todo, todo_task

TB_HINT = "add --tb=long for the whole traceback"
MAX_MESSAGE_LINES = 6
MAX_TASK_LINES = 15  # a failing task in a learner's run, counting pytest's "____ test_name ____" line


def hint_command(task_id: str | None) -> str:
    return f"more help: pytest --hint {task_id}" if task_id and not task_id.startswith("taskq_") else ""


def readme_section(item) -> str:
    task, lab = task_of(item), lab_of(item)
    if task is not None:
        return task.readme_section
    if lab is None:
        return "the lab README"
    return "quiz.md" if not lab.graded else f"{lab.folder}/README.md"


def qualified_name(code) -> str:
    """A frame's function as the learner finds it in the file: `ResNet.__init__`, not `__init__` (Python 3.11+)."""
    return getattr(code, "co_qualname", code.co_name).replace(".<locals>", "")


def todo_line(error: BaseException, item) -> str:
    """One line for an unfinished TODO: task, file, function, line, where to read, how to get a hint."""
    state = run_state(item.config)
    course = state.course
    message, task_id = str(error), todo_task(error)
    where = error.where if isinstance(error, TodoReached) else None
    if isinstance(where, str):  # a TODO that is not in a lab file (the quiz's answers file)
        return f"{message}\n    -> {where}"
    if where and not course.is_lab_file(where[0]):
        where = None
    if where is None:
        for entry in reversed(inspect.getinnerframes(error.__traceback__, 0) if error.__traceback__ else []):
            if course.is_lab_file(entry.filename):
                where = (entry.filename, entry.lineno, qualified_name(entry.frame.f_code))
                break
    if where is None:  # raised on the harness's or a test's side for a child process: find it in the lab file
        where = find_todo(state.graded_file(lab_of(item)), task_id)
    task = course.task(task_id)
    section = task.readme_section if task else readme_section(item)
    pointer = f"read {section}; {hint_command(task_id)}"
    if where is None:
        return f"{message}\n    -> {pointer}"
    filename, line, function = where
    owner = markers.stub_class([text.rstrip("\n") for text in linecache.getlines(str(filename))], line)
    target = f"the fields of class {owner}" if owner else f"{function}()"  # a class-body stub: the class, not its __init__
    return f"{message}\n    -> edit {target} in {course.relative(filename)} (line {line}); {pointer}"


def clip(text: str, width: int = 220) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def failure_message(excinfo, max_lines: int = MAX_MESSAGE_LINES) -> list[str]:
    """The assertion message (without pytest's `assert ...` explanation and its tensor dumps),
    or `Type: message` for any other exception."""
    error = excinfo.value
    text = str(error).strip()
    if isinstance(error, AssertionError):
        if "\nassert " in text:
            text = text.split("\nassert ")[0].strip()
        elif text.startswith("assert "):
            text = text.splitlines()[0]
        lines = text.splitlines() or ["AssertionError"]
    elif excinfo.errisinstance(pytest.fail.Exception):
        lines = text.splitlines()
    else:
        lines = f"{type(error).__name__}: {text}".splitlines()
    if len(lines) > max_lines:  # long lines are never cut: the diagnosis and the fix are often at their end
        lines = lines[: max_lines - 1] + [f"... ({len(lines) - max_lines + 1} more lines; {TB_HINT})"]
    return lines


class LearnerLine(NamedTuple):
    line: int
    function: str
    source: str
    reworded: bool  # found in the error a test caught and reworded, not in the failure's own traceback


def learner_frame(excinfo, path: Path | None) -> LearnerLine | None:
    """The deepest traceback entry in the graded file: in the failure's own traceback, else in that of
    the error it was raised while handling (a test that catches the learner's error to say what it means)."""
    if path is None:
        return None
    target = path.resolve()
    error: BaseException | None = excinfo.value
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        found = None
        tb = error.__traceback__
        while tb is not None:
            try:
                if Path(tb.tb_frame.f_code.co_filename).resolve() == target:
                    found = tb
            except (OSError, ValueError):
                pass
            tb = tb.tb_next
        if found is not None:
            line = found.tb_lineno
            return LearnerLine(line, qualified_name(found.tb_frame.f_code), linecache.getline(str(path), line).strip(),
                               reworded=bool(seen))
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


def called_function(excinfo, item, functions: tuple[str, ...]) -> str | None:
    """Of the task's functions, the one the failure message names, else the one the failing test names
    (test_logsumexp_backward_...), else the one it called last before the failing line (`lab.gradient_norms(`
    in the test's source), else the task's first."""
    if not functions:
        return None
    message = str(excinfo.value)  # a message that names one of the task's functions says where the fault is
    mentioned = [function for function in functions if re.search(rf"\b{re.escape(function.split('.')[-1])}\b", message)
                 and function.split(".")[-1] != "__init__"]
    if len(mentioned) == 1:
        return mentioned[0]
    named = [function for function in functions
             if re.search(rf"(^|_){re.escape(function.split('.')[-1].strip('_').lower())}(_|$)", item.name.lower())]
    if len(named) == 1:
        return named[0]
    test_file = str(item.path)
    lines: list[str] = []
    for entry in excinfo.traceback:
        if str(entry.path) == test_file:
            source = linecache.getlines(test_file)
            start = entry.frame.code.firstlineno
            lines = source[start: entry.lineno + 1]
    best, position = None, -1
    text = "".join(lines)
    for function in functions:
        name = function.split(".")[-1]
        pattern = rf"\b{re.escape(name)}\s*\(" if name != "__init__" else rf"\b{re.escape(function.split('.')[0])}\s*\("
        for found in re.finditer(pattern, text):
            if found.start() > position:
                best, position = function, found.start()
    return best or functions[0]


def short_failure(excinfo, item, first_of_task: bool) -> str:
    """A learner-sized failure: message, the learner's line, where to read, how to see more."""
    state = run_state(item.config)
    course, task, path = state.course, task_of(item), state.graded_file(lab_of(item))
    lines = failure_message(excinfo)
    cause = environment.start_method_cause(excinfo.value)
    if cause:
        lines.append(cause)
    frame = learner_frame(excinfo, path)
    if frame:
        lines.append(f"    your code: {course.relative(path)}, line {frame.line}, in {frame.function}(): {clip(frame.source, 120)}")
    if first_of_task:
        extra = "; ".join(part for part in (hint_command(task.id if task else None), TB_HINT) if part)
        edit = ""
        # No learner frame in the failure's own traceback: the test judged a result (or reworded an error that
        # came from the learner's file): point at the function the test blames, unless "your code" names it.
        if (not frame or frame.reworded) and task is not None and path is not None and path.exists():
            function = called_function(excinfo, item, task.functions)
            number = markers.definition_line(path.read_text(encoding="utf-8").splitlines(), function) if function else None
            if number and not (frame and frame.function == function):
                edit = f"edit {function}() in {course.relative(path)} (line {number}); "
        lines.append(f"    -> {task.id if task else 'this test'}: {edit}read {readme_section(item)}; {extra}")
    return "\n".join(lines)


def fold_later_failure(item, report, summary: str) -> None:
    """Remember a failing test's short report under its task: the first one stays whole, a later one
    becomes one line under it at the end of the run (fold_task_reports). Only the learner's short reports
    fold (--tb=long and the other styles show every test), and only the test's own call."""
    task = task_of(item)
    if task is None or report.when != "call" or not isinstance(report.longrepr, str) or item.config.option.tbstyle != "auto":
        return
    failures = run_state(item.config).task_failures
    if task.id in failures:
        failures[task.id].later.append((report, summary))
    else:
        failures[task.id] = TaskFailures(report)


def folded_lines(task_id: str, first_text: str, later: list[tuple[str, str]]) -> list[str]:
    """The lines under a task's first report for its later failing tests ((test name, summary) each),
    so that the task costs at most MAX_TASK_LINES lines with pytest's header line. Tests that stop at
    the same TODO share a line."""
    lines: list[list] = []  # [text, how many tests it names]
    todo_lines: dict[str, list] = {}
    for name, summary in later:
        if summary in todo_lines:
            todo_lines[summary][0] += f", {name}"
            todo_lines[summary][1] += 1
            continue
        # A later test's line is a summary, one screen row: its whole report is one --tb=long away.
        line = [f"    also stopped at {summary}: {name}" if summary.startswith("TODO(") else f"    also failing: {name}: {clip(summary, 120)}", 1]
        if summary.startswith("TODO("):
            todo_lines[summary] = line
        lines.append(line)
    room = max(MAX_TASK_LINES - 1 - len(first_text.splitlines()), 1)
    if len(lines) > room:
        left = len(later) - sum(count for _, count in lines[: room - 1])
        lines = lines[: room - 1] + [[f"    ... and {left} more failing tests of {task_id} (--tb=long shows every test)", left]]
    return [text for text, _ in lines]


def fold_task_reports(config) -> set[int]:
    """Put each task's later failing tests as lines under its first report; returns the ids of the
    reports folded away (left out of the FAILURES section)."""
    state = run_state(config)
    folded: set[int] = set()
    for task_id, failures in state.task_failures.items():
        first = failures.first
        text = str(first.longrepr)
        if failures.later:
            later = [(report.head_line or report.nodeid, summary) for report, summary in failures.later]
            text = "\n".join([text, *folded_lines(task_id, text, later)])
            first.longrepr = text
        state.progress.reported(first.nodeid, text, 1 + len(text.splitlines()))
        for report, _ in failures.later:
            folded.add(id(report))
            state.progress.reported(report.nodeid, "", 0)
    return folded


HIDDEN = pytest.StashKey[list]()  # the FAILURES section's full list of reports while the folded ones are hidden


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_terminal_summary(terminalreporter, config):
    """Around pytest's summary (outermost): its FAILURES section leaves out the folded reports."""
    folded = fold_task_reports(config)
    failed = terminalreporter.stats.get("failed")
    if folded and failed:
        config.stash[HIDDEN] = failed
        terminalreporter.stats["failed"] = [report for report in failed if id(report) not in folded]
    try:
        return (yield)
    finally:
        pytest_terminal_summary_restore(terminalreporter, config)


@pytest.hookimpl(specname="pytest_terminal_summary")  # a second implementation of the hook: a plain one, run inside
def pytest_terminal_summary_restore(terminalreporter, config):  # pytest's summary (pytest wants the prefix)
    """After the FAILURES section (and before -ra's list and the count of failures): every report again."""
    failed = config.stash.get(HIDDEN, None)
    if failed is not None:
        terminalreporter.stats["failed"] = failed
        del config.stash[HIDDEN]


CAPTURED_LINES = 5  # of a failing lab test's captured stdout/stderr in a learner's run: the last ones


def trimmed_sections(sections: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """A failing test's captured output, learner-sized: libraries' logging left out (torch's exporter logs
    dozens of DEBUG lines), stdout and stderr cut to their last lines. --tb=long keeps everything."""
    kept = []
    for title, content in sections:
        if title.startswith("Captured log"):
            continue
        lines = content.rstrip("\n").splitlines()
        if len(lines) > CAPTURED_LINES:
            content = "\n".join([f"... ({len(lines) - CAPTURED_LINES} earlier lines; {TB_HINT})",
                                 *lines[-CAPTURED_LINES:]]) + "\n"
        kept.append((title, content))
    return kept


def replaces_the_report(item, call) -> bool:
    """Whether this hook will write the report of this test's call itself (a learner's run, a graded lab's
    test that failed): then pytest need not build its own long report first, which parses the source of
    every traceback entry (seconds for a run of fresh starters, whose every test fails)."""
    lab = lab_of(item)
    return (call.when == "call" and call.excinfo is not None and item.config.option.tbstyle == "auto"
            and lab is not None and lab.graded and not isinstance(call.excinfo.value, PlainFailure))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    if replaces_the_report(item, call):
        item.repr_failure = lambda excinfo: "(replaced by the harness's short report)"  # this call only
        try:
            report = yield
        finally:
            del item.repr_failure
    else:
        report = yield
    lab = lab_of(item)
    if report.failed and lab is not None and item.config.option.tbstyle == "auto":
        report.sections = trimmed_sections(report.sections)
    state = run_state(item.config)
    progress = state.progress
    error = call.excinfo.value if call.excinfo is not None else None
    todo = todo_task(error)
    outcome = None
    if todo:
        own = task_of(item)
        needs = f"\n    ({own.id}'s tests need {todo} first)" if own and own.id != todo else ""
        if todo in progress.todo_tasks and item.config.option.tbstyle == "auto":
            report.longrepr = f"TODO({todo}): the same unfinished TODO as reported earlier in this run{needs}"
        else:
            report.longrepr = todo_line(error, item) + needs
        progress.todo_tasks.add(todo)
        outcome = "todo"
        fold_later_failure(item, report, f"TODO({todo})")
    elif report.failed and report.when == "call" and lab is not None and call.excinfo is not None:
        task = task_of(item)
        first = (task.id if task else None) not in progress.failed_tasks
        progress.failed_tasks.add(task.id if task else None)
        lines = failure_message(call.excinfo)
        if not lab.graded or isinstance(error, PlainFailure):
            pass  # a complete message already (the quiz report, a lab file that does not import)
        elif item.config.option.tbstyle == "auto":
            report.longrepr = short_failure(call.excinfo, item, first)
            fold_later_failure(item, report, lines[0])
        elif hasattr(report.longrepr, "addsection"):
            extra = f"; {hint_command(task.id)}" if task and hint_command(task.id) else ""
            report.longrepr.addsection("Hint", f"Read {readme_section(item)}{extra}.")
        progress.record(item, report, lab, task, None, type(error).__name__, "\n".join(lines))
        return report
    progress.record(item, report, lab, task_of(item), outcome)
    return report
