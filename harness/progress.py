"""The progress table, the last thing every run prints: per lab, tasks passed / to do / failing
and tests skipped, and what to do next. A filtered run says how many of the lab's tasks ran.
Also: `--check-starter` (CI) and `--phase1-results FILE` (the catalogue runner reads it)."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path

import pytest

from harness.course import Course, task_sort_key
from harness.loading import error_location


def contract_section(item) -> str | None:
    """The contract section a contract test checks: test_s5_... checks §5."""
    found = re.match(r"test_s(\d+)_", item.name)
    return found.group(1) if found and item.get_closest_marker("contract") else None


class Progress:
    """Collects each test's outcome by lab and task."""

    def __init__(self, course: Course, impl: str):
        self.course, self.impl = course, impl
        self.tests: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.planned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.selected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.missing: dict[str, int] = defaultdict(int)
        self.broken: dict[str, tuple[Path, BaseException]] = {}
        self.failed_tasks: set[str | None] = set()
        self.todo_tasks: set[str] = set()
        self.skipped_tests: dict[str, int] = defaultdict(int)
        self.quiz = None  # the quiz grader's QuizResult, set by tests/test_quiz.py
        self.errors: list[str] = []
        self.non_todo_failures: list[str] = []
        self.results: list[dict] = []
        self.notes: list[str] = []
        self.contract: dict[str, list[tuple[str, str]]] = defaultdict(list)  # section -> (state, first line) per test
        self.contract_left_out: dict[str, str] = {}  # section -> why its tests were deselected

    def record(self, item, report, lab, task, outcome=None, exc_type=None, message=None):
        if not (report.when == "call" or not report.passed):
            return
        if outcome == "todo":
            state = "todo"
        elif report.skipped:
            state = "skipped"
        elif report.passed:
            state = "passed"
        else:
            state = "failing" if report.when == "call" else "error"
            (self.non_todo_failures if report.when == "call" else self.errors).append(item.nodeid)
        task_id = task.id if task else None
        section = contract_section(item)
        if section:
            crash = getattr(report.longrepr, "reprcrash", None)  # a traceback's last line; a pytest.fail(pytrace=False) is its message
            text = (crash.message if crash is not None else str(report.longrepr)) if report.failed else ""
            self.contract[section].append((state, text.strip().splitlines()[0] if text.strip() else ""))
        if lab is not None:
            self.tests[lab.marker][task_id or "other"].append(state)
            if state == "skipped":
                self.skipped_tests[lab.marker] += 1
        self.results.append({
            "nodeid": item.nodeid, "lab": lab.marker if lab else None, "task": task_id, "when": report.when,
            "state": state, "exc_type": exc_type, "message": message, "text": str(report.longrepr) if report.failed else "",
            "lines": 1 + len(str(report.longrepr).splitlines()) if report.failed else 0,
        })

    def reported(self, nodeid: str, text: str, lines: int) -> None:
        """The report a failing test finally printed (`lines`: with pytest's header line; 0 when folded)."""
        for result in self.results:
            if result["nodeid"] == nodeid and result["state"] in ("failing", "todo"):
                result["text"], result["lines"] = text, lines

    @staticmethod
    def task_state(states: list[str]) -> str:
        for state in ("failing", "error", "todo"):
            if state in states:
                return "failing" if state == "error" else state
        if all(state == "skipped" for state in states):
            return "skipped"
        return "passed"

    def next_step(self, lab, states, given, full, run, total) -> str:
        pending = [task for task, state in states.items() if state in ("failing", "todo")]
        if lab.marker in self.broken:
            path, error = self.broken[lab.marker]
            location = error_location(error, path)
            return f"fix {self.course.relative(path)} first: it does not import" + (f" (line {location[0]})" if location else "")
        if pending:
            task = self.course.task(pending[0])
            return f"{pending[0]} ({task.readme_section if task else lab.folder + '/README.md'})"
        if given == "failing":
            return "a test of the given code fails (see above)"
        if not full:
            impl = "" if self.impl == "starter" else f"--impl {self.impl} "
            return f"filtered run: {run} of {total} tasks run, none failing (run `pytest {impl}-m {lab.marker}` for all)"
        if states and all(state == "skipped" for state in states.values()):
            return "all skipped"
        return "done"

    def contract_lines(self) -> list[str]:
        """The contract run's table: each section's tests passed / failing, and the first failure's line."""
        lines = [f"{'':30}{'tests':>9}{'passed':>8}{'failing':>9}{'skipped':>9}   first failure"]
        for section in self.course.contract:
            number, title = section.number, section.title
            states = self.contract.get(number, [])
            if not states:
                why = self.contract_left_out.get(number)
                lines.append(f"{f'§{number} {title}':30}{'-':>9}   (not run{': ' + why if why else ''})")
                continue
            count = {kind: sum(1 for state, _ in states if state == kind) for kind in ("passed", "failing", "skipped")}
            failing = sum(1 for state, _ in states if state in ("failing", "error"))
            first = next((text for state, text in states if state in ("failing", "error")), "")
            first = first.removeprefix("Failed: ")
            first = first.split(": ", 1)[1] if first.startswith("contract §") else first
            lines.append(f"{f'§{number} {title}':30}{len(states):>9}{count['passed']:>8}{failing:>9}{count['skipped']:>9}   "
                         f"{first[:110] + ('...' if len(first) > 110 else '') if first else ('met' if failing == 0 and count['passed'] else '')}")
        return lines

    def lines(self) -> list[str]:
        lines = [f"{'':30}{'tasks':>9}{'passed':>8}{'to do':>7}{'failing':>9}{'tests skipped':>15}   next"]
        for lab in self.course.labs:
            tasks = self.tests.get(lab.marker)
            if lab.marker in self.missing and not tasks:
                lines.append(f"{lab.label:30}{'-':>9}   (no {self.impl}.py in {lab.folder}: not graded)")
                continue
            if not tasks:
                lines.append(f"{lab.label:30}{'-':>9}   (not run)")
                continue
            planned = self.planned.get(lab.marker, {})
            # Tests without a task marker check given code: they do not count as tasks, but a
            # failing one keeps the lab from being done.
            states = {task: self.task_state(s) for task, s in sorted(tasks.items(), key=lambda kv: task_sort_key(kv[0]))
                      if task != "other"}
            given = self.task_state(tasks["other"]) if "other" in tasks else "passed"
            count = {state: sum(1 for s in states.values() if s == state) for state in ("passed", "todo", "failing")}
            total = len([task for task in planned if task != "other"])
            run = len(states)
            full = sum(self.selected.get(lab.marker, {}).values()) == sum(planned.values())
            column = str(total) if full and run == total else f"{run} of {total}"
            nxt = self.next_step(lab, states, given, full, run, total)
            if not lab.graded and self.quiz is not None:
                nxt = f"score {self.quiz.score}/10, {'passed' if self.quiz.passed else 'not passed (8 needed)'}"
            lines.append(f"{lab.label:30}{column:>9}{count['passed']:>8}{count['todo']:>7}{count['failing']:>9}"
                         f"{self.skipped_tests.get(lab.marker, 0):>15}   {nxt}")
        return lines


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Runs around pytest's own end of session (its summary), so the table comes last."""
    from harness.state import RUN

    result = yield
    config = session.config
    state = config.stash.get(RUN, None)
    if state is None:
        return result
    progress = state.progress
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for note in progress.notes if reporter is not None else []:
        reporter.write_line(note)
    results_file = config.getoption("--phase1-results")
    if results_file:
        Path(results_file).write_text(json.dumps({"exitstatus": int(session.exitstatus), "tests": progress.results}))
    if config.getoption("--check-starter") and reporter is not None:
        bad = progress.errors + progress.non_todo_failures
        if bad:
            reporter.write_line("starter check FAILED: these tests failed or errored other than through a TODO:")
            for nodeid in bad:
                reporter.write_line(f"  {nodeid}")
            session.exitstatus = 1
        elif session.exitstatus == pytest.ExitCode.TESTS_FAILED:
            reporter.write_line("starter check passed: every failure is a clean TODO failure, no errors.")
            session.exitstatus = 0
    if reporter is not None and progress.contract:
        reporter.write_sep("=", f"Checkpoint project contract — graded: checkpoint_project/{progress.impl}.py, through its command line only")
        for line in progress.contract_lines():
            reporter.write_line(line)
        reporter.write_line('(the sections: checkpoint_project/README.md, "The command-line contract")')
    if reporter is None or not (progress.tests or progress.missing):
        return result
    answers = "quiz_explanations.md" if state.instructor_run else "quiz_answers.txt"
    reporter.write_sep("=", f"Phase 1 progress — graded: {progress.impl}.py in each lab folder, {answers}")
    if progress.quiz is not None and progress.quiz.passed and (progress.quiz.wrong or progress.quiz.format_errors):
        reporter.write_line(progress.quiz.report())
    for line in progress.lines():
        reporter.write_line(line)
    if not state.runslow:
        reporter.write_line("(slow training tests were not run; add --runslow to include them)")
    return result
