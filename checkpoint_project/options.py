"""Checkpoint project, given code: the command-line options (read it, you do not write it).

Every option is checked when it is parsed (argparse `choices` and typed parsers with ranges),
so a wrong value is one line naming the option, before any work starts. Every field of the
Config dataclass is an option of `train`: --epochs 8 --widths 64,128,256 --compile.
"""

from __future__ import annotations

import argparse
import dataclasses

from lab5_gpu_mixed_precision.solution import AMP_CHOICES, get_device


def number(kind, low=None, high=None, low_open=False):
    """A parser for an int/float in [low, high] (low excluded with low_open)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a{'n integer' if kind is int else ' number'}") from None
        if value != value or (low is not None and (value <= low if low_open else value < low)) or (high is not None and value > high):
            bounds = f"{'>' if low_open else '>='} {low}" if high is None else f"between {low} and {high}"
            raise argparse.ArgumentTypeError(f"{text} is out of range: it must be {bounds}")
        return value
    return parse


def device(text: str) -> str:
    """A device this machine has (Lab 5's get_device says why not, in one line)."""
    try:
        get_device(text)
    except (RuntimeError, ValueError) as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return text


def boolean(text: str) -> bool:
    values = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}
    if text.lower() not in values:
        raise argparse.ArgumentTypeError(f"{text!r} is not a boolean: use true or false")
    return values[text.lower()]


def int_list(length: int | None = None, minimum: int = 0, min_items: int = 1, distinct: bool = False):
    """Comma-separated integers >= minimum (distinct ones if asked), e.g. 64,128,256."""
    def parse(text: str) -> tuple[int, ...]:
        try:
            values = tuple(int(v) for v in text.split(",") if v.strip())
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of integers") from None
        if length is not None and len(values) != length:
            raise argparse.ArgumentTypeError(f"{text!r} needs exactly {length} values, got {len(values)}")
        if len(values) < min_items or (distinct and len(set(values)) != len(values)) or min(values) < minimum:
            raise argparse.ArgumentTypeError(f"{text!r} needs {min_items}+{' distinct' if distinct else ''} values, each >= {minimum}")
        return values
    return parse


positive_int, non_negative_int = number(int, 1), number(int, 0)
positive_float, non_negative_float, fraction = number(float, 0, low_open=True), number(float, 0), number(float, 0, 1)

# How each Config field is parsed (speedrun.py's fields included), unless the field's metadata
# has a "parser". Fields not listed get their type's parser: boolean, non-negative int, positive float.
FIELD_PARSERS = {
    "arch": {"choices": ["cnn", "resnet"]}, "widths": {"type": int_list(3, minimum=1)},
    "epochs": {"type": positive_float}, "batch_size": {"type": positive_int}, "lr": {"type": positive_float},
    "momentum": {"type": fraction}, "weight_decay": {"type": non_negative_float},
    "label_smoothing": {"type": fraction}, "warmup": {"type": fraction}, "bn_momentum": {"type": fraction},
    "whiten_eps": {"type": positive_float}, "flip": {"choices": ["alternate", "random", "none"]},
    "tta": {"type": int, "choices": [0, 1, 2]}, "amp": {"choices": list(AMP_CHOICES)},
    "classes": {"type": int_list(minimum=0, min_items=2, distinct=True)}, "lr_start": {"type": fraction}, "lr_end": {"type": fraction},
    "whiten_bias_epochs": {"type": non_negative_float}, "low_res_size": {"type": number(int, 4, 32)},
    "low_res_fraction": {"type": fraction},
}


def add_config_options(parser: argparse.ArgumentParser, config_class) -> None:
    """One option per Config field, default None (= keep the named config's value)."""
    for f in dataclasses.fields(config_class):
        flag = "--" + f.name.replace("_", "-")
        kind = str(f.type)
        spec = f.metadata.get("parser") or FIELD_PARSERS.get(f.name) or (
            {"type": boolean} if kind == "bool" else {"type": non_negative_int} if kind == "int" else {"type": positive_float})
        if kind == "bool":  # `--compile` alone means true; `--channels-last false` turns one off
            parser.add_argument(flag, nargs="?", const=True, default=None, metavar="BOOL", **spec)
        else:
            parser.add_argument(flag, default=None, **spec)


class Parser(argparse.ArgumentParser):
    """argparse, with a bad option as one line (not the 20-line usage first): what is wrong, and where to look."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (all options: {self.prog} --help)\n")


def build_parser(config_class, config_names: list[str], prog: str | None = None) -> argparse.ArgumentParser:
    parser = Parser(prog=prog, description="CIFAR-10 image classification: train, evaluate, predict, export.")
    parser.set_defaults(config_class=config_class)  # the commands rebuild checkpoints' configs (and networks) with it
    commands = parser.add_subparsers(dest="command", required=True)

    def data_options(command_parser):
        command_parser.add_argument("--data-dir", help="image folder with train/ and test/ (e.g. the offline CIFAR-10 copy)")
        command_parser.add_argument("--data-root", default="./data", help="torchvision download folder when --data-dir is not given")
        command_parser.add_argument("--cache-dir", default="./data/cache", help="where decoded uint8 arrays are cached ('' = no cache)")
        command_parser.add_argument("--smoke", action="store_true", help="generated data instead of CIFAR-10 (seconds, no download)")
        command_parser.add_argument("--device", type=device, default=None, help="cpu, cuda, cuda:1 or mps (default: the best there is)")

    train_parser = commands.add_parser("train", help="train a model")
    data_options(train_parser)
    train_parser.add_argument("--config", choices=config_names, help="named hyperparameters (default: fast, or smoke with --smoke)")
    train_parser.add_argument("--out", default="runs/train", help="run folder: checkpoints, TensorBoard logs, metrics.json")
    train_parser.add_argument("--resume", nargs="?", const="auto", help="continue from a checkpoint (default: OUT/last.pt)")
    train_parser.add_argument("--overwrite", action="store_true", help="start afresh in an --out folder that holds another run")
    train_parser.add_argument("--finetune-from", help="start from another run's checkpoint (a head of another size is re-initialised)")
    train_parser.add_argument("--threads", type=non_negative_int, default=0, help="CPU threads (0 = torch's default)")
    add_config_options(train_parser, config_class)

    evaluate_parser = commands.add_parser("evaluate", help="accuracy, per-class table, confusion matrix of a checkpoint or ensemble")
    data_options(evaluate_parser)
    models = evaluate_parser.add_mutually_exclusive_group(required=True)
    models.add_argument("--checkpoint", help="a .pt file written by train")
    models.add_argument("--ensemble", nargs="+", help="several checkpoints whose softmax outputs are averaged")
    evaluate_parser.add_argument("--split", default="test", choices=["test", "val", "train"])
    evaluate_parser.add_argument("--tta", type=int, choices=[0, 1, 2], help="test-time augmentation level (default: the checkpoint's)")
    evaluate_parser.add_argument("--amp", default="auto", choices=list(AMP_CHOICES), help="autocast for evaluation")
    evaluate_parser.add_argument("--out", default="runs/evaluate", help="folder for metrics.json and confusion_matrix.png")

    predict_parser = commands.add_parser("predict", help="classify image files")
    predict_parser.add_argument("images", nargs="+")
    models = predict_parser.add_mutually_exclusive_group(required=True)
    models.add_argument("--checkpoint")
    models.add_argument("--ensemble", nargs="+")
    predict_parser.add_argument("--tta", type=int, choices=[0, 1, 2], default=0)

    export_parser = commands.add_parser("export", help="export a checkpoint to ONNX and check it with onnxruntime")
    export_parser.add_argument("--checkpoint", required=True)
    export_parser.add_argument("--out", default="runs/model.onnx", help="the .onnx file to write (never the checkpoint itself)")
    return parser
