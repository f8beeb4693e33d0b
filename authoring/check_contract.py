"""Check the checkpoint project's contract suite (tests/test_contract.py) against four programs:

- the reference, checkpoint_project/solution.py: every test passes;
- authoring/contract/independent.py, a program written from the README alone: every test passes;
- an empty file: every test fails, each with one line naming its section;
- authoring/contract/incomplete.py (the reference with four behaviours missing): exactly the tests its
  MISSING lists fail, each with one line naming the section of the missing behaviour.

The three graded files other than the reference go into a copy of the course (files git tracks or
would track), so nothing is written into this checkout.

    python authoring/check_contract.py [--skip-reference]
"""

from __future__ import annotations

import argparse
import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INCOMPLETE = ROOT / "authoring" / "contract" / "incomplete.py"
INDEPENDENT = ROOT / "authoring" / "contract" / "independent.py"


def course_files(root: Path) -> list[str]:
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=root,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    return [name for name in listed if (root / name).is_file()]


def run_suite(root: Path, impl: str, results: Path) -> dict:
    command = [sys.executable, "-m", "pytest", "-m", "contract", "--impl", impl, "-q", "-p", "no:warnings",
               "-p", "no:cacheprovider", "--phase1-results", str(results)]
    print(f"$ {' '.join(command[1:])}   (in {root})", flush=True)
    completed = subprocess.run(command, cwd=root, capture_output=True, text=True)
    print("\n".join(completed.stdout.strip().splitlines()[-14:]))
    if not results.exists():
        raise SystemExit(f"the contract suite wrote no results (exit {completed.returncode}):\n{completed.stderr[-2000:]}")
    return json.loads(results.read_text())


def failures(outcome: dict) -> dict[str, dict]:
    """test name (with its parameters) -> its result, for each failing test."""
    return {result["nodeid"].split("::")[-1]: result for result in outcome["tests"] if result["state"] in ("failing", "error")}


def one_line_problems(failed: dict[str, dict], sections: dict[str, str] | None = None) -> list[str]:
    """Each failure: pytest's header line and one line `contract §N ...`, N its test's section (or `sections`'s)."""
    problems = []
    for name, result in failed.items():
        text = result["text"].strip()
        section = (sections or {}).get(name.split("[")[0]) or re.match(r"test_s(\d+)_", name).group(1)
        if result["state"] != "failing" or "\n" in text or not text.startswith(f"contract §{section} "):
            problems.append(f"{name}: expected one line `contract §{section} ...`, got {result['state']}:\n{text[:600]}")
    return problems


def missing_of(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "MISSING" for t in node.targets):
            return ast.literal_eval(node.value)
    raise SystemExit(f"{path} has no MISSING dict")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-reference", action="store_true", help="leave out the reference's run (CI runs it as its own step)")
    args = parser.parse_args(argv)
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as work:
        work = Path(work)
        if not args.skip_reference:
            outcome = run_suite(ROOT, "solution", work / "reference.json")
            problems += [f"the reference fails {name}: {result['text'][:300]}" for name, result in failures(outcome).items()]
            if not any(result["state"] == "passed" for result in outcome["tests"]):
                problems.append("the reference passed no contract test")
        copy = work / "course"
        for name in course_files(ROOT):
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
        (copy / "checkpoint_project" / "contract_empty.py").write_text("")
        shutil.copy2(INCOMPLETE, copy / "checkpoint_project" / "contract_incomplete.py")
        shutil.copy2(INDEPENDENT, copy / "checkpoint_project" / "contract_independent.py")

        independent = run_suite(copy, "contract_independent", work / "independent.json")
        problems += [f"{INDEPENDENT.name} (a right answer) fails {name}: {result['text'][:300]}"
                     for name, result in failures(independent).items()]
        if not any(result["state"] == "passed" for result in independent["tests"]):
            problems.append(f"{INDEPENDENT.name} passed no contract test")

        empty = run_suite(copy, "contract_empty", work / "empty.json")
        ran = [result for result in empty["tests"] if result["state"] != "skipped"]
        failed = failures(empty)
        passing = sorted(r["nodeid"].split("::")[-1] for r in ran if r["nodeid"].split("::")[-1] not in failed)
        if passing or not ran:
            problems.append(f"an empty file passes {passing or 'everything: no contract test ran'}")
        problems += [f"empty file: {problem}" for problem in one_line_problems(failed)]

        missing = missing_of(INCOMPLETE)
        incomplete = run_suite(copy, "contract_incomplete", work / "incomplete.json")
        failed = failures(incomplete)
        if {name.split("[")[0] for name in failed} != set(missing):
            problems.append(f"{INCOMPLETE.name}: expected exactly {sorted(missing)} to fail; failing: {sorted(failed)}")
        problems += [f"{INCOMPLETE.name}: {problem}" for problem in one_line_problems(failed, missing)]
    for problem in problems:
        print(f"PROBLEM: {problem}")
    print("contract suite: " + ("OK: the reference and an independent program pass, an empty file fails every test, the incomplete one exactly "
                                 f"its {len(missing)} missing behaviours, one line each" if not problems else f"{len(problems)} problems"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
