"""Lab 3 — Training loop from scratch. Run: pytest -m lab3 (add --impl solution for the reference)."""

import io
import json
import math
import os
import random
import warnings

import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from tests.helpers import expect_error, full_disk_save, seeded

pytestmark = [pytest.mark.lab3, pytest.mark.usefixtures("one_thread")]  # small tensors: one thread (conftest.py)


def toy_data(n=40, d=4, classes=3, seed=0):
    g = seeded(seed)
    X = torch.randn(n, d, generator=g)
    y = torch.randint(0, classes, (n,), generator=g)
    return TensorDataset(X, y)


def toy_model(seed=0, d=4, classes=3, dropout=0.0, batch_norm=False):
    torch.manual_seed(seed)
    layers = [nn.Linear(d, 16)]
    if batch_norm:
        layers.append(nn.BatchNorm1d(16))
    layers += [nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, classes)]
    return nn.Sequential(*layers)


def params_of(model):
    return [p.detach().clone() for p in model.parameters()]


def states_equal(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def unsupported(error: BaseException) -> str:
    """The line of a weights_only load error that names the refused object (else its first line)."""
    lines = str(error).splitlines() or [""]
    return next((line.strip() for line in lines if "Unsupported global" in line), lines[0])[:200]


class ModeSpy:
    """Forward hook that records (module.training, torch.is_grad_enabled()) at each call."""

    def __init__(self, module):
        self.calls = []
        self.handle = module.register_forward_hook(lambda m, i, o: self.calls.append((m.training, torch.is_grad_enabled())))


# --------------------------------------------------------------------------- task3_1


@pytest.mark.task3_1
def test_train_one_epoch_returns_metrics(lab):
    data = toy_data(n=30)
    model = toy_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)  # lr 0: the model stays as it was
    metrics = lab.train_one_epoch(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss(), optimizer)
    assert set(metrics) >= {"loss", "accuracy", "steps", "grad_norm"}, f"missing keys in {sorted(metrics)}"
    X, y = data.tensors
    with torch.no_grad():
        logits = model(X)
    expected_loss = nn.functional.cross_entropy(logits, y).item()
    expected_accuracy = (logits.argmax(1) == y).float().mean().item()
    assert math.isclose(metrics["loss"], expected_loss, rel_tol=1e-5), (
        f"loss should be the mean over all 30 samples ({expected_loss:.6f}), got {metrics['loss']:.6f}: "
        "weight each batch's mean loss by its size (the last batch has 6 samples, not 8)"
    )
    assert math.isclose(metrics["accuracy"], expected_accuracy, rel_tol=1e-6), f"accuracy {metrics['accuracy']} vs {expected_accuracy}"
    assert metrics["steps"] == 4, f"4 batches, no accumulation -> 4 optimizer steps, got {metrics['steps']}"
    assert isinstance(metrics["grad_norm"], float) and metrics["grad_norm"] > 0, "grad_norm: the last step's total norm, a float"


@pytest.mark.task3_1
def test_train_one_epoch_puts_the_model_in_train_mode(lab):
    model = toy_model(dropout=0.5)
    model.eval()
    spy = ModeSpy(model[2])
    lab.train_one_epoch(model, DataLoader(toy_data(), batch_size=20), nn.CrossEntropyLoss(),
                        torch.optim.SGD(model.parameters(), lr=0.1))
    assert spy.calls and all(training and grad for training, grad in spy.calls), (
        "train_one_epoch must call model.train() first (dropout on) and keep autograd on"
    )


@pytest.mark.task3_1
@pytest.mark.parametrize(
    "n, micro_batch, accum",
    [(10, 2, 3), (11, 2, 3), (24, 4, 2), (7, 3, 4)],
    ids=["last-group-incomplete", "last-batch-smaller-too", "even", "one-incomplete-group"],
)
def test_gradient_accumulation_equals_one_big_batch(lab, n, micro_batch, accum):
    data = toy_data(n=n, seed=1)
    loss_fn = nn.CrossEntropyLoss()  # mean-reduced
    accumulated, big = toy_model(seed=2), toy_model(seed=2)
    metrics_a = lab.train_one_epoch(accumulated, DataLoader(data, batch_size=micro_batch), loss_fn,
                                    torch.optim.SGD(accumulated.parameters(), lr=0.5), grad_accum_steps=accum)
    metrics_b = lab.train_one_epoch(big, DataLoader(data, batch_size=micro_batch * accum), loss_fn,
                                    torch.optim.SGD(big.parameters(), lr=0.5))
    expected_steps = math.ceil(math.ceil(n / micro_batch) / accum)
    assert metrics_a["steps"] == metrics_b["steps"] == expected_steps, (
        f"{math.ceil(n / micro_batch)} micro-batches in groups of {accum} -> {expected_steps} optimizer steps; "
        f"got {metrics_a['steps']} (accumulated) and {metrics_b['steps']} (big batches)"
    )
    for (name, p), q in zip(accumulated.named_parameters(), big.parameters()):
        difference = (p - q).abs().max().item()
        assert difference < 1e-6, (
            f"{name}: accumulating {accum} micro-batches of {micro_batch} should give the same update as one batch "
            f"of {micro_batch * accum} (max difference {difference:.2e}). Scale each micro-batch's mean loss by "
            "(its size / the group's total size) — the last group can be smaller — and zero_grad once per step"
        )
    assert math.isclose(metrics_a["loss"], metrics_b["loss"], rel_tol=1e-6), "the reported loss is the same mean over all samples"


@pytest.mark.task3_1
def test_clipping_caps_the_update_and_reports_the_norm_before_clipping(lab):
    data = toy_data(n=16, seed=3)
    X, y = data.tensors
    reference = toy_model(seed=4)
    nn.functional.cross_entropy(reference(X), y).backward()
    true_norm = torch.cat([p.grad.flatten() for p in reference.parameters()]).norm().item()

    model = toy_model(seed=4)
    before = params_of(model)
    metrics = lab.train_one_epoch(model, DataLoader(data, batch_size=16), nn.CrossEntropyLoss(),
                                  torch.optim.SGD(model.parameters(), lr=1.0), max_grad_norm=0.01)
    update = torch.cat([(b - p.detach()).flatten() for b, p in zip(before, model.parameters())]).norm().item()
    assert math.isclose(update, 0.01, rel_tol=1e-3), (
        f"with SGD(lr=1) the update is the clipped gradient: its norm should be max_grad_norm=0.01, got {update:.5f}"
    )
    assert math.isclose(metrics["grad_norm"], true_norm, rel_tol=1e-4), (
        f"grad_norm should be the total norm before clipping ({true_norm:.5f}), got {metrics['grad_norm']:.5f}"
    )
    unclipped = toy_model(seed=4)
    lab.train_one_epoch(unclipped, DataLoader(data, batch_size=16), nn.CrossEntropyLoss(),
                        torch.optim.SGD(unclipped.parameters(), lr=1.0), max_grad_norm=1e6)
    update = torch.cat([(b - p.detach()).flatten() for b, p in zip(before, unclipped.parameters())]).norm().item()
    assert math.isclose(update, true_norm, rel_tol=1e-4), "a norm below max_grad_norm must not be changed"


@pytest.mark.task3_1
def test_scheduler_steps_once_per_optimizer_step(lab):
    model = toy_model()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        metrics = lab.train_one_epoch(model, DataLoader(toy_data(n=40), batch_size=4), nn.CrossEntropyLoss(), optimizer,
                                      grad_accum_steps=3, scheduler=scheduler)
    assert metrics["steps"] == 4, f"10 micro-batches in groups of 3 -> 4 optimizer steps, got {metrics['steps']}"
    assert scheduler.last_epoch == 4, (
        f"the scheduler should step once per optimizer step (4 times), it stepped {scheduler.last_epoch} times"
    )
    order = [str(w.message) for w in caught if "lr_scheduler.step()" in str(w.message)]
    assert not order, "call optimizer.step() before scheduler.step()"
    assert math.isclose(optimizer.param_groups[0]["lr"], 0.1 * 0.5**4)


@pytest.mark.task3_1
def test_train_one_epoch_stops_on_nan_loss(lab):
    model = toy_model()
    with torch.no_grad():
        model[0].weight[0, 0] = float("nan")
    expect_error(FloatingPointError, lambda: lab.train_one_epoch(
        model, DataLoader(toy_data(), batch_size=8), nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.1)),
        [], "a non-finite loss must stop training at once with FloatingPointError (check each batch's loss)")


@pytest.mark.task3_1
@pytest.mark.gpu
def test_train_one_epoch_and_evaluate_on_cuda(lab):
    model = toy_model(batch_norm=True).to("cuda")
    loader = DataLoader(toy_data(n=64), batch_size=16)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    metrics = lab.train_one_epoch(model, loader, nn.CrossEntropyLoss(), optimizer, device="cuda",
                                  grad_accum_steps=2, max_grad_norm=1.0)
    assert metrics["steps"] == 2 and math.isfinite(metrics["loss"])
    assert set(lab.evaluate(model, loader, nn.CrossEntropyLoss(), device="cuda")) >= {"loss", "accuracy"}


# --------------------------------------------------------------------------- task3_2


@pytest.mark.task3_2
def test_evaluate_matches_a_manual_eval_pass(lab):
    data = toy_data(n=35, seed=5)
    model = toy_model(dropout=0.5, batch_norm=True)
    model.train()
    model(data.tensors[0])  # give BatchNorm some running statistics
    metrics = lab.evaluate(model, DataLoader(data, batch_size=8), nn.CrossEntropyLoss())
    model.eval()
    with torch.no_grad():
        logits = model(data.tensors[0])
    expected = nn.functional.cross_entropy(logits, data.tensors[1]).item()
    assert math.isclose(metrics["loss"], expected, rel_tol=1e-5), (
        f"expected the eval-mode mean loss over all 35 samples, {expected:.6f}, got {metrics['loss']:.6f}"
    )
    assert math.isclose(metrics["accuracy"], (logits.argmax(1) == data.tensors[1]).float().mean().item(), rel_tol=1e-6)


@pytest.mark.task3_2
def test_evaluate_changes_no_parameter_or_buffer_and_restores_train_mode(lab):
    model = toy_model(dropout=0.5, batch_norm=True)
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    spy = ModeSpy(model[3])
    first = lab.evaluate(model, DataLoader(toy_data(), batch_size=8), nn.CrossEntropyLoss())
    second = lab.evaluate(model, DataLoader(toy_data(), batch_size=8), nn.CrossEntropyLoss())
    changed = [k for k, v in model.state_dict().items() if not torch.equal(v, before[k])]
    assert not changed, f"evaluate changed {changed}: in eval mode BatchNorm must not update its running statistics"
    assert spy.calls and all(not training for training, _ in spy.calls), "inside evaluate the model must be in eval mode"
    assert not any(grad for _, grad in spy.calls), "run the forward passes under torch.no_grad()"
    assert first == second, "with dropout off, two evaluations give the same numbers"
    assert all(m.training for m in model.modules()), "evaluate must put a model that was training back in train mode"
    assert all(p.grad is None for p in model.parameters()), "evaluate must not compute gradients"


@pytest.mark.task3_2
def test_evaluate_restores_eval_mode_and_mixed_modes(lab):
    model = toy_model(batch_norm=True)
    model.eval()
    lab.evaluate(model, DataLoader(toy_data(), batch_size=8), nn.CrossEntropyLoss())
    assert not model.training, ("a model that was in eval mode stays in eval mode: record each module's mode before "
                                "evaluating and put each one back (not model.train())")
    model.train()
    model[1].eval()  # a frozen BatchNorm inside a training model (common when fine-tuning)
    lab.evaluate(model, DataLoader(toy_data(), batch_size=8), nn.CrossEntropyLoss())
    assert model.training and model[0].training, "the model was training: restore it"
    assert not model[1].training, "this BatchNorm was deliberately in eval mode: restore each module's own mode"


@pytest.mark.task3_2
def test_evaluate_restores_the_modes_when_an_error_interrupts_it(lab):
    model = toy_model(dropout=0.5, batch_norm=True)
    model.train()
    model[1].eval()
    modes = [module.training for module in model.modules()]

    class LoaderFailed(Exception):
        pass

    class FailingLoader:  # one good batch, then the loader breaks (a bad file, a worker that died)
        def __iter__(self):
            yield next(iter(DataLoader(toy_data(), batch_size=8)))
            raise LoaderFailed("the loader failed part-way")

    with pytest.raises(LoaderFailed):
        lab.evaluate(model, FailingLoader(), nn.CrossEntropyLoss())
    assert [module.training for module in model.modules()] == modes, (
        "an error inside evaluate left the modes changed: restore each module's mode in a finally: block"
    )


# --------------------------------------------------------------------------- task3_3


def lrs_over(scheduler, optimizer, steps):
    values = []
    for _ in range(steps):
        values.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return values


@pytest.mark.task3_3
def test_warmup_cosine_values_at_known_steps(lab):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = lab.warmup_cosine(optimizer, warmup_steps=4, total_steps=12, min_lr_ratio=0.1)
    lrs = lrs_over(scheduler, optimizer, 16)
    expected = {0: 0.2, 1: 0.4, 3: 0.8, 4: 1.0, 8: 0.1 + 0.9 * 0.5, 12: 0.1, 15: 0.1}
    for step, value in expected.items():
        assert math.isclose(lrs[step], value, abs_tol=1e-9), (
            f"lr at step {step} should be {value:.4f} (warmup (s+1)/(w+1), then cosine to min_lr_ratio), got {lrs[step]:.4f}"
        )
    assert all(a >= b for a, b in zip(lrs[4:], lrs[5:])), "after warmup the lr only decreases"
    assert isinstance(scheduler, torch.optim.lr_scheduler.LRScheduler), "return a torch LR scheduler (LambdaLR)"


@pytest.mark.task3_3
def test_warmup_cosine_without_warmup_and_per_group(lab):
    a, b = nn.Parameter(torch.zeros(1)), nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b], "lr": 0.1}])
    scheduler = lab.warmup_cosine(optimizer, warmup_steps=0, total_steps=10)
    assert math.isclose(optimizer.param_groups[0]["lr"], 1.0), "no warmup: start at the full lr"
    lrs_over(scheduler, optimizer, 5)
    assert math.isclose(optimizer.param_groups[0]["lr"], 0.5, abs_tol=1e-9), "half way through the cosine: 0.5 x lr"
    assert math.isclose(optimizer.param_groups[1]["lr"], 0.05, abs_tol=1e-9), "each param group scales its own lr"


# Given code (argument checks written for you): no task marker, not counted as a task.
def test_warmup_cosine_bad_arguments(lab):
    optimizer = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    for kwargs in (dict(warmup_steps=10, total_steps=10), dict(warmup_steps=-1, total_steps=10),
                   dict(warmup_steps=1, total_steps=10, min_lr_ratio=1.5)):
        with pytest.raises(ValueError):
            lab.warmup_cosine(optimizer, **kwargs)


# --------------------------------------------------------------------------- task3_4


@pytest.mark.task3_4
def test_early_stopping_min_mode(lab):
    stopper = lab.EarlyStopping(patience=3)
    decisions = [stopper.step(v) for v in [1.0, 0.9, 0.9, 0.95, 0.91]]
    assert decisions == [False, False, False, False, True], (
        f"losses 1.0, 0.9, then three without improvement (an equal value is no improvement), patience 3 "
        f"-> stop at the 5th value; got {decisions}"
    )
    assert stopper.best == 0.9, f"best should be 0.9, got {stopper.best}"


@pytest.mark.task3_4
def test_early_stopping_max_mode_and_min_delta(lab):
    stopper = lab.EarlyStopping(patience=2, min_delta=0.01, mode="max")
    decisions = [stopper.step(v) for v in [0.50, 0.60, 0.605, 0.62, 0.625, 0.629]]
    assert decisions == [False, False, False, False, False, True], (
        f"accuracies with min_delta 0.01: 0.605 and 0.625/0.629 are not improvements; got {decisions}"
    )
    assert stopper.best == 0.62 and stopper.num_bad_epochs == 2


@pytest.mark.task3_4
@pytest.mark.parametrize("mode, values, min_delta", [("max", [0.5, 0.5], 0.0), ("min", [0.5, 0.5], 0.0),
                                                      ("max", [0.5, 0.75], 0.25), ("min", [1.0, 0.75], 0.25)])
def test_a_value_exactly_at_the_boundary_is_no_improvement(lab, mode, values, min_delta):
    """README: improving means value > best + min_delta (max) or value < best - min_delta (min), strictly."""
    stopper = lab.EarlyStopping(patience=5, min_delta=min_delta, mode=mode)
    for value in values:
        stopper.step(value)
    assert stopper.improved is False and stopper.num_bad_epochs == 1 and stopper.best == values[0], (
        f"mode {mode!r}, min_delta {min_delta}: {values[1]} after {values[0]} is no improvement (the comparison is "
        f"strict); got improved={stopper.improved}, num_bad_epochs={stopper.num_bad_epochs}, best={stopper.best}")


@pytest.mark.task3_4
def test_early_stopping_resets_on_improvement_and_ignores_nan(lab):
    stopper = lab.EarlyStopping(patience=2)
    decisions = [stopper.step(v) for v in [1.0, 1.1, 0.8, 0.9, float("nan")]]
    assert decisions == [False, False, False, False, True], f"an improvement resets the count; NaN is no improvement: {decisions}"
    assert stopper.best == 0.8 and stopper.improved is False
    first_nan = lab.EarlyStopping(patience=1)
    first_nan.step(float("nan"))
    assert first_nan.best is None or not math.isnan(first_nan.best), "NaN must never become the best value"


# Given code (argument checks written for you): no task marker, not counted as a task.
def test_early_stopping_bad_arguments(lab):
    for kwargs in (dict(patience=0), dict(patience=2, mode="lowest"), dict(patience=2, min_delta=-1)):
        with pytest.raises(ValueError):
            lab.EarlyStopping(**kwargs)


# --------------------------------------------------------------------------- task3_5


def draw_everything(generator):
    return (torch.rand(3).tolist(), random.random(), float(np.random.rand()), torch.rand(2, generator=generator).tolist())


@pytest.mark.task3_5
def test_rng_state_round_trip(lab, tmp_path):
    generator = torch.Generator().manual_seed(7)
    state = lab.capture_rng_state({"train.generator": generator})
    for key in ("torch", "python", "numpy", "generators"):
        assert key in state, f"the state should have a {key!r} entry, got {sorted(state)}"
    assert set(state["generators"]) == {"train.generator"}, (
        f"state['generators'] holds the state of each generator you were given, by name ('train.generator'); "
        f"got {sorted(state['generators'])}"
    )
    first = draw_everything(generator)
    # Through a file, loaded the safe way: the state must be tensors and plain values.
    torch.save(state, tmp_path / "rng.pt")
    try:
        loaded = torch.load(tmp_path / "rng.pt", weights_only=True)
    except Exception as error:  # noqa: BLE001
        raise pytest.fail.Exception(f"the RNG state must hold tensors and plain values only, so that a weights_only=True load accepts "
                    f"it; loading failed: {unsupported(error)} (NumPy's state: use _numpy_state())",
                    pytrace=False) from None
    lab.restore_rng_state(loaded, {"train.generator": generator})
    again = draw_everything(generator)
    labels = ["torch global", "python random", "numpy", "the DataLoader generator"]
    for label, a, b in zip(labels, first, again):
        assert a == b, f"after restore_rng_state, {label} should repeat the same numbers: {a} vs {b}"


@pytest.mark.task3_5
def test_restore_rng_state_with_unknown_generator_name(lab):
    state = lab.capture_rng_state({"a": torch.Generator()})
    expect_error(ValueError, lambda: lab.restore_rng_state(state, {"b": torch.Generator()}), ["'b'"],
                 "a generator name the state does not hold is a ValueError naming it: the loaders were built differently")


@pytest.mark.task3_5
def test_shuffling_order_follows_the_loader_generator(lab):
    generator = torch.Generator().manual_seed(3)
    loader = DataLoader(toy_data(n=20), batch_size=5, shuffle=True, generator=generator)
    found = lab.loader_generators(train=loader)
    state = lab.capture_rng_state(found)
    order = [y.tolist() for _, y in loader]
    torch.manual_seed(12345)  # disturb the global RNG too
    lab.restore_rng_state(state, found)
    assert [y.tolist() for _, y in loader] == order, "restoring the loader's generator should replay the same shuffle"


# --------------------------------------------------------------------------- task3_6


def trained_setup(seed=0, hidden_seed=0):
    model = toy_model(seed=seed, dropout=0.2, batch_norm=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    X, y = toy_data(n=16).tensors
    for _ in range(3):
        nn.functional.cross_entropy(model(X), y).backward()
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad()
    return model, optimizer, scheduler


@pytest.mark.task3_7
def test_checkpoint_round_trip(lab, tmp_path):
    model, optimizer, scheduler = trained_setup()
    generator = torch.Generator().manual_seed(5)
    path = lab.save_checkpoint(tmp_path / "ckpt" / "last.pt", model=model, optimizer=optimizer, scheduler=scheduler,
                               epoch=3, best=0.25, generators={"g": generator}, note="hello", history=[{"epoch": 1}])
    assert (tmp_path / "ckpt" / "last.pt").is_file(), "save_checkpoint should create the folder and the file"
    expected_next = (torch.rand(4), torch.rand(2, generator=generator))

    fresh_model = toy_model(seed=99, dropout=0.2, batch_norm=True)
    fresh_optimizer = torch.optim.AdamW(fresh_model.parameters(), lr=1e-2)
    fresh_scheduler = torch.optim.lr_scheduler.StepLR(fresh_optimizer, step_size=2, gamma=0.5)
    checkpoint = lab.load_checkpoint(path, fresh_model, fresh_optimizer, fresh_scheduler, generators={"g": generator})
    assert checkpoint["epoch"] == 3 and checkpoint["best"] == 0.25, "epoch and best come back"
    assert checkpoint["extra"]["note"] == "hello" and checkpoint["extra"]["history"] == [{"epoch": 1}], "extras come back"
    assert states_equal(fresh_model.state_dict(), model.state_dict()), "weights and buffers (BatchNorm) must be restored"
    assert fresh_scheduler.state_dict() == scheduler.state_dict(), "the scheduler state must be restored"
    assert fresh_optimizer.param_groups[0]["lr"] == optimizer.param_groups[0]["lr"]
    for p, q in zip(model.parameters(), fresh_model.parameters()):
        mine, theirs = optimizer.state[p], fresh_optimizer.state[q]
        assert torch.equal(mine["exp_avg"], theirs["exp_avg"]), "the optimizer's moments must be restored"
    assert torch.equal(torch.rand(4), expected_next[0]), "load_checkpoint should restore the global torch RNG"
    assert torch.equal(torch.rand(2, generator=generator), expected_next[1]), "and the named generators"
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["last.pt"], "no temporary files may be left behind"


@pytest.mark.task3_6
def test_save_checkpoint_contents(lab, tmp_path):
    model, optimizer, scheduler = trained_setup()
    generator = torch.Generator().manual_seed(5)
    path = lab.save_checkpoint(tmp_path / "ckpt" / "last.pt", model=model, optimizer=optimizer, scheduler=scheduler,
                               epoch=3, best=0.25, generators={"g": generator}, note="hello")
    assert path == tmp_path / "ckpt" / "last.pt", f"return the path written, got {path!r}"
    assert path.is_file(), "save_checkpoint should create the folder and the file"
    checkpoint = torch.load(path, weights_only=True)  # only tensors and plain values, or this raises
    expected = {"format", "epoch", "best", "model", "optimizer", "scheduler", "scheduler_type", "rng", "extra"}
    assert expected <= set(checkpoint), f"missing keys in the checkpoint: {sorted(expected - set(checkpoint))}"
    assert checkpoint["format"] == lab.CHECKPOINT_FORMAT and checkpoint["epoch"] == 3 and checkpoint["best"] == 0.25
    assert states_equal(checkpoint["model"], model.state_dict()), "'model' is the model's state_dict()"
    assert checkpoint["scheduler"] == scheduler.state_dict(), "'scheduler' is the scheduler's state_dict()"
    assert checkpoint["scheduler_type"] == "StepLR", (
        f"'scheduler_type' is the scheduler's class name (StepLR), got {checkpoint['scheduler_type']!r}"
    )
    assert "g" in checkpoint["rng"]["generators"], "'rng' is capture_rng_state(generators), named generators included"
    assert checkpoint["extra"] == {"note": "hello"}, f"extra keyword values go under 'extra', got {checkpoint['extra']}"


@pytest.mark.task3_6
def test_save_checkpoint_writes_a_temporary_file_then_os_replace(lab, tmp_path, monkeypatch):
    model, optimizer, _ = trained_setup()
    calls = []
    real_replace = os.replace

    def spy(src, dst, *args, **kwargs):
        calls.append((os.fspath(src), os.fspath(dst)))
        return real_replace(src, dst, *args, **kwargs)

    real_fsync = os.fsync

    def fsync_spy(fd):
        calls.append(("fsync", fd))
        return real_fsync(fd)

    monkeypatch.setattr(os, "replace", spy)
    monkeypatch.setattr(os, "fsync", fsync_spy)
    target = tmp_path / "last.pt"
    lab.save_checkpoint(target, model=model, optimizer=optimizer, epoch=1)
    assert calls and calls[0][0] == "fsync", (
        "flush the file and os.fsync(file.fileno()) before the rename: otherwise a power cut can leave the renamed "
        f"checkpoint empty (calls in order: {[c[0] if c[0] == 'fsync' else 'os.replace' for c in calls]})")
    calls = [c for c in calls if c[0] != "fsync"]
    assert len(calls) == 1, f"write to a temporary file, then os.replace(tmp, path) once; os.replace was called {len(calls)} times"
    src, dst = calls[0]
    assert dst == str(target), f"os.replace should rename onto {target}, got {dst}"
    assert os.path.dirname(src) == str(tmp_path) and src != dst, (
        "the temporary file must sit in the same folder as the checkpoint (os.replace is atomic only there)"
    )


@pytest.mark.task3_6
def test_a_failed_save_names_the_checkpoint_and_the_reason(lab, tmp_path, monkeypatch):
    """A full disk makes torch.save raise "[enforce fail at inline_container.cc:...]", which names
    no file: the error a user sees must say which checkpoint failed, and why."""
    model, optimizer, _ = trained_setup()
    path = tmp_path / "run" / "last.pt"
    lab.save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)

    monkeypatch.setattr(torch, "save", full_disk_save)
    try:
        lab.save_checkpoint(path, model=model, optimizer=optimizer, epoch=2)
    except OSError as error:
        message = str(error)
    except NotImplementedError:
        raise
    except RuntimeError as error:
        pytest.fail(f"raise an OSError that names the checkpoint file and the reason; torch.save's error came "
                    f"through as it is: {error}")
    else:
        pytest.fail("torch.save failed, so save_checkpoint must raise")
    assert str(path) in message and "unexpected pos" in message, (
        f"the OSError's message should name the checkpoint file and hold the original error; got: {message!r}")
    assert sorted(os.listdir(path.parent)) == ["last.pt"], f"the temporary file must be removed: {os.listdir(path.parent)}"


@pytest.mark.task3_6
def test_interrupted_save_leaves_the_previous_checkpoint_loadable(lab, tmp_path, monkeypatch):
    model, optimizer, _ = trained_setup()
    path = tmp_path / "last.pt"
    lab.save_checkpoint(path, model=model, optimizer=optimizer, epoch=1)
    saved_weights = {k: v.clone() for k, v in model.state_dict().items()}
    real_save = torch.save

    def crash_halfway(obj, f, *args, **kwargs):
        buffer = io.BytesIO()
        real_save(obj, buffer, *args, **kwargs)
        half = buffer.getvalue()[: len(buffer.getvalue()) // 2]
        if isinstance(f, (str, os.PathLike)):
            with open(f, "wb") as file:
                file.write(half)
        else:
            f.write(half)
        raise OSError("simulated crash: the disk filled up halfway through the write")

    with torch.no_grad():
        for p in model.parameters():
            p.add_(1.0)
    monkeypatch.setattr(torch, "save", crash_halfway)
    with pytest.raises(OSError, match="simulated crash"):
        lab.save_checkpoint(path, model=model, optimizer=optimizer, epoch=2)
    monkeypatch.undo()

    try:
        checkpoint = torch.load(path, weights_only=True)
    except Exception as error:  # noqa: BLE001 - whatever a half-written file makes torch.load raise
        pytest.fail(f"after a crash halfway through writing epoch 2, {path.name} no longer loads ({type(error).__name__}: "
                    f"{error}): the previous checkpoint (epoch 1) must survive. Write to a temporary file in the same "
                    "folder and rename it over the old one only once it is complete", pytrace=False)
    assert checkpoint["epoch"] == 1, "the previous checkpoint (epoch 1) must survive a crash while writing epoch 2"
    assert states_equal(checkpoint["model"], saved_weights), "and still hold epoch 1's weights"
    assert sorted(os.listdir(tmp_path)) == ["last.pt"], (
        f"the half-written temporary file must be removed, found {sorted(os.listdir(tmp_path))}"
    )


# Given code (the check above the TODO): no task marker.
def test_load_checkpoint_missing_file(lab, tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.pt"):
        lab.load_checkpoint(tmp_path / "nope.pt", toy_model())


@pytest.mark.task3_7
@pytest.mark.parametrize("damage", ["truncated", "empty", "garbage"])
def test_load_checkpoint_damaged_file(lab, tmp_path, damage):
    model, optimizer, _ = trained_setup()
    path = lab.save_checkpoint(tmp_path / "last.pt", model=model, optimizer=optimizer, epoch=1)
    data = path.read_bytes()
    path.write_bytes({"truncated": data[: len(data) // 2], "empty": b"", "garbage": b"not a checkpoint " * 50}[damage])
    expect_error(lab.CheckpointError, lambda: lab.load_checkpoint(path, toy_model()), [str(path)],
                 f"a {damage} file must become a CheckpointError that names the file")


@pytest.mark.task3_7
def test_load_checkpoint_for_a_different_model(lab, tmp_path):
    model, optimizer, _ = trained_setup()
    path = lab.save_checkpoint(tmp_path / "last.pt", model=model, optimizer=optimizer, epoch=1)
    expect_error(lab.CheckpointError, lambda: lab.load_checkpoint(path, nn.Sequential(nn.Linear(4, 32), nn.ReLU(), nn.Linear(32, 3))),
                 [str(path)], "weights of another architecture must become a CheckpointError that names the file "
                 "(the model does not match it)")


@pytest.mark.task3_7
def test_load_checkpoint_refuses_a_scheduler_of_another_kind(lab, tmp_path):
    model, optimizer, _ = trained_setup()
    lambda_lr = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 0.5**step)
    path = lab.save_checkpoint(tmp_path / "last.pt", model=model, optimizer=optimizer, scheduler=lambda_lr, epoch=1)
    fresh = toy_model(dropout=0.2, batch_norm=True)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    step_lr = torch.optim.lr_scheduler.StepLR(fresh_optimizer, step_size=2, gamma=0.5)
    try:
        lab.load_checkpoint(path, fresh, fresh_optimizer, step_lr)
    except lab.CheckpointError as error:
        assert "LambdaLR" in str(error) and "StepLR" in str(error), (
            f"name both scheduler kinds (LambdaLR saved, StepLR given) in the message, got {str(error)!r}"
        )
    else:
        pytest.fail("a LambdaLR state loaded silently into a StepLR: compare the saved scheduler_type with the "
                    "scheduler you were given and raise CheckpointError naming both", pytrace=False)


@pytest.mark.task3_7
def test_load_checkpoint_uses_weights_only(lab, tmp_path):
    import argparse

    model, optimizer, _ = trained_setup()
    path = lab.save_checkpoint(tmp_path / "last.pt", model=model, optimizer=optimizer, epoch=1,
                               args=argparse.Namespace(lr=0.1))  # an arbitrary Python object
    expect_error(lab.CheckpointError, lambda: lab.load_checkpoint(path, toy_model(dropout=0.2, batch_norm=True)),
                 ["weights_only"], "load with torch.load(..., weights_only=True): a file holding arbitrary Python objects "
                 "must be refused with a CheckpointError that mentions weights_only")


# --------------------------------------------------------------------------- task3_8 and task3_9


def make_run(seed=0, loader_seed=0, epochs_planned=5):
    """Everything a training run needs; shuffling and dropout on, BatchNorm buffers too."""
    torch.manual_seed(seed)
    train = toy_data(n=48, seed=10)
    val = toy_data(n=24, seed=11)
    train_loader = DataLoader(train, batch_size=8, shuffle=True, generator=torch.Generator().manual_seed(loader_seed))
    val_loader = DataLoader(val, batch_size=12)
    model = toy_model(seed=seed, dropout=0.3, batch_norm=True)
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    steps_per_epoch = math.ceil(len(train_loader) / 2)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min(1.0, (s + 1) / 4) * 0.5 ** (s / (steps_per_epoch * epochs_planned))
    )
    return model, train_loader, val_loader, optimizer, scheduler


FIT = dict(loss_fn=nn.CrossEntropyLoss(), grad_accum_steps=2, max_grad_norm=1.0, progress=False)


def without_time(history):
    return [{k: v for k, v in row.items() if k != "seconds"} for row in history]


@pytest.mark.task3_8
def test_fit_history_metrics_file_and_checkpoints(lab, tmp_path):
    model, train_loader, val_loader, optimizer, scheduler = make_run()
    history = lab.fit(model, train_loader, val_loader, epochs=3, optimizer=optimizer, scheduler=scheduler,
                      checkpoint_dir=tmp_path, **FIT)
    assert [row["epoch"] for row in history] == [1, 2, 3], f"one history row per epoch, got {history}"
    keys = {"epoch", "lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "grad_norm", "steps"}
    assert keys <= set(history[0]), f"missing keys in a history row: {keys - set(history[0])}"
    lines = (tmp_path / "metrics.jsonl").read_text().splitlines()
    assert [json.loads(line) for line in lines] == history, "metrics.jsonl: one JSON object per epoch, equal to the history"
    assert (tmp_path / "last.pt").is_file() and (tmp_path / "best.pt").is_file(), "keep best.pt and last.pt in checkpoint_dir"
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    best_epoch = min(history, key=lambda row: row["val_loss"])["epoch"]
    assert last["epoch"] == 3, f"last.pt is the last epoch (3), got {last['epoch']}"
    assert best["epoch"] == best_epoch, f"best.pt should be from epoch {best_epoch} (lowest val_loss), got {best['epoch']}"


def frozen_run():
    """A run whose val_loss never improves after epoch 1 (lr 0; no BatchNorm, whose statistics move even then)."""
    _, train_loader, val_loader, _, _ = make_run()
    model = toy_model(dropout=0.3)
    return model, train_loader, val_loader, torch.optim.SGD(model.parameters(), lr=0.0)


@pytest.mark.task3_8
def test_fit_saves_last_pt_after_evaluate(lab, tmp_path):
    model, train_loader, val_loader, optimizer, scheduler = make_run()
    lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer, scheduler=scheduler,
            checkpoint_dir=tmp_path, **FIT)
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert torch.equal(last["rng"]["torch"], torch.get_rng_state()), (
        "last.pt must hold the random state at the very end of the epoch (iterating the validation loader moves it): "
        "save the checkpoints after evaluate"
    )
    assert "train.generator" in last["rng"]["generators"], (
        "pass generators=loader_generators(...) (fit's `generators`) to save_checkpoint: the shuffling order lives there"
    )
    for key in ("history", "early_stopping", "stopped"):
        assert key in last["extra"], f"last.pt's extras must hold {key!r} (resume_run needs it); got {sorted(last['extra'])}"


@pytest.mark.task3_8
def test_fit_early_stopping(lab, tmp_path):
    model, train_loader, val_loader, frozen = frozen_run()
    history = lab.fit(model, train_loader, val_loader, epochs=10, optimizer=frozen, patience=2,
                      checkpoint_dir=tmp_path, **FIT)
    assert len(history) == 3, f"patience 2: epoch 1 sets the best, epochs 2 and 3 don't improve -> stop after 3, ran {len(history)}"
    last = torch.load(tmp_path / "last.pt", weights_only=True)
    assert last["extra"].get("stopped") is True, "last.pt of a run that stopped early must say so (stopped=True)"
    assert torch.load(tmp_path / "best.pt", weights_only=True)["epoch"] == 1, "best.pt stays at epoch 1 (no improvement since)"


@pytest.mark.task3_9
def test_resuming_an_early_stopped_run_reports_it_and_trains_no_more(lab, tmp_path, capsys):
    model, train_loader, val_loader, frozen = frozen_run()
    history = lab.fit(model, train_loader, val_loader, epochs=10, optimizer=frozen, patience=2,
                      checkpoint_dir=tmp_path, **FIT)
    capsys.readouterr()
    again = lab.fit(model, train_loader, val_loader, epochs=10, optimizer=frozen, patience=2,
                    checkpoint_dir=tmp_path, resume=True, **FIT)
    assert len(again) == len(history), (
        f"the run had stopped early after epoch {len(history)}; resuming it trained {len(again) - len(history)} more "
        "epoch(s). resume_run must return the 'stopped' flag saved in last.pt"
    )
    assert without_time(again) == without_time(history), "resuming a run that stopped early returns its history unchanged"
    assert "stopped early" in capsys.readouterr().out, "resuming a run that had stopped early should say so"


@pytest.mark.task3_9
def test_resume_run_restores_the_loop_state(lab, tmp_path):
    model, optimizer, scheduler = trained_setup()
    history = [{"epoch": 1, "val_loss": 0.9}, {"epoch": 2, "val_loss": 0.8}]
    stopper = lab.EarlyStopping(patience=3)
    for value in (0.9, 0.8):
        stopper.step(value)
    lab.save_checkpoint(tmp_path / "last.pt", model=model, optimizer=optimizer, scheduler=scheduler, epoch=2,
                        best=0.8, generators={}, history=history, early_stopping=stopper.state_dict(), stopped=False)
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("".join(json.dumps(row) + "\n" for row in [*history, {"epoch": 3, "val_loss": -1.0}]))

    fresh = toy_model(seed=7, dropout=0.2, batch_norm=True)
    fresh_optimizer = torch.optim.AdamW(fresh.parameters(), lr=1e-2)
    fresh_scheduler = torch.optim.lr_scheduler.StepLR(fresh_optimizer, step_size=2, gamma=0.5)
    fresh_stopper = lab.EarlyStopping(patience=3)
    result = lab.resume_run(tmp_path / "last.pt", fresh, fresh_optimizer, fresh_scheduler, fresh_stopper,
                            generators={}, metrics_path=metrics)
    assert isinstance(result, tuple) and len(result) == 3, f"return (next epoch, history, stopped), got {result!r}"
    start, restored, stopped = result
    assert start == 3, f"last.pt holds epoch 2, so training continues at epoch 3; got {start}"
    assert restored == history and stopped is False, f"history and stopped come from last.pt's extras, got {restored}, {stopped}"
    assert fresh_stopper.state_dict() == stopper.state_dict(), "the early-stopping state (best, bad epochs) must be restored"
    assert states_equal(fresh.state_dict(), model.state_dict()), "the weights come from last.pt"
    assert fresh_scheduler.state_dict() == scheduler.state_dict(), "the scheduler state comes from last.pt"
    logged = [json.loads(line) for line in metrics.read_text().splitlines()]
    assert logged == history, (
        f"rewrite the metrics file from the saved history (epoch 3 was logged after last.pt and must go), got {logged}"
    )


class NaNAfter:
    """A validation loader whose inputs turn NaN from its `after`-th pass on."""

    def __init__(self, loader, after):
        self.loader, self.after, self.passes = loader, after, 0

    def __iter__(self):
        self.passes += 1
        for x, y in self.loader:
            yield (x * float("nan") if self.passes > self.after else x), y

    def __len__(self):
        return len(self.loader)


@pytest.mark.task3_8
def test_fit_stops_clearly_on_a_nan_validation_loss(lab, tmp_path):
    model, train_loader, val_loader, optimizer, scheduler = make_run()
    advice = "a NaN validation loss must stop fit with epoch_row's FloatingPointError, before anything is saved"
    expect_error(FloatingPointError, lambda: lab.fit(
        model, train_loader, NaNAfter(val_loader, after=1), epochs=4, optimizer=optimizer, scheduler=scheduler,
        patience=2, checkpoint_dir=tmp_path, **FIT), ["validation loss", "epoch 2"], advice)
    assert torch.load(tmp_path / "best.pt", weights_only=True)["epoch"] == 1, "best.pt must keep epoch 1, the last good one"
    assert torch.load(tmp_path / "last.pt", weights_only=True)["epoch"] == 1, "a NaN epoch is not saved as last.pt"

    model, train_loader, val_loader, optimizer, scheduler = make_run()
    expect_error(FloatingPointError, lambda: lab.fit(  # NaN from the first epoch: no best at all
        model, train_loader, NaNAfter(val_loader, after=0), epochs=3, optimizer=optimizer, patience=1, **FIT),
        ["validation loss"], advice)


# Given code (fit checks the metrics path before training): no task marker.
def test_fit_checks_the_metrics_path_before_the_first_epoch(lab, tmp_path):
    model, train_loader, val_loader, optimizer, _ = make_run()
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the metrics folder should be")
    before = params_of(model)
    with pytest.raises(OSError, match="not_a_folder"):
        lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer,
                metrics_path=blocker / "metrics.jsonl", **FIT)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters())), "no epoch may run before the check"
    with pytest.raises(OSError, match="metrics"):
        lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer, metrics_path=tmp_path, **FIT)


@pytest.mark.task3_9
def test_fit_resume_is_bit_identical_to_an_uninterrupted_run(lab, tmp_path):
    model, train_loader, val_loader, optimizer, scheduler = make_run()
    full = lab.fit(model, train_loader, val_loader, epochs=5, optimizer=optimizer, scheduler=scheduler,
                   checkpoint_dir=tmp_path / "full", **FIT)

    run = make_run()
    lab.fit(run[0], run[1], run[2], epochs=2, optimizer=run[3], scheduler=run[4], checkpoint_dir=tmp_path / "cut", **FIT)
    with open(tmp_path / "cut" / "metrics.jsonl", "a") as log:  # epoch 3 was logged, then the process died
        log.write(json.dumps({"epoch": 3, "val_loss": -1.0}) + "\n")  # before last.pt was written
    # A new process after the crash: fresh objects, different seeds — everything must come from last.pt.
    model2, train2, val2, optimizer2, scheduler2 = make_run(seed=123, loader_seed=456)
    resumed = lab.fit(model2, train2, val2, epochs=5, optimizer=optimizer2, scheduler=scheduler2,
                      checkpoint_dir=tmp_path / "cut", resume=True, **FIT)

    assert without_time(resumed) == without_time(full), (
        "the resumed run's history (epochs 1-5) must equal the uninterrupted run's exactly. Save and restore "
        "model, optimizer, scheduler, the global torch RNG (dropout) and the DataLoader's generator (shuffling); "
        "save last.pt after evaluate, at the very end of the epoch"
    )
    for key, value in model.state_dict().items():
        assert torch.equal(model2.state_dict()[key], value), f"{key} differs after resuming: not bit-identical"
    lines = [json.loads(line) for line in (tmp_path / "cut" / "metrics.jsonl").read_text().splitlines()]
    assert without_time(lines) == without_time(full), (
        "after resuming, metrics.jsonl holds epochs 1-5 once each: rewrite it from the checkpoint's history "
        "(an epoch logged after last.pt was saved is dropped)"
    )


@pytest.mark.task3_8
def test_fit_writes_csv_and_shows_a_progress_bar(lab, tmp_path, capsys):
    model, train_loader, val_loader, optimizer, scheduler = make_run()
    lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer, metrics_path=tmp_path / "log.csv",
            **{**FIT, "progress": True})
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,") and len(rows) == 3, f"a CSV with a header and one row per epoch, got {rows}"
    err = capsys.readouterr().err
    assert "2/2" in err, "fit should show a tqdm progress bar over the epochs (on stderr)"


# Given code (argument checks written for you): no task marker, not counted as a task.
def test_fit_bad_arguments(lab):
    model, train_loader, val_loader, optimizer, _ = make_run()
    with pytest.raises(ValueError, match="checkpoint_dir"):
        lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer, resume=True, **FIT)
    with pytest.raises(ValueError, match="monitor"):
        lab.fit(model, train_loader, val_loader, epochs=2, optimizer=optimizer, monitor="train_loss", **FIT)
