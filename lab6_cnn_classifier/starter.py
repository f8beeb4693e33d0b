# Starter file: written by tools/make_starters.py from solution.py (text sha256 6c95bde889140544).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Lab 6 — CNN Image Classifier (starter: your work goes here).

What this lab teaches: how convolutions and pooling change a feature map's shape, why
batch normalisation and dropout help, how a residual block stays trainable (and starts as
the identity), how to augment a whole batch of images at once, how to read a confusion
matrix, and how to reuse a trained backbone on new classes (transfer learning: freezing,
per-group learning rates, gradual unfreezing). The deliverable: a small ResNet trained on
CIFAR-10 to above 85% test accuracy with a fast recipe, on a CPU in minutes.

Tasks, in the README's order:
    task6_1   conv_output_size         the shape arithmetic of Conv2d and MaxPool2d
    task6_2   conv_bn_act              the conv -> batch norm -> activation building block
    task6_3   ResidualBlock            a residual block with a projection shortcut, identity at init
    task6_4   SimpleCNN                a plain CNN: conv blocks, pooling, dropout, a linear head
    task6_5   ResNet                   a small residual network for 32x32 images
    task6_6   random_flip_translate    batched data augmentation (flip + translate), no per-image loop
    task6_7   confusion_matrix         counts with bincount; per-class precision, recall, F1
    task6_8   plot_confusion_matrix    a readable confusion-matrix PNG (matplotlib, Agg)
    task6_9   freeze / param_groups    freezing a backbone (BN included), two learning rates
    task6_10  GradualUnfreezer         unfreeze from the head down, one stage every few epochs
    task6_11  train_model / predict    the fast training recipe and test-time augmentation (deliverable)
    task6_12  prepare_transfer         scratch vs frozen backbone vs fine-tuning on few labels

Run the demo:
    python lab6_cnn_classifier/starter.py --data-dir /path/to/cifar10      # train + evaluate + confusion PNG
    python lab6_cnn_classifier/starter.py transfer --data-dir /path/to/cifar10
    python lab6_cnn_classifier/starter.py benchmark    # images/s: fp32 vs bf16, channels_last or not
Without --data-dir it downloads CIFAR-10 with torchvision into ./data.
Grade yourself: pytest -m lab6   (this file; --impl solution grades solution.py; --runslow for real training)
"""

from __future__ import annotations

import argparse
import copy
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

# ---------------------------------------------------------------------------
# Hyperparameters, in one place.
# ---------------------------------------------------------------------------

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
# Per-channel mean and standard deviation of the CIFAR-10 training images, on the 0..255 scale.
CIFAR10_MEAN = (125.3, 123.0, 113.9)
CIFAR10_STD = (63.0, 62.1, 66.7)


@dataclass
class TrainConfig:
    """The fast training recipe (task6_11). The defaults are the CPU recipe of the README."""

    epochs: float = 8.0
    batch_size: int = 256
    lr: float = 0.4  # peak learning rate of the one-cycle schedule
    momentum: float = 0.9  # SGD with Nesterov momentum
    weight_decay: float = 5e-4  # on conv and linear weights only, not on BN or biases
    label_smoothing: float = 0.1  # 0.2 measured 0.2-0.5 points worse over 7-8 epochs (README)
    warmup_fraction: float = 0.2  # linear warm-up, then linear decay to 0
    translate: int = 2  # random shift by up to this many pixels; 4 (the classic) is too hard for 8 epochs
    flip: bool = True
    amp: str = "auto"  # "auto": bf16 autocast where the device has bf16 units (see autocast_dtype); "bf16"; "off"
    channels_last: bool = True
    tta: bool = True  # test-time augmentation: average the logits of the image and its mirror
    seed: int = 0


@dataclass
class ModelConfig:
    """The lab's ResNet for the deliverable: about 45 M multiply-adds per 32x32 image."""

    widths: tuple[int, ...] = (32, 64, 128, 256)
    dropout: float = 0.0


@dataclass
class TransferConfig:
    """Transfer learning: pretrain on classes 0-4, transfer to classes 5-9 with few labels (task6_12)."""

    source_classes: tuple[int, ...] = (0, 1, 2, 3, 4)  # airplane, automobile, bird, cat, deer
    target_classes: tuple[int, ...] = (5, 6, 7, 8, 9)  # dog, frog, horse, ship, truck
    pretrain_per_class: int = 2500  # training images per source class for pretraining
    labels_per_class: int = 100  # the "few labels" of the target task
    widths: tuple[int, ...] = (16, 32, 64, 128)
    # 4-pixel shifts and label smoothing 0.2, as in the recipe the README's transfer table was
    # measured with: stronger regularisation for 500 labelled images seen for 30 epochs.
    pretrain: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=6, batch_size=256, lr=0.4, translate=4, label_smoothing=0.2)
    )
    finetune: TrainConfig = field(
        default_factory=lambda: TrainConfig(epochs=30, batch_size=100, lr=0.1, translate=4, label_smoothing=0.2)
    )
    backbone_lr_factor: float = 0.1  # fine-tuning: backbone LR = head LR x this
    epochs_per_stage: int = 5  # gradual unfreezing: one more stage every this many epochs
    seed: int = 0


# ---------------------------------------------------------------------------
# task6_1 — Output size of a convolution (and of pooling)
# ---------------------------------------------------------------------------


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Spatial output size of nn.Conv2d / nn.MaxPool2d along one dimension.

    size: input height (or width); kernel, stride, padding, dilation: the layer's settings.
    Returns floor((size + 2*padding - dilation*(kernel - 1) - 1) / stride) + 1.
    Raises ValueError when the (dilated) kernel does not fit in the padded input, or when a
    setting is out of range, instead of returning a size of 0 or less.
    Knowing this formula is how you size the Linear layer after the convolutions.
    """
    # Hint: a dilated kernel covers dilation*(kernel-1)+1 pixels. Count how many times it
    # fits into the padded input when it moves `stride` pixels at a time (use //).
    raise NotImplementedError('TODO(task6_1): Return the output size from the formula; ValueError when the kernel does not fit or a setting is invalid.')


# ---------------------------------------------------------------------------
# task6_2 — The conv -> batch norm -> activation block
# ---------------------------------------------------------------------------


def conv_bn_act(
    in_channels: int,
    out_channels: int,
    kernel_size: int = 3,
    stride: int = 1,
    activation: Callable[[], nn.Module] | None = nn.ReLU,
) -> nn.Sequential:
    """Conv2d (no bias, "same" padding for odd kernels) -> BatchNorm2d -> activation.

    Input (N, in_channels, H, W) -> output (N, out_channels, H', W') with
    H' = conv_output_size(H, kernel_size, stride, kernel_size // 2).
    The conv has no bias because BN subtracts the mean right after it: a bias would be
    cancelled out (BN's own beta plays that role). activation=None leaves it out.
    """
    # Hint: nn.Sequential(nn.Conv2d(..., padding=kernel_size // 2, bias=False), nn.BatchNorm2d(out_channels),
    # activation()) -- and skip the activation when it is None.
    raise NotImplementedError('TODO(task6_2): Return nn.Sequential(Conv2d without bias and with padding kernel_size // 2, BatchNorm2d, activation()).')


# ---------------------------------------------------------------------------
# task6_3 — A residual block that starts as the identity
# ---------------------------------------------------------------------------


class ResidualBlock(nn.Module):
    """out = relu(residual(x) + shortcut(x)), the basic block of ResNet.

    residual: conv_bn_act(in, out, 3, stride) -> Conv2d(out, out, 3) -> BatchNorm2d(out)
    shortcut: nn.Identity() when the shape is unchanged (in == out and stride == 1);
              otherwise a projection, 1x1 Conv2d(in, out, stride, no bias) -> BatchNorm2d(out).
    x: (N, in_channels, H, W) -> (N, out_channels, H / stride, W / stride).

    The last BatchNorm's scale (gamma, `.weight`) starts at zero, so the residual branch
    outputs exactly 0 and a fresh block computes relu(shortcut(x)): a deep stack of fresh
    blocks passes its input through unchanged, which is why very deep ResNets train.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1):
        super().__init__()
        # Hint: keep the attribute names `residual` and `shortcut` (the tests look at them).
        # nn.init.zeros_(last_bn.weight) zeroes gamma.
        raise NotImplementedError('TODO(task6_3): Build self.residual (conv-BN-ReLU, conv-BN with gamma zeroed) and self.shortcut (Identity or 1x1 conv + BN).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('TODO(task6_3): Return relu(self.residual(x) + self.shortcut(x)).')


# ---------------------------------------------------------------------------
# task6_4 — A plain CNN
# ---------------------------------------------------------------------------


class SimpleCNN(nn.Module):
    """A plain CNN for 32x32 RGB images: three conv stages, pooling, dropout, a linear head.

        stage 1: conv_bn_act(3, w)      , conv_bn_act(w, w)      , MaxPool2d(2)   32 -> 16
        stage 2: conv_bn_act(w, 2w)     , conv_bn_act(2w, 2w)    , MaxPool2d(2)   16 -> 8
        stage 3: conv_bn_act(2w, 4w)    , MaxPool2d(2)                              8 -> 4
        head:    AdaptiveAvgPool2d(1) -> flatten -> Dropout(dropout) -> Linear(4w, num_classes)

    x: (N, 3, H, W) float -> (N, num_classes) logits. Global average pooling makes the head
    independent of the input size; dropout before the linear layer fights overfitting.
    The classifier is the attribute `head` (an nn.Linear), the rest is `features`.
    """

    def __init__(self, num_classes: int = 10, width: int = 32, dropout: float = 0.2):
        super().__init__()
        raise NotImplementedError('TODO(task6_4): Build self.features (the three conv stages above), self.dropout and self.head (nn.Linear).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('TODO(task6_4): Return the logits: features, global average pool, flatten, dropout, head.')


# ---------------------------------------------------------------------------
# task6_5 — A small ResNet
# ---------------------------------------------------------------------------


class ResNet(nn.Module):
    """A small residual network for 32x32 images (the deliverable's model).

        stem:   conv_bn_act(3, widths[0])                                     at 32x32
        layers: for each next width w: MaxPool2d(2) -> ResidualBlock(previous, w)
                (widths (32, 64, 128, 256): blocks at 16x16, 8x8 and 4x4)
        head:   global average pool -> flatten -> Dropout -> Linear(widths[-1], num_classes)

    x: (N, 3, H, W) -> (N, num_classes). The blocks change the channel count, so each uses
    its projection shortcut. Pooling *before* a block makes it run at the lower
    resolution: on a CPU this is about twice as fast as a stride-2 convolution, for the
    same multiply-adds. Same attribute names as torchvision's ResNet where it makes sense:
    the classifier is `head` (torchvision calls it `fc`).
    """

    def __init__(self, num_classes: int = 10, widths: Sequence[int] = (32, 64, 128, 256), dropout: float = 0.0):
        super().__init__()
        if len(widths) < 2:
            raise ValueError(f"ResNet needs at least two widths (stem and one residual stage), got {tuple(widths)}")
        # Hint: self.layers = nn.Sequential(*[nn.Sequential(nn.MaxPool2d(2), ResidualBlock(c_in, c_out)) ...])
        # for consecutive pairs (c_in, c_out) of widths.
        raise NotImplementedError('TODO(task6_5): Build self.stem, self.layers (one pool + ResidualBlock per stage), self.dropout and self.head.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError('TODO(task6_5): Return the logits: stem, layers, global average pool, flatten, dropout, head.')


def count_multiply_adds(model: nn.Module, image_size: int = 32) -> int:
    """Multiply-adds of the conv and linear layers for one image (a cost estimate)."""
    total = 0

    def hook(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * per_output
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, image_size, image_size, device=next(model.parameters()).device))
    model.train(was_training)
    for handle in handles:
        handle.remove()
    return total


# ---------------------------------------------------------------------------
# task6_6 — Batched augmentation: random flip + random translation
# ---------------------------------------------------------------------------


def random_flip_translate(
    images: torch.Tensor, max_shift: int = 4, flip: bool = True, generator: torch.Generator | None = None
) -> torch.Tensor:
    """Mirror each image left-right with probability 1/2 and shift it by up to max_shift pixels.

    images: (N, C, H, W) tensor, any dtype (uint8 is the cheap one). Returns a new tensor of
    the same shape and dtype. The shift is the classic "pad by max_shift with zeros, then
    crop H x W at a random offset"; each image gets its own flip and its own (dy, dx).
    The whole batch (even the whole training set) is done with a few tensor operations:
    a Python loop over 50,000 images would cost more than the training step itself.
    """
    # Hint: flips: torch.where(mask[:, None, None, None], images.flip(-1), images).
    # Shifts: pad with F.pad(images, (s, s, s, s)); draw dy, dx in [0, 2s] per image; then
    # index the padded batch with broadcast index tensors (n, c, dy + row, dx + col) of shapes
    # (N,1,1,1), (1,C,1,1), (N,1,H,1), (N,1,1,W) -- or use two torch.gather calls.
    raise NotImplementedError('TODO(task6_6): Return a new (N, C, H, W) batch, each image flipped with probability 1/2 and shifted by its own random (dy, dx).')


# ---------------------------------------------------------------------------
# task6_7 — Confusion matrix and per-class metrics
# ---------------------------------------------------------------------------


def confusion_matrix(preds: torch.Tensor, targets: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Count (true class, predicted class) pairs.

    preds, targets: (N,) integer tensors with values in [0, num_classes).
    Returns a (num_classes, num_classes) int64 tensor cm with cm[t, p] = number of samples of
    true class t predicted as p: rows are the truth, columns the prediction, the diagonal
    the correct ones. Raises ValueError on a shape mismatch or a value out of range.
    """
    # Hint: each pair (t, p) maps to one cell index t * num_classes + p; torch.bincount with
    # minlength=num_classes**2 counts them all at once; .view(num_classes, num_classes).
    raise NotImplementedError('TODO(task6_7): Return the (C, C) int64 counts cm[true, predicted] with one bincount; ValueError on bad input.')


@dataclass
class ClassMetrics:
    """Per-class metrics read off a confusion matrix: (C,) float tensors and the overall accuracy."""

    precision: torch.Tensor  # of the samples predicted as c, the fraction that are c
    recall: torch.Tensor  # of the samples of class c, the fraction found (= per-class accuracy)
    f1: torch.Tensor  # harmonic mean of precision and recall
    accuracy: float  # trace / total


def per_class_metrics(cm: torch.Tensor) -> ClassMetrics:
    """Precision, recall (per-class accuracy), F1 and overall accuracy from cm[true, predicted].

    A class that is never predicted (column sum 0) has precision 0, one with no samples
    (row sum 0) has recall 0, and an empty matrix has accuracy 0: no division by zero, no NaN.
    """
    # Hint: the diagonal is the true positives; column sums are "predicted as c",
    # row sums are "really c". Divide with .clamp(min=1) so 0 / 0 gives 0.
    raise NotImplementedError('TODO(task6_7): Return ClassMetrics(precision, recall, f1, accuracy) with 0 instead of NaN for empty rows/columns.')


def format_metrics(cm: torch.Tensor, class_names: Sequence[str]) -> str:
    """A per-class text table: precision, recall, F1 and support."""
    metrics = per_class_metrics(cm)
    lines = [f"{'class':>12} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for i, name in enumerate(class_names):
        lines.append(
            f"{name:>12} {metrics.precision[i]:9.3f} {metrics.recall[i]:7.3f} {metrics.f1[i]:6.3f} {int(cm[i].sum()):8d}"
        )
    lines.append(f"{'accuracy':>12} {metrics.accuracy:9.4f} {'':>7} {'':>6} {int(cm.sum()):8d}")
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# task6_8 — A confusion-matrix figure
# ---------------------------------------------------------------------------


def plot_confusion_matrix(
    cm: torch.Tensor, class_names: Sequence[str], path: str | Path, normalize: bool = False, title: str | None = None
) -> Path:
    """Save cm as a PNG heat map with a number in every cell; returns the path.

    cm: (C, C) counts, rows = true class, columns = predicted class.
    normalize=True divides each row by its total, so a cell reads "fraction of class t
    predicted as p" (the diagonal is then the per-class recall) and classes of different
    sizes compare fairly. Uses matplotlib's Agg backend: no display needed.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if cm.shape != (len(class_names), len(class_names)):
        raise ValueError(f"cm is {tuple(cm.shape)} but there are {len(class_names)} class names")
    # Hint: fig, ax = plt.subplots(); ax.imshow(values, cmap="Blues"); label both axes with
    # ax.set_xticks(range(C), class_names, rotation=45, ha="right"); write each value with
    # ax.text(col, row, text, ha="center", va="center") in white on dark cells; fig.savefig(path).
    # Close the figure (plt.close(fig)) so a long run does not keep every figure in memory.
    raise NotImplementedError('TODO(task6_8): Draw the (optionally row-normalised) matrix with imshow, tick labels, a number in each cell and a colorbar; save to path.')


# ---------------------------------------------------------------------------
# task6_9 — Freezing a backbone, and two learning rates
# ---------------------------------------------------------------------------

HEAD_NAMES = ("head", "fc", "classifier")  # ours, torchvision's ResNet, torchvision's VGG/MobileNet


def head_name(model: nn.Module) -> str:
    """Name of the classifier submodule: `head` (this lab), `fc` (torchvision ResNet), `classifier`."""
    for name in HEAD_NAMES:
        if isinstance(getattr(model, name, None), nn.Module):
            return name
    raise ValueError(
        f"{type(model).__name__} has no classifier attribute named one of {HEAD_NAMES}; "
        "name your final layer `head` (or pass the head's name explicitly)"
    )


def _keep_batchnorm_in_eval(module: nn.Module, inputs):
    """Forward pre-hook of a frozen BN layer: model.train() cannot switch it back to training."""
    module.train(False)


def freeze(module: nn.Module) -> nn.Module:
    """Freeze every parameter of module, and its BatchNorm layers' running statistics.

    Sets requires_grad=False on all parameters (no gradients, the optimizer skips them) and
    puts every BatchNorm layer in eval mode, where it normalises with its stored running
    mean/variance instead of the batch's and does not update them. A forward pre-hook keeps
    them in eval even after a later model.train() -- otherwise a "frozen" backbone would
    still drift through its BN statistics. Returns module (so you can chain).
    """
    # Hint: for p in module.parameters(): p.requires_grad_(False). For each submodule that is an
    # instance of nn.modules.batchnorm._BatchNorm: m.eval(), and register
    # _keep_batchnorm_in_eval as a forward pre-hook; store the handle in m._freeze_hook so
    # unfreeze() can remove it (and so you don't register it twice).
    raise NotImplementedError('TODO(task6_9): Set requires_grad False on every parameter; put BN layers in eval and keep them there with a forward pre-hook.')


def unfreeze(module: nn.Module, train: bool = True) -> nn.Module:
    """Undo freeze(): parameters trainable again, BN layers back in training mode (train=True)."""
    raise NotImplementedError("TODO(task6_9): Set requires_grad True on every parameter, remove the BN hooks freeze() added, and restore BN's mode.")


def param_groups(model: nn.Module, backbone_lr: float, head_lr: float, head: str | None = None) -> list[dict]:
    """Two optimizer parameter groups: the backbone at backbone_lr, the head at head_lr.

    head: the classifier's attribute name (default: found by head_name(model)). Every
    parameter is in exactly one group, frozen ones included (the optimizer skips a
    parameter whose .grad is None, and gradual unfreezing can turn it on later).
    Usage: torch.optim.SGD(param_groups(model, 1e-3, 1e-2), momentum=0.9).
    """
    # Hint: ids of the head's parameters: {id(p) for p in getattr(model, name).parameters()};
    # every other parameter of model.parameters() belongs to the backbone.
    raise NotImplementedError('TODO(task6_9): Return [{"params": backbone params, "lr": backbone_lr, "name": "backbone"}, {"params": head params, "lr": head_lr, "name": "head"}].')


def default_stages(model: nn.Module) -> list[nn.Module]:
    """The model's parts from the head down to the input, for gradual unfreezing.

    This lab's ResNet: [head, layers[-1], ..., layers[0], stem]. torchvision's ResNet:
    [fc, layer4, layer3, layer2, layer1, (conv1 + bn1)]. SimpleCNN: [head, features].
    """
    if hasattr(model, "layers") and hasattr(model, "stem"):
        return [model.head, *reversed(list(model.layers)), model.stem]
    if all(hasattr(model, f"layer{i}") for i in range(1, 5)) and hasattr(model, "fc"):  # torchvision ResNet
        stem = nn.ModuleList([model.conv1, model.bn1])
        return [model.fc, model.layer4, model.layer3, model.layer2, model.layer1, stem]
    if hasattr(model, "features"):
        return [getattr(model, head_name(model)), model.features]
    raise ValueError(f"no default stages for {type(model).__name__}: pass the list of stages, head first")


# ---------------------------------------------------------------------------
# task6_10 — Gradual unfreezing
# ---------------------------------------------------------------------------


class GradualUnfreezer:
    """Unfreeze a pretrained model from the head down, one stage every epochs_per_stage epochs.

    stages: modules ordered from the head towards the input (default_stages(model)).
    Construction freezes the whole model, then unfreezes stages[0] (the new head).
    step(epoch) -- call it at the start of every epoch (0, 1, 2, ...) -- makes stages[:k]
    trainable with k = min(1 + epoch // epochs_per_stage, len(stages)) and every other
    stage frozen, and returns k. The idea (ULMFiT): the new head first learns on top of
    fixed features, so its random gradients never wreck the pretrained layers; deeper,
    more generic layers are released last.
    """

    def __init__(self, model: nn.Module, stages: Sequence[nn.Module] | None = None, epochs_per_stage: int = 1):
        if epochs_per_stage < 1:
            raise ValueError(f"epochs_per_stage must be >= 1, got {epochs_per_stage}")
        self.model = model
        self.stages = list(stages) if stages is not None else default_stages(model)
        self.epochs_per_stage = epochs_per_stage
        raise NotImplementedError('TODO(task6_10): Freeze the whole model, then unfreeze the first stage; remember how many stages are unfrozen in self.num_unfrozen.')

    def step(self, epoch: int) -> int:
        """Set which stages train during `epoch`; return how many (from the head) are unfrozen."""
        # Hint: compute k, unfreeze(stage, train=self.model.training) for stages[:k], freeze(stage) for the rest.
        raise NotImplementedError('TODO(task6_10): Unfreeze stages[:k] with k = min(1 + epoch // epochs_per_stage, len(stages)), freeze the rest, return k.')


def trainable_fraction(model: nn.Module) -> float:
    """Fraction of the model's parameters (by count) with requires_grad=True."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / max(total, 1)


# ---------------------------------------------------------------------------
# Data: decoded once into uint8 tensors (plumbing, not an exercise)
# ---------------------------------------------------------------------------


class DataNotFoundError(RuntimeError):
    """No dataset where we looked, and no way to download it."""


@dataclass
class ImageData:
    """A split held in memory: images (N, 3, H, W) uint8, labels (N,) int64, class names."""

    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]

    def subset(self, classes: Sequence[int], per_class: int | None = None, seed: int = 0) -> ImageData:
        """Images of the given classes (relabelled 0..len(classes)-1), at most per_class of each."""
        generator = torch.Generator().manual_seed(seed)
        keep = []
        for new_label, old_label in enumerate(classes):
            index = (self.labels == old_label).nonzero().flatten()
            if per_class is not None:
                index = index[torch.randperm(len(index), generator=generator)[:per_class]]
            keep.append((index, new_label))
        index = torch.cat([i for i, _ in keep])
        labels = torch.cat([torch.full((len(i),), new, dtype=torch.long) for i, new in keep])
        return ImageData(self.images[index], labels, tuple(self.classes[c] for c in classes))


def _decode(path: Path, size: int) -> torch.Tensor:
    from PIL import Image

    with Image.open(path) as image:
        image = image.convert("RGB")
        if image.size != (size, size):
            image = image.resize((size, size), Image.BILINEAR)
        return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).view(size, size, 3)


def load_image_folder(root: str | Path, split: str, image_size: int = 32) -> ImageData:
    """Decode root/split/<class>/*.(png|jpg|jpeg) into one uint8 tensor (N, 3, S, S).

    Class folders are sorted by name, so the offline CIFAR-10 copy gets CIFAR-10's label
    order. Decoding 50,000 small JPEGs takes ~10 s of CPU: do it once, keep the tensor.
    """
    folder = Path(root) / split
    if not folder.is_dir():
        raise DataNotFoundError(
            f"{folder} does not exist: --data-dir must hold {split}/<class>/*.jpg (or .png) image folders, "
            "e.g. the offline CIFAR-10 copy unpacked with `tar -xzf train.tar.gz -C DIR && tar -xzf test.tar.gz -C DIR`"
        )
    classes = tuple(sorted(p.name for p in folder.iterdir() if p.is_dir()))
    files, labels = [], []
    for label, name in enumerate(classes):
        found = sorted(p for p in (folder / name).iterdir() if p.suffix.lower() in {".png", ".jpg", ".jpeg"})
        files += found
        labels += [label] * len(found)
    if not files:
        raise DataNotFoundError(f"no .png/.jpg images under {folder}/<class>/: check --data-dir")
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        pixels = list(pool.map(lambda p: _decode(p, image_size), files, chunksize=256))
    images = torch.stack(pixels).permute(0, 3, 1, 2).contiguous()
    return ImageData(images, torch.tensor(labels, dtype=torch.long), classes)


def load_cifar10(data_dir: str | Path | None = None, root: str | Path = "./data") -> tuple[ImageData, ImageData]:
    """(train, test) CIFAR-10 in memory: from an image folder (data_dir) or torchvision's download into root."""
    if data_dir is not None:
        return load_image_folder(data_dir, "train"), load_image_folder(data_dir, "test")
    import torchvision

    splits = []
    for train in (True, False):
        try:
            dataset = torchvision.datasets.CIFAR10(root=str(root), train=train, download=True)
        except Exception as error:  # offline: URLError, socket errors, RuntimeError from torchvision
            raise DataNotFoundError(
                f"CIFAR-10 is not in {root} and downloading it failed ({type(error).__name__}: {error}). "
                "Connect to the internet and run again, or pass --data-dir DIR with DIR/train/<class>/*.jpg and "
                "DIR/test/<class>/*.jpg (for example the offline copy: tar -xzf train.tar.gz -C DIR && "
                "tar -xzf test.tar.gz -C DIR)."
            ) from None
        images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
        splits.append(ImageData(images, torch.tensor(dataset.targets, dtype=torch.long), tuple(dataset.classes)))
    return splits[0], splits[1]


# ---------------------------------------------------------------------------
# task6_11 — The fast training recipe, and prediction with test-time augmentation
# ---------------------------------------------------------------------------


def pick_device() -> torch.device:
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 dot products (AVX512-BF16 or AMX), where bf16 autocast pays off."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def autocast_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype for this device and setting ("auto", "bf16", "off"), or None for fp32.

    "auto": bf16 on a CUDA GPU that supports it, and on a CPU with native bf16 instructions
    (AVX512-BF16 or AMX: measured about 2x faster than fp32 for this lab's ResNet on a
    2-core Zen 4, README task 6.11); fp32 elsewhere. "bf16" forces it, "off" is fp32.
    fp16 is never chosen: it would need a GradScaler (Lab 5).
    """
    if amp not in ("auto", "bf16", "off"):
        raise ValueError(f"amp must be 'auto', 'bf16' or 'off', got {amp!r}")
    if amp == "off":
        return None
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu" and (amp == "bf16" or cpu_supports_bf16()):
        return torch.bfloat16
    return None


def to_input(images: torch.Tensor, device: torch.device, channels_last: bool = True) -> torch.Tensor:
    """uint8 (N, 3, H, W) on any device -> normalised float32 on `device` (channels_last if asked)."""
    x = images.to(device, non_blocking=True).float()
    mean = torch.tensor(CIFAR10_MEAN, device=device).view(1, 3, 1, 1)
    std = torch.tensor(CIFAR10_STD, device=device).view(1, 3, 1, 1)
    x = (x - mean) / std
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def one_cycle(step: int, total_steps: int, warmup_fraction: float) -> float:
    """LR multiplier: linear warm-up from 0.1 to 1 over warmup_fraction of the steps, then linear decay to 0."""
    warmup = max(1, int(warmup_fraction * total_steps))
    if step < warmup:
        return 0.1 + 0.9 * step / warmup
    return max(0.0, (total_steps - step) / max(1, total_steps - warmup))


def weight_decay_groups(groups: list[dict], weight_decay: float) -> list[dict]:
    """Split each parameter group in two: weights (ndim > 1) with weight decay, BN and biases without.

    Decaying BN's scale and the biases only hurts: they have no overfitting to fight.
    """
    out = []
    for group in groups:
        params = list(group["params"])
        options = {k: v for k, v in group.items() if k != "params"}
        out.append({**options, "params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay})
        out.append({**options, "params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0})
    return [g for g in out if g["params"]]


@torch.no_grad()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 1000,
    tta: bool = True,
    amp: str = "auto",
    channels_last: bool = True,
) -> torch.Tensor:
    """Logits (N, num_classes) float32 on the CPU for uint8 images (N, 3, H, W), in eval mode.

    tta=True averages the logits of each image and of its mirror image (test-time
    augmentation: the model saw mirrored images in training, so both views are valid
    guesses, and their average makes fewer mistakes). Restores the model's train/eval mode.
    """
    device = next(model.parameters()).device
    dtype = autocast_dtype(device, amp)
    was_training = model.training
    # Hint: model.eval(); for each batch: x = to_input(...); under
    # torch.autocast(device.type, dtype=dtype, enabled=dtype is not None) compute model(x) and, with
    # tta, average it with model(x.flip(-1)); collect .float().cpu(); model.train(was_training).
    raise NotImplementedError('TODO(task6_11): Return the (N, C) float32 CPU logits in eval mode, averaged with the mirrored images when tta.')


def predict(model: nn.Module, images: torch.Tensor, **kwargs) -> torch.Tensor:
    """Predicted class (N,) int64 for uint8 images: argmax of predict_logits."""
    return predict_logits(model, images, **kwargs).argmax(dim=1)


def train_model(
    model: nn.Module,
    train: ImageData,
    config: TrainConfig = TrainConfig(),
    test: ImageData | None = None,
    groups: list[dict] | None = None,
    on_epoch_start: Callable[[int], object] | None = None,
    log: Callable[[str], None] | None = print,
) -> dict:
    """Train model on uint8 images with the fast recipe; returns a history dict.

    The recipe (each piece is in the README's task 6.11):
    - data stay one uint8 tensor; every epoch the whole set is augmented at once
      (random_flip_translate) and shuffled, and each batch is normalised on the fly;
    - SGD with Nesterov momentum, weight decay on weights only, label smoothing;
    - one LR schedule over all steps: linear warm-up, then linear decay to zero (one-cycle);
    - bf16 autocast where the hardware has bf16 units, channels_last memory format.
    groups: optimizer parameter groups with their own "lr" (the peak LR of each group;
    default: all parameters at config.lr). on_epoch_start(epoch) runs before each epoch
    (gradual unfreezing uses it). A fractional config.epochs trains part of a last epoch.
    History: {"loss": per-epoch mean training loss, "test_accuracy": per-epoch accuracy on
    `test` (only after the last epoch, to save time), "seconds": training wall time}.
    """
    device = next(model.parameters()).device
    dtype = autocast_dtype(device, config.amp)
    generator = torch.Generator().manual_seed(config.seed)
    n = len(train.labels)
    batch_size = min(config.batch_size, n)
    steps_per_epoch = n // batch_size
    total_steps = max(1, math.ceil(config.epochs * steps_per_epoch))
    if config.channels_last:
        model.to(memory_format=torch.channels_last)
    history: dict = {"loss": [], "test_accuracy": [], "seconds": 0.0, "steps": total_steps}
    # Hint: build the optimizer from weight_decay_groups(groups or [{"params": model.parameters(), "lr": config.lr}], ...)
    # with torch.optim.SGD(..., momentum=config.momentum, nesterov=True), a LambdaLR scheduler
    # with one_cycle(step, total_steps, config.warmup_fraction), and
    # nn.CrossEntropyLoss(label_smoothing=...). Each epoch: on_epoch_start(epoch), model.train(),
    # augment the whole set with random_flip_translate(train.images, ..., generator=generator), shuffle with
    # torch.randperm(n, generator=generator), then per batch: to_input -> autocast forward -> loss
    # -> zero_grad -> backward -> step -> scheduler.step(). Stop after total_steps.
    raise NotImplementedError('TODO(task6_11): Train with SGD Nesterov + one-cycle LambdaLR + label smoothing + batched augmentation + autocast, for total_steps steps.')


# ---------------------------------------------------------------------------
# task6_12 — Transfer learning: scratch vs frozen backbone vs fine-tuning
# ---------------------------------------------------------------------------

TRANSFER_MODES = ("scratch", "frozen", "finetune", "gradual")


def replace_head(model: nn.Module, num_classes: int) -> nn.Module:
    """Swap the final Linear layer (head / fc) for a fresh one with num_classes outputs, in place."""
    name = head_name(model)
    old = getattr(model, name)
    if not isinstance(old, nn.Linear):
        raise ValueError(f"model.{name} is a {type(old).__name__}, expected an nn.Linear to replace")
    new = nn.Linear(old.in_features, num_classes).to(old.weight.device)
    setattr(model, name, new)
    return model


def prepare_transfer(
    pretrained: nn.Module, num_classes: int, mode: str, head_lr: float, backbone_lr_factor: float = 0.1
) -> tuple[nn.Module, list[dict]]:
    """A copy of the pretrained model with a new head, set up for one transfer mode.

    mode "frozen":   freeze the backbone (BN statistics included); only the new head trains.
    mode "finetune": everything trains; backbone at head_lr * backbone_lr_factor, the head at
                     head_lr (a small backbone LR keeps the pretrained features from being
                     wrecked while the random head is still wrong).
    mode "gradual":  like finetune, but the caller drives a GradualUnfreezer (this function
                     only freezes everything except the head, which the unfreezer also does).
    Returns (model, param_groups for the optimizer). The pretrained model is not changed.
    """
    if mode not in ("frozen", "finetune", "gradual"):
        raise ValueError(f"mode must be 'frozen', 'finetune' or 'gradual', got {mode!r}")
    # Hint: model = replace_head(copy.deepcopy(pretrained), num_classes). For "frozen", freeze(model)
    # then unfreeze(the head) and give the optimizer only the head's parameters; otherwise use
    # param_groups(model, head_lr * backbone_lr_factor, head_lr).
    raise NotImplementedError('TODO(task6_12): Copy the model, replace its head, freeze the backbone for "frozen", and return (model, optimizer param groups).')


def transfer_experiment(
    train: ImageData,
    test: ImageData,
    config: TransferConfig = TransferConfig(),
    log: Callable[[str], None] | None = print,
) -> dict[str, float]:
    """Pretrain on the source classes, then compare four ways to learn the target classes.

    Returns {"pretrain": source-class test accuracy, "scratch": ..., "frozen": ...,
    "finetune": ..., "gradual": ...} -- accuracies on the target classes' test images, every
    model trained on the same few labelled target images with the same budget.
    """
    say = log or (lambda message: None)
    device = pick_device()
    torch.manual_seed(config.seed)
    source_train = train.subset(config.source_classes, config.pretrain_per_class, seed=config.seed)
    source_test = test.subset(config.source_classes)
    target_train = train.subset(config.target_classes, config.labels_per_class, seed=config.seed)
    target_test = test.subset(config.target_classes)
    num_source, num_target = len(config.source_classes), len(config.target_classes)

    def accuracy(model: nn.Module, data: ImageData) -> float:
        return (predict(model, data.images, amp=config.finetune.amp) == data.labels).float().mean().item()

    say(f"pretraining on {len(source_train.labels)} images of {', '.join(source_train.classes)}")
    pretrained = ResNet(num_source, config.widths).to(device)
    train_model(pretrained, source_train, config.pretrain, log=None)
    results = {"pretrain": accuracy(pretrained, source_test)}
    say(f"  source-class test accuracy {results['pretrain']:.4f}")

    head_lr = config.finetune.lr
    for mode in ("scratch", "frozen", "finetune", "gradual"):
        torch.manual_seed(config.seed + 1)  # the same new head in every mode
        hook = None
        if mode == "scratch":
            model = ResNet(num_target, config.widths).to(device)
            groups = None
        else:
            model, groups = prepare_transfer(pretrained, num_target, mode, head_lr, config.backbone_lr_factor)
            if mode == "gradual":
                hook = GradualUnfreezer(model, default_stages(model), config.epochs_per_stage).step
        train_model(model, target_train, config.finetune, groups=groups, on_epoch_start=hook, log=None)
        results[mode] = accuracy(model, target_test)
        say(f"  {mode:9s} {results[mode]:.4f}  (trainable at the end: {trainable_fraction(model):.1%})")
    return results


def format_transfer_table(results: dict[str, float], config: TransferConfig) -> str:
    rows = [
        ("scratch", "from scratch, all layers"),
        ("frozen", "frozen backbone + new head"),
        ("finetune", f"fine-tune all, backbone LR x{config.backbone_lr_factor:g}"),
        ("gradual", f"gradual unfreezing, +1 stage / {config.epochs_per_stage} epochs"),
    ]
    lines = [
        f"target classes {config.target_classes}, {config.labels_per_class} labels per class; "
        f"pretrained on {config.source_classes} (source test accuracy {results['pretrain']:.4f})",
        f"{'method':<42} {'test accuracy':>13}",
    ]
    lines += [f"{label:<42} {results[key]:13.4f}" for key, label in rows if key in results]
    return "\n".join(lines)


# ---------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------


def benchmark_throughput(widths: Sequence[int], batch_size: int = 512, steps: int = 4, repeats: int = 2) -> str:
    """Training images per second of the ResNet for fp32/bf16 x contiguous/channels_last (random data).

    Measure, don't guess: whether bf16 or channels_last pays off depends on the CPU (and on
    what else runs on it). Each setting is timed `repeats` times, interleaved, after a warm-up step.
    """
    device = pick_device()
    images = torch.randint(0, 256, (batch_size, 3, 32, 32), dtype=torch.uint8)
    labels = torch.randint(0, 10, (batch_size,))
    settings = [(amp, cl) for amp in ("off", "bf16") for cl in (False, True)]
    results: dict = {setting: [] for setting in settings}
    for _ in range(repeats):
        for amp, channels_last in settings:
            torch.manual_seed(0)
            model = ResNet(10, widths).to(device)
            if channels_last:
                model.to(memory_format=torch.channels_last)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
            dtype = autocast_dtype(device, amp)

            def step():
                x = to_input(images, device, channels_last)
                with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                    loss = F.cross_entropy(model(x), labels.to(device))
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

            step()  # warm-up: kernel selection, allocations
            if device.type == "cuda":
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                step()
            if device.type == "cuda":
                torch.cuda.synchronize()
            results[(amp, channels_last)].append(batch_size * steps / (time.perf_counter() - start))
    lines = [f"{'precision':>9} {'memory format':>14} {'images/s (each repeat)':>24}"]
    for (amp, channels_last), values in results.items():
        name = "bf16" if amp == "bf16" else "fp32"
        lines.append(f"{name:>9} {'channels_last' if channels_last else 'contiguous':>14} {'  '.join(f'{v:7.0f}' for v in values):>24}")
    return "\n".join(lines)


def build_model(arch: str, num_classes: int, widths: Sequence[int] | None = None, dropout: float | None = None):
    if arch == "resnet":
        return ResNet(num_classes, tuple(widths or ModelConfig.widths), ModelConfig.dropout if dropout is None else dropout)
    if arch == "simple":
        return SimpleCNN(num_classes, width=(widths or (32,))[0], dropout=0.2 if dropout is None else dropout)
    raise ValueError(f"--arch must be resnet or simple, got {arch!r}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("train", "transfer", "benchmark", "-h", "--help"):
        argv.insert(0, "train")
    parser = argparse.ArgumentParser(description="Lab 6 demo: train a CNN on CIFAR-10, or compare transfer learning")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("train", "transfer"):
        sub = commands.add_parser(name)
        sub.add_argument("--data-dir", help="image folder with train/<class>/ and test/<class>/ (default: download)")
        sub.add_argument("--data-root", default="./data", help="where torchvision keeps the downloaded CIFAR-10")
        sub.add_argument("--out", default=str(Path(__file__).resolve().parent / "outputs"), help="figures go here")
        sub.add_argument("--epochs", type=float, help="training epochs (train) / fine-tuning epochs (transfer)")
        sub.add_argument("--widths", help="comma-separated ResNet widths, e.g. 32,64,128,256")
        sub.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
        sub.add_argument("--amp", choices=("auto", "bf16", "off"), default="auto")
        sub.add_argument("--limit", type=int, help="use at most this many training images per class (quick runs)")
    bench = commands.add_parser("benchmark", help="training throughput: fp32 vs bf16, contiguous vs channels_last")
    bench.add_argument("--widths", help="comma-separated ResNet widths")
    bench.add_argument("--batch-size", type=int, default=512)
    bench.add_argument("--threads", type=int)
    commands.choices["train"].add_argument("--arch", choices=("resnet", "simple"), default="resnet")
    commands.choices["train"].add_argument("--batch-size", type=int)
    commands.choices["train"].add_argument("--lr", type=float)
    commands.choices["train"].add_argument("--translate", type=int, help="augmentation shift in pixels")
    commands.choices["train"].add_argument("--label-smoothing", type=float)
    commands.choices["transfer"].add_argument("--labels-per-class", type=int)
    commands.choices["transfer"].add_argument("--pretrain-epochs", type=float)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    widths = tuple(int(w) for w in args.widths.split(",")) if args.widths else None
    if args.command == "benchmark":
        print(f"device {pick_device()}, {torch.get_num_threads()} threads, batch {args.batch_size}")
        print(benchmark_throughput(widths or ModelConfig.widths, args.batch_size))
        return
    if args.command == "train":
        build_model(args.arch, len(CIFAR10_CLASSES), widths)  # an unfinished model shows its TODO before any data work
    started = time.perf_counter()
    try:
        train, test = load_cifar10(args.data_dir, args.data_root)
    except DataNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    if args.limit:
        train = train.subset(range(len(train.classes)), args.limit)
    print(f"data: {len(train.labels)} train / {len(test.labels)} test images, decoded in {time.perf_counter() - started:.1f}s")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    if args.command == "transfer":
        config = TransferConfig(widths=widths or TransferConfig.widths)
        if args.labels_per_class:
            config.labels_per_class = args.labels_per_class
        if args.epochs:
            config.finetune = replace(config.finetune, epochs=args.epochs)
        if args.pretrain_epochs:
            config.pretrain = replace(config.pretrain, epochs=args.pretrain_epochs)
        config.pretrain = replace(config.pretrain, amp=args.amp)
        config.finetune = replace(config.finetune, amp=args.amp)
        results = transfer_experiment(train, test, config)
        print(format_transfer_table(results, config))
        print(f"total time {time.perf_counter() - started:.0f}s")
        return

    config = TrainConfig(amp=args.amp)
    for name in ("epochs", "batch_size", "lr", "translate", "label_smoothing"):
        if getattr(args, name, None) is not None:
            config = replace(config, **{name: getattr(args, name)})
    device = pick_device()
    torch.manual_seed(config.seed)
    model = build_model(args.arch, len(train.classes), widths).to(device)
    print(
        f"{args.arch}: {sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters, "
        f"{count_multiply_adds(model) / 1e6:.1f}M multiply-adds per image; device {device}, "
        f"autocast {autocast_dtype(device, config.amp)}, {torch.get_num_threads()} threads"
    )
    history = train_model(model, train, config, test=test)
    preds = predict(model, test.images, tta=config.tta, amp=config.amp)
    cm = confusion_matrix(preds, test.labels, len(test.classes))
    print(format_metrics(cm, test.classes))
    print(f"training time {history['seconds']:.0f}s, test accuracy {per_class_metrics(cm).accuracy:.4f}")
    for normalize, name in ((False, "confusion_matrix.png"), (True, "confusion_matrix_normalized.png")):
        print(f"saved {plot_confusion_matrix(cm, test.classes, out / name, normalize=normalize)}")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
        raise SystemExit(f"{todo}\n(finish this TODO in {__file__}, then run again)") from None
