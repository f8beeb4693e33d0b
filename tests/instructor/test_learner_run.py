"""A learner's run, rehearsed end to end (instructor check, runs in CI).

The course is copied to a temporary folder; there one task is solved in a starter, another
starter is edited, the quiz file is filled in, and plain `pytest` runs as a learner runs it."""

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from authoring.patches import apply
from harness import markers
from harness.todos import first_unfinished_task

ROOT = Path(__file__).resolve().parents[2]
DESTRUCTIVE = ["make_starters", "--force", "git checkout", "git reset", "git stash", "git clean", "rm -"]
IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", "outputs", "runs", "data", ".datasets", "gpu-results")


def solve_in_starter(starter: Path, task: str):
    """Put the reference body of each of the task's blocks in place of its TODO (a class body's stub is two lines)."""
    bodies = [block.body for block in markers.file_blocks(starter.with_name("solution.py")) if block.task == task]
    text = starter.read_text()
    lines, plain = text.splitlines(keepends=True), text.splitlines()
    todos = [todo for todo in markers.file_todos(starter) if todo.task == task]
    for todo, body in reversed(list(zip(todos, bodies))):
        first = todo.line - 1 if markers.stub_class(plain, todo.line) else todo.line
        lines[first - 1 : todo.line] = [line + "\n" for line in body]
    starter.write_text("".join(lines))


def learner_environment() -> dict[str, str]:
    """This process's environment without the course settings an instructor run may carry."""
    return {k: v for k, v in os.environ.items() if k not in ("PHASE1_IMPL", "PHASE1_SLOW", "PYTEST_ADDOPTS")}


def run(root, *args, env=None):
    result = subprocess.run(
        [sys.executable, *args], cwd=root, capture_output=True, text=True, env={**learner_environment(), **(env or {})},
        timeout=900,
    )
    return result.returncode, result.stdout + result.stderr


def make_learner_course(root: Path) -> dict[Path, bytes]:
    """A copy of the course as a learner leaves it: one task solved, a starter with notes, a quiz file
    filled in (one answer in the wrong form). Returns the edited files' contents."""
    shutil.copytree(ROOT, root, ignore=IGNORE)
    (root / ".hints_seen.json").unlink(missing_ok=True)
    solve_in_starter(root / "lab1_tensors" / "starter.py", "task1_2")
    lab2 = root / "lab2_modules" / "starter.py"
    lab2.write_text(lab2.read_text().replace("\nimport ", "\n# my notes: parameters vs buffers, see the README\nimport ", 1))
    answers = (root / "quiz_answers.txt").read_text()
    answers = re.sub(r"^1:.*$", "1: (8, 3, 5)", answers, flags=re.M)
    answers = re.sub(r"^2:.*$", "2: B", answers, flags=re.M)
    answers = re.sub(r"^9:.*$", "9: D - GradScaler", answers, flags=re.M)
    (root / "quiz_answers.txt").write_text(answers)
    return {path: path.read_bytes() for path in (root / "lab1_tensors" / "starter.py", lab2)}


class Rehearsal:
    """The learner's plain `pytest` in a copy of the course, started in the background as soon as collection
    ends (tests/instructor/conftest.py): it takes tens of seconds, and runs beside the other tests, most of
    which use one thread."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="learner_run_"))
        self.root = self.folder / "course"
        self.edited = make_learner_course(self.root)
        self.process = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider"], cwd=self.root,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=learner_environment())
        self.result = None

    def plain_run(self) -> tuple[int, str]:
        if self.result is None:
            out, _ = self.process.communicate(timeout=900)
            self.result = self.process.returncode, out
        return self.result

    def close(self):
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()
        shutil.rmtree(self.folder, ignore_errors=True)


REHEARSAL = pytest.StashKey[Rehearsal]()


@pytest.fixture(scope="module")
def rehearsal(request):
    if REHEARSAL not in request.config.stash:  # collected some other way: start it now
        request.config.stash[REHEARSAL] = Rehearsal()
    return request.config.stash[REHEARSAL]


@pytest.fixture(scope="module")
def learner_course(rehearsal):
    rehearsal.plain_run()  # the plain run works in the same copy: the tests below change it only after it
    return rehearsal.root, rehearsal.edited


@pytest.fixture(scope="module")
def plain_run(rehearsal):
    return rehearsal.plain_run()


def test_plain_pytest_runs_only_the_learners_work(plain_run):
    code, out = plain_run
    assert code == 1, out[-3000:]  # the remaining TODOs fail
    for module in sorted(path.name for path in Path(__file__).parent.glob("test_*.py")):
        assert module not in out, f"an instructor check ran in the learner's run ({module}):\n{out[-3000:]}"
    assert "tests/instructor" not in out, "the learner's run collects nothing of the instructor folder"
    for name in ("test_starter_is_in_sync", "test_blank_template", "test_check_starter", "test_every_task_has_hint"):
        assert name not in out
    assert "starter check" not in out
    lab1 = next(line for line in out.splitlines() if line.startswith("Lab 1"))
    total, passed, todo = map(int, lab1.split()[5:8])
    assert passed == 1 and todo == total - 1, f"task1_2 solved, the others to do: {lab1}"
    assert "lab2_modules/README.md" in next(line for line in out.splitlines() if line.startswith("Lab 2"))


def test_nothing_suggests_a_destructive_command(plain_run):
    _, out = plain_run
    for command in DESTRUCTIVE:
        assert command not in out, f"the learner's run mentions {command!r}"


def test_progress_table_is_the_last_block(plain_run):
    _, out = plain_run
    lines = out.rstrip().splitlines()
    summary = max(i for i, line in enumerate(lines) if re.match(r"^=+ .*\d+ (failed|passed).* in [\d.]+s", line))
    header = max(i for i, line in enumerate(lines) if "Phase 1 progress" in line)
    assert header > summary, "the table comes after pytest's summary line"
    table = lines[header + 1 :]
    titles = ("Lab ", "Checkpoint project", "Quiz", "(slow", "  ", "tasks")
    assert all(line.lstrip().startswith(titles) or line.startswith(titles) for line in table), "\n".join(table)
    assert any(line.startswith("Quiz") and "score 2/10" in line for line in table), "\n".join(table)


def test_quiz_format_error_is_reported_once_and_apart_from_wrong_answers(plain_run):
    _, out = plain_run
    assert out.count("Question 9: not graded: answer with one letter A–D") == 1, out[-3000:]
    assert "def test_quiz" not in out, "no test source in the quiz report"


def test_make_starters_without_force_keeps_edited_starters(learner_course):
    root, edited = learner_course
    code, out = run(root, "authoring/make_starters.py")
    assert code == 1, out
    for path, content in edited.items():
        assert path.read_bytes() == content, f"{path.relative_to(root)} was overwritten"
        assert f"kept {path.relative_to(root)}" in out
    assert "one_hot() (task1_2)" in out, "the list of what would be lost names the solved task"


def test_a_failing_task_prints_at_most_15_lines(learner_course):
    """The representative case: a wrong normalize_rows (task 1.4) fails two tests."""
    root, _ = learner_course
    source = (ROOT / "lab1_tensors" / "solution.py").read_text()
    body = "return x / (x.norm(dim=1, keepdim=True) + 1.0)"
    (root / "lab1_tensors" / "wrong.py").write_text(apply(source, {"task": "task1_4", "name": "wrong", "body": body}))
    code, out = run(root, "-m", "pytest", "-p", "no:cacheprovider", "--impl", "wrong", "-m", "task1_4")
    assert code == 1
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if "FAILURES" in line)
    end = next(i for i, line in enumerate(lines) if re.match(r"^=+ \d+ failed", line))
    failure = lines[start + 1 : end]
    assert 2 <= len(failure) <= 15, "\n".join(failure)
    assert "rows should have norm 1" in out and "pytest --hint task1_4" in out


def test_the_capstone_run_names_the_first_unfinished_task(learner_course):
    """`starter.py train --smoke` reaches the command line (taskc_11) and the process
    setup (taskc_10) before the data plan, yet the learner meets the TODOs in task order."""
    root, _ = learner_course
    starter = root / "checkpoint_project" / "starter.py"
    original = starter.read_text()
    try:
        code, out = run(root, "checkpoint_project/starter.py", "train", "--smoke", "--out", "runs/smoke", "--cache-dir", "")
        assert code == 1 and "Traceback" not in out, out[-2000:]
        todo = next(line for line in out.splitlines() if "NotImplementedError" in line)
        first = next(todo.line for todo in markers.file_todos(starter) if todo.task == "taskc_1")
        assert "TODO(taskc_1)" in todo and todo.endswith(f"starter.py, line {first})"), (
            f"expected the first unfinished task taskc_1 with its first TODO line ({first}); got:\n{out}")
        assert "pytest --hint taskc_1" in out, f"the run says where to get help: {out}"
        solve_in_starter(starter, "taskc_1")  # the run's message comes from first_unfinished_task: C.2 next
        message = first_unfinished_task(starter)
        first = next(todo.line for todo in markers.file_todos(starter) if todo.task == "taskc_2")
        assert message.startswith("TODO(taskc_2)") and f"starter.py, line {first})" in message, message
    finally:
        starter.write_text(original)
