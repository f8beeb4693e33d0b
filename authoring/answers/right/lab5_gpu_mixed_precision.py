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
]
