"""Recurrent layers: ``LSTM`` and ``GRU`` (stacked, bidirectional) and ``LSTMCell``, each over one
fused op per layer and direction."""

import math

import numpy

from npgrad.nn import functional as F
from npgrad.nn import init
from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter
from npgrad.nn.utils.rnn import PackedSequence, _packed_positions, _padded_sorted
from npgrad.ops.recurrent import GRU as _GRUOp
from npgrad.ops.recurrent import LSTM as _LSTMOp
from npgrad.ops.recurrent import RNN as _RNNOp
from npgrad.ops.recurrent import lstm_parts
from npgrad.tensor import Tensor, _array_of, cat, empty, stack, zeros


class _RecurrentBase(Module):
    """Shared body of LSTM and GRU: parameters per layer and direction, the layer/direction
    loop, batch_first, dropout between layers and unbatched input. A subclass sets ``gates``
    and ``op`` and says how its state goes in and out."""

    gates = 4
    op = None

    def __init__(
        self,
        input_size,
        hidden_size,
        num_layers=1,
        bias=True,
        batch_first=False,
        dropout=0.0,
        bidirectional=False,
        proj_size=0,
        dtype=None,
        device=None,
    ):
        super().__init__()
        if proj_size and type(self).__name__ != "LSTM":
            raise ValueError(f"{type(self).__name__}: proj_size is only supported for LSTM")
        if not 0 <= proj_size < hidden_size or proj_size != int(proj_size):
            raise ValueError(
                f"{type(self).__name__}: proj_size must be an int in [0, hidden_size), got "
                f"{proj_size}"
            )
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout must be in [0, 1], got {dropout}")
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, dropout
        self.bidirectional, self.proj_size = bidirectional, proj_size
        directions = 2 if bidirectional else 1
        gate_size = self.gates * hidden_size
        out_size = proj_size or hidden_size  # the size of h (and of each layer's output)
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else out_size * directions
            for suffix in ["", "_reverse"][:directions]:
                name = f"l{layer}{suffix}"
                self.register_parameter(
                    f"weight_ih_{name}", Parameter(empty(gate_size, layer_input, dtype=dtype))
                )
                self.register_parameter(
                    f"weight_hh_{name}", Parameter(empty(gate_size, out_size, dtype=dtype))
                )
                if bias:
                    self.register_parameter(
                        f"bias_ih_{name}", Parameter(empty(gate_size, dtype=dtype))
                    )
                    self.register_parameter(
                        f"bias_hh_{name}", Parameter(empty(gate_size, dtype=dtype))
                    )
                if proj_size:
                    self.register_parameter(
                        f"weight_hr_{name}", Parameter(empty(proj_size, hidden_size, dtype=dtype))
                    )
        self.reset_parameters()

    def reset_parameters(self):
        """Every weight and bias U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        bound = 1 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _layer_params(self, name):
        bias = (
            (getattr(self, f"bias_ih_{name}"), getattr(self, f"bias_hh_{name}"))
            if self.bias
            else ()
        )
        if self.proj_size:  # the op takes the biases' places (None when absent), then W_hr
            bias = (*(bias or (None, None)), getattr(self, f"weight_hr_{name}"))
        return (getattr(self, f"weight_ih_{name}"), getattr(self, f"weight_hh_{name}"), *bias)

    def _state_shapes(self, batch):
        """The initial states' shapes: h's, then (LSTM) c's."""
        layers = self.num_layers * (2 if self.bidirectional else 1)
        return [(layers, batch, self.proj_size or self.hidden_size)]

    def forward(self, input, hx=None):  # noqa: A002
        if isinstance(input, PackedSequence):
            return self._forward_packed(input, hx)
        unbatched = input.ndim == 2
        if unbatched:
            input = input.unsqueeze(1)  # noqa: A001
        elif self.batch_first:
            input = input.transpose(0, 1)  # noqa: A001
        directions = 2 if self.bidirectional else 1
        states = self._initial_states(
            hx, self._state_shapes(input.shape[1]), input.dtype, unbatched
        )
        steps = input.shape[0]
        finals = [[] for _ in states]  # per state kind (h, and c for LSTM): one per layer/direction
        layer_input = input
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(["", "_reverse"][:directions]):
                index = layer * directions + direction
                sequence, last = self._run(
                    layer_input,
                    [state[index] for state in states],
                    self._layer_params(f"l{layer}{suffix}"),
                    bool(direction),
                    steps,
                )
                outputs.append(sequence)
                for kind, value in zip(finals, last, strict=True):
                    kind.append(value)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        output = layer_input
        finals = [stack(kind) for kind in finals]
        if unbatched:
            output, finals = output.squeeze(1), [f.squeeze(1) for f in finals]
        elif self.batch_first:
            output = output.transpose(0, 1)
        return output, self._pack_states(finals)

    def _forward_packed(self, packed, hx):
        """Sequences of different lengths: run on the padded batch (sorted by length), each
        sequence's final state taken at its own last step, its reverse direction run on it
        reversed within its length, and the padding's outputs zeroed. Outputs at a sequence's
        own steps never depend on the padding after it, so nothing else needs masking."""
        padded, lengths = _padded_sorted(packed)  # (T, N, I), longest first
        steps, batch = padded.shape[:2]
        directions = 2 if self.bidirectional else 1
        if hx is not None and packed.sorted_indices is not None:  # given in the original order
            order = _array_of(packed.sorted_indices)
            hx = tuple(h[:, order] for h in hx) if isinstance(hx, tuple) else hx[:, order]
        states = self._initial_states(hx, self._state_shapes(batch), padded.dtype, False)
        time = numpy.arange(steps)[:, None]
        valid = time < lengths[None, :]  # (T, N)
        keep = Tensor(valid[:, :, None].astype(padded.dtype))
        flipped = (numpy.where(valid, lengths[None, :] - 1 - time, time), numpy.arange(batch))
        finals = [[] for _ in states]
        layer_input = padded
        for layer in range(self.num_layers):
            outputs = []
            for direction, suffix in enumerate(["", "_reverse"][:directions]):
                index = layer * directions + direction
                source = layer_input[flipped] if direction else layer_input
                sequence, last = self._run(
                    source,
                    [state[index] for state in states],
                    self._layer_params(f"l{layer}{suffix}"),
                    False,
                    steps,
                    last=lengths - 1,
                )
                sequence = sequence * keep
                outputs.append(sequence[flipped] if direction else sequence)
                for kind, value in zip(finals, last, strict=True):
                    kind.append(value)
            layer_input = outputs[0] if directions == 1 else cat(outputs, dim=2)
            if self.dropout and self.training and layer < self.num_layers - 1:
                layer_input = F.dropout(layer_input, self.dropout)
        times, columns, _ = _packed_positions(lengths)
        output = packed._replace(data=layer_input[times, columns])
        finals = [stack(kind) for kind in finals]
        if packed.unsorted_indices is not None:  # back to the original batch order
            order = _array_of(packed.unsorted_indices)
            finals = [f[:, order] for f in finals]
        return output, self._pack_states(finals)

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for name in ("batch_first", "bidirectional"):
            if getattr(self, name):
                text += f", {name}=True"
        if not self.bias:
            text += ", bias=False"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.proj_size:
            text += f", proj_size={self.proj_size}"
        return text


class LSTM(_RecurrentBase):
    """A multi-layer LSTM over (T, N, input_size) sequences (``batch_first``: (N, T, ...)).

    Matches ``torch.nn.LSTM``: parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``,
    ``bias_ih_l{k}``, ``bias_hh_l{k}`` (and ``_reverse`` ones when bidirectional) with gates
    ordered [input, forget, cell, output], all initialised U(-1/sqrt(H), 1/sqrt(H)); returns
    ``output, (h_n, c_n)``. With ``proj_size`` P, h_t = W_hr (o * tanh(c_t)) through
    ``weight_hr_l{k}`` (P, H): the output and h_n have P features, c_n keeps H.

    >>> import npgrad
    >>> lstm = npgrad.nn.LSTM(8, 16, num_layers=2, batch_first=True)
    >>> output, (h_n, c_n) = lstm(npgrad.randn(4, 10, 8))
    >>> output.shape, h_n.shape
    ((4, 10, 16), (2, 4, 16))
    """

    gates = 4

    def _state_shapes(self, batch):
        (h_shape,) = super()._state_shapes(batch)
        return [h_shape, (*h_shape[:2], self.hidden_size)]

    def _initial_states(self, hx, shapes, dtype, unbatched):
        if hx is None:
            return [zeros(*shape, dtype=dtype) for shape in shapes]
        return [t.unsqueeze(1) if unbatched else t for t in hx]

    def _run(self, layer_input, states, params, reverse, steps, last=None):
        if self.proj_size:  # the op's output is flat: h's and c's have different sizes
            result = _LSTMOp.apply(
                layer_input, *states, *params, reverse=reverse, all_cells=last is not None
            )
            sequence, cells = lstm_parts(
                result, steps, layer_input.shape[1], self.proj_size, self.hidden_size, True
            )
            if last is not None:
                columns = numpy.arange(layer_input.shape[1])
                return sequence, (sequence[last, columns], cells[last, columns])
            return sequence, (sequence[0] if reverse else sequence[steps - 1], cells[0])
        if last is not None:  # per-sequence last steps: every cell state is needed
            result = _LSTMOp.apply(layer_input, *states, *params, all_cells=True)
            columns = numpy.arange(layer_input.shape[1])
            return result[:steps], (result[last, columns], result[steps + last, columns])
        result = _LSTMOp.apply(layer_input, *states, *params, reverse=reverse)
        # h_n straight from the op's output (not from `sequence`): one indexing node less
        last = result[0] if reverse else result[steps - 1]
        return result[:steps], (last, result[steps])

    def _pack_states(self, finals):
        return tuple(finals)


class GRU(_RecurrentBase):
    """A multi-layer GRU over (T, N, input_size) sequences (``batch_first``: (N, T, ...)).

    Matches ``torch.nn.GRU`` (gates ordered [reset, update, new], the reset gate applied to
    ``h W_hn + b_hn``); returns ``output, h_n``.

    >>> import npgrad
    >>> gru = npgrad.nn.GRU(8, 16, bidirectional=True)
    >>> output, h_n = gru(npgrad.randn(10, 4, 8))
    >>> output.shape, h_n.shape
    ((10, 4, 32), (2, 4, 16))
    """

    gates = 3

    def _initial_states(self, hx, shapes, dtype, unbatched):
        if hx is None:
            return [zeros(*shapes[0], dtype=dtype)]
        return [hx.unsqueeze(1) if unbatched else hx]

    def _run(self, layer_input, states, params, reverse, steps, last=None):
        sequence = _GRUOp.apply(layer_input, *states, *params, reverse=reverse)
        return sequence, (_final(sequence, reverse, steps, last),)

    def _pack_states(self, finals):
        return finals[0]


class RNN(_RecurrentBase):
    """A multi-layer Elman RNN, h_t = tanh (or relu) of x_t W_ih + h_{t-1} W_hh + biases.

    Matches ``torch.nn.RNN``; returns ``output, h_n``.

    >>> import npgrad
    >>> rnn = npgrad.nn.RNN(8, 16, num_layers=2, nonlinearity="relu")
    >>> output, h_n = rnn(npgrad.randn(10, 4, 8))
    >>> output.shape, h_n.shape
    ((10, 4, 16), (2, 4, 16))
    """

    gates = 1

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", *args, **kwargs):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__(input_size, hidden_size, num_layers, *args, **kwargs)
        self.nonlinearity = nonlinearity

    def _initial_states(self, hx, shapes, dtype, unbatched):
        if hx is None:
            return [zeros(*shapes[0], dtype=dtype)]
        return [hx.unsqueeze(1) if unbatched else hx]

    def _run(self, layer_input, states, params, reverse, steps, last=None):
        sequence = _RNNOp.apply(
            layer_input, *states, *params, reverse=reverse, nonlinearity=self.nonlinearity
        )
        return sequence, (_final(sequence, reverse, steps, last),)

    def _pack_states(self, finals):
        return finals[0]

    def extra_repr(self):
        text = super().extra_repr()
        return text if self.nonlinearity == "tanh" else f"{text}, nonlinearity='relu'"


def _final(sequence, reverse, steps, last):
    """The final hidden state in a sequence of them: at step T (step 1 in reverse), or at each
    sequence's own ``last`` step."""
    if last is not None:
        return sequence[last, numpy.arange(sequence.shape[1])]
    return sequence[0] if reverse else sequence[steps - 1]


class _CellBase(Module):
    """Shared body of the single-step cells: weight_ih, weight_hh, bias_ih, bias_hh."""

    gates = 1

    def __init__(self, input_size, hidden_size, bias=True, dtype=None, device=None):
        super().__init__()
        self.input_size, self.hidden_size = input_size, hidden_size
        gate_size = self.gates * hidden_size
        self.weight_ih = Parameter(empty(gate_size, input_size, dtype=dtype))
        self.weight_hh = Parameter(empty(gate_size, hidden_size, dtype=dtype))
        if bias:
            self.bias_ih = Parameter(empty(gate_size, dtype=dtype))
            self.bias_hh = Parameter(empty(gate_size, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        bound = 1 / math.sqrt(hidden_size) if hidden_size > 0 else 0
        for param in self.parameters():
            init.uniform_(param, -bound, bound)

    def _step(self, op, input, h, **attrs):  # noqa: A002
        """One step of ``op`` on (N, I) input from state h: the sequence op with T = 1."""
        unbatched = input.ndim == 1
        if unbatched:
            input, h = input.unsqueeze(0), h.unsqueeze(0) if h is not None else None  # noqa: A001
        if h is None:
            h = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        out = op.apply(
            input.unsqueeze(0),
            h,
            self.weight_ih,
            self.weight_hh,
            self.bias_ih,
            self.bias_hh,
            **attrs,
        )[0]
        return out.squeeze(0) if unbatched else out

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}"


class GRUCell(_CellBase):
    """One GRU step: (input (N, I), h) -> h'. Matches ``torch.nn.GRUCell``."""

    gates = 3

    def forward(self, input, hx=None):  # noqa: A002
        return self._step(_GRUOp, input, hx)


class RNNCell(_CellBase):
    """One Elman RNN step: (input (N, I), h) -> h'. Matches ``torch.nn.RNNCell``."""

    def __init__(
        self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=None, device=None
    ):
        super().__init__(input_size, hidden_size, bias, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):  # noqa: A002
        return self._step(_RNNOp, input, hx, nonlinearity=self.nonlinearity)


class LSTMCell(_CellBase):
    """One LSTM step: (input (N, I), (h, c)) -> (h', c'). Matches ``torch.nn.LSTMCell``."""

    gates = 4

    def forward(self, input, hx=None):  # noqa: A002
        unbatched = input.ndim == 1
        if unbatched:
            input = input.unsqueeze(0)  # noqa: A001
        if hx is None:
            h = c = zeros(input.shape[0], self.hidden_size, dtype=input.dtype)
        else:
            h, c = (t.unsqueeze(0) for t in hx) if unbatched else hx
        result = _LSTMOp.apply(
            input.unsqueeze(0), h, c, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh
        )
        h_next, c_next = result[0], result[1]
        if unbatched:
            return h_next.squeeze(0), c_next.squeeze(0)
        return h_next, c_next
