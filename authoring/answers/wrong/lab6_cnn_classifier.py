"""Lab 6 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # ------------------------------------------------------------------ task6_1
    {
        "task": "task6_1",
        "name": "dilation ignored",
        "why": "uses the kernel size as the span, so dilated kernels get too many positions",
        "mentions": "dilation=2",
        "body": '''
            padded = size + 2 * padding
            if kernel > padded:
                raise ValueError(f"kernel {kernel} does not fit in {padded} pixels")
            return (padded - kernel) // stride + 1
        ''',
    },
    {
        "task": "task6_1",
        "name": "padding added once",
        "why": "padding goes on both sides of the row, not one",
        "mentions": "but nn.conv2d gives",
        "patch": [
            ('''
                span = dilation * (kernel - 1) + 1  # pixels covered by the dilated kernel
                padded = size + 2 * padding
            ''', '''
                span = dilation * (kernel - 1) + 1
                padded = size + padding
            '''),
            ('''
                raise ValueError(
                    f"a kernel spanning {span} pixels does not fit in an input of {size} pixels with padding {padding}: "
                    "use a smaller kernel or dilation, or more padding"
                )
            ''', '''
                raise ValueError(f"kernel spanning {span} does not fit in {padded} pixels")
            '''),
        ],
    },
    {
        "task": "task6_1",
        "name": "no fit check",
        "why": "returns 0 or a negative size instead of raising ValueError",
        "mentions": "expected valueerror",
        "body": '''
            span = dilation * (kernel - 1) + 1
            return (size + 2 * padding - span) // stride + 1
        ''',
    },
    # ------------------------------------------------------------------ task6_2
    {
        "task": "task6_2",
        "name": "conv bias before BatchNorm",
        "why": "the BN right after the conv subtracts the mean, so the bias is wasted",
        "mentions": "no conv bias",
        "patch": [
            ('''
                layers: list[nn.Module] = [
                    nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
                    nn.BatchNorm2d(out_channels),
                ]
            ''', '''
                layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2),
                          nn.BatchNorm2d(out_channels)]
            '''),
        ],
    },
    {
        "task": "task6_2",
        "name": "no padding",
        "why": "without padding kernel_size // 2 a 3x3 conv shrinks 32 pixels to 30",
        "mentions": "keeps 32x32",
        "patch": [
            ('''
                layers: list[nn.Module] = [
                    nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, padding=kernel_size // 2, bias=False),
                    nn.BatchNorm2d(out_channels),
                ]
            ''', '''
                layers = [nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride, bias=False), nn.BatchNorm2d(out_channels)]
            '''),
        ],
    },
    {
        "task": "task6_2",
        "name": "ReLU hard-coded",
        "why": "ignores the activation argument",
        "mentions": "ends in gelu",
        "patch": [
            ('''
                layers: list[nn.Module] = [
            ''', '''
                return nn.Sequential(
            '''),
            ('''
                ]
                if activation is not None:
                    layers.append(activation())
                return nn.Sequential(*layers)
            ''', '''
                    nn.ReLU(),
                )
            '''),
        ],
    },
    # ------------------------------------------------------------------ task6_3
    {
        "task": "task6_3",
        "block": 1,
        "name": "first BN's gamma zeroed instead of the last",
        "why": "the block is still relu(shortcut(x)) at init, but no gradient ever reaches the branch",
        "mentions": "first batchnorm",
        "patch": [
            ('''
                nn.init.zeros_(self.residual[-1].weight)  # the block starts as relu(shortcut(x))
            ''', '''
                nn.init.zeros_(self.residual[0][1].weight)
            '''),
            ('''
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
            ''', '''
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(out_channels))
            '''),
        ],
    },
    {
        "task": "task6_3",
        "block": 1,
        "name": "last BN's gamma not zeroed",
        "why": "a fresh block is then not the identity",
        "mentions": "zero the last bn",
        "patch": [
            ('''
                nn.init.zeros_(self.residual[-1].weight)  # the block starts as relu(shortcut(x))
            ''', '''

            '''),
            ('''
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
            ''', '''
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(out_channels))
            '''),
        ],
    },
    {
        "task": "task6_3",
        "block": 1,
        "name": "projection without the stride",
        "why": "the residual branch downsamples, the shortcut does not: shapes differ",
        "mentions": "the projection needs stride",
        "patch": [
            ('''
                nn.init.zeros_(self.residual[-1].weight)  # the block starts as relu(shortcut(x))
            ''', '''
                nn.init.zeros_(self.residual[-1].weight)
            '''),
            ('''
                self.shortcut = nn.Sequential(
                    nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
                    nn.BatchNorm2d(out_channels),
                )
            ''', '''
                self.shortcut = nn.Sequential(nn.Conv2d(in_channels, out_channels, 1, bias=False), nn.BatchNorm2d(out_channels))
            '''),
        ],
    },
    {
        "task": "task6_3",
        "block": 2,
        "name": "no activation after the sum",
        "why": "relu(residual + shortcut): without it negative values pass through",
        "mentions": "apply the relu after adding",
        "body": '''
            return self.residual(x) + self.shortcut(x)
        ''',
    },
    {
        "task": "task6_3",
        "block": 2,
        "name": "ReLU on the branch only",
        "why": "the activation belongs after the addition, not inside the branch",
        "mentions": "apply the relu after adding",
        "body": '''
            return F.relu(self.residual(x)) + self.shortcut(x)
        ''',
    },
    # ------------------------------------------------------------------ task6_4
    {
        "task": "task6_4",
        "block": 1,
        "name": "no pooling after the third stage",
        "why": "each of the three stages ends in MaxPool2d(2) (32 -> 16 -> 8 -> 4)",
        "mentions": "one maxpool2d(2) at the end of each stage",
        "patch": [
            ('''
                *(conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2)),  # 32 -> 16
                *(conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 2 * width), nn.MaxPool2d(2)),  # 16 -> 8
                *(conv_bn_act(2 * width, 4 * width), nn.MaxPool2d(2)),  # 8 -> 4
            ''', '''
                conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2),
                conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 2 * width), nn.MaxPool2d(2),
                conv_bn_act(2 * width, 4 * width),
            '''),
        ],
    },
    {
        "task": "task6_4",
        "block": 1,
        "name": "dropout rate hard-coded",
        "why": "ignores the dropout argument",
        "mentions": "pass `dropout`",
        "patch": [
            ('''
                *(conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2)),  # 32 -> 16
                *(conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 2 * width), nn.MaxPool2d(2)),  # 16 -> 8
                *(conv_bn_act(2 * width, 4 * width), nn.MaxPool2d(2)),  # 8 -> 4
            ''', '''
                conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2),
                conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 2 * width), nn.MaxPool2d(2),
                conv_bn_act(2 * width, 4 * width), nn.MaxPool2d(2),
            '''),
            ('''
                self.dropout = nn.Dropout(dropout)
            ''', '''
                self.dropout = nn.Dropout(0.5)
            '''),
        ],
    },
    {
        "task": "task6_4",
        "block": 1,
        "name": "widths doubled once too often",
        "why": "stage widths are w, 2w, 4w (README table), not w, 2w, 4w, 8w",
        "mentions": "output channels",
        "patch": [
            ('''
                *(conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2)),  # 32 -> 16
                *(conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 2 * width), nn.MaxPool2d(2)),  # 16 -> 8
                *(conv_bn_act(2 * width, 4 * width), nn.MaxPool2d(2)),  # 8 -> 4
            ''', '''
                conv_bn_act(3, width), conv_bn_act(width, width), nn.MaxPool2d(2),
                conv_bn_act(width, 2 * width), conv_bn_act(2 * width, 4 * width), nn.MaxPool2d(2),
                conv_bn_act(4 * width, 8 * width), nn.MaxPool2d(2),
            '''),
            ('''
                self.head = nn.Linear(4 * width, num_classes)
            ''', '''
                self.head = nn.Linear(8 * width, num_classes)
            '''),
        ],
    },
    {
        "task": "task6_4",
        "block": 2,
        "name": "functional dropout that ignores eval mode",
        "why": "F.dropout defaults to training=True, so eval predictions are random",
        "mentions": "in eval mode the model is deterministic",
        "patch": [
            ('''
                return self.head(self.dropout(x))
            ''', '''
                return self.head(F.dropout(x, self.dropout.p))
            '''),
        ],
    },
    # ------------------------------------------------------------------ task6_5
    {
        "task": "task6_5",
        "block": 1,
        "name": "strided blocks instead of pooling first",
        "why": "the lesson's ResNet pools before each block so the block runs at the lower resolution",
        "mentions": "starts with maxpool2d",
        "patch": [
            ('''
                pairs = zip(widths, widths[1:])  # (in_channels, out_channels) of each stage
                self.layers = nn.Sequential(*[nn.Sequential(nn.MaxPool2d(2), ResidualBlock(*pair)) for pair in pairs])
            ''', '''
                self.layers = nn.Sequential(*[ResidualBlock(a, b, stride=2) for a, b in zip(widths, widths[1:])])
            '''),
        ],
    },
    {
        "task": "task6_5",
        "block": 1,
        "name": "every block from the stem width",
        "why": "stage i goes from widths[i] to widths[i + 1], not from widths[0]",
        "mentions": "resnet failed on an input",
        "patch": [
            ('''
                pairs = zip(widths, widths[1:])  # (in_channels, out_channels) of each stage
                self.layers = nn.Sequential(*[nn.Sequential(nn.MaxPool2d(2), ResidualBlock(*pair)) for pair in pairs])
            ''', '''
                self.layers = nn.Sequential(*[nn.Sequential(nn.MaxPool2d(2), ResidualBlock(widths[0], w)) for w in widths[1:]])
            '''),
        ],
    },
    {
        "task": "task6_5",
        "block": 2,
        "name": "dropout left out of forward",
        "why": "self.dropout is built but never applied",
        "mentions": "pass `dropout`",
        "patch": [
            ('''
                x = F.adaptive_avg_pool2d(x, 1).flatten(1)
                return self.head(self.dropout(x))
            ''', '''
                return self.head(F.adaptive_avg_pool2d(x, 1).flatten(1))
            '''),
        ],
    },
    # ------------------------------------------------------------------ task6_6
    {
        "task": "task6_6",
        "block": 1,
        "name": "rows and columns swapped",
        "why": "cm[true, predicted]: the true class picks the row",
        "mentions": "swapped",
        "body": '''
            cells = preds * num_classes + targets
            return torch.bincount(cells, minlength=num_classes * num_classes).view(num_classes, num_classes).cpu()
        ''',
    },
    {
        "task": "task6_6",
        "block": 1,
        "name": "bincount without minlength",
        "why": "classes that never occur give fewer than C*C counts",
        "mentions": "minimum length",
        "patch": [
            ('''
                counts = torch.bincount(cells, minlength=num_classes * num_classes)
                return counts.view(num_classes, num_classes).cpu()
            ''', '''
                return torch.bincount(cells).view(num_classes, num_classes).cpu()
            '''),
        ],
    },
    {
        "task": "task6_6",
        "block": 1,
        "name": "a Python loop over samples",
        "why": "correct counts, but one Python step per sample: slow on 10,000 test images",
        "mentions": "not a loop",
        "body": '''
            cm = torch.zeros(num_classes, num_classes, dtype=torch.int64)
            for t, p in zip(targets, preds):
                cm[t, p] += 1
            return cm
        ''',
    },
    {
        "task": "task6_6",
        "block": 2,
        "name": "precision and recall swapped",
        "why": "precision divides by the column sum (predicted as c), recall by the row sum",
        "mentions": ["swapped", "edit per_class_metrics()"],
        "patch": [
            ('''
                true_positives = cm.diagonal()
                precision = true_positives / cm.sum(dim=0).clamp(min=1)
                recall = true_positives / cm.sum(dim=1).clamp(min=1)
            ''', '''
                tp = cm.diagonal()
                precision = tp / cm.sum(dim=1).clamp(min=1)
                recall = tp / cm.sum(dim=0).clamp(min=1)
            '''),
            ('''
                accuracy = (true_positives.sum() / cm.sum().clamp(min=1)).item()
                return ClassMetrics(precision.float(), recall.float(), f1.float(), accuracy)
            ''', '''
                return ClassMetrics(precision.float(), recall.float(), f1.float(), (tp.sum() / cm.sum().clamp(min=1)).item())
            '''),
        ],
    },
    {
        "task": "task6_6",
        "block": 2,
        "name": "division by zero gives NaN",
        "why": "a class never predicted has column sum 0",
        "mentions": "nan",
        "body": '''
            cm = cm.double()
            tp = cm.diagonal()
            precision = tp / cm.sum(dim=0)
            recall = tp / cm.sum(dim=1)
            f1 = 2 * precision * recall / (precision + recall)
            return ClassMetrics(precision.float(), recall.float(), f1.float(), (tp.sum() / cm.sum()).item())
        ''',
    },
    # ------------------------------------------------------------------ task6_7
    {
        "task": "task6_7",
        "block": 1,
        "name": "requires_grad only",
        "why": "BN running statistics still move in training mode",
        "mentions": "frozen bn layers must stay in eval mode",
        "patch": [
            ('''
                for layer in module.modules():
                    if isinstance(layer, nn.modules.batchnorm._BatchNorm):
                        layer.eval()
                        if getattr(layer, "freeze_hook", None) is None:
                            layer.freeze_hook = layer.register_forward_pre_hook(keep_batchnorm_in_eval)
            ''', '''

            '''),
        ],
    },
    {
        "task": "task6_7",
        "block": 1,
        "name": "BN put in eval without the hook",
        "why": "a later model.train() switches the BN layers back to training",
        "mentions": "even after model.train()",
        "patch": [
            ('''
                if getattr(layer, "freeze_hook", None) is None:
                    layer.freeze_hook = layer.register_forward_pre_hook(keep_batchnorm_in_eval)
            ''', '''

            '''),
        ],
    },
    {
        "task": "task6_7",
        "block": 1,
        "name": "a new hook on every freeze",
        "why": "freezing twice stacks two hooks; unfreeze removes only the last one",
        "mentions": "registers it only once",
        "patch": [
            ('''
                if getattr(layer, "freeze_hook", None) is None:
                    layer.freeze_hook = layer.register_forward_pre_hook(keep_batchnorm_in_eval)
            ''', '''
                layer.freeze_hook = layer.register_forward_pre_hook(keep_batchnorm_in_eval)
            '''),
        ],
    },
    {
        "task": "task6_7",
        "block": 2,
        "name": "unfreeze leaves the hook in place",
        "why": "the BN layers stay in eval mode forever",
        "mentions": "unfreeze removes the hook",
        "patch": [
            ('''
                if getattr(layer, "freeze_hook", None) is not None:
                    layer.freeze_hook.remove()
                    layer.freeze_hook = None
            ''', '''

            '''),
        ],
    },
    {
        "task": "task6_7",
        "block": 3,
        "name": "head group first",
        "why": "the documented order is backbone, then head",
        "mentions": "first the backbone group",
        "body": '''
            head_ids = {id(p) for p in head_module.parameters()}
            return [
                {"params": list(head_module.parameters()), "lr": head_lr, "name": "head"},
                {"params": [p for p in model.parameters() if id(p) not in head_ids], "lr": backbone_lr, "name": "backbone"},
            ]
        ''',
    },
    {
        "task": "task6_7",
        "block": 3,
        "name": "only the trainable parameters",
        "why": "frozen parameters left out of the optimizer never train after unfreezing",
        "mentions": "every parameter in exactly one group",
        "body": '''
            head_ids = {id(p) for p in head_module.parameters()}
            backbone = [p for p in model.parameters() if id(p) not in head_ids and p.requires_grad]
            return [
                {"params": backbone, "lr": backbone_lr, "name": "backbone"},
                {"params": list(head_module.parameters()), "lr": head_lr, "name": "head"},
            ]
        ''',
    },
    # ------------------------------------------------------------------ task6_8
    {
        "task": "task6_8",
        "block": 2,
        "name": "off by one: no stage at epoch 0",
        "why": "the head trains from the first epoch: k starts at 1",
        "mentions": "epoch 0: expected 1 unfrozen",
        "patch": [
            ('''
                k = min(1 + epoch // self.epochs_per_stage, len(self.stages))
            ''', '''
                k = min(epoch // self.epochs_per_stage, len(self.stages))
            '''),
        ],
    },
    {
        "task": "task6_8",
        "block": 2,
        "name": "k not capped",
        "why": "after the last stage k keeps growing past len(stages)",
        "mentions": "unfrozen stages, step() returned",
        "patch": [
            ('''
                k = min(1 + epoch // self.epochs_per_stage, len(self.stages))
            ''', '''
                k = 1 + epoch // self.epochs_per_stage
            '''),
        ],
    },
    {
        "task": "task6_8",
        "block": 1,
        "name": "nothing frozen at construction",
        "why": "until the first step() the whole pretrained model would train",
        "mentions": "only the head trains",
        "patch": [
            ('''
                freeze(model)
            ''', '''

            '''),
        ],
    },
    # ------------------------------------------------------------------ task6_9
    {
        "task": "task6_9",
        "block": 1,
        "name": "weight decay on every parameter",
        "why": "decaying BN scales and biases only hurts",
        "mentions": "decay conv/linear weights only",
        "patch": [
            ('''
                base_groups = groups if groups is not None else [{"params": list(model.parameters()), "lr": config.lr}]
                decay_groups = weight_decay_groups(base_groups, config.weight_decay)
                optimizer = torch.optim.SGD(decay_groups, lr=config.lr, momentum=config.momentum, nesterov=True)
            ''', '''
                base = groups if groups is not None else [{"params": list(model.parameters()), "lr": config.lr}]
                optimizer = torch.optim.SGD(base, lr=config.lr, momentum=config.momentum, nesterov=True,
                                            weight_decay=config.weight_decay)
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 1,
        "name": "plain momentum, no Nesterov",
        "why": "the recipe uses Nesterov momentum",
        "mentions": "nesterov",
        "patch": [
            ('''
                base_groups = groups if groups is not None else [{"params": list(model.parameters()), "lr": config.lr}]
                decay_groups = weight_decay_groups(base_groups, config.weight_decay)
                optimizer = torch.optim.SGD(decay_groups, lr=config.lr, momentum=config.momentum, nesterov=True)
            ''', '''
                base = groups if groups is not None else [{"params": list(model.parameters()), "lr": config.lr}]
                optimizer = torch.optim.SGD(weight_decay_groups(base, config.weight_decay), lr=config.lr, momentum=config.momentum)
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 1,
        "name": "linear decay without warm-up",
        "why": "the one-cycle schedule starts at 0.1 x the peak and warms up",
        "mentions": "per-step lr should follow",
        "body": '''
            base = groups if groups is not None else [{"params": list(model.parameters()), "lr": config.lr}]
            optimizer = torch.optim.SGD(weight_decay_groups(base, config.weight_decay), lr=config.lr,
                                        momentum=config.momentum, nesterov=True)
            scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 - step / total_steps)
            return optimizer, scheduler
        ''',
    },
    {
        "task": "task6_9",
        "block": 2,
        "name": "no shuffling",
        "why": "with sorted data every batch holds one class",
        "mentions": "shuffle",
        "patch": [
            ('''
                order = torch.randperm(len(train.labels), generator=generator)
            ''', '''

            '''),
            ('''
                index = order[step * batch_size : (step + 1) * batch_size]
                x = to_input(images[index], device, config.channels_last)
                y = train.labels[index].to(device, non_blocking=True)
            ''', '''
                x = to_input(images[step * batch_size : (step + 1) * batch_size], device, config.channels_last)
                y = train.labels[step * batch_size : (step + 1) * batch_size].to(device)
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 2,
        "name": "no augmentation",
        "why": "the recipe augments every epoch (Lab 4's random_crop_flip)",
        "mentions": "augment the training images",
        "patch": [
            ('''
                images = random_crop_flip(train.images, config.translate, generator=generator)
            ''', '''

            '''),
            ('''
                x = to_input(images[index], device, config.channels_last)
                y = train.labels[index].to(device, non_blocking=True)
            ''', '''
                x = to_input(train.images[index], device, config.channels_last)
                y = train.labels[index].to(device)
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 2,
        "name": "scheduler stepped once per epoch",
        "why": "one_cycle is a per-step schedule",
        "mentions": "step the lr schedule after every batch",
        "patch": [
            ('''
                    y = train.labels[index].to(device, non_blocking=True)
                    losses.append(amp_train_step(model, (x, y), loss_fn, optimizer, scaler, device_type=device.type, dtype=dtype))
                    scheduler.step()
                return torch.stack(losses).float()
            ''', '''
                    losses.append(amp_train_step(model, (x, train.labels[index].to(device)), loss_fn, optimizer, scaler,
                                                 device_type=device.type, dtype=dtype))
                scheduler.step()
                return torch.stack(losses).float()
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 2,
        "name": "no label smoothing",
        "why": "the recipe's cross-entropy uses config.label_smoothing",
        "mentions": "label_smoothing",
        "patch": [
            ('''
                loss_fn = nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
            ''', '''

            '''),
            ('''
                y = train.labels[index].to(device, non_blocking=True)
                losses.append(amp_train_step(model, (x, y), loss_fn, optimizer, scaler, device_type=device.type, dtype=dtype))
            ''', '''
                losses.append(amp_train_step(model, (x, train.labels[index].to(device)), nn.CrossEntropyLoss(), optimizer,
                                             scaler, device_type=device.type, dtype=dtype))
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 3,
        "name": "predicting in training mode",
        "why": "dropout stays on and BN uses the test batch's statistics",
        "mentions": "in eval mode",
        "patch": [
            ('''
                model.eval()
            ''', '''

            '''),
            ('''
                with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                    logits = model(x).float()
                    if tta:
                        logits = (logits + model(x.flip(-1)).float()) / 2
            ''', '''
                logits = model(x).float()
                if tta:
                    logits = (logits + model(x.flip(-1)).float()) / 2
            '''),
            ('''
                model.train(was_training)
            ''', '''

            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 3,
        "name": "mirror along the height",
        "why": "flip(-2) turns images upside down; the mirror is left-right (the last dim)",
        "mentions": "left-right mirror",
        "patch": [
            ('''
                with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                    logits = model(x).float()
                    if tta:
                        logits = (logits + model(x.flip(-1)).float()) / 2
            ''', '''
                logits = model(x).float()
                if tta:
                    logits = (logits + model(x.flip(-2)).float()) / 2
            '''),
        ],
    },
    {
        "task": "task6_9",
        "block": 3,
        "name": "mode not restored",
        "why": "a model that was training is left in eval mode",
        "mentions": "restore the model's mode",
        "patch": [
            ('''
                with torch.autocast(device.type, dtype=dtype or torch.bfloat16, enabled=dtype is not None):
                    logits = model(x).float()
                    if tta:
                        logits = (logits + model(x.flip(-1)).float()) / 2
            ''', '''
                logits = model(x).float()
                if tta:
                    logits = (logits + model(x.flip(-1)).float()) / 2
            '''),
            ('''
                model.train(was_training)
            ''', '''

            '''),
        ],
    },
    # ------------------------------------------------------------------ task6_10
    {
        "task": "task6_10",
        "name": "no deep copy",
        "why": "replacing the head in place changes the pretrained model",
        "mentions": "work on a deep copy",
        "patch": [
            ('''
                model = replace_head(copy.deepcopy(pretrained), num_classes)
            ''', '''
                model = replace_head(pretrained, num_classes)
            '''),
        ],
    },
    {
        "task": "task6_10",
        "name": "frozen with requires_grad only",
        "why": "the backbone's BN statistics still drift during training",
        "mentions": "batchnorm statistics",
        "patch": [
            ('''
                freeze(model)
                unfreeze(head)
            ''', '''
                for parameter in model.parameters():
                    parameter.requires_grad_(False)
                for parameter in head.parameters():
                    parameter.requires_grad_(True)
            '''),
        ],
    },
    {
        "task": "task6_10",
        "name": "gradual gets only the head in the optimizer",
        "why": "stages released later are not in the optimizer and never train",
        "mentions": "every parameter is in the optimizer",
        "patch": [
            ('''
                if mode == "frozen":
            ''', '''

            '''),
        ],
    },
    {
        "task": "task6_10",
        "name": "fine-tuning the backbone at the head's LR",
        "why": "the backbone_lr_factor is ignored",
        "mentions": "backbone at head_lr x factor",
        "patch": [
            ('''
                return model, param_groups(model, head_lr * backbone_lr_factor, head_lr)
            ''', '''
                return model, param_groups(model, head_lr, head_lr)
            '''),
        ],
    },
]
