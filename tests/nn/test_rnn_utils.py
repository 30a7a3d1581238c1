"""Variable-length sequences: packing, padding, and the recurrent layers over packed input."""

import numpy as np
import pytest
from helpers import assert_param_grads_match, make_inputs, needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.diagnostics import gradcheck
from npgrad.errors import ShapeError
from npgrad.nn.utils import rnn as rnn_utils
from npgrad.ops.recurrent import LSTM as LSTMOp

LENGTHS = [5, 2, 4, 1]  # unsorted, with a length-1 sequence


@needs_torch
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [False, True])
def test_pack_and_pad_match_torch(batch_first, enforce_sorted):
    lengths = sorted(LENGTHS, reverse=True) if enforce_sorted else LENGTHS
    shape = (4, 6, 3) if batch_first else (6, 4, 3)
    x = make_inputs([shape])[0]
    ours_x, theirs_x = npgrad.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    ours = rnn_utils.pack_padded_sequence(ours_x, lengths, batch_first, enforce_sorted)
    theirs = torch.nn.utils.rnn.pack_padded_sequence(theirs_x, lengths, batch_first, enforce_sorted)
    np.testing.assert_array_equal(ours.data.numpy(), theirs.data.detach().numpy())
    assert ours.batch_sizes.tolist() == theirs.batch_sizes.tolist()
    if not enforce_sorted:
        assert ours.sorted_indices.tolist() == theirs.sorted_indices.tolist()
    padded, out_lengths = rnn_utils.pad_packed_sequence(ours, batch_first, -1.0, total_length=7)
    t_padded, t_lengths = torch.nn.utils.rnn.pad_packed_sequence(theirs, batch_first, -1.0, 7)
    np.testing.assert_array_equal(padded.numpy(), t_padded.detach().numpy())
    assert out_lengths.tolist() == t_lengths.tolist()
    weights = np.random.default_rng(0).standard_normal(padded.shape)
    (padded * npgrad.tensor(weights)).sum().backward()  # gradients flow back to the input
    (t_padded * torch.tensor(weights)).sum().backward()
    np.testing.assert_array_equal(ours_x.grad.numpy(), theirs_x.grad.numpy())


@needs_torch
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_pack_unpad_sequences(padding_side):
    arrays = make_inputs([(3, 2), (1, 2), (4, 2)])
    ours = [npgrad.tensor(a) for a in arrays]
    theirs = [torch.tensor(a) for a in arrays]
    for batch_first in (False, True):
        np.testing.assert_array_equal(
            rnn_utils.pad_sequence(ours, batch_first, 9.0, padding_side).numpy(),
            torch.nn.utils.rnn.pad_sequence(theirs, batch_first, 9.0, padding_side).numpy(),
        )
    packed = rnn_utils.pack_sequence(ours, enforce_sorted=False)
    t_packed = torch.nn.utils.rnn.pack_sequence(theirs, enforce_sorted=False)
    np.testing.assert_array_equal(packed.data.numpy(), t_packed.data.numpy())
    for got, original in zip(rnn_utils.unpack_sequence(packed), ours, strict=True):
        assert got.tolist() == original.tolist()


def test_packing_errors():
    x = npgrad.ones(3, 2, 1)
    with pytest.raises(ValueError, match="sorted in decreasing order"):
        rnn_utils.pack_padded_sequence(x, [1, 3])
    with pytest.raises(ValueError, match="at least 1"):
        rnn_utils.pack_padded_sequence(x, [3, 0], enforce_sorted=False)
    with pytest.raises(ShapeError, match="longer than the 3 time steps"):
        rnn_utils.pack_padded_sequence(x, [4, 1])
    with pytest.raises(ShapeError, match="3 lengths for a batch of 2"):
        rnn_utils.pack_padded_sequence(x, [3, 2, 1])


CONFIGS = [
    {},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"num_layers": 2, "bias": False},
]


@needs_torch
@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("with_state", [False, True])
def test_recurrent_layers_on_packed_sequences_match_torch(kind, config, with_state):
    """Final states at each sequence's own end, reverse directions from it, in the caller's
    batch order; outputs, states and every gradient (input, initial state, weights) as torch."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 4, **config).double()
    ours = getattr(nn, kind)(3, 4, **config).double()
    ours.load_state_dict(theirs.state_dict())
    batch_first = config.get("batch_first", False)
    x = make_inputs([(4, 5, 3) if batch_first else (5, 4, 3)])[0]
    layers = (2 if config.get("bidirectional") else 1) * config.get("num_layers", 1)
    state_count = 2 if kind == "LSTM" else 1
    states = make_inputs([(layers, 4, 4)] * state_count, seed=1)
    results = []
    for library, utils, model in ((npgrad, rnn_utils, ours), (torch, torch.nn.utils.rnn, theirs)):
        inputs = [library.tensor(a, requires_grad=True) for a in (x, *states)]
        packed = utils.pack_padded_sequence(inputs[0], LENGTHS, batch_first, enforce_sorted=False)
        hx = (tuple(inputs[1:]) if state_count == 2 else inputs[1]) if with_state else None
        out, final = model(packed, hx)
        padded, _ = utils.pad_packed_sequence(out, batch_first)
        outputs = [padded, *(final if state_count == 2 else [final])]
        rng = np.random.default_rng(2)  # the same projection for both
        total = sum((t * library.tensor(rng.standard_normal(t.shape))).sum() for t in outputs)
        total.backward()
        results.append((outputs, inputs))
    for a, b in zip(results[0][0], results[1][0], strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-10)
    for a, b in zip(results[0][1], results[1][1], strict=True):
        if b.grad is not None:
            np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
    assert_param_grads_match(ours, theirs, atol=1e-10)


@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_op_with_every_cell_state_gradcheck(reverse):
    arrays = make_inputs([(4, 2, 3), (2, 5), (2, 5), (20, 3), (20, 5), (20,), (20,)])
    inputs = [npgrad.tensor(a, requires_grad=True) for a in arrays]
    report = gradcheck(lambda *a: LSTMOp.apply(*a, reverse=reverse, all_cells=True), inputs)
    assert report.passed
    every = LSTMOp.apply(*inputs, reverse=reverse, all_cells=True)
    last = LSTMOp.apply(*inputs, reverse=reverse)
    np.testing.assert_allclose(every[:4].numpy(), last[:4].numpy())  # the same h_1..h_T
    final_cell = every[4] if reverse else every[7]  # c at the direction's last step
    np.testing.assert_allclose(final_cell.numpy(), last[4].numpy())
