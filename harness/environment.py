"""The environment line at the top of every run: Python, torch and torchvision, whether torch lies in
the range this course is tested on, the device and the autocast dtype the course will use and why,
and the start method of child processes. A failure that comes from the environment then reads as one.
"""

from __future__ import annotations

import importlib
import multiprocessing
import platform
import re
from importlib import metadata
from pathlib import Path

# What a child process started with spawn (macOS, Windows) cannot do, as its errors say it: get an object
# that pickling cannot name (a lambda, a function or class defined inside a function or in a notebook cell),
# or start before the parent script guarded its own start.
SPAWN_ERRORS = re.compile(r"Can't (pickle|get) local object|Can't pickle <(function|class) |Can't get attribute .* on <module "
                          r"'__main__'|PicklingError|before the\s+current process has finished its bootstrapping phase|"
                          r"DataLoader worker \(pid")


def start_method() -> str:
    """How this run starts child processes: the method set, else the platform's default."""
    return multiprocessing.get_start_method(allow_none=True) or multiprocessing.get_all_start_methods()[0]


def start_method_cause(error: BaseException) -> str | None:
    """One line when `error` is how a spawned child process fails, else None: the cause lies in how this
    platform starts processes, and the fix is in where things are defined, not in the lesson's maths."""
    method = start_method()
    if method == "fork" or not SPAWN_ERRORS.search(f"{type(error).__name__}: {error}"):
        return None  # a forked child inherits everything: the error is not about the start method
    return (f"    environment: child processes start with {method} here (the default on macOS and Windows); a child gets every "
            "object by pickling, which cannot send a lambda or a function or class defined inside another function or "
            "in a notebook cell: define it at the top level of your file, and start scripts under "
            "`if __name__ == \"__main__\":`")


# The torch releases CI runs the README's test command on (.ci/run): requirements.txt's floor, the release
# this machine holds, the newest the package index served when this was written. Keep it in step with .ci/run.
TESTED_TORCH = ("2.9", "2.14", "2.15")


def torch_floor(root: Path) -> str | None:
    try:
        found = re.search(r"^torch\s*>=\s*([\d.]+)", (root / "requirements.txt").read_text(), re.M)
    except OSError:
        return None
    return found[1] if found else None


def release(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version.split("+")[0])[:2])


def device_line(root: Path) -> str | None:
    """The device and autocast dtype Lab 5's get_device / autocast_dtype pick here, with the reason
    (None for a course without Lab 5's given helpers)."""
    if not (root / "lab5_gpu_mixed_precision" / "solution.py").exists():
        return None
    import torch

    try:
        lab5 = importlib.import_module("lab5_gpu_mixed_precision.solution")
        device = lab5.get_device()
        dtype = lab5.autocast_dtype(device, "auto")
    except Exception:  # noqa: BLE001 - a broken copy of Lab 5: say less
        return "device: cuda" if torch.cuda.is_available() else "device: cpu (no CUDA GPU: the gpu tests skip)"
    if device.type == "cuda":
        why = f"{torch.cuda.get_device_name(device)}" + ("" if dtype == torch.bfloat16 else ", no bf16: fp16 with a GradScaler")
    elif device.type == "cpu":
        why = "CPU with native bf16" if dtype == torch.bfloat16 else "CPU without native bf16: fp32"
        why += "; no CUDA GPU: the gpu tests skip"
    else:
        why = f"{device.type}: fp32"
    name = {torch.bfloat16: "bf16", torch.float16: "fp16", None: "fp32"}.get(dtype, str(dtype))
    return f"device: {device.type}, autocast {name} ({why})"


def pytest_report_header(config):
    return environment_lines(Path(config.rootpath))


def environment_lines(root: Path) -> list[str]:
    """The header's lines: also what the GPU notebook prints before its first test."""
    lines = [f"Python {platform.python_version()} on {platform.system()}; child processes (DataLoader workers, torchrun) start with "
             f"{start_method()}"]
    try:  # the installed versions, read without importing (the header must not import torch for a --hint)
        torch_version, vision_version = metadata.version("torch"), metadata.version("torchvision")
    except metadata.PackageNotFoundError as error:
        return lines + [f"this is your environment, not your code: {error.name} is not installed: "
                        "run `pip install -r requirements.txt`"]
    floor = torch_floor(root)
    tested = ", ".join(TESTED_TORCH)
    lines.append(f"torch {torch_version}, torchvision {vision_version} (CI tests torch {tested}"
                 + (f"; requirements.txt asks for >= {floor})" if floor else ")"))
    if floor and release(torch_version) < release(floor):
        lines.append(f"WARNING: torch {torch_version} is older than {floor}, the oldest this course supports: a failure "
                     f"may be your environment, not your code. Run `pip install -r requirements.txt`.")
    elif release(torch_version) > max(release(v) for v in TESTED_TORCH):
        lines.append(f"note: torch {torch_version} is newer than the releases CI tests ({tested}).")
    device = device_line(root)
    return lines + [device] if device else lines
