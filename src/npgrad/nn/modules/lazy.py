"""Lazy modules: layers whose input size is read from their first input (``LazyLinear``,
``LazyConv1d/2d/3d``, ``LazyConvTranspose1d/2d``, ``LazyBatchNorm1d/2d/3d``), as PyTorch's.

Until the first forward such a module has no weight (``weight is None``, no parameters); the
first forward builds the full layer with the input's size and its dtype (unless one was given),
and the module then becomes that layer (``type(lazy)`` is ``Conv2d`` afterwards, as in
PyTorch). Create the optimizer after one forward pass (a dry run with a sample batch), or
after ``load_state_dict``, which builds the layers the saved weights fit.
"""

import numpy

from npgrad.nn.modules.conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d
from npgrad.nn.modules.linear import Linear
from npgrad.nn.modules.module import Module
from npgrad.nn.modules.normalization import BatchNorm1d, BatchNorm2d, BatchNorm3d
from npgrad.tensor import Tensor

_HOOKS = ("_forward_hooks", "_forward_pre_hooks", "_backward_hooks", "_backward_pre_hooks")


class LazyModuleMixin:
    """The lazy behaviour; a lazy class lists it before the layer it becomes (``cls_to_become``)
    and says which input dim holds the size (``size_dim``: channels 1, features -1)."""

    cls_to_become = None
    size_dim = 1

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        object.__setattr__(self, "_lazy_arguments", (args, kwargs))
        self.register_parameter("weight", None)
        self.register_parameter("bias", None)

    def extra_repr(self):
        args, kwargs = self._lazy_arguments
        shown = [repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]
        return ", ".join(["in: from the first input", *shown])

    def has_uninitialized_params(self):
        return self.__dict__.get("_lazy_arguments") is not None

    def initialize_parameters(self, input):  # noqa: A002
        """Build the full layer for ``input`` and become it (weights initialised as it does)."""
        self._materialize(input.shape[self.size_dim], input.dtype)

    def _size_from_state(self, shape):
        """The input size a saved ``weight`` of ``shape`` implies (Linear: (out, in))."""
        return shape[1]

    def _materialize_from_state(self, state_dict, prefix):
        """Become the full layer that the saved tensors under ``prefix`` fit (``load_state_dict``
        into a module that has not run yet, as PyTorch allows)."""
        for name in ("weight", "running_mean"):
            value = state_dict.get(prefix + name)
            if value is not None:
                array = numpy.asarray(value._data if isinstance(value, Tensor) else value)
                size = self._size_from_state(array.shape) if name == "weight" else array.shape[0]
                self._materialize(size, array.dtype if array.dtype.kind == "f" else None)
                return

    def _materialize(self, size, dtype):
        args, kwargs = self._lazy_arguments
        if kwargs.get("dtype") is None and dtype is not None:
            kwargs = {**kwargs, "dtype": dtype}
        built = self.cls_to_become(size, *args, **kwargs)
        for name, value in built.__dict__.items():
            if name != "training" and name not in _HOOKS:  # this module's mode and hooks stay
                object.__setattr__(self, name, value)
        del self.__dict__["_lazy_arguments"]
        self.__class__ = self.cls_to_become

    def forward(self, input):  # noqa: A002
        self.initialize_parameters(input)
        return self.forward(input)  # the full layer's forward, now this module's class


class LazyLinear(LazyModuleMixin, Linear):
    """``Linear(in_features, ...)`` with ``in_features`` from the first input's last dim."""

    cls_to_become, size_dim = Linear, -1


class _LazyConv(LazyModuleMixin):
    def _size_from_state(self, shape):
        if self.cls_to_become.transposed:  # weight (in, out / groups, *kernel)
            return shape[0]
        args, kwargs = self._lazy_arguments  # weight (out, in / groups, *kernel)
        groups = kwargs.get("groups", args[5] if len(args) > 5 else 1)
        return shape[1] * groups


class _LazyBatchNorm(LazyModuleMixin):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("running_mean", "running_var", "num_batches_tracked"):
            self.register_buffer(name, None)

    def _size_from_state(self, shape):  # weight (C,)
        return shape[0]


class LazyConv1d(_LazyConv, Conv1d):
    """``Conv1d`` with ``in_channels`` from the first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConv, Conv2d):
    """``Conv2d`` with ``in_channels`` from the first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConv, Conv3d):
    """``Conv3d`` with ``in_channels`` from the first input."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConv, ConvTranspose1d):
    """``ConvTranspose1d`` with ``in_channels`` from the first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConv, ConvTranspose2d):
    """``ConvTranspose2d`` with ``in_channels`` from the first input."""

    cls_to_become = ConvTranspose2d


class LazyBatchNorm1d(_LazyBatchNorm, BatchNorm1d):
    """``BatchNorm1d`` with ``num_features`` from the first input."""

    cls_to_become = BatchNorm1d


class LazyBatchNorm2d(_LazyBatchNorm, BatchNorm2d):
    """``BatchNorm2d`` with ``num_features`` from the first input."""

    cls_to_become = BatchNorm2d


class LazyBatchNorm3d(_LazyBatchNorm, BatchNorm3d):
    """``BatchNorm3d`` with ``num_features`` from the first input."""

    cls_to_become = BatchNorm3d
