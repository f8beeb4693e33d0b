"""The course harness itself (instructor checks: they run with --impl solution and in CI, never
in a learner's run): starter generation, --impl loading, TODO reporting, progress, the quiz grader."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from authoring import make_starters
from authoring.patches import apply
from harness import quiz as grade_quiz

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = sorted(ROOT.glob("*/solution.py"))


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.parent.name)
def test_starter_is_in_sync_with_solution(solution):
    starter = solution.with_name("starter.py")
    expected = make_starters.make_starter(solution.read_text(), str(solution.relative_to(ROOT)))
    assert starter.exists(), f"{starter.relative_to(ROOT)} is missing: run `python authoring/make_starters.py`"
    assert starter.read_text() == expected, (
        f"{starter.relative_to(ROOT)} differs from what the generator writes: run `python authoring/make_starters.py`"
    )


# --------------------------------------------------------------------------- the generator


SOURCE = (
    '"""Lab 9 — Example (reference solution).\n\n'
    "Run the demo:   python lab9_example/solution.py\n"
    "Grade yourself: pytest -m lab9   (your starter.py; --impl solution for this file)\n"
    '"""\n\n'
    "def f(x):\n"
    '    """Doc. See lab9_example/solution.py."""\n'
    "    # Hint: add one.\n"
    "    # BEGIN SOLUTION(task9_1): Return x + 1.\n"
    "    y = x + 1\n"
    "    return y\n"
    "    # END SOLUTION\n"
)


def test_generator_replaces_blocks_and_keeps_hints():
    starter = make_starters.make_starter(SOURCE, "lab9_example/solution.py")
    assert "    # Hint: add one.\n    raise NotImplementedError('TODO(task9_1): Return x + 1.')\n" in starter
    assert "y = x + 1" not in starter and '"""Doc. See lab9_example/solution.py."""' in starter


def test_generator_adapts_the_module_docstring_to_the_starter():
    starter = make_starters.make_starter(SOURCE, "lab9_example/solution.py")
    docstring = starter.split('"""')[1]
    assert "(reference solution)" not in docstring and "(starter" in docstring
    assert "python lab9_example/starter.py" in docstring and "solution.py for this file" not in docstring


def test_generator_records_a_hash_that_tells_edits_apart(tmp_path):
    starter = make_starters.make_starter(SOURCE, "lab9_example/solution.py")
    path = tmp_path / "starter.py"
    assert make_starters.HEADER.match(starter), "the first line records the generated text's hash"
    assert not make_starters.is_edited(starter, path)
    edited = starter.replace("raise NotImplementedError('TODO(task9_1): Return x + 1.')", "return x + 1")
    assert make_starters.is_edited(edited, path)
    lost = make_starters.what_would_be_lost(edited, starter, SOURCE)
    assert lost == ["f() (task9_1): 1 line(s) of yours"], lost


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


# --------------------------------------------------------------------------- the quiz grader


def test_blank_template_scores_zero_and_does_not_pass():
    """The committed quiz_answers.txt is the blank template (an instructor check: a learner fills it)."""
    result = grade_quiz.grade(grade_quiz.read_answers(grade_quiz.ANSWERS))
    assert result.score == 0 and not result.passed
    assert "0/10 — not passed" in result.report()


def test_reference_answers_match_the_questions():
    key = grade_quiz.read_key()
    assert sorted(key) == list(range(1, 11)), "quiz_explanations.md needs a '## N.' section per question"
    questions = grade_quiz.read_questions()
    assert sorted(questions) == list(range(1, 11)), "quiz.md needs a '**N. Title** (form)' heading per question"
    for number, entry in key.items():
        assert "answer" in entry and "review" in entry, f"question {number} needs **Answer:** and **Review:** lines"
        assert questions[number].format_problem(entry["answer"]) is None, f"question {number}'s answer has the wrong form"
    assert grade_quiz.grade(grade_quiz.read_reference_answers()).score == 10


def test_eight_right_passes_and_report_never_reveals_answers(tmp_path):
    reference = grade_quiz.read_reference_answers()
    answers = dict(reference)
    answers[2] = "A" if reference[2] != "A" else "B"
    answers[9] = ""
    path = tmp_path / "answers.txt"
    path.write_text("\n".join(f"{n}: {a}" for n, a in answers.items()))
    result = grade_quiz.grade(grade_quiz.read_answers(path))
    assert result.score == 8 and result.passed
    report = result.report()
    assert "Question 2: not right yet. Review lab1_tensors/README.md" in report
    assert "Not answered: 9" in report
    for number in (2, 9):
        assert f"Answer: {reference[number]}" not in report and f"'{reference[number]}'" not in report


def test_wrong_format_is_told_apart_from_a_wrong_answer():
    answers = grade_quiz.read_reference_answers()
    answers[9] = "D - GradScaler"
    answers[10] = "E"
    answers[1] = "eight by three by five"
    answers[3] = "twelve"
    result = grade_quiz.grade(answers)
    assert result.score == 6 and not result.wrong
    problems = dict(result.format_errors)
    assert "answer with one letter A–D" in problems[9]
    assert "'E' is not an option" in problems[10]
    assert "shape such as (2, 3)" in problems[1] and "a number" in problems[3]
    assert "not graded" in result.report() and "not right yet" not in result.report()


def test_seven_right_does_not_pass():
    answers = grade_quiz.read_reference_answers()
    for number in (2, 4, 5):
        answers[number] = "A" if answers[number] != "A" else "B"
    result = grade_quiz.grade(answers)
    assert result.score == 7 and not result.passed
    assert "not passed (8 needed)" in result.report()


@pytest.mark.parametrize("given, expected", [(" (8,3,5) ", "(8, 3, 5)"), ("torch.Size([8, 3, 5])", "(8, 3, 5)"), ("12.0", "12"), ("b", "B")])
def test_answers_are_normalised(given, expected):
    assert grade_quiz.normalise(given) == grade_quiz.normalise(expected)


def test_every_question_has_a_review_pointer_that_exists():
    for number, entry in grade_quiz.read_key().items():
        folder = entry["review"].split("/")[0]
        assert (ROOT / folder).is_dir(), f"question {number} points to a missing folder: {entry['review']}"


# --------------------------------------------------------------------------- end to end


@pytest.fixture(scope="module")
def course_copy(tmp_path_factory):
    """A copy of the harness and Lab 1 to run pytest on without touching the repository."""
    root = tmp_path_factory.mktemp("course")
    for name in ("conftest.py", "pyproject.toml", "course.toml", "quiz.md", "quiz_answers.txt", "quiz_explanations.md"):
        shutil.copy(ROOT / name, root / name)
    for folder in ("harness", "authoring"):
        shutil.copytree(ROOT / folder, root / folder, ignore=shutil.ignore_patterns("__pycache__", "answers"))
    (root / "tests").mkdir()
    for name in ("test_lab1_tensors.py", "helpers.py"):
        shutil.copy(ROOT / "tests" / name, root / "tests")
    shutil.copytree(ROOT / "lab1_tensors", root / "lab1_tensors", ignore=shutil.ignore_patterns("__pycache__", "outputs"))
    return root


def run_pytest(root, *args, env=None, timeout=300):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        env={**os.environ, "PHASE1_IMPL": "", "PHASE1_SLOW": "", **(env or {})},
        timeout=timeout,
    )
    return result.returncode, result.stdout + result.stderr


def with_file(root, name, text):
    path = root / "lab1_tensors" / name
    path.write_text(text)
    return path


def test_starter_todos_are_one_line_failures_with_progress_table(course_copy):
    code, out = run_pytest(course_copy, "--impl", "starter", "-k", "one_hot")
    assert code == 1
    assert "Traceback" not in out and "raise NotImplementedError" not in out, "TODO failures must not print tracebacks"
    assert "TODO(task1_2)" in out and "-> edit one_hot() in lab1_tensors/starter.py" in out
    assert 'lab1_tensors/README.md, section "Task 1.2"' in out and "pytest --hint task1_2" in out
    assert "TODO(task1_2): the same unfinished TODO as reported earlier in this run" in out, "a repeated TODO costs one line"
    assert "Phase 1 progress — graded: starter.py in each lab folder" in out
    table = out[out.index("Phase 1 progress") :]
    assert " failed" not in table, "the progress table comes after pytest's summary line"
    lab1 = next(line for line in table.splitlines() if line.startswith("Lab 1"))
    assert re.search(r"\b1 of \d+\b", lab1) and "done" not in lab1


def test_check_starter_accepts_only_todo_failures(course_copy):
    code, out = run_pytest(course_copy, "--impl", "starter", "--check-starter")
    assert code == 0, out[-2000:]
    assert "every failure is a clean TODO failure" in out


def test_impl_from_environment_variable(course_copy):
    code, out = run_pytest(course_copy, "-k", "one_hot", env={"PHASE1_IMPL": "solution"})
    assert code == 0, out[-2000:]
    assert "graded: solution.py in each lab folder" in out


def test_filtered_run_never_marks_a_lab_done(course_copy):
    code, out = run_pytest(course_copy, "--impl", "solution", "-m", "lab1 and task1_2")
    assert code == 0, out[-2000:]
    lab1 = next(line for line in out.splitlines() if line.startswith("Lab 1"))
    assert re.search(r"\b1 of \d+\b", lab1) and "filtered run" in lab1 and "done" not in lab1


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "import torch\ndef one_hot(labels, num_classes):\n    return labels +* 2\n",
            ["lab1_tensors/mine.py has a syntax error", "line 3, in one_hot() (task1_2)", "return labels +* 2"],
        ),
        (
            "import torch\ndef normalize_rows(x):\n    return x\nnormalize_rows(undefined_name)\n",
            ["NameError", "line 4, at the top level", "normalize_rows(undefined_name)"],
        ),
        ("import os\nos._exit(0)\n", ["called os._exit()", "line 2", 'if __name__ == "__main__"']),
        ("while True:\n    pass\n", ["did not finish importing within 2 s", "PHASE1_IMPORT_TIMEOUT"]),
    ],
    ids=["syntax-error", "import-error", "os-exit", "endless-loop"],
)
def test_learner_file_that_does_not_import_fails_once_with_line_and_task(course_copy, text, expected):
    broken = with_file(course_copy, "mine.py", text)
    try:
        code, out = run_pytest(course_copy, "--impl", "mine", "-m", "task1_1 or task1_2", env={"PHASE1_IMPORT_TIMEOUT": "2"})
    finally:
        broken.unlink()
    assert code == 1, f"a file that does not import must not give a successful run:\n{out[-2000:]}"
    for text in expected:
        assert text in out, f"expected {text!r} in:\n{out[-3000:]}"
    assert " 1 failed" in out and "skipped" in out, "one failure for the lab, the other tests skip"
    assert "Traceback" not in out
    lab1 = next(line for line in out.splitlines() if line.startswith("Lab 1"))
    assert "does not import" in lab1


def test_unknown_impl_lists_the_available_ones_and_names_the_variable(course_copy):
    code, out = run_pytest(course_copy, "--impl", "nosuchfile")
    assert code == 4, out[-2000:]  # pytest's usage-error exit code
    assert "--impl nosuchfile: no lab folder has a file nosuchfile.py" in out
    assert "solution, starter" in out
    code, out = run_pytest(course_copy, env={"PHASE1_IMPL": "typo"})
    assert code == 4 and "PHASE1_IMPL=typo: no lab folder has a file typo.py" in out, out[-2000:]


@pytest.mark.parametrize("value", ["../../outside", "/tmp/x", "lab1_tensors/solution"])
def test_impl_must_be_a_plain_name(course_copy, value):
    code, out = run_pytest(course_copy, env={"PHASE1_IMPL": value})
    assert code == 4, out[-2000:]
    assert f"PHASE1_IMPL={value}: give the name of a file in the lab folder" in out


def test_missing_impl_is_one_line_per_lab_not_one_skip_per_test(course_copy):
    lab2 = course_copy / "lab2_modules"
    lab2.mkdir()
    (lab2 / "solution.py").write_text("")
    shutil.copy(ROOT / "tests" / "test_lab2_modules.py", course_copy / "tests")
    mine = with_file(course_copy, "mine.py", (course_copy / "lab1_tensors" / "solution.py").read_text())
    try:
        code, out = run_pytest(course_copy, "--impl", "mine", "-m", "lab1 or lab2")
    finally:
        mine.unlink()
        shutil.rmtree(lab2)
        (course_copy / "tests" / "test_lab2_modules.py").unlink()
    assert code == 0, out[-2000:]
    assert "SKIPPED" not in out and "does not exist" not in out
    lab2_line = next(line for line in out.splitlines() if line.startswith("Lab 2"))
    assert "no mine.py in lab2_modules" in lab2_line


def test_failing_solution_shows_its_assertion_and_readme_hint_in_a_few_lines(course_copy):
    source = (course_copy / "lab1_tensors" / "solution.py").read_text()
    body = "return x / (x.norm(dim=1, keepdim=True) + 1.0)"
    wrong = with_file(course_copy, "wrong.py", apply(source, {"task": "task1_4", "name": "wrong", "body": body}))
    try:
        code, out = run_pytest(course_copy, "--impl", "wrong", "-k", "normalize_rows")
    finally:
        wrong.unlink()
    assert code == 1
    assert "rows should have norm 1" in out, "a real failure shows the test's assertion message"
    assert 'read lab1_tensors/README.md, section "Task 1.4"' in out and "pytest --hint task1_4" in out
    assert "-> task1_4: edit normalize_rows() in lab1_tensors/wrong.py" in out, "the learner's function is named"
    assert "--tb=long" in out
    assert "def test_" not in out and "torch/" not in out, "no test source, no library frames"
    code, out = run_pytest(course_copy, "--impl", "solution", "-k", "normalize_rows", "--tb=long")
    assert code == 0


def test_child_process_todo_points_at_the_learner_file(course_copy):
    tests = course_copy / "tests" / "test_child_todo.py"
    tests.write_text(
        "import pytest\n"
        "from harness.todos import raise_todo_from_output\n"
        "pytestmark = pytest.mark.lab1\n"
        "@pytest.mark.task1_2\n"
        "def test_child(lab_path):\n"
        "    raise_todo_from_output('TODO(task1_2): Return a one-hot tensor.\\n')\n"
    )
    try:
        code, out = run_pytest(course_copy, "--impl", "starter", str(tests))
    finally:
        tests.unlink()
    assert code == 1
    assert "-> edit one_hot() in lab1_tensors/starter.py" in out, out[-2000:]
    assert "conftest.py" not in out and "harness/" not in out and "tests/" not in out.split("short test summary")[0].split("FAILURES")[-1]


def test_a_child_process_test_of_an_untouched_task_fails_without_starting_the_child(course_copy):
    """run_lab_script / child_lab_path: while every block of the test's task is still a TODO, the
    TODO fails at once (no torch start-up in a child); a task someone has started runs for real."""
    tests = course_copy / "tests" / "test_child_start.py"
    tests.write_text(
        "import pytest\n"
        "pytestmark = pytest.mark.lab1\n"
        "@pytest.mark.task1_2\n"
        "def test_child(run_lab_script, tmp_path):\n"
        "    (tmp_path.parent / 'child-started').write_text('yes')\n"
        "    run_lab_script('--help')\n"
    )
    starter = course_copy / "lab1_tensors" / "starter.py"
    original = starter.read_text()
    try:
        code, out = run_pytest(course_copy, "--impl", "starter", str(tests), "--basetemp", str(course_copy / "tmp1"))
        assert code == 1 and "TODO(task1_2)" in out and "-> edit one_hot() in lab1_tensors/starter.py (line" in out, out[-2000:]
        assert not (course_copy / "tmp1" / "child-started").exists(), "the test body must not run for an untouched task"
        starter.write_text(re.sub(r"raise NotImplementedError\(.TODO\(task1_2\).*", "return None  # started", original))
        code, out = run_pytest(course_copy, "--impl", "starter", str(tests), "--basetemp", str(course_copy / "tmp2"))
        assert (course_copy / "tmp2" / "child-started").exists(), f"a started task runs for real:\n{out[-2000:]}"
    finally:
        tests.unlink()
        starter.write_text(original)


def test_hint_command(course_copy):
    hints = course_copy / "lab1_tensors" / "hints.md"
    existed = hints.exists()
    if not existed:
        hints.write_text(
            "# Lab 1 — hints\n## task1_2 — One-hot\n### Level 1 — nudge\nFirst nudge.\n"
            "### Level 2 — approach\nSecond.\n### Level 3 — near-code\nThird.\n"
        )
    seen = course_copy / ".hints_seen.json"
    try:
        outputs = [run_pytest(course_copy, "--hint", "task1_2") for _ in range(4)]
        again = run_pytest(course_copy, "--hint", "task1_2", "--hint-level", "1")
        unknown = run_pytest(course_copy, "--hint", "task1_99")
    finally:
        seen.unlink(missing_ok=True)
        if not existed:
            hints.unlink()
    assert [code for code, _ in outputs] == [0, 0, 0, 0]
    for level, (_, out) in zip((1, 2, 3, 3), outputs):
        assert f"level {level} of 3" in out, out
        assert "passed" not in out and "collected" not in out, "--hint runs no tests"
    assert "last level" in outputs[3][1]
    assert again[0] == 0 and "level 1 of 3" in again[1]
    assert unknown[0] == 4 and "no task called 'task1_99'" in unknown[1] and "task1_2" in unknown[1]


def test_readme_example_failure_points_at_the_real_todo_line():
    readme = (ROOT / "README.md").read_text()
    shown = int(re.search(r"edit one_hot\(\) in lab1_tensors/starter\.py \(line (\d+)\)", readme).group(1))
    lines = (ROOT / "lab1_tensors" / "starter.py").read_text().splitlines()
    actual = next(n for n, line in enumerate(lines, start=1) if "TODO(task1_2)" in line and "raise" in line)
    assert shown == actual, f"README.md's example says line {shown}; the TODO is on line {actual} of the starter"
