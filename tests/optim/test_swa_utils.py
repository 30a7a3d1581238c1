"""Weight averaging (optim.swa_utils): the SWA mean and the EMA by hand, SWALR's schedule,
update_bn's statistics, and PyTorch parity of a whole SWA and EMA run."""

import math

import numpy as np
import pytest
from helpers import needs_torch

import npgrad
from npgrad.optim import swa_utils


def _snapshots(model, count=4):
    """Perturb ``model`` at random ``count`` times, yielding a copy of its weights each time."""
    rng = np.random.default_rng(0)
    for _ in range(count):
        with npgrad.no_grad():
            for p in model.parameters():
                p.add_(npgrad.tensor(rng.standard_normal(p.shape), dtype=p.dtype))
        yield [p.detach().numpy().copy() for p in model.parameters()]


def test_swa_is_the_mean_and_ema_the_moving_average():
    model = npgrad.nn.Linear(3, 2).double()
    swa = swa_utils.AveragedModel(model)
    ema = swa_utils.AveragedModel(model, multi_avg_fn=swa_utils.get_ema_multi_avg_fn(0.8))
    per_tensor = swa_utils.AveragedModel(model, avg_fn=swa_utils.get_ema_avg_fn(0.8))
    snapshots = []
    for weights in _snapshots(model):
        snapshots.append(weights)
        for averaged in (swa, ema, per_tensor):
            averaged.update_parameters(model)
    assert swa.n_averaged.item() == 4
    for index, p in enumerate(swa.parameters()):
        np.testing.assert_allclose(p.numpy(), np.mean([s[index] for s in snapshots], axis=0))
    for index, (p, q) in enumerate(zip(ema.parameters(), per_tensor.parameters(), strict=True)):
        expected = snapshots[0][index]
        for s in snapshots[1:]:
            expected = 0.8 * expected + 0.2 * s[index]
        np.testing.assert_allclose(p.numpy(), expected)
        np.testing.assert_allclose(q.numpy(), expected)
    x = npgrad.randn(5, 3, dtype=npgrad.float64)
    np.testing.assert_allclose(swa(x).detach().numpy(), swa.module(x).detach().numpy())


def test_swalr_anneals_to_the_swa_rate_and_holds():
    w = npgrad.zeros(1, requires_grad=True)
    for strategy, shape in (("cos", lambda t: (1 - math.cos(math.pi * t)) / 2), ("linear", None)):
        optimizer = npgrad.optim.SGD([w], lr=1.0)
        scheduler = swa_utils.SWALR(optimizer, 0.1, anneal_epochs=4, anneal_strategy=strategy)
        rates = [optimizer.param_groups[0]["lr"]]
        for _ in range(6):
            scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
        anneal = shape or (lambda t: t)
        expected = [
            0.1 * anneal(min(k / 4, 1)) + 1.0 * (1 - anneal(min(k / 4, 1))) for k in range(7)
        ]
        np.testing.assert_allclose(rates, expected)
    with pytest.raises(ValueError, match="anneal_strategy"):
        swa_utils.SWALR(optimizer, 0.1, anneal_strategy="step")


def test_update_bn_recomputes_the_statistics_of_a_whole_pass():
    model = npgrad.nn.Sequential(npgrad.nn.Linear(3, 4), npgrad.nn.BatchNorm1d(4, momentum=0.3))
    batches = [npgrad.randn(8, 3) for _ in range(5)]
    model.eval()
    swa_utils.update_bn([(b, None) for b in batches], model)
    assert not model.training and model[1].momentum == 0.3
    with npgrad.no_grad():
        hidden = np.stack([model[0](b).numpy() for b in batches])
    np.testing.assert_allclose(model[1].running_mean.numpy(), hidden.mean(axis=(0, 1)), rtol=1e-5)
    variances = hidden.var(axis=1, ddof=1).mean(axis=0)  # the mean of per-batch unbiased ones
    np.testing.assert_allclose(model[1].running_var.numpy(), variances, rtol=1e-5)


@needs_torch
@pytest.mark.parametrize("kind", ["swa", "ema"])
def test_a_run_matches_pytorch(kind):
    import torch

    results = []
    npgrad.manual_seed(0)
    ours = npgrad.nn.Sequential(
        npgrad.nn.Linear(3, 4), npgrad.nn.BatchNorm1d(4), npgrad.nn.ReLU(), npgrad.nn.Linear(4, 1)
    ).double()
    theirs = torch.nn.Sequential(
        torch.nn.Linear(3, 4), torch.nn.BatchNorm1d(4), torch.nn.ReLU(), torch.nn.Linear(4, 1)
    ).double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((8, 3)), rng.standard_normal((8, 1))) for _ in range(6)]
    for lib, model in ((npgrad, ours), (torch, theirs)):
        utils = lib.optim.swa_utils
        average = (
            utils.AveragedModel(model, multi_avg_fn=utils.get_ema_multi_avg_fn(0.9))
            if kind == "ema"
            else utils.AveragedModel(model)
        )
        optimizer = lib.optim.SGD(model.parameters(), lr=0.1)
        scheduler = utils.SWALR(optimizer, swa_lr=0.05, anneal_epochs=3)
        rates = []
        for x, y in data:
            optimizer.zero_grad()
            ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean().backward()
            optimizer.step()
            average.update_parameters(model)
            scheduler.step()
            rates.append(optimizer.param_groups[0]["lr"])
        utils.update_bn([(lib.tensor(x),) for x, _ in data], average)
        state = {k: np.asarray(v.detach().numpy(), float) for k, v in average.state_dict().items()}
        results.append((state, rates))
    (our_state, our_rates), (their_state, their_rates) = results
    assert our_state.keys() == their_state.keys()
    for key in our_state:
        np.testing.assert_allclose(our_state[key], their_state[key], rtol=1e-12, err_msg=key)
    np.testing.assert_allclose(our_rates, their_rates, rtol=1e-12)
