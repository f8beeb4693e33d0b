"""The failure pointer names the broken function: one task per lab with two or more functions, its SECOND
(or later) function broken so that it returns a wrong value, and the "-> taskX: edit <function>() in ..." line
of a learner's run must name that function, not the task's first (harness/reporting.py, called_function).

One pytest process runs the seven tasks on a temporary copy of the course (each lab's broken copy of
solution.py is pointer.py there), so torch is imported once; each lab's check is one parametrised test."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from authoring.check_answers import COPY_IGNORE
from authoring.patches import apply
from harness import markers
from harness.course import load

ROOT = Path(__file__).resolve().parents[2]
IMPL = "pointer"

# lab folder -> (task, the function broken, the block of the task it is in, the patch that breaks it)
BROKEN = {
    "lab1_tensors": ("task1_7", "to_dot", 2, [('return "\\n".join(lines)', 'return "\\n".join(lines[:-1])')]),
    "lab2_modules": ("task2_4", "gradient_norms", 2, [("norms[name] = math.sqrt(squared)", "norms[name] = squared")]),
    "lab3_training_loop": ("task3_5", "restore_rng_state", 2, [('random.setstate(state["python"])', "pass")]),
    "lab4_data_loading": ("task4_5", "stratified_split", 2, [
        ("k = int(round(len(idx) * val_fraction))", "k = int(len(idx) * val_fraction)"),
    ]),
    "lab5_gpu_mixed_precision": ("task5_1", "to_device", 2, [
        ("return {key: to_device(value, device, non_blocking) for key, value in obj.items()}", "return dict(obj)"),
    ]),
    "lab6_cnn_classifier": ("task6_6", "per_class_metrics", 2, [
        ("precision = true_positives / cm.sum(dim=0).clamp(min=1)", "precision = true_positives / cm.sum(dim=1).clamp(min=1)"),
    ]),
    "checkpoint_project": ("taskc_2", "Network.forward", 2, [
        ("return self.head(vector) * self.logit_scale", "return self.head(vector)"),
    ]),
}


@pytest.fixture(scope="module")
def pointer_run(tmp_path_factory):
    """(the copy's root, the output of one learner-style run of the seven tasks on the broken copies)."""
    copy = tmp_path_factory.mktemp("pointers") / "course"
    shutil.copytree(ROOT, copy, ignore=COPY_IGNORE)
    for folder, (task, function, block, patch) in BROKEN.items():
        source = (ROOT / folder / "solution.py").read_text(encoding="utf-8")
        (copy / folder / f"{IMPL}.py").write_text(apply(source, {"task": task, "block": block, "name": function,
                                                                 "patch": patch}, folder), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PHASE1_IMPL", "PHASE1_SLOW", "PYTEST_ADDOPTS")}
    tasks = " or ".join(task for task, *_ in BROKEN.values())
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--impl", IMPL, "-m", tasks,
         *(f"tests/test_{folder}.py" for folder in BROKEN)],
        cwd=copy, capture_output=True, text=True, timeout=300, env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    return copy, result.stdout + result.stderr


def test_each_case_breaks_a_later_function_of_a_task_with_several():
    course = load(ROOT)
    for folder, (task, function, block, _) in BROKEN.items():
        functions = course.task(task).functions
        assert len(functions) >= 2 and functions.index(function) >= 1, f"{folder}: {function} is not a later function of {task}"
        assert functions[block - 1] == function, f"{folder}: block {block} of {task} is {functions[block - 1]}, not {function}"


@pytest.mark.parametrize("folder", list(BROKEN))
def test_the_pointer_names_the_broken_function(pointer_run, folder):
    copy, out = pointer_run
    task, function, _, _ = BROKEN[folder]
    pointers = re.findall(rf"-> {task}: (?:edit (\S+)\(\) in (\S+) \(line (\d+)\); )?read ", out)
    assert pointers, f"no failure of {task} with a pointer in the run:\n{out[-4000:]}"
    lines = (copy / folder / f"{IMPL}.py").read_text(encoding="utf-8").splitlines()
    expected = (function, f"{folder}/{IMPL}.py", str(markers.definition_line(lines, function)))
    assert pointers[0] == expected, f"{task}: the pointer says edit {pointers[0][0] or '(nothing)'}(), expected {function}():\n" + "\n".join(
        line for line in out.splitlines() if task in line)
