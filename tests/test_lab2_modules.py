"""Lab 2 — Custom nn.Module. Run: pytest -m lab2 (add --impl solution for the reference)."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from tests.helpers import seeded

pytestmark = [pytest.mark.lab2, pytest.mark.usefixtures("one_thread")]  # small tensors: one thread (conftest.py)


def hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


# --------------------------------------------------------------------------- task2_1


@pytest.mark.task2_1
def test_mylinear_registers_parameters(lab):
    layer = lab.MyLinear(3, 4)
    assert isinstance(layer.weight, nn.Parameter), f"weight should be an nn.Parameter, got {type(layer.weight).__name__}"
    assert isinstance(layer.bias, nn.Parameter), f"bias should be an nn.Parameter, got {type(layer.bias).__name__}"
    assert layer.weight.shape == (4, 3), f"weight is (out_features, in_features) = (4, 3), got {tuple(layer.weight.shape)}"
    assert layer.bias.shape == (4,), f"bias is (out_features,) = (4,), got {tuple(layer.bias.shape)}"
    names = [name for name, _ in layer.named_parameters()]
    assert names == ["weight", "bias"], f"named_parameters() should list ['weight', 'bias'], got {names}"
    assert list(layer.state_dict()) == ["weight", "bias"]

    no_bias = lab.MyLinear(3, 4, bias=False)
    assert no_bias.bias is None, "with bias=False, self.bias should exist and be None (register_parameter('bias', None))"
    assert list(no_bias.state_dict()) == ["weight"], f"state_dict keys without bias: {list(no_bias.state_dict())}"


@pytest.mark.task2_1
@pytest.mark.parametrize("in_features, out_features", [(256, 512), (3, 4096)])
def test_mylinear_init_has_nn_linear_distribution(lab, in_features, out_features):
    torch.manual_seed(0)
    ours = lab.MyLinear(in_features, out_features)
    reference = nn.Linear(in_features, out_features)
    bound = 1 / math.sqrt(in_features)
    for name in ("weight", "bias"):
        mine, theirs = getattr(ours, name).detach(), getattr(reference, name).detach()
        assert mine.abs().max() <= bound + 1e-7, (
            f"{name} must lie in [-1/sqrt(in_features), 1/sqrt(in_features)] = ±{bound:.4f}; "
            f"largest |value| is {mine.abs().max():.4f}"
        )
        assert mine.std() > 0, f"{name} is constant: fill it with random values"
        # A uniform U(-b, b) has mean 0, std b / sqrt(3) and reaches close to both ends.
        n = mine.numel()
        tolerance = 4 * bound / math.sqrt(3 * n)  # 4 standard errors of the mean
        assert abs(mine.mean()) < tolerance, f"{name} mean should be ~0, got {mine.mean():.4f}"
        expected_std = bound / math.sqrt(3)
        assert abs(mine.std() / expected_std - 1) < 8 / math.sqrt(n), (
            f"{name} std should be ~{expected_std:.4f} like nn.Linear (got {mine.std():.4f}, nn.Linear gives "
            f"{theirs.std():.4f}): use U(-1/sqrt(in_features), 1/sqrt(in_features))"
        )
        if n > 1000:
            assert mine.max() > 0.99 * bound and mine.min() < -0.99 * bound, "the values should fill the whole range"
            hist_mine = torch.histc(mine, bins=8, min=-bound, max=bound) / n
            hist_ref = torch.histc(theirs, bins=8, min=-bound, max=bound) / n
            tolerance = 6 * math.sqrt(2 * (1 / 8) * (7 / 8) / n)  # 6 standard errors of a bin's difference
            assert (hist_mine - hist_ref).abs().max() < tolerance, (
                f"{name}'s histogram differs from nn.Linear's: {hist_mine.tolist()} vs {hist_ref.tolist()}"
            )


@pytest.mark.task2_1
def test_mylinear_forward_equals_F_linear(lab):
    layer = lab.MyLinear(5, 3)
    for shape in [(7, 5), (2, 4, 5)]:
        x = torch.randn(*shape, generator=seeded(1))
        try:
            out = layer(x)
        except NotImplementedError:  # an unfinished TODO (a RuntimeError subclass)
            raise
        except RuntimeError as error:
            raise pytest.fail.Exception(f"MyLinear(5, 3) on an input of shape {shape} failed: {error}. The weight is stored as "
                        "(out_features, in_features): multiply by its transpose", pytrace=False) from None
        expected = F.linear(x, layer.weight, layer.bias)
        assert out.shape == expected.shape, f"input {shape} -> expected {tuple(expected.shape)}, got {tuple(out.shape)}"
        assert torch.allclose(out, expected, atol=1e-6), "output differs from F.linear(x, weight, bias)"
    no_bias = lab.MyLinear(5, 3, bias=False)
    x = torch.randn(4, 5, generator=seeded(2))
    assert torch.allclose(no_bias(x), F.linear(x, no_bias.weight), atol=1e-6), "without bias: x @ weight.T"


@pytest.mark.task2_1
def test_mylinear_matches_nn_linear_with_the_same_weights_and_gets_gradients(lab):
    ours, reference = lab.MyLinear(4, 2), nn.Linear(4, 2)
    ours.load_state_dict(reference.state_dict())  # same keys, same shapes: interchangeable
    x = torch.randn(6, 4, generator=seeded(3))
    assert torch.allclose(ours(x), reference(x), atol=1e-6)
    ours(x).sum().backward()
    assert ours.weight.grad is not None and ours.weight.grad.shape == (2, 4), "weight should receive a gradient"
    assert torch.allclose(ours.bias.grad, torch.full((2,), 6.0)), "d sum(y) / d bias = number of rows"


@pytest.mark.task2_1
def test_mylinear_repr_and_bad_sizes(lab):
    assert "in_features=3, out_features=4, bias=True" in repr(lab.MyLinear(3, 4)), repr(lab.MyLinear(3, 4))
    assert "bias=False" in repr(lab.MyLinear(3, 4, bias=False))
    with pytest.raises(ValueError):
        lab.MyLinear(0, 4)


# --------------------------------------------------------------------------- task2_2


@pytest.mark.task2_2
def test_running_standardize_has_buffers_not_parameters(lab):
    module = lab.RunningStandardize(3)
    assert list(module.parameters()) == [], "running statistics are buffers: parameters() must be empty"
    buffers = dict(module.named_buffers())
    assert set(buffers) == {"running_mean", "running_var"}, f"expected buffers running_mean and running_var, got {set(buffers)}"
    assert torch.equal(buffers["running_mean"], torch.zeros(3)) and torch.equal(buffers["running_var"], torch.ones(3)), (
        "start with running_mean = 0 and running_var = 1"
    )
    assert set(module.state_dict()) == {"running_mean", "running_var"}, "buffers are saved in state_dict()"


@pytest.mark.task2_2
def test_running_standardize_matches_batchnorm_in_train_and_eval(lab):
    ours = lab.RunningStandardize(4, momentum=0.2, eps=1e-3)
    reference = nn.BatchNorm1d(4, momentum=0.2, eps=1e-3, affine=False)
    g = seeded(4)
    for _ in range(3):  # training mode: batch statistics, running buffers updated
        x = torch.randn(16, 4, generator=g) * 3 + 2
        assert torch.allclose(ours(x), reference(x), atol=1e-5), "forward() in training mode: normalise with the batch's mean and biased var"
    assert torch.allclose(ours.running_mean, reference.running_mean, atol=1e-6), (
        f"after forward() in training mode, running_mean {ours.running_mean} vs BatchNorm's {reference.running_mean}: "
        "(1-m)*running + m*batch_mean"
    )
    assert torch.allclose(ours.running_var, reference.running_var, atol=1e-5), (
        f"after forward() in training mode, running_var {ours.running_var} vs BatchNorm's {reference.running_var}: "
        "use the unbiased batch variance"
    )
    ours.eval(), reference.eval()
    saved = copy.deepcopy(ours.state_dict())
    x = torch.randn(5, 4, generator=g)
    out, one = ours(x), ours(x[:1])
    for name, value in ours.state_dict().items():
        assert torch.equal(value, saved[name]), f"forward() in eval mode must not change {name}"
    assert torch.allclose(out, reference(x), atol=1e-5), "forward() in eval mode: normalise with the running buffers"
    assert torch.allclose(one, reference(x[:1]), atol=1e-5), "forward() in eval mode works for one sample"


@pytest.mark.task2_2
def test_running_standardize_state_dict_round_trip_and_to(lab):
    trained = lab.RunningStandardize(2)
    trained(torch.randn(32, 2, generator=seeded(5)) + 5)
    fresh = lab.RunningStandardize(2)
    fresh.load_state_dict(trained.state_dict())
    assert torch.equal(fresh.running_mean, trained.running_mean), "load_state_dict should restore the buffers"
    doubled = trained.to(torch.float64)
    assert doubled.running_mean.dtype == torch.float64 and doubled.running_var.dtype == torch.float64, (
        "buffers follow .to(): after .to(torch.float64) they should be float64"
    )


@pytest.mark.task2_2
@pytest.mark.gpu
def test_running_standardize_buffers_follow_to_cuda(lab):
    module = lab.RunningStandardize(3).to("cuda")
    assert module.running_mean.device.type == "cuda" and module.running_var.device.type == "cuda"
    out = module(torch.randn(8, 3, device="cuda"))
    assert out.device.type == "cuda"


# Given code (argument checks written for you): no task marker, not counted as a task.
def test_running_standardize_bad_input(lab):
    module = lab.RunningStandardize(3)
    with pytest.raises(ValueError, match="3"):
        module(torch.randn(4, 5))
    with pytest.raises(ValueError):
        module(torch.randn(1, 3))  # one sample has no variance in training mode


# --------------------------------------------------------------------------- task2_3


def small_net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Sequential(nn.Linear(8, 8), nn.Tanh()), nn.Linear(8, 2))


def recorded_under_each_name(recorder, name, expected):
    """Check `expected` records under `name`, naming the closure bug when another name got them all."""
    counts = {key: len(values) for key, values in recorder.outputs.items()}
    if counts.get(name, 0) == 0 and expected and any(counts.values()):
        pytest.fail(
            f"nothing was recorded under {name!r} inside the with-block, while the records per name are {counts}: "
            "every hook stores under the same (last) name. A hook defined in a loop that reads the loop variable "
            "sees its value when it runs, not when it was made: bind the name when you create each hook "
            "(a default argument or functools.partial)",
            pytrace=False,
        )
    assert counts.get(name, 0) == expected, (
        f"{expected} forward call(s) inside the block -> {expected} record(s) under {name!r}, got {counts.get(name, 0)}"
    )


@pytest.mark.task2_3
def test_activation_recorder_records_once_per_call(lab):
    net = small_net()
    x1, x2 = torch.randn(3, 4, generator=seeded(6)), torch.randn(5, 4, generator=seeded(7))
    with lab.ActivationRecorder(net, ["1", "2.1"]) as recorder:
        assert isinstance(recorder, lab.ActivationRecorder), "__enter__ should return self"
        net(x1)
        net(x2)
    recorded_under_each_name(recorder, "1", 2)
    recorded_under_each_name(recorder, "2.1", 2)
    assert torch.allclose(recorder.outputs["1"][0], net[1](net[0](x1))), "record the submodule's output"
    assert recorder.outputs["2.1"][1].shape == (5, 8), "nested names like '2.1' address net[2][1]"
    assert not recorder.outputs["1"][0].requires_grad, "store output.detach() so no graph is kept alive"


@pytest.mark.task2_3
def test_activation_recorder_removes_hooks_on_exit(lab):
    net = small_net()
    with lab.ActivationRecorder(net, ["0", "3"]) as recorder:
        assert hook_count(net) == 2, f"inside the block there should be 2 hooks, found {hook_count(net)}"
        net(torch.randn(2, 4))
        recorded_under_each_name(recorder, "0", 1)
    assert hook_count(net) == 0, f"every hook must be removed on exit; {hook_count(net)} left"
    net(torch.randn(2, 4))
    assert len(recorder.outputs["0"]) == 1, (
        f"after the block nothing more is recorded: one record inside, then {len(recorder.outputs['0'])} after a call "
        "outside the block (are the hooks removed in __exit__?)"
    )


@pytest.mark.task2_3
def test_activation_recorder_removes_hooks_when_the_block_raises(lab):
    class Boom(Exception):
        pass

    net = small_net()
    try:
        with lab.ActivationRecorder(net, ["0"]):
            net(torch.randn(2, 4))
            raise Boom("an error inside the with-block")
    except Boom:
        pass
    else:
        pytest.fail("the error raised inside the with-block disappeared: __exit__ must return False (a true value "
                    "tells Python to swallow the exception)", pytrace=False)
    assert hook_count(net) == 0, "hooks must be removed even when the with-block raises (and the error must propagate)"


@pytest.mark.task2_3
def test_activation_recorder_unknown_layer_name(lab):
    net = small_net()
    with pytest.raises(ValueError, match="nope"):
        lab.ActivationRecorder(net, ["0", "nope"]).__enter__()
    assert hook_count(net) == 0, "a bad name must not leave hooks behind"


# --------------------------------------------------------------------------- task2_4


@pytest.mark.task2_4
def test_gradient_norms_per_layer(lab):
    net = small_net()
    x, y = torch.randn(10, 4, generator=seeded(8)), torch.randint(0, 2, (10,), generator=seeded(9))
    loss = F.cross_entropy(net(x), y)
    norms = lab.gradient_norms(net, loss)
    assert set(norms) == {"0", "2.0", "3"}, f"one entry per layer with parameters ('0', '2.0', '3'), got {sorted(norms)}"
    assert all(p.grad is None for p in net.parameters()), "gradient_norms must not write .grad: use torch.autograd.grad"
    grads = dict(zip(net.parameters(), torch.autograd.grad(loss, list(net.parameters())), strict=True))
    for name in norms:
        module = net.get_submodule(name)
        expected = torch.cat([grads[p].flatten() for p in module.parameters()]).norm().item()
        assert isinstance(norms[name], float), f"return plain floats, got {type(norms[name]).__name__}"
        assert math.isclose(norms[name], expected, rel_tol=1e-5), f"layer {name}: expected {expected:.6f}, got {norms[name]:.6f}"


@pytest.mark.task2_4
def test_gradient_norms_leaves_grad_untouched_and_graph_usable(lab):
    net = small_net()
    loss = net(torch.randn(4, 4, generator=seeded(10))).pow(2).mean()
    lab.gradient_norms(net, loss)
    assert all(p.grad is None for p in net.parameters()), "gradient_norms must not write .grad: use torch.autograd.grad"
    loss.backward()  # fails if the graph was freed: pass retain_graph=True


@pytest.mark.task2_4
def test_gradient_norms_skips_frozen_and_counts_unused_as_zero(lab):
    net = small_net()
    net[0].requires_grad_(False)
    extra = nn.Linear(3, 3)  # registered but not used in the forward pass
    net.add_module("unused", extra)
    loss = net[3](net[2](net[1](net[0](torch.randn(3, 4))))).sum()
    try:
        norms = lab.gradient_norms(net, loss)
    except NotImplementedError:  # an unfinished TODO (a RuntimeError subclass)
        raise
    except RuntimeError as error:
        raise pytest.fail.Exception(f"gradient_norms failed on a model with a layer that is not used in the forward pass: "
                    f"{str(error).splitlines()[0]} A parameter that does not reach the loss has gradient 0: let "
                    "autograd return None for it (allow_unused) and count it as zero", pytrace=False) from None
    assert "0" not in norms, "a frozen layer (requires_grad=False) has no gradient to report"
    assert norms["unused"] == 0.0, "a layer that does not reach the loss has gradient norm 0 (allow_unused=True)"


# --------------------------------------------------------------------------- task2_4: count_parameters


@pytest.mark.task2_4
def test_count_parameters(lab):
    assert lab.count_parameters(nn.Linear(3, 4)) == 16, "3*4 weights + 4 biases = 16"
    net = nn.Sequential(nn.Linear(10, 5), nn.BatchNorm1d(5), nn.Linear(5, 2))
    assert lab.count_parameters(net) == 55 + 10 + 12, "buffers (running_mean, running_var) are not parameters"
    net[0].requires_grad_(False)
    assert lab.count_parameters(net) == 22, "trainable_only=True skips frozen parameters"
    assert lab.count_parameters(net, trainable_only=False) == 77


@pytest.mark.task2_4
def test_count_parameters_counts_shared_weights_once(lab):
    shared = nn.Linear(4, 4)
    net = nn.Sequential(shared, nn.ReLU(), shared)
    assert lab.count_parameters(net) == 20, "a layer used twice is one set of weights: count it once"


# --------------------------------------------------------------------------- task2_5


@pytest.mark.task2_5
@pytest.mark.parametrize(
    "in_dim, hidden, out_dim, norm",
    [(4, [8], 3, None), (10, [32, 16, 8], 2, "batch"), (3, (5, 5), 7, "layer"), (6, [], 2, None)],
)
def test_mlp_parameter_count_matches_formula(lab, in_dim, hidden, out_dim, norm):
    model = lab.MLP(in_dim, hidden, out_dim, norm=norm)
    sizes = [in_dim, *hidden, out_dim]
    expected = sum(a * b + b for a, b in zip(sizes, sizes[1:])) + (2 * sum(hidden) if norm else 0)
    got = sum(p.numel() for p in model.parameters())
    assert got == expected, f"MLP({in_dim}, {list(hidden)}, {out_dim}, norm={norm!r}) should have {expected} parameters, has {got}"
    out = model(torch.randn(5, in_dim))
    assert out.shape == (5, out_dim), f"expected output (5, {out_dim}), got {tuple(out.shape)}"


@pytest.mark.task2_5
def test_mlp_state_dict_holds_parameters_and_norm_buffers(lab):
    batch = lab.MLP(4, [8, 8], 3, norm="batch")
    keys = list(batch.state_dict())
    running = [k for k in keys if k.endswith("running_mean")]
    assert len(running) == 2, f"norm='batch' adds one BatchNorm1d (with running_mean) per hidden layer; keys: {keys}"
    param_names = [name for name, _ in batch.named_parameters()]
    assert set(param_names) <= set(keys), "every parameter is in state_dict()"
    assert not any("running" in name for name in param_names), "running statistics are buffers, not parameters"
    layer = lab.MLP(4, [8, 8], 3, norm="layer")
    assert not any("running" in k for k in layer.state_dict()), "LayerNorm keeps no running statistics"
    fresh = lab.MLP(4, [8, 8], 3, norm="batch")
    fresh.load_state_dict(batch.state_dict())  # same architecture -> same keys


@pytest.mark.task2_5
def test_mlp_dropout_differs_in_train_and_eval(lab):
    torch.manual_seed(0)
    model = lab.MLP(6, [64, 64], 3, dropout=0.5)
    x = torch.randn(8, 6, generator=seeded(11))
    model.train()
    assert not torch.allclose(model(x), model(x)), "in train mode dropout zeroes random units: two calls should differ"
    model.eval()
    assert torch.equal(model(x), model(x)), "in eval mode dropout is off: the output is deterministic"


@pytest.mark.task2_5
def test_mlp_batch_norm_differs_in_train_and_eval(lab):
    torch.manual_seed(0)
    model = lab.MLP(3, [16], 2, norm="batch")
    x = torch.randn(8, 3, generator=seeded(12))
    model.train()
    alone, in_batch = model(x[:4])[0], model(x)[0]
    assert not torch.allclose(alone, in_batch), "train mode: BatchNorm uses the batch's statistics, so row 0 depends on the batch"
    model.eval()
    assert torch.allclose(model(x[:4])[0], model(x)[0], atol=1e-6), "eval mode: running statistics, rows are independent"


@pytest.mark.task2_5
def test_mlp_activations(lab):
    x = torch.randn(4, 3, generator=seeded(13))
    outputs = {}
    for name in ("relu", "gelu", "tanh", "sigmoid", "silu"):
        torch.manual_seed(0)
        outputs[name] = lab.MLP(3, [8], 2, activation=name)(x)
    assert not torch.allclose(outputs["relu"], outputs["tanh"]), "the activation argument should change the network"
    relus = [m for m in lab.MLP(3, [8, 8], 2).modules() if isinstance(m, nn.ReLU)]
    assert len(relus) == 2, f"the default activation is relu, one per hidden layer; found {len(relus)} nn.ReLU"


# Given code (argument checks written for you): no task marker, not counted as a task.
@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(activation="swish"), "activation"),
        (dict(dropout=-0.1), "dropout"),
        (dict(dropout=1.0), "dropout"),
        (dict(norm="group"), "norm"),
        (dict(hidden_dims=[], norm="batch"), "hidden_dims"),
        (dict(hidden_dims=[8, 0]), "hidden"),
    ],
)
def test_mlp_bad_arguments_raise_clear_value_errors(lab, kwargs, words):
    arguments = {**dict(in_dim=4, hidden_dims=[8], out_dim=2), **kwargs}
    with pytest.raises(ValueError, match=words) as error:
        lab.MLP(**arguments)
    assert len(str(error.value)) > 20, f"say what is wrong and how to fix it, got {str(error.value)!r}"


@pytest.mark.task2_5
def test_mlp_memorises_64_random_points(lab):
    torch.manual_seed(0)
    X = torch.randn(64, 8, generator=seeded(14))
    y = torch.randint(0, 4, (64,), generator=seeded(15))
    model = lab.MLP(8, [64, 64], 4)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(100):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    accuracy = (model(X).argmax(1) == y).float().mean().item()
    assert accuracy == 1.0, f"an MLP with two 64-wide hidden layers should memorise 64 points in 100 Adam steps; training accuracy {accuracy:.0%}"
