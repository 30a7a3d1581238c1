"""Shape and regularisation layers: ``Flatten``, ``Unflatten``, ``Dropout``, ``Embedding``."""

from npgrad.nn import functional as F
from npgrad.nn import init
from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter
from npgrad.tensor import empty


class Flatten(Module):
    """Merge dims ``start_dim``..``end_dim`` (by default all but the batch dim).

    >>> import npgrad
    >>> npgrad.nn.Flatten()(npgrad.ones(2, 3, 4)).shape
    (2, 12)
    """

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):  # noqa: A002
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self):
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``."""

    def __init__(self, dim, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):  # noqa: A002
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self):
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zero elements with probability ``p`` in training, scaling the rest by 1/(1-p); off in eval.

    >>> import npgrad
    >>> drop = npgrad.nn.Dropout(0.5).eval()
    >>> drop(npgrad.ones(3)).tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
        self.p = p

    def forward(self, input):  # noqa: A002
        return F.dropout(input, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) input with probability ``p`` in training; off in eval."""

    def forward(self, input):  # noqa: A002
        return F.dropout2d(input, self.p, self.training)


class Embedding(Module):
    """A lookup table: integer indices (*) -> rows of ``weight`` (*, embedding_dim).

    ``weight`` starts as N(0, 1); the ``padding_idx`` row (if any) starts at zero and gets no
    gradient. Matches ``torch.nn.Embedding``.

    >>> import npgrad
    >>> table = npgrad.nn.Embedding(10, 3)
    >>> table(npgrad.tensor([[1, 2], [4, 9]])).shape
    (2, 2, 3)
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, dtype=None, device=None):
        super().__init__()
        if padding_idx is not None and padding_idx < 0:
            padding_idx += num_embeddings
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        self.padding_idx = padding_idx
        self.weight = Parameter(empty(num_embeddings, embedding_dim, dtype=dtype))
        self.reset_parameters()

    def reset_parameters(self):
        """N(0, 1), with the padding row zeroed."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            self.weight._data[self.padding_idx] = 0

    def forward(self, input):  # noqa: A002
        return F.embedding(input, self.weight, self.padding_idx)

    def extra_repr(self):
        padding = "" if self.padding_idx is None else f", padding_idx={self.padding_idx}"
        return f"{self.num_embeddings}, {self.embedding_dim}{padding}"
