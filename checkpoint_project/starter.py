# Starter file: written by tools/make_starters.py from solution.py (text sha256 a74fa482b1dbae12).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Checkpoint project: a complete CIFAR-10 image-classification pipeline in one file.

One command-line tool that trains, evaluates, predicts and exports:

    python checkpoint_project/starter.py train    --data-dir DIR --out runs/fast        # default config "fast"
    python checkpoint_project/starter.py evaluate --data-dir DIR --checkpoint runs/fast/best.pt --split test --out runs/fast/eval
    python checkpoint_project/starter.py predict  --checkpoint runs/fast/best.pt some.jpg other.png
    python checkpoint_project/starter.py export   --checkpoint runs/fast/best.pt --out runs/fast/model.onnx
    python checkpoint_project/starter.py train --smoke --out runs/smoke                   # generated data, seconds
    torchrun --nproc_per_node 2 checkpoint_project/starter.py train --smoke --out runs/ddp   # DDP (gloo on CPU)

How fast: the "fast" config (a 6-conv network with a frozen patch-whitening first layer,
bf16 autocast, channels_last) is built to pass 85% on the CIFAR-10 test split in about three
minutes of training on two CPU cores; "gpu94" is airbench94's network and recipe, for one
GPU; "cpu90" is that recipe, narrower, and passes 90% in about 15 minutes on the two cores.
The README has the measured numbers and the exact commands.

Tasks, in the order of the README (each section below is headed by its id):
    C.1  data: decode once to uint8 tensors, stratified validation split
    C.2  batched augmentation on tensors (flip + translate), seeded
    C.3  models: patch-whitening CNN and a residual network
    C.4  the training step: autocast, GradScaler, channels_last
    C.5  LR schedule and early stopping
    C.6  checkpoints: atomic save, safe load, resume
    C.7  evaluation: test-time augmentation, confusion matrix, per-class table
    C.8  ensembles: average the softmax of several checkpoints
    C.9  ONNX export checked with onnxruntime
    C.10 gradual unfreezing for transfer learning
    C.11 distributed data parallel under torchrun

Tests: pytest -m checkpoint --impl solution    (add --runslow with CIFAR10_DIR set for real training)
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

CLASS_NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

# --------------------------------------------------------------------------- hyperparameters


@dataclass
class Config:
    """Every knob of a training run. The named configs below are the tuned starting points;
    any field can be overridden from the command line (e.g. --epochs 8 --lr 0.3)."""

    arch: str = "cnn"  # "cnn" (patch-whitening CNN) or "resnet"
    widths: tuple[int, ...] = (32, 64, 128)  # channels of the three stages
    epochs: float = 6.0  # fractional epochs are fine: the schedule counts steps
    batch_size: int = 512
    lr: float = 0.4  # peak learning rate (mean loss, SGD Nesterov)
    momentum: float = 0.9
    weight_decay: float = 5e-4  # on conv/linear weights (BN biases too only with decay_biases)
    bias_lr_scale: float = 1.0  # BN biases learn this many times faster (airbench uses 64)
    decay_biases: bool = False  # also decay BN biases (by the weights' per-step amount, whatever their LR)
    bn_scale_trainable: bool = True  # False: BN scales frozen at 1 ("cnn" only: BN + GELU needs no scale)
    label_smoothing: float = 0.2  # short schedules overfit the hard labels quickly
    warmup: float = 0.2  # fraction of steps the triangular schedule spends going up
    lr_start: float = 0.0  # the schedule starts at this fraction of the peak LR...
    lr_end: float = 0.0  # ...and ends at this fraction (airbench94: 0.2 and 0.07)
    bn_momentum: float = 0.4  # high: running stats must catch up within a few hundred steps
    logit_scale: float = 0.125  # keeps the initial logits small, so the softmax starts soft
    whiten_eps: float = 5e-3  # added to the patch covariance's eigenvalues ("cnn" only; airbench: 5e-4)
    whiten_bias_epochs: float = 0.0  # train the whitening layer's bias for this many epochs, then freeze it
    dirac_init: bool = False  # each conv starts by passing its input channels through unchanged
    lookahead: bool = False  # every 5 steps pull the weights toward their running average (airbench94)
    translate: int = 2  # random translation in pixels (reflect padding)
    flip: str = "alternate"  # "alternate": each image flipped every other epoch; "random"; "none"
    tta: int = 2  # test-time augmentation: 0 none, 1 +flip, 2 +flip +translate
    val_size: int = 2500  # stratified validation images held out of the training set
    patience: int = 4  # early stopping: epochs without improvement before stopping
    seed: int = 0
    amp: str = "auto"  # "auto", "bf16", "fp16" or "off"
    channels_last: bool = True
    compile: bool = False
    max_steps: int = 0  # stop after this many steps (0 = no limit): quick checks of big configs
    unfreeze_every: int = 0  # gradual unfreezing: unfreeze one stage every N epochs (0 = off)
    classes: tuple[int, ...] = ()  # train on a subset of the classes (transfer learning demos)


# airbench94's network (64/256/256) and every detail of its recipe we know of: batch 1024,
# frozen BN scales, BN biases at 64x LR and decayed, LR from 0.2x up to the peak at 23% and down
# to 0.07x, whitening bias trained for 3 epochs, identity-initialised convs, lookahead, logits / 9,
# all 50,000 images (no validation hold-out), 10 epochs.
AIRBENCH94 = Config(widths=(64, 256, 256), epochs=10, batch_size=1024, lr=1.5, momentum=0.85, weight_decay=1.33e-3,
                    bias_lr_scale=64, bn_scale_trainable=False, decay_biases=True, warmup=0.23, lr_start=0.2,
                    lr_end=0.07, whiten_eps=5e-4, whiten_bias_epochs=3, dirac_init=True, lookahead=True,
                    logit_scale=1 / 9, val_size=0)

CONFIGS = {
    # Two CPU cores, offline copy: >85% test accuracy in about three minutes (README has numbers).
    # lr/momentum/weight decay follow airbench's scaling (decay per step ~1e-3 at peak): a high
    # effective learning rate suits BN networks on short schedules.
    "fast": Config(epochs=8, lr=0.75, momentum=0.85, weight_decay=1.33e-3, val_size=2000),
    # A longer CPU run for 90%: airbench94's recipe with half the width in the last two stages and
    # 14 epochs (measured 90.7% after 15 minutes of training on two cores; README).
    "cpu90": dataclasses.replace(AIRBENCH94, widths=(64, 128, 256), epochs=14),
    # One GPU: airbench94 itself. On the offline JPEG copy it reaches 90.6% (measured on the CPU;
    # README), where airbench reports 94% on the original CIFAR-10.
    "gpu94": AIRBENCH94,
    # Generated data, tiny network: the whole pipeline in seconds (tests use it).
    # (fp32: at these tiny sizes bf16 kernels cost more to set up than they save.)
    "smoke": Config(widths=(8, 16, 16), epochs=2, batch_size=64, lr=0.2, val_size=100, tta=1, patience=2, amp="off"),
}


# --------------------------------------------------------------------------- utilities


def log(*args):
    """print on rank 0 only (every process of a torchrun job runs this file)."""
    if not dist.is_initialized() or dist.get_rank() == 0:
        print(*args, flush=True)


def is_main_process() -> bool:
    return not dist.is_initialized() or dist.get_rank() == 0


def pick_device(requested: str = "auto") -> torch.device:
    """cuda -> mps -> cpu, unless one is named. Under torchrun each rank takes its own GPU."""
    if requested != "auto":
        return torch.device(requested)
    if torch.cuda.is_available():
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 math (AVX512-BF16 or AMX); without it bf16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype for this device: bf16 where supported (no GradScaler needed), fp16 on older GPUs."""
    if amp == "off":
        return None
    if amp == "fp16":
        return torch.float16
    if amp == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_supports_bf16():
        return torch.bfloat16
    return None  # mps and CPUs without bf16: full precision


# --------------------------------------------------------------------------- Task C.1 — data


def read_image(path: Path) -> np.ndarray:
    """One image file -> (32, 32, 3) uint8 RGB array (resized to the training resolution)."""
    from PIL import Image

    with Image.open(path) as image:
        return np.asarray(image.convert("RGB").resize((32, 32)))


def decode_image_folder(split_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Decode split_dir/<class>/*.{jpg,png} into (N, 3, H, W) uint8 images and (N,) int64 labels.
    Class folders are sorted by name (CIFAR-10's folder names sort into its label order)."""
    classes = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    images, labels = [], []
    for label, name in enumerate(classes):
        for file in sorted((split_dir / name).iterdir()):
            if file.suffix.lower() in {".jpg", ".jpeg", ".png", ".bmp"}:
                images.append(read_image(file))
                labels.append(label)
    return np.stack(images).transpose(0, 3, 1, 2).copy(), np.array(labels, dtype=np.int64)


def load_image_folder(data_dir: Path, split: str, cache_dir: Path | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Images of one split of an image-folder dataset as uint8 tensors, decoded once and cached.

    The cache is an .npz keyed by the folder's path, so a read-only data folder is fine and the
    ~10 s of JPEG decoding happens once instead of every run (let alone every epoch).
    """
    split_dir = Path(data_dir) / split
    if not split_dir.is_dir():
        raise SystemExit(
            f"error: {split_dir} does not exist. --data-dir must be an image folder with train/ and test/ "
            f"subfolders (one folder per class), e.g. the offline CIFAR-10 copy unpacked with "
            f"`tar -xzf train.tar.gz -C DIR && tar -xzf test.tar.gz -C DIR`."
        )
    cache = None
    if cache_dir is not None:
        key = hashlib.sha1(str(split_dir.resolve()).encode()).hexdigest()[:12]
        cache = Path(cache_dir) / f"{split_dir.parent.name}-{split}-{key}.npz"
        if cache.exists():
            with np.load(cache) as stored:
                return torch.from_numpy(stored["images"]), torch.from_numpy(stored["labels"])
    images, labels = decode_image_folder(split_dir)
    if cache is not None:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
            np.savez(partial, images=images, labels=labels)
            os.replace(partial, cache)  # atomic: parallel ranks never read a half-written cache
        except OSError as error:
            log(f"note: could not write the decode cache {cache}: {error}")
    return torch.from_numpy(images), torch.from_numpy(labels)


def load_torchvision_cifar10(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 through torchvision (downloads into root the first time); uint8 (N, 3, 32, 32)."""
    import torchvision

    try:
        dataset = torchvision.datasets.CIFAR10(root=str(root), train=split != "test", download=True)
    except Exception as error:  # URLError, socket errors, checksum errors...: all mean "no data"
        raise SystemExit(
            f"error: could not download CIFAR-10 into {root} ({type(error).__name__}: {error}).\n"
            f"Either run once with internet access, or pass --data-dir DIR where DIR holds train/ and test/ "
            f"image folders (the offline copy: `tar -xzf train.tar.gz -C DIR && tar -xzf test.tar.gz -C DIR`)."
        ) from None
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor(dataset.targets, dtype=torch.int64)


def make_synthetic_dataset(num_images: int, seed: int, num_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated 32x32 images whose class is visible (a class colour and stripe direction plus
    noise), so a smoke run can learn something in seconds without any download."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_images) % num_classes
    palette = torch.rand(num_classes, 3, 1, 1, generator=torch.Generator().manual_seed(1234)) * 160 + 40
    coords = torch.arange(32, dtype=torch.float32)
    angle = labels.float()[:, None, None] * math.pi / num_classes
    stripes = torch.sin((coords[None, :, None] * angle.cos() + coords[None, None, :] * angle.sin()) * 0.8)
    images = palette[labels] + 40 * stripes[:, None] + 30 * torch.randn(num_images, 3, 32, 32, generator=generator)
    order = torch.randperm(num_images, generator=generator)
    return images.clamp(0, 255).to(torch.uint8)[order], labels[order]


def load_split(args, split: str) -> tuple[torch.Tensor, torch.Tensor]:
    """One split ("train" or "test") from whichever source the command line names."""
    if args.smoke:
        return make_synthetic_dataset(600 if split == "train" else 200, seed=0 if split == "train" else 1)
    if args.data_dir:
        return load_image_folder(Path(args.data_dir), split, Path(args.cache_dir) if args.cache_dir else None)
    return load_torchvision_cifar10(Path(args.data_root), split)


def stratified_split(labels: torch.Tensor, val_size: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into (train_idx, val_idx) so that every class keeps the same share in both.

    labels: (N,) int64. Returns two sorted int64 index tensors that partition range(N); the
    validation part has about val_size indices, split over the classes in proportion to their counts.
    """
    # Hint: for each class, shuffle its indices with a seeded torch.Generator and take the first
    # round(val_size * class_count / N) of them for validation.
    raise NotImplementedError('TODO(taskc_1): Return (train_idx, val_idx) with every class represented in proportion in val_idx.')


def select_classes(images: torch.Tensor, labels: torch.Tensor, classes: tuple[int, ...]):
    """Keep only the given classes and renumber them 0..len(classes)-1 (transfer-learning demos)."""
    if not classes:
        return images, labels
    keep = torch.isin(labels, torch.tensor(classes))
    remap = torch.full((int(labels.max()) + 1,), -1, dtype=torch.int64)
    remap[torch.tensor(classes)] = torch.arange(len(classes))
    return images[keep], remap[labels[keep]]


# --------------------------------------------------------------------------- Task C.2 — augmentation


def flip_mask(indices: torch.Tensor, epoch: int, seed: int, mode: str, generator: torch.Generator) -> torch.Tensor:
    """Which images of a batch to mirror. "alternate" gives every image a fixed random coin, and
    flips it on even epochs when the coin is heads and on odd epochs when it is tails: over any two
    epochs each image is seen both ways, which beats independent coin flips on short schedules."""
    if mode == "none":
        return torch.zeros(len(indices), dtype=torch.bool)
    if mode == "random" or epoch == 0:
        return torch.rand(len(indices), generator=generator) < 0.5
    coins = torch.rand(int(indices.max()) + 1, generator=torch.Generator().manual_seed(seed + 99)) < 0.5
    return coins[indices] ^ bool(epoch % 2)


def augment_batch(images: torch.Tensor, flip: torch.Tensor, translate: int, generator: torch.Generator) -> torch.Tensor:
    """Mirror the images where flip is True and shift each by up to `translate` pixels.

    images: (B, C, H, W) uint8 or float; flip: (B,) bool. Returns a new tensor of the same shape
    and dtype. The shift pads by reflection and crops at a random offset, all on whole batches
    (no per-image Python loop): data augmentation must not be the bottleneck of a fast run.
    """
    # Hint: torch.where(flip[:, None, None, None], images.flip(3), images) mirrors the chosen ones.
    # For the shift, F.pad(..., mode="reflect") needs float; draw one (dy, dx) per image from the
    # generator and copy each group of images that share an offset with one slice.
    raise NotImplementedError('TODO(taskc_2): Flip the images chosen by `flip` and translate each by a random offset up to `translate`.')


# --------------------------------------------------------------------------- Task C.3 — models


def conv_bn(cin: int, cout: int, bn_momentum: float, pool: bool = False) -> nn.Sequential:
    """3x3 conv (no bias: BN has one) -> optional 2x2 max-pool -> BN -> GELU. Pooling before BN
    makes BN and GELU run on a quarter of the pixels."""
    layers = [nn.Conv2d(cin, cout, 3, padding=1, bias=False)]
    if pool:
        layers.append(nn.MaxPool2d(2))
    layers += [nn.BatchNorm2d(cout, momentum=bn_momentum), nn.GELU()]
    return nn.Sequential(*layers)


class WhiteningCNN(nn.Module):
    """The "cnn" arch: frozen 2x2 patch-whitening conv, then three stages of
    conv-pool-BN-GELU + conv-BN-GELU, global max-pool and a linear head (6 trained conv layers).

    A fresh whitening layer already decorrelates the pixels of every 2x2 patch, so the first
    trained layer sees well-conditioned inputs from step one: a cheap head start for short runs.
    """

    def __init__(self, widths=(32, 64, 128), num_classes: int = 10, bn_momentum: float = 0.4, logit_scale: float = 0.125):
        super().__init__()
        self.whiten = nn.Conv2d(3, 24, kernel_size=2, bias=True)
        self.whiten.weight.requires_grad_(False)  # set from data by init_whitening, then frozen
        self.whiten.bias.requires_grad_(False)
        self.stage1 = nn.Sequential(conv_bn(24, widths[0], bn_momentum, pool=True), conv_bn(widths[0], widths[0], bn_momentum))
        self.stage2 = nn.Sequential(conv_bn(widths[0], widths[1], bn_momentum, pool=True), conv_bn(widths[1], widths[1], bn_momentum))
        self.stage3 = nn.Sequential(conv_bn(widths[1], widths[2], bn_momentum, pool=True), conv_bn(widths[2], widths[2], bn_momentum))
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.logit_scale = logit_scale

    def stages(self) -> list[nn.Module]:
        """The trainable parts from input to output (gradual unfreezing walks this list backwards)."""
        return [self.stage1, self.stage2, self.stage3, self.head]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.gelu(self.whiten(x))
        x = self.stage3(self.stage2(self.stage1(x)))
        return self.head(torch.amax(x, dim=(2, 3))) * self.logit_scale


def patch_whitening_weights(images: torch.Tensor, eps: float = 5e-3) -> torch.Tensor:
    """Weights (24, 3, 2, 2) for a conv that whitens 2x2 patches: the 12 PCA directions of the
    patches scaled by 1/sqrt(eigenvalue + eps), then the same 12 negated (GELU follows, and the
    negated copies keep the information GELU would cut off).

    images: (N, 3, H, W) float, already normalised.
    """
    # Hint: F.unfold(images, 2) gives (N, 12, L) patches in the conv weight's (C, kh, kw) order;
    # centre them, take the 12x12 covariance and torch.linalg.eigh.
    raise NotImplementedError('TODO(taskc_3): Compute the PCA whitening filters of 2x2 patches (and their negatives).')


class ResidualBlock(nn.Module):
    """x + conv-BN-GELU(conv-BN-GELU(x)), with the last BN's scale set to zero so that a fresh
    block is the identity: deep residual nets then train like shallow ones at first."""

    def __init__(self, channels: int, bn_momentum: float):
        super().__init__()
        self.body = nn.Sequential(conv_bn(channels, channels, bn_momentum), conv_bn(channels, channels, bn_momentum))
        nn.init.zeros_(self.body[1][1].weight)

    def forward(self, x):
        return x + self.body(x)


class ResNet(nn.Module):
    """The "resnet" arch (ResNet-9 shape): prep conv, then three stages of conv-pool-BN-GELU, the
    first and last followed by a residual block, max-pool and linear head."""

    def __init__(self, widths=(64, 128, 256), num_classes: int = 10, bn_momentum: float = 0.4, logit_scale: float = 0.125):
        super().__init__()
        prep = widths[0] // 2
        self.prep = conv_bn(3, prep, bn_momentum)
        self.stage1 = nn.Sequential(conv_bn(prep, widths[0], bn_momentum, pool=True), ResidualBlock(widths[0], bn_momentum))
        self.stage2 = conv_bn(widths[0], widths[1], bn_momentum, pool=True)
        self.stage3 = nn.Sequential(conv_bn(widths[1], widths[2], bn_momentum, pool=True), ResidualBlock(widths[2], bn_momentum))
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.logit_scale = logit_scale

    def stages(self) -> list[nn.Module]:
        return [self.prep, self.stage1, self.stage2, self.stage3, self.head]

    def forward(self, x):
        x = self.stage3(self.stage2(self.stage1(self.prep(x))))
        return self.head(torch.amax(x, dim=(2, 3))) * self.logit_scale


def build_model(config: Config, num_classes: int) -> nn.Module:
    kinds = {"cnn": WhiteningCNN, "resnet": ResNet}
    if config.arch not in kinds:
        raise SystemExit(f"error: --arch {config.arch!r} is not one of {sorted(kinds)}")
    return kinds[config.arch](tuple(config.widths), num_classes, config.bn_momentum, config.logit_scale)


class Normalize(nn.Module):
    """uint8-range input -> per-channel standardised float. Part of the model, so a checkpoint or an
    ONNX file takes raw pixel values (0..255) and nobody has to remember the dataset mean."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.register_buffer("mean", mean.reshape(1, 3, 1, 1).float())
        self.register_buffer("std", std.reshape(1, 3, 1, 1).float())

    def forward(self, x):
        return (x - self.mean) / self.std


class Classifier(nn.Module):
    """Normalize + network: takes (N, 3, 32, 32) float pixel values in [0, 255], returns logits."""

    def __init__(self, network: nn.Module, mean: torch.Tensor, std: torch.Tensor):
        super().__init__()
        self.normalize = Normalize(mean, std)
        self.network = network

    def forward(self, x):
        return self.network(self.normalize(x))


def create_classifier(config: Config, train_images: torch.Tensor, num_classes: int) -> Classifier:
    """Build the model for this config with the normalisation (and whitening) fitted on the training images."""
    torch.manual_seed(config.seed)
    images = train_images.float()
    mean, std = images.mean((0, 2, 3)), images.std((0, 2, 3))
    model = Classifier(build_model(config, num_classes), mean, std)
    if isinstance(model.network, WhiteningCNN):
        sample = images[torch.randperm(len(images), generator=torch.Generator().manual_seed(config.seed))[:5000]]
        with torch.no_grad():
            model.network.whiten.weight.copy_(patch_whitening_weights(model.normalize(sample), config.whiten_eps))
            model.network.whiten.bias.zero_()
        # A learnt bias shifts where GELU cuts each whitened channel; it settles within a few epochs.
        model.network.whiten.bias.requires_grad_(config.whiten_bias_epochs > 0)
        if not config.bn_scale_trainable:
            for module in model.modules():
                if isinstance(module, nn.BatchNorm2d):
                    module.weight.requires_grad_(False)
    if config.dirac_init:
        # Identity on the first in_channels filters (the rest stay random): a fresh stack of convs
        # then passes the whitened image through, and training starts from a signal, not noise.
        for module in model.network.modules():
            if isinstance(module, nn.Conv2d) and module.kernel_size == (3, 3) and module.out_channels >= module.in_channels:
                with torch.no_grad():
                    nn.init.dirac_(module.weight[: module.in_channels])
    return model


# --------------------------------------------------------------------------- Task C.4 — the training step


def train_step(model, images, labels, optimizer, scaler, amp_dtype, label_smoothing: float) -> torch.Tensor:
    """One optimisation step on a batch; returns the (detached, float32) loss.

    images: (B, 3, H, W) float on the model's device (channels_last if the model is); labels: (B,) int64.
    Autocast runs the convs in amp_dtype (None = full precision); the GradScaler (enabled only
    for fp16, whose small range lets gradients underflow) scales the loss before backward and
    unscales before the step. bf16 has fp32's range and needs no scaler.
    """
    # Hint: torch.amp.autocast(device_type=images.device.type, dtype=amp_dtype, enabled=amp_dtype is not None);
    # then optimizer.zero_grad(set_to_none=True), scaler.scale(loss).backward(), scaler.step(optimizer), scaler.update().
    raise NotImplementedError('TODO(taskc_4): Forward under autocast, cross-entropy with label smoothing, scaled backward, optimizer step.')


def make_optimizer(model: nn.Module, config: Config) -> torch.optim.Optimizer:
    """SGD Nesterov with three parameter groups:
    - conv/linear weights, decayed;
    - BN scales and biases at bias_lr_scale times the LR, not decayed by default (decay fights
      the normalisation); with decay_biases, decayed by the same amount per step as the weights;
    - the whitening layer's bias (when trained), at the base LR and only for whiten_bias_epochs.
    Each group's "lr_scale" and "epochs" tell the training loop how to set its LR."""
    whiten = getattr(getattr(model, "network", None), "whiten", None)
    special = {id(whiten.bias)} if whiten is not None and whiten.bias.requires_grad else set()
    trainable = [p for p in model.parameters() if p.requires_grad and id(p) not in special]
    bias_decay = config.weight_decay / config.bias_lr_scale if config.decay_biases else 0.0
    groups = [
        {"params": [p for p in trainable if p.ndim > 1], "weight_decay": config.weight_decay, "lr_scale": 1.0},
        {"params": [p for p in trainable if p.ndim <= 1], "weight_decay": bias_decay, "lr_scale": config.bias_lr_scale},
    ]
    if special:
        groups.append({"params": [whiten.bias], "weight_decay": config.weight_decay, "lr_scale": 1.0,
                       "epochs": config.whiten_bias_epochs})
    return torch.optim.SGD(groups, lr=config.lr, momentum=config.momentum, nesterov=True)


def set_learning_rates(optimizer: torch.optim.Optimizer, lr: float, epoch: int):
    """Each group's LR is lr times its lr_scale, or 0 once the group's training epochs are over."""
    for group in optimizer.param_groups:
        group["lr"] = lr * group["lr_scale"] if epoch < group.get("epochs", math.inf) else 0.0


# --------------------------------------------------------------------------- Task C.5 — schedule and early stopping


def triangular_lr(step: int, total_steps: int, peak: float, warmup: float, start: float = 0.0, end: float = 0.0) -> float:
    """Linear warm-up from start * peak to peak over the first `warmup` fraction of the steps, then
    linear decay to end * peak at total_steps (and no lower after). Short runs want a high LR for
    most of the time and a clean annealing at the end; the warm-up keeps the first high-LR steps
    from blowing up BN statistics."""
    raise NotImplementedError('TODO(taskc_5): Return the learning rate of a linear warm-up from start*peak to peak, then linear decay to end*peak at total_steps.')


class Lookahead:
    """Every `every` steps, move a slow copy of the weights toward the fast ones and restart the
    fast ones from it (the "lookahead" of airbench94, an EMA that the model follows).

    The pull is 1 - decay with decay = 0.95**every * progress**3: nothing early on, when the
    weights must move fast, and a strong average of the last few hundred steps near the end,
    which cancels the noise of the final high-LR steps. The last call (step == total_steps) leaves
    the model holding the average. BN running statistics are averaged with the weights."""

    def __init__(self, model: nn.Module, every: int = 5):
        self.every = every
        self.average = {k: v.detach().clone() for k, v in model.state_dict().items() if v.is_floating_point()}

    @torch.no_grad()
    def update(self, model: nn.Module, step: int, total_steps: int):
        if step % self.every and step < total_steps:
            return
        decay = 1.0 if step >= total_steps else 0.95**self.every * (step / total_steps) ** 3
        current = model.state_dict()
        for name, average in self.average.items():
            average.lerp_(current[name], 1 - decay)
            current[name].copy_(average)


class EarlyStopping:
    """Tracks the best validation score; `update(score)` returns True when the run should stop
    (no improvement larger than min_delta for `patience` epochs in a row)."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience, self.min_delta = patience, min_delta
        self.best = -math.inf
        self.bad_epochs = 0

    def update(self, score: float) -> bool:
        raise NotImplementedError('TODO(taskc_5): Record the score; return True once `patience` epochs in a row failed to beat best by min_delta.')

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: dict):
        self.best, self.bad_epochs = state["best"], state["bad_epochs"]


# --------------------------------------------------------------------------- Task C.6 — checkpoints


class CheckpointError(Exception):
    """A file that is not a checkpoint of this project (or a truncated one)."""


CHECKPOINT_KEYS = {"model", "config", "num_classes", "class_names"}


def save_checkpoint(state: dict, path: Path):
    """Write state to path atomically: save to a temporary file in the same folder, then
    os.replace it over the target. A crash mid-save (or a full disk) leaves the previous
    checkpoint intact instead of a truncated file that --resume would choke on."""
    raise NotImplementedError('TODO(taskc_6): torch.save to a temporary file next to `path`, then os.replace it onto `path`.')


def load_checkpoint(path: Path) -> dict:
    """Load a checkpoint with torch.load(weights_only=True) (no arbitrary code from the file) and
    check it is one of ours. Raises CheckpointError with a sentence a user can act on."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"checkpoint {path} does not exist")
    raise NotImplementedError('TODO(taskc_6): torch.load(path, map_location="cpu", weights_only=True); turn any failure or missing key into CheckpointError.')


def config_from_dict(values: dict) -> Config:
    known = {f.name for f in dataclasses.fields(Config)}
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in known}
    return Config(**values)


def classifier_from_checkpoint(state: dict) -> Classifier:
    """Rebuild the model a checkpoint was trained with and load its weights (CPU, eval mode)."""
    config = config_from_dict(state["config"])
    model = Classifier(build_model(config, state["num_classes"]), torch.zeros(3), torch.ones(3))
    try:
        model.load_state_dict(state["model"])
    except RuntimeError as error:
        raise CheckpointError(f"checkpoint weights do not fit the {config.arch} model: {str(error).splitlines()[0]}") from None
    return model.eval()


# --------------------------------------------------------------------------- Task C.7 — evaluation


@torch.no_grad()
def predict_logits(model: nn.Module, images: torch.Tensor, tta: int = 0, batch_size: int = 1000, amp_dtype=None) -> torch.Tensor:
    """Logits (N, K) float32 on the CPU for uint8/float images (N, 3, H, W), in eval mode.

    Test-time augmentation averages the logits of several views: tta=1 adds the mirror image,
    tta=2 also adds the image shifted by one pixel diagonally each way (and their mirrors, at
    half weight). Costs 1, 2 or 6 forward passes; worth ~0.5-1% on CIFAR-10.
    """
    model.eval()
    device = next(model.parameters()).device
    memory_format = torch.channels_last if device.type != "mps" else torch.contiguous_format
    outputs = []
    for start in range(0, len(images), batch_size):
        batch = images[start : start + batch_size].to(device).float().contiguous(memory_format=memory_format)
        with torch.amp.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            raise NotImplementedError('TODO(taskc_7): Sum the logits of the views asked for by tta (plain; +mirror; +two shifted views and their mirrors at half weight).')
        outputs.append(logits.cpu())
    return torch.cat(outputs)


def confusion_matrix(predictions: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """(K, K) int64 counts: row = true class, column = predicted class."""
    # Hint: one torch.bincount over targets * num_classes + predictions.
    raise NotImplementedError('TODO(taskc_7): Count (true, predicted) pairs into a (K, K) matrix with a single bincount.')


def per_class_metrics(matrix: torch.Tensor, class_names: list[str]) -> list[dict]:
    """Precision, recall (= per-class accuracy) and support per class from a confusion matrix."""
    matrix = matrix.double()
    rows = []
    for k, name in enumerate(class_names):
        true_positive = matrix[k, k].item()
        rows.append(
            {
                "class": name,
                "precision": true_positive / max(matrix[:, k].sum().item(), 1),
                "recall": true_positive / max(matrix[k].sum().item(), 1),
                "support": int(matrix[k].sum().item()),
            }
        )
    return rows


def format_table(rows: list[dict]) -> str:
    lines = [f"{'class':12}{'precision':>10}{'recall':>8}{'support':>9}"]
    lines += [f"{r['class']:12}{r['precision']:>10.3f}{r['recall']:>8.3f}{r['support']:>9}" for r in rows]
    return "\n".join(lines)


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


def log_loss(probabilities: torch.Tensor, targets: torch.Tensor) -> float:
    """Mean negative log-likelihood of the true class, from probabilities (N, K)."""
    return -probabilities.gather(1, targets[:, None]).clamp(min=1e-12).log().mean().item()


# --------------------------------------------------------------------------- Task C.8 — ensembles


def ensemble_probabilities(models: list[nn.Module], images: torch.Tensor, tta: int = 0, amp_dtype=None) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Average the softmax outputs of several models: returns (mean probabilities (N, K), the
    list of each member's probabilities). Averaging probabilities (not logits) gives a log-loss
    no worse than the members' mean log-loss (the log is concave: Jensen's inequality)."""
    raise NotImplementedError("TODO(taskc_8): Softmax each model's predict_logits, return their mean and the list.")


# --------------------------------------------------------------------------- Task C.9 — ONNX export


def export_onnx(model: nn.Module, path: Path, example: torch.Tensor) -> Path:
    """Export the (CPU, eval, float32) model to ONNX with a dynamic batch dimension."""
    model = model.float().eval().cpu()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hint: torch.onnx.export(model, (example,), path, input_names=["images"], output_names=["logits"],
    # dynamic_shapes=({0: torch.export.Dim("batch")},)) — the exporter in torch >= 2.9 uses dynamo.
    raise NotImplementedError('TODO(taskc_9): torch.onnx.export the model to `path` with the batch dimension dynamic.')
    return path


def check_onnx(path: Path, model: nn.Module, images: torch.Tensor) -> float:
    """Run the ONNX file with onnxruntime and PyTorch on the same batch; return the max abs difference of the logits."""
    import onnxruntime

    raise NotImplementedError("TODO(taskc_9): Run an onnxruntime InferenceSession on images (float32 numpy) and compare with the model's logits.")


# --------------------------------------------------------------------------- Task C.10 — gradual unfreezing


def apply_gradual_unfreezing(stages: list[nn.Module], epoch: int, every: int) -> int:
    """Freeze all but the last 1 + epoch // every stages (the head is the last stage); return how
    many are trainable. A new head on a pretrained backbone first learns alone, then the layers
    below join one by one from the top, so early large gradients do not wreck pretrained features.
    Frozen stages are put in eval mode so their BN statistics stay the pretrained ones."""
    raise NotImplementedError('TODO(taskc_10): Set requires_grad (and train/eval) so that only the last 1 + epoch // every stages train.')


def load_backbone(model: Classifier, checkpoint: Path) -> int:
    """Copy every backbone tensor of a checkpoint whose name and shape fit (the head is always new:
    its classes are other classes); returns how many tensors were copied. Used with --finetune-from."""
    source = load_checkpoint(checkpoint)["model"]
    target = model.state_dict()
    fitting = {k: v for k, v in source.items()
               if k in target and target[k].shape == v.shape and not k.startswith(("normalize.", "network.head."))}
    model.load_state_dict(fitting, strict=False)
    return len(fitting)


# --------------------------------------------------------------------------- Task C.11 — distributed training


def setup_distributed(device: torch.device) -> tuple[int, int]:
    """Join the torchrun process group when launched by torchrun (WORLD_SIZE > 1): nccl on CUDA,
    gloo on CPU. Returns (rank, world_size); (0, 1) for a plain `python` run."""
    world_size = int(os.environ.get("WORLD_SIZE", 1))
    if world_size == 1:
        return 0, 1
    raise NotImplementedError('TODO(taskc_11): init_process_group with nccl on CUDA and gloo otherwise; return (rank, world_size).')


def shard_batches(permutation: torch.Tensor, batch_size: int, rank: int, world_size: int) -> list[torch.Tensor]:
    """Cut one epoch's permutation (the same on every rank: same seed) into global batches of
    batch_size and give each rank its slice of every batch (what DistributedSampler does for a
    DataLoader). Drops the last incomplete batch so every rank takes the same number of steps;
    the global batch, and so the learning rate, is the same for any number of processes."""
    raise NotImplementedError("TODO(taskc_11): Return one index tensor per full global batch: this rank's share (every world_size-th element) of it.")


def all_reduce_sum(values: list[float], device: torch.device) -> list[float]:
    """Sum numbers over all ranks (identity when not distributed)."""
    if not dist.is_initialized():
        return values
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


# --------------------------------------------------------------------------- the train command


def evaluate_split(model, images, labels, config, device, amp_dtype, tta=0) -> dict:
    """Loss and accuracy of the model on (images, labels), sharded over ranks and summed."""
    rank, world = (dist.get_rank(), dist.get_world_size()) if dist.is_initialized() else (0, 1)
    mine = slice(rank, None, world)
    logits = predict_logits(model, images[mine], tta=tta, amp_dtype=amp_dtype)
    targets = labels[mine]
    loss_sum = F.cross_entropy(logits, targets, reduction="sum").item()
    correct = (logits.argmax(1) == targets).sum().item()
    loss_sum, correct, count = all_reduce_sum([loss_sum, correct, len(targets)], device)
    return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}


def warm_up(net: nn.Module, model: nn.Module, batch_shape: tuple, memory_format, amp_dtype) -> float:
    """A few untimed forward/backward passes at the training batch shape, so that one-off work
    (cuDNN trying its algorithms for every conv, torch.compile compiling) is done before the clock
    starts, the way airbench times its runs. Returns the seconds it took. Weights, BN statistics
    and gradients are put back as they were: the run itself is unchanged."""
    device = next(model.parameters()).device
    saved = {name: value.clone() for name, value in model.state_dict().items()}
    started = time.perf_counter()
    x = torch.zeros(batch_shape, device=device).contiguous(memory_format=memory_format)
    model.train()
    for _ in range(3):
        with torch.amp.autocast(device_type=device.type, dtype=amp_dtype, enabled=amp_dtype is not None):
            net(x).float().sum().backward()
    model.zero_grad(set_to_none=True)
    model.load_state_dict(saved)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - started


def train(config: Config, args) -> dict:
    """The whole training run; returns the metrics dict also written to OUT/metrics.json."""
    device = pick_device(args.device)
    rank, world_size = setup_distributed(device)
    main_process = rank == 0
    torch.manual_seed(config.seed)
    if device.type == "cpu" and args.threads:
        torch.set_num_threads(args.threads)
    out = Path(args.out)
    amp_dtype = autocast_dtype(device, config.amp)

    # Data: uint8 tensors in memory (CIFAR-10 is 150 MB as uint8), split, class subset.
    images, labels = load_split(args, "train")
    images, labels = select_classes(images, labels, config.classes)
    class_names = [CLASS_NAMES[c] for c in config.classes] if config.classes else CLASS_NAMES[: int(labels.max()) + 1]
    num_classes = len(class_names)
    train_idx, val_idx = stratified_split(labels, config.val_size, config.seed)
    train_images, train_labels = images[train_idx], labels[train_idx]
    val_images, val_labels = images[val_idx], labels[val_idx]
    has_val = len(val_idx) > 0
    log(f"data: {len(train_idx)} train / {len(val_idx)} val images, {num_classes} classes; device {device}, "
        f"autocast {amp_dtype}, {world_size} process(es)")

    model = create_classifier(config, train_images, num_classes)
    if device.type == "cuda":
        # The whole uint8 training set fits on the GPU (150 MB): augmentation then runs there too.
        train_images, train_labels = train_images.to(device), train_labels.to(device)
        torch.backends.cudnn.benchmark = True
    if args.finetune_from:
        log(f"fine-tuning: copied {load_backbone(model, Path(args.finetune_from))} tensors from {args.finetune_from}")
    memory_format = torch.channels_last if config.channels_last and device.type != "mps" else torch.contiguous_format
    model = model.to(device, memory_format=memory_format)
    optimizer = make_optimizer(model, config)
    scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16)
    stopper = EarlyStopping(config.patience)
    steps_per_epoch = len(train_idx) // config.batch_size
    if steps_per_epoch == 0:
        raise SystemExit(f"error: batch size {config.batch_size} is larger than the {len(train_idx)} training images")
    total_steps = max(1, round(config.epochs * steps_per_epoch))
    if config.max_steps:
        total_steps = min(total_steps, config.max_steps)
    num_epochs = math.ceil(total_steps / steps_per_epoch)
    start_epoch, step, history, train_seconds = 0, 0, [], 0.0

    last_path, best_path = out / "last.pt", out / "best.pt"
    if args.resume:
        resume_from = Path(args.resume) if args.resume != "auto" else last_path
        state = load_checkpoint(resume_from)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scaler.load_state_dict(state["scaler"])
        stopper.load_state_dict(state["early_stopping"])
        start_epoch, step, history = state["epoch"], state["step"], state["history"]
        train_seconds = state.get("train_seconds", 0.0)
        log(f"resumed from {resume_from} at epoch {start_epoch} (step {step})")
    lookahead = Lookahead(model) if config.lookahead else None  # the average starts from the (resumed) weights...
    if lookahead is not None and args.resume and "lookahead" in state:  # ...or is the one saved with them
        lookahead.average = {k: v.to(device) for k, v in state["lookahead"].items()}

    # The module the optimiser updates is shared by DDP's wrapper, torch.compile's wrapper and us.
    net = model
    if world_size > 1:
        net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
    if config.compile:
        net = torch.compile(net)
    warmup_seconds = 0.0
    if (device.type == "cuda" or config.compile) and step < total_steps:
        rank_batch = len(range(config.batch_size)[rank::world_size])  # this rank's share, as shard_batches cuts it
        warmup_seconds = warm_up(net, model, (rank_batch, *train_images.shape[1:]), memory_format, amp_dtype)
        work = " and ".join(w for w, on in (("cuDNN autotuning", device.type == "cuda"), ("compilation", config.compile)) if on)
        log(f"warm-up ({work}): {warmup_seconds:.1f}s, not counted as training time")

    writer = None
    if main_process:
        from torch.utils.tensorboard import SummaryWriter
        import torchvision

        writer = SummaryWriter(str(out / "tensorboard"))
        grid = torchvision.utils.make_grid(train_images[:64].float() / 255, nrow=8)
        writer.add_image("samples/train", grid, 0)
        log(f"TensorBoard: tensorboard --logdir {out / 'tensorboard'}")

    from tqdm.auto import tqdm

    stopped_early = False
    for epoch in range(start_epoch, num_epochs):
        if step >= total_steps:
            break
        if config.unfreeze_every:
            trainable = apply_gradual_unfreezing(model.network.stages(), epoch, config.unfreeze_every)
            log(f"epoch {epoch}: {trainable} of {len(model.network.stages())} stages trainable")
        else:
            model.train()
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(config.seed * 1000 + epoch)  # same order on every rank, and on resume
        batches = shard_batches(torch.randperm(len(train_idx), generator=generator), config.batch_size, rank, world_size)
        batches = batches[: total_steps - step]
        losses = []
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{num_epochs}", disable=not main_process or None, leave=False)
        for batch in bar:
            lr = triangular_lr(step, total_steps, config.lr, config.warmup, config.lr_start, config.lr_end)
            set_learning_rates(optimizer, lr, epoch)
            flips = flip_mask(batch, epoch, config.seed, config.flip, generator)
            batch = batch.to(train_images.device)
            x = augment_batch(train_images[batch], flips, config.translate, generator)
            x = x.to(device, non_blocking=True).float().contiguous(memory_format=memory_format)
            loss = train_step(net, x, train_labels[batch].to(device), optimizer, scaler, amp_dtype, config.label_smoothing)
            losses.append(loss)
            step += 1
            if lookahead is not None:
                lookahead.update(model, step, total_steps)
            if step % 20 == 0 and main_process:
                bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.3f}")
        train_loss = all_reduce_sum([torch.stack(losses).mean().item()], device)[0] / world_size
        # --val-size 0 trains on every image: no validation, so no early stopping and no best.pt.
        val = {"loss": math.nan, "accuracy": math.nan}
        if has_val:
            val = evaluate_split(model, val_images, val_labels, config, device, amp_dtype)
        train_seconds += time.perf_counter() - started
        record = {"epoch": epoch + 1, "step": step, "lr": lr, "train_loss": train_loss, "val_loss": val["loss"],
                  "val_accuracy": val["accuracy"], "seconds": train_seconds}
        history.append(record)
        improved = has_val and val["accuracy"] > stopper.best
        stop = has_val and stopper.update(val["accuracy"])
        shown = f"val loss {val['loss']:.3f}  val acc {val['accuracy']:.4f}" if has_val else "(no validation images)"
        log(f"epoch {epoch + 1:>3}: train loss {train_loss:.3f}  {shown}  lr {lr:.3f}  {train_seconds:.1f}s")
        if main_process:
            writer.add_scalar("loss/train", train_loss, step)
            writer.add_scalar("loss/val", val["loss"], step)
            writer.add_scalar("accuracy/val", val["accuracy"], step)
            writer.add_scalar("lr", lr, step)
            state = {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict(),
                "early_stopping": stopper.state_dict(), "epoch": epoch + 1, "step": step, "history": history,
                "train_seconds": train_seconds, "config": dataclasses.asdict(config), "num_classes": num_classes,
                "class_names": class_names,
            }
            if lookahead is not None:
                state["lookahead"] = lookahead.average
            save_checkpoint(state, last_path)
            if improved:
                save_checkpoint(state, best_path)
        if dist.is_initialized():
            dist.barrier()  # nobody races ahead (or reads a checkpoint) before rank 0 has written it
        if stop:
            log(f"early stopping: no val improvement for {config.patience} epochs")
            stopped_early = True
            break

    metrics = {"config": dataclasses.asdict(config), "history": history, "train_seconds": train_seconds,
               "warmup_seconds": warmup_seconds, "steps": step, "world_size": world_size, "device": str(device),
               "autocast": str(amp_dtype), "stopped_early": stopped_early}
    if main_process:
        # Final validation with TTA and the confusion matrix, for TensorBoard and the JSON.
        metrics["val_accuracy"], metrics["val_tta"] = None, config.tta
        if has_val:
            logits = predict_logits(model, val_images, tta=config.tta, amp_dtype=amp_dtype)
            matrix = confusion_matrix(logits.argmax(1), val_labels, num_classes)
            metrics["val_accuracy"] = (logits.argmax(1) == val_labels).float().mean().item()
            writer.add_figure("confusion_matrix/val", confusion_figure(matrix, class_names, "validation"), step)
            log(f"val accuracy (tta={config.tta}) {metrics['val_accuracy']:.4f}")
        hparams = {k: (str(v) if isinstance(v, (tuple, list)) else v) for k, v in dataclasses.asdict(config).items()}
        writer.add_hparams(hparams, {"hparam/val_accuracy": metrics["val_accuracy"] or math.nan}, run_name=".")
        writer.close()
        (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
        log(f"training took {train_seconds:.1f}s; checkpoints in {out}")
    if dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()
    return metrics


# --------------------------------------------------------------------------- evaluate / predict / export


def load_models(args) -> tuple[list[Classifier], list[str], Config]:
    """The models of --checkpoint or --ensemble, their class names and the (first) training config."""
    paths = [Path(p) for p in (args.ensemble or [])] or [Path(args.checkpoint)]
    states = [load_checkpoint(p) for p in paths]
    return [classifier_from_checkpoint(s) for s in states], states[0]["class_names"], config_from_dict(states[0]["config"])


def evaluate(args) -> dict:
    """Accuracy, per-class table, confusion-matrix PNG and metrics JSON of one checkpoint (or an ensemble)."""
    models, class_names, config = load_models(args)
    images, labels = load_split(args, "test" if args.split == "test" else "train")
    images, labels = select_classes(images, labels, config.classes)
    if args.split in ("train", "val"):
        train_idx, val_idx = stratified_split(labels, config.val_size, config.seed)
        chosen = val_idx if args.split == "val" else train_idx
        if len(chosen) == 0:
            raise SystemExit(f"error: {args.checkpoint or args.ensemble[0]} was trained with --val-size 0 (on every "
                             f"training image), so it has no validation split: evaluate it with --split test")
        images, labels = images[chosen], labels[chosen]
    tta = config.tta if args.tta is None else args.tta
    device = pick_device(args.device)
    amp_dtype = autocast_dtype(device, args.amp)
    models = [m.to(device, memory_format=torch.channels_last if device.type != "mps" else torch.contiguous_format) for m in models]
    started = time.perf_counter()
    if len(models) > 1:
        probabilities, members = ensemble_probabilities(models, images, tta=tta, amp_dtype=amp_dtype)
    else:
        probabilities = predict_logits(models[0], images, tta=tta, amp_dtype=amp_dtype).softmax(1)
        members = [probabilities]
    predictions = probabilities.argmax(1)
    matrix = confusion_matrix(predictions, labels, len(class_names))
    metrics = {
        "accuracy": (predictions == labels).float().mean().item(),
        "log_loss": log_loss(probabilities, labels),
        "split": args.split,
        "num_images": len(labels),
        "tta": tta,
        "checkpoints": [str(p) for p in (args.ensemble or [args.checkpoint])],
        "per_class": per_class_metrics(matrix, class_names),
        "confusion_matrix": matrix.tolist(),
        "seconds": time.perf_counter() - started,
    }
    if len(models) > 1:
        metrics["member_accuracy"] = [(p.argmax(1) == labels).float().mean().item() for p in members]
        metrics["member_log_loss"] = [log_loss(p, labels) for p in members]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    figure = confusion_figure(matrix, class_names, f"{args.split}: accuracy {metrics['accuracy']:.4f}")
    figure.savefig(out / "confusion_matrix.png", dpi=120)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    print(format_table(metrics["per_class"]))
    if len(models) > 1:
        print(f"members: accuracy {metrics['member_accuracy']}, log-loss {metrics['member_log_loss']}")
    print(f"{args.split} accuracy {metrics['accuracy']:.4f} on {len(labels)} images (tta={tta}); "
          f"log-loss {metrics['log_loss']:.4f}; wrote {out / 'metrics.json'} and {out / 'confusion_matrix.png'}")
    return metrics


def load_image_files(paths: list[str]) -> torch.Tensor:
    """Image files -> (N, 3, 32, 32) uint8 (resized to the training resolution)."""
    return torch.from_numpy(np.stack([read_image(path) for path in paths])).permute(0, 3, 1, 2).contiguous()


def predict(args) -> list[dict]:
    models, class_names, _ = load_models(args)
    images = load_image_files(args.images)
    probabilities, _ = ensemble_probabilities(models, images, tta=args.tta or 0)
    results = []
    for path, probs in zip(args.images, probabilities):
        top = probs.argmax().item()
        results.append({"file": path, "class": class_names[top], "probability": probs[top].item()})
        print(f"{path}: {class_names[top]} ({probs[top].item():.1%})")
    return results


def export(args) -> dict:
    state = load_checkpoint(Path(args.checkpoint))
    model = classifier_from_checkpoint(state)
    images, _ = make_synthetic_dataset(16, seed=3, num_classes=state["num_classes"])
    path = export_onnx(model, Path(args.out), images[:2].float())
    difference = check_onnx(path, model, images.float())
    print(f"wrote {path}; onnxruntime vs PyTorch max abs difference on a batch of {len(images)}: {difference:.2e}")
    if difference > 1e-4:
        raise SystemExit(f"error: ONNX output differs from PyTorch by {difference:.2e} (> 1e-4)")
    return {"path": str(path), "max_abs_diff": difference}


# --------------------------------------------------------------------------- command line


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="CIFAR-10 image classification: train, evaluate, predict, export.")
    commands = parser.add_subparsers(dest="command", required=True)

    def data_options(p):
        p.add_argument("--data-dir", help="image folder with train/ and test/ (e.g. the offline CIFAR-10 copy)")
        p.add_argument("--data-root", default="./data", help="torchvision download folder when --data-dir is not given")
        p.add_argument("--cache-dir", default="./data/cache", help="where decoded uint8 arrays are cached ('' = no cache)")
        p.add_argument("--smoke", action="store_true", help="generated data instead of CIFAR-10 (seconds, no download)")
        p.add_argument("--device", default="auto", help="auto (cuda -> mps -> cpu), cpu, cuda, cuda:1, mps")

    t = commands.add_parser("train", help="train a model")
    data_options(t)
    t.add_argument("--config", default=None, choices=sorted(CONFIGS), help="named hyperparameters (default: fast, or smoke with --smoke)")
    t.add_argument("--out", default="runs/train", help="run folder: checkpoints, TensorBoard logs, metrics.json")
    t.add_argument("--resume", nargs="?", const="auto", help="continue from a checkpoint (default: OUT/last.pt)")
    t.add_argument("--finetune-from", help="start from another run's checkpoint (a head of another size is re-initialised)")
    t.add_argument("--threads", type=int, default=0, help="CPU threads (0 = torch's default)")
    for f in dataclasses.fields(Config):  # every hyperparameter can be overridden: --epochs 8 --widths 64,128,256
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):  # `--compile` alone means true; `--channels-last false` turns one off
            t.add_argument(flag, nargs="?", const=True, default=None, metavar="BOOL",
                           type=lambda s: s.lower() in ("1", "true", "yes", "on"))
        elif "tuple" in str(f.type):
            t.add_argument(flag, type=lambda s: tuple(int(v) for v in s.split(",") if v), default=None, metavar="A,B,C")
        else:
            kind = {"int": int, "float": float, "str": str}[str(f.type)]
            t.add_argument(flag, type=kind, default=None)

    e = commands.add_parser("evaluate", help="accuracy, per-class table, confusion matrix of a checkpoint or ensemble")
    data_options(e)
    e.add_argument("--checkpoint", help="a .pt file written by train")
    e.add_argument("--ensemble", nargs="+", help="several checkpoints whose softmax outputs are averaged")
    e.add_argument("--split", default="test", choices=["test", "val", "train"])
    e.add_argument("--tta", type=int, default=None, help="test-time augmentation level (default: the checkpoint's config)")
    e.add_argument("--amp", default="auto", help="autocast for evaluation: auto (bf16 where supported), bf16, fp16, off")
    e.add_argument("--out", default="runs/evaluate", help="folder for metrics.json and confusion_matrix.png")

    p = commands.add_parser("predict", help="classify image files")
    p.add_argument("images", nargs="+")
    p.add_argument("--checkpoint")
    p.add_argument("--ensemble", nargs="+")
    p.add_argument("--tta", type=int, default=0)

    x = commands.add_parser("export", help="export a checkpoint to ONNX and check it with onnxruntime")
    x.add_argument("--checkpoint", required=True)
    x.add_argument("--out", default="runs/model.onnx")
    return parser


def config_from_args(args) -> Config:
    name = args.config or ("smoke" if args.smoke else "fast")
    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(Config) if getattr(args, f.name) is not None}
    return dataclasses.replace(CONFIGS[name], **overrides)


def main(argv: list[str] | None = None):
    args = build_parser().parse_args(argv)
    if args.command in ("evaluate", "predict") and not (args.checkpoint or args.ensemble):
        raise SystemExit(f"error: {args.command} needs --checkpoint FILE or --ensemble FILE FILE ...")
    try:
        if args.command == "train":
            return train(config_from_args(args), args)
        if args.command == "evaluate":
            return evaluate(args)
        if args.command == "predict":
            return predict(args)
        return export(args)
    except CheckpointError as error:
        raise SystemExit(f"error: {error}") from None


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:
        # "NotImplementedError: TODO(...)" is the line the test harness looks for in a child's output.
        raise SystemExit(f"NotImplementedError: {todo}\n(finish this TODO in {__file__}, then run again)") from None
