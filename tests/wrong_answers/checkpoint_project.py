"""Realistic wrong answers to the checkpoint project's tasks; each must fail its task's tests
with a message a learner can act on (run by tools/check_wrong_answers.py)."""

WRONG_ANSWERS = [
    # ----------------------------------------------------------------------- taskc_1 build_data
    {
        "task": "taskc_1",
        "name": "a plain random split, not stratified",
        "why": "a random cut of 600 images does not give every class the same share of the validation set",
        "expect": "share",
        "body": '''
            images, labels = select_classes(images, labels, folder_names, class_names)
            order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(config.seed))
            val_idx, train_idx = order[: config.val_size], order[config.val_size :]
            return Data(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], class_names)
        ''',
    },
    {
        "task": "taskc_1",
        "name": "forgets to keep (and renumber) the run's classes",
        "why": "--classes 5,7 must train a 2-class model with labels 0 and 1",
        "expect": "renumbered",
        "body": '''
            if config.val_size == 0:
                train_idx, val_idx = torch.arange(len(labels)), torch.zeros(0, dtype=torch.int64)
            else:
                train_idx, val_idx = stratified_split(labels, config.val_size / len(labels), config.seed)
            return Data(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], class_names)
        ''',
    },
    {
        "task": "taskc_1",
        "name": "always holds out a validation split, even with --val-size 0",
        "why": "--val-size 0 means train on every image",
        "expect": "every image",
        "body": '''
            images, labels = select_classes(images, labels, folder_names, class_names)
            train_idx, val_idx = stratified_split(labels, max(config.val_size, 1) / len(labels) + 0.05, config.seed)
            return Data(images[train_idx], labels[train_idx], images[val_idx], labels[val_idx], class_names)
        ''',
    },
    # ----------------------------------------------------------------------- taskc_2 whitening
    {
        "task": "taskc_2",
        "name": "eigenvectors taken as rows",
        "why": "torch.linalg.eigh returns the eigenvectors as columns",
        "expect": "identity covariance",
        "body": '''
            patches = F.unfold(images.float(), kernel_size=2).transpose(1, 2).reshape(-1, 12)
            patches = patches - patches.mean(0)
            covariance = patches.T @ patches / len(patches)
            eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
            filters = (eigenvectors / torch.sqrt(eigenvalues + eps)[:, None]).reshape(12, 3, 2, 2)
            return torch.cat([filters, -filters])
        ''',
    },
    {
        "task": "taskc_2",
        "name": "divides by the eigenvalue instead of its square root",
        "why": "whitening scales each direction to unit variance: 1/sqrt(lambda)",
        "expect": "identity covariance",
        "body": '''
            patches = F.unfold(images.float(), kernel_size=2).transpose(1, 2).reshape(-1, 12)
            patches = patches - patches.mean(0)
            covariance = patches.T @ patches / len(patches)
            eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
            filters = (eigenvectors.T / (eigenvalues + eps)[:, None]).reshape(12, 3, 2, 2)
            return torch.cat([filters, -filters])
        ''',
    },
    {
        "task": "taskc_2",
        "name": "forgets the negated copies",
        "why": "GELU follows: the 12 filters are used twice, once negated (24 in all)",
        "expect": "24",
        "body": '''
            patches = F.unfold(images.float(), kernel_size=2).transpose(1, 2).reshape(-1, 12)
            patches = patches - patches.mean(0)
            covariance = patches.T @ patches / len(patches)
            eigenvalues, eigenvectors = torch.linalg.eigh(covariance)
            return (eigenvectors.T / torch.sqrt(eigenvalues + eps)[:, None]).reshape(12, 3, 2, 2)
        ''',
    },
    {
        "task": "taskc_2",
        "block": 2,
        "name": "fits the whitening on raw pixels, not on the normalised images",
        "why": "the layer sees normalised images: its filters must be computed on those",
        "expect": "normalised",
        "body": '''
            with torch.no_grad():
                network.whiten.weight.copy_(patch_whitening_weights(sample, config.whiten_eps))
                network.whiten.bias.zero_()
        ''',
    },
    {
        "task": "taskc_2",
        "block": 2,
        "name": "leaves the whitening bias at its random initial value",
        "why": "a random bias shifts where GELU cuts each whitened channel",
        "expect": "bias",
        "body": '''
            with torch.no_grad():
                network.whiten.weight.copy_(patch_whitening_weights(model.normalize(sample), config.whiten_eps))
        ''',
    },
    # ----------------------------------------------------------------------- taskc_3 one epoch
    {
        "task": "taskc_3",
        "name": "no warm-up: the schedule starts at the peak",
        "why": "the triangle rises from 0 over the warm-up fraction",
        "expect": "expected",
        "body": '''
            return peak * max(0.0, 1 - step / max(total_steps, 1))
        ''',
    },
    {
        "task": "taskc_3",
        "name": "the decay goes negative after total_steps",
        "why": "the LR stays at 0 after the end of the schedule",
        "expect": "expected",
        "body": '''
            fraction = step / max(total_steps, 1)
            if fraction < warmup:
                return peak * fraction / warmup
            return peak * (1 - fraction) / (1 - warmup)
        ''',
    },
    {
        "task": "taskc_3",
        "block": 2,
        "name": "\"alternate\" draws new coins every epoch",
        "why": "then an image can be seen the same way two epochs in a row",
        "expect": "both ways",
        "body": '''
            if mode == "none":
                return torch.zeros(len(indices), dtype=torch.bool)
            return torch.rand(len(indices), generator=generator) < 0.5
        ''',
    },
    {
        "task": "taskc_3",
        "block": 2,
        "name": "\"alternate\" mirrors every image on odd epochs",
        "why": "the whole batch flipped at once is not augmentation",
        "expect": "half",
        "body": '''
            if mode == "none":
                return torch.zeros(len(indices), dtype=torch.bool)
            return torch.full((len(indices),), bool(epoch % 2))
        ''',
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "Lab 4's coin flips instead of this epoch's flip mask",
        "why": "random_crop_flip takes the alternating policy through flip=",
        "expect": "flip",
        "body": '''
            for batch in batches[: run.total_steps - run.step]:
                config.set_learning_rate(run.optimizer, run.step, run.total_steps, epoch)
                images = data.train_images[batch.to(data.train_images.device)]
                images = random_crop_flip(images, config.translate, generator)
                images = images.to(run.device, non_blocking=True).float().contiguous(memory_format=run.memory_format)
                labels = data.train_labels[batch.to(data.train_labels.device)].to(run.device, non_blocking=True)
                losses.append(amp_train_step(run.net, (images, labels), loss_fn, run.optimizer, scaler,
                                             device_type=run.device.type, dtype=dtype))
                run.step += 1
        ''',
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "ignores total_steps (--max-steps)",
        "why": "the step budget can end in the middle of an epoch",
        "expect": "max-steps",
        "body": '''
            for batch in batches:
                config.set_learning_rate(run.optimizer, run.step, run.total_steps, epoch)
                flips = flip_mask(batch, epoch, config.seed, config.flip, generator)
                images = random_crop_flip(data.train_images[batch], config.translate, generator, flip=flips)
                images = images.to(run.device).float().contiguous(memory_format=run.memory_format)
                labels = data.train_labels[batch].to(run.device)
                losses.append(amp_train_step(run.net, (images, labels), loss_fn, run.optimizer, scaler,
                                             device_type=run.device.type, dtype=dtype))
                run.step += 1
        ''',
    },
    {
        "task": "taskc_3",
        "block": 3,
        "name": "forgets to set the learning rate",
        "why": "the optimizer keeps its initial LR: no warm-up, no decay",
        "expect": "lr",
        "body": '''
            for batch in batches[: run.total_steps - run.step]:
                flips = flip_mask(batch, epoch, config.seed, config.flip, generator)
                images = random_crop_flip(data.train_images[batch], config.translate, generator, flip=flips)
                images = images.to(run.device).float().contiguous(memory_format=run.memory_format)
                labels = data.train_labels[batch].to(run.device)
                losses.append(amp_train_step(run.net, (images, labels), loss_fn, run.optimizer, scaler,
                                             device_type=run.device.type, dtype=dtype))
                run.step += 1
        ''',
    },
    # ----------------------------------------------------------------------- taskc_4 sharded validation
    {
        "task": "taskc_4",
        "name": "every rank scores every image",
        "why": "then the sum over ranks counts each image world_size times",
        "expect": "rank 1 of 2",
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
        "name": "returns the sums instead of the means",
        "why": "loss and accuracy are per image: divide by the count",
        "expect": "expected loss",
        "body": '''
            logits = predict_logits(model, images[rank::world_size], amp_dtype=amp_dtype)
            targets = labels[rank::world_size]
            loss_sum = F.cross_entropy(logits, targets, reduction="sum").item()
            correct = (logits.argmax(1) == targets).sum().item()
            loss_sum, correct, count = sum_over_ranks([loss_sum, correct, len(targets)], device)
            return {"loss": loss_sum, "accuracy": correct}
        ''',
    },
    # ----------------------------------------------------------------------- taskc_5 checkpoints
    {
        "task": "taskc_5",
        "name": "writes last.pt before best.pt",
        "why": "a crash between the writes then leaves best.pt stale for good",
        "expect": "first",
        "body": '''
            state = dict(model=run.model, optimizer=run.optimizer, epoch=run.epoch,
                         best=run.stopper.best if run.stopper else None, config=config, recipe=type(run.config).__name__,
                         class_names=run.data.class_names, history=run.history, step=run.step, train_seconds=run.train_seconds,
                         stopped_early=run.stopped_early, scaler=run.scaler.state_dict(),
                         early_stopping=run.stopper.state_dict() if run.stopper else None)
            save_checkpoint(run.out / "last.pt", **state)
            if run.stopper is not None and run.stopper.improved:
                save_checkpoint(run.out / "best.pt", **state)
        ''',
    },
    {
        "task": "taskc_5",
        "name": "writes best.pt every epoch",
        "why": "best.pt is the best validation epoch, not the latest",
        "expect": "without improvement",
        "body": '''
            state = dict(model=run.model, optimizer=run.optimizer, epoch=run.epoch,
                         best=run.stopper.best if run.stopper else None, config=config, recipe=type(run.config).__name__,
                         class_names=run.data.class_names, history=run.history, step=run.step, train_seconds=run.train_seconds,
                         stopped_early=run.stopped_early, scaler=run.scaler.state_dict(),
                         early_stopping=run.stopper.state_dict() if run.stopper else None)
            if run.stopper is not None:
                save_checkpoint(run.out / "best.pt", **state)
            save_checkpoint(run.out / "last.pt", **state)
        ''',
    },
    {
        "task": "taskc_5",
        "name": "saves the weights and counters but not the early-stopping state",
        "why": "a resumed run would forget how many epochs it has not improved",
        "expect": "early_stopping",
        "body": '''
            state = dict(model=run.model, optimizer=run.optimizer, epoch=run.epoch, config=config,
                         recipe=type(run.config).__name__, class_names=run.data.class_names, history=run.history,
                         step=run.step, train_seconds=run.train_seconds, stopped_early=run.stopped_early,
                         scaler=run.scaler.state_dict())
            if run.stopper is not None and run.stopper.improved:
                save_checkpoint(run.out / "best.pt", **state)
            save_checkpoint(run.out / "last.pt", **state)
        ''',
    },
    {
        "task": "taskc_5",
        "block": 2,
        "name": "restores the weights but not the optimizer",
        "why": "SGD's momentum buffers are part of the state: without them the resumed run differs",
        "expect": "momentum",
        "body": '''
            checkpoint = load_checkpoint(path, run.model)
            extra = checkpoint["extra"]
            run.scaler.load_state_dict(extra["scaler"])
            if run.stopper is not None:
                run.stopper.load_state_dict(extra["early_stopping"])
            run.epoch, run.step, run.history = checkpoint["epoch"], extra["step"], extra["history"]
            run.train_seconds, run.stopped_early = extra["train_seconds"], extra["stopped_early"]
        ''',
    },
    {
        "task": "taskc_5",
        "block": 2,
        "name": "restores the weights but starts the counters from zero",
        "why": "the loop would train from epoch 1 again, with the LR schedule restarted",
        "expect": "restores the epoch",
        "body": '''
            checkpoint = load_checkpoint(path, run.model, run.optimizer)
            run.scaler.load_state_dict(checkpoint["extra"]["scaler"])
        ''',
    },
    # ----------------------------------------------------------------------- taskc_6 the loop
    {
        "task": "taskc_6",
        "name": "forgets model.train() after validation",
        "why": "evaluate_split leaves the model in eval mode: BN would stop learning its statistics",
        "expect": "training mode",
        "body": '''
            for epoch in range(run.epoch, run.num_epochs):
                if run.step >= run.total_steps:
                    break
                started = time.perf_counter()
                train_loss = run_epoch(run, epoch)
                stop_if_not_finite(train_loss, epoch)
                val = {"loss": math.nan, "accuracy": math.nan}
                if len(run.data.val_labels):
                    val = evaluate_split(run.model, run.data.val_images, run.data.val_labels, run.device, run.amp_dtype)
                run.train_seconds += time.perf_counter() - started
                run.epoch = epoch + 1
                run.history.append({"epoch": run.epoch, "step": run.step, "train_loss": train_loss, "val_loss": val["loss"],
                                    "val_accuracy": val["accuracy"], "seconds": run.train_seconds})
                run.stopped_early = run.stopper is not None and run.stopper.step(val["accuracy"])
                log_epoch(run, run.history[-1])
                save_run(run)
                if run.stopped_early:
                    break
        ''',
    },
    {
        "task": "taskc_6",
        "name": "never checks the loss is finite",
        "why": "a NaN run would be saved (and could become best.pt)",
        "expect": "raise",
        "body": '''
            for epoch in range(run.epoch, run.num_epochs):
                if run.step >= run.total_steps:
                    break
                run.model.train()
                started = time.perf_counter()
                train_loss = run_epoch(run, epoch)
                val = {"loss": math.nan, "accuracy": math.nan}
                if len(run.data.val_labels):
                    val = evaluate_split(run.model, run.data.val_images, run.data.val_labels, run.device, run.amp_dtype)
                run.train_seconds += time.perf_counter() - started
                run.epoch = epoch + 1
                run.history.append({"epoch": run.epoch, "step": run.step, "train_loss": train_loss, "val_loss": val["loss"],
                                    "val_accuracy": val["accuracy"], "seconds": run.train_seconds})
                run.stopped_early = run.stopper is not None and run.stopper.step(val["accuracy"])
                log_epoch(run, run.history[-1])
                save_run(run)
                if run.stopped_early:
                    break
        ''',
    },
    {
        "task": "taskc_6",
        "name": "stops early before saving the epoch",
        "why": "the last epoch's checkpoint is then never written",
        "expect": "last.pt",
        "body": '''
            for epoch in range(run.epoch, run.num_epochs):
                if run.step >= run.total_steps:
                    break
                run.model.train()
                train_loss = run_epoch(run, epoch)
                stop_if_not_finite(train_loss, epoch)
                val = {"loss": math.nan, "accuracy": math.nan}
                if len(run.data.val_labels):
                    val = evaluate_split(run.model, run.data.val_images, run.data.val_labels, run.device, run.amp_dtype)
                run.epoch = epoch + 1
                run.history.append({"epoch": run.epoch, "step": run.step, "train_loss": train_loss, "val_loss": val["loss"],
                                    "val_accuracy": val["accuracy"], "seconds": run.train_seconds})
                run.stopped_early = run.stopper is not None and run.stopper.step(val["accuracy"])
                if run.stopped_early:
                    break
                log_epoch(run, run.history[-1])
                save_run(run)
        ''',
    },
    # ----------------------------------------------------------------------- taskc_7 TensorBoard
    {
        "task": "taskc_7",
        "name": "writes the events into the run folder itself",
        "why": "the README and the tests read OUT/tensorboard",
        "expect": "out/tensorboard",
        "body": '''
            run.writer = SummaryWriter(str(run.out))
            run.writer.add_image("samples/train", torchvision.utils.make_grid(run.data.train_images[:64].float() / 255, nrow=8), 0)
        ''',
    },
    {
        "task": "taskc_7",
        "name": "no sample grid",
        "why": "the grid shows what the network is fed",
        "expect": "sample grid",
        "body": '''
            run.writer = SummaryWriter(str(run.out / "tensorboard"))
        ''',
    },
    {
        "task": "taskc_7",
        "block": 2,
        "name": "forgets the learning rate",
        "why": "the LR curve is how you see the schedule",
        "expect": "'lr'",
        "body": '''
            run.writer.add_scalar("loss/train", record["train_loss"], run.step)
            run.writer.add_scalar("loss/val", record["val_loss"], run.step)
            run.writer.add_scalar("accuracy/val", record["val_accuracy"], run.step)
        ''',
    },
    {
        "task": "taskc_7",
        "block": 2,
        "name": "tags without groups",
        "why": "tags like train_loss do not group the curves (the tests and README use loss/train)",
        "expect": "loss/train",
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
        "expect": "confusion",
        "body": '''
            if len(run.data.val_labels):
                logits = predict_logits(run.model, run.data.val_images, tta=run.config.tta, amp_dtype=run.amp_dtype)
                metrics["val_accuracy"] = (logits.argmax(1) == run.data.val_labels).float().mean().item()
            hparams = {k: (str(v) if isinstance(v, (tuple, list)) else v) for k, v in dataclasses.asdict(run.config).items()}
            run.writer.add_hparams(hparams, {"hparam/val_accuracy": metrics["val_accuracy"] or math.nan}, run_name=".")
            run.writer.close()
        ''',
    },
    {
        "task": "taskc_7",
        "block": 3,
        "name": "the final accuracy is not put into the metrics",
        "why": "metrics.json reports the validation accuracy with TTA",
        "expect": "val accuracy",
        "body": '''
            if len(run.data.val_labels):
                logits = predict_logits(run.model, run.data.val_images, tta=run.config.tta, amp_dtype=run.amp_dtype)
                matrix = confusion_matrix(logits.argmax(1), run.data.val_labels, len(run.data.class_names))
                run.writer.add_figure("confusion_matrix/val", confusion_figure(matrix, run.data.class_names, "validation"), run.step)
            run.writer.close()
        ''',
    },
    # ----------------------------------------------------------------------- taskc_8 evaluation
    {
        "task": "taskc_8",
        "name": "averages the views instead of summing them",
        "why": "the views are summed (the weights are 1, 1, and 0.5 for the shifted ones)",
        "expect": "tta=1",
        "body": '''
            logits = model(batch).float()
            if tta >= 1:
                logits = (logits + model(batch.flip(3)).float()) / 2
            if tta >= 2:
                padded = F.pad(batch, (1, 1, 1, 1), mode="reflect")
                height, width = batch.shape[-2:]
                for offset in (0, 2):
                    view = padded[:, :, offset : offset + height, offset : offset + width]
                    logits = logits + 0.5 * (model(view).float() + model(view.flip(3)).float())
        ''',
    },
    {
        "task": "taskc_8",
        "name": "the shifted views at full weight",
        "why": "the four shifted views count half each (total weight 4)",
        "expect": "total weight 4",
        "body": '''
            logits = model(batch).float()
            if tta >= 1:
                logits = logits + model(batch.flip(3)).float()
            if tta >= 2:
                padded = F.pad(batch, (1, 1, 1, 1), mode="reflect")
                height, width = batch.shape[-2:]
                for offset in (0, 2):
                    view = padded[:, :, offset : offset + height, offset : offset + width]
                    logits = logits + model(view).float() + model(view.flip(3)).float()
        ''',
    },
    {
        "task": "taskc_8",
        "block": 2,
        "name": "sums the members' probabilities",
        "why": "the ensemble is their mean: probabilities must sum to 1",
        "expect": "sum to 1",
        "body": '''
            members = [predict_logits(model, images, tta=tta, amp_dtype=amp_dtype).softmax(dim=1) for model in models]
            return torch.stack(members).sum(0), members
        ''',
    },
    {
        "task": "taskc_8",
        "block": 2,
        "name": "log-probabilities instead of probabilities",
        "why": "log_softmax values are negative: their mean is not a distribution",
        "expect": "sum to 1",
        "body": '''
            members = [predict_logits(model, images, tta=tta, amp_dtype=amp_dtype).log_softmax(dim=1) for model in models]
            return torch.stack(members).mean(0), members
        ''',
    },
    {
        "task": "taskc_8",
        "block": 3,
        "name": "confusion matrix with predictions as rows",
        "why": "rows are the true classes (Lab 6's convention), so a row's sum is that class's support",
        "expect": "true classes",
        "body": '''
            device = get_device(args.device)
            models = [m.to(device, memory_format=torch.channels_last) for m in models]
            probabilities, members = ensemble_probabilities(models, images, tta=tta, amp_dtype=autocast_dtype(device, args.amp))
            predictions = probabilities.argmax(1)
            matrix = confusion_matrix(labels, predictions, len(extra["class_names"]))
            metrics.update(accuracy=(predictions == labels).float().mean().item(), log_loss=log_loss(probabilities, labels),
                           per_class=per_class_rows(matrix, extra["class_names"]), confusion_matrix=matrix.tolist())
            if len(models) > 1:
                metrics["member_accuracy"] = [(p.argmax(1) == labels).float().mean().item() for p in members]
                metrics["member_log_loss"] = [log_loss(p, labels) for p in members]
        ''',
    },
    {
        "task": "taskc_8",
        "block": 3,
        "name": "accuracy as a percentage",
        "why": "metrics.json holds fractions (0.86, not 86)",
        "expect": "fraction",
        "body": '''
            device = get_device(args.device)
            models = [m.to(device, memory_format=torch.channels_last) for m in models]
            probabilities, members = ensemble_probabilities(models, images, tta=tta, amp_dtype=autocast_dtype(device, args.amp))
            predictions = probabilities.argmax(1)
            matrix = confusion_matrix(predictions, labels, len(extra["class_names"]))
            metrics.update(accuracy=100 * (predictions == labels).float().mean().item(), log_loss=log_loss(probabilities, labels),
                           per_class=per_class_rows(matrix, extra["class_names"]), confusion_matrix=matrix.tolist())
            if len(models) > 1:
                metrics["member_accuracy"] = [(p.argmax(1) == labels).float().mean().item() for p in members]
                metrics["member_log_loss"] = [log_loss(p, labels) for p in members]
        ''',
    },
    {
        "task": "taskc_8",
        "block": 4,
        "name": "the class index instead of its name",
        "why": "predict prints class names, which come from the checkpoint",
        "body": '''
            probabilities, _ = ensemble_probabilities(models, load_image_files(args.images), tta=args.tta)
            results = [{"file": path, "class": p.argmax().item(), "probability": p.max().item()}
                       for path, p in zip(args.images, probabilities)]
        ''',
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
        "expect": "dynamic",
        "body": '''
            torch.onnx.export(model, (example,), str(path), input_names=["images"], output_names=["logits"],
                              dynamo=True, external_data=False, verbose=False)
        ''',
    },
    {
        "task": "taskc_9",
        "name": "weights in a separate model.onnx.data file",
        "why": "a copied .onnx alone then fails to load",
        "expect": "model.onnx.data",
        "body": '''
            torch.onnx.export(model, (example,), str(path), input_names=["images"], output_names=["logits"],
                              dynamic_shapes=({0: torch.export.Dim("batch", min=1, max=4096)},), dynamo=True,
                              external_data=True, verbose=False)
        ''',
    },
    {
        "task": "taskc_9",
        "block": 2,
        "name": "compares with the model in training mode",
        "why": "BatchNorm in training mode normalises with the batch's statistics",
        "expect": "differ",
        "body": '''
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            onnx_logits = session.run(None, {session.get_inputs()[0].name: images.float().numpy()})[0]
            with torch.no_grad():
                torch_logits = model.float().train().cpu()(images.float()).numpy()
            return float(np.abs(onnx_logits - torch_logits).max())
        ''',
    },
    {
        "task": "taskc_9",
        "block": 2,
        "name": "never runs the model: measures the ONNX logits alone",
        "why": "a check must compare the two runtimes",
        "expect": "compare",
        "body": '''
            session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
            onnx_logits = session.run(None, {session.get_inputs()[0].name: images.float().numpy()})[0]
            return float(np.abs(onnx_logits - onnx_logits).max())
        ''',
    },
    {
        "task": "taskc_9",
        "block": 3,
        "name": "prints the difference but never fails on it",
        "why": "a round trip that cannot fail checks nothing",
        "expect": "did not raise",
        "body": '''
            path = export_onnx(models[0], out, images[:2].float())
            difference = check_onnx(path, models[0], images.float())
            print(f"wrote {path}; onnxruntime vs PyTorch max abs difference: {difference:.2e}")
        ''',
    },
    {
        "task": "taskc_9",
        "block": 3,
        "name": "exports next to the checkpoint instead of to --out",
        "why": "the file goes where the user asked",
        "body": '''
            path = export_onnx(models[0], Path(args.checkpoint).with_suffix(".onnx"), images[:2].float())
            difference = check_onnx(path, models[0], images.float())
            if difference > 1e-4:
                raise SystemExit(f"error: ONNX output differs from PyTorch by {difference:.2e} (> 1e-4)")
        ''',
    },
    # ----------------------------------------------------------------------- taskc_10 DDP
    {
        "task": "taskc_10",
        "name": "nccl always",
        "why": "nccl needs GPUs: on the CPU the backend is gloo (Lab 5's distributed_device says which)",
        "expect": "gloo",
        "body": '''
            device, _ = distributed_device(device_choice or "auto")
            dist.init_process_group(backend="nccl")
            return device, dist.get_rank(), dist.get_world_size()
        ''',
    },
    {
        "task": "taskc_10",
        "name": "picks the device but never joins the process group",
        "why": "DDP and all_reduce need the group",
        "expect": "join the process group",
        "body": '''
            device, backend = distributed_device(device_choice or "auto")
            return device, int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
        ''',
    },
    {
        "task": "taskc_10",
        "block": 2,
        "name": "keeps the last incomplete batch",
        "why": "ranks would take different numbers of steps (and DDP hangs)",
        "expect": "3 full batches",
        "body": '''
            steps = math.ceil(len(permutation) / batch_size)
            return [permutation[i * batch_size : (i + 1) * batch_size][rank::world_size] for i in range(steps)]
        ''',
    },
    {
        "task": "taskc_10",
        "block": 2,
        "name": "each rank takes a contiguous half of the epoch",
        "why": "each step's shares must make up one global batch of the shared permutation",
        "expect": "global batch",
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
        "expect": "distributeddataparallel",
        "body": '''
            return torch.compile(model) if compile_it else model
        ''',
    },
    {
        "task": "taskc_10",
        "block": 3,
        "name": "passes a GPU index on the CPU",
        "why": "device_ids is for CUDA only; on the CPU it is None",
        "expect": "device_ids",
        "body": '''
            net = nn.parallel.DistributedDataParallel(model, device_ids=[device.index or 0]) if world_size > 1 else model
            return torch.compile(net) if compile_it else net
        ''',
    },
    # ----------------------------------------------------------------------- taskc_11 the command line
    {
        "task": "taskc_11",
        "name": "--resume never calls resume",
        "why": "the run then starts again from epoch 1",
        "expect": "first run",
        "body": '''
            if run.device.type == "cuda" or config.compile:
                rank_batch = len(range(config.batch_size)[run.rank :: run.world_size])
                metrics["warmup_seconds"] = warm_up(run.net, run.model, (rank_batch, 3, 32, 32), run.memory_format, run.amp_dtype)
            open_tensorboard(run)
            fit(run)
            metrics.update(history=run.history, train_seconds=run.train_seconds, steps=run.step, stopped_early=run.stopped_early)
            if run.rank == 0:
                log_final(run, metrics)
                (run.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
        ''',
    },
    {
        "task": "taskc_11",
        "name": "writes metrics.json before training",
        "why": "the file must hold the run's history",
        "body": '''
            if args.resume:
                resume(run, Path(args.resume) if args.resume != "auto" else run.out / "last.pt")
            open_tensorboard(run)
            if run.rank == 0:
                (run.out / "metrics.json").write_text(json.dumps(metrics, indent=2))
            fit(run)
            metrics.update(history=run.history, train_seconds=run.train_seconds, steps=run.step, stopped_early=run.stopped_early)
            if run.rank == 0:
                log_final(run, metrics)
        ''',
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "--resume takes the command line's config",
        "why": "a resumed run keeps its saved config (seed, validation split, ...)",
        "expect": "checkpoint's config",
        "body": '''
            try:
                if args.command != "train":
                    return {"evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
                overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if getattr(args, f.name) is not None}
                config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
                return train(config, args)
            except (CheckpointError, OSError) as error:
                raise SystemExit(f"error: {error}") from None
        ''',
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "lets checkpoint errors through as tracebacks",
        "why": "a bad file is the user's to fix: one line that names it",
        "expect": "one-line error",
        "body": '''
            if args.command != "train":
                return {"evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
            overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if getattr(args, f.name) is not None}
            if args.resume:
                config = config_for_resume(Path(args.resume) if args.resume != "auto" else Path(args.out) / "last.pt", config_class, overrides)
            else:
                config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
            return train(config, args)
        ''',
    },
    {
        "task": "taskc_11",
        "block": 2,
        "name": "turns only CheckpointError into one line",
        "why": "a missing file or a failed save (a full disk) is the user's to fix too: one line that names the file",
        "expect": "traceback",
        "body": '''
            try:
                if args.command != "train":
                    return {"evaluate": evaluate, "predict": predict, "export": export}[args.command](args)
                overrides = {f.name: getattr(args, f.name) for f in dataclasses.fields(config_class) if getattr(args, f.name) is not None}
                if args.resume:
                    config = config_for_resume(Path(args.resume) if args.resume != "auto" else Path(args.out) / "last.pt", config_class, overrides)
                else:
                    config = dataclasses.replace(configs[args.config or ("smoke" if args.smoke else "fast")], **overrides)
                return train(config, args)
            except CheckpointError as error:
                raise SystemExit(f"error: {error}") from None
        ''',
    },
]
