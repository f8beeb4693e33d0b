"""Lab 2 — correct answers that differ from the reference where the README leaves a choice: each must
pass every test of its task. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    {
        "task": "task2_1",
        "block": 3,
        "name": "forward with torch.nn.functional.linear",
        "body": "return torch.nn.functional.linear(x, self.weight, self.bias)",
    },
    {
        "task": "task2_1",
        "block": 2,
        "name": "the uniform bound drawn with nn.init.uniform_",
        "body": """
            bound = self.in_features ** -0.5
            nn.init.uniform_(self.weight, -bound, bound)
            if self.bias is not None:
                nn.init.uniform_(self.bias, -bound, bound)
        """,
    },
    {
        "task": "task2_2",
        "block": 2,
        "name": "running statistics updated with lerp_, the batch variance from the mean of squares",
        "body": """
            if not self.training:
                return (x - self.running_mean) / torch.sqrt(self.running_var + self.eps)
            mean = x.mean(0)
            var = ((x - mean) ** 2).mean(0)
            with torch.no_grad():
                n = x.shape[0]
                self.running_mean.lerp_(mean, self.momentum)
                self.running_var.lerp_(var * n / (n - 1), self.momentum)
            return (x - mean) / torch.sqrt(var + self.eps)
        """,
    },
    {
        "task": "task2_3",
        "block": 1,
        "name": "hooks made by a closure factory instead of a default argument",
        "body": """
            def recorder(name):
                def hook(module, inputs, output):
                    self.outputs[name].append(output.detach())
                return hook

            self._handles = [self.model.get_submodule(name).register_forward_hook(recorder(name)) for name in self.layer_names]
            return self
        """,
    },
    {
        "task": "task2_4",
        "block": 1,
        "name": "an explicit loop over the parameters",
        "body": """
            total = 0
            for parameter in model.parameters():
                if parameter.requires_grad or not trainable_only:
                    total += parameter.numel()
            return total
        """,
    },
    {
        "task": "task2_5",
        "name": "the Sequential grown with add_module, one layer at a time",
        "why": "the README asks for registered layers in order; how they get there is the learner's",
        "patch": [("self.layers = nn.Sequential(*modules)", """
            self.layers = nn.Sequential()
            for index, module in enumerate(modules):
                self.layers.add_module(str(index), module)
        """)],
    },
]
