"""The fixtures lab tests use: the graded file (`lab`, `lab_path`), running it in a child process
(`run_lab_script`, `child_lab_path`), the offline data (`cifar10_dir`) and `one_thread`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import loading
from harness.selection import available_impls
from harness.state import lab_of, run_state, task_id_of
from harness.todos import raise_todo_from_output, raise_todo_of_untouched_task


class PlainFailure(pytest.fail.Exception):
    """A failure whose message is complete already: the report adds no pointer to the test's task."""


@pytest.fixture
def lab_path(request) -> Path:
    """Path of the graded file (starter.py, solution.py or NAME.py) of this test's lab."""
    lab = lab_of(request.node)
    if lab is None:
        raise RuntimeError(f"{request.node.nodeid} has no lab marker; add `pytestmark = pytest.mark.labN`")
    state = run_state(request.config)
    path = state.graded_file(lab)
    if not path.exists():
        pytest.skip(f"{lab.folder}/{path.name} does not exist (available: {', '.join(available_impls(path.parent))})")
    return path


class BrokenLab:
    """Stands in for a lab file that failed to import: the lab's first test that uses it fails
    with one clear message, the others skip, and the other labs still run."""

    def __init__(self, path: Path, error: BaseException, state):
        self.path, self.error, self.state = path, error, state

    def __getattr__(self, name):
        course = self.state.course
        if self.path in self.state.broken_reported:
            pytest.skip(f"{course.relative(self.path)} failed to import (see the first failure of this lab)")
        self.state.broken_reported.add(self.path)
        raise PlainFailure(loading.describe_import_error(self.error, self.path, course.root), pytrace=False)


@pytest.fixture
def lab(request, lab_path):
    """The graded lab file, imported as a module (once per run)."""
    state = run_state(request.config)
    if lab_path not in state.modules:
        state.modules[lab_path] = loading.import_lab_file(lab_path)
    module = state.modules[lab_path]
    if isinstance(module, BaseException):
        state.progress.broken.setdefault(lab_of(request.node).marker, (lab_path, module))
        return BrokenLab(lab_path, module, state)
    return module


@pytest.fixture
def child_lab_path(lab_path) -> Path:
    """lab_path, for a test that runs the graded file in a child process: an untouched task's
    TODO fails at once (from pytest_runtest_call) instead of after the child's start-up."""
    return lab_path


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if "child_lab_path" in getattr(item, "fixturenames", ()):
        raise_todo_of_untouched_task(item.funcargs["child_lab_path"], task_id_of(item))


@pytest.fixture
def run_lab_script(request, child_lab_path):
    """Run the graded file as a script: run_lab_script("train", "--epochs", "1", timeout=120).

    Returns the CompletedProcess. A TODO reached in the child process surfaces here as the
    same one-line TODO failure a direct call would give.
    """
    lab_path = child_lab_path
    course = run_state(request.config).course

    def run(*args, timeout=300, env=None, cwd=None, check=True):
        result = subprocess.run(
            [sys.executable, str(lab_path), *map(str, args)],
            capture_output=True, text=True, timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd,
        )
        raise_todo_from_output(result.stdout + result.stderr)
        if check and result.returncode != 0:
            output = (result.stdout + result.stderr).strip().splitlines()
            pytest.fail(
                f"`python {course.relative(lab_path)} {' '.join(map(str, args))}` exited with {result.returncode}; "
                f"its last lines:\n" + "\n".join(output[-12:]),
                pytrace=False,
            )
        return result

    return run


@pytest.fixture
def cifar10_dir() -> Path:
    """The offline CIFAR-10 image folder (train/ and test/), from the CIFAR10_DIR environment variable."""
    value = os.environ.get("CIFAR10_DIR")
    if not value:
        pytest.skip("CIFAR10_DIR is not set: unpack CIFAR-10 as an image folder (train/, test/) and export CIFAR10_DIR")
    path = Path(value)
    if not (path / "train").is_dir() or not (path / "test").is_dir():
        pytest.skip(f"CIFAR10_DIR={path} has no train/ and test/ folders")
    return path


@pytest.fixture
def one_thread(request):
    """Run a test on one CPU thread, restoring the setting afterwards. Tests of small tensors use it
    (`pytest.mark.usefixtures("one_thread")`): a second OpenMP thread gains them nothing, and on a
    busy machine threads waiting for each other make them several times slower. `slow` and `gpu`
    tests keep every core."""
    if request.node.get_closest_marker("slow") or request.node.get_closest_marker("gpu"):
        yield
        return
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
