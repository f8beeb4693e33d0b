"""Lab 3 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task3_4",
        "name": "the comparison written as a signed gain, and the counter reset without a tuple",
        "body": """
            value = float(value)
            if self.best is None:
                improved = value == value  # False only for NaN
            else:
                gain = self.best - value if self.mode == "min" else value - self.best
                improved = gain > self.min_delta
            if improved:
                self.best = value
                self.num_bad_epochs = 0
            else:
                self.num_bad_epochs += 1
            self.improved = improved
            return self.num_bad_epochs >= self.patience
        """,
    },
    {
        "task": "task3_7",
        "block": 1,
        "name": "one except clause for every reading error, in its own words",
        "why": "the README asks for a CheckpointError that names the file; the wording is the learner's",
        "body": """
            try:
                checkpoint = torch.load(path, map_location=map_location, weights_only=True)
            except Exception as error:
                if "Unsupported global" in str(error):
                    raise CheckpointError(f"{path}: refusing to unpickle objects that are not tensors ({error})") from error
                raise CheckpointError(f"{path} is damaged and cannot be read: {type(error).__name__}: {error}") from error
        """,
    },
    {
        "task": "task3_7",
        "block": 2,
        "name": "the architecture mismatch in other words",
        "patch": [("""
            raise CheckpointError(
                f"{path} does not match this model (was it saved from a different architecture?): {error}"
            ) from error
        """, """
            raise CheckpointError(f"the weights in {path} are for another network: {error}") from error
        """)],
    },
    {
        "task": "task3_2",
        "name": "per-batch mean losses weighted by batch size in a list, modes restored with train(mode)",
        "body": """
            was_training = [(module, module.training) for module in model.modules()]
            model.eval()
            weighted, hits, count = [], 0, 0
            try:
                with torch.inference_mode():
                    for inputs, targets in loader:
                        inputs, targets = inputs.to(device), targets.to(device)
                        outputs = model(inputs)
                        weighted.append(loss_fn(outputs, targets).item() * targets.numel())
                        hits += int((outputs.argmax(1) == targets).sum())
                        count += targets.numel()
            finally:
                for module, mode in was_training:
                    module.training = mode
            if not count:
                raise ValueError("no batches to evaluate: the loader is empty")
            return {"loss": sum(weighted) / count, "accuracy": hits / count}
        """,
    },
    {
        "task": "task3_3",
        "name": "the cosine as 1 - sin^2 and the warm-up written with a ratio",
        "body": """
            def multiplier(step: int) -> float:
                if step < warmup_steps:
                    return (step + 1) / (warmup_steps + 1)
                t = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
                half = (1.0 - math.sin(math.pi * t / 2) ** 2)  # = (1 + cos(pi t)) / 2
                return min_lr_ratio + (1.0 - min_lr_ratio) * half

            return torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=multiplier)
        """,
    },
    {
        "task": "task3_5",
        "block": 1,
        "name": "the state built key by key, the named generators in a loop",
        "body": """
            state = {"torch": torch.get_rng_state(), "python": random.getstate(), "numpy": _numpy_state()}
            state["generators"] = {}
            for name, generator in (generators or {}).items():
                state["generators"][name] = generator.get_state()
            if torch.cuda.is_available():
                state["cuda"] = [torch.cuda.get_rng_state(i) for i in range(torch.cuda.device_count())]
            return state
        """,
    },
    {
        "task": "task3_1",
        "name": "batches buffered in a list and flushed by a nested step function; the norm taken as a tensor",
        "why": "the README suggests itertools.islice but any grouping works: a buffer that is stepped when full, "
               "and once more for the leftover group, gives the same groups and the same exact weights",
        "body": """
            def optimizer_step(group):
                nonlocal total_loss, correct, seen, steps, grad_norm
                group_size = sum(targets.shape[0] for _, targets in group)
                optimizer.zero_grad()
                for inputs, targets in group:
                    inputs, targets = inputs.to(device), targets.to(device)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not math.isfinite(loss.item()):
                        raise FloatingPointError(f"the training loss became {loss.item()} (optimizer step {steps + 1}): "
                                                 "try a smaller learning rate or max_grad_norm, and look for NaN in the data")
                    share = targets.shape[0] / group_size
                    (share * loss).backward()
                    seen += targets.shape[0]
                    total_loss += loss.item() * targets.shape[0]
                    correct += int((outputs.argmax(-1) == targets).sum())
                grads = [p.grad for p in model.parameters() if p.grad is not None]
                if max_grad_norm is None:
                    norm = torch.nn.utils.get_total_norm(grads)
                else:
                    norm = torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], max_grad_norm)
                grad_norm = float(norm)
                optimizer.step()
                steps += 1
                if scheduler is not None:
                    scheduler.step()

            pending = []
            for batch in loader:
                pending.append(batch)
                if len(pending) == grad_accum_steps:
                    optimizer_step(pending)
                    pending = []
            if pending:  # the last, incomplete group
                optimizer_step(pending)
        """,
    },
    {
        "task": "task3_6",
        "name": "the temporary file made by tempfile.mkstemp, removed in the except clause",
        "why": "the README asks for a temporary file in the same folder, fsync, os.replace and cleanup on failure; "
               "how the temporary name is made and where the cleanup sits are the learner's choice",
        "body": """
            import tempfile

            state = dict(format=CHECKPOINT_FORMAT, epoch=epoch, best=best)
            state["model"] = model.state_dict()
            state["optimizer"] = optimizer.state_dict()
            state["scheduler"] = None if scheduler is None else scheduler.state_dict()
            state["scheduler_type"] = None if scheduler is None else scheduler.__class__.__name__
            state["rng"] = capture_rng_state(generators)
            state["extra"] = dict(extra)
            descriptor, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".partial")
            try:
                with os.fdopen(descriptor, "wb") as handle:
                    torch.save(state, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.replace(tmp_name, path)
            except (OSError, RuntimeError) as error:
                if os.path.exists(tmp_name):
                    os.remove(tmp_name)
                raise OSError(f"saving {path} failed: {error}. Make room on the disk or save into a folder "
                              "you can write to") from error
            return path
        """,
    },
    {
        "task": "task3_8",
        "name": "the lr read from the scheduler, last.pt written before best.pt, explicit keyword arguments",
        "why": "the README leaves the order of the two saves and how the lr is read open; both files are written "
               "after evaluate, so the RNG states are the end-of-epoch ones either way",
        "body": """
            if scheduler is not None:
                lr = scheduler.get_last_lr()[0]
            else:
                lr = optimizer.param_groups[0]["lr"]
            train_metrics = train_one_epoch(
                model, train_loader, loss_fn, optimizer, scheduler=scheduler, device=device,
                grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm,
            )
            val_metrics = evaluate(model, val_loader, loss_fn, device)
            history.append(epoch_row(epoch, lr, train_metrics, val_metrics, time.perf_counter() - started))
            patience_ran_out = stopper.step(history[-1][monitor])
            if patience is not None:
                stop = patience_ran_out
            if checkpoint_dir is not None:
                extras = {"history": list(history), "early_stopping": stopper.state_dict(), "stopped": stop}
                save_checkpoint(last_path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch,
                                best=stopper.best, generators=generators, **extras)
                if stopper.improved:
                    save_checkpoint(checkpoint_dir / "best.pt", model=model, optimizer=optimizer, scheduler=scheduler,
                                    epoch=epoch, best=stopper.best, generators=generators, **extras)
            if metrics_path is not None:
                log_metrics(metrics_path, history[-1:])
        """,
    },
    {
        "task": "task3_9",
        "name": "the metrics file deleted and written again by appending; the extras unpacked first",
        "why": "the README asks that the log be rewritten from the saved history; deleting it and appending "
               "every row gives the same file (a CSV gets its header again, as for a new file)",
        "body": """
            saved = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            extra = saved["extra"]
            history, stopped = list(extra["history"]), bool(extra["stopped"])
            stopper.load_state_dict(extra["early_stopping"])
            if metrics_path is not None:
                Path(metrics_path).unlink(missing_ok=True)
                log_metrics(metrics_path, history)
            return saved["epoch"] + 1, history, stopped
        """,
    },
]
