"""Gradient checkpointing: the same outputs and gradients as the plain call (dropout's masks
replayed), several and non-float outputs, keyword arguments, checkpoint_sequential, the
fallbacks, and nothing of the function's graph kept between forward and backward."""

import gc
import weakref

import numpy as np
import pytest
from helpers import needs_torch

import npgrad
import npgrad.nn as nn
from npgrad.utils.checkpoint import checkpoint, checkpoint_sequential


def _model():
    npgrad.manual_seed(0)
    return nn.Sequential(
        nn.Linear(4, 8), nn.Tanh(), nn.Dropout(0.3), nn.Linear(8, 8), nn.ReLU(), nn.Linear(8, 2)
    )


def _gradients(model, x):
    return [p.grad.numpy().copy() for p in model.parameters()] + [x.grad.numpy().copy()]


@pytest.mark.parametrize("segments", [1, 2, 3, 6])
def test_checkpoint_sequential_matches_the_plain_model_dropout_included(segments):
    model = _model()
    x = npgrad.randn(5, 4, requires_grad=True)
    state = npgrad.get_rng_state()
    plain = model(x)
    plain.sum().backward()
    expected = _gradients(model, x)
    model.zero_grad()
    x.grad = None
    npgrad.set_rng_state(state)
    checkpointed = checkpoint_sequential(model, segments, x, use_reentrant=False)
    np.testing.assert_array_equal(checkpointed.detach().numpy(), plain.detach().numpy())
    checkpointed.sum().backward()
    for ours, reference in zip(_gradients(model, x), expected, strict=True):
        np.testing.assert_allclose(ours, reference, rtol=1e-6, atol=1e-7)


def test_several_outputs_non_float_outputs_and_keywords():
    def f(a, b, scale=1.0):
        return a * b * scale, (a + b).argmax(1), a.sum()

    a = npgrad.randn(3, 2, dtype=npgrad.float64, requires_grad=True)
    b = npgrad.randn(3, 2, dtype=npgrad.float64, requires_grad=True)
    product, index, total = checkpoint(f, a, b, scale=2.0)
    assert index.dtype == npgrad.int64 and not index.requires_grad
    (product.sum() * total).backward()
    a_values, b_values = a.detach().numpy(), b.detach().numpy()
    np.testing.assert_allclose(
        a.grad.numpy(), 2 * b_values * a_values.sum() + (2 * a_values * b_values).sum()
    )
    np.testing.assert_allclose(b.grad.numpy(), 2 * a_values * a_values.sum())


def test_without_inputs_needing_grad_parameters_still_get_gradients():
    layer = nn.Linear(3, 2)
    out = checkpoint(layer, npgrad.randn(4, 3))
    out.sum().backward()
    assert layer.weight.grad is not None
    with npgrad.no_grad():
        assert not checkpoint(layer, npgrad.randn(4, 3, requires_grad=True)).requires_grad


def test_the_functions_intermediates_are_not_kept():
    kept = []

    def f(x):
        hidden = x * 2
        kept.append(weakref.ref(hidden))
        return hidden.tanh()

    x = npgrad.randn(8, requires_grad=True)
    out = checkpoint(f, x)
    gc.collect()
    assert kept[0]() is None  # the first run's intermediate is gone before backward
    out.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * (1 - np.tanh(2 * x.detach().numpy()) ** 2))


@needs_torch
def test_matches_pytorch_checkpoint():
    import torch
    from torch.utils.checkpoint import checkpoint as torch_checkpoint

    weights = np.random.default_rng(0).standard_normal((2, 6, 6))
    inputs = np.random.default_rng(1).standard_normal((3, 6))
    results = []
    for lib, run in ((npgrad, checkpoint), (torch, torch_checkpoint)):
        w = [lib.tensor(a, requires_grad=True) for a in weights]
        x = lib.tensor(inputs, requires_grad=True)

        def block(h, w=w, lib=lib):
            return lib.tanh(h @ w[0]) @ w[1]

        loss = (run(block, x, use_reentrant=False) ** 2).sum()
        loss.backward()
        results.append([x.grad.numpy(), *(p.grad.numpy() for p in w)])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10)


def test_tensor_keyword_arguments_get_gradients_too():
    def f(x, *, scale, offset=0.0):
        return (x * scale).tanh() + offset

    x = npgrad.randn(4, dtype=npgrad.float64, requires_grad=True)
    scale = npgrad.tensor(1.5, dtype=npgrad.float64, requires_grad=True)
    checkpoint(f, x, scale=scale, offset=2.0).sum().backward()
    expected = 1 - np.tanh(1.5 * x.detach().numpy()) ** 2
    np.testing.assert_allclose(x.grad.numpy(), 1.5 * expected)
    np.testing.assert_allclose(scale.grad.numpy(), (x.detach().numpy() * expected).sum())
    only_keyword = npgrad.tensor(2.0, dtype=npgrad.float64, requires_grad=True)
    checkpoint(f, npgrad.ones(2, dtype=npgrad.float64), scale=only_keyword).sum().backward()
    np.testing.assert_allclose(only_keyword.grad.numpy(), 2 * (1 - np.tanh(2.0) ** 2))
