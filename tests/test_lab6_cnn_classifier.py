"""Lab 6 — CNN Image Classifier. Run: pytest -m lab6 (add --impl solution for the reference).

The default run uses small generated data and takes seconds. The `slow` tests train on the
offline CIFAR-10 copy (CIFAR10_DIR) and check the deliverable: pytest -m lab6 --runslow.
"""

import ast
import copy
import inspect
import itertools
import re
import textwrap
import urllib.error

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

pytestmark = [pytest.mark.lab6, pytest.mark.usefixtures("one_thread")]  # small tensors: one thread (conftest.py)


def seeded(seed=0):
    return torch.Generator().manual_seed(seed)


def source_tree(function):
    return ast.parse(textwrap.dedent(inspect.getsource(function)))


def make_images(num_classes=3, per_class=40, size=32, seed=0):
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
    order = torch.randperm(num_classes * per_class, generator=g)
    return torch.cat(images)[order], torch.cat(labels)[order]


def image_data(lab, num_classes=3, per_class=40, seed=0, size=16):
    images, labels = make_images(num_classes, per_class, size=size, seed=seed)
    return lab.ImageData(images, labels, tuple(f"class{i}" for i in range(num_classes)))


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
    todo = re.search(r"^(TODO\((task\w+)\): .*)$", output, re.MULTILINE)
    if not todo:
        return
    error = NotImplementedError(todo.group(1))
    function = "?"
    for number, line in enumerate(lab_path.read_text().splitlines(), start=1):
        found = re.match(r"\s*def (\w+)", line)
        function = found.group(1) if found else function
        if f"TODO({todo.group(2)})" in line:
            error.phase1_where = (str(lab_path), number, function)
            break
    raise error


def bn_stats(model):
    return {name: buf.clone() for name, buf in model.named_buffers() if "running" in name}


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
    with pytest.raises(ValueError):
        lab.conv_output_size(4, 7)  # 7 pixels do not fit in 4
    with pytest.raises(ValueError):
        lab.conv_output_size(8, 3, dilation=4)  # spans 9 pixels
    with pytest.raises(ValueError):
        lab.conv_output_size(8, 3, stride=0)


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
    assert [type(layer) for layer in strided] == [nn.Conv2d, nn.BatchNorm2d, nn.GELU]
    assert strided(torch.randn(2, 8, 15, 15)).shape == (2, 4, 8, 8), "kernel 5, padding 2, stride 2: 15 -> 8"
    assert len(lab.conv_bn_act(4, 4, activation=None)) == 2, "activation=None leaves out the activation"


# --------------------------------------------------------------------------- task6_3


@pytest.mark.task6_3
def test_fresh_residual_block_is_the_identity_for_same_shape(lab):
    torch.manual_seed(0)
    block = lab.ResidualBlock(8, 8)
    assert isinstance(block.shortcut, nn.Identity), "same shape: the shortcut is nn.Identity()"
    x = torch.randn(4, 8, 10, 10)
    out = block(x)  # training mode: BN uses batch statistics, gamma = 0 still zeroes the branch
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
    assert any(isinstance(m, nn.BatchNorm2d) for m in block.shortcut.modules()), "follow the 1x1 conv with BatchNorm2d"
    x = torch.randn(3, in_ch, 8, 8)
    out = block(x)
    assert out.shape == (3, out_ch, 8 // stride, 8 // stride), f"got {tuple(out.shape)}"
    assert torch.equal(out, F.relu(block.shortcut(x))), "a fresh block returns relu(shortcut(x)): zero the last BN gamma"


@pytest.mark.task6_3
def test_residual_block_learns_its_branch(lab):
    torch.manual_seed(0)
    block = lab.ResidualBlock(4, 4)
    x = torch.randn(2, 4, 6, 6)
    block(x).square().mean().backward()
    bns = [m for m in block.residual.modules() if isinstance(m, nn.BatchNorm2d)]
    assert bns and torch.equal(bns[-1].weight.detach(), torch.zeros(4)), "the residual branch ends in a BN with gamma 0"
    assert bns[-1].weight.grad is not None and bns[-1].weight.grad.abs().sum() > 0, (
        "gamma starts at 0 but still gets a gradient, so the block can learn to use its branch"
    )


# --------------------------------------------------------------------------- task6_4


@pytest.mark.task6_4
def test_simple_cnn_shapes_and_layers(lab):
    torch.manual_seed(0)
    model = lab.SimpleCNN(num_classes=7, width=8, dropout=0.3)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 7), "SimpleCNN maps (N, 3, 32, 32) to (N, num_classes)"
    assert model(torch.randn(2, 3, 64, 64)).shape == (2, 7), "global average pooling makes any input size work"
    modules = list(model.modules())
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
    assert not torch.equal(model(x), model(x)), "in train mode dropout makes two passes differ"
    model.eval()
    assert torch.equal(model(x), model(x)), "in eval mode the model is deterministic"


# --------------------------------------------------------------------------- task6_5


@pytest.mark.task6_5
def test_resnet_structure_and_shapes(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=10, widths=(8, 16, 32))
    out = model(torch.randn(2, 3, 32, 32))
    assert out.shape == (2, 10), f"expected (2, 10), got {tuple(out.shape)}"
    blocks = [m for m in model.modules() if isinstance(m, lab.ResidualBlock)]
    assert len(blocks) == 2, f"widths (8, 16, 32) need 2 residual stages, found {len(blocks)} ResidualBlocks"
    assert all(not isinstance(b.shortcut, nn.Identity) for b in blocks), "each stage changes width: projection shortcuts"
    assert isinstance(model.head, nn.Linear) and model.head.in_features == 32
    assert len(model.layers) == 2, "model.layers holds one stage per width after the first"
    with pytest.raises(ValueError):
        lab.ResNet(widths=(16,))


@pytest.mark.task6_5
def test_resnet_trains_one_step_and_is_cheap(lab):
    torch.manual_seed(0)
    model = lab.ResNet(num_classes=10)
    macs = lab.count_multiply_adds(model)
    assert 10e6 < macs < 200e6, f"the default ResNet should cost tens of M multiply-adds per image, got {macs / 1e6:.0f}M"
    small = lab.ResNet(num_classes=4, widths=(8, 16))
    x, y = torch.randn(8, 3, 32, 32), torch.randint(0, 4, (8,))
    F.cross_entropy(small(x), y).backward()
    assert small.head.weight.grad is not None and torch.isfinite(small.head.weight.grad).all()
    assert small.stem[0].weight.grad is not None, "gradients reach the stem through the shortcuts"


# --------------------------------------------------------------------------- task6_6


def all_flip_translations(image, max_shift):
    """Every image random_flip_translate may produce from one image (brute force)."""
    c, h, w = image.shape
    s = max_shift
    out = []
    for candidate in (image, image.flip(-1)):
        padded = F.pad(candidate, (s, s, s, s))
        for dy in range(2 * s + 1):
            for dx in range(2 * s + 1):
                out.append(padded[:, dy : dy + h, dx : dx + w])
    return out


@pytest.mark.task6_6
def test_random_flip_translate_produces_flips_and_shifts(lab):
    images = torch.randint(1, 256, (24, 3, 8, 8), dtype=torch.uint8, generator=seeded(1))
    before = images.clone()
    out = lab.random_flip_translate(images, max_shift=2, generator=seeded(2))
    assert out.shape == images.shape and out.dtype == torch.uint8, f"got {tuple(out.shape)} {out.dtype}"
    assert torch.equal(images, before), "do not modify the input batch"
    flipped = 0
    for i in range(len(images)):
        candidates = all_flip_translations(images[i], 2)
        matches = [k for k, candidate in enumerate(candidates) if torch.equal(candidate, out[i])]
        assert matches, f"image {i} is not a flip and/or a shift (<= 2 px, zero padding) of the input image"
        flipped += matches[0] >= 25
    assert 0 < flipped < len(images), f"each image is mirrored with probability 1/2; {flipped} of 24 were"


@pytest.mark.task6_6
def test_random_flip_translate_is_random_per_image_and_seedable(lab):
    images = torch.randint(1, 256, (64, 3, 8, 8), dtype=torch.uint8, generator=seeded(3))
    first = lab.random_flip_translate(images, max_shift=3, generator=seeded(4))
    again = lab.random_flip_translate(images, max_shift=3, generator=seeded(4))
    assert torch.equal(first, again), "the same generator seed must give the same augmentation"
    zero_rows = (first == 0).all(dim=(1, 3)).sum(dim=1)  # padded rows per image show the vertical shift
    assert len(set(zero_rows.tolist())) > 1, "each image needs its own random shift, not one shift for the batch"
    float_images = images.float()
    assert lab.random_flip_translate(float_images, 2, generator=seeded(5)).dtype == torch.float32, "keep the dtype"
    assert torch.equal(lab.random_flip_translate(images, 0, flip=False), images), "no flip and no shift: unchanged"


@pytest.mark.task6_6
def test_random_flip_translate_has_no_per_image_loop(lab):
    lab.random_flip_translate(torch.zeros(2, 3, 4, 4), 1)  # run it first: a TODO fails here
    loops = [node for node in ast.walk(source_tree(lab.random_flip_translate)) if isinstance(node, (ast.For, ast.While))]
    assert not loops, "augment the whole batch with tensor operations (torch.where, gather/indexing), not a Python loop"


# --------------------------------------------------------------------------- task6_7


@pytest.mark.task6_7
def test_confusion_matrix_matches_brute_force(lab):
    preds = torch.randint(0, 7, (500,), generator=seeded(6))
    targets = torch.randint(0, 7, (500,), generator=seeded(7))
    cm = lab.confusion_matrix(preds, targets, 7)
    expected = torch.zeros(7, 7, dtype=torch.int64)
    for t, p in zip(targets.tolist(), preds.tolist()):
        expected[t, p] += 1
    assert cm.dtype == torch.int64 and cm.shape == (7, 7), f"expected a (7, 7) int64 tensor, got {cm.shape} {cm.dtype}"
    assert torch.equal(cm, expected), "cm[true, predicted] counts differ from a brute-force count (rows are the truth)"
    empty = lab.confusion_matrix(torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long), 3)
    assert torch.equal(empty, torch.zeros(3, 3, dtype=torch.int64)), "no samples: an all-zero matrix"


@pytest.mark.task6_7
def test_confusion_matrix_uses_bincount_and_rejects_bad_input(lab):
    with pytest.raises(ValueError):
        lab.confusion_matrix(torch.tensor([0, 3]), torch.tensor([0, 1]), 3)  # prediction 3 out of range
    with pytest.raises(ValueError):
        lab.confusion_matrix(torch.tensor([0, 1, 2]), torch.tensor([0, 1]), 3)  # lengths differ
    tree = source_tree(lab.confusion_matrix)
    assert "bincount" in {node.attr for node in ast.walk(tree) if isinstance(node, ast.Attribute)}, (
        "count all cells at once with torch.bincount(true * C + pred, minlength=C * C)"
    )


@pytest.mark.task6_7
def test_per_class_metrics_values_and_zero_division(lab):
    cm = torch.tensor([[5, 1, 0], [2, 3, 0], [1, 0, 0]])  # class 2: never predicted, and its one sample missed
    metrics = lab.per_class_metrics(cm)
    assert torch.allclose(metrics.precision, torch.tensor([5 / 8, 3 / 4, 0.0])), f"precision {metrics.precision}"
    assert torch.allclose(metrics.recall, torch.tensor([5 / 6, 3 / 5, 0.0])), f"recall {metrics.recall}"
    f1 = 2 * metrics.precision * metrics.recall / (metrics.precision + metrics.recall).clamp(min=1e-12)
    assert torch.allclose(metrics.f1, f1), f"f1 {metrics.f1}"
    assert abs(metrics.accuracy - 8 / 12) < 1e-6, f"accuracy is trace / total = 8/12, got {metrics.accuracy}"
    empty = lab.per_class_metrics(torch.zeros(3, 3, dtype=torch.long))
    for name in ("precision", "recall", "f1"):
        values = getattr(empty, name)
        assert not torch.isnan(values).any() and (values == 0).all(), f"an empty matrix gives {name} 0, not NaN: {values}"
    assert empty.accuracy == 0


# --------------------------------------------------------------------------- task6_8


@pytest.mark.task6_8
@pytest.mark.parametrize("normalize", [False, True])
def test_plot_confusion_matrix_writes_a_readable_png(lab, tmp_path, normalize):
    import matplotlib.image
    import matplotlib.pyplot as plt

    cm = torch.randint(0, 80, (10, 10), generator=seeded(8)) + torch.eye(10, dtype=torch.long) * 500
    names = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
    open_before = set(plt.get_fignums())
    path = lab.plot_confusion_matrix(cm, names, tmp_path / "figures" / "cm.png", normalize=normalize)
    assert path is not None and path == tmp_path / "figures" / "cm.png", "return the path of the PNG"
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "the file must be a PNG (fig.savefig(path) with a .png name)"
    assert len(data) > 10_000, f"a 10x10 matrix with labels and numbers should be > 10 kB, got {len(data)} bytes"
    pixels = matplotlib.image.imread(path)
    assert pixels.shape[0] >= 400 and pixels.shape[1] >= 400, f"too small to read: {pixels.shape[:2]} pixels"
    assert set(plt.get_fignums()) <= open_before, "close the figure after saving (plt.close(fig))"


# --------------------------------------------------------------------------- task6_9


@pytest.mark.task6_9
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
    lab.unfreeze(model.layers)
    assert all(p.requires_grad for p in model.layers.parameters()), "unfreeze makes the parameters trainable again"
    model(torch.randn(4, 3, 16, 16) * 3 + 1)
    moved = [n for n, v in bn_stats(model.layers).items() if not torch.equal(v, before[n])]
    assert moved, "after unfreeze and model.train(), BN layers update their running statistics again"


@pytest.mark.task6_9
def test_param_groups_split_backbone_and_head(lab):
    model = lab.ResNet(num_classes=3, widths=(8, 16))
    groups = lab.param_groups(model, backbone_lr=0.01, head_lr=0.1)
    assert [g["lr"] for g in groups] == [0.01, 0.1], "first the backbone group at backbone_lr, then the head at head_lr"
    head_ids = {id(p) for p in model.head.parameters()}
    assert {id(p) for p in groups[1]["params"]} == head_ids, "the second group holds exactly the head's parameters"
    all_ids = [id(p) for g in groups for p in g["params"]]
    assert sorted(all_ids) == sorted(id(p) for p in model.parameters()), "every parameter in exactly one group"
    lab.freeze(model.stem)
    x, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 1, 2, 0])
    stem_before = copy.deepcopy(model.stem.state_dict())
    optimizer = torch.optim.SGD(lab.param_groups(model, 0.01, 0.1), momentum=0.9)
    F.cross_entropy(model(x), y).backward()
    optimizer.step()
    for name, value in model.stem.state_dict().items():
        assert torch.equal(value, stem_before[name]), f"frozen stem.{name} changed during an optimizer step"


@pytest.mark.task6_9
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


# --------------------------------------------------------------------------- task6_10


def trainable_prefixes(model, prefixes):
    names = [n for n, p in model.named_parameters() if p.requires_grad]
    return {prefix for prefix in prefixes if any(n.startswith(prefix) for n in names)}


@pytest.mark.task6_10
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


@pytest.mark.task6_10
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


# --------------------------------------------------------------------------- task6_11


@pytest.mark.task6_11
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
    assert torch.allclose(logits, expected, atol=1e-5), "tta=True: the mean of the logits of x and of x.flip(-1), in eval mode"
    no_tta = lab.predict_logits(model, images, tta=False, amp="off", channels_last=False)
    assert torch.allclose(no_tta, plain, atol=1e-5), "tta=False: just the model's logits, in eval mode"
    assert torch.equal(lab.predict(model, images, tta=False, amp="off"), plain.argmax(1))


@pytest.mark.task6_11
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
    assert history["test_accuracy"] and abs(history["test_accuracy"][-1] - accuracy) < 1e-6


@pytest.mark.task6_11
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


@pytest.mark.task6_11
def test_demo_trains_and_writes_the_confusion_matrix(run_lab_script, lab_path, tmp_path):
    data = write_image_folder(tmp_path / "data")
    out = tmp_path / "out"
    result = run_lab_script(
        "--data-dir", data, "--epochs", "1", "--widths", "4,8", "--batch-size", "20", "--threads", "1", "--out", out,
        timeout=120, check=False,
    )
    raise_todo_printed_by_demo(result.stdout + result.stderr, lab_path)
    assert result.returncode == 0, f"the demo exited with {result.returncode}:\n{result.stdout[-2000:]}\n{result.stderr[-2000:]}"
    assert "test accuracy" in result.stdout, f"the demo prints the test accuracy; it printed:\n{result.stdout[-1500:]}"
    for name in ("confusion_matrix.png", "confusion_matrix_normalized.png"):
        assert (out / name).read_bytes()[:4] == b"\x89PNG", f"the demo should write {name} under --out"


@pytest.mark.task6_11
def test_benchmark_reports_every_setting(lab):
    table = lab.benchmark_throughput((4, 8), batch_size=8, steps=1, repeats=1)
    rows = table.splitlines()[1:]
    assert len(rows) == 4 and {r.split()[0] for r in rows} == {"fp32", "bf16"}, f"got:\n{table}"


@pytest.mark.task6_11
def test_missing_data_gives_one_clear_message(lab, tmp_path, monkeypatch):
    with pytest.raises(lab.DataNotFoundError, match="--data-dir"):
        lab.load_cifar10(tmp_path / "nowhere")
    import torchvision

    def offline(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(torchvision.datasets, "CIFAR10", offline)
    with pytest.raises(lab.DataNotFoundError, match="--data-dir"):
        lab.load_cifar10(None, root=tmp_path)


# --------------------------------------------------------------------------- task6_12


@pytest.mark.task6_12
def test_prepare_transfer_modes(lab):
    torch.manual_seed(0)
    pretrained = lab.ResNet(num_classes=5, widths=(4, 8))
    original = copy.deepcopy(pretrained.state_dict())
    frozen, groups = lab.prepare_transfer(pretrained, 3, "frozen", head_lr=0.1)
    assert frozen is not pretrained and frozen.head.out_features == 3, "a copy with a new 3-class head"
    assert {n for n, p in frozen.named_parameters() if p.requires_grad} == {"head.weight", "head.bias"}
    assert [id(p) for g in groups for p in g["params"]] == [id(p) for p in frozen.head.parameters()]
    finetune, groups = lab.prepare_transfer(pretrained, 3, "finetune", head_lr=0.1, backbone_lr_factor=0.1)
    assert all(p.requires_grad for p in finetune.parameters()), "fine-tuning trains every layer"
    assert [g["lr"] for g in groups] == pytest.approx([0.01, 0.1]), "backbone at head_lr x factor, head at head_lr"
    assert torch.equal(finetune.stem[0].weight, pretrained.stem[0].weight), "start from the pretrained weights"
    assert pretrained.head.out_features == 5 and all(
        torch.equal(v, original[k]) for k, v in pretrained.state_dict().items()
    ), "prepare_transfer must not change the pretrained model (deepcopy it)"
    with pytest.raises(ValueError):
        lab.prepare_transfer(pretrained, 3, "sideways", head_lr=0.1)


@pytest.mark.task6_12
def test_prepare_transfer_on_torchvision_resnet(lab):
    import torchvision

    model = torchvision.models.resnet18(weights=None, num_classes=10)
    frozen, groups = lab.prepare_transfer(model, 4, "frozen", head_lr=0.05)
    assert frozen.fc.out_features == 4
    assert {n for n, p in frozen.named_parameters() if p.requires_grad} == {"fc.weight", "fc.bias"}


@pytest.mark.task6_12
def test_transfer_experiment_runs_every_mode(lab):
    torch.manual_seed(0)
    train, test = image_data(lab, 4, 24, seed=0), image_data(lab, 4, 10, seed=1)
    config = lab.TransferConfig(
        source_classes=(0, 1),
        target_classes=(2, 3),
        pretrain_per_class=24,
        labels_per_class=6,
        widths=(4, 8),
        pretrain=lab.TrainConfig(epochs=2, batch_size=16, amp="off"),
        finetune=lab.TrainConfig(epochs=2, batch_size=6, lr=0.05, amp="off"),
        epochs_per_stage=1,
    )
    results = lab.transfer_experiment(train, test, config, log=None)
    assert set(results) == {"pretrain", "scratch", "frozen", "finetune", "gradual"}, f"got keys {sorted(results)}"
    assert all(0.0 <= v <= 1.0 for v in results.values()), f"accuracies are fractions: {results}"


# --------------------------------------------------------------------------- slow: the deliverable on CIFAR-10

# The deliverable: above 85%. The default recipe (TrainConfig(): 8 epochs, ~333 s on an otherwise
# idle 2-core Zen 4) measured 0.8581 on the offline copy (README, "Measured numbers").
CIFAR10_TARGET_ACCURACY = 0.85


@pytest.mark.slow
@pytest.mark.task6_11
def test_resnet_reaches_target_accuracy_on_cifar10(lab, cifar10_dir):
    train, test = lab.load_cifar10(cifar10_dir)
    torch.manual_seed(0)
    model = lab.ResNet(len(train.classes), lab.ModelConfig.widths).to(lab.pick_device())
    history = lab.train_model(model, train, lab.TrainConfig(), test=test)
    accuracy = history["test_accuracy"][-1]
    print(f"CIFAR-10 test accuracy {accuracy:.4f} after {history['seconds']:.0f}s of training")
    assert accuracy >= CIFAR10_TARGET_ACCURACY, (
        f"the fast recipe should reach {CIFAR10_TARGET_ACCURACY:.0%} on the test split, got {accuracy:.2%}"
    )


@pytest.mark.slow
@pytest.mark.task6_12
def test_fine_tuning_beats_training_from_scratch_on_cifar10(lab, cifar10_dir):
    train, test = lab.load_cifar10(cifar10_dir)
    results = lab.transfer_experiment(train, test, lab.TransferConfig())
    print(lab.format_transfer_table(results, lab.TransferConfig()))
    assert results["finetune"] > results["scratch"] + 0.03, (
        f"fine-tuning a backbone pretrained on classes 0-4 should beat training from scratch on classes 5-9 "
        f"with few labels: fine-tune {results['finetune']:.3f} vs scratch {results['scratch']:.3f}"
    )
