"""Distributions: log_prob, entropy and KL against torch (values and gradients), sampling."""

import numpy as np
import pytest
from helpers import check_grad, check_op, needs_torch, torch

import npgrad
from npgrad import distributions as D
from npgrad.errors import ShapeError

TD = torch.distributions if torch else None
VALUES = np.array([0, 3, 2])


@pytest.mark.parametrize("parameter", ["logits", "probs"])
def test_categorical_log_prob_and_entropy(parameter):
    def make(lib, x):
        return lib.Categorical(**{parameter: x})

    check_op(
        [(3, 4)],
        torch_fn=lambda x: make(TD, x).log_prob(torch.tensor(VALUES)) + make(TD, x).entropy(),
        npgrad_fn=lambda x: make(D, x).log_prob(npgrad.tensor(VALUES)) + make(D, x).entropy(),
        low=0.1,
    )


def test_bernoulli_normal_uniform():
    y = npgrad.tensor([1.0, 0.0, 1.0, 1.0])
    check_op(
        [(4,)],
        torch_fn=lambda z: (
            TD.Bernoulli(logits=z).log_prob(torch.tensor(y.numpy()))
            + TD.Bernoulli(logits=z).entropy()
        ),
        npgrad_fn=lambda z: D.Bernoulli(logits=z).log_prob(y) + D.Bernoulli(logits=z).entropy(),
    )
    check_op(
        [(4,), (4,), (4,)],
        torch_fn=lambda m, s, x: (
            TD.Normal(m, s.abs() + 0.5).log_prob(x)
            + TD.Normal(m, s.abs() + 0.5).entropy()
            + TD.Normal(m, s.abs() + 0.5).cdf(x)
        ),
        npgrad_fn=lambda m, s, x: (
            D.Normal(m, s.abs() + 0.5).log_prob(x)
            + D.Normal(m, s.abs() + 0.5).entropy()
            + D.Normal(m, s.abs() + 0.5).cdf(x)
        ),
    )
    check_op(
        [(4,), (4,)],
        torch_fn=lambda a, w: (
            TD.Uniform(a, a + w.abs() + 1).log_prob(a + 0.5)
            + TD.Uniform(a, a + w.abs() + 1).entropy()
        ),
        npgrad_fn=lambda a, w: (
            D.Uniform(a, a + w.abs() + 1).log_prob(a + 0.5)
            + D.Uniform(a, a + w.abs() + 1).entropy()
        ),
    )


@pytest.mark.parametrize("kind", ["Normal", "Categorical", "Bernoulli"])
def test_kl_divergence(kind):
    def make(lib, a, b):
        if kind == "Normal":
            return lib.Normal(a, b.abs() + 0.5)
        return getattr(lib, kind)(logits=a + b)

    check_op(
        [(3, 4)] * 4,
        torch_fn=lambda a, b, c, d: TD.kl_divergence(make(TD, a, b), make(TD, c, d)),
        npgrad_fn=lambda a, b, c, d: D.kl_divergence(make(D, a, b), make(D, c, d)),
    )


def test_sampling_frequencies_shapes_and_seeds():
    npgrad.manual_seed(0)
    policy = D.Categorical(probs=npgrad.tensor([[0.1, 0.6, 0.3], [1.0, 0.0, 0.0]]))
    draws = policy.sample((5000,))
    assert draws.shape == (5000, 2) and draws.dtype == npgrad.int64
    counts = np.bincount(draws.numpy()[:, 0], minlength=3) / 5000
    np.testing.assert_allclose(counts, [0.1, 0.6, 0.3], atol=0.03)
    assert (draws.numpy()[:, 1] == 0).all()
    npgrad.manual_seed(0)
    assert (policy.sample((5000,)).numpy() == draws.numpy()).all()  # repeatable
    normal = D.Normal(npgrad.tensor([1.0, -2.0]), npgrad.tensor([0.5, 2.0]))
    x = normal.sample((20000,)).numpy()
    np.testing.assert_allclose(x.mean(0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(x.std(0), [0.5, 2.0], rtol=0.05)
    coin = D.Bernoulli(probs=npgrad.tensor([0.25])).sample((8000,))
    assert abs(coin.numpy().mean() - 0.25) < 0.02


def test_rsample_carries_the_gradient():
    loc = npgrad.tensor([0.5, 1.5], requires_grad=True)
    scale = npgrad.tensor([1.0, 2.0], requires_grad=True)
    sample = D.Normal(loc, scale).rsample((1000,))
    sample.mean().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [0.5, 0.5], rtol=1e-5)  # d mean / d loc
    assert D.Normal(loc, scale).sample().requires_grad is False


def test_policy_gradient_learns_a_bandit():
    """REINFORCE on a 3-armed bandit (arm 2 pays): the policy ends up choosing it."""
    npgrad.manual_seed(0)
    logits = npgrad.zeros(3, requires_grad=True)
    optimizer = npgrad.optim.Adam([logits], lr=0.1)
    for _ in range(150):
        policy = D.Categorical(logits=logits)
        actions = policy.sample((16,))
        rewards = npgrad.tensor((actions.numpy() == 2).astype(np.float32))
        loss = -(policy.log_prob(actions) * (rewards - rewards.mean())).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert D.Categorical(logits=logits).probs[2].item() > 0.9


def test_errors():
    with pytest.raises(ValueError, match="exactly one of probs and logits"):
        D.Categorical()
    with pytest.raises(ValueError, match="scale must be positive"):
        D.Normal(0.0, 0.0)
    with pytest.raises(ValueError, match=r"values must be in \[0, 3\)"):
        D.Categorical(logits=npgrad.zeros(3)).log_prob(npgrad.tensor(3))
    with pytest.raises(NotImplementedError, match="Normal against Bernoulli"):
        D.kl_divergence(D.Normal(0.0, 1.0), D.Bernoulli(probs=0.5))


@needs_torch
def test_same_names_as_torch():
    for name in D.__all__:
        assert hasattr(torch.distributions, name)


CONCENTRATION = np.array([0.5, 2.0, 7.5])
RATE = np.array([1.5, 0.3, 2.0])
SIMPLEX = np.array([[0.5, 2.0, 3.0], [1.0, 1.0, 1.0]])
NEW_FAMILIES = {
    # name: (npgrad constructor on tensors, torch constructor, parameters, a value to score)
    "Gamma": (
        lambda a, b: D.Gamma(a, b),
        "Gamma",
        (CONCENTRATION, RATE),
        np.array([0.2, 3.0, 4.0]),
    ),
    "Beta": (lambda a, b: D.Beta(a, b), "Beta", (CONCENTRATION, RATE), np.array([0.2, 0.9, 0.5])),
    "Exponential": (lambda r: D.Exponential(r), "Exponential", (RATE,), np.array([0.2, 3.0, 0.5])),
    "Dirichlet": (
        lambda a: D.Dirichlet(a),
        "Dirichlet",
        (SIMPLEX,),
        np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
    ),
}


@pytest.mark.parametrize("name", list(NEW_FAMILIES))
def test_gamma_family_against_torch(name):
    """mean, variance, entropy and log_prob, and the gradients of log_prob + entropy in the
    parameters (through lgamma and digamma), against torch.distributions."""
    make, torch_name, params, value = NEW_FAMILIES[name]
    ours = [npgrad.tensor(p, dtype=npgrad.float64, requires_grad=True) for p in params]
    dist = make(*ours)
    total = dist.log_prob(npgrad.tensor(value, dtype=npgrad.float64)).sum() + dist.entropy().sum()
    total.backward()
    check_grad(lambda *ps: make(*ps).log_prob(npgrad.tensor(value)).sum(), *params)
    if torch is None:
        return
    theirs = [torch.tensor(p, requires_grad=True) for p in params]
    reference = getattr(torch.distributions, torch_name)(*theirs)
    (reference.log_prob(torch.tensor(value)).sum() + reference.entropy().sum()).backward()
    for attr in ("mean", "variance"):
        np.testing.assert_allclose(
            getattr(dist, attr).numpy(), getattr(reference, attr).detach().numpy(), rtol=1e-10
        )
    np.testing.assert_allclose(
        total.item(),
        (reference.log_prob(torch.tensor(value)).sum() + reference.entropy().sum()).item(),
        rtol=1e-10,
    )
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-8)


def test_gamma_family_samples():
    npgrad.manual_seed(0)
    gamma = D.Gamma(npgrad.tensor(3.0), npgrad.tensor(2.0)).sample((40000,))
    assert gamma.shape == (40000,) and abs(gamma.mean().item() - 1.5) < 0.03
    beta = D.Beta(npgrad.tensor(2.0), npgrad.tensor(3.0)).sample((40000,))
    assert abs(beta.mean().item() - 0.4) < 0.01 and beta.min().item() > 0 and beta.max().item() < 1
    draws = D.Dirichlet(npgrad.tensor(SIMPLEX)).sample((5,))
    assert draws.shape == (5, 2, 3) and np.allclose(draws.numpy().sum(-1), 1)
    rate = npgrad.tensor([2.0], requires_grad=True)
    D.Exponential(rate).rsample((100,)).sum().backward()  # E / rate: d/drate = -E / rate^2
    assert rate.grad.item() < 0
    with pytest.raises(ValueError, match="positive"):
        D.Gamma(npgrad.tensor(-1.0), npgrad.tensor(1.0))


# ----------------------------------------------------------------------- MultivariateNormal


def _covariances(rng, batch=(), size=3):
    a = rng.standard_normal((*batch, size, size))
    return a @ np.swapaxes(a, -1, -2) + np.eye(size)


def test_multivariate_normal_with_a_diagonal_is_an_independent_normal():
    scales = np.array([0.5, 1.0, 2.0])
    loc = npgrad.tensor([0.1, -0.2, 0.3], dtype=npgrad.float64)
    mvn = D.MultivariateNormal(loc, covariance_matrix=npgrad.tensor(np.diag(scales**2)))
    diagonal = D.Independent(D.Normal(loc, npgrad.tensor(scales)), 1)
    assert (mvn.batch_shape, mvn.event_shape) == (diagonal.batch_shape, diagonal.event_shape)
    x = npgrad.tensor(np.random.default_rng(0).standard_normal((5, 3)))
    np.testing.assert_allclose(mvn.log_prob(x).numpy(), diagonal.log_prob(x).numpy())
    np.testing.assert_allclose(mvn.entropy().numpy(), diagonal.entropy().numpy())
    other = D.MultivariateNormal(loc * 2, scale_tril=npgrad.tensor(np.diag(scales * 3)))
    other_diagonal = D.Independent(D.Normal(loc * 2, npgrad.tensor(scales * 3)), 1)
    np.testing.assert_allclose(
        D.kl_divergence(mvn, other).numpy(), D.kl_divergence(diagonal, other_diagonal).numpy()
    )
    np.testing.assert_allclose(mvn.variance.numpy(), scales**2)


def test_multivariate_normal_samples_have_its_moments_and_rsample_carries_gradient():
    npgrad.manual_seed(0)
    covariance = _covariances(np.random.default_rng(1))
    loc = npgrad.tensor([1.0, -1.0, 0.5], dtype=npgrad.float64, requires_grad=True)
    mvn = D.MultivariateNormal(loc, precision_matrix=npgrad.tensor(np.linalg.inv(covariance)))
    draws = mvn.sample((40000,)).numpy()
    np.testing.assert_allclose(draws.mean(0), [1.0, -1.0, 0.5], atol=0.05)
    np.testing.assert_allclose(np.cov(draws.T), covariance, atol=0.15 * np.abs(covariance).max())
    np.testing.assert_allclose(mvn.covariance_matrix.detach().numpy(), covariance, rtol=1e-10)
    mvn.rsample((3,)).sum().backward()
    np.testing.assert_allclose(loc.grad.numpy(), [3.0, 3.0, 3.0])


def test_multivariate_normal_and_independent_errors():
    with pytest.raises(ValueError, match="exactly one"):
        D.MultivariateNormal(
            npgrad.zeros(2), covariance_matrix=npgrad.eye(2), scale_tril=npgrad.eye(2)
        )
    with pytest.raises(ShapeError, match=r"\(2, 2\) matrices"):
        D.MultivariateNormal(npgrad.zeros(2), covariance_matrix=npgrad.eye(3))
    with pytest.raises(ValueError, match="reinterpreted_batch_ndims"):
        D.Independent(D.Normal(npgrad.zeros(2), npgrad.ones(2)), 2)


@needs_torch
def test_multivariate_normal_and_independent_match_pytorch():
    rng = np.random.default_rng(2)
    covariance, loc = _covariances(rng, (2,)), rng.standard_normal((2, 3))
    other_covariance, other_loc = _covariances(rng), rng.standard_normal(3)
    x = rng.standard_normal((4, 2, 3))
    results = []
    for lib, dist in ((npgrad, D), (torch, TD)):
        m = lib.tensor(loc, requires_grad=True)
        c = lib.tensor(covariance, requires_grad=True)
        p = dist.MultivariateNormal(m, covariance_matrix=c)
        q = dist.MultivariateNormal(
            lib.tensor(other_loc), precision_matrix=lib.tensor(np.linalg.inv(other_covariance))
        )
        values = [p.log_prob(lib.tensor(x)), p.entropy(), dist.kl_divergence(p, q)]
        independent = dist.Independent(dist.Normal(m, lib.tensor(np.abs(loc) + 0.5)), 1)
        values.append(independent.log_prob(lib.tensor(x)))
        sum(v.sum() for v in values).backward()
        results.append([v.detach().numpy() for v in values] + [m.grad.numpy(), c.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


# ----------------------------------------------------------------------- more families

_LOC = np.array([0.3, -1.0, 2.0, 0.0])
_SCALE = np.array([0.5, 1.0, 2.0, 1.5])
_COUNTS = np.array([[0.0, 1.0, 2.0, 3.0], [4.0, 0.0, 1.0, 5.0]])
_MORE = {
    # name: (make(module, loc, scale), values, has entropy)
    "Laplace": (lambda m, l, s: m.Laplace(l, s), _COUNTS - 1.5, True),
    "Cauchy": (lambda m, l, s: m.Cauchy(l, s), _COUNTS - 1.5, True),
    "LogNormal": (lambda m, l, s: m.LogNormal(l, s), _COUNTS + 0.25, True),
    "StudentT": (lambda m, l, s: m.StudentT(s * 3, l, s), _COUNTS - 1.5, True),
    "Poisson": (lambda m, l, s: m.Poisson(s), _COUNTS, False),
    "Geometric": (lambda m, l, s: m.Geometric(logits=l), _COUNTS, True),
    "Binomial": (lambda m, l, s: m.Binomial(5, logits=l), _COUNTS, False),
}


@pytest.mark.parametrize("name", list(_MORE))
def test_more_families_sample_their_moments(name):
    make, _, _ = _MORE[name]
    npgrad.manual_seed(0)
    dist = make(D, npgrad.tensor(_LOC), npgrad.tensor(_SCALE))
    draws = dist.sample((20000,)).numpy()
    assert draws.shape == (20000, 4)
    if name == "Cauchy":  # no moments: its median is loc
        np.testing.assert_allclose(np.median(draws, 0), _LOC, atol=0.1)
        return
    if name == "LogNormal":  # heavy-tailed: check the normal it is the exponential of
        draws = np.log(draws)
        dist = D.Normal(npgrad.tensor(_LOC), npgrad.tensor(_SCALE))
    mean, variance = dist.mean.numpy(), dist.variance.numpy()
    finite = np.isfinite(variance)
    np.testing.assert_allclose(draws.mean(0)[finite], mean[finite], rtol=0.1, atol=0.1)
    np.testing.assert_allclose(draws.var(0)[finite], variance[finite], rtol=0.25, atol=0.1)


@needs_torch
@pytest.mark.parametrize("name", list(_MORE))
def test_more_families_match_pytorch(name):
    make, values, has_entropy = _MORE[name]
    results = []
    for lib, module in ((npgrad, D), (torch, TD)):
        loc, scale = lib.tensor(_LOC, requires_grad=True), lib.tensor(_SCALE, requires_grad=True)
        dist = make(module, loc, scale)
        outputs = [dist.log_prob(lib.tensor(values))] + ([dist.entropy()] if has_entropy else [])
        sum(o.sum() for o in outputs).backward()
        outputs += [dist.mean, dist.variance]
        grads = [t.grad.numpy() if t.grad is not None else np.zeros(4) for t in (loc, scale)]
        results.append([o.detach().numpy() for o in outputs] + grads)
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-12)


@needs_torch
def test_one_hot_categorical_and_mixture_match_pytorch():
    logits = np.random.default_rng(8).standard_normal((2, 3))
    results = []
    for lib, module in ((npgrad, D), (torch, TD)):
        weights = lib.tensor(logits, requires_grad=True)
        one_hot = module.OneHotCategorical(logits=weights)
        means = lib.tensor(np.arange(12.0).reshape(2, 3, 2))
        component = module.Independent(
            module.Normal(means, lib.ones(2, 3, 2, dtype=means.dtype)), 1
        )
        mixture = module.MixtureSameFamily(module.Categorical(logits=weights), component)
        outputs = [
            one_hot.log_prob(lib.tensor(np.eye(3)[[0, 2]])),
            one_hot.entropy(),
            mixture.log_prob(lib.tensor(np.ones((4, 2, 2)))),
        ]
        sum(o.sum() for o in outputs).backward()
        outputs += [mixture.mean, mixture.variance]
        results.append([o.detach().numpy() for o in outputs] + [weights.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_mixture_samples_come_from_the_chosen_components():
    npgrad.manual_seed(1)
    mixture = D.MixtureSameFamily(
        D.Categorical(probs=npgrad.tensor([0.25, 0.75])),
        D.Normal(npgrad.tensor([-10.0, 10.0]), npgrad.tensor([0.1, 0.1])),
    )
    draws = mixture.sample((4000,)).numpy()
    assert draws.shape == (4000,) and abs((draws > 0).mean() - 0.75) < 0.03
    assert np.all(np.abs(np.abs(draws) - 10) < 1)
    hot = D.OneHotCategorical(probs=npgrad.tensor([0.2, 0.8])).sample((1000,)).numpy()
    assert hot.shape == (1000, 2) and (hot.sum(1) == 1).all() and abs(hot[:, 1].mean() - 0.8) < 0.05
    with pytest.raises(ShapeError, match="mixture weights"):
        D.MixtureSameFamily(
            D.Categorical(logits=npgrad.zeros(3)), D.Normal(npgrad.zeros(2), npgrad.ones(2))
        )


def test_transformed_distribution_log_prob_and_rsample():
    from npgrad.distributions import transforms as T

    loc, scale = npgrad.tensor([0.3, -0.2], requires_grad=True), npgrad.tensor([0.5, 1.5])
    base = D.Normal(loc, scale)
    lognormal = D.TransformedDistribution(base, T.ExpTransform())
    value = npgrad.tensor([0.7, 2.0])
    np.testing.assert_allclose(
        lognormal.log_prob(value).numpy(),
        D.LogNormal(loc, scale).log_prob(value).numpy(),
        rtol=1e-5,
    )
    squashed = D.TransformedDistribution(base, [T.TanhTransform(cache_size=1)])
    action = squashed.rsample()
    assert action.requires_grad and (action.abs() < 1).all()
    log_prob = squashed.log_prob(action)  # the cached pre-image: no atanh of +-1
    x = base.log_prob(T.TanhTransform()._inverse(action.detach()))
    expected = x - (1 - action.detach() ** 2).log()
    np.testing.assert_allclose(log_prob.detach().numpy(), expected.numpy(), rtol=1e-4)
    log_prob.sum().backward()
    assert loc.grad is not None
    shifted = D.TransformedDistribution(base, [T.AffineTransform(1.0, 2.0), T.SigmoidTransform()])
    assert shifted.sample((5,)).shape == (5, 2) and not shifted.sample().requires_grad
    independent = D.TransformedDistribution(
        D.Independent(D.Normal(npgrad.zeros(3), npgrad.ones(3)), 1), T.AffineTransform(0.0, 2.0)
    )
    assert independent.event_shape == (3,) and independent.log_prob(npgrad.ones(3)).shape == ()


@needs_torch
@pytest.mark.parametrize(
    "names",
    [
        ["ExpTransform"],
        ["TanhTransform"],
        ["SigmoidTransform"],
        ["SoftplusTransform"],
        ["AffineTransform", "TanhTransform"],
        ["PowerTransform"],
    ],
)
def test_transformed_distribution_matches_pytorch(names):
    from npgrad.distributions import transforms as T

    def build(module, library):
        made = []
        for name in names:
            if name == "AffineTransform":
                made.append(module.AffineTransform(0.5, 3.0))
            elif name == "PowerTransform":
                made.append(module.PowerTransform(library.tensor(2.0, dtype=library.float64)))
            else:
                made.append(getattr(module, name)())
        return made

    loc, scale = np.array([0.1, 0.4, 0.2]), np.array([0.3, 0.2, 0.1])
    ours = D.TransformedDistribution(
        D.Normal(npgrad.tensor(loc), npgrad.tensor(scale)), build(T, npgrad)
    )
    theirs = torch.distributions.TransformedDistribution(
        torch.distributions.Normal(torch.tensor(loc), torch.tensor(scale)),
        build(torch.distributions.transforms, torch),
    )
    value = theirs.sample((4,))
    np.testing.assert_allclose(
        ours.log_prob(npgrad.tensor(value.numpy())).numpy(),
        theirs.log_prob(value).numpy(),
        rtol=1e-6,
    )


def test_register_kl_rules_are_found_through_subclasses():
    class Wide(D.Normal):
        pass

    @D.register_kl(D.Normal, D.Laplace)
    def _normal_laplace(p, q):
        return p.loc * 0 + 42.0

    assert D.kl_divergence(Wide(0.0, 1.0), D.Laplace(0.0, 1.0)).item() == 42.0
    with pytest.raises(NotImplementedError, match="Laplace against Normal"):
        D.kl_divergence(D.Laplace(0.0, 1.0), D.Normal(0.0, 1.0))
