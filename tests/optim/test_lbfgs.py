"""L-BFGS: convergence on Rosenbrock and a least-squares fit, PyTorch parity of every iterate
(fixed step and strong-Wolfe line search, short and long histories, state across steps), and
its argument checks."""

import numpy as np
import pytest
from helpers import needs_torch

import npgrad
from npgrad.optim import LBFGS


def _rosenbrock_run(lib, line_search, steps=4, max_iter=20, history_size=100):
    w = lib.tensor([-1.5, 2.0], dtype=lib.float64, requires_grad=True)
    optimizer = lib.optim.LBFGS(
        [w],
        lr=1 if line_search else 0.5,
        max_iter=max_iter,
        history_size=history_size,
        line_search_fn=line_search,
    )

    def closure():
        optimizer.zero_grad()
        loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2
        loss.backward()
        return loss

    trace = []
    for _ in range(steps):
        loss = optimizer.step(closure)
        trace.append([loss.item(), *w.detach().numpy().tolist()])
    evals = optimizer.state[w]["func_evals"]
    return np.array(trace), evals


def test_rosenbrock_converges_with_the_line_search():
    trace, _ = _rosenbrock_run(npgrad, "strong_wolfe")
    np.testing.assert_allclose(trace[-1, 1:], [1.0, 1.0], atol=1e-5)
    assert trace[-1, 0] < 1e-9


def test_least_squares_fit_of_a_linear_model():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((50, 3))
    y = x @ np.array([[1.0], [-2.0], [0.5]]) + 0.3
    model = npgrad.nn.Linear(3, 1).double()
    optimizer = LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    inputs, targets = npgrad.tensor(x), npgrad.tensor(y)

    def closure():
        optimizer.zero_grad()
        loss = npgrad.nn.functional.mse_loss(model(inputs), targets)
        loss.backward()
        return loss

    first = optimizer.step(closure).item()
    assert optimizer.step(closure).item() < 1e-10 < first  # the loss at the second step's start
    np.testing.assert_allclose(model.weight.detach().numpy(), [[1.0, -2.0, 0.5]], atol=1e-5)
    np.testing.assert_allclose(model.bias.item(), 0.3, atol=1e-5)


@needs_torch
@pytest.mark.parametrize("line_search", [None, "strong_wolfe"])
@pytest.mark.parametrize("max_iter, history_size", [(20, 100), (5, 3)])
def test_every_iterate_matches_pytorch(line_search, max_iter, history_size):
    import torch

    ours, our_evals = _rosenbrock_run(npgrad, line_search, 4, max_iter, history_size)
    theirs, their_evals = _rosenbrock_run(torch, line_search, 4, max_iter, history_size)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    assert our_evals == their_evals


def test_arguments_are_checked():
    w = npgrad.zeros(2, requires_grad=True)
    with pytest.raises(ValueError, match="closure"):
        LBFGS([w]).step(None)
    with pytest.raises(ValueError, match="line_search_fn"):
        LBFGS([w], line_search_fn="backtracking")
    with pytest.raises(ValueError, match="parameter groups"):
        LBFGS([{"params": [w]}, {"params": [npgrad.zeros(1, requires_grad=True)]}])
