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
    {
        "task": "task6_5",
        "block": 1,
        "name": "the stages appended in an index loop to an empty nn.Sequential",
        "why": "the README asks that model.layers[i] be stage i (pooling, then a ResidualBlock); how the stages "
               "are collected is the learner's choice",
        "patch": [("""
            pairs = zip(widths, widths[1:])  # (in_channels, out_channels) of each stage
            self.layers = nn.Sequential(*[nn.Sequential(nn.MaxPool2d(2), ResidualBlock(*pair)) for pair in pairs])
        """, """
            self.layers = nn.Sequential()
            for i in range(1, len(widths)):
                stage = nn.Sequential(nn.MaxPool2d(kernel_size=2, stride=2), ResidualBlock(widths[i - 1], widths[i]))
                self.layers.append(stage)
        """)],
    },
    {
        "task": "task6_5",
        "block": 2,
        "name": "a loop over the stages and the global average written as a mean over height and width",
        "body": """
            features = self.stem(x)
            for stage in self.layers:
                features = stage(features)
            return self.head(self.dropout(features.mean(dim=(-2, -1))))
        """,
    },
    {
        "task": "task6_9",
        "block": 1,
        "name": "the schedule's factor given as functools.partial of one_cycle; the default group built by hand",
        "body": """
            if groups is None:
                groups = [{"params": [p for p in model.parameters()], "lr": config.lr}]
            optimizer = torch.optim.SGD(
                weight_decay_groups(groups, config.weight_decay),
                lr=config.lr, momentum=config.momentum, nesterov=True,
            )
            factor = functools.partial(one_cycle, total_steps=total_steps, warmup_fraction=config.warmup_fraction)
            return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=factor)
        """,
    },
    {
        "task": "task6_9",
        "block": 2,
        "name": "the batches taken as the rows of the permutation reshaped to (steps, batch_size)",
        "why": "the README fixes augment-then-shuffle, one amp_train_step per full batch and a scheduler step after "
               "each; how a batch's indices are cut from the order is the learner's choice",
        "body": """
            model.train()
            images = random_crop_flip(train.images, config.translate, generator=generator)
            order = torch.randperm(len(train.labels), generator=generator)
            smoothed = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
            losses = []
            for batch in order[: num_steps * batch_size].view(num_steps, batch_size):
                x = to_input(images[batch], device, config.channels_last)
                y = train.labels[batch].to(device)
                losses.append(amp_train_step(model, (x, y), smoothed, optimizer, scaler,
                                             device_type=device.type, dtype=dtype))
                scheduler.step()
            return torch.stack(losses).float().cpu() if losses else torch.zeros(0)
        """,
    },
    {
        "task": "task6_9",
        "block": 3,
        "name": "both views in one forward pass of 2B images; every module's own mode restored",
        "why": "the README asks for eval mode, no gradients, the logits averaged with those of the mirrored images "
               "and the mode restored; in eval mode each image's logits do not depend on the rest of the batch, "
               "so one forward of image and mirror together gives the same average",
        "body": """
            modes = {module: module.training for module in model.modules()}
            model.eval()
            try:
                chunks = []
                for batch in images.split(batch_size):
                    x = to_input(batch, device, channels_last)
                    views = torch.cat([x, x.flip(3)]) if tta else x
                    with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
                        logits = model(views).float()
                    if tta:
                        plain, mirrored = logits.chunk(2)
                        logits = (plain + mirrored) / 2
                    chunks.append(logits.cpu())
                return torch.cat(chunks)
            finally:
                for module, mode in modes.items():
                    module.training = mode
        """,
    },
    {
        "task": "task6_10",
        "name": "every child but the head frozen one by one; the frozen mode's group built without param_groups",
        "why": "the README asks for a copy with a new head, a frozen backbone (BN included) in frozen and gradual "
               "mode, and the optimizer groups of each mode; freezing each non-head child leaves the new head "
               "trainable without an unfreeze",
        "body": """
            model = replace_head(copy.deepcopy(pretrained), num_classes)
            name = head_name(model)
            if mode in ("frozen", "gradual"):
                for child_name, child in model.named_children():
                    if child_name != name:
                        freeze(child)
            if mode == "frozen":
                return model, [{"params": list(getattr(model, name).parameters()), "lr": head_lr, "name": "head"}]
            return model, param_groups(model, backbone_lr=head_lr * backbone_lr_factor, head_lr=head_lr, head=name)
        """,
    },
    {
        "task": "task6_6",
        "block": 2,
        "name": "the metrics returned in float64, as computed",
        "why": "the docstring asks for (C,) float tensors: float64 is one (found by a learner trial)",
        "patch": [("return ClassMetrics(precision.float(), recall.float(), f1.float(), accuracy)",
                   "return ClassMetrics(precision, recall, f1, accuracy)")],
    },
]
