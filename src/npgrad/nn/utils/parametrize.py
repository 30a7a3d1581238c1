"""Parametrisations, as ``torch.nn.utils.parametrize``: a module's tensor computed from others.

``register_parametrization(module, "weight", p)`` moves the parameter to
``module.parametrizations.weight.original`` (``original0``, ``original1``, ... when
``p.right_inverse`` splits it) and makes ``module.weight`` a property that returns
``p(original)`` at each access, so gradients reach the originals.
"""

from npgrad.nn.modules.container import ModuleDict, ModuleList
from npgrad.nn.parameter import Parameter


class ParametrizationList(ModuleList):
    """The parametrisations of one tensor and its original(s)."""

    def __init__(self, modules, original):
        super().__init__(modules)
        first = modules[0]
        split = first.right_inverse(original) if hasattr(first, "right_inverse") else original
        if isinstance(split, tuple | list):
            self.is_tensor = False
            for index, value in enumerate(split):
                self.register_parameter(f"original{index}", _as_parameter(value, original))
        else:
            self.is_tensor = True
            self.register_parameter("original", _as_parameter(split, original))

    def forward(self):
        if self.is_tensor:
            value = self[0](self.original)
        else:
            count = sum(1 for name in self._parameters if name.startswith("original"))
            value = self[0](*(getattr(self, f"original{i}") for i in range(count)))
        for parametrization in list(self)[1:]:
            value = parametrization(value)
        return value


def _as_parameter(value, original):
    parameter = Parameter(value.detach().clone())
    parameter.requires_grad = original.requires_grad
    return parameter


def is_parametrized(module, tensor_name=None):
    """Whether ``module`` has parametrisations (of ``tensor_name``)."""
    parametrizations = module.__dict__.get("_modules", {}).get("parametrizations")
    if parametrizations is None:
        return False
    return tensor_name is None or tensor_name in parametrizations


def register_parametrization(module, tensor_name, parametrization, *, unsafe=False):
    """Compute ``module.<tensor_name>`` as ``parametrization(original)`` from now on; a second
    registration on the same name chains after the first."""
    if is_parametrized(module, tensor_name):
        module.parametrizations[tensor_name].append(parametrization)
        return module
    original = getattr(module, tensor_name)
    if not is_parametrized(module):
        cls = type(module)
        module.__class__ = type(f"Parametrized{cls.__name__}", (cls,), {})
        module.parametrizations = ModuleDict()
    delattr(module, tensor_name)
    module.parametrizations[tensor_name] = ParametrizationList([parametrization], original)
    setattr(
        type(module),
        tensor_name,
        property(lambda self: self.parametrizations[tensor_name]()),
    )
    return module


def remove_parametrizations(module, tensor_name, leave_parametrized=True):
    """Undo ``register_parametrization``: ``tensor_name`` is a parameter again, holding the
    parametrised value (or, with ``leave_parametrized=False``, the original)."""
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"remove_parametrizations: {tensor_name!r} is not parametrized")
    chain = module.parametrizations[tensor_name]
    if leave_parametrized:
        value = chain().detach()
    elif chain.is_tensor:
        value = chain.original.detach()
    else:
        raise ValueError("remove_parametrizations: several originals cannot be left as one")
    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    module.register_parameter(tensor_name, Parameter(value.clone()))
    if not len(module.parametrizations):
        del module.parametrizations
        module.__class__ = type(module).__bases__[0]
    return module
