"""Variable-length sequences for the recurrent layers, as ``torch.nn.utils.rnn``.

A ``PackedSequence`` holds a batch of sequences of different lengths without padding: the
samples sorted by length (longest first), their elements time step by time step in ``data``,
and ``batch_sizes[t]`` the number of sequences still running at step t. ``nn.LSTM``, ``nn.GRU``
and ``nn.RNN`` accept one: each sequence stops at its own length (its final state is taken
there) and a reverse direction starts at its own last element.

>>> import npgrad
>>> from npgrad.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
>>> padded = npgrad.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 0.0]]).unsqueeze(2)  # (N, T, 1)
>>> packed = pack_padded_sequence(padded, [3, 2], batch_first=True)
>>> packed.data.flatten().tolist(), packed.batch_sizes.tolist()
([1.0, 4.0, 2.0, 5.0, 3.0], [2, 2, 1])
>>> padded_again, lengths = pad_packed_sequence(packed, batch_first=True)
>>> lengths.tolist(), padded_again.shape
([3, 2], (2, 3, 1))
"""

from collections import namedtuple

import numpy

from npgrad.errors import ShapeError
from npgrad.tensor import _array_of, cat, stack, tensor, zeros

_Fields = namedtuple(
    "PackedSequence", ["data", "batch_sizes", "sorted_indices", "unsorted_indices"]
)


class PackedSequence(_Fields):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's. ``sorted_indices[j]``
    is the original batch position of the j-th longest sequence; ``unsorted_indices`` inverts
    it. Build one with ``pack_padded_sequence`` or ``pack_sequence``."""

    def __new__(cls, data, batch_sizes, sorted_indices=None, unsorted_indices=None):
        if sorted_indices is not None and unsorted_indices is None:
            unsorted_indices = tensor(numpy.argsort(_array_of(sorted_indices)))
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def lengths(self):
        """Each sequence's length, in sorted order (longest first), as a NumPy array."""
        sizes = numpy.asarray(_array_of(self.batch_sizes))
        return (sizes[None, :] > numpy.arange(sizes[0])[:, None]).sum(axis=1)

    def to(self, *args, **kwargs):
        """The same sequence with ``data`` converted (dtype; the device is always the CPU)."""
        return self._replace(data=self.data.to(*args, **kwargs))

    def double(self):
        return self._replace(data=self.data.double())

    def float(self):
        return self._replace(data=self.data.float())

    @property
    def is_cuda(self):
        return False


def _lengths_array(lengths, batch):
    lengths = numpy.asarray(_array_of(lengths), dtype=numpy.int64).reshape(-1)
    if lengths.shape[0] != batch:
        raise ShapeError(
            f"pack_padded_sequence: {lengths.shape[0]} lengths for a batch of {batch} sequences"
        )
    if batch and lengths.min() <= 0:
        raise ValueError(
            "pack_padded_sequence: every length must be at least 1 (empty sequences cannot be "
            f"packed), got {lengths.tolist()}"
        )
    return lengths


def _packed_positions(lengths_sorted):
    """(time steps, batch positions) of the packed elements, time step by time step."""
    steps = int(lengths_sorted[0]) if len(lengths_sorted) else 0
    active = lengths_sorted[None, :] > numpy.arange(steps)[:, None]  # (T, N)
    times, columns = numpy.nonzero(active)  # row-major: t first, then the sorted samples
    return times, columns, active.sum(axis=1)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):  # noqa: A002
    """Pack a padded batch (T, N, *) (``batch_first``: (N, T, *)) of sequences of ``lengths``.

    With ``enforce_sorted`` the lengths must be in decreasing order (as ONNX export wants);
    otherwise the batch is sorted here and the order remembered.
    """
    padded = input.transpose(0, 1) if batch_first else input
    lengths = _lengths_array(lengths, padded.shape[1])
    if lengths.max(initial=0) > padded.shape[0]:
        raise ShapeError(
            f"pack_padded_sequence: a length of {lengths.max()} is longer than the "
            f"{padded.shape[0]} time steps of input {tuple(input.shape)}"
        )
    if enforce_sorted:
        if (numpy.diff(lengths) > 0).any():
            raise ValueError(
                "pack_padded_sequence: lengths must be sorted in decreasing order with "
                f"enforce_sorted=True, got {lengths.tolist()} (pass enforce_sorted=False)"
            )
        order = None
    else:
        order = numpy.argsort(-lengths, kind="stable")
    sorted_lengths = lengths if order is None else lengths[order]
    times, columns, batch_sizes = _packed_positions(sorted_lengths)
    originals = columns if order is None else order[columns]
    data = padded[times, originals]
    sorted_indices = None if order is None else tensor(order)
    return PackedSequence(data, tensor(batch_sizes), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The padded batch (T, N, *) (``batch_first``: (N, T, *)) and the lengths of a
    ``PackedSequence``, in the original batch order."""
    padded, lengths = _padded_sorted(sequence, padding_value, total_length)
    if sequence.unsorted_indices is not None:
        order = _array_of(sequence.unsorted_indices)
        padded, lengths = padded[:, order], lengths[order]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, tensor(lengths)


def _padded_sorted(sequence, padding_value=0.0, total_length=None):
    """(padded (T, N, *) in sorted order, sorted lengths): a gather from ``data`` plus one
    padding row, so gradients flow back into ``data``."""
    lengths = sequence.lengths()
    steps = int(lengths[0]) if len(lengths) else 0
    if total_length is not None:
        if total_length < steps:
            raise ValueError(
                f"pad_packed_sequence: total_length {total_length} is shorter than the longest "
                f"sequence ({steps})"
            )
        steps = total_length
    times, columns, _ = _packed_positions(lengths)
    where = numpy.full((steps, len(lengths)), len(times))  # the padding row by default
    where[times, columns] = numpy.arange(len(times))
    data = sequence.data
    padding = zeros(1, *data.shape[1:], dtype=data.dtype) + padding_value
    return cat([data, padding])[where], lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into one (max L, N, *) (``batch_first``: (N, max L, *)),
    padding each on the right (or ``padding_side="left"``)."""
    if padding_side not in ("right", "left"):
        raise ValueError(
            f"pad_sequence: padding_side must be 'right' or 'left', got {padding_side!r}"
        )
    sequences = list(sequences)
    longest = max(s.shape[0] for s in sequences)
    padded = []
    for s in sequences:
        fill = zeros(longest - s.shape[0], *s.shape[1:], dtype=s.dtype) + padding_value
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s]))
    return stack(padded, dim=0 if batch_first else 1)


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors of shapes (L_i, *) (``pack_padded_sequence(pad_sequence(...))``)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of unpadded sequences of a padded batch."""
    padded = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [padded[i, : int(n)] for i, n in enumerate(numpy.asarray(_array_of(lengths)))]


def unpack_sequence(packed_sequences):
    """The list of sequences of a ``PackedSequence``, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
