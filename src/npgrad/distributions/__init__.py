"""Probability distributions with differentiable log-probabilities, as ``torch.distributions``.

What policy-gradient and variational scripts use: ``Categorical``, ``OneHotCategorical``,
``Bernoulli``, ``Binomial``, ``Geometric``, ``Poisson``, ``Normal``, ``MultivariateNormal``,
``LogNormal``, ``Laplace``, ``Cauchy``, ``StudentT``, ``Uniform``, ``Exponential``, ``Gamma``,
``Beta``, ``Dirichlet``, ``Independent`` (batch dims read as event dims), ``MixtureSameFamily``
(mixture density networks), ``TransformedDistribution`` (a base distribution pushed through
the bijections of ``distributions.transforms``: exp, affine, sigmoid, tanh, softplus, power),
HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, Chi2, NegativeBinomial, Multinomial,
RelaxedBernoulli and RelaxedOneHotCategorical (``distributions.families``), ``constraints``
(each family's ``arg_constraints`` and ``support``) and ``kl_divergence`` between two of a
kind (Normal, MultivariateNormal, Categorical, Bernoulli, Uniform, Independent) or any pair
given a rule with ``register_kl``. ``log_prob``, ``entropy`` and ``rsample`` (the
reparameterised sample: Normal, MultivariateNormal, LogNormal, Laplace, Cauchy, Uniform,
Exponential, the half, Gumbel, Weibull, Pareto and relaxed ones) are built from npgrad ops, so
gradients flow into the parameters; ``sample`` draws from npgrad's global generator
(``npgrad.manual_seed``) and carries no gradient.

>>> import npgrad
>>> from npgrad.distributions import Categorical
>>> policy = Categorical(logits=npgrad.tensor([0.0, 0.0, 0.0, 0.0]))
>>> round(policy.entropy().item(), 4)  # log 4
1.3863
>>> round(policy.log_prob(npgrad.tensor(2)).item(), 4)
-1.3863
"""

import math

import numpy

from npgrad import linalg
from npgrad.backend import default_generator
from npgrad.distributions import transforms
from npgrad.errors import ShapeError
from npgrad.nn import functional as F
from npgrad.tensor import Tensor, _array_of, tensor

__all__ = [
    "Bernoulli",
    "Beta",
    "Binomial",
    "Categorical",
    "Cauchy",
    "Dirichlet",
    "Distribution",
    "Exponential",
    "Gamma",
    "Geometric",
    "Independent",
    "Laplace",
    "LogNormal",
    "MixtureSameFamily",
    "MultivariateNormal",
    "Normal",
    "OneHotCategorical",
    "Poisson",
    "StudentT",
    "TransformedDistribution",
    "Uniform",
    "kl_divergence",
    "register_kl",
    "transforms",
]


def _as_float_tensor(value):
    if isinstance(value, Tensor):
        return value if value.dtype.kind == "f" else value.float()
    return tensor(value, dtype=numpy.float32) if not isinstance(value, float) else tensor(value)


def _shape(sample_shape):
    return (sample_shape,) if isinstance(sample_shape, int) else tuple(sample_shape)


class Distribution:
    """Base class: ``batch_shape``, ``event_shape``, ``sample``, ``log_prob``, ``entropy``."""

    has_rsample = False

    def __init__(self, batch_shape=(), event_shape=()):
        self.batch_shape, self.event_shape = tuple(batch_shape), tuple(event_shape)

    def sample(self, sample_shape=()):
        """A sample of shape ``sample_shape + batch_shape + event_shape``, without gradient."""
        raise NotImplementedError

    def rsample(self, sample_shape=()):
        """A reparameterised sample: gradients flow into the parameters."""
        raise NotImplementedError(f"{type(self).__name__} has no reparameterised sample")

    def log_prob(self, value):
        raise NotImplementedError

    def entropy(self):
        raise NotImplementedError

    @property
    def stddev(self):
        return self.variance.sqrt()

    def __repr__(self):
        return f"{type(self).__name__}(batch_shape={self.batch_shape})"


class Categorical(Distribution):
    """Classes 0..K-1 with probabilities ``probs`` (normalised along the last dim) or
    ``logits`` (unnormalised log-probabilities); a batch of them over the leading dims."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        if (probs is None) == (logits is None):
            raise ValueError("Categorical: give exactly one of probs and logits")
        if probs is not None:
            probs = _as_float_tensor(probs)
            if (probs._data < 0).any():
                raise ValueError("Categorical: probs must be non-negative")
            self.probs = probs / probs.sum(-1, keepdim=True)
            self.logits = self.probs.clamp(min=numpy.finfo(probs.dtype).tiny).log()
        else:
            logits = _as_float_tensor(logits)
            self.logits = logits - logits.logsumexp(-1, keepdim=True)
            self.probs = self.logits.exp()
        if self.probs.ndim < 1:
            raise ShapeError("Categorical: probs or logits need at least one dim (the classes)")
        super().__init__(self.probs.shape[:-1])

    @property
    def num_events(self):
        return self.probs.shape[-1]

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        weights = self.probs._data.reshape(-1, self.num_events).astype(numpy.float64)
        cumulative = numpy.cumsum(weights / weights.sum(-1, keepdims=True), axis=-1)
        count = math.prod(_shape(sample_shape))
        uniform = default_generator().random((count, len(weights), 1))
        # inverse transform: the first class whose cumulative probability exceeds u
        draws = (uniform >= cumulative[None, :, :-1]).sum(-1)
        return Tensor._wrap(draws.reshape(shape).astype(numpy.int64))

    def log_prob(self, value):
        index = numpy.asarray(_array_of(value)).astype(numpy.int64)
        if index.size and (index.min() < 0 or index.max() >= self.num_events):
            raise ValueError(f"Categorical.log_prob: values must be in [0, {self.num_events})")
        shape = numpy.broadcast_shapes(index.shape, self.batch_shape)
        logits = self.logits.expand(*shape, self.num_events)
        return logits.gather(-1, numpy.broadcast_to(index, shape)[..., None]).squeeze(-1)

    def entropy(self):
        return -(self.probs * self.logits).sum(-1)

    @property
    def mean(self):
        raise NotImplementedError("Categorical: the mean of class labels is not defined")

    @property
    def mode(self):
        return self.probs.argmax(-1)


class Bernoulli(Distribution):
    """0 or 1 with probability ``probs`` of 1 (or ``logits``: its log-odds)."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.probs, self.logits = _probs_and_logits("Bernoulli", probs, logits)
        super().__init__(self.probs.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().random(shape) < numpy.broadcast_to(self.probs._data, shape)
        return Tensor._wrap(draws.astype(self.probs.dtype))

    def log_prob(self, value):
        value = _as_float_tensor(value)
        logits = self.logits
        shape = numpy.broadcast_shapes(value.shape, logits.shape)
        value, logits = value.expand(*shape), logits.expand(*shape)
        return -F.binary_cross_entropy_with_logits(logits, value, reduction="none")

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none")

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)


class Normal(Distribution):
    """The Gaussian N(loc, scale^2), element-wise over broadcast ``loc`` and ``scale``."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _as_float_tensor(loc), _as_float_tensor(scale)
        if (self.scale._data <= 0).any():
            raise ValueError("Normal: scale must be positive")
        super().__init__(numpy.broadcast_shapes(self.loc.shape, self.scale.shape))

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        noise = default_generator().standard_normal(shape).astype(self.loc.dtype)
        return self.loc + self.scale * Tensor._wrap(noise)  # loc + scale * eps, eps ~ N(0, 1)

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -0.5 * z * z - self.scale.log() - 0.5 * math.log(2 * math.pi)

    def entropy(self):
        return self.scale.log() + 0.5 + 0.5 * math.log(2 * math.pi) + self.loc * 0

    def cdf(self, value):
        return 0.5 * (1 + ((value - self.loc) / (self.scale * math.sqrt(2))).erf())

    @property
    def mean(self):
        return self.loc + self.scale * 0

    @property
    def variance(self):
        return self.scale * self.scale + self.loc * 0

    @property
    def stddev(self):
        return self.scale + self.loc * 0


class MultivariateNormal(Distribution):
    """The Gaussian N(loc, Sigma) over vectors (the last dim of ``loc``), Sigma given as exactly
    one of ``covariance_matrix``, ``precision_matrix`` (its inverse) or ``scale_tril`` (L lower
    triangular with a positive diagonal, Sigma = L L^T). Everything is computed through L:
    log_prob solves L z = x - loc, the log-determinant is 2 sum log diag L."""

    has_rsample = True

    def __init__(
        self,
        loc,
        covariance_matrix=None,
        precision_matrix=None,
        scale_tril=None,
        validate_args=None,
    ):
        given = [m is not None for m in (covariance_matrix, precision_matrix, scale_tril)]
        if sum(given) != 1:
            raise ValueError(
                "MultivariateNormal: give exactly one of covariance_matrix, precision_matrix "
                "and scale_tril"
            )
        self.loc = _as_float_tensor(loc)
        if self.loc.ndim < 1:
            raise ShapeError("MultivariateNormal: loc needs at least one dim (the event)")
        if scale_tril is not None:
            tril = _as_float_tensor(scale_tril)
        else:
            covariance = (
                _as_float_tensor(covariance_matrix)
                if covariance_matrix is not None
                else linalg.inv(_as_float_tensor(precision_matrix))
            )
            tril = linalg.cholesky(covariance)  # raises for a matrix that is not positive definite
        size = self.loc.shape[-1]
        if tril.ndim < 2 or tril.shape[-2:] != (size, size):
            raise ShapeError(
                f"MultivariateNormal: loc {self.loc.shape} needs ({size}, {size}) matrices, got "
                f"{tril.shape}"
            )
        batch = numpy.broadcast_shapes(self.loc.shape[:-1], tril.shape[:-2])
        self.scale_tril = tril.expand(*batch, size, size)
        self.loc = self.loc.expand(*batch, size)
        super().__init__(batch, (size,))

    def _half_log_det(self):  # log det(L) = sum log diag L  (= half of log det Sigma)
        return self.scale_tril.diagonal(dim1=-2, dim2=-1).log().sum(-1)

    def _whiten(self, value):
        """L^-1 (value - loc), broadcast over the batch: the standardised value."""
        diff = value - self.loc
        tril = self.scale_tril.expand(*diff.shape, diff.shape[-1])
        return linalg.solve(tril, diff.unsqueeze(-1)).squeeze(-1)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape + self.event_shape
        noise = Tensor._wrap(default_generator().standard_normal(shape).astype(self.loc.dtype))
        return self.loc + (self.scale_tril @ noise.unsqueeze(-1)).squeeze(-1)  # loc + L eps

    def log_prob(self, value):
        value = _as_float_tensor(value)
        z = self._whiten(value)
        size = self.event_shape[0]
        return -0.5 * (z * z).sum(-1) - self._half_log_det() - 0.5 * size * math.log(2 * math.pi)

    def entropy(self):
        size = self.event_shape[0]
        return self._half_log_det() + 0.5 * size * (1 + math.log(2 * math.pi))

    @property
    def mean(self):
        return self.loc

    @property
    def mode(self):
        return self.loc

    @property
    def covariance_matrix(self):
        return self.scale_tril @ self.scale_tril.transpose(-1, -2)

    @property
    def precision_matrix(self):
        return linalg.inv(self.covariance_matrix)

    @property
    def variance(self):
        return (self.scale_tril * self.scale_tril).sum(-1)  # diag(L L^T)


class Independent(Distribution):
    """``base_distribution`` with its last ``reinterpreted_batch_ndims`` batch dims read as
    event dims: log_prob and entropy sum over them (e.g. a diagonal Gaussian over vectors from
    a ``Normal`` of per-coordinate scales)."""

    def __init__(self, base_distribution, reinterpreted_batch_ndims, validate_args=None):
        count = reinterpreted_batch_ndims
        if not 0 <= count <= len(base_distribution.batch_shape):
            raise ValueError(
                f"Independent: reinterpreted_batch_ndims {count} must lie in [0, "
                f"{len(base_distribution.batch_shape)}] (the base's batch dims)"
            )
        self.base_dist, self.reinterpreted_batch_ndims = base_distribution, count
        split = len(base_distribution.batch_shape) - count
        batch = base_distribution.batch_shape
        super().__init__(batch[:split], batch[split:] + base_distribution.event_shape)

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def _summed(self, values):
        count = self.reinterpreted_batch_ndims
        return values.sum(tuple(range(-count, 0))) if count else values

    def sample(self, sample_shape=()):
        return self.base_dist.sample(sample_shape)

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape)

    def log_prob(self, value):
        return self._summed(self.base_dist.log_prob(value))

    def entropy(self):
        return self._summed(self.base_dist.entropy())

    @property
    def mean(self):
        return self.base_dist.mean

    @property
    def variance(self):
        return self.base_dist.variance


class Uniform(Distribution):
    """Uniform on [low, high), element-wise over broadcast bounds."""

    has_rsample = True

    def __init__(self, low, high, validate_args=None):
        self.low, self.high = _as_float_tensor(low), _as_float_tensor(high)
        if (self.high._data <= self.low._data).any():
            raise ValueError("Uniform: high must be greater than low")
        super().__init__(numpy.broadcast_shapes(self.low.shape, self.high.shape))

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        u = Tensor._wrap(default_generator().random(shape).astype(self.low.dtype))
        return self.low + (self.high - self.low) * u

    def log_prob(self, value):
        data = _array_of(value)
        inside = (data >= self.low._data) & (data < self.high._data)
        density = -(self.high - self.low).log()
        return density.masked_fill(~inside, -math.inf)

    def entropy(self):
        return (self.high - self.low).log()

    @property
    def mean(self):
        return (self.low + self.high) / 2

    @property
    def variance(self):
        width = self.high - self.low
        return width * width / 12


class Exponential(Distribution):
    """The exponential distribution of ``rate`` lambda: density lambda e^(-lambda x), x >= 0."""

    has_rsample = True

    def __init__(self, rate, validate_args=None):
        self.rate = _as_float_tensor(rate)
        if (self.rate._data <= 0).any():
            raise ValueError("Exponential: rate must be positive")
        super().__init__(self.rate.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().standard_exponential(shape).astype(self.rate.dtype)
        return Tensor._wrap(draws) / self.rate  # E / lambda, E ~ Exp(1)

    def log_prob(self, value):
        value = _as_float_tensor(value)
        density = self.rate.log() - self.rate * value
        return density.masked_fill(value._data < 0, -math.inf)

    def entropy(self):
        return 1 - self.rate.log()

    @property
    def mean(self):
        return 1 / self.rate

    @property
    def variance(self):
        return 1 / (self.rate * self.rate)


class Gamma(Distribution):
    """Gamma(concentration a, rate b): density b^a x^(a-1) e^(-b x) / Gamma(a), x > 0.
    ``sample`` carries no gradient (PyTorch's implicit reparameterisation is not here)."""

    def __init__(self, concentration, rate, validate_args=None):
        self.concentration, self.rate = _as_float_tensor(concentration), _as_float_tensor(rate)
        if (self.concentration._data <= 0).any() or (self.rate._data <= 0).any():
            raise ValueError("Gamma: concentration and rate must be positive")
        super().__init__(numpy.broadcast_shapes(self.concentration.shape, self.rate.shape))

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        a = numpy.broadcast_to(self.concentration._data, shape)
        b = numpy.broadcast_to(self.rate._data, shape)
        draws = default_generator().gamma(a, 1.0 / b)
        return Tensor._wrap(numpy.asarray(draws, dtype=self.rate.dtype))

    def log_prob(self, value):
        a, b, x = self.concentration, self.rate, _as_float_tensor(value)
        return a * b.log() + (a - 1) * x.log() - b * x - a.lgamma()

    def entropy(self):
        a, b = self.concentration, self.rate
        return a - b.log() + a.lgamma() + (1 - a) * a.digamma()

    @property
    def mean(self):
        return self.concentration / self.rate

    @property
    def variance(self):
        return self.concentration / (self.rate * self.rate)


class Beta(Distribution):
    """Beta(concentration1 a, concentration0 b) on (0, 1): density x^(a-1) (1-x)^(b-1) / B(a, b).
    ``sample`` carries no gradient."""

    def __init__(self, concentration1, concentration0, validate_args=None):
        self.concentration1 = _as_float_tensor(concentration1)
        self.concentration0 = _as_float_tensor(concentration0)
        if (self.concentration1._data <= 0).any() or (self.concentration0._data <= 0).any():
            raise ValueError("Beta: the concentrations must be positive")
        super().__init__(
            numpy.broadcast_shapes(self.concentration1.shape, self.concentration0.shape)
        )

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        a = numpy.broadcast_to(self.concentration1._data, shape)
        b = numpy.broadcast_to(self.concentration0._data, shape)
        draws = default_generator().beta(a, b)
        return Tensor._wrap(numpy.asarray(draws, dtype=self.concentration1.dtype))

    def _log_beta(self):  # log B(a, b) = lgamma(a) + lgamma(b) - lgamma(a + b)
        a, b = self.concentration1, self.concentration0
        return a.lgamma() + b.lgamma() - (a + b).lgamma()

    def log_prob(self, value):
        a, b, x = self.concentration1, self.concentration0, _as_float_tensor(value)
        return (a - 1) * x.log() + (b - 1) * (1 - x).log() - self._log_beta()

    def entropy(self):
        a, b = self.concentration1, self.concentration0
        return (
            self._log_beta()
            - (a - 1) * a.digamma()
            - (b - 1) * b.digamma()
            + (a + b - 2) * (a + b).digamma()
        )

    @property
    def mean(self):
        return self.concentration1 / (self.concentration1 + self.concentration0)

    @property
    def variance(self):
        a, b = self.concentration1, self.concentration0
        total = a + b
        return a * b / (total * total * (total + 1))


class Dirichlet(Distribution):
    """Dirichlet(concentration alpha) over the simplex of the last dim: density
    prod x_i^(alpha_i - 1) / B(alpha). ``sample`` carries no gradient."""

    def __init__(self, concentration, validate_args=None):
        self.concentration = _as_float_tensor(concentration)
        if self.concentration.ndim < 1 or (self.concentration._data <= 0).any():
            raise ValueError("Dirichlet: concentration must be positive, with at least one dim")
        super().__init__(self.concentration.shape[:-1], self.concentration.shape[-1:])

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape + self.event_shape
        alpha = numpy.broadcast_to(self.concentration._data, shape)
        draws = default_generator().standard_gamma(alpha)
        draws /= draws.sum(axis=-1, keepdims=True)
        return Tensor._wrap(numpy.asarray(draws, dtype=self.concentration.dtype))

    def log_prob(self, value):
        alpha, x = self.concentration, _as_float_tensor(value)
        normaliser = alpha.sum(-1).lgamma() - alpha.lgamma().sum(-1)
        return ((alpha - 1) * x.log()).sum(-1) + normaliser

    def entropy(self):
        alpha = self.concentration
        total, k = alpha.sum(-1), alpha.shape[-1]
        log_beta = alpha.lgamma().sum(-1) - total.lgamma()
        return log_beta + (total - k) * total.digamma() - ((alpha - 1) * alpha.digamma()).sum(-1)

    @property
    def mean(self):
        return self.concentration / self.concentration.sum(-1, keepdim=True)

    @property
    def variance(self):
        alpha = self.concentration
        total = alpha.sum(-1, keepdim=True)
        share = alpha / total
        return share * (1 - share) / (total + 1)


def _probs_and_logits(name, probs, logits):
    """(probs, logits) from exactly one of them, for the 0/1-trial distributions."""
    if (probs is None) == (logits is None):
        raise ValueError(f"{name}: give exactly one of probs and logits")
    if probs is not None:
        probs = _as_float_tensor(probs)
        tiny = numpy.finfo(probs.dtype).eps
        clipped = probs.clamp(tiny, 1 - tiny)
        return probs, clipped.log() - (1 - clipped).log()
    logits = _as_float_tensor(logits)
    return logits.sigmoid(), logits


def _broadcast(*tensors):
    shape = numpy.broadcast_shapes(*(t.shape for t in tensors))
    return [t.expand(*shape) for t in tensors]


class _LocationScale(Distribution):
    """loc + scale * Z for a standard variable Z that a subclass draws (``_standard``)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast(_as_float_tensor(loc), _as_float_tensor(scale))
        if (self.scale._data <= 0).any():
            raise ValueError(f"{type(self).__name__}: scale must be positive")
        super().__init__(self.loc.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        noise = self._standard(default_generator(), shape).astype(self.loc.dtype)
        return self.loc + self.scale * Tensor._wrap(noise)


class Laplace(_LocationScale):
    """Density exp(-|x - loc| / scale) / (2 scale)."""

    @staticmethod
    def _standard(rng, shape):  # the inverse CDF of u ~ U(-1/2, 1/2)
        u = rng.uniform(-0.5, 0.5, shape)
        return -numpy.sign(u) * numpy.log1p(-2 * numpy.abs(u))

    def log_prob(self, value):
        return -(value - self.loc).abs() / self.scale - (2 * self.scale).log()

    def cdf(self, value):
        z = (value - self.loc) / self.scale
        return 0.5 - 0.5 * z.sign() * (-z.abs()).expm1()

    def entropy(self):
        return 1 + (2 * self.scale).log()

    @property
    def mean(self):
        return self.loc

    @property
    def variance(self):
        return 2 * self.scale * self.scale


class Cauchy(_LocationScale):
    """Density 1 / (pi scale (1 + ((x - loc) / scale)^2)); no mean or variance."""

    @staticmethod
    def _standard(rng, shape):
        return rng.standard_cauchy(shape)

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        return -math.log(math.pi) - self.scale.log() - (z * z).log1p()

    def cdf(self, value):
        return ((value - self.loc) / self.scale).atan() / math.pi + 0.5

    def entropy(self):
        return math.log(4 * math.pi) + self.scale.log()

    @property
    def mean(self):
        return self.loc * math.nan

    @property
    def variance(self):
        return self.loc * 0 + math.inf


class LogNormal(Distribution):
    """exp(X) for X ~ Normal(loc, scale)."""

    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.base_dist = Normal(loc, scale)
        self.loc, self.scale = self.base_dist.loc, self.base_dist.scale
        super().__init__(self.base_dist.batch_shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        return self.base_dist.rsample(sample_shape).exp()

    def log_prob(self, value):
        value = _as_float_tensor(value)
        return self.base_dist.log_prob(value.log()) - value.log()  # the Jacobian of log

    def entropy(self):
        return self.base_dist.entropy() + self.loc

    @property
    def mean(self):
        return (self.loc + self.scale * self.scale / 2).exp()

    @property
    def variance(self):
        square = self.scale * self.scale
        return square.expm1() * (2 * self.loc + square).exp()


class StudentT(Distribution):
    """Student's t with ``df`` degrees of freedom, shifted by ``loc`` and scaled by ``scale``."""

    def __init__(self, df, loc=0.0, scale=1.0, validate_args=None):
        self.df, self.loc, self.scale = _broadcast(
            _as_float_tensor(df), _as_float_tensor(loc), _as_float_tensor(scale)
        )
        super().__init__(self.df.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().standard_t(numpy.broadcast_to(self.df._data, shape))
        return (self.loc + self.scale * Tensor._wrap(draws.astype(self.loc.dtype))).detach()

    def log_prob(self, value):
        z = (value - self.loc) / self.scale
        half = (self.df + 1) / 2
        return (
            half.lgamma() - (self.df / 2).lgamma() - 0.5 * (self.df * math.pi).log()
            - self.scale.log() - half * (z * z / self.df).log1p()
        )  # fmt: skip

    def entropy(self):
        half = (self.df + 1) / 2
        log_beta = (self.df / 2).lgamma() + math.lgamma(0.5) - half.lgamma()
        return (
            self.scale.log() + half * (half.digamma() - (self.df / 2).digamma())
            + 0.5 * self.df.log() + log_beta
        )  # fmt: skip

    @property
    def mean(self):
        return self.loc.masked_fill(self.df._data <= 1, math.nan)

    @property
    def variance(self):
        variance = self.scale * self.scale * self.df / (self.df - 2)
        variance = variance.masked_fill(self.df._data <= 2, math.inf)
        return variance.masked_fill(self.df._data <= 1, math.nan)


class Poisson(Distribution):
    """Counts k >= 0 with probability rate^k e^-rate / k!."""

    def __init__(self, rate, validate_args=None):
        self.rate = _as_float_tensor(rate)
        super().__init__(self.rate.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().poisson(numpy.broadcast_to(self.rate._data, shape))
        return Tensor._wrap(draws.astype(self.rate.dtype))

    def log_prob(self, value):
        value = _as_float_tensor(value)
        return value * self.rate.log() - self.rate - (value + 1).lgamma()

    @property
    def mean(self):
        return self.rate

    @property
    def variance(self):
        return self.rate


class Geometric(Distribution):
    """The number of failures before the first success of trials with success ``probs``
    (or ``logits``): P(k) = (1 - p)^k p, k >= 0."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self.probs, self.logits = _probs_and_logits("Geometric", probs, logits)
        super().__init__(self.probs.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        p = numpy.broadcast_to(self.probs._data.astype(numpy.float64), shape)
        draws = default_generator().geometric(p) - 1  # NumPy counts the trials
        return Tensor._wrap(draws.astype(self.probs.dtype))

    def log_prob(self, value):
        value = _as_float_tensor(value)
        # k log(1 - p) + log p, through logits: -k softplus(l) - softplus(-l)
        return -value * F.softplus(self.logits) - F.softplus(-self.logits)

    def entropy(self):
        return F.binary_cross_entropy_with_logits(self.logits, self.probs, reduction="none") / (
            self.probs
        )

    @property
    def mean(self):
        return 1 / self.probs - 1

    @property
    def variance(self):
        return (1 / self.probs - 1) / self.probs


class Binomial(Distribution):
    """Successes among ``total_count`` trials of success ``probs`` (or ``logits``)."""

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        probs, logits = _probs_and_logits("Binomial", probs, logits)
        self.total_count, self.probs, self.logits = _broadcast(
            _as_float_tensor(total_count).to(probs.dtype), probs, logits
        )
        super().__init__(self.probs.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().binomial(
            numpy.broadcast_to(self.total_count._data.astype(numpy.int64), shape),
            numpy.broadcast_to(self.probs._data.astype(numpy.float64), shape),
        )
        return Tensor._wrap(draws.astype(self.probs.dtype))

    def log_prob(self, value):
        value = _as_float_tensor(value)
        n = self.total_count
        log_choose = (n + 1).lgamma() - (value + 1).lgamma() - (n - value + 1).lgamma()
        # k log p + (n - k) log(1 - p) = k logits - n softplus(logits)
        return log_choose + value * self.logits - n * F.softplus(self.logits)

    @property
    def mean(self):
        return self.total_count * self.probs

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)


class OneHotCategorical(Distribution):
    """``Categorical`` with its samples and values one-hot over the last dim."""

    def __init__(self, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs=probs, logits=logits)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, (self._categorical.num_events,))

    def sample(self, sample_shape=()):
        index = self._categorical.sample(sample_shape)._data
        return Tensor._wrap(numpy.eye(self.event_shape[0], dtype=self.probs.dtype)[index])

    def log_prob(self, value):
        return (_as_float_tensor(value) * self.logits).sum(-1)

    def entropy(self):
        return self._categorical.entropy()

    @property
    def mean(self):
        return self.probs

    @property
    def variance(self):
        return self.probs * (1 - self.probs)


class MixtureSameFamily(Distribution):
    """A mixture: ``mixture_distribution`` (a Categorical over the last batch dim of
    ``component_distribution``) picks the component each sample comes from. log_prob is
    logsumexp over components of log weight + component log_prob (mixture density networks)."""

    def __init__(self, mixture_distribution, component_distribution, validate_args=None):
        self.mixture_distribution = mixture_distribution
        self.component_distribution = component_distribution
        components = component_distribution.batch_shape
        if not components or components[-1] != mixture_distribution.num_events:
            raise ShapeError(
                f"MixtureSameFamily: {mixture_distribution.num_events} mixture weights for "
                f"components of batch shape {components} (the last dim counts the components)"
            )
        super().__init__(components[:-1], component_distribution.event_shape)

    def _pad(self, value):  # x -> x[..., None, event]: against every component
        return value.unsqueeze(-1 - len(self.event_shape))

    def log_prob(self, value):
        value = _as_float_tensor(value)
        per_component = self.component_distribution.log_prob(self._pad(value))
        return (per_component + self.mixture_distribution.logits).logsumexp(-1)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape)
        chosen = self.mixture_distribution.sample(shape)._data  # sample + batch
        draws = self.component_distribution.sample(shape)._data  # sample + batch + (K,) + event
        axis = len(shape) + len(self.batch_shape)
        index = chosen.reshape(chosen.shape + (1,) * (1 + len(self.event_shape)))
        index = numpy.broadcast_to(index, draws.shape[:axis] + (1,) + draws.shape[axis + 1 :])
        return Tensor._wrap(numpy.take_along_axis(draws, index, axis=axis).squeeze(axis))

    @property
    def mean(self):
        weights = self.mixture_distribution.probs
        weights = weights.reshape(*weights.shape, *(1,) * len(self.event_shape))
        return (weights * self.component_distribution.mean).sum(-1 - len(self.event_shape))

    @property
    def variance(self):
        weights = self.mixture_distribution.probs
        weights = weights.reshape(*weights.shape, *(1,) * len(self.event_shape))
        axis = -1 - len(self.event_shape)
        mean = (weights * self.component_distribution.mean).sum(axis, keepdim=True)
        spread = (
            self.component_distribution.variance + (self.component_distribution.mean - mean) ** 2
        )
        return (weights * spread).sum(axis)  # the law of total variance


class TransformedDistribution(Distribution):
    """Y = t(X) for X ~ ``base_distribution`` and ``transforms`` (one or a list, applied in
    order): log p_Y(y) = log p_X(x) - sum log |dt/dx| along the way back from y. A
    reparameterised sample when the base has one (a tanh-squashed Gaussian policy:
    ``TransformedDistribution(Normal(mu, sigma), [TanhTransform(cache_size=1)])``)."""

    def __init__(self, base_distribution, transforms, validate_args=None):
        self.base_dist = base_distribution
        if not isinstance(transforms, (list, tuple)):
            transforms = [transforms]
        self.transforms = list(transforms)
        event_dim = max(
            [len(base_distribution.event_shape)] + [t.event_dim for t in self.transforms]
        )
        shape = base_distribution.batch_shape + base_distribution.event_shape
        cut = len(shape) - event_dim
        super().__init__(shape[:cut], shape[cut:])

    @property
    def has_rsample(self):
        return self.base_dist.has_rsample

    def _forward(self, x):
        for transform in self.transforms:
            x = transform(x)
        return x

    def sample(self, sample_shape=()):
        return self._forward(self.base_dist.sample(sample_shape)).detach()

    def rsample(self, sample_shape=()):
        return self._forward(self.base_dist.rsample(sample_shape))

    def log_prob(self, value):
        event_dim = len(self.event_shape)
        y, total = value, 0
        for transform in reversed(self.transforms):
            x = transform._inv_call(y)
            term = transform.log_abs_det_jacobian(x, y)
            total = total - transforms._sum_rightmost(term, event_dim - transform.event_dim)
            y = x
        base = self.base_dist.log_prob(y)
        return total + transforms._sum_rightmost(base, event_dim - len(self.base_dist.event_shape))


_KL_RULES = {}


def register_kl(type_p, type_q):
    """Decorator: ``fn(p, q)`` computes KL(p || q) for p a ``type_p`` and q a ``type_q``
    (subclasses included; the most specific registered pair wins)."""

    def decorator(function):
        _KL_RULES[type_p, type_q] = function
        return function

    return decorator


def _registered_kl(p, q):
    for p_type in type(p).__mro__:
        for q_type in type(q).__mro__:
            if (p_type, q_type) in _KL_RULES:
                return _KL_RULES[p_type, q_type]
    return None


def kl_divergence(p, q):
    """KL(p || q): a rule given with ``register_kl``, else for two distributions of the same
    kind (Normal, MultivariateNormal, Categorical, Bernoulli, Uniform, Independent), in closed
    form and differentiable in both."""
    rule = _registered_kl(p, q)
    if rule is not None:
        return rule(p, q)
    if type(p) is not type(q):
        raise NotImplementedError(
            f"kl_divergence: {type(p).__name__} against {type(q).__name__} is not implemented"
        )
    if isinstance(p, Independent):
        if p.reinterpreted_batch_ndims != q.reinterpreted_batch_ndims:
            raise NotImplementedError("kl_divergence: Independents over different event dims")
        return p._summed(kl_divergence(p.base_dist, q.base_dist))
    if isinstance(p, MultivariateNormal):
        # (tr(Sq^-1 Sp) + |Lq^-1 (m_q - m_p)|^2 - k) / 2 + log det Lq - log det Lp
        size = p.event_shape[0]
        batch = numpy.broadcast_shapes(p.batch_shape, q.batch_shape)
        q_tril = q.scale_tril.expand(*batch, size, size)
        ratio = linalg.solve(q_tril, p.scale_tril.expand(*batch, size, size))  # Lq^-1 Lp
        distance = q._whiten(p.loc.expand(*batch, size))
        trace = (ratio * ratio).sum((-2, -1))
        return 0.5 * (trace + (distance * distance).sum(-1) - size) + (
            q._half_log_det() - p._half_log_det()
        )
    if isinstance(p, Normal):  # log(s_q / s_p) + (s_p^2 + (m_p - m_q)^2) / (2 s_q^2) - 1/2
        ratio = p.scale / q.scale
        return -ratio.log() + (ratio * ratio + ((p.loc - q.loc) / q.scale) ** 2) / 2 - 0.5
    if isinstance(p, Categorical):
        return (p.probs * (p.logits - q.logits)).sum(-1)
    if isinstance(p, Bernoulli):
        return p.probs * (F.logsigmoid(p.logits) - F.logsigmoid(q.logits)) + (1 - p.probs) * (
            F.logsigmoid(-p.logits) - F.logsigmoid(-q.logits)
        )
    if isinstance(p, Uniform):
        inside = (q.low._data <= p.low._data) & (p.high._data <= q.high._data)
        result = ((q.high - q.low) / (p.high - p.low)).log()
        return result.masked_fill(~inside, math.inf)
    raise NotImplementedError(f"kl_divergence: {type(p).__name__} is not implemented")


# ------------------------------------------------------------------ constraints
from npgrad.distributions import constraints  # noqa: E402

# each family's parameters (arg_constraints) and values (support), as PyTorch declares them
_CONSTRAINTS = {
    Categorical: ({"probs": constraints.simplex, "logits": constraints.real_vector}, None),
    OneHotCategorical: (
        {"probs": constraints.simplex, "logits": constraints.real_vector},
        constraints.one_hot,
    ),
    Bernoulli: (
        {"probs": constraints.unit_interval, "logits": constraints.real},
        constraints.boolean,
    ),
    Geometric: (
        {"probs": constraints.unit_interval, "logits": constraints.real},
        constraints.nonnegative_integer,
    ),
    Binomial: (
        {
            "total_count": constraints.nonnegative_integer,
            "probs": constraints.unit_interval,
            "logits": constraints.real,
        },
        None,
    ),
    Poisson: ({"rate": constraints.nonnegative}, constraints.nonnegative_integer),
    Normal: ({"loc": constraints.real, "scale": constraints.positive}, constraints.real),
    LogNormal: ({"loc": constraints.real, "scale": constraints.positive}, constraints.positive),
    Laplace: ({"loc": constraints.real, "scale": constraints.positive}, constraints.real),
    Cauchy: ({"loc": constraints.real, "scale": constraints.positive}, constraints.real),
    StudentT: (
        {
            "df": constraints.positive,
            "loc": constraints.real,
            "scale": constraints.positive,
        },
        constraints.real,
    ),
    Uniform: ({"low": constraints.dependent, "high": constraints.dependent}, None),
    Exponential: ({"rate": constraints.positive}, constraints.nonnegative),
    Gamma: (
        {"concentration": constraints.positive, "rate": constraints.positive},
        constraints.nonnegative,
    ),
    Beta: (
        {"concentration1": constraints.positive, "concentration0": constraints.positive},
        constraints.unit_interval,
    ),
    Dirichlet: (
        {"concentration": constraints.independent(constraints.positive, 1)},
        constraints.simplex,
    ),
    MultivariateNormal: (
        {
            "loc": constraints.real_vector,
            "covariance_matrix": constraints.positive_definite,
            "precision_matrix": constraints.positive_definite,
            "scale_tril": constraints.lower_cholesky,
        },
        constraints.real_vector,
    ),
    Independent: ({}, None),
    MixtureSameFamily: ({}, None),
    TransformedDistribution: ({}, None),
}
for _family, (_args, _support) in _CONSTRAINTS.items():
    _family.arg_constraints = _args
    if _support is not None:
        _family.support = _support
Categorical.support = constraints.dependent_property(
    lambda self: constraints.integer_interval(0, self.num_events - 1), is_discrete=True
)
Binomial.support = constraints.dependent_property(
    lambda self: constraints.integer_interval(0, self.total_count), is_discrete=True
)
Uniform.support = constraints.dependent_property(
    lambda self: constraints.half_open_interval(self.low, self.high)
)
Independent.support = constraints.dependent_property(
    lambda self: constraints.independent(self.base_dist.support, self.reinterpreted_batch_ndims)
)
MixtureSameFamily.support = constraints.dependent_property(
    lambda self: self.component_distribution.support
)
TransformedDistribution.support = constraints.dependent_property(lambda self: constraints.dependent)
Distribution.arg_constraints = {}
Distribution.support = None

from npgrad.distributions.families import (  # noqa: E402
    Chi2,
    Gumbel,
    HalfCauchy,
    HalfNormal,
    Multinomial,
    NegativeBinomial,
    Pareto,
    RelaxedBernoulli,
    RelaxedOneHotCategorical,
    Weibull,
)

__all__ += [
    "Chi2",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "Multinomial",
    "NegativeBinomial",
    "Pareto",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "Weibull",
    "constraints",
]
