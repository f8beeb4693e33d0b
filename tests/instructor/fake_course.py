"""A tiny course for the harness's and the catalogue runner's own tests: two labs that import nothing
but the standard library, graded by the real harness (so a pytest run on it takes a fraction of a second)."""

import shutil
from pathlib import Path

from authoring import make_starters

ROOT = Path(__file__).resolve().parents[2]

FAKE_COURSE = """\
[[lab]]
marker = "lab1"
folder = "lab1_fake"
title = "Fake one"
number = "1"

[[lab.task]]
id = "task1_1"
title = "Double"
functions = ["double"]

[[lab.task]]
id = "task1_2"
title = "Scale and shift"
functions = ["scale", "shift"]

[[lab.task]]
id = "task1_3"
title = "The command line"
functions = ["main"]

[[lab]]
marker = "lab2"
folder = "lab2_fake"
title = "Fake two"
number = "2"

[[lab.task]]
id = "task2_1"
title = "Triple"
functions = ["triple"]
"""

FAKE_SOLUTION_1 = '''"""Lab 1 — Fake (reference solution)."""
import sys


def double(x):
    """Twice x."""
    # BEGIN SOLUTION(task1_1): Return twice x.
    return 2 * x
    # END SOLUTION


def scale(x, factor):
    # BEGIN SOLUTION(task1_2): Multiply x by factor.
    return x * factor
    # END SOLUTION


def shift(x, offset):
    # BEGIN SOLUTION(task1_2): Add offset to x.
    return x + offset
    # END SOLUTION


class Box:
    """A learner-defined object that a spawned child process must be able to unpickle."""

    def __init__(self, value):
        self.value = value


def main(argv):
    # BEGIN SOLUTION(task1_3): Print the double of the first argument.
    print(double(int(argv[0])))
    # END SOLUTION


if __name__ == "__main__":
    main(sys.argv[1:])
'''

FAKE_TESTS_1 = """\
import multiprocessing

import pytest

pytestmark = pytest.mark.lab1


@pytest.mark.task1_1
def test_double(lab):
    assert lab.double(3) == 6, f"double(3) should be 6, got {lab.double(3)}"


@pytest.mark.task1_1
def test_double_negative(lab):
    assert lab.double(-2) == -4, "double(-2) should be -4"


@pytest.mark.task1_2
def test_scale(lab):
    assert lab.scale(2, 3) == 6, "scale(2, 3) should be 6"


@pytest.mark.task1_2
def test_shift(lab):
    got = lab.shift(2, 3)
    assert got == 5, f"shift(2, 3) should be 5, got {got}"


@pytest.mark.task1_3
def test_main_prints_the_double(run_lab_script, tmp_path):
    (tmp_path.parent.parent / "child-started").write_text("yes")
    assert run_lab_script("4").stdout.strip() == "8", "main(['4']) should print 8"


def test_learner_objects_reach_a_spawned_child(lab):
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(getattr, (lab.Box(3), "value")) == 3
"""

FAKE_HINTS_1 = "# Lab 1 — hints\n" + "".join(
    f"## task1_{n} — Task {n}\n### Level 1 — nudge\nFirst nudge {n}.\n### Level 2 — approach\nSecond.\n"
    "### Level 3 — near-code\nThird.\n" for n in (1, 2, 3))


def write_fake_course(root: Path, with_tools: bool = False) -> Path:
    """Write the fake course into `root`; with_tools also copies harness/ and authoring/ (for a child process
    that must import them from there)."""
    (root / "course.toml").write_text(FAKE_COURSE)
    (root / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-rN --strict-markers"\n')
    shutil.copy(ROOT / "conftest.py", root / "conftest.py")
    if with_tools:
        for folder in ("harness", "authoring"):
            shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "answers"))
    lab1 = root / "lab1_fake"
    lab1.mkdir()
    (lab1 / "solution.py").write_text(FAKE_SOLUTION_1)
    (lab1 / "starter.py").write_text(make_starters.make_starter(FAKE_SOLUTION_1, "lab1_fake/solution.py"))
    (lab1 / "README.md").write_text("".join(f"### Task 1.{n} — Task {n}\n" for n in (1, 2, 3)))
    (lab1 / "hints.md").write_text(FAKE_HINTS_1)
    lab2 = root / "lab2_fake"
    lab2.mkdir()
    solution2 = "def triple(x):\n    # BEGIN SOLUTION(task2_1): Return three x.\n    return 3 * x\n    # END SOLUTION\n"
    (lab2 / "solution.py").write_text(solution2)
    (lab2 / "starter.py").write_text(make_starters.make_starter(solution2, "lab2_fake/solution.py"))
    tests = root / "tests"
    tests.mkdir()
    (tests / "test_lab1_fake.py").write_text(FAKE_TESTS_1)
    (tests / "test_lab2_fake.py").write_text(
        "import pytest\npytestmark = pytest.mark.lab2\n\n\n@pytest.mark.task2_1\ndef test_triple(lab):\n"
        "    assert lab.triple(2) == 6, 'triple(2) should be 6'\n")
    return root
