"""SparseAdam: only looked-up rows move; values match torch.optim.SparseAdam with
nn.Embedding(sparse=True)."""

import numpy as np
import pytest

import npgrad


def _batches():
    rng = np.random.default_rng(0)
    return [rng.integers(0, 6, size=(4,)) for _ in range(5)]  # rows 6-9 never looked up


def _train(lib, weight, sparse=True):
    emb = lib.nn.Embedding(10, 3, sparse=sparse)
    with lib.no_grad():
        emb.weight.copy_(lib.tensor(weight))
    opt = lib.optim.SparseAdam(emb.parameters(), lr=0.1)
    for index in _batches():
        opt.zero_grad()
        out = emb(lib.tensor(index))
        (out * lib.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        opt.step()
    return emb.weight.detach().numpy().copy(), opt


def test_only_touched_rows_move():
    weight = np.random.default_rng(1).standard_normal((10, 3)).astype(np.float32)
    trained, opt = _train(npgrad, weight)
    assert np.array_equal(trained[6:], weight[6:])  # never looked up: unchanged
    assert not np.allclose(trained[:6], weight[:6])
    state = opt.state[opt.param_groups[0]["params"][0]]
    assert state["step"] == 5 and not state["exp_avg"][6:].any()


def test_matches_torch_sparse_adam():
    torch = pytest.importorskip("torch")
    weight = np.random.default_rng(2).standard_normal((10, 3))
    ours, _ = _train(npgrad, weight)
    theirs, _ = _train(torch, weight)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_embedding_options_match_torch():
    """max_norm renormalises the looked-up rows in place; scale_grad_by_freq divides each row's
    gradient by its count in the batch; EmbeddingBag takes both too."""
    torch = pytest.importorskip("torch")
    weight = np.random.default_rng(3).standard_normal((8, 4)) * 3
    index = np.array([[1, 2, 2], [5, 2, 1]])
    results = []
    for lib in (npgrad, torch):
        emb = lib.nn.Embedding(8, 4, max_norm=2.0, norm_type=1.0, scale_grad_by_freq=True)
        bag = lib.nn.EmbeddingBag(8, 4, mode="sum", max_norm=1.5, scale_grad_by_freq=True)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(weight))
            bag.weight.copy_(lib.tensor(weight))
        scale = lib.tensor(np.arange(24.0).reshape(2, 3, 4))
        (emb(lib.tensor(index)) * scale).sum().backward()
        (bag(lib.tensor(index)) * scale[:, 0]).sum().backward()
        results.append(
            [t.detach().numpy().copy() for t in (emb.weight, emb.weight.grad, bag.weight)]
            + [bag.weight.grad.numpy().copy()]
        )
    # (torch 2.13's EmbeddingBag divides by the wrong rows' counts: rows 2 and 5 here get
    # each other's; its Embedding and npgrad's two divide each row by its own count)
    for ours, theirs in zip(results[0][:3], results[1][:3], strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    bag_grad = np.zeros((8, 4))
    np.add.at(bag_grad, index.ravel(), np.repeat(np.arange(24.0).reshape(2, 3, 4)[:, 0], 3, 0))
    counts = np.bincount(index.ravel(), minlength=8)
    np.testing.assert_allclose(results[0][3], bag_grad / np.maximum(counts, 1)[:, None])
