"""The checkpoint project's command-line contract (checkpoint_project/README.md, "The command-line
contract"): `pytest -m contract --impl NAME` grades checkpoint_project/NAME.py through its command
line and the files it writes, on a tiny generated image folder. Nothing of the graded file is
imported, so any design passes that keeps the contract; each test is one behaviour, named after its
section (test_s5_… is §5), and fails with one line naming that section.

Deselected unless `-m` names `contract`; §9 (real data) also needs --runslow and CIFAR10_DIR.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness import course as course_structure

pytestmark = pytest.mark.contract

SECTIONS = {section.number: section.title for section in course_structure.load().contract}  # course.toml's [[contract]]
COLOURS = {"blue": (40, 60, 220), "green": (40, 200, 60), "red": (220, 40, 40), "yellow": (230, 220, 40)}
TRAIN = ("--epochs", 6, "--batch-size", 32, "--lr", 0.2, "--val-size", 32, "--seed", 0, "--device", "cpu")
TIMEOUT = 300


def broken(section: str, text: str):
    """Fail with the one line a contract failure is: its section, what was missing."""
    pytest.fail(f"contract §{section} {SECTIONS[section]}: {text}", pytrace=False)


DECOYS = {"blue": "red"}  # test images of the first class drawn in another's colour: a model calls them that one


def make_image_folder(root: Path, per_class: int, seed: int, jpeg: bool = False, decoys: int = 0) -> None:
    """4 classes: a 12x12 square of the class's colour (jittered) at a random place on dark noise
    (with `jpeg`, every other image a .jpg). The last `decoys` images of each DECOYS class wear the other
    class's colour, so the confusion matrix is not symmetric and its orientation shows."""
    import numpy as np
    from PIL import Image

    rng = np.random.default_rng(seed)
    for name, colour in COLOURS.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 120, (32, 32, 3), dtype=np.uint8)
            y, x = rng.integers(0, 20, 2)
            drawn = COLOURS[DECOYS[name]] if name in DECOYS and i >= per_class - decoys else colour
            image[y:y + 12, x:x + 12] = np.clip(np.array(drawn) + rng.integers(-30, 30, 3), 0, 255)
            Image.fromarray(image).save(folder / f"{i:03d}.{'jpg' if jpeg and i % 2 else 'png'}")


def child_env() -> dict:
    """The program's environment: UTF-8 output on every platform (Windows' console code page would fail on
    a progress bar), no warnings in the lines the suite reads."""
    return {**os.environ, "PYTHONWARNINGS": "ignore", "PYTHONIOENCODING": "utf-8"}


def output_of(result: subprocess.CompletedProcess) -> str:
    return "\n".join((result.stdout or "", result.stderr or ""))


class Program:
    """The graded file, run as `python FILE COMMAND ...` in a working folder of its own."""

    def __init__(self, path: Path, cwd: Path, course_root: Path):
        self.path, self.cwd, self.course_root = path, cwd, course_root

    def shown(self, arg) -> str:
        """An argument as given to the program: paths inside the working folder relative to it (short lines)."""
        if isinstance(arg, Path) and arg.is_relative_to(self.cwd):
            return str(arg.relative_to(self.cwd))
        return str(arg)

    def argv(self, *args) -> list[str]:
        return [sys.executable, str(self.path), *map(self.shown, args)]

    def run(self, *args, timeout=TIMEOUT) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(self.argv(*args), capture_output=True, encoding="utf-8", errors="replace", timeout=timeout,
                                  cwd=self.cwd, env=child_env())
        except subprocess.TimeoutExpired:  # a result like any other: each test that reads it says what it needed
            return subprocess.CompletedProcess(self.argv(*args), -9, "", f"(stopped by the suite: it ran past {timeout} s)")

    def command(self, *args) -> str:
        path = self.path.relative_to(self.course_root) if self.path.is_relative_to(self.course_root) else self.path
        return f"python {path.as_posix()} " + " ".join(map(self.shown, args))


def last_lines(result: subprocess.CompletedProcess, count: int = 1) -> str:
    """The output's last line(s); a guided starter's unfinished TODO line, when it stopped at one."""
    lines = output_of(result).strip().splitlines()
    todo = [line for line in lines if "TODO(task" in line]
    return todo[-1] if todo else " | ".join(lines[-count:]) if lines else "(no output)"


def succeeded(section: str, program: Program, result: subprocess.CompletedProcess, *args) -> None:
    if result.returncode != 0:
        broken(section, f"`{program.command(*args)}` exited with {result.returncode}: {last_lines(result)[:300]}")


def refused(section: str, program: Program, result: subprocess.CompletedProcess, what: str, *args, status=None) -> None:
    """§8: a non-zero exit, an `error:` line, no traceback."""
    output = output_of(result)
    command = program.command(*args)
    if result.returncode == 0:
        broken(section, f"{what}: `{command}` should be refused (a non-zero exit), it exited with 0")
    if "Traceback (most recent call last)" in output:
        broken(section, f"{what}: `{command}` ended in a traceback, not one `error:` line: {last_lines(result)[:200]}")
    if not any(line.startswith("error:") or ": error:" in line for line in output.splitlines()):
        broken(section, f"{what}: `{command}` printed no `error:` line (its last line: {last_lines(result)[:200]})")
    if status is not None and result.returncode != status:
        broken(section, f"{what}: `{command}` should exit with status {status} (argparse's for a bad option), got {result.returncode}")


def load(section: str, path: Path) -> dict:
    import torch

    if not path.exists():
        broken(section, f"{path.name} is missing from the run folder (train --out {path.parent.name})")
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:  # noqa: BLE001 - whatever the file is, say it does not load safely
        broken(section, f"{path.name} does not load with torch.load(weights_only=True): {type(error).__name__}: "
                        f"{str(error).splitlines()[0][:160] if str(error) else ''}")
    if not isinstance(checkpoint, dict):
        broken(section, f"{path.name} holds a {type(checkpoint).__name__}, not a dict in Lab 3's checkpoint format")
    return checkpoint


# --------------------------------------------------------------------------- fixtures: one folder, one run


@pytest.fixture(scope="module")
def course_root(request) -> Path:
    return Path(request.config.rootpath)


@pytest.fixture(scope="module")
def graded(request, course_root) -> Path:
    from harness.state import run_state

    state = run_state(request.config)
    lab = next(lab for lab in state.course.labs if lab.folder == "checkpoint_project")
    path = state.graded_file(lab)
    if not path.exists():
        pytest.fail(f"contract: {state.course.relative(path)} does not exist: create it (an empty file to start) "
                    f"or pick another --impl", pytrace=False)
    return path


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("contract")
    make_image_folder(root / "images" / "train", 64, seed=0, jpeg=True)
    make_image_folder(root / "images" / "test", 16, seed=1, decoys=2)
    return root


@pytest.fixture(scope="module")
def program(graded, workspace, course_root) -> Program:
    return Program(graded, workspace, course_root)


@pytest.fixture(scope="module")
def run(program, workspace):
    """One training run on the generated data: (its folder, the CompletedProcess)."""
    out = workspace / "run"
    args = ("train", "--data-dir", workspace / "images", "--out", out, *TRAIN)
    return out, program.run(*args), args


@pytest.fixture
def trained(run, program):
    """The run's folder; ready(trained) in the test fails it (a failure, not a setup error) when train failed."""
    out, result, args = run
    if result.returncode != 0:
        return f"needs the training run (§2): `train {' '.join(map(str, TRAIN))}` exited with {result.returncode}: " \
               f"{last_lines(result)[:200]}"
    return out


def ready(trained, section: str) -> Path:
    if isinstance(trained, str):
        broken(section, trained)
    return trained


@pytest.fixture(scope="module")
def evaluation(run, program, workspace):
    out = workspace / "eval"
    args = ("evaluate", "--checkpoint", run[0] / "last.pt", "--data-dir", workspace / "images", "--split", "test", "--out", out,
            "--device", "cpu")
    return out, program.run(*args), args


# --------------------------------------------------------------------------- §2, §3: train and its run folder


def test_s1_the_classes_are_the_sorted_folder_names(trained):
    trained = ready(trained, "1")
    names = load("1", trained / "last.pt").get("extra", {})
    names = names.get("class_names") if isinstance(names, dict) else None
    if names != sorted(COLOURS):
        broken("1", f"the classes should be the training folders' names in sorted order, {sorted(COLOURS)} "
                    f"(last.pt's extra['class_names']); got {names!r}")


def test_s2_train_learns(trained, evaluation, program):
    trained = ready(trained, "2")
    if not (trained / "last.pt").exists():
        broken("2", f"train exited with 0 but wrote no {trained.name}/last.pt")
    out, result, args = evaluation
    metrics_file = out / "metrics.json"
    if result.returncode != 0 or not metrics_file.exists():
        broken("2", "this test reads the test accuracy that evaluate reports: §5 first")
    accuracy = json.loads(metrics_file.read_text()).get("accuracy")
    if not isinstance(accuracy, (int, float)) or not 0.75 <= accuracy <= 1:
        broken("2", f"after `train {' '.join(map(str, TRAIN))}` on the generated colours, evaluate's test accuracy is "
                    f"{accuracy!r}; a fraction >= 0.75 was expected (chance: 0.25)")


def test_s3_checkpoints_are_lab3s_format_and_load_safely(trained):
    trained = ready(trained, "3")
    for name in ("last.pt", "best.pt"):
        checkpoint = load("3", trained / name)
        missing = [key for key in ("epoch", "best", "model", "optimizer", "extra") if key not in checkpoint]
        if missing:
            broken("3", f"{name} lacks {missing} (Lab 3's save_checkpoint format: epoch, best, model, optimizer, extra)")
        weights = checkpoint["model"]
        if not isinstance(weights, dict) or not weights or not all(hasattr(value, "shape") for value in weights.values()):
            broken("3", f"{name}'s `model` should be the model's state_dict (names -> tensors)")
        extra = checkpoint["extra"]
        if not isinstance(extra, dict) or not isinstance(extra.get("class_names"), list):
            broken("3", f"{name}'s `extra` should be a dict holding class_names (a list), config and history; got {extra!r:.120}")
        config = extra.get("config")
        if not isinstance(config, dict) or any(key not in config for key in ("epochs", "batch_size", "lr", "seed")):
            broken("3", f"{name}'s extra['config'] should be a dict with at least epochs, batch_size, lr and seed; got {config!r:.120}")
        if config["batch_size"] != 32 or not math.isclose(float(config["lr"]), 0.2):
            broken("3", f"{name}'s extra['config'] should be the run's own (--batch-size 32 --lr 0.2); got "
                        f"batch_size={config['batch_size']!r}, lr={config['lr']!r}")
    last, best = load("3", trained / "last.pt"), load("3", trained / "best.pt")
    history = last["extra"].get("history")
    if not isinstance(history, list) or len(history) != last["epoch"]:
        broken("3", f"last.pt's extra['history'] should have a row per epoch finished ({last['epoch']}); got {history!r:.120}")
    if not all(isinstance(row, dict) and isinstance(row.get("val_accuracy"), (int, float)) for row in history):
        broken("3", "last.pt's extra['history'] rows should be metrics.json's: each a dict with val_accuracy (a fraction)")
    best_accuracy = max(row["val_accuracy"] for row in history) if history else None
    number = isinstance(last["best"], (int, float)) and not isinstance(last["best"], bool)
    if not (number and best_accuracy is not None and math.isclose(last["best"], best_accuracy, abs_tol=1e-6)):
        broken("3", f"last.pt's `best` should be the best validation accuracy so far ({best_accuracy}); got {last['best']!r}")
    if (not isinstance(best["epoch"], int) or not 1 <= best["epoch"] <= last["epoch"]
            or not math.isclose(history[best["epoch"] - 1]["val_accuracy"], best_accuracy)):
        broken("3", f"best.pt should be the epoch of the best validation accuracy ({best_accuracy}); it is epoch {best['epoch']}")


def test_s3_metrics_json_has_the_history_and_the_time(trained):
    trained = ready(trained, "3")
    path = trained / "metrics.json"
    if not path.exists():
        broken("3", "train wrote no metrics.json in its --out")
    try:
        metrics = json.loads(path.read_text())
    except ValueError as error:
        broken("3", f"metrics.json is not JSON: {error}")
    history = metrics.get("history")
    if not isinstance(history, list) or not history:
        broken("3", f"metrics.json's `history` should be a list of one row per epoch; got {history!r:.120}")
    epochs = [row.get("epoch") for row in history]
    if epochs != list(range(1, len(history) + 1)):
        broken("3", f"metrics.json's history rows should be epochs 1, 2, ...; got {epochs}")
    for row in history:
        bad = [key for key in ("train_loss", "val_loss", "val_accuracy") if not isinstance(row.get(key), (int, float))]
        if bad:
            broken("3", f"history row of epoch {row['epoch']} lacks the numbers {bad}")
        if not 0 <= row["val_accuracy"] <= 1:
            broken("3", f"history's val_accuracy should be a fraction; epoch {row['epoch']} has {row['val_accuracy']}")
    if not isinstance(metrics.get("train_seconds"), (int, float)) or not metrics["train_seconds"] > 0:
        broken("3", f"metrics.json's train_seconds should be the seconds of training; got {metrics.get('train_seconds')!r}")


def test_s3_tensorboard_has_a_point_per_epoch(trained):
    trained = ready(trained, "3")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    folder = trained / "tensorboard"
    files = sorted(folder.rglob("events.out.tfevents.*")) if folder.is_dir() else []
    if not files:
        broken("3", "no TensorBoard event file under OUT/tensorboard/")
    points: dict[str, int] = {}  # a tag's points in the folder that has the most of them (hparams add a folder of their own)
    for directory in sorted({file.parent for file in files}):
        events = EventAccumulator(str(directory), size_guidance={"scalars": 0})
        events.Reload()
        for tag in events.Tags()["scalars"]:
            points[tag] = max(points.get(tag, 0), len(events.Scalars(tag)))
    epochs = len(json.loads((trained / "metrics.json").read_text())["history"]) if (trained / "metrics.json").exists() else None
    for tag in ("loss/train", "loss/val", "accuracy/val", "lr"):
        if tag not in points:
            broken("3", f"TensorBoard has no scalar {tag!r} (it has {sorted(points)})")
        if epochs is not None and points[tag] != epochs:
            broken("3", f"TensorBoard's {tag!r} has {points[tag]} points for {epochs} epochs: one per epoch")


# --------------------------------------------------------------------------- §4: --resume after a kill


def watch_writes(program: Program, path: Path, args) -> tuple[int, subprocess.CompletedProcess]:
    """Run the program, counting the times `path` is written (a new inode or modification time); a
    write the 5 ms polling misses only lowers the count."""
    def signature():
        try:
            found = path.stat()
        except OSError:
            return None
        return found.st_ino, found.st_mtime_ns, found.st_size

    env = child_env()
    seen, writes = signature(), 0
    log = program.cwd / f"{path.parent.name}-resume.log"  # a file, not a pipe: a chatty program cannot block on it
    with open(log, "w") as output:
        process = subprocess.Popen(program.argv(*args), cwd=program.cwd, env=env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + TIMEOUT
        while process.poll() is None and time.monotonic() < deadline:
            now = signature()
            if now is not None and now != seen:
                seen, writes = now, writes + 1
            time.sleep(0.005)
        if process.poll() is None:
            process.kill()
        process.wait()
    if signature() not in (None, seen):
        writes += 1
    return writes, subprocess.CompletedProcess(process.args, process.returncode, log.read_text(encoding="utf-8", errors="replace"), "")



def test_s4_a_killed_run_resumes_to_the_same_weights(trained, program, workspace):
    trained = ready(trained, "4")
    import torch

    out = workspace / "killed"
    args = ("train", "--data-dir", workspace / "images", "--out", out, *TRAIN)
    env = child_env()
    process = subprocess.Popen(program.argv(*args), cwd=workspace, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + TIMEOUT
    while not (out / "last.pt").exists() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)
    process.kill()  # SIGKILL; TerminateProcess on Windows: no chance to clean up
    process.wait()
    finished = load("4", trained / "last.pt")
    interrupted = load("4", out / "last.pt")
    if interrupted["epoch"] >= finished["epoch"]:
        broken("4", f"the run finished before it could be killed (last.pt at epoch {interrupted['epoch']}); the suite "
                    "kills it when last.pt first appears, so write it after every epoch")
    resume_args = ("train", "--data-dir", workspace / "images", "--out", out, "--resume", "--device", "cpu")
    writes, result = watch_writes(program, out / "last.pt", resume_args)
    succeeded("4", program, result, *resume_args)
    resumed = load("4", out / "last.pt")
    left = finished["epoch"] - interrupted["epoch"]
    if writes > left:
        broken("4", f"killed at epoch {interrupted['epoch']} of {finished['epoch']}, the resumed run wrote last.pt {writes} "
                    f"times: it should train only the {left} epochs left, from last.pt, not start again")
    if resumed["epoch"] != finished["epoch"]:
        broken("4", f"killed at epoch {interrupted['epoch']} and resumed, the run ended at epoch {resumed['epoch']}; the "
                    f"uninterrupted run ended at {finished['epoch']}: resume continues from last.pt's epoch with all of its "
                    "state (the early stopping's too)")
    differing = [name for name, tensor in finished["model"].items()
                 if name not in resumed["model"] or not torch.equal(tensor, resumed["model"][name])]
    if differing:
        broken("4", f"killed at epoch {interrupted['epoch']} and resumed, the weights differ from the uninterrupted run's "
                    f"({len(differing)} tensors, e.g. {differing[0]}): the data order, augmentation, schedule and stopping "
                    "must continue, not restart")


# --------------------------------------------------------------------------- §5 evaluate, §6 predict, §7 export


def test_s5_evaluate_writes_metrics_and_the_figure(trained, evaluation, program):
    trained = ready(trained, "5")
    out, result, args = evaluation
    succeeded("5", program, result, *args)
    if not (out / "metrics.json").exists():
        broken("5", "evaluate wrote no metrics.json in its --out")
    metrics = json.loads((out / "metrics.json").read_text())
    missing = [key for key in ("accuracy", "log_loss", "num_images", "confusion_matrix") if key not in metrics]
    if missing:
        broken("5", f"evaluate's metrics.json lacks {missing}")
    if metrics["num_images"] != 64:
        broken("5", f"num_images should be the 64 test images; got {metrics['num_images']!r}")
    matrix = metrics["confusion_matrix"]
    if not (isinstance(matrix, list) and len(matrix) == 4 and all(isinstance(row, list) and len(row) == 4 for row in matrix)):
        broken("5", f"confusion_matrix should be a 4x4 list of counts; got {matrix!r:.120}")
    if [sum(row) for row in matrix] != [16] * 4:
        broken("5", f"confusion_matrix's rows should be the true classes (16 test images each); row sums: {[sum(r) for r in matrix]}")
    diagonal = sum(matrix[i][i] for i in range(4)) / 64
    if not math.isclose(diagonal, metrics["accuracy"], abs_tol=1e-6):
        broken("5", f"accuracy {metrics['accuracy']} disagrees with the confusion matrix's diagonal ({diagonal})")
    if not (isinstance(metrics["log_loss"], (int, float)) and 0 <= metrics["log_loss"] < 10):
        broken("5", f"log_loss should be the mean negative log-probability of the true class; got {metrics['log_loss']!r}")
    figure = out / "confusion_matrix.png"
    if not figure.exists() or figure.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
        broken("5", "evaluate wrote no confusion_matrix.png (a PNG file) in its --out")


def sample_images(workspace) -> list[tuple[Path, str]]:
    """Two test images of each class: (file, class)."""
    return [(path, name) for name in sorted(COLOURS) for path in sorted((workspace / "images" / "test" / name).glob("*.png"))[:2]]



@pytest.fixture(scope="module")
def prediction(run, program, workspace):
    """predict on two test images of each class: (images with their classes, the CompletedProcess, its args)."""
    images = sample_images(workspace)
    args = ("predict", "--checkpoint", run[0] / "last.pt", *[path for path, _ in images])
    return images, program.run(*args), args


def predicted(section: str, program: Program, prediction) -> list[str]:
    """The class predict names for each image, in order (or this test fails, naming `section`)."""
    images, result, args = prediction
    images = [path for path, _ in images]
    succeeded(section, program, result, *args)
    shown = [program.shown(image) for image in images]  # as the program was given them
    lines = [line for line in result.stdout.splitlines() if any(line.startswith(f"{image}:") for image in shown)]
    if len(lines) != len(images):
        broken(section, f"predict should print one line `IMG: CLASS (PROB%)` per image, starting with the path as given; "
                    f"found {len(lines)} for {len(images)} images (its last line: {last_lines(result)[:160]})")
    classes = []
    for image, line in zip(shown, lines, strict=True):
        if not line.startswith(f"{image}:"):
            broken(section, f"predict's lines should be in the order of the images given; line {line!r} came for {image}")
        rest = line[len(f"{image}:"):].strip()
        name = rest.split(" (")[0]
        if name not in COLOURS or not rest.endswith("%)"):
            broken(section, f"expected `{image}: CLASS (PROB%)` with CLASS one of {sorted(COLOURS)}; got {line!r}")
        classes.append(name)
    return classes


def test_s6_predict_names_a_class_per_image(trained, program, prediction):
    ready(trained, "6")
    images = prediction[0]
    classes = predicted("6", program, prediction)
    right = sum(name == truth for name, (_, truth) in zip(classes, images, strict=True))
    if right <= len(images) // 2:
        broken("6", f"predict got {right} of {len(images)} test images right ({classes}); the trained model gets most")


@pytest.fixture(scope="module")
def exported(run, program, workspace):
    """export of the run's last.pt: (the .onnx path, the CompletedProcess, its args)."""
    model = workspace / "export" / "model.onnx"
    args = ("export", "--checkpoint", run[0] / "last.pt", "--out", model)
    return model, program.run(*args), args


def test_s7_export_writes_onnx_that_predicts_as_predict_does(trained, program, workspace, exported, prediction):
    ready(trained, "7")
    import numpy as np
    import onnxruntime
    from PIL import Image

    model, result, args = exported
    succeeded("7", program, result, *args)
    if not model.exists():
        broken("7", f"export wrote nothing at --out {model.name}")
    others = [p.name for p in model.parent.iterdir() if p != model]
    if others:
        broken("7", f"the ONNX file should hold its weights; export also wrote {others}")
    try:
        session = onnxruntime.InferenceSession(str(model), providers=["CPUExecutionProvider"])
    except Exception as error:  # noqa: BLE001
        broken("7", f"onnxruntime cannot load {model.name}: {str(error).splitlines()[0][:160]}")
    images = sample_images(workspace)
    batch = np.stack([np.asarray(Image.open(path).convert("RGB"), dtype=np.float32).transpose(2, 0, 1) for path, _ in images])
    name = session.get_inputs()[0].name
    try:
        logits = np.concatenate([session.run(None, {name: batch[:3]})[0], session.run(None, {name: batch[3:]})[0]])
    except Exception as error:  # noqa: BLE001
        broken("7", f"onnxruntime fails on float32 batches of 3 and {len(batch) - 3} images (N, 3, 32, 32), pixel values "
                    f"0-255: {str(error).splitlines()[0][:160]}")
    if logits.shape != (len(images), 4):
        broken("7", f"the ONNX output should be (N, 4) logits; got {logits.shape}")
    onnx_classes = [sorted(COLOURS)[i] for i in logits.argmax(1)]
    classes = predicted("7", program, prediction)
    agree = sum(a == b for a, b in zip(onnx_classes, classes, strict=True))
    if agree < len(images) - 1:  # one near-tie may flip (predict in bf16, say); a wrong input scale flips many
        broken("7", f"the ONNX model predicts {onnx_classes} where predict says {classes} (input: float pixel values 0-255)")


# --------------------------------------------------------------------------- §8: refused, with one line


def test_s8_train_never_replaces_a_run(trained, program, workspace):
    trained = ready(trained, "8")
    before = {name: (trained / name).read_bytes() for name in ("last.pt", "metrics.json") if (trained / name).exists()}
    args = ("train", "--data-dir", workspace / "images", "--out", trained, *TRAIN)
    refused("8", program, program.run(*args), "a fresh train into a run's folder", *args)
    changed = [name for name, data in before.items() if (trained / name).read_bytes() != data]
    if changed:
        broken("8", f"a refused train changed the run's {changed}")


@pytest.mark.parametrize("option, value", [("--epochs", "0"), ("--batch-size", "0"), ("--lr", "-1")])
def test_s8_an_option_out_of_range_is_one_line(trained, program, workspace, option, value):
    ready(trained, "8")  # the same options in range train (a program that refuses everything refuses nothing)
    args = ("train", "--data-dir", workspace / "images", "--out", workspace / f"bad-{option.strip('-')}", option, value)
    result = program.run(*args)
    refused("8", program, result, f"{option} {value}", *args, status=2)
    if option not in output_of(result):
        broken("8", f"the error for {option} {value} should name the option; got {last_lines(result)[:200]}")


def test_s8_a_missing_data_folder_is_one_line(trained, program, workspace):
    ready(trained, "8")
    args = ("train", "--data-dir", workspace / "nowhere", "--out", workspace / "nodata", *TRAIN)
    refused("8", program, program.run(*args), "a --data-dir that does not exist", *args)


def test_s8_a_non_finite_loss_stops_the_run(trained, program, workspace):
    ready(trained, "8")
    out = workspace / "diverged"
    args = ("train", "--data-dir", workspace / "images", "--out", out, *TRAIN[:4], "--lr", "1e30", *TRAIN[6:])
    result = program.run(*args)
    if result.returncode == 2:  # §8's status for a bad option
        broken("8", f"`{program.command(*args)}` refused --lr 1e30 as an option ({last_lines(result)[:160]}): accept any "
                    "positive --lr, so that a loss that becomes non-finite in training is what stops the run")
    refused("8", program, result, "a non-finite training loss (--lr 1e30)", *args)
    if (out / "last.pt").exists():  # an earlier epoch's may exist; the epoch that diverged is never saved
        import torch

        weights = load("8", out / "last.pt").get("model", {})
        bad = [name for name, tensor in weights.items() if hasattr(tensor, "is_floating_point") and tensor.is_floating_point()
               and not torch.isfinite(tensor).all()]
        if bad:
            broken("8", f"the run stopped on a non-finite loss but saved the diverged weights in last.pt ({bad[0]}, ...)")


def test_s8_evaluate_never_writes_into_a_run(trained, program, workspace, evaluation):
    trained = ready(trained, "8")
    if evaluation[1].returncode != 0:
        broken("8", "this test needs evaluate to work into a fresh --out first: §5")
    before = (trained / "metrics.json").read_bytes() if (trained / "metrics.json").exists() else None
    args = ("evaluate", "--checkpoint", trained / "last.pt", "--data-dir", workspace / "images", "--split", "test",
            "--out", trained, "--device", "cpu")
    refused("8", program, program.run(*args), "evaluate --out a training run's folder", *args)
    if before is not None and (trained / "metrics.json").read_bytes() != before:
        broken("8", "a refused evaluate changed the training run's metrics.json")


def test_s8_export_never_replaces_the_checkpoint(trained, program, exported):
    trained = ready(trained, "8")
    if exported[1].returncode != 0:
        broken("8", "this test needs export to work into a .onnx file first: §7")
    if not (trained / "best.pt").exists():
        broken("8", "this test needs the run's best.pt: §3 first")
    before = (trained / "best.pt").read_bytes()
    args = ("export", "--checkpoint", trained / "best.pt", "--out", trained / "best.pt")
    refused("8", program, program.run(*args), "export --out the checkpoint itself", *args)
    if (trained / "best.pt").read_bytes() != before:
        broken("8", "export --out best.pt changed the checkpoint")


def test_s8_predict_names_a_file_that_is_not_an_image(trained, program, workspace, prediction):
    trained = ready(trained, "8")
    if prediction[1].returncode != 0:
        broken("8", "this test needs predict to work on image files first: §6")
    bad = workspace / "notes.png"
    bad.write_text("not an image")
    args = ("predict", "--checkpoint", trained / "last.pt", bad)
    result = program.run(*args)
    refused("8", program, result, "predict of a file that is not an image", *args)
    if "notes.png" not in output_of(result):
        broken("8", f"the error for a file that is not an image should name it (notes.png); got {last_lines(result)[:200]}")


# --------------------------------------------------------------------------- §9: the deliverable, on real data


@pytest.mark.slow
def test_s9_real_cifar10_reaches_85_percent(program, cifar10_dir, tmp_path):
    out = tmp_path / "fast"
    args = ("train", "--data-dir", cifar10_dir, "--out", out)
    program = Program(program.path, tmp_path, program.course_root)  # its caches, if any, go to this test's folder
    result = program.run(*args, timeout=1800)
    succeeded("9", program, result, *args)
    eval_args = ("evaluate", "--checkpoint", out / "last.pt", "--data-dir", cifar10_dir, "--split", "test",
                 "--out", tmp_path / "eval")
    result = program.run(*eval_args, timeout=900)
    succeeded("9", program, result, *eval_args)
    try:
        tested = json.loads((tmp_path / "eval" / "metrics.json").read_text())
        trained = json.loads((out / "metrics.json").read_text())
        tested["accuracy"], tested["num_images"], trained["train_seconds"]
    except (OSError, ValueError, KeyError) as error:
        broken("9", f"the run's or the evaluation's metrics.json is missing or lacks a field (§3, §5): {error}")
    load_average = getattr(os, "getloadavg", lambda: "n/a")()  # not on Windows
    print(f"\ncontract §9: test accuracy {tested['accuracy']:.4f} on {tested['num_images']} images, "
          f"{trained['train_seconds']:.0f} s of training, load average {load_average}")
    expected = sum(1 for path in (cifar10_dir / "test").rglob("*") if path.suffix.lower() in (".png", ".jpg", ".jpeg"))
    if tested["num_images"] != expected:
        broken("9", f"evaluate scored {tested['num_images']} images; the test split is all {expected} images of DIR/test")
    if tested["accuracy"] < 0.85:
        broken("9", f"test accuracy {tested['accuracy']:.4f} after `train` with the defaults; the deliverable is >= 0.85")
