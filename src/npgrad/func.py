"""Function transforms, as ``torch.func``: ``grad``, ``grad_and_value``, ``vmap``, ``jacrev``,
``jacfwd``, ``hessian``, ``vjp``, ``jvp`` and ``functional_call`` (a module run with parameters
you pass in). What the per-sample-gradient, ensembling and meta-learning recipes use:

>>> import npgrad
>>> from npgrad.func import functional_call, grad, vmap
>>> model = npgrad.nn.Linear(3, 1)
>>> params = {k: v.detach() for k, v in model.named_parameters()}
>>> def loss(params, x, y):
...     return ((functional_call(model, params, (x,)) - y) ** 2).mean()
>>> x, y = npgrad.randn(5, 3), npgrad.randn(5, 1)
>>> per_sample = vmap(grad(loss), in_dims=(None, 0, 0))(params, x, y)
>>> per_sample["weight"].shape
(5, 1, 3)

npgrad runs these eagerly on its autograd: ``vmap`` calls the function once per batch entry
and stacks the results (the values are PyTorch's; the speed is a Python loop's, so batch what
you can by hand), and ``jacfwd`` is computed in reverse mode. Nested transforms work:
``grad(grad(f))`` differentiates through the inner gradient (``create_graph``).
"""

from npgrad.autograd import enable_grad
from npgrad.autograd import functional as _functional
from npgrad.autograd import grad as _autograd_grad
from npgrad.tensor import Tensor, stack

__all__ = [
    "functional_call",
    "grad",
    "grad_and_value",
    "hessian",
    "jacfwd",
    "jacrev",
    "jvp",
    "vjp",
    "vmap",
]


# ----------------------------------------------------------------------- trees


def _flatten(tree):
    """(leaves, rebuild): the Tensors (and other values) of nested dicts, lists and tuples,
    and a function that puts new leaves back in the same structure."""
    if isinstance(tree, dict):
        parts = [_flatten(value) for value in tree.values()]
        keys = list(tree)
    elif isinstance(tree, list | tuple):
        parts = [_flatten(value) for value in tree]
        keys = None
    else:
        return [tree], lambda leaves: leaves[0]
    counts = [len(leaves) for leaves, _ in parts]

    def rebuild(leaves):
        values, start = [], 0
        for (_, rebuild_part), count in zip(parts, counts, strict=True):
            values.append(rebuild_part(leaves[start : start + count]))
            start += count
        if keys is not None:
            return dict(zip(keys, values, strict=True))
        return type(tree)(values) if isinstance(tree, tuple) else values

    return [leaf for leaves, _ in parts for leaf in leaves], rebuild


# ----------------------------------------------------------------------- functional_call


def functional_call(
    module, parameter_and_buffer_dicts, args=(), kwargs=None, *, tie_weights=True, strict=False
):
    """Run ``module(*args, **kwargs)`` with its parameters and buffers replaced by the tensors
    in ``parameter_and_buffer_dicts`` (one dict, or several; names as in ``state_dict``), then
    put the module's own back. Gradients flow into the tensors you passed."""
    dicts = (
        [parameter_and_buffer_dicts]
        if isinstance(parameter_and_buffer_dicts, dict)
        else list(parameter_and_buffer_dicts)
    )
    replacements = {name: value for mapping in dicts for name, value in mapping.items()}
    known = dict(module.named_parameters()) | {
        name: buffer for name, buffer in module.named_buffers()
    }
    unknown = [name for name in replacements if name not in known]
    missing = [name for name in known if name not in replacements]
    if unknown or (strict and missing):
        raise KeyError(
            f"functional_call: unexpected names {unknown}"
            + (f", missing names {missing}" if strict and missing else "")
        )
    saved = []
    try:
        for name, value in replacements.items():
            owner_name, _, attribute = name.rpartition(".")
            owner = module.get_submodule(owner_name) if owner_name else module
            registry = owner._parameters if attribute in owner._parameters else owner._buffers
            saved.append((registry, attribute, registry[attribute]))
            registry[attribute] = value
        args = args if isinstance(args, tuple) else (args,)
        return module(*args, **(kwargs or {}))
    finally:
        for registry, attribute, original in reversed(saved):
            registry[attribute] = original


# ----------------------------------------------------------------------- gradients


def _prepared(args, argnums):
    """The arguments with the differentiated ones' tensors made leaves that require grad (an
    input that already requires grad, from an outer transform, is kept so that the result
    stays differentiable with respect to it); returns them, the leaves per argnum, and
    whether to record the gradients' own graph."""
    args = list(args)
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    leaves_of, nested = {}, False
    for number in nums:
        leaves, rebuild = _flatten(args[number])
        for leaf in leaves:
            if not isinstance(leaf, Tensor):
                raise TypeError(
                    f"grad: argument {number} holds a {type(leaf).__name__}, not tensors"
                )
            nested = nested or leaf.requires_grad
        fresh = _functional._fresh(leaves, create_graph=True)
        args[number] = rebuild(fresh)
        leaves_of[number] = (fresh, rebuild)
    return args, nums, leaves_of, nested


def grad_and_value(func, argnums=0, has_aux=False):
    """``func``'s gradient with respect to argument(s) ``argnums`` (same structure: a tensor,
    a dict of them, ...) and its value: ``(gradient, value)``, or ``(gradient, (value, aux))``
    when ``func`` returns ``(value, aux)`` (``has_aux``)."""

    def wrapper(*args, **kwargs):
        with enable_grad():
            args, nums, leaves_of, nested = _prepared(args, argnums)
            result = func(*args, **kwargs)
            value, aux = result if has_aux else (result, None)
            if not isinstance(value, Tensor) or value.numel() != 1:
                shape = getattr(value, "shape", type(value).__name__)
                raise RuntimeError(f"grad: func must return a one-element tensor, got {shape}")
            leaves = [leaf for number in nums for leaf in leaves_of[number][0]]
            gradients = _autograd_grad(value, leaves, allow_unused=True, create_graph=nested)
        gradients = _functional._zeros_for_none(gradients, leaves)
        structured, start = [], 0
        for number in nums:
            fresh, rebuild = leaves_of[number]
            structured.append(rebuild(gradients[start : start + len(fresh)]))
            start += len(fresh)
        out = structured[0] if isinstance(argnums, int) else tuple(structured)
        value = value if nested else value.detach()
        return (out, (value, aux)) if has_aux else (out, value)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """The gradient of a one-element-output ``func`` with respect to argument(s) ``argnums``
    (``(gradient, aux)`` with ``has_aux``). Matches ``torch.func.grad``."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        gradient, value = both(*args, **kwargs)
        return (gradient, value[1]) if has_aux else gradient

    return wrapper


# ----------------------------------------------------------------------- vmap


def vmap(func, in_dims=0, out_dims=0, randomness="error", *, chunk_size=None):
    """``func`` mapped over a batch dimension: argument i is split along ``in_dims[i]`` (None:
    the same for every entry; an int for all), ``func`` runs on each entry, and the results
    are stacked along ``out_dims``. Matches ``torch.vmap``'s results (it runs a Python loop)."""

    def wrapper(*args, **kwargs):
        dims = in_dims if isinstance(in_dims, tuple) else (in_dims,) * len(args)
        if len(dims) != len(args):
            raise ValueError(f"vmap: in_dims has {len(dims)} entries for {len(args)} arguments")
        split, sizes = [], set()
        for arg, dim in zip(args, dims, strict=True):
            leaves, rebuild = _flatten(arg)
            leaf_dims = (
                _flatten(dim)[0] if isinstance(dim, dict | list | tuple) else [dim] * len(leaves)
            )
            for leaf, leaf_dim in zip(leaves, leaf_dims, strict=True):
                if leaf_dim is not None:
                    sizes.add(leaf.shape[leaf_dim])
            split.append((leaves, leaf_dims, rebuild))
        if len(sizes) != 1:
            raise ValueError(f"vmap: the mapped dims must have one size, got sizes {sorted(sizes)}")
        (size,) = sizes
        results = []
        for index in range(size):
            entry = [
                rebuild(
                    [
                        leaf if d is None else leaf[(slice(None),) * (d % leaf.ndim) + (index,)]
                        for leaf, d in zip(leaves, leaf_dims, strict=True)
                    ]
                )
                for leaves, leaf_dims, rebuild in split
            ]
            results.append(func(*entry, **kwargs))
        flat = [_flatten(result)[0] for result in results]
        rebuild = _flatten(results[0])[1]
        out_leaf_dims = (
            _flatten(out_dims)[0]
            if isinstance(out_dims, tuple | list)
            else [out_dims] * len(flat[0])
        )
        stacked = [
            stack([entry[position] for entry in flat], dim=out_leaf_dims[position])
            for position in range(len(flat[0]))
        ]
        return rebuild(stacked)

    return wrapper


# ----------------------------------------------------------------------- Jacobians


def _single_argument(func, args, argnums, name):
    if not isinstance(argnums, int):
        raise NotImplementedError(f"{name}: one argnum at a time in npgrad")
    args = list(args)

    def of_one(x):
        return func(*args[:argnums], x, *args[argnums + 1 :])

    return of_one, args[argnums]


def jacrev(func, argnums=0, has_aux=False):
    """The Jacobian of ``func`` with respect to argument ``argnums``, shape output + input."""
    if has_aux:
        raise NotImplementedError("jacrev: has_aux is not supported in npgrad")

    def wrapper(*args):
        of_one, x = _single_argument(func, args, argnums, "jacrev")
        return _functional.jacobian(of_one, x, create_graph=x.requires_grad)

    return wrapper


def jacfwd(func, argnums=0, has_aux=False, *, randomness="error"):
    """``jacrev``'s Jacobian (npgrad computes it in reverse mode)."""
    return jacrev(func, argnums, has_aux)


def hessian(func, argnums=0):
    """The Hessian of a one-element-output ``func`` with respect to argument ``argnums``."""

    def wrapper(*args):
        of_one, x = _single_argument(func, args, argnums, "hessian")
        return _functional.hessian(of_one, x, create_graph=x.requires_grad)

    return wrapper


def vjp(func, *primals, has_aux=False):
    """``(func(*primals), vjp_fn)``: ``vjp_fn(cotangent)`` gives each primal's v^T J."""
    with enable_grad():
        fresh = _functional._fresh(primals, create_graph=True)
        result = func(*fresh)
        output, aux = result if has_aux else (result, None)

    def vjp_fn(cotangent):
        with enable_grad():
            gradients = _autograd_grad(
                output, fresh, grad_outputs=cotangent, allow_unused=True, retain_graph=True
            )
        return _functional._zeros_for_none(gradients, fresh)

    return (output.detach(), vjp_fn, aux) if has_aux else (output.detach(), vjp_fn)


def jvp(func, primals, tangents, *, has_aux=False):
    """``(func(*primals), J v)`` for tangents v (one per primal)."""
    if has_aux:
        raise NotImplementedError("jvp: has_aux is not supported in npgrad")
    return _functional.jvp(func, tuple(primals), tuple(tangents))
