"""Lab 4 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task4_3",
        "block": 2,
        "name": "the evaluation transform with PILToTensor and a scale-then-normalise order",
        "body": """
            steps = [v2.PILToTensor(), v2.ToImage(), v2.ToDtype(torch.float32, scale=True)]
            steps.append(v2.Normalize(mean=[float(m) for m in mean], std=[float(s) for s in std]))
            return v2.Compose(steps)
        """,
    },
    {
        "task": "task4_6",
        "block": 1,
        "name": "the worker seed taken from torch.utils.data.get_worker_info()",
        "why": "the worker's seed is base_seed + worker id either way",
        "body": """
            info = torch.utils.data.get_worker_info()
            seed = (info.seed if info is not None else torch.initial_seed()) % 2**32
            random.seed(seed)
            np.random.seed(seed)
        """,
    },
    {
        "task": "task4_7",
        "block": 1,
        "name": "class weights as the mean count over each class's count",
        "patch": [("return (counts.sum() / (len(counts) * counts)).to(torch.float32)",
                   "return counts.float().mean() / counts.float()")],
    },
]
