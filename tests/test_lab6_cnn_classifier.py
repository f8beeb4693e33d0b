"""Lab 6 — CNN Image Classifier. Run: pytest -m lab6 (add --impl solution for the reference).

The default run uses small generated data and takes seconds. The `slow` tests train on the
offline CIFAR-10 copy (CIFAR10_DIR) and check the deliverable: pytest -m lab6 --runslow.
Tests without a task marker check given code (plumbing, the benchmark, the lesson file's
shape); they do not count towards a task.
"""

import copy
import importlib.util
import itertools
import re
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness import markers
from harness.todos import raise_todo_from_output
from tests.helpers import expect_error, seeded

pytestmark = [pytest.mark.lab6, pytest.mark.usefixtures("one_thread")]  # small tensors: one thread (conftest.py)

LAB_DIR = Path(__file__).resolve().parent.parent / "lab6_cnn_classifier"


def make_images(num_classes=3, per_class=40, size=32, seed=0, shuffle=True):
    """uint8 (N, 3, size, size) images whose class is their dominant colour, plus noise."""
    g = seeded(seed)
    images, labels = [], []
    for label in range(num_classes):
        base = torch.full((per_class, 3, size, size), 60.0)
        base[:, label % 3] = 190.0
        if label >= 3:  # more classes: a bright square in one corner tells them apart
            base[:, :, : size // 2, : size // 2] = 250.0
        noise = torch.randn(per_class, 3, size, size, generator=g) * 25
        images.append((base + noise).clamp(0, 255).to(torch.uint8))
        labels.append(torch.full((per_class,), label, dtype=torch.long))
    images, labels = torch.cat(images), torch.cat(labels)
    if shuffle:
        order = torch.randperm(num_classes * per_class, generator=g)
        images, labels = images[order], labels[order]
    return images, labels


def image_data(lab, num_classes=3, per_class=40, seed=0, size=16, shuffle=True):
    images, labels = make_images(num_classes, per_class, size=size, seed=seed, shuffle=shuffle)
    return lab.InMemoryImages(images, labels, [f"class{i}" for i in range(num_classes)])


def write_image_folder(root, num_classes=10, train_per_class=4, test_per_class=2):
    from PIL import Image

    for split, per_class in (("train", train_per_class), ("test", test_per_class)):
        images, labels = make_images(num_classes, per_class, seed=1 if split == "train" else 2)
        for index, (image, label) in enumerate(zip(images, labels)):
            folder = root / split / f"class{int(label)}"
            folder.mkdir(parents=True, exist_ok=True)
            Image.fromarray(image.permute(1, 2, 0).numpy()).save(folder / f"{index:04d}.png")
    return root


def raise_todo_printed_by_demo(output, lab_path):
    """The demo's guard prints an unfinished TODO as one line ("TODO(task6_5): ..."), not as a
    traceback: turn it back into the harness's one-line TODO failure, pointing at the lab file."""
    raise_todo_from_output(output)


def forward_or_fail(model, x, why):
    try:
        return model(x)
    except RuntimeError as error:
        pytest.fail(f"{type(model).__name__} failed on an input of shape {tuple(x.shape)} ({why}): {error}", pytrace=False)


def bn_stats(model):
    return {name: buf.clone() for name, buf in model.named_buffers() if "running" in name}


@pytest.fixture
def benchmark():
    """lab6_cnn_classifier/benchmark.py (given code; its functions take the graded lab module)."""
    return importlib.import_module("lab6_cnn_classifier.benchmark")  # by name: spawned workers import it again


# --------------------------------------------------------------------------- task6_1


@pytest.mark.task6_1
def test_conv_output_size_matches_real_conv2d_and_maxpool(lab):
    checked = 0
    for size, kernel, stride, padding, dilation in itertools.product([1, 5, 8, 13, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2]):
        span = dilation * (kernel - 1) + 1
        if span > size + 2 * padding:
            continue
        weight = torch.zeros(1, 1, kernel, kernel)
        real = F.conv2d(torch.zeros(1, 1, size, size), weight, stride=stride, padding=padding, dilation=dilation).shape[-1]
        got = lab.conv_output_size(size, kernel, stride, padding, dilation)
        assert got == real, (
            f"conv_output_size(size={size}, kernel={kernel}, stride={stride}, padding={padding}, dilation={dilation}) "
            f"returned {got}, but nn.Conv2d gives {real}"
        )
        if padding <= kernel // 2:  # MaxPool2d allows padding up to half the kernel
            pooled = F.max_pool2d(torch.zeros(1, 1, size, size), kernel, stride, padding, dilation).shape[-1]
            assert got == pooled, f"MaxPool2d gives {pooled} for the same settings, you returned {got}"
        checked += 1
    assert checked > 300


@pytest.mark.task6_1
def test_conv_output_size_rejects_kernel_that_does_not_fit(lab):
    assert lab.conv_output_size(32, 3, padding=1) == 32, "a 3x3 'same' convolution keeps 32 pixels"
    expect_error(ValueError, lambda: lab.conv_output_size(4, 7), advice="a 7-pixel kernel does not fit in 4 pixels")
    expect_error(ValueError, lambda: lab.conv_output_size(8, 3, dilation=4), advice="a 3-tap kernel with dilation 4 spans 9 pixels > 8")
    expect_error(ValueError, lambda: lab.conv_output_size(8, 3, stride=0), advice="stride 0 is invalid")


# --------------------------------------------------------------------------- task6_2


@pytest.mark.task6_2
def test_conv_bn_act_layers_and_shapes(lab):
    block = lab.conv_bn_act(3, 16)
    kinds = [type(layer) for layer in block]
    assert kinds == [nn.Conv2d, nn.BatchNorm2d, nn.ReLU], f"expected Conv2d, BatchNorm2d, ReLU; got {kinds}"
    conv = block[0]
    assert conv.bias is None, "no conv bias: the BatchNorm right after it would cancel it"
    assert block(torch.randn(2, 3, 32, 32)).shape == (2, 16, 32, 32), "a 3x3 conv with padding 1 keeps 32x32"
    strided = lab.conv_bn_act(8, 4, kernel_size=5, stride=2, activation=nn.GELU)
    kinds = [type(layer) for layer in strided]
    assert kinds == [nn.Conv2d, nn.BatchNorm2d, nn.GELU], f"activation=nn.GELU: the block ends in GELU; got {kinds}"
    assert strided(torch.randn(2, 8, 15, 15)).shape == (2, 4, 8, 8), "kernel 5, padding 2, stride 2: 15 -> 8"
    assert len(lab.conv_bn_act(4, 4, activation=None)) == 2, "activation=None leaves out the activation"


# --------------------------------------------------------------------------- task6_3


def batchnorms(module):
    return [m for m in module.modules() if isinstance(m, nn.BatchNorm2d)]


FIRST_BN_ZEROED = (
    "the FIRST BatchNorm of the residual branch starts with gamma = 0. The block still returns relu(shortcut(x)) "
    "at init, but that BN then outputs only zeros: the ReLU after it passes no gradient (to the BN or the first "
    "conv) and the last BN's input is constant, so its gamma gets no gradient either. The branch can never learn. "
    "Zero the LAST BatchNorm's weight instead, and leave the first one at 1"
)


@pytest.mark.task6_3
def test_fresh_residual_block_is_the_identity_for_same_shape(lab):
    torch.manual_seed(0)
    block = lab.ResidualBlock(8, 8)
    assert isinstance(block.shortcut, nn.Identity), "same shape: the shortcut is nn.Identity()"
    x = torch.randn(4, 8, 10, 10)
    out = block(x)  # training mode: BN uses batch statistics, gamma = 0 still zeroes the branch
    if torch.equal(out, x):
        pytest.fail("a fresh block returned x itself (negative values included): apply the ReLU after adding", pytrace=False)
    assert torch.equal(out, F.relu(x)), "a fresh block must return relu(x) exactly: zero the last BN's weight (gamma)"
    nonnegative = x.relu()  # what a block receives after a previous ReLU
    assert torch.equal(block.eval()(nonnegative), nonnegative), "on a post-ReLU input a fresh block returns x itself"


@pytest.mark.task6_3
@pytest.mark.parametrize("in_ch, out_ch, stride", [(8, 16, 1), (8, 8, 2), (4, 12, 2)])
def test_residual_block_projects_when_the_shape_changes(lab, in_ch, out_ch, stride):
    torch.manual_seed(0)
    block = lab.ResidualBlock(in_ch, out_ch, stride)
    convs = [m for m in block.shortcut.modules() if isinstance(m, nn.Conv2d)]
    assert len(convs) == 1 and convs[0].kernel_size == (1, 1), "the projection shortcut is one 1x1 Conv2d (+ BN)"
    assert convs[0].stride == (stride, stride), f"the projection needs stride {stride} to match the residual branch"
    assert batchnorms(block.shortcut), "follow the 1x1 conv of the shortcut with BatchNorm2d"
    x = torch.randn(3, in_ch, 8, 8)
    out = block(x)
    assert out.shape == (3, out_ch, 8 // stride, 8 // stride), f"got {tuple(out.shape)}"
    shortcut = block.shortcut(x)
    if torch.equal(out, shortcut):
        pytest.fail("a fresh block returned shortcut(x) with its negative values: apply the ReLU after adding", pytrace=False)
    assert torch.equal(out, F.relu(shortcut)), "a fresh block returns relu(shortcut(x)): zero the last BN gamma"


@pytest.mark.task6_3
def test_residual_branch_ends_in_a_zero_gamma_that_gets_a_gradient(lab):
    torch.manual_seed(0)
    block = lab.ResidualBlock(4, 4)
    bns = batchnorms(block.residual)
    assert len(bns) == 2, f"the residual branch has two BatchNorm2d layers (conv-BN-ReLU, conv-BN), found {len(bns)}"
    assert not torch.equal(bns[0].weight.detach(), torch.zeros(4)), FIRST_BN_ZEROED
    assert torch.equal(bns[-1].weight.detach(), torch.zeros(4)), "the residual branch ends in a BN whose weight (gamma) is 0"
    block(torch.randn(2, 4, 6, 6)).square().mean().backward()
    assert bns[-1].weight.grad is not None and bns[-1].weight.grad.abs().sum() > 0, (
        "the last BN's gamma starts at 0 but must still get a gradient, so the block can learn to use its branch"
    )


@pytest.mark.task6_3
def test_residual_branch_learns_within_a_few_steps(lab):
    """What zeroing the last gamma buys: the branch is silent at init yet trains. At step 0 only the last
    BN's gamma and beta get gradients; once gamma is not 0, the gradient reaches the first conv."""
    torch.manual_seed(0)
    block = lab.ResidualBlock(4, 4)
    first_conv = next(m for m in block.residual.modules() if isinstance(m, nn.Conv2d))
    start = first_conv.weight.detach().clone()
    x, target = torch.randn(8, 4, 6, 6), torch.randn(8, 4, 6, 6)
    optimizer = torch.optim.SGD(block.parameters(), lr=0.1)
    for _ in range(3):
        optimizer.zero_grad()
        F.mse_loss(block(x), target).backward()
        optimizer.step()
    bns = batchnorms(block.residual)
    if bns and torch.equal(bns[0].weight.detach(), torch.zeros_like(bns[0].weight)):
        pytest.fail(FIRST_BN_ZEROED, pytrace=False)
    assert not torch.equal(first_conv.weight.detach(), start), (
        "after 3 SGD steps the first conv of the residual branch has not changed: no gradient reaches it. "
        "Zero only the last BatchNorm's gamma, so that the branch starts silent but can learn"
    )


# --------------------------------------------------------------------------- task6_4


@pytest.mark.task6_4
def test_simple_cnn_shapes_and_layers(lab):
    torch.manual_seed(0)
    model = lab.SimpleCNN(num_classes=7, width=8, dropout=0.3)
    out = forward_or_fail(model, torch.randn(2, 3, 32, 32), "the docstring's layers, width 8")
    assert out.shape == (2, 7), f"SimpleCNN maps (N, 3, 32, 32) to (N, num_classes); got {tuple(out.shape)}"
    out = forward_or_fail(model, torch.randn(2, 3, 64, 64), "global average pooling before the head makes any size work")
    assert out.shape == (2, 7), "global average pooling makes any input size work"
    modules = list(model.modules())
    widths = [m.out_channels for m in modules if isinstance(m, nn.Conv2d)]
    assert widths == [8, 8, 16, 16, 32], f"width 8: the convs have 8, 8, 16, 16, 32 output channels, got {widths}"
    assert sum(isinstance(m, nn.MaxPool2d) for m in modules) == 3, "one MaxPool2d(2) at the end of each stage"
    assert sum(isinstance(m, nn.Conv2d) for m in modules) >= 3, "use at least 3 conv layers"
    assert any(isinstance(m, nn.BatchNorm2d) for m in modules), "use batch normalisation"
    assert any(isinstance(m, nn.MaxPool2d) for m in modules), "downsample with pooling"
    assert isinstance(model.head, nn.Linear) and model.head.out_features == 7, "the classifier is `head`, an nn.Linear"
    dropouts = [m for m in modules if isinstance(m, nn.Dropout)]
    assert dropouts and dropouts[0].p == 0.3, "pass `dropout` to an nn.Dropout before the head"


@pytest.mark.task6_4
def test_simple_cnn_dropout_only_in_training(lab):
    torch.manual_seed(0)
    model = lab.SimpleCNN(num_classes=3, width=4, dropout=0.5)
    x = torch.randn(4, 3, 16, 16)
    model.train()
    first = forward_or_fail(model, x, "global average pooling before the head makes any size work")
    assert not torch.equal(first, model(x)), "in train mode dropout makes two passes differ"
    model.eval()
    assert torch.equal(model(x), model(x)), "in eval mode the model is deterministic"


# --------------------------------------------------------------------------- task6_5


@pytest.mark.task6_5
def test_resnet_structure_and_shapes(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=10, widths=(8, 16, 32))
    out = forward_or_fail(model, torch.randn(2, 3, 32, 32), "stem, then stage i from widths[i] to widths[i + 1] channels, global average pool, head")
    assert out.shape == (2, 10), f"expected (2, 10), got {tuple(out.shape)}"
    blocks = [m for m in model.modules() if isinstance(m, lab.ResidualBlock)]
    assert len(blocks) == 2, f"widths (8, 16, 32) need 2 residual stages, found {len(blocks)} ResidualBlocks"
    first_convs = [next(m for m in b.residual.modules() if isinstance(m, nn.Conv2d)) for b in blocks]
    assert [(c.in_channels, c.out_channels) for c in first_convs] == [(8, 16), (16, 32)], (
        "stage i goes from widths[i] to widths[i + 1] channels"
    )
    assert isinstance(model.head, nn.Linear) and model.head.in_features == 32, "the head reads widths[-1] features"
    assert len(model.layers) == 2, "model.layers holds one stage per width after the first"
    for index, stage in enumerate(model.layers):
        assert isinstance(next(iter(stage.children()), None), nn.MaxPool2d), (
            f"stage {index} starts with MaxPool2d(2): its block then runs at half the resolution"
        )
    with pytest.raises(ValueError):
        lab.ResNet(widths=(16,))


@pytest.mark.task6_5
def test_resnet_trains_one_step_and_is_cheap(lab, benchmark):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=10)
    forward_or_fail(model, torch.randn(1, 3, 32, 32), "stage i goes from widths[i] to widths[i + 1] channels")
    macs = benchmark.count_multiply_adds(model)
    assert 30e6 < macs < 60e6, f"the default ResNet costs about 45 M multiply-adds per image, got {macs / 1e6:.0f}M"
    small = lab.ResNet(num_classes=4, widths=(8, 16))
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 4, (8,))
    F.cross_entropy(small(x), y).backward()
    assert small.head.weight.grad is not None and torch.isfinite(small.head.weight.grad).all()
    assert small.stem[0].weight.grad is not None, "gradients reach the stem through the shortcuts"
    model = lab.ResNet(num_classes=3, widths=(4, 8), dropout=0.5).train()
    x = torch.randn(4, 3, 16, 16)
    assert not torch.equal(model(x), model(x)), "pass `dropout` to an nn.Dropout before the head"


# --------------------------------------------------------------------------- task6_6


@pytest.mark.task6_6
def test_confusion_matrix_matches_brute_force(lab):
    preds = torch.randint(0, 7, (500,), generator=seeded(6))
    targets = torch.randint(0, 7, (500,), generator=seeded(7))
    cm = lab.confusion_matrix(preds, targets, 7)
    expected = torch.zeros(7, 7, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        expected[t, p] += 1
    assert cm.dtype == torch.int64 and cm.shape == (7, 7), f"expected a (7, 7) int64 tensor, got {cm.shape} {cm.dtype}"
    if torch.equal(cm, expected.T):
        pytest.fail("rows and columns are swapped: cm[true, predicted] has the TRUE class as the row", pytrace=False)
    assert torch.equal(cm, expected), "cm[true, predicted] counts differ from a brute-force count (rows are the truth)"
    try:
        some_classes_absent = lab.confusion_matrix(torch.tensor([0, 1]), torch.tensor([1, 1]), 4)
    except RuntimeError as error:
        pytest.fail(f"classes 2 and 3 never occur, and confusion_matrix failed ({error}): count with a minimum "
                    "length of C * C so every cell exists", pytrace=False)
    assert some_classes_absent.shape == (4, 4), (
        f"classes 2 and 3 never occur but the matrix is still (4, 4); got {tuple(some_classes_absent.shape)}: "
        "count with a minimum length of C * C"
    )
    empty = lab.confusion_matrix(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 3)
    assert torch.equal(empty, torch.zeros(3, 3, dtype=torch.int64)), "no samples: an all-zero matrix"


@pytest.mark.task6_6
def test_confusion_matrix_counts_without_a_python_loop(lab, monkeypatch):
    preds = torch.randint(0, 10, (5000,), generator=seeded(6))
    targets = torch.randint(0, 10, (5000,), generator=seeded(7))
    calls = []
    for name in ("__iter__", "__getitem__", "tolist", "item"):
        original = getattr(torch.Tensor, name)

        def counting(self, *args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(torch.Tensor, name, counting)
    lab.confusion_matrix(preds, targets, 10)
    monkeypatch.undo()
    assert len(calls) < 50, (
        f"confusion_matrix touched single elements {len(calls)} times for 5,000 samples (Python-level "
        f"{', '.join(sorted(set(calls)))}): count every cell at once with one vectorised counting call, not a loop"
    )


@pytest.mark.task6_6
def test_per_class_metrics_values_and_zero_division(lab):
    cm = torch.tensor([[5, 1, 0], [2, 3, 0], [1, 0, 0]])  # class 2: never predicted, and its one sample missed
    metrics = lab.per_class_metrics(cm)
    for name in ("precision", "recall", "f1"):
        value = getattr(metrics, name)
        assert isinstance(value, torch.Tensor) and value.is_floating_point() and value.shape == (3,), (
            f"{name} should be a (C,) float tensor (any float dtype), got {type(value).__name__} "
            f"{getattr(value, 'dtype', '')} {tuple(getattr(value, 'shape', ()))}")
    # Compared in float32, whatever precision the learner computed in.
    metrics = SimpleNamespace(precision=metrics.precision.float(), recall=metrics.recall.float(), f1=metrics.f1.float(),
                              accuracy=float(metrics.accuracy))
    for name in ("precision", "recall", "f1"):
        assert not torch.isnan(getattr(metrics, name)).any(), (
            f"{name} has NaN: class 2 is never predicted (column sum 0). Divide by a count clamped to at least 1, "
            f"so 0 / 0 gives 0; got {getattr(metrics, name)}"
        )
    if torch.allclose(metrics.precision, torch.tensor([5 / 6, 3 / 5, 0.0])):
        pytest.fail("precision and recall are swapped: precision divides by the COLUMN sum (predicted as c)", pytrace=False)
    assert torch.allclose(metrics.precision, torch.tensor([5 / 8, 3 / 4, 0.0])), f"precision {metrics.precision}"
    assert torch.allclose(metrics.recall, torch.tensor([5 / 6, 3 / 5, 0.0])), f"recall {metrics.recall}"
    f1 = 2 * metrics.precision * metrics.recall / (metrics.precision + metrics.recall).clamp(min=1e-12)
    assert torch.allclose(metrics.f1, f1), f"f1 is the harmonic mean of precision and recall; got {metrics.f1}"
    assert abs(metrics.accuracy - 8 / 12) < 1e-6, f"accuracy is trace / total = 8/12, got {metrics.accuracy}"
    empty = lab.per_class_metrics(torch.zeros(3, 3, dtype=torch.long))
    for name in ("precision", "recall", "f1"):
        values = getattr(empty, name)
        assert not torch.isnan(values).any() and (values == 0).all(), f"an empty matrix gives {name} 0, not NaN: {values}"
    assert empty.accuracy == 0, f"an empty matrix has accuracy 0, got {empty.accuracy}"


@pytest.mark.parametrize("normalize", [False, True])
def test_plot_confusion_matrix_writes_a_readable_png(lab, tmp_path, normalize):
    """Given code (the confusion-matrix figure of the demo)."""
    import matplotlib.image
    import matplotlib.pyplot as plt

    cm = torch.randint(0, 80, (10, 10), generator=seeded(8)) + torch.eye(10, dtype=torch.long) * 500
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    open_before = set(plt.get_fignums())
    path = lab.plot_confusion_matrix(cm, names, tmp_path / "figures" / "cm.png", normalize=normalize)
    assert path == tmp_path / "figures" / "cm.png"
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000
    assert min(matplotlib.image.imread(path).shape[:2]) >= 400
    assert set(plt.get_fignums()) <= open_before, "the figure is closed after saving"


# --------------------------------------------------------------------------- task6_7


@pytest.mark.task6_7
def test_freeze_stops_gradients_and_batchnorm_statistics(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=3, widths=(8, 16))
    lab.freeze(model.layers)
    assert all(not p.requires_grad for p in model.layers.parameters()), "freeze sets requires_grad=False"
    assert all(p.requires_grad for p in model.head.parameters()), "freeze(model.layers) must not touch the head"
    model.train()  # the classic trap: train() would put frozen BN layers back in training mode
    before = bn_stats(model.layers)
    model(torch.randn(4, 3, 16, 16) * 3 + 1)
    for name, value in bn_stats(model.layers).items():
        assert torch.equal(value, before[name]), f"{name} moved: frozen BN layers must stay in eval mode, even after model.train()"
    assert not any(m.training for m in model.layers.modules() if isinstance(m, nn.BatchNorm2d))
    lab.freeze(model.layers)  # a second freeze must not stack a second hook that unfreeze leaves behind
    lab.unfreeze(model.layers)
    assert all(p.requires_grad for p in model.layers.parameters()), "unfreeze makes the parameters trainable again"
    model(torch.randn(4, 3, 16, 16) * 3 + 1)
    moved = [n for n, v in bn_stats(model.layers).items() if not torch.equal(v, before[n])]
    assert moved, (
        "after freeze, freeze again, unfreeze and model.train(), BN layers must update their running statistics "
        "again: unfreeze removes the hook, and freeze registers it only once per layer"
    )


@pytest.mark.task6_7
def test_param_groups_split_backbone_and_head(lab):
    model = lab.ResNet(num_classes=3, widths=(8, 16))
    lab.freeze(model.stem)
    groups = lab.param_groups(model, backbone_lr=0.01, head_lr=0.1)
    assert [g["lr"] for g in groups] == [0.01, 0.1], "first the backbone group at backbone_lr, then the head at head_lr"
    head_ids = {id(p) for p in model.head.parameters()}
    assert {id(p) for p in groups[1]["params"]} == head_ids, "the second group holds exactly the head's parameters"
    all_ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(all_ids) == sorted(id(p) for p in model.parameters()), (
        "every parameter in exactly one group, frozen ones included: gradual unfreezing turns them on later, "
        "and a parameter missing from the optimizer would never train"
    )
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 0])
    stem_before = copy.deepcopy(model.stem.state_dict())
    optimizer = torch.optim.SGD(lab.param_groups(model, 0.01, 0.1), momentum=0.9)
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    for name, value in model.stem.state_dict().items():
        assert torch.equal(value, stem_before[name]), f"frozen stem.{name} changed during an optimizer step"


@pytest.mark.task6_7
def test_freeze_and_param_groups_work_on_torchvision_resnet(lab):
    import torchvision

    torch.manual_seed(0)
    model = torchvision.models.resnet18(weights=None, num_classes=5)  # no download: random weights
    groups = lab.param_groups(model, backbone_lr=1e-3, head_lr=1e-2)
    assert {id(p) for p in groups[1]["params"]} == {id(p) for p in model.fc.parameters()}, "torchvision calls the head `fc`"
    assert sum(len(g["params"]) for g in groups) == len(list(model.parameters()))
    lab.freeze(model)
    lab.unfreeze(model.fc)
    model.train()
    before = bn_stats(model)
    model(torch.randn(2, 3, 64, 64))
    assert all(torch.equal(v, before[n]) for n, v in bn_stats(model).items()), "frozen BN statistics moved"
    trainable = {n for n, p in model.named_parameters() if p.requires_grad}
    assert trainable == {"fc.weight", "fc.bias"}, f"only fc should train, got {sorted(trainable)[:5]}"


# --------------------------------------------------------------------------- task6_8


def trainable_prefixes(model, prefixes):
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    return {prefix for prefix in prefixes if any(n.startswith(prefix) for n in names)}


@pytest.mark.task6_8
def test_gradual_unfreezer_releases_one_stage_every_k_epochs(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=3, widths=(4, 8, 16, 32))  # stages: head, layers.2, layers.1, layers.0, stem
    unfreezer = lab.GradualUnfreezer(model, lab.default_stages(model), epochs_per_stage=2)
    order = ["head.", "layers.2.", "layers.1.", "layers.0.", "stem."]
    assert trainable_prefixes(model, order) == {"head."}, "right after construction only the head trains"
    for epoch in range(12):
        k = unfreezer.step(epoch)
        expected = min(1 + epoch // 2, 5)
        assert k == expected, f"epoch {epoch}: expected {expected} unfrozen stages, step() returned {k}"
        got = trainable_prefixes(model, order)
        assert got == set(order[:expected]), f"epoch {epoch}: expected {order[:expected]} trainable, got {sorted(got)}"
    unfreezer2 = lab.GradualUnfreezer(model, lab.default_stages(model), epochs_per_stage=1)
    unfreezer2.step(0)
    model.train()
    before = bn_stats(model)
    model(torch.randn(4, 3, 16, 16) * 3 + 1)
    after = bn_stats(model)
    assert all(torch.equal(after[n], before[n]) for n in before if n.startswith(("stem.", "layers.0."))), (
        "stages that are still frozen keep their BatchNorm statistics, even after model.train()"
    )
    unfreezer2.step(4)
    model(torch.randn(4, 3, 16, 16) * 3 + 1)
    assert not torch.equal(bn_stats(model)["stem.1.running_mean"], after["stem.1.running_mean"]), (
        "once unfrozen, a stage's BatchNorm layers update their statistics again"
    )


@pytest.mark.task6_8
def test_gradual_unfreezer_on_torchvision_resnet(lab):
    import torchvision

    model = torchvision.models.resnet18(weights=None, num_classes=4)
    unfreezer = lab.GradualUnfreezer(model, lab.default_stages(model), epochs_per_stage=1)
    order = ["fc.", "layer4.", "layer3.", "layer2.", "layer1.", "conv1.", "bn1."]
    unfreezer.step(0)
    assert trainable_prefixes(model, order) == {"fc."}
    unfreezer.step(1)
    assert trainable_prefixes(model, order) == {"fc.", "layer4."}, "epoch 1: fc and layer4"
    unfreezer.step(5)
    assert trainable_prefixes(model, order) == set(order), "after enough epochs everything trains"


# --------------------------------------------------------------------------- task6_9


@pytest.mark.task6_9
def test_make_optimizer_sgd_nesterov_decay_on_weights_only(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=3, widths=(4, 8))
    config = lab.TrainConfig(lr=0.4, momentum=0.9, weight_decay=5e-4, warmup_fraction=0.2)
    optimizer, scheduler = lab.make_optimizer(model, config, total_steps=10)
    assert isinstance(optimizer, torch.optim.SGD), f"the recipe uses torch.optim.SGD, got {type(optimizer).__name__}"
    for group in optimizer.param_groups:
        assert group["momentum"] == 0.9 and group["nesterov"], "SGD with config.momentum and Nesterov momentum"
    decay = {id(p): group["weight_decay"] for group in optimizer.param_groups for p in group["params"]}
    assert sorted(decay) == sorted(id(p) for p in model.parameters()), "every parameter in exactly one group"
    for name, p in model.named_parameters():
        expected = 5e-4 if p.ndim > 1 else 0.0
        assert decay[id(p)] == expected, (
            f"{name} has weight decay {decay[id(p)]}, expected {expected}: decay conv/linear weights only, "
            "never BN scales or biases (weight_decay_groups splits the groups)"
        )
    seen = []
    for step in range(10):
        seen.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    expected = [0.4 * lab.one_cycle(step, 10, 0.2) for step in range(10)]
    assert seen == pytest.approx(expected), f"per-step LR should follow config.lr x one_cycle: expected {expected}, got {seen}"


@pytest.mark.task6_9
def test_make_optimizer_keeps_each_groups_own_lr(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=3, widths=(4, 8))
    groups = lab.param_groups(model, backbone_lr=0.01, head_lr=0.1)
    optimizer, _ = lab.make_optimizer(model, lab.TrainConfig(warmup_fraction=0.5), total_steps=4, groups=groups)
    lrs = {group["name"]: group["lr"] for group in optimizer.param_groups}
    assert lrs == pytest.approx({"backbone": 0.001, "head": 0.01}), (
        f"with groups, each group warms up from its own lr (step 0: 0.1 x its lr); got {lrs}. "
        "Pass the groups (with their lr and name) to the optimizer"
    )


class TrainEpochSpy:
    """Wraps the graded file's random_crop_flip and amp_train_step to see what train_epoch does."""

    def __init__(self, lab, monkeypatch):
        self.augment_calls, self.steps = [], []
        augment, step = lab.random_crop_flip, lab.amp_train_step

        def spy_augment(images, padding, *args, **kwargs):
            self.augment_calls.append((len(images), padding))
            return augment(images, padding, *args, **kwargs)

        def spy_step(model, batch, loss_fn, *args, **kwargs):
            self.steps.append({"labels": batch[1].clone(), "training": model.training, "loss_fn": loss_fn})
            return step(model, batch, loss_fn, *args, **kwargs)

        monkeypatch.setattr(lab, "random_crop_flip", spy_augment)
        monkeypatch.setattr(lab, "amp_train_step", spy_step)


@pytest.mark.task6_9
def test_train_epoch_augments_shuffles_and_steps_every_batch(lab, monkeypatch):
    torch.manual_seed(0)
    train = image_data(lab, 3, 32, shuffle=False)  # sorted by class: only shuffling mixes a batch
    model = lab.ResNet(num_classes=3, widths=(4, 8)).eval()  # e.g. after an evaluation
    config = lab.TrainConfig(batch_size=16, translate=3, label_smoothing=0.15, amp="off", channels_last=False)
    optimizer, scheduler = lab.make_optimizer(model, config, total_steps=100)
    spy = TrainEpochSpy(lab, monkeypatch)
    losses = lab.train_epoch(model, train, config, optimizer, scheduler, seeded(0))
    assert len(spy.steps) == 6, f"96 images in batches of 16 are 6 steps (Lab 5's amp_train_step), got {len(spy.steps)}"
    assert torch.is_tensor(losses) and losses.shape == (6,), f"return the (6,) tensor of losses, got {losses!r}"
    assert spy.augment_calls, "augment the training images every epoch (Lab 4's random_crop_flip)"
    assert all(padding == 3 for _, padding in spy.augment_calls), (
        f"augment with padding config.translate = 3, got paddings {[p for _, p in spy.augment_calls]}"
    )
    assert all(step["training"] for step in spy.steps), "train in training mode: the model arrived in eval mode"
    smoothing = {getattr(step["loss_fn"], "label_smoothing", None) for step in spy.steps}
    assert smoothing == {0.15}, f"use a cross-entropy loss with label_smoothing=config.label_smoothing, got {smoothing}"
    assert all(len(step["labels"]) == 16 for step in spy.steps), "every step takes a full batch of config.batch_size"
    assert any(len(step["labels"].unique()) > 1 for step in spy.steps), (
        "every batch holds a single class: shuffle the epoch (torch.randperm with the generator) before batching"
    )
    seen = torch.cat([step["labels"] for step in spy.steps]).bincount(minlength=3)
    assert seen.tolist() == [32, 32, 32], f"one epoch sees every image once; labels seen per class {seen.tolist()}"
    assert scheduler.last_epoch == 6, f"step the LR schedule after every batch: 6 steps, scheduler at {scheduler.last_epoch}"
    again = lab.train_epoch(model, train, config, optimizer, scheduler, seeded(0), max_steps=2)
    assert len(again) == 2, f"max_steps=2 stops after 2 steps, got {len(again)}"


@pytest.mark.task6_9
def test_predict_logits_averages_the_mirror_image_in_eval_mode(lab):
    torch.manual_seed(0)
    model = lab.SimpleCNN(num_classes=4, width=4, dropout=0.5)
    images = torch.randint(0, 256, (10, 3, 16, 16), dtype=torch.uint8, generator=seeded(9))
    model.train()
    logits = lab.predict_logits(model, images, batch_size=4, tta=True, amp="off", channels_last=False)
    assert model.training, "restore the model's mode after predicting"
    assert logits.shape == (10, 4) and logits.dtype == torch.float32, f"got {tuple(logits.shape)} {logits.dtype}"
    model.eval()
    with torch.no_grad():
        x = lab.to_input(images, torch.device("cpu"), channels_last=False)
        expected = (model(x) + model(x.flip(-1))) / 2
        plain = model(x)
    assert torch.allclose(logits, expected, atol=1e-5), (
        "tta=True: the mean of the logits of x and of its left-right mirror (the width is the last dim), in eval mode"
    )
    no_tta = lab.predict_logits(model, images, tta=False, amp="off", channels_last=False)
    assert torch.allclose(no_tta, plain, atol=1e-5), "tta=False: just the model's logits, in eval mode"
    assert torch.equal(lab.predict(model, images, tta=False, amp="off"), plain.argmax(1))


@pytest.mark.task6_9
def test_train_model_learns_a_small_problem(lab):
    torch.manual_seed(0)
    train, test = image_data(lab, 4, 48, seed=0), image_data(lab, 4, 20, seed=1)
    model = lab.ResNet(num_classes=4, widths=(8, 16))
    config = lab.TrainConfig(epochs=4, batch_size=32, lr=0.2, amp="off")
    history = lab.train_model(model, train, config, test=test, log=None)
    assert history["steps"] == 4 * (192 // 32), "train for epochs x (N // batch_size) steps"
    assert len(history["loss"]) == 4 and history["loss"][-1] < history["loss"][0], f"loss should fall: {history['loss']}"
    accuracy = (lab.predict(model, test.images) == test.labels).float().mean().item()
    assert accuracy >= 0.9, f"4 colour classes should be learned in 4 epochs; test accuracy {accuracy:.2f}"
    assert abs(history["test_accuracy"] - accuracy) < 1e-6, "history['test_accuracy'] is the accuracy after training"


@pytest.mark.task6_9
def test_train_model_respects_fractional_epochs_and_frozen_groups(lab):
    torch.manual_seed(0)
    train = image_data(lab, 3, 32)
    model = lab.ResNet(num_classes=3, widths=(4, 8))
    lab.freeze(model.stem)
    stem = copy.deepcopy(model.stem.state_dict())
    history = lab.train_model(model, train, lab.TrainConfig(epochs=1.5, batch_size=16, amp="off"), log=None)
    assert history["steps"] == 9, f"1.5 epochs of 6 steps are 9 steps, got {history['steps']}"
    for name, value in model.stem.state_dict().items():
        assert torch.equal(value, stem[name]), f"frozen stem.{name} changed during training"


@pytest.mark.task6_9
def test_demo_trains_and_writes_the_confusion_matrix(run_lab_script, lab_path, tmp_path):
    data = write_image_folder(tmp_path / "data")
    out = tmp_path / "out"
    result = run_lab_script(
        "--data-dir", data, "--epochs", "1", "--widths", "4,8", "--batch-size", "20", "--threads", "1", "--out", out,
        timeout=300, check=False,
    )
    raise_todo_printed_by_demo(result.stdout + result.stderr, lab_path)
    assert result.returncode == 0, f"the demo exited with {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "test accuracy" in result.stdout, f"the demo prints the test accuracy; it printed:\n{result.stdout[-1500:]}"
    for name in ("confusion_matrix.png", "confusion_matrix_normalized.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", f"the demo should write {name} under --out"


# --------------------------------------------------------------------------- task6_10


def pretrained_resnet(lab, num_classes=5):
    """A ResNet with one training step behind it, so that its BN statistics are not the defaults."""
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=num_classes, widths=(4, 8))
    F.cross_entropy(model(torch.randn(8, 3, 16, 16) * 2 + 1), torch.randint(0, num_classes, (8,))).backward()
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
    model.zero_grad(set_to_none=True)
    return model


@pytest.mark.task6_10
def test_prepare_transfer_modes(lab):
    pretrained = pretrained_resnet(lab)
    original = copy.deepcopy(pretrained.state_dict())
    frozen, groups = lab.prepare_transfer(pretrained, 3, "frozen", head_lr=0.1)
    assert frozen is not pretrained, "prepare_transfer returned the pretrained model itself: work on a deep copy"
    assert frozen.head.out_features == 3, f"a new 3-class head, got {frozen.head}"
    assert {n for n, p in frozen.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}, (
        "frozen: only the new head trains"
    )
    assert [id(p) for g in groups for p in g["params"]] == [id(p) for p in frozen.head.parameters()], (
        "frozen: the optimizer groups hold the head's parameters only"
    )
    finetune, groups = lab.prepare_transfer(pretrained, 3, "finetune", head_lr=0.1, backbone_lr_factor=0.1)
    assert all(p.requires_grad for p in finetune.parameters()), "fine-tuning trains every layer"
    assert [g["lr"] for g in groups] == pytest.approx([0.01, 0.1]), "backbone at head_lr x factor, head at head_lr"
    assert torch.equal(finetune.stem[0].weight, pretrained.stem[0].weight), "start from the pretrained weights"
    gradual, groups = lab.prepare_transfer(pretrained, 3, "gradual", head_lr=0.1, backbone_lr_factor=0.1)
    assert {n for n, p in gradual.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}, (
        "gradual: only the head trains at first (the GradualUnfreezer releases the rest)"
    )
    assert sum(len(g["params"]) for g in groups) == len(list(gradual.parameters())), (
        "gradual: every parameter is in the optimizer, so that stages released later do train"
    )
    assert pretrained.head.out_features == 5 and all(
        torch.equal(v, original[k]) for k, v in pretrained.state_dict().items()
    ), "prepare_transfer must not change the pretrained model: work on a deep copy"
    with pytest.raises(ValueError):
        lab.prepare_transfer(pretrained, 3, "sideways", head_lr=0.1)


@pytest.mark.task6_10
def test_frozen_backbone_stays_pretrained_after_training(lab):
    pretrained = pretrained_resnet(lab)
    train = image_data(lab, 3, 32)
    config = lab.TrainConfig(epochs=2, batch_size=16, lr=0.1, amp="off")
    frozen, groups = lab.prepare_transfer(pretrained, 3, "frozen", head_lr=0.1)
    head_before = copy.deepcopy(frozen.head.state_dict())
    lab.train_model(frozen, train, config, groups=groups, log=None)
    trained = frozen.state_dict()
    for name, value in pretrained.state_dict().items():
        if not name.startswith("head."):
            assert torch.equal(trained[name], value), (
                f"after training in 'frozen' mode, backbone tensor {name} differs from the pretrained one: "
                "freeze the backbone's parameters AND its BatchNorm statistics"
            )
    assert not torch.equal(trained["head.weight"], head_before["weight"]), "the new head must train"
    finetune, groups = lab.prepare_transfer(pretrained, 3, "finetune", head_lr=0.1)
    lab.train_model(finetune, train, config, groups=groups, log=None)
    assert not torch.equal(finetune.stem[0].weight, pretrained.stem[0].weight), "in 'finetune' mode the backbone trains too"


@pytest.mark.task6_10
def test_prepare_transfer_on_torchvision_resnet(lab):
    import torchvision

    model = torchvision.models.resnet18(weights=None, num_classes=10)
    frozen, groups = lab.prepare_transfer(model, 4, "frozen", head_lr=0.05)
    assert frozen.fc.out_features == 4, "torchvision calls the head `fc`: replace that one"
    assert {n for n, p in frozen.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}


@pytest.mark.task6_10
def test_transfer_experiment_keeps_the_pretrained_model_and_learns(lab, benchmark):
    torch.manual_seed(0)
    train, test = image_data(lab, 4, 24, seed=0), image_data(lab, 4, 10, seed=1)
    config = benchmark.TransferConfig(
        source_classes=(0, 1),
        target_classes=(2, 3),
        pretrain_per_class=24,
        labels_per_class=12,
        widths=(4, 8),
        pretrain=dict(epochs=3, batch_size=16, lr=0.2),
        finetune=dict(epochs=3, batch_size=8, lr=0.05),
        epochs_per_stage=1,
        amp="off",
    )
    results = benchmark.transfer_experiment(lab, train, test, config, log=None)
    assert set(results) == {"pretrain", "scratch", "frozen", "finetune", "gradual"}, f"got keys {sorted(results)}"
    assert results["pretrain"] >= 0.9, f"two colour classes are easy to pretrain on; got {results['pretrain']:.2f}"
    assert results["finetune"] >= 0.75, f"fine-tuning learns two easy target classes; got {results}"


# --------------------------------------------------------------------------- given code (no task marker)


def test_to_input_builds_its_constants_once_per_device(lab, monkeypatch):
    """Issue 16 #9: no new mean/std tensors (host-to-GPU copies on CUDA) in every batch."""
    lab.normalization_constants.cache_clear()
    images = torch.randint(0, 256, (4, 3, 8, 8), dtype=torch.uint8, generator=seeded(1))
    first = lab.to_input(images, torch.device("cpu"), channels_last=False)
    built = []
    for name in ("tensor", "as_tensor", "full", "empty", "zeros", "ones"):
        original = getattr(torch, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(torch, name, counting)
    for _ in range(5):
        again = lab.to_input(images, torch.device("cpu"), channels_last=False)
    monkeypatch.undo()
    assert not built, f"to_input built new tensors in every call ({built}): the constants are cached per device"
    mean = torch.tensor(lab.CIFAR10_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(lab.CIFAR10_STD).view(1, 3, 1, 1)
    assert torch.allclose(first, (images.float() - mean) / std, atol=1e-5) and torch.equal(first, again)


def test_time_steps_warms_up_then_times_enough_steps_with_cuda_synchronisation(benchmark, monkeypatch):
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda *args: events.append("sync"))
    steps, seconds = benchmark.time_steps(lambda: events.append("step"), torch.device("cuda"), warmup=3, min_steps=20,
                                          min_seconds=0.0)
    assert steps >= 20 and seconds > 0, (steps, seconds)
    assert events[:4] == ["step", "step", "step", "sync"], "warm-up steps, then a synchronisation before the clock starts"
    assert events[-1] == "sync", "the clock stops after a synchronisation"
    assert events.count("step") == 3 + steps, "every timed step is counted"
    assert events.count("sync") < 10, f"synchronise at chunk ends only, not after every step ({events.count('sync')} syncs)"


def test_throughput_benchmark_reports_every_setting(lab, benchmark):
    table = benchmark.benchmark_throughput(lab, (4, 8), batch_size=8, repeats=1, min_steps=2, min_seconds=0.0)
    rows = table.splitlines()[1:]
    assert len(rows) == 4 and {r.split()[0] for r in rows} == {"fp32", "bf16"}, f"got:\n{table}"


def test_missing_data_gives_one_clear_message(lab, tmp_path, monkeypatch):
    with pytest.raises(lab.DataNotFoundError, match="--data-dir"):
        lab.load_cifar10(tmp_path / "nowhere")
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(lab.DataNotFoundError, match="--data-dir"):
        lab.load_cifar10(None, root=tmp_path)


def solution_blocks(text):
    """(task, todo text, hint comment lines above the marker, body lines) for each marked block."""
    return [(block.task, block.todo, block.hint, block.body) for block in markers.blocks(text)]


def tokens(text):
    return re.findall(r"\w+|[^\s\w]", text)


@pytest.mark.instructor
def test_lesson_file_shape_and_hints_that_do_not_give_the_code():
    """The lesson file <= 800 lines; every TODO body 3-25 lines (a one-line forward()
    is allowed); no TODO text or hint above a marker repeats 6 or more consecutive tokens of its body
    (comments in the body are not counted); every task has levels 1-3 in hints.md."""
    text = (LAB_DIR / "solution.py").read_text()
    blocks = solution_blocks(text)
    sizes = [(task, len([b for b in body if b.strip() and not b.strip().startswith("#")])) for task, _, _, body in blocks]
    body_lines = sum(size for _, size in sizes)
    print(f"\nlab6 solution.py: {len(text.splitlines())} lines, {len(blocks)} TODO blocks, {body_lines} learner-written "
          f"lines ({body_lines / len(text.splitlines()):.0%}); lines per block: {' '.join(f'{t[4:]}:{n}' for t, n in sizes)}")
    assert len(text.splitlines()) <= 800
    hints_md = (LAB_DIR / "hints.md").read_text()
    for task, todo, hints, body in blocks:
        code = [b.split("#")[0] for b in body if b.strip() and not b.strip().startswith("#")]
        assert 1 <= len(code) <= 25, f"{task}: a TODO body of {len(code)} lines"
        body_tokens = tokens("\n".join(code))
        runs = {tuple(body_tokens[i : i + 6]) for i in range(len(body_tokens) - 5)}
        for hint in [todo, *hints]:
            hint_tokens = tokens(hint)
            copied = [hint_tokens[i : i + 6] for i in range(len(hint_tokens) - 5) if tuple(hint_tokens[i : i + 6]) in runs]
            assert not copied, f"{task}: the hint/TODO text {hint!r} copies the solution's code {' '.join(copied[0])!r}"
        for level in (1, 2, 3):
            assert re.search(rf"^## {task} — .*?^### Level {level} — ", hints_md, re.MULTILINE | re.DOTALL), (
                f"hints.md has no level {level} for {task}"
            )


# --------------------------------------------------------------------------- slow: the deliverable on CIFAR-10

# The deliverable: above 85%. The default recipe (TrainConfig(): 8 epochs) measured 0.8581 in
# 333 s on an otherwise idle 2-core Zen 4 (RESULTS.md).
CIFAR10_TARGET_ACCURACY = 0.85


@pytest.mark.slow
@pytest.mark.task6_9
def test_resnet_reaches_target_accuracy_on_cifar10(lab, cifar10_dir):
    train, test = lab.load_cifar10(cifar10_dir)
    torch.manual_seed(0)
    model = lab.ResNet(len(train.classes)).to(lab.get_device())
    history = lab.train_model(model, train, lab.TrainConfig(), test=test)
    accuracy = history["test_accuracy"]
    print(f"CIFAR-10 test accuracy {accuracy:.4f} after {history['seconds']:.0f}s of training")
    assert accuracy >= CIFAR10_TARGET_ACCURACY, (
        f"the fast recipe should reach {CIFAR10_TARGET_ACCURACY:.0%} on the test split, got {accuracy:.2%}"
    )


@pytest.mark.slow
@pytest.mark.task6_10
def test_fine_tuning_beats_training_from_scratch_on_cifar10(lab, benchmark, cifar10_dir):
    train, test = lab.load_cifar10(cifar10_dir)
    config = benchmark.TransferConfig()
    results = benchmark.transfer_experiment(lab, train, test, config)
    print(benchmark.format_transfer_table(results, config))
    assert results["finetune"] > results["scratch"] + 0.03, (
        f"fine-tuning a backbone pretrained on classes 0-4 should beat training from scratch on classes 5-9 "
        f"with few labels: fine-tune {results['finetune']:.3f} vs scratch {results['scratch']:.3f}"
    )
