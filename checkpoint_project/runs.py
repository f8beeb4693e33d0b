"""Checkpoint project, given code: run folders, checkpoint files and processes (read it, you do not write it).

    Data                    the images of a run (solution.py's build_data makes it; its Run holds them)
    evaluation_images       the images evaluate scores, labelled by the checkpoint's class names
    remove_previous_run     --overwrite: the old run goes once the new one has started
    refuse_training_folder  evaluate never overwrites a training run's metrics.json
    read_checkpoint_extra   the values train saved beside the weights (config, class names, ...)
    config_from_extra       the Config a checkpoint was trained with
    load_backbone           --finetune-from: copy the backbone tensors that fit
    load_models             --checkpoint / --ensemble: the models, rebuilt from their saved configs
    sum_over_ranks, log     the two things every torchrun process needs
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from checkpoint_project.data import load_split, select_classes
from checkpoint_project.models import Classifier
from lab3_training_loop.solution import CheckpointError, load_checkpoint


def log(*args):
    """print on rank 0 only (every process of a torchrun job runs the same file)."""
    if not dist.is_initialized() or dist.get_rank() == 0:
        print(*args, flush=True)


def sum_over_ranks(values: list[float], device: torch.device) -> list[float]:
    """Sum numbers over all processes (unchanged when not distributed)."""
    if not dist.is_initialized():
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def stop_if_not_finite(train_loss: float, epoch: int) -> None:
    """A NaN/inf loss ends the run with one line, before anything of that epoch is saved."""
    if not math.isfinite(train_loss):
        raise SystemExit(f"error: the training loss became {train_loss} in epoch {epoch + 1}; nothing was saved for "
                         f"this epoch. Lower --lr (or use --amp off) and start again.")


def remove_previous_run(out: Path, names: list[str]) -> None:
    """--overwrite: remove the previous run's files (solution.py's prepare_out_folder lists them)."""
    for name in names:
        shutil.rmtree(out / name) if (out / name).is_dir() else (out / name).unlink(missing_ok=True)


@dataclass
class Data:
    """The images of one run: uint8 (N, 3, 32, 32) and int64 (N,) labels, and the class names."""

    train_images: torch.Tensor
    train_labels: torch.Tensor
    val_images: torch.Tensor
    val_labels: torch.Tensor
    class_names: list[str]


def evaluation_images(args, extra: dict, data=None) -> tuple[torch.Tensor, torch.Tensor]:
    """The images of --split, labelled by the checkpoint's class names (test folders are matched by
    name); for --split val/train, `data` is the run's Data rebuilt from its saved config."""
    if args.split == "test":
        images, labels, names = load_split(args, "test")
        return select_classes(images, labels, names, extra["class_names"], allow_extra=bool(extra["config"]["classes"]))
    if args.split == "val" and not len(data.val_labels):
        raise SystemExit(f"error: {args.checkpoint or args.ensemble[0]} was trained with --val-size 0 (on every "
                         f"training image), so it has no validation split: evaluate it with --split test")
    return (data.val_images, data.val_labels) if args.split == "val" else (data.train_images, data.train_labels)


def refuse_training_folder(out: Path, checkpoints: list) -> None:
    """evaluate never writes into a training run folder: its metrics.json is the training history."""
    if (out / "last.pt").exists() or any(Path(p).parent.resolve() == out.resolve() for p in checkpoints):
        raise SystemExit(f"error: --out {out} is a training run folder (its metrics.json is the training history): "
                         f"write the evaluation elsewhere, e.g. --out {out / 'eval'}")


def read_checkpoint_extra(path: Path) -> dict:
    """The values train saved beside the weights (config, class_names, history, ...); Lab 3's clear
    error for a missing, truncated or foreign file."""
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:
        checkpoint = None
    if not (isinstance(checkpoint, dict) and isinstance(checkpoint.get("extra"), dict) and "config" in checkpoint["extra"]):
        load_checkpoint(path, nn.Identity())  # raises FileNotFoundError or CheckpointError naming the file
        raise CheckpointError(f"{path} is a checkpoint, but not one written by this project's train command")
    return checkpoint["extra"]


def config_from_extra(extra: dict, config_class):
    """The config_class instance a checkpoint was trained with (fields config_class lacks are ignored)."""
    known = {f.name for f in dataclasses.fields(config_class)}
    return config_class(**{k: tuple(v) if isinstance(v, list) else v for k, v in extra["config"].items() if k in known})


def load_backbone(model: nn.Module, checkpoint: Path) -> int:
    """Copy every backbone tensor of a checkpoint whose name and shape fit (the head is always new:
    its classes are other classes); returns how many tensors were copied. Used with --finetune-from."""
    read_checkpoint_extra(checkpoint)  # one clear line for a bad file
    source = torch.load(checkpoint, map_location="cpu", weights_only=True)["model"]
    target = model.state_dict()
    fitting = {k: v for k, v in source.items()
               if k in target and target[k].shape == v.shape and not k.startswith(("normalize.", "network.head."))}
    if not fitting:
        raise SystemExit(f"error: --finetune-from {checkpoint}: no backbone tensor of that file fits this model")
    model.load_state_dict(fitting, strict=False)
    return len(fitting)


def load_models(args, config_class) -> tuple[list[nn.Module], dict]:
    """The models of --checkpoint or --ensemble (CPU, eval mode) and the first one's saved extra values.
    An ensemble averages class probabilities: its members must predict the same classes, in order."""
    paths = [Path(p) for p in (getattr(args, "ensemble", None) or [args.checkpoint])]
    extras = [read_checkpoint_extra(path) for path in paths]
    models = []
    for path, extra in zip(paths, extras):
        if extra["class_names"] != extras[0]["class_names"]:
            raise SystemExit(f"error: {path} predicts {extra['class_names']} but {paths[0]} predicts "
                             f"{extras[0]['class_names']}: an ensemble needs the same classes in the same order")
        config = config_from_extra(extra, config_class)
        models.append(Classifier(config.build_network(len(extra["class_names"])), torch.zeros(3), torch.ones(3)))
        load_checkpoint(path, models[-1], restore_rng=False)
    return [model.eval() for model in models], extras[0]
