"""``Optimizer``: parameter groups, per-parameter state, ``zero_grad`` and ``state_dict``.

A subclass validates its hyperparameters and writes ``step()``; everything else lives here.
Parameters are updated in place on their arrays, under no graph (an update is not an op).
"""

import copy

import numpy

from npgrad.autograd import enable_grad
from npgrad.tensor import Tensor

# parameters with fewer numbers than this share flat state arrays (``Optimizer._packed``)
PACK_BELOW = 1 << 15


class Optimizer:
    """Base class of every optimizer. Matches ``torch.optim.Optimizer``.

    Args:
        params: an iterable of tensors, or of dicts (parameter groups) with a ``"params"`` key and
            per-group hyperparameters that override ``defaults``.
        defaults: the hyperparameters of every group that does not set its own.
    """

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.state = {}
        self.param_groups = []
        if isinstance(params, Tensor):
            raise TypeError(
                f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                "got a Tensor (wrap it in a list, or pass model.parameters())"
            )
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, param_group):
        """Add a group of parameters with its own hyperparameters (e.g. to fine-tune a layer)."""
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for param in group["params"]:
            if not isinstance(param, Tensor):
                raise TypeError(
                    f"{type(self).__name__} can only optimize Tensors, got {type(param).__name__}"
                )
            if not param.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            group.setdefault(name, default)
        existing = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in existing for p in group["params"]):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(group)

    def zero_grad(self, set_to_none=True):
        """Clear the gradients of all optimized parameters (to None by default)."""
        for group in self.param_groups:
            for param in group["params"]:
                if param.grad is None:
                    continue
                if set_to_none:
                    param.grad = None
                else:
                    param.grad._data[...] = 0

    def step(self, closure=None):
        """Update the parameters from their gradients (subclasses implement it)."""
        raise NotImplementedError

    def _params_with_grad(self, group):
        """(parameter array, gradient array, state dict) for each parameter that has a gradient."""
        for param in group["params"]:
            if param.grad is None:
                continue
            grad = param.grad._data
            if group.get("maximize", False):
                grad = -grad
            param._version[0] += 1  # the update is in place: graphs that saved p must notice
            yield param._data, grad, self.state.setdefault(param, {})

    def _scratch(self, param):
        """A reusable work array shaped like ``param`` (one shared buffer, never part of state).

        Updates write their intermediates here instead of allocating a fresh array per
        operation: large short-lived arrays make glibc return memory to the system and fault it
        back in on every step, which costs more than the arithmetic.
        """
        buffer = self.__dict__.get("_scratch_buffer")
        if buffer is None or buffer.size < param.size or buffer.dtype != param.dtype:
            largest = max(p.numel() for g in self.param_groups for p in g["params"])
            buffer = numpy.empty(max(largest, param.size), dtype=param.dtype)
            self._scratch_buffer = buffer
        return buffer[: param.size].reshape(param.shape)

    def _packed(self, index, items, names):
        """Flat state for the small parameters among ``items`` of group ``index``.

        Updating a parameter of a few thousand numbers costs a dozen NumPy calls whatever its
        size, so the small parameters of a group (under ``PACK_BELOW`` numbers, one dtype, one
        step count) keep their state ``names`` as views into one flat array per name: the update
        then runs as a dozen calls over all of them. Returns the ``_Pack`` (None when fewer than
        two parameters qualify), the items it holds and the others. The pack is rebuilt whenever
        the parameters with a gradient change or their state was replaced (``load_state_dict``).
        """
        small, others = [], []
        for item in items:
            param, _, state = item
            first = small[0] if small else item
            if (
                param.size < PACK_BELOW
                and param.dtype == first[0].dtype
                and state.get("step") == first[2].get("step")
            ):
                small.append(item)
            else:
                others.append(item)
        if len(small) < 2:
            return None, [], items
        packs = self.__dict__.setdefault("_packs", {})
        if index not in packs or not packs[index].holds(small, names):
            packs[index] = _Pack(small, names)
        return packs[index], small, others

    @staticmethod
    def _evaluate(closure):
        if closure is None:
            return None
        with enable_grad():
            return closure()

    # ----------------------------------------------------------------- state
    def state_dict(self):
        """``{"state": {index: {...}}, "param_groups": [...]}`` with parameters as indices.

        Matches the layout of PyTorch's optimizer state dicts; array state is shared, not copied.
        """
        index_of = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = []
            for param in group["params"]:
                index_of.setdefault(id(param), len(index_of))
                packed["params"].append(index_of[id(param)])
            groups.append(packed)
        state = {}
        for param, values in self.state.items():
            if id(param) in index_of:
                state[index_of[id(param)]] = {
                    k: Tensor._wrap(v) if isinstance(v, numpy.ndarray) else v
                    for k, v in values.items()
                }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyperparameters and state saved by :meth:`state_dict` (values are copied)."""
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups):
            raise ValueError(
                f"loaded state dict has {len(groups)} parameter groups, the optimizer has "
                f"{len(self.param_groups)}"
            )
        params = []
        for saved, group in zip(groups, self.param_groups, strict=True):
            if len(saved["params"]) != len(group["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    "of the optimizer's group"
                )
            params.extend(zip(saved["params"], group["params"], strict=True))
        for saved, group in zip(groups, self.param_groups, strict=True):
            for key, value in saved.items():
                if key != "params":
                    group[key] = copy.deepcopy(value)
        self.state = {}
        for index, param in params:
            values = state_dict["state"].get(index, state_dict["state"].get(str(index)))
            if values is None:
                continue
            self.state[param] = {k: _copy_state_value(v, param) for k, v in values.items()}

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(k for k in group if k != "params"):
                lines.append(f"    {key}: {group[key]}")
        return "\n".join(lines) + "\n)"


class _Pack:
    """The state of several small parameters as one flat array per state name (their state
    entries become views into it), plus a flat gradient and a flat work array.

    ``grads[k]`` and ``works[k]`` are parameter k's views into the flat gradient and work array.
    """

    def __init__(self, items, names):
        total = sum(param.size for param, _, _ in items)
        dtype = items[0][0].dtype
        self.state = {name: numpy.empty(total, dtype) for name in names}
        self.grad, self.work = numpy.empty(total, dtype), numpy.empty(total, dtype)
        self.params, self.views, self.grads, self.works = [], [], [], []
        start = 0
        for param, _, state in items:
            part = slice(start, start + param.size)
            start += param.size
            for name in names:  # the state so far moves into the flat array
                flat = self.state[name][part].reshape(param.shape)
                flat[...] = state[name]
                state[name] = flat
            self.params.append(param)
            self.views.append([state[name] for name in names])
            self.grads.append(self.grad[part].reshape(param.shape))
            self.works.append(self.work[part].reshape(param.shape))

    def holds(self, items, names):
        """True while ``items`` are exactly these parameters and their state is still ours."""
        if len(items) != len(self.params):
            return False
        for (param, _, state), packed, views in zip(items, self.params, self.views, strict=True):
            if param is not packed:
                return False
            for name, view in zip(names, views, strict=True):
                if state[name] is not view:
                    return False
        return True


def _copy_state_value(value, param):
    """A private copy of one saved state value; arrays get the parameter's float dtype."""
    if isinstance(value, Tensor):
        value = value._data
    if hasattr(value, "detach"):  # a PyTorch tensor
        value = value.detach().numpy()
    if isinstance(value, numpy.ndarray):
        if value.ndim == 0 and value.dtype.kind in "iuf" and value.shape != param.shape:
            return value.item()  # a step counter saved as a 0-d tensor
        return value.astype(param.dtype) if value.dtype.kind == "f" else value.copy()
    return copy.deepcopy(value)


def check_nonnegative(name, value):
    """Raise ``ValueError`` naming a hyperparameter that must be >= 0."""
    if not value >= 0.0:
        raise ValueError(f"Invalid {name}: {value} (must be >= 0)")
