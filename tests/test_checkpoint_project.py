"""Checkpoint project — the CIFAR-10 training tool. Run: pytest -m checkpoint (add --impl solution for the reference).

Tests are grouped by task (taskc_1 ... taskc_11) and use tiny generated data. Tests without a
task marker check the given code (data.py, models.py, runs.py, options.py) and the course's
rules; they do not count in the progress table. The real training (the fast configuration's >= 85%
on CIFAR-10) is the command-line contract's §9: `CIFAR10_DIR=DIR pytest -m contract --runslow`.
"""

import argparse
import dataclasses
import errno
import importlib
import json
import math
import os
import re
import subprocess
import sys
import urllib.error
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from tests.helpers import full_disk_save, seeded

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from checkpoint_project.data import CIFAR10_CLASSES  # noqa: E402
from harness import markers  # noqa: E402
from harness.todos import raise_todo_from_output  # noqa: E402

pytestmark = pytest.mark.checkpoint
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / "checkpoint_project"


def tiny_config(lab, **overrides):
    return lab.dataclasses.replace(lab.CONFIGS["smoke"], **overrides)


def smoke_args(lab, out, **overrides):
    """The parsed arguments of `train --smoke --out OUT --cache-dir ''` (what start_run and build_data read),
    from the command line's own parser, with `overrides` set afterwards."""
    args = lab.build_parser(lab.Config, sorted(lab.CONFIGS)).parse_args(["train", "--smoke", "--out", str(out), "--cache-dir", ""])
    for name, value in overrides.items():
        setattr(args, name, value)
    return args


def smoke_train(lab, out, *extra):
    """Train the smoke config in this process (a few seconds); returns the metrics dict."""
    return lab.main(["train", "--smoke", "--out", str(out), "--cache-dir", "", *map(str, extra)])


def direct_run(lab, out, resume=False, **overrides):
    """start_run + (resume) + fit on the smoke data, without the command line (taskc_11)."""
    run = lab.start_run(tiny_config(lab, **overrides), smoke_args(lab, out))
    if resume:
        lab.resume(run, Path(out) / "last.pt")
    lab.fit(run)
    return run


def epoch_of(path):
    return torch.load(path, weights_only=True)["epoch"]


# --------------------------------------------------------------------------- one concept


def test_the_capstone_uses_the_labs_reference_components(lab):
    sources = {
        "lab3_training_loop.solution": ["EarlyStopping", "save_checkpoint", "load_checkpoint", "CheckpointError"],
        "lab4_data_loading.solution": ["random_crop_flip", "stratified_split"],
        "lab5_gpu_mixed_precision.solution": ["get_device", "distributed_device", "autocast_dtype", "amp_train_step"],
        "lab6_cnn_classifier.solution": ["confusion_matrix", "GradualUnfreezer"],
    }
    for module_name, names in sources.items():
        module = importlib.import_module(module_name)
        for name in names:
            assert getattr(lab, name) is getattr(module, name), f"the capstone must use {module_name}.{name}, not its own"
    own = re.compile(r"^\s*(def|class) (EarlyStopping|save_checkpoint|load_checkpoint|stratified_split|random_crop_flip|"
                     r"augment_batch|confusion_matrix|per_class_metrics|pick_device|get_device|autocast_dtype|"
                     r"apply_gradual_unfreezing|GradualUnfreezer|conv_bn)\b", re.MULTILINE)
    for path in FOLDER.glob("*.py"):
        found = own.findall(path.read_text())
        assert not found, f"{path.name} defines its own {[name for _, name in found]}: import the lab's reference instead"


@pytest.mark.instructor
def test_learner_file_size_and_share():
    """The learner's file stays readable: <= 760 lines, >= 25% of them written by the learner."""
    lines = (FOLDER / "solution.py").read_text().splitlines()
    found = markers.file_blocks(FOLDER / "solution.py")
    body, blocks = sum(len(block.body) for block in found), len(found)
    share = body / len(lines)
    print(f"\ncheckpoint_project/solution.py: {len(lines)} lines, {blocks} TODO blocks, {body} learner lines ({share:.1%})")
    assert len(lines) <= 760, f"the learner's file has {len(lines)} lines (target <= 760)"
    assert share >= 0.25, f"the learner writes {share:.1%} of the file (target >= 25%)"


@pytest.mark.instructor
def test_given_modules_hold_no_markers():
    for path in FOLDER.glob("*.py"):
        if path.name not in ("solution.py", "starter.py") and any(map(markers.BEGIN.match, path.read_text().splitlines())):
            pytest.fail(f"{path.name} is given code: authoring/make_starters.py only strips markers from solution.py")


# --------------------------------------------------------------------------- given code: data.py


def test_missing_download_gives_one_clear_message(lab, monkeypatch, tmp_path):
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(SystemExit) as exit_info:
        lab.load_split(smoke_args(lab, tmp_path, smoke=False, data_root=str(tmp_path / "data")), "train")
    message = str(exit_info.value)
    assert "--data-dir" in message and "internet" in message, f"the message should say how to get the data; got: {message}"


def one_line_exit(lab, *argv) -> str:
    """Run the command line in this process (what `python starter.py ARGS` runs) and return the message of
    the SystemExit it must end with: one line for the user, where any other exception is a traceback."""
    try:
        lab.main([str(arg) for arg in argv])
    except SystemExit as error:
        assert error.code not in (0, None), f"`{' '.join(map(str, argv))}` should fail (non-zero exit)"
        return str(error.code)
    except NotImplementedError:
        raise
    except Exception as error:  # noqa: BLE001 - this is what the user would see as a traceback
        pytest.fail(f"`{' '.join(map(str, argv))}` ends in a traceback ({type(error).__name__}: {error}), not one line",
                    pytrace=False)
    pytest.fail(f"`{' '.join(map(str, argv))}` should fail (non-zero exit), but main() returned", pytrace=False)


def test_cli_with_a_missing_data_folder_says_what_to_pass(lab, tmp_path):
    message = one_line_exit(lab, "train", "--data-dir", tmp_path / "nowhere", "--out", tmp_path / "run")
    assert "train/ and test/" in message, f"the message should explain the expected layout; got:\n{message}"


def write_image_folder(lab, root, per_class, classes=("cat", "dog", "ship"), seed=0):
    from PIL import Image

    images, _ = lab.make_synthetic_dataset(per_class * len(classes), seed=seed, num_classes=len(classes))
    for i, image in enumerate(images):
        folder = root / classes[i % len(classes)]
        folder.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{i}.png")
    return root


def test_image_folder_cache_follows_the_folder_contents(lab, tmp_path):
    from checkpoint_project.data import load_image_folder

    write_image_folder(lab, tmp_path / "data" / "train", per_class=4)
    images, labels, names = load_image_folder(tmp_path / "data", "train", tmp_path / "cache")
    assert images.dtype == torch.uint8 and images.shape == (12, 3, 32, 32) and names == ["cat", "dog", "ship"]
    assert list((tmp_path / "cache").glob("*.npz")), "the decoded arrays should be cached as an .npz"
    cached = load_image_folder(tmp_path / "data", "train", tmp_path / "cache")[0]
    assert torch.equal(cached, images), "the cached copy must equal the decoded images"
    for file in sorted((tmp_path / "data" / "train" / "dog").iterdir())[:2]:
        file.unlink()
    fewer = load_image_folder(tmp_path / "data", "train", tmp_path / "cache")[0]
    assert len(fewer) == 10, f"after deleting 2 images the cache must not be used: got {len(fewer)} images"


def test_a_damaged_decode_cache_is_named_and_rebuilt(lab, tmp_path, capsys):
    """Issue 15 #12: a truncated .npz (a full disk, a killed copy) used to end in BadZipFile with no path."""
    from checkpoint_project.data import load_image_folder

    write_image_folder(lab, tmp_path / "data" / "train", per_class=4)
    images = load_image_folder(tmp_path / "data", "train", tmp_path / "cache")[0]
    (cache,) = (tmp_path / "cache").glob("*.npz")
    cache.write_bytes(cache.read_bytes()[:200])
    again = load_image_folder(tmp_path / "data", "train", tmp_path / "cache")[0]
    assert torch.equal(again, images), "a damaged cache is decoded again from the images"
    printed = capsys.readouterr().out
    assert str(cache) in printed and "decoding again" in printed, f"one line names the damaged cache: {printed!r}"
    assert load_image_folder(tmp_path / "data", "train", tmp_path / "cache")[0].equal(images), "and rewritten whole"
    assert "decoding again" not in capsys.readouterr().out, "the rewritten cache is used the next time"


def test_test_folders_are_matched_by_class_name(lab, tmp_path):
    from checkpoint_project.data import select_classes

    labels = torch.tensor([0, 1, 2, 1])
    images = torch.arange(4)[:, None]
    _, mapped = select_classes(images, labels, ["bird", "cat", "dog"], ["airplane", "bird", "cat", "dog"][1:])
    assert mapped.tolist() == [0, 1, 2, 1]
    with pytest.raises(SystemExit, match="airplane"):
        select_classes(images, labels, ["bird", "cat", "dog"], ["airplane", "bird", "cat", "dog"])
    with pytest.raises(SystemExit, match="not trained on"):
        select_classes(images, labels, ["bird", "cat", "dog"], ["bird", "cat"], allow_extra=False)


@pytest.mark.parametrize("damage", ["truncated JPEG", "random bytes", "a JPEG header only"])
def test_unreadable_images_and_empty_class_folders_are_one_line(lab, tmp_path, damage):
    import io

    from PIL import Image

    from checkpoint_project.data import load_image_folder

    root = write_image_folder(lab, tmp_path / "data" / "train", per_class=2)
    jpeg = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 30, 90)).save(jpeg, "JPEG")
    broken = {"truncated JPEG": jpeg.getvalue()[: len(jpeg.getvalue()) // 2], "random bytes": os.urandom(300),
              "a JPEG header only": b"\xff\xd8\xff not really a jpeg"}[damage]
    (root / "cat" / "broken.jpg").write_bytes(broken)
    with pytest.raises(SystemExit) as error:
        load_image_folder(tmp_path / "data", "train", None)
    assert "broken.jpg" in str(error.value) and "\n" not in str(error.value).strip(), f"one line naming the file: {error.value}"
    (root / "cat" / "broken.jpg").unlink()
    (root / "zebra").mkdir()
    with pytest.raises(SystemExit, match="zebra"):
        load_image_folder(tmp_path / "data", "train", None)


def test_16_bit_png_is_scaled_not_clipped(tmp_path):
    import numpy as np
    from PIL import Image

    from checkpoint_project.data import read_image

    Image.fromarray(np.full((32, 32), 32768, dtype=np.uint16)).save(tmp_path / "grey16.png")
    value = int(read_image(tmp_path / "grey16.png")[0, 0, 0])
    assert 125 <= value <= 130, f"a 16-bit mid-grey should read as ~128, got {value}"


# --------------------------------------------------------------------------- taskc_1 — the run: its data and its state


@pytest.mark.taskc_1
def test_build_data_holds_out_a_stratified_validation_split(lab, tmp_path):
    data = lab.build_data(tiny_config(lab, val_size=100), smoke_args(lab, tmp_path))
    assert len(data.val_labels) == 100 and len(data.train_labels) == 500, (
        f"600 generated images with --val-size 100: expected 500 train / 100 val, got {len(data.train_labels)} / {len(data.val_labels)}")
    counts = torch.bincount(data.val_labels, minlength=10).tolist()
    assert counts == [10] * 10, f"validation should hold the same share of every class (10 each); got {counts}"
    assert data.class_names == CIFAR10_CLASSES, f"class names come from the data; got {data.class_names}"
    again = lab.build_data(tiny_config(lab, val_size=100), smoke_args(lab, tmp_path))
    assert torch.equal(again.val_images, data.val_images), "the same seed must give the same split"
    other = lab.build_data(tiny_config(lab, val_size=100, seed=1), smoke_args(lab, tmp_path))
    assert not torch.equal(other.val_images, data.val_images), "another --seed should give another split"


@pytest.mark.taskc_1
def test_build_data_keeps_only_the_chosen_classes_and_renumbers_them(lab, tmp_path):
    data = lab.build_data(tiny_config(lab, val_size=50, classes=(5, 7)), smoke_args(lab, tmp_path))
    assert data.class_names == ["dog", "horse"], f"--classes 5,7 means CIFAR-10's dog and horse; got {data.class_names}"
    assert set(data.train_labels.tolist()) == {0, 1}, "the kept classes are renumbered 0 and 1"
    assert len(data.train_labels) + len(data.val_labels) == 120, "60 images of each kept class"


@pytest.mark.taskc_1
def test_val_size_zero_trains_on_every_image(lab, tmp_path):
    data = lab.build_data(tiny_config(lab, val_size=0), smoke_args(lab, tmp_path))
    assert len(data.train_labels) == 600 and len(data.val_labels) == 0, "--val-size 0: every image trains, none validates"


# The run's fields the README lists ("The run's state"): built once by start_run, then changed by training.
BUILT_ONCE = ("config", "out", "device", "amp_dtype", "rank", "world_size", "data", "model", "net", "optimizer", "scaler",
              "stopper", "unfreezer", "total_steps", "num_epochs", "memory_format")
FRESH = {"writer": None, "epoch": 0, "step": 0, "history": [], "train_seconds": 0.0, "stopped_early": False}


def resnet_run(lab, out, **overrides):
    """start_run on the smoke data (600 images) with models.py's ResNet: C.1's tests need no C.2 network."""
    return lab.start_run(tiny_config(lab, arch="resnet", **overrides), smoke_args(lab, out))


@pytest.mark.taskc_1
def test_run_is_a_dataclass_of_the_readmes_fields(lab, tmp_path):
    run = resnet_run(lab, tmp_path)
    assert dataclasses.is_dataclass(lab.Run), "Run is a dataclass: put @dataclass(kw_only=True) above `class Run`"
    fields = {f.name: f for f in dataclasses.fields(lab.Run)}
    missing = [name for name in (*BUILT_ONCE, *FRESH) if name not in fields]
    assert not missing, f"Run needs every field the README lists (the given code and the tests read them); missing: {missing}"
    no_default = [name for name in FRESH
                  if fields[name].default is dataclasses.MISSING and fields[name].default_factory is dataclasses.MISSING]
    assert not no_default, f"what training changes starts at a default value in Run itself; no default: {no_default}"
    assert isinstance(run, lab.Run) and isinstance(run.out, Path) and run.out == tmp_path, (
        f"start_run returns a Run whose `out` is the run folder as a Path; got out={run.out!r}")
    fresh = {name: getattr(run, name) for name in FRESH}
    assert fresh == FRESH, f"a new run starts with {FRESH}; start_run's run has {fresh}"
    other = resnet_run(lab, tmp_path)
    run.history.append({"epoch": 1})
    assert other.history == [], "every run needs its own history list (field(default_factory=list)), not one list they share"


@pytest.mark.taskc_1
@pytest.mark.parametrize("epochs, max_steps, expected", [(2.3, 0, (16, 3)), (2.3, 5, (5, 1)), (0.01, 0, (1, 1))])
def test_start_run_counts_the_schedule_in_steps(lab, tmp_path, epochs, max_steps, expected):
    run = resnet_run(lab, tmp_path, epochs=epochs, max_steps=max_steps)
    assert (run.total_steps, run.num_epochs) == expected, (
        f"500 training images in batches of 64 are 7 steps per epoch; --epochs {epochs}"
        + (f" --max-steps {max_steps}" if max_steps else "") + f": expected (total_steps, num_epochs) = {expected}, "
        f"got {(run.total_steps, run.num_epochs)} (README: round(epochs x steps per epoch), at least 1, cut to --max-steps; "
        f"num_epochs counts the last, partial epoch too)")


@pytest.mark.taskc_1
def test_start_run_builds_what_the_config_asks_for(lab, tmp_path):
    run = resnet_run(lab, tmp_path, patience=3)
    assert isinstance(run.stopper, lab.EarlyStopping) and (run.stopper.patience, run.stopper.mode) == (3, "max"), (
        "--patience 3: Lab 3's EarlyStopping(3, mode=\"max\"), on validation accuracy")
    assert resnet_run(lab, tmp_path, val_size=0).stopper is None, "without validation images there is nothing to stop on: stopper None"
    assert resnet_run(lab, tmp_path, patience=0).stopper is None, "--patience 0 turns early stopping off: stopper None"
    assert run.net is run.model and run.unfreezer is None, "one process, no --compile, no --unfreeze-every: net is the model, no unfreezer"
    assert next(run.model.parameters()).device == run.device
    scalers = {amp: resnet_run(lab, tmp_path, amp=amp) for amp in ("off", "bf16", "fp16")}
    enabled = {amp: one.scaler.is_enabled() for amp, one in scalers.items()}
    assert enabled == {"off": False, "bf16": False, "fp16": True} and scalers["fp16"].amp_dtype == torch.float16, (
        f"the GradScaler is enabled for fp16 autocast only (Lab 5); enabled per --amp: {enabled}")
    frozen = resnet_run(lab, tmp_path, unfreeze_every=2)
    assert isinstance(frozen.unfreezer, lab.GradualUnfreezer), "--unfreeze-every 2: Lab 6's GradualUnfreezer"
    held = {id(p) for group in frozen.optimizer.param_groups for p in group["params"]}
    missing = [name for name, p in frozen.model.named_parameters() if id(p) not in held]
    assert not missing, (f"the optimiser lacks {len(missing)} parameters ({missing[:2]} ...): build it before the unfreezer, "
                         f"which freezes every stage but the head, or those parameters never train once unfrozen")


# --------------------------------------------------------------------------- taskc_2 — the network


def network_convs(net: nn.Module) -> list[nn.Conv2d]:
    """The network's convs, after checking that none hides in a plain Python list (PyTorch would not see it)."""
    for name, value in vars(net).items():
        if not name.startswith("_") and isinstance(value, (list, tuple, dict)) and any(isinstance(v, nn.Module) for v in (value.values() if isinstance(value, dict) else value)):
            raise AssertionError(f"Network.{name} is a plain Python {type(value).__name__}: PyTorch does not see the modules in it "
                                 "(they are not trained, saved or moved to the device); use nn.Sequential(*...) or nn.ModuleList")
    return [m for m in net.modules() if isinstance(m, nn.Conv2d)]


def multiply_adds(net: nn.Module, size: int = 32) -> int:
    """Multiply-adds of one forward pass of one size x size image, over every conv and linear layer."""
    total = 0

    def count(module, inputs, output):
        nonlocal total
        if isinstance(module, nn.Conv2d):
            total += output.numel() * module.in_channels // module.groups * math.prod(module.kernel_size)
        else:
            total += output.numel() * module.in_features

    hooks = [m.register_forward_hook(count) for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    with torch.no_grad():
        net.eval()(torch.zeros(1, 3, size, size))
    for hook in hooks:
        hook.remove()
    return total


@pytest.mark.taskc_2
def test_network_gives_logits_for_the_widths_it_is_given(lab):
    torch.manual_seed(0)
    net = lab.Network((8, 16, 24), num_classes=7, bn_momentum=0.3, logit_scale=0.5)
    widths = {conv.out_channels for conv in network_convs(net)}
    logits = net(torch.randn(5, 3, 32, 32))
    assert logits.shape == (5, 7), f"Network((8, 16, 24), num_classes=7, ...) on 5 images: expected logits (5, 7), got {tuple(logits.shape)}"
    assert torch.isfinite(logits).all(), "the logits of a fresh network should be finite"
    assert net.eval()(torch.randn(1, 3, 32, 32)).shape == (1, 7), "in eval mode one image gives (1, 7) logits"
    assert {8, 16, 24} <= widths, (
        f"widths (8, 16, 24) are the channels of the three stages; your convs have {sorted(widths)} output channels")


@pytest.mark.taskc_2
def test_network_is_built_from_lab6_blocks(lab):
    net = lab.Network((8, 16, 24), num_classes=7, bn_momentum=0.3, logit_scale=0.5)
    convs = network_convs(net)
    assert len(convs) >= 3, f"the project asks for at least 3 conv layers; Network has {len(convs)}"
    parents = {id(child): parent for parent in net.modules() for child in parent.children()}
    for conv in convs:
        siblings = list(parents[id(conv)].children())
        after = siblings[siblings.index(conv) + 1 :]
        after = after[1:] if after and isinstance(after[0], nn.MaxPool2d) else after
        assert conv.bias is None and after and isinstance(after[0], nn.BatchNorm2d), (
            f"{conv} is not in a conv_block: every conv is Lab 6's block, conv (no bias) -> [max-pool] -> BatchNorm -> "
            "activation (models.conv_block)")
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert all(m.momentum == 0.3 for m in norms), (
        f"every BatchNorm should use the bn_momentum it is given (0.3); got {sorted({m.momentum for m in norms})}")
    assert convs[-1].out_channels == 24, f"the last conv should be widths[-1] = 24 wide; it has {convs[-1].out_channels}"


@pytest.mark.taskc_2
def test_network_parts_are_lab6_stages_head_first(lab):
    from lab6_cnn_classifier.solution import default_stages

    net = lab.Network((8, 16, 24), num_classes=7, bn_momentum=0.3, logit_scale=0.5)
    network_convs(net)
    for name in ("stem", "layers", "head"):
        assert isinstance(getattr(net, name, None), nn.Module), (
            f"Network needs a `{name}` part (stem, layers, head, as Lab 6's ResNet): gradual unfreezing finds the stages by them")
    stages = default_stages(net)
    assert isinstance(net.head, nn.Linear) and net.head.out_features == 7, "`head` is the nn.Linear that gives the 7 logits"
    covered = [id(p) for stage in stages for p in stage.parameters()]
    missing = [name for name, p in net.named_parameters() if id(p) not in covered]
    assert not missing, f"parameters outside stem, layers and head would never unfreeze: {missing[:3]}"


@pytest.mark.taskc_2
def test_network_scales_its_logits_and_every_parameter_learns(lab):
    images = torch.randn(6, 3, 32, 32, generator=seeded(1))
    torch.manual_seed(0)
    plain = lab.Network((8, 16, 24), num_classes=7, bn_momentum=0.3, logit_scale=1.0)
    torch.manual_seed(0)
    scaled = lab.Network((8, 16, 24), num_classes=7, bn_momentum=0.3, logit_scale=0.25)
    got, reference = scaled(images), plain(images)
    assert torch.allclose(got, 0.25 * reference, atol=1e-5), (
        "the same weights with logit_scale=0.25 should give 0.25 x the logits of logit_scale=1: in forward, multiply the "
        "head's output by it")
    got.sum().backward()
    dead = [name for name, p in scaled.named_parameters() if p.grad is None or not torch.any(p.grad != 0)]
    assert not dead, f"these parameters get no gradient, so they never learn: {dead[:3]}"


@pytest.mark.taskc_2
def test_network_fits_the_time_budget(lab):
    cost = multiply_adds(lab.Network())
    assert cost <= 40e6, (
        f"Network() (the default widths) costs {cost / 1e6:.0f} M multiply-adds per 32x32 image; the fast config's time "
        "budget allows 40 M (README: \"The network\": pool early, keep the full-resolution layers narrow)")


@pytest.mark.taskc_2
def test_network_learns_a_colour_rule(lab):
    labels = torch.arange(48) % 3
    images = torch.randn(48, 3, 32, 32, generator=seeded(2)) * 0.5
    images[torch.arange(48), labels] += 1.5  # class c: channel c brighter
    torch.manual_seed(0)
    net = lab.Network((8, 16, 16), num_classes=3, bn_momentum=0.3, logit_scale=0.125)
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    for _ in range(20):
        optimizer.zero_grad()
        torch.nn.functional.cross_entropy(net(images), labels).backward()
        optimizer.step()
    accuracy = (net(images).argmax(1) == labels).float().mean().item()
    assert accuracy >= 0.9, f"20 Adam steps on 48 images whose class is their brightest channel reach only {accuracy:.0%} (expected >= 90%)"


def test_resnet_gives_logits_and_fresh_residual_blocks_are_identities(lab):
    from checkpoint_project.models import ResidualBlock

    images = torch.randint(0, 256, (20, 3, 32, 32), dtype=torch.uint8, generator=seeded(0))
    model = lab.create_classifier(tiny_config(lab, arch="resnet", widths=(8, 16, 16)), images, num_classes=7)
    assert model(images[:4].float()).shape == (4, 7), "resnet: expected logits (4, 7)"
    block = ResidualBlock(8, bn_momentum=0.1)
    x = torch.randn(2, 8, 6, 6)
    assert torch.allclose(block(x), x), "the last BN scale starts at zero, so a fresh block returns its input"


# --------------------------------------------------------------------------- taskc_3 — one training epoch


@pytest.mark.taskc_3
def test_triangular_schedule(lab):
    got = [lab.triangular_lr(step, 100, peak=2.0, warmup=0.2) for step in (0, 10, 20, 60, 100, 120)]
    expected = [0.0, 1.0, 2.0, 1.0, 0.0, 0.0]
    assert all(abs(g - e) < 1e-9 for g, e in zip(got, expected)), f"at steps 0, 10, 20, 60, 100, 120 expected {expected}, got {got}"


@pytest.mark.taskc_3
def test_flip_mask_policies(lab):
    indices = torch.randperm(200, generator=seeded(0))[:64]
    assert not lab.flip_mask(indices, 3, 0, "none", seeded(1)).any(), '"none" mirrors no image'
    first = lab.flip_mask(indices, 1, 0, "alternate", seeded(1))
    second = lab.flip_mask(indices, 2, 0, "alternate", seeded(2))
    assert first.dtype == torch.bool and first.shape == (64,), f"a (64,) bool mask; got {first.dtype} {tuple(first.shape)}"
    assert torch.equal(second, ~first), '"alternate": over two epochs each image is seen both ways (epoch 2 = not epoch 1)'
    assert 16 < first.sum() < 48, f"about half the images are mirrored in an epoch; got {first.sum().item()} of 64"
    picked = torch.cat([torch.arange(5), indices.argmax().reshape(1)])
    alone = lab.flip_mask(indices[picked], 1, 0, "alternate", seeded(3))
    assert torch.equal(alone, first[picked]), "an image's coin depends on its index and the seed, not on the batch it is in"
    other_seed = lab.flip_mask(indices, 1, 1, "alternate", seeded(1))
    assert not torch.equal(other_seed, first), "another --seed gives other coins"


@pytest.mark.taskc_3
def test_run_epoch_takes_every_step_and_learns(lab, tmp_path):
    run = lab.start_run(tiny_config(lab, epochs=3), smoke_args(lab, tmp_path))
    before = [p.detach().clone() for p in run.model.parameters()]
    loss = lab.run_epoch(run, 0)
    assert run.step == 500 // 64, f"500 training images in batches of 64: 7 steps per epoch; run.step is {run.step}"
    assert isinstance(loss, float) and math.isfinite(loss), f"run_epoch returns the mean loss as a float; got {loss!r}"
    assert any(not torch.equal(a, b) for a, b in zip(before, run.model.parameters())), "the weights should change"
    expected_lr = lab.triangular_lr(run.step - 1, run.total_steps, run.config.lr, run.config.warmup)
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(expected_lr), (
        f"set the schedule's LR before every step: after step {run.step} expected {expected_lr:.4f}, "
        f"found {run.optimizer.param_groups[0]['lr']:.4f}")
    second = lab.run_epoch(run, 1)
    assert second < loss, f"a second epoch on the smoke data should lower the loss: {loss:.3f} -> {second:.3f}"


@pytest.mark.taskc_3
def test_run_epoch_stops_at_max_steps_and_uses_the_labs_augmentation(lab, tmp_path, monkeypatch):
    calls = []
    real = lab.random_crop_flip

    def counting(images, padding, generator=None, flip=None):
        calls.append((len(images), padding, flip is not None))
        return real(images, padding, generator, flip=flip)

    monkeypatch.setattr(lab, "random_crop_flip", counting)
    run = lab.start_run(tiny_config(lab, max_steps=3), smoke_args(lab, tmp_path))
    lab.run_epoch(run, 0)
    assert run.step == 3, f"--max-steps 3 stops the epoch after 3 steps; took {run.step}"
    assert calls and all(c == (64, 2, True) for c in calls), (
        f"augment each batch with Lab 4's random_crop_flip(images, config.translate, generator, flip=flip_mask(...)); calls: {calls}")


@pytest.mark.taskc_3
def test_the_first_low_res_epochs_train_on_scaled_down_images(lab, tmp_path):
    config = tiny_config(lab, epochs=5, low_res_fraction=0.4, low_res_size=20, translate=0)
    run = lab.start_run(config, smoke_args(lab, tmp_path))
    run.data.train_images.zero_()
    for edge in (np.s_[..., :4, :], np.s_[..., -4:, :], np.s_[..., :, :4], np.s_[..., :, -4:]):
        run.data.train_images[edge] = 255  # every image a white frame, 4 pixels wide, around black
    inputs = []
    run.model.register_forward_pre_hook(lambda module, args: inputs.append(args[0].detach().float().cpu()))
    seen = {}
    for epoch in range(3):
        inputs.clear()
        lab.run_epoch(run, epoch)
        seen[epoch] = sorted({tuple(batch.shape[-2:]) for batch in inputs})
    assert seen == {0: [(20, 20)], 1: [(20, 20)], 2: [(32, 32)]}, (
        f"--epochs 5 --low-res-fraction 0.4 --low-res-size 20: the first 2 epochs (0 and 1) train on 20x20 images, "
        f"epoch 2 on 32x32; the model saw {seen}")
    lab.run_epoch(run, 0)
    images = inputs[-1]
    middle = slice(7, -7)  # the middle of each edge: a corner belongs to two edges
    rims = [images[..., :3, middle], images[..., -3:, middle], images[..., middle, :3], images[..., middle, -3:]]
    framed = torch.stack([rim.amax(dim=(1, 2, 3)) > 100 for rim in rims]).all(0)
    assert framed.all(), (
        f"the low-resolution images must be the whole image scaled down (F.interpolate), not a crop of it: of "
        f"{len(framed)} images drawn with a white frame, {int((~framed).sum())} lost part of the frame")


@pytest.mark.taskc_3
def test_an_epoch_is_the_same_every_time(lab, tmp_path):
    weights = []
    for _ in range(2):
        run = lab.start_run(tiny_config(lab), smoke_args(lab, tmp_path))
        lab.run_epoch(run, 1)
        weights.append(run.model.state_dict())
    changed = [k for k in weights[0] if not torch.equal(weights[0][k], weights[1][k])]
    assert not changed, f"the data order and augmentation must come from the seed and the epoch (exact resume); differ: {changed[:3]}"


# --------------------------------------------------------------------------- taskc_4 — sharded validation


@pytest.mark.taskc_4
def test_evaluate_split_matches_a_direct_computation(lab):
    images, labels = lab.make_synthetic_dataset(50, seed=2)
    model = lab.create_classifier(tiny_config(lab), images, num_classes=10).eval()
    got = lab.evaluate_split(model, images, labels, torch.device("cpu"))
    with torch.no_grad():
        logits = model(images.float())
    expected_loss = torch.nn.functional.cross_entropy(logits, labels).item()
    expected_accuracy = (logits.argmax(1) == labels).float().mean().item()
    assert got["loss"] == pytest.approx(expected_loss, rel=1e-4) and got["accuracy"] == pytest.approx(expected_accuracy), (
        f"expected loss {expected_loss:.4f} and accuracy {expected_accuracy:.3f}; got {got}")


@pytest.mark.taskc_4
def test_each_rank_scores_its_share_and_sums_over_ranks(lab, monkeypatch):
    """Two ranks, 5 images: rank 0 scores images 0, 2, 4 and rank 1 images 1, 3. A fake all-reduce adds
    rank 0's list to rank 1's (the same code builds both lists, so their order is yours to choose)."""
    images, labels = lab.make_synthetic_dataset(5, seed=2)
    model = lab.create_classifier(tiny_config(lab), images, num_classes=10).eval()
    monkeypatch.setattr(lab.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(lab.dist, "get_world_size", lambda: 2)

    def as_rank(rank, all_reduce):
        sent = []
        monkeypatch.setattr(lab.dist, "get_rank", lambda: rank)
        monkeypatch.setattr(lab, "sum_over_ranks", lambda values, device: sent.append(list(values)) or all_reduce(list(values)))
        return lab.evaluate_split(model, images, labels, torch.device("cpu")), sent

    _, rank0 = as_rank(0, lambda values: values)
    got, rank1 = as_rank(1, lambda values: [a + b for a, b in zip(values, rank0[0])])
    assert len(rank1) == 1, "add the sums up over the ranks once, with sum_over_ranks([...], device)"
    with torch.no_grad():
        logits = model(images.float())
    share_loss = torch.nn.functional.cross_entropy(logits[1::2], labels[1::2], reduction="sum").item()
    assert any(abs(value - share_loss) < 1e-3 for value in rank1[0]), (
        f"rank 1 of 2 sums the loss of its share, images 1 and 3 (every world_size-th, from its rank): "
        f"{share_loss:.4f} is not among the numbers it sent, {rank1[0]}")
    loss = torch.nn.functional.cross_entropy(logits, labels).item()
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    assert abs(got["loss"] - loss) < 1e-4 and abs(got["accuracy"] - accuracy) < 1e-6, (
        f"after the sum over the ranks, every rank returns the loss and accuracy of all 5 images (loss {loss:.4f}, "
        f"accuracy {accuracy:.2f}); got {got}: sum the loss, the correct count and the image count, never means "
        "(the shares have 3 and 2 images)")


# --------------------------------------------------------------------------- taskc_5 — checkpoints for exact resume


@pytest.mark.taskc_5
def test_save_run_writes_best_before_last_and_only_when_improved(lab, tmp_path, monkeypatch):
    written = []
    real_save = lab.save_checkpoint
    monkeypatch.setattr(lab, "save_checkpoint", lambda path, **state: written.append(Path(path).name) or real_save(path, **state))
    run = lab.start_run(tiny_config(lab), smoke_args(lab, tmp_path))
    run.epoch = 1
    run.stopper.step(0.5)
    lab.save_run(run)
    assert written == ["best.pt", "last.pt"], (
        f"an improving epoch writes best.pt FIRST, then last.pt (a crash between them then only costs a redo); wrote {written}")
    run.epoch = 2
    run.stopper.step(0.4)
    lab.save_run(run)
    assert written[2:] == ["last.pt"], f"an epoch without improvement writes last.pt only; wrote {written[2:]}"
    assert epoch_of(tmp_path / "best.pt") == 1 and epoch_of(tmp_path / "last.pt") == 2


@pytest.mark.taskc_5
def test_the_checkpoint_holds_what_resume_and_evaluate_need(lab, tmp_path):
    run = lab.start_run(tiny_config(lab), smoke_args(lab, tmp_path))
    lab.run_epoch(run, 0)
    run.epoch, run.train_seconds = 1, 1.5
    run.history.append({"epoch": 1})
    run.stopper.step(0.3)
    lab.save_run(run)
    checkpoint = torch.load(tmp_path / "last.pt", weights_only=True)
    assert checkpoint["format"] and checkpoint["epoch"] == 1, "one checkpoint format: Lab 3's save_checkpoint(path, model=..., ...)"
    for key in ("config", "class_names", "history", "step", "train_seconds", "scaler", "early_stopping"):
        assert key in checkpoint["extra"], f"pass {key!r} to save_checkpoint as an extra keyword; found {sorted(checkpoint['extra'])}"
    again = lab.start_run(tiny_config(lab), smoke_args(lab, tmp_path))
    lab.resume(again, tmp_path / "last.pt")
    restored = {"epoch": (again.epoch, 1), "step": (again.step, run.step), "history": (again.history, [{"epoch": 1}]),
                "train_seconds": (again.train_seconds, 1.5)}
    wrong = {name: got for name, (got, expected) in restored.items() if got != expected}
    assert not wrong, (f"resume restores the epoch, the step, the history and the training time; not restored: "
                       + ", ".join(f"run.{name} is {got!r}, expected {restored[name][1]!r}" for name, got in wrong.items()))
    assert again.stopper.best == 0.3, "resume restores the early-stopping state"
    assert all(torch.equal(a, b) for a, b in zip(run.model.state_dict().values(), again.model.state_dict().values()))
    momentum = [again.optimizer.state[p].get("momentum_buffer") for p in again.model.parameters() if p.requires_grad]
    assert any(m is not None for m in momentum), "resume restores the optimizer (its momentum buffers)"


@pytest.mark.taskc_5
def test_config_for_resume_keeps_the_saved_config(lab, tmp_path):
    run = resnet_run(lab, tmp_path, seed=7, val_size=0, epochs=2)
    run.epoch = 1
    lab.save_run(run)
    path, saved = tmp_path / "last.pt", run.config
    assert lab.config_for_resume(path, lab.Config, {}) == saved, "with no flags, --resume runs the saved config"
    longer = lab.config_for_resume(path, lab.Config, {"epochs": 5.0, "max_steps": 3, "seed": 7})
    assert longer == lab.dataclasses.replace(saved, epochs=5.0, max_steps=3), (
        f"--epochs and --max-steps change the resumed run's schedule (and --seed 7 repeats the saved value); got {longer}")
    try:
        got = lab.config_for_resume(path, lab.Config, {"epochs": 5.0, "seed": 3})
    except SystemExit as error:
        message = str(error)
    else:
        pytest.fail(f"--resume --seed 3 contradicts the saved seed 7, yet config_for_resume returned a config (seed {got.seed}): "
                    f"a resumed run keeps its config, so end with one line naming --seed and both values")
    assert "--seed" in message and "3" in message and "7" in message and "\n" not in message.strip(), (
        f"--resume --seed 3 contradicts the saved seed 7: one line naming --seed and both values; got {message!r}")
    with pytest.raises(SystemExit) as error:
        lab.config_for_resume(path, lab.Config, {"widths": (16, 32, 32)})
    message = str(error.value)
    assert "--widths" in message and re.search(r"16\W+32\W+32", message) and re.search(r"8\W+16\W+16", message), (
        f"--resume --widths 16,32,32 contradicts the saved 8,16,16: name --widths and both values (any format); got {message!r}")


# --------------------------------------------------------------------------- taskc_6 — the epoch loop


def fake_validation(lab, monkeypatch, accuracies):
    """evaluate_split returns these accuracies, one per epoch, in order (and, like the real one,
    leaves the model in eval mode)."""
    values = iter(accuracies)
    monkeypatch.setattr(lab, "evaluate_split", lambda model, *args, **kwargs: model.eval() and {"loss": 1.0, "accuracy": next(values)})


@pytest.mark.taskc_6
def test_fit_records_saves_and_stops_early(lab, tmp_path, monkeypatch):
    fake_validation(lab, monkeypatch, [0.5, 0.6, 0.55, 0.58, 0.9, 0.9])
    real_run_epoch = lab.run_epoch

    def run_epoch_in_training_mode(run, epoch):
        # Checked before the epoch runs: an epoch in eval mode can blow up (BN on running statistics) before any assert.
        assert run.model.training, (
            f"epoch {epoch} starts in eval mode: validation leaves the model in eval mode, so the epoch loop must "
            "put it back in training mode before each epoch")
        return real_run_epoch(run, epoch)

    monkeypatch.setattr(lab, "run_epoch", run_epoch_in_training_mode)
    run = direct_run(lab, tmp_path, epochs=6, patience=2)
    epochs = [h["epoch"] for h in run.history]
    assert epochs == [1, 2, 3, 4], f"patience 2: stop after two epochs without a new best (epochs 3 and 4); history {epochs}"
    assert run.stopped_early, "run.stopped_early should be True when early stopping ended the run"
    assert run.history[-1]["val_accuracy"] == 0.58 and run.epoch == 4, "each history row holds that epoch's numbers"
    assert epoch_of(tmp_path / "best.pt") == 2 and epoch_of(tmp_path / "last.pt") == 4, "best.pt: epoch 2; last.pt: epoch 4"


@pytest.mark.taskc_6
def test_early_stopping_judges_full_size_epochs_only(lab, tmp_path, monkeypatch):
    fake_validation(lab, monkeypatch, [0.5, 0.3, 0.2, 0.6, 0.7])
    run = direct_run(lab, tmp_path, epochs=5, patience=1, low_res_fraction=0.5, low_res_size=16)
    epochs = [h["epoch"] for h in run.history]
    assert epochs == [1, 2, 3, 4, 5] and not run.stopped_early, (
        f"--low-res-fraction 0.5 of 5 epochs: epochs 1-3 train on small images and are validated at full size, so their "
        f"accuracy says little; early stopping judges full-size epochs only (config.low_res_epoch). With --patience 1 the "
        f"run stopped after epochs {epochs}")
    assert epoch_of(tmp_path / "best.pt") == 5, "best.pt: the best full-size epoch (5)"


@pytest.mark.taskc_6
def test_fit_without_validation_trains_every_epoch_and_writes_no_best(lab, tmp_path):
    run = direct_run(lab, tmp_path, epochs=2, val_size=0)
    assert [h["epoch"] for h in run.history] == [1, 2] and run.step == 2 * (600 // 64), "every epoch, every step"
    assert (tmp_path / "last.pt").exists() and not (tmp_path / "best.pt").exists(), "no validation: last.pt only"


@pytest.mark.taskc_6
def test_a_nan_loss_stops_the_run_and_saves_nothing(lab, tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "run_epoch", lambda run, epoch: math.nan)
    with pytest.raises(SystemExit, match="nan"):
        direct_run(lab, tmp_path)
    assert not list(tmp_path.glob("*.pt")), "a non-finite loss must never be saved (least of all as best.pt)"


@pytest.mark.taskc_6
def test_a_run_interrupted_and_resumed_equals_an_uninterrupted_one(lab, tmp_path, monkeypatch):
    whole = direct_run(lab, tmp_path / "whole", epochs=3)
    real_run_epoch = lab.run_epoch

    def crash_in_epoch_3(run, epoch):
        if epoch == 2:
            raise KeyboardInterrupt("killed")
        return real_run_epoch(run, epoch)

    monkeypatch.setattr(lab, "run_epoch", crash_in_epoch_3)
    with pytest.raises(KeyboardInterrupt):
        direct_run(lab, tmp_path / "cut", epochs=3)
    monkeypatch.setattr(lab, "run_epoch", real_run_epoch)
    resumed = direct_run(lab, tmp_path / "cut", resume=True, epochs=3)
    assert [h["epoch"] for h in resumed.history] == [1, 2, 3], f"resume continues at epoch 3: {resumed.history}"
    assert [h["train_loss"] for h in resumed.history] == [h["train_loss"] for h in whole.history], (
        "the resumed run must repeat the uninterrupted one exactly (same losses)")
    a, b = whole.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a), "resumed weights must equal the uninterrupted run's, bit for bit"


@pytest.mark.taskc_6
def test_best_pt_is_the_best_of_the_whole_run_after_a_crash_between_the_saves(lab, tmp_path, monkeypatch):
    real_save = lab.save_checkpoint
    saved_in_epoch_2 = []

    def crash_between_the_two_saves_of_epoch_2(path, **state):
        if state["epoch"] == 2:
            if saved_in_epoch_2:
                raise KeyboardInterrupt("killed between the two writes")
            saved_in_epoch_2.append(Path(path).name)
        return real_save(path, **state)

    fake_validation(lab, monkeypatch, [0.3, 0.5])
    monkeypatch.setattr(lab, "save_checkpoint", crash_between_the_two_saves_of_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        direct_run(lab, tmp_path, epochs=3)
    monkeypatch.setattr(lab, "save_checkpoint", real_save)
    fake_validation(lab, monkeypatch, [0.5, 0.4] if saved_in_epoch_2 == ["best.pt"] else [0.4])
    direct_run(lab, tmp_path, resume=True, epochs=3)
    assert epoch_of(tmp_path / "best.pt") == 2, (
        f"epoch 2 was the best of the run (0.5), but best.pt holds epoch {epoch_of(tmp_path / 'best.pt')}: write best.pt "
        f"before last.pt, so that a crash between them makes --resume redo the epoch")


# --------------------------------------------------------------------------- taskc_7 — TensorBoard


@pytest.mark.taskc_7
def test_tensorboard_gets_scalars_images_and_the_confusion_matrix(lab, tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    run = lab.start_run(tiny_config(lab), smoke_args(lab, tmp_path))
    lab.open_tensorboard(run)
    lab.fit(run)
    metrics = {"val_accuracy": None}
    lab.log_final(run, metrics)
    assert (tmp_path / "tensorboard").is_dir(), "open the SummaryWriter on OUT/tensorboard (the folder the README names)"
    events = EventAccumulator(str(tmp_path / "tensorboard"))
    events.Reload()
    scalars = set(events.Tags()["scalars"])
    for tag in ("loss/train", "loss/val", "accuracy/val", "lr"):
        assert tag in scalars, f"TensorBoard scalar {tag!r} missing (log_epoch writes each epoch's scalars); found {sorted(scalars)}"
    assert len(events.Scalars("loss/train")) == 2, "one point per epoch"
    images = events.Tags()["images"]
    assert "samples/train" in images and any("confusion" in tag for tag in images), (
        f"log the sample grid and the validation confusion-matrix figure; found images {images}")
    assert metrics["val_accuracy"] is not None and 0 <= metrics["val_accuracy"] <= 1, "the final val accuracy goes into metrics"


# --------------------------------------------------------------------------- taskc_8 — evaluation


@pytest.mark.taskc_8
def test_tta_views(lab):
    class Probe(nn.Module):  # logits = (mean of the left half, mean of the right half)
        def __init__(self):
            super().__init__()
            self.dummy = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return torch.stack([x[..., :16].mean((1, 2, 3)), x[..., 16:].mean((1, 2, 3))], 1)

    images = torch.zeros(3, 3, 32, 32)
    images[..., :16] = 1.0
    plain = lab.predict_logits(Probe(), images, tta=0)
    assert torch.allclose(plain, torch.tensor([[1.0, 0.0]] * 3)), f"tta=0 is one plain forward pass; got {plain}"
    flipped = lab.predict_logits(Probe(), images, tta=1)
    assert torch.allclose(flipped, torch.tensor([[1.0, 1.0]] * 3)), f"tta=1 adds the mirrored view; got {flipped}"
    full = lab.predict_logits(Probe(), images, tta=2)
    assert full.shape == (3, 2) and torch.allclose(full.sum(1), torch.full((3,), 4.0)), (
        f"tta=2 adds two shifted views and their mirrors at half weight (total weight 4); got {full}")


@pytest.mark.taskc_8
def test_ensemble_log_loss_is_not_above_the_members_mean(lab):
    images, labels = lab.make_synthetic_dataset(100, seed=4)
    models = [lab.create_classifier(tiny_config(lab, seed=seed), images, num_classes=10).eval() for seed in range(3)]
    mean_probabilities, members = lab.ensemble_probabilities(models, images, tta=0)
    assert len(members) == 3 and mean_probabilities.shape == (100, 10)
    assert torch.allclose(mean_probabilities.sum(1), torch.ones(100), atol=1e-5), "probabilities must sum to 1"
    ensemble = lab.log_loss(mean_probabilities, labels)
    member_mean = sum(lab.log_loss(p, labels) for p in members) / 3
    assert ensemble <= member_mean + 1e-6, f"ensemble log-loss {ensemble:.4f} > members' mean {member_mean:.4f}: average probabilities, not logits"


class ScaledLinear(nn.Module):
    """Logits = scale * (the image's mean colour) @ W: two members that differ only in their logits' scale."""

    def __init__(self, scale: float):
        super().__init__()
        self.scale = scale
        self.weight = nn.Parameter(torch.randn(10, 3, generator=seeded(5)))

    def forward(self, x):
        return self.scale * (x.mean((2, 3)) / 255) @ self.weight.T


@pytest.mark.taskc_8
def test_ensemble_averages_probabilities_of_members_whose_logits_differ_in_scale(lab):
    images, _ = lab.make_synthetic_dataset(20, seed=4)
    members = [ScaledLinear(1.0), ScaledLinear(8.0)]
    with torch.no_grad():
        expected = sum(member(images.float()).softmax(1) for member in members) / 2
    mean_probabilities, _ = lab.ensemble_probabilities(members, images, tta=0)
    assert torch.allclose(mean_probabilities, expected, atol=1e-5), (
        "the ensemble's probabilities should be the mean of each member's softmax: averaging logits (or one "
        "softmax of summed logits) lets the member with the larger logits decide")


@pytest.mark.taskc_8
def test_evaluate_ensemble_and_predict_commands(lab, tmp_path):
    from PIL import Image

    runs = [tmp_path / f"run{seed}" for seed in range(2)]
    for seed, run in enumerate(runs):
        direct_run(lab, run, seed=seed, epochs=1)
    evaluate_args = dict(smoke=True, data_dir=None, cache_dir="", device=None, split="test", tta=None, amp="off", ensemble=None,
                         config_class=lab.Config)
    single = lab.evaluate(argparse.Namespace(**evaluate_args, checkpoint=str(runs[0] / "last.pt"), out=str(tmp_path / "one")))
    written = json.loads((tmp_path / "one" / "metrics.json").read_text())
    assert written["accuracy"] == single["accuracy"] and 0.2 < single["accuracy"] <= 1, (
        f"accuracy is a fraction that beats chance (0.1): {single['accuracy']}")
    assert sum(map(sum, written["confusion_matrix"])) == 200 and len(written["per_class"]) == 10, "200 test images, 10 classes"
    supports = [row["support"] for row in written["per_class"]]
    assert supports == [20] * 10, f"rows of the confusion matrix are the true classes (20 test images each); supports {supports}"
    assert (tmp_path / "one" / "confusion_matrix.png").stat().st_size > 1000, "evaluate writes a confusion-matrix PNG"
    both = lab.evaluate(argparse.Namespace(**{**evaluate_args, "ensemble": [str(r / "last.pt") for r in runs]},
                                           checkpoint=None, out=str(tmp_path / "ens")))
    assert len(both["member_accuracy"]) == 2, "an ensemble reports each member's accuracy and log-loss"
    assert both["log_loss"] <= sum(both["member_log_loss"]) / 2 + 1e-6, "ensemble log-loss must not exceed the members' mean"
    images, _ = lab.make_synthetic_dataset(2, seed=9)
    files = []
    for i, image in enumerate(images):
        files.append(tmp_path / f"image{i}.png")
        Image.fromarray(image.permute(1, 2, 0).numpy()).save(files[-1])
    predictions = lab.predict(argparse.Namespace(checkpoint=str(runs[0] / "last.pt"), ensemble=None, tta=0, config_class=lab.Config, images=list(map(str, files))))
    assert [p["class"] in CIFAR10_CLASSES and 0 < p["probability"] <= 1 for p in predictions] == [True, True], predictions


def test_ensembles_of_different_classes_are_refused(lab, tmp_path):
    smoke_train(lab, tmp_path / "a", "--epochs", 1, "--classes", "0,1,2", "--val-size", 30)
    smoke_train(lab, tmp_path / "b", "--epochs", 1, "--classes", "3,4,5", "--val-size", 30)
    with pytest.raises(SystemExit, match="same classes"):
        lab.main(["evaluate", "--smoke", "--ensemble", str(tmp_path / "a" / "last.pt"), str(tmp_path / "b" / "last.pt"),
                  "--out", str(tmp_path / "e")])


# --------------------------------------------------------------------------- taskc_9 — the ONNX round trip


@pytest.mark.taskc_9
def test_onnx_export_matches_pytorch_in_one_file(lab, tmp_path):
    images, _ = lab.make_synthetic_dataset(8, seed=0)
    model = lab.create_classifier(tiny_config(lab), images, num_classes=10).eval()
    path = lab.export_onnx(model, tmp_path / "model.onnx", images[:2].float())
    assert Path(path).exists(), "export_onnx should write the file"
    assert [p.name for p in tmp_path.iterdir()] == ["model.onnx"], "keep the weights inside the .onnx (no model.onnx.data beside it)"
    try:
        difference = lab.check_onnx(path, model, images.float())  # a batch of 8: the batch dimension is dynamic
    except Exception as error:
        pytest.fail(f"onnxruntime could not run the file on a batch of 8 ({type(error).__name__}): does export_onnx "
                    "mark the batch dimension dynamic?")
    assert difference <= 1e-4, f"onnxruntime and PyTorch logits differ by {difference:.2e} (> 1e-4)"
    class PlusOne(nn.Module):  # the same model with every logit shifted by 1
        def __init__(self):
            super().__init__()
            self.inner = model

        def forward(self, x):
            return self.inner(x) + 1

    assert lab.check_onnx(path, PlusOne(), images.float()) > 0.5, "check_onnx must compare the file's logits with the given model's"


@pytest.mark.taskc_9
def test_export_command_round_trip_and_never_replaces_the_checkpoint(lab, tmp_path, monkeypatch):
    direct_run(lab, tmp_path / "run", epochs=1)
    checkpoint = str(tmp_path / "run" / "last.pt")
    exported = lab.export(argparse.Namespace(checkpoint=checkpoint, config_class=lab.Config, out=str(tmp_path / "m.onnx")))
    assert exported["max_abs_diff"] <= 1e-4 and (tmp_path / "m.onnx").exists(), f"export should write and check the file: {exported}"
    before = (tmp_path / "run" / "last.pt").read_bytes()
    with pytest.raises(SystemExit, match="onnx"):
        lab.export(argparse.Namespace(checkpoint=checkpoint, config_class=lab.Config, out=checkpoint))
    monkeypatch.setattr(lab, "check_onnx", lambda *args: 0.5)
    with pytest.raises(SystemExit) as stopped:  # the wording is the learner's; an error exit is what counts
        lab.export(argparse.Namespace(checkpoint=checkpoint, config_class=lab.Config, out=str(tmp_path / "bad.onnx")))
    assert stopped.value.code not in (0, None), (
        f"a difference of 0.5 (> 1e-4) must stop export with an error message, got exit code {stopped.value.code!r}")
    assert (tmp_path / "run" / "last.pt").read_bytes() == before, "the checkpoint must be left as it was"


# --------------------------------------------------------------------------- taskc_10 — distributed data parallel


@pytest.mark.taskc_10
def test_shard_batches_splits_every_global_batch(lab):
    permutation = torch.randperm(23, generator=seeded(0))
    shards = [lab.shard_batches(permutation, batch_size=6, rank=r, world_size=2) for r in range(2)]
    assert len(shards[0]) == len(shards[1]) == 3, "23 images in global batches of 6: 3 full batches on every rank"
    for step in range(3):
        together = torch.cat([shards[0][step], shards[1][step]]).sort().values
        assert torch.equal(together, permutation[step * 6 : step * 6 + 6].sort().values), "the ranks' shares make up the global batch"


@pytest.mark.taskc_10
def test_a_plain_run_is_rank_0_of_1_and_wraps_nothing(lab, monkeypatch):
    monkeypatch.delenv("WORLD_SIZE", raising=False)
    device, rank, world_size = lab.setup_distributed("cpu")
    assert (device, rank, world_size) == (torch.device("cpu"), 0, 1), f"without torchrun: (cpu, 0, 1); got {(device, rank, world_size)}"
    model = nn.Linear(2, 2)
    assert lab.wrap_model(model, device, 1, False) is model, "one process, no --compile: the model itself"


@pytest.mark.taskc_10
def test_setup_under_torchrun_joins_the_group_with_gloo_on_the_cpu(lab, monkeypatch):
    joined = []
    for name, value in {"WORLD_SIZE": "2", "LOCAL_WORLD_SIZE": "2", "LOCAL_RANK": "1", "RANK": "1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(lab.dist, "init_process_group", lambda backend=None, **kwargs: joined.append(backend))
    monkeypatch.setattr(lab.dist, "get_rank", lambda: 1)
    monkeypatch.setattr(lab.dist, "get_world_size", lambda: 2)
    got = lab.setup_distributed(None)
    assert joined == ["gloo"], f"join the process group once, with Lab 5's backend for the CPU (gloo); joined {joined}"
    assert got == (torch.device("cpu"), 1, 2), f"return (device, rank, world_size) = (cpu, 1, 2); got {got}"


@pytest.mark.taskc_10
def test_wrap_model_uses_ddp_for_several_processes(lab, monkeypatch):
    wrapped = []

    class FakeDDP(nn.Module):
        def __init__(self, module, device_ids=None):
            super().__init__()
            wrapped.append(device_ids)
            self.module = module

    monkeypatch.setattr(lab.nn.parallel, "DistributedDataParallel", FakeDDP)
    model = nn.Linear(2, 2)
    net = lab.wrap_model(model, torch.device("cpu"), 2, False)
    assert isinstance(net, FakeDDP) and net.module is model, "two processes: the model goes into DistributedDataParallel"
    assert wrapped == [None], f"on the CPU, DDP takes device_ids=None (a GPU index only on CUDA); got {wrapped}"


@pytest.mark.taskc_10
def test_torchrun_with_more_processes_than_gpus_fails_in_one_line(lab, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(lab.dist, "init_process_group", lambda **kwargs: pytest.fail("must fail before joining the group"))
    with pytest.raises((SystemExit, RuntimeError, ValueError)) as error:
        lab.setup_distributed("cuda")
    if isinstance(error.value, NotImplementedError):  # an unfinished TODO is a RuntimeError too: report it as one
        raise error.value
    message = str(error.value)
    assert "\n" not in message.strip() and re.search(r"\b1\b", message) and "2" in message, (
        f"one line naming the GPU count (1) and the processes asked for (2); got: {message}")


# --------------------------------------------------------------------------- taskc_11 — the command line


@pytest.mark.taskc_11
def test_train_command_writes_a_run_folder_and_resumes(lab, tmp_path):
    first = smoke_train(lab, tmp_path)
    for name in ("last.pt", "best.pt", "metrics.json", "tensorboard"):
        assert (tmp_path / name).exists(), f"train should write {name} into --out"
    assert json.loads((tmp_path / "metrics.json").read_text()).get("history") == first["history"], (
        "metrics.json is written after training and holds the run's history")
    try:
        resumed = smoke_train(lab, tmp_path, "--resume", "--epochs", "3")
    except SystemExit as error:
        pytest.fail(f"train --resume stopped in its own run folder ({error}): prepare_out_folder refuses a folder that "
                    f"holds a run only for a fresh train; --resume continues the run that is there")
    assert [h["epoch"] for h in resumed["history"]] == [1, 2, 3], f"--resume --epochs 3 continues at epoch 3: {resumed['history']}"
    assert [h["train_loss"] for h in resumed["history"][:2]] == [h["train_loss"] for h in first["history"]], (
        "--resume continues the saved run: its first two epochs are the first run's, not new ones")


@pytest.mark.taskc_11
def test_resume_keeps_the_saved_config(lab, tmp_path):
    smoke_train(lab, tmp_path, "--val-size", 0, "--seed", 7, "--epochs", 1)
    try:
        metrics = smoke_train(lab, tmp_path, "--resume", "--epochs", 2)
    except Exception as error:
        pytest.fail(f"resuming a --val-size 0 --seed 7 run failed ({type(error).__name__}: {error}): "
                    f"a resumed run must use the checkpoint's config, not the command line's defaults")
    assert metrics["config"]["seed"] == 7 and metrics["config"]["val_size"] == 0, "a resumed run uses the checkpoint's config"
    with pytest.raises(SystemExit) as error:
        smoke_train(lab, tmp_path, "--resume", "--seed", 3)
    assert "--seed 3" in str(error.value) and "7" in str(error.value), f"name both values; got: {error.value}"


@pytest.mark.taskc_11
def test_cli_reports_a_bad_checkpoint_in_one_line(lab, tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 truncated")
    message = one_line_exit(lab, "export", "--checkpoint", bad, "--out", tmp_path / "m.onnx")
    assert "bad.pt" in message and "\n" not in message.strip(), f"one line that names the file: {message}"


@pytest.mark.taskc_11
def test_a_failed_save_ends_in_one_line_naming_the_file(lab, tmp_path, monkeypatch):
    """A full disk mid-run: torch.save's "[enforce fail at inline_container.cc]" names no file; the
    user sees one line with the checkpoint's path and the reason, and no temporary file is left."""
    monkeypatch.setattr(torch, "save", full_disk_save)
    try:
        smoke_train(lab, tmp_path / "run", "--epochs", 1)
    except SystemExit as error:
        message = str(error)
    except (OSError, RuntimeError) as error:
        if isinstance(error, NotImplementedError):
            raise
        pytest.fail(f"a failed save came through as a traceback ({type(error).__name__}: {error}): main turns it into "
                    f"one line, SystemExit(\"error: ...\")")
    else:
        pytest.fail("the checkpoint could not be saved, so train must fail")
    assert message.startswith("error:") and "\n" not in message.strip(), f"one line starting 'error:'; got: {message!r}"
    assert "last.pt" in message or "best.pt" in message, f"the line names the checkpoint file; got: {message!r}"
    assert not list((tmp_path / "run").glob("*.tmp")), "no temporary file is left behind"


@pytest.mark.taskc_11
def test_resume_with_another_width_names_the_difference(lab, tmp_path):
    """Issue 15 #14: resuming with other --widths used to end in a 43-line size-mismatch traceback."""
    smoke_train(lab, tmp_path, "--epochs", 1)
    with pytest.raises(SystemExit) as error:
        smoke_train(lab, tmp_path, "--resume", "--widths", "16,32,32", "--epochs", 2)
    message = str(error.value)
    values = [re.search(r"16\W+32\W+32", message), re.search(r"8\W+16\W+16", message)]
    assert "\n" not in message.strip() and "--widths" in message and all(values), (
        f"one line naming --widths, the value asked for (16,32,32) and the run's (8,16,16): C.5's config_for_resume makes it; "
        f"got: {message!r}")


def train_refusal(lab, out, *extra) -> str:
    """The one-line message of a train command that must stop (a learner-readable failure if it does not)."""
    try:
        smoke_train(lab, out, *extra)
    except SystemExit as error:
        message = str(error)
    else:
        pytest.fail(f"train {' '.join(map(str, extra))} into {out} should have stopped with one line (SystemExit): "
                    f"prepare_out_folder refuses a folder that holds a run, and one it cannot write")
    assert message.startswith("error:") and "\n" not in message.strip() and str(out) in message, (
        f"one line starting 'error:' that names the folder {out}; got {message!r}")
    return message


@pytest.mark.taskc_11
def test_outputs_never_replace_other_runs(lab, tmp_path):
    smoke_train(lab, tmp_path / "run", "--epochs", 1)
    message = train_refusal(lab, tmp_path / "run", "--epochs", 1)
    assert "--resume" in message and "--overwrite" in message, f"the refusal names the ways out, --resume and --overwrite: {message!r}"
    with pytest.raises(SystemExit, match="training run folder"):
        lab.main(["evaluate", "--smoke", "--checkpoint", str(tmp_path / "run" / "last.pt"), "--out", str(tmp_path / "run")])
    assert "history" in json.loads((tmp_path / "run" / "metrics.json").read_text()), "the training metrics.json is intact"
    (tmp_path / "run" / ".last.pt.999.tmp").write_bytes(b"left by a killed run")
    saved = (tmp_path / "run" / "last.pt").read_bytes()
    with pytest.raises(SystemExit, match="larger than"):
        smoke_train(lab, tmp_path / "run", "--epochs", 1, "--overwrite", "--batch-size", 100000)
    assert (tmp_path / "run" / "last.pt").read_bytes() == saved, "--overwrite keeps the old run until the new one has started"
    smoke_train(lab, tmp_path / "run", "--epochs", 1, "--overwrite")
    assert not list((tmp_path / "run").glob("*.tmp")), "stale temporary files of a killed run are removed at start"


def refuse_writes_inside(monkeypatch, folder: Path):
    """Every way of creating a file or folder inside `folder` fails as in a read-only folder (root ignores
    permission bits, so it is simulated below the level any implementation calls)."""
    import builtins
    import io

    def inside(path) -> bool:
        try:
            return Path(os.fsdecode(path)).resolve().parent.is_relative_to(folder.resolve())
        except (TypeError, ValueError):
            return False

    def in_folder(path) -> bool:  # the folder itself: a write-open of it is Linux's O_TMPFILE (tempfile.TemporaryFile)
        try:
            return Path(os.fsdecode(path)).resolve() == folder.resolve()
        except (TypeError, ValueError):
            return False

    def refusing(real, writes, itself=False):
        def call(path, *args, **kwargs):
            if (inside(path) or (itself and in_folder(path))) and writes(*args, **kwargs):
                raise PermissionError(errno.EACCES, "Permission denied", os.fsdecode(path))
            return real(path, *args, **kwargs)
        return call

    opens_to_write = lambda mode="r", *args, **kwargs: any(c in str(mode) for c in "wax+")  # noqa: E731
    os_write = lambda flags, *args, **kwargs: bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))  # noqa: E731
    for module, name, writes in ((builtins, "open", opens_to_write), (io, "open", opens_to_write), (os, "open", os_write),
                                 (os, "mkdir", lambda *args, **kwargs: True)):
        monkeypatch.setattr(module, name, refusing(getattr(module, name), writes, itself=name == "open"))
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, *args, **kwargs: False if (mode & os.W_OK and (
        inside(path) or in_folder(path))) else real_access(path, mode, *args, **kwargs))


@pytest.mark.taskc_11
@pytest.mark.parametrize("blocked", ["a file where the folder should be", "a read-only folder"])
def test_an_unwritable_run_folder_fails_before_training(lab, tmp_path, monkeypatch, blocked):
    """Issue 15 #13: checked at start, not after an epoch of work."""
    out = tmp_path / "run"
    if blocked == "a file where the folder should be":
        (tmp_path / "file").write_text("not a folder")
        out = tmp_path / "file" / "run"
    else:
        out.mkdir()
        refuse_writes_inside(monkeypatch, out)
    monkeypatch.setattr(lab, "start_run", lambda *args: pytest.fail(
        f"{blocked}: train went on to start the run; prepare_out_folder must find that it cannot write there, before any work"))
    train_refusal(lab, out, "--epochs", 1)


@pytest.mark.taskc_11
def test_torchrun_two_cpu_processes(child_lab_path, tmp_path):
    lab_path = child_lab_path
    out = tmp_path / "ddp"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--standalone", str(lab_path),
               "train", "--smoke", "--epochs", "1", "--out", str(out), "--cache-dir", "", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    except subprocess.TimeoutExpired as stuck:
        # POSIX: bytes (or None) even with text=True; Windows: str, read by communicate() after the kill
        output = "".join(part.decode(errors="replace") if isinstance(part, bytes) else part or "" for part in (stuck.stdout, stuck.stderr))
        raise_todo_from_output(output)
        pytest.fail(f"torchrun with 2 processes did not finish in 240 s (a 12 s run): a process waits for the other, "
                    f"at a collective only one rank reaches, or at exit. Its last output:\n{output[-2000:]}")
    raise_todo_from_output(result.stdout + result.stderr)
    assert result.returncode == 0, f"torchrun failed:\n{result.stdout[-2000:]}\n{result.stderr[-3000:]}"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["world_size"] == 2, f"metrics.json should report world_size 2, got {metrics['world_size']}"
    assert (out / "last.pt").exists(), "rank 0 writes the checkpoint"
    lines = [line for line in result.stdout.splitlines() if "acc" in line.lower()]
    repeated = sorted({line for line in lines if lines.count(line) > 1})
    assert lines and not repeated, f"only rank 0 prints (runs.py's log): these lines came from both processes: {repeated}"


def test_help_lists_the_commands(lab, capsys):
    with pytest.raises(SystemExit) as done:
        lab.main(["--help"])
    out = capsys.readouterr().out
    assert done.value.code == 0
    for command in ("train", "evaluate", "predict", "export"):
        assert command in out, f"--help should list the {command} command"


# --------------------------------------------------------------------------- given code: runs.py, options.py


@pytest.mark.parametrize("flags", [["--epochs", "0"], ["--epochs", "-3"], ["--batch-size", "-8"], ["--batch-size", "0"],
                                   ["--max-steps", "-5"], ["--val-size", "-100"], ["--compile", "ture"], ["--flip", "altenate"],
                                   ["--amp", "bf61"], ["--tta", "99"], ["--widths", "8,16"], ["--widths", "0,16,16"], ["--classes", "3,3"],
                                   ["--threads", "-1"], ["--lr", "nan"], ["--device", "tpu"]])
def test_bad_options_are_one_line_errors(lab, flags, capsys):
    with pytest.raises(SystemExit) as error:
        lab.main(["train", "--smoke", *flags])
    assert error.value.code == 2, f"{flags}: argparse should reject it (exit 2)"
    message = capsys.readouterr().err.strip().splitlines()
    assert len(message) == 1 and "error:" in message[0] and flags[0] in message[0], (
        f"{flags}: one line naming the option (no usage block before it); got {message}")


def test_a_run_without_a_validation_split_prints_no_nan(lab, tmp_path, capsys):
    smoke_train(lab, tmp_path, "--val-size", 0, "--epochs", 1)
    printed = capsys.readouterr().out
    assert "(no validation split)" in printed and not re.search(r"\bnan\b", printed), printed


def test_resuming_an_early_stopped_run_trains_nothing(lab, tmp_path, monkeypatch, capsys):
    fake_validation(lab, monkeypatch, [0.5, 0.4, 0.3])
    smoke_train(lab, tmp_path, "--epochs", 5, "--patience", 2)
    metrics = smoke_train(lab, tmp_path, "--resume", "--epochs", 5)
    assert len(metrics["history"]) == 3 and "already stopped early" in capsys.readouterr().out


def test_evaluate_split_val_reproduces_the_training_split(lab, tmp_path):
    smoke_train(lab, tmp_path / "run", "--epochs", 1, "--val-size", 0)
    with pytest.raises(SystemExit, match="--split test"):
        lab.main(["evaluate", "--smoke", "--checkpoint", str(tmp_path / "run" / "last.pt"), "--split", "val", "--out", str(tmp_path / "e")])


def test_finetune_from_a_backbone_with_gradual_unfreezing(lab, tmp_path, capsys):
    smoke_train(lab, tmp_path / "pre", "--classes", "0,1,2,3,4", "--epochs", 1, "--val-size", 50)
    metrics = smoke_train(lab, tmp_path / "ft", "--classes", "5,6,7,8,9", "--finetune-from", tmp_path / "pre" / "last.pt",
                          "--unfreeze-every", 1, "--epochs", 2, "--val-size", 50)
    printed = capsys.readouterr().out
    assert "copied" in printed and len(metrics["history"]) == 2, printed
    before = torch.load(tmp_path / "pre" / "last.pt", weights_only=True)["model"]
    after = torch.load(tmp_path / "ft" / "last.pt", weights_only=True)["model"]
    backbone = [name for name, value in after.items() if name in before and before[name].shape == value.shape
                and not name.startswith(("normalize.", "network.head.")) and "running_" not in name and "num_batches" not in name]
    unchanged = [name for name in backbone if torch.equal(before[name], after[name])]
    assert 0 < len(unchanged) < len(backbone), (
        f"gradual unfreezing over 2 epochs (one more stage each epoch, README C.6) trains some backbone stages and "
        f"leaves the first ones as copied: {len(unchanged)} of {len(backbone)} backbone tensors are unchanged")


def test_speedrun_options_and_lookahead_resume(tmp_path):
    from checkpoint_project import speedrun

    speedrun.main(["train", "--smoke", "--out", str(tmp_path), "--cache-dir", "", "--val-size", "0", "--lookahead",
                   "--dirac-init", "--whiten-bias-epochs", "1", "--bias-lr-scale", "4", "--decay-biases", "--epochs", "1"])
    metrics = speedrun.main(["train", "--smoke", "--out", str(tmp_path), "--cache-dir", "", "--resume", "--epochs", "2"])
    assert [h["epoch"] for h in metrics["history"]] == [1, 2] and metrics["config"]["lookahead"]
    assert "average" in torch.load(tmp_path / "last.pt", weights_only=True)["optimizer"], "the lookahead average is saved"
    got = [speedrun.triangular_lr(step, 100, peak=2.0, warmup=0.2, start=0.5, end=0.1) for step in (0, 10, 20, 60, 100, 120)]
    assert all(abs(g - e) < 1e-9 for g, e in zip(got, [1.0, 1.5, 2.0, 1.1, 0.2, 0.2])), got


def test_speedrun_model_gets_airbench_tweaks_after_the_solutions_model():
    from checkpoint_project import speedrun

    config = speedrun.SpeedrunConfig(widths=(8, 16, 16), whiten_bias_epochs=1, bn_scale_trainable=False, dirac_init=True)
    model = config.build_model(torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8), num_classes=10)
    assert model.network.whiten.bias.requires_grad, "--whiten-bias-epochs > 0 makes the whitening bias trainable"
    assert not any(m.weight.requires_grad for m in model.modules() if isinstance(m, nn.BatchNorm2d)), "BN scales frozen"
    convs = [m for m in model.network.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)
             and m.out_channels >= m.in_channels]
    assert convs
    for conv in convs:
        identity = nn.init.dirac_(torch.empty_like(conv.weight[: conv.in_channels]))
        assert torch.equal(conv.weight[: conv.in_channels], identity), "--dirac-init starts each 3x3 conv as the identity"


def test_speedrun_whitening_layer_is_fitted_to_the_normalised_images():
    from checkpoint_project import speedrun

    mixing = torch.randn(3, 3, generator=seeded(0))
    base = torch.randn(200, 3, 16, 16, generator=seeded(1))
    images = torch.einsum("ij,njhw->nihw", mixing, base + base.roll(1, dims=3))  # correlated channels and pixels
    weights = speedrun.patch_whitening_weights(images, eps=1e-6)
    assert weights.shape == (24, 3, 2, 2) and torch.allclose(weights[12:], -weights[:12])
    out = torch.nn.functional.conv2d(images, weights[:12]).permute(0, 2, 3, 1).reshape(-1, 12)
    out = out - out.mean(0)
    assert torch.allclose(out.T @ out / len(out), torch.eye(12), atol=0.05), "whitened patches have identity covariance"
    config = speedrun.SpeedrunConfig(widths=(8, 16, 16))
    pixels = torch.randint(0, 256, (64, 3, 32, 32), dtype=torch.uint8, generator=seeded(2))
    model = config.build_model(pixels, num_classes=10)
    # For filters W = D^-1/2 V^T of the patch covariance C: W^T W = (C + eps I)^-1, whatever eigh's signs and basis.
    patches = torch.nn.functional.unfold(model.normalize(pixels.float()).double(), kernel_size=2).transpose(1, 2).reshape(-1, 12)
    patches = patches - patches.mean(0)
    expected = torch.linalg.inv(patches.T @ patches / len(patches) + config.whiten_eps * torch.eye(12, dtype=torch.float64))
    filters = model.network.whiten.weight.detach().double().reshape(24, 12)[:12]
    assert (filters.T @ filters - expected).norm() / expected.norm() < 1e-2, "the whitening filters of the normalised images"
    assert not model.network.whiten.weight.requires_grad and torch.count_nonzero(model.network.whiten.bias) == 0


def test_a_speedrun_checkpoint_is_refused_by_the_solution_in_one_line(tmp_path, capsys):
    from checkpoint_project import solution, speedrun

    speedrun.main(["train", "--smoke", "--out", str(tmp_path / "run"), "--cache-dir", "", "--arch", "whiten", "--epochs", "1"])
    with pytest.raises(SystemExit) as refused:
        solution.main(["export", "--checkpoint", str(tmp_path / "run" / "last.pt"), "--out", str(tmp_path / "m.onnx")])
    assert "speedrun.py" in str(refused.value) and "\n" not in str(refused.value), refused.value
    speedrun.main(["export", "--checkpoint", str(tmp_path / "run" / "last.pt"), "--out", str(tmp_path / "m.onnx")])
    assert (tmp_path / "m.onnx").exists(), "speedrun.py exports its own checkpoints"


def test_lookahead_pulls_toward_the_average_late_and_ends_on_it():
    from checkpoint_project.speedrun import Lookahead

    model = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    start = {k: v.clone() for k, v in model.state_dict().items()}
    lookahead = Lookahead(torch.optim.SGD(model.parameters(), lr=0.0), model, total_steps=10, every=5)
    with torch.no_grad():
        model[0].weight.add_(1.0)
        lookahead.pull(3)  # not a multiple of 5: nothing happens
        assert torch.equal(model[0].weight, start["0.weight"] + 1), "between every-th steps the model is left alone"
        lookahead.pull(5)
        expected = start["0.weight"] + (1 - 0.95**5 * 0.5**3)
        assert torch.allclose(model[0].weight, expected), "at step 5 of 10 the model restarts from the pulled average"
        model[0].weight.add_(5.0)
        lookahead.pull(10)
        assert torch.allclose(model[0].weight, expected), "the last update leaves the model on the average"


def test_warm_up_leaves_the_model_as_it_was(lab):
    images, _ = lab.make_synthetic_dataset(20, seed=0)
    model = lab.create_classifier(tiny_config(lab), images, num_classes=10).to(memory_format=torch.channels_last)
    before = {name: value.clone() for name, value in model.state_dict().items()}
    lab.warm_up(model, model, (4, 3, 32, 32), torch.channels_last, None)
    changed = [name for name in before if not torch.equal(before[name], model.state_dict()[name])]
    assert not changed, f"warm-up must put weights and BN statistics back; changed: {changed}"
    assert all(p.grad is None for p in model.parameters()), "warm-up must leave no gradients behind"


def test_smoke_run_with_fp16_and_a_grad_scaler_on_the_cpu(lab, tmp_path):
    """The path a GPU without bf16 takes (Colab's T4): fp16 autocast with a GradScaler, here for real on the CPU."""
    with torch.autocast("cpu", dtype=torch.float16):
        if (torch.ones(2, 2) @ torch.ones(2, 2)).dtype != torch.float16:
            pytest.skip(f"torch {torch.__version__} has no fp16 autocast on the CPU")
    metrics = smoke_train(lab, tmp_path, "--device", "cpu", "--amp", "fp16", "--epochs", 1)
    assert metrics["autocast"] == "torch.float16", metrics["autocast"]
    assert all(math.isfinite(row["train_loss"]) for row in metrics["history"]), metrics["history"]


@pytest.mark.gpu
def test_smoke_run_on_cuda(lab, tmp_path):
    metrics = smoke_train(lab, tmp_path, "--device", "cuda", "--amp", "bf16", "--epochs", 1)
    assert metrics["device"].startswith("cuda") and math.isfinite(metrics["history"][-1]["train_loss"])
