"""The course harness itself: starter generation, --impl loading, TODO reporting, progress."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import make_starters  # the repository root is on sys.path (rootdir conftest.py)

ROOT = Path(__file__).resolve().parent.parent


SOLUTIONS = sorted(ROOT.glob("*/solution.py"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.parent.name)
def test_starter_is_in_sync_with_solution(solution):
    starter = solution.with_name("starter.py")
    expected = make_starters.make_starter(solution.read_text(), str(solution.relative_to(ROOT)))
    assert starter.exists(), f"{starter.relative_to(ROOT)} is missing: run `python tools/make_starters.py`"
    assert starter.read_text() == expected, (
        f"{starter.relative_to(ROOT)} differs from what the generator writes: run `python tools/make_starters.py`"
    )


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.parent.name)
def test_every_exercise_names_its_lab_task(solution):
    lab_number = solution.parent.name.removeprefix("lab").split("_")[0]
    text = solution.read_text()
    tasks = {match["task"] for match in map(make_starters.BEGIN.match, text.splitlines()) if match}
    assert tasks, f"{solution.relative_to(ROOT)} has no '# BEGIN SOLUTION(taskN_M): ...' blocks"
    prefix = {"checkpoint": "taskc_"}.get(solution.parent.name.split("_")[0], f"task{lab_number}_")
    assert all(task.startswith(prefix) for task in tasks), f"task ids should start with {prefix}: {sorted(tasks)}"
    readme = (solution.parent / "README.md").read_text()
    for task in tasks:
        heading = f"Task {task.removeprefix('task').replace('_', '.').upper()}"
        assert heading in readme, f"{solution.parent.name}/README.md has no section '{heading}' for {task}"


def test_generator_replaces_blocks_and_keeps_hints():
    source = (
        "def f(x):\n"
        '    """Doc."""\n'
        "    # Hint: add one.\n"
        "    # BEGIN SOLUTION(task9_1): Return x + 1.\n"
        "    y = x + 1\n"
        "    return y\n"
        "    # END SOLUTION\n"
    )
    starter = make_starters.make_starter(source)
    assert "    # Hint: add one.\n    raise NotImplementedError('TODO(task9_1): Return x + 1.')\n" in starter
    assert "y = x + 1" not in starter and '"""Doc."""' in starter


@pytest.mark.parametrize(
    "source, problem",
    [
        ("# BEGIN SOLUTION(task1_1): a\nx = 1\n", "never closed"),
        ("x = 1\n# END SOLUTION\n", "without a BEGIN"),
        ("# BEGIN SOLUTION(task1_1): a\n# BEGIN SOLUTION(task1_2): b\n# END SOLUTION\n", "inside the block"),
        ("# BEGIN SOLUTION task1_1\n# END SOLUTION\n", "write the marker as"),
    ],
)
def test_generator_rejects_bad_markers(source, problem):
    with pytest.raises(make_starters.MarkerError, match=problem):
        make_starters.make_starter(source)


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A copy of the harness and Lab 1 to run pytest on without touching the repository."""
    root = tmp_path_factory.mktemp("course")
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    (root / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "test_lab1_tensors.py", root / "tests")
    shutil.copytree(ROOT / "lab1_tensors", root / "lab1_tensors", ignore=shutil.ignore_patterns("__pycache__"))
    return root


def run_pytest(root, *args, env=None):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PHASE1_IMPL": "", **(env or {})},
        timeout=300,
    )
    return result.returncode, result.stdout + result.stderr


def test_starter_todos_are_one_line_failures_with_progress_table(course_copy):
    code, out = run_pytest(course_copy, "--impl", "starter", "-k", "one_hot")
    assert code == 1
    assert "Traceback" not in out and "raise NotImplementedError" not in out, "TODO failures must not print tracebacks"
    assert 'TODO(task1_2)' in out and "-> edit one_hot() in lab1_tensors/starter.py" in out
    assert 'lab1_tensors/README.md, section "Task 1.2"' in out
    assert "Phase 1 progress — graded: starter.py in each lab folder" in out
    assert "Lab 1  Tensors & Autograd" in out


def test_check_starter_accepts_only_todo_failures(course_copy):
    code, out = run_pytest(course_copy, "--impl", "starter", "--check-starter")
    assert code == 0, out[-2000:]
    assert "every failure is a clean TODO failure" in out


def test_impl_from_environment_variable(course_copy):
    code, out = run_pytest(course_copy, "-k", "one_hot", env={"PHASE1_IMPL": "solution"})
    assert code == 0, out[-2000:]
    assert "graded: solution.py in each lab folder" in out


def test_learner_file_with_syntax_error_fails_once_with_a_clear_message(course_copy):
    broken = course_copy / "lab1_tensors" / "mine.py"
    broken.write_text("def one_hot(labels, num_classes)\n    return labels\n")
    try:
        code, out = run_pytest(course_copy, "--impl", "mine")
    finally:
        broken.unlink()
    assert code == 1
    assert "lab1_tensors/mine.py has a syntax error at line 1" in out, out[-2000:]
    assert " 1 failed" in out and "skipped" in out, "one failure for the lab, the other tests skip"
    assert "Traceback" not in out


def test_unknown_impl_lists_the_available_ones(course_copy):
    code, out = run_pytest(course_copy, "--impl", "nosuchfile")
    assert code == 4, out[-2000:]  # pytest's usage-error exit code
    assert "no lab folder has a file nosuchfile.py" in out
    assert "solution, starter" in out


def test_failing_solution_shows_its_assertion_and_readme_hint(course_copy, tmp_path):
    wrong = course_copy / "lab1_tensors" / "wrong.py"
    source = (course_copy / "lab1_tensors" / "solution.py").read_text()
    wrong.write_text(source.replace("return x / norms.clamp(min=eps)", "return x / (norms + 1.0)"))
    try:
        code, out = run_pytest(course_copy, "--impl", "wrong", "-k", "normalize_rows")
    finally:
        wrong.unlink()
    assert code == 1
    assert "rows should have norm 1" in out, "a real failure shows the test's assertion message"
    assert 'Read lab1_tensors/README.md, section "Task 1.4"' in out
