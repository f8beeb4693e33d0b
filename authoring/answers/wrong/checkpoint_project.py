"""Checkpoint project — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # ----------------------------------------------------------------------- taskc_1 the run: data and state
    {
        "task": "taskc_1",
        "name": "a plain random split, not stratified",
        "why": "a random cut of 600 images does not give every class the same share of the validation set",
        "mentions": "share",
        "patch": [
            ('''
                if config.val_size == 0:
                    train_idx, val_idx = torch.arange(len(labels)), torch.zeros(0, dtype=torch.int64)
                else:
                    train_idx, val_idx = stratified_split(labels, config.val_size / len(labels), config.seed)
            ''', '''
                order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(config.seed))
                val_idx, train_idx = order[: config.val_size], order[config.val_size :]
            '''),
        ],
    },
    {
        "task": "taskc_1",
        "name": "forgets to keep (and renumber) the run's classes",
        "why": "--classes 5,7 must train a 2-class model with labels 0 and 1",
        "mentions": "renumbered",
        "patch": [
            ('''
                images, labels = select_classes(images, labels, folder_names, class_names)
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_1",
        "name": "always holds out a validation split, even with --val-size 0",
        "why": "--val-size 0 means train on every image",
        "mentions": "every image",
        "patch": [
            ('''
                if config.val_size == 0:
                    train_idx, val_idx = torch.arange(len(labels)), torch.zeros(0, dtype=torch.int64)
                else:
                    train_idx, val_idx = stratified_split(labels, config.val_size / len(labels), config.seed)
            ''', '''
                train_idx, val_idx = stratified_split(labels, max(config.val_size, 1) / len(labels) + 0.05, config.seed)
            '''),
        ],
    },
    {
        "task": "taskc_1",
        "block": 2,
        "name": "history starts as None, not as an empty list",
        "why": "fit appends a row per epoch: a run must start with an empty history of its own",
        "mentions": "starts with",
        "patch": [("history: list[dict] = field(default_factory=list)", "history: list[dict] | None = None")],
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "num_epochs from --epochs, not from the steps",
        "why": "--epochs 2.3 is 16 steps of 7 per epoch: 3 epochs, the last partial; int(2.3) = 2 never takes the last 2 steps",
        "mentions": "partial",
        "patch": [("total_steps=total_steps, num_epochs=math.ceil(total_steps / steps_per_epoch), memory_format=memory_format)",
                   "total_steps=total_steps, num_epochs=int(config.epochs), memory_format=memory_format)")],
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "--max-steps ignored",
        "why": "--max-steps exists to cut a big config short for a quick check",
        "mentions": "--max-steps",
        "patch": [("total_steps = min(max(1, round(config.epochs * steps_per_epoch)), config.max_steps or math.inf)",
                   "total_steps = max(1, round(config.epochs * steps_per_epoch))")],
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "the optimiser built after the unfreezer has frozen the backbone",
        "why": "build_optimizer takes the trainable parameters: the frozen stages would never train once unfrozen",
        "mentions": "before the unfreezer",
        "patch": [
            ("""
                optimizer = config.build_optimizer(model, total_steps)
                amp_dtype = autocast_dtype(device, config.amp)
             """, """
                amp_dtype = autocast_dtype(device, config.amp)
             """),
            ("""
                unfreezer = GradualUnfreezer(model, default_stages(model.network), config.unfreeze_every) if config.unfreeze_every else None
             """, """
                unfreezer = GradualUnfreezer(model, default_stages(model.network), config.unfreeze_every) if config.unfreeze_every else None
                optimizer = config.build_optimizer(model, total_steps)
             """),
        ],
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "early stopping even without validation images",
        "why": "with --val-size 0 there is no accuracy to stop on: fit would feed the stopper NaN",
        "mentions": "nothing to stop on",
        "patch": [("stopper = EarlyStopping(config.patience, mode=\"max\") if len(data.val_labels) and config.patience else None",
                   "stopper = EarlyStopping(config.patience, mode=\"max\") if config.patience else None")],
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "a GradScaler that is always on",
        "why": "Lab 5: loss scaling is for fp16 only (bf16 and fp32 gradients do not underflow)",
        "mentions": "fp16",
        "patch": [("scaler=torch.amp.GradScaler(device.type, enabled=amp_dtype == torch.float16), stopper=stopper, unfreezer=unfreezer,",
                   "scaler=torch.amp.GradScaler(device.type), stopper=stopper, unfreezer=unfreezer,")],
    },
    # ----------------------------------------------------------------------- taskc_2 the network
    {
        "task": "taskc_2",
        "name": "the widths written in, not taken from the argument",
        "why": "--widths 48,96,192 must change the network",
        "mentions": "widths",
        "patch": [
            ("""
                first, *later = widths
            """, """
                first, *later = (32, 64, 128)
            """),
        ],
    },
    {
        "task": "taskc_2",
        "name": "plain convs with a bias and no batch norm",
        "why": "every conv is Lab 6's block: conv, BN, activation",
        "mentions": "conv_block",
        "patch": [
            ("""
                self.stem = nn.Sequential(conv_block(3, first, bn_momentum, pool=True), conv_block(first, first, bn_momentum))
            """, """
                self.stem = nn.Sequential(nn.Conv2d(3, first, 3, padding=1), nn.GELU(), nn.MaxPool2d(2),
                                          nn.Conv2d(first, first, 3, padding=1), nn.GELU())
            """),
        ],
    },
    {
        "task": "taskc_2",
        "name": "BN momentum left at PyTorch's default",
        "why": "the run's bn_momentum (0.4) lets the running statistics keep up in a short run",
        "mentions": "bn_momentum",
        "patch": [
            ("""
                self.stem = nn.Sequential(conv_block(3, first, bn_momentum, pool=True), conv_block(first, first, bn_momentum))
            """, """
                self.stem = nn.Sequential(conv_block(3, first, 0.1, pool=True), conv_block(first, first, 0.1))
            """),
        ],
    },
    {
        "task": "taskc_2",
        "name": "the stem at full resolution: no pooling until the second stage",
        "why": "every channel at 32x32 costs 16 times what it costs at 8x8: the design is far over the time budget",
        "mentions": "multiply-adds",
        "patch": [
            ("""
                self.stem = nn.Sequential(conv_block(3, first, bn_momentum, pool=True), conv_block(first, first, bn_momentum))
            """, """
                self.stem = nn.Sequential(conv_block(3, first, bn_momentum), conv_block(first, first, bn_momentum))
            """),
        ],
    },
    {
        "task": "taskc_2",
        "name": "the later stages kept in a plain Python list",
        "why": "a list does not register its modules: their parameters are neither trained nor saved",
        "mentions": "Python list",
        "patch": [
            ("""
                self.layers = nn.Sequential(*stages)
            """, """
                self.layers = stages
            """),
        ],
    },
    {
        "task": "taskc_2",
        "block": 2,
        "name": "the logits not scaled",
        "why": "logit_scale keeps a fresh network's softmax soft",
        "mentions": "logit_scale",
        "patch": [
            ("""
                return self.head(vector) * self.logit_scale
            """, """
                return self.head(vector)
            """),
        ],
    },
    # ----------------------------------------------------------------------- taskc_3 one epoch
    {
        "task": "taskc_3",
        "name": "no warm-up: the schedule starts at the peak",
        "why": "the triangle rises from 0 over the warm-up fraction",
        "mentions": "expected",
        "body": '''
            return peak * max(0.0, 1 - step / max(total_steps, 1))
        ''',
    },
    {
        "task": "taskc_3",
        "name": "the decay goes negative after total_steps",
        "why": "the LR stays at 0 after the end of the schedule",
        "mentions": "expected",
        "patch": [
            ('''
                return peak * max(0.0, (1 - fraction) / (1 - warmup))
            ''', '''
                return peak * (1 - fraction) / (1 - warmup)
            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 2,
        "name": "\"alternate\" draws new coins every epoch",
        "why": "then an image can be seen the same way two epochs in a row",
        "mentions": "both ways",
        "patch": [
            ('''
                if mode == "random" or epoch == 0:
                    return torch.rand(len(indices), generator=generator) < 0.5
                coins = torch.rand(int(indices.max()) + 1, generator=torch.Generator().manual_seed(seed + 99)) < 0.5
                return coins[indices] ^ bool(epoch % 2)
            ''', '''
                return torch.rand(len(indices), generator=generator) < 0.5
            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 2,
        "name": "\"alternate\" mirrors every image on odd epochs",
        "why": "the whole batch flipped at once is not augmentation",
        "mentions": "half",
        "patch": [
            ('''
                if mode == "random" or epoch == 0:
                    return torch.rand(len(indices), generator=generator) < 0.5
                coins = torch.rand(int(indices.max()) + 1, generator=torch.Generator().manual_seed(seed + 99)) < 0.5
                return coins[indices] ^ bool(epoch % 2)
            ''', '''
                return torch.full((len(indices),), bool(epoch % 2))
            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "Lab 4's coin flips instead of this epoch's flip mask",
        "why": "random_crop_flip takes the alternating policy through flip=",
        "mentions": "flip",
        "patch": [
            ('''
                flips = flip_mask(batch, epoch, config.seed, config.flip, generator)
            ''', '''

            '''),
            ('''
                images = random_crop_flip(images, config.translate, generator, flip=flips)
            ''', '''
                images = random_crop_flip(images, config.translate, generator)
            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "ignores total_steps (--max-steps)",
        "why": "the step budget can end in the middle of an epoch",
        "mentions": "max-steps",
        "patch": [
            ('''
                for batch in batches[: run.total_steps - run.step]:
            ''', '''
                for batch in batches:
            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "forgets to set the learning rate",
        "why": "the optimizer keeps its initial LR: no warm-up, no decay",
        "mentions": "lr",
        "patch": [
            ('''
                config.set_learning_rate(run.optimizer, run.step, run.total_steps, epoch)
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "every epoch scaled down, not only the low-resolution ones",
        "why": "the last epochs must train at the size the network is tested at",
        "mentions": "epoch 2 on 32x32",
        "patch": [("if config.low_res_epoch(epoch):", "if config.low_res_fraction:")],
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "crops a low_res_size square instead of scaling the image down",
        "why": "a crop keeps the scale and throws away the edges; at 24 of 32 pixels it loses 44% of every image",
        "mentions": "scaled down",
        "patch": [("images = F.interpolate(images, size=config.low_res_size, mode=\"bilinear\", antialias=True)",
                   "images = images[..., : config.low_res_size, : config.low_res_size]")],
    },
    # ----------------------------------------------------------------------- taskc_4 sharded validation
    {
        "task": "taskc_4",
        "name": "every rank scores every image",
        "why": "then the sum over ranks counts each image world_size times",
        "mentions": "rank 1 of 2",
        "body": '''
            logits = predict_logits(model, images, amp_dtype=amp_dtype)
            loss_sum = F.cross_entropy(logits, labels, reduction="sum").item()
            correct = (logits.argmax(1) == labels).sum().item()
            loss_sum, correct, count = sum_over_ranks([loss_sum, correct, len(labels)], device)
            return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}
        ''',
    },
    {
        "task": "taskc_4",
        "name": "the mean of the ranks' means",
        "why": "the README's warning: the shares can differ by one image, so means of means are off",
        "mentions": "sums the loss of its share",
        "patch": [
            ('''
                loss_sum, correct, count = sum_over_ranks([loss_sum, correct, len(targets)], device)
                return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}
            ''', '''
                mean_loss, mean_accuracy = sum_over_ranks([loss_sum / len(targets), correct / len(targets)], device)
                return {"loss": mean_loss / world_size, "accuracy": mean_accuracy / world_size}
            '''),
        ],
    },
    {
        "task": "taskc_4",
        "name": "returns the sums instead of the means",
        "why": "loss and accuracy are per image: divide by the count",
        "mentions": "expected loss",
        "patch": [
            ('''
                return {"loss": loss_sum / max(count, 1), "accuracy": correct / max(count, 1)}
            ''', '''
                return {"loss": loss_sum, "accuracy": correct}
            '''),
        ],
    },
    # ----------------------------------------------------------------------- taskc_5 checkpoints
    {
        "task": "taskc_5",
        "name": "writes last.pt before best.pt",
        "why": "a crash between the writes then leaves best.pt stale for good",
        "mentions": "first",
        "patch": [
            ('''
                             early_stopping=run.stopper.state_dict() if run.stopper else None)
                if run.stopper is not None and run.stopper.improved:
                    save_checkpoint(run.out / "best.pt", **state)
                save_checkpoint(run.out / "last.pt", **state)
            ''', '''
                             early_stopping=run.stopper.state_dict() if run.stopper else None)
                save_checkpoint(run.out / "last.pt", **state)
                if run.stopper is not None and run.stopper.improved:
                    save_checkpoint(run.out / "best.pt", **state)
            '''),
        ],
    },
    {
        "task": "taskc_5",
        "name": "writes best.pt every epoch",
        "why": "best.pt is the best validation epoch, not the latest",
        "mentions": "without improvement",
        "patch": [
            ('''
                if run.stopper is not None and run.stopper.improved:
            ''', '''
                if run.stopper is not None:
            '''),
        ],
    },
    {
        "task": "taskc_5",
        "name": "saves the weights and counters but not the early-stopping state",
        "why": "a resumed run would forget how many epochs it has not improved",
        "mentions": "early_stopping",
        "patch": [
            ('''
                state = dict(model=run.model, optimizer=run.optimizer, epoch=run.epoch,
                             best=run.stopper.best if run.stopper else None, config=config, recipe=type(run.config).__name__,
                             class_names=run.data.class_names, history=run.history, step=run.step, train_seconds=run.train_seconds,
                             stopped_early=run.stopped_early, scaler=run.scaler.state_dict(),
                             early_stopping=run.stopper.state_dict() if run.stopper else None)
            ''', '''
                state = dict(model=run.model, optimizer=run.optimizer, epoch=run.epoch, config=config,
                             recipe=type(run.config).__name__, class_names=run.data.class_names, history=run.history,
                             step=run.step, train_seconds=run.train_seconds, stopped_early=run.stopped_early,
                             scaler=run.scaler.state_dict())
            '''),
        ],
    },
    {
        "task": "taskc_5",
        "block": 2,
        "name": "restores the weights but not the optimizer",
        "why": "SGD's momentum buffers are part of the state: without them the resumed run differs",
        "mentions": "momentum",
        "patch": [
            ('''
                checkpoint = load_checkpoint(path, run.model, run.optimizer)
            ''', '''
                checkpoint = load_checkpoint(path, run.model)
            '''),
            ('''
                log(f"resumed from {path} at epoch {run.epoch} (step {run.step})")
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_5",
        "block": 2,
        "name": "restores the weights but starts the counters from zero",
        "why": "the loop would train from epoch 1 again, with the LR schedule restarted",
        "mentions": "restores the epoch",
        "patch": [
            ('''
                extra = checkpoint["extra"]
                run.scaler.load_state_dict(extra["scaler"])
                if run.stopper is not None:
                    run.stopper.load_state_dict(extra["early_stopping"])
                run.epoch, run.step, run.history = checkpoint["epoch"], extra["step"], extra["history"]
                run.train_seconds, run.stopped_early = extra["train_seconds"], extra["stopped_early"]
                log(f"resumed from {path} at epoch {run.epoch} (step {run.step})")
            ''', '''
                run.scaler.load_state_dict(checkpoint["extra"]["scaler"])
            '''),
        ],
    },
    {
        "task": "taskc_5",
        "block": 3,
        "name": "--resume ignores every flag, --epochs too",
        "why": "--resume --epochs 12 must lengthen the run, not silently keep its old schedule",
        "mentions": "--epochs and --max-steps",
        "body": """
            return saved
        """,
    },
    {
        "task": "taskc_5",
        "block": 3,
        "name": "the command line's flags silently replace the saved config",
        "why": "--resume --seed 3 would continue a seed-7 run with another data order: a different run, no longer exact",
        "mentions": "contradicts",
        "body": """
            return dataclasses.replace(saved, **overrides)
        """,
    },
    # ----------------------------------------------------------------------- taskc_6 the loop
    {
        "task": "taskc_6",
        "name": "forgets model.train() after validation",
        "why": "evaluate_split leaves the model in eval mode: BN would stop learning its statistics",
        "mentions": "training mode",
        "patch": [
            ('''
                run.model.train()
                if run.unfreezer is not None:
                    log(f"epoch {epoch + 1}: {run.unfreezer.step(epoch)} of {len(run.unfreezer.stages)} stages trainable")
            ''', '''

            '''),
            ('''
                log(f"early stopping: no validation improvement for {run.config.patience} epochs")
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_6",
        "name": "never checks the loss is finite",
        "why": "a NaN run would be saved (and could become best.pt)",
        "mentions": "raise",
        "patch": [
            ('''
                if run.unfreezer is not None:
                    log(f"epoch {epoch + 1}: {run.unfreezer.step(epoch)} of {len(run.unfreezer.stages)} stages trainable")
            ''', '''

            '''),
            ('''
                stop_if_not_finite(train_loss, epoch)
            ''', '''

            '''),
            ('''
                log(f"early stopping: no validation improvement for {run.config.patience} epochs")
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_6",
        "name": "stops early before saving the epoch",
        "why": "the last epoch's checkpoint is then never written",
        "mentions": "last.pt",
        "patch": [
            ('''
                if run.unfreezer is not None:
                    log(f"epoch {epoch + 1}: {run.unfreezer.step(epoch)} of {len(run.unfreezer.stages)} stages trainable")
                started = time.perf_counter()
            ''', '''

            '''),
            ('''
                run.train_seconds += time.perf_counter() - started
            ''', '''

            '''),
            ('''
                run.stopped_early = run.stopper is not None and not run.config.low_res_epoch(epoch) and run.stopper.step(val["accuracy"])
            ''', '''
                run.stopped_early = run.stopper is not None and not run.config.low_res_epoch(epoch) and run.stopper.step(val["accuracy"])
                if run.stopped_early:
                    break
            '''),
            ('''
                if run.stopped_early:
                    log(f"early stopping: no validation improvement for {run.config.patience} epochs")
                    break
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_6",
        "name": "early stopping judges the low-resolution epochs too",
        "why": "a low-resolution epoch validated at full size scores low: patience runs out before the full-size epochs",
        "mentions": "full-size epochs only",
        "patch": [("""run.stopped_early = run.stopper is not None and not run.config.low_res_epoch(epoch) and run.stopper.step(val["accuracy"])""",
                   """run.stopped_early = run.stopper is not None and run.stopper.step(val["accuracy"])""")],
    },
    # ----------------------------------------------------------------------- taskc_7 TensorBoard
    {
        "task": "taskc_7",
        "name": "writes the events into the run folder itself",
        "why": "the README and the tests read OUT/tensorboard",
        "mentions": "out/tensorboard",
        "patch": [
            ('''
                run.writer = SummaryWriter(str(run.out / "tensorboard"))
            ''', '''
                run.writer = SummaryWriter(str(run.out))
            '''),
        ],
    },
    {
        "task": "taskc_7",
        "name": "no sample grid",
        "why": "the grid shows what the network is fed",
        "mentions": "sample grid",
        "patch": [
            ('''
                run.writer.add_image("samples/train", torchvision.utils.make_grid(run.data.train_images[:64].float() / 255, nrow=8), 0)
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_7",
        "block": 2,
        "name": "forgets the learning rate",
        "why": "the LR curve is how you see the schedule",
        "mentions": "'lr'",
        "patch": [
            ('''
                run.writer.add_scalar("lr", run.optimizer.param_groups[0]["lr"], run.step)
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_7",
        "block": 2,
        "name": "tags without groups",
        "why": "tags like train_loss do not group the curves (the tests and README use loss/train)",
        "mentions": "loss/train",
        "body": '''
            run.writer.add_scalar("train_loss", record["train_loss"], run.step)
            run.writer.add_scalar("val_loss", record["val_loss"], run.step)
            run.writer.add_scalar("val_accuracy", record["val_accuracy"], run.step)
            run.writer.add_scalar("lr", run.optimizer.param_groups[0]["lr"], run.step)
        ''',
    },
    {
        "task": "taskc_7",
        "block": 3,
        "name": "no confusion-matrix figure",
        "why": "the figure shows which classes are confused",
        "mentions": "confusion",
        "patch": [
            ('''
                log(f"val accuracy (tta={run.config.tta}) {metrics['val_accuracy']:.4f}")
                matrix = confusion_matrix(logits.argmax(1), run.data.val_labels, len(run.data.class_names))
                run.writer.add_figure("confusion_matrix/val", confusion_figure(matrix, run.data.class_names, "validation"), run.step)
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_7",
        "block": 3,
        "name": "the final accuracy is not put into the metrics",
        "why": "metrics.json reports the validation accuracy with TTA",
        "mentions": "val accuracy",
        "patch": [
            ('''
                metrics["val_accuracy"] = (logits.argmax(1) == run.data.val_labels).float().mean().item()
                log(f"val accuracy (tta={run.config.tta}) {metrics['val_accuracy']:.4f}")
            ''', '''

            '''),
            ('''
                hparams = {k: (str(v) if isinstance(v, (tuple, list)) else v) for k, v in dataclasses.asdict(run.config).items()}
                run.writer.add_hparams(hparams, {"hparam/val_accuracy": metrics["val_accuracy"] or math.nan}, run_name=".")
            ''', '''

            '''),
        ],
    },
    # ----------------------------------------------------------------------- taskc_8 evaluation
    {
        "task": "taskc_8",
        "name": "averages the views instead of summing them",
        "why": "the views are summed (the weights are 1, 1, and 0.5 for the shifted ones)",
        "mentions": "tta=1",
        "patch": [
            ('''
                logits = logits + model(batch.flip(3)).float()
            ''', '''
                logits = (logits + model(batch.flip(3)).float()) / 2
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "name": "the shifted views at full weight",
        "why": "the four shifted views count half each (total weight 4)",
        "mentions": "total weight 4",
        "patch": [
            ('''
                logits = logits + 0.5 * (model(view).float() + model(view.flip(3)).float())
            ''', '''
                logits = logits + model(view).float() + model(view.flip(3)).float()
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 2,
        "name": "sums the members' probabilities",
        "why": "the ensemble is their mean: probabilities must sum to 1",
        "mentions": "sum to 1",
        "patch": [
            ('''
                return torch.stack(members).mean(0), members
            ''', '''
                return torch.stack(members).sum(0), members
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 2,
        "name": "averages the members' logits, then one softmax",
        "why": "the member with the larger logits decides; with near-uniform members the log-loss check cannot tell",
        "mentions": "mean of each member's softmax",
        "body": '''
            logits = [predict_logits(model, images, tta=tta, amp_dtype=amp_dtype) for model in models]
            return torch.stack(logits).mean(0).softmax(dim=1), [member.softmax(dim=1) for member in logits]
        ''',
    },
    {
        "task": "taskc_8",
        "block": 2,
        "name": "log-probabilities instead of probabilities",
        "why": "log_softmax values are negative: their mean is not a distribution",
        "mentions": "sum to 1",
        "patch": [
            ('''
                members = [predict_logits(model, images, tta=tta, amp_dtype=amp_dtype).softmax(dim=1) for model in models]
            ''', '''
                members = [predict_logits(model, images, tta=tta, amp_dtype=amp_dtype).log_softmax(dim=1) for model in models]
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 3,
        "name": "confusion matrix with predictions as rows",
        "why": "rows are the true classes (Lab 6's convention), so a row's sum is that class's support",
        "mentions": "true classes",
        "patch": [
            ('''
                models = [m.to(device, memory_format=torch.channels_last if device.type != "mps" else torch.contiguous_format) for m in models]
            ''', '''
                models = [m.to(device, memory_format=torch.channels_last) for m in models]
            '''),
            ('''
                matrix = confusion_matrix(predictions, labels, len(extra["class_names"]))
            ''', '''
                matrix = confusion_matrix(labels, predictions, len(extra["class_names"]))
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 3,
        "name": "accuracy as a percentage",
        "why": "metrics.json holds fractions (0.86, not 86)",
        "mentions": "fraction",
        "patch": [
            ('''
                models = [m.to(device, memory_format=torch.channels_last if device.type != "mps" else torch.contiguous_format) for m in models]
            ''', '''
                models = [m.to(device, memory_format=torch.channels_last) for m in models]
            '''),
            ('''
                metrics.update(accuracy=(predictions == labels).float().mean().item(), log_loss=log_loss(probabilities, labels),
            ''', '''
                metrics.update(accuracy=100 * (predictions == labels).float().mean().item(), log_loss=log_loss(probabilities, labels),
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 4,
        "name": "the class index instead of its name",
        "why": "predict prints class names, which come from the checkpoint",
        "patch": [
            ('''
                results = [{"file": path, "class": extra["class_names"][p.argmax().item()], "probability": p.max().item()}
            ''', '''
                results = [{"file": path, "class": p.argmax().item(), "probability": p.max().item()}
            '''),
        ],
    },
    {
        "task": "taskc_8",
        "block": 4,
        "name": "only the first file",
        "why": "every image file given gets a prediction",
        "body": '''
            probabilities, _ = ensemble_probabilities(models, load_image_files(args.images[:1]), tta=args.tta)
            results = [{"file": args.images[0], "class": extra["class_names"][probabilities[0].argmax().item()],
                        "probability": probabilities[0].max().item()}]
        ''',
    },
    # ----------------------------------------------------------------------- taskc_9 ONNX
    {
        "task": "taskc_9",
        "name": "no dynamic batch dimension",
        "why": "the file then only accepts the example's batch size",
        "mentions": "dynamic",
        "patch": [
            ('''
                dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},), dynamo=True,
                external_data=False, verbose=False)
            ''', '''
                dynamo=True, external_data=False, verbose=False)
            '''),
        ],
    },
    {
        "task": "taskc_9",
        "name": "weights in a separate model.onnx.data file",
        "why": "a copied .onnx alone then fails to load",
        "mentions": "model.onnx.data",
        "patch": [
            ('''
                external_data=False, verbose=False)
            ''', '''
                external_data=True, verbose=False)
            '''),
        ],
    },
    {
        "task": "taskc_9",
        "block": 2,
        "name": "compares with the model in training mode",
        "why": "BatchNorm in training mode normalises with the batch's statistics",
        "mentions": "differ",
        "patch": [
            ('''
                torch_logits = model.float().eval().cpu()(images.float()).numpy()
            ''', '''
                torch_logits = model.float().train().cpu()(images.float()).numpy()
            '''),
        ],
    },
    {
        "task": "taskc_9",
        "block": 2,
        "name": "never runs the model: measures the ONNX logits alone",
        "why": "a check must compare the two runtimes",
        "mentions": "compare",
        "patch": [
            ('''
                with torch.no_grad():
                    torch_logits = model.float().eval().cpu()(images.float()).numpy()
                return float(np.abs(onnx_logits - torch_logits).max())
            ''', '''
                return float(np.abs(onnx_logits - onnx_logits).max())
            '''),
        ],
    },
    {
        "task": "taskc_9",
        "block": 3,
        "name": "prints the difference but never fails on it",
        "why": "a round trip that cannot fail checks nothing",
        "mentions": "did not raise",
        "patch": [
            ('''
                print(f"wrote {path}; onnxruntime vs PyTorch max abs difference on a batch of {len(images)}: {difference:.2e}")
                if difference > 1e-4:
                    raise SystemExit(f"error: ONNX output differs from PyTorch by {difference:.2e} (> 1e-4)")
            ''', '''
                print(f"wrote {path}; onnxruntime vs PyTorch max abs difference: {difference:.2e}")
            '''),
        ],
    },
    {
        "task": "taskc_9",
        "block": 3,
        "name": "exports next to the checkpoint instead of to --out",
        "why": "the file goes where the user asked",
        "patch": [
            ('''
                path = export_onnx(models[0], out, images[:2].float())
            ''', '''
                path = export_onnx(models[0], Path(args.checkpoint).with_suffix(".onnx"), images[:2].float())
            '''),
            ('''
                print(f"wrote {path}; onnxruntime vs PyTorch max abs difference on a batch of {len(images)}: {difference:.2e}")
            ''', '''

            '''),
        ],
    },
    # ----------------------------------------------------------------------- taskc_10 DDP
    {
        "task": "taskc_10",
        "name": "nccl always",
        "why": "nccl needs GPUs: on the CPU the backend is gloo (Lab 5's distributed_device says which)",
        "mentions": "gloo",
        "patch": [
            ('''
                device, backend = distributed_device(device_choice or "auto")
                if device.type == "cuda":
                    torch.cuda.set_device(device)
                dist.init_process_group(backend=backend)
            ''', '''
                device, _ = distributed_device(device_choice or "auto")
                dist.init_process_group(backend="nccl")
            '''),
        ],
    },
    {
        "task": "taskc_10",
        "name": "picks the device but never joins the process group",
        "why": "DDP and all_reduce need the group",
        "mentions": "join the process group",
        "patch": [
            ('''
                if device.type == "cuda":
                    torch.cuda.set_device(device)
                dist.init_process_group(backend=backend)
                return device, dist.get_rank(), dist.get_world_size()
            ''', '''
                return device, int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
            '''),
        ],
    },
    {
        "task": "taskc_10",
        "block": 2,
        "name": "keeps the last incomplete batch",
        "why": "ranks would take different numbers of steps (and DDP hangs)",
        "mentions": "3 full batches",
        "patch": [
            ('''
                steps = len(permutation) // batch_size
            ''', '''
                steps = math.ceil(len(permutation) / batch_size)
            '''),
        ],
    },
    {
        "task": "taskc_10",
        "block": 2,
        "name": "each rank takes a contiguous half of the epoch",
        "why": "each step's shares must make up one global batch of the shared permutation",
        "mentions": ["global batch", "edit shard_batches()"],
        "body": '''
            share = len(permutation) // world_size
            mine = permutation[rank * share : (rank + 1) * share]
            per_rank = batch_size // world_size
            return [mine[i * per_rank : (i + 1) * per_rank] for i in range(len(permutation) // batch_size)]
        ''',
    },
    {
        "task": "taskc_10",
        "block": 3,
        "name": "compiles but never wraps in DDP",
        "why": "without DDP the gradients are not averaged over the processes",
        "mentions": "distributeddataparallel",
        "body": '''
            return torch.compile(model) if compile_it else model
        ''',
    },
    {
        "task": "taskc_10",
        "block": 3,
        "name": "passes a GPU index on the CPU",
        "why": "device_ids is for CUDA only; on the CPU it is None",
        "mentions": "device_ids",
        "patch": [
            ('''
                net = model
                if world_size > 1:
                    net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
            ''', '''
                net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index or 0]) if world_size > 1 else model
            '''),
        ],
    },
    # ----------------------------------------------------------------------- taskc_11 the command line
    {
        "task": "taskc_11",
        "block": 1,
        "name": "train goes into a folder that holds a run",
        "why": "a second train with the same --out would overwrite last.pt and best.pt of a finished run",
        "mentions": "refuses a folder that holds a run",
        "patch": [("""
            if previous and not resuming and not overwrite:
                raise SystemExit(f"error: {out} already holds a run ({', '.join(previous)}): continue it with --resume, "
                                 f"pick a new --out, or pass --overwrite to replace it")
        """, "")],
    },
    {
        "task": "taskc_11",
        "block": 1,
        "name": "the folder is created but never proved writable",
        "why": "a read-only folder is then found only when the first checkpoint is saved, an epoch of work later",
        "mentions": "cannot write there",
        "patch": [("""
                (out / ".write-test").write_text("ok")
                (out / ".write-test").unlink()
        """, "")],
    },
    {
        "task": "taskc_11",
        "block": 1,
        "name": "refuses the folder even when resuming",
        "why": "--resume continues the run in that very folder",
        "mentions": "only for a fresh train",
        "patch": [("if previous and not resuming and not overwrite:", "if previous and not overwrite:")],
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "--resume never calls resume",
        "why": "the run then starts again from epoch 1",
        "mentions": "first run",
        "patch": [
            ('''
                if args.resume:
                    resume(run, Path(args.resume) if args.resume != "auto" else run.out / "last.pt")
                if run.stopped_early:
                    log(f"this run had already stopped early at epoch {run.epoch}: nothing to train")
                elif run.device.type == "cuda" or config.compile:
            ''', '''
                if run.device.type == "cuda" or config.compile:
            '''),
            ('''
                if not run.stopped_early:
                    fit(run)
            ''', '''
                fit(run)
            '''),
        ],
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "writes metrics.json before training",
        "why": "the file must hold the run's history",
        "patch": [
            ('''
                if run.stopped_early:
                    log(f"this run had already stopped early at epoch {run.epoch}: nothing to train")
                elif run.device.type == "cuda" or config.compile:
                    rank_batch = len(range(config.batch_size)[run.rank :: run.world_size])
                    metrics["warmup_seconds"] = warm_up(run.net, run.model, (rank_batch, 3, 32, 32), run.memory_format, run.amp_dtype)
            ''', '''

            '''),
            ('''
                if not run.stopped_early:
                    fit(run)
            ''', '''
                if run.rank == 0:
                    (run.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
                fit(run)
            '''),
            ('''
                (run.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
            ''', '''

            '''),
        ],
    },
    {
        "task": "taskc_11",
        "block": 3,
        "name": "--resume takes the command line's config",
        "why": "a resumed run keeps its saved config (seed, validation split, ...)",
        "mentions": "checkpoint's config",
        "patch": [
            ('''
                if args.resume:
                    config = config_for_resume(Path(args.resume) if args.resume != "auto" else Path(args.out) / "last.pt", config_class, overrides)
                else:
                    config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
            ''', '''
                config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
            '''),
            ('''
                except (CheckpointError, OSError) as error:  # a bad checkpoint file; a missing file; a failed save (Lab 3)
            ''', '''
                except (CheckpointError, OSError) as error:
            '''),
        ],
    },
    {
        "task": "taskc_11",
        "block": 3,
        "name": "lets checkpoint errors through as tracebacks",
        "why": "a bad file is the user's to fix: one line that names it",
        "mentions": "ends in a traceback",
        "patch": [
            ('''
                try:
                    if args.command != "train":
                        return {"evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
                    overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if getattr(args, f.name) is not None}
                    if args.resume:
                        config = config_for_resume(Path(args.resume) if args.resume != "auto" else Path(args.out) / "last.pt", config_class, overrides)
                    else:
                        config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
                    return train(config, args)
                except (CheckpointError, OSError) as error:  # a bad checkpoint file; a missing file; a failed save (Lab 3)
                    raise SystemExit(f"error: {error}") from None
            ''', '''
                if args.command != "train":
                    return {"evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
                overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if getattr(args, f.name) is not None}
                if args.resume:
                    config = config_for_resume(Path(args.resume) if args.resume != "auto" else Path(args.out) / "last.pt", config_class, overrides)
                else:
                    config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
                return train(config, args)
            '''),
        ],
    },
    {
        "task": "taskc_11",
        "block": 3,
        "name": "turns only CheckpointError into one line",
        "why": "a missing file or a failed save (a full disk) is the user's to fix too: one line that names the file",
        "mentions": "traceback",
        "patch": [
            ('''
                except (CheckpointError, OSError) as error:  # a bad checkpoint file; a missing file; a failed save (Lab 3)
            ''', '''
                except CheckpointError as error:
            '''),
        ],
    },
]
