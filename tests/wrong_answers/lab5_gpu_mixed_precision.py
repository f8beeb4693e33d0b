"""Lab 5 — realistic wrong answers, each swapped into a copy of solution.py; every one must fail its task's tests.

Format: see CONTRACT.md ("Wrong-answer catalogue"). `block` counts the task's
`# BEGIN SOLUTION(taskX_Y)` blocks in solution.py from 1.
"""

WRONG_ANSWERS = [
    # ----------------------------------------------------------------- task5_1
    {
        "task": "task5_1",
        "block": 1,
        "name": "silent fall-back to the CPU",
        "why": "asking for cuda on a machine without one returns cpu: a 2-minute run becomes a 2-hour one without a word",
        "expect": "not available",
        "body": """
            if prefer is not None:
                device = torch.device(prefer)
                if device.type == "cuda" and not torch.cuda.is_available():
                    return torch.device("cpu")
                return device
            if torch.cuda.is_available():
                return torch.device("cuda")
            if mps_available():
                return torch.device("mps")
            return torch.device("cpu")
        """,
    },
    {
        "task": "task5_1",
        "block": 1,
        "name": "mps before cuda",
        "why": "the order of preference is cuda, then mps, then cpu",
        "body": """
            if prefer is not None:
                return torch.device(prefer)
            if mps_available():
                return torch.device("mps")
            if torch.cuda.is_available():
                return torch.device("cuda")
            return torch.device("cpu")
        """,
    },
    {
        "task": "task5_1",
        "block": 2,
        "name": "namedtuple rebuilt as a plain tuple",
        "why": "type(obj)(generator) fails for a namedtuple; tuple(...) loses the field names",
        "body": """
            if isinstance(obj, torch.Tensor):
                return obj.to(device, non_blocking=non_blocking)
            if isinstance(obj, dict):
                return {key: to_device(value, device, non_blocking) for key, value in obj.items()}
            if isinstance(obj, (list, tuple)):
                return tuple(to_device(value, device, non_blocking) for value in obj)
            return obj
        """,
    },
    {
        "task": "task5_1",
        "block": 2,
        "name": "only the top level moved",
        "why": "no recursion: tensors nested in lists inside dicts stay behind",
        "body": """
            if isinstance(obj, torch.Tensor):
                return obj.to(device, non_blocking=non_blocking)
            if isinstance(obj, dict):
                return {k: v.to(device) if isinstance(v, torch.Tensor) else v for k, v in obj.items()}
            return obj
        """,
    },
    # ----------------------------------------------------------------- task5_2
    {
        "task": "task5_2",
        "block": 1,
        "name": "optimizer.step() instead of scaler.step(optimizer)",
        "why": "the step is taken with scaled (or inf) gradients instead of being skipped (README, Common mistakes)",
        "expect": "scaler.step",
        "body": """
            inputs, targets = batch
            optimizer.zero_grad(set_to_none=True)
            with torch.amp.autocast(device_type=device_type, dtype=dtype, enabled=dtype != torch.float32):
                loss = loss_fn(model(inputs), targets)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.unscale_(optimizer)
                optimizer.step()
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            return loss.detach()
        """,
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "gradients never zeroed",
        "why": "gradients accumulate over steps: not the plain SGD step",
        "expect": "not zeroed",
        "body": """
            inputs, targets = batch
            with torch.amp.autocast(device_type=device_type, dtype=dtype, enabled=dtype != torch.float32):
                loss = loss_fn(model(inputs), targets)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            return loss.detach()
        """,
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "model cast to bf16 instead of autocast",
        "why": "model.to(dtype): the weights and the optimizer lose precision (README, Common mistakes)",
        "expect": "float32",
        "body": """
            inputs, targets = batch
            model.to(dtype)
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs.to(dtype)).float(), targets)
            loss.backward()
            optimizer.step()
            return loss.detach()
        """,
    },
    {
        "task": "task5_2",
        "block": 1,
        "name": "loss returned with its graph",
        "why": "returning loss (not loss.detach()) keeps every step's graph alive",
        "expect": "detach",
        "body": """
            inputs, targets = batch
            optimizer.zero_grad(set_to_none=True)
            with torch.amp.autocast(device_type=device_type, dtype=dtype, enabled=dtype != torch.float32):
                loss = loss_fn(model(inputs), targets)
            if scaler is not None:
                scaler.scale(loss).backward()
                scaler.step(optimizer)
                scaler.update()
            else:
                loss.backward()
                optimizer.step()
            return loss
        """,
    },
    # ----------------------------------------------------------------- task5_3
    {
        "task": "task5_3",
        "block": 1,
        "name": "gradient not unscaled",
        "why": "returns w.grad of the scaled loss: loss_scale times too large",
        "body": """
            w = weight.detach().clone().requires_grad_(True)
            with torch.amp.autocast(device_type=device_type, dtype=torch.float16):
                prediction = x @ w.T
            loss = F.mse_loss(prediction.float(), target)
            (loss * loss_scale).backward()
            return w.grad
        """,
    },
    {
        "task": "task5_3",
        "block": 1,
        "name": "matmul left in float32",
        "why": "without autocast nothing underflows: the lesson's zeros never appear",
        "expect": "autocast",
        "body": """
            w = weight.detach().clone().requires_grad_(True)
            loss = F.mse_loss(x @ w.T, target)
            (loss * loss_scale).backward()
            return w.grad / loss_scale
        """,
    },
    {
        "task": "task5_3",
        "block": 1,
        "name": "the caller's weight used as the leaf",
        "why": "weight.requires_grad_() changes the caller's tensor and accumulates into its .grad",
        "expect": "must not modify",
        "body": """
            w = weight.requires_grad_(True)
            with torch.amp.autocast(device_type=device_type, dtype=torch.float16):
                prediction = x @ w.T
            loss = F.mse_loss(prediction.float(), target)
            (loss * loss_scale).backward()
            return w.grad / loss_scale
        """,
    },
    # ----------------------------------------------------------------- task5_4
    {
        "task": "task5_4",
        "block": 1,
        "name": "checkpoint without use_reentrant",
        "why": "torch warns, and the reentrant default gives no gradients when the input does not require grad",
        "body": """
            for block in self.blocks:
                x = checkpoint(block, x) if self.checkpoint_blocks and torch.is_grad_enabled() else block(x)
            return self.head(x)
        """,
    },
    {
        "task": "task5_4",
        "block": 1,
        "name": "use_reentrant=True",
        "why": "the old variant: no gradients for the blocks when the input data does not require grad",
        "expect": "no gradient",
        "body": """
            for block in self.blocks:
                if self.checkpoint_blocks and torch.is_grad_enabled():
                    x = checkpoint(block, x, use_reentrant=True)
                else:
                    x = block(x)
            return self.head(x)
        """,
    },
    {
        "task": "task5_4",
        "block": 1,
        "name": "checkpointing under no_grad too",
        "why": "ignores torch.is_grad_enabled(): harmless output, but the test counts a wasted code path",
        "expect": "torch.no_grad",
        "body": """
            for block in self.blocks:
                x = checkpoint(block, x, use_reentrant=False) if self.checkpoint_blocks else block(x)
                if self.checkpoint_blocks and not torch.is_grad_enabled():
                    block(x.detach())  # recomputes anyway
            return self.head(x)
        """,
    },
    # ----------------------------------------------------------------- task5_5
    {
        "task": "task5_5",
        "block": 1,
        "name": "catches every RuntimeError",
        "why": "a shape bug then looks like 'out of memory' (README, Common mistakes)",
        "expect": "catch only torch.outofmemoryerror",
        "body": """
            def fits(batch_size):
                try:
                    step_fn(batch_size)
                    return True
                except RuntimeError:  # torch.OutOfMemoryError is one, but so is every shape bug
                    return False

            if not fits(start):
                raise RuntimeError(f"batch size {start} already runs out of memory")
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
            return good
        """,
    },
    {
        "task": "task5_5",
        "block": 1,
        "name": "doubling only, no binary search",
        "why": "returns the last power of two that fit: up to half the memory unused",
        "body": """
            def fits(batch_size):
                try:
                    step_fn(batch_size)
                    return True
                except torch.OutOfMemoryError:
                    return False

            if not fits(start):
                raise RuntimeError(f"batch size {start} already runs out of memory")
            good = start
            while good < limit and fits(min(2 * good, limit)):
                good = min(2 * good, limit)
            return good
        """,
    },
    {
        "task": "task5_5",
        "block": 1,
        "name": "linear search upwards",
        "why": "tries every size: thousands of steps instead of ~2 log2(limit)",
        "expect": "tries",
        "body": """
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
        """,
    },
    # ----------------------------------------------------------------- task5_6
    {
        "task": "task5_6",
        "block": 1,
        "name": "DDP without sharding the data",
        "why": "every rank trains on the whole batch: N times the compute for one process's progress (README)",
        "expect": "shard",
        "body": """
            from torch.nn.parallel import DistributedDataParallel

            device, backend = distributed_device(config.device)
            dist.init_process_group(backend)
            try:
                rank = dist.get_rank()
                model = make_dist_model(config.seed).to(device)
                ddp_model = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)
                x, y = make_dist_data(config.seed, config.global_batch)
                x, y = x.to(device), y.to(device)
                optimizer = torch.optim.SGD(ddp_model.parameters(), lr=config.lr)
                for _ in range(config.steps):
                    optimizer.zero_grad(set_to_none=True)
                    F.mse_loss(ddp_model(x), y).backward()
                    optimizer.step()
                state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
                dist.barrier()
                return state if rank == 0 else None
            finally:
                dist.destroy_process_group()
        """,
    },
    {
        "task": "task5_6",
        "block": 1,
        "name": "sharded data, no DDP wrapper",
        "why": "each rank steps on its own shard's gradient: the replicas drift apart",
        "expect": "averaged",
        "body": """
            device, backend = distributed_device(config.device)
            dist.init_process_group(backend)
            try:
                rank, world_size = dist.get_rank(), dist.get_world_size()
                model = make_dist_model(config.seed).to(device)
                x, y = make_dist_data(config.seed, config.global_batch)
                x, y = shard_for_rank(x, rank, world_size).to(device), shard_for_rank(y, rank, world_size).to(device)
                optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
                for _ in range(config.steps):
                    optimizer.zero_grad(set_to_none=True)
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                state = {name: value.detach().cpu() for name, value in model.state_dict().items()}
                dist.barrier()
                return state if rank == 0 else None
            finally:
                dist.destroy_process_group()
        """,
    },
    # ----------------------------------------------------------------- task5_7
    {
        "task": "task5_7",
        "block": 1,
        "name": "rank 0's local shards saved instead of the full weights",
        "why": "model.state_dict() under FSDP2 holds DTensor slices: rank 0 saves only its part",
        "expect": "must match the size",
        "body": """
            from torch.distributed.device_mesh import init_device_mesh
            from torch.distributed.fsdp import fully_shard

            device, backend = distributed_device(config.device)
            dist.init_process_group(backend)
            try:
                rank, world_size = dist.get_rank(), dist.get_world_size()
                mesh = init_device_mesh(device.type, (world_size,))
                model = make_dist_model(config.seed).to(device)
                for layer in model:
                    if isinstance(layer, nn.Linear):
                        fully_shard(layer, mesh=mesh)
                fully_shard(model, mesh=mesh)
                x, y = make_dist_data(config.seed, config.global_batch)
                x, y = shard_for_rank(x, rank, world_size).to(device), shard_for_rank(y, rank, world_size).to(device)
                optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
                for _ in range(config.steps):
                    optimizer.zero_grad(set_to_none=True)
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                state = {name: value.to_local().detach().cpu() for name, value in model.state_dict().items()}
                dist.barrier()
                return state if rank == 0 else None
            finally:
                dist.destroy_process_group()
        """,
    },
    {
        "task": "task5_7",
        "block": 1,
        "name": "FSDP2 without sharding the data",
        "why": "every rank trains on the whole global batch",
        "expect": "shard",
        "body": """
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
            from torch.distributed.device_mesh import init_device_mesh
            from torch.distributed.fsdp import fully_shard

            device, backend = distributed_device(config.device)
            dist.init_process_group(backend)
            try:
                rank, world_size = dist.get_rank(), dist.get_world_size()
                mesh = init_device_mesh(device.type, (world_size,))
                model = make_dist_model(config.seed).to(device)
                for layer in model:
                    if isinstance(layer, nn.Linear):
                        fully_shard(layer, mesh=mesh)
                fully_shard(model, mesh=mesh)
                x, y = make_dist_data(config.seed, config.global_batch)
                x, y = x.to(device), y.to(device)
                optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)
                for _ in range(config.steps):
                    optimizer.zero_grad(set_to_none=True)
                    F.mse_loss(model(x), y).backward()
                    optimizer.step()
                state = get_model_state_dict(model, options=StateDictOptions(full_state_dict=True, cpu_offload=True))
                dist.barrier()
                return state if rank == 0 else None
            finally:
                dist.destroy_process_group()
        """,
    },
    # ----------------------------------------------------------------- task5_8
    {
        "task": "task5_8",
        "block": 1,
        "name": "the same order every epoch",
        "why": "torch.arange instead of a fresh permutation: no shuffling at all",
        "expect": "new random order",
        "body": """
            order = torch.arange(len(self.images), device=self.device)
            for number in range(len(self)):
                index = order[number * self.batch_size : (number + 1) * self.batch_size]
                x = self.images[index]
                if self.augment:
                    x = random_crop_flip(x, self.padding, self.generator)
                x = (x.float() / 255.0 - self.mean) / self.std
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                yield x, self.labels[index]
        """,
    },
    {
        "task": "task5_8",
        "block": 1,
        "name": "images shuffled but labels not",
        "why": "x comes from the permuted indices, y from the unpermuted ones: every label is wrong",
        "expect": "labels in y",
        "body": """
            order = torch.randperm(len(self.images), device=self.device, generator=self.generator)
            for number in range(len(self)):
                index = order[number * self.batch_size : (number + 1) * self.batch_size]
                x = self.images[index]
                if self.augment:
                    x = random_crop_flip(x, self.padding, self.generator)
                x = (x.float() / 255.0 - self.mean) / self.std
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                yield x, self.labels[number * self.batch_size : (number + 1) * self.batch_size]
        """,
    },
    {
        "task": "task5_8",
        "block": 1,
        "name": "drop_last ignored",
        "why": "always yields the short last batch (or always drops it)",
        "expect": "drop_last",
        "body": """
            order = torch.randperm(len(self.images), device=self.device, generator=self.generator)
            for start in range(0, len(order), self.batch_size):
                index = order[start : start + self.batch_size]
                x = self.images[index]
                if self.augment:
                    x = random_crop_flip(x, self.padding, self.generator)
                x = (x.float() / 255.0 - self.mean) / self.std
                if self.channels_last:
                    x = x.contiguous(memory_format=torch.channels_last)
                yield x, self.labels[index]
        """,
    },
]
