"""Lab 5 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # ----------------------------------------------------------------- task5_1
    {
        "task": "task5_1",
        "block": 1,
        "name": "silent fall-back to the CPU",
        "why": "asking for cuda on a machine without one returns cpu: a 2-minute run becomes a 2-hour one without a word",
        "mentions": "not available",
        "patch": [
            ('''
                try:
                    device = torch.device(prefer)
                except RuntimeError as error:
                    raise ValueError(f"unknown device {prefer!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps' ({error})") from None
                available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": mps_available()}
                if device.type not in available:
                    raise ValueError(f"device type {device.type!r} is not one this lab supports: use 'cpu', 'cuda' or 'mps'")
                if not available[device.type]:
                    raise RuntimeError(
                        f"{prefer!r} was asked for but is not available on this machine; "
                        "call get_device() without an argument to use the best device there is"
                    )
            ''', '''
                device = torch.device(prefer)
                if device.type == "cuda" and not torch.cuda.is_available():
                    return torch.device("cpu")
            '''),
        ],
    },
    {
        "task": "task5_1",
        "block": 1,
        "name": "mps before cuda",
        "why": "the order of preference is cuda, then mps, then cpu",
        "patch": [
            ('''
                try:
                    device = torch.device(prefer)
                except RuntimeError as error:
                    raise ValueError(f"unknown device {prefer!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps' ({error})") from None
                available = {"cpu": True, "cuda": torch.cuda.is_available(), "mps": mps_available()}
                if device.type not in available:
                    raise ValueError(f"device type {device.type!r} is not one this lab supports: use 'cpu', 'cuda' or 'mps'")
                if not available[device.type]:
                    raise RuntimeError(
                        f"{prefer!r} was asked for but is not available on this machine; "
                        "call get_device() without an argument to use the best device there is"
                    )
                return device
            ''', '''
                return torch.device(prefer)
            '''),
            ('''
                if torch.cuda.is_available():
                    return torch.device("cuda")
                if mps_available():
                    return torch.device("mps")
            ''', '''
                if mps_available():
                    return torch.device("mps")
                if torch.cuda.is_available():
                    return torch.device("cuda")
            '''),
        ],
    },
    {
        "task": "task5_1",
        "block": 2,
        "name": "namedtuple rebuilt as a plain tuple",
        "why": "type(obj)(generator) fails for a namedtuple; tuple(...) loses the field names",
        "mentions": "edit to_device()",
        "patch": [
            ('''
                if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
                    return type(obj)(*(to_device(value, device, non_blocking) for value in obj))
            ''', '''

            '''),
            ('''
                return type(obj)(to_device(value, device, non_blocking) for value in obj)
            ''', '''
                return tuple(to_device(value, device, non_blocking) for value in obj)
            '''),
        ],
    },
    {
        "task": "task5_1",
        "block": 2,
        "name": "only the top level moved",
        "why": "no recursion: tensors nested in lists inside dicts stay behind",
        "patch": [
            ('''
                if isinstance(obj, dict):
                    return {key: to_device(value, device, non_blocking) for key, value in obj.items()}
                if isinstance(obj, tuple) and hasattr(obj, "_fields"):  # namedtuple
                    return type(obj)(*(to_device(value, device, non_blocking) for value in obj))
                if isinstance(obj, (list, tuple)):
                    return type(obj)(to_device(value, device, non_blocking) for value in obj)
            ''', '''
                if isinstance(obj, dict):
                    return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in obj.items()}
            '''),
        ],
    },
    {
        "task": "task5_1",
        "name": "an unknown name handed straight to torch.device",
        "why": "get_device('tpu') raises torch's RuntimeError listing its device strings, not the ValueError the docstring asks for",
        "mentions": "get_device('tpu') should raise ValueError",
        "patch": [
            ('''
                try:
                    device = torch.device(prefer)
                except RuntimeError as error:
                    raise ValueError(f"unknown device {prefer!r}: use 'cpu', 'cuda', 'cuda:N' or 'mps' ({error})") from None
            ''', '''
                device = torch.device(prefer)
            '''),
        ],
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "optimizer.step() with the gradients still scaled",
        "why": "scaler.update() then finds no inf checks: the README's common mistake, without the unscale",
        "mentions": "scaler.step(optimizer) instead",
        "patch": [("scaler.step(optimizer)  # unscales; skips the step if any gradient is inf/NaN", "optimizer.step()")],
    },
    # ----------------------------------------------------------------- task5_2
    {
        "task": "task5_2",
        "block": 1,
        "name": "optimizer.step() instead of scaler.step(optimizer)",
        "why": "the step is taken with scaled (or inf) gradients instead of being skipped (README, Common mistakes)",
        "mentions": "scaler.step",
        "patch": [
            ('''
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            ''', '''
                loss = loss_fn(model(inputs), targets)
            '''),
            ('''
                scaler.scale(loss).backward()  # gradients of loss * scale
                scaler.step(optimizer)  # unscales; skips the step if any gradient is inf/NaN
                scaler.update()  # halves the scale after a skip, grows it after a run of good steps
            ''', '''
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                optimizer.step()
                scaler.update()
            '''),
        ],
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "gradients never zeroed",
        "why": "gradients accumulate over steps: not the plain SGD step",
        "mentions": "not zeroed",
        "patch": [
            ('''
                optimizer.zero_grad(set_to_none=True)
            ''', '''

            '''),
            ('''
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            ''', '''
                loss = loss_fn(model(inputs), targets)
            '''),
            ('''
                scaler.scale(loss).backward()  # gradients of loss * scale
                scaler.step(optimizer)  # unscales; skips the step if any gradient is inf/NaN
                scaler.update()  # halves the scale after a skip, grows it after a run of good steps
            ''', '''
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            '''),
        ],
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "model cast to bf16 instead of autocast",
        "why": "model.to(dtype): the weights and the optimizer lose precision (README, Common mistakes)",
        "mentions": "float32",
        "patch": [
            ('''
                optimizer.zero_grad(set_to_none=True)
            ''', '''
                model.to(dtype)
                optimizer.zero_grad(set_to_none=True)
            '''),
            ('''
                with torch.amp.autocast(device_type=device_type, dtype=dtype, enabled=dtype != torch.float32):
                    outputs = model(inputs)
                    loss = loss_fn(outputs, targets)
                if scaler is not None:
                    scaler.scale(loss).backward()  # gradients of loss * scale
                    scaler.step(optimizer)  # unscales; skips the step if any gradient is inf/NaN
                    scaler.update()  # halves the scale after a skip, grows it after a run of good steps
                else:
                    loss.backward()
                    optimizer.step()
            ''', '''
                loss = loss_fn(model(inputs.to(dtype)).float(), targets)
                loss.backward()
                optimizer.step()
            '''),
        ],
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "loss returned with its graph",
        "why": "returning loss (not loss.detach()) keeps every step's graph alive",
        "mentions": "detach",
        "patch": [
            ('''
                outputs = model(inputs)
                loss = loss_fn(outputs, targets)
            ''', '''
                loss = loss_fn(model(inputs), targets)
            '''),
            ('''
                scaler.scale(loss).backward()  # gradients of loss * scale
                scaler.step(optimizer)  # unscales; skips the step if any gradient is inf/NaN
                scaler.update()  # halves the scale after a skip, grows it after a run of good steps
            ''', '''
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            '''),
            ('''
                return loss.detach()
            ''', '''
                return loss
            '''),
        ],
    },
    # ----------------------------------------------------------------- task5_3
    {
        "task": "task5_3",
        "block": 1,
        "name": "gradient not unscaled",
        "why": "returns w.grad of the scaled loss: loss_scale times too large",
        "patch": [
            ('''
                prediction = x @ w.T  # an fp16 matmul: its backward produces fp16 gradients
            ''', '''
                prediction = x @ w.T
            '''),
            ('''
                return w.grad / loss_scale
            ''', '''
                return w.grad
            '''),
        ],
    },
    {
        "task": "task5_3",
        "block": 1,
        "name": "matmul left in float32",
        "why": "without autocast nothing underflows: the lesson's zeros never appear",
        "mentions": "autocast",
        "patch": [
            ('''
                with torch.amp.autocast(device_type=device_type, dtype=torch.float16):
                    prediction = x @ w.T  # an fp16 matmul: its backward produces fp16 gradients
                loss = F.mse_loss(prediction.float(), target)
            ''', '''
                loss = F.mse_loss(x @ w.T, target)
            '''),
        ],
    },
    {
        "task": "task5_3",
        "block": 1,
        "name": "the caller's weight used as the leaf",
        "why": "weight.requires_grad_() changes the caller's tensor and accumulates into its .grad",
        "mentions": "must not modify",
        "patch": [
            ('''
                w = weight.detach().clone().requires_grad_(True)
            ''', '''
                w = weight.requires_grad_(True)
            '''),
            ('''
                prediction = x @ w.T  # an fp16 matmul: its backward produces fp16 gradients
            ''', '''
                prediction = x @ w.T
            '''),
        ],
    },
    # ----------------------------------------------------------------- task5_4
    {
        "task": "task5_4",
        "block": 1,
        "name": "checkpoint without use_reentrant",
        "why": "torch warns, and the reentrant default gives no gradients when the input does not require grad",
        "patch": [
            ('''
                if self.checkpoint_blocks and torch.is_grad_enabled():
                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            ''', '''
                x = checkpoint(block, x) if self.checkpoint_blocks and torch.is_grad_enabled() else block(x)
            '''),
        ],
    },
    {
        "task": "task5_4",
        "block": 1,
        "name": "use_reentrant=True",
        "why": "the old variant: no gradients for the blocks when the input data does not require grad",
        "mentions": "no gradient",
        "patch": [
            ('''
                x = checkpoint(block, x, use_reentrant=False)
            ''', '''
                x = checkpoint(block, x, use_reentrant=True)
            '''),
        ],
    },
    {
        "task": "task5_4",
        "block": 1,
        "name": "checkpointing under no_grad too",
        "why": "ignores torch.is_grad_enabled(): harmless output, but the test counts a wasted code path",
        "mentions": "torch.no_grad",
        "patch": [
            ('''
                if self.checkpoint_blocks and torch.is_grad_enabled():
                    x = checkpoint(block, x, use_reentrant=False)
                else:
                    x = block(x)
            ''', '''
                x = checkpoint(block, x, use_reentrant=False) if self.checkpoint_blocks else block(x)
                if self.checkpoint_blocks and not torch.is_grad_enabled():
                    block(x.detach())  # recomputes anyway
            '''),
        ],
    },
    # ----------------------------------------------------------------- task5_5
    {
        "task": "task5_5",
        "block": 1,
        "name": "catches every RuntimeError",
        "why": "a shape bug then looks like 'out of memory' (README, Common mistakes)",
        "mentions": "catch only torch.outofmemoryerror",
        "patch": [
            ('''
                def fits(batch_size: int) -> bool:
                    out_of_memory = False
            ''', '''
                def fits(batch_size):
            '''),
            ('''
                except torch.OutOfMemoryError:
                    out_of_memory = True
                if out_of_memory and torch.cuda.is_available():
                    torch.cuda.empty_cache()  # give the failed step's cached blocks back before the next try
                return not out_of_memory
            ''', '''
                    return True
                except RuntimeError:  # torch.OutOfMemoryError is one, but so is every shape bug
                    return False
            '''),
            ('''
                raise RuntimeError(f"batch size {start} already runs out of memory: lower `start` or shrink the model")
            ''', '''
                raise RuntimeError(f"batch size {start} already runs out of memory")
            '''),
        ],
    },
    {
        "task": "task5_5",
        "block": 1,
        "name": "doubling only, no binary search",
        "why": "returns the last power of two that fit: up to half the memory unused",
        "patch": [
            ('''
                def fits(batch_size: int) -> bool:
                    out_of_memory = False
            ''', '''
                def fits(batch_size):
            '''),
            ('''
                except torch.OutOfMemoryError:
                    out_of_memory = True
                if out_of_memory and torch.cuda.is_available():
                    torch.cuda.empty_cache()  # give the failed step's cached blocks back before the next try
                return not out_of_memory
            ''', '''
                    return True
                except torch.OutOfMemoryError:
                    return False
            '''),
            ('''
                    raise RuntimeError(f"batch size {start} already runs out of memory: lower `start` or shrink the model")
                good, bad = start, None
                while good < limit:
                    candidate = min(2 * good, limit)
                    if fits(candidate):
                        good = candidate
                    else:
                        bad = candidate
                        break
                if bad is None:
                    return good
                while bad - good > 1:
                    middle = (good + bad) // 2
                    if fits(middle):
                        good = middle
                    else:
                        bad = middle
            ''', '''
                    raise RuntimeError(f"batch size {start} already runs out of memory")
                good = start
                while good < limit and fits(min(2 * good, limit)):
                    good = min(2 * good, limit)
            '''),
        ],
    },
    {
        "task": "task5_5",
        "block": 1,
        "name": "linear search upwards",
        "why": "tries every size: thousands of steps instead of ~2 log2(limit)",
        "mentions": "tries",
        "body": '''
            best = None
            for batch_size in range(start, limit + 1):
                try:
                    step_fn(batch_size)
                    best = batch_size
                except torch.OutOfMemoryError:
                    break
            if best is None:
                raise RuntimeError(f"batch size {start} already runs out of memory")
            return best
        ''',
    },
    # ----------------------------------------------------------------- task5_6
    {
        "task": "task5_6",
        "block": 1,
        "name": "DDP without sharding the data",
        "why": "every rank trains on the whole batch: N times the compute for one process's progress (README)",
        "mentions": "shard",
        "patch": [
            ('''
                if device.type == "cuda":
                    torch.cuda.set_device(device)
            ''', '''

            '''),
            ('''
                rank, world_size = dist.get_rank(), dist.get_world_size()
            ''', '''
                rank = dist.get_rank()
            '''),
            ('''
                x, y = shard_for_rank(x, rank, world_size).to(device), shard_for_rank(y, rank, world_size).to(device)
            ''', '''
                x, y = x.to(device), y.to(device)
            '''),
            ('''
                loss = F.mse_loss(ddp_model(x), y)
                loss.backward()  # DDP all-reduces (averages) the gradients here, overlapped with backward
            ''', '''
                F.mse_loss(ddp_model(x), y).backward()
            '''),
            ('''
                dist.barrier()  # no rank tears the group down while another still has a collective in flight
            ''', '''
                dist.barrier()
            '''),
        ],
    },
    {
        "task": "task5_6",
        "block": 1,
        "name": "sharded data, no DDP wrapper",
        "why": "each rank steps on its own shard's gradient: the replicas drift apart",
        "mentions": "averaged",
        "patch": [
            ('''
                from torch.nn.parallel import DistributedDataParallel

                device, backend = distributed_device(config.device)
                if device.type == "cuda":
                    torch.cuda.set_device(device)
            ''', '''
                device, backend = distributed_device(config.device)
            '''),
            ('''
                ddp_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
            ''', '''

            '''),
            ('''
                optimizer = torch.optim.SGD(ddp_model.parameters(), lr=config.lr)
            ''', '''
                optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
            '''),
            ('''
                loss = F.mse_loss(ddp_model(x), y)
                loss.backward()  # DDP all-reduces (averages) the gradients here, overlapped with backward
            ''', '''
                F.mse_loss(model(x), y).backward()
            '''),
            ('''
                dist.barrier()  # no rank tears the group down while another still has a collective in flight
            ''', '''
                dist.barrier()
            '''),
        ],
    },
    # ----------------------------------------------------------------- task5_7
    {
        "task": "task5_7",
        "block": 1,
        "name": "rank 0's local shards saved instead of the full weights",
        "why": "model.state_dict() under FSDP2 holds DTensor slices: rank 0 saves only its part",
        "mentions": "must match the size",
        "patch": [
            ('''
                from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
            ''', '''

            '''),
            ('''
                if device.type == "cuda":
                    torch.cuda.set_device(device)
            ''', '''

            '''),
            ('''
                loss = F.mse_loss(model(x), y)
                loss.backward()  # gradients reduce-scattered: each rank keeps the averaged slice it owns
            ''', '''
                F.mse_loss(model(x), y).backward()
            '''),
            ('''
                state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
                dist.barrier()  # no rank tears the group down while another still has a collective in flight
            ''', '''
                state = {name: value.to_local().detach().cpu() for name, value in model.state_dict().items()}
                dist.barrier()
            '''),
        ],
    },
    {
        "task": "task5_7",
        "block": 1,
        "name": "FSDP2 without sharding the data",
        "why": "every rank trains on the whole global batch",
        "mentions": "shard",
        "patch": [
            ('''
                if device.type == "cuda":
                    torch.cuda.set_device(device)
            ''', '''

            '''),
            ('''
                x, y = shard_for_rank(x, rank, world_size).to(device), shard_for_rank(y, rank, world_size).to(device)
            ''', '''
                x, y = x.to(device), y.to(device)
            '''),
            ('''
                loss = F.mse_loss(model(x), y)
                loss.backward()  # gradients reduce-scattered: each rank keeps the averaged slice it owns
            ''', '''
                F.mse_loss(model(x), y).backward()
            '''),
            ('''
                dist.barrier()  # no rank tears the group down while another still has a collective in flight
            ''', '''
                dist.barrier()
            '''),
        ],
    },
    # ----------------------------------------------------------------- task5_8
    {
        "task": "task5_8",
        "block": 1,
        "name": "the same order every epoch",
        "why": "torch.arange instead of a fresh permutation: no shuffling at all",
        "mentions": "new random order",
        "patch": [
            ('''
                order = torch.randperm(len(self.images), device=self.device, generator=self.generator)
            ''', '''
                order = torch.arange(len(self.images), device=self.device)
            '''),
        ],
    },
    {
        "task": "task5_8",
        "block": 1,
        "name": "images shuffled but labels not",
        "why": "x comes from the permuted indices, y from the unpermuted ones: every label is wrong",
        "mentions": "labels in y",
        "patch": [
            ('''
                yield x, self.labels[index]
            ''', '''
                yield x, self.labels[number * self.batch_size : (number + 1) * self.batch_size]
            '''),
        ],
    },
    {
        "task": "task5_8",
        "block": 1,
        "name": "drop_last ignored",
        "why": "always yields the short last batch (or always drops it)",
        "mentions": "drop_last",
        "patch": [
            ('''
                for number in range(len(self)):
                    index = order[number * self.batch_size : (number + 1) * self.batch_size]
            ''', '''
                for start in range(0, len(order), self.batch_size):
                    index = order[start : start + self.batch_size]
            '''),
        ],
    },
]
