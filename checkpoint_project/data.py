"""Checkpoint project, given code: where the images come from.

Read it, you do not write it. Every source returns the same thing: (N, 3, 32, 32) uint8
images, (N,) int64 labels and the class names in label order.

    load_image_folder   an image folder split/<class>/*.jpg, decoded once and cached (.npz)
    load_torchvision_cifar10   torchvision's download, with one clear message when offline
    make_synthetic_dataset     generated images whose class is visible (smoke runs, tests)
    select_classes      keep (and renumber) the classes a model is trained or scored on
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import torch

CIFAR10_CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}
UNPACK_HINT = "the offline CIFAR-10 copy unpacked with `tar -xzf train.tar.gz -C DIR && tar -xzf test.tar.gz -C DIR`"


def read_image(path: Path) -> np.ndarray:
    """One image file -> (32, 32, 3) uint8 RGB array, resized to the training resolution.
    16-bit images are scaled to 8 bits (not clipped); a file PIL cannot read is one clear error."""
    from PIL import Image

    try:
        with Image.open(path) as image:
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                array = np.asarray(image, dtype=np.float64)
                scale = 65535.0 if array.max() > 255 else 255.0
                image = Image.fromarray((array / scale * 255).round().astype(np.uint8))
            return np.asarray(image.convert("RGB").resize((32, 32)))
    except OSError as error:  # truncated files, random bytes (UnidentifiedImageError is an OSError)
        raise SystemExit(f"error: cannot read image {path}: {error}. Delete or replace that file and run again.") from None


def image_files(folder: Path) -> list[Path]:
    return sorted(f for f in folder.iterdir() if f.suffix.lower() in IMAGE_SUFFIXES and f.is_file())


def folder_fingerprint(split_dir: Path) -> str:
    """A key that changes when any image is added, removed, replaced or touched (names, sizes, mtimes)."""
    digest = hashlib.sha1(str(split_dir.resolve()).encode())
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        for file in image_files(class_dir):
            stat = file.stat()
            digest.update(f"{class_dir.name}/{file.name}:{stat.st_size}:{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def decode_image_folder(split_dir: Path) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """split_dir/<class>/*.{jpg,png} -> (N, 3, 32, 32) uint8, (N,) int64 labels, class names.
    Class folders are sorted by name (CIFAR-10's folder names sort into its label order)."""
    class_names = sorted(p.name for p in split_dir.iterdir() if p.is_dir())
    images, labels = [], []
    for label, name in enumerate(class_names):
        files = image_files(split_dir / name)
        if not files:
            raise SystemExit(f"error: class folder {split_dir / name} has no images (.jpg, .png, .bmp): add some or remove it")
        images += [read_image(file) for file in files]
        labels += [label] * len(files)
    if not images:
        raise SystemExit(f"error: {split_dir} has no class folders with images: expected {split_dir}/<class>/*.jpg")
    return np.stack(images).transpose(0, 3, 1, 2).copy(), np.array(labels, dtype=np.int64), class_names


def load_image_folder(data_dir: Path, split: str, cache_dir: Path | None) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """One split of an image folder as uint8 tensors, decoded once and cached as .npz.

    The cache is keyed by the folder's contents (folder_fingerprint), so adding or deleting
    images is noticed, and a read-only data folder is fine; the ~10 s of JPEG decoding then
    happens once instead of every run.
    """
    split_dir = Path(data_dir) / split
    if not split_dir.is_dir():
        raise SystemExit(f"error: {split_dir} does not exist. --data-dir must be an image folder with train/ and test/ "
                         f"subfolders (one folder per class), e.g. {UNPACK_HINT}.")
    cache = None
    if cache_dir is not None:
        cache = Path(cache_dir) / f"{split_dir.parent.name}-{split}-{folder_fingerprint(split_dir)}.npz"
        if cache.exists():
            try:
                with np.load(cache) as stored:
                    return (torch.from_numpy(stored["images"]), torch.from_numpy(stored["labels"]),
                            [str(name) for name in stored["class_names"]])
            except Exception as error:  # truncated or foreign .npz: decode again and rewrite it
                print(f"note: ignoring the unreadable decode cache {cache} ({type(error).__name__}); decoding again")
    images, labels, class_names = decode_image_folder(split_dir)
    if cache is not None:
        partial = cache.with_suffix(f".{os.getpid()}.tmp.npz")
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            np.savez(partial, images=images, labels=labels, class_names=np.array(class_names))
            os.replace(partial, cache)  # atomic: parallel ranks never read a half-written cache
        except OSError as error:
            partial.unlink(missing_ok=True)
            print(f"note: could not write the decode cache {cache}: {error}")
    return torch.from_numpy(images), torch.from_numpy(labels), class_names


def load_torchvision_cifar10(root: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """CIFAR-10 through torchvision (downloads into root the first time); uint8 (N, 3, 32, 32)."""
    import torchvision

    try:
        dataset = torchvision.datasets.CIFAR10(root=str(root), train=split != "test", download=True)
    except Exception as error:  # URLError, socket errors, checksum errors...: all mean "no data"
        raise SystemExit(
            f"error: could not download CIFAR-10 into {root} ({type(error).__name__}: {error}).\n"
            f"Either run once with internet access, or pass --data-dir DIR where DIR holds train/ and test/ "
            f"image folders ({UNPACK_HINT})."
        ) from None
    images = torch.from_numpy(dataset.data).permute(0, 3, 1, 2).contiguous()
    return images, torch.tensor(dataset.targets, dtype=torch.int64), list(dataset.classes)


def make_synthetic_dataset(num_images: int, seed: int, num_classes: int = 10) -> tuple[torch.Tensor, torch.Tensor]:
    """Generated 32x32 uint8 images whose class is visible (a class colour and stripe direction
    plus noise), so a smoke run can learn something in seconds without any download."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.arange(num_images) % num_classes
    palette = torch.rand(num_classes, 3, 1, 1, generator=torch.Generator().manual_seed(1234)) * 160 + 40
    coords = torch.arange(32, dtype=torch.float32)
    angle = labels.float()[:, None, None] * math.pi / num_classes
    stripes = torch.sin((coords[None, :, None] * angle.cos() + coords[None, None, :] * angle.sin()) * 0.8)
    images = palette[labels] + 40 * stripes[:, None] + 30 * torch.randn(num_images, 3, 32, 32, generator=generator)
    order = torch.randperm(num_images, generator=generator)
    return images.clamp(0, 255).to(torch.uint8)[order], labels[order]


def load_split(args, split: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """One split ("train" or "test") from whichever source the command line names."""
    if args.smoke:
        images, labels = make_synthetic_dataset(600 if split == "train" else 200, seed=0 if split == "train" else 1)
        return images, labels, list(CIFAR10_CLASSES)
    if args.data_dir:
        return load_image_folder(Path(args.data_dir), split, Path(args.cache_dir) if args.cache_dir else None)
    return load_torchvision_cifar10(Path(args.data_root), split)


def select_classes(images: torch.Tensor, labels: torch.Tensor, names: list[str], wanted: list[str],
                   allow_extra: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Keep the images of the classes named in `wanted`, relabelled 0..len(wanted)-1 in that order.

    Labels are matched by class NAME, never by position: a test folder without `airplane/`
    must not shift every other label. A wanted class the data lacks is an error; so is a class
    the data has beyond `wanted`, unless allow_extra (a model trained on a subset of classes).
    """
    missing = [name for name in wanted if name not in names]
    extra = [name for name in names if name not in wanted]
    if missing:
        raise SystemExit(f"error: the data has no class folder(s) {missing}; the model's classes are {wanted}")
    if extra and not allow_extra:
        raise SystemExit(f"error: the data has class folder(s) {extra} the model was not trained on (its classes: {wanted})")
    remap = torch.full((len(names),), -1, dtype=torch.int64)
    for new_label, name in enumerate(wanted):
        remap[names.index(name)] = new_label
    new_labels = remap[labels]
    keep = new_labels >= 0
    return images[keep], new_labels[keep]


def load_image_files(paths: list[str]) -> torch.Tensor:
    """Image files -> (N, 3, 32, 32) uint8 (resized to the training resolution)."""
    return torch.from_numpy(np.stack([read_image(Path(path)) for path in paths])).permute(0, 3, 1, 2).contiguous()
