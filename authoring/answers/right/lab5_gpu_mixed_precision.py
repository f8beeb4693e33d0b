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
]
