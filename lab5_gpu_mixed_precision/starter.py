# Starter file: written by authoring/make_starters.py from solution.py (text sha256 d9d49ccbc8e63198).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Lab 5 — GPU Acceleration & Mixed Precision (starter: your work goes here).

What this lab teaches: picking a device and moving nested batches to it, mixed precision
with `torch.amp.autocast` (bf16, and fp16 with `torch.amp.GradScaler`), why gradient
scaling exists (made visible on the CPU), trading compute for memory with activation
checkpointing, finding the largest batch that fits, and data-parallel training for real
with DDP and FSDP2 (`fully_shard`) under torchrun. The deliverable: training at least 3x
faster than the naive GPU baseline with mixed precision and data kept on the GPU
(benchmark.py; the target of a `gpu` test, not yet measured on a GPU: see RESULTS.md).

Tasks, in the README's order:
    task5_1  get_device / to_device        cuda, then mps, then cpu; nested batches
    task5_2  amp_train_step                autocast + GradScaler, one training step
    task5_3  fp16_gradient                 fp16 underflow, and loss scaling that fixes it
    task5_4  CheckpointedMLP.forward       activation checkpointing (use_reentrant=False)
    task5_5  find_max_batch_size           doubling, then binary search on OOM
    task5_6  ddp_train                     DistributedDataParallel under torchrun
    task5_7  fsdp_train                    FSDP2: fully_shard under torchrun
    task5_8  DeviceBatches.__iter__        data kept on the device, batched augmentation (Lab 4's random_crop_flip)

Run the demo:   python lab5_gpu_mixed_precision/starter.py
                (writes lab5_gpu_mixed_precision/outputs/lab5_gradient_scaling.png)
Distributed:    python lab5_gpu_mixed_precision/starter.py ddp --nproc 2 --out ddp.pt    (= torchrun --standalone
                python lab5_gpu_mixed_precision/starter.py fsdp --nproc 2 --out fsdp.pt   --nproc_per_node 2 ...)
Benchmark:      python lab5_gpu_mixed_precision/benchmark.py [--data-dir /path/to/cifar10/train]
Grade yourself: pytest -m lab5                    (this file; --impl solution grades solution.py)
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

ROOT = Path(__file__).resolve().parent.parent  # the repository root: the labs import as lab4_data_loading.solution, ...
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
from lab4_data_loading.solution import random_crop_flip  # noqa: E402  Lab 4's task4_4: THE batched crop+flip

# Hyperparameters of the demo and of the distributed examples, in one place.


@dataclass
class DemoConfig:
    batch_size: int = 64
    train_steps: int = 15
    width: int = 16  # SmallCNN width for the demo (the benchmark uses 32)
    lr: float = 0.05
    loss_scale: float = 2.0**16  # GradScaler's default initial scale
    seed: int = 0


@dataclass
class DistConfig:
    steps: int = 5
    lr: float = 0.1
    global_batch: int = 16  # split evenly across the processes
    seed: int = 0
    device: str = "auto"  # auto: one GPU per process with nccl if there are enough, else CPU with gloo


# ---------------------------------------------------------------------------
# task5_1 — Devices: pick one, move nested batches to it
# ---------------------------------------------------------------------------


def cpu_supports_bf16() -> bool:
    """True when the CPU has native bf16 math (AVX512-BF16 or AMX); without it bf16 is emulated and slower than fp32."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


AMP_CHOICES = ("auto", "bf16", "fp16", "off")


def autocast_dtype(device: torch.device, amp: str) -> torch.dtype | None:
    """The autocast dtype for `device` and an --amp setting, or None for full fp32.

    "auto": bf16 on a CUDA GPU that supports it (fp16 on older ones, which then need a
    GradScaler), bf16 on a CPU with native bf16 units, fp32 elsewhere (MPS, older CPUs).
    "bf16" and "fp16" force that dtype; "off" is fp32. Labs 6 and the checkpoint project
    use this one helper.
    """
    if amp not in AMP_CHOICES:
        raise ValueError(f"amp must be one of {', '.join(AMP_CHOICES)}, got {amp!r}")
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
    return None


def mps_available() -> bool:
    """Apple-silicon GPU (Metal Performance Shaders) available?"""
    return hasattr(torch.backends, "mps") and torch.backends.mps.is_available()


def get_device(prefer: str | torch.device | None = None) -> torch.device:
    """The device to train on: `prefer` if given and available, else cuda, then mps, then cpu.

    prefer: None, "cpu", "cuda", "cuda:1", "mps" or a torch.device. Asking for a device
    this machine lacks raises RuntimeError saying so (silently falling back to the CPU
    turns a 2-minute run into a 2-hour one without a word).
    """
    # Hint: check `prefer` first: parse it (an unknown name is the caller's mistake, a
    # ValueError), then ask whether this machine has that kind of device. Without `prefer`,
    # try the device kinds from fastest to slowest.
    raise NotImplementedError('TODO(task5_1): Return the device of the docstring: prefer if usable (clear errors if not), else the best one this machine has.')


def to_device(obj, device: str | torch.device, non_blocking: bool = False):
    """Move every tensor inside obj to device, keeping the structure.

    obj: a tensor, or dicts / lists / tuples (namedtuples too) nesting tensors and other
    values; anything that is not a tensor comes back unchanged. non_blocking=True lets a
    copy from pinned memory overlap with GPU work (a DataLoader with pin_memory=True).
    """
    # Hint: a nested structure calls for recursion; rebuild each container as the same type.
    # A namedtuple is a tuple whose constructor takes its fields as separate arguments.
    raise NotImplementedError('TODO(task5_1): Return obj with every tensor inside moved to device, each container rebuilt as its own type.')


# ---------------------------------------------------------------------------
# task5_2 — One mixed-precision training step
# ---------------------------------------------------------------------------


def amp_train_step(
    model: nn.Module,
    batch,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    scaler: torch.amp.GradScaler | None = None,
    *,
    device_type: str,
    dtype: torch.dtype,
) -> torch.Tensor:
    """One optimizer step with the forward pass under torch.amp.autocast.

    batch: (inputs, targets), already on the model's device. device_type: "cuda", "cpu"
    or "mps". dtype: torch.float16 (needs a GradScaler), torch.bfloat16 (no scaler needed:
    it has fp32's exponent range) or torch.float32 (autocast off, the baseline).
    Returns the loss as a detached 0-dim tensor — not .item(), which would make the CPU
    wait for the GPU at every step.
    The weights, their gradients and the optimizer stay in float32; autocast only picks a
    lower precision for the operations that are safe and fast in it (matmuls, convolutions).
    """
    if dtype not in (torch.float16, torch.bfloat16, torch.float32):
        raise ValueError(f"dtype must be torch.float16, torch.bfloat16 or torch.float32, got {dtype}")
    if dtype == torch.float16 and scaler is None:
        raise ValueError(
            "fp16 autocast needs a GradScaler: small gradients underflow to zero in fp16. "
            f"Pass scaler=torch.amp.GradScaler({device_type!r}), or use dtype=torch.bfloat16"
        )
    # Hint: only the forward pass and the loss belong inside autocast; float32 means
    # autocast off. With a scaler, every step that touches the gradients goes through it
    # (the scaler decides whether the optimizer may step at all). Use torch.amp, never the
    # deprecated torch.cuda.amp.
    raise NotImplementedError('TODO(task5_2): One training step: forward and loss under autocast in dtype, backward and optimizer step (through the scaler when there is one); return the detached loss.')


# ---------------------------------------------------------------------------
# task5_3 — Gradient scaling made visible
# ---------------------------------------------------------------------------


def fp16_gradient(
    weight: torch.Tensor, x: torch.Tensor, target: torch.Tensor, loss_scale: float = 1.0, device_type: str = "cpu"
) -> torch.Tensor:
    """d/dW of mean((x @ W.T - target)^2), with the matmul in fp16 and loss scaling.

    weight: (O, I) float32, x: (N, I) float32, target: (N, O) float32. The forward matmul
    runs under fp16 autocast (as in mixed-precision training), the loss in fp32; the loss
    is multiplied by loss_scale before backward() and the gradient divided by it after,
    in float32. Returns a float32 tensor shaped like weight; weight is not modified.
    With loss_scale=1 gradients below fp16's smallest subnormal (~6e-8) come back as exact
    zeros; with 2**16 they survive; with 2**40 they overflow to inf — which is why
    GradScaler adapts the scale and skips steps whose gradients are not finite.
    """
    # Hint: work on a float32 leaf copy of weight (the caller's tensor stays untouched). Only
    # the matmul runs in fp16; the loss is computed in float32. Scale before backward(),
    # unscale the gradient afterwards.
    raise NotImplementedError('TODO(task5_3): Return the float32 gradient of the docstring: fp16 matmul, float32 loss, scaled by loss_scale for backward and unscaled after.')


@dataclass
class UnderflowReport:
    reference: torch.Tensor  # fp32 gradient
    unscaled: torch.Tensor  # fp16 matmul, loss_scale=1
    scaled: torch.Tensor  # fp16 matmul, loss_scale=scale, unscaled afterwards
    scale: float

    @staticmethod
    def zero_fraction(gradient: torch.Tensor) -> float:
        return (gradient == 0).float().mean().item()

    @staticmethod
    def relative_error(gradient: torch.Tensor, reference: torch.Tensor) -> float:
        return ((gradient - reference).norm() / reference.norm()).item()


def gradient_underflow_report(scale: float = 2.0**16, activation_scale: float = 1e-3, seed: int = 0) -> UnderflowReport:
    """Gradients of a small linear layer whose inputs are tiny (as deep inside a network)."""
    generator = torch.Generator().manual_seed(seed)
    x = activation_scale * torch.randn(64, 64, generator=generator)
    weight = torch.randn(8, 64, generator=generator) / 8
    target = activation_scale * torch.randn(64, 8, generator=generator)
    reference = weight.detach().clone().requires_grad_(True)
    F.mse_loss(x @ reference.T, target).backward()
    return UnderflowReport(
        reference=reference.grad,
        unscaled=fp16_gradient(weight, x, target, loss_scale=1.0),
        scaled=fp16_gradient(weight, x, target, loss_scale=scale),
        scale=scale,
    )


# ---------------------------------------------------------------------------
# task5_4 — Memory: activation checkpointing
# ---------------------------------------------------------------------------


class CheckpointedMLP(nn.Module):
    """A deep MLP whose blocks can be activation-checkpointed.

    x: (N, width) float -> logits (N, num_classes). Each block is Linear-GELU-Linear-GELU.
    With checkpoint_blocks=True, a training forward pass keeps only each block's input;
    backward() runs the block forward again to rebuild what it needs. Outputs and
    gradients are identical; peak memory drops; one extra forward pass per block.
    """

    def __init__(self, width: int = 64, depth: int = 4, num_classes: int = 10, checkpoint_blocks: bool = False):
        super().__init__()
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.Linear(width, width), nn.GELU(), nn.Linear(width, width), nn.GELU()) for _ in range(depth)
        )
        self.head = nn.Linear(width, num_classes)
        self.checkpoint_blocks = checkpoint_blocks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Hint: torch.utils.checkpoint wraps one call of a module. Checkpointing only pays when
        # a backward pass will follow (gradients enabled). Pass use_reentrant explicitly: the
        # old reentrant variant silently gives no gradients when the input does not require grad.
        raise NotImplementedError('TODO(task5_4): Run the blocks, each one checkpointed when checkpointing is on and gradients are enabled, then the head.')


def measure_peak_memory(fn: Callable[[], object], device: str | torch.device = "cuda") -> int:
    """Bytes of CUDA memory fn() needs on top of what was allocated before it ran.

    Uses torch.cuda.max_memory_allocated (the caching allocator's high-water mark); CPU
    memory has no such counter in torch, so other devices raise ValueError.
    """
    device = torch.device(device)
    if device.type != "cuda":
        raise ValueError(f"peak memory is measured with torch.cuda.max_memory_allocated: pass a CUDA device, not {device}")
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    fn()
    torch.cuda.synchronize(device)
    return torch.cuda.max_memory_allocated(device) - before


# ---------------------------------------------------------------------------
# task5_5 — Batch-size search
# ---------------------------------------------------------------------------


def find_max_batch_size(step_fn: Callable[[int], object], start: int = 1, limit: int = 4096) -> int:
    """The largest batch size in [start, limit] for which step_fn(batch_size) fits in memory.

    step_fn(b) runs one training step with batch size b and raises torch.OutOfMemoryError
    when it does not fit. Doubles from `start` until a size fails (or `limit` is reached),
    then binary-searches between the last size that fit and the first that failed:
    O(log limit) calls. Any other exception propagates. RuntimeError if `start` itself
    does not fit; ValueError for start < 1 or limit < start.
    """
    if start < 1 or limit < start:
        raise ValueError(f"need 1 <= start <= limit, got start={start}, limit={limit}")
    # Hint: first a small helper that says whether one size fits (only an out-of-memory
    # error means "no"). Release the GPU's cached memory after a failure *outside* the
    # except block: the exception's traceback keeps the failed step's tensors alive until then.
    # size: about 28 lines: the helper, the doubling loop, the binary search.
    raise NotImplementedError('TODO(task5_5): Return the largest batch size in [start, limit] that fits: grow fast until one fails, then narrow the gap.')


# ---------------------------------------------------------------------------
# task5_6 — DistributedDataParallel under torchrun
# ---------------------------------------------------------------------------


def make_dist_model(seed: int) -> nn.Module:
    """The tiny model of the distributed examples, initialised from `seed`."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 4))


def make_dist_data(seed: int, num_samples: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The global batch: x (num_samples, 8), y (num_samples, 4), the same on every process."""
    generator = torch.Generator().manual_seed(seed + 1)
    x = torch.randn(num_samples, 8, generator=generator)
    y = torch.randn(num_samples, 4, generator=generator)
    return x, y


def shard_for_rank(tensor: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
    """Rows [rank * n / world_size, (rank + 1) * n / world_size) of tensor: this process's share."""
    if len(tensor) % world_size:
        raise ValueError(f"a global batch of {len(tensor)} does not split evenly over {world_size} processes")
    size = len(tensor) // world_size
    return tensor[rank * size : (rank + 1) * size]


class DistributedSetupError(RuntimeError):
    """A torchrun launch this machine cannot run (e.g. more processes than GPUs): one line says why."""


def distributed_device(choice: str = "auto") -> tuple[torch.device, str]:
    """(device, backend) for this process: a GPU each with nccl, or the CPU with gloo.

    torchrun sets LOCAL_RANK (this process's index on this machine) and LOCAL_WORLD_SIZE
    (how many processes it started here). choice: "cuda" needs one GPU per local process
    (DistributedSetupError, one line, if torch.cuda.device_count() is smaller: two
    processes on one GPU would both pick cuda:0 or fail with "invalid device ordinal");
    "cpu" is gloo on the CPU; "auto" takes the GPUs when there are enough, else the CPU,
    and says so once when it had to fall back.
    """
    if choice not in ("auto", "cpu", "cuda"):
        raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {choice!r}")
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", 1))
    gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
    enough = gpus >= local_world and local_rank < gpus
    if choice == "cuda" and not enough:
        raise DistributedSetupError(
            f"--device cuda needs one GPU per process: torchrun started {local_world} processes on this machine "
            f"but it has {gpus} CUDA GPU{'s' if gpus != 1 else ''}; use --nproc_per_node {max(gpus, 1)}"
            f"{'' if gpus else ' on a GPU machine'} or --device cpu (gloo)"
        )
    if choice == "cuda" or (choice == "auto" and enough and gpus):
        return torch.device("cuda", local_rank), "nccl"
    if choice == "auto" and gpus and local_rank == 0:
        print(f"--device auto: {local_world} processes but {gpus} GPU(s): training on the CPU with gloo instead")
    return torch.device("cpu"), "gloo"


def ddp_train(config: DistConfig) -> dict[str, torch.Tensor] | None:
    """Train make_dist_model with DDP for config.steps SGD steps on the global batch.

    Run under torchrun (it sets RANK, WORLD_SIZE, MASTER_ADDR, ...). Each process trains
    on its shard of the global batch; DDP averages the gradients across processes during
    backward(), so the weights equal one process training on the whole batch. Returns the
    final state_dict (CPU tensors) on rank 0, None on the other ranks.
    """
    # Hint: distributed_device picks the device and backend (and checks the GPU count). Every
    # process joins the group first and leaves it at the end whatever happens. Each rank
    # trains on its own shard of the global batch; DDP takes care of the gradients. Only
    # rank 0 returns the weights.
    raise NotImplementedError("TODO(task5_6): Join the process group, train the DDP-wrapped model on this rank's shard, return the CPU weights on rank 0.")


# ---------------------------------------------------------------------------
# task5_7 — FSDP2: fully_shard under torchrun
# ---------------------------------------------------------------------------


def fsdp_train(config: DistConfig) -> dict[str, torch.Tensor] | None:
    """The same training as ddp_train, with the parameters sharded by FSDP2 (fully_shard).

    Each process stores only its slice of every parameter (a DTensor); before a layer runs
    its full weights are all-gathered, after backward its gradients are reduce-scattered
    (averaged) back to the slices. Returns the full state_dict (CPU tensors) on rank 0,
    None on the others.
    """
    # Hint: the same skeleton as ddp_train. Shard the inner layers before the root (a device
    # mesh over all ranks), and create the optimizer only after sharding. Gathering the full
    # weights is a collective: every rank takes part, rank 0 keeps them.
    # size: about 28 lines, 3 of them imports; the rest mirrors ddp_train.
    raise NotImplementedError("TODO(task5_7): Join the process group, shard each Linear then the model, train on this rank's shard, gather the full weights for rank 0.")


def train_single_process(config: DistConfig) -> dict[str, torch.Tensor]:
    """The reference: one process, the whole global batch, the same SGD steps."""
    model = make_dist_model(config.seed)
    x, y = make_dist_data(config.seed, config.global_batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
    for _ in range(config.steps):
        optimizer.zero_grad(set_to_none=True)
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    return {name: value.detach() for name, value in model.state_dict().items()}


# ---------------------------------------------------------------------------
# task5_8 — Deliverable: data kept on the device, augmented in batches
# ---------------------------------------------------------------------------


class DeviceBatches:
    """Training batches from a uint8 image tensor that lives on the training device.

    images: (N, 3, H, W) uint8, labels: (N,) int64 — moved to `device` once (CIFAR-10's
    training set is 150 MB: nothing for a GPU). Iterating gives one epoch of
    (x, y): x (B, 3, H, W) float32 normalised (channels_last memory if asked), y (B,) int64,
    both on `device`, in a new random order each epoch, augmented with random_crop_flip.
    No worker processes, no per-image Python, no host-to-device copies per step.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor,
        batch_size: int,
        *,
        mean: Sequence[float],
        std: Sequence[float],
        device: str | torch.device,
        augment: bool = True,
        padding: int = 4,
        channels_last: bool = False,
        drop_last: bool = True,
        seed: int = 0,
    ):
        if images.dtype != torch.uint8 or images.ndim != 4:
            raise ValueError(f"images must be uint8 (N, C, H, W), got {images.dtype} {tuple(images.shape)}")
        self.device = torch.device(device)
        self.images = images.to(self.device)
        self.labels = labels.to(self.device)
        self.batch_size, self.augment, self.padding = batch_size, augment, padding
        self.channels_last, self.drop_last = channels_last, drop_last
        self.mean = torch.as_tensor(mean, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.std = torch.as_tensor(std, dtype=torch.float32, device=self.device).view(1, -1, 1, 1)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def __len__(self) -> int:
        full, rest = divmod(len(self.images), self.batch_size)
        return full if self.drop_last or rest == 0 else full + 1

    def __iter__(self):
        # Hint: everything stays on self.device: the order of the epoch, the indices, the
        # augmentation (Lab 4's random_crop_flip with this object's generator) and the
        # normalisation. len(self) says how many batches an epoch has (drop_last).
        raise NotImplementedError('TODO(task5_8): Yield one epoch of (x, y) batches in a fresh random order: augmented if asked, normalised float32, channels_last if asked.')


def conv_bn(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True))


class SmallCNN(nn.Module):
    """The benchmark's CNN for 32x32 images: four conv-BN-ReLU stages, three max-pools.

    x (N, 3, 32, 32) float -> logits (N, num_classes). About 57 M multiply-adds per image
    forward at width 32 — small enough to train on a CPU, big enough to keep a GPU busy.
    """

    def __init__(self, num_classes: int = 10, width: int = 32):
        super().__init__()
        self.features = nn.Sequential(
            conv_bn(3, width),
            conv_bn(width, 2 * width),
            nn.MaxPool2d(2),
            conv_bn(2 * width, 4 * width),
            nn.MaxPool2d(2),
            conv_bn(4 * width, 8 * width),
            nn.MaxPool2d(2),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )
        self.head = nn.Linear(8 * width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


# ---------------------------------------------------------------------------
# Demo and the torchrun entry points
# ---------------------------------------------------------------------------


def synchronize(device: torch.device) -> None:
    """Wait until the GPU has finished the work queued so far (nothing to wait for on a CPU).

    CUDA calls return as soon as the work is queued: a timer read without this measures
    how fast Python queues kernels, not how fast the GPU runs them.
    """
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: Callable[[], object], steps: int, device: torch.device, warmup: int = 1) -> float:
    """Seconds that `steps` calls of step() take, after `warmup` untimed calls.

    The warm-up absorbs one-off costs (cuDNN picking kernels, the caching allocator's first
    blocks, torch.compile); synchronize() before starting and before stopping the clock
    makes the timed region hold exactly the timed steps' GPU work.
    """
    for _ in range(warmup):
        step()
    synchronize(device)
    start = time.perf_counter()
    for _ in range(steps):
        step()
    synchronize(device)
    return time.perf_counter() - start


def demo_training(device: torch.device, config: DemoConfig) -> None:
    """A few mixed-precision steps of SmallCNN on a synthetic 10-class task, on the best device."""
    generator = torch.Generator().manual_seed(config.seed)
    templates = torch.randint(0, 256, (10, 3, 32, 32), generator=generator).float()  # one pattern per class
    labels = torch.randint(0, 10, (1024,), generator=generator)
    noise = torch.randint(0, 256, (1024, 3, 32, 32), generator=generator).float()
    images = (0.5 * templates[labels] + 0.5 * noise).to(torch.uint8)
    batches = DeviceBatches(images, labels, config.batch_size, mean=[0.5] * 3, std=[0.25] * 3, device=device)
    torch.manual_seed(config.seed)
    model = SmallCNN(width=config.width).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config.lr, momentum=0.9)
    dtype = torch.bfloat16 if device.type in ("cpu", "cuda") else torch.float16
    scaler = torch.amp.GradScaler(device.type) if dtype == torch.float16 else None
    stream = (batch for _ in iter(int, 1) for batch in batches)  # epoch after epoch, without end
    losses = []

    def step():
        losses.append(amp_train_step(model, next(stream), F.cross_entropy, optimizer, scaler, device_type=device.type, dtype=dtype))

    seconds = time_steps(step, config.train_steps - 1, device, warmup=1)  # the first step is not timed
    images_per_s = (config.train_steps - 1) * config.batch_size / seconds
    print(f"{len(losses)} {str(dtype).removeprefix('torch.')} autocast steps of SmallCNN(width={config.width}) on {device}: loss "
          f"{losses[0].item():.3f} -> {losses[-1].item():.3f}, {images_per_s:,.0f} images/s (first step not timed)")


def main(config: DemoConfig = DemoConfig()) -> None:
    device = get_device()
    print(f"device: {device}")

    report = gradient_underflow_report(config.loss_scale)
    print(f"fp16 gradients without scaling: {report.zero_fraction(report.unscaled):.0%} exact zeros, "
          f"error {report.relative_error(report.unscaled, report.reference):.1%}")
    print(f"fp16 gradients with loss scale 2^{int(torch.tensor(config.loss_scale).log2())}: "
          f"{report.zero_fraction(report.scaled):.0%} zeros, error {report.relative_error(report.scaled, report.reference):.2%}")

    torch.manual_seed(config.seed)
    plain = CheckpointedMLP(width=64, depth=4)
    checkpointed = CheckpointedMLP(width=64, depth=4, checkpoint_blocks=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(32, 64)
    out_plain, out_ckpt = plain(x), checkpointed(x)
    out_plain.sum().backward()
    out_ckpt.sum().backward()
    same_grads = all(torch.equal(a.grad, b.grad) for a, b in zip(plain.parameters(), checkpointed.parameters()))
    print(f"activation checkpointing: same outputs {torch.equal(out_plain, out_ckpt)}, same gradients {same_grads}")
    if device.type == "cuda":
        big = {flag: CheckpointedMLP(1024, 8, checkpoint_blocks=flag).to(device) for flag in (False, True)}
        data = torch.randn(8192, 1024, device=device)
        peaks = {flag: measure_peak_memory(lambda m=m: m(data).sum().backward(), device) for flag, m in big.items()}
        print(f"peak memory of one step, 8 blocks of width 1024, batch 8192: {peaks[False] / 2**20:,.0f} MiB plain, "
              f"{peaks[True] / 2**20:,.0f} MiB checkpointed")

    tried = []

    def fake_step(batch_size: int) -> None:
        tried.append(batch_size)
        if batch_size > 300:
            raise torch.OutOfMemoryError(f"pretend {batch_size} images do not fit")

    print(f"find_max_batch_size with a pretend limit of 300: {find_max_batch_size(fake_step, 1, 4096)} "
          f"after trying {tried}")

    demo_training(device, config)

    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    out = Path(__file__).resolve().parent / "outputs"  # git-ignored
    out.mkdir(exist_ok=True)
    magnitudes = report.reference.abs().flatten()
    magnitudes = magnitudes[magnitudes > 0]
    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.hist(magnitudes.log2().numpy(), bins=40, alpha=0.7, label="gradients")
    ax.hist((magnitudes * config.loss_scale).log2().numpy(), bins=40, alpha=0.7, label="gradients x loss scale")
    for value, name in [(2.0**-24, "fp16 smallest subnormal"), (2.0**-14, "fp16 smallest normal"), (65504.0, "fp16 max")]:
        ax.axvline(torch.tensor(value).log2().item(), color="k", linestyle="--", linewidth=1)
        ax.text(torch.tensor(value).log2().item(), ax.get_ylim()[1] * 0.95, f" {name}", fontsize=7, rotation=90, va="top")
    ax.set(xlabel="log2 |gradient|", ylabel="count", title="Lab 5: loss scaling moves gradients into fp16's range")
    ax.legend(fontsize=8, loc="center right")
    fig.tight_layout()
    fig.savefig(out / "lab5_gradient_scaling.png", dpi=120)
    print(f"saved {out / 'lab5_gradient_scaling.png'}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Lab 5: the demo (no command), or a torchrun example")
    sub = parser.add_subparsers(dest="command")
    for name in ("ddp", "fsdp"):
        command = sub.add_parser(name, help=f"the {name.upper()} example; launch with torchrun --nproc_per_node N")
        command.add_argument("--steps", type=int, default=DistConfig.steps)
        command.add_argument("--lr", type=float, default=DistConfig.lr)
        command.add_argument("--global-batch", type=int, default=DistConfig.global_batch)
        command.add_argument("--seed", type=int, default=DistConfig.seed)
        command.add_argument("--device", choices=["auto", "cpu", "cuda"], default=DistConfig.device)
        command.add_argument("--out", type=Path, help="where rank 0 saves the final weights (torch.save)")
        command.add_argument(
            "--nproc", type=int, help="start this many processes yourself (torchrun --standalone --nproc_per_node N, "
            "with a one-line report when a worker fails)"
        )
    return parser.parse_args(argv)


def launch_workers(argv: list[str], processes: int) -> None:
    """Run this file under torchrun's launcher in this process: `... ddp --nproc 2` = `torchrun
    --standalone --nproc_per_node 2 ... ddp`. A failing worker has already printed its one
    line; the launcher's 40-line ChildFailedError report is left out (exit code 1)."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    worker_argv = [arg for i, arg in enumerate(argv) if arg != "--nproc" and (i == 0 or argv[i - 1] != "--nproc")]
    worker_argv = [arg for arg in worker_argv if not arg.startswith("--nproc=")]
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # torchrun's default, without its banner
    try:
        run(get_args_parser().parse_args(["--standalone", "--nproc_per_node", str(processes), __file__, *worker_argv]))
    except ChildFailedError:
        raise SystemExit(f"torchrun: a worker of `{' '.join(worker_argv)}` failed (its message is above)") from None


def run_distributed(args: argparse.Namespace) -> None:
    """Entry point of each torchrun process: train, then rank 0 saves and compares."""
    config = DistConfig(args.steps, args.lr, args.global_batch, args.seed, args.device)
    train = ddp_train if args.command == "ddp" else fsdp_train
    state = train(config)
    if state is None:  # not rank 0
        return
    reference = train_single_process(config)
    worst = max((state[name].float() - reference[name]).abs().max().item() for name in reference)
    print(f"{args.command}: {int(os.environ.get('WORLD_SIZE', 1))} processes, largest difference from one process "
          f"on the whole batch: {worst:.2e}")
    if args.out:
        torch.save(state, args.out)
        print(f"saved {args.out}")


if __name__ == "__main__":
    arguments = parse_args()
    if arguments.command and arguments.nproc and "LOCAL_RANK" not in os.environ:
        launch_workers(sys.argv[1:], arguments.nproc)
    elif arguments.command:  # a torchrun worker
        try:
            run_distributed(arguments)
        except (NotImplementedError, DistributedSetupError) as error:  # one line (from one rank), not a traceback per rank
            if int(os.environ.get("RANK", 0)) == 0:
                print(f"{error}\n(in {__file__})", file=sys.stderr, flush=True)
            raise SystemExit(1) from None
    else:
        try:
            main()
        except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
            raise SystemExit(f"{todo}\n(finish this TODO in {__file__}, then run again)") from None
