"""Lab 6 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task6_1",
        "name": "the output size from floor division of the covered pixels, the error in other words",
        "body": """
            effective = (kernel - 1) * dilation + 1
            if size + 2 * padding < effective:
                raise ValueError(f"kernel of {effective} pixels (dilation {dilation}) is larger than the padded input")
            return 1 + (size + 2 * padding - effective) // stride
        """,
    },
    {
        "task": "task6_2",
        "name": "the layers added to an empty Sequential",
        "body": """
            block = nn.Sequential()
            block.append(nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False))
            block.append(nn.BatchNorm2d(out_channels))
            if activation is not None:
                block.append(activation())
            return block
        """,
    },
    {
        "task": "task6_6",
        "block": 1,
        "name": "the confusion matrix counted with index_put_ and accumulate=True",
        "body": """
            cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
            cm.index_put_((targets.cpu().long(), preds.cpu().long()), torch.ones(len(targets), dtype=torch.int64), accumulate=True)
            return cm
        """,
    },
    {
        "task": "task6_6",
        "block": 2,
        "name": "precision and recall with nan_to_num for empty classes",
        "body": """
            cm = cm.to(torch.float64)
            hits = torch.diag(cm)
            precision = torch.nan_to_num(hits / cm.sum(0))
            recall = torch.nan_to_num(hits / cm.sum(1))
            f1 = torch.nan_to_num(2 * precision * recall / (precision + recall))
            accuracy = (hits.sum() / cm.sum()).item() if cm.sum() > 0 else 0.0
            return ClassMetrics(precision.float(), recall.float(), f1.float(), accuracy)
        """,
    },
    {
        "task": "task6_3",
        "block": 2,
        "name": "the shortcut added in place, ReLU as a module call",
        "body": """
            out = self.residual(x)
            out += self.shortcut(x)
            return torch.relu(out)
        """,
    },
    {
        "task": "task6_4",
        "block": 2,
        "name": "global average pooling with mean over the spatial dimensions",
        "body": """
            features = self.features(x).mean(dim=(2, 3))
            return self.head(self.dropout(features))
        """,
    },
    {
        "task": "task6_7",
        "block": 3,
        "name": "the groups split with a set of the head's parameters, in one pass",
        "body": """
            head = set(head_module.parameters())
            backbone, head_params = [], []
            for parameter in model.parameters():
                (head_params if parameter in head else backbone).append(parameter)
            return [{"params": backbone, "lr": backbone_lr, "name": "backbone"},
                    {"params": head_params, "lr": head_lr, "name": "head"}]
        """,
    },
    {
        "task": "task6_8",
        "block": 2,
        "name": "the stages to train counted with a ceiling, frozen ones first",
        "body": """
            k = min(len(self.stages), epoch // self.epochs_per_stage + 1)
            for stage in self.stages[k:]:
                freeze(stage)
            for stage in self.stages[:k]:
                unfreeze(stage, train=self.model.training)
            self.num_unfrozen = k
            return k
        """,
    },
]
