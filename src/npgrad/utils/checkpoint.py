"""Gradient checkpointing, as ``torch.utils.checkpoint``: trade compute for memory.

``checkpoint(function, *args)`` runs ``function`` without recording its graph (nothing it
computes inside is kept for backward) and runs it again, recording, when the gradient reaches it;
so a deep network's activations need not all be held at once. Dropout and other random draws
repeat exactly in the second run (the generator's state is saved, unless
``preserve_rng_state=False``). Parameters used inside ``function`` get their gradients as usual.
Gradients of gradients (``create_graph=True``) do not go through a checkpoint.
"""

from npgrad.autograd import Function, backward, enable_grad, is_grad_enabled
from npgrad.backend import get_rng_state, set_rng_state
from npgrad.tensor import Tensor
from npgrad.tensor import cat as _cat


def _floating(value):
    return isinstance(value, Tensor) and value.is_floating_point()


class _Checkpoint(Function):
    """The checkpointed call as one op: its output is every floating output of ``function``,
    flattened and concatenated (npgrad's ops have one output); ``checkpoint`` splits it again."""

    tensor_io = True

    @staticmethod
    def forward(
        ctx, *inputs, function=None, kwargs=None, names=(), preserve_rng_state=True, layout=None
    ):
        # the last len(names) inputs are the keyword arguments that are tensors (inputs, so
        # that they get gradients too); ``kwargs`` holds the others
        ctx.function, ctx.kwargs, ctx.names = function, kwargs, names
        ctx.rng_state = get_rng_state() if preserve_rng_state else None
        ctx.inputs = inputs  # (detached by the engine: no graph is kept alive through them)
        outputs = _call(function, inputs, kwargs, names)
        layout.append(outputs)  # the structure, for ``checkpoint`` to rebuild
        return _flat(outputs).detach()

    @staticmethod
    def backward(ctx, grad):
        inputs = [
            item.detach().requires_grad_(needs) if isinstance(item, Tensor) else item
            for item, needs in zip(ctx.inputs, ctx.needs_input_grad, strict=True)
        ]
        current = get_rng_state() if ctx.rng_state is not None else None
        try:
            if ctx.rng_state is not None:
                set_rng_state(ctx.rng_state)  # the same dropout masks as the first run
            with enable_grad():
                output = _flat(_call(ctx.function, inputs, ctx.kwargs, ctx.names))
                if output.requires_grad:
                    backward(output, grad)  # parameters inside accumulate their .grad here
        finally:
            if current is not None:
                set_rng_state(current)
        return tuple(
            item.grad if isinstance(item, Tensor) and item.requires_grad else None
            for item in inputs
        )


def _call(function, inputs, kwargs, names):
    """``function`` on the positional inputs, with the trailing ones as keyword ``names``."""
    split = len(inputs) - len(names)
    return function(*inputs[:split], **kwargs, **dict(zip(names, inputs[split:], strict=True)))


def _outputs(outputs):
    return list(outputs) if isinstance(outputs, tuple | list) else [outputs]


def _flat(outputs):
    """The floating tensors among ``outputs``, flattened into one (a float of their dtypes)."""
    pieces = [item.reshape(-1) for item in _outputs(outputs) if _floating(item)]
    if not pieces:
        raise TypeError("checkpoint: the function returned no floating-point tensor")
    dtype = pieces[0].dtype
    return _cat([piece.to(dtype) for piece in pieces]) if len(pieces) > 1 else pieces[0]


def checkpoint(function, *args, use_reentrant=None, preserve_rng_state=True, **kwargs):
    """``function(*args, **kwargs)``, its graph recomputed during backward instead of stored.

    ``function`` returns a tensor or a tuple/list of them (and other values). ``use_reentrant``
    is accepted for compatibility and changes nothing. Without any input that requires grad
    (under grad mode), the call runs normally: parameters inside still get gradients.
    """
    names = tuple(name for name, value in kwargs.items() if isinstance(value, Tensor))
    inputs = (*args, *(kwargs[name] for name in names))
    tensors_need_grad = any(isinstance(a, Tensor) and a.requires_grad for a in inputs)
    if not (is_grad_enabled() and tensors_need_grad):
        return function(*args, **kwargs)
    layout = []
    flat = _Checkpoint.apply(
        *inputs,
        function=function,
        kwargs={name: value for name, value in kwargs.items() if name not in names},
        names=names,
        preserve_rng_state=preserve_rng_state,
        layout=layout,
    )
    (outputs,) = layout
    rebuilt, offset = [], 0
    for item in _outputs(outputs):
        if _floating(item):
            piece = flat[offset : offset + item.numel()].reshape(item.shape).to(item.dtype)
            rebuilt.append(piece)
            offset += item.numel()
        else:
            rebuilt.append(item)
    if isinstance(outputs, tuple | list):
        return type(outputs)(rebuilt)
    return rebuilt[0]


def checkpoint_sequential(functions, segments, input, use_reentrant=None, **kwargs):  # noqa: A002
    """Run ``functions`` (an ``nn.Sequential`` or a list of modules) on ``input`` in ``segments``
    chunks, each checkpointed but the last, as ``torch.utils.checkpoint.checkpoint_sequential``."""
    functions = list(functions.children()) if hasattr(functions, "children") else list(functions)
    size = -(-len(functions) // segments) if segments else len(functions)

    def run(chunk):
        def forward(value):
            for module in chunk:
                value = module(value)
            return value

        return forward

    chunks = [functions[i : i + size] for i in range(0, len(functions), size)]
    for chunk in chunks[:-1]:
        input = checkpoint(run(chunk), input, **kwargs)  # noqa: A001
    return run(chunks[-1])(input) if chunks else input
