"""The autograd engine: ``Function``, the backward graph walk, and grad-mode switches.

How it works, in four sentences. Every differentiable op is a :class:`Function` subclass with a
``forward`` on NumPy arrays and a ``backward`` that maps the gradient of the output to gradients of
the inputs. ``Function.apply`` runs ``forward`` and, when any input requires grad and grad mode is
on, links the output tensor to the op instance (its *context*), which remembers the input tensors
and whatever ``forward`` saved. :func:`backward` orders the graph by an iterative depth-first search
(no recursion, so a 10,000-op chain is fine), then walks it from the output to the leaves, calling
each op's ``backward`` once, summing gradients that meet at a tensor (fan-out) and reducing them
back to the input's shape where the op broadcast. Leaves accumulate into ``.grad``; the graph's
saved arrays are freed as the walk passes unless ``retain_graph=True``.

Backward is written in plain NumPy. For gradients of gradients (``create_graph=True``) the same
walk runs on Tensors instead (:func:`_backward_graph`): each op's ``backward_graph`` writes its
backward with Tensor ops, so the gradients are themselves recorded in a graph.
"""

import functools

from npgrad import buffers
from npgrad.backend import xp
from npgrad.errors import GradientError, NpgradError, ShapeError

_grad_enabled = True
_detect_anomaly = False
_profiler = None  # while npgrad.profiler.profile records: its recorder (times ops)


def is_grad_enabled():
    """Return True when ops record the graph (the default), False inside ``no_grad``."""
    return _grad_enabled


class _GradMode:
    """Base of the grad-mode switches: a context manager that is also a function decorator."""

    mode = True

    def __enter__(self):
        global _grad_enabled
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __exit__(self, *exc_info):
        global _grad_enabled
        _grad_enabled = self._previous
        return False

    def __call__(self, func):
        mode = self.mode

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            switch = _GradMode()
            switch.mode = mode
            with switch:
                return func(*args, **kwargs)

        return wrapper


class no_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator that turns graph recording off (inference, weight updates).

    Matches ``torch.no_grad``.

    >>> import npgrad
    >>> x = npgrad.ones(2, requires_grad=True)
    >>> with npgrad.no_grad():
    ...     y = x * 2
    >>> y.requires_grad
    False
    """

    mode = False


class enable_grad(_GradMode):  # noqa: N801 - PyTorch's name
    """Context manager and decorator that turns graph recording back on inside ``no_grad``.

    Matches ``torch.enable_grad``.
    """

    mode = True


class inference_mode(_GradMode):  # noqa: N801 - PyTorch's name
    """Like ``no_grad`` (npgrad has no separate inference tensors). ``inference_mode(False)`` is
    a no-op switch back to recording. Matches ``torch.inference_mode`` in use.
    """

    def __init__(self, mode=True):
        self.mode = not mode

    def __call__(self, func):
        if callable(func) and not isinstance(func, bool):
            return super().__call__(func)
        return func


class set_grad_enabled(_GradMode):  # noqa: N801 - PyTorch's name
    """Set grad mode on or off; works as a plain call, a context manager or a decorator.

    Matches ``torch.set_grad_enabled``.
    """

    def __init__(self, mode=True):
        global _grad_enabled
        self.mode = bool(mode)
        self._previous = _grad_enabled
        _grad_enabled = self.mode

    def __enter__(self):
        pass  # the switch already happened in __init__, as in PyTorch

    def __call__(self, func):
        mode = self.mode
        self.__exit__()

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return func(*args, **kwargs)

        return wrapper


class set_detect_anomaly:  # noqa: N801 - PyTorch's name
    """Check every gradient for NaN/inf during backward and name the op that produced it.

    Works as a call (``set_detect_anomaly(True)``) or a context manager, like
    ``torch.autograd.set_detect_anomaly``. Costs one ``isfinite`` pass per gradient.
    """

    def __init__(self, mode=True, check_nan=True):
        global _detect_anomaly
        self._previous, _detect_anomaly = _detect_anomaly, bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        global _detect_anomaly
        _detect_anomaly = self._previous
        return False


class detect_anomaly(set_detect_anomaly):  # noqa: N801 - PyTorch's name
    """Context manager turning anomaly detection on (``torch.autograd.detect_anomaly``)."""

    def __init__(self, check_nan=True):
        super().__init__(True)


def is_anomaly_enabled():
    """True inside ``detect_anomaly`` / after ``set_detect_anomaly(True)``."""
    return _detect_anomaly


class Function:
    """A differentiable op: ``forward`` on arrays, ``backward`` from output grad to input grads.

    Subclasses write two static methods, PyTorch style:

    * ``forward(ctx, *arrays, **attrs)`` computes the output array. Tensor arguments arrive as
      their arrays; other positional arguments (Python scalars, plain arrays) arrive as they are and
      are treated as constants. Keyword arguments are non-differentiable attributes (axis, stride).
      ``ctx.save_for_backward(*arrays)`` keeps what backward needs, and ``ctx.needs_input_grad``
      tells which inputs need a gradient at all.
    * ``backward(ctx, grad)`` returns one array (or ``None``) per positional input. The engine sums
      each gradient back to its input's shape when the op broadcast, so backward may return the
      broadcast shape.
    * ``backward_graph(ctx, grad, *inputs)`` (optional) is the same backward written with Tensor
      ops on the gradient Tensor and the input Tensors, for gradients of gradients
      (``create_graph=True``); it returns Tensors (or None). An op without it still works with
      ``create_graph=True`` as long as nothing differentiates through its gradient a second
      time; when something does, that backward raises and names the op.

    The instance made by ``apply`` is the context and the graph node (``Tensor.grad_fn``). Its
    ``edges`` point at the node that produced each input *at the time of the call* (or at the
    leaf tensor itself), as PyTorch's do, so that an in-place op that later rebinds a tensor does
    not rewire the graph behind it.

    Functions you define yourself get PyTorch's contract instead (``tensor_io = True``):
    ``forward`` and ``backward`` receive and return Tensors, and ``forward`` runs without
    recording a graph, so ``torch.autograd.Function`` code (``input.clamp(min=0)``,
    ``grad_output.clone()``) works unchanged. npgrad's own ops (defined in the ``npgrad``
    package) work on arrays, which is faster; a subclass may set ``tensor_io`` either way.
    """

    parents = None
    saved_tensors = ()
    tensor_hooks = None
    retained = None
    tensor_io = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "tensor_io" not in cls.__dict__:
            cls.tensor_io = not cls.__module__.startswith("npgrad.")

    def save_for_backward(self, *arrays):
        """Keep ``arrays`` for ``backward`` (read back as ``ctx.saved_tensors``)."""
        self.saved_tensors = arrays

    def mark_non_differentiable(self, *outputs):
        """Accepted for PyTorch compatibility (npgrad ops have one output)."""

    def set_materialize_grads(self, value):
        """Accepted for PyTorch compatibility (gradients always arrive materialised)."""

    @classmethod
    def apply(cls, *inputs, **attrs):
        """Run ``forward`` on the inputs' arrays and, in grad mode, record the op in the graph."""
        ctx = cls.__new__(cls)
        arrays, needs_grad, edges, versions = [], [], [], []
        for item in inputs:  # one pass: this loop runs for every op, so it is kept lean
            if isinstance(item, Tensor):
                arrays.append(item._data)
                # every tensor's version, with grad or not: a constant (a label) modified in
                # place before this op is fine, after it is not
                versions.append(item._version[0])
                if item.requires_grad:
                    needs_grad.append(True)
                    edges.append(item if item._ctx is None else item._ctx)
                    continue
            else:
                arrays.append(item)
                versions.append(0)
            needs_grad.append(False)
            edges.append(None)
        ctx.needs_input_grad = needs_grad
        event = None if _profiler is None else _profiler.begin(cls.__name__, arrays)
        try:
            if cls.tensor_io:
                out = _tensor_forward(cls, ctx, inputs, attrs)
            else:
                out = cls.forward(ctx, *arrays, **attrs)
        except ValueError as error:
            if isinstance(error, NpgradError):
                raise
            shapes = ", ".join(str(getattr(a, "shape", type(a).__name__)) for a in arrays)
            raise ShapeError(f"{cls.__name__.lower()}: {error} (input shapes: {shapes})") from error
        finally:
            if event is not None:
                _profiler.end(event)
        if type(out) is not xp.ndarray:
            out = xp.asarray(out)  # NumPy returns scalars from 0-d math; tensors hold arrays
        if not (_grad_enabled and True in needs_grad):
            return Tensor._wrap(out)
        ctx.parents, ctx.edges, ctx.versions = inputs, edges, versions
        result = Tensor._wrap(out, ctx)
        ctx.output_version = result._version
        ctx.output_id = id(out)
        return result

    @staticmethod
    def forward(ctx, *arrays, **attrs):
        raise NotImplementedError

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError

    def __repr__(self):
        return f"<{self.name()}>"

    def name(self):
        """The op's name as PyTorch prints it, e.g. ``MulBackward``."""
        return f"{type(self).__name__}Backward"

    @property
    def next_functions(self):
        """The graph's next nodes, as PyTorch lists them: ``(node, 0)`` per input, the node an
        op's backward, ``AccumulateGrad`` for a leaf that requires grad, None otherwise."""
        return tuple(
            (_AccumulateGrad(edge) if isinstance(edge, Tensor) else edge, 0) for edge in self.edges
        )


class _AccumulateGrad:
    """The graph node of a leaf tensor: backward accumulates into ``variable.grad``."""

    def __init__(self, variable):
        self.variable = variable

    def name(self):
        return "AccumulateGrad"

    next_functions = ()

    def __repr__(self):
        return "<AccumulateGrad>"


def _tensor_forward(cls, ctx, inputs, attrs):
    """Run a tensor_io forward: Tensors in (detached views), an array out, nothing recorded."""
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, False
    try:
        detached = [item.detach() if isinstance(item, Tensor) else item for item in inputs]
        out = cls.forward(ctx, *detached, **attrs)
    finally:
        _grad_enabled = previous
    return out._data if isinstance(out, Tensor) else out


def _tensor_backward(ctx, grad):
    """Run a tensor_io backward: a Tensor gradient in, arrays (or None) out."""
    input_grads = ctx.backward(ctx, Tensor._wrap(grad))
    if not isinstance(input_grads, tuple):
        input_grads = (input_grads,)
    return tuple(g._data if isinstance(g, Tensor) else g for g in input_grads)


def _node(tensor):
    """The graph node a gradient for ``tensor`` arrives at: the op that made it, or the tensor
    itself when it is a leaf."""
    return tensor if tensor._ctx is None else tensor._ctx


def _topological_order(root, boundary=()):
    """Graph nodes reachable from ``root``, each after every node that feeds it a gradient.

    An iterative depth-first search that emits an op once all its inputs are expanded
    (post-order), then reverses the list. A node is marked when it is expanded, not when it is
    pushed, so a node reached along two paths still comes after both. Leaves (and ``boundary``
    nodes, where the caller wants the walk to end) have no inputs: they go last, in the order
    they were reached.
    """
    order, leaves = [], []
    expanded = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if node is None:  # the marker pushed above an op: all its inputs are expanded now
            order.append(stack.pop())
            continue
        key = id(node)
        if key in expanded:
            continue
        expanded.add(key)
        if isinstance(node, Tensor) or key in boundary:
            leaves.append(node)
            continue
        if node.parents is None:
            raise GradientError(
                f"Trying to backward through the graph a second time (through {node.name()}): "
                "its saved arrays were freed by the first backward(). "
                "Pass retain_graph=True to the first backward() if you need to call it twice."
            )
        stack.append(node)
        stack.append(None)
        for edge in node.edges:
            if edge is not None and id(edge) not in expanded:
                stack.append(edge)
    order.reverse()
    order += leaves
    return order


def _unbroadcast(grad, shape, ctx):
    """Sum ``grad`` over the axes that broadcasting added or stretched, back to ``shape`` (an
    array, or a gradient Tensor under create_graph, whose sums then stay in the graph)."""
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    if grad.ndim == len(shape):
        stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
        if stretched:
            if isinstance(grad, Tensor):
                grad = grad.sum(dim=stretched, keepdim=True)
            else:
                grad = grad.sum(axis=stretched, keepdims=True)
    if grad.shape != tuple(shape):
        raise ShapeError(
            f"{ctx.name()} returned a gradient of shape {tuple(grad.shape)} for an input of shape "
            f"{tuple(shape)}; the shapes cannot be reconciled by summing broadcast axes"
        )
    return grad


def _modified_in_place_error(ctx, what, shape, version, expected):
    return GradientError(
        f"one of the arrays needed by {ctx.name()} ({what}, shape {shape}) was modified by an "
        f"in-place operation after the forward pass: it is at version {version}, expected "
        f"{expected}. Make the in-place op out-of-place (x = x * 2 instead of x *= 2), or "
        "clone() the tensor before modifying it."
    )


def _check_saved_unmodified(ctx):
    """Raise if an array saved for backward was modified in place after it was saved."""
    saved = ctx.saved_tensors
    if not saved:
        return
    if ctx.tensor_io:
        saved = [getattr(item, "_data", item) for item in saved]  # they save Tensors
    if ctx.output_version[0] and any(id(array) == ctx.output_id for array in saved):
        raise _modified_in_place_error(ctx, "its output", "", ctx.output_version[0], 0)
    for parent, version in zip(ctx.parents, ctx.versions, strict=True):
        if (
            isinstance(parent, Tensor)
            and parent._version[0] != version
            and any(array is parent._data for array in saved)
        ):
            raise _modified_in_place_error(
                ctx, "an input", parent.shape, parent._version[0], version
            )


def _owned(grad, dtype, handed_out):
    """``grad`` if nothing else can see it, else a private copy (leaf grads accumulate in place)."""
    if (
        (grad.base is not None and not buffers.is_whole(grad))
        or not grad.flags.writeable
        or grad.dtype != dtype
        or id(grad) in handed_out
    ):
        copy = buffers.empty_like(grad, dtype)  # (keeps the layout, as xp.array would)
        copy[...] = grad
        grad = copy
    handed_out.add(id(grad))
    return grad


def _run_hooks(hooks, grad):
    """Call gradient hooks in order; a hook may return a replacement gradient. ``grad`` is an
    array, or under create_graph a Tensor in the graph, and the result is of the same kind."""
    in_graph = isinstance(grad, Tensor)
    for hook in list(hooks.values()):  # (a dict by handle id; a hook may remove itself)
        replaced = hook(grad if in_graph else Tensor._wrap(grad))
        if replaced is not None:
            replaced = (
                replaced if isinstance(replaced, Tensor) else Tensor._wrap(xp.asarray(replaced))
            )
            grad = replaced if in_graph else replaced._data
    return grad


def _store_grad(tensor, grad, handed_out):
    """Accumulate ``grad`` into ``tensor.grad`` (PyTorch semantics: add, do not overwrite)."""
    if tensor.grad is None:
        tensor.grad = Tensor._wrap(_owned(grad, tensor._data.dtype, handed_out))
    elif tensor.grad.requires_grad:  # a gradient from create_graph, part of a graph: not in place
        tensor.grad = Tensor._wrap(tensor.grad._data + grad)
    else:
        tensor.grad._data += grad


def _accumulate_in_graph(tensor, grad):
    """``tensor.grad += grad`` for gradient Tensors under create_graph: out of place, so that
    the sum stays in the graph (PyTorch's AccumulateGrad does the same)."""
    tensor.grad = grad if tensor.grad is None else tensor.grad + grad


def _check_finite(ctx, index, parent, grad):
    """With anomaly detection on: raise if an op's backward produced NaN or inf."""
    if not xp.isfinite(grad).all():
        bad = int((~xp.isfinite(grad)).sum())
        raise GradientError(
            f"{ctx.name()} returned {bad} NaN/inf values in the gradient of its input {index} "
            f"(shape {parent.shape}); the forward op {type(ctx).__name__} is where the numbers "
            "went wrong (e.g. log of 0, sqrt of a negative, overflow)"
        )


def backward(tensor, gradient=None, retain_graph=None, create_graph=False, _capture=None):
    """Compute the gradient of ``tensor`` with respect to every leaf that requires grad.

    Matches ``torch.autograd.backward`` for one tensor: leaves accumulate into ``.grad`` (add, not
    overwrite), non-leaf tensors get ``.grad`` only after ``retain_grad()``.

    Args:
        tensor: the output to differentiate, usually a scalar loss.
        gradient: d(something)/d(tensor), same shape as ``tensor``; may be omitted for a scalar.
        retain_graph: keep the saved arrays so that backward can run through this graph again
            (default: ``create_graph``).
        create_graph: record the gradients in a graph of their own, so that they can be
            differentiated again (gradient penalties, Hessian-vector products).
        _capture: internal (``grad``): a dict of node ids whose incoming gradient to record
            instead of accumulating anything into ``.grad``.

    Raises:
        GradientError: ``tensor`` does not require grad, is not a scalar and no ``gradient`` was
            given, or the graph was already freed by an earlier backward.
    """
    if not tensor.requires_grad:
        raise GradientError(
            f"backward(): the tensor of shape {tensor.shape} does not require grad and has no "
            "grad_fn; create the inputs with requires_grad=True (and not inside no_grad())"
        )
    if gradient is None:
        if tensor._data.size != 1:
            raise GradientError(
                f"backward(): grad can be implicitly created only for scalar outputs, but the "
                f"output has shape {tensor.shape}; call .sum() or .mean() first, or pass "
                "gradient= of that shape"
            )
        seed = xp.ones_like(tensor._data)
    else:
        seed = xp.array(gradient._data if isinstance(gradient, Tensor) else gradient)
        if seed.shape != tensor.shape:
            raise ShapeError(
                f"backward(): gradient has shape {seed.shape} but the output has shape "
                f"{tensor.shape}; they must be equal"
            )
        seed = seed.astype(tensor.dtype, copy=False)

    root = _node(tensor)
    if retain_graph is None:
        retain_graph = create_graph
    if create_graph:
        if not (isinstance(gradient, Tensor) and gradient.shape == tensor.shape):
            gradient = Tensor._wrap(seed)
        elif gradient.dtype != tensor.dtype:
            gradient = gradient.to(tensor.dtype)
        _backward_graph(root, gradient, retain_graph, _capture)
        return
    grads = {id(root): seed}
    handed_out = set()
    for node in _topological_order(root):
        grad = grads.pop(id(node), None)
        if grad is None:
            continue
        if _capture is not None:
            if id(node) in _capture:
                _capture[id(node)] = grad
            if isinstance(node, Tensor):
                continue  # autograd.grad leaves .grad alone
        elif isinstance(node, Tensor):  # a leaf: accumulate into .grad
            if node._hooks:
                grad = _run_hooks(node._hooks, grad)
            _store_grad(node, grad, handed_out)
            continue
        ctx = node
        if ctx.tensor_hooks:
            grad = _run_hooks(ctx.tensor_hooks, grad)
        if _capture is None and ctx.retained is not None and ctx.retained() is not None:
            _store_grad(ctx.retained(), grad, handed_out)
        _check_saved_unmodified(ctx)
        if _profiler is not None:
            input_grads = _profiled_backward(ctx, grad)
        else:
            input_grads = _tensor_backward(ctx, grad) if ctx.tensor_io else ctx.backward(ctx, grad)
        if not isinstance(input_grads, tuple):
            input_grads = (input_grads,)
        for index, (edge, parent, parent_grad) in enumerate(
            zip(ctx.edges, ctx.parents, input_grads, strict=False)
        ):
            if edge is None or parent_grad is None:
                continue
            if type(parent_grad) is not xp.ndarray:
                parent_grad = xp.asarray(parent_grad)
            if parent_grad.dtype != parent._data.dtype:
                parent_grad = parent_grad.astype(parent._data.dtype)  # grads keep the input's dtype
            if parent_grad.shape != parent._data.shape:
                parent_grad = _unbroadcast(parent_grad, parent._data.shape, ctx)
            if _detect_anomaly:
                _check_finite(ctx, index, parent, parent_grad)
            key = id(edge)
            if key in grads:
                grads[key] = buffers.arithmetic(xp.add, grads[key], parent_grad)
            else:
                grads[key] = parent_grad
        if not retain_graph:
            _release(ctx)


def _profiled_backward(ctx, grad):
    """An op's backward, timed for the profiler (under the op's grad_fn name)."""
    event = _profiler.begin(ctx.name(), (grad,))
    try:
        return _tensor_backward(ctx, grad) if ctx.tensor_io else ctx.backward(ctx, grad)
    finally:
        _profiler.end(event)


def _release(ctx):
    """Free what a node saved for backward; a second backward through it then raises."""
    ctx.saved_tensors = ()
    ctx.parents = None
    ctx.edges = None


def _backward_graph(root, seed, retain_graph, capture, boundary=()):
    """``backward`` with ``create_graph=True``: the same walk, on gradient Tensors that record a
    graph of their own, so that they can be differentiated again.

    Each op's gradients come from its ``backward_graph`` (Tensor ops), a tensor_io Function's
    ``backward`` run with grad mode on, or, for an op with neither, :class:`_FirstOrderOnly`.
    Leaves get ``.grad = .grad + gradient`` out of place (the sum stays in the graph), as
    PyTorch's do under ``create_graph``. The walk does not go past the nodes in ``boundary``
    (``recomputed_backward``'s inputs).
    """
    global _grad_enabled
    previous, _grad_enabled = _grad_enabled, True
    try:
        grads = {id(root): seed}
        for node in _topological_order(root, boundary):
            grad = grads.pop(id(node), None)
            if grad is None:
                continue
            if capture is not None:
                if id(node) in capture:
                    capture[id(node)] = grad
                if isinstance(node, Tensor) or id(node) in boundary:
                    continue
            elif isinstance(node, Tensor):
                if node._hooks:
                    grad = _run_hooks(node._hooks, grad)
                _accumulate_in_graph(node, grad)
                continue
            ctx = node
            if ctx.tensor_hooks:
                grad = _run_hooks(ctx.tensor_hooks, grad)
            if capture is None and ctx.retained is not None and ctx.retained() is not None:
                _accumulate_in_graph(ctx.retained(), grad)
            _check_saved_unmodified(ctx)
            input_grads = _graph_input_grads(ctx, grad)
            for index, (edge, parent, parent_grad) in enumerate(
                zip(ctx.edges, ctx.parents, input_grads, strict=False)
            ):
                if edge is None or parent_grad is None:
                    continue
                if not isinstance(parent_grad, Tensor):
                    parent_grad = Tensor._wrap(xp.asarray(parent_grad))
                if parent_grad.dtype != parent._data.dtype:
                    parent_grad = parent_grad.to(parent._data.dtype)
                if parent_grad.shape != parent._data.shape:
                    parent_grad = _unbroadcast(parent_grad, parent._data.shape, ctx)
                if _detect_anomaly:
                    _check_finite(ctx, index, parent, parent_grad._data)
                key = id(edge)
                grads[key] = grads[key] + parent_grad if key in grads else parent_grad
            if not retain_graph:
                _release(ctx)
    finally:
        _grad_enabled = previous


def _graph_input_grads(ctx, grad):
    """One op's input gradients as Tensors in the graph (see ``_backward_graph``)."""
    if ctx.tensor_io:  # a user's Function: its backward is Tensor code already
        saved = ctx.saved_tensors
        # forward saw detached inputs; backward should see the real ones, graph and all
        ctx.saved_tensors = tuple(_reattached(item, ctx.parents) for item in saved)
        try:
            input_grads = ctx.backward(ctx, grad)
        finally:
            ctx.saved_tensors = saved
    elif hasattr(ctx, "backward_graph"):
        input_grads = ctx.backward_graph(ctx, grad, *ctx.parents)
    else:
        arrays = ctx.backward(ctx, grad._data)
        if not isinstance(arrays, tuple):
            arrays = (arrays,)
        sources = [grad, *(p for p in ctx.parents if isinstance(p, Tensor) and p.requires_grad)]
        input_grads = tuple(
            None if array is None else _FirstOrderOnly.apply(*sources, value=array, op=ctx.name())
            for array in arrays
        )
    return input_grads if isinstance(input_grads, tuple) else (input_grads,)


def _reattached(item, parents):
    """The input Tensor that a tensor_io forward saw as the detached ``item``, else ``item``."""
    for parent in parents:
        if isinstance(parent, Tensor) and isinstance(item, Tensor) and item._data is parent._data:
            return parent
    return item


def recomputed_backward(ctx, grad, composite):
    """``backward_graph`` of a fused op that has a plain composite form: run
    ``composite(*inputs)`` (the op rebuilt from simpler differentiable ops) and backpropagate
    ``grad`` through it with ``create_graph``, stopping at the op's inputs. Costs a second
    forward, only when gradients of gradients are asked for."""
    output = composite(*ctx.parents)
    keys = {
        id(_node(parent)): None
        for parent in ctx.parents
        if isinstance(parent, Tensor) and parent.requires_grad
    }
    if output.requires_grad:
        _backward_graph(_node(output), grad, True, keys, boundary=keys)
    results, given = [], set()
    for parent in ctx.parents:  # an input passed twice gets its gradient once
        key = id(_node(parent)) if isinstance(parent, Tensor) else None
        results.append(keys.get(key) if key not in given else None)
        given.add(key)
    return tuple(results)


class _FirstOrderOnly(Function):
    """The gradient an op without ``backward_graph`` computed in NumPy, placed in the graph so
    that differentiating it again raises and names the op instead of returning a wrong zero."""

    @staticmethod
    def forward(ctx, *sources, value=None, op=None):
        ctx.op = op
        return value

    @staticmethod
    def backward(ctx, grad):
        raise NotImplementedError(
            f"double backward through {ctx.op}: npgrad has no second derivative for this op yet "
            "(create_graph=True works through the usual layers, activations, losses and "
            "element-wise, shape and reduction ops; see docs/pytorch.md)"
        )

    def name(self):
        return f"{self.op}Backward"


class _Transposed(Function):
    """g -> J^T g for an op that is linear in one input (reshape, indexing, gather, pooling
    windows with fixed winners): the op's own NumPy backward. The gradient of that is J v, the
    op's forward map applied to v, which the op passes in as ``forward_map``."""

    @staticmethod
    def forward(ctx, grad, op=None, which=0, forward_map=None):
        ctx.forward_map = forward_map
        result = op.backward(op, grad)
        return result[which] if isinstance(result, tuple) else result

    @staticmethod
    def backward(ctx, grad):
        return ctx.forward_map(grad)  # d(J^T g)/dg = J: the forward map


def linear_backward(ctx, grad, forward_map, which=0):
    """``backward_graph`` of an op linear in its input ``which``: its NumPy backward, recorded
    so that differentiating it again applies ``forward_map`` (arrays of the input's shape to
    arrays of the output's shape, the op's forward with its other arguments fixed)."""
    return _Transposed.apply(grad, op=ctx, which=which, forward_map=forward_map)


def array_of(value):
    """The array behind a tensor, or ``value`` itself (Python scalars stay weak): a constant
    operand of an op, a number or an array, as it is."""
    return value._data if isinstance(value, Tensor) else value


def constant_slope(ctx, grad):
    """``backward_graph`` of an element-wise op whose derivative is piecewise constant (ReLU,
    clamp, max, where): grad times the slope, the slope being the NumPy backward of ones, a
    constant (its own derivative is zero almost everywhere)."""
    slopes = ctx.backward(ctx, xp.ones(grad.shape, grad.dtype))
    if not isinstance(slopes, tuple):
        slopes = (slopes,)
    return tuple(None if slope is None else grad * slope for slope in slopes)


def grad(
    outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False
):
    """Gradients of ``outputs`` with respect to ``inputs``, returned instead of accumulated.

    Matches ``torch.autograd.grad``: no ``.grad`` is touched. With ``create_graph=True`` the
    gradients are recorded in a graph, so a gradient penalty or a Hessian-vector product can be
    differentiated again.

    Args:
        outputs: a tensor (or a one-element sequence) to differentiate, a scalar unless
            ``grad_outputs`` is given.
        inputs: a tensor or a sequence of tensors that require grad (leaves or not).
        grad_outputs: the gradient of something with respect to ``outputs``.
        retain_graph: keep the graph for another backward (default: ``create_graph``).
        create_graph: return gradients that carry a graph, to be differentiated again.
        allow_unused: return None for an input the outputs do not depend on (else raise).

    Returns:
        A tuple with one Tensor (or None) per input.

    >>> import npgrad
    >>> x = npgrad.tensor([1.0, 2.0], requires_grad=True)
    >>> (g,) = npgrad.autograd.grad((x * x).sum(), x)
    >>> g.tolist(), x.grad
    ([2.0, 4.0], None)
    """
    if isinstance(outputs, list | tuple):
        if len(outputs) != 1:
            raise NotImplementedError("grad: npgrad supports one output tensor per call")
        (outputs,) = outputs
        if isinstance(grad_outputs, list | tuple):
            (grad_outputs,) = grad_outputs
    single = isinstance(inputs, Tensor)
    inputs = [inputs] if single else list(inputs)
    keys = [_node(t) for t in inputs]
    capture = {id(key): None for key in keys}
    backward(outputs, grad_outputs, retain_graph, create_graph, _capture=capture)
    results = []
    for i, (tensor, key) in enumerate(zip(inputs, keys, strict=True)):
        found = capture[id(key)]
        if found is None and not allow_unused:
            raise GradientError(
                f"grad: input {i} (shape {tensor.shape}) was not used to compute the outputs; "
                "pass allow_unused=True to get None for it"
            )
        if found is None or isinstance(found, Tensor):  # (create_graph: a Tensor in the graph)
            results.append(found)
        else:
            results.append(Tensor._wrap(xp.array(found, dtype=tensor.dtype)))
    return tuple(results)


# Imported last: tensor.py builds on this module (Function, backward), and this module needs the
# Tensor class only at call time.
from npgrad.tensor import Tensor  # noqa: E402


def Variable(data, requires_grad=False, volatile=False):  # noqa: N802 - PyTorch's old name
    """PyTorch's pre-0.4 wrapper, kept there for old tutorials: a tensor is a Variable now, so
    this returns ``data`` as a tensor, requiring grad if asked."""
    result = data if isinstance(data, Tensor) else Tensor(data)
    return result.requires_grad_(requires_grad) if requires_grad else result


def __getattr__(name):
    if name in ("functional", "profiler"):  # torch.autograd's submodules, loaded on first use
        import importlib

        return importlib.import_module(f"npgrad.autograd.{name}")
    if name in ("gradcheck", "gradgradcheck"):  # torch.autograd.gradcheck and gradgradcheck
        from npgrad import diagnostics

        return getattr(diagnostics, name)
    raise AttributeError(f"module 'npgrad.autograd' has no attribute {name!r}")
