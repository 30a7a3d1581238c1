"""LSTM: the fused op against torch.nn.LSTM (outputs, states and every gradient), gradcheck."""

import numpy as np
import pytest
from helpers import assert_param_grads_match, make_inputs, needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.diagnostics import gradcheck
from npgrad.errors import ShapeError
from npgrad.ops.recurrent import LSTM as LSTMOp

CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False},
]


def check_recurrent_parity(kind, config, with_state, state_count):
    """Load torch's weights into ours; compare outputs, final states and every gradient."""
    torch.manual_seed(0)
    theirs = getattr(torch.nn, kind)(3, 5, **config).double()
    ours = getattr(nn, kind)(3, 5, **config).double()
    ours.load_state_dict(theirs.state_dict())
    steps, batch = 4, 2
    shape = (batch, steps, 3) if config.get("batch_first") else (steps, batch, 3)
    x = make_inputs([shape])[0]
    layers = (2 if config.get("bidirectional") else 1) * config.get("num_layers", 1)
    widths = [config.get("proj_size") or 5, 5][:state_count]  # h (projected), then c
    states = make_inputs([(layers, batch, width) for width in widths], seed=1)
    ours_in = [npgrad.tensor(a, requires_grad=True) for a in (x, *states)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in (x, *states)]

    def run(model, inputs):
        hx = (tuple(inputs[1:]) if state_count == 2 else inputs[1]) if with_state else None
        out, final = model(inputs[0], hx)
        return [out, *final] if state_count == 2 else [out, final]

    ours_out, theirs_out = run(ours, ours_in), run(theirs, theirs_in)
    for a, b in zip(ours_out, theirs_out, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().numpy(), atol=1e-10)
    rng = np.random.default_rng(2)
    weights = [rng.standard_normal(t.shape) for t in ours_out]
    sum((t * npgrad.tensor(w)).sum() for t, w in zip(ours_out, weights, strict=True)).backward()
    sum((t * torch.tensor(w)).sum() for t, w in zip(theirs_out, weights, strict=True)).backward()
    for a, b in zip(ours_in if with_state else ours_in[:1], theirs_in, strict=False):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
    assert_param_grads_match(ours, theirs, atol=1e-10)


PROJECTED = [
    {"proj_size": 3},
    {"proj_size": 2, "num_layers": 2, "bidirectional": True, "batch_first": True},
    {"proj_size": 4, "bias": False},
]


@needs_torch
@pytest.mark.parametrize("config", CONFIGS + PROJECTED, ids=str)
@pytest.mark.parametrize("with_state", [False, True])
def test_lstm_matches_torch(config, with_state):
    check_recurrent_parity("LSTM", config, with_state, state_count=2)


@needs_torch
def test_lstm_cell_and_unbatched_input():
    torch.manual_seed(0)
    theirs, ours = torch.nn.LSTMCell(3, 4).double(), nn.LSTMCell(3, 4).double()
    ours.load_state_dict(theirs.state_dict())
    x, h, c = make_inputs([(2, 3), (2, 4), (2, 4)])
    h1, c1 = ours(npgrad.tensor(x), (npgrad.tensor(h), npgrad.tensor(c)))
    t_h1, t_c1 = theirs(torch.tensor(x), (torch.tensor(h), torch.tensor(c)))
    np.testing.assert_allclose(h1.numpy(), t_h1.detach().numpy(), atol=1e-12)
    np.testing.assert_allclose(c1.numpy(), t_c1.detach().numpy(), atol=1e-12)
    lstm, t_lstm = nn.LSTM(3, 4).double(), torch.nn.LSTM(3, 4).double()
    lstm.load_state_dict(t_lstm.state_dict())
    out, (h_n, _) = lstm(npgrad.tensor(make_inputs([(6, 3)])[0]))
    t_out, (t_hn, _) = t_lstm(torch.tensor(make_inputs([(6, 3)])[0]))
    assert out.shape == (6, 4) and h_n.shape == (1, 4)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), atol=1e-12)


@pytest.mark.parametrize("reverse", [False, True])
def test_fused_op_gradcheck(reverse):
    arrays = make_inputs([(4, 2, 3), (2, 5), (2, 5), (20, 3), (20, 5), (20,), (20,)])
    inputs = [npgrad.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *a: LSTMOp.apply(*a, reverse=reverse), inputs).passed


def test_lstm_learns_to_remember_the_first_input():
    npgrad.manual_seed(0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 8, 1)).astype(np.float32)  # (N, T, 1), batch_first
    y = (x[:, 0, 0] > 0).astype(np.int64)  # the label is the sign of the first step

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(1, 16, batch_first=True)
            self.head = nn.Linear(16, 2)

        def forward(self, inputs):
            output, (h_n, _) = self.lstm(inputs)
            return self.head(h_n[-1])

    model = Net()
    trainer = npgrad.train.Trainer(
        model,
        nn.CrossEntropyLoss(),
        npgrad.optim.Adam(model.parameters(), 1e-2),
        metrics=["accuracy"],
    )
    trainer.fit(x, y, epochs=40, batch_size=32, verbose=0)
    assert trainer.evaluate(x, y)["accuracy"] > 0.9


@needs_torch
@pytest.mark.parametrize("config", CONFIGS, ids=str)
@pytest.mark.parametrize("with_state", [False, True])
def test_gru_matches_torch(config, with_state):
    check_recurrent_parity("GRU", config, with_state, state_count=1)


@pytest.mark.parametrize("reverse", [False, True])
def test_gru_op_gradcheck(reverse):
    from npgrad.ops.recurrent import GRU as GRUOp

    arrays = make_inputs([(4, 2, 3), (2, 5), (15, 3), (15, 5), (15,), (15,)])
    inputs = [npgrad.tensor(a, requires_grad=True) for a in arrays]
    assert gradcheck(lambda *a: GRUOp.apply(*a, reverse=reverse), inputs).passed


@needs_torch
@pytest.mark.parametrize(
    "config",
    [{}, {"nonlinearity": "relu"}, {"num_layers": 2, "bidirectional": True, "batch_first": True}],
    ids=str,
)
def test_rnn_matches_torch(config):
    torch.manual_seed(0)
    theirs = torch.nn.RNN(3, 5, **config).double()
    ours = nn.RNN(3, 5, **config).double()
    ours.load_state_dict(theirs.state_dict())
    shape = (2, 4, 3) if config.get("batch_first") else (4, 2, 3)
    states = (2 if config.get("bidirectional") else 1) * config.get("num_layers", 1)
    x, h0 = make_inputs([shape, (states, 2, 5)])
    ours_in = [npgrad.tensor(a, requires_grad=True) for a in (x, h0)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in (x, h0)]
    out, h_n = ours(*ours_in)
    t_out, t_h = theirs(*theirs_in)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(h_n.numpy(), t_h.detach().numpy(), atol=1e-10)
    (out.sum() + (h_n * h_n).sum()).backward()
    (t_out.sum() + (t_h * t_h).sum()).backward()
    for a, b in zip(ours_in, theirs_in, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-10)
    assert_param_grads_match(ours, theirs, atol=1e-10)


@needs_torch
@pytest.mark.parametrize(
    "name, kwargs", [("GRUCell", {}), ("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"})]
)
def test_cells_match_torch(name, kwargs):
    torch.manual_seed(0)
    theirs = getattr(torch.nn, name)(3, 4, **kwargs).double()
    ours = getattr(nn, name)(3, 4, **kwargs).double()
    ours.load_state_dict(theirs.state_dict())
    x, h = make_inputs([(2, 3), (2, 4)])
    ours_in = [npgrad.tensor(a, requires_grad=True) for a in (x, h)]
    theirs_in = [torch.tensor(a, requires_grad=True) for a in (x, h)]
    out, t_out = ours(*ours_in), theirs(*theirs_in)
    np.testing.assert_allclose(out.numpy(), t_out.detach().numpy(), atol=1e-12)
    out.sum().backward()
    t_out.sum().backward()
    for a, b in zip(ours_in, theirs_in, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-12)
    assert ours(npgrad.tensor(x[0])).shape == (4,)  # unbatched, no state


@pytest.mark.parametrize("nonlinearity", ["tanh", "relu"])
def test_rnn_op_gradcheck(nonlinearity):
    from npgrad.ops.recurrent import RNN as RNNOp

    arrays = make_inputs([(4, 2, 3), (2, 5), (5, 3), (5, 5), (5,), (5,)])
    inputs = [npgrad.tensor(a, requires_grad=True) for a in arrays]
    for reverse in (False, True):
        report = gradcheck(
            lambda *a, r=reverse: RNNOp.apply(*a, reverse=r, nonlinearity=nonlinearity), inputs
        )
        assert report.passed


@pytest.mark.parametrize("reverse, all_cells", [(False, False), (True, False), (False, True)])
def test_projected_op_gradcheck(reverse, all_cells):
    shapes = [(4, 2, 3), (2, 2), (2, 5), (20, 3), (20, 2), (20,), (20,), (2, 5)]
    inputs = [npgrad.tensor(a, requires_grad=True) for a in make_inputs(shapes)]

    def run(*tensors):
        return LSTMOp.apply(*tensors, reverse=reverse, all_cells=all_cells).tanh()

    assert gradcheck(run, inputs, atol=1e-6, rtol=1e-4)


def test_proj_size_is_checked():
    with pytest.raises(ValueError, match="only supported for LSTM"):
        nn.GRU(3, 5, proj_size=2)
    with pytest.raises(ValueError, match="proj_size must be"):
        nn.LSTM(3, 5, proj_size=5)
    lstm = nn.LSTM(3, 5, proj_size=2)
    assert "proj_size=2" in repr(lstm) and lstm.weight_hr_l0.shape == (2, 5)
    with pytest.raises(ShapeError, match=r"\(N, 2\), \(N, 5\)"):
        lstm(npgrad.randn(4, 2, 3), (npgrad.zeros(1, 2, 5), npgrad.zeros(1, 2, 5)))


@needs_torch
def test_projected_lstm_on_packed_sequences_matches_torch():
    torch.manual_seed(0)
    theirs = torch.nn.LSTM(3, 5, proj_size=2, bidirectional=True).double()
    ours = nn.LSTM(3, 5, proj_size=2, bidirectional=True).double()
    ours.load_state_dict(theirs.state_dict())
    x = make_inputs([(6, 3, 3)])[0]
    lengths = [6, 2, 4]
    results = []
    for lib, model in ((npgrad, ours), (torch, theirs)):
        inputs = lib.tensor(x, requires_grad=True)
        utils = lib.nn.utils.rnn
        packed = utils.pack_padded_sequence(inputs, lengths, enforce_sorted=False)
        out, (h, c) = model(packed)
        padded, _ = utils.pad_packed_sequence(out)
        (padded.sum() + (h * h).sum() + (c * c * c).sum()).backward()
        results.append([padded.detach().numpy(), h.detach().numpy(), c.detach().numpy()])
        results[-1] += [inputs.grad.numpy()] + [p.grad.numpy() for p in model.parameters()]
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-10)
