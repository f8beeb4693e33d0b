"""Lab 3 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task3_1",
        "name": "zero_grad for every micro-batch",
        "why": "clears the group's earlier gradients: only the last micro-batch counts",
        "mentions": "same update",
        "patch": [
            ('''
                optimizer.zero_grad(set_to_none=True)
                for inputs, targets in group:
            ''', '''
                for inputs, targets in group:
                    optimizer.zero_grad(set_to_none=True)
            '''),
        ],
    },
    {
        "task": "task3_1",
        "name": "loss divided by grad_accum_steps",
        "why": "the usual shortcut: wrong for the last, incomplete group",
        "mentions": "same update",
        "patch": [
            ('''
                (loss * (len(targets) / group_size)).backward()
            ''', '''
                (loss / grad_accum_steps).backward()
            '''),
        ],
    },
    {
        "task": "task3_1",
        "name": "batch losses not weighted by size",
        "why": "adds each batch's mean loss as if it were one sample",
        "mentions": "weight each batch",
        "patch": [
            ('''
                total_loss += loss.item() * len(targets)
            ''', '''
                total_loss += loss.item()
            '''),
        ],
    },
    {
        "task": "task3_1",
        "name": "scheduler stepped per micro-batch",
        "why": "a per-step schedule must move once per optimizer step",
        "mentions": "once per optimizer step",
        "patch": [
            ('''
                seen += len(targets)
            ''', '''
                seen += len(targets)
                if scheduler is not None:
                    scheduler.step()
            '''),
            ('''
                if scheduler is not None:
                    scheduler.step()
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_1",
        "name": "clipping after the optimizer step",
        "why": "too late: the step already used the unclipped gradients",
        "mentions": "max_grad_norm",
        "patch": [
            ('''
                    seen += len(targets)
                params = [p for p in model.parameters() if p.grad is not None]
            ''', '''
                    seen += len(targets)
                optimizer.step()
                params = [p for p in model.parameters() if p.grad is not None]
            '''),
            ('''
                optimizer.step()
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_1",
        "name": "no check for a non-finite loss",
        "why": "keeps training on NaN",
        "mentions": "floatingpointerror",
        "patch": [
            ('''
                if not torch.isfinite(loss):
                    raise FloatingPointError(
                        f"loss is {loss.item()} at optimizer step {steps}: lower the learning rate, "
                        "clip gradients (max_grad_norm) or check the data for NaNs"
                    )
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_2",
        "name": "mode not restored",
        "why": "leaves a training model in eval mode",
        "mentions": "back in train mode",
        "patch": [
            ('''
                for module, mode in modes.items():
                    module.training = mode
            ''', '''
                pass
            '''),
        ],
    },
    {
        "task": "task3_2",
        "name": "model.train() afterwards",
        "why": "switches a deliberately frozen BatchNorm back to training",
        "mentions": "mode",
        "patch": [
            ('''
                for module, mode in modes.items():
                    module.training = mode
            ''', '''
                model.train()
            '''),
        ],
    },
    {
        "task": "task3_2",
        "name": "modes restored after the loop, not in finally",
        "why": "an error part-way through the loader leaves the model in eval mode",
        "mentions": "finally",
        "patch": [
            ('''
                try:
                    with torch.no_grad():
            ''', '''
                if True:
                    with torch.no_grad():
            '''),
            ('''
                finally:
                    for module, mode in modes.items():
            ''', '''
                if True:
                    for module, mode in modes.items():
            '''),
        ],
    },
    {
        "task": "task3_2",
        "name": "no torch.no_grad()",
        "why": "eval mode does not turn autograd off: every forward builds a graph",
        "mentions": "no_grad",
        "patch": [
            ('''
                with torch.no_grad():
            ''', '''
                if True:
            '''),
        ],
    },
    {
        "task": "task3_3",
        "name": "warmup starts at lr 0",
        "why": "step / warmup_steps wastes the first step at lr 0",
        "mentions": "warmup",
        "patch": [
            ('''
                return (step + 1) / (warmup_steps + 1)
            ''', '''
                return step / warmup_steps
            '''),
        ],
    },
    {
        "task": "task3_3",
        "name": "no floor",
        "why": "decays to 0, ignoring min_lr_ratio",
        "mentions": "min_lr_ratio",
        "patch": [
            ('''
                return min_lr_ratio + (1.0 - min_lr_ratio) * 0.5 * (1.0 + math.cos(math.pi * progress))
            ''', '''
                return 0.5 * (1.0 + math.cos(math.pi * progress))
            '''),
        ],
    },
    {
        "task": "task3_3",
        "name": "progress not capped",
        "why": "after total_steps the cosine climbs back up",
        "mentions": "step 15",
        "patch": [
            ('''
                progress = min(1.0, (step - warmup_steps) / (total_steps - warmup_steps))
            ''', '''
                progress = (step - warmup_steps) / (total_steps - warmup_steps)
            '''),
        ],
    },
    {
        "task": "task3_4",
        "name": "an equal value counts as an improvement",
        "why": "<= instead of <",
        "mentions": "an equal value is no improvement",
        "patch": [
            ('''
                improved = value < self.best - self.min_delta
            ''', '''
                improved = value <= self.best - self.min_delta
            '''),
        ],
    },
    {
        "task": "task3_4",
        "name": "an equal value counts as an improvement in max mode",
        "why": ">= instead of >: the min-mode tests alone do not see it",
        "mentions": "the comparison is strict",
        "patch": [
            ('''
                improved = value > self.best + self.min_delta
            ''', '''
                improved = value >= self.best + self.min_delta
            '''),
        ],
    },
    {
        "task": "task3_4",
        "name": "min_delta ignored",
        "why": "any tiny gain resets the patience",
        "mentions": "min_delta",
        "patch": [
            ('''
                improved = value > self.best + self.min_delta
            ''', '''
                improved = value > self.best
            '''),
        ],
    },
    {
        "task": "task3_4",
        "name": "the first value is always the best, NaN too",
        "why": "a NaN first value becomes best and nothing ever beats it",
        "mentions": "nan",
        "patch": [
            ('''
                improved = not math.isnan(value)
            ''', '''
                improved = True
            '''),
        ],
    },
    {
        "task": "task3_5",
        "name": "NumPy's raw state",
        "why": "np.random.get_state() holds an ndarray: a weights_only load refuses it",
        "mentions": "plain values only",
        "patch": [
            ('''
                "numpy": _numpy_state(),
            ''', '''
                "numpy": np.random.get_state(),
            '''),
        ],
    },
    {
        "task": "task3_5",
        "name": "loader generators not captured",
        "why": "the shuffling order is not saved",
        "mentions": "generators",
        "patch": [
            ('''
                "generators": {name: generator.get_state() for name, generator in (generators or {}).items()},
            ''', '''
                "generators": {},
            '''),
        ],
    },
    {
        "task": "task3_5",
        "block": 2,
        "name": "Python's random not restored",
        "why": "one of the streams is forgotten",
        "mentions": ["python random", "edit restore_rng_state()"],
        "patch": [
            ('''
                random.setstate(state["python"])
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_5",
        "block": 2,
        "name": "unknown generator name skipped",
        "why": "a loader built differently is silently left unrestored",
        "mentions": "nothing was raised",
        "patch": [
            ('''
                raise ValueError(
                    f"no state for generator {name!r} in this checkpoint (it has {sorted(state['generators'])}); "
                    "build the DataLoaders the same way as in the run that saved it"
                )
            ''', '''
                continue
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "torch.save straight onto the checkpoint",
        "why": "a crash mid-write destroys the only checkpoint",
        "mentions": "temporary file",
        "patch": [
            ('''
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            ''', '''
                tmp = path
            '''),
            ('''
                    os.replace(tmp, path)
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
                finally:
                    tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "temporary file not removed on failure",
        "why": "a half-written .tmp file is left behind",
        "mentions": "temporary file must be removed",
        "patch": [
            ('''
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
                finally:
                    tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                except BaseException:
                    raise
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "temporary file in another folder",
        "why": "os.replace is atomic only within one file system",
        "mentions": "same folder",
        "patch": [
            ('''
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            ''', '''
                import tempfile
                tmp = Path(tempfile.gettempdir()) / f"{path.name}.{os.getpid()}.tmp"
            '''),
            ('''
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
                finally:
                    tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "no scheduler_type",
        "why": "load_checkpoint cannot refuse a scheduler of another kind",
        "mentions": "scheduler_type",
        "patch": [
            ('''
                "scheduler_type": type(scheduler).__name__ if scheduler is not None else None,
            ''', '''

            '''),
            ('''
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
                finally:
                    tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "re-raises torch.save's error as it is",
        "why": "a full disk then reads \"[enforce fail at inline_container.cc]\": no file, no reason a user can act on",
        "mentions": "names the checkpoint",
        "patch": [
            ('''
                os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
            ''', '''
                os.fsync(file.fileno())
            '''),
            ('''
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
                finally:
                    tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                except BaseException:
                    tmp.unlink(missing_ok=True)
                    raise
            '''),
        ],
    },
    {
        "task": "task3_6",
        "name": "no fsync before the rename",
        "why": "after a power cut the renamed checkpoint can be empty: its bytes never reached the disk",
        "mentions": "fsync",
        "patch": [
            ('''
                file.flush()
                os.fsync(file.fileno())  # the bytes are on disk before the rename makes them visible
            ''', '''

            '''),
            ('''
                except (OSError, RuntimeError) as error:  # a full disk, a read-only folder: say which file, and why
                    raise OSError(f"could not save the checkpoint {path} ({error}): free some disk space or choose a "
                                  "writable folder") from error
            ''', '''
                except (OSError, RuntimeError) as error:
                    raise OSError(f"could not save the checkpoint {path} ({error})") from error
            '''),
            ('''
                tmp.unlink(missing_ok=True)  # gone after the rename; after any failure the partial file goes too
            ''', '''
                tmp.unlink(missing_ok=True)
            '''),
        ],
    },
    {
        "task": "task3_7",
        "name": "weights_only=False",
        "why": "unpickling a file can run arbitrary code",
        "mentions": "weights_only",
        "patch": [
            ('''
                checkpoint = torch.load(path, map_location=map_location, weights_only=True)
            ''', '''
                checkpoint = torch.load(path, map_location=map_location, weights_only=False)
            '''),
        ],
    },
    {
        "task": "task3_7",
        "name": "reading errors not translated",
        "why": "a truncated file ends in a raw torch traceback",
        "mentions": "checkpointerror",
        "patch": [
            ('''
                try:
                    checkpoint = torch.load(path, map_location=map_location, weights_only=True)
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
            ''', '''
                checkpoint = torch.load(path, map_location=map_location, weights_only=True)
            '''),
        ],
    },
    {
        "task": "task3_7",
        "block": 2,
        "name": "no scheduler kind check",
        "why": "a LambdaLR state loads silently into a StepLR",
        "mentions": "lambdalr",
        "patch": [
            ('''
                saved_type = checkpoint.get("scheduler_type")  # None in files written before it was stored
                if saved_type is not None and saved_type != type(scheduler).__name__:
                    raise CheckpointError(
                        f"{path} holds the state of a {saved_type} scheduler, but a {type(scheduler).__name__} was passed: "
                        "build the same scheduler as the run that saved it (or pass scheduler=None)"
                    )
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_7",
        "block": 2,
        "name": "architecture mismatch not translated",
        "why": "load_state_dict's long RuntimeError reaches the user",
        "mentions": "model does not match",
        "patch": [
            ('''
                try:
                    model.load_state_dict(checkpoint["model"])
                except RuntimeError as error:
            ''', '''
                model.load_state_dict(checkpoint["model"])
                if False:
            '''),
        ],
    },
    {
        "task": "task3_7",
        "block": 2,
        "name": "RNG states not restored",
        "why": "a resumed run draws different random numbers",
        "mentions": "rng",
        "patch": [
            ('''
                if restore_rng:
                    restore_rng_state(checkpoint["rng"], generators)
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_8",
        "name": "last.pt saved before evaluate",
        "why": "the RNG state in last.pt is not the one at the end of the epoch",
        "mentions": "after evaluate",
        "patch": [
            ('''
                train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                        grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
            ''', '''
                train = train_one_epoch(model, train_loader, loss_fn, optimizer, device=device,
                                        grad_accum_steps=grad_accum_steps, max_grad_norm=max_grad_norm, scheduler=scheduler)
                if checkpoint_dir is not None:
                    save_checkpoint(last_path, model=model, optimizer=optimizer, scheduler=scheduler, epoch=epoch, best=stopper.best,
                                    generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=False)
            '''),
            ('''
                save_checkpoint(last_path, **state)
            ''', '''

            '''),
        ],
    },
    {
        "task": "task3_8",
        "name": "best.pt every epoch",
        "why": "ignores stopper.improved: best.pt is just another last.pt",
        "mentions": "best.pt",
        "patch": [
            ('''
                if stopper.improved:
            ''', '''
                if True:
            '''),
        ],
    },
    {
        "task": "task3_8",
        "name": "row built by hand",
        "why": "skips epoch_row, so a NaN validation loss runs on (and can crash the early-stopping message)",
        "mentions": "floatingpointerror",
        "patch": [
            ('''
                row = epoch_row(epoch, lr, train, val, time.perf_counter() - started)
            ''', '''
                row = {"epoch": epoch, "lr": lr, "train_loss": train["loss"], "train_accuracy": train["accuracy"], "val_loss": val["loss"], "val_accuracy": val["accuracy"], "grad_norm": train["grad_norm"], "steps": train["steps"], "seconds": 0.0}
            '''),
        ],
    },
    {
        "task": "task3_8",
        "name": "no generators in the checkpoint",
        "why": "the shuffling order is not saved, so a resume reshuffles differently",
        "mentions": "generators",
        "patch": [
            ('''
                generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=stop)
            ''', '''
                history=history, early_stopping=stopper.state_dict(), stopped=stop)
            '''),
        ],
    },
    {
        "task": "task3_8",
        "name": "stopped flag not saved",
        "why": "last.pt cannot tell a resume that the run had stopped",
        "mentions": "stopped",
        "patch": [
            ('''
                generators=generators, history=history, early_stopping=stopper.state_dict(), stopped=stop)
            ''', '''
                generators=generators, history=history, early_stopping=stopper.state_dict())
            '''),
        ],
    },
    {
        "task": "task3_9",
        "name": "metrics log appended, not rewritten",
        "why": "an epoch logged after last.pt appears twice",
        "mentions": "rewrite",
        "patch": [
            ('''
                log_metrics(metrics_path, history, append=False)
            ''', '''
                pass
            '''),
        ],
    },
    {
        "task": "task3_9",
        "name": "restarts at the saved epoch",
        "why": "trains the saved epoch a second time",
        "mentions": "continues at epoch 3",
        "patch": [
            ('''
                return checkpoint["epoch"] + 1, history, checkpoint["extra"]["stopped"]
            ''', '''
                return checkpoint["epoch"], history, checkpoint["extra"]["stopped"]
            '''),
        ],
    },
    {
        "task": "task3_9",
        "name": "stopped flag ignored",
        "why": "a run that had stopped early trains on",
        "mentions": "stopped",
        "patch": [
            ('''
                return checkpoint["epoch"] + 1, history, checkpoint["extra"]["stopped"]
            ''', '''
                return checkpoint["epoch"] + 1, history, False
            '''),
        ],
    },
    {
        "task": "task3_9",
        "name": "loader generators not restored",
        "why": "the shuffling order after the resume differs from the uninterrupted run",
        "mentions": "generator",
        "patch": [
            ('''
                checkpoint = load_checkpoint(last_path, model, optimizer, scheduler, generators=generators)
            ''', '''
                checkpoint = load_checkpoint(last_path, model, optimizer, scheduler)
            '''),
        ],
    },
    {
        "task": "task3_9",
        "name": "early-stopping state not restored",
        "why": "patience starts from zero after a resume",
        "mentions": "early-stopping state",
        "patch": [
            ('''
                stopper.load_state_dict(checkpoint["extra"]["early_stopping"])
            ''', '''

            '''),
        ],
    },
]
