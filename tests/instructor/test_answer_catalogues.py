"""The answer catalogues (authoring/answers/) and their runner (authoring/check_answers.py).

The patch format is checked here on small texts, the runner on a small catalogue made here; CI runs
the real catalogues as their own step in .ci/run. Every real entry must apply to today's solution:
an entry whose old text is gone fails here, naming itself."""

import subprocess
import sys
from pathlib import Path

import pytest
from fake_course import write_fake_course

from authoring import check_answers
from authoring.patches import CatalogueError, apply

ROOT = Path(__file__).resolve().parents[2]

SOURCE = '''def f(x):
    """Doc."""
    # BEGIN SOLUTION(task9_1): Return x + 1.
    y = x + 1
    for _ in range(2):
        y = y * 1
    return y
    # END SOLUTION
'''


def entry(**fields):
    return {"task": "task9_1", "name": "an answer", **fields}


def test_a_patch_replaces_its_old_text_at_the_blocks_indentation():
    out = apply(SOURCE, entry(patch=[("""
        for _ in range(2):
            y = y * 1
    """, """
        y = y * 2
    """)]))
    assert out == SOURCE.replace("    for _ in range(2):\n        y = y * 1\n", "    y = y * 2\n")


def test_new_text_keeps_its_indentation_relative_to_the_old_text():
    out = apply(SOURCE, entry(patch=[("y = y * 1", "if y:\n    y = y * 3")]))
    assert "        if y:\n            y = y * 3\n" in out


def test_a_body_replaces_the_whole_block():
    out = apply(SOURCE, entry(body="""
        return x
    """))
    assert "    # BEGIN SOLUTION(task9_1): Return x + 1.\n    return x\n    # END SOLUTION\n" in out


@pytest.mark.parametrize("fields, problem", [
    (dict(patch=[("y = x + 2", "y = x")]), "not in the block"),
    (dict(patch=[("y", "z")]), "not in the block"),  # a fragment of a line is not a line
    (dict(patch=[("return y", "return x"), ("    return y", "return 0")]), "change the same lines"),
    (dict(block=2, body="return x"), "no block 2"),
    (dict(body="return x", patch=[]), "either a patch or a body"),
], ids=["stale", "fragment", "overlap", "no-block", "both-forms"])
def test_an_entry_that_does_not_fit_the_solution_fails_loudly(fields, problem):
    with pytest.raises(CatalogueError, match=problem):
        apply(SOURCE, entry(**fields))


def test_old_text_found_twice_needs_more_context():
    source = SOURCE.replace("    return y\n", "    y = y * 1\n    return y\n")
    with pytest.raises(CatalogueError, match="occurs 2 times"):
        apply(source, entry(patch=[("y = y * 1", "y = 0")]))


def test_every_catalogue_entry_applies_to_the_solution_of_today():
    problems, count = [], 0
    for kind in check_answers.CATALOGUES:
        for path in sorted((ROOT / "authoring" / "answers" / kind).glob("*.py")):
            source = (ROOT / path.stem / "solution.py").read_text(encoding="utf-8")
            for number, item in enumerate(check_answers.load_catalogue(path), start=1):
                count += 1
                try:
                    changed = apply(source, item, f"{kind}/{path.name} #{number} {item['name']!r}")
                except CatalogueError as error:
                    problems.append(str(error))
                    continue
                if changed == source:
                    problems.append(f"{kind}/{path.name} #{number} {item['name']!r} changes nothing")
    assert count > 0 and not problems, "\n".join(problems)


# --------------------------------------------------------------------------- the runner, on a small course

WRONG = '''
ANSWERS = [
    {
        "task": "task1_2",
        "block": 2,
        "name": "subtracts the offset",
        "mentions": "should be 5",
        "patch": [("return x + offset", "return x - offset")],
    },
    {
        "task": "task1_2",
        "block": 2,
        "name": "a correct answer filed as wrong (the runner must list it)",
        "body": "return offset + x",
    },
    {
        "task": "task1_2",
        "name": "a patch whose old text is gone",
        "patch": [("return x * factor * 2", "return x")],
    },
]
'''
RIGHT = '''
ANSWERS = [
    {
        "task": "task1_2",
        "name": "multiplies in the other order",
        "patch": [("return x * factor", "return factor * x")],
    },
    {
        "task": "task1_2",
        "name": "a wrong answer filed as right (the runner must list it)",
        "body": "return x",
    },
]
'''


@pytest.fixture(scope="module")
def small_course(tmp_path_factory):
    root = write_fake_course(tmp_path_factory.mktemp("answers"), with_tools=True)
    for name, wrong, right in (("both", WRONG, RIGHT), ("one", WRONG.split("    },")[0] + "    },\n]\n", None),
                               ("empty", None, None)):
        for kind, text in (("wrong", wrong), ("right", right)):
            (root / name / kind).mkdir(parents=True)
            if text:
                (root / name / kind / "lab1_fake.py").write_text(text)
    return root


def run_tool(root, *args):
    result = subprocess.run([sys.executable, str(root / "authoring" / "check_answers.py"), "--root", str(root), *args],
                            capture_output=True, text=True, timeout=600)
    return result.returncode, result.stdout + result.stderr


def test_runner_holds_wrong_answers_to_failing_and_right_answers_to_passing(small_course):
    code, out = run_tool(small_course, "--answers", str(small_course / "both"), "--task", "task1_2")
    assert code == 1, out
    assert "caught          wrong lab1_fake task1_2 block 2: 'subtracts the offset'" in out, out
    assert "passes          right lab1_fake task1_2 block 1: 'multiplies in the other order'" in out, out
    row = next(line for line in out.splitlines() if line.startswith("lab1_fake"))
    assert row.split()[1:5] == ["3", "1", "2", "1"], row
    missed = out[out.index("did not meet their expectation (") :]
    assert "[not caught] wrong lab1_fake task1_2 block 2: 'a correct answer filed as wrong" in missed
    assert "[stale] wrong lab1_fake task1_2 block 1: 'a patch whose old text is gone'" in missed
    assert "not in the block" in missed
    assert "[rejected] right lab1_fake task1_2 block 1: 'a wrong answer filed as right" in missed
    assert "subtracts the offset" not in missed and "multiplies in the other order" not in missed
    assert out.rstrip().endswith("2/5 as expected — FAILED")


def test_runner_counts_tasks_below_the_threshold(small_course):
    code, out = run_tool(small_course, "--answers", str(small_course / "empty"), "--min-per-task", "2")
    assert code == 1
    assert "tasks with fewer than 2 wrong answers (4): lab1_fake task1_1 (0)" in out, out
    code, out = run_tool(small_course, "--answers", str(small_course / "empty"), "--min-per-task", "0")
    assert code == 0, out


def test_runner_without_fork_starts_a_process_per_variant(small_course):
    code, out = run_tool(small_course, "--answers", str(small_course / "one"), "--task", "task1_2", "--no-fork",
                         "--min-per-task", "1")
    assert code == 0, out
    assert out.rstrip().endswith("1/1 as expected")


def test_a_wrong_answer_is_judged_by_the_lines_its_task_prints_in_all():
    """--phase1-results gives each failing test the lines it printed (pytest's header line included; 0 when the
    harness folded it into the task's first report): their sum is what a learner reads for the task."""
    from harness.reporting import MAX_TASK_LINES

    assert check_answers.MAX_TASK_LINES == MAX_TASK_LINES, "the runner's copy of the harness's limit"

    def failing(name, lines):
        return {"nodeid": f"tests/t.py::{name}", "state": "failing", "exc_type": "AssertionError",
                "message": f"{name} is wrong: fix it", "text": "x\n" * (max(lines - 1, 1)), "lines": lines}

    def verdict(*tests):
        variant = check_answers.Variant("lab1_fake", "wrong", {"task": "task1_1", "name": "n"})
        check_answers.judge(variant, 1, {"tests": list(tests)}, "", max_lines=15)
        return variant.status, variant.detail

    assert verdict(failing("test_a", 9), failing("test_b", 0), failing("test_c", 0))[0] == "caught"
    status, detail = verdict(failing("test_a", 9), failing("test_b", 8))
    assert status == "too long" and "task1_1: 17 lines of report for 2 failing tests (at most 15)" in detail, detail
