"""An independent program that keeps the checkpoint project's command-line contract, for
authoring/check_contract.py: written from the README alone, as a learner on the open track would
(a helper session that did not read the reference, runs.py or the suite), so it differs from the
reference wherever the contract lets it: its own option parsing, image loading, split, augmentation,
conv-BN-ReLU network, training loop and evaluation; only Lab 3's save_checkpoint and EarlyStopping are
imported. The contract suite must pass it: a suite that failed it would be grading the reference.

    python checkpoint_project/mine.py train --data-dir DIR --out OUT [--epochs E ...] [--resume]
    python checkpoint_project/mine.py evaluate --checkpoint OUT/last.pt --data-dir DIR --out EVAL
    python checkpoint_project/mine.py predict --checkpoint OUT/last.pt IMG ...
    python checkpoint_project/mine.py export --checkpoint OUT/last.pt --out model.onnx
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from lab3_training_loop.solution import EarlyStopping, save_checkpoint  # noqa: E402

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
DEFAULTS = dict(epochs=12, batch_size=128, lr=0.1, val_size=None, seed=0, patience=5,
                widths=[32, 64, 128], label_smoothing=0.1, weight_decay=5e-4, clip_norm=1.0)
RUN_FILES = ("last.pt", "best.pt", "metrics.json")


class CliError(Exception):
    """A refusal: printed as one `error:` line, exit status 1."""


# ---------------------------------------------------------------- options
def _number(kind, low, inclusive):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a valid {kind.__name__}") from None
        if not math.isfinite(value) or value < low or (value == low and not inclusive):
            bound = f">= {low}" if inclusive else f"> {low}"
            raise argparse.ArgumentTypeError(f"{text} is out of range (must be {bound})")
        return value
    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="mine.py", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train a classifier (or --resume one)")
    t.add_argument("--data-dir", type=Path, required=True)
    t.add_argument("--out", type=Path, required=True)
    t.add_argument("--epochs", type=_number(int, 1, True))
    t.add_argument("--batch-size", type=_number(int, 1, True))
    t.add_argument("--lr", type=_number(float, 0.0, False))
    t.add_argument("--val-size", type=_number(int, 0, True))
    t.add_argument("--seed", type=int)
    t.add_argument("--patience", type=_number(int, 1, True))
    t.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    group = t.add_mutually_exclusive_group()
    group.add_argument("--resume", action="store_true", help="continue the run in --out")
    group.add_argument("--overwrite", action="store_true", help="replace the run in --out")
    e = sub.add_parser("evaluate", help="score a checkpoint on a split")
    e.add_argument("--checkpoint", type=Path, required=True)
    e.add_argument("--data-dir", type=Path, required=True)
    e.add_argument("--split", default="test", choices=["train", "test"])
    e.add_argument("--out", type=Path, required=True)
    e.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    p = sub.add_parser("predict", help="classify image files")
    p.add_argument("--checkpoint", type=Path, required=True)
    p.add_argument("images", nargs="+")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"])
    x = sub.add_parser("export", help="write an ONNX model")
    x.add_argument("--checkpoint", type=Path, required=True)
    x.add_argument("--out", type=Path, required=True)
    return parser


def pick_device(name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise CliError("--device cuda: no CUDA device is available")
    return torch.device(name)


# ---------------------------------------------------------------- data
def read_image(path: Path) -> torch.Tensor:
    from PIL import Image
    try:
        with Image.open(path) as im:
            im = im.convert("RGB")
            if im.size != (32, 32):
                im = im.resize((32, 32), Image.BILINEAR)
            data = torch.frombuffer(bytearray(im.tobytes()), dtype=torch.uint8)
    except Exception as exc:  # PIL raises several kinds
        raise CliError(f"{path}: not a readable image ({type(exc).__name__}: {exc})") from None
    return data.view(32, 32, 3).permute(2, 0, 1).contiguous()


def read_split(data_dir: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    """All images of DIR/split/<class>/* as uint8 (N, 3, 32, 32), labels, sorted class names."""
    if not data_dir.is_dir():
        raise CliError(f"--data-dir {data_dir}: no such folder")
    root = data_dir / split
    if not root.is_dir():
        raise CliError(f"--data-dir {data_dir}: no {split}/ folder inside it")
    names = sorted(d.name for d in root.iterdir() if d.is_dir())
    if not names:
        raise CliError(f"{root}: no class folders")
    images, labels = [], []
    for i, name in enumerate(names):
        files = sorted(f for f in (root / name).iterdir() if f.suffix.lower() in IMAGE_SUFFIXES)
        if not files:
            raise CliError(f"{root / name}: no images (.png/.jpg) in this class folder")
        images += [read_image(f) for f in files]
        labels += [i] * len(files)
    return torch.stack(images), torch.tensor(labels), names


def stratified_split(labels: torch.Tensor, count: int, seed: int):
    """(train, val) sorted indices: `count` images held out, in proportion to each class."""
    gen = torch.Generator().manual_seed(seed)
    order = torch.randperm(len(labels), generator=gen)
    # a stable sort by class of a random permutation interleaves the classes: take the first of each
    by_class = order[torch.argsort(labels[order], stable=True)]
    rank = torch.empty(len(labels), dtype=torch.long)
    for c in labels.unique():
        members = by_class[labels[by_class] == c]
        rank[members] = torch.arange(len(members)) * len(labels) // len(members)
    val = torch.argsort(rank * len(labels) + torch.argsort(order), stable=True)[:count]
    mask = torch.zeros(len(labels), dtype=torch.bool)
    mask[val] = True
    return (~mask).nonzero().flatten(), mask.nonzero().flatten()


def crop_flip(images: torch.Tensor, pad: int, gen: torch.Generator) -> torch.Tensor:
    """A random translation by up to `pad` pixels (zero padding) and a coin-flip mirror, per image."""
    n, _, h, w = images.shape
    padded = F.pad(images, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), generator=gen)
    flip = torch.rand(n, generator=gen) < 0.5
    rows = (dy[:, None] + torch.arange(h)[None])[:, None, :, None].expand(n, images.shape[1], h, w + 2 * pad)
    out = padded.gather(2, rows)
    cols = torch.arange(w)[None].expand(n, w)
    cols = torch.where(flip[:, None], w - 1 - cols, cols) + dx[:, None]
    return out.gather(3, cols[:, None, None, :].expand(n, images.shape[1], h, w))


def conv_bn_act(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))


# ---------------------------------------------------------------- model
class Net(nn.Module):
    """Normalise 0-255 pixels, three conv-BN-ReLU stages with max-pooling, a linear head."""

    def __init__(self, num_classes: int, widths=(64, 128, 256)):
        super().__init__()
        w0, w1, w2 = widths
        self.register_buffer("mean", torch.tensor([125.3, 123.0, 113.9]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([63.0, 62.1, 66.7]).view(1, 3, 1, 1))
        self.body = nn.Sequential(
            conv_bn_act(3, w0), nn.MaxPool2d(2),
            conv_bn_act(w0, w1), nn.MaxPool2d(2),
            conv_bn_act(w1, w2), nn.MaxPool2d(2),
            conv_bn_act(w2, w2), nn.AdaptiveMaxPool2d(1), nn.Flatten())
        self.head = nn.Linear(w2, num_classes)
        with torch.no_grad():  # a soft initial softmax: a high first LR cannot blow the logits up
            self.head.weight.mul_(0.125)

    def forward(self, x):
        return self.head(self.body((x - self.mean) / self.std))


def load_model(path: Path, device: torch.device | None = None):
    if not path.is_file():
        raise CliError(f"--checkpoint {path}: no such file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        extra = ckpt["extra"]
        model = Net(len(extra["class_names"]), extra["config"]["widths"])
        model.load_state_dict(ckpt["model"])
    except Exception as exc:
        raise CliError(f"--checkpoint {path}: not a checkpoint of this tool ({type(exc).__name__}: {str(exc).splitlines()[0]})") from None
    return model.to(device or "cpu").eval(), ckpt


@torch.no_grad()
def logits_of(model, images: torch.Tensor, device, batch=500) -> torch.Tensor:
    model.eval()
    return torch.cat([model(images[i:i + batch].to(device).float()).float().cpu()
                      for i in range(0, len(images), batch)])


# ---------------------------------------------------------------- train
def lr_at(step: int, total: int, peak: float) -> float:
    """Triangular schedule: linear warm-up over the first 20% of steps, then linear decay to 0."""
    warm = max(1, int(0.2 * total))
    return peak * (step + 1) / warm if step < warm else peak * max(0.0, (total - step) / max(1, total - warm))


def train(args) -> None:
    out: Path = args.out
    given = {k: getattr(args, k) for k in ("epochs", "batch_size", "lr", "val_size", "seed", "patience")}
    ckpt = None
    if args.resume:
        if not (out / "last.pt").is_file():
            raise CliError(f"--resume: {out / 'last.pt'} does not exist (nothing to resume)")
        ckpt = torch.load(out / "last.pt", map_location="cpu", weights_only=True)
        config = dict(ckpt["extra"]["config"])
        for key, value in given.items():
            if value is not None and key != "epochs" and value != config[key]:
                raise CliError(f"--resume: --{key.replace('_', '-')} {value} contradicts the run's {config[key]}")
        if given["epochs"] is not None:
            config["epochs"] = given["epochs"]
    else:
        held = [n for n in RUN_FILES if (out / n).exists()]
        if held and not args.overwrite:
            raise CliError(f"--out {out} holds a run ({', '.join(held)}): use --resume, --overwrite or another --out")
        config = dict(DEFAULTS)
        config.update({k: v for k, v in given.items() if v is not None})
    device = pick_device(args.device)
    images, labels, names = read_split(args.data_dir, "train")
    if ckpt is not None and ckpt["extra"]["class_names"] != names:
        raise CliError(f"--data-dir {args.data_dir}: its classes {names} are not the run's {ckpt['extra']['class_names']}")
    n = len(labels)
    val_size = config["val_size"] if config["val_size"] is not None else n // 10
    if val_size >= n:
        raise CliError(f"--val-size {val_size}: must be smaller than the {n} training images")
    config["val_size"] = val_size
    if val_size:
        train_idx, val_idx = stratified_split(labels, val_size, config["seed"])
    else:
        train_idx, val_idx = torch.arange(n), torch.arange(0)
    x_train, y_train = images[train_idx], labels[train_idx]
    x_val, y_val = images[val_idx], labels[val_idx]

    out.mkdir(parents=True, exist_ok=True)
    if args.overwrite:
        for name in RUN_FILES:
            (out / name).unlink(missing_ok=True)
        shutil.rmtree(out / "tensorboard", ignore_errors=True)
    for tmp in out.glob("*.tmp*"):
        tmp.unlink(missing_ok=True)

    torch.manual_seed(config["seed"])
    model = Net(len(names), config["widths"]).to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=config["lr"], momentum=0.9, nesterov=True,
                                weight_decay=config["weight_decay"])
    stopper = EarlyStopping(config["patience"], mode="max")
    history, start_epoch, seconds, best = [], 0, 0.0, None
    if ckpt is not None:
        model.load_state_dict(ckpt["model"])
        optimizer.load_state_dict(ckpt["optimizer"])
        stopper.load_state_dict(ckpt["extra"]["early_stopping"])
        history, start_epoch = list(ckpt["extra"]["history"]), ckpt["epoch"]
        seconds, best = ckpt["extra"]["train_seconds"], ckpt["best"]
        if ckpt["extra"].get("stopped_early"):
            print(f"the run in {out} stopped early at epoch {start_epoch}: nothing to train")
            start_epoch = config["epochs"]
    from torch.utils.tensorboard import SummaryWriter
    writer = SummaryWriter(str(out / "tensorboard"), purge_step=start_epoch + 1 if start_epoch else None)

    batch = config["batch_size"]
    steps_per_epoch = math.ceil(len(y_train) / batch)
    total = steps_per_epoch * config["epochs"]
    stopped = False
    for epoch in range(start_epoch, config["epochs"]):
        t0 = time.perf_counter()
        model.train()
        gen = torch.Generator().manual_seed(config["seed"] * 100_003 + epoch)
        order = torch.randperm(len(y_train), generator=gen)
        loss_sum = 0.0
        for i in range(steps_per_epoch):
            idx = order[i * batch:(i + 1) * batch]
            step = epoch * steps_per_epoch + i
            lr = lr_at(step, total, config["lr"])
            for group in optimizer.param_groups:
                group["lr"] = lr
            x = crop_flip(x_train[idx], 2, gen).to(device).float()
            loss = F.cross_entropy(model(x), y_train[idx].to(device), label_smoothing=config["label_smoothing"])
            if not torch.isfinite(loss):
                writer.close()
                raise CliError(f"non-finite training loss ({loss.item()}) at epoch {epoch + 1}, step {step}: "
                               f"the run stops (try a smaller --lr); nothing of this epoch is saved")
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), config["clip_norm"])
            optimizer.step()
            loss_sum += loss.item() * len(idx)
        seconds += time.perf_counter() - t0
        row = {"epoch": epoch + 1, "train_loss": loss_sum / len(y_train), "lr": lr}
        if len(y_val):
            logits = logits_of(model, x_val, device)
            row["val_loss"] = F.cross_entropy(logits, y_val).item()
            row["val_accuracy"] = (logits.argmax(1) == y_val).float().mean().item()
        else:
            row["val_loss"], row["val_accuracy"] = None, None  # --val-size 0: no validation
        history.append(row)
        stopped = stopper.step(row["val_accuracy"] if len(y_val) else -row["train_loss"])
        if stopper.improved:
            best = row["val_accuracy"] if len(y_val) else None
        for tag, key in (("loss/train", "train_loss"), ("loss/val", "val_loss"),
                         ("accuracy/val", "val_accuracy"), ("lr", "lr")):
            if row[key] is not None:
                writer.add_scalar(tag, row[key], epoch + 1)
        writer.flush()
        state = dict(model=model, optimizer=optimizer, epoch=epoch + 1, best=best, config=config,
                     class_names=names, history=history, train_seconds=seconds,
                     early_stopping=stopper.state_dict(), stopped_early=stopped)
        if stopper.improved:
            save_checkpoint(out / "best.pt", **state)
        save_checkpoint(out / "last.pt", **state)
        val = f"val_loss {row['val_loss']:.4f} val_accuracy {row['val_accuracy']:.4f}" if len(y_val) else "no validation"
        print(f"epoch {epoch + 1}/{config['epochs']}: train_loss {row['train_loss']:.4f} {val}", flush=True)
        if stopped:
            print(f"early stopping: no improvement for {config['patience']} epochs")
            break
    writer.close()
    (out / "metrics.json").write_text(json.dumps({"history": history, "train_seconds": seconds,
                                                  "config": config, "class_names": names}, indent=2))
    print(f"done: {out / 'last.pt'}, {out / 'metrics.json'}")


# ---------------------------------------------------------------- evaluate / predict / export
def evaluate(args) -> None:
    out: Path = args.out
    held = [n for n in ("last.pt", "best.pt") if (out / n).exists()]
    if (out / "metrics.json").is_file():
        try:
            if "history" in json.loads((out / "metrics.json").read_text()):
                held.append("metrics.json")
        except ValueError:
            held.append("metrics.json")
    if held:
        raise CliError(f"--out {out} is a training run's folder ({', '.join(held)}): choose another --out")
    device = pick_device(args.device)
    model, ckpt = load_model(args.checkpoint, device)
    names = ckpt["extra"]["class_names"]
    images, labels, found = read_split(args.data_dir, args.split)
    if found != names:
        raise CliError(f"{args.data_dir / args.split}: classes {found} are not the checkpoint's {names}")
    logits = logits_of(model, images, device)
    preds = logits.argmax(1)
    cm = torch.zeros(len(names), len(names), dtype=torch.long)
    cm.index_put_((labels, preds), torch.ones_like(labels), accumulate=True)
    metrics = {"accuracy": (preds == labels).float().mean().item(),
               "log_loss": F.cross_entropy(logits, labels).item(),
               "num_images": len(labels), "class_names": names,
               "confusion_matrix": cm.tolist(), "checkpoint": str(args.checkpoint), "split": args.split}
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(metrics, indent=2))
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(1.5 + 0.6 * len(names), 1.2 + 0.6 * len(names)))
    ax.imshow(cm.numpy(), cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for t in range(len(names)):
        for p in range(len(names)):
            ax.text(p, t, str(int(cm[t, p])), ha="center", va="center")
    fig.tight_layout()
    fig.savefig(out / "confusion_matrix.png", dpi=100)
    plt.close(fig)
    print(f"accuracy {metrics['accuracy']:.4f}, log_loss {metrics['log_loss']:.4f} "
          f"on {len(labels)} {args.split} images -> {out / 'metrics.json'}")


def predict(args) -> None:
    device = pick_device(args.device)
    model, ckpt = load_model(args.checkpoint, device)
    names = ckpt["extra"]["class_names"]
    images = torch.stack([read_image(Path(p)) for p in args.images])
    probs = logits_of(model, images, device).softmax(1)
    for path, row in zip(args.images, probs, strict=True):
        k = int(row.argmax())
        print(f"{path}: {names[k]} ({100 * row[k].item():.1f}%)")


def export(args) -> None:
    out: Path = args.out
    if out.suffix.lower() != ".onnx":
        raise CliError(f"--out {out}: export writes only a .onnx file")
    if out.exists() and out.resolve() == args.checkpoint.resolve():
        raise CliError(f"--out {out}: that is the checkpoint itself")
    model, ckpt = load_model(args.checkpoint)
    k = len(ckpt["extra"]["class_names"])
    out.parent.mkdir(parents=True, exist_ok=True)
    example = torch.rand(2, 3, 32, 32) * 255
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (example,), str(out), dynamo=False, input_names=["images"],
                          output_names=["logits"], opset_version=17,
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}})
    import numpy as np
    import onnxruntime as ort
    check = torch.rand(5, 3, 32, 32) * 255
    got = ort.InferenceSession(str(out), providers=["CPUExecutionProvider"]).run(None, {"images": check.numpy()})[0]
    with torch.no_grad():
        want = model(check).numpy()
    err = float(np.abs(got - want).max())
    if got.shape != (5, k) or err > 1e-3:
        raise CliError(f"{out}: onnxruntime disagrees with PyTorch (max error {err:.2e})")
    print(f"wrote {out} (onnxruntime matches PyTorch: max error {err:.1e})")


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        {"train": train, "evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except (OSError, RuntimeError, ValueError, KeyError) as exc:
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
