"""The course's self-grading harness (pytest plugin for the whole repository).

What it adds to pytest:
- `--impl starter|solution|NAME` (or PHASE1_IMPL): which file of each lab folder is graded.
  Tests get that file as the `lab` fixture, loaded by path as its own module. NAME is a plain
  file name in the lab folder (no paths). A lab without NAME.py is left out with one line.
- Markers: one per lab (`lab1`..`lab6`, `checkpoint`, `quiz`), one per task (`task1_3`),
  `gpu` (skipped without CUDA), `slow` (deselected unless --runslow or PHASE1_SLOW=1) and
  `instructor` (course self-checks: they run only with `--impl solution`, i.e. in CI, never
  in a learner's run).
- A test that reaches an unfinished `raise NotImplementedError("TODO(...)")` fails with one
  line naming the task, the file, the function, the README section and `pytest --hint TASK`.
- Any other failure of a lab test is a few lines: the assertion message, the learner's own
  line, where to read. `--tb=long` (or short/line/native) gives pytest's usual report.
- A learner file is imported with a time limit (PHASE1_IMPORT_TIMEOUT, default 60 s); an
  import that fails, hangs or calls os._exit()/sys.exit() fails once with the line and task.
- `pytest --hint task1_3` prints the next hint level from the lab's hints.md (tools/hints.py).
- A progress table is the last thing every run prints: per lab, tasks passed / to do /
  failing, and tests skipped; a filtered run says how many of the lab's tasks ran.
- `-m lab1` (or any marker expression that rules a test module out) does not even import
  the other labs' test modules: feedback stays fast.
- `--check-starter` (for CI): exit 0 when every failure is a TODO failure and nothing errors.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import linecache
import os
import re
import signal
import subprocess
import sys
import threading
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
    task_prefix: str


LABS = [
    Lab("lab1", "lab1_tensors", "Lab 1  Tensors & Autograd", "task1_"),
    Lab("lab2", "lab2_modules", "Lab 2  Custom nn.Module", "task2_"),
    Lab("lab3", "lab3_training_loop", "Lab 3  Training loop", "task3_"),
    Lab("lab4", "lab4_data_loading", "Lab 4  Data loading", "task4_"),
    Lab("lab5", "lab5_gpu_mixed_precision", "Lab 5  GPU & mixed precision", "task5_"),
    Lab("lab6", "lab6_cnn_classifier", "Lab 6  CNN classifier", "task6_"),
    Lab("checkpoint", "checkpoint_project", "Checkpoint project", "taskc_"),
    Lab("quiz", "quiz", "Quiz", "taskq_"),
]
LAB_BY_MARKER = {lab.marker: lab for lab in LABS}
TASK_MARK = re.compile(r"^task(?P<lab>[0-9]+|c|q)_(?P<number>[0-9]+)$")
TODO_MESSAGE = re.compile(r"TODO\((?P<task>task\w+)\)")
IMPL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
INSTRUCTOR = "instructor"
# Test modules that hold only instructor checks: never imported in a learner's run.
INSTRUCTOR_MODULES = {
    "test_harness.py",
    "test_course_checks.py",
    "test_learner_run.py",
    "test_wrong_answers.py",
}
TB_HINT = "add --tb=long for the whole traceback"


def lab_of_module(filename: str) -> Lab | None:
    for lab in LABS:
        if filename == f"test_{lab.folder}.py":
            return lab
    return None


# --------------------------------------------------------------------------- options


def pytest_addoption(parser):
    group = parser.getgroup("phase1", "PyTorch Foundations course")
    group.addoption(
        "--impl",
        default=None,
        help="which file to grade in each lab folder: starter (default), solution, or NAME for NAME.py in "
        "the lab folder (env: PHASE1_IMPL)",
    )
    group.addoption("--runslow", action="store_true", help="also run `slow` tests (real training; env: PHASE1_SLOW=1)")
    group.addoption(
        "--check-starter",
        action="store_true",
        help="CI: succeed when every failure is a clean TODO failure and nothing errors",
    )
    group.addoption("--hint", metavar="TASK", help="print the next hint level for TASK (e.g. task1_3) and exit")
    group.addoption(
        "--hint-level", type=int, metavar="N", help="with --hint: show level N (1-3) again instead of the next one"
    )
    group.addoption("--phase1-results", metavar="FILE", help="tools: write every test's outcome as JSON to FILE")


def impl_setting(config) -> tuple[str, str]:
    """(value, where it came from): the --impl option, else PHASE1_IMPL, else starter."""
    value = config.getoption("--impl")
    if value:
        return value, "--impl "
    env = os.environ.get("PHASE1_IMPL")
    if env:
        return env, "PHASE1_IMPL="
    return "starter", "--impl "


def impl_name(config) -> str:
    name = impl_setting(config)[0]
    return name[:-3] if name.endswith(".py") else name


def pytest_cmdline_main(config):
    """`pytest --hint task1_3`: print a hint and exit without running tests."""
    task = config.getoption("--hint")
    if not task:
        return None
    from tools import hints

    level = config.getoption("--hint-level")
    return hints.main([task, *(["--level", str(level)] if level else [])])


def pytest_configure(config):
    for lab in LABS:
        config.addinivalue_line("markers", f"{lab.marker}: {lab.title.split('  ')[-1]} ({lab.folder})")
    for lab_id in [*map(str, range(1, 7)), "c", "q"]:
        for number in range(1, 21):
            config.addinivalue_line("markers", f"task{lab_id}_{number}: a task id used in the lab READMEs")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped with a reason without one")
    config.addinivalue_line("markers", "slow: real training; deselected unless --runslow or PHASE1_SLOW=1")
    config.addinivalue_line("markers", "data: needs the CIFAR-10 image folder named by CIFAR10_DIR")
    config.addinivalue_line("markers", f"{INSTRUCTOR}: a course self-check; runs only with --impl solution (and in CI)")
    check_impl(config)
    config._phase1 = Progress(impl_name(config))


def available_impls(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in {"benchmark", "conftest"})


def check_impl(config):
    """`--impl NAME` must be a plain file name that exists in at least one lab folder."""
    value, source = impl_setting(config)
    name = impl_name(config)
    if not IMPL_NAME.match(name):
        raise pytest.UsageError(
            f"{source}{value}: give the name of a file in the lab folder, such as `mine` for lab1_tensors/mine.py "
            "(a plain name: no folders, no ..)."
        )
    folders = [ROOT / lab.folder for lab in LABS if (ROOT / lab.folder / "solution.py").exists()]
    if not folders or any((folder / f"{name}.py").exists() for folder in folders):
        return
    choices = sorted({impl for folder in folders for impl in available_impls(folder)})
    raise pytest.UsageError(
        f"{source}{value}: no lab folder has a file {name}.py. Available implementations: {', '.join(choices)}. "
        f"Put your file next to starter.py (e.g. lab1_tensors/{name}.py) or pick one of those."
    )


def runslow(config) -> bool:
    markexpr = config.getoption("-m") or ""
    return config.getoption("--runslow") or os.environ.get("PHASE1_SLOW") == "1" or "slow" in markexpr


# --------------------------------------------------------------------------- collection


def module_may_match(markexpr: str, module_lab: Lab | None, instructor: bool) -> bool:
    """Can any test of a module (every test of it carrying `module_lab`'s marker, or
    `instructor`) match the -m expression? Other labs' and tasks' markers are known to be
    absent; the module's own task markers, gpu, slow, data and unknown names may be either."""
    try:
        from _pytest.mark.expression import Expression

        expression = Expression.compile(markexpr)
    except Exception:
        return True
    definite = {module_lab.marker} if module_lab else {INSTRUCTOR} if instructor else set()

    def known_absent(name: str) -> bool:
        if name in definite:
            return False
        if name in LAB_BY_MARKER or name == INSTRUCTOR:
            return True
        if TASK_MARK.match(name):
            return module_lab is None or not name.startswith(module_lab.task_prefix)
        return False

    names = set(re.findall(r"[A-Za-z_]\w*", markexpr)) - {"and", "or", "not"}
    free = sorted(name for name in names if name not in definite and not known_absent(name))
    if len(free) > 10:
        return True
    for values in itertools.product((False, True), repeat=len(free)):
        assignment = dict(zip(free, values))

        def matcher(name, /, **kwargs):
            return name in definite or assignment.get(name, False)

        try:
            if expression.evaluate(matcher):
                return True
        except Exception:
            return True
    return False


def pytest_ignore_collect(collection_path, config):
    """Skip importing test modules that cannot contribute: instructor modules in a learner's
    run, and modules ruled out by -m (so `pytest -m lab1` imports one test module)."""
    path = Path(collection_path)
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return None
    instructor = path.name in INSTRUCTOR_MODULES
    if instructor and config._phase1.impl != "solution":
        return True
    markexpr = config.getoption("-m") or ""
    module_lab = lab_of_module(path.name)
    if markexpr and (module_lab or instructor) and not module_may_match(markexpr, module_lab, instructor):
        return True
    return None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Before -m/-k select: drop instructor checks (learner's run), slow tests (unless asked)
    and labs without the graded file (one line per lab), then count each lab's tasks."""
    progress = config._phase1
    keep, drop = [], []
    for item in items:
        lab = lab_of(item)
        if item.get_closest_marker(INSTRUCTOR) and progress.impl != "solution":
            drop.append(item)
        elif item.get_closest_marker("slow") and not runslow(config):
            drop.append(item)
        elif lab is not None and lab.marker != "quiz" and not (ROOT / lab.folder / f"{progress.impl}.py").exists():
            progress.missing[lab.marker] += 1
            drop.append(item)
        else:
            keep.append(item)
            if lab is not None:
                progress.planned[lab.marker][task_of(item) or "other"] += 1
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
    instructor = sum(1 for item in drop if item.get_closest_marker(INSTRUCTOR))
    if instructor:
        progress.notes.append(f"{instructor} instructor checks left out: they run only with --impl solution")
    if any(item.get_closest_marker("gpu") for item in items):
        import torch

        if not torch.cuda.is_available():
            skip = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False); run it on a GPU machine")
            for item in items:
                if item.get_closest_marker("gpu"):
                    item.add_marker(skip)


def pytest_collection_finish(session):
    progress = session.config._phase1
    for item in session.items:
        lab = lab_of(item)
        if lab is not None:
            progress.selected[lab.marker][task_of(item) or "other"] += 1


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


class ImportTimeout(Exception):
    """A learner file took longer than PHASE1_IMPORT_TIMEOUT seconds to import."""


class ExitAtImport(Exception):
    """A learner file called os._exit() while being imported."""


def import_timeout() -> float:
    try:
        return float(os.environ.get("PHASE1_IMPORT_TIMEOUT", "60"))
    except ValueError:
        return 60.0


def load_module(path: Path):
    """Import one lab file by path under a unique module name (no sys.path changes), with a
    time limit, and with os._exit() turned into an error while it imports."""
    if path not in _modules:
        name = f"phase1_{path.parent.name}_{path.stem}"
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # dataclasses and pickling look modules up here
        limit = import_timeout()
        alarm = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread() and limit > 0
        real_exit, pid = os._exit, os.getpid()

        def guarded_exit(code):
            if os.getpid() != pid:  # a forked worker ends as usual
                real_exit(code)
            raise ExitAtImport(f"os._exit({code}) was called")

        def on_alarm(signum, frame):
            raise ImportTimeout(f"did not finish importing within {limit:g} s")

        previous = signal.signal(signal.SIGALRM, on_alarm) if alarm else None
        if alarm:
            signal.setitimer(signal.ITIMER_REAL, limit)
        os._exit = guarded_exit
        try:
            spec.loader.exec_module(module)
        except KeyboardInterrupt:
            raise
        except BaseException as error:
            del sys.modules[name]
            _modules[path] = error
        else:
            _modules[path] = module
        finally:
            os._exit = real_exit
            if alarm:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
    return _modules[path]


DEF_LINE = re.compile(r"^(?P<indent>[ \t]*)(?:async\s+)?(?:def|class)\s+(?P<name>\w+)")


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


def task_by_function(folder: Path) -> dict[str, str]:
    """Function name -> task id, from the BEGIN SOLUTION markers of the lab's solution.py."""
    mapping: dict[str, str] = {}
    solution = folder / "solution.py"
    if not solution.exists():
        return mapping
    lines = solution.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        found = re.search(r"#\s*BEGIN SOLUTION\((task\w+)\)", line)
        if found:
            function = enclosing_function(lines, number)
            if function:
                mapping.setdefault(function, found[1])
    return mapping


def error_location(error: BaseException, path: Path) -> tuple[int, str] | None:
    """(line number, source line) in `path` where an import error happened."""
    if isinstance(error, SyntaxError) and error.lineno and Path(error.filename or "").resolve() == path.resolve():
        return error.lineno, (error.text or "").rstrip("\n")
    found = None
    tb = error.__traceback__
    while tb is not None:
        if Path(tb.tb_frame.f_code.co_filename).resolve() == path.resolve():
            found = tb.tb_lineno
        tb = tb.tb_next
    if found is None:
        return None
    return found, linecache.getline(str(path), found).rstrip("\n")


def describe_import_error(error: BaseException, path: Path) -> str:
    rel = path.relative_to(ROOT)
    location = error_location(error, path)
    where, task = "", None
    if location:
        lineno, source = location
        lines = path.read_text().splitlines()
        function = enclosing_function(lines, lineno)
        task = task_by_function(path.parent).get(function) if function else None
        inside = f"in {function}()" if function else "at the top level"
        where = f"line {lineno}, {inside}" + (f" ({task})" if task else "") + f":\n    {source.strip()}"
    if isinstance(error, SyntaxError):
        what = f"has a syntax error ({error.msg})"
    elif isinstance(error, ImportTimeout):
        what = f"{error} (an endless loop or a long run at import?)"
    elif isinstance(error, ExitAtImport):
        what = "called os._exit() while being imported, which would end the test run without grading anything"
    elif isinstance(error, SystemExit):
        what = f"called sys.exit({error.code!r}) while being imported"
    else:
        what = f"could not be imported: {type(error).__name__}: {error}"
    text = f"{rel} {what}" + (f" — {where}" if where else "")
    if isinstance(error, (ImportTimeout, ExitAtImport, SystemExit)):
        text += '\n    Code at the top level runs when the tests import the file: put demos under `if __name__ == "__main__":`.'
        if isinstance(error, ImportTimeout):
            text += " (PHASE1_IMPORT_TIMEOUT sets the limit in seconds.)"
    text += "\n    Fix it and run again: this lab's tests wait for it."
    return text


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
    with one clear message, the others skip, and the other labs still run."""

    def __init__(self, path: Path, error: BaseException):
        self.path, self.error = path, error

    def __getattr__(self, name):
        if self.path in _broken_reported:
            pytest.skip(f"{self.path.relative_to(ROOT)} failed to import (see the first failure of this lab)")
        _broken_reported.add(self.path)
        error = pytest.fail.Exception(describe_import_error(self.error, self.path), pytrace=False)
        error.phase1_plain = True  # already a complete message: no pointer to the test's task
        raise error


@pytest.fixture
def lab(request, lab_path):
    """The graded lab file, imported as a module (once per run)."""
    module = load_module(lab_path)
    if isinstance(module, BaseException):
        lab = lab_of(request.node)
        request.config._phase1.broken.setdefault(lab.marker, (lab_path, module))
        return BrokenLab(lab_path, module)
    return module


def raise_todo_of_untouched_task(path: Path, task: str | None):
    """Raise the TODO of `task` when every one of its blocks in the graded file is still a TODO.

    A test that runs the file in a child process (a script, torchrun workers) spends seconds
    importing torch before it meets that TODO; nobody has started the task, so the outcome is
    known. A task that is partly written runs for real."""
    if task is None or not path.exists():
        return
    lines = path.read_text().splitlines()
    todos = [number for number, line in enumerate(lines, start=1) if f"TODO({task})" in line and "raise NotImplementedError" in line]
    solution = path.parent / "solution.py"
    blocks = solution.read_text().count(f"# BEGIN SOLUTION({task})") if solution.exists() else 1
    if todos and len(todos) >= blocks:
        match = re.search(r"(TODO\(task\w+\): .*?)[\"']\)", lines[todos[0] - 1])
        error = NotImplementedError(match.group(1) if match else f"TODO({task})")
        error.phase1_where = (str(path), todos[0], enclosing_function(lines, todos[0]) or "?")
        raise error


@pytest.fixture
def child_lab_path(lab_path) -> Path:
    """lab_path, for a test that runs the graded file in a child process: an untouched task's
    TODO fails at once (raise_todo_of_untouched_task, from pytest_runtest_call) instead of
    after the child's start-up."""
    return lab_path


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    if "child_lab_path" in getattr(item, "fixturenames", ()):
        raise_todo_of_untouched_task(item.funcargs["child_lab_path"], task_of(item))


@pytest.fixture
def run_lab_script(child_lab_path):
    """Run the graded file as a script: run_lab_script("train", "--epochs", "1", timeout=120).

    Returns the CompletedProcess. A TODO reached in the child process surfaces here as the
    same one-line TODO failure a direct call would give.
    """
    lab_path = child_lab_path

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
            output = (result.stdout + result.stderr).strip().splitlines()
            pytest.fail(
                f"`python {lab_path.relative_to(ROOT)} {' '.join(map(str, args))}` exited with {result.returncode}; "
                f"its last lines:\n" + "\n".join(output[-12:]),
                pytrace=False,
            )
        return result

    return run


def raise_todo_from_output(output: str):
    """Re-raise a TODO NotImplementedError printed by a child process (script or torchrun worker).
    The failure line points at the TODO in the graded lab file."""
    match = re.search(r"^(?:NotImplementedError: )?(TODO\(task\w+\): .*)$", output, re.MULTILINE)
    if match:
        where = re.findall(r'File "([^"]+)", line (\d+), in (\w+)', output[: match.start()])
        error = NotImplementedError(match.group(1))
        if where and in_lab_folder(where[-1][0]):
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


def in_lab_folder(filename: str) -> bool:
    """Is this file one a learner edits (a .py file directly inside a lab folder)?"""
    try:
        path = Path(filename).resolve()
    except (OSError, ValueError):
        return False
    return path.suffix == ".py" and path.parent.parent == ROOT and any(path.parent.name == lab.folder for lab in LABS)


def rel(filename) -> str:
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return str(filename)


def graded_file(item) -> Path | None:
    lab = lab_of(item)
    if lab is None or lab.marker == "quiz":
        return None
    return ROOT / lab.folder / f"{item.config._phase1.impl}.py"


def find_todo(path: Path | None, task: str) -> tuple[str, int, str] | None:
    """(file, line, function) of the `TODO(task)` line in a lab file."""
    if path is None or not path.exists():
        return None
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if f"TODO({task})" in line and "raise" in line:
            return str(path), number, enclosing_function(lines, number) or "?"
    return None


def hint_command(task: str | None) -> str:
    return f"more help: pytest --hint {task}" if task and not task.startswith("taskq_") else ""


def todo_line(excinfo, item) -> str:
    """One line for an unfinished TODO: task, file, function, line, where to read, how to get a hint."""
    message = str(excinfo.value)
    task = TODO_MESSAGE.match(message)["task"]
    where = getattr(excinfo.value, "phase1_where", None)
    if isinstance(where, str):  # a TODO that is not in a lab file (the quiz's answers file)
        return f"{message}\n    -> {where}"
    if not where or not in_lab_folder(where[0]):
        where = None
        for entry in reversed(excinfo.traceback):
            if in_lab_folder(str(entry.path)):
                where = (str(entry.path), entry.lineno + 1, entry.name)
                break
    if where is None:  # raised on the harness's or a test's side for a child process: find it in the lab file
        where = find_todo(graded_file(item), task)
    pointer = f"read {readme_section(task, lab_of(item))}; {hint_command(task)}"
    if where is None:
        return f"{message}\n    -> {pointer}"
    filename, line, function = where
    return f"{message}\n    -> edit {function}() in {rel(filename)} (line {line}); {pointer}"


def is_todo(excinfo) -> bool:
    return excinfo is not None and excinfo.errisinstance(NotImplementedError) and bool(
        TODO_MESSAGE.match(str(excinfo.value))
    )


def clip(text: str, width: int = 220) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def failure_message(excinfo, max_lines: int = 6) -> list[str]:
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
    if len(lines) > max_lines:
        lines = lines[: max_lines - 1] + [f"... ({len(lines) - max_lines + 1} more lines; {TB_HINT})"]
    return [clip(line) for line in lines]


def learner_frame(excinfo, path: Path | None) -> tuple[int, str, str] | None:
    """(line, function, source) of the deepest traceback entry in the graded file."""
    if path is None:
        return None
    found = None
    for entry in excinfo.traceback:
        try:
            if Path(str(entry.path)).resolve() == path.resolve():
                found = entry
        except (OSError, ValueError):
            continue
    if found is None:
        return None
    line = found.lineno + 1
    return line, found.name, linecache.getline(str(path), line).strip()


def task_function(path: Path | None, task: str | None) -> tuple[str, int] | None:
    """(qualified name, def line) in the graded file of the function that holds `task`."""
    if path is None or task is None or not path.exists():
        return None
    names = [name for name, found in task_by_function(path.parent).items() if found == task]
    lines = path.read_text().splitlines()
    for number, line in enumerate(lines, start=1):
        if DEF_LINE.match(line) and enclosing_function(lines, number) in names:
            return enclosing_function(lines, number), number
    return None


def short_failure(excinfo, item, first_of_task: bool) -> str:
    """A learner-sized failure: message, the learner's line, where to read, how to see more."""
    lab, task, path = lab_of(item), task_of(item), graded_file(item)
    lines = failure_message(excinfo)
    frame = learner_frame(excinfo, path)
    if frame:
        line, function, source = frame
        lines.append(f"    your code: {rel(path)}, line {line}, in {function}(): {clip(source, 120)}")
    if first_of_task:
        extra = "; ".join(part for part in (hint_command(task), TB_HINT) if part)
        function = task_function(path, task) if not frame else None
        edit = f"edit {function[0]}() in {rel(path)} (line {function[1]}); " if function else ""
        lines.append(f"    -> {task or 'this test'}: {edit}read {readme_section(task, lab)}; {extra}")
    return "\n".join(lines)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    progress = item.config._phase1
    lab = lab_of(item)
    if is_todo(call.excinfo):
        task = TODO_MESSAGE.match(str(call.excinfo.value))["task"]
        own = task_of(item)
        needs = f"\n    ({own}'s tests need {task} first)" if own and own != task else ""
        if task in progress.todo_tasks and item.config.option.tbstyle == "auto":
            report.longrepr = f"TODO({task}): the same unfinished TODO as reported earlier in this run{needs}"
        else:
            report.longrepr = todo_line(call.excinfo, item) + needs
        progress.todo_tasks.add(task)
        report.phase1_todo = True
    elif report.failed and report.when == "call" and lab is not None and call.excinfo is not None:
        task = task_of(item)
        first = task not in progress.failed_tasks
        progress.failed_tasks.add(task)
        report.phase1_message = "\n".join(failure_message(call.excinfo))
        report.phase1_exc_type = type(call.excinfo.value).__name__
        if lab.marker == "quiz" or getattr(call.excinfo.value, "phase1_plain", False):
            pass  # a complete message already (the quiz report, a lab file that does not import)
        elif item.config.option.tbstyle == "auto":
            report.longrepr = short_failure(call.excinfo, item, first)
        elif hasattr(report.longrepr, "addsection"):
            extra = f"; {hint_command(task)}" if hint_command(task) else ""
            report.longrepr.addsection("Hint", f"Read {readme_section(task, lab)}{extra}.")
    progress.record(item, report)
    return report


class Progress:
    """Collects each test's outcome by lab and task, and prints the table at the very end."""

    def __init__(self, impl: str):
        self.impl = impl
        self.tests: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        self.planned: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.selected: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        self.missing: dict[str, int] = defaultdict(int)
        self.broken: dict[str, tuple[Path, BaseException]] = {}
        self.failed_tasks: set[str | None] = set()
        self.todo_tasks: set[str] = set()
        self.skipped_tests: dict[str, int] = defaultdict(int)
        self.quiz = None  # tools/grade_quiz.py's QuizResult, set by tests/test_quiz.py
        self.errors: list[str] = []
        self.non_todo_failures: list[str] = []
        self.results: list[dict] = []
        self.notes: list[str] = []

    def record(self, item, report):
        if not (report.when == "call" or not report.passed):
            return
        if getattr(report, "phase1_todo", False):
            state = "todo"
        elif report.skipped:
            state = "skipped"
        elif report.passed:
            state = "passed"
        else:
            state = "failing" if report.when == "call" else "error"
            (self.non_todo_failures if report.when == "call" else self.errors).append(item.nodeid)
        lab = lab_of(item)
        if lab is not None:
            self.tests[lab.marker][task_of(item) or "other"].append(state)
            if state == "skipped":
                self.skipped_tests[lab.marker] += 1
        self.results.append(
            {
                "nodeid": item.nodeid,
                "lab": lab.marker if lab else None,
                "task": task_of(item),
                "when": report.when,
                "state": state,
                "exc_type": getattr(report, "phase1_exc_type", None),
                "message": getattr(report, "phase1_message", None),
                "text": str(report.longrepr) if report.failed else "",
            }
        )

    @staticmethod
    def task_state(states: list[str]) -> str:
        for state in ("failing", "error", "todo"):
            if state in states:
                return "failing" if state == "error" else state
        if all(state == "skipped" for state in states):
            return "skipped"
        return "passed"

    def lines(self) -> list[str]:
        head = f"{'':30}{'tasks':>9}{'passed':>8}{'to do':>7}{'failing':>9}{'tests skipped':>15}   next"
        lines = [head]
        for lab in LABS:
            tasks = self.tests.get(lab.marker)
            if lab.marker in self.missing and not tasks:
                lines.append(f"{lab.title:30}{'-':>9}   (no {self.impl}.py in {lab.folder}: not graded)")
                continue
            if not tasks:
                lines.append(f"{lab.title:30}{'-':>9}   (not run)")
                continue
            planned = self.planned.get(lab.marker, {})
            # Tests without a task marker check given code: they do not count as tasks, but a
            # failing one keeps the lab from being done.
            states = {
                task: self.task_state(s)
                for task, s in sorted(tasks.items(), key=lambda kv: task_sort_key(kv[0]))
                if task != "other"
            }
            given = self.task_state(tasks["other"]) if "other" in tasks else "passed"
            count = {state: sum(1 for s in states.values() if s == state) for state in ("passed", "todo", "failing")}
            total = len([task for task in planned if task != "other"])
            run = len(states)
            full = sum(self.selected.get(lab.marker, {}).values()) == sum(planned.values())
            column = str(total) if full and run == total else f"{run} of {total}"
            pending = [task for task, state in states.items() if state in ("failing", "todo")]
            if lab.marker in self.broken:
                path, error = self.broken[lab.marker]
                location = error_location(error, path)
                nxt = f"fix {rel(path)} first: it does not import" + (f" (line {location[0]})" if location else "")
            elif pending:
                nxt = f"{pending[0]} ({readme_section(pending[0], lab)})"
            elif given == "failing":
                nxt = "a test of the given code fails (see above)"
            elif not full:
                nxt = f"filtered run: {run} of {total} tasks run, none failing (run `pytest -m {lab.marker}` for all)"
            elif states and all(state == "skipped" for state in states.values()):
                nxt = "all skipped"
            else:
                nxt = "done"
            if lab.marker == "quiz" and self.quiz is not None:
                nxt = f"score {self.quiz.score}/10, {'passed' if self.quiz.passed else 'not passed (8 needed)'}"
            lines.append(
                f"{lab.title:30}{column:>9}{count['passed']:>8}{count['todo']:>7}{count['failing']:>9}"
                f"{self.skipped_tests.get(lab.marker, 0):>15}   {nxt}"
            )
        return lines


def task_sort_key(task: str):
    match = TASK_MARK.match(task)
    return (0, int(match["number"])) if match else (1, 0)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_sessionfinish(session, exitstatus):
    """Runs around pytest's own end of session (its summary), so the table comes last."""
    result = yield
    config = session.config
    progress = getattr(config, "_phase1", None)
    if progress is None:
        return result
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
    if reporter is None or not (progress.tests or progress.missing):
        return result
    answers = "quiz_explanations.md" if progress.impl == "solution" else "quiz_answers.txt"
    reporter.write_sep("=", f"Phase 1 progress — graded: {progress.impl}.py in each lab folder, {answers}")
    if progress.quiz is not None and progress.quiz.passed and (progress.quiz.wrong or progress.quiz.format_errors):
        reporter.write_line(progress.quiz.report())
    for line in progress.lines():
        reporter.write_line(line)
    if not runslow(config):
        reporter.write_line("(slow training tests were not run; add --runslow to include them)")
    return result
