"""Checkpoint project — correct answers that differ from the reference where the README leaves a
choice: each must pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "taskc_3",
        "block": 3,
        "name": "the low-resolution images from torchvision's transforms.v2 resize",
        "why": "any resize of the whole image is right; v2.functional.resize works on a batch",
        "patch": [("images = F.interpolate(images, size=config.low_res_size, mode=\"bilinear\", antialias=True)",
                   "from torchvision.transforms.v2.functional import resize\n"
                   "images = resize(images, [config.low_res_size] * 2, antialias=True)")],
    },
    {
        "task": "taskc_5",
        "block": 3,
        "name": "values shown as typed on the command line (16,32,32), only the schedule's flags applied",
        "why": "the README asks for the flag and both values in any format; a flag equal to the saved value changes nothing",
        "body": """
            def shown(value):
                return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)

            for name, wanted in overrides.items():
                kept = getattr(saved, name)
                if name not in ("epochs", "max_steps") and tuple(np.atleast_1d(wanted)) != tuple(np.atleast_1d(kept)):
                    flag = "--" + name.replace("_", "-")
                    raise SystemExit(f"error: cannot resume {path} with {flag} {shown(wanted)}: it was trained with {flag} {shown(kept)}")
            schedule = {name: value for name, value in overrides.items() if name in ("epochs", "max_steps")}
            return dataclasses.replace(saved, **schedule)
        """,
    },
    {
        "task": "taskc_11",
        "block": 1,
        "name": "writability proved with tempfile.TemporaryFile (O_TMPFILE on Linux)",
        "why": "an unnamed temporary file is a real write into the folder, as good a proof as a named one",
        "body": """
            import tempfile

            if previous and not resuming and not overwrite:
                raise SystemExit(f"error: {out} holds a run: --resume continues it, --overwrite replaces it")
            try:
                out.mkdir(parents=True, exist_ok=True)
                with tempfile.TemporaryFile(dir=out) as probe:
                    probe.write(b"x")
            except OSError as error:
                raise SystemExit(f"error: cannot write into {out} ({error.strerror or error})") from None
        """,
    },
    {
        "task": "taskc_11",
        "block": 1,
        "name": "writability proved with a temporary file, the refusal in other words",
        "why": "how the folder is tested and how the line is worded are the learner's; it names the folder and the ways out",
        "body": """
            import tempfile

            if previous and not (resuming or overwrite):
                raise SystemExit(f"error: the run folder {out} is in use ({len(previous)} files of an earlier run); "
                                 f"use --resume to continue that run or --overwrite to start over")
            try:
                out.mkdir(parents=True, exist_ok=True)
                with tempfile.NamedTemporaryFile(dir=out):
                    pass
            except OSError as error:
                raise SystemExit(f"error: {out} is not a folder I can write to ({error})") from None
        """,
    },
    {
        "task": "taskc_5",
        "block": 3,
        "name": "the differences found by comparing the two configs as dicts, reported in other words",
        "why": "the README asks for one line naming the flag and both values, in no set wording",
        "body": """
            asked = dataclasses.replace(saved, **overrides)
            changed = {k: (v, dataclasses.asdict(asked)[k]) for k, v in dataclasses.asdict(saved).items()
                       if v != dataclasses.asdict(asked)[k] and k not in {"epochs", "max_steps"}}
            if changed:
                name, (was, now) = next(iter(changed.items()))
                raise SystemExit(f"error: this run was trained with --{name.replace('_', '-')} {was}; it cannot resume with {now}")
            return asked
        """,
    },
    {
        "task": "taskc_1",
        "block": 2,
        "name": "the run's fields in another order and types, with a field of the learner's own",
        "why": "the README lists the names and which start at a default; order, annotations and extra fields are the learner's",
        "body": """
            # what training changes
            step: int = 0
            epoch: int = 0
            history: list = field(default_factory=lambda: [])
            train_seconds: float = 0
            stopped_early: bool = False
            writer: object = None
            last_saved: str = ""  # my own: the file save_run wrote last
            # what start_run builds
            config: object
            out: Path
            data: object
            model: nn.Module
            net: nn.Module
            optimizer: object
            scaler: object
            stopper: object
            unfreezer: object
            device: object
            amp_dtype: object
            memory_format: object
            rank: int
            world_size: int
            total_steps: int
            num_epochs: int
        """,
    },
    {
        "task": "taskc_1",
        "block": 3,
        "name": "the schedule counted with integer arithmetic and the parts built one by one",
        "why": "rounding half up, ceiling division and if/else are the same schedule and the same parts",
        "body": """
            total_steps = max(1, int(config.epochs * steps_per_epoch + 0.5))
            if config.max_steps:
                total_steps = min(total_steps, config.max_steps)
            num_epochs = -(-total_steps // steps_per_epoch)
            optimizer = config.build_optimizer(model, total_steps)
            unfreezer = None
            if config.unfreeze_every:
                unfreezer = GradualUnfreezer(model, default_stages(model.network), config.unfreeze_every)
            stopper = None
            if config.patience > 0 and data.val_labels.numel() > 0:
                stopper = EarlyStopping(config.patience, mode="max")
            amp_dtype = autocast_dtype(device, config.amp)
            scaler = torch.amp.GradScaler(device.type, enabled=amp_dtype is torch.float16)
            parts = dict(config=config, out=Path(args.out), device=device, amp_dtype=amp_dtype, rank=rank, world_size=world_size,
                         data=data, model=model, optimizer=optimizer, scaler=scaler, stopper=stopper, unfreezer=unfreezer,
                         total_steps=total_steps, num_epochs=num_epochs, memory_format=memory_format)
            run = Run(net=wrap_model(model, device, world_size, config.compile), **parts)
        """,
    },
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
        "name": "Lab 6's SimpleCNN order: conv-BN-ReLU, then a separate max-pool",
        "why": "the README explains why pooling before BN is cheaper; pooling after the activation is still right",
        "body": """
            from lab6_cnn_classifier.solution import conv_bn_act

            def block(inputs, outputs, pool=False):
                layers = conv_bn_act(inputs, outputs, 3, activation=nn.ReLU)
                layers[1].momentum = bn_momentum
                return nn.Sequential(*layers, nn.MaxPool2d(2)) if pool else layers

            self.stem = nn.Sequential(block(3, widths[0], pool=True), block(widths[0], widths[0]))
            self.layers = nn.Sequential(*[nn.Sequential(block(a, b, pool=True), block(b, b)) for a, b in zip(widths, widths[1:])])
            self.head = nn.Linear(widths[-1], num_classes, bias=False)
            self.logit_scale = logit_scale
        """,
    },
    {
        "task": "taskc_2",
        "block": 1,
        "name": "a deeper design: one conv in the stem, three in the last stage",
        "why": "how deep is the learner's choice: at least three convs, within the multiply-add budget",
        "body": """
            self.stem = conv_block(3, widths[0], bn_momentum, pool=True)
            self.layers = nn.Sequential(
                nn.Sequential(conv_block(widths[0], widths[1], bn_momentum, pool=True), conv_block(widths[1], widths[1], bn_momentum)),
                nn.Sequential(*[conv_block(widths[1] if i == 0 else widths[2], widths[2], bn_momentum, pool=i == 0) for i in range(3)]),
            )
            self.head = nn.Linear(widths[2], num_classes, bias=False)
            self.logit_scale = logit_scale
        """,
    },
    {
        "task": "taskc_2",
        "block": 2,
        "name": "global average pooling, the features scaled before a bias-free head",
        "why": "the pooling is the learner's choice; scaling the head's input scales a bias-free head's output",
        "body": """
            features = self.layers(self.stem(x)).mean(dim=(2, 3))
            return self.head(features * self.logit_scale)
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
    {
        "task": "taskc_1",
        "name": "the split kept as a boolean mask; --val-size 0 takes an empty index",
        "why": "the README asks for the run's classes, a seeded stratified hold-out of val_size images "
               "(stratified_split takes a fraction) and none for --val-size 0; a mask and its complement give the "
               "same two sets, in the same order",
        "body": """
            images, labels = select_classes(images, labels, folder_names, class_names)
            held_out = torch.zeros(len(labels), dtype=torch.bool)
            if config.val_size > 0:
                fraction = config.val_size / len(labels)
                held_out[stratified_split(labels, fraction, seed=config.seed)[1]] = True
            return Data(train_images=images[~held_out], train_labels=labels[~held_out],
                        val_images=images[held_out], val_labels=labels[held_out], class_names=list(class_names))
        """,
    },
    {
        "task": "taskc_5",
        "block": 1,
        "name": "the checkpoint's arguments in two dicts (weights and extras) and one helper that writes a file",
        "why": "the README asks for Lab 3's save_checkpoint with the run's state as extras, best.pt (only on an "
               "improvement) before last.pt; how the arguments are assembled is the learner's choice",
        "body": """
            stopper = run.stopper
            extras = {
                "config": config, "recipe": run.config.__class__.__name__, "class_names": list(run.data.class_names),
                "history": list(run.history), "step": run.step, "train_seconds": run.train_seconds,
                "scaler": run.scaler.state_dict(), "stopped_early": run.stopped_early,
                "early_stopping": None if stopper is None else stopper.state_dict(),
            }

            def write(name: str) -> None:
                save_checkpoint(run.out / name, model=run.model, optimizer=run.optimizer, epoch=run.epoch,
                                best=None if stopper is None else stopper.best, **extras)

            if stopper is not None and stopper.improved:
                write("best.pt")
            write("last.pt")
        """,
    },
    {
        "task": "taskc_5",
        "block": 2,
        "name": "the counters restored one by one and 'stopped early' worked out from the restored stopper",
        "why": "the README asks resume to restore weights, optimiser, scaler, early stopping, counters and history; "
               "whether the run had stopped early follows from the stopper's own state (bad epochs >= patience)",
        "body": """
            saved = load_checkpoint(path, run.model, run.optimizer, map_location=run.device)
            extra = saved["extra"]
            run.epoch = saved["epoch"]
            run.step = extra["step"]
            run.history = list(extra["history"])
            run.train_seconds = extra["train_seconds"]
            run.scaler.load_state_dict(extra["scaler"])
            if run.stopper is not None and extra["early_stopping"] is not None:
                run.stopper.load_state_dict(extra["early_stopping"])
                run.stopped_early = run.stopper.num_bad_epochs >= run.stopper.patience
            log(f"continuing {path}: {run.epoch} epochs and {run.step} steps done")
        """,
    },
    {
        "task": "taskc_6",
        "name": "a while loop; per-epoch seconds in the row; validation time left out of train_seconds",
        "why": "the README lists the steps of an epoch; the loop's form, what a row's seconds measure and whether "
               "train_seconds counts validation are the learner's choice",
        "body": """
            epoch = run.epoch
            while epoch < run.num_epochs and run.step < run.total_steps:
                run.model.train()
                if run.unfreezer is not None:
                    trainable = run.unfreezer.step(epoch)
                    log(f"epoch {epoch + 1}: training {trainable} of {len(run.unfreezer.stages)} stages")
                started = time.perf_counter()
                train_loss = run_epoch(run, epoch)
                seconds = time.perf_counter() - started
                stop_if_not_finite(train_loss, epoch)
                run.train_seconds += seconds
                if len(run.data.val_labels) > 0:
                    val = evaluate_split(run.model, run.data.val_images, run.data.val_labels, run.device, run.amp_dtype)
                else:
                    val = {"loss": float("nan"), "accuracy": float("nan")}
                epoch += 1
                run.epoch = epoch
                record = dict(epoch=epoch, step=run.step, train_loss=train_loss, val_loss=val["loss"],
                              val_accuracy=val["accuracy"], seconds=seconds)
                run.history.append(record)
                if run.stopper is not None and not run.config.low_res_epoch(epoch):
                    run.stopped_early = run.stopper.step(val["accuracy"])
                log_epoch(run, record)
                save_run(run)
                if run.stopped_early:
                    log(f"stopping early after epoch {epoch}: validation accuracy has not improved for "
                        f"{run.stopper.patience} epochs")
                    break
        """,
    },
    {
        "task": "taskc_9",
        "block": 1,
        "name": "the batch dimension marked Dim.DYNAMIC, keyed by the forward argument's name",
        "why": "the README asks for a dynamic batch dimension and the weights in the one file; torch.export's "
               "Dim.DYNAMIC and a dict keyed by the argument name are another spelling of the same export",
        "body": """
            import inspect

            argument = next(iter(inspect.signature(model.forward).parameters))
            torch.onnx.export(model, (example,), path, dynamo=True, external_data=False,
                              input_names=["input"], output_names=["output"],
                              dynamic_shapes={argument: {0: torch.export.Dim.DYNAMIC}})
        """,
    },
    {
        "task": "taskc_9",
        "block": 2,
        "name": "the comparison done in torch, the model's own mode restored afterwards",
        "body": """
            runtime = onnxruntime.InferenceSession(os.fspath(path), providers=["CPUExecutionProvider"])
            batch = images.detach().float().cpu()
            (from_onnx,) = runtime.run([runtime.get_outputs()[0].name], {runtime.get_inputs()[0].name: batch.numpy()})
            was_training = model.training
            model.eval()
            try:
                with torch.inference_mode():
                    from_torch = model(batch).float()
            finally:
                model.train(was_training)
            return (torch.from_numpy(from_onnx) - from_torch).abs().max().item()
        """,
    },
    {
        "task": "taskc_9",
        "block": 3,
        "name": "an example batch of four, the error in its own words",
        "why": "the README asks for the export, the check on the 16 images, and an error above 1e-4; the example's "
               "size and the wording are the learner's choice",
        "body": """
            model = models[0]
            path = export_onnx(model, out, images[:4].float())
            difference = check_onnx(path, model, images.float())
            if not difference <= 1e-4:
                raise SystemExit(f"error: {path} was written, but onnxruntime's logits are {difference:.3g} away from "
                                 "PyTorch's (the limit is 1e-4): do not use this file")
            log(f"{path}: onnxruntime agrees with PyTorch on {len(images)} images (max abs difference {difference:.1e})")
        """,
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "the 'already stopped' case decided once, metrics filled key by key, json.dump to a file",
        "body": """
            if args.resume:
                resume(run, run.out / "last.pt" if args.resume == "auto" else Path(args.resume))
            finished = run.stopped_early
            if finished:
                log(f"{run.out}: this run stopped early after epoch {run.epoch}; there is nothing left to train")
            if not finished and (config.compile or run.device.type == "cuda"):
                shape = (len(range(run.rank, config.batch_size, run.world_size)), 3, 32, 32)
                metrics["warmup_seconds"] = warm_up(run.net, run.model, shape, run.memory_format, run.amp_dtype)
            open_tensorboard(run)
            if not finished:
                fit(run)
            metrics["history"] = run.history
            metrics["train_seconds"] = run.train_seconds
            metrics["steps"] = run.step
            metrics["stopped_early"] = run.stopped_early
            if run.rank == 0:
                log_final(run, metrics)
                with open(run.out / "metrics.json", "w") as file:
                    json.dump(metrics, file, indent=1)
        """,
    },
    {
        "task": "taskc_11",
        "block": 3,
        "name": "overrides filtered from vars(args); an if/else dispatch; one except clause per error kind",
        "body": """
            try:
                if args.command == "evaluate":
                    return evaluate(args)
                if args.command == "predict":
                    return predict(args)
                if args.command == "export":
                    return export(args)
                fields = {field.name for field in dataclasses.fields(config_class)}
                overrides = {key: value for key, value in vars(args).items() if key in fields and value is not None}
                if args.resume is not None:
                    checkpoint = Path(args.out) / "last.pt" if args.resume == "auto" else Path(args.resume)
                    config = config_for_resume(checkpoint, config_class, overrides)
                else:
                    named = configs[args.config] if args.config else configs["smoke" if args.smoke else "fast"]
                    config = dataclasses.replace(named, **overrides)
                return train(config, args)
            except CheckpointError as error:
                raise SystemExit(f"error: {error}") from None
            except OSError as error:  # a missing file, or a save that failed (Lab 3 names the file)
                raise SystemExit(f"error: {error}") from None
        """,
    },
]
