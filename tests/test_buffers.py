"""buffers: the workspace and the recycling pool, and the engine giving saved arrays back."""

import numpy as np
import pytest

import npgrad
from npgrad import buffers, nn


@pytest.fixture(autouse=True)
def empty_pool():
    buffers.clear()
    yield
    buffers.clear()


def test_take_returns_a_recycled_array_of_the_same_shape_and_dtype():
    first = buffers.take((3, 4), np.float32)
    buffers.recycle(first)
    assert buffers.take((3, 4), np.float32) is first
    assert buffers.take((3, 4), np.float32) is not first  # it was handed out already
    buffers.recycle(first)
    assert buffers.take((4, 3), np.float32) is not first
    assert buffers.take((3, 4), np.float64) is not first


def test_the_pool_holds_at_most_pool_bytes(monkeypatch):
    monkeypatch.setattr(buffers, "POOL_BYTES", 100)
    small, large = np.empty(10, np.float32), np.empty(100, np.float32)
    buffers.recycle(large, small)
    assert buffers.take((100,), np.float32) is not large  # too big to keep
    assert buffers.take((10,), np.float32) is small


def test_workspace_is_reused_and_grown():
    a = buffers.workspace("test", (2, 3), np.float32)
    b = buffers.workspace("test", (3, 2), np.float32)
    assert np.shares_memory(a, b)
    c = buffers.workspace("test", (100,), np.float32)
    assert c.shape == (100,)
    assert not np.shares_memory(buffers.workspace("other", (2, 3), np.float32), c)


def _lstm_step(model, x):
    model.zero_grad()
    out, _ = model(x)
    out.square().sum().backward()
    return out.detach().numpy().copy(), [p.grad.numpy().copy() for p in model.parameters()]


def test_lstm_arrays_go_back_after_backward_and_reuse_changes_nothing():
    npgrad.manual_seed(0)
    model = nn.LSTM(3, 4, batch_first=True)
    x = npgrad.randn(2, 5, 3)
    out, grads = _lstm_step(model, x)
    assert buffers._pool_bytes > 0  # the gate activations and cell states came back
    for _ in range(2):  # later steps run on recycled arrays and give the same numbers
        again, grads_again = _lstm_step(model, x)
        np.testing.assert_array_equal(again, out)
        for g, g_again in zip(grads, grads_again, strict=True):
            np.testing.assert_array_equal(g_again, g)


def test_retain_graph_keeps_the_saved_arrays_until_the_last_backward():
    npgrad.manual_seed(0)
    model = nn.LSTM(3, 4)
    out, _ = model(npgrad.randn(5, 2, 3))
    loss = out.square().sum()
    loss.backward(retain_graph=True)
    assert buffers._pool_bytes == 0
    first = [p.grad.numpy().copy() for p in model.parameters()]
    model(npgrad.randn(5, 2, 3))  # another forward may not take the retained arrays
    loss.backward()
    for g, g2 in zip(first, (p.grad.numpy() for p in model.parameters()), strict=True):
        np.testing.assert_allclose(g2, 2 * g, rtol=1e-5)
    assert buffers._pool_bytes > 0


def test_without_grad_the_arrays_come_back_at_once_and_outputs_stay_intact():
    npgrad.manual_seed(0)
    model = nn.LSTM(3, 4)
    x1, x2 = npgrad.randn(5, 2, 3), npgrad.randn(5, 2, 3)
    with npgrad.no_grad():
        out1, _ = model(x1)
        kept = out1.numpy().copy()
        assert buffers._pool_bytes > 0
        model(x2)  # reuses the pooled arrays; out1 is not one of them
    np.testing.assert_array_equal(out1.numpy(), kept)
