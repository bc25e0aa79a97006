/**
 * The part of model.py that is the same for every model: name registration, the module, training
 * and evaluation modes. model-source.ts puts the programs and the model constants in front of it.
 * Python source, verbatim (String.raw: no backtick and no dollar-brace may appear in it).
 */
export const MODEL_PY_BODY = String.raw`HERE = os.path.dirname(os.path.abspath(__file__))


def _concrete(shape, batch):
    return [batch if d is None else d for d in shape]


def _register(root, name, value, kind):
    """Registers 'value' under its einnet name: 'a.b.W' becomes parameter 'W' of submodule 'a.b',
    so 'state_dict()' keys are the einnet names. Returns the key actually used (a name that clashes
    with an nn.Module attribute or another tensor is registered flat, as '_einnet_<n>')."""
    *path, leaf = name.split(".")
    module = root
    try:
        for part in path:
            child = module._modules.get(part)
            if child is None:
                if hasattr(module, part):
                    raise KeyError(part)
                child = nn.Module()
                module.add_module(part, child)
            module = child
        if hasattr(module, leaf):
            raise KeyError(leaf)
        if kind == "parameter":
            module.register_parameter(leaf, value)
        else:
            module.register_buffer(leaf, value)
        return name
    except (KeyError, TypeError):
        key = "_einnet_%d" % len(root._einnet_keys)
        if kind == "parameter":
            root.register_parameter(key, value)
        else:
            root.register_buffer(key, value)
        return key


class EinnetModel(nn.Module):
    """The einnet model as a module: the same parameters, running statistics, dropout and outputs.

    'model(X)' returns the output OUTPUT; 'model.forward_all(X)' every tensor the program assigns,
    by einnet name. In training mode ('model.train()') batch normalization uses the batch's
    statistics, dropout draws masks, and each running statistic moves toward its batch value:
    running = momentum * running + (1 - momentum) * batch (einnet's convention: momentum weighs the
    old value). In evaluation mode ('model.eval()') the running statistics are used and dropout is off.
    """

    def __init__(self, weights=os.path.join(HERE, "weights")):
        super().__init__()
        self._einnet_keys = {}
        self.train_program = TrainProgram()
        self.eval_program = EvalProgram()
        for name, shape in PARAMETERS.items():
            self._einnet_keys[name] = _register(self, name, nn.Parameter(torch.zeros(shape)), "parameter")
        for name, spec in RUNNING_STATS.items():
            self._einnet_keys[name] = _register(self, name, torch.full(spec["shape"], float(spec["init"])), "buffer")
        # Called with the batch statistics before the running averages move (train.py averages them over processes).
        self.stat_reducer = None
        if weights is not None:
            self.load_einnet(weights)

    def einnet_tensor(self, name):
        """The parameter or running statistic with this einnet name."""
        return self.get_parameter(self._einnet_keys[name]) if name in PARAMETERS else self.get_buffer(self._einnet_keys[name])

    def einnet_tensors(self):
        """Parameters, then running statistics, by einnet name (what a checkpoint holds)."""
        return {name: self.einnet_tensor(name) for name in list(PARAMETERS) + list(RUNNING_STATS)}

    def einnet_parameters(self):
        """(einnet name, parameter) pairs, in the order of PARAMETERS."""
        return [(name, self.einnet_tensor(name)) for name in PARAMETERS]

    @torch.no_grad()
    def load_einnet(self, folder):
        """Copies the parameters and running statistics of an einnet checkpoint folder into the module."""
        tensors, _ = read_checkpoint(folder)
        missing = [n for n in self.einnet_tensors() if n not in tensors]
        if missing:
            raise KeyError("%s lacks %s" % (folder, ", ".join(missing)))
        for name, t in self.einnet_tensors().items():
            if list(tensors[name].shape) != list(t.shape):
                raise ValueError("%s: %s is %s, the model's is %s" % (folder, name, list(tensors[name].shape), list(t.shape)))
            t.copy_(tensors[name])

    def forward(self, *args, **inputs):
        return self.forward_all(*args, **inputs)[OUTPUT]

    def forward_all(self, *args, dropout_masks=None, **inputs):
        """Every tensor the program assigns, by einnet name. Inputs come in INPUTS order or by name;
        'dropout_masks' (einnet name -> tensor) replaces the random masks of training mode."""
        bound = dict(zip(INPUTS, args))
        bound.update(inputs)
        missing = [n for n in INPUTS if n not in bound]
        if missing:
            raise TypeError("missing input(s) %s" % ", ".join(missing))
        first = next(iter(INPUTS))
        batch = bound[first].shape[BATCH_AXIS]
        some = bound[first]
        for name in PARAMETERS:
            bound[name] = self.einnet_tensor(name)
        for name, spec in DROPOUT.items():
            shape = _concrete(spec["shape"], batch)
            if dropout_masks is not None and name in dropout_masks:
                bound[name] = dropout_masks[name]
            elif self.training:
                keep = 1.0 - spec["rate"]
                bound[name] = torch.empty(shape, device=some.device).bernoulli_(keep) / keep
            elif name in EVAL_READS:
                bound[name] = torch.ones(shape, device=some.device)
        if self.training:
            out = self.train_program(**{n: bound[n] for n in TRAIN_READS})
            self._update_running_stats(out)
        else:
            for name in RUNNING_STATS:
                bound[name] = self.einnet_tensor(name)
            out = self.eval_program(**{n: bound[n] for n in EVAL_READS})
        return out

    @torch.no_grad()
    def _update_running_stats(self, out):
        if not RUNNING_STATS:
            return
        batch = {name: out[name].detach().clone() for name in RUNNING_STATS}
        if self.stat_reducer is not None:
            batch = self.stat_reducer(batch)
        for name, spec in RUNNING_STATS.items():
            m = spec["momentum"]
            self.einnet_tensor(name).mul_(m).add_(batch[name], alpha=1.0 - m)


def build(weights=os.path.join(HERE, "weights")):
    """The model with the exported weights (or those of another einnet checkpoint folder)."""
    return EinnetModel(weights)
`;
