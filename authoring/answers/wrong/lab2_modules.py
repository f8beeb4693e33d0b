"""Lab 2 — realistic wrong answers: each must fail its task's tests with a message a learner
can act on. Format: authoring/README.md ("Answer catalogues")."""

ANSWERS = [
    # task2_1 — MyLinear (blocks: 1 __init__, 2 reset_parameters, 3 forward, 4 extra_repr)
    {
        "task": "task2_1",
        "block": 1,
        "name": "plain tensors instead of nn.Parameter",
        "why": "a tensor attribute is not registered: parameters() and state_dict() miss it",
        "mentions": "nn.parameter",
        "patch": [
            ('''
                self.weight = nn.Parameter(torch.empty(out_features, in_features))
                if bias:
                    self.bias = nn.Parameter(torch.empty(out_features))
                else:
                    self.register_parameter("bias", None)
            ''', '''
                self.weight = torch.empty(out_features, in_features, requires_grad=True)
                self.bias = torch.empty(out_features, requires_grad=True) if bias else None
            '''),
        ],
    },
    {
        "task": "task2_1",
        "block": 1,
        "name": "weight stored as (in, out)",
        "why": "the transposed shape; nn.Linear's state_dict no longer loads",
        "mentions": "(out_features, in_features)",
        "patch": [
            ('''
                self.weight = nn.Parameter(torch.empty(out_features, in_features))
            ''', '''
                self.weight = nn.Parameter(torch.empty(in_features, out_features))
            '''),
        ],
    },
    {
        "task": "task2_1",
        "block": 2,
        "name": "standard normal initialisation",
        "why": "randn ignores the fan-in: values far outside ±1/sqrt(in_features)",
        "mentions": "1/sqrt(in_features)",
        "patch": [
            ('''
                bound = 1.0 / math.sqrt(self.in_features)
            ''', '''

            '''),
            ('''
                self.weight.uniform_(-bound, bound)
            ''', '''
                self.weight.normal_()
            '''),
            ('''
                self.bias.uniform_(-bound, bound)
            ''', '''
                self.bias.normal_()
            '''),
        ],
    },
    {
        "task": "task2_1",
        "block": 2,
        "name": "bound from out_features",
        "why": "the bound depends on the fan-in (in_features), not the fan-out",
        "mentions": "1/sqrt(in_features)",
        "patch": [
            ('''
                bound = 1.0 / math.sqrt(self.in_features)
            ''', '''
                bound = 1.0 / math.sqrt(self.out_features)
            '''),
        ],
    },
    {
        "task": "task2_1",
        "block": 3,
        "name": "no transpose",
        "why": "x @ weight has the wrong inner dimension unless the layer is square",
        "mentions": "transpose",
        "patch": [
            ('''
                out = x @ self.weight.T
            ''', '''
                out = x @ self.weight
            '''),
        ],
    },
    # task2_2 — RunningStandardize (blocks: 1 buffers, 2 forward)
    {
        "task": "task2_2",
        "block": 1,
        "name": "running statistics as parameters",
        "why": "nn.Parameter makes them trainable: the optimizer would change them",
        "mentions": "buffers",
        "body": '''
            self.running_mean = nn.Parameter(torch.zeros(num_features), requires_grad=False)
            self.running_var = nn.Parameter(torch.ones(num_features), requires_grad=False)
        ''',
    },
    {
        "task": "task2_2",
        "block": 1,
        "name": "plain tensor attributes",
        "why": "not buffers: state_dict() does not save them and .to() does not move them",
        "mentions": "buffers",
        "body": '''
            self.running_mean = torch.zeros(num_features)
            self.running_var = torch.ones(num_features)
        ''',
    },
    {
        "task": "task2_2",
        "block": 2,
        "name": "biased variance in the running update",
        "why": "BatchNorm folds the unbiased variance into running_var",
        "mentions": "unbiased",
        "patch": [
            ('''
                unbiased = x.var(dim=0, unbiased=True)
            ''', '''

            '''),
            ('''
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
            ''', '''
                self.running_var.mul_(1 - self.momentum).add_(self.momentum * var)
            '''),
        ],
    },
    {
        "task": "task2_2",
        "block": 2,
        "name": "batch statistics in eval mode too",
        "why": "ignores self.training: eval mode keeps updating and normalising with the batch",
        "mentions": "eval mode",
        "patch": [
            ('''
                if self.training:
                    mean = x.mean(dim=0)
                    var = x.var(dim=0, unbiased=False)
                    with torch.no_grad():
                        unbiased = x.var(dim=0, unbiased=True)
                        self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                        self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
                else:
                    mean, var = self.running_mean, self.running_var
            ''', '''
                mean = x.mean(dim=0)
                var = x.var(dim=0, unbiased=False)
                with torch.no_grad():
                    unbiased = x.var(dim=0, unbiased=True)
                    self.running_mean.mul_(1 - self.momentum).add_(self.momentum * mean)
                    self.running_var.mul_(1 - self.momentum).add_(self.momentum * unbiased)
            '''),
        ],
    },
    # task2_3 — ActivationRecorder (blocks: 1 __enter__, 2 __exit__)
    {
        "task": "task2_3",
        "block": 1,
        "name": "closure over the loop variable",
        "why": "every hook reads `name` when it runs: all records land under the last name",
        "mentions": "nothing was recorded under",
        "patch": [
            ('''
                def hook(module, inputs, output, name=name):
            ''', '''
                def hook(module, inputs, output):
            '''),
        ],
    },
    {
        "task": "task2_3",
        "block": 1,
        "name": "handles not kept",
        "why": "without the handles __exit__ cannot remove the hooks",
        "mentions": "removed",
        "patch": [
            ('''
                self._handles.append(module.register_forward_hook(hook))
            ''', '''
                module.register_forward_hook(hook)
            '''),
        ],
    },
    {
        "task": "task2_3",
        "block": 2,
        "name": "__exit__ swallows the exception",
        "why": "returning True from __exit__ suppresses the error raised inside the block",
        "mentions": "swallow",
        "patch": [
            ('''
                return False
            ''', '''
                return True
            '''),
        ],
    },
    # task2_4 — count_parameters (block 1) and gradient_norms (block 2)
    {
        "task": "task2_4",
        "block": 1,
        "name": "counts frozen parameters too",
        "why": "ignores trainable_only: requires_grad=False parameters are counted",
        "mentions": "frozen",
        "body": '''
            return sum(p.numel() for p in model.parameters())
        ''',
    },
    {
        "task": "task2_4",
        "block": 1,
        "name": "counts the state_dict",
        "why": "state_dict() holds buffers too (BatchNorm's running statistics)",
        "mentions": "buffers",
        "body": '''
            return sum(v.numel() for v in model.state_dict().values())
        ''',
    },
    {
        "task": "task2_4",
        "block": 2,
        "name": "calls loss.backward()",
        "why": "a monitoring tool that writes .grad changes the next training step",
        "mentions": [".grad", "edit gradient_norms()"],
        "patch": [
            ('''
                layers = []
            ''', '''
                loss.backward(retain_graph=True)
                norms = {}
            '''),
            ('''
                        layers.append((name, params))
                flat = [p for _, params in layers for p in params]
                grads = torch.autograd.grad(loss, flat, retain_graph=True, allow_unused=True)
                norms, index = {}, 0
                for name, params in layers:
                    squared = 0.0
                    for grad in grads[index : index + len(params)]:
                        if grad is not None:
                            squared += grad.detach().double().pow(2).sum().item()
                    norms[name] = math.sqrt(squared)
                    index += len(params)
                return norms
            ''', '''
                        norms[name] = math.sqrt(sum(p.grad.pow(2).sum().item() for p in params if p.grad is not None))
                return norms
            '''),
        ],
    },
    {
        "task": "task2_4",
        "block": 2,
        "name": "recurse=True parameters per module",
        "why": "a container's norm then includes its children's parameters, and containers appear as layers",
        "mentions": "one entry per layer",
        "body": '''
            names, layers = [], []
            for name, module in model.named_modules():
                params = [p for p in module.parameters() if p.requires_grad]
                if params:
                    names.append(name)
                    layers.append(params)
            norms = {}
            for name, params in zip(names, layers):
                grads = torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True)
                norms[name] = math.sqrt(sum(g.pow(2).sum().item() for g in grads if g is not None))
            return norms
        ''',
    },
    {
        "task": "task2_4",
        "block": 2,
        "name": "no allow_unused",
        "why": "a parameter that does not reach the loss makes autograd.grad raise instead of counting 0",
        "mentions": "allow_unused",
        "patch": [
            ('''
                grads = torch.autograd.grad(loss, flat, retain_graph=True, allow_unused=True)
            ''', '''
                grads = torch.autograd.grad(loss, flat, retain_graph=True)
            '''),
            ('''
                squared = 0.0
                for grad in grads[index : index + len(params)]:
                    if grad is not None:
                        squared += grad.detach().double().pow(2).sum().item()
                norms[name] = math.sqrt(squared)
            ''', '''
                norms[name] = math.sqrt(sum(g.pow(2).sum().item() for g in grads[index:index + len(params)]))
            '''),
        ],
    },
    # task2_5 — MLP
    {
        "task": "task2_5",
        "name": "layers kept in a Python list",
        "why": "a list registers nothing: parameters() is empty and the optimizer trains nothing",
        "mentions": "parameters",
        "patch": [
            ('''
                modules: list[nn.Module] = []
            ''', '''
                self.blocks = []
            '''),
            ('''
                modules.append(nn.Linear(previous, h))
                if norm == "batch":
                    modules.append(nn.BatchNorm1d(h))
                elif norm == "layer":
                    modules.append(nn.LayerNorm(h))
                modules.append(ACTIVATIONS[activation]())
                if dropout > 0:
                    modules.append(nn.Dropout(dropout))
            ''', '''
                self.blocks += [nn.Linear(previous, h), ACTIVATIONS[activation]()]
            '''),
            ('''
                modules.append(nn.Linear(previous, out_dim))
                self.layers = nn.Sequential(*modules)
            ''', '''
                self.blocks.append(nn.Linear(previous, out_dim))
                self.layers = lambda x: nn.Sequential(*self.blocks)(x)
            '''),
        ],
    },
    {
        "task": "task2_5",
        "name": "one activation module shared and no norm",
        "why": "forgets the norm layer (and reuses a single activation): the parameter count and state_dict keys are wrong",
        "mentions": "running_mean",
        "patch": [
            ('''
                modules: list[nn.Module] = []
                previous = in_dim
            ''', '''
                act = ACTIVATIONS[activation]()
                modules, previous = [], in_dim
            '''),
            ('''
                modules.append(nn.Linear(previous, h))
                if norm == "batch":
                    modules.append(nn.BatchNorm1d(h))
                elif norm == "layer":
                    modules.append(nn.LayerNorm(h))
                modules.append(ACTIVATIONS[activation]())
            ''', '''
                modules += [nn.Linear(previous, h), act]
            '''),
        ],
    },
    {
        "task": "task2_5",
        "name": "activation after the output layer",
        "why": "logits must not go through the activation (a ReLU'd logit cannot be negative)",
        "mentions": "memorise",
        "patch": [
            ('''
                modules: list[nn.Module] = []
                previous = in_dim
                for h in hidden_dims:
            ''', '''
                modules, previous = [], in_dim
                for h in [*hidden_dims, out_dim]:
            '''),
            ('''
                if norm == "batch":
            ''', '''
                if norm == "batch" and h != out_dim:
            '''),
            ('''
                elif norm == "layer":
            ''', '''
                elif norm == "layer" and h != out_dim:
            '''),
            ('''
                if dropout > 0:
            ''', '''
                if dropout > 0 and h != out_dim:
            '''),
            ('''
                modules.append(nn.Linear(previous, out_dim))
            ''', '''

            '''),
        ],
    },
]
