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
]
