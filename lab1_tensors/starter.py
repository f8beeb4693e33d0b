# Starter file: written by authoring/make_starters.py from solution.py (text sha256 eb7a4ebe742b9848).
# Replace each `raise NotImplementedError("TODO(...)")` with your code.
"""Lab 1 — Tensors & Autograd (starter: your work goes here).

What this lab teaches: how tensors broadcast and index, how autograd records a graph of
operations and walks it backwards, how to check a gradient numerically, how to write your
own backward pass, and — the deliverable — linear regression with nothing but tensors and
autograd (no torch.nn, no torch.optim).

Tasks, in the README's order:
    task1_1  pairwise_sq_distances   broadcasting instead of loops
    task1_2  one_hot                 indexing and scatter
    task1_3  masked_mean             reductions with a mask, empty masks included
    task1_4  normalize_rows          safe division, zero rows included
    task1_5  numerical_grad          central differences, the ground truth for gradients
    task1_6  LogSumExp               a custom autograd.Function with a hand-written backward
    task1_7  graph_edges / to_dot    the computational graph behind .backward()
    task1_8  fit_linear_regression   gradient descent by hand (the deliverable)

Run the demo:   python lab1_tensors/starter.py   (prints the fit, writes lab1_tensors/outputs/lab1_loss.png)
Grade yourself: pytest -m lab1                    (this file; --impl solution grades solution.py)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

# Hyperparameters of the demo, in one place.


@dataclass
class DemoConfig:
    num_samples: int = 256
    num_features: int = 3
    noise_std: float = 0.05
    lr: float = 0.1
    steps: int = 300
    seed: int = 0


# ---------------------------------------------------------------------------
# task1_1 — Pairwise squared distances with broadcasting
# ---------------------------------------------------------------------------


def pairwise_sq_distances(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Squared Euclidean distance between every row of x and every row of y.

    x: (N, D) float tensor, y: (M, D) float tensor -> (N, M) tensor, out[i, j] = ||x[i] - y[j]||^2.
    Broadcasting turns the double loop into one tensor expression: it is the same trick
    behind k-NN, attention scores and the RBF kernel.
    """
    # Hint: give x and y each a size-1 dimension in a different place, so that one
    # subtraction produces every (row of x, row of y) difference at once: (N, M, D).
    # size: two lines on purpose, the whole idea is one broadcast expression.
    raise NotImplementedError('TODO(task1_1): Return the (N, M) squared distances using broadcasting only (no loops, no torch.cdist).')


# ---------------------------------------------------------------------------
# task1_2 — One-hot encoding with indexing
# ---------------------------------------------------------------------------


def one_hot(labels: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Encode integer labels as one-hot rows.

    labels: (N,) int64 tensor with values in [0, num_classes) -> (N, num_classes) float32 tensor.
    Raises ValueError for a label outside the range: silently writing out of bounds is
    the classic bug this guards against.
    """
    # Hint: check the labels before writing anything (a negative index does not fail, it
    # wraps around to the last column). Then start from zeros and write one 1.0 per row,
    # with one indexing operation rather than a loop.
    raise NotImplementedError('TODO(task1_2): Return a (N, num_classes) float32 tensor with a single 1.0 per row; ValueError naming any bad label.')


# ---------------------------------------------------------------------------
# task1_3 — Masked mean
# ---------------------------------------------------------------------------


def masked_mean(x: torch.Tensor, mask: torch.Tensor, dim: int) -> torch.Tensor:
    """Mean of x over `dim`, counting only positions where mask is True.

    x: float tensor; mask: bool tensor broadcastable to x. Returns x's shape without `dim`.
    Where the mask selects nothing the result is 0 (not NaN): padded sequences in a batch
    hit this case, and one NaN would poison a whole training step.
    """
    # Hint: the mask may be smaller than x (shape (D,), or size 1 along dim) and still
    # select entries in every row. So count the selected entries of *x*, not of the mask:
    # give the mask x's full shape before you count. An empty selection must not divide by 0.
    raise NotImplementedError('TODO(task1_3): Return the mean of the selected entries over dim, with 0 (not NaN) where nothing is selected.')


# ---------------------------------------------------------------------------
# task1_4 — Row normalisation
# ---------------------------------------------------------------------------


def normalize_rows(x: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    """Scale each row of x to unit L2 norm.

    x: (N, D) float tensor -> (N, D) tensor of the same dtype. A row of zeros stays zeros
    (dividing by max(norm, eps) instead of norm), which is what F.normalize does too.
    """
    # Hint: keep the reduced dimension when you compute the norms, so the division
    # broadcasts over each row; a zero row must not become NaN.
    # size: two lines on purpose, the idea is one safe division.
    raise NotImplementedError('TODO(task1_4): Divide each row by max(its L2 norm, eps), keeping zero rows at zero.')


# ---------------------------------------------------------------------------
# task1_5 — Numerical gradients
# ---------------------------------------------------------------------------


def numerical_grad(f, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """Gradient of a scalar function f at x by central differences.

    f: callable taking a tensor shaped like x and returning a 0-dim tensor.
    x: float tensor (use float64: with float32 the rounding error swamps eps).
    Returns a tensor shaped like x with (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) at i.
    This is how you check any backward pass you write by hand (task1_6).
    """
    # Hint: work on a copy (the caller's x must not change) and nudge one entry at a time,
    # both ways, putting it back afterwards. A flat view of the copy lets one loop reach
    # every entry whatever the shape; no graph is needed for these evaluations.
    raise NotImplementedError('TODO(task1_5): Return the central-difference gradient of f at x, same shape as x.')


# ---------------------------------------------------------------------------
# task1_6 — A custom autograd Function: stable log-sum-exp
# ---------------------------------------------------------------------------


class LogSumExp(torch.autograd.Function):
    """log(sum(exp(x), dim)) computed stably, with a hand-written backward.

    forward: x (..., D) float tensor, dim int -> x's shape without dim.
    The naive formula overflows for x > 88 in float32; subtracting the max first does
    not. The gradient of logsumexp is softmax(x), which is what backward returns
    (times the incoming gradient).
    """

    @staticmethod
    def forward(ctx, x: torch.Tensor, dim: int) -> torch.Tensor:
        # Hint: log-sum-exp does not change if you subtract a constant from every entry and
        # add it back outside the log: pick the row maximum so exp() never overflows.
        # Save what backward needs on ctx (the input and the result).
        raise NotImplementedError('TODO(task1_6): Compute the stable log-sum-exp over dim and save tensors for backward.')

    @staticmethod
    def backward(ctx, grad_output: torch.Tensor):
        # Hint: the derivative of log-sum-exp is the softmax of x, which you can rebuild
        # from what forward saved. backward returns one value per forward input.
        raise NotImplementedError('TODO(task1_6): Return the gradient for x (the incoming gradient times the softmax along dim) and None for dim.')


def logsumexp(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """Convenience wrapper: LogSumExp.apply(x, dim)."""
    return LogSumExp.apply(x, dim)


# ---------------------------------------------------------------------------
# task1_7 — The computational graph
# ---------------------------------------------------------------------------


def node_name(fn) -> str:
    """Name of a graph node: its class name, e.g. 'MulBackward0' or 'AccumulateGrad'."""
    return type(fn).__name__


def graph_edges(t: torch.Tensor) -> list[tuple[str, str]]:
    """Edges of the graph that produced t, from t.grad_fn down to the leaves.

    Returns a list of (parent, child) node names in depth-first order: one pair per input
    of each node, every node expanded once. So (a * a).sum() gives
    [('SumBackward0', 'MulBackward0'), ('MulBackward0', 'AccumulateGrad'), ('MulBackward0', 'AccumulateGrad')]:
    the multiplication has two inputs (both a), and a's node is expanded only once.
    A leaf tensor (grad_fn is None) has no edges. This is the graph .backward() walks.
    """
    # Hint: every node lists its inputs in .next_functions (None for an input that needs
    # no gradient). A node can be reached twice, e.g. in y * y: list each input, but
    # walk below a node only the first time you meet it.
    raise NotImplementedError('TODO(task1_7): Walk the graph depth-first from t.grad_fn and return (parent, child) name pairs, one per input.')


def to_dot(t: torch.Tensor) -> str:
    """Graphviz DOT text for the graph behind t (paste it into any DOT viewer).

    Every node gets an id from id(node), so two nodes of the same type stay distinct.
    """
    raise NotImplementedError('TODO(task1_7): Return DOT text: one labelled line per graph node and one arrow line per edge, in a digraph.')


# ---------------------------------------------------------------------------
# task1_8 — Deliverable: linear regression with tensors and autograd only
# ---------------------------------------------------------------------------


@dataclass
class LinearFit:
    weight: torch.Tensor  # (D,)
    bias: torch.Tensor  # 0-dim
    losses: list[float]  # mean squared error before each step


def fit_linear_regression(X: torch.Tensor, y: torch.Tensor, lr: float = 0.1, steps: int = 500) -> LinearFit:
    """Fit y ≈ X @ w + b by full-batch gradient descent on the mean squared error.

    X: (N, D) float tensor, y: (N,) float tensor. Returns LinearFit with detached w (D,),
    b (0-dim) and the loss history (one float per step). No torch.nn, no torch.optim:
    you create the parameters with requires_grad=True, call loss.backward(), update them
    inside torch.no_grad() and zero their .grad — the four lines every optimizer hides.
    """
    # Hint: forget to reset the gradients and they accumulate across steps; update the
    # parameters with autograd recording and it records the update itself.
    raise NotImplementedError('TODO(task1_8): Run `steps` gradient-descent steps on w (D,) and b (scalar) and return LinearFit.')


# ---------------------------------------------------------------------------
# Demo
# ---------------------------------------------------------------------------


def make_regression_data(config: DemoConfig):
    """Synthetic data y = X @ w_true + b_true + noise, seeded."""
    generator = torch.Generator().manual_seed(config.seed)
    X = torch.randn(config.num_samples, config.num_features, generator=generator)
    w_true = torch.arange(1, config.num_features + 1, dtype=torch.float32)
    b_true = torch.tensor(-0.5)
    y = X @ w_true + b_true + config.noise_std * torch.randn(config.num_samples, generator=generator)
    return X, y, w_true, b_true


def tour_of_the_pieces() -> None:
    """Tasks 1.1-1.7 once each, in order (a starter meets its TODOs in the README's order)."""
    x, y = torch.tensor([[0.0, 0.0], [1.0, 1.0]]), torch.tensor([[1.0, 0.0]])
    print("1.1 pairwise_sq_distances:", pairwise_sq_distances(x, y).tolist())
    print("1.2 one_hot([2, 0], 3):", one_hot(torch.tensor([2, 0]), 3).tolist())
    values, mask = torch.tensor([[1.0, 2.0], [3.0, 4.0]]), torch.tensor([[True, False]])
    print("1.3 masked_mean(dim=0) with a mask that broadcasts along dim:", masked_mean(values, mask, dim=0).tolist())
    rows = normalize_rows(torch.tensor([[3.0, 4.0], [0.0, 0.0]]))
    print("1.4 normalize_rows keeps a zero row at zero:", [[round(v, 4) for v in row] for row in rows.tolist()])
    point = torch.tensor([1.0, 2.0], dtype=torch.float64)
    print("1.5 numerical_grad of sum(x^2) at [1, 2]:", [round(v, 6) for v in numerical_grad(lambda t: (t**2).sum(), point).tolist()])
    big = torch.tensor([[1000.0, 1000.0]], requires_grad=True)
    lse = logsumexp(big, dim=1)
    lse.sum().backward()
    print(f"1.6 logsumexp([1000, 1000]) = {lse.item():.4f} (no overflow); its gradient "
          f"{[round(v, 3) for v in big.grad[0].tolist()]}")


def main(config: DemoConfig = DemoConfig()):
    tour_of_the_pieces()
    X, y, w_true, b_true = make_regression_data(config)
    a = torch.tensor([1.0, 2.0], requires_grad=True)
    loss = (a * a).sum()
    print("1.7 graph of (a * a).sum():", " ; ".join(f"{p} -> {c}" for p, c in graph_edges(loss)))
    print("1.8 fit_linear_regression:")
    fit = fit_linear_regression(X, y, lr=config.lr, steps=config.steps)
    print(f"true   w = {w_true.tolist()}, b = {b_true.item():+.3f}")
    print(f"fitted w = {[round(v, 3) for v in fit.weight.tolist()]}, b = {fit.bias.item():+.3f}")
    print(f"loss: {fit.losses[0]:.4f} -> {fit.losses[-1]:.4f} in {config.steps} steps")

    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    out = Path(__file__).resolve().parent / "outputs"  # git-ignored
    out.mkdir(exist_ok=True)
    fig, ax = plt.subplots(figsize=(5, 3.5))
    ax.semilogy(fit.losses)
    ax.set(xlabel="step", ylabel="mean squared error", title="Lab 1: linear regression by hand")
    fig.tight_layout()
    fig.savefig(out / "lab1_loss.png", dpi=120)
    print(f"saved {out / 'lab1_loss.png'}")


if __name__ == "__main__":
    try:
        main()
    except NotImplementedError as todo:  # a starter with TODOs left: one line, not a traceback
        raise SystemExit(f"{todo}\n(finish this TODO in {__file__}, then run again)") from None
