"""notebooks/gpu.ipynb: stored without outputs, every code cell valid Python, one step per cell with its time.
(CI runs it top to bottom in a real kernel: authoring/run_notebook.py.)"""

import ast
import json
import re
from pathlib import Path

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "gpu.ipynb"


def cells():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def source(cell) -> str:
    return cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])


def test_the_notebook_is_stored_without_outputs():
    dirty = [i for i, cell in enumerate(cells()) if cell["cell_type"] == "code" and (cell["outputs"] or cell["execution_count"])]
    assert not dirty, f"cells {dirty} of {NOTEBOOK.name} hold outputs: clear them before committing (Edit -> Clear all outputs)"


def test_every_code_cell_parses_and_follows_a_step_saying_how_long():
    notebook = cells()
    for i, cell in enumerate(notebook):
        if cell["cell_type"] != "code":
            continue
        ast.parse(source(cell))  # plain Python: no shell magics, so it runs in any kernel
        before = source(notebook[i - 1]) if i and notebook[i - 1]["cell_type"] == "markdown" else ""
        assert re.search(r"^## \d+\. .*\((instant|.*(second|minute)s?.*)\)", before, re.M), (
            f"code cell {i} needs a markdown cell before it: '## N. what it shows (about how long)'")


def test_the_parameters_cell_has_the_learner_s_choices():
    parameters = next(cell for cell in cells() if "parameters" in cell["metadata"].get("tags", []))
    names = {node.targets[0].id for node in ast.parse(source(parameters)).body if isinstance(node, ast.Assign)}
    assert {"COURSE_URL", "COURSE_DIR", "IMPL"} <= names, names
    assert 'IMPL = "starter"' in source(parameters), "the learner's own files are graded by default"
