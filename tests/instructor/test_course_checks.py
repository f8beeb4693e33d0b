"""Course-wide checks on the exercises (instructor checks: --impl solution and CI only).

The rules are defined and explained in authoring/course_checks.py: hints at levels 1-3 for every task
(and `pytest --hint` works for each), no hint or TODO text that copies a statement of its
solution (8 consecutive tokens), solution bodies of 3-25 code lines unless justified with
`# size: <reason>`. `python authoring/course_checks.py` prints the full report."""

import io
from pathlib import Path

import pytest

from authoring import course_checks as exercises
from harness import hints

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted(ROOT.glob("*/solution.py"))
LAB_IDS = [path.parent.name for path in SOLUTIONS]


# --------------------------------------------------------------------------- the course's content


@pytest.mark.parametrize("solution", SOLUTIONS, ids=LAB_IDS)
def test_every_task_has_hint_levels_1_to_3_and_the_hint_command_shows_them(solution):
    tasks = sorted({block.task for block in exercises.blocks(solution)}, key=hints.task_key)
    problems = [p for p in exercises.hint_problems(ROOT) if p.split(":")[0] in tasks]
    assert not problems, "hints missing:\n  " + "\n  ".join(problems)
    for task in tasks:
        for level in hints.LEVELS:
            out = io.StringIO()
            assert hints.show(task, level, ROOT, out=out, remember=False) == 0, out.getvalue()
            assert f"level {level} of 3" in out.getvalue()


@pytest.mark.parametrize("solution", SOLUTIONS, ids=LAB_IDS)
def test_no_hint_or_todo_text_copies_its_solution(solution):
    problems = [p for p in map(exercises.copy_problem, exercises.blocks(solution)) if p]
    assert not problems, (
        f"hint comments / TODO texts that copy a solution statement ({exercises.COPY_TOKENS}+ consecutive tokens; "
        "state the goal, move the steps to hints.md):\n  " + "\n  ".join(problems)
    )


@pytest.mark.parametrize("solution", SOLUTIONS, ids=LAB_IDS)
def test_solution_bodies_are_3_to_25_lines_or_justified(solution):
    problems = [p for p in map(exercises.size_problem, exercises.blocks(solution)) if p]
    assert not problems, "solution bodies outside the size range:\n  " + "\n  ".join(problems)


# --------------------------------------------------------------------------- the rules, on small fixtures


FAKE_SOLUTION = '''"""Lab 9."""

def k(x):
    # size: one line on purpose, the idea is the broadcast
    # BEGIN SOLUTION(task9_4): Return x doubled.
    return x * 2
    # END SOLUTION

def f(x):
    # Broadcast the second tensor against the first.
    # BEGIN SOLUTION(task9_1): Return the pairwise differences.
    diff = x[:, None, :] - x[None, :, :]
    total = diff.sum(-1)
    return total
    # END SOLUTION

def g(x):
    # Hint: diff = x[:, None, :] - x[None, :, :] does it.
    # (No size justification here: a hint line must start with 'size:'.)
    # BEGIN SOLUTION(task9_2): Return the differences.
    diff = x[:, None, :] - x[None, :, :]
    return diff
    # END SOLUTION

def h(model):
    # BEGIN SOLUTION(task9_3): Then call optimizer.zero_grad(set_to_none=True) and step.
    # size: two calls, but the lesson is their order
    optimizer.zero_grad(set_to_none=True)
    optimizer.step()
    # END SOLUTION
'''


@pytest.fixture
def fake_lab(tmp_path):
    folder = tmp_path / "lab9_fake"
    folder.mkdir()
    (folder / "solution.py").write_text(FAKE_SOLUTION)
    tasks = "".join(f'[[lab.task]]\nid = "task9_{n}"\ntitle = "Task {n}"\n' for n in range(1, 5))
    (tmp_path / "course.toml").write_text(f'[[lab]]\nmarker = "lab9"\nfolder = "lab9_fake"\ntitle = "Fake"\nnumber = "9"\n{tasks}')
    return tmp_path, folder


def test_blocks_record_hint_todo_body_and_size(fake_lab):
    _, folder = fake_lab
    found = exercises.blocks(folder / "solution.py")
    assert [b.task for b in found] == ["task9_4", "task9_1", "task9_2", "task9_3"]
    assert found.pop(0).size_reason == "one line on purpose, the idea is the broadcast", "a hint line may justify"
    assert found[0].hint == ["Broadcast the second tensor against the first."]
    assert found[0].code_lines == 3 and found[1].code_lines == 2 and found[2].code_lines == 2
    assert found[2].size_reason == "two calls, but the lesson is their order"


def test_size_rule(fake_lab):
    _, folder = fake_lab
    fourth, first, second, third = exercises.blocks(folder / "solution.py")
    assert exercises.size_problem(first) is None and exercises.size_problem(fourth) is None
    assert "2 code lines, fewer than 3-25" in exercises.size_problem(second)
    assert exercises.size_problem(third) is None, "a '# size:' justification accepts an outlier"
    out = io.StringIO()
    assert exercises.print_sizes([first, second, third], out=out) == 1
    assert "distribution" in out.getvalue()


def test_copy_rule(fake_lab):
    _, folder = fake_lab
    _, first, second, third = exercises.blocks(folder / "solution.py")
    assert exercises.copy_problem(first) is None, "a nudge in words is fine"
    assert "hint comment copies" in exercises.copy_problem(second)
    assert "TODO text copies" in exercises.copy_problem(third)
    assert exercises.copied_statement("use torch.where", ["out = torch.where(mask, a, b)"]) is None
    assert exercises.copied_statement("out = torch.where(mask, a, b)", ["out = torch . where( mask,a , b )"])


def test_hints_file_format_and_levels(fake_lab):
    root, folder = fake_lab
    (folder / "hints.md").write_text(
        "# Lab 9 — hints\n"
        "## task9_1 — Differences\n### Level 1 — nudge\nBroadcasting.\n### Level 2 — approach\nAdd axes.\n"
        "### Level 3 — near-code\nx[:, None] - x[None]\n"
        "## task9_2 — Again\n### Level 1 — nudge\nSame idea.\n"
    )
    parsed = hints.parse_hints((folder / "hints.md").read_text())
    assert parsed["task9_1"]["levels"][3] == ("near-code", "x[:, None] - x[None]")
    problems = exercises.hint_problems(root)
    assert problems == [
        "task9_2: lab9_fake/hints.md has no level 2, 3",
        "task9_3: lab9_fake/hints.md has no level 1, 2, 3",
        "task9_4: lab9_fake/hints.md has no level 1, 2, 3",
    ]
    out = io.StringIO()
    assert hints.show("task9_1", None, root, out=out) == 0 and "level 1 of 3 (nudge)" in out.getvalue()
    out = io.StringIO()
    assert hints.show("task9_1", None, root, out=out) == 0 and "level 2 of 3 (approach)" in out.getvalue()
    assert (root / hints.SEEN_FILE).exists()
    out = io.StringIO()
    assert hints.show("task7_1", None, root, out=out) == 4 and "no task called 'task7_1'" in out.getvalue()
    with pytest.raises(hints.HintsError, match="level 1 twice"):
        hints.parse_hints("## task9_1\n### Level 1\na\n### Level 1\nb\n")


# --------------------------------------------------------------------------- .ci/gpu


def fake_python3(folder: Path, has_cuda: bool) -> Path:
    """A `python3` that imports nothing and answers the script's CUDA question: enough to drive
    .ci/gpu's data step on a machine without a GPU."""
    folder.mkdir()
    script = folder / "python3"
    script.write_text(f'#!/bin/sh\ncase "$*" in *cuda.is_available*) echo {int(has_cuda)} ;; esac\nexit 0\n')
    script.chmod(0o755)
    return folder


@pytest.mark.parametrize("has_cuda", [True, False])
def test_ci_gpu_fails_loudly_with_cuda_and_no_data(tmp_path, has_cuda):
    import os
    import shutil
    import subprocess

    course = tmp_path / "course"
    (course / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "gpu", course / ".ci" / "gpu")
    bin_dir = fake_python3(tmp_path / "bin", has_cuda)
    env = {key: value for key, value in os.environ.items() if key != "CIFAR10_DIR"}
    env.update(PATH=f"{bin_dir}:{env['PATH']}", OUT=str(tmp_path / "out"))
    result = subprocess.run(["bash", str(course / ".ci" / "gpu")], capture_output=True, text=True, env=env, timeout=120)
    output = result.stdout + result.stderr
    if has_cuda:
        assert result.returncode == 1 and "no CIFAR-10 data" in output, f"CUDA and no data must stop with exit 1:\n{output[-2000:]}"
    else:
        assert "skipped  data" in output, f"no CUDA and no data: the data step says it skips:\n{output[-2000:]}"
