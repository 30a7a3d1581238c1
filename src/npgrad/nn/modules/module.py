"""``Module``: the base class of layers and models.

A module registers ``Parameter``s, buffers and sub-modules when they are assigned as attributes,
and from that registry offers everything else: ``parameters()``, ``state_dict()``, ``train()``,
``zero_grad()``, printing. Names are PyTorch's dotted paths (``encoder.0.weight``).
"""

from collections import OrderedDict

import numpy

from npgrad.autograd import Function, is_grad_enabled
from npgrad.backend import check_device, device
from npgrad.errors import NpgradError, ShapeError
from npgrad.nn.parameter import Buffer, Parameter
from npgrad.tensor import Tensor, _array_of
from npgrad.utils.hooks import RemovableHandle

_call_depth = 0


class Module:
    """Base class for all neural-network modules; subclasses write ``__init__`` and ``forward``.

    Matches ``torch.nn.Module``. An error raised inside ``forward`` is re-raised with the path of
    the module that raised it (e.g. ``model.2``), so a shape mistake deep in a model is easy to
    place.

    >>> import npgrad
    >>> class Affine(npgrad.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.scale = npgrad.nn.Parameter(npgrad.ones(3))
    ...     def forward(self, x):
    ...         return x * self.scale
    >>> [name for name, _ in Affine().named_parameters()]
    ['scale']
    """

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent_buffers", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "_forward_pre_hooks", OrderedDict())
        object.__setattr__(self, "_backward_hooks", OrderedDict())
        object.__setattr__(self, "_backward_pre_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ----------------------------------------------------------------- registration
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(
                f"cannot assign {name!r} before Module.__init__() call: call super().__init__() "
                f"first in {type(self).__name__}.__init__"
            )
        if isinstance(value, Parameter | Module):
            self._forget(name)
            registry = self._parameters if isinstance(value, Parameter) else self._modules
            registry[name] = value
        elif isinstance(value, Buffer):  # torch.nn.Buffer: registered, kept as a plain tensor
            self.register_buffer(name, Tensor._wrap(value._data), persistent=value.persistent)
        elif name in self._buffers:
            self._buffers[name] = value
        elif name in self._parameters or name in self._modules:
            if value is not None:
                kind = "parameter" if name in self._parameters else "module"
                raise TypeError(
                    f"cannot assign {type(value).__name__} as {kind} {name!r} of "
                    f"{type(self).__name__} (a {kind.capitalize()} or None expected)"
                )
            (self._parameters if name in self._parameters else self._modules)[name] = None
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        """Drop ``name`` from every registry and the instance dict."""
        for registry in (self._parameters, self._buffers, self._modules):
            registry.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        # Only called when normal lookup fails: look in the registries.
        for registry in ("_parameters", "_buffers", "_modules"):
            items = self.__dict__.get(registry)
            if items is not None and name in items:
                return items[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        if name in self._parameters or name in self._buffers or name in self._modules:
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        """Register ``param`` (a Parameter or None) under ``name``."""
        if param is None:
            self._parameters[name] = None
        else:
            setattr(self, name, param)

    def register_buffer(self, name, tensor, persistent=True):
        """Register a non-learnable tensor (e.g. running statistics) saved in the state dict."""
        self._forget(name)
        self._buffers[name] = tensor
        if persistent:
            self._non_persistent_buffers.discard(name)  # (it may have been registered before)
        else:
            self._non_persistent_buffers.add(name)

    def add_module(self, name, module):
        """Register ``module`` as a child called ``name``."""
        if module is None:
            self._modules[name] = None
        else:
            setattr(self, name, module)

    register_module = add_module

    def get_submodule(self, target):
        """The sub-module at dotted path ``target`` (``""`` is self)."""
        module = self
        for part in target.split(".") if target else []:
            if part not in module._modules:
                raise AttributeError(f"{type(module).__name__} has no submodule {part!r}")
            module = module._modules[part]
        return module

    def get_parameter(self, target):
        """The parameter at dotted path ``target`` (e.g. ``"0.weight"``)."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path) if path else self
        if name not in module._parameters:
            raise AttributeError(f"{type(module).__name__} has no parameter {name!r}")
        return module._parameters[name]

    def get_buffer(self, target):
        """The buffer at dotted path ``target`` (e.g. ``"1.running_mean"``)."""
        path, _, name = target.rpartition(".")
        module = self.get_submodule(path) if path else self
        if name not in module._buffers:
            raise AttributeError(f"{type(module).__name__} has no buffer {name!r}")
        return module._buffers[name]

    # ----------------------------------------------------------------- calling
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args, **kwargs):
        global _call_depth
        for hook in self._forward_pre_hooks.values():
            replaced = hook(self, args)
            if replaced is not None:
                args = replaced if isinstance(replaced, tuple) else (replaced,)
        backward_hooks = self._backward_hooks or self._backward_pre_hooks
        if backward_hooks and is_grad_enabled():
            gates = _BackwardHookState(self, args)
            args = gates.inputs
        _call_depth += 1
        try:
            result = self.forward(*args, **kwargs)
        except NpgradError as error:
            _record_failing_module(error, self)
            if _call_depth == 1:
                _add_module_path(error)
            raise
        finally:
            _call_depth -= 1
        for hook in self._forward_hooks.values():
            replaced = hook(self, args, result)
            if replaced is not None:
                result = replaced
        if backward_hooks and is_grad_enabled():
            result = gates.gate_outputs(result)
        return result

    def register_full_backward_hook(self, hook):
        """Call ``hook(module, grad_input, grad_output)`` when the gradients of the module's
        inputs are computed (tuples of tensors; None for inputs that need none); it may return
        a new grad_input. Returns a removable handle. With several inputs needing gradients,
        a returned replacement reaches only the one whose gradient arrived last."""
        return RemovableHandle(self._backward_hooks, hook)

    register_backward_hook = register_full_backward_hook

    def register_full_backward_pre_hook(self, hook):
        """Call ``hook(module, grad_output)`` when the gradients of the module's outputs arrive;
        it may return a new grad_output. Returns a removable handle."""
        return RemovableHandle(self._backward_pre_hooks, hook)

    def register_forward_hook(self, hook):
        """Call ``hook(module, inputs, output)`` after every forward; returns a removable handle."""
        return RemovableHandle(self._forward_hooks, hook)

    def register_forward_pre_hook(self, hook):
        """Call ``hook(module, inputs)`` before every forward; returns a removable handle."""
        return RemovableHandle(self._forward_pre_hooks, hook)

    # ----------------------------------------------------------------- traversal
    def named_modules(self, memo=None, prefix=""):
        """Yield ``(path, module)`` for self and every descendant, each once."""
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, child in self._modules.items():
            if child is not None:
                yield from child.named_modules(memo, f"{prefix}.{name}" if prefix else name)

    def modules(self):
        """Yield self and every descendant module."""
        for _, module in self.named_modules():
            yield module

    def named_children(self):
        """Yield ``(name, module)`` for the direct children."""
        for name, child in self._modules.items():
            if child is not None:
                yield name, child

    def children(self):
        """Yield the direct children."""
        for _, child in self.named_children():
            yield child

    def _named_members(self, registry, prefix, recurse):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for module_prefix, module in modules:
            for name, value in getattr(module, registry).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{module_prefix}.{name}" if module_prefix else name), value

    def named_parameters(self, prefix="", recurse=True):
        """Yield ``(dotted name, Parameter)``; a parameter shared by two modules comes once."""
        yield from self._named_members("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        """Yield every Parameter (the argument to an optimizer)."""
        for _, param in self.named_parameters(recurse=recurse):
            yield param

    def named_buffers(self, prefix="", recurse=True):
        """Yield ``(dotted name, buffer)``."""
        yield from self._named_members("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        """Yield every buffer."""
        for _, buffer in self.named_buffers(recurse=recurse):
            yield buffer

    # ----------------------------------------------------------------- modes and grads
    def train(self, mode=True):
        """Set training mode (Dropout active, BatchNorm uses batch statistics) on all modules."""
        for module in self.modules():
            object.__setattr__(module, "training", bool(mode))
        return self

    def eval(self):
        """Set evaluation mode: same as ``train(False)``."""
        return self.train(False)

    def requires_grad_(self, requires_grad=True):
        """Freeze (False) or unfreeze (True) every parameter."""
        for param in self.parameters():
            param.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of every parameter (to None by default, as PyTorch 2 does)."""
        for param in self.parameters():
            if param.grad is None:
                continue
            if set_to_none:
                param.grad = None
            else:
                param.grad.zero_()

    def apply(self, fn):
        """Call ``fn(module)`` on every descendant and self (children first), e.g. to init."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """Convert floating parameters and buffers to a dtype; a device ``"cpu"`` is a no-op."""
        dtype = kwargs.get("dtype")
        if kwargs.get("device") is not None:
            check_device(kwargs["device"], f"{type(self).__name__}.to()")
        for arg in args:
            if isinstance(arg, str | device):
                check_device(arg, f"{type(self).__name__}.to()")
            else:
                dtype = arg
        if dtype is not None:
            self._convert_floats(numpy.dtype(dtype))
        return self

    def _convert_floats(self, dtype):
        for module in self.modules():
            for registry in (module._parameters, module._buffers):
                for value in registry.values():
                    if value is not None and value.dtype.kind == "f":
                        value._data = value._data.astype(dtype)
                        if value.grad is not None:
                            value.grad = None

    def float(self):
        """Convert floating parameters and buffers to float32."""
        return self.to(numpy.float32)

    def double(self):
        """Convert floating parameters and buffers to float64."""
        return self.to(numpy.float64)

    def half(self):
        """Convert floating parameters and buffers to float16."""
        return self.to(numpy.float16)

    def cpu(self):
        """Return self (npgrad runs on the CPU)."""
        return self

    # ----------------------------------------------------------------- state
    def state_dict(self, destination=None, prefix="", keep_vars=False):
        """An ordered dict of every parameter and persistent buffer by dotted name.

        The values share memory with the module (as in PyTorch); copy them to keep a snapshot.
        """
        destination = OrderedDict() if destination is None else destination
        for path, module in self.named_modules(prefix=prefix.rstrip(".")):
            for name, param in module._parameters.items():
                if param is not None:
                    key = f"{path}.{name}" if path else name
                    destination[key] = param if keep_vars else param.detach()
            for name, buffer in module._buffers.items():
                if buffer is not None and name not in module._non_persistent_buffers:
                    key = f"{path}.{name}" if path else name
                    destination[key] = buffer if keep_vars else buffer.detach()
        return destination

    def load_state_dict(self, state_dict, strict=True):
        """Copy values from ``state_dict`` into the parameters and buffers, in place.

        Args:
            state_dict: a mapping of dotted names to Tensors or arrays (PyTorch tensors work
                too: anything ``numpy.asarray`` accepts).
            strict: require the keys to match exactly.

        Returns:
            ``(missing_keys, unexpected_keys)`` as a named tuple.

        Raises:
            KeyError: with ``strict``, when keys are missing or unexpected (all are listed).
            ShapeError: when a value's shape differs from the parameter's (always checked).
        """
        for name, module in self.named_modules():  # lazy layers: built to fit the saved weights
            if getattr(module, "has_uninitialized_params", lambda: False)():
                module._materialize_from_state(state_dict, f"{name}." if name else "")
        own = self.state_dict(keep_vars=True)
        missing = [key for key in own if key not in state_dict]
        unexpected = [key for key in state_dict if key not in own]
        problems = []
        for key, target in own.items():
            if key not in state_dict:
                continue
            value = state_dict[key]
            array = value._data if isinstance(value, Tensor) else numpy.asarray(_detached(value))
            if array.shape != target.shape:
                problems.append(
                    f"size mismatch for {key}: copying a param with shape {array.shape} from "
                    f"the state dict, the shape in the current model is {target.shape}"
                )
        if problems:
            raise ShapeError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(problems)
            )
        if strict and (missing or unexpected):
            lines = []
            if missing:
                lines.append("Missing key(s) in state_dict: " + ", ".join(map(repr, missing)))
            if unexpected:
                lines.append("Unexpected key(s) in state_dict: " + ", ".join(map(repr, unexpected)))
            raise KeyError(
                f"Error(s) in loading state_dict for {type(self).__name__}:\n  "
                + "\n  ".join(lines)
            )
        for key, target in own.items():
            if key in state_dict:
                value = state_dict[key]
                array = (
                    value._data if isinstance(value, Tensor) else numpy.asarray(_detached(value))
                )
                numpy.copyto(target._data, array, casting="unsafe")
                target._version[0] += 1
        return _IncompatibleKeys(missing, unexpected)

    # ----------------------------------------------------------------- printing
    def extra_repr(self):
        """The text inside this module's parentheses when printed (override in layers)."""
        return ""

    def __repr__(self):
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, child in self._modules.items():
            child_repr = repr(child).replace("\n", "\n  ")
            lines.append(f"({name}): {child_repr}")
        if not lines:
            return f"{type(self).__name__}()"
        if len(lines) == 1 and not self._modules:
            return f"{type(self).__name__}({lines[0]})"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines) + "\n)"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules)

    def __getstate__(self):
        return self.__dict__

    def __setstate__(self, state):
        self.__dict__.update(state)


def _detached(value):
    """A PyTorch tensor (or anything with ``detach``) as something NumPy can read."""
    if hasattr(value, "detach"):
        value = value.detach()
    return value.numpy() if hasattr(value, "numpy") else value


class _IncompatibleKeys(tuple):
    """``(missing_keys, unexpected_keys)``, as PyTorch's load_state_dict returns."""

    def __new__(cls, missing, unexpected):
        return super().__new__(cls, (missing, unexpected))

    @property
    def missing_keys(self):
        return self[0]

    @property
    def unexpected_keys(self):
        return self[1]


class _Gate(Function):
    """y = x; backward hands the gradient to ``notify(index, grad)`` first (module backward
    hooks), which may return a replacement"""

    @staticmethod
    def forward(ctx, x, notify=None, index=0):
        ctx.notify, ctx.index = notify, index
        return x.view()  # (a new array object: in-place checks tell input and output apart)

    @staticmethod
    def backward(ctx, grad):
        replaced = ctx.notify(ctx.index, grad)
        return grad if replaced is None else replaced  # dy/dx = 1


class _BackwardHookState:
    """One forward of a module with backward hooks: its tensor inputs and outputs pass through
    identity gates whose backward collects grad_output, then grad_input, and calls the hooks."""

    def __init__(self, module, args):
        self.module = module
        self.waiting = [i for i, a in enumerate(args) if isinstance(a, Tensor) and a.requires_grad]
        self.grad_inputs = [None] * len(args)
        self.grad_outputs = None
        self.inputs = tuple(
            _Gate.apply(a, notify=self._input_grad, index=i) if i in self.waiting else a
            for i, a in enumerate(args)
        )

    def gate_outputs(self, result):
        outputs = result if isinstance(result, tuple) else (result,)
        self.grad_outputs = [None] * len(outputs)
        gated = tuple(
            _Gate.apply(out, notify=self._output_grad, index=i)
            if isinstance(out, Tensor) and out.requires_grad
            else out
            for i, out in enumerate(outputs)
        )
        return gated if isinstance(result, tuple) else gated[0]

    def _output_grad(self, index, grad):
        self.grad_outputs[index] = Tensor._wrap(grad)
        replaced = None
        for hook in self.module._backward_pre_hooks.values():
            new = hook(self.module, tuple(self.grad_outputs))
            if new is not None:
                self.grad_outputs = list(new)
                replaced = _array_of(self.grad_outputs[index])
        if not self.waiting:  # no input needs a gradient: the hooks see None for each
            self._call_hooks()
        return replaced

    def _input_grad(self, index, grad):
        self.grad_inputs[index] = Tensor._wrap(grad)
        self.waiting.remove(index)
        if self.waiting:
            return None
        replaced = self._call_hooks()
        return None if replaced is None else _array_of(replaced[index])

    def _call_hooks(self):
        replaced = None
        for hook in self.module._backward_hooks.values():
            new = hook(self.module, tuple(self.grad_inputs), tuple(self.grad_outputs or ()))
            if new is not None:
                replaced = self.grad_inputs = list(new)
        return replaced


def _record_failing_module(error, module):
    """Remember, innermost first, the modules an error passed through."""
    chain = getattr(error, "_npgrad_modules", None)
    if chain is None:
        chain = []
        error._npgrad_modules = chain
    chain.append(module)


def _add_module_path(error):
    """Append the failing module's dotted path (``model.2``) to the error's message."""
    chain = error.__dict__.pop("_npgrad_modules", [])
    if not chain:
        return
    names = ["model"]
    for parent, child in zip(reversed(chain), list(reversed(chain))[1:], strict=False):
        name = next((n for n, m in parent._modules.items() if m is child), "?")
        names.append(name)
    innermost = chain[0]
    where = f"in {'.'.join(names)} ({type(innermost).__name__}"
    extra = innermost.extra_repr()
    where += f"({extra}))" if extra and "\n" not in extra else ")"
    message = error.args[0] if error.args else ""
    error.args = (f"{message} [{where}]",) + tuple(error.args[1:])
