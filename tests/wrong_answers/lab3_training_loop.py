"""Lab 3 — realistic wrong answers, each caught by the task's tests (format: CONTRACT.md, issue 14)."""

WRONG_ANSWERS = [
    {
        "task": 'task3_1',
        "name": 'zero_grad for every micro-batch',
        "why": "clears the group's earlier gradients: only the last micro-batch counts",
        "expect": 'same update',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                for inputs, targets in group:
                    optimizer.zero_grad(set_to_none=True)
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                            "clip gradients (max_grad_norm) or check the data for NaNs"
                        )
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss * (len(targets) / group_size)).backward()
                    total_loss += loss.item() * len(targets)
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_1',
        "name": 'loss divided by grad_accum_steps',
        "why": 'the usual shortcut: wrong for the last, incomplete group',
        "expect": 'same update',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                            "clip gradients (max_grad_norm) or check the data for NaNs"
                        )
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss / grad_accum_steps).backward()
                    total_loss += loss.item() * len(targets)
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_1',
        "name": 'batch losses not weighted by size',
        "why": "adds each batch's mean loss as if it were one sample",
        "expect": 'weight each batch',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                            "clip gradients (max_grad_norm) or check the data for NaNs"
                        )
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss * (len(targets) / group_size)).backward()
                    total_loss += loss.item()
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_1',
        "name": 'scheduler stepped per micro-batch',
        "why": 'a per-step schedule must move once per optimizer step',
        "expect": 'once per optimizer step',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                            "clip gradients (max_grad_norm) or check the data for NaNs"
                        )
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss * (len(targets) / group_size)).backward()
                    total_loss += loss.item() * len(targets)
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                    if scheduler is not None:
                        scheduler.step()
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                optimizer.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_1',
        "name": 'clipping after the optimizer step',
        "why": 'too late: the step already used the unclipped gradients',
        "expect": 'max_grad_norm',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    if not torch.isfinite(loss):
                        raise FloatingPointError(
                            f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                            "clip gradients (max_grad_norm) or check the data for NaNs"
                        )
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss * (len(targets) / group_size)).backward()
                    total_loss += loss.item() * len(targets)
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                optimizer.step()
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_1',
        "name": 'no check for a non-finite loss',
        "why": 'keeps training on NaN',
        "expect": 'floatingpointerror',
        "body": '''
            batches = iter(loader)
            while group := list(itertools.islice(batches, grad_accum_steps)):
                group_size = sum(len(targets) for _, targets in group)
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
                    inputs = inputs.to(device, non_blocking=True)
                    targets = targets.to(device, non_blocking=True)
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                    # this batch's mean loss, weighted by batch size / group size: its part of the group mean
                    (loss * (len(targets) / group_size)).backward()
                    total_loss += loss.item() * len(targets)
                    correct += (outputs.argmax(dim=1) == targets).sum().item()
                    seen += len(targets)
                params = [p for p in model.parameters() if p.grad is not None]
                if max_grad_norm is not None:
                    grad_norm = torch.nn.utils.clip_grad_norm_(params, max_grad_norm).item()
                else:
                    grad_norm = torch.nn.utils.get_total_norm([p.grad for p in params]).item()
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
                steps += 1
        ''',
    },
    {
        "task": 'task3_2',
        "name": 'mode not restored',
        "why": 'leaves a training model in eval mode',
        "expect": 'back in train mode',
        "body": '''
            modes = {module: module.training for module in model.modules()}
            model.eval()
            total_loss, correct, seen = 0.0, 0, 0
            try:
                with torch.no_grad():
                    for inputs, targets in loader:
                        inputs = inputs.to(device, non_blocking=True)
                        targets = targets.to(device, non_blocking=True)
                        outputs = model(inputs)
                        total_loss += loss_fn(outputs, targets).item() * len(targets)
                        correct += (outputs.argmax(dim=1) == targets).sum().item()
                        seen += len(targets)
            finally:
                pass
            if seen == 0:
                raise ValueError("the evaluation loader yielded no batches: is the dataset empty?")
            return {"loss": total_loss / seen, "accuracy": correct / seen}
        ''',
    },
    {
        "task": 'task3_2',
        "name": 'model.train() afterwards',
        "why": 'switches a deliberately frozen BatchNorm back to training',
        "expect": 'mode',
        "body": '''
            modes = {module: module.training for module in model.modules()}
            model.eval()
            total_loss, correct, seen = 0.0, 0, 0
            try:
                with torch.no_grad():
                    for inputs, targets in loader:
                        inputs = inputs.to(device, non_blocking=True)
                        targets = targets.to(device, non_blocking=True)
                        outputs = model(inputs)
                        total_loss += loss_fn(outputs, targets).item() * len(targets)
                        correct += (outputs.argmax(dim=1) == targets).sum().item()
                        seen += len(targets)
            finally:
                model.train()
            if seen == 0:
                raise ValueError("the evaluation loader yielded no batches: is the dataset empty?")
            return {"loss": total_loss / seen, "accuracy": correct / seen}
        ''',
    },
    {
        "task": 'task3_2',
        "name": 'no torch.no_grad()',
        "why": 'eval mode does not turn autograd off: every forward builds a graph',
        "expect": 'no_grad',
        "body": '''
            modes = {module: module.training for module in model.modules()}
            model.eval()
            total_loss, correct, seen = 0.0, 0, 0
            try:
                if True:
                    for inputs, targets in loader:
                        inputs = inputs.to(device, non_blocking=True)
                        targets = targets.to(device, non_blocking=True)
                        outputs = model(inputs)
                        total_loss += loss_fn(outputs, targets).item() * len(targets)
                        correct += (outputs.argmax(dim=1) == targets).sum().item()
                        seen += len(targets)
            finally:
                for module, mode in modes.items():
                    module.training = mode
            if seen == 0:
                raise ValueError("the evaluation loader yielded no batches: is the dataset empty?")
            return {"loss": total_loss / seen, "accuracy": correct / seen}
        ''',
    },
    {
        "task": 'task3_3',
        "name": 'warmup starts at lr 0',
        "why": 'step / warmup_steps wastes the first step at lr 0',
        "expect": 'warmup',
        "body": '''
            def factor(step: int) -> float:
                if step < warmup_steps:
                    return step / warmup_steps
                progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
                return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

            return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        ''',
    },
    {
        "task": 'task3_3',
        "name": 'no floor',
        "why": 'decays to 0, ignoring min_lr_ratio',
        "expect": 'min_lr_ratio',
        "body": '''
            def factor(step: int) -> float:
                if step < warmup_steps:
                    return (step + 1) / (warmup_steps + 1)
                progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
                return 0.5 * (1.0 + math.cos(math.pi * progress))

            return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        ''',
    },
    {
        "task": 'task3_3',
        "name": 'progress not capped',
        "why": 'after total_steps the cosine climbs back up',
        "expect": 'step 15',
        "body": '''
            def factor(step: int) -> float:
                if step < warmup_steps:
                    return (step + 1) / (warmup_steps + 1)
                progress = (step - warmup_steps) / (total_steps - warmup_steps)
                return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))

            return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
        ''',
    },
    {
        "task": 'task3_4',
        "name": 'an equal value counts as an improvement',
        "why": '<= instead of <',
        "expect": 'an equal value is no improvement',
        "body": '''
            value = float(value)
            if self.best is None:
                improved = not math.isnan(value)
            elif self.mode == "min":
                improved = value <= self.best - self.min_delta
            else:
                improved = value > self.best + self.min_delta
            if improved:
                self.best, self.num_bad_epochs = value, 0
            else:
                self.num_bad_epochs += 1
            self.improved = improved
            return self.num_bad_epochs >= self.patience
        ''',
    },
    {
        "task": 'task3_4',
        "name": 'min_delta ignored',
        "why": 'any tiny gain resets the patience',
        "expect": 'min_delta',
        "body": '''
            value = float(value)
            if self.best is None:
                improved = not math.isnan(value)
            elif self.mode == "min":
                improved = value < self.best - self.min_delta
            else:
                improved = value > self.best
            if improved:
                self.best, self.num_bad_epochs = value, 0
            else:
                self.num_bad_epochs += 1
            self.improved = improved
            return self.num_bad_epochs >= self.patience
        ''',
    },
    {
        "task": 'task3_4',
        "name": 'the first value is always the best, NaN too',
        "why": 'a NaN first value becomes best and nothing ever beats it',
        "expect": 'nan',
        "body": '''
            value = float(value)
            if self.best is None:
                improved = True
            elif self.mode == "min":
                improved = value < self.best - self.min_delta
            else:
                improved = value > self.best + self.min_delta
            if improved:
                self.best, self.num_bad_epochs = value, 0
            else:
                self.num_bad_epochs += 1
            self.improved = improved
            return self.num_bad_epochs >= self.patience
        ''',
    },
    {
        "task": 'task3_5',
        "name": "NumPy's raw state",
        "why": 'np.random.get_state() holds an ndarray: a weights_only load refuses it',
        "expect": 'plain values only',
        "body": '''
            state = {
                "torch": torch.get_rng_state(),
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "generators": {name: generator.get_state() for name, generator in (generators or {}).items()},
            }
            if torch.cuda.is_available():
                state["cuda"] = torch.cuda.get_rng_state_all()
            return state
        ''',
    },
    {
        "task": 'task3_5',
        "name": 'loader generators not captured',
        "why": 'the shuffling order is not saved',
        "expect": 'generators',
        "body": '''
            state = {
                "torch": torch.get_rng_state(),
                "python": random.getstate(),
                "numpy": _numpy_state(),
                "generators": {},
            }
            if torch.cuda.is_available():
                state["cuda"] = torch.cuda.get_rng_state_all()
            return state
        ''',
    },
    {
        "task": 'task3_5',
        "block": 2,
        "name": "Python's random not restored",
        "why": 'one of the streams is forgotten',
        "expect": 'python random',
        "body": '''
            torch.set_rng_state(state["torch"])
            if torch.cuda.is_available() and state.get("cuda"):
                for index, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
                    torch.cuda.set_rng_state(cuda_state, index)
            _set_numpy_state(state["numpy"])
            for name, generator in (generators or {}).items():
                if name not in state["generators"]:
                    raise ValueError(
                        f"no state for generator {name!r} in this checkpoint (it has {sorted(state['generators'])}); "
                        "build the DataLoaders the same way as in the run that saved it"
                    )
                generator.set_state(state["generators"][name])
        ''',
    },
    {
        "task": 'task3_5',
        "block": 2,
        "name": 'unknown generator name skipped',
        "why": 'a loader built differently is silently left unrestored',
        "expect": 'nothing was raised',
        "body": '''
            torch.set_rng_state(state["torch"])
            if torch.cuda.is_available() and state.get("cuda"):
                for index, cuda_state in enumerate(state["cuda"][: torch.cuda.device_count()]):
                    torch.cuda.set_rng_state(cuda_state, index)
            random.setstate(state["python"])
            _set_numpy_state(state["numpy"])
            for name, generator in (generators or {}).items():
                if name not in state["generators"]:
                    continue
                generator.set_state(state["generators"][name])
        ''',
    },
    {
        "task": 'task3_6',
        "name": 'torch.save straight onto the checkpoint',
        "why": 'a crash mid-write destroys the only checkpoint',
        "expect": 'temporary file',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            tmp = path
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                    file.flush()
                    os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return path
        ''',
    },
    {
        "task": 'task3_6',
        "name": 'temporary file not removed on failure',
        "why": 'a half-written .tmp file is left behind',
        "expect": 'temporary file must be removed',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                    file.flush()
                    os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
                os.replace(tmp, path)
            except BaseException:
                raise
            return path
        ''',
    },
    {
        "task": 'task3_6',
        "name": 'temporary file in another folder',
        "why": 'os.replace is atomic only within one file system',
        "expect": 'same folder',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            import tempfile
            tmp = Path(tempfile.gettempdir()) / f"{path.name}.{os.getpid()}.tmp"
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                    file.flush()
                    os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return path
        ''',
    },
    {
        "task": 'task3_6',
        "name": 'no scheduler_type',
        "why": 'load_checkpoint cannot refuse a scheduler of another kind',
        "expect": 'scheduler_type',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                    file.flush()
                    os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return path
        ''',
    },
    {
        "task": 'task3_6',
        "name": "re-raises torch.save's error as it is",
        "why": 'a full disk then reads "[enforce fail at inline_container.cc]": no file, no reason a user can act on',
        "expect": 'names the checkpoint',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                    file.flush()
                    os.fsync(file.fileno())
                os.replace(tmp, path)
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            return path
        ''',
    },
    {
        "task": 'task3_6',
        "name": 'no fsync before the rename',
        "why": 'after a power cut the renamed checkpoint can be empty: its bytes never reached the disk',
        "expect": 'fsync',
        "body": '''
            checkpoint = {
                "format": CHECKPOINT_FORMAT,
                "epoch": epoch,
                "best": best,
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None,
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
                "rng": capture_rng_state(generators),
                "extra": extra,
            }
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            try:
                with open(tmp, "wb") as file:
                    torch.save(checkpoint, file)
                os.replace(tmp, path)
            except (OSError, RuntimeError) as error:
                raise OSError(f"could not save the checkpoint {path} ({error})") from error
            finally:
                tmp.unlink(missing_ok=True)
            return path
        ''',
    },
    {
        "task": 'task3_7',
        "name": 'weights_only=False',
        "why": 'unpickling a file can run arbitrary code',
        "expect": 'weights_only',
        "body": '''
            try:
                checkpoint = torch.load(path, map_location=map_location, weights_only=False)
            except pickle.UnpicklingError as error:
                if "Unsupported global" in str(error):
                    raise CheckpointError(
                        f"{path} holds Python objects other than tensors and plain containers, which "
                        f"torch.load(weights_only=True) refuses to unpickle (they could run code). Save only state "
                        f"dicts and plain values. Details: {str(error).splitlines()[0]}"
                    ) from error
                raise CheckpointError(f"could not read {path}: the file is truncated or corrupt ({error})") from error
            except Exception as error:  # RuntimeError (zip archive), EOFError (empty file), ...
                raise CheckpointError(
                    f"could not read {path}: the file is truncated or corrupt ({type(error).__name__}: "
                    f"{str(error).splitlines()[0] if str(error) else 'unexpected end of file'}). "
                    "Use another checkpoint (last.pt / best.pt) or start again"
                ) from error
        ''',
    },
    {
        "task": 'task3_7',
        "name": 'reading errors not translated',
        "why": 'a truncated file ends in a raw torch traceback',
        "expect": 'checkpointerror',
        "body": '''
            checkpoint = torch.load(path, map_location=map_location, weights_only=True)
        ''',
    },
    {
        "task": 'task3_7',
        "block": 2,
        "name": 'no scheduler kind check',
        "why": 'a LambdaLR state loads silently into a StepLR',
        "expect": 'lambdalr',
        "body": '''
            try:
                model.load_state_dict(checkpoint["model"])
            except RuntimeError as error:
                raise CheckpointError(
                    f"{path} does not match this model (was it saved from a different architecture?): {error}"
                ) from error
            if optimizer is not None:
                try:
                    optimizer.load_state_dict(checkpoint["optimizer"])
                except (ValueError, KeyError, RuntimeError) as error:
                    raise CheckpointError(f"{path}: the optimizer state does not match this optimizer: {error}") from error
            if scheduler is not None:
                if checkpoint["scheduler"] is None:
                    raise CheckpointError(f"{path} was saved without a scheduler; pass scheduler=None to load it")
                scheduler.load_state_dict(checkpoint["scheduler"])
            if restore_rng:
                restore_rng_state(checkpoint["rng"], generators)
            return checkpoint
        ''',
    },
    {
        "task": 'task3_7',
        "block": 2,
        "name": 'architecture mismatch not translated',
        "why": "load_state_dict's long RuntimeError reaches the user",
        "expect": 'does not match',
        "body": '''
            model.load_state_dict(checkpoint["model"])
            if False:
                raise CheckpointError(
                    f"{path} does not match this model (was it saved from a different architecture?): {error}"
                ) from error
            if optimizer is not None:
                try:
                    optimizer.load_state_dict(checkpoint["optimizer"])
                except (ValueError, KeyError, RuntimeError) as error:
                    raise CheckpointError(f"{path}: the optimizer state does not match this optimizer: {error}") from error
            if scheduler is not None:
                if checkpoint["scheduler"] is None:
                    raise CheckpointError(f"{path} was saved without a scheduler; pass scheduler=None to load it")
                saved_type = checkpoint.get("scheduler_type")  # None in files written before it was stored
                if saved_type is not None and saved_type != type(scheduler).__name__:
                    raise CheckpointError(
                        f"{path} holds the state of a {saved_type} scheduler, but a {type(scheduler).__name__} was passed: "
                        "build the same scheduler as the run that saved it (or pass scheduler=None)"
                    )
                scheduler.load_state_dict(checkpoint["scheduler"])
            if restore_rng:
                restore_rng_state(checkpoint["rng"], generators)
            return checkpoint
        ''',
    },
    {
        "task": 'task3_7',
        "block": 2,
        "name": 'RNG states not restored',
        "why": 'a resumed run draws different random numbers',
        "expect": 'rng',
        "body": '''
            try:
                model.load_state_dict(checkpoint["model"])
            except RuntimeError as error:
                raise CheckpointError(
                    f"{path} does not match this model (was it saved from a different architecture?): {error}"
                ) from error
            if optimizer is not None:
                try:
                    optimizer.load_state_dict(checkpoint["optimizer"])
                except (ValueError, KeyError, RuntimeError) as error:
                    raise CheckpointError(f"{path}: the optimizer state does not match this optimizer: {error}") from error
            if scheduler is not None:
                if checkpoint["scheduler"] is None:
                    raise CheckpointError(f"{path} was saved without a scheduler; pass scheduler=None to load it")
                saved_type = checkpoint.get("scheduler_type")  # None in files written before it was stored
                if saved_type is not None and saved_type != type(scheduler).__name__:
                    raise CheckpointError(
                        f"{path} holds the state of a {saved_type} scheduler, but a {type(scheduler).__name__} was passed: "
                        "build the same scheduler as the run that saved it (or pass scheduler=None)"
                    )
                scheduler.load_state_dict(checkpoint["scheduler"])
            return checkpoint
        ''',
    },
    {
        "task": 'task3_8',
        "name": 'last.pt saved before evaluate',
        "why": 'the RNG state in last.pt is not the one at the end of the epoch',
        "expect": 'after evaluate',
        "body": '''
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                    grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            if checkpoint_dir is not None:
                save_checkpoint(last_path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                                generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=False)
            val = evaluate(model, val_loader, loss_fn, device=device)
            row = epoch_row(epoch, lr, train, val, time.perf_counter() - started)
            history.append(row)
            stop = stopper.step(row[monitor]) and patience is not None
            if checkpoint_dir is not None:
                state = dict(model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                             generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=stop)
                if stopper.improved:
                    save_checkpoint(checkpoint_dir / "best.pt", **state)
            if metrics_path is not None:
                log_metrics(metrics_path, [row])
        ''',
    },
    {
        "task": 'task3_8',
        "name": 'best.pt every epoch',
        "why": 'ignores stopper.improved: best.pt is just another last.pt',
        "expect": 'best.pt',
        "body": '''
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                    grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            val = evaluate(model, val_loader, loss_fn, device=device)
            row = epoch_row(epoch, lr, train, val, time.perf_counter() - started)
            history.append(row)
            stop = stopper.step(row[monitor]) and patience is not None
            if checkpoint_dir is not None:
                state = dict(model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                             generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=stop)
                if True:
                    save_checkpoint(checkpoint_dir / "best.pt", **state)
                save_checkpoint(last_path, **state)
            if metrics_path is not None:
                log_metrics(metrics_path, [row])
        ''',
    },
    {
        "task": 'task3_8',
        "name": 'row built by hand',
        "why": 'skips epoch_row, so a NaN validation loss runs on (and can crash the early-stopping message)',
        "expect": 'floatingpointerror',
        "body": '''
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                    grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            val = evaluate(model, val_loader, loss_fn, device=device)
            row = {"epoch": epoch, "lr": lr, "train_loss": train["loss"], "train_accuracy": train["accuracy"], "val_loss": val["loss"], "val_accuracy": val["accuracy"], "grad_norm": train["grad_norm"], "steps": train["steps"], "seconds": 0.0}
            history.append(row)
            stop = stopper.step(row[monitor]) and patience is not None
            if checkpoint_dir is not None:
                state = dict(model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                             generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=stop)
                if stopper.improved:
                    save_checkpoint(checkpoint_dir / "best.pt", **state)
                save_checkpoint(last_path, **state)
            if metrics_path is not None:
                log_metrics(metrics_path, [row])
        ''',
    },
    {
        "task": 'task3_8',
        "name": 'no generators in the checkpoint',
        "why": 'the shuffling order is not saved, so a resume reshuffles differently',
        "expect": 'generators',
        "body": '''
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                    grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            val = evaluate(model, val_loader, loss_fn, device=device)
            row = epoch_row(epoch, lr, train, val, time.perf_counter() - started)
            history.append(row)
            stop = stopper.step(row[monitor]) and patience is not None
            if checkpoint_dir is not None:
                state = dict(model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                             history=history, early_stopping=stopper.state_dict(), stopped=stop)
                if stopper.improved:
                    save_checkpoint(checkpoint_dir / "best.pt", **state)
                save_checkpoint(last_path, **state)
            if metrics_path is not None:
                log_metrics(metrics_path, [row])
        ''',
    },
    {
        "task": 'task3_8',
        "name": 'stopped flag not saved',
        "why": 'last.pt cannot tell a resume that the run had stopped',
        "expect": 'stopped',
        "body": '''
            lr = optimizer.param_groups[0]["lr"]
            train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                    grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            val = evaluate(model, val_loader, loss_fn, device=device)
            row = epoch_row(epoch, lr, train, val, time.perf_counter() - started)
            history.append(row)
            stop = stopper.step(row[monitor]) and patience is not None
            if checkpoint_dir is not None:
                state = dict(model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                             generators=generators, history=history, early_stopping=stopper.state_dict())
                if stopper.improved:
                    save_checkpoint(checkpoint_dir / "best.pt", **state)
                save_checkpoint(last_path, **state)
            if metrics_path is not None:
                log_metrics(metrics_path, [row])
        ''',
    },
    {
        "task": 'task3_9',
        "name": 'metrics log appended, not rewritten',
        "why": 'an epoch logged after last.pt appears twice',
        "expect": 'rewrite',
        "body": '''
            checkpoint = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            history = checkpoint["extra"]["history"]
            stopper.load_state_dict(checkpoint["extra"]["early_stopping"])
            if metrics_path is not None:
                pass
            return checkpoint["epoch"] + 1, history, checkpoint["extra"]["stopped"]
        ''',
    },
    {
        "task": 'task3_9',
        "name": 'restarts at the saved epoch',
        "why": 'trains the saved epoch a second time',
        "expect": 'continues at epoch 3',
        "body": '''
            checkpoint = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            history = checkpoint["extra"]["history"]
            stopper.load_state_dict(checkpoint["extra"]["early_stopping"])
            if metrics_path is not None:
                log_metrics(metrics_path, history, append=False)
            return checkpoint["epoch"], history, checkpoint["extra"]["stopped"]
        ''',
    },
    {
        "task": 'task3_9',
        "name": 'stopped flag ignored',
        "why": 'a run that had stopped early trains on',
        "expect": 'stopped',
        "body": '''
            checkpoint = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            history = checkpoint["extra"]["history"]
            stopper.load_state_dict(checkpoint["extra"]["early_stopping"])
            if metrics_path is not None:
                log_metrics(metrics_path, history, append=False)
            return checkpoint["epoch"] + 1, history, False
        ''',
    },
    {
        "task": 'task3_9',
        "name": 'loader generators not restored',
        "why": 'the shuffling order after the resume differs from the uninterrupted run',
        "expect": 'generator',
        "body": '''
            checkpoint = load_checkpoint(last_path, model, optimizer, scheduler)
            history = checkpoint["extra"]["history"]
            stopper.load_state_dict(checkpoint["extra"]["early_stopping"])
            if metrics_path is not None:
                log_metrics(metrics_path, history, append=False)
            return checkpoint["epoch"] + 1, history, checkpoint["extra"]["stopped"]
        ''',
    },
    {
        "task": 'task3_9',
        "name": 'early-stopping state not restored',
        "why": 'patience starts from zero after a resume',
        "expect": 'early-stopping state',
        "body": '''
            checkpoint = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            history = checkpoint["extra"]["history"]
            if metrics_path is not None:
                log_metrics(metrics_path, history, append=False)
            return checkpoint["epoch"] + 1, history, checkpoint["extra"]["stopped"]
        ''',
    },
]
