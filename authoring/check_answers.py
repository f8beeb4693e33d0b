"""Run the answer catalogues: every wrong answer must be caught, every right answer must pass (instructor tool).

Catalogues: one file per lab in authoring/answers/wrong/ and authoring/answers/right/, plain data,
each entry a patch of one solution block (the format: authoring/patches.py, authoring/README.md):

    ANSWERS = [
        {
            "task": "task1_3",
            "block": 1,                  # optional: which BEGIN SOLUTION(task1_3) block, from 1 (default 1)
            "name": "count not broadcast along dim",
            "why": "divides by a count that broadcasts along the wrong axis",
            "mentions": "broadcast",     # optional (wrong answers): text (or a list of texts) the failure must contain
            "patch": [("return total / mask.sum(dim, keepdim=True)", "return total / mask.sum()")],
        },
    ]

The folder gives the expectation: a *wrong* answer must fail at least one test of its task, with
a message a learner can act on (an assertion message, not a bare `assert x == y`; at most
--max-lines lines of report per test, and at most 15 lines (harness.reporting.MAX_TASK_LINES) for the
task's failing tests together, as a learner's run prints them; the `mentions` text if given). A *right* answer must pass every
test of its task. An entry whose old text is no longer in the solution fails loudly.

For each entry the runner writes a copy of the lab's solution.py with that block patched into ONE
temporary copy of the repository, and runs there, two at a time (each in a child forked from the
runner, which imported torch and torchvision once; `--no-fork` starts a fresh Python process instead):

    pytest -p no:cacheprovider --impl <variant> -m <task> tests/test_<lab_folder>.py -x

(-x: the first failure decides; a wrong answer -x does not settle as caught or as passing every
test is run again without -x. --every-test runs without -x from the start: slower, and the 15-line
rule is then checked over all of a task's failing tests, as a learner sees them.) At the end it prints each catalogue's size and success rate per
lab, and every entry that did not meet its expectation.

Exit status 1 when an entry misses its expectation, or a task has fewer than --min-per-task wrong
answers (default 2).

    python authoring/check_answers.py                        # both catalogues
    python authoring/check_answers.py --only wrong --lab lab1_tensors --task task1_3
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from authoring.patches import CatalogueError, apply  # noqa: E402
from harness import markers  # noqa: E402
from harness.course import task_sort_key  # noqa: E402

CATALOGUES = ("wrong", "right")  # authoring/answers/<kind>/<lab folder>.py
# harness.reporting.MAX_TASK_LINES (not imported here: a harness plugin imported before pytest loads it
# cannot have its asserts rewritten, and pytest warns so in every variant's run)
MAX_TASK_LINES = 15
COPY_IGNORE = shutil.ignore_patterns(
    ".git", ".venv", "venv", "__pycache__", ".pytest_cache", ".ruff_cache", "outputs", "runs", "data",
    ".datasets", "gpu-results", "*.pt", "*.pth", "*.onnx",
)


@dataclass
class Variant:
    lab: str  # the lab folder
    kind: str  # "wrong" (must fail its task's tests) or "right" (must pass them)
    entry: dict  # the catalogue entry: task, block, name, why, mentions, patch or body
    impl: str = ""  # the file name (without .py) in the temporary copy
    status: str = "not run"
    detail: str = ""
    seconds: float = 0.0
    failing: list[str] = field(default_factory=list)

    @property
    def task(self) -> str:
        return self.entry["task"]

    @property
    def block(self) -> int:
        return int(self.entry.get("block", 1))

    @property
    def name(self) -> str:
        return self.entry["name"]

    @property
    def mentions(self) -> list[str]:
        """Texts the failure output must contain (one string or a list in the entry)."""
        value = self.entry.get("mentions") or []
        return [value] if isinstance(value, str) else list(value)

    @property
    def met(self) -> bool:
        """Did the answer meet its expectation (a wrong one caught, a right one passing)?"""
        return self.status == ("caught" if self.kind == "wrong" else "passes")

    def label(self) -> str:
        return f"{self.kind:5} {self.lab} {self.task} block {self.block}: {self.name!r}"


def load_catalogue(path: Path) -> list[dict]:
    namespace: dict = {}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    entries = namespace.get("ANSWERS")
    if not isinstance(entries, list):
        raise CatalogueError(f"{path}: defines no ANSWERS list")
    for number, entry in enumerate(entries, start=1):
        missing = [key for key in ("task", "name") if not entry.get(key)]
        if missing or ("patch" in entry) == ("body" in entry):
            raise CatalogueError(f"{path}: entry {number} needs a task, a name, and a patch or a body")
    return entries


def solution_tasks(solution: Path) -> dict[str, int]:
    """task -> number of BEGIN SOLUTION blocks in the file."""
    counts: dict[str, int] = defaultdict(int)
    for block in markers.file_blocks(solution):
        counts[block.task] += 1
    return dict(counts)


def judge(variant: Variant, code: int, results: dict | None, output: str, max_lines: int,
          max_task_lines: int = MAX_TASK_LINES) -> None:
    """Set the variant's status from its pytest run."""
    tail = "\n".join(output.strip().splitlines()[-8:])
    if results is None:
        variant.status, variant.detail = "error", f"pytest exited with {code} before reporting:\n{tail}"
        return
    tests = results["tests"]
    if not tests:
        variant.status, variant.detail = "error", f"no tests of {variant.task} ran"
        return
    by_state = defaultdict(list)
    for test in tests:
        by_state[test["state"]].append(test)
    if by_state["todo"] or by_state["error"]:
        bad = (by_state["todo"] + by_state["error"])[0]
        variant.status, variant.detail = "error", f"{bad['nodeid']}: {bad['state']}: {bad['text'][:300]}"
        return
    failing = by_state["failing"]
    variant.failing = [test["nodeid"].split("::")[-1] for test in failing]
    if not failing:
        variant.status = "not caught" if variant.kind == "wrong" else "passes"
        variant.detail = f"all {len(by_state['passed'])} tests of {variant.task} pass"
        return
    if variant.kind == "right":
        variant.status = "rejected"
        variant.detail = f"{failing[0]['nodeid']}: {(failing[0]['message'] or failing[0]['text'])[:300]}"
        return
    actionable = [
        test
        for test in failing
        if test["exc_type"] in ("AssertionError", "Failed")
        and (test["message"] or "").strip()
        and not (test["message"] or "").startswith("assert ")
    ]
    if not actionable:
        first = failing[0]
        variant.status = "no message"
        variant.detail = f"{first['nodeid']} fails with {first['exc_type']}: {(first['message'] or '')[:200]}"
        return
    too_long = [test for test in actionable if len(test["text"].splitlines()) > max_lines]
    if len(too_long) == len(actionable):
        variant.status = "too long"
        variant.detail = f"{too_long[0]['nodeid']}: {len(too_long[0]['text'].splitlines())} lines of report"
        return
    # What the learner's run prints for the task: every failing test's report with pytest's header line
    # ("lines"; 0 for a test folded into the task's first report as one line), all together.
    task_lines = sum(test.get("lines", 1 + len(test["text"].splitlines())) for test in failing)
    if task_lines > max_task_lines:
        variant.status = "too long"
        variant.detail = f"{variant.task}: {task_lines} lines of report for {len(failing)} failing tests (at most {max_task_lines})"
        return
    missing = [text for text in variant.mentions if not any(text.lower() in test["text"].lower() for test in failing)]
    if missing:
        variant.status = "mention missing"
        variant.detail = f"no failure mentions {missing[0]!r}; got: {actionable[0]['message'][:200]}"
        return
    variant.status = "caught"
    variant.detail = f"{len(failing)} of {len(tests)} tests fail: {actionable[0]['message'].splitlines()[0][:120]}"


def _pytest_in_child(copy: str, args: list[str], log: str) -> None:
    """Body of a forked child: run pytest in the copy, its output into `log`, exit with its code."""
    code = 3
    try:
        os.chdir(copy)
        fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(fd, 1)
        os.dup2(fd, 2)
        sys.stdout = open(1, "w", closefd=False)
        sys.stderr = open(2, "w", closefd=False)
        import pytest

        code = int(pytest.main(args))
    except BaseException as error:  # report, never fall back into the parent's code
        print(f"runner child failed: {type(error).__name__}: {error}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def run_variant(
    variant: Variant, copy: Path, timeout: float, max_lines: int, fork: bool = False, first_failure: bool = True
) -> Variant:
    """Run the task's tests on one variant: in a fresh `python -m pytest` process, or (fork=True)
    in a child forked from this process, which has torch and torchvision imported already (saves ~3 s of
    imports per variant; CPU only: the parent never initialises CUDA).

    first_failure=True runs pytest with -x: one failing test with an actionable message is enough
    to catch a variant, and the task's later tests (some train for tens of seconds) need not run.
    Only "caught" and "not caught" (every test ran and passed) are taken from the -x run; any
    other verdict comes from running all the task's tests again."""
    results_file = copy / f".results_{variant.impl}.json"
    results_file.unlink(missing_ok=True)
    args = [
        "-p", "no:cacheprovider", "--impl", variant.impl, "-m", variant.task,
        f"tests/test_{variant.lab}.py", "--phase1-results", str(results_file), "-q", *(["-x"] if first_failure else []),
    ]
    start = time.monotonic()
    if fork:
        log = copy / f".log_{variant.impl}.txt"
        child = multiprocessing.get_context("fork").Process(target=_pytest_in_child, args=(str(copy), args, str(log)))
        child.start()
        child.join(timeout)
        if child.is_alive():
            child.kill()
            child.join()
            if time.monotonic() - start < timeout:
                # join() came back early with the child still running (seen once on a loaded machine with a
                # forked child): do not trust the fork, run this variant again in a fresh process.
                return run_variant(variant, copy, timeout, max_lines, fork=False, first_failure=first_failure)
            variant.status, variant.detail = "error", f"timed out after {timeout:g} s"
            return variant
        code = child.exitcode
        output = log.read_text() if log.exists() else ""
    else:
        env = {**os.environ, "PHASE1_IMPL": "", "PHASE1_SLOW": "", "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            result = subprocess.run(
                [sys.executable, "-m", "pytest", *args], cwd=copy, capture_output=True, text=True, timeout=timeout, env=env
            )
            code, output = result.returncode, result.stdout + result.stderr
        except subprocess.TimeoutExpired:
            variant.status, variant.detail = "error", f"timed out after {timeout:g} s"
            return variant
    variant.seconds = time.monotonic() - start
    try:
        results = json.loads(results_file.read_text())
    except (OSError, ValueError):
        results = None
    judge(variant, code, results, output, max_lines)
    if first_failure and variant.status not in ("caught", "not caught", "passes", "rejected"):
        return run_variant(variant, copy, timeout, max_lines, fork, first_failure=False)
    return variant


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the course to test (default: this repository)")
    parser.add_argument("--answers", type=Path, help="folder with wrong/ and right/ catalogues (default: ROOT/authoring/answers)")
    parser.add_argument("--only", choices=CATALOGUES, help="run one catalogue (default: both)")
    parser.add_argument("--lab", action="append", help="only this lab folder (repeatable)")
    parser.add_argument("--task", action="append", help="only this task id (repeatable)")
    parser.add_argument("--jobs", type=int, default=2, help="variants run at once (default 2)")
    parser.add_argument("--min-per-task", type=int, default=2, help="fail when a task has fewer wrong answers (default 2)")
    parser.add_argument("--max-lines", type=int, default=15, help="longest acceptable failure report per test")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per variant")
    parser.add_argument("--every-test", action="store_true",
                        help="run every test of the task (no -x): the report-length rule then covers all failing tests")
    parser.add_argument(
        "--no-fork", action="store_true", help="start each variant's pytest as a new process instead of forking one "
        "that has torch imported (default where fork exists)"
    )
    args = parser.parse_args(argv)
    root = args.root.resolve()
    answers_dir = (args.answers or root / "authoring" / "answers").resolve()
    kinds = [args.only] if args.only else list(CATALOGUES)

    labs = sorted(p.parent.name for p in root.glob("*/solution.py") if (root / "tests" / f"test_{p.parent.name}.py").exists())
    if args.lab:
        unknown = sorted(set(args.lab) - set(labs))
        if unknown:
            print(f"unknown lab folder(s): {', '.join(unknown)}; known: {', '.join(labs)}", file=sys.stderr)
            return 2
        labs = [lab for lab in labs if lab in args.lab]

    variants: list[Variant] = []
    tasks_of: dict[str, dict[str, int]] = {}
    sources: dict[str, str] = {}
    try:
        for lab in labs:
            sources[lab] = (root / lab / "solution.py").read_text(encoding="utf-8")
            tasks_of[lab] = solution_tasks(root / lab / "solution.py")
            for kind in kinds:
                path = answers_dir / kind / f"{lab}.py"
                for entry in load_catalogue(path) if path.exists() else []:
                    if args.task and entry["task"] not in args.task:
                        continue
                    if entry["task"] not in tasks_of[lab]:
                        raise CatalogueError(f"{path}: {entry['task']} has no BEGIN SOLUTION block in {lab}/solution.py")
                    variants.append(Variant(lab, kind, entry))
    except CatalogueError as error:
        print(f"catalogue error: {error}", file=sys.stderr)
        return 2

    fork = not args.no_fork and "fork" in multiprocessing.get_all_start_methods()
    if fork and variants:
        os.environ.update(PHASE1_IMPL="", PHASE1_SLOW="", PYTHONDONTWRITEBYTECODE="1")
        sys.dont_write_bytecode = True
        # Imported once here and shared by every forked variant run (torchvision alone costs ~1.2 s a variant).
        import pytest  # noqa: F401

        if any("import torch" in source for source in sources.values()):
            import torch  # noqa: F401
            import torchvision  # noqa: F401
    print(f"answer catalogues ({' and '.join(kinds)}): {len(variants)} answers in {len(labs)} labs, {args.jobs} at a time",
          flush=True)
    with tempfile.TemporaryDirectory(prefix="answers_") as temp:
        copy = Path(temp) / "course"
        shutil.copytree(root, copy, ignore=COPY_IGNORE)
        per_task: dict[tuple[str, str, str], int] = defaultdict(int)
        for variant in variants:
            per_task[variant.kind, variant.lab, variant.task] += 1
            variant.impl = f"{variant.kind}_{variant.task}_{per_task[variant.kind, variant.lab, variant.task]}"
            try:
                source = apply(sources[variant.lab], variant.entry, f"{variant.kind}/{variant.lab}.py {variant.name!r}")
            except CatalogueError as error:
                variant.status, variant.detail = "stale", str(error)
                continue
            (copy / variant.lab / f"{variant.impl}.py").write_text(source, encoding="utf-8")
        runnable = [variant for variant in variants if variant.status == "not run"]
        with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = [pool.submit(run_variant, v, copy, args.timeout, args.max_lines, fork, not args.every_test)
                       for v in runnable]
            for future in as_completed(futures):
                variant = future.result()
                print(f"  {variant.status:15} {variant.label()}  ({variant.seconds:.0f} s)", flush=True)

    short_tasks = print_table(variants, labs, tasks_of, kinds, args)
    missed = [v for v in variants if not v.met]
    if missed:
        print(f"\ndid not meet their expectation ({len(missed)}):")
        for variant in missed:
            print(f"  [{variant.status}] {variant.label()}\n      {variant.detail}")
    if short_tasks:
        print(f"\ntasks with fewer than {args.min_per_task} wrong answers ({len(short_tasks)}): {', '.join(short_tasks)}")
    ok = not missed and not short_tasks
    met = sum(v.met for v in variants)
    print(f"\nanswer catalogues: {met}/{len(variants)} as expected" + ("" if ok else " — FAILED"))
    return 0 if ok else 1


def print_table(variants, labs, tasks_of, kinds, args) -> list[str]:
    """Per lab and catalogue: answers, how many met their expectation; returns the tasks short of wrong answers."""
    print("\n=== answer catalogues (wrong: caught; right: passing)")
    print(f"{'lab':28}" + "".join(f"{kind + ' answers':>15}{'as expected':>13}" for kind in kinds)
          + f"{'tasks':>7}{'tasks < ' + str(args.min_per_task) + ' wrong':>17}")
    short_tasks = []
    for lab in labs:
        row = f"{lab:28}"
        for kind in kinds:
            found = [v for v in variants if v.lab == lab and v.kind == kind]
            row += f"{len(found):>15}{sum(v.met for v in found):>13}"
        counts = defaultdict(int)
        for variant in variants:
            if variant.lab == lab and variant.kind == "wrong":
                counts[variant.task] += 1
        tasks = [t for t in tasks_of[lab] if not args.task or t in args.task]
        short = ([f"{lab} {t} ({counts.get(t, 0)})" for t in sorted(tasks, key=task_sort_key)
                  if counts.get(t, 0) < args.min_per_task] if "wrong" in kinds else [])
        short_tasks += short
        print(row + f"{len(tasks):>7}{len(short):>17}")
    total = f"{'total':28}"
    for kind in kinds:
        found = [v for v in variants if v.kind == kind]
        total += f"{len(found):>15}{sum(v.met for v in found):>13}"
    print(total)
    return short_tasks


if __name__ == "__main__":
    sys.exit(main())
