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
    {
        "task": "task4_5",
        "block": 2,
        "name": "the split drawn per class with one shared permutation, then the classes picked from it",
        "body": """
            generator = torch.Generator().manual_seed(seed)
            order = torch.randperm(len(labels), generator=generator)
            train, val = [], []
            for c in labels.unique():
                members = order[labels[order] == c]
                k = round(len(members) * val_fraction)
                val.append(members[:k])
                train.append(members[k:])
            empty = torch.empty(0, dtype=torch.long)
            return (torch.sort(torch.cat(train)).values if train else empty,
                    torch.sort(torch.cat(val)).values if val else empty)
        """,
    },
    {
        "task": "task4_4",
        "block": 2,
        "name": "normalisation written as two broadcast tensors and out-of-place arithmetic",
        "body": """
            shape = (1, images.shape[1], 1, 1)
            mean_t = torch.tensor(mean, dtype=torch.float32, device=images.device).reshape(shape)
            std_t = torch.tensor(std, dtype=torch.float32, device=images.device).reshape(shape)
            return (images.float() / 255.0 - mean_t) / std_t
        """,
    },
]
