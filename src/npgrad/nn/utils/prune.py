"""Pruning (``torch.nn.utils.prune``): zero a parameter's least useful entries or channels.

Pruning ``module.weight`` keeps the original as the parameter ``weight_orig`` and a 0/1 buffer
``weight_mask``; ``module.weight`` becomes ``weight_orig * weight_mask``, recomputed by a
forward pre-hook before every forward, so training goes on updating ``weight_orig`` while the
pruned entries stay zero in use. Pruning again combines the masks: the new amount is a share
of what is still unpruned. ``remove(module, "weight")`` makes it permanent (``weight`` is a
plain parameter again, with the zeros in it). Both extra tensors are in the state dict, as in
PyTorch.

>>> import npgrad
>>> from npgrad.nn.utils import prune
>>> layer = npgrad.nn.Linear(4, 3)
>>> _ = prune.l1_unstructured(layer, "weight", amount=0.5)
>>> int((layer.weight == 0).sum()), sorted(n for n, _ in layer.named_buffers())
(6, ['weight_mask'])
"""

import numbers

import numpy

from npgrad.backend import default_generator
from npgrad.tensor import Tensor

__all__ = [
    "BasePruningMethod",
    "CustomFromMask",
    "Identity",
    "L1Unstructured",
    "LnStructured",
    "PruningContainer",
    "RandomStructured",
    "RandomUnstructured",
    "custom_from_mask",
    "global_unstructured",
    "identity",
    "is_pruned",
    "l1_unstructured",
    "ln_structured",
    "random_structured",
    "random_unstructured",
    "remove",
]


class BasePruningMethod:
    """A pruning method: ``compute_mask(t, default_mask)`` gives the new 0/1 mask. An applied
    method is the module's forward pre-hook that recomputes ``name`` from ``name_orig``."""

    PRUNING_TYPE = None  # "unstructured", "structured" or "global"
    _tensor_name = None

    def __call__(self, module, inputs):
        setattr(module, self._tensor_name, self.apply_mask(module))

    def compute_mask(self, t, default_mask):
        raise NotImplementedError

    def apply_mask(self, module):
        """The pruned tensor: ``name_orig * name_mask`` (differentiable in ``name_orig``)."""
        orig = getattr(module, self._tensor_name + "_orig")
        mask = getattr(module, self._tensor_name + "_mask")
        return mask.to(orig.dtype) * orig

    @classmethod
    def apply(cls, module, name, *args, importance_scores=None, **kwargs):
        """Prune ``module.name`` with a new ``cls(*args, **kwargs)``, combined with any pruning
        already there; ``importance_scores`` (the tensor's shape) rank entries in its place."""
        method = _composite_method(cls, module, name, *args, **kwargs)
        orig = getattr(module, name)
        if importance_scores is not None and tuple(importance_scores.shape) != tuple(orig.shape):
            raise ValueError(
                f"importance_scores should have the same shape as parameter {name} of "
                f"{type(module).__name__}: {tuple(importance_scores.shape)} against "
                f"{tuple(orig.shape)}"
            )
        scores = orig if importance_scores is None else importance_scores
        first = not isinstance(method, PruningContainer)
        if first:
            module.register_parameter(name + "_orig", orig)
            del module._parameters[name]
            default_mask = Tensor._wrap(numpy.ones(orig.shape, dtype=orig._data.dtype))
        else:
            default_mask = getattr(module, name + "_mask").detach().clone()
        try:
            mask = method.compute_mask(scores.detach(), default_mask=default_mask)
            module.register_buffer(name + "_mask", mask)
            setattr(module, name, method.apply_mask(module))
            module.register_forward_pre_hook(method)
        except Exception:
            if first:  # leave the module as it was
                module.register_parameter(name, getattr(module, name + "_orig"))
                del module._parameters[name + "_orig"]
            raise
        return method

    def prune(self, t, default_mask=None, importance_scores=None):
        """``t`` times the mask this method computes for it (nothing is registered)."""
        scores = t if importance_scores is None else importance_scores
        default = Tensor._wrap(numpy.ones(t.shape, dtype=t._data.dtype))
        return t * self.compute_mask(scores, default if default_mask is None else default_mask)

    def remove(self, module):
        """Make the pruning permanent: ``name`` becomes a parameter holding orig * mask."""
        if self._tensor_name is None:
            raise ValueError(f"Module {module} has to be pruned before pruning can be removed")
        weight = self.apply_mask(module)
        delattr(module, self._tensor_name)
        orig = module._parameters.pop(self._tensor_name + "_orig")
        orig._data = weight._data.copy()
        orig._version[0] += 1
        del module._buffers[self._tensor_name + "_mask"]
        setattr(module, self._tensor_name, orig)


def _composite_method(cls, module, name, *args, **kwargs):
    """The new method, or a container holding the pruning already on ``name`` and the new one;
    the old hook is taken off (the caller registers the result)."""
    old = [
        (key, hook)
        for key, hook in module._forward_pre_hooks.items()
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name
    ]
    for key, _ in old:
        del module._forward_pre_hooks[key]
    method = cls(*args, **kwargs)
    method._tensor_name = name
    if not old:
        return method
    previous = old[0][1]
    if isinstance(previous, PruningContainer):
        previous.add_pruning_method(method)
        return previous
    container = PruningContainer(previous)
    container.add_pruning_method(method)
    return container


class PruningContainer(BasePruningMethod):
    """The successive pruning methods of one tensor; a new one acts on what is still unpruned
    (the kept entries, or for a structured method the kept channels)."""

    def __init__(self, *methods):
        self._pruning_methods = ()
        for method in methods:
            self.add_pruning_method(method)

    def add_pruning_method(self, method):
        if not isinstance(method, BasePruningMethod) and method is not None:
            raise TypeError(f"{type(method)} is not a BasePruningMethod subclass")
        if method is not None and self._tensor_name != method._tensor_name:
            if self._tensor_name is not None:
                raise ValueError(
                    f"Can only add pruning methods acting on the parameter named "
                    f"'{self._tensor_name}' to PruningContainer; found '{method._tensor_name}'"
                )
            self._tensor_name = method._tensor_name
        self._pruning_methods += (method,)

    def __len__(self):
        return len(self._pruning_methods)

    def __iter__(self):
        return iter(self._pruning_methods)

    def __getitem__(self, index):
        return self._pruning_methods[index]

    def compute_mask(self, t, default_mask):
        method = self._pruning_methods[-1]
        mask = default_mask._data.astype(t._data.dtype)
        if method.PRUNING_TYPE == "unstructured":
            where = mask == 1
        elif method.PRUNING_TYPE == "structured":
            dim = method.dim % t.ndim
            others = tuple(d for d in range(t.ndim) if d != dim)
            where = [slice(None)] * t.ndim
            where[dim] = mask.sum(axis=others) != 0  # the channels still kept
            where = tuple(where)
        elif method.PRUNING_TYPE == "global":
            where = (slice(None),) * t.ndim
        else:
            raise ValueError(f"Unrecognized PRUNING_TYPE {method.PRUNING_TYPE}")
        part = method.compute_mask(
            Tensor._wrap(t._data[where]), default_mask=Tensor._wrap(mask[where])
        )
        mask[where] = part._data
        return Tensor._wrap(mask)


class Identity(BasePruningMethod):
    """Prunes nothing (the mask is all ones): registers the orig/mask pair only."""

    PRUNING_TYPE = "unstructured"

    def compute_mask(self, t, default_mask):
        return default_mask

    @classmethod
    def apply(cls, module, name):
        return super().apply(module, name)


class _Unstructured(BasePruningMethod):
    """Prunes ``amount`` of the entries (a fraction, or a count), the first ones of
    ``_ranked``."""

    PRUNING_TYPE = "unstructured"

    def __init__(self, amount):
        _check_amount(amount)
        self.amount = amount

    def compute_mask(self, t, default_mask):
        count = _count_to_prune(self.amount, t.numel())
        mask = default_mask._data.copy()
        if count:
            mask.reshape(-1)[self._ranked(t)[:count]] = 0
        return Tensor._wrap(mask)


class RandomUnstructured(_Unstructured):
    """Prunes ``amount`` of the entries chosen at random."""

    @staticmethod
    def _ranked(t):
        return numpy.argsort(default_generator().random(t.numel()))

    @classmethod
    def apply(cls, module, name, amount):
        return super().apply(module, name, amount=amount)


class L1Unstructured(_Unstructured):
    """Prunes ``amount`` of the entries with the smallest absolute values."""

    @staticmethod
    def _ranked(t):
        return numpy.argsort(numpy.abs(t._data).reshape(-1), kind="stable")

    @classmethod
    def apply(cls, module, name, amount, importance_scores=None):
        return super().apply(module, name, amount=amount, importance_scores=importance_scores)


class RandomStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` (whole slices), chosen at random."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, dim=-1):
        _check_amount(amount)
        self.amount, self.dim = amount, dim

    def compute_mask(self, t, default_mask):
        size = t.shape[self.dim]
        count = _count_to_prune(self.amount, size)
        if not count:
            return default_mask
        keep = numpy.ones(size, dtype=bool)
        keep[numpy.argsort(default_generator().random(size))[:count]] = False
        return _channel_mask(t, self.dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, dim=-1):
        return super().apply(module, name, amount=amount, dim=dim)


class LnStructured(BasePruningMethod):
    """Prunes ``amount`` of the channels along ``dim`` with the smallest L``n`` norms."""

    PRUNING_TYPE = "structured"

    def __init__(self, amount, n, dim=-1):
        _check_amount(amount)
        self.amount, self.n, self.dim = amount, n, dim

    def compute_mask(self, t, default_mask):
        size = t.shape[self.dim]
        count = _count_to_prune(self.amount, size)
        if not count:
            return default_mask
        dim = self.dim % t.ndim
        channels = numpy.moveaxis(t._data, dim, 0).reshape(size, -1)
        norms = numpy.linalg.norm(channels, ord=self.n, axis=1)
        keep = numpy.zeros(size, dtype=bool)
        keep[numpy.argsort(-norms, kind="stable")[: size - count]] = True
        return _channel_mask(t, dim, keep, default_mask)

    @classmethod
    def apply(cls, module, name, amount, n, dim, importance_scores=None):
        return super().apply(
            module, name, amount=amount, n=n, dim=dim, importance_scores=importance_scores
        )


class CustomFromMask(BasePruningMethod):
    """Prunes where the given ``mask`` is 0."""

    PRUNING_TYPE = "global"

    def __init__(self, mask):
        self.mask = mask

    def compute_mask(self, t, default_mask):
        mask = self.mask._data if isinstance(self.mask, Tensor) else numpy.asarray(self.mask)
        if mask.shape != tuple(default_mask.shape):
            raise ValueError(
                f"custom_from_mask: the mask has shape {mask.shape}, the tensor "
                f"{tuple(default_mask.shape)}"
            )
        return Tensor._wrap(default_mask._data * mask.astype(default_mask._data.dtype))

    @classmethod
    def apply(cls, module, name, mask):
        return super().apply(module, name, mask=mask)


def _channel_mask(t, dim, keep, default_mask):
    """1 on the kept slices along ``dim``, 0 elsewhere, times the mask so far."""
    shape = [1] * t.ndim
    shape[dim] = len(keep)
    mask = numpy.broadcast_to(keep.reshape(shape), t.shape).astype(t._data.dtype)
    return Tensor._wrap(mask * default_mask._data.astype(mask.dtype))


def _check_amount(amount):
    if not isinstance(amount, numbers.Real) or isinstance(amount, bool):
        raise TypeError(f"Invalid type for amount: {amount}. Must be int or float.")
    integral = isinstance(amount, numbers.Integral)
    if (integral and amount < 0) or (not integral and not 0.0 <= float(amount) <= 1.0):
        raise ValueError(
            f"amount={amount} should either be a float in the range [0, 1] or a non-negative "
            "integer"
        )


def _count_to_prune(amount, size):
    """How many of ``size`` units ``amount`` means (a count, or a fraction rounded)."""
    if isinstance(amount, numbers.Integral):
        if amount > size:
            raise ValueError(
                f"amount={amount} should be smaller than the number of parameters to prune={size}"
            )
        return int(amount)
    return round(amount * size)


def identity(module, name):
    """Register ``name_orig`` and an all-ones ``name_mask`` (no entry pruned)."""
    Identity.apply(module, name)
    return module


def random_unstructured(module, name, amount):
    """Prune ``amount`` (fraction or count) of ``module.name``'s entries at random."""
    RandomUnstructured.apply(module, name, amount)
    return module


def l1_unstructured(module, name, amount, importance_scores=None):
    """Prune ``amount`` of ``module.name``'s entries with the smallest magnitudes."""
    L1Unstructured.apply(module, name, amount=amount, importance_scores=importance_scores)
    return module


def random_structured(module, name, amount, dim):
    """Prune ``amount`` of ``module.name``'s channels along ``dim`` at random."""
    RandomStructured.apply(module, name, amount, dim)
    return module


def ln_structured(module, name, amount, n, dim, importance_scores=None):
    """Prune ``amount`` of ``module.name``'s channels along ``dim`` with the smallest L``n``
    norms (``n`` as ``numpy.linalg.norm``'s ord: 1, 2, ``float("inf")``, ...)."""
    LnStructured.apply(module, name, amount, n, dim, importance_scores=importance_scores)
    return module


def custom_from_mask(module, name, mask):
    """Prune ``module.name`` where ``mask`` is 0."""
    CustomFromMask.apply(module, name, mask)
    return module


def global_unstructured(parameters, pruning_method, importance_scores=None, **kwargs):
    """Prune across several tensors at once, ranking all their entries together: e.g. the 20 %
    smallest weights of the whole network (``pruning_method=L1Unstructured, amount=0.2``).

    ``parameters``: (module, name) pairs; ``importance_scores``: {(module, name): scores}."""
    parameters = list(parameters)
    scores = importance_scores or {}
    tensors = [scores.get((m, n), getattr(m, n)) for m, n in parameters]
    flat_scores = numpy.concatenate([t._data.reshape(-1) for t in tensors])
    masks = [
        getattr(m, n + "_mask")._data if hasattr(m, n + "_mask") else numpy.ones(t.shape)
        for (m, n), t in zip(parameters, tensors, strict=True)
    ]
    flat_mask = numpy.concatenate([mask.reshape(-1) for mask in masks]).astype(flat_scores.dtype)
    method = pruning_method(**kwargs)
    if method.PRUNING_TYPE != "unstructured":
        raise TypeError(
            'Only "unstructured" PRUNING_TYPE supported for the `pruning_method`. Found method '
            f"{pruning_method} of type {method.PRUNING_TYPE}"
        )
    container = PruningContainer(method)
    final = container.compute_mask(Tensor._wrap(flat_scores), Tensor._wrap(flat_mask))._data
    start = 0
    for (module, name), t in zip(parameters, tensors, strict=True):
        size = t.numel()
        custom_from_mask(module, name, mask=final[start : start + size].reshape(t.shape))
        start += size


def remove(module, name):
    """Make ``module.name``'s pruning permanent and drop ``name_orig``, ``name_mask`` and the
    hook; the zeros stay in the parameter."""
    for key, hook in list(module._forward_pre_hooks.items()):
        if isinstance(hook, BasePruningMethod) and hook._tensor_name == name:
            hook.remove(module)
            del module._forward_pre_hooks[key]
            return module
    raise ValueError(
        f"Parameter '{name}' of module {module} has to be pruned before pruning can be removed"
    )


def is_pruned(module):
    """True when ``module`` or one of its submodules has a pruned tensor."""
    return any(
        isinstance(hook, BasePruningMethod)
        for _, sub in module.named_modules()
        for hook in sub._forward_pre_hooks.values()
    )
