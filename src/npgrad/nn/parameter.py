"""``Parameter``: a tensor that a ``Module`` registers as learnable when assigned to it."""

from npgrad.tensor import Tensor, _to_array


class Parameter(Tensor):
    """A leaf tensor that requires grad and that ``Module`` collects in ``parameters()``.

    Matches ``torch.nn.Parameter``.

    >>> import npgrad
    >>> p = npgrad.nn.Parameter(npgrad.zeros(2))
    >>> p.requires_grad, p.is_leaf
    (True, True)
    """

    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        """Wrap ``data`` (a Tensor or array; an empty float tensor when None), sharing its array."""
        array = data._data if isinstance(data, Tensor) else _to_array([] if data is None else data)
        self._init_leaf(array, requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Buffer(Tensor):
    """A tensor that a ``Module`` registers as a buffer when assigned to it (saved in the state
    dict unless ``persistent=False``; no gradient), as ``torch.nn.Buffer``: ``self.mask =
    nn.Buffer(mask)`` is ``self.register_buffer("mask", mask)``. The module keeps a plain
    tensor sharing the data.

    >>> import npgrad
    >>> class Masked(npgrad.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.mask = npgrad.nn.Buffer(npgrad.ones(3))
    >>> list(Masked().state_dict())
    ['mask']
    """

    __slots__ = ("persistent",)

    def __init__(self, data=None, *, persistent=True):
        array = data._data if isinstance(data, Tensor) else _to_array([] if data is None else data)
        self._init_leaf(array, False)
        self.persistent = persistent
