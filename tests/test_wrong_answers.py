"""The wrong-answer runner (tools/check_wrong_answers.py), on a small catalogue made here.
Instructor checks: --impl solution and CI only. CI also runs the real catalogue
(tests/wrong_answers/<lab>.py, written with the labs) as its own step in .ci/run."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tools import check_wrong_answers

pytestmark = pytest.mark.instructor

ROOT = Path(__file__).resolve().parent.parent

CATALOGUE = '''
WRONG_ANSWERS = [
    {
        "task": "task1_4",
        "name": "adds one to the norm instead of clamping it",
        "why": "x / (norm + 1) never reaches unit norm",
        "expect": "norm 1",
        "body": """
            return x / (x.norm(dim=1, keepdim=True) + 1.0)
        """,
    },
    {
        "task": "task1_4",
        "name": "the same thing written differently (a correct answer: the runner must list it as missed)",
        "body": """
            norms = x.norm(dim=1, keepdim=True)
            return x / norms.clamp(min=eps) * 1.0
        """,
    },
    {
        "task": "task1_4",
        "block": 2,
        "name": "points at a block that does not exist",
        "body": "return x",
    },
]
'''


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    root = tmp_path_factory.mktemp("wrong_answers")
    for name in ("conftest.py", "pyproject.toml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "tools", root / "tools", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(ROOT / "lab1_tensors", root / "lab1_tensors", ignore=shutil.ignore_patterns("__pycache__", "outputs"))
    (root / "tests").mkdir()
    shutil.copy(ROOT / "tests" / "test_lab1_tensors.py", root / "tests")
    catalogue = root / "catalogue"
    catalogue.mkdir()
    (catalogue / "lab1_tensors.py").write_text(CATALOGUE)
    (root / "empty").mkdir()
    (root / "one").mkdir()
    first = CATALOGUE.split("    {")[1]
    (root / "one" / "lab1_tensors.py").write_text("WRONG_ANSWERS = [\n    {" + first + "]\n")
    return root


def run_tool(root, *args):
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "check_wrong_answers.py"), "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr


def test_substitute_reindents_the_body_at_the_marker():
    source = "def f(x):\n    # BEGIN SOLUTION(task9_1): do it\n    return x\n    # END SOLUTION\n"
    out = check_wrong_answers.substitute(source, "task9_1", 1, "\n        y = x * 2\n        return y\n    ")
    assert out == "def f(x):\n    # BEGIN SOLUTION(task9_1): do it\n    y = x * 2\n    return y\n    # END SOLUTION\n"
    with pytest.raises(check_wrong_answers.CatalogueError, match="no block 2"):
        check_wrong_answers.substitute(source, "task9_1", 2, "return x")


def test_runner_reports_catch_rate_and_every_variant_not_caught(small_course):
    code, out = run_tool(small_course, "--catalogue", str(small_course / "catalogue"), "--task", "task1_4")
    assert code == 1, out
    assert "caught         lab1_tensors task1_4 block 1: 'adds one to the norm" in out, out
    lab_row = next(line for line in out.splitlines() if line.startswith("lab1_tensors"))
    assert lab_row.split()[1:4] == ["3", "1", "33%"], lab_row
    missed = out[out.index("\nNOT caught (") :]
    assert "[not caught] lab1_tensors task1_4 block 1: 'the same thing written differently" in missed
    assert "all 2 tests of task1_4 pass" in missed
    assert "[error] lab1_tensors task1_4 block 2" in missed and "no block 2" in missed
    assert "adds one to the norm" not in missed
    assert out.rstrip().endswith("1/3 caught (33%) — FAILED")


def test_runner_counts_tasks_below_the_threshold(small_course):
    code, out = run_tool(small_course, "--catalogue", str(small_course / "empty"), "--min-per-task", "2")
    assert code == 1
    assert "tasks with fewer than 2 wrong answers (8): lab1_tensors task1_1 (0)" in out, out
    code, out = run_tool(small_course, "--catalogue", str(small_course / "empty"), "--min-per-task", "0")
    assert code == 0, out


def test_runner_without_fork_starts_a_process_per_variant(small_course):
    code, out = run_tool(small_course, "--catalogue", str(small_course / "one"), "--task", "task1_4", "--no-fork", "--min-per-task", "1")
    assert code == 0, out
    assert out.rstrip().endswith("1/1 caught (100%)")
