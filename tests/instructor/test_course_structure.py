"""course.toml is the one list of the course's labs and tasks: the solutions, starters, READMEs,
hints and registered markers must agree with it (instructor checks)."""

import re
from pathlib import Path

import pytest

from harness import course as course_structure
from harness import markers
from harness.hints import parse_hints

ROOT = Path(__file__).resolve().parents[2]
COURSE = course_structure.load(ROOT)
GRADED = [lab for lab in COURSE.labs if lab.graded]


def ordered_unique(items):
    return list(dict.fromkeys(items))


@pytest.mark.parametrize("lab", GRADED, ids=lambda lab: lab.folder)
def test_solution_blocks_are_the_tasks_and_functions_course_toml_lists(lab):
    found = markers.file_blocks(ROOT / lab.folder / "solution.py")
    assert ordered_unique(block.task for block in found) == [task.id for task in lab.tasks], (
        f"{lab.folder}/solution.py's BEGIN SOLUTION tasks, in file order, differ from course.toml's list for {lab.marker}")
    for task in lab.tasks:
        functions = ordered_unique(block.function for block in found if block.task == task.id)
        assert functions == list(task.functions), (
            f"course.toml: {task.id} should list the functions around its blocks, {functions}; it lists {list(task.functions)}")


@pytest.mark.parametrize("lab", GRADED, ids=lambda lab: lab.folder)
def test_readme_has_a_section_per_task_with_course_toml_title(lab):
    readme = (ROOT / lab.folder / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### (Task \w+\.\d+) — (.*)$", readme, re.M)
    assert headings == [(task.heading, task.title) for task in lab.tasks], (
        f"{lab.folder}/README.md's task headings differ from course.toml: {headings}")


@pytest.mark.parametrize("lab", GRADED, ids=lambda lab: lab.folder)
def test_hints_and_starter_cover_every_task(lab):
    hints = parse_hints((ROOT / lab.folder / "hints.md").read_text(encoding="utf-8"))
    assert list(hints) == [task.id for task in lab.tasks], f"{lab.folder}/hints.md's sections differ from course.toml"
    stubs = ordered_unique(todo.task for todo in markers.file_todos(ROOT / lab.folder / "starter.py"))
    assert stubs == [task.id for task in lab.tasks], f"{lab.folder}/starter.py's TODOs differ from course.toml"


def test_only_the_listed_task_markers_are_registered(request):
    registered = {line.split(":")[0] for line in request.config.getini("markers")}
    tasks = {name for name in registered if course_structure.TASK_ID.match(name)}
    assert tasks == {task.id for task in COURSE.tasks}
    assert "task1_99" not in registered, "--strict-markers must reject a task id course.toml does not list"


def test_every_lab_test_file_exists_and_marks_only_its_own_tasks():
    for lab in COURSE.labs:
        path = ROOT / "tests" / lab.test_file if lab.graded else ROOT / "tests" / "test_quiz.py"
        text = path.read_text(encoding="utf-8")
        used = set(re.findall(r"pytest\.mark\.(task\w+)", text))
        assert used <= {task.id for task in lab.tasks}, f"{path.name} marks tasks of another lab: {sorted(used)}"


def test_a_structure_file_with_a_bad_task_id_is_one_clear_error():
    text = '[[lab]]\nmarker = "lab9"\nfolder = "lab9_x"\ntitle = "X"\nnumber = "9"\n[[lab.task]]\nid = "task8_1"\n'
    with pytest.raises(course_structure.StructureError, match="its ids look like task9_1"):
        course_structure.parse(text, ROOT)


def test_the_contract_sections_are_the_readmes_and_each_has_tests():
    """course.toml's [[contract]] sections are the checkpoint README's "### §N — title" headings, in order;
    the contract suite names each test after one of them (test_sN_...), and every section has a test."""
    readme = (ROOT / "checkpoint_project" / "README.md").read_text(encoding="utf-8")
    headings = re.findall(r"^### (§\d+ — .*)$", readme, re.M)
    assert headings == [section.heading for section in COURSE.contract], (
        f"checkpoint_project/README.md's contract headings differ from course.toml's [[contract]]: {headings}")
    source = (ROOT / "tests" / "test_contract.py").read_text(encoding="utf-8")
    tested = re.findall(r"^def test_s(\d+)_", source, re.M)
    numbers = [section.number for section in COURSE.contract]
    assert set(tested) <= set(numbers), f"tests/test_contract.py names sections course.toml lacks: {sorted(set(tested) - set(numbers))}"
    assert set(numbers) <= set(tested), f"contract sections without a test: {sorted(set(numbers) - set(tested))}"
    other = re.findall(r"^def (test_(?!s\d+_)\w+)", source, re.M)
    assert not other, f"every contract test is named test_s<section>_...: {other}"
