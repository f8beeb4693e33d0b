# Starter file: written by authoring/make_starters.py from solution.py (text sha256 af88c35c205f9cad).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Checkpoint project: assemble a complete CIFAR-10 training tool from the parts the labs built.

    python checkpoint_project/starter.py train    --data-dir DIR --out runs/fast     # config "fast"; --smoke: generated data
    python checkpoint_project/starter.py evaluate --data-dir DIR --checkpoint runs/fast/best.pt --out runs/fast/eval
    python checkpoint_project/starter.py predict  --checkpoint runs/fast/best.pt some.jpg other.png
    python checkpoint_project/starter.py export   --checkpoint runs/fast/best.pt --out runs/fast/model.onnx
    torchrun --nproc_per_node 2 checkpoint_project/starter.py train --smoke --out runs/ddp   # DDP (gloo on CPU)

The "fast" config: your network (C.2) past 85% on CIFAR-10 in ~3 min on two CPU cores (RESULTS.md); airbench94: speedrun.py.

Given, from the lab that taught it: Lab 3 EarlyStopping, save_checkpoint/load_checkpoint; Lab 4
random_crop_flip, stratified_split; Lab 5 get_device, distributed_device, autocast_dtype,
amp_train_step; Lab 6 conv_bn_act (as models.conv_block), confusion_matrix, GradualUnfreezer,
default_stages. Given, in this folder: data.py, models.py, runs.py, options.py, reports.py.
Your tasks, one section each: taskc_1 the run (its data and its state); taskc_2 the network; taskc_3 one
training epoch; taskc_4 sharded validation; taskc_5 checkpoints for exact resume; taskc_6 the
epoch loop; taskc_7 TensorBoard; taskc_8 evaluation (TTA, ensembles); taskc_9 the ONNX round
trip; taskc_10 distributed data parallel; taskc_11 the command line. Tests: pytest -m checkpoint.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from checkpoint_project.data import load_image_files, load_split, make_synthetic_dataset, select_classes  # noqa: E402
from checkpoint_project.models import ARCHITECTURES, Classifier, conv_block, warm_up  # noqa: E402
from checkpoint_project.options import build_parser  # noqa: E402
from checkpoint_project.reports import confusion_figure, log_loss, per_class_rows, write_evaluation  # noqa: E402
from checkpoint_project.runs import (Data, config_from_extra, evaluation_images, load_backbone, load_models,  # noqa: E402
                                     log, read_checkpoint_extra, refuse_training_folder, remove_previous_run, stop_if_not_finite,
                                     sum_over_ranks)
from lab3_training_loop.solution import CheckpointError, EarlyStopping, load_checkpoint, save_checkpoint  # noqa: E402
from lab4_data_loading.solution import random_crop_flip, stratified_split  # noqa: E402
from lab5_gpu_mixed_precision.solution import amp_train_step, autocast_dtype, distributed_device, get_device  # noqa: E402
from lab6_cnn_classifier.solution import GradualUnfreezer, confusion_matrix, default_stages  # noqa: E402

# --------------------------------------------------------------------------- hyperparameters


@dataclass
class Config:
    """Every knob of a training run; any field can be overridden on the command line (--epochs 8). Its methods
    build the run's network, model and optimiser and set each step's LR (speedrun.py's SpeedrunConfig extends them)."""

    arch: str = "cnn"  # "cnn" (your Network, task C.2) or "resnet" (models.py)
    widths: tuple[int, ...] = (32, 64, 128)  # channels of the three stages
    epochs: float = 6.0  # fractional epochs are fine: the schedule counts steps
    batch_size: int = 512
    lr: float = 0.4  # peak learning rate (mean loss, SGD Nesterov)
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv/linear weights only
    label_smoothing: float = 0.2  # short schedules overfit the hard labels quickly
    warmup: float = 0.2  # fraction of steps the triangular schedule spends going up
    bn_momentum: float = 0.4  # high: running stats must catch up within a few hundred steps
    logit_scale: float = 0.125  # keeps the initial logits small, so the softmax starts soft
    translate: int = 2  # random translation in pixels (zero padding, Lab 4's random_crop_flip)
    flip: str = "alternate"  # "alternate": each image flipped every other epoch; "random"; "none"
    low_res_fraction: float = 0.0  # progressive resizing: this fraction of the epochs, the first, on images scaled down
    low_res_size: int = 20  # pixels: a step at 20x20 costs ~0.37 of one at 32x32 (RESULTS.md)
    tta: int = 2  # test-time augmentation: 0 none, 1 +flip, 2 +flip +translate
    val_size: int = 2500  # stratified validation images held out of the training set (0: none)
    patience: int = 4  # early stopping: epochs without improvement before stopping (0: off)
    seed: int = 0
    amp: str = "auto"  # "auto", "bf16", "fp16" or "off" (Lab 5's autocast_dtype)
    channels_last: bool = True
    compile: bool = False
    max_steps: int = 0  # stop after this many steps (0 = no limit): quick checks of big configs
    unfreeze_every: int = 0  # gradual unfreezing (Lab 6): one more stage every N epochs (0 = off)
    classes: tuple[int, ...] = ()  # train on a subset of the class folders (transfer learning)

    def build_optimizer(self, model: nn.Module, total_steps: int) -> torch.optim.Optimizer:
        """SGD Nesterov; weight decay on conv/linear weights only (decay fights BN's biases)."""
        trainable = [p for p in model.parameters() if p.requires_grad]
        groups = [{"params": [p for p in trainable if p.ndim > 1], "weight_decay": self.weight_decay},
                  {"params": [p for p in trainable if p.ndim <= 1], "weight_decay": 0.0}]
        return torch.optim.SGD(groups, lr=self.lr, momentum=self.momentum, nesterov=True)

    def set_learning_rate(self, optimizer, step: int, total_steps: int, epoch: int) -> float:
        """Every group's LR for this step (triangular_lr); returns it."""
        lr = triangular_lr(step, total_steps, self.lr, self.warmup)
        for group in optimizer.param_groups:
            group["lr"] = lr
        return lr

    def low_res_epoch(self, epoch: int) -> bool:
        """Progressive resizing: does `epoch` (from 0) train on images scaled down to low_res_size? The first
        low_res_fraction of the epochs do."""
        return epoch < self.low_res_fraction * self.epochs

    def build_network(self, num_classes: int) -> nn.Module:
        """This config's network, untrained: your Network for --arch cnn, else models.py's."""
        architecture = {"cnn": Network, **ARCHITECTURES}.get(self.arch)
        if architecture is None:
            raise SystemExit(f"error: --arch {self.arch} is speedrun.py's network: train, evaluate, predict and export it with speedrun.py")
        return architecture(tuple(self.widths), num_classes, self.bn_momentum, self.logit_scale)

    def build_model(self, train_images: torch.Tensor, num_classes: int) -> Classifier:
        """A fresh model for this run (create_classifier: the normalisation fitted on the images)."""
        return create_classifier(self, train_images, num_classes)


CONFIGS = {
    # Two CPU cores, offline copy: >85% test accuracy in 3-5 minutes of training (RESULTS.md: how it was tuned).
    # The first 60% of the 13 epochs at 20x20 (progressive resizing): 8 cheap epochs, then 5 at full size.
    "fast": Config(epochs=13, batch_size=256, lr=0.5, momentum=0.85, weight_decay=1.33e-3, val_size=2000, low_res_fraction=0.6),
    # Generated data, tiny network, fp32 (bf16 costs more than it saves at this size): the whole pipeline in seconds.
    "smoke": Config(widths=(8, 16, 16), epochs=2, batch_size=64, lr=0.2, val_size=100, tta=1, patience=2, amp="off"),
}


# --------------------------------------------------------------------------- taskc_1 — the run: its data and its state


def build_data(config: Config, args) -> Data:
    """Training and validation images of a run. The test split is never touched here: it is read
    only by `evaluate`, so no choice made while training has seen it."""
    images, labels, folder_names = load_split(args, "train")
    if config.classes and max(config.classes) >= len(folder_names):
        raise SystemExit(f"error: --classes {config.classes} but the data has only {len(folder_names)} classes")
    class_names = [folder_names[c] for c in config.classes] if config.classes else folder_names
    if config.val_size >= len(labels):
        raise SystemExit(f"error: --val-size {config.val_size} leaves no training images (the data has {len(labels)})")
    # Validation must look like training: every class in the same share (a plain random cut of a
    # small set can miss a class). Which lab gave you that, and what does it take?
    raise NotImplementedError("TODO(taskc_1): Keep the run's classes, hold out a seeded stratified validation split of config.val_size images, return the Data.")


@dataclass(kw_only=True)
class Run:
    """Everything a training run holds; the steps below (run_epoch, fit, save_run, ...) read and update it.
    start_run builds the parts a run keeps from start to end; the counters, the history and the training time
    change as it trains, so they are what a checkpoint must hold beyond the weights (C.5)."""

    # A dataclass: the parts start_run builds are keyword fields without defaults; what training changes starts
    # at a fresh default (a list needs a default_factory: a plain [] would be one list shared by every run).
    def __init__(self, *args, **kwargs):  # a stub so that this file imports: replace these two lines
        raise NotImplementedError("TODO(taskc_1): Declare the run's fields (README: the run's state): the parts start_run builds, then what training changes, each with its starting value.")


def start_run(config: Config, args) -> Run:
    """A fresh run: this process's device and rank, the data, the model (on the device), then the schedule's
    length, the optimiser, mixed precision, early stopping and unfreezing. Nothing is trained yet."""
    device, rank, world_size = setup_distributed(args.device)
    torch.manual_seed(config.seed)
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    data = build_data(config, args)
    model = config.build_model(data.train_images, len(data.class_names))
    if args.finetune_from:
        log(f"fine-tuning: copied {load_backbone(model, Path(args.finetune_from))} tensors from {args.finetune_from}")
    if device.type == "cuda":  # the uint8 training set (150 MB) fits on the GPU: augmentation runs there too
        data.train_images, data.train_labels = data.train_images.to(device), data.train_labels.to(device)
    memory_format = torch.channels_last if config.channels_last and device.type != "mps" else torch.contiguous_format
    model = model.to(device, memory_format=memory_format)
    steps_per_epoch = len(data.train_labels) // config.batch_size
    if steps_per_epoch == 0:
        raise SystemExit(f"error: --batch-size {config.batch_size} is larger than the {len(data.train_labels)} training images")
    # The schedule counts steps (README: "The run's state"): --epochs may be fractional and --max-steps cuts it short.
    # The optimiser must see every parameter, so build it before anything freezes a stage (Lab 6's unfreezer does).
    raise NotImplementedError("TODO(taskc_1): Count the run's steps and epochs, build the optimiser, the autocast dtype, the GradScaler, the early stopping and the unfreezer; return the Run.")
    log(f"data: {len(data.train_labels)} train / {len(data.val_labels)} val images, {len(data.class_names)} classes; "
        f"device {device}, autocast {amp_dtype}, {world_size} process(es)")
    return run


# --------------------------------------------------------------------------- taskc_2 — the network


class Network(nn.Module):
    """--arch cnn, your CNN (README: "The network"): (N, 3, H, W) normalised images -> (N, num_classes) logits. Parts
    named as Lab 6's ResNet's, for default_stages: `stem` (full resolution), `layers` (nn.Sequential), `head` (nn.Linear)."""

    def __init__(self, widths=(32, 64, 128), num_classes: int = 10, bn_momentum: float = 0.4, logit_scale: float = 0.125):
        super().__init__()
        # Your design: >= 3 convs, each in a conv_block with this bn_momentum, the last widths[-1] wide.
        raise NotImplementedError('TODO(taskc_2): Build the stem, the later stages and the linear head from widths; keep logit_scale.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('TODO(taskc_2): Stem, later stages, a global pool to one vector per image, the head, times logit_scale.')


def create_classifier(config: Config, train_images: torch.Tensor, num_classes: int) -> Classifier:
    """The model for this config (seeded), with the normalisation fitted on the training images."""
    torch.manual_seed(config.seed)
    images = train_images.float()  # once: 48,000 images are 600 MB as floats
    return Classifier(config.build_network(num_classes), images.mean((0, 2, 3)), images.std((0, 2, 3)))


# --------------------------------------------------------------------------- taskc_3 — one training epoch


def triangular_lr(step: int, total_steps: int, peak: float, warmup: float) -> float:
    """The LR at `step`: linear from 0 up to `peak` over the first `warmup` fraction of the steps,
    then linear down to 0 at total_steps (and 0 after). Short runs want a high LR most of the time
    and a clean annealing at the end; the warm-up keeps early high-LR steps from wrecking BN."""
    raise NotImplementedError("TODO(taskc_3): Return the triangular schedule's learning rate at this step.")


def flip_mask(indices: torch.Tensor, epoch: int, seed: int, mode: str, generator: torch.Generator) -> torch.Tensor:
    """(B,) bool: which images of a batch (their dataset indices) to mirror. "none": no image;
    "random" (and epoch 0, the first: epochs count from 0): a fair coin per image from `generator`; "alternate": each
    image has a fixed coin (from seed + 99, the same every epoch) and is mirrored on even epochs
    when it is heads, on odd epochs when tails, so over any two epochs it is seen both ways."""
    raise NotImplementedError('TODO(taskc_3): Return the flip mask for this batch and epoch under `mode`.')


def run_epoch(run: Run, epoch: int) -> float:
    """Train one epoch (or what is left of total_steps); returns the mean training loss over all ranks."""
    config, data = run.config, run.data
    generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)  # same order on every rank, and on resume
    batches = shard_batches(torch.randperm(len(data.train_labels), generator=generator), config.batch_size, run.rank, run.world_size)
    loss_fn = partial(F.cross_entropy, label_smoothing=config.label_smoothing)
    dtype = run.amp_dtype or torch.float32
    scaler = run.scaler if run.scaler.is_enabled() else None
    losses = []
    # Each batch: the schedule's LR, a batched augmentation (Lab 4) with this epoch's flips, in a low-resolution
    # epoch (config.low_res_epoch) the whole image scaled down (not cropped), one mixed-precision step (Lab 5).
    # Stop at total_steps even mid-epoch. Never call .item() per step.
    raise NotImplementedError("TODO(taskc_3): For each of this rank's batches (up to total_steps): set the LR, augment (and scale down early on), take one AMP step, count it.")
    return sum_over_ranks([torch.stack(losses).float().mean().item()], run.device)[0] / run.world_size


# --------------------------------------------------------------------------- taskc_4 — sharded validation


@torch.no_grad()
def evaluate_split(model: nn.Module, images: torch.Tensor, labels: torch.Tensor, device: torch.device, amp_dtype=None) -> dict:
    """{"loss", "accuracy"} of the model on (images, labels). Under torchrun each of the
    world_size processes scores every world_size-th image and the sums are added up over the
    processes, so all of them return the same numbers for the whole set."""
    rank, world_size = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    # Add up sums and counts, never means: the shards can differ in size by one image.
    raise NotImplementedError("TODO(taskc_4): Score this rank's share of the images, sum loss, correct and count over the ranks, return the means.")


# --------------------------------------------------------------------------- taskc_5 — checkpoints for exact resume


def save_run(run: Run) -> None:
    """Rank 0 writes OUT/last.pt every epoch and OUT/best.pt when validation improved, with Lab 3's
    save_checkpoint (atomic). best.pt goes FIRST: a crash between the two writes leaves last.pt
    one epoch behind, so --resume redoes that epoch and writes best.pt again; in the other order
    best.pt could stay stale for good."""
    if run.rank != 0:
        return
    config = dataclasses.asdict(run.config)
    # Everything that changes during training must be in the file for --resume to continue
    # exactly where it stopped; what `evaluate` needs to rebuild the model too.
    raise NotImplementedError('TODO(taskc_5): Save best.pt (only if this epoch improved), then last.pt, with everything resume and evaluate need.')


def resume(run: Run, path: Path) -> None:
    """Load a checkpoint written by save_run into the run: weights, optimiser, scaler, early
    stopping, counters and history (and the RNG states, which Lab 3's load_checkpoint restores)."""
    raise NotImplementedError("TODO(taskc_5): Load the checkpoint into the model and optimizer, then restore the rest of the run's state from its extra values.")


def config_for_resume(path: Path, config_class, overrides: dict):
    """The config of `train --resume`: the saved run's, so that it continues the same run. `overrides` are the
    flags given on the command line ({"epochs": 12}); only --epochs and --max-steps may change (a longer or
    shorter schedule of the same run), and any other flag whose value differs from the saved one is an error."""
    extra = read_checkpoint_extra(path)
    if extra.get("recipe", config_class.__name__) != config_class.__name__:
        raise SystemExit(f"error: {path} was trained with {extra['recipe']}: resume it with the script that trained it")
    saved = config_from_extra(extra, config_class)
    # A flag that repeats the saved value is fine. The error names the flag, the value asked for and the run's.
    raise NotImplementedError('TODO(taskc_5): Refuse a flag that contradicts the saved config in one line naming both values; return the saved config with the allowed flags applied.')


# --------------------------------------------------------------------------- taskc_6 — the epoch loop


def fit(run: Run) -> None:
    """Train from run.epoch to run.num_epochs (or total_steps): each epoch trains, validates when
    there are validation images, records a history row, logs it, saves the checkpoints, and stops
    early when Lab 3's EarlyStopping says so. A non-finite training loss stops the run before
    anything is saved."""
    # The model must be in training mode for every epoch (validation leaves it in eval mode), and
    # gradual unfreezing (Lab 6) decides which stages train, after that. Early stopping judges full-size
    # epochs only: a low-resolution epoch's model is validated at full size with BN statistics of small images.
    raise NotImplementedError('TODO(taskc_6): Loop over the epochs: train, validate, record, log, save, and stop early when told.')


# --------------------------------------------------------------------------- taskc_7 — TensorBoard


def open_tensorboard(run: Run) -> None:
    """Rank 0 opens a SummaryWriter in OUT/tensorboard and logs a grid of 64 training images."""
    if run.rank != 0:
        return
    from torch.utils.tensorboard import SummaryWriter
    import torchvision

    # size: two calls; one of the three parts of the TensorBoard task.
    raise NotImplementedError('TODO(taskc_7): Open the writer on OUT/tensorboard and log a grid of the first 64 training images (floats in [0, 1]).')
    log(f"TensorBoard: tensorboard --logdir {run.out / 'tensorboard'}")


def log_epoch(run: Run, record: dict) -> None:
    """Print one line per epoch (rank 0) and log the epoch's numbers to TensorBoard at the current step
    (tag names such as "loss/train", "accuracy/val" group the curves in TensorBoard's sidebar)."""
    validation = "val loss {val_loss:.3f}  val acc {val_accuracy:.4f}" if len(run.data.val_labels) else "(no validation split)"
    log(("epoch {epoch:>3}: train loss {train_loss:.3f}  " + validation + "  {seconds:.1f}s").format(**record))
    if run.writer is None:
        return
    raise NotImplementedError('TODO(taskc_7): Log the training loss, validation loss and accuracy, and the current learning rate as scalars at run.step.')


def log_final(run: Run, metrics: dict) -> None:
    """The run's summary for TensorBoard: the validation confusion matrix (with TTA) and the hparams."""
    # A figure and the hyperparameters (as plain values) next to the final score.
    raise NotImplementedError("TODO(taskc_7): With validation images: val accuracy with the config's TTA into metrics and the confusion-matrix figure; then the hparams; close the writer.")


# --------------------------------------------------------------------------- taskc_8 — evaluation: TTA and ensembles


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, tta: int = 0, batch_size: int = 1000, amp_dtype=None) -> torch.Tensor:
    """Logits (N, K) float32 on the CPU for uint8/float images (N, 3, H, W), in eval mode.

    Test-time augmentation sums the logits of several views: tta=1 adds the mirror image, tta=2
    also adds the image shifted by one pixel diagonally each way (and their mirrors), those four
    at half weight. Costs 1, 2 or 6 forward passes; worth ~0.5-1% on CIFAR-10.
    """
    model.eval()
    device = next(model.parameters()).device
    memory_format = torch.channels_last if device.type != "mps" else torch.contiguous_format
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device).float().contiguous(memory_format=memory_format)
        with torch.amp.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            # The shifted views are crops of the batch padded by one pixel (reflect), at the two
            # diagonal corners. Sum the views in float32.
            raise NotImplementedError('TODO(taskc_8): Sum the logits of the views tta asks for (plain; +mirror; +two shifted views and their mirrors at half weight).')
        outputs.append(logits.cpu())
    return torch.cat(outputs)


def ensemble_probabilities(models: list[nn.Module], images: torch.Tensor, tta: int = 0, amp_dtype=None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Average the softmax outputs of several models: returns (mean probabilities (N, K), the
    list of each member's probabilities). Averaging probabilities (not logits) gives a log-loss
    no worse than the members' mean log-loss (the log is concave: Jensen's inequality)."""
    # size: two lines; the lesson is averaging probabilities, not logits.
    raise NotImplementedError("TODO(taskc_8): Turn each model's logits into probabilities; return their mean and the list.")


def evaluate(args) -> dict:
    """The evaluate command: accuracy, log-loss, per-class table, confusion-matrix PNG and metrics JSON."""
    refuse_training_folder(Path(args.out), args.ensemble or [args.checkpoint])
    models, extra = load_models(args, args.config_class)
    images, labels = evaluation_images(args, extra, build_data(config_from_extra(extra, args.config_class), args) if args.split != "test" else None)
    tta = extra["config"]["tta"] if args.tta is None else args.tta
    metrics = {"split": args.split, "num_images": len(labels), "tta": tta, "checkpoints": args.ensemble or [args.checkpoint]}
    # One model is an ensemble of one, on the best device (channels_last, as in training). The
    # confusion matrix is Lab 6's; reports.per_class_rows makes the table's rows.
    raise NotImplementedError("TODO(taskc_8): Fill metrics with accuracy, log_loss, per_class, confusion_matrix (and the members' accuracy and log-loss for an ensemble).")
    write_evaluation(Path(args.out), metrics, extra["class_names"])
    return metrics


def predict(args) -> list[dict]:
    """The predict command: the most likely class of each image file, with its probability."""
    models, extra = load_models(args, args.config_class)
    raise NotImplementedError("TODO(taskc_8): One dict per image file: its name, the most likely class name and that class's probability.")
    for result in results:
        print(f"{result['file']}: {result['class']} ({result['probability']:.1%})")
    return results


# --------------------------------------------------------------------------- taskc_9 — the ONNX round trip


def export_onnx(model: nn.Module, path: Path, example: torch.Tensor) -> Path:
    """Export the (CPU, eval, float32) model to ONNX with a dynamic batch dimension, as ONE file
    (weights inside: a copied .onnx works alone)."""
    model = model.float().eval().cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # torch >= 2.9 exports through torch.export (dynamo): name the batch dimension as dynamic.
    raise NotImplementedError('TODO(taskc_9): Export the model to `path` with named input/output and a dynamic batch dimension, weights in the same file.')
    return path


def check_onnx(path: Path, model: nn.Module, images: torch.Tensor) -> float:
    """Run the ONNX file with onnxruntime and the model with PyTorch on the same batch; return the max abs difference of the logits."""
    import onnxruntime

    raise NotImplementedError("TODO(taskc_9): Run an onnxruntime session on the images (float32 numpy) and compare its logits with the model's.")


def export(args) -> dict:
    """The export command: checkpoint -> ONNX file, checked against PyTorch with onnxruntime."""
    out = Path(args.out)
    if out.suffix != ".onnx":
        raise SystemExit(f"error: --out {out} must be a .onnx file (export never replaces the checkpoint or anything else)")
    models, extra = load_models(args, args.config_class)
    images, _ = make_synthetic_dataset(16, seed=3, num_classes=len(extra["class_names"]))
    # A round trip: write the file, read it back with another runtime on a batch of another size.
    raise NotImplementedError('TODO(taskc_9): Export the model, check it on the 16 images, and stop with an error above 1e-4.')
    return {"path": str(path), "max_abs_diff": difference}


# --------------------------------------------------------------------------- taskc_10 — distributed data parallel


def setup_distributed(device_choice: str | None) -> tuple[torch.device, int, int]:
    """(device, rank, world_size). A plain `python` run: Lab 5's get_device, rank 0 of 1. Under
    torchrun (WORLD_SIZE > 1): Lab 5's distributed_device picks this process's device and
    backend (and refuses, in one line, more processes than GPUs), then join the process group."""
    if int(os.environ.get("WORLD_SIZE", 1)) == 1:
        return get_device(device_choice), 0, 1
    raise NotImplementedError("TODO(taskc_10): Pick this process's device and backend (Lab 5), select its GPU if it is one, join the group; return (device, rank, world_size).")


def shard_batches(permutation: torch.Tensor, batch_size: int, rank: int, world_size: int) -> list[torch.Tensor]:
    """Cut one epoch's permutation (the same on every rank: same seed) into global batches of
    batch_size and give each rank its slice of every batch (what DistributedSampler does for a
    DataLoader). Drops the last incomplete batch so every rank takes the same number of steps;
    the global batch, and so the learning rate, is the same for any number of processes."""
    # size: two lines; the idea is which slice of every global batch each rank takes.
    raise NotImplementedError("TODO(taskc_10): Return one index tensor per full global batch: this rank's share of it.")


def wrap_model(model: nn.Module, device: torch.device, world_size: int, compile_it: bool) -> nn.Module:
    """What the batches go through: the model, in DDP when there are several processes (DDP
    averages the gradients during backward), compiled on request. The optimiser still holds the
    model's own parameters, and checkpoints save the model itself, never the wrappers."""
    if world_size == 1 and not compile_it:
        return model
    raise NotImplementedError("TODO(taskc_10): Wrap in DistributedDataParallel for world_size > 1 (with this GPU's index on CUDA), then torch.compile if asked.")


# --------------------------------------------------------------------------- taskc_11 — the command line


def prepare_out_folder(out: Path, resuming: bool, overwrite: bool) -> list[str]:
    """Before any work: refuse a folder that holds another run unless resuming or --overwrite, and make sure
    the folder can be written now, not after an epoch of training. Returns what --overwrite replaces:
    remove_previous_run removes it once the new run has started (a run that fails to start loses nothing)."""
    previous = [name for name in ("last.pt", "best.pt", "metrics.json", "tensorboard") if (out / name).exists()]
    # Each refusal is one line that names the folder and the way out (README, "Task C.11").
    raise NotImplementedError('TODO(taskc_11): Refuse a folder that holds a run unless resuming or overwriting; create the folder and prove it writable, or stop in one line.')
    for stale in out.glob(".*.pt.*.tmp"):  # Lab 3's save_checkpoint names its temporary files so: a killed run's are left
        stale.unlink(missing_ok=True)
    return previous if overwrite and not resuming else []


def train(config: Config, args) -> dict:
    """The train command: returns the metrics dict also written to OUT/metrics.json."""
    previous = prepare_out_folder(Path(args.out), bool(args.resume), args.overwrite) if int(os.environ.get("RANK", 0)) == 0 else []
    run = start_run(config, args)
    remove_previous_run(run.out, previous)  # --overwrite: the old run goes once the new one has its data and model
    metrics = {"config": dataclasses.asdict(config), "world_size": run.world_size, "device": str(run.device),
               "autocast": str(run.amp_dtype), "warmup_seconds": 0.0, "val_accuracy": None, "val_tta": config.tta}
    # Resume first (it may say the run had already stopped early), then the untimed warm-up on
    # CUDA or with --compile (models.warm_up), TensorBoard, the loop, and the summary on rank 0.
    raise NotImplementedError('TODO(taskc_11): Put the run together: resume if asked, warm up, open TensorBoard, fit, then the final summary and metrics.json on rank 0.')
    log(f"training took {run.train_seconds:.1f}s (warm-up {metrics['warmup_seconds']:.1f}s not counted); checkpoints in {run.out}")
    if dist.is_initialized():
        dist.barrier()
        # The DDP wrapper goes first, while the group is alive: on torch 2.9, a wrapper freed after
        # destroy_process_group could deadlock at exit (its gloo thread waits for the GIL it holds).
        run.net = run.model
        dist.destroy_process_group()
    return metrics


def main(argv: list[str] | None = None, config_class=Config, configs: dict = CONFIGS, prog: str | None = None):
    """Parse the command line and run the sub-command; a known failure ends as one line `error: ...`."""
    args = build_parser(config_class, sorted(configs), prog).parse_args(argv)
    # train's Config: the named one + the flags, or the saved one with --resume; a bad checkpoint file ends as one line.
    raise NotImplementedError("TODO(taskc_11): Build train's config (named or resumed, with overrides), run the sub-command, and turn checkpoint and file errors into one-line exits.")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:
        from harness.todos import first_unfinished_task  # not the first TODO reached (taskc_11 runs first): the first task
        raise SystemExit(f"NotImplementedError: {first_unfinished_task(Path(__file__)) or todo}\n(the run needs every task: "
                         "finish this one, then run again)") from None
