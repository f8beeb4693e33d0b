"""Which file is graded and which tests run.

- `--impl starter|solution|NAME` (or PHASE1_IMPL): the file of each lab folder that is graded.
- Markers: one per lab and one per task, as course.toml lists them (no others: `--strict-markers`
  rejects a typo such as task1_99), plus gpu, slow, data and instructor.
- Instructor checks (tests in tests/instructor/, or marked `instructor`) run only with
  `--impl solution`; `slow` tests only with --runslow (or PHASE1_SLOW=1, or `-m slow`); the
  checkpoint project's contract suite (marker `contract`) only when `-m` names it (or the command line
  names its module).
- `-m lab1` does not import the other labs' test modules, so feedback stays fast.
- PHASE1_START_METHOD=spawn (or forkserver) starts every child process the way macOS and Windows
  do, on Linux too: CI runs the labs that start processes that way.
"""

from __future__ import annotations

import multiprocessing
import os
import re
from pathlib import Path

import pytest

from harness import course as course_structure
from harness.progress import Progress, contract_section
from harness.state import (
    CONTRACT,
    CONTRACT_TESTS,
    INSTRUCTOR,
    INSTRUCTOR_FOLDER,
    RUN,
    RunState,
    lab_of,
    run_state,
    task_id_of,
)

IMPL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NOT_GRADED = {"benchmark", "conftest"}  # .py files of a lab folder that are not implementations


def pytest_addoption(parser):
    group = parser.getgroup("phase1", "PyTorch Foundations course")
    group.addoption(
        "--impl", default=None,
        help="which file to grade in each lab folder: starter (default), solution, or NAME for NAME.py in "
        "the lab folder (env: PHASE1_IMPL)",
    )
    group.addoption("--runslow", action="store_true", help="also run `slow` tests (real training; env: PHASE1_SLOW=1)")
    group.addoption("--check-starter", action="store_true",
                    help="CI: succeed when every failure is a clean TODO failure and nothing errors")
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


def available_impls(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.py") if p.stem not in NOT_GRADED)


def checked_impl(config, course) -> str:
    """`--impl NAME` must be a plain file name that exists in at least one lab folder."""
    value, source = impl_setting(config)
    name = value.removesuffix(".py")
    if not IMPL_NAME.match(name):
        raise pytest.UsageError(
            f"{source}{value}: give the name of a file in the lab folder, such as `mine` for lab1_tensors/mine.py "
            "(a plain name: no folders, no ..)."
        )
    folders = [course.root / lab.folder for lab in course.labs if (course.root / lab.folder / "solution.py").exists()]
    if not folders or any((folder / f"{name}.py").exists() for folder in folders):
        return name
    choices = sorted({impl for folder in folders for impl in available_impls(folder)})
    raise pytest.UsageError(
        f"{source}{value}: no lab folder has a file {name}.py. Available implementations: {', '.join(choices)}. "
        f"Put your file next to starter.py (e.g. lab1_tensors/{name}.py) or pick one of those."
    )


def pytest_configure(config):
    course = course_structure.load(Path(config.rootpath))
    for lab in course.labs:
        config.addinivalue_line("markers", f"{lab.marker}: {lab.title} ({lab.folder})")
        for task in lab.tasks:
            config.addinivalue_line("markers", f"{task.id}: {task.heading} — {task.title}")
    config.addinivalue_line("markers", "gpu: needs a CUDA GPU; skipped with a reason without one")
    config.addinivalue_line("markers", "slow: real training; deselected unless --runslow or PHASE1_SLOW=1")
    config.addinivalue_line("markers", "data: needs the CIFAR-10 image folder named by CIFAR10_DIR")
    config.addinivalue_line("markers", f"{INSTRUCTOR}: a course self-check; runs only with --impl solution (and in CI)")
    config.addinivalue_line("markers", f"{CONTRACT}: the checkpoint project's command-line contract; runs only with -m {CONTRACT}")
    impl = checked_impl(config, course)
    method = os.environ.get("PHASE1_START_METHOD")
    if method:
        if method not in multiprocessing.get_all_start_methods():
            raise pytest.UsageError(f"PHASE1_START_METHOD={method}: this platform offers {multiprocessing.get_all_start_methods()}")
        multiprocessing.set_start_method(method, force=True)
    config.stash[RUN] = RunState(course, impl, runslow(config), Progress(course, impl), contract_run=contract_run(config))


# --------------------------------------------------------------------------- -m without importing every module


MARKER_TOKENS = re.compile(r"\(|\)|[^\s()]+")  # an -m expression's names, operators and parentheses


def marker_expression_may_match(expression: str, known: dict[str, bool]) -> bool:
    """Can the -m expression be true for some values of the markers not in `known`?
    The grammar of `-m`: names, and, or, not, parentheses. Anything else (marker arguments): True."""
    tokens = MARKER_TOKENS.findall(expression)
    free = sorted({t for t in tokens if t not in ("(", ")", "and", "or", "not") and t not in known})
    if len(free) > 10 or any(not re.fullmatch(r"[\w.-]+|\(|\)", t) for t in tokens):
        return True

    def evaluate(values: dict[str, bool]) -> bool:
        position = 0

        def peek():
            return tokens[position] if position < len(tokens) else None

        def take():
            nonlocal position
            position += 1
            return tokens[position - 1]

        def or_expr():
            value = and_expr()
            while peek() == "or":
                take()
                value = and_expr() or value
            return value

        def and_expr():
            value = not_expr()
            while peek() == "and":
                take()
                value = not_expr() and value
            return value

        def not_expr():
            if peek() == "not":
                take()
                return not not_expr()
            if peek() == "(":
                take()
                value = or_expr()
                if take() != ")":
                    raise ValueError("unbalanced")
                return value
            name = take()
            if name in ("and", "or", ")", None):
                raise ValueError(name)
            return values[name]

        value = or_expr()
        if position != len(tokens):
            raise ValueError("trailing tokens")
        return value

    try:
        for bits in range(2 ** len(free)):
            values = {**known, **{name: bool(bits >> i & 1) for i, name in enumerate(free)}}
            if evaluate(values):
                return True
    except (ValueError, IndexError, KeyError):
        return True  # not an expression this reader knows: let pytest judge it
    return False


def selects_marker(config, name: str) -> bool:
    """Does -m name `name` where it can select a test that carries it? `-m slow`, `-m "slow or lab1"`:
    yes; `-m "not slow"`, `-m "lab1 and not slow"`: no, though they contain the word."""
    expression = config.getoption("-m") or ""
    return name in MARKER_TOKENS.findall(expression) and marker_expression_may_match(expression, {name: True})


def contract_run(config) -> bool:
    """Is the contract suite asked for: an -m that can select `contract` tests, or its module named on the command line."""
    named = any(Path(str(arg).split("::")[0]).name == CONTRACT_TESTS for arg in config.args)
    return named or selects_marker(config, CONTRACT)


def runslow(config) -> bool:
    """Do `slow` tests run: --runslow, PHASE1_SLOW=1, or an -m that can select them."""
    return bool(config.getoption("--runslow") or os.environ.get("PHASE1_SLOW") == "1" or selects_marker(config, "slow"))


def is_instructor_module(path: Path) -> bool:
    return path.parent.name == INSTRUCTOR_FOLDER


def pytest_ignore_collect(collection_path, config):
    """Skip importing test modules that cannot contribute: instructor modules in a learner's
    run, and modules ruled out by -m (so `pytest -m lab1` imports one test module)."""
    path = Path(collection_path)
    state = run_state(config)
    if path.is_dir() and path.name == INSTRUCTOR_FOLDER and path.parent.name == "tests" and not state.instructor_run:
        return True
    if path.suffix != ".py" or not path.name.startswith("test_"):
        return None
    contract = path.name == CONTRACT_TESTS
    if contract and not state.contract_run:
        return True
    markexpr = config.getoption("-m") or ""
    if not markexpr:
        return None
    module_lab = state.course.lab_of_test_file(path.name)
    instructor = is_instructor_module(path)
    if not (module_lab or instructor or contract):
        return None
    # Every test of a lab's module carries the lab's marker (an instructor module: `instructor`; the contract's:
    # `contract`); other labs' markers and tasks are absent; the module's own tasks, gpu, slow, data and unknown
    # names may be either.
    known = {lab.marker: lab is module_lab for lab in state.course.labs}
    known[INSTRUCTOR] = instructor or None
    known[CONTRACT] = contract
    for task in state.course.tasks:
        if module_lab is None or task.lab.marker != module_lab.marker:
            known[task.id] = False
    known = {name: value for name, value in known.items() if value is not None}
    return True if not marker_expression_may_match(markexpr, known) else None


def in_course_order(course, items: list) -> list:
    """The items with the test files in the labs' order (a file's place: the first lab its tests
    belong to), each file's tests in their own order: failures read from Lab 1 down, whatever the
    files are called (test_checkpoint_project.py sorts before test_lab1_tensors.py)."""
    order = {lab.marker: index for index, lab in enumerate(course.labs)}
    place: dict[str, int] = {}
    for item in items:
        lab = lab_of(item)
        index = order[lab.marker] if lab is not None else len(order)
        place[str(item.path)] = min(place.get(str(item.path), index), index)
    return sorted(items, key=lambda item: place[str(item.path)])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Before -m/-k select: drop instructor checks (learner's run), slow tests (unless asked)
    and labs without the graded file (one line per lab), count each lab's tasks, and put the
    test files in the course's order."""
    state = run_state(config)
    progress = state.progress
    instructor_mark = getattr(pytest.mark, INSTRUCTOR)
    for item in items:
        if is_instructor_module(Path(str(item.path))):
            item.add_marker(instructor_mark)
    keep, drop = [], []
    for item in items:
        lab = lab_of(item)
        if item.get_closest_marker(INSTRUCTOR) and not state.instructor_run:
            drop.append(item)
        elif item.get_closest_marker("slow") and not state.runslow:
            drop.append(item)
            if contract_section(item) and state.contract_run:
                progress.contract_left_out[contract_section(item)] = "a slow test: add --runslow (real data: CIFAR10_DIR)"
        elif item.get_closest_marker(CONTRACT) and not state.contract_run:
            drop.append(item)
        elif lab is not None and lab.graded and not state.graded_file(lab).exists():
            progress.missing[lab.marker] += 1
            drop.append(item)
        else:
            keep.append(item)
            if lab is not None:
                progress.planned[lab.marker][task_id_of(item) or "other"] += 1
    if drop:
        config.hook.pytest_deselected(items=drop)
    items[:] = in_course_order(state.course, keep)
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
    progress = run_state(session.config).progress
    for item in session.items:
        lab = lab_of(item)
        if lab is not None:
            progress.selected[lab.marker][task_id_of(item) or "other"] += 1
