# Starter file: written by authoring/make_starters.py from solution.py (text sha256 a937d852f78c15b8).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Lab 2 — Custom nn.Module (starter: your work goes here).

What this lab teaches: what an `nn.Module` really is — a container that registers
parameters, buffers and submodules so that `parameters()`, `state_dict()`, `.to()`,
`.train()` / `.eval()` and hooks all work without you wiring anything by hand. You build a
linear layer from scratch, a layer with buffers, a forward-hook recorder, a per-layer
gradient monitor and — the deliverable — an MLP whose depth, width, activation, dropout and
normalisation are arguments.

Tasks, in the README's order:
    task2_1  MyLinear             nn.Parameter, nn.Linear's initialisation, forward, extra_repr
    task2_2  RunningStandardize   buffers vs parameters; train vs eval behaviour
    task2_3  ActivationRecorder   forward hooks in a context manager that always cleans up
    task2_4  count_parameters / gradient_norms   what a model holds, and which layers learn
    task2_5  MLP                  module composition (the deliverable)

Run the demo:   python lab2_modules/starter.py   (prints the model, writes lab2_modules/outputs/lab2_mlp.png)
Grade yourself: pytest -m lab2                    (this file; --impl solution grades solution.py)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

# Hyperparameters of the demo, in one place.


@dataclass
class DemoConfig:
    num_points: int = 600  # two interleaved spirals, half per class
    hidden_dims: list[int] = field(default_factory=lambda: [64, 64])
    dropout: float = 0.1
    norm: str | None = "layer"
    lr: float = 1e-2
    steps: int = 400
    deep_depth: int = 8  # depth of the nets whose gradient norms the demo compares
    seed: int = 0


# ---------------------------------------------------------------------------
# task2_1 — MyLinear: a layer from nn.Parameter up
# ---------------------------------------------------------------------------


class MyLinear(nn.Module):
    """y = x @ W.T + b, written from scratch.

    x: (..., in_features) float tensor -> (..., out_features) tensor.
    weight: (out_features, in_features) nn.Parameter; bias: (out_features,) nn.Parameter or None.
    Assigning an nn.Parameter to an attribute is what registers it: that is why
    `parameters()`, `state_dict()` and optimizers find it without any bookkeeping.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        if in_features <= 0 or out_features <= 0:
            raise ValueError(
                f"MyLinear needs positive sizes, got in_features={in_features}, out_features={out_features}"
            )
        self.in_features = in_features
        self.out_features = out_features
        # Hint: assigning a Parameter to an attribute is what registers it. Allocate the
        # tensors here and let reset_parameters() fill them. Without a bias, `self.bias` must
        # still exist (as None) without becoming an entry of state_dict().
        raise NotImplementedError('TODO(task2_1): Register the weight (out, in) and the bias (out,) as parameters (no bias when bias=False), then fill them.')

    def reset_parameters(self) -> None:
        """Fill weight and bias from U(-1/sqrt(in_features), 1/sqrt(in_features)), as nn.Linear does.

        The bound keeps the output's variance close to the input's whatever the width: too
        large and activations explode layer after layer, too small and they vanish.
        """
        # Hint: the docstring gives the distribution; the bias uses the same bound. Write into
        # the existing parameters in place, with autograd not recording.
        raise NotImplementedError('TODO(task2_1): Fill weight and bias in place from the uniform distribution of the docstring.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # Hint: a matrix product with the transposed weight works for any number of leading
        # dimensions; the bias is optional.
        raise NotImplementedError('TODO(task2_1): Return the affine map of the docstring, adding the bias only when there is one.')

    def extra_repr(self) -> str:
        """What print(model) shows inside the parentheses: MyLinear(in_features=3, out_features=4, bias=True)."""
        # size: one line, the last small piece of task 2.1.
        raise NotImplementedError("TODO(task2_1): Return the three settings as in the docstring's example (bias True or False).")


# ---------------------------------------------------------------------------
# task2_2 — RunningStandardize: parameters vs buffers
# ---------------------------------------------------------------------------


class RunningStandardize(nn.Module):
    """Standardise features with running statistics kept in buffers (BatchNorm without affine).

    x: (N, num_features) float tensor -> same shape.
    Training mode: normalise with the batch's mean and (biased) variance, and fold them into
    the running buffers: running = (1 - momentum) * running + momentum * batch, using the
    *unbiased* variance for running_var (exactly what nn.BatchNorm1d does).
    Eval mode: normalise with the running buffers and change nothing.
    Buffers are state (saved in state_dict, moved by .to()) but not parameters: no optimizer
    ever touches them.
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5):
        super().__init__()
        if num_features <= 0:
            raise ValueError(f"num_features must be positive, got {num_features}")
        if not 0.0 < momentum <= 1.0:
            raise ValueError(f"momentum must be in (0, 1], got {momentum}")
        if eps <= 0:
            raise ValueError(f"eps must be positive, got {eps}")
        self.num_features, self.momentum, self.eps = num_features, momentum, eps
        # Hint: running statistics are state, not parameters: nn.Module has a registration
        # call for exactly that. Start so that an untrained module in eval mode is the identity.
        # size: two lines on purpose, choosing buffers over parameters is the whole idea.
        raise NotImplementedError('TODO(task2_2): Register the running mean (zeros) and running variance (ones) as buffers of shape (num_features,).')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"RunningStandardize({self.num_features}) expects input of shape (N, {self.num_features}), "
                f"got {tuple(x.shape)}"
            )
        if self.training and x.shape[0] < 2:
            raise ValueError(
                "RunningStandardize needs at least 2 samples per batch in training mode (a variance of one "
                "sample is undefined); use a larger batch or call .eval() first"
            )
        # Hint: the module knows its mode. Training normalises with the batch's own statistics
        # (the biased variance) and folds them into the buffers (the unbiased variance), in
        # place and outside the graph; eval only reads the buffers.
        raise NotImplementedError('TODO(task2_2): Normalise with batch stats and update the buffers in training mode; use the buffers in eval mode.')

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"


# ---------------------------------------------------------------------------
# task2_3 — ActivationRecorder: forward hooks that always clean up
# ---------------------------------------------------------------------------


class ActivationRecorder:
    """Record the outputs of named submodules while inside a `with` block.

        with ActivationRecorder(model, ["0", "2"]) as recorder:
            model(x)
        recorder.outputs["0"]  # [tensor of layer 0's output], one entry per forward call

    layer_names: names as in model.named_modules() (dotted for nested modules, "block.0").
    Outputs are stored detached (no graph is kept alive). Every hook handle is removed on
    exit, also when the block raises: a forgotten hook keeps recording (and holding memory)
    for the rest of the program.
    """

    def __init__(self, model: nn.Module, layer_names: Sequence[str]):
        modules = dict(model.named_modules())
        unknown = [name for name in layer_names if name not in modules]
        if unknown:
            available = [name for name in modules if name]
            raise ValueError(f"no submodule named {unknown} in the model; available names: {available}")
        self.model = model
        self.layer_names = list(layer_names)
        self.outputs: dict[str, list[torch.Tensor]] = {name: [] for name in self.layer_names}
        self._handles: list[torch.utils.hooks.RemovableHandle] = []

    def __enter__(self) -> ActivationRecorder:
        # Hint: one forward hook per name, each keeping its handle for __exit__. Pitfall: a
        # function defined in a loop that reads the loop variable sees its *last* value when it
        # finally runs — bind each hook's name at the moment you create it.
        raise NotImplementedError('TODO(task2_3): Hook every named submodule so it stores its output (detached) under its own name; keep the handles; return self.')

    def __exit__(self, exc_type, exc, traceback) -> bool:
        # Hint: __exit__ runs on a normal exit and when the block raises. Its return value
        # decides whether an exception is swallowed: it must not be.
        raise NotImplementedError('TODO(task2_3): Detach every hook you registered, forget the handles, and let any exception propagate.')


# ---------------------------------------------------------------------------
# task2_4 — Inspecting a model: count_parameters and gradient_norms
# ---------------------------------------------------------------------------


def count_parameters(model: nn.Module, trainable_only: bool = True) -> int:
    """Number of scalar parameters in the model ("model size").

    trainable_only=True counts only parameters with requires_grad (what the optimizer
    updates). A parameter shared by two layers counts once (parameters() yields it once).
    Buffers are not parameters and never count.
    """
    # Hint: every parameter knows how many scalars it holds and whether it is trainable.
    # size: one line on purpose, the warm-up of task 2.4: the same walk over parameters
    # that gradient_norms below does layer by layer.
    raise NotImplementedError("TODO(task2_4): Count the scalars of the model's parameters (the trainable ones only, when asked).")


def gradient_norms(model: nn.Module, loss: torch.Tensor) -> dict[str, float]:
    """L2 norm of the loss's gradient for each layer that owns trainable parameters.

    loss: 0-dim tensor computed from model. Returns {module name: norm} where the norm is
    taken over all of that module's own parameters together (weight and bias), e.g.
    {"0": 0.81, "2": 0.05}. Parameters that do not reach the loss count as zero.
    Leaves every `.grad` untouched and keeps the graph (retain_graph=True), so the caller can
    still call loss.backward(): a monitoring tool must not change training.
    """
    # Hint: a layer's "own" parameters are those not inside its children. Ask autograd for
    # the gradients as return values instead of letting backward write .grad, keep the graph
    # for the caller, and accept parameters that never reached the loss. The norm of several
    # tensors together is the square root of the sum of their squared norms.
    raise NotImplementedError("TODO(task2_4): Return {layer name: L2 norm of its own parameters' gradients} without writing any .grad.")


# ---------------------------------------------------------------------------
# task2_5 — MLP: composition (the deliverable)
# ---------------------------------------------------------------------------

ACTIVATIONS: dict[str, type[nn.Module]] = {
    "relu": nn.ReLU,
    "gelu": nn.GELU,
    "silu": nn.SiLU,
    "tanh": nn.Tanh,
    "sigmoid": nn.Sigmoid,
}
NORMS = (None, "batch", "layer")


class MLP(nn.Module):
    """A multilayer perceptron whose shape is given by its arguments.

    x: (N, in_dim) float tensor -> (N, out_dim) logits.
    Each hidden size h adds the block  Linear -> [BatchNorm1d | LayerNorm] -> activation ->
    [Dropout]  (norm and dropout only when asked for), then a final Linear to out_dim.
    The blocks live in `self.layers` (an nn.Sequential), so their parameters and buffers are
    registered as layers.0.weight, layers.1.running_mean, ...

    Raises ValueError, naming the argument and the fix, for: non-positive sizes, an unknown
    activation or norm, dropout outside [0, 1), and an empty hidden_dims together with a norm
    or dropout (there is no hidden layer to apply them to).
    """

    def __init__(
        self,
        in_dim: int,
        hidden_dims: Sequence[int],
        out_dim: int,
        activation: str = "relu",
        dropout: float = 0.0,
        norm: str | None = None,
    ):
        super().__init__()
        hidden_dims = list(hidden_dims)
        if in_dim <= 0 or out_dim <= 0:
            raise ValueError(f"in_dim and out_dim must be positive, got in_dim={in_dim}, out_dim={out_dim}")
        if any(h <= 0 for h in hidden_dims):
            raise ValueError(f"every hidden size must be positive, got hidden_dims={hidden_dims}")
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}; choose one of {sorted(ACTIVATIONS)}")
        if norm not in NORMS:
            raise ValueError(f"unknown norm {norm!r}; choose None, 'batch' or 'layer'")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout is a probability in [0, 1), got {dropout}")
        if not hidden_dims and (norm is not None or dropout > 0):
            raise ValueError(
                f"hidden_dims is empty, so there is no hidden layer for norm={norm!r} / dropout={dropout}: "
                "give at least one hidden size, or use norm=None and dropout=0.0 for a linear model"
            )
        # Hint: one block per hidden size, in the docstring's order, each layer's input size
        # being the previous output size; norm and dropout only when asked for. Keep the
        # blocks in a container that registers them: a plain Python list registers nothing.
        raise NotImplementedError('TODO(task2_5): Build self.layers: the hidden blocks of the docstring, then the output layer, in one registered container.')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)


def mlp_parameter_count(in_dim: int, hidden_dims: Sequence[int], out_dim: int, norm: str | None = None) -> int:
    """The formula: each Linear has in*out weights + out biases; each norm layer 2*h (scale and shift)."""
    sizes = [in_dim, *hidden_dims, out_dim]
    linear = sum(a * b + b for a, b in zip(sizes, sizes[1:]))
    return linear + (2 * sum(hidden_dims) if norm else 0)


# ---------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------


def make_spirals(num_points: int, seed: int = 0, noise: float = 0.06):
    """Two interleaved spirals in 2-D: X (num_points, 2) float32, y (num_points,) int64 in {0, 1}."""
    generator = torch.Generator().manual_seed(seed)
    n = num_points // 2
    radius = torch.linspace(0.3, 3.0, n)
    angle = radius * 2.5
    points = []
    for label in (0, 1):
        phase = angle + label * math.pi
        xy = torch.stack([radius * torch.cos(phase), radius * torch.sin(phase)], dim=1)
        points.append(xy + noise * torch.randn(n, 2, generator=generator))
    X = torch.cat(points)
    y = torch.cat([torch.zeros(n, dtype=torch.long), torch.ones(n, dtype=torch.long)])
    return X, y


def main(config: DemoConfig = DemoConfig()):
    torch.manual_seed(config.seed)
    X, y = make_spirals(config.num_points, config.seed)

    layer = MyLinear(2, 3)
    print(layer, "->", [name for name, _ in layer.named_parameters()])
    standardize = RunningStandardize(2)
    standardize(X)  # training mode: updates the running statistics
    print(f"RunningStandardize buffers after one batch: mean={standardize.running_mean.tolist()}, "
          f"var={standardize.running_var.tolist()}; parameters: {list(standardize.parameters())}")

    # Tasks 2.3 and 2.4 on a small net of your own layers, before the MLP of task 2.5.
    probe = nn.Sequential(MyLinear(2, 8), nn.Tanh(), MyLinear(8, 2))
    with ActivationRecorder(probe, ["1"]) as recorder:
        probe(X)
    print(f"ActivationRecorder on MyLinear -> Tanh -> MyLinear: layer '1' output {tuple(recorder.outputs['1'][0].shape)}; "
          f"count_parameters: {count_parameters(probe)}; gradient norms: "
          + ", ".join(f"{name} {value:.3f}" for name, value in gradient_norms(probe, F.cross_entropy(probe(X), y)).items()))

    model = MLP(2, config.hidden_dims, 2, activation="gelu", dropout=config.dropout, norm=config.norm)
    print(model)
    print(f"trainable parameters: {count_parameters(model):,} "
          f"(formula: {mlp_parameter_count(2, config.hidden_dims, 2, config.norm):,})")

    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    for _ in range(config.steps):
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        accuracy = (model(X).argmax(1) == y).float().mean().item()
    print(f"spirals: final training loss {loss.item():.4f}, accuracy {accuracy:.1%}")

    hidden = [name for name, m in model.layers.named_children() if isinstance(m, nn.GELU)]
    with ActivationRecorder(model.layers, hidden) as recorder, torch.no_grad():
        model(X)
    for name in hidden:
        out = recorder.outputs[name][0]
        print(f"  activation after layers.{name}: mean {out.mean():+.3f}, std {out.std():.3f}, "
              f"fraction > 0: {(out > 0).float().mean():.2f}")

    # Vanishing gradients: the same deep net with sigmoid vs relu, first layers vs last.
    depth_norms = {}
    for activation in ("sigmoid", "relu"):
        torch.manual_seed(config.seed)
        deep = MLP(2, [32] * config.deep_depth, 2, activation=activation)
        norms = gradient_norms(deep, F.cross_entropy(deep(X), y))
        depth_norms[activation] = list(norms.values())
        print(f"gradient norm per layer ({activation:7}): " + " ".join(f"{v:.1e}" for v in norms.values()))

    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    out = Path(__file__).resolve().parent / "outputs"  # git-ignored
    out.mkdir(exist_ok=True)
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    grid = torch.stack(torch.meshgrid(torch.linspace(-3.5, 3.5, 200), torch.linspace(-3.5, 3.5, 200), indexing="xy"), -1)
    with torch.no_grad():
        probs = model(grid.reshape(-1, 2)).softmax(1)[:, 1].reshape(200, 200)
    left.contourf(grid[..., 0], grid[..., 1], probs, levels=20, cmap="coolwarm", alpha=0.6)
    left.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", s=6, edgecolors="k", linewidths=0.2)
    left.set(title=f"MLP on two spirals (train acc {accuracy:.0%})", xticks=[], yticks=[])
    for activation, values in depth_norms.items():
        right.semilogy(range(1, len(values) + 1), values, marker="o", label=activation)
    right.set(xlabel="layer (1 = closest to the input)", ylabel="gradient norm",
              title=f"Gradient norms, depth {config.deep_depth}")
    right.legend()
    fig.tight_layout()
    fig.savefig(out / "lab2_mlp.png", dpi=120)
    print(f"saved {out / 'lab2_mlp.png'}")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
        raise SystemExit(f"{todo}\n(finish this TODO in {__file__}, then run again)") from None
