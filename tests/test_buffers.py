"""buffers: the pool of large arrays that come back when they are gone, and the workspace."""

import threading

import numpy as np
import pytest

import npgrad
from npgrad import buffers, nn


@pytest.fixture(autouse=True)
def empty_pool():
    buffers.clear()
    yield
    buffers.clear()


BIG = (256, 1024)  # 1 MiB of float32: comes from the pool


def test_empty_gives_an_aligned_writeable_contiguous_array():
    a = buffers.empty(BIG, np.float32)
    assert a.shape == BIG and a.dtype == np.float32
    assert a.flags.c_contiguous and a.flags.writeable
    assert a.ctypes.data % buffers.ALIGN == 0
    small = buffers.empty((3, 4), np.float64)  # below MIN_BYTES: a plain NumPy array
    assert small.shape == (3, 4) and small.dtype == np.float64 and small.base is None


def test_a_block_comes_back_only_when_the_array_and_all_its_views_are_gone():
    a = buffers.empty(BIG, np.float32)
    address = a.ctypes.data
    view = a[1:].T[::2]
    del a
    assert buffers.pool_bytes() == 0  # the view still reaches the memory
    other = buffers.empty(BIG, np.float32)
    assert not np.shares_memory(other, view)
    del view
    assert buffers.pool_bytes() > 0
    again = buffers.empty(BIG, np.float32)
    assert again.ctypes.data == address  # the same block, reused
    assert buffers.pool_bytes() == 0
    del other, again


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", "int64", "uint8", "bool", "float16", "complex64", ">f4"]
)
def test_every_dtype_and_byte_order_comes_back_as_asked(dtype):
    a = buffers.empty((300, 1000), dtype)
    assert a.dtype == np.dtype(dtype) and a.shape == (300, 1000) and a.flags.c_contiguous
    a[...] = 1
    assert (a == 1).all()


def test_is_whole_tells_the_array_from_its_views():
    a = buffers.empty(BIG, np.float32)
    assert buffers.is_whole(a)
    assert not buffers.is_whole(a[1:]) and not buffers.is_whole(a.reshape(-1))
    assert not buffers.is_whole(np.empty(BIG, np.float32))


def test_nearby_sizes_and_dtypes_share_blocks():
    a = buffers.empty(BIG, np.float32)
    address = a.ctypes.data
    del a
    b = buffers.empty((BIG[0] * BIG[1] - 7,), np.float32)
    assert b.ctypes.data == address
    del b
    c = buffers.empty((BIG[0], BIG[1] // 2), np.float64)  # the same number of bytes
    assert c.ctypes.data == address


def test_live_arrays_never_share_memory_and_keep_their_contents():
    rng = np.random.default_rng(0)
    live = []
    for step in range(200):
        if live and rng.random() < 0.45:
            array, value = live.pop(int(rng.integers(len(live))))
            assert (array == value).all()
        else:
            size = int(rng.choice([1 << 16, 1 << 17, 3 << 16, 1 << 18]))
            array = buffers.empty((size,), np.float32)
            array.fill(step)
            keep = array[::3] if rng.random() < 0.5 else array  # sometimes only a view is kept
            live.append((keep, step))
    for i, (a, value) in enumerate(live):
        assert (a == value).all()
        for b, _ in live[i + 1 :]:
            assert not np.shares_memory(a, b)


def test_zeros_are_zero_on_a_reused_block():
    a = buffers.empty(BIG, np.float32)
    a.fill(7)
    del a
    assert not buffers.zeros(BIG, np.float32).any()


def test_empty_like_keeps_the_memory_layout():
    batch_last = np.empty((3, 128, 256, 2), np.float32).transpose(3, 0, 1, 2)
    like = buffers.empty_like(batch_last)
    assert like.shape == batch_last.shape
    assert like.transpose(1, 2, 3, 0).flags.c_contiguous
    narrow = buffers.empty_like(batch_last, np.uint8, shape=(2, 3, 64, 128))
    assert narrow.dtype == np.uint8 and narrow.shape == (2, 3, 64, 128)
    assert narrow.transpose(1, 2, 3, 0).flags.c_contiguous


def test_the_pool_holds_at_most_pool_bytes(monkeypatch):
    monkeypatch.setattr(buffers, "POOL_BYTES", 3 << 20)
    arrays = [buffers.empty(BIG, np.float32) for _ in range(5)]
    del arrays
    assert 0 < buffers.pool_bytes() <= 3 << 20


def test_arrays_freed_in_another_thread_come_back():
    arrays = [buffers.empty(BIG, np.float32) for _ in range(4)]
    thread = threading.Thread(target=arrays.clear)
    thread.start()
    thread.join()
    assert buffers.pool_bytes() >= 4 * BIG[0] * BIG[1] * 4


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
    model = nn.LSTM(8, 64, batch_first=True)  # gate activations (T, 4H, N): 320 KiB, pooled
    x = npgrad.randn(32, 10, 8)
    out, grads = _lstm_step(model, x)
    assert buffers.pool_bytes() > 0  # the gate activations and cell states came back
    for _ in range(2):  # later steps run on recycled arrays and give the same numbers
        again, grads_again = _lstm_step(model, x)
        np.testing.assert_array_equal(again, out)
        for g, g_again in zip(grads, grads_again, strict=True):
            np.testing.assert_array_equal(g_again, g)


def test_retain_graph_keeps_the_saved_arrays_until_the_last_backward():
    npgrad.manual_seed(0)
    model = nn.LSTM(8, 64)
    out, _ = model(npgrad.randn(10, 32, 8))
    loss = out.square().sum()
    loss.backward(retain_graph=True)
    assert buffers.pool_bytes() == 0
    first = [p.grad.numpy().copy() for p in model.parameters()]
    model(npgrad.randn(10, 32, 8))  # another forward may not take the retained arrays
    loss.backward()
    for g, g2 in zip(first, (p.grad.numpy() for p in model.parameters()), strict=True):
        np.testing.assert_allclose(g2, 2 * g, rtol=1e-5)
    assert buffers.pool_bytes() > 0


def test_without_grad_the_arrays_come_back_at_once_and_outputs_stay_intact():
    npgrad.manual_seed(0)
    model = nn.LSTM(8, 64)
    x1, x2 = npgrad.randn(10, 32, 8), npgrad.randn(10, 32, 8)
    with npgrad.no_grad():
        out1, _ = model(x1)
        kept = out1.numpy().copy()
        assert buffers.pool_bytes() > 0
        model(x2)  # reuses the pooled arrays; out1 is not one of them
    np.testing.assert_array_equal(out1.numpy(), kept)


def test_a_training_step_after_warm_up_takes_every_large_array_from_the_pool(monkeypatch):
    """A CNN and an LSTM step reuse the blocks of the step before: no fresh large allocation
    (a fresh one is what page-faults every step, and what a reference kept by mistake forces)."""
    fresh = []
    real_empty = buffers.xp.empty

    def counting_empty(shape, dtype=float, *args, **kwargs):
        if np.dtype(dtype) == np.uint8 and np.prod(shape) >= buffers.MIN_BYTES:
            fresh.append(shape)  # a new pool block
        return real_empty(shape, dtype, *args, **kwargs)

    monkeypatch.setattr(buffers.xp, "empty", counting_empty)
    npgrad.manual_seed(0)
    cnn = nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(8 * 13 * 13, 10)
    )
    lstm = nn.LSTM(8, 64, batch_first=True)
    cases = [(cnn, npgrad.randn(32, 1, 28, 28)), (lstm, npgrad.randn(32, 10, 8))]
    for model, x in cases:
        optimizer = npgrad.optim.Adam(model.parameters())
        for step in range(4):
            if step == 2:
                fresh.clear()
            optimizer.zero_grad()
            out = model(x)
            (out if isinstance(out, npgrad.Tensor) else out[0]).square().mean().backward()
            optimizer.step()
        assert fresh == [], f"{type(model).__name__}: fresh blocks {fresh} after warm-up"


def test_a_transformer_step_after_warm_up_allocates_nothing_large_outside_the_pool():
    """Linear, attention, layer norm, residual adds, reshaping copies, fan-out sums and leaf
    gradients all take their large arrays from the pool: the traced heap's peak during a step
    stays within one pool-sized array of where it started (glibc would otherwise hand the freed
    memory back and fault it in again, every step)."""
    import tracemalloc

    npgrad.manual_seed(0)
    layer = nn.TransformerEncoderLayer(64, 4, 256, dropout=0.1, batch_first=True)
    model = nn.Sequential(nn.Linear(32, 64), nn.TransformerEncoder(layer, 2))
    optimizer = npgrad.optim.Adam(model.parameters())
    x = npgrad.randn(16, 64, 32)  # activations (16, 64, 64): 256 KiB, attention 1 MiB

    def step():
        optimizer.zero_grad()
        model(x).square().mean().backward()
        optimizer.step()

    tracemalloc.start()
    try:
        for _ in range(3):
            step()
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        step()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - start < buffers.MIN_BYTES, f"{(peak - start) / 2**20:.2f} MiB outside the pool"
