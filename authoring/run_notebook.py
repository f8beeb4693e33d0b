"""Run notebooks/gpu.ipynb top to bottom in a real Jupyter kernel, as a learner would (CI runs it on the CPU).

    pip install nbclient ipykernel          # not in requirements.txt: only this check needs them
    python authoring/run_notebook.py [--impl solution] [--timeout 900]

Each cell's text output is printed as it would show in the notebook. Exit 1 when a cell raises, or when
there is no CUDA GPU and a GPU step did not say that it skipped. The stored notebook is never written:
it stays without outputs (tests/instructor/test_notebook.py checks that).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "gpu.ipynb"


def text_of(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return f"{output.get('ename')}: {output.get('evalue')}\n"
    data = output.get("data", {})
    return data.get("text/plain", "") + "\n" if "text/plain" in data else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--impl", help="set the notebook's IMPL parameter (default: the notebook's own, starter)")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell (default 900)")
    args = parser.parse_args(argv)
    try:
        import nbclient
        import nbformat
    except ImportError as error:
        print(f"error: {error.name} is not installed: pip install nbclient ipykernel")
        return 2
    import torch

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    if args.impl:
        parameters = next(cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", []))
        parameters.source += f"\nIMPL = {args.impl!r}  # set by authoring/run_notebook.py"
    client = nbclient.NotebookClient(notebook, timeout=args.timeout, kernel_name="python3",
                                     resources={"metadata": {"path": str(ROOT / "notebooks")}})
    failed = None
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as error:
        failed = str(error).splitlines()[-1] if str(error) else "a cell raised"
    shown = []
    for number, cell in enumerate(notebook.cells, start=1):
        if cell.cell_type != "code":
            continue
        text = "".join(text_of(output) for output in cell.get("outputs", []))
        shown.append(text)
        print(f"--- cell {number} ---\n{text}", end="" if text.endswith("\n") else "\n")
    if failed:
        print(f"FAILED: {failed}")
        return 1
    if not torch.cuda.is_available():
        gpu_steps = [text for text in shown if "skipped:" in text or "SKIPPED" in text]
        if len(gpu_steps) < 3:
            print(f"FAILED: without a GPU the three GPU steps should each say they skipped; {len(gpu_steps)} did")
            return 1
    print(f"notebook ran top to bottom: {len(shown)} code cells, {'GPU' if torch.cuda.is_available() else 'no GPU'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
