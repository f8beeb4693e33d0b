"""Checkpoint project — correct answers that differ from the reference where the README leaves a
choice: each must pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "taskc_4",
        "name": "the count first in the list summed over the ranks",
        "why": "the README asks for sums and counts summed over the processes, in no particular order",
        "patch": [("loss_sum, correct, count = sum_over_ranks([loss_sum, correct, len(targets)], device)",
                   "count, loss_sum, correct = sum_over_ranks([len(targets), loss_sum, correct], device)")],
    },
    {
        "task": "taskc_7",
        "block": 3,
        "name": "the summary line in other words",
        "why": "the wording of a printed line is the learner's; only rank 0 prints it",
        "patch": [("""log(f"val accuracy (tta={run.config.tta}) {metrics['val_accuracy']:.4f}")""",
                   """log(f"validation accuracy with TTA level {run.config.tta}: {100 * metrics['val_accuracy']:.2f}%")""")],
    },
    {
        "task": "taskc_2",
        "block": 1,
        "name": "the covariance from torch.cov and eigenvectors divided column by column",
        "why": "another route to the same filters: torch.cov on the (12, P) patch matrix, the scaling before the transpose",
        "body": """
            patches = F.unfold(images.float(), kernel_size=2).permute(1, 0, 2).reshape(12, -1)
            covariance = torch.cov(patches, correction=0)
            eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
            filters = (eigenvectors / torch.sqrt(eigenvalues + eps)).T.reshape(12, 3, 2, 2)
            return torch.cat([filters, -filters])
        """,
    },
    {
        "task": "taskc_3",
        "block": 1,
        "name": "the schedule as the minimum of the rising and the falling line",
        "body": """
            if total_steps <= 0 or step >= total_steps:
                return 0.0
            fraction = step / total_steps
            rising = fraction / warmup if warmup > 0 else 1.0
            return peak * max(0.0, min(rising, (1 - fraction) / (1 - warmup)))
        """,
    },
    {
        "task": "taskc_10",
        "block": 2,
        "name": "the shards cut with a stride over whole batches, one list comprehension per rank",
        "patch": [("""
            steps = len(permutation) // batch_size
            return [permutation[i * batch_size : (i + 1) * batch_size][rank::world_size] for i in range(steps)]
        """, """
            whole = permutation[: len(permutation) // batch_size * batch_size].view(-1, batch_size)
            return [batch[rank::world_size] for batch in whole]
        """)],
    },
    {
        "task": "taskc_8",
        "block": 4,
        "name": "the predictions listed with topk(1) and names looked up in a loop",
        "body": """
            probabilities, _ = ensemble_probabilities(models, load_image_files(args.images), tta=args.tta)
            best, index = probabilities.topk(1, dim=1)
            results = []
            for path, p, i in zip(args.images, best[:, 0].tolist(), index[:, 0].tolist()):
                results.append({"file": path, "class": extra["class_names"][i], "probability": p})
        """,
    },
]
