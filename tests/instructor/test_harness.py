"""The course harness itself (instructor checks: they run with --impl solution and in CI, never
in a learner's run): starter generation, the quiz grader, and the grading plugin on a tiny fake course."""

import re
from pathlib import Path

import pytest
from fake_course import FAKE_SOLUTION_1, write_fake_course

from authoring import make_starters
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


CLASS_SOURCE = (
    "from dataclasses import dataclass\n\n\n"
    "@dataclass(kw_only=True)\n"
    "class State:\n"
    '    """Doc."""\n\n'
    "    # Hint: what changes starts at a default.\n"
    "    # BEGIN SOLUTION(task9_2): Declare the fields.\n"
    "    size: int\n"
    "    step: int = 0\n"
    "    # END SOLUTION\n"
)


def test_a_class_body_block_becomes_a_stub_that_imports_and_raises_when_used():
    """A dataclass's fields are a class body: a bare raise there would stop the file importing."""
    starter = make_starters.make_starter(CLASS_SOURCE, "lab9_example/solution.py")
    assert "size: int" not in starter and "# Hint: what changes starts at a default." in starter
    namespace = {}
    exec(compile(starter, "starter.py", "exec"), namespace)  # the file imports
    with pytest.raises(NotImplementedError, match=r"TODO\(task9_2\): Declare the fields\."):
        namespace["State"](size=3)
    (todo,) = make_starters.markers.todos(starter)
    assert (todo.task, todo.function) == ("task9_2", "State"), "the TODO belongs to the class, not to the stub's __init__"


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


# --------------------------------------------------------------------------- the harness, on a tiny fake course
# Each test writes a two-lab course that imports nothing but the standard library and runs pytest
# on it in this process (pytester): the harness's behaviour, without a copy of the real course.

@pytest.fixture
def fake_course(pytester, monkeypatch):
    """A two-lab course in pytester's folder: the real conftest.py and harness, fake labs."""
    write_fake_course(pytester.path)
    for name in ("PHASE1_IMPL", "PHASE1_SLOW", "PHASE1_IMPORT_TIMEOUT", "PYTEST_ADDOPTS"):
        monkeypatch.delenv(name, raising=False)
    return pytester


def run_fake(course, *args):
    """pytest in the fake course, in this process; returns (exit code, all output)."""
    result = course.runpytest("-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", *args)
    return int(result.ret), "\n".join(result.outlines + result.errlines)


def table_line(out: str, prefix: str) -> str:
    return next(line for line in out.splitlines() if line.startswith(prefix))


def test_starter_todos_are_one_line_failures_with_progress_table(fake_course):
    code, out = run_fake(fake_course, "--impl", "starter", "-k", "test_double")
    assert code == 1
    assert "Traceback" not in out and "raise NotImplementedError" not in out, "TODO failures must not print tracebacks"
    assert "TODO(task1_1): Return twice x." in out and "-> edit double() in lab1_fake/starter.py (line" in out, out
    assert 'lab1_fake/README.md, section "Task 1.1"' in out and "pytest --hint task1_1" in out
    assert "    also stopped at TODO(task1_1): test_double_negative" in out, "a repeated TODO of the task costs one line"
    assert "_ test_double_negative _" not in out and " 2 failed" in out, "folded into the first report, still counted"
    table = out[out.index("Phase 1 progress — graded: starter.py in each lab folder"):]
    assert " failed" not in table, "the progress table comes after pytest's summary line"
    lab1 = table_line(table, "Lab 1  Fake one")
    assert re.search(r"\b1 of 3\b", lab1) and "done" not in lab1, lab1


def test_only_course_toml_task_markers_exist(fake_course):
    (fake_course.path / "tests" / "test_typo.py").write_text(
        "import pytest\n\n\n@pytest.mark.lab1\n@pytest.mark.task1_99\ndef test_x():\n    pass\n")
    code, out = run_fake(fake_course, "--impl", "solution", "tests/test_typo.py")
    assert code != 0 and "'task1_99' not found in `markers`" in out, out


def test_check_starter_accepts_only_todo_failures(fake_course):
    code, out = run_fake(fake_course, "--impl", "starter", "--check-starter", "-k", "not spawned")
    assert code == 0 and "every failure is a clean TODO failure" in out, out
    (fake_course.path / "lab1_fake" / "starter.py").write_text(FAKE_SOLUTION_1.replace("return 2 * x", "return x"))
    code, out = run_fake(fake_course, "--impl", "starter", "--check-starter", "-k", "double")
    assert code == 1 and "starter check FAILED" in out, out


def test_impl_from_environment_variable(fake_course, monkeypatch):
    monkeypatch.setenv("PHASE1_IMPL", "solution")
    code, out = run_fake(fake_course, "-k", "double")
    assert code == 0, out
    assert "graded: solution.py in each lab folder" in out


def test_filtered_run_never_marks_a_lab_done(fake_course):
    code, out = run_fake(fake_course, "--impl", "solution", "-m", "lab1 and task1_2")
    assert code == 0, out
    lab1 = table_line(out, "Lab 1")
    assert re.search(r"\b1 of 3\b", lab1) and "filtered run" in lab1 and "done" not in lab1
    assert "(not run)" in table_line(out, "Lab 2"), "-m lab1 leaves the other lab's module out"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("def double(x):\n    return x +* 2\n", ["lab1_fake/mine.py has a syntax error", "line 2, in double() (task1_1)", "return x +* 2"]),
        ("def double(x):\n    return x\ndouble(undefined_name)\n", ["NameError", "line 3, at the top level", "double(undefined_name)"]),
        ("import os\nos._exit(0)\n", ["called os._exit()", "line 2", 'if __name__ == "__main__"']),
        ("import sys\nsys.exit(3)\n", ["called sys.exit(3)", 'if __name__ == "__main__"']),
        ("while True:\n    pass\n", ["did not finish importing within 1 s", "PHASE1_IMPORT_TIMEOUT"]),
    ],
    ids=["syntax-error", "import-error", "os-exit", "sys-exit", "endless-loop"],
)
def test_learner_file_that_does_not_import_fails_once_with_line_and_task(fake_course, monkeypatch, text, expected):
    (fake_course.path / "lab1_fake" / "mine.py").write_text(text)
    monkeypatch.setenv("PHASE1_IMPORT_TIMEOUT", "1")
    code, out = run_fake(fake_course, "--impl", "mine", "-m", "task1_1 or task1_2")
    assert code == 1, f"a file that does not import must not give a successful run:\n{out[-2000:]}"
    for text in expected:
        assert text in out, f"expected {text!r} in:\n{out[-3000:]}"
    assert " 1 failed" in out and "skipped" in out, "one failure for the lab, the other tests skip"
    assert "Traceback" not in out
    assert "does not import" in table_line(out, "Lab 1")


def test_import_time_limit_without_sigalrm(tmp_path, monkeypatch):
    """Windows has no SIGALRM: a watchdog thread interrupts the import instead."""
    import signal

    from harness import loading

    folder = tmp_path / "lab9_windows"
    folder.mkdir()
    (folder / "mine.py").write_text("while True:\n    pass\n")
    monkeypatch.delattr(signal, "SIGALRM", raising=False)
    monkeypatch.delattr(signal, "setitimer", raising=False)
    error = loading.import_lab_file(folder / "mine.py", limit=0.5)
    assert isinstance(error, loading.ImportTimeout), error
    ignored = signal.signal(signal.SIGINT, signal.SIG_IGN)  # as in a job started with nohup or &: SIGINT ignored
    try:
        error = loading.import_lab_file(folder / "mine.py", limit=0.5)
        assert isinstance(error, loading.ImportTimeout), error
        assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN, "the import limit puts the SIGINT handler back"
    finally:
        signal.signal(signal.SIGINT, ignored)
    (folder / "fine.py").write_text("VALUE = 1\n")
    assert loading.import_lab_file(folder / "fine.py", limit=5).VALUE == 1, "a file that imports in time loads"


def test_lab_files_are_importable_by_name_in_a_spawned_child(fake_course):
    """macOS and Windows start DataLoader workers and torchrun with spawn, which imports the
    learner's module again by name to unpickle its objects."""
    code, out = run_fake(fake_course, "--impl", "solution", "-k", "spawned")
    assert code == 0, out[-3000:]


def test_unknown_impl_lists_the_available_ones_and_names_the_variable(fake_course, monkeypatch):
    code, out = run_fake(fake_course, "--impl", "nosuchfile")
    assert code == 4, out[-2000:]  # pytest's usage-error exit code
    assert "--impl nosuchfile: no lab folder has a file nosuchfile.py" in out and "solution, starter" in out
    monkeypatch.setenv("PHASE1_IMPL", "typo")
    code, out = run_fake(fake_course)
    assert code == 4 and "PHASE1_IMPL=typo: no lab folder has a file typo.py" in out, out[-2000:]


@pytest.mark.parametrize("value", ["../../outside", "/tmp/x", "lab1_fake/solution"])
def test_impl_must_be_a_plain_name(fake_course, monkeypatch, value):
    monkeypatch.setenv("PHASE1_IMPL", value)
    code, out = run_fake(fake_course)
    assert code == 4, out[-2000:]
    assert f"PHASE1_IMPL={value}: give the name of a file in the lab folder" in out


def test_missing_impl_is_one_line_per_lab_not_one_skip_per_test(fake_course):
    (fake_course.path / "lab1_fake" / "mine.py").write_text(FAKE_SOLUTION_1)
    code, out = run_fake(fake_course, "--impl", "mine", "-k", "not spawned")
    assert code == 0, out[-2000:]
    assert "SKIPPED" not in out and "does not exist" not in out
    assert "no mine.py in lab2_fake" in table_line(out, "Lab 2")


def test_a_failure_shows_its_assertion_the_function_to_edit_and_the_readme(fake_course):
    (fake_course.path / "lab1_fake" / "wrong.py").write_text(FAKE_SOLUTION_1.replace("return x + offset", "return x - offset"))
    code, out = run_fake(fake_course, "--impl", "wrong", "-m", "task1_2")
    assert code == 1
    assert "shift(2, 3) should be 5, got -1" in out, "a real failure shows the test's assertion message"
    assert "-> task1_2: edit shift() in lab1_fake/wrong.py (line" in out, "the function the test called, not the task's first"
    assert 'read lab1_fake/README.md, section "Task 1.2"' in out and "pytest --hint task1_2" in out and "--tb=long" in out
    assert "def test_" not in out and "harness/" not in out, "no test source, no harness frames"
    code, out = run_fake(fake_course, "--impl", "wrong", "-m", "task1_2", "--tb=long")
    assert code == 1 and "def test_shift" in out and "Read lab1_fake/README.md" in out, "--tb=long shows everything, and where to read"


def test_a_child_process_test_of_an_untouched_task_fails_without_starting_the_child(fake_course):
    """run_lab_script / child_lab_path: while every block of the test's task is still a TODO, the
    TODO fails at once (no start-up of a child); a task someone has started runs for real."""
    marker = fake_course.path / "child-started"
    code, out = run_fake(fake_course, "--impl", "starter", "-m", "task1_3", "--basetemp", str(fake_course.path / "tmp1"))
    assert code == 1 and "TODO(task1_3)" in out and "-> edit main() in lab1_fake/starter.py (line" in out, out[-2000:]
    assert not marker.exists(), "the test body must not run for an untouched task"
    starter = fake_course.path / "lab1_fake" / "starter.py"
    starter.write_text(re.sub(r"raise NotImplementedError\(.TODO\(task1_3\).*", "print(double(int(argv[0])))",
                              starter.read_text()))
    code, out = run_fake(fake_course, "--impl", "starter", "-m", "task1_3", "--basetemp", str(fake_course.path / "tmp2"))
    assert marker.exists(), f"a started task runs for real:\n{out[-2000:]}"
    assert "TODO(task1_1)" in out and "(task1_3's tests need task1_1 first)" in out, out[-2000:]
    assert "-> edit double() in lab1_fake/starter.py (line" in out, "a TODO met in the child points at the learner's file"


def test_hint_command(fake_course):
    outputs = [run_fake(fake_course, "--hint", "task1_2") for _ in range(4)]
    again = run_fake(fake_course, "--hint", "task1_2", "--hint-level", "1")
    unknown = run_fake(fake_course, "--hint", "task1_99")
    assert [code for code, _ in outputs] == [0, 0, 0, 0]
    for level, (_, out) in zip((1, 2, 3, 3), outputs, strict=True):
        assert f"level {level} of 3" in out, out
        assert "passed" not in out and "collected" not in out, "--hint runs no tests"
    assert "First nudge 2." in outputs[0][1] and "last level" in outputs[3][1]
    assert again[0] == 0 and "level 1 of 3" in again[1]
    assert unknown[0] == 4 and "no task called 'task1_99'" in unknown[1] and "task1_2" in unknown[1]


def test_readme_example_failure_points_at_the_real_todo_line():
    readme = (ROOT / "README.md").read_text()
    shown = int(re.search(r"edit one_hot\(\) in lab1_tensors/starter\.py \(line (\d+)\)", readme).group(1))
    lines = (ROOT / "lab1_tensors" / "starter.py").read_text().splitlines()
    actual = next(n for n, line in enumerate(lines, start=1) if "TODO(task1_2)" in line and "raise" in line)
    assert shown == actual, f"README.md's example says line {shown}; the TODO is on line {actual} of the starter"


def test_the_environment_lines_say_versions_device_and_an_old_torch(monkeypatch):
    import types
    from importlib import metadata

    from harness import environment

    config = types.SimpleNamespace(rootpath=ROOT)
    lines = environment.pytest_report_header(config)
    assert lines[0].startswith("Python ") and "torchrun) start with" in lines[0]
    assert f"torch {metadata.version('torch')}" in lines[1] and "requirements.txt asks for >=" in lines[1]
    assert any(line.startswith("device: ") and "autocast" in line for line in lines), lines
    real_version = metadata.version
    monkeypatch.setattr(metadata, "version", lambda name: "2.0.1" if name == "torch" else real_version(name))
    warning = [line for line in environment.pytest_report_header(config) if line.startswith("WARNING")]
    assert warning and "your environment, not your code" in warning[0], warning


def test_a_long_assertion_message_is_shown_whole(fake_course):
    (fake_course.path / "tests" / "test_long.py").write_text(
        "import pytest\n\n\n@pytest.mark.lab1\n@pytest.mark.task1_1\ndef test_long(lab):\n"
        "    assert lab.double(1) == 3, 'x' * 300 + ' and the fix comes last'\n")
    code, out = run_fake(fake_course, "--impl", "solution", "tests/test_long.py")
    assert code == 1 and "and the fix comes last" in out, out


MANY_FAILURES = """\
import pytest

pytestmark = pytest.mark.lab1


@pytest.mark.task1_1
def test_first(lab):
    assert lab.double(1) == 3, (
        "double(1) is 2, and this test wants 3\\n  a second line\\n  a third line\\n  a fourth line\\n"
        + "x" * 300 + " the fix comes last"
    )


@pytest.mark.task1_2
def test_other_task(lab):
    assert lab.scale(1, 1) == 2, "scale(1, 1) is 1, this test wants 2"


@pytest.mark.task1_1
@pytest.mark.parametrize("n", range(20))
def test_many(lab, n):
    assert lab.double(n) == n, f"double({n}) should be {n} in this test"
"""


def failure_blocks(out: str) -> dict[str, list[str]]:
    """The FAILURES section of a run: header test name -> the lines under it (with the header line)."""
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^=+ FAILURES =+$", line))
    end = next(i for i, line in enumerate(lines) if re.match(r"^=+ .*\d+ failed", line))
    blocks: dict[str, list[str]] = {}
    name = None
    for line in lines[start + 1 : end]:
        header = re.match(r"^_+ (\S+) _+$", line)
        if header:
            name = header.group(1)
            blocks[name] = []
        if name is None:
            raise AssertionError(f"a line before the first header: {line!r}")
        blocks[name].append(line)
    return blocks


def test_a_failing_task_costs_at_most_15_lines_and_keeps_its_diagnosis_whole(fake_course):
    """20 failing tests of task1_1 (and one of task1_2 between them): the first test of each task shows its whole
    report, each later one is a line under it, until the 15th line says how many more fail."""
    (fake_course.path / "tests" / "test_many.py").write_text(MANY_FAILURES)
    code, out = run_fake(fake_course, "--impl", "solution", "-p", "no:randomly", "tests/test_many.py")
    assert code == 1 and " 21 failed, 1 passed" in out, out[-3000:]
    blocks = failure_blocks(out)
    assert list(blocks) == ["test_first", "test_other_task"], f"one report per failing task:\n{out[-3000:]}"
    first = blocks["test_first"]
    assert len(first) <= 15 and len(blocks["test_other_task"]) <= 15, "\n".join(first)
    message = [line.strip() for line in first[1:6]]
    assert message[:4] == ["double(1) is 2, and this test wants 3", "a second line", "a third line", "a fourth line"]
    assert message[4] == "x" * 300 + " the fix comes last", "the diagnosis line is never cut"
    assert "-> task1_1: edit double() in lab1_fake/solution.py" in first[6], first[6]
    named = [line for line in first if line.startswith("    also failing: test_many[")]
    assert named and named[0] == "    also failing: test_many[1]: double(1) should be 1 in this test", named
    more = re.fullmatch(r"    \.\.\. and (\d+) more failing tests of task1_1 \(--tb=long shows every test\)", first[-1])
    assert len(first) == 15 and more and len(named) + int(more.group(1)) == 19, "\n".join(first)

    code, out = run_fake(fake_course, "--impl", "solution", "-p", "no:randomly", "tests/test_many.py", "-ra")
    assert out.count("FAILED tests/test_many.py::") == 21, "-ra still lists every failing test"
    code, out = run_fake(fake_course, "--impl", "solution", "-p", "no:randomly", "tests/test_many.py", "--tb=long")
    assert len(failure_blocks(out)) == 21 and out.count("def test_many(lab, n):") == 19, "--tb=long shows everything"
    assert "also failing" not in out and "the fix comes last" in out


FAKE_CONTRACT = '''\
import pytest

pytestmark = pytest.mark.contract


def test_s1_met():
    pass


def test_s2_missing():
    pytest.fail("contract §2 Write: nothing was written", pytrace=False)


@pytest.mark.slow
def test_s3_real():
    pass
'''


def test_the_contract_runs_only_when_asked_and_ends_with_its_table(fake_course):
    with open(fake_course.path / "course.toml", "a") as toml:
        toml.write("".join(f'\n[[contract]]\nsection = "{n}"\ntitle = "{title}"\n' for n, title in
                           (("1", "Read"), ("2", "Write"), ("3", "Real"))))
    (fake_course.path / "tests" / "test_contract.py").write_text(FAKE_CONTRACT)
    code, out = run_fake(fake_course, "--impl", "solution")
    assert code == 0 and "test_contract.py" not in out and "Checkpoint project contract" not in out, out
    code, out = run_fake(fake_course, "--impl", "solution", "-m", "contract")
    assert code == 1 and "1 failed, 1 passed" in out, out
    assert "contract §2 Write: nothing was written" in out and "Traceback" not in out, "a contract failure is its one line"
    table = out[out.index("Checkpoint project contract — graded: checkpoint_project/solution.py"):]
    assert re.search(r"§1 Read\s+1\s+1\s+0\s+0\s+met", table), table
    assert re.search(r"§2 Write\s+1\s+0\s+1\s+0\s+nothing was written", table), table
    assert "§3 Real" in table and "not run: a slow test: add --runslow" in table, table
    assert "Phase 1 progress" not in out, "no lab test ran: no lab table"
    code, out = run_fake(fake_course, "--impl", "solution", "tests/test_contract.py")
    assert code == 1 and "1 failed, 1 passed" in out, f"naming the module asks for it too:\n{out}"


def test_a_marker_is_asked_for_only_where_the_m_expression_can_select_it(fake_course):
    """`-m "not contract"` and `-m "not slow"` name the markers to leave them out: neither asks for the
    contract suite or the slow tests, though both contain the word."""
    with open(fake_course.path / "course.toml", "a") as toml:
        toml.write('\n[[contract]]\nsection = "1"\ntitle = "Read"\n')
    (fake_course.path / "tests" / "test_contract.py").write_text(FAKE_CONTRACT)
    code, out = run_fake(fake_course, "--impl", "solution", "-m", "not contract")
    assert "Checkpoint project contract" not in out and "test_contract.py" not in out, out
    assert "slow training tests were not run" in out, out
    code, out = run_fake(fake_course, "--impl", "solution", "-m", "not slow")
    assert "slow training tests were not run" in out, f"-m 'not slow' runs no slow test:\n{out}"
    code, out = run_fake(fake_course, "--impl", "solution", "-m", "contract or lab1")
    assert "Checkpoint project contract" in out, f"an -m that can select contract tests asks for them:\n{out}"


def test_an_error_a_test_rewords_still_shows_the_learners_line(fake_course):
    """A test that catches the learner's error to say what it means (pytest.fail from an except block)
    still shows the line of the learner's file where the error came from."""
    (fake_course.path / "lab1_fake" / "wrong.py").write_text(
        FAKE_SOLUTION_1.replace("return x + offset", "return x + offset.missing"))
    (fake_course.path / "tests" / "test_reworded.py").write_text(
        "import pytest\n\n\n@pytest.mark.lab1\n@pytest.mark.task1_2\ndef test_shift_reworded(lab):\n"
        "    try:\n        lab.shift(2, 3)\n    except AttributeError as error:\n"
        "        pytest.fail(f'shift(2, 3) failed: {error}; offset is a number')\n")
    code, out = run_fake(fake_course, "--impl", "wrong", "tests/test_reworded.py")
    line = FAKE_SOLUTION_1.splitlines().index("    return x + offset") + 1
    assert code == 1 and "shift(2, 3) failed:" in out, out
    assert f"your code: lab1_fake/wrong.py, line {line}, in shift(): return x + offset.missing" in out, out
    assert "edit shift()" not in out, "the learner's line already names the function"
    (fake_course.path / "tests" / "test_reworded.py").write_text(
        "import pytest\n\n\n@pytest.mark.lab1\n@pytest.mark.task1_2\ndef test_shift_of_scaled(lab):\n"
        "    try:\n        lab.shift(lab.scale(1, 2), 3)\n    except AttributeError as error:\n"
        "        pytest.fail(f'{error}: does scale() return a number?')\n")
    code, out = run_fake(fake_course, "--impl", "wrong", "tests/test_reworded.py")
    assert code == 1 and f"line {line}, in shift()" in out, out
    assert "-> task1_2: edit scale() in lab1_fake/wrong.py (line" in out, f"the function the message blames, too:\n{out}"


def test_failures_come_in_the_course_order_whatever_the_test_files_are_called(fake_course):
    """Plain pytest runs the labs in the course's order: a test file that sorts first by name (the
    checkpoint project's, before test_lab1_...) does not put a later lab's failures at the top."""
    (fake_course.path / "tests" / "test_a_lab2_extra.py").write_text(
        "import pytest\npytestmark = pytest.mark.lab2\n\n\n@pytest.mark.task2_1\ndef test_triple_again(lab):\n"
        "    assert lab.triple(1) == 3, 'triple(1) should be 3'\n")
    code, out = run_fake(fake_course, "--impl", "starter", "-p", "no:randomly")
    lab1, lab2 = out.find("TODO(task1_1)"), out.find("TODO(task2_1)")
    assert code == 1 and 0 <= lab1 < lab2, out
