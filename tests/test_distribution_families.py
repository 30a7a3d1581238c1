"""The further torch.distributions families and the constraints module: densities, moments
and cdfs against torch, sample moments, reparameterised gradients, constraint checks."""

import numpy as np
import pytest

import npgrad
from npgrad import distributions as D
from npgrad.distributions import constraints

F64 = npgrad.float64


def _t(values):
    return npgrad.tensor(np.asarray(values, dtype=np.float64))


CASES = [
    ("HalfNormal", lambda lib, t: lib.HalfNormal(t([0.5, 2.0])), [0.3, 1.7]),
    ("HalfCauchy", lambda lib, t: lib.HalfCauchy(t([0.5, 2.0])), [0.3, 1.7]),
    ("Gumbel", lambda lib, t: lib.Gumbel(t([0.0, 1.0]), t([1.0, 2.5])), [-0.4, 3.0]),
    ("Weibull", lambda lib, t: lib.Weibull(t([1.0, 2.0]), t([0.7, 3.0])), [0.4, 2.2]),
    ("Pareto", lambda lib, t: lib.Pareto(t([1.0, 2.0]), t([2.5, 3.5])), [1.5, 4.0]),
    ("Chi2", lambda lib, t: lib.Chi2(t([1.5, 4.0])), [0.5, 3.0]),
    (
        "NegativeBinomial",
        lambda lib, t: lib.NegativeBinomial(t([3.0, 5.5]), t([0.3, 0.8])),
        [2.0, 7.0],
    ),
    (
        "Multinomial",
        lambda lib, t: lib.Multinomial(6, t([0.2, 0.3, 0.5])),
        [[1.0, 2.0, 3.0], [0.0, 0.0, 6.0]],
    ),
    ("RelaxedBernoulli", lambda lib, t: lib.RelaxedBernoulli(t(0.5), t([0.3, 0.9])), [0.2, 0.95]),
    (
        "RelaxedOneHotCategorical",
        lambda lib, t: lib.RelaxedOneHotCategorical(t(0.7), t([0.2, 0.3, 0.5])),
        [[0.1, 0.3, 0.6], [0.8, 0.1, 0.1]],
    ),
]


@pytest.mark.parametrize("name, make, values", CASES, ids=[c[0] for c in CASES])
def test_against_torch(name, make, values):
    torch = pytest.importorskip("torch")
    import torch.distributions as TD

    ours = make(D, _t)
    theirs = make(TD, lambda v: torch.tensor(np.asarray(v, dtype=np.float64)))
    x = np.asarray(values, dtype=np.float64)
    np.testing.assert_allclose(
        ours.log_prob(_t(x)).numpy(), theirs.log_prob(torch.tensor(x)).numpy(), rtol=1e-10
    )
    for attribute in ("mean", "variance", "entropy", "cdf"):
        try:
            expected = getattr(theirs, attribute)
            expected = expected(torch.tensor(x)) if attribute == "cdf" else expected
            expected = expected() if callable(expected) else expected
        except NotImplementedError:
            continue
        try:
            found = getattr(ours, attribute)
            found = found(_t(x)) if attribute == "cdf" else found
            found = found() if callable(found) else found
        except (AttributeError, NotImplementedError):  # Multinomial's entropy, cdfs
            continue
        np.testing.assert_allclose(found.numpy(), expected.numpy(), rtol=1e-10, err_msg=attribute)
    assert tuple(ours.batch_shape) == tuple(theirs.batch_shape)
    assert tuple(ours.event_shape) == tuple(theirs.event_shape)
    assert tuple(ours.sample((3,)).shape) == tuple(theirs.sample((3,)).shape)


@pytest.mark.parametrize(
    "dist",
    [
        D.HalfNormal(_t(1.5)),
        D.Gumbel(_t(0.5), _t(2.0)),
        D.Weibull(_t(2.0), _t(1.5)),
        D.Pareto(_t(1.0), _t(4.0)),
        D.Chi2(_t(3.0)),
        D.NegativeBinomial(_t(4.0), _t(0.4)),
        D.Multinomial(10, _t([0.1, 0.6, 0.3])),
    ],
    ids=lambda d: type(d).__name__,
)
def test_sample_moments(dist):
    npgrad.manual_seed(0)
    draws = dist.sample((40000,)).numpy()
    np.testing.assert_allclose(draws.mean(0), dist.mean.numpy(), rtol=0.03, atol=0.02)
    np.testing.assert_allclose(draws.var(0), dist.variance.numpy(), rtol=0.08, atol=0.02)
    assert dist.support is None or bool(dist.support.check(_t(draws)).all())


def test_relaxed_samples_are_reparameterised_and_sharpen_with_temperature():
    npgrad.manual_seed(1)
    logits = npgrad.tensor([0.0, 1.0, 2.0], dtype=F64, requires_grad=True)
    cold = D.RelaxedOneHotCategorical(_t(0.05), logits=logits).rsample((2000,))
    assert np.allclose(cold.detach().numpy().sum(-1), 1.0)
    assert (cold.detach().numpy().max(-1) > 0.9).mean() > 0.9  # nearly one-hot
    counts = np.bincount(cold.detach().numpy().argmax(-1), minlength=3) / 2000
    np.testing.assert_allclose(counts, np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum(), atol=0.04)
    (cold[:, 2]).sum().backward()
    assert logits.grad is not None and np.isfinite(logits.grad.numpy()).all()
    soft = D.RelaxedBernoulli(_t(0.5), logits=logits).rsample()
    assert ((soft.detach().numpy() > 0) & (soft.detach().numpy() < 1)).all()


def test_constraints():
    x = npgrad.tensor([-1.0, 0.0, 0.5, 2.0])
    assert constraints.positive.check(x).tolist() == [False, False, True, True]
    assert constraints.nonnegative.check(x).tolist() == [False, True, True, True]
    assert constraints.unit_interval.check(x).tolist() == [False, True, True, False]
    assert constraints.interval(-1, 0.5).check(x).tolist() == [True, True, True, False]
    assert constraints.integer_interval(0, 2).check(x).tolist() == [False, True, False, True]
    assert constraints.nonnegative_integer.is_discrete
    assert constraints.real_vector.check(
        npgrad.tensor([[1.0, float("nan")], [1.0, 2.0]])
    ).tolist() == [False, True]
    assert constraints.simplex.event_dim == 1
    assert constraints.positive_definite.check(npgrad.eye(3)).item()
    assert not constraints.positive_definite.check(-npgrad.eye(3)).item()
    assert constraints.lower_cholesky.check(npgrad.tensor([[1.0, 0.0], [2.0, 3.0]])).item()
    assert constraints.is_dependent(constraints.dependent)
    with pytest.raises(ValueError, match="dependent"):
        constraints.dependent.check(x)
    assert D.Normal(0.0, 1.0).arg_constraints["scale"] is constraints.positive
    assert D.Binomial(5, probs=npgrad.tensor(0.5)).support.check(
        npgrad.tensor([5.0, 6.0])
    ).tolist() == [True, False]
    assert D.Categorical(logits=npgrad.zeros(4)).support.upper_bound == 3
    assert D.Dirichlet(npgrad.ones(3)).support is constraints.simplex


def test_constraints_against_torch():
    torch = pytest.importorskip("torch")
    from torch.distributions import constraints as tc

    rng = np.random.default_rng(0)
    values = np.concatenate([rng.standard_normal(20) * 2, [0.0, 1.0, np.nan]])
    for name in (
        "real",
        "positive",
        "nonnegative",
        "unit_interval",
        "nonnegative_integer",
        "boolean",
    ):
        ours = getattr(constraints, name).check(npgrad.tensor(values)).numpy()
        theirs = getattr(tc, name).check(torch.tensor(values)).numpy()
        np.testing.assert_array_equal(ours, theirs, err_msg=name)
