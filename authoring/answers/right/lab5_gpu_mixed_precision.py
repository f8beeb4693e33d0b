"""Lab 5 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task5_4",
        "name": "checkpointing chosen once per forward, with a list of the blocks to run",
        "body": """
            use_checkpoint = self.checkpoint_blocks and torch.is_grad_enabled()
            for block in self.blocks:
                x = checkpoint(block, x, use_reentrant=False) if use_checkpoint else block(x)
            return self.head(x)
        """,
    },
    {
        "task": "task5_3",
        "name": "the scaled loss built before backward, the gradient unscaled with a division of the fp32 copy",
        "body": """
            w = weight.detach().clone()
            w.requires_grad_(True)
            with torch.autocast(device_type=device_type, dtype=torch.float16):
                prediction = torch.matmul(x, w.t())
            scaled = F.mse_loss(prediction.float(), target) * loss_scale
            scaled.backward()
            return w.grad.float() / loss_scale
        """,
    },
    {
        "task": "task5_5",
        "name": "an exponential search then bisection written with a helper that returns the upper end",
        "body": """
            def ok(size: int) -> bool:
                try:
                    step_fn(size)
                    return True
                except torch.OutOfMemoryError:
                    if torch.cuda.is_available():
                        torch.cuda.empty_cache()
                    return False

            if not ok(start):
                raise RuntimeError(f"even batch size {start} runs out of memory")
            low, high = start, start
            while high < limit and ok(min(high * 2, limit)):
                low = high = min(high * 2, limit)
            if high >= limit:
                return limit
            high = min(high * 2, limit)  # known to fail
            while high - low > 1:
                mid = (low + high) // 2
                low, high = (mid, high) if ok(mid) else (low, mid)
            return low
        """,
    },
    {
        "task": "task5_1",
        "block": 2,
        "name": "to_device with a match statement",
        "body": """
            match obj:
                case torch.Tensor():
                    return obj.to(device, non_blocking=non_blocking)
                case dict():
                    return {key: to_device(value, device, non_blocking) for key, value in obj.items()}
                case tuple() if hasattr(obj, "_fields"):
                    return type(obj)(*[to_device(value, device, non_blocking) for value in obj])
                case list() | tuple():
                    return type(obj)([to_device(value, device, non_blocking) for value in obj])
                case _:
                    return obj
        """,
    },
    {
        "task": "task5_2",
        "name": "torch.autocast, the scaler path and the plain path sharing one backward line",
        "body": """
            inputs, targets = batch
            for parameter in model.parameters():
                parameter.grad = None
            with torch.autocast(device_type, dtype=dtype, enabled=dtype is not torch.float32):
                loss = loss_fn(model(inputs), targets)
            (scaler.scale(loss) if scaler is not None else loss).backward()
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            return loss.detach()
        """,
    },
    {
        "task": "task5_6",
        "name": "the rank read from torchrun's environment, the optimizer made before wrapping, the MSE written out",
        "why": "the README asks for the process group, DDP, this rank's shard and the weights on rank 0; the "
               "optimizer may hold the module's parameters before DDP wraps them (the same tensors), and the "
               "mean squared error by hand is F.mse_loss",
        "body": """
            from torch.nn.parallel import DistributedDataParallel

            device, backend = distributed_device(config.device)
            dist.init_process_group(backend=backend)
            try:
                rank, world_size = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
                if device.type == "cuda":
                    torch.cuda.set_device(device)
                network = make_dist_model(config.seed).to(device)
                optimizer = torch.optim.SGD(network.parameters(), lr=config.lr)
                ddp = DistributedDataParallel(network, device_ids=[device.index] if device.type == "cuda" else None)
                inputs, targets = make_dist_data(config.seed, config.global_batch)
                inputs = shard_for_rank(inputs, rank, world_size).to(device)
                targets = shard_for_rank(targets, rank, world_size).to(device)
                for _ in range(config.steps):
                    optimizer.zero_grad()
                    ((ddp(inputs) - targets) ** 2).mean().backward()
                    optimizer.step()
                if rank != 0:
                    return None
                return {name: tensor.detach().cpu().clone() for name, tensor in network.state_dict().items()}
            finally:
                dist.destroy_process_group()
        """,
    },
    {
        "task": "task5_7",
        "name": "the Linear layers found with model.modules(), the shard taken with chunk, the mesh passed by keyword",
        "why": "the README asks for fully_shard on each Linear then the model, the optimizer after sharding and "
               "get_model_state_dict on every rank; tensor.chunk(world_size)[rank] is the same even shard as "
               "shard_for_rank",
        "body": """
            from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict
            from torch.distributed.device_mesh import init_device_mesh
            from torch.distributed.fsdp import fully_shard

            device, backend = distributed_device(config.device)
            dist.init_process_group(backend=backend)
            try:
                rank, world_size = dist.get_rank(), dist.get_world_size()
                if device.type == "cuda":
                    torch.cuda.set_device(device)
                mesh = init_device_mesh(device.type, (world_size,))
                model = make_dist_model(config.seed).to(device)
                linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
                for linear in linears:
                    fully_shard(linear, mesh=mesh)
                fully_shard(model, mesh=mesh)
                optimizer = torch.optim.SGD(model.parameters(), lr=config.lr)  # after sharding: DTensor slices
                x, y = make_dist_data(config.seed, config.global_batch)
                x, y = x.chunk(world_size)[rank].to(device), y.chunk(world_size)[rank].to(device)
                for _ in range(config.steps):
                    optimizer.zero_grad(set_to_none=True)
                    loss = F.mse_loss(model(x), y)
                    loss.backward()
                    optimizer.step()
                options = StateDictOptions(full_state_dict=True, cpu_offload=True)
                full = get_model_state_dict(model, options=options)  # a collective: every rank calls it
                return dict(full) if rank == 0 else None
            finally:
                dist.destroy_process_group()
        """,
    },
    {
        "task": "task5_8",
        "name": "the epoch's order split into batches with Tensor.split, normalised in place",
        "why": "the README asks for a fresh order per epoch, batched augmentation, float32 normalisation and "
               "channels_last, all on the device; splitting the permutation and dropping a short tail by hand is "
               "another way to honour drop_last",
        "body": """
            order = torch.randperm(self.images.shape[0], device=self.device, generator=self.generator)
            chunks = list(order.split(self.batch_size))
            if self.drop_last and chunks and len(chunks[-1]) < self.batch_size:
                chunks.pop()
            for indices in chunks:
                batch = self.images.index_select(0, indices)
                if self.augment:
                    batch = random_crop_flip(batch, self.padding, generator=self.generator)
                x = batch.to(torch.float32).mul_(1 / 255).sub_(self.mean).div_(self.std)
                if self.channels_last:
                    x = x.to(memory_format=torch.channels_last)
                yield x, self.labels.index_select(0, indices)
        """,
    },
]
