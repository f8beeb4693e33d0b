"""Checkpoint project, given code: tables and figures of an evaluation (read it, you do not write it).

The numbers come from Lab 6's confusion_matrix and per_class_metrics; this file only shows them.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from lab6_cnn_classifier.solution import per_class_metrics


def per_class_rows(matrix: torch.Tensor, class_names: list[str]) -> list[dict]:
    """One dict per class (precision, recall = per-class accuracy, F1, support) from cm[true, predicted]."""
    metrics = per_class_metrics(matrix)
    support = matrix.sum(1).tolist()
    return [{"class": name, "precision": metrics.precision[k].item(), "recall": metrics.recall[k].item(),
             "f1": metrics.f1[k].item(), "support": int(support[k])} for k, name in enumerate(class_names)]


def format_table(rows: list[dict]) -> str:
    lines = [f"{'class':12}{'precision':>10}{'recall':>8}{'f1':>7}{'support':>9}"]
    lines += [f"{r['class']:12}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['f1']:>7.3f}{r['support']:>9}" for r in rows]
    return "\n".join(lines)


def log_loss(probabilities: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean negative log-likelihood of the true class, from probabilities (N, K)."""
    return -probabilities.gather(1, targets[:, None]).clamp(min=1e-12).log().mean().item()


def confusion_figure(matrix: torch.Tensor, class_names: list[str], title: str = "confusion matrix"):
    """A matplotlib figure of the row-normalised confusion matrix with the counts written in."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed: figures go to files and TensorBoard
    import matplotlib.pyplot as plt

    matrix = torch.as_tensor(matrix)
    normalised = (matrix.double() / matrix.sum(1, keepdim=True).clamp(min=1)).numpy()
    figure, axes = plt.subplots(figsize=(7.5, 6.5))
    image = axes.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axes.set_xticks(range(len(class_names)), class_names, rotation=45, ha="right")
    axes.set_yticks(range(len(class_names)), class_names)
    axes.set_xlabel("predicted")
    axes.set_ylabel("true")
    axes.set_title(title)
    for i in range(len(class_names)):
        for j in range(len(class_names)):
            colour = "white" if normalised[i, j] > 0.5 else "black"
            axes.text(j, i, int(matrix[i, j]), ha="center", va="center", fontsize=7, color=colour)
    figure.colorbar(image, ax=axes, fraction=0.046)
    figure.tight_layout()
    return figure


def write_evaluation(out: Path, metrics: dict, class_names: list[str]) -> None:
    """evaluate's outputs: OUT/metrics.json, OUT/confusion_matrix.png and the printed table."""
    out.mkdir(parents=True, exist_ok=True)
    title = f"{metrics['split']}: accuracy {metrics['accuracy']:.4f}"
    confusion_figure(torch.tensor(metrics["confusion_matrix"]), class_names, title).savefig(out / "confusion_matrix.png", dpi=120)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(format_table(metrics["per_class"]))
    if "member_accuracy" in metrics:
        print(f"members: accuracy {metrics['member_accuracy']}, log-loss {metrics['member_log_loss']}")
    print(f"{metrics['split']} accuracy {metrics['accuracy']:.4f} on {metrics['num_images']} images (tta={metrics['tta']}); "
          f"log-loss {metrics['log_loss']:.4f}; wrote {out / 'metrics.json'} and {out / 'confusion_matrix.png'}")
