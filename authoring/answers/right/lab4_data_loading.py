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
        "block": 1,
        "name": "advanced indexing for the crop, then torch.where for the mirror",
        "why": "the slowest vectorised form measured (two full passes, an (N, H, W, C) result permuted back): "
               "the speed floor of the tests must still pass it",
        "patch": [
            ('''
                padded_w = w + 2 * padding
                rows = dy[:, None] + torch.arange(h, device=device)  # (N, H)
                cols = dx[:, None] + torch.arange(w, device=device)  # (N, W)
                cols = torch.where(flip[:, None], cols.flip(1), cols)  # reading columns backwards = mirror image
                positions = (rows[:, :, None] * padded_w + cols[:, None, :]).reshape(n, 1, h * w)  # (N, 1, H*W)
                flat = padded.reshape(n, c, -1)  # (N, C, H2*W2)
                return flat.gather(2, positions.expand(n, c, h * w)).reshape(n, c, h, w)
            ''', '''
                rows = dy[:, None, None] + torch.arange(h, device=device)[None, :, None]  # (N, H, 1)
                cols = dx[:, None, None] + torch.arange(w, device=device)[None, None, :]  # (N, 1, W)
                batch = torch.arange(n, device=device)[:, None, None]
                crops = padded[batch, :, rows, cols].permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
                return torch.where(flip[:, None, None, None], crops.flip(-1), crops)
            '''),
        ],
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
