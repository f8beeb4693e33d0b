"""Lab 1 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # task1_1 — pairwise_sq_distances
    {
        "task": "task1_1",
        "name": "no size-1 dimensions",
        "why": "x - y pairs row i with row i only (and fails when N != M): the README's first common mistake",
        "mentions": "shape",
        "body": '''
            return ((x - y) ** 2).sum(dim=-1)
        ''',
    },
    {
        "task": "task1_1",
        "name": "distances instead of squared distances",
        "why": "takes the square root at the end, so it matches torch.cdist, not cdist ** 2",
        "mentions": "differ",
        "patch": [
            ('''
                return (diff * diff).sum(dim=-1)
            ''', '''
                return (diff * diff).sum(dim=-1).sqrt()
            '''),
        ],
    },
    {
        "task": "task1_1",
        "name": "double Python loop",
        "why": "correct numbers, but the lesson is broadcasting",
        "mentions": "broadcasting",
        "body": '''
            out = x.new_zeros(x.shape[0], y.shape[0])
            for i in range(x.shape[0]):
                for j in range(y.shape[0]):
                    out[i, j] = ((x[i] - y[j]) ** 2).sum()
            return out
        ''',
    },
    {
        "task": "task1_1",
        "name": "torch.cdist",
        "why": "uses the library function the task asks to write",
        "mentions": "cdist",
        "body": '''
            return torch.cdist(x, y) ** 2
        ''',
    },
    # task1_2 — one_hot
    {
        "task": "task1_2",
        "name": "no range check",
        "why": "label 3 raises IndexError, label -1 silently writes the last column",
        "mentions": "a valueerror naming the label",
        "patch": [
            ('''
                bad = labels[(labels < 0) | (labels >= num_classes)]
                if bad.numel():
                    raise ValueError(f"labels must lie in [0, {num_classes}); got out-of-range label(s) {bad.unique().tolist()}")
                out = torch.zeros(labels.shape[0], num_classes, dtype=torch.float32, device=labels.device)
                out[torch.arange(labels.shape[0], device=labels.device), labels] = 1.0
            ''', '''
                out = torch.zeros(labels.shape[0], num_classes, dtype=torch.float32)
                out[torch.arange(labels.shape[0]), labels] = 1.0
            '''),
        ],
    },
    {
        "task": "task1_2",
        "name": "checks only the upper bound",
        "why": "forgets negative labels, which wrap around instead of failing",
        "mentions": "-1",
        "body": '''
            if labels.numel() and labels.max() >= num_classes:
                raise ValueError(f"label {labels.max().item()} is not below num_classes={num_classes}")
            out = torch.zeros(labels.shape[0], num_classes, dtype=torch.float32)
            out[torch.arange(labels.shape[0]), labels] = 1.0
            return out
        ''',
    },
    {
        "task": "task1_2",
        "name": "F.one_hot as is",
        "why": "returns int64, and its own error for a bad label is not a ValueError",
        "mentions": "float32",
        "body": '''
            return torch.nn.functional.one_hot(labels, num_classes)
        ''',
    },
    # task1_3 — masked_mean
    {
        "task": "task1_3",
        "name": "count not broadcast along dim",
        "why": "counts the mask's own entries: a (1, D) mask with dim=0 gives [4., 0.] instead of [2., 0.]",
        "mentions": "broadcasts along dim",
        "patch": [
            ('''
                weights = mask.to(x.dtype).expand_as(x)
            ''', '''
                weights = mask.to(x.dtype)
            '''),
        ],
    },
    {
        "task": "task1_3",
        "name": "no guard for an empty mask",
        "why": "0 / 0 gives NaN for a row whose mask is all False",
        "mentions": "nan",
        "patch": [
            ('''
                total = (x * weights).sum(dim=dim)
                count = weights.sum(dim=dim)
                return total / count.clamp(min=1)
            ''', '''
                return (x * weights).sum(dim=dim) / weights.sum(dim=dim)
            '''),
        ],
    },
    {
        "task": "task1_3",
        "name": "boolean indexing flattens",
        "why": "x[mask] is 1-D, so the mean is over everything, not per row",
        "mentions": "shape",
        "body": '''
            return x[mask.expand_as(x)].mean()
        ''',
    },
    # task1_4 — normalize_rows
    {
        "task": "task1_4",
        "name": "no eps: zero rows become NaN",
        "why": "divides by the raw norm, 0 / 0 for a row of zeros",
        "mentions": "zero row",
        "body": '''
            return x / x.norm(dim=1, keepdim=True)
        ''',
    },
    {
        "task": "task1_4",
        "name": "norms over the wrong dimension",
        "why": "dim=0 normalises columns, not rows",
        "mentions": "norm 1",
        "body": '''
            return x / x.norm(dim=0, keepdim=True).clamp(min=eps)
        ''',
    },
    # task1_5 — numerical_grad
    {
        "task": "task1_5",
        "name": "divides by eps instead of 2 * eps",
        "why": "the central difference spans 2 eps: every gradient comes out doubled",
        "mentions": "max difference",
        "patch": [
            ('''
                grad[i] = (plus - minus) / (2 * eps)
            ''', '''
                grad[i] = (plus - minus) / eps
            '''),
        ],
    },
    {
        "task": "task1_5",
        "name": "perturbs the caller's tensor and never restores it",
        "why": "no copy and no reset: x changes and later entries see earlier perturbations",
        "mentions": "must not modify x",
        "patch": [
            ('''
                x = x.detach().clone()
            ''', '''

            '''),
            ('''
                flat[i] = original
            ''', '''

            '''),
        ],
    },
    # task1_6 — LogSumExp
    {
        "task": "task1_6",
        "block": 1,
        "name": "naive log(sum(exp(x)))",
        "why": "no max subtracted: exp(1000) overflows to inf",
        "mentions": "overflow",
        "patch": [
            ('''
                m = x.amax(dim=dim, keepdim=True)
                m = torch.where(torch.isfinite(m), m, torch.zeros_like(m))  # all -inf rows: avoid inf - inf
                lse = m + (x - m).exp().sum(dim=dim, keepdim=True).log()
            ''', '''
                lse = x.exp().sum(dim=dim, keepdim=True).log()
            '''),
        ],
    },
    {
        "task": "task1_6",
        "block": 2,
        "name": "ignores grad_output",
        "why": "returns softmax(x) alone: right only when the incoming gradient is all ones",
        "mentions": ["grad_output", "edit LogSumExp.backward()"],
        "patch": [
            ('''
                softmax = (x - lse).exp()
                return grad_output.unsqueeze(ctx.dim) * softmax, None
            ''', '''
                return (x - lse).exp(), None
            '''),
        ],
    },
    {
        "task": "task1_6",
        "block": 2,
        "name": "no None for dim",
        "why": "backward must return one value per forward input (x and dim)",
        "mentions": "one value per forward input",
        "patch": [
            ('''
                softmax = (x - lse).exp()
                return grad_output.unsqueeze(ctx.dim) * softmax, None
            ''', '''
                return grad_output.unsqueeze(ctx.dim) * (x - lse).exp()
            '''),
        ],
    },
    # task1_7 — graph_edges / to_dot
    {
        "task": "task1_7",
        "block": 1,
        "name": "no visited set",
        "why": "a node reached twice (y * y + y) is expanded every time, so its edges repeat",
        "mentions": "expand each node once",
        "patch": [
            ('''
                edges: list[tuple[str, str]] = []
            ''', '''
                edges = []
            '''),
            ('''
                seen = {t.grad_fn}
            ''', '''

            '''),
            ('''
                if child is None:
                    continue
                edges.append((node_name(node), node_name(child)))
                if child not in seen:
                    seen.add(child)
            ''', '''
                if child is not None:
                    edges.append((node_name(node), node_name(child)))
            '''),
        ],
    },
    {
        "task": "task1_7",
        "block": 1,
        "name": "deduplicates by name",
        "why": "a set of name pairs merges the two inputs of a * b into one edge",
        "mentions": "one edge per input",
        "patch": [
            ('''
                edges: list[tuple[str, str]] = []
            ''', '''
                edges = []
            '''),
            ('''
                seen = {t.grad_fn}
                stack = [t.grad_fn]
            ''', '''
                seen, stack = {t.grad_fn}, [t.grad_fn]
            '''),
            ('''
                edges.append((node_name(node), node_name(child)))
            ''', '''
                if (node_name(node), node_name(child)) not in edges:
                    edges.append((node_name(node), node_name(child)))
            '''),
        ],
    },
    {
        "task": "task1_7",
        "block": 2,
        "name": "a node line per visit",
        "why": "without a visited set the shared node of y gets two node lines (and its edges twice)",
        "mentions": "one node line per graph node",
        "patch": [
            ('''
                lines = ["digraph autograd {", "  node [shape=box];"]
                if t.grad_fn is not None:
                    seen = {t.grad_fn}
                    stack = [t.grad_fn]
                    while stack:
                        node = stack.pop()
                        lines.append(f'  n{id(node)} [label="{node_name(node)}"];')
                        for child, _ in node.next_functions:
                            if child is None:
                                continue
            ''', '''
                lines = ["digraph autograd {"]
                stack = [t.grad_fn] if t.grad_fn is not None else []
                while stack:
                    node = stack.pop()
                    lines.append(f'  n{id(node)} [label="{node_name(node)}"];')
                    for child, _ in node.next_functions:
                        if child is not None:
            '''),
            ('''
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
            ''', '''
                stack.append(child)
            '''),
        ],
    },
    # task1_8 — fit_linear_regression
    {
        "task": "task1_8",
        "name": "never zeroes .grad",
        "why": "gradients accumulate across steps, so the updates grow and the loss goes up",
        "mentions": "accumulating",
        "patch": [
            ('''
                w.grad = None
                b.grad = None
            ''', '''

            '''),
        ],
    },
    {
        "task": "task1_8",
        "name": "sum instead of mean",
        "why": "the sum of squares is N times larger, so lr=0.1 diverges",
        "mentions": "diverged",
        "patch": [
            ('''
                loss = ((X @ w + b - y) ** 2).mean()
            ''', '''
                loss = ((X @ w + b - y) ** 2).sum()
            '''),
        ],
    },
    {
        "task": "task1_8",
        "name": "stores tensors in the loss history",
        "why": "appends the loss tensor instead of loss.item(): the history holds graphs, not numbers",
        "mentions": "plain floats",
        "patch": [
            ('''
                losses.append(loss.item())
            ''', '''
                losses.append(loss)
            '''),
        ],
    },
    {
        "task": "task1_8",
        "name": "update without torch.no_grad()",
        "why": "autograd records the in-place update of a leaf that requires grad, and refuses it",
        "mentions": "no_grad",
        "patch": [
            ('''
                with torch.no_grad():
                    w -= lr * w.grad
                    b -= lr * b.grad
            ''', '''
                w -= lr * w.grad
                b -= lr * b.grad
            '''),
        ],
    },
    {
        "task": "task1_8",
        "name": "rebinding w instead of updating in place",
        "why": "w = w - lr * w.grad makes w a non-leaf: the next backward leaves its .grad None",
        "mentions": "not a leaf",
        "patch": [
            ('''
                with torch.no_grad():
                    w -= lr * w.grad
                    b -= lr * b.grad
                w.grad = None
                b.grad = None
            ''', '''
                w = w - lr * w.grad
                b = b - lr * b.grad
            '''),
        ],
    },
]
