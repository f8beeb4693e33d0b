"""Lab 5 benchmark (the deliverable): the same CNN, trained for a fixed number of steps, in
configurations that each change ONE thing against the row named in its "vs" column.

Needs tasks 5.1 (get_device, to_device), 5.2 (amp_train_step) and 5.8 (DeviceBatches) of
lab5_gpu_mixed_precision/<impl>.py (your starter.py by default; --impl solution for the reference),
and Lab 4's random_crop_flip (lab4_data_loading/solution.py).

    CPU fp32                        in-memory batches (DeviceBatches on the CPU)
    CPU bf16 autocast               vs CPU fp32
  GPU rows, only when CUDA is available; TF32 off unless the row says TF32:
    GPU fp32 (naive)                a DataLoader with per-sample v2 transforms (2 workers),
                                    batches copied to the GPU: what most tutorials write
    GPU bf16, DataLoader            vs naive: mixed precision behind a slow data path
    GPU fp32, data on the GPU       vs naive: the data path alone (DeviceBatches)
    GPU fp32 + TF32, data on GPU    vs fp32 on GPU: TF32 tensor cores for fp32 convolutions
    GPU fp16 + GradScaler, on GPU   vs fp32 on GPU: AMP alone
    GPU bf16, data on the GPU       vs fp32 on GPU: AMP alone
    + channels_last                 vs bf16 on GPU: the NHWC memory layout
    + torch.compile                 vs channels_last (compile time is in the warm-up); last

Every row: warm-up steps first (untimed: cuDNN autotuning, worker start-up, compiling),
then >= 200 timed steps between two torch.cuda.synchronize() calls. cuDNN autotuning and
the TF32 switches are set per row and restored afterwards (nothing global).

Usage (from the repository root):
    python lab5_gpu_mixed_precision/benchmark.py                        # generated images
    python lab5_gpu_mixed_precision/benchmark.py --data-dir $CIFAR10_DIR/train
    python lab5_gpu_mixed_precision/benchmark.py --no-compile --json results.json

Without CUDA it prints the CPU rows and exits 0. Tests call run_benchmark() directly.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader, Dataset
from torchvision.transforms import v2

HERE = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Row:
    name: str
    device: str  # "cpu" or "cuda"
    dtype: torch.dtype
    scaler: bool = False  # fp16 needs a GradScaler
    channels_last: bool = False
    data: str = "loader"  # "loader": DataLoader + per-sample transforms; "device": DeviceBatches
    compile: bool = False
    tf32: bool = False  # let fp32 matmuls/convolutions use TF32 tensor cores (10-bit mantissa)
    versus: str | None = None  # the row this one changes one thing of (None: the table's first row)


CPU_ROWS = [
    Row("CPU fp32", "cpu", torch.float32, data="device"),
    Row("CPU bf16 autocast", "cpu", torch.bfloat16, data="device", versus="CPU fp32"),
]
GPU_BASELINE = Row("GPU fp32 (naive)", "cuda", torch.float32)
GPU_FP32_ON_GPU = Row("GPU fp32, data on the GPU", "cuda", torch.float32, data="device", versus=GPU_BASELINE.name)
GPU_BF16_ON_GPU = Row("GPU bf16, data on the GPU", "cuda", torch.bfloat16, data="device", versus=GPU_FP32_ON_GPU.name)
GPU_ROWS = [
    GPU_BASELINE,
    Row("GPU bf16, DataLoader", "cuda", torch.bfloat16, versus=GPU_BASELINE.name),
    GPU_FP32_ON_GPU,
    Row("GPU fp32 + TF32, data on the GPU", "cuda", torch.float32, data="device", tf32=True, versus=GPU_FP32_ON_GPU.name),
    Row("GPU fp16 + GradScaler, data on the GPU", "cuda", torch.float16, scaler=True, data="device", versus=GPU_FP32_ON_GPU.name),
    GPU_BF16_ON_GPU,
    Row("+ channels_last", "cuda", torch.bfloat16, channels_last=True, data="device", versus=GPU_BF16_ON_GPU.name),
    Row("+ torch.compile", "cuda", torch.bfloat16, channels_last=True, data="device", compile=True, versus="+ channels_last"),
]


@dataclass
class Result:
    row: Row
    images_per_s: float
    warmup_s: float  # includes DataLoader worker start-up, cuDNN autotuning and torch.compile
    final_loss: float
    steps: int = 0


@contextmanager
def row_math_settings(tf32: bool):
    """cuDNN autotuning on and TF32 on/off for one row, restored afterwards.

    cudnn.benchmark lets cuDNN time its kernels for each new input shape during warm-up and
    keep the fastest; TF32 (Ampere and later) runs fp32 convolutions and matmuls on tensor
    cores with a 10-bit mantissa: faster, but not the fp32 a row called "fp32" promises.
    """
    matmul = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32
    try:
        with torch.backends.cudnn.flags(enabled=True, benchmark=True, deterministic=False, allow_tf32=tf32):
            yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = matmul


def load_lab(impl: str = "starter"):
    """Import lab5_gpu_mixed_precision/<impl>.py by path (the same way the tests do)."""
    if str(HERE.parent) not in sys.path:
        sys.path.insert(0, str(HERE.parent))
    from harness.loading import load_lab_file

    return load_lab_file(HERE, impl)


# --------------------------------------------------------------------------- data


def generated_images(count: int = 8192, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A learnable synthetic 10-class set: one random pattern per class plus noise, uint8 (N, 3, 32, 32)."""
    generator = torch.Generator().manual_seed(seed)
    templates = torch.randint(0, 256, (10, 3, 32, 32), generator=generator).float()
    labels = torch.randint(0, 10, (count,), generator=generator)
    noise = torch.randint(0, 256, (count, 3, 32, 32), generator=generator).float()
    return (0.5 * templates[labels] + 0.5 * noise).to(torch.uint8), labels


def folder_images(root: Path, limit: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Decode a random `limit` images of an image folder (root/<class>/<image>) with PIL."""
    from PIL import Image

    classes = sorted(p.name for p in root.iterdir() if p.is_dir())
    samples = [(path, label) for label, name in enumerate(classes) for path in sorted((root / name).iterdir())]
    if not samples:
        raise SystemExit(f"{root} has no images in class folders")
    random.Random(seed).shuffle(samples)
    samples = samples[:limit]
    arrays = [np.asarray(Image.open(path).convert("RGB")) for path, _ in samples]
    images = torch.from_numpy(np.stack(arrays)).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor([label for _, label in samples])


class PerSampleImages(Dataset):
    """The naive data path: one uint8 image at a time through a v2 transform."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform):
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        return self.transform(self.images[index]), int(self.labels[index])


def per_sample_loader(images, labels, batch_size, mean, std, num_workers, pin_memory, seed=0) -> DataLoader:
    transform = v2.Compose(
        [
            v2.RandomCrop(images.shape[-1], padding=4),
            v2.RandomHorizontalFlip(),
            v2.ToDtype(torch.float32, scale=True),
            v2.Normalize(mean, std),
        ]
    )
    return DataLoader(
        PerSampleImages(images, labels, transform),
        batch_size=batch_size,
        shuffle=True,
        drop_last=True,
        num_workers=num_workers,
        pin_memory=pin_memory,
        persistent_workers=num_workers > 0,
        generator=torch.Generator().manual_seed(seed),
    )


def endless(batches):
    """Cycle over an iterable of batches forever (a new epoch when one ends)."""
    while True:
        yield from batches


# --------------------------------------------------------------------------- training


def run_row(lab, row: Row, images, labels, *, steps, warmup, batch_size, num_workers=2, width=32, seed=0) -> Result:
    """Train a fresh SmallCNN for warmup + steps steps in this row's configuration; time the last `steps`."""
    with row_math_settings(row.tf32):
        return _run_row(lab, row, images, labels, steps=steps, warmup=warmup, batch_size=batch_size,
                        num_workers=num_workers, width=width, seed=seed)


def _run_row(lab, row: Row, images, labels, *, steps, warmup, batch_size, num_workers, width, seed) -> Result:
    device = lab.get_device(row.device)
    mean = (images.float().mean(dim=(0, 2, 3)) / 255).tolist()
    std = (images.float().std(dim=(0, 2, 3)) / 255).tolist()
    if row.data == "device":
        batches = endless(
            lab.DeviceBatches(images, labels, batch_size, mean=mean, std=std, device=device, channels_last=row.channels_last, seed=seed)
        )
    else:
        loader = per_sample_loader(images, labels, batch_size, mean, std, num_workers, pin_memory=device.type == "cuda", seed=seed)

        def to_training_device(loader=loader):
            for batch in endless(loader):
                x, y = lab.to_device(batch, device, non_blocking=True)
                if row.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                yield x, y

        batches = to_training_device()

    torch.manual_seed(seed)
    model = lab.SmallCNN(width=width).to(device)
    if row.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, nesterov=True, weight_decay=5e-4)
    scaler = torch.amp.GradScaler(device.type) if row.scaler else None
    step_model = torch.compile(model) if row.compile else model

    def step():
        return lab.amp_train_step(step_model, next(batches), F.cross_entropy, optimizer, scaler, device_type=device.type, dtype=row.dtype)

    def synchronize():
        if device.type == "cuda":
            torch.cuda.synchronize(device)

    start = time.perf_counter()
    for _ in range(warmup):
        step()
    synchronize()
    warmup_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    synchronize()
    elapsed = time.perf_counter() - start
    return Result(row, steps * batch_size / elapsed, warmup_s, float(loss), steps)


def run_benchmark(lab, rows, images, labels, *, steps, warmup, batch_size, cpu_steps=None, cpu_batch_size=None,
                  num_workers=2, width=32, log=print) -> list[Result]:
    """Run each row in turn; CPU rows may use fewer steps and a smaller batch (they are slow)."""
    results = []
    for row in rows:
        on_cpu = row.device == "cpu"
        result = run_row(
            lab, row, images, labels,
            steps=(cpu_steps or steps) if on_cpu else steps,
            warmup=min(warmup, 2) if on_cpu else warmup,
            batch_size=(cpu_batch_size or batch_size) if on_cpu else batch_size,
            num_workers=num_workers,
            width=width,
        )
        if log:
            log(f"  {row.name:45s} {result.images_per_s:10,.0f} images/s   (warm-up {result.warmup_s:.1f} s, loss {result.final_loss:.3f})")
        results.append(result)
    return results


def describe_data(row: Row, num_workers: int) -> str:
    if row.data == "device":
        return f"in-memory uint8 on the {'GPU' if row.device == 'cuda' else 'CPU'}, batched crop+flip"
    return f"DataLoader, per-sample v2 crop+flip, {num_workers} workers"


def format_table(results: list[Result], num_workers: int) -> str:
    """A markdown table: each row's images/s, and its speed-up over the row it changes one thing of
    and over the first row (the naive GPU baseline with a GPU, CPU fp32 without)."""
    by_name = {r.row.name: r for r in results}
    first = next((r for r in results if r.row == GPU_BASELINE), results[0])
    lines = [
        f"| configuration | data | TF32 | images/s | vs (one change) | vs {first.row.name} |",
        "|---|---|---|---:|---|---:|",
    ]
    for r in results:
        versus = by_name.get(r.row.versus or "")
        change = f"{r.images_per_s / versus.images_per_s:.2f}x {versus.row.name}" if versus else ""
        tf32 = "on" if r.row.tf32 else ("off" if r.row.device == "cuda" else "")
        lines.append(
            f"| {r.row.name} | {describe_data(r.row, num_workers)} | {tf32} | {r.images_per_s:,.0f} | {change} | "
            f"{r.images_per_s / first.images_per_s:.2f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="an image folder of 32x32 images, e.g. CIFAR-10's train/")
    parser.add_argument("--images", type=int, default=10_000, help="how many images to decode or generate (default 10000)")
    parser.add_argument("--steps", type=int, default=200, help="timed GPU steps per row (default 200)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed GPU steps first (default 20)")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--cpu-steps", type=int, default=10, help="timed steps of the CPU rows (default 10)")
    parser.add_argument("--cpu-batch-size", type=int, default=128)
    parser.add_argument("--workers", type=int, default=2, help="DataLoader workers of the naive rows (default 2)")
    parser.add_argument("--no-compile", action="store_true", help="leave out the torch.compile row")
    parser.add_argument("--no-cpu", action="store_true", help="leave out the CPU rows")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--impl", default="starter", help="which file of lab5_gpu_mixed_precision/ to train with "
                        "(default starter: your tasks 5.1, 5.2 and 5.8; `solution` for the reference)")
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)

    if args.threads:
        torch.set_num_threads(args.threads)
    lab = load_lab(args.impl)
    if args.data_dir:
        start = time.perf_counter()
        images, labels = folder_images(args.data_dir, args.images)
        source = f"{len(images)} images of {args.data_dir} (decoded in {time.perf_counter() - start:.1f} s)"
    else:
        images, labels = generated_images(args.images)
        source = f"{len(images)} generated 32x32 images (no --data-dir)"
    rows = [] if args.no_cpu else list(CPU_ROWS)
    if torch.cuda.is_available():
        rows += [row for row in GPU_ROWS if not (row.compile and args.no_compile)]
        device = f"GPU {torch.cuda.get_device_name()}"
    else:
        device = "no CUDA GPU: CPU rows only"
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    print(f"{source}; SmallCNN(width=32); {device}; torch {torch.__version__}; {os.cpu_count()} CPUs, "
          f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"GPU rows: batch {args.batch_size}, {args.warmup} warm-up + {args.steps} timed steps (synchronized); "
          f"CPU rows: batch {args.cpu_batch_size}, {min(args.warmup, 2)} + {args.cpu_steps} steps, {torch.get_num_threads()} threads")
    if not rows:
        raise SystemExit("no rows to run: --no-cpu on a machine without CUDA")
    try:
        results = run_benchmark(
            lab, rows, images, labels,
            steps=args.steps, warmup=args.warmup, batch_size=args.batch_size,
            cpu_steps=args.cpu_steps, cpu_batch_size=args.cpu_batch_size, num_workers=args.workers,
        )
    except NotImplementedError as todo:  # the graded file still has TODOs
        raise SystemExit(
            f"{todo}\n(the benchmark needs tasks 5.1, 5.2 and 5.8: finish this TODO in {lab.__file__}, then run it again)"
        ) from None
    print()
    print(format_table(results, args.workers))
    if args.json:
        payload = {
            "source": source, "device": device, "torch": torch.__version__, "load_average": load,
            "batch_size": args.batch_size, "warmup": args.warmup,
            "rows": [{**asdict(r.row), "dtype": str(r.row.dtype), "images_per_s": r.images_per_s, "warmup_s": r.warmup_s,
                      "final_loss": r.final_loss, "steps": r.steps} for r in results],
        }
        args.json.write_text(json.dumps(payload, indent=2))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
