"""Lab 5 — GPU Acceleration & Mixed Precision. Run: pytest -m lab5 (add --impl solution for the reference).

Everything that can run on a CPU is tested on the CPU: bf16 autocast, fp16 with
GradScaler("cpu"), activation checkpointing, the batch-size search with a pretend
out-of-memory error, and DDP / FSDP2 with 2 processes over gloo. The `gpu` tests measure
what only a GPU shows (peak memory, a real OOM, the benchmark's speedup) and skip without CUDA.
"""

import ast
import dataclasses
import importlib.util
import math
import os
import re
import subprocess
import sys
import types
import warnings
from collections import namedtuple

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from harness.todos import raise_todo_from_output
from tests.helpers import expect_error, seeded

pytestmark = pytest.mark.lab5


def tiny_classifier(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))


def classification_batch(n=64, seed=1):
    g = seeded(seed)
    x = torch.randn(n, 16, generator=g)
    y = (x[:, :4].argmax(dim=1)).long()  # learnable: the label is the largest of the first 4 features
    return x, y


# --------------------------------------------------------------------------- task5_1


@pytest.mark.task5_1
def test_get_device_prefers_cuda_then_mps_then_cpu(lab, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert lab.get_device() == torch.device("cpu"), "no GPU at all -> cpu"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert lab.get_device() == torch.device("mps"), "no CUDA but Apple's MPS -> mps"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert lab.get_device().type == "cuda", "CUDA available -> cuda first"


@pytest.mark.task5_1
def test_get_device_honours_prefer_and_explains_errors(lab, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert lab.get_device("cpu") == torch.device("cpu")
    assert lab.get_device(torch.device("cpu")) == torch.device("cpu"), "a torch.device works as prefer too"
    try:
        got = lab.get_device("cuda")
    except NotImplementedError:
        raise  # a TODO (NotImplementedError is a RuntimeError too)
    except RuntimeError:
        pass  # the words are yours; the exception type is what callers catch
    else:
        pytest.fail(
            f"get_device('cuda') on a machine without CUDA returned {got}: raise RuntimeError saying cuda is not available "
            "(a silent fall-back to the CPU turns a 2-minute run into a 2-hour one)", pytrace=False,
        )
    expect_error(ValueError, lambda: lab.get_device("tpu"),
                 advice="get_device('tpu') should raise ValueError naming the devices it knows (cpu, cuda, mps): check "
                        "the name before torch.device() sees it")


@pytest.mark.task5_1
def test_to_device_moves_nested_tensors_and_keeps_structure(lab):
    Pair = namedtuple("Pair", "image label")
    batch = {
        "inputs": [torch.ones(2), (torch.zeros(3), "keep me")],
        "pair": Pair(torch.arange(4), 7),
        "meta": None,
    }
    moved = lab.to_device(batch, "meta")  # the meta device: tensors without storage, fine on any machine
    assert isinstance(moved, dict) and set(moved) == set(batch), "a dict comes back as a dict with the same keys"
    assert isinstance(moved["inputs"], list) and isinstance(moved["inputs"][1], tuple), "lists and tuples keep their type"
    assert moved["inputs"][0].device.type == "meta" and moved["inputs"][1][0].device.type == "meta", "nested tensors move"
    assert moved["inputs"][1][1] == "keep me" and moved["meta"] is None, "values that are not tensors are unchanged"
    assert isinstance(moved["pair"], Pair) and moved["pair"].label == 7, "a namedtuple stays that namedtuple"
    assert moved["pair"].image.device.type == "meta"
    assert batch["inputs"][0].device.type == "cpu", "the original batch must not change"
    assert lab.to_device(torch.ones(1), "meta", non_blocking=True).device.type == "meta"


# --------------------------------------------------------------------------- task5_2


def test_autocast_dtype_picks_fp16_on_a_gpu_without_bf16(lab, monkeypatch):
    """Colab's free T4 has no bf16: "auto" must give fp16 there (amp_train_step then needs a GradScaler)."""
    cuda = torch.device("cuda")
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: False)
    assert lab.autocast_dtype(cuda, "auto") == torch.float16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *args, **kwargs: True)
    assert lab.autocast_dtype(cuda, "auto") == torch.bfloat16
    assert lab.autocast_dtype(cuda, "off") is None and lab.autocast_dtype(cuda, "fp16") == torch.float16


@pytest.mark.task5_2
def test_amp_train_step_bf16_on_cpu(lab):
    model = tiny_classifier()
    seen = []
    model[0].register_forward_hook(lambda module, inputs, output: seen.append(output.dtype))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
    batch = classification_batch()
    losses = [
        lab.amp_train_step(model, batch, F.cross_entropy, optimizer, device_type="cpu", dtype=torch.bfloat16)
        for _ in range(40)
    ]
    assert seen[0] == torch.bfloat16, f"the Linear layer should run in bf16 under autocast, it produced {seen[0]}"
    assert isinstance(losses[0], torch.Tensor) and losses[0].ndim == 0, "return the loss as a 0-dim tensor"
    assert not losses[0].requires_grad, "return loss.detach(): a graph kept alive per step leaks memory"
    assert all(p.dtype == torch.float32 for p in model.parameters()), "autocast must leave the weights in float32"
    assert losses[-1].item() < 0.7 * losses[0].item(), f"the loss should fall: {losses[0].item():.3f} -> {losses[-1].item():.3f}"


@pytest.mark.task5_2
def test_amp_train_step_fp32_is_a_plain_step(lab):
    batch = classification_batch()
    model, reference = tiny_classifier(), tiny_classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    ref_optimizer = torch.optim.SGD(reference.parameters(), lr=0.1)
    for _ in range(3):
        loss = lab.amp_train_step(model, batch, F.cross_entropy, optimizer, device_type="cpu", dtype=torch.float32)
        ref_optimizer.zero_grad()
        ref_loss = F.cross_entropy(reference(batch[0]), batch[1])
        ref_loss.backward()
        ref_optimizer.step()
        assert torch.allclose(loss, ref_loss.detach()), (
            f"dtype=float32 means autocast off: the same loss as a plain step, got {loss.item():.4f} vs {ref_loss.item():.4f}"
            " (equal at the first step but not later? the gradients were not zeroed: zero the grads before backward)"
        )
    for p, q in zip(model.parameters(), reference.parameters()):
        assert torch.allclose(p, q, atol=1e-6), "dtype=float32: three steps should equal three plain SGD steps (zero the grads!)"


@pytest.mark.task5_2
def test_amp_train_step_fp16_requires_a_scaler(lab):
    model = tiny_classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="GradScaler"):
        lab.amp_train_step(model, classification_batch(), F.cross_entropy, optimizer, device_type="cpu", dtype=torch.float16)


@pytest.mark.task5_2
def test_grad_scaler_skips_the_step_on_inf_gradients(lab):
    model = tiny_classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0**10)
    before = [p.detach().clone() for p in model.parameters()]

    def exploding_loss(outputs, targets):
        return F.cross_entropy(outputs, targets) * float("inf")

    batch = classification_batch()
    try:
        lab.amp_train_step(model, batch, exploding_loss, optimizer, scaler, device_type="cpu", dtype=torch.float16)
    except AssertionError as error:
        if "No inf checks were recorded" not in str(error):
            raise
        pytest.fail("scaler.update() found no inf checks: the step went through optimizer.step(); call "
                    "scaler.step(optimizer) instead (it checks the unscaled gradients and skips the step on inf)", pytrace=False)
    assert all(torch.equal(p, b) for p, b in zip(model.parameters(), before)), (
        "with inf gradients the scaler must skip optimizer.step(): call scaler.step(optimizer), not optimizer.step()"
    )
    assert scaler.get_scale() == 2.0**9, f"after a skipped step the scale halves (scaler.update()); got {scaler.get_scale()}"
    lab.amp_train_step(model, batch, F.cross_entropy, optimizer, scaler, device_type="cpu", dtype=torch.float16)
    assert any(not torch.equal(p, b) for p, b in zip(model.parameters(), before)), "a finite step must update the weights"


@pytest.mark.task5_2
def test_no_deprecated_torch_cuda_amp(lab, lab_path):
    model = tiny_classifier()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)  # torch.cuda.amp.* warns FutureWarning
        lab.amp_train_step(model, classification_batch(), F.cross_entropy, optimizer, device_type="cpu", dtype=torch.bfloat16)
    tree = ast.parse(lab_path.read_text())
    used = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and ast.unparse(node).startswith("torch.cuda.amp"):
            used.append(f"line {node.lineno}: {ast.unparse(node)}")
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("torch.cuda.amp"):
            used.append(f"line {node.lineno}: from {node.module} import ...")
    assert not used, f"use torch.amp.autocast / torch.amp.GradScaler, not the deprecated torch.cuda.amp: {used}"


@pytest.mark.task5_2
@pytest.mark.gpu
def test_amp_train_step_on_cuda_fp16_and_bf16(lab):
    for dtype in (torch.float16, torch.bfloat16):
        model = tiny_classifier().cuda()
        optimizer = torch.optim.SGD(model.parameters(), lr=0.5)
        scaler = torch.amp.GradScaler("cuda") if dtype == torch.float16 else None
        batch = tuple(t.cuda() for t in classification_batch())
        losses = [lab.amp_train_step(model, batch, F.cross_entropy, optimizer, scaler, device_type="cuda", dtype=dtype) for _ in range(40)]
        assert losses[-1].item() < 0.7 * losses[0].item(), f"{dtype}: the loss should fall on CUDA"


# --------------------------------------------------------------------------- task5_3


def tiny_activations(scale=1e-3, seed=0):
    g = seeded(seed)
    x = scale * torch.randn(64, 64, generator=g)
    weight = torch.randn(8, 64, generator=g) / 8
    target = scale * torch.randn(64, 8, generator=g)
    ref = weight.clone().requires_grad_(True)
    F.mse_loss(x @ ref.T, target).backward()
    return weight, x, target, ref.grad


def relative_error(a, b):
    return ((a - b).norm() / b.norm()).item()


@pytest.mark.task5_3
def test_fp16_gradient_underflows_without_scaling(lab):
    weight, x, target, reference = tiny_activations()
    before = weight.clone()
    grad = lab.fp16_gradient(weight, x, target, loss_scale=1.0)
    assert grad.dtype == torch.float32 and grad.shape == weight.shape, f"expected float32 {tuple(weight.shape)}, got {grad.dtype} {tuple(grad.shape)}"
    assert torch.equal(weight, before), "fp16_gradient must not modify weight (work on a detached clone)"
    assert not weight.requires_grad and weight.grad is None, (
        "fp16_gradient must not modify weight: it now requires grad / holds a .grad (work on a detached clone)"
    )
    assert (reference == 0).sum() == 0
    zeros = (grad == 0).float().mean().item()
    assert zeros > 0.3, (
        f"with the matmul in fp16 and no scaling, many of these ~4e-8 gradients should flush to 0; only {zeros:.0%} did. "
        "Run x @ w.T under torch.amp.autocast(device_type, dtype=torch.float16)."
    )


@pytest.mark.task5_3
def test_fp16_gradient_survives_with_loss_scaling(lab):
    weight, x, target, reference = tiny_activations()
    grad = lab.fp16_gradient(weight, x, target, loss_scale=2.0**16)
    assert (grad == 0).sum() == 0, "with loss_scale=2**16 no gradient should be zero"
    error = relative_error(grad, reference)
    assert error < 1e-2, f"scaled fp16 gradients should match fp32 within 1%, error {error:.2%} (divide by loss_scale after)"


@pytest.mark.task5_3
def test_fp16_gradient_overflows_with_a_huge_scale(lab):
    weight, x, target, _ = tiny_activations()
    grad = lab.fp16_gradient(weight, x, target, loss_scale=2.0**40)
    assert not torch.isfinite(grad).all(), "2**40 pushes the fp16 gradients past 65504: they should come back inf/NaN"
    normal_weight, normal_x, normal_target, normal_ref = tiny_activations(scale=1.0)
    normal = lab.fp16_gradient(normal_weight, normal_x, normal_target, loss_scale=1.0)
    assert relative_error(normal, normal_ref) < 1e-2, "gradients of ordinary size need no scaling"


# --------------------------------------------------------------------------- task5_4


@pytest.mark.task5_4
def test_checkpointing_gives_identical_outputs_and_gradients(lab):
    torch.manual_seed(0)
    plain = lab.CheckpointedMLP(width=32, depth=3, checkpoint_blocks=False)
    checkpointed = lab.CheckpointedMLP(width=32, depth=3, checkpoint_blocks=True)
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(16, 32, generator=seeded(3))  # does not require grad, like real input data
    out_plain, out_ckpt = plain(x), checkpointed(x)
    assert torch.equal(out_plain, out_ckpt), "checkpointing must not change the outputs"
    out_plain.square().mean().backward()
    out_ckpt.square().mean().backward()
    for (name, p), q in zip(plain.named_parameters(), checkpointed.parameters()):
        assert q.grad is not None, (
            f"{name} got no gradient with checkpointing: use checkpoint(block, x, use_reentrant=False) "
            "(the reentrant variant gives no gradients when the input does not require grad)"
        )
        assert torch.allclose(p.grad, q.grad, atol=1e-7), f"gradient of {name} differs with checkpointing"


@pytest.mark.task5_4
def test_checkpointing_recomputes_blocks_in_backward(lab):
    torch.manual_seed(0)
    model = lab.CheckpointedMLP(width=16, depth=2, checkpoint_blocks=True)
    calls = []
    model.blocks[0][0].register_forward_hook(lambda *args: calls.append(1))
    x = torch.randn(4, 16)
    model(x).sum().backward()
    assert len(calls) == 2, f"a checkpointed block runs forward twice per training step (again in backward); got {len(calls)}"
    calls.clear()
    with torch.no_grad():
        model(x)
    assert len(calls) == 1, "under torch.no_grad() there is nothing to recompute: one forward pass"
    calls.clear()
    model.checkpoint_blocks = False
    model(x).sum().backward()
    assert len(calls) == 1, "with checkpoint_blocks=False, no recomputation"


@pytest.mark.task5_4
def test_checkpointing_passes_use_reentrant_explicitly(lab):
    model = lab.CheckpointedMLP(width=16, depth=2, checkpoint_blocks=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torch warns when use_reentrant is not passed
        model(torch.randn(4, 16)).sum().backward()


@pytest.mark.task5_4
@pytest.mark.gpu
def test_checkpointing_lowers_peak_memory_on_cuda(lab):
    x = torch.randn(8192, 1024, device="cuda")
    peaks = {}
    for flag in (False, True):
        torch.manual_seed(0)
        model = lab.CheckpointedMLP(width=1024, depth=8, checkpoint_blocks=flag).cuda()
        peaks[flag] = lab.measure_peak_memory(lambda: model(x).square().mean().backward(), "cuda")
        del model
        torch.cuda.empty_cache()
    ratio = peaks[True] / peaks[False]
    assert ratio < 0.7, (
        f"checkpointing 8 blocks should cut the step's peak memory well below 70%: "
        f"{peaks[False] / 2**20:.0f} MiB plain vs {peaks[True] / 2**20:.0f} MiB checkpointed ({ratio:.0%})"
    )


# --------------------------------------------------------------------------- task5_5


def pretend_gpu(threshold):
    calls = []

    def step(batch_size):
        calls.append(batch_size)
        if batch_size > threshold:
            raise torch.OutOfMemoryError(f"CUDA out of memory (pretend): {batch_size} > {threshold}")

    return step, calls


@pytest.mark.task5_5
@pytest.mark.parametrize("threshold", [1, 7, 100, 1000, 4095, 4096, 10_000])
def test_find_max_batch_size_finds_the_largest_that_fits(lab, threshold):
    step, calls = pretend_gpu(threshold)
    got = lab.find_max_batch_size(step, start=1, limit=4096)
    assert got == min(threshold, 4096), f"the largest batch size <= {threshold} (limit 4096) is {min(threshold, 4096)}, got {got}"
    assert max(calls) <= 4096, f"never try more than limit=4096, tried {max(calls)}"
    assert len(calls) <= 2 * math.log2(4096) + 2, f"doubling + binary search takes ~24 tries at most, took {len(calls)}: {calls}"


@pytest.mark.task5_5
def test_find_max_batch_size_errors(lab):
    step, _ = pretend_gpu(10)
    assert lab.find_max_batch_size(step, start=1, limit=64) == 10  # (a TODO is a RuntimeError too: call it plainly first)
    with pytest.raises(RuntimeError, match="16"):
        lab.find_max_batch_size(step, start=16, limit=64)  # even the first try does not fit
    for start, limit in ((0, 10), (8, 4)):
        with pytest.raises(ValueError):
            lab.find_max_batch_size(step, start=start, limit=limit)

    def buggy_step(batch_size):  # a bug, not a memory problem; torch reports shape bugs as RuntimeError
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied (64x10 and 12x4)")

    try:
        lab.find_max_batch_size(buggy_step, 1, 64)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        assert "shapes cannot be multiplied" in str(error), (
            f"a shape bug (RuntimeError) was treated as running out of memory ({error}): catch only torch.OutOfMemoryError"
        )
    else:
        pytest.fail("a step that raises a shape error must not count as 'does not fit': let the error through")


@pytest.mark.task5_5
@pytest.mark.gpu
def test_find_max_batch_size_on_a_real_gpu(lab):
    model = nn.Sequential(*[layer for _ in range(4) for layer in (nn.Linear(256, 256), nn.GELU())]).cuda()

    def step(batch_size):  # each sample is 512 tokens x 256 features: ~6 MB of saved activations
        x = torch.randn(batch_size, 512, 256, device="cuda")
        model(x).square().mean().backward()
        model.zero_grad(set_to_none=True)

    limit = 1 << 16  # ~400 GB of activations: more than any single GPU has
    best = lab.find_max_batch_size(step, start=64, limit=limit)
    assert 64 <= best < limit, f"expected an out-of-memory error below {limit}; got {best}"
    step(best)  # the answer must really fit
    torch.cuda.empty_cache()


# --------------------------------------------------------------------------- task5_6 / task5_7 (torchrun)


# Each torchrun worker runs the graded file through this launcher, which also records the first
# batch the model sees on each rank: that is how the tests tell that every rank trained on its own
# shard (without sharding, each rank trains on the whole batch and DDP's average hides it).
LAUNCHER = """
import importlib.util, os, sys
import torch
spec = importlib.util.spec_from_file_location("lab5_worker", sys.argv[1])
lab = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = lab
spec.loader.exec_module(lab)
seen = []
make_model = lab.make_dist_model
def recording_model(seed):
    model = make_model(seed)
    model.register_forward_pre_hook(lambda module, args: seen.append(args[0].detach().cpu().clone()))
    return model
lab.make_dist_model = recording_model
lab.run_distributed(lab.parse_args(sys.argv[2:]))
if seen:
    torch.save(seen[0], os.path.join(os.path.dirname(os.path.abspath(__file__)), f"rank{os.environ['RANK']}_batch.pt"))
"""


def torchrun(lab_path, command, tmp_path, steps=5, global_batch=16):
    out = tmp_path / f"{command}.pt"
    launcher = tmp_path / "launch_worker.py"
    launcher.write_text(LAUNCHER)
    cmd = [
        sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
        str(launcher), str(lab_path), command, "--device", "cpu", "--steps", str(steps), "--global-batch", str(global_batch),
        "--lr", "0.1", "--seed", "0", "--out", str(out),
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    if result.returncode != 0 and "terminate called without an active exception" in result.stderr:
        # gloo on CPU sometimes aborts a worker while the process exits (after the work is done):
        # an intermittent teardown race outside the learner's code. Run once more.
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path)
    raise_todo_from_output(result.stdout + result.stderr)  # a TODO in a worker fails like a direct call
    return result, out


def worker_failure(result, command):
    """A short message for a failed torchrun: the worker's own error line, not the launcher's report."""
    output = result.stdout + "\n" + result.stderr
    pattern = re.compile(r"^\s*(?:\[rank\d+\]:\s*)?((?:\w+\.)*\w*(?:Error|Exception|Interrupt):\s.*)$")
    errors = [m.group(1) for m in map(pattern.match, output.splitlines()) if m and "ChildFailedError" not in m.group(1)]
    detail = errors[-1] if errors else output[-1500:]
    return f"torchrun ... {command} failed in a worker: {detail[:500]}\n(run the torchrun command of the README to see it all)"


def check_sharding(lab, tmp_path, what, global_batch=16):
    """Rank 0 and rank 1 each saw half of the global batch, and together all of it."""
    x, _ = lab.make_dist_data(0, global_batch)
    batches = []
    for rank in (0, 1):
        path = tmp_path / f"rank{rank}_batch.pt"
        assert path.exists(), f"{what}: rank {rank} never ran the model made by make_dist_model"
        batches.append(torch.load(path, weights_only=True))
    for rank, batch in enumerate(batches):
        assert len(batch) == global_batch // 2, (
            f"{what}: rank {rank} trained on {len(batch)} samples per step; with 2 processes each should train on its "
            f"shard of {global_batch // 2} (shard_for_rank), not on the whole global batch of {global_batch}"
        )
    assert torch.equal(torch.cat(batches), x), f"{what}: the two ranks' shards should be the two halves of the global batch, in rank order"


def single_process_reference(lab, steps=5, global_batch=16):
    model = lab.make_dist_model(0)
    x, y = lab.make_dist_data(0, global_batch)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(model(x), y).backward()
        optimizer.step()
    return {name: value.detach() for name, value in model.state_dict().items()}, lab.make_dist_model(0).state_dict()


def compare_with_reference(lab, out, what):
    state = torch.load(out, weights_only=True)
    reference, initial = single_process_reference(lab)
    assert set(state) == set(reference), f"{what}: saved keys {sorted(state)} differ from the model's {sorted(reference)}"
    for name, value in reference.items():
        assert state[name].shape == value.shape, f"{what}: {name} has shape {tuple(state[name].shape)}, expected the full {tuple(value.shape)}"
        difference = (state[name].float() - value).abs().max().item()
        assert difference < 1e-5, (
            f"{what}: {name} differs from one process training on the combined batch by {difference:.2e} "
            "(each rank trains on its shard; the gradients must be averaged across ranks)"
        )
    assert any(not torch.equal(state[n], initial[n]) for n in initial), f"{what}: the weights never changed from their initial values"


@pytest.mark.task5_6
def test_ddp_with_two_cpu_processes_matches_one_process(lab, child_lab_path, tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("task5_6 (Task 5.6): this torch build has no torch.distributed with the gloo backend")
    result, out = torchrun(child_lab_path, "ddp", tmp_path)
    assert result.returncode == 0, worker_failure(result, "ddp")
    assert out.exists(), f"rank 0 should save the final weights to --out; no {out.name} after a successful run"
    compare_with_reference(lab, out, "DDP")
    check_sharding(lab, tmp_path, "DDP")


@pytest.mark.task5_7
def test_fsdp2_with_two_cpu_processes_matches_one_process(lab, child_lab_path, tmp_path):
    if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
        pytest.skip("task5_7 (Task 5.7): this torch build has no torch.distributed with the gloo backend")
    try:
        from torch.distributed.fsdp import fully_shard  # noqa: F401
    except ImportError:
        pytest.skip(f"task5_7 (Task 5.7): torch {torch.__version__} has no FSDP2 (torch.distributed.fsdp.fully_shard arrived in torch 2.6)")
    result, out = torchrun(child_lab_path, "fsdp", tmp_path)
    output = result.stdout + result.stderr
    if result.returncode != 0 and "gloo" in output.lower() and "not supported" in output.lower():
        reason = next(line for line in output.splitlines() if "not supported" in line.lower())
        pytest.skip(f"task5_7 (Task 5.7): FSDP2 does not run on the CPU with gloo in torch {torch.__version__}: {reason.strip()}")
    assert result.returncode == 0, worker_failure(result, "fsdp")
    assert out.exists(), f"rank 0 should save the full weights to --out; no {out.name} after a successful run"
    compare_with_reference(lab, out, "FSDP2")
    check_sharding(lab, tmp_path, "FSDP2")


def test_distributed_device_checks_the_gpu_count(lab, monkeypatch):
    """Given code: torchrun with more processes than GPUs fails in one clear line."""
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    with pytest.raises(lab.DistributedSetupError) as error:
        lab.distributed_device("cuda")
    message = str(error.value)
    assert "\n" not in message and "2 processes" in message and "1 CUDA GPU" in message, message
    assert "--nproc_per_node 1" in message and "--device cpu" in message, message
    assert lab.distributed_device("auto") == (torch.device("cpu"), "gloo"), "auto with too few GPUs falls back to gloo"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 2)
    assert lab.distributed_device("cuda") == (torch.device("cuda", 1), "nccl")
    assert lab.distributed_device("auto") == (torch.device("cuda", 1), "nccl")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "1")
    monkeypatch.setenv("LOCAL_RANK", "0")
    with pytest.raises(lab.DistributedSetupError, match="0 CUDA GPUs"):
        lab.distributed_device("cuda")
    assert lab.distributed_device("cpu") == (torch.device("cpu"), "gloo")


@pytest.mark.task5_6
def test_torchrun_launch_failure_is_one_line(child_lab_path, tmp_path):
    """`solution.py ddp --nproc N --device cuda` on a machine with fewer than N GPUs: the worker's
    one line (or your TODO line), not the launcher's 40-line ChildFailedError report."""
    nproc = torch.cuda.device_count() + 1 if torch.cuda.is_available() else 1  # one process more than GPUs
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(child_lab_path), "ddp", "--nproc", str(nproc), "--device", "cuda", "--steps", "1"],
        capture_output=True, text=True, timeout=240, env=env, cwd=tmp_path,
    )
    output = result.stdout + result.stderr
    raise_todo_from_output(output)
    assert result.returncode != 0, f"asking for 2 GPUs on a machine with fewer must fail:\n{output[-2000:]}"
    assert "GPU per process" in output and "Traceback" not in output, (
        f"expected the one-line DistributedSetupError from distributed_device (called at the top of ddp_train), got:\n{output[-2000:]}"
    )
    assert len(output.strip().splitlines()) <= 8, f"a failed launch should take a few lines, got {len(output.splitlines())}:\n{output}"


def test_demo_timer_synchronizes_and_skips_the_warm_up(lab, monkeypatch):
    """Given code: CUDA queues work and returns, so the clock must start after a
    synchronize that follows the untimed warm-up step, and stop after another synchronize."""
    events = []
    monkeypatch.setattr(torch.cuda, "synchronize", lambda device=None: events.append("sync"))
    clock = iter(range(100))
    monkeypatch.setattr(lab.time, "perf_counter", lambda: events.append("clock") or float(next(clock)))
    seconds = lab.time_steps(lambda: events.append("step"), 3, torch.device("cuda"), warmup=1)
    assert events == ["step", "sync", "clock", "step", "step", "step", "sync", "clock"], events
    assert seconds == 1.0
    events.clear()
    lab.time_steps(lambda: events.append("step"), 2, torch.device("cpu"), warmup=1)
    assert events == ["step", "clock", "step", "step", "clock"], f"no synchronize on the CPU: {events}"


def test_lab5_uses_lab4s_random_crop_flip(lab):
    """Issue 12: one batched crop+flip in the repository, taught in Lab 4 (task4_4)."""
    assert lab.random_crop_flip.__module__ == "lab4_data_loading.solution", (
        f"Lab 5 should import random_crop_flip from lab4_data_loading.solution, not define its own ({lab.random_crop_flip.__module__})"
    )


# --------------------------------------------------------------------------- task5_8


def labelled_images(n=10):
    """uint8 images whose every pixel equals 20 * label + 5, so a batch shows whether x and y still match."""
    labels = torch.arange(n) % 5
    images = (20 * labels + 5).to(torch.uint8).view(n, 1, 1, 1).expand(n, 3, 4, 4).contiguous()
    return images, labels


@pytest.mark.task5_8
def test_device_batches_one_epoch_without_augmentation(lab):
    images, labels = labelled_images(10)
    batches = lab.DeviceBatches(images, labels, 4, mean=[0.5] * 3, std=[0.25] * 3, device="cpu", augment=False, drop_last=False)
    epoch = list(batches)
    assert len(epoch) == len(batches) == 3, f"10 images in batches of 4 without drop_last: 3 batches, got {len(epoch)}"
    seen = torch.cat([y for _, y in epoch])
    assert sorted(seen.tolist()) == sorted(labels.tolist()), "one epoch must visit every image exactly once"
    for x, y in epoch:
        assert x.dtype == torch.float32 and x.shape[1:] == (3, 4, 4), f"x should be float32 (B, 3, 4, 4), got {x.dtype} {tuple(x.shape)}"
        expected = ((20 * y + 5).float() / 255 - 0.5) / 0.25
        assert torch.allclose(x[:, 0, 0, 0], expected), "x must be the normalised images of the labels in y ((x / 255 - mean) / std)"
    dropped = lab.DeviceBatches(images, labels, 4, mean=[0.5] * 3, std=[0.25] * 3, device="cpu", augment=False)
    assert [len(y) for _, y in dropped] == [4, 4], "drop_last=True (the default) leaves out the short last batch"


@pytest.mark.task5_8
def test_device_batches_shuffle_augment_and_channels_last(lab):
    images = torch.randint(0, 256, (32, 3, 8, 8), generator=seeded(1), dtype=torch.int64).to(torch.uint8)
    labels = torch.arange(32)
    make = lambda **kw: lab.DeviceBatches(images, labels, 8, mean=[0.5] * 3, std=[0.25] * 3, device="cpu", seed=3, **kw)  # noqa: E731
    batches = make(channels_last=True)
    first = [(x.clone(), y.clone()) for x, y in batches]
    second = [y for _, y in batches]
    assert torch.cat([y for _, y in first]).tolist() != torch.cat(second).tolist(), "each epoch needs a new random order"
    again = [(x, y) for x, y in make(channels_last=True)]
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(first, again)), "the same seed repeats the batches"
    x, y = first[0]
    assert x.is_contiguous(memory_format=torch.channels_last), "channels_last=True: x.contiguous(memory_format=torch.channels_last)"
    plain = ((images[y].float() / 255) - 0.5) / 0.25
    assert not torch.allclose(x, plain), "augment=True should crop and flip the images (random_crop_flip)"


@pytest.mark.task5_8
def test_benchmark_code_paths_run_on_the_cpu(lab, lab_path):
    """A very short run of benchmark.py's loops (DataLoader path and on-device path) with your functions."""
    benchmark = load_benchmark(lab_path)
    images, labels = benchmark.generated_images(64)
    # Every GPU row rehearsed on the CPU (fp16 + GradScaler, channels_last, per-sample loader with
    # workers, on-device batches), so a GPU run cannot be the first time these lines execute.
    # torch.compile is left out: it needs a C++ toolchain and ~15 s of compiling here.
    rows = benchmark.CPU_ROWS + [dataclasses.replace(row, device="cpu") for row in benchmark.GPU_ROWS if not row.compile]
    results = benchmark.run_benchmark(lab, rows, images, labels, steps=2, warmup=1, batch_size=16, num_workers=1, width=4, log=None)
    assert len(results) == len(rows)
    for result in results:
        assert result.images_per_s > 0 and math.isfinite(result.final_loss), f"{result.row.name}: {result}"
    assert "vs" in benchmark.format_table(results, 0)


def load_benchmark(lab_path):
    """lab5_gpu_mixed_precision/benchmark.py, imported by its name: spawned DataLoader workers import it again."""
    return importlib.import_module("lab5_gpu_mixed_precision.benchmark")


def test_benchmark_scopes_cudnn_and_tf32_per_row(lab, lab_path):
    """Given code: each row runs with cudnn.benchmark on and TF32 as the row
    says, and the global switches are back to what they were afterwards."""
    benchmark = load_benchmark(lab_path)
    seen = []

    def recording_step(model, batch, loss_fn, optimizer, scaler=None, *, device_type, dtype):
        seen.append((torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32))
        optimizer.zero_grad()
        loss = loss_fn(model(batch[0]), batch[1])
        loss.backward()
        optimizer.step()
        return loss.detach()

    # A stand-in for the lab with none of your code in it: this checks the benchmark alone.
    stand_in = types.SimpleNamespace(
        get_device=torch.device, to_device=lambda batch, device, non_blocking=False: batch,
        SmallCNN=lab.SmallCNN, amp_train_step=recording_step,
    )
    before = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    images, labels = benchmark.generated_images(32)
    for tf32 in (False, True):
        row = dataclasses.replace(benchmark.GPU_BASELINE, device="cpu", tf32=tf32)
        seen.clear()
        benchmark.run_benchmark(stand_in, [row], images, labels, steps=1, warmup=1, batch_size=8, num_workers=0, width=4, log=None)
        assert seen and all(s == (True, tf32, tf32) for s in seen), f"tf32={tf32}: switches during the row {seen}"
    after = (torch.backends.cudnn.benchmark, torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32)
    assert after == before, f"the benchmark changed global switches: {before} -> {after}"
    names = [row.name for row in benchmark.GPU_ROWS]
    assert benchmark.GPU_ROWS[-1].compile and sum(row.compile for row in benchmark.GPU_ROWS) == 1, "compile row last"
    assert all(row.versus in names[:i] for i, row in enumerate(benchmark.GPU_ROWS) if i), "each row compares with an earlier one"


@pytest.mark.task5_8
def test_benchmark_without_cuda_prints_cpu_rows_and_exits_0(child_lab_path, tmp_path):
    """The benchmark script with your file on a machine without CUDA (forced with CUDA_VISIBLE_DEVICES='')."""
    lab_path = child_lab_path
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, str(lab_path.parent / "benchmark.py"), "--impl", lab_path.stem, "--images", "64", "--cpu-steps", "1", "--cpu-batch-size", "8",
         "--threads", "1", "--json", str(tmp_path / "r.json")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    raise_todo_from_output(result.stdout + result.stderr)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"using lab5_gpu_mixed_precision/{lab_path.name}" in result.stdout, "the benchmark says which file it timed"
    assert "| CPU bf16 autocast |" in result.stdout and "CPU rows only" in result.stdout, result.stdout
    assert (tmp_path / "r.json").exists()


@pytest.mark.task5_8
@pytest.mark.gpu
def test_best_gpu_configuration_is_3x_the_naive_baseline(lab, lab_path):
    benchmark = load_benchmark(lab_path)
    images, labels = benchmark.generated_images(8192)
    rows = [row for row in benchmark.GPU_ROWS if not row.compile]  # compile is measured by the script itself
    results = benchmark.run_benchmark(lab, rows, images, labels, steps=200, warmup=20, batch_size=512, num_workers=2)
    table = benchmark.format_table(results, 2)
    print("\n" + table)
    by_name = {r.row.name: r for r in results}
    baseline = by_name[benchmark.GPU_BASELINE.name].images_per_s
    best = max(results, key=lambda r: r.images_per_s)
    assert best.images_per_s >= 3 * baseline, (
        f"the best GPU configuration ({best.row.name}, {best.images_per_s:,.0f} images/s) should be at least 3x "
        f"the naive GPU fp32 baseline ({baseline:,.0f} images/s):\n{table}"
    )
    fp32 = by_name[benchmark.GPU_FP32_ON_GPU.name].images_per_s
    bf16 = by_name[benchmark.GPU_BF16_ON_GPU.name].images_per_s
    assert bf16 > fp32, (
        f"with the data on the GPU, bf16 autocast alone ({bf16:,.0f} images/s) should beat fp32 without TF32 "
        f"({fp32:,.0f} images/s): check amp_train_step's autocast (task 5.2):\n{table}"
    )
