"""A deliberately incomplete implementation of the checkpoint project's command-line contract, for
authoring/check_contract.py: the reference (checkpoint_project/solution.py) with four behaviours
missing, one per section. The contract suite must fail exactly these tests, with one line each:

    MISSING[test name] = the section whose behaviour is missing here
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from checkpoint_project import solution  # noqa: E402

MISSING = {
    "test_s4_a_killed_run_resumes_to_the_same_weights": "4",  # --resume starts the run again
    "test_s5_evaluate_writes_metrics_and_the_figure": "5",  # evaluate writes no confusion_matrix.png
    "test_s7_export_writes_onnx_that_predicts_as_predict_does": "7",  # the weights go to a second file
    "test_s8_a_non_finite_loss_stops_the_run": "8",  # a NaN loss trains on and saves
}


def evaluate_without_the_figure(args):
    metrics = evaluate(args)
    (Path(args.out) / "confusion_matrix.png").unlink()
    return metrics


def export_weights_apart(*args, **kwargs):
    """torch.onnx.export with the weights in a file of their own beside the .onnx (a copied .onnx alone is empty)."""
    return onnx_export(*args, **{**kwargs, "external_data": True})


if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--resume" in argv:  # start again, with the saved settings, instead of continuing
        import torch

        out = Path(argv[argv.index("--out") + 1])
        config = torch.load(out / "last.pt", weights_only=True)["extra"]["config"]
        argv = [arg for arg in argv if arg != "--resume"] + ["--overwrite"]
        for name in ("epochs", "batch_size", "lr", "val_size", "seed"):
            argv += [f"--{name.replace('_', '-')}", str(config[name])]
    evaluate, onnx_export = solution.evaluate, solution.torch.onnx.export
    solution.evaluate, solution.torch.onnx.export = evaluate_without_the_figure, export_weights_apart
    solution.stop_if_not_finite = lambda loss, epoch: None
    solution.main(argv)
