"""The run's state, kept in `config.stash` under one typed key (no attributes added to pytest's objects)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.course import Course, Lab, Task
from harness.progress import Progress

INSTRUCTOR = "instructor"
INSTRUCTOR_FOLDER = "instructor"  # tests/instructor/: course self-checks, found by their folder


@dataclass
class TaskFailures:
    """A task's failing tests in a learner's run: the first one's report is shown whole, each later one
    becomes a line under it (harness/reporting.py folds them at the end of the run)."""

    first: pytest.TestReport
    later: list[tuple[pytest.TestReport, str]] = field(default_factory=list)  # (report, its one-line summary)


@dataclass
class RunState:
    course: Course
    impl: str  # the graded file's name in each lab folder, without .py
    runslow: bool
    progress: Progress
    contract_run: bool = False  # the contract suite was asked for (contract_run(config), decided once)
    modules: dict[Path, object] = field(default_factory=dict)  # lab file -> module, or the error its import raised
    broken_reported: set[Path] = field(default_factory=set)
    task_failures: dict[str, TaskFailures] = field(default_factory=dict)  # task id -> its short failure reports

    @property
    def instructor_run(self) -> bool:
        return self.impl == "solution"

    def graded_file(self, lab: Lab | None) -> Path | None:
        if lab is None or not lab.graded:
            return None
        return self.course.root / lab.folder / f"{self.impl}.py"


RUN = pytest.StashKey[RunState]()


def run_state(config) -> RunState:
    return config.stash[RUN]


def lab_of(item) -> Lab | None:
    course = run_state(item.config).course
    return next((lab for lab in course.labs if item.get_closest_marker(lab.marker)), None)


def task_of(item) -> Task | None:
    course = run_state(item.config).course
    for mark in item.iter_markers():
        task = course.task(mark.name)
        if task is not None:
            return task
    return None


def task_id_of(item) -> str | None:
    task = task_of(item)
    return task.id if task else None


CONTRACT = "contract"  # the checkpoint project's command-line contract: runs only when -m can select it
CONTRACT_TESTS = "test_contract.py"  # its one module (tests/test_contract.py); no other test carries the marker
