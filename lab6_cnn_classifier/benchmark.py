"""Lab 6 measurements, beside the lesson: training throughput, and the transfer-learning table.

    python lab6_cnn_classifier/benchmark.py                              # images/s: fp32/bf16 x contiguous/channels_last
    python lab6_cnn_classifier/benchmark.py --transfer --data-dir DIR    # scratch vs frozen vs fine-tune vs gradual
    python lab6_cnn_classifier/benchmark.py --impl solution ...          # the reference (default: your starter.py)

Throughput: the lab's ResNet on random uint8 images that already sit on the device (the
model is timed, not the data path), one warm-up phase, then enough steps to fill at
least --min-seconds, with torch.cuda.synchronize() before the clock starts and before it
stops on a GPU (CUDA kernels run asynchronously: without it the clock measures how fast
Python queues work). Each setting is timed --repeats times, interleaved.

Transfer: pretrain a ResNet on CIFAR-10 classes 0-4, then learn classes 5-9 from 100
labels per class four ways with the same budget (task 6.10); RESULTS.md has the table.
Tests call time_steps() and transfer_experiment() directly with tiny settings.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = Path(__file__).resolve().parent


def load_lab(impl: str = "starter"):
    """Import lab6_cnn_classifier/<impl>.py by path (the same way the tests do)."""
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))
    from harness.loading import load_lab_file

    return load_lab_file(HERE, impl)


# --------------------------------------------------------------------------- throughput


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(
    step: Callable[[], object], device: torch.device, warmup: int = 3, min_steps: int = 20, min_seconds: float = 2.0
) -> tuple[int, float]:
    """Run `warmup` untimed steps, then time at least min_steps steps and min_seconds; return (steps, seconds).

    The timed steps run in chunks that double in size; the device is synchronised only at
    chunk ends, so the GPU's queue is never drained inside a chunk.
    """
    for _ in range(warmup):
        step()
    synchronize(device)
    steps, chunk, start = 0, 1, time.perf_counter()
    while True:
        for _ in range(chunk):
            step()
        steps += chunk
        synchronize(device)
        elapsed = time.perf_counter() - start
        if steps >= min_steps and elapsed >= min_seconds:
            return steps, elapsed
        chunk = min(2 * chunk, 256)


def count_multiply_adds(model: nn.Module, image_size: int = 32) -> int:
    """Multiply-adds of the conv and linear layers for one image (a cost estimate)."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            per_output = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            total += output[0].numel() * per_output
        elif isinstance(module, nn.Linear):
            total += module.in_features * module.out_features

    handles = [m.register_forward_hook(count) for m in model.modules()]
    was_training = model.training
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, image_size, image_size, device=next(model.parameters()).device))
    model.train(was_training)
    for handle in handles:
        handle.remove()
    return total


def benchmark_throughput(
    lab, widths: Sequence[int], batch_size: int = 512, repeats: int = 2, min_steps: int = 20, min_seconds: float = 2.0
) -> str:
    """Training images/s of the lab's ResNet for fp32/bf16 x contiguous/channels_last, as a text table."""
    device = lab.get_device()
    images = torch.randint(0, 256, (batch_size, 3, 32, 32), dtype=torch.uint8, device=device)
    labels = torch.randint(0, 10, (batch_size,), device=device)
    settings = [(amp, channels_last) for amp in ("off", "bf16") for channels_last in (False, True)]
    results: dict = {setting: [] for setting in settings}
    for _ in range(repeats):
        for amp, channels_last in settings:
            torch.manual_seed(0)
            model = lab.ResNet(10, widths).to(device)
            if channels_last:
                model.to(memory_format=torch.channels_last)
            optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
            dtype = lab.autocast_dtype(device, amp) or torch.float32

            def step():
                x = lab.to_input(images, device, channels_last)
                lab.amp_train_step(model, (x, labels), F.cross_entropy, optimizer, device_type=device.type, dtype=dtype)

            steps, seconds = time_steps(step, device, min_steps=min_steps, min_seconds=min_seconds)
            results[(amp, channels_last)].append((batch_size * steps / seconds, steps))
    lines = [f"{'precision':>9} {'memory format':>14}   images/s (timed steps), each repeat"]
    for (amp, channels_last), values in results.items():
        cells = "  ".join(f"{rate:7.0f} ({steps})" for rate, steps in values)
        lines.append(f"{'bf16' if amp == 'bf16' else 'fp32':>9} {'channels_last' if channels_last else 'contiguous':>14}   {cells}")
    if device.type == "cuda":
        lines.append(f"(fp32 convolutions use TF32: torch.backends.cudnn.allow_tf32 = {torch.backends.cudnn.allow_tf32})")
    return "\n".join(lines)


# --------------------------------------------------------------------------- transfer learning


@dataclass
class TransferConfig:
    """Pretrain on classes 0-4, transfer to classes 5-9 with few labels (task 6.10)."""

    source_classes: tuple[int, ...] = (0, 1, 2, 3, 4)  # airplane, automobile, bird, cat, deer
    target_classes: tuple[int, ...] = (5, 6, 7, 8, 9)  # dog, frog, horse, ship, truck
    pretrain_per_class: int = 2500  # training images per source class for pretraining
    labels_per_class: int = 100  # the "few labels" of the target task
    widths: tuple[int, ...] = (16, 32, 64, 128)
    # 4-pixel shifts and label smoothing 0.2: stronger regularisation for 500 labelled
    # images seen for 30 epochs (the recipe RESULTS.md's transfer table was measured with).
    pretrain: dict = field(default_factory=lambda: dict(epochs=6, batch_size=256, lr=0.4, translate=4, label_smoothing=0.2))
    finetune: dict = field(default_factory=lambda: dict(epochs=30, batch_size=100, lr=0.1, translate=4, label_smoothing=0.2))
    backbone_lr_factor: float = 0.1  # fine-tuning: backbone LR = head LR x this
    epochs_per_stage: int = 5  # gradual unfreezing: one more stage every this many epochs
    amp: str = "auto"
    seed: int = 0


def class_subset(data, classes: Sequence[int], per_class: int | None = None, seed: int = 0):
    """The images of `classes` (relabelled 0..len(classes)-1), at most per_class of each, as InMemoryImages."""
    generator = torch.Generator().manual_seed(seed)
    indices, labels = [], []
    for new_label, old_label in enumerate(classes):
        index = (data.labels == old_label).nonzero().flatten()
        if per_class is not None:
            index = index[torch.randperm(len(index), generator=generator)[:per_class]]
        indices.append(index)
        labels.append(torch.full((len(index),), new_label, dtype=torch.long))
    index = torch.cat(indices)
    return type(data)(data.images[index], torch.cat(labels), [data.classes[c] for c in classes])


def trainable_fraction(model: nn.Module) -> float:
    """Fraction of the model's parameters (by count) with requires_grad=True."""
    total = sum(p.numel() for p in model.parameters())
    return sum(p.numel() for p in model.parameters() if p.requires_grad) / max(total, 1)


def transfer_experiment(lab, train, test, config: TransferConfig = TransferConfig(), log=print) -> dict[str, float]:
    """Pretrain on the source classes, then compare four ways to learn the target classes.

    Returns {"pretrain": source-class test accuracy, "scratch", "frozen", "finetune",
    "gradual": target-class test accuracies}, every target model trained on the same few
    labelled images with the same budget. The pretrained model itself is never changed.
    """
    say = log or (lambda message: None)
    device = lab.get_device()
    pretrain_config = lab.TrainConfig(amp=config.amp, seed=config.seed, **config.pretrain)
    finetune_config = lab.TrainConfig(amp=config.amp, seed=config.seed, **config.finetune)
    source_train = class_subset(train, config.source_classes, config.pretrain_per_class, config.seed)
    target_train = class_subset(train, config.target_classes, config.labels_per_class, config.seed)
    source_test, target_test = class_subset(test, config.source_classes), class_subset(test, config.target_classes)

    def accuracy(model: nn.Module, data) -> float:
        return (lab.predict(model, data.images, amp=config.amp) == data.labels).float().mean().item()

    torch.manual_seed(config.seed)
    say(f"pretraining on {len(source_train.labels)} images of {', '.join(source_train.classes)}")
    pretrained = lab.ResNet(len(config.source_classes), config.widths).to(device)
    lab.train_model(pretrained, source_train, pretrain_config, log=None)
    results = {"pretrain": accuracy(pretrained, source_test)}
    say(f"  source-class test accuracy {results['pretrain']:.4f}")
    num_classes = len(config.target_classes)
    for mode in lab.TRANSFER_MODES:
        torch.manual_seed(config.seed + 1)  # the same new head in every mode
        unfreezer, groups = None, None
        if mode == "scratch":
            model = lab.ResNet(num_classes, config.widths).to(device)
        else:
            model, groups = lab.prepare_transfer(pretrained, num_classes, mode, finetune_config.lr, config.backbone_lr_factor)
            if mode == "gradual":
                unfreezer = lab.GradualUnfreezer(model, lab.default_stages(model), config.epochs_per_stage)
        hook = unfreezer.step if unfreezer else None
        lab.train_model(model, target_train, finetune_config, groups=groups, on_epoch_start=hook, log=None)
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


# --------------------------------------------------------------------------- command line


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--impl", default="starter", help="which file of this folder to measure (default starter: yours; "
                        "`solution` for the reference)")
    parser.add_argument("--transfer", action="store_true", help="the transfer-learning table instead of throughput")
    parser.add_argument("--widths", help="comma-separated ResNet widths (default: 32,64,128,256; transfer 16,32,64,128)")
    parser.add_argument("--threads", type=int, help="torch.set_num_threads (CPU)")
    parser.add_argument("--batch-size", type=int, default=512, help="throughput: images per step")
    parser.add_argument("--repeats", type=int, default=2, help="throughput: timings per setting")
    parser.add_argument("--min-seconds", type=float, default=3.0, help="throughput: time each setting at least this long")
    parser.add_argument("--data-dir", help="transfer: CIFAR-10 image folder (train/, test/); default: download")
    parser.add_argument("--cache-dir", help="transfer: keep the decoded images here")
    parser.add_argument("--amp", choices=("auto", "bf16", "off"), default="auto", help="transfer: autocast")
    parser.add_argument("--epochs", type=float, help="transfer: fine-tuning epochs (default 30)")
    parser.add_argument("--pretrain-epochs", type=float, help="transfer: pretraining epochs (default 6)")
    parser.add_argument("--labels-per-class", type=int, help="transfer: labelled images per target class (default 100)")
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    lab = load_lab(args.impl)
    widths = tuple(int(w) for w in args.widths.split(",")) if args.widths else None
    started = time.perf_counter()
    if not args.transfer:
        device = lab.get_device()
        model = lab.ResNet(10, widths or (32, 64, 128, 256))
        print(f"device {device}, {torch.get_num_threads()} threads, batch {args.batch_size}; "
              f"{count_multiply_adds(model) / 1e6:.1f}M multiply-adds per image")
        print(benchmark_throughput(lab, widths or (32, 64, 128, 256), args.batch_size, args.repeats, min_seconds=args.min_seconds))
        return
    config = TransferConfig(widths=widths or TransferConfig.widths, amp=args.amp)
    config = replace(config, labels_per_class=args.labels_per_class or config.labels_per_class)
    config.finetune["epochs"] = args.epochs or config.finetune["epochs"]
    config.pretrain["epochs"] = args.pretrain_epochs or config.pretrain["epochs"]
    try:
        train, test = lab.load_cifar10(args.data_dir, cache_dir=args.cache_dir)
    except lab.DataNotFoundError as error:
        raise SystemExit(f"error: {error}") from None
    print(format_transfer_table(transfer_experiment(lab, train, test, config), config))
    print(f"total time {time.perf_counter() - started:.0f}s")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
        raise SystemExit(f"{todo}\n(finish this TODO in the lab file, then run again)") from None
