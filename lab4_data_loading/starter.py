# Starter file: written by authoring/make_starters.py from solution.py (text sha256 ca7a45acce54891c).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Lab 4 — Data Loading Pipeline (starter: your work goes here).

What this lab teaches: how `Dataset` and `DataLoader` fit together, how to write your own
image dataset (with errors a person can act on), why decoding once and caching beats
decoding every epoch, augmentation two ways (per sample with `torchvision.transforms.v2`,
and batched on whole tensors on any device), preprocessing statistics taken from the
training split only, reproducible loading with worker processes, and two answers to an
imbalanced dataset. The deliverable: a CIFAR-10-style image pipeline with augmentation,
and a batched pipeline at least 10x faster than the per-sample one (benchmark.py).

Tasks, in the README's order:
    task4_1  ImageFolderDataset            root/<class>/<image>, sorted classes, clear errors
    task4_2  decode_image_folder           decode once into uint8 (N, 3, H, W) + an on-disk cache
    task4_3  train_transforms / eval_...   per-sample augmentation with transforms.v2
    task4_4  random_crop_flip / normalize  batched augmentation on whole tensors, any device
    task4_5  compute_mean_std / stratified_split   statistics from the training split only
    task4_6  seed_worker / make_loader     reproducible workers: generator= and worker_init_fn=
    task4_7  class_weights / balanced_sampler      two answers to class imbalance
    task4_8  build_pipeline                the deliverable: folder -> train/val loaders
    task4_9  SeededDataset (extension)     exact per-sample seeds: the same batches for any num_workers

Run the demo:   python lab4_data_loading/starter.py [--data-dir /path/to/cifar/train]
                (without CIFAR10_DIR or --data-dir it generates a small image folder;
                writes lab4_data_loading/outputs/lab4_augmentations.png)
Benchmark:      python lab4_data_loading/benchmark.py --data-dir /path/to/cifar/train
Grade yourself: pytest -m lab4                    (this file; --impl solution grades solution.py)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, UnidentifiedImageError
from torch.utils.data import DataLoader, Dataset, RandomSampler, Sampler, SequentialSampler, WeightedRandomSampler
from torchvision.transforms import v2

# Hyperparameters of the demo and the pipeline defaults, in one place.


@dataclass
class DemoConfig:
    batch_size: int = 64
    val_fraction: float = 0.1
    crop_padding: int = 4  # CIFAR-10's classic augmentation: pad 4, random 32x32 crop
    jitter: float = 0.2  # brightness / contrast / saturation strength of ColorJitter
    num_workers: int = 0
    seed: int = 0
    synthetic_per_class: int = 40  # images per class when no CIFAR-10 copy is around


IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp")


# ---------------------------------------------------------------------------
# task4_1 — A custom image-folder dataset
# ---------------------------------------------------------------------------


def load_rgb(path: Path) -> Image.Image:
    """Open one image file as an RGB PIL image (grayscale and palette images are converted).

    16-bit grayscale PNGs (PIL mode "I;16") are scaled to 0..255 (value / 257), not clipped
    (convert("RGB") alone would turn every value above 255 into white). Raises ValueError
    naming the file when it cannot be decoded (random bytes, a truncated JPEG): one corrupt
    JPEG in 50,000 should cost you a second to find, not an afternoon.
    """
    try:
        with Image.open(path) as image:
            if image.mode.startswith("I"):  # 16- or 32-bit integer grayscale
                pixels = np.asarray(image).astype(np.float64)
                if image.mode.startswith("I;16") or pixels.max() > 255:
                    pixels = pixels / 257.0  # 65535 -> 255
                image = Image.fromarray(np.clip(pixels.round(), 0, 255).astype(np.uint8))
            return image.convert("RGB")  # convert() loads the pixels, so decoding errors surface here
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as error:
        raise ValueError(f"cannot decode image {path}: {error}. Delete or replace this file, then run again.") from error


def scan_class_folder(folder: Path) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(image files of one class folder sorted by name, [(skipped entry, why), ...]).

    Given (not an exercise). An image file is a file (or a link to one) whose suffix is in
    IMAGE_EXTENSIONS. Broken links, images in nested folders (only root/<class>/<image> is
    read) and other files are skipped, and reported, so that nothing disappears unnoticed.
    """
    images, skipped = [], []
    for entry in sorted(folder.iterdir()):
        if entry.name.startswith("."):
            continue  # .DS_Store, .ipynb_checkpoints: never data
        if entry.is_symlink() and not entry.exists():
            skipped.append((entry, "broken link"))
        elif entry.is_dir():
            nested = sum(1 for p in entry.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS)
            if nested:
                skipped.append((entry, f"nested folder with {nested} images (only <class>/<image> is read)"))
        elif entry.suffix.lower() in IMAGE_EXTENSIONS:
            images.append(entry)
        else:
            skipped.append((entry, "not an image file"))
    return images, skipped


def report_skipped(root: Path, skipped: list[tuple[Path, str]]) -> None:
    """One warning that says how many entries were left out, why, and an example of each reason."""
    if not skipped:
        return
    reasons: dict[str, list[Path]] = {}
    for path, why in skipped:
        reasons.setdefault(why.split(" with ")[0], []).append(path)
    parts = [f"{len(paths)} {why} (e.g. {paths[0].relative_to(root)})" for why, paths in reasons.items()]
    warnings.warn(f"{root}: skipped {len(skipped)} entries: {'; '.join(parts)}", stacklevel=3)


class ImageFolderDataset(Dataset):
    """Images stored as root/<class_name>/<image file>, one folder per class.

    classes:      sorted class folder names, e.g. ['airplane', 'automobile', ...]
    class_to_idx: {class name: label}, labels 0..C-1 in sorted order
    samples:      [(path, label), ...] sorted by class, then file name
    targets:      [label, ...] (the labels alone, for samplers and splits)
    skipped:      [(path, why), ...] entries that are not read (reported in one warning)
    dataset[i] -> (image, label): a PIL RGB image (or transform(image)) and an int.

    Written here instead of torchvision.datasets.ImageFolder so that you see every step
    (and so that errors name the folder or file that is wrong).
    """

    def __init__(self, root: str | os.PathLike, transform=None):
        # Hint: a class is a visible sub-folder of root; its label is its position in sorted
        # order. scan_class_folder lists one class's images (and what it skipped). A missing
        # root is a FileNotFoundError, a root without classes or a class without images a
        # ValueError; each message names the path and says what was expected there.
        # size: about 27 lines, a third of them the three error messages.
        raise NotImplementedError('TODO(task4_1): List root/<class>/<image> into sorted classes, class_to_idx, samples, targets and skipped; raise clear errors naming the path.')
        report_skipped(self.root, self.skipped)

    def __len__(self) -> int:
        return len(self.samples)

    def __getitem__(self, index: int):
        # Hint: load_rgb gives the RGB image and already raises the clear error for a broken file.
        raise NotImplementedError('TODO(task4_1): Return (image, label) for samples[index], applying self.transform when it is set.')


# ---------------------------------------------------------------------------
# task4_2 — Decode once into memory, with an on-disk cache
# ---------------------------------------------------------------------------


@dataclass
class InMemoryImages:
    images: torch.Tensor  # (N, 3, H, W) uint8: 50,000 CIFAR images are 150 MB this way, 600 MB as float32
    labels: torch.Tensor  # (N,) int64
    classes: list[str]


def folder_fingerprint(dataset: ImageFolderDataset) -> str:
    """A short hash of every file's relative path, size and modification time.

    Any added, removed or edited image changes it, so a stale cache is never used.
    """
    digest = hashlib.sha1()
    for path, label in dataset.samples:
        stat = path.stat()
        digest.update(f"{path.relative_to(dataset.root)}|{label}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def decode_image_folder(root: str | os.PathLike, cache_dir: str | os.PathLike | None = None) -> InMemoryImages:
    """Decode every image of an image folder once into one uint8 tensor.

    root: an image folder (task4_1's layout). cache_dir: where to keep the decoded tensor;
    None means no cache. Returns InMemoryImages(images (N, 3, H, W) uint8, labels (N,)
    int64, classes). All images must have the same size (ValueError naming the first odd
    one otherwise).

    With a cache_dir the first call writes `<cache_dir>/<folder>-<fingerprint>.pt` and
    later calls load it with torch.load(..., weights_only=True) instead of decoding:
    decoding 50,000 JPEGs takes ~10 s, loading 150 MB takes a fraction of a second.
    """
    # Hint: the cache file's name carries folder_fingerprint, so a changed folder never
    # reuses an old cache. Two safety rules of any cache on disk: load it so that it cannot
    # run code (a .pt file is a pickle), and write it so that an interrupted run can never
    # leave a half file under the final name. A damaged cache: one line naming it.
    # size: about 27 lines: load or decode, then save; one idea, a cache.
    raise NotImplementedError('TODO(task4_2): Decode the folder into (N, 3, H, W) uint8 + labels, loading/saving <cache_dir>/<name>-<fingerprint>.pt safely.')


class InMemoryImageDataset(Dataset):
    """A Dataset over decoded uint8 images: dataset[i] -> (transform(images[i]), label).

    images: (N, 3, H, W) uint8 tensor, labels: (N,) int64 tensor. Indexing a tensor costs
    microseconds; opening and decoding a file costs ~100 us — for 32x32 images the file
    system, not the model, is the bottleneck.
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, transform=None):
        if images.ndim != 4 or images.dtype != torch.uint8:
            raise ValueError(f"images must be a uint8 (N, C, H, W) tensor, got {images.dtype} {tuple(images.shape)}")
        if len(images) != len(labels):
            raise ValueError(f"{len(images)} images but {len(labels)} labels")
        self.images, self.labels, self.transform = images, labels, transform

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: int):
        image = self.images[index]
        if self.transform is not None:
            image = self.transform(image)
        return image, int(self.labels[index])


# ---------------------------------------------------------------------------
# task4_3 — Per-sample augmentation with torchvision.transforms.v2
# ---------------------------------------------------------------------------


def train_transforms(
    mean: Sequence[float], std: Sequence[float], size: int = 32, padding: int = 4, jitter: float = 0.2
) -> v2.Compose:
    """The training transform for one image (a PIL image or a uint8 (3, H, W) tensor).

    Returns a v2.Compose that produces a float32 (3, size, size) normalised tensor:
    random crop of `size` after zero-padding by `padding`, horizontal flip with p=0.5,
    colour jitter (brightness, contrast, saturation each by `jitter`), then conversion to
    float32 in [0, 1] and Normalize(mean, std). Randomness comes from torch's generator,
    so torch.manual_seed makes it repeatable.
    """
    # Hint: order matters. Pixels must become a tensor image first; the random geometric
    # and colour changes are cheapest on uint8; Normalize only makes sense on floats in
    # [0, 1]. Each augmentation does what the docstring says, no more, no less.
    raise NotImplementedError('TODO(task4_3): Return the training pipeline of the docstring: to a tensor image, random padded crop, coin-flip mirror, colour jitter, to float in [0, 1], normalise.')


def eval_transforms(mean: Sequence[float], std: Sequence[float]) -> v2.Compose:
    """The evaluation transform: no randomness, just float32 in [0, 1] and Normalize.

    Validation and test images must see exactly the preprocessing of training minus the
    augmentation; otherwise the numbers you report measure a different model input.
    """
    # Hint: the training pipeline minus everything random.
    raise NotImplementedError('TODO(task4_3): Return the evaluation pipeline: to a tensor image, to float in [0, 1], normalise; nothing random.')


# ---------------------------------------------------------------------------
# task4_4 — Batched augmentation on whole tensors
# ---------------------------------------------------------------------------


def random_offsets_and_flips(
    n: int, padding: int, generator: torch.Generator | None = None, device: str | torch.device | None = None
) -> torch.Tensor:
    """The random numbers of one random_crop_flip call: (3, N) int64 on `device`: dy, dx, flip (0/1).

    Given (not an exercise). All of them come from ONE draw of N integers in
    [0, 2 * (2 * padding + 1) ** 2) on the generator's device (the default generator's:
    images' device when generator is None), decoded with % and //, then moved to `device`
    with one non-blocking copy. On a GPU this is the whole difference between a training
    step that streams and one that stops: no value is read back by the CPU, and one small
    copy (from pinned memory when it goes CPU -> GPU) replaces three blocking ones.
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    source = generator.device if generator is not None else device
    span = 2 * padding + 1
    raw = torch.randint(0, 2 * span * span, (n,), generator=generator, device=source)
    draws = torch.stack([raw // (2 * span), raw // 2 % span, raw % 2])  # dy, dx, flip
    if draws.device != device:
        to_gpu = draws.device.type == "cpu" and device.type != "cpu"
        if to_gpu and device.type == "cuda":
            draws = draws.pin_memory()  # page-locked: the copy below really runs asynchronously
        draws = draws.to(device, non_blocking=to_gpu)  # GPU -> CPU must block: the CPU reads the values next
    return draws


def random_crop_flip(
    images: torch.Tensor,
    padding: int,
    generator: torch.Generator | None = None,
    flip: torch.Tensor | None = None,
    padding_mode: str = "constant",
) -> torch.Tensor:
    """Random crop after padding (zeros by default), plus a random horizontal flip, for a whole batch.

    images: (N, C, H, W) tensor of any dtype on any device -> same shape, dtype and device.
    Each image gets its own offset (dy, dx) in [0, 2 * padding] and its own coin flip,
    drawn from `generator` (a torch.Generator on the CPU or on images.device) so that a
    seeded generator gives the same batch every time. flip: an optional (N,) bool tensor
    that says which images to mirror instead of the coin flips (the checkpoint project
    alternates flips between epochs). padding_mode: F.pad's mode, "constant" (zeros, the
    CIFAR classic) or "reflect" (airbench's choice). One gather does the whole batch:
    no Python loop over images, so it runs at memory speed on a CPU or a GPU, and nothing
    is read back to the CPU, so a GPU never waits for it.
    The random numbers come from random_offsets_and_flips(N, padding, generator, device).
    """
    # Hint: the whole batch is one tensor operation. A Python loop over images (or any
    # .item(), .any(), .nonzero() on a GPU tensor) makes the CPU wait for the GPU once per
    # image. Take every random number from random_offsets_and_flips first (the tests compare
    # with it), then pick all the output pixels of the padded batch in one go.
    raise NotImplementedError("TODO(task4_4): Return the batch cropped at each image's random offset after padding and mirrored where drawn (or where flip says), with no Python loop over images.")


def normalize_batch(images: torch.Tensor, mean: Sequence[float], std: Sequence[float]) -> torch.Tensor:
    """uint8 (N, C, H, W) in [0, 255] -> float32 (N, C, H, W), (x / 255 - mean) / std per channel.

    Same numbers as v2.ToDtype(float32, scale=True) + v2.Normalize, for a whole batch.
    """
    # Hint: mean and std hold one number per channel; shape them so that they broadcast
    # over (N, C, H, W), on the images' device. Each arithmetic op on a whole batch writes
    # a new tensor: fewer ops (and in-place ones on a copy you own) are faster.
    raise NotImplementedError('TODO(task4_4): Return the batch as float32, scaled to [0, 1] and normalised channel by channel.')


# ---------------------------------------------------------------------------
# task4_5 — Normalisation statistics and a stratified split
# ---------------------------------------------------------------------------


def compute_mean_std(
    images: torch.Tensor, indices: torch.Tensor | Sequence[int] | None = None, chunk_size: int = 4096
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation of images scaled to [0, 1].

    images: (N, C, H, W) uint8 (divided by 255) or float tensor. indices: which images to
    use — pass the training split's indices so that validation and test images never
    influence the preprocessing. Returns (mean, std), each (C,) float32; std is the
    population std (divide by the count, as Normalize expects).
    Works in chunks with float64 sums, so 50,000 images never become one 600 MB float copy.
    """
    if indices is not None:
        indices = torch.as_tensor(indices, dtype=torch.long)
        if indices.numel() == 0:
            raise ValueError("indices is empty: the statistics need at least one image")
    # Hint: the variance is the mean of the squares minus the square of the mean, so two
    # running per-channel sums are enough, chunk by chunk. float32 sums of millions of
    # pixels lose digits: sum in float64.
    raise NotImplementedError('TODO(task4_5): Return per-channel (mean, std) in [0, 1] units over images[indices], float32 (C,) each.')


def stratified_split(
    labels: torch.Tensor | Sequence[int], val_fraction: float, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split indices into train and validation with the same class proportions in both.

    labels: (N,) ints. Each class c with n_c samples puts round(n_c * val_fraction) of
    them, chosen at random with `seed`, in validation. Returns (train_indices,
    val_indices), sorted int64 tensors that are disjoint and together cover 0..N-1.
    A plain random split of a small or imbalanced set can leave a rare class out of
    validation entirely; stratifying cannot.
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be between 0 and 1 (exclusive), got {val_fraction}")
    labels = torch.as_tensor(labels, dtype=torch.long)
    # Hint: split each class on its own, then put the pieces together. One seeded generator
    # for all classes makes the split repeatable.
    raise NotImplementedError('TODO(task4_5): Return sorted (train_idx, val_idx) with round(n_c * val_fraction) of each class in validation.')


# ---------------------------------------------------------------------------
# task4_6 — Reproducible loading with worker processes
# ---------------------------------------------------------------------------


def seed_worker(worker_id: int) -> None:
    """worker_init_fn for a DataLoader: seed NumPy's and Python's random in each worker.

    The DataLoader gives every worker its own torch seed (base seed + worker id, the base
    drawn from the DataLoader's generator); torch.initial_seed() reads it inside the
    worker. Seeding NumPy and `random` from it gives each worker its own, repeatable
    streams for augmentations written with those libraries. (torch >= 1.9 also seeds
    NumPy itself; this is the documented idiom, and it covers `random` and older versions.)
    """
    # Hint: a worker knows its own torch seed; NumPy only accepts seeds below 2**32.
    raise NotImplementedError("TODO(task4_6): Seed NumPy's global generator and Python's random from this worker's torch seed.")


def make_loader(
    dataset: Dataset,
    batch_size: int,
    *,
    shuffle: bool,
    num_workers: int = 0,
    seed: int = 0,
    sampler: Sampler | None = None,
    drop_last: bool = False,
    per_sample_seeds: bool = False,
) -> DataLoader:
    """A DataLoader whose batches depend only on `seed` (for a given num_workers).

    The standard idiom (PyTorch's "Reproducibility" notes): a seeded torch.Generator
    decides the shuffled order and every worker's base seed, and worker_init_fn=seed_worker
    seeds NumPy and `random` in each worker. shuffle: a new random order every epoch.
    sampler: an index sampler of your own (e.g. balanced_sampler); not with shuffle=True.
    pin_memory only when a CUDA GPU exists (page-locked memory makes host-to-GPU copies
    faster and asynchronous; without a GPU it only costs RAM), persistent_workers
    whenever there are workers (no process start-up at every epoch).
    per_sample_seeds=True: the extension of task4_9 (the same batches for ANY num_workers).
    """
    if sampler is not None and shuffle:
        raise ValueError("pass either shuffle=True or a sampler, not both: the sampler decides the order")
    if num_workers < 0:
        raise ValueError(f"num_workers must be 0 (load in this process) or more, got {num_workers}")
    if per_sample_seeds:  # extension (task4_9): every sample's randomness fixed in the main process
        order_generator = torch.Generator().manual_seed(seed)
        if sampler is None:
            sampler = RandomSampler(dataset, generator=order_generator) if shuffle else SequentialSampler(dataset)
        dataset, sampler, shuffle = SeededDataset(dataset), SampleSeeds(sampler, order_generator), False
    # Hint: one seeded generator handed to the DataLoader decides both the shuffled order
    # and the seeds of the workers; the worker_init_fn above does the rest.
    raise NotImplementedError('TODO(task4_6): Return the DataLoader: seeded generator, seed_worker for the workers, pin_memory only with CUDA, persistent workers when there are workers.')


# ---------------------------------------------------------------------------
# task4_7 — Imbalanced datasets: a weighted loss or a balanced sampler
# ---------------------------------------------------------------------------


def class_counts(labels: torch.Tensor | Sequence[int], num_classes: int | None = None) -> torch.Tensor:
    """(C,) int64 count of each label 0..C-1 (C = max label + 1 unless given)."""
    labels = torch.as_tensor(labels, dtype=torch.long)
    return torch.bincount(labels, minlength=num_classes or 0)


def class_weights(labels: torch.Tensor | Sequence[int], num_classes: int | None = None) -> torch.Tensor:
    """Per-class loss weights N / (C * n_c) for nn.CrossEntropyLoss(weight=...).

    labels: (N,) ints. Returns (C,) float32. Every class then contributes the same total
    weight (n_c * w_c = N / C), so a class with 100x fewer samples weighs 100x more per
    sample. A class with no samples at all is an error (its weight would be infinite).
    """
    # Hint: class_counts gives n_c. An empty class cannot be weighted: say which.
    raise NotImplementedError('TODO(task4_7): Return the per-class weights of the docstring as float32; ValueError naming any class with no samples.')


def balanced_sampler(
    labels: torch.Tensor | Sequence[int], num_samples: int | None = None, seed: int = 0
) -> WeightedRandomSampler:
    """A sampler that draws every class equally often, with replacement.

    Each sample's weight is 1 / n_(its class), so each class's total weight is 1. Draws
    num_samples indices per epoch (default: len(labels)). The rare class's images repeat
    within an epoch — augmentation makes the repeats differ.
    """
    # Hint: torch already has a sampler that draws indices in proportion to per-sample
    # weights; the work is choosing the weights. Rare classes must repeat: with replacement.
    raise NotImplementedError('TODO(task4_7): Return a seeded sampler that draws every class equally often.')


# ---------------------------------------------------------------------------
# task4_8 — Deliverable: a folder of images -> train and validation loaders
# ---------------------------------------------------------------------------


@dataclass
class Pipeline:
    train_loader: DataLoader
    val_loader: DataLoader
    classes: list[str]
    mean: torch.Tensor  # (3,) computed on the training split only
    std: torch.Tensor  # (3,)
    train_indices: torch.Tensor  # indices into the decoded folder
    val_indices: torch.Tensor


def build_pipeline(
    train_dir: str | os.PathLike,
    *,
    batch_size: int = 128,
    val_fraction: float = 0.1,
    seed: int = 0,
    num_workers: int = 0,
    cache_dir: str | os.PathLike | None = None,
    padding: int = 4,
    jitter: float = 0.2,
) -> Pipeline:
    """Everything from a training image folder to loaders you can train on.

    1. decode the folder once (cached)           task4_2
    2. split train / validation, stratified      task4_5
    3. mean and std from the training split only task4_5
    4. augmented train set, plain validation set task4_3 (on InMemoryImageDataset)
    5. reproducible loaders                      task4_6 (train shuffled, validation in order)
    Returns a Pipeline. Batches are (x (B, 3, H, W) float32 normalised, y (B,) int64).
    """
    # Hint: follow the five steps above with your functions of tasks 4.2-4.6; a split is a
    # subset of one in-memory dataset. Statistics from the training split only.
    raise NotImplementedError('TODO(task4_8): Build the train and validation loaders of the five steps above and return them in a Pipeline.')


# ---------------------------------------------------------------------------
# task4_9 — Extension: exact per-sample seeds (the same batches for any num_workers)
# ---------------------------------------------------------------------------


class SampleSeeds(Sampler):
    """Wraps an index sampler and yields (index, seed) pairs instead of plain indices.

    The seeds are drawn in the main process from `generator`, right where the order is
    decided, so the randomness of every sample is fixed before any worker sees it: which
    worker handles a sample, and how many workers there are, no longer matter.
    """

    def __init__(self, sampler: Sampler, generator: torch.Generator):
        self.sampler, self.generator = sampler, generator

    def __len__(self) -> int:
        return len(self.sampler)

    def __iter__(self):
        indices = list(self.sampler)
        seeds = torch.randint(0, 2**62, (len(indices),), generator=self.generator).tolist()
        return iter(zip(indices, seeds))


class SeededDataset(Dataset):
    """dataset[(index, seed)] -> the wrapped dataset's item `index`, its randomness seeded by `seed`.

    Torch's, Python's and NumPy's random generators are all seeded from `seed` while the
    item is produced, and restored afterwards, so that the caller's random streams are
    untouched (with num_workers=0 the "worker" is your main process).
    """

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, key):
        # Hint: three generators to seed (torch's CPU one, `random`, NumPy's global one), and
        # all three to give back exactly as they were, even when the item raises. Seeding
        # torch's CPU generator alone is much cheaper than torch.manual_seed (every GPU too).
        raise NotImplementedError('TODO(task4_9): Return the wrapped item with torch, random and NumPy seeded from its seed, their states restored afterwards.')


# ---------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------


def make_synthetic_image_folder(root: Path, classes: int = 10, per_class: int = 40, size: int = 32, seed: int = 0) -> Path:
    """Write a small image folder of coloured noise PNGs (a stand-in when CIFAR-10 is absent)."""
    rng = np.random.default_rng(seed)
    for c in range(classes):
        folder = root / f"class_{c}"
        folder.mkdir(parents=True, exist_ok=True)
        tint = rng.integers(0, 256, size=3)
        for i in range(per_class):
            noise = rng.integers(0, 256, size=(size, size, 3))
            pixels = (0.6 * tint + 0.4 * noise).astype(np.uint8)
            Image.fromarray(pixels).save(folder / f"{i:04d}.png")
    return root


def default_data_dir(out: Path, config: DemoConfig) -> Path:
    cifar = os.environ.get("CIFAR10_DIR")
    if cifar and (Path(cifar) / "test").is_dir():
        return Path(cifar) / "test"  # 8,000 images: quick to decode, enough to look at
    folder = out / "synthetic"
    if not folder.exists():
        print(f"no --data-dir and no CIFAR10_DIR: writing a synthetic image folder to {folder}")
        make_synthetic_image_folder(folder, per_class=config.synthetic_per_class, seed=config.seed)
    return folder


def main(argv: list[str] | None = None, config: DemoConfig = DemoConfig()):
    parser = argparse.ArgumentParser(description="Lab 4 demo: a data pipeline from an image folder")
    parser.add_argument("--data-dir", type=Path, help="an image folder, e.g. CIFAR-10's train/ (default: $CIFAR10_DIR/test)")
    args = parser.parse_args(argv)
    out = Path(__file__).resolve().parent / "outputs"  # git-ignored
    out.mkdir(exist_ok=True)
    data_dir = args.data_dir or default_data_dir(out, config)

    folder = ImageFolderDataset(data_dir)
    print(f"{data_dir}: {len(folder)} images, {len(folder.classes)} classes: {', '.join(folder.classes)}")
    pipeline = build_pipeline(
        data_dir,
        batch_size=config.batch_size,
        val_fraction=config.val_fraction,
        seed=config.seed,
        num_workers=config.num_workers,
        cache_dir=out / "cache",
        padding=config.crop_padding,
        jitter=config.jitter,
    )
    print(f"train / val: {len(pipeline.train_indices)} / {len(pipeline.val_indices)} images (stratified)")
    print(f"mean {[round(v, 4) for v in pipeline.mean.tolist()]}, std {[round(v, 4) for v in pipeline.std.tolist()]} (train split only)")
    x, y = next(iter(pipeline.train_loader))
    print(f"one training batch: x {tuple(x.shape)} {x.dtype}, y {tuple(y.shape)} {y.dtype}")

    # Imbalance: keep every image of class 0 but only 1 in 20 of the others, then sample.
    labels = torch.tensor(folder.targets)
    keep = torch.cat([(labels == 0).nonzero().flatten(), (labels != 0).nonzero().flatten()[::20]])
    sampled = labels[keep][list(balanced_sampler(labels[keep], num_samples=5000, seed=config.seed))]
    print("imbalanced subset, class counts:", class_counts(labels[keep], len(folder.classes)).tolist())
    print("balanced sampler, 5000 draws:   ", class_counts(sampled, len(folder.classes)).tolist())

    # Figure: one image, eight per-sample augmentations and eight batched ones.
    data = decode_image_folder(data_dir, out / "cache")
    image = data.images[0]
    per_sample = train_transforms([0, 0, 0], [1, 1, 1], size=image.shape[-1], jitter=config.jitter)
    torch.manual_seed(config.seed)
    row1 = torch.stack([per_sample(image) for _ in range(8)]).clamp(0, 1)
    generator = torch.Generator().manual_seed(config.seed)
    row2 = random_crop_flip(image.expand(8, -1, -1, -1), config.crop_padding, generator).float() / 255

    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 9, figsize=(11, 2.8))
    for r, (row, title) in enumerate([(row1, "v2 per sample"), (row2, "batched crop+flip")]):
        axes[r, 0].imshow(image.permute(1, 2, 0).numpy())
        axes[r, 0].set_title("original" if r == 0 else "", fontsize=8)
        axes[r, 0].set_ylabel(title, fontsize=8)
        for i in range(8):
            axes[r, i + 1].imshow(row[i].permute(1, 2, 0).numpy())
        for ax in axes[r]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(f"Lab 4: augmentations of {folder.samples[0][0].name} ({folder.classes[int(data.labels[0])]})")
    fig.tight_layout()
    fig.savefig(out / "lab4_augmentations.png", dpi=120)
    print(f"saved {out / 'lab4_augmentations.png'}")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
        raise SystemExit(f"{todo}\n(finish this TODO in {__file__}, then run again)") from None
