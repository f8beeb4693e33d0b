"""Tiered hints on request: `pytest --hint task1_3` (or `python harness/hints.py task1_3`).

Each lab folder has a `hints.md` with up to three levels per task:

    # Lab 1 — hints
    ## task1_3 — Masked mean
    ### Level 1 — nudge
    (the idea / the lesson's concept / a pitfall; no code)
    ### Level 2 — approach
    (the steps in words; may name the torch functions to use)
    ### Level 3 — near-code
    (pseudo-code or partial code; still not the full solution body)

Each call prints the next level not yet shown for that task and remembers it in
`.hints_seen.json` at the repository root (git-ignored; delete it to start over).
`--level N` shows level N again. Task ids are the ones course.toml lists.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if __name__ == "__main__" and str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from harness import course as course_structure  # noqa: E402

SEEN_FILE = ".hints_seen.json"
LEVELS = (1, 2, 3)
TASK_HEADING = re.compile(r"^##\s+(?P<task>task\w+)\b\s*(?:[—–-]+\s*(?P<title>.*?))?\s*$")
LEVEL_HEADING = re.compile(r"^###\s+Level\s+(?P<level>\d+)\b\s*(?:[—–-]+\s*(?P<name>.*?))?\s*$", re.IGNORECASE)


class HintsError(ValueError):
    """A hints.md that does not follow the format."""


def parse_hints(text: str, filename: str = "hints.md") -> dict[str, dict]:
    """{task: {"title": str, "levels": {level: (name, text)}}} from one hints.md."""
    tasks: dict[str, dict] = {}
    task, level = None, None
    body: list[str] = []

    def close():
        if task is not None and level is not None:
            name, _ = tasks[task]["levels"][level]
            tasks[task]["levels"][level] = (name, "\n".join(body).strip())

    for number, line in enumerate(text.splitlines(), start=1):
        task_heading, level_heading = TASK_HEADING.match(line), LEVEL_HEADING.match(line)
        if task_heading:
            close()
            task, level, body = task_heading["task"], None, []
            if task in tasks:
                raise HintsError(f"{filename}:{number}: {task} has a second '## {task}' section")
            tasks[task] = {"title": task_heading["title"] or "", "levels": {}}
        elif level_heading:
            close()
            if task is None:
                raise HintsError(f"{filename}:{number}: '### Level' before any '## taskX_Y' heading")
            level, body = int(level_heading["level"]), []
            if level in tasks[task]["levels"]:
                raise HintsError(f"{filename}:{number}: {task} has level {level} twice")
            tasks[task]["levels"][level] = (level_heading["name"] or "", "")
        elif line.startswith("## ") or line.startswith("### "):
            raise HintsError(f"{filename}:{number}: headings are '## taskX_Y — title' and '### Level N — name'")
        elif level is not None:
            body.append(line)
    close()
    return tasks


def task_folders(root: Path = ROOT) -> dict[str, Path]:
    """Every task id of a lab with hints (course.toml) -> its lab folder."""
    course = course_structure.load(Path(root))
    return {task.id: root / lab.folder for lab in course.labs if lab.graded for task in lab.tasks}


def load_seen(root: Path) -> dict[str, int]:
    try:
        seen = json.loads((root / SEEN_FILE).read_text())
        return {str(k): int(v) for k, v in seen.items()}
    except (OSError, ValueError, AttributeError):
        return {}


def show(task: str, level: int | None = None, root: Path = ROOT, out=None, remember: bool = True) -> int:
    """Print one hint level for `task`; returns an exit code (0 shown, 4 usage problem)."""
    out = sys.stdout if out is None else out
    folders = task_folders(root)
    if task not in folders:
        prefix = re.match(r"^task(\w+?)_", task)
        same_lab = sorted((t for t in folders if prefix and t.startswith(prefix.group(0))), key=task_key)
        known = ", ".join(same_lab) if same_lab else ", ".join(sorted({t.rsplit("_", 1)[0] + "_N" for t in folders}))
        print(f"no task called {task!r}. Task ids look like task1_3 (Lab 1, Task 1.3); known here: {known}", file=out)
        return 4
    folder = folders[task]
    path = folder / "hints.md"
    readme = course_structure.load(Path(root)).task(task).readme_section
    if not path.exists():
        print(f"{folder.name} has no hints.md yet. Read {readme}.", file=out)
        return 4
    try:
        entry = parse_hints(path.read_text(), f"{folder.name}/hints.md").get(task)
    except HintsError as error:
        print(f"could not read the hints: {error}", file=out)
        return 4
    if not entry or not entry["levels"]:
        print(f"{folder.name}/hints.md has no hints for {task} yet. Read {readme}.", file=out)
        return 4
    levels = sorted(entry["levels"])
    seen = load_seen(root)
    if level is None:
        level = next((n for n in levels if n > seen.get(task, 0)), levels[-1])
    if level not in entry["levels"]:
        print(f"{task} has hint levels {', '.join(map(str, levels))}; there is no level {level}.", file=out)
        return 4
    name, text = entry["levels"][level]
    title = f" — {entry['title']}" if entry["title"] else ""
    print(f"Hint for {task}{title}, level {level} of {levels[-1]}" + (f" ({name})" if name else "") + ":\n", file=out)
    print(text, file=out)
    later = [n for n in levels if n > level]
    if later:
        print(f"\n(Still stuck? `pytest --hint {task}` again shows level {later[0]}.)", file=out)
    else:
        print(f"\n(That was the last level. Read {readme} again, or compare your code with the lesson's examples.)", file=out)
    seen[task] = max(seen.get(task, 0), level)
    if not remember:
        return 0
    try:
        (root / SEEN_FILE).write_text(json.dumps(seen, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass
    return 0


def task_key(task: str):
    number = task.rsplit("_", 1)[-1]
    return (task.rsplit("_", 1)[0], int(number) if number.isdigit() else 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("task", help="a task id such as task1_3")
    parser.add_argument("--level", type=int, help="show this level (1-3) again")
    args = parser.parse_args(argv)
    return show(args.task, args.level)


# --------------------------------------------------------------------------- `pytest --hint`


def pytest_addoption(parser):
    group = parser.getgroup("phase1")
    group.addoption("--hint", metavar="TASK", help="print the next hint level for TASK (e.g. task1_3) and exit")
    group.addoption("--hint-level", type=int, metavar="N",
                    help="with --hint: show level N (1-3) again instead of the next one")


def pytest_cmdline_main(config):
    """`pytest --hint task1_3`: print a hint and exit without running tests."""
    task = config.getoption("--hint")
    if not task:
        return None
    level = config.getoption("--hint-level")
    return show(task, level, root=Path(config.rootpath))


if __name__ == "__main__":
    sys.exit(main())
