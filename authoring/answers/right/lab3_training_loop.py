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
]
