"""Lab 1 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task1_1",
        "name": "the expanded square |x|^2 - 2 x.y + |y|^2, clamped at zero",
        "why": "another algorithm: one matrix product instead of an (N, M, D) difference tensor",
        "body": """
            squared = (x * x).sum(dim=1)[:, None] - 2 * x @ y.T + (y * y).sum(dim=1)[None, :]
            return squared.clamp(min=0)
        """,
    },
    {
        "task": "task1_2",
        "name": "scatter_ instead of advanced indexing, any() for the range check",
        "body": """
            if ((labels < 0) | (labels >= num_classes)).any():
                raise ValueError(f"every label must be in [0, {num_classes}); got {labels.min().item()}..{labels.max().item()}")
            out = torch.zeros(len(labels), num_classes, device=labels.device)
            return out.scatter_(1, labels[:, None], 1.0)
        """,
    },
    {
        "task": "task1_3",
        "name": "where() to zero the masked values, count with sum of the broadcast mask",
        "body": """
            mask = mask.expand_as(x)
            total = torch.where(mask, x, torch.zeros_like(x)).sum(dim)
            count = mask.sum(dim).to(x.dtype)
            return total / torch.clamp(count, min=1)
        """,
    },
    {
        "task": "task1_4",
        "name": "the norm from a square root of the sum of squares, maximum() as the floor",
        "body": """
            norms = torch.sqrt((x * x).sum(dim=1, keepdim=True))
            return x / torch.maximum(norms, torch.tensor(eps, dtype=x.dtype))
        """,
    },
    {
        "task": "task1_5",
        "name": "perturbs a fresh copy per coordinate instead of restoring in place",
        "body": """
            grad = torch.zeros_like(x)
            with torch.no_grad():
                for index in range(x.numel()):
                    step = torch.zeros_like(x).view(-1)
                    step[index] = eps
                    step = step.view_as(x)
                    grad.view(-1)[index] = (f(x + step).item() - f(x - step).item()) / (2 * eps)
            return grad
        """,
    },
    {
        "task": "task1_6",
        "block": 2,
        "name": "the softmax recomputed from x instead of from the saved log-sum-exp",
        "patch": [("""
            x, lse = ctx.saved_tensors
            softmax = (x - lse).exp()
        """, """
            x, _ = ctx.saved_tensors
            softmax = torch.softmax(x, dim=ctx.dim)
        """)],
    },
    {
        "task": "task1_7",
        "block": 1,
        "name": "a breadth-first walk with a deque",
        "body": """
            from collections import deque

            edges = []
            if t.grad_fn is None:
                return edges
            queue, seen = deque([t.grad_fn]), {t.grad_fn}
            while queue:
                node = queue.popleft()
                for child, _ in node.next_functions:
                    if child is not None:
                        edges.append((node_name(node), node_name(child)))
                        if child not in seen:
                            seen.add(child)
                            queue.append(child)
            return edges
        """,
    },
    {
        "task": "task1_8",
        "name": "zeroes the gradients with grad.zero_() and keeps w and b as one parameter list",
        "patch": [("""
                w.grad = None
                b.grad = None
        """, """
                for parameter in (w, b):
                    parameter.grad.zero_()
        """)],
    },
]
