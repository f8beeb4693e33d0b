"""The course's self-grading harness (pytest plugin for the whole repository).

What it adds to pytest:
- `--impl starter|solution|NAME` (or PHASE1_IMPL): which file of each lab folder is graded.
  Tests get that file as the `lab` fixture, loaded by path as its own module.
- Markers: one per lab (`lab1`..`lab6`, `checkpoint`, `quiz`), one per task (`task1_3`),
  `gpu` (skipped without CUDA) and `slow` (deselected unless --runslow or PHASE1_SLOW=1).
- A test that reaches an unfinished `raise NotImplementedError("TODO(...)")` fails with one
  line naming the task, the file, the function and the README section to read.
- A progress table at the end of every run: per lab, tasks passed / to do / failing / skipped.
- `--check-starter` (for CI): exit 0 when every failure is a TODO failure and nothing errors.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Lab:
    marker: str
    folder: str
    title: str


LABS = [
    Lab("lab1", "lab1_tensors", "Lab 1  Tensors & Autograd"),
    Lab("lab2", "lab2_modules", "Lab 2  Custom nn.Module"),
    Lab("lab3", "lab3_training_loop", "Lab 3  Training loop"),
    Lab("lab4", "lab4_data_loading", "Lab 4  Data loading"),
    Lab("lab5", "lab5_gpu_mixed_precision", "Lab 5  GPU & mixed precision"),
    Lab("lab6", "lab6_cnn_classifier", "Lab 6  CNN classifier"),
    Lab("checkpoint", "checkpoint_project", "Checkpoint project"),
    Lab("quiz", "quiz", "Quiz"),
]
LAB_BY_MARKER = {lab.marker: lab for lab in LABS}
TASK_MARK = re.compile(r"^task(?P<lab>[0-9]+|c|q)_(?P<number>[0-9]+)$")
TODO_MESSAGE = re.compile(r"TODO\((?P<task>task\w+)\)")


# --------------------------------------------------------------------------- options


def pytest_addoption(parser):
    group = parser.getgroup("phase1", "PyTorch Foundations course")
    group.addoption(
        "--impl",
        default=os.environ.get("PHASE1_IMPL") or "starter",
        help="which file to grade in each lab folder: starter (default), solution, or NAME for NAME.py "
        "(env: PHASE1_IMPL)",
    )
    group.addoption("--runslow", action="store_true", help="also run `slow` tests (real training; env: PHASE1_SLOW=1)")
    group.addoption(
        "--check-starter",
        action="store_true",
        help="CI: succeed when every failure is a clean TODO failure and nothing errors",
    )


def pytest_configure(config):
    for lab in LABS:
        config.addinivalue_line("markers", f"{lab.marker}: {lab.title.split('  ')[-1]} ({lab.folder})")
    for lab_id in [*map(str, range(1, 7)), "c", "q"]:
        for number in range(1, 16):
            config.addinivalue_line("markers", f"task{lab_id}_{number}: a task id used in the lab READMEs")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped with a reason without one")
    config.addinivalue_line("markers", "slow: real training; deselected unless --runslow or PHASE1_SLOW=1")
    config.addinivalue_line("markers", "data: needs the CIFAR-10 image folder named by CIFAR10_DIR")
    config._phase1 = Progress(impl_name(config))
    check_impl_exists(config)


def impl_name(config) -> str:
    name = config.getoption("--impl")
    return name[:-3] if name.endswith(".py") else name


def available_impls(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in {"benchmark", "conftest"})


def check_impl_exists(config):
    """`--impl NAME` that names no file at all is a usage error with the choices listed."""
    name = impl_name(config)
    folders = [ROOT / lab.folder for lab in LABS if (ROOT / lab.folder / "solution.py").exists()]
    if not folders or any((folder / f"{name}.py").exists() for folder in folders):
        return
    choices = sorted({impl for folder in folders for impl in available_impls(folder)})
    raise pytest.UsageError(
        f"--impl {name}: no lab folder has a file {name}.py. Available implementations: {', '.join(choices)}. "
        f"Put your file next to starter.py (e.g. lab1_tensors/{name}.py) or pick one of those."
    )


def runslow(config) -> bool:
    markexpr = config.getoption("-m") or ""
    return config.getoption("--runslow") or os.environ.get("PHASE1_SLOW") == "1" or "slow" in markexpr


def pytest_collection_modifyitems(config, items):
    if not runslow(config):
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if not item.get_closest_marker("slow")]
    if any(item.get_closest_marker("gpu") for item in items):
        import torch

        if not torch.cuda.is_available():
            skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False); run it on a GPU machine")
            for item in items:
                if item.get_closest_marker("gpu"):
                    item.add_marker(skip)


# --------------------------------------------------------------------------- fixtures


def lab_of(item) -> Lab | None:
    for lab in LABS:
        if item.get_closest_marker(lab.marker):
            return lab
    return None


def task_of(item) -> str | None:
    for mark in item.iter_markers():
        if TASK_MARK.match(mark.name):
            return mark.name
    return None


_modules: dict[Path, object] = {}
_broken_reported: set[Path] = set()


def load_module(path: Path):
    """Import one lab file by path under a unique module name (no sys.path changes)."""
    if path not in _modules:
        name = f"phase1_{path.parent.name}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up here
        try:
            spec.loader.exec_module(module)
        except BaseException as error:
            del sys.modules[name]
            _modules[path] = error
        else:
            _modules[path] = module
    return _modules[path]


def describe_import_error(error: BaseException, path: Path) -> str:
    rel = path.relative_to(ROOT)
    if isinstance(error, SyntaxError):
        return f"{rel} has a syntax error at line {error.lineno}: {error.msg}. Fix it and run again."
    return f"{rel} could not be imported: {type(error).__name__}: {error}. Fix it and run again."


@pytest.fixture
def lab_path(request) -> Path:
    """Path of the graded file (starter.py, solution.py or NAME.py) of this test's lab."""
    lab = lab_of(request.node)
    if lab is None:
        raise RuntimeError(f"{request.node.nodeid} has no lab marker; add `pytestmark = pytest.mark.labN`")
    folder = ROOT / lab.folder
    name = request.config._phase1.impl
    path = folder / f"{name}.py"
    if not path.exists():
        pytest.skip(f"{lab.folder}/{name}.py does not exist (available: {', '.join(available_impls(folder))})")
    return path


class BrokenLab:
    """Stands in for a lab file that failed to import: the lab's first test that uses it fails
    with one clear line, the others skip, and the other labs still run."""

    def __init__(self, path: Path, error: BaseException):
        self.path, self.error = path, error

    def __getattr__(self, name):
        if self.path in _broken_reported:
            pytest.skip(f"{self.path.relative_to(ROOT)} failed to import (see the first failure of this lab)")
        _broken_reported.add(self.path)
        pytest.fail(describe_import_error(self.error, self.path), pytrace=False)


@pytest.fixture
def lab(lab_path):
    """The graded lab file, imported as a module (once per run)."""
    module = load_module(lab_path)
    return BrokenLab(lab_path, module) if isinstance(module, BaseException) else module


@pytest.fixture
def run_lab_script(lab_path):
    """Run the graded file as a script: run_lab_script("train", "--epochs", "1", timeout=120).

    Returns the CompletedProcess. A TODO reached in the child process surfaces here as the
    same one-line TODO failure a direct call would give.
    """

    def run(*args, timeout=300, env=None, cwd=None, check=True):
        result = subprocess.run(
            [sys.executable, str(lab_path), *map(str, args)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env={**os.environ, **(env or {})},
            cwd=cwd,
        )
        raise_todo_from_output(result.stdout + result.stderr)
        if check and result.returncode != 0:
            pytest.fail(
                f"`python {lab_path.relative_to(ROOT)} {' '.join(map(str, args))}` exited with {result.returncode}:\n"
                f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}",
                pytrace=False,
            )
        return result

    return run


def raise_todo_from_output(output: str):
    """Re-raise a TODO NotImplementedError printed by a child process (script or torchrun worker)."""
    match = re.search(r"^(?:NotImplementedError: )?(TODO\(task\w+\): .*)$", output, re.MULTILINE)
    if match:
        where = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', output[: match.start()])
        error = NotImplementedError(match.group(1))
        if where:
            error.phase1_where = where[-1]
        raise error


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


# --------------------------------------------------------------------------- reports


def readme_section(task: str | None, lab: Lab | None) -> str:
    if lab is None:
        return "the lab README"
    if lab.marker == "quiz":
        return "quiz.md"
    match = TASK_MARK.match(task or "")
    if not match:
        return f"{lab.folder}/README.md"
    lab_id = {"c": "C", "q": "Q"}.get(match["lab"], match["lab"])
    return f'{lab.folder}/README.md, section "Task {lab_id}.{match["number"]}"'


def todo_line(excinfo, item) -> str:
    """One line for an unfinished TODO: task, file, function, line and where to read."""
    message = str(excinfo.value)
    task = TODO_MESSAGE.match(message)["task"]
    where = getattr(excinfo.value, "phase1_where", None)
    if isinstance(where, str):  # a TODO that is not in a lab file (the quiz's answers file)
        return f"{message}\n    -> {where}"
    if where:
        filename, line, function = where
    else:
        entry = excinfo.traceback[-1]
        filename, line, function = str(entry.path), entry.lineno + 1, entry.name
    try:
        filename = str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        pass
    return f"{message}\n    -> edit {function}() in {filename} (line {line}); read {readme_section(task, lab_of(item))}"


def is_todo(excinfo) -> bool:
    return excinfo is not None and excinfo.errisinstance(NotImplementedError) and bool(
        TODO_MESSAGE.match(str(excinfo.value))
    )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    progress = item.config._phase1
    if is_todo(call.excinfo):
        report.longrepr = todo_line(call.excinfo, item)
        report.phase1_todo = True
    elif report.failed and report.when == "call" and lab_of(item) and hasattr(report.longrepr, "addsection"):
        report.longrepr.addsection("Hint", f"Read {readme_section(task_of(item), lab_of(item))}.")
    progress.record(item, report)


class Progress:
    """Collects each test's outcome by lab and task, and prints the table at the end."""

    def __init__(self, impl: str):
        self.impl = impl
        self.tests: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.quiz = None  # tools/grade_quiz.py's QuizResult, set by tests/test_quiz.py
        self.errors: list[str] = []
        self.non_todo_failures: list[str] = []

    def record(self, item, report):
        if report.when == "call" or not report.passed:
            if getattr(report, "phase1_todo", False):
                state = "todo"
            elif report.skipped:
                state = "skipped"
            elif report.passed:
                state = "passed"
            else:
                state = "failing"
                (self.non_todo_failures if report.when == "call" else self.errors).append(item.nodeid)
            lab = lab_of(item)
            if lab is not None:
                self.tests[lab.marker][task_of(item) or "other"].append(state)

    @staticmethod
    def task_state(states: list[str]) -> str:
        for state in ("failing", "todo"):
            if state in states:
                return state
        if all(state == "skipped" for state in states):
            return "skipped"
        return "passed"

    def lines(self) -> list[str]:
        head = f"{'':32}{'tasks':>6}{'passed':>8}{'to do':>7}{'failing':>9}{'skipped':>9}   next"
        lines = [head]
        for lab in LABS:
            tasks = self.tests.get(lab.marker)
            if not tasks:
                lines.append(f"{lab.title:32}{'-':>6}   (not run)")
                continue
            states = {task: self.task_state(s) for task, s in sorted(tasks.items(), key=lambda kv: task_sort_key(kv[0]))}
            count = {state: sum(1 for s in states.values() if s == state) for state in ("passed", "todo", "failing", "skipped")}
            pending = [task for task, state in states.items() if state in ("failing", "todo")]
            nxt = f"{pending[0]} ({readme_section(pending[0], lab)})" if pending else "done" if not count["skipped"] else ""
            if lab.marker == "quiz" and self.quiz is not None:
                nxt = f"score {self.quiz.score}/10, {'passed' if self.quiz.passed else 'not passed (8 needed)'}"
            lines.append(
                f"{lab.title:32}{len(states):>6}{count['passed']:>8}{count['todo']:>7}{count['failing']:>9}"
                f"{count['skipped']:>9}   {nxt}"
            )
        return lines


def task_sort_key(task: str):
    match = TASK_MARK.match(task)
    return (0, int(match["number"])) if match else (1, 0)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    progress = config._phase1
    if not progress.tests:
        return
    answers = "quiz_explanations.md" if progress.impl == "solution" else "quiz_answers.txt"
    terminalreporter.section(f"Phase 1 progress — graded: {progress.impl}.py in each lab folder, {answers}", sep="=")
    for line in progress.lines():
        terminalreporter.write_line(line)
    if progress.quiz is not None and (progress.quiz.wrong or progress.quiz.blank) and progress.quiz.score:
        terminalreporter.write_line(progress.quiz.report())
    if not runslow(config):
        terminalreporter.write_line("(slow training tests were not run; add --runslow to include them)")


def pytest_sessionfinish(session, exitstatus):
    config = session.config
    if not config.getoption("--check-starter"):
        return
    progress = config._phase1
    bad = progress.errors + progress.non_todo_failures
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    if bad:
        reporter.write_line("starter check FAILED: these tests failed or errored other than through a TODO:")
        for nodeid in bad:
            reporter.write_line(f"  {nodeid}")
        session.exitstatus = 1
    elif exitstatus == pytest.ExitCode.TESTS_FAILED:
        reporter.write_line("starter check passed: every failure is a clean TODO failure, no errors.")
        session.exitstatus = 0
