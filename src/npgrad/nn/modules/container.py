"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict``."""

from collections import OrderedDict

from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter


class Sequential(Module):
    """Modules called in order, each on the previous one's output.

    Matches ``torch.nn.Sequential``: built from modules or an ``OrderedDict`` of named modules;
    indexing, slicing, ``len``, ``append``.

    >>> import npgrad
    >>> nn = npgrad.nn
    >>> model = nn.Sequential(nn.Linear(2, 4), nn.ReLU(), nn.Linear(4, 1))
    >>> model(npgrad.ones(3, 2)).shape
    (3, 1)
    """

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, module in args[0].items():
                self.add_module(name, module)
        else:
            for index, module in enumerate(args):
                self.add_module(str(index), module)

    def forward(self, input):  # noqa: A002
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, index):
        if isinstance(index, slice):
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return list(self._modules.values())[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (a plain list would hide them)."""

    def __init__(self, modules=None):
        super().__init__()
        for module in modules or []:
            self.append(module)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return self._modules[str(index % len(self))]

    def __setitem__(self, index, module):
        self.add_module(str(index % len(self)), module)

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def append(self, module):
        """Add ``module`` at the end."""
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        """Add several modules at the end."""
        for module in modules:
            self.append(module)
        return self


class ModuleDict(Module):
    """A dict of named modules whose parameters are registered."""

    def __init__(self, modules=None):
        super().__init__()
        for name, module in dict(modules or {}).items():
            self[name] = module

    def __getitem__(self, key):
        return self._modules[key]

    def __setitem__(self, key, module):
        self.add_module(key, module)

    def __delitem__(self, key):
        del self._modules[key]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key):
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()


class ParameterList(Module):
    """A list of parameters that are registered (a plain list would hide them from
    ``parameters()``, the optimizer and ``state_dict``). Plain tensors are made Parameters."""

    def __init__(self, values=None):
        super().__init__()
        for value in values or []:
            self.append(value)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ParameterList(list(self._parameters.values())[index])
        return self._parameters[str(index % len(self))]

    def __setitem__(self, index, value):
        self.register_parameter(str(index % len(self)), _as_parameter(value))

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value):
        """Add ``value`` at the end."""
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values):
        """Add several parameters at the end."""
        for value in values:
            self.append(value)
        return self

    def extra_repr(self):
        return _describe(self._parameters)


class ParameterDict(Module):
    """A dict of named parameters that are registered."""

    def __init__(self, parameters=None):
        super().__init__()
        for name, value in dict(parameters or {}).items():
            self[name] = value

    def __getitem__(self, key):
        return self._parameters[key]

    def __setitem__(self, key, value):
        self.register_parameter(key, _as_parameter(value))

    def __delitem__(self, key):
        del self._parameters[key]

    def __len__(self):
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters)

    def __contains__(self, key):
        return key in self._parameters

    def keys(self):
        return self._parameters.keys()

    def values(self):
        return self._parameters.values()

    def items(self):
        return self._parameters.items()

    def update(self, parameters):
        """Add or replace parameters from a dict or (name, value) pairs."""
        for name, value in dict(parameters).items():
            self[name] = value

    def extra_repr(self):
        return _describe(self._parameters)


def _describe(parameters):
    return "\n".join(
        f"({name}): Parameter of shape {tuple(p.shape)} ({p.dtype})"
        for name, p in parameters.items()
    )


def _as_parameter(value):
    return value if isinstance(value, Parameter) else Parameter(value)


class DataParallel(Module):
    """Runs ``module`` (its ``.module``), as ``torch.nn.DataParallel`` does on one device:
    npgrad has no devices to spread the batch over. The wrapped module's state dict keys get
    the ``module.`` prefix, as in PyTorch, so checkpoints saved either way load either way."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        self.module = module
        self.dim = dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
