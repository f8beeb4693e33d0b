"""The course's structure, read from `course.toml` at the course root: its labs and their tasks.

Everything that needs to know which labs and tasks exist asks a `Course` (the harness, the starter
generator, the hints, the course checks), so that list lives in one file.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10 (requirements.txt installs tomli there)
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
STRUCTURE_FILE = "course.toml"
TASK_ID = re.compile(r"^task(?P<lab>[0-9]+|[a-z])_(?P<number>[0-9]+)$")


class StructureError(ValueError):
    """A course.toml that cannot be read."""


@dataclass(frozen=True)
class Task:
    id: str
    title: str
    functions: tuple[str, ...]
    lab: Lab = field(compare=False, repr=False)  # the lab holds its tasks: no cycle in ==, hash, repr

    @property
    def number(self) -> int:
        return int(TASK_ID.match(self.id)["number"])

    @property
    def heading(self) -> str:
        """The README section title: 'Task 1.3' (Lab 1), 'Task C.4' (the checkpoint project)."""
        return f"Task {self.lab.number.upper()}.{self.number}"

    @property
    def readme_section(self) -> str:
        """Where a learner reads about this task."""
        if self.lab.marker == "quiz":
            return "quiz.md"
        return f'{self.lab.folder}/README.md, section "{self.heading}"'


@dataclass(frozen=True)
class Lab:
    marker: str
    folder: str
    title: str
    number: str
    tasks: tuple[Task, ...] = ()

    @property
    def label(self) -> str:
        """The progress table's row name: 'Lab 1  Tensors & Autograd', 'Checkpoint project'."""
        return f"Lab {self.number}  {self.title}" if self.number.isdigit() else self.title

    @property
    def test_file(self) -> str:
        return f"test_{self.folder}.py"

    @property
    def graded(self) -> bool:
        """Does a learner write a file in this lab's folder (every lab but the quiz)?"""
        return self.marker != "quiz"


@dataclass(frozen=True)
class ContractSection:
    """A section of the checkpoint project's command-line contract: README heading "### §<number> — <title>";
    the contract suite's tests of it are named test_s<number>_... (tests/test_contract.py)."""

    number: str
    title: str

    @property
    def heading(self) -> str:
        return f"§{self.number} — {self.title}"


@dataclass(frozen=True)
class Course:
    root: Path
    labs: tuple[Lab, ...]
    contract: tuple[ContractSection, ...] = ()

    def lab(self, marker: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.marker == marker), None)

    def lab_of_folder(self, folder: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.folder == folder), None)

    def lab_of_test_file(self, filename: str) -> Lab | None:
        return next((lab for lab in self.labs if lab.test_file == filename), None)

    @cached_property
    def _tasks_by_id(self) -> dict[str, Task]:
        return {task.id: task for lab in self.labs for task in lab.tasks}

    def task(self, task_id: str | None) -> Task | None:
        """The task with this id (every report asks, for each marker of its test: a dict, not a scan)."""
        return self._tasks_by_id.get(task_id)

    @property
    def tasks(self) -> list[Task]:
        return [task for lab in self.labs for task in lab.tasks]

    def is_lab_file(self, filename) -> bool:
        """Is this a file a learner edits: a .py file directly inside a lab folder?"""
        try:
            path = Path(filename).resolve()
        except (OSError, ValueError):
            return False
        return (path.suffix == ".py" and path.parent.parent == self.root.resolve()
                and self.lab_of_folder(path.parent.name) is not None)

    def relative(self, filename) -> str:
        try:
            return Path(filename).resolve().relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(filename)


def parse(text: str, root: Path, filename: str = STRUCTURE_FILE) -> Course:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise StructureError(f"{filename}: {error}") from None
    labs = []
    for number, entry in enumerate(data.get("lab", []), start=1):
        missing = [key for key in ("marker", "folder", "title", "number") if key not in entry]
        if missing:
            raise StructureError(f"{filename}: lab {number} has no {', '.join(missing)}")
        lab = Lab(entry["marker"], entry["folder"], entry["title"], str(entry["number"]))
        tasks = []
        for task in entry.get("task", []):
            found = TASK_ID.match(task.get("id", ""))
            if not found or found["lab"] != lab.number:
                raise StructureError(f"{filename}: {lab.folder} has a task id {task.get('id')!r}; "
                                     f"its ids look like task{lab.number}_1")
            tasks.append(Task(task["id"], task.get("title", ""), tuple(task.get("functions", ())), lab))
        # A task refers to its lab; the lab, once built, holds its tasks.
        lab = Lab(lab.marker, lab.folder, lab.title, lab.number, ())
        object.__setattr__(lab, "tasks", tuple(Task(t.id, t.title, t.functions, lab) for t in tasks))
        labs.append(lab)
    ids = [task.id for lab in labs for task in lab.tasks]
    repeated = sorted({task for task in ids if ids.count(task) > 1})
    if repeated:
        raise StructureError(f"{filename}: task ids listed twice: {', '.join(repeated)}")
    contract = []
    for entry in data.get("contract", []):
        if "section" not in entry or "title" not in entry:
            raise StructureError(f"{filename}: a [[contract]] entry needs a section and a title: {entry}")
        contract.append(ContractSection(str(entry["section"]), entry["title"]))
    return Course(root, tuple(labs), tuple(contract))


@cache
def load(root: Path = ROOT) -> Course:
    """The course whose course.toml is in `root` (the repository by default)."""
    path = Path(root) / STRUCTURE_FILE
    return parse(path.read_text(encoding="utf-8"), Path(root), str(path))


def task_sort_key(task_id: str):
    found = TASK_ID.match(task_id or "")
    return (0, int(found["number"])) if found else (1, 0)
