"""More of ``torch.distributions``: HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto, Chi2,
NegativeBinomial, Multinomial, and the relaxed (Gumbel-softmax / Concrete) Bernoulli and
one-hot categorical with their reparameterised samples. Densities as PyTorch's."""

import math

import numpy

from npgrad.backend import default_generator
from npgrad.distributions import (
    Categorical,
    Distribution,
    Gamma,
    TransformedDistribution,
    _as_float_tensor,
    _broadcast,
    _probs_and_logits,
    _shape,
    constraints,
    transforms,
)
from npgrad.nn import functional as F
from npgrad.tensor import Tensor, _array_of

EULER_GAMMA = 0.57721566490153286061


def _uniform(shape, dtype, low=0.0):
    """U(low, 1) draws, kept away from 0 and 1 by the dtype's smallest steps."""
    tiny = numpy.finfo(dtype).tiny
    draws = default_generator().random(shape).astype(dtype)
    return Tensor._wrap(numpy.clip(draws, max(low, tiny), 1 - numpy.finfo(dtype).eps))


class _Half(Distribution):
    """|X| for a symmetric X of ``scale`` (``_draw``: standard draws; ``_log_density``: X's
    log density at z = x / scale, less log scale): twice X's density on x >= 0."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def __init__(self, scale, validate_args=None):
        self.scale = _as_float_tensor(scale)
        super().__init__(self.scale.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        noise = self._draw(_shape(sample_shape) + self.batch_shape).astype(self.scale.dtype)
        return self.scale * Tensor._wrap(numpy.abs(noise))

    def log_prob(self, value):
        x = _as_float_tensor(value)
        density = math.log(2) + self._log_density(x / self.scale) - self.scale.log()
        return density.masked_fill(_array_of(x) < 0, -math.inf)


class HalfNormal(_Half):
    """|X| for X ~ Normal(0, scale): density 2 N(x; 0, scale), x >= 0."""

    @staticmethod
    def _draw(shape):
        return default_generator().standard_normal(shape)

    @staticmethod
    def _log_density(z):
        return -0.5 * math.log(2 * math.pi) - 0.5 * z * z

    def cdf(self, value):
        return (_as_float_tensor(value) / (self.scale * math.sqrt(2))).erf()

    def icdf(self, value):
        return self.scale * math.sqrt(2) * _as_float_tensor(value).erfinv()

    def entropy(self):
        return 0.5 * (math.pi / 2 * self.scale * self.scale).log() + 0.5

    @property
    def mean(self):
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def mode(self):
        return self.scale * 0

    @property
    def variance(self):
        return self.scale * self.scale * (1 - 2 / math.pi)


class HalfCauchy(_Half):
    """|X| for X ~ Cauchy(0, scale)."""

    @staticmethod
    def _draw(shape):
        return default_generator().standard_cauchy(shape)

    @staticmethod
    def _log_density(z):
        return -math.log(math.pi) - (z * z).log1p()

    def cdf(self, value):
        return 2 / math.pi * (_as_float_tensor(value) / self.scale).atan()

    def entropy(self):
        return (2 * math.pi * self.scale).log()

    @property
    def mean(self):
        return self.scale * math.inf

    @property
    def variance(self):
        return self.scale * math.inf


class Gumbel(Distribution):
    """The Gumbel (type-I extreme value) distribution: density e^-(z + e^-z) / scale with
    z = (x - loc) / scale."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args=None):
        self.loc, self.scale = _broadcast(_as_float_tensor(loc), _as_float_tensor(scale))
        super().__init__(self.loc.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        u = _uniform(_shape(sample_shape) + self.batch_shape, self.loc._data.dtype)
        return self.loc - self.scale * (-u.log()).log()  # loc - scale log(-log U)

    def log_prob(self, value):
        z = (_as_float_tensor(value) - self.loc) / self.scale
        return -(z + (-z).exp()) - self.scale.log()

    def cdf(self, value):
        return (-(-(_as_float_tensor(value) - self.loc) / self.scale).exp()).exp()

    def entropy(self):
        return self.scale.log() + (1 + EULER_GAMMA)

    @property
    def mean(self):
        return self.loc + self.scale * EULER_GAMMA

    @property
    def mode(self):
        return self.loc

    @property
    def variance(self):
        return (math.pi**2 / 6) * self.scale * self.scale


class Weibull(Distribution):
    """Weibull(scale lambda, concentration k): density (k / lambda) (x / lambda)^(k-1)
    e^-(x / lambda)^k, x >= 0; sampled as lambda E^(1/k), E ~ Exp(1)."""

    arg_constraints = {"scale": constraints.positive, "concentration": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, scale, concentration, validate_args=None):
        self.scale, self.concentration = _broadcast(
            _as_float_tensor(scale), _as_float_tensor(concentration)
        )
        super().__init__(self.scale.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().standard_exponential(shape).astype(self.scale._data.dtype)
        return self.scale * Tensor._wrap(draws) ** (1 / self.concentration)

    def log_prob(self, value):
        x, k, lam = _as_float_tensor(value), self.concentration, self.scale
        z = x / lam
        return (k / lam).log() + (k - 1) * z.log() - z**k

    def cdf(self, value):
        return 1 - (-((_as_float_tensor(value) / self.scale) ** self.concentration)).exp()

    def entropy(self):
        k = self.concentration
        return EULER_GAMMA * (1 - 1 / k) + (self.scale / k).log() + 1

    @property
    def mean(self):
        return self.scale * (1 + 1 / self.concentration).lgamma().exp()

    @property
    def variance(self):
        k = self.concentration
        first, second = (1 + 1 / k).lgamma().exp(), (1 + 2 / k).lgamma().exp()
        return self.scale * self.scale * (second - first * first)


class Pareto(Distribution):
    """Pareto(scale, alpha): density alpha scale^alpha / x^(alpha + 1), x >= scale."""

    arg_constraints = {"scale": constraints.positive, "alpha": constraints.positive}
    has_rsample = True

    def __init__(self, scale, alpha, validate_args=None):
        self.scale, self.alpha = _broadcast(_as_float_tensor(scale), _as_float_tensor(alpha))
        super().__init__(self.scale.shape)

    @constraints.dependent_property(is_discrete=False, event_dim=0)
    def support(self):
        return constraints.greater_than_eq(self.scale)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        draws = default_generator().standard_exponential(shape).astype(self.scale._data.dtype)
        return self.scale * (Tensor._wrap(draws) / self.alpha).exp()

    def log_prob(self, value):
        x = _as_float_tensor(value)
        density = self.alpha.log() + self.alpha * self.scale.log() - (self.alpha + 1) * x.log()
        return density.masked_fill(_array_of(x) < _array_of(self.scale), -math.inf)

    def cdf(self, value):
        return 1 - (self.scale / _as_float_tensor(value)) ** self.alpha

    def entropy(self):
        return (self.scale / self.alpha).log() + 1 / self.alpha + 1

    @property
    def mean(self):
        a = self.alpha.clamp(min=1)
        return (a * self.scale / (a - 1)).masked_fill(_array_of(self.alpha) <= 1, math.inf)

    @property
    def variance(self):
        a = self.alpha.clamp(min=2)
        found = self.scale**2 * a / ((a - 1) ** 2 * (a - 2))
        return found.masked_fill(_array_of(self.alpha) <= 2, math.inf)


class Chi2(Gamma):
    """Chi-squared with ``df`` degrees of freedom: Gamma(df / 2, 1 / 2)."""

    arg_constraints = {"df": constraints.positive}

    def __init__(self, df, validate_args=None):
        df = _as_float_tensor(df)
        super().__init__(0.5 * df, df * 0 + 0.5)

    @property
    def df(self):
        return self.concentration * 2


class NegativeBinomial(Distribution):
    """Successes before ``total_count`` failures, each trial a success with ``probs``:
    P(k) = C(k + r - 1, k) p^k (1 - p)^r, as PyTorch's."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(self, total_count, probs=None, logits=None, validate_args=None):
        probs, logits = _probs_and_logits("NegativeBinomial", probs, logits)
        self.total_count, self.probs, self.logits = _broadcast(
            _as_float_tensor(total_count).to(probs.dtype), probs, logits
        )
        super().__init__(self.probs.shape)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        r = numpy.broadcast_to(self.total_count._data.astype(numpy.float64), shape)
        p = numpy.broadcast_to(self.probs._data.astype(numpy.float64), shape)
        # NumPy counts failures before r successes: swap the roles
        draws = default_generator().negative_binomial(r, numpy.clip(1 - p, 1e-300, 1))
        return Tensor._wrap(draws.astype(self.probs._data.dtype))

    def log_prob(self, value):
        k, r = _as_float_tensor(value), self.total_count
        log_choose = (k + r).lgamma() - (k + 1).lgamma() - r.lgamma()
        # k log p + r log(1 - p), with p = sigmoid(logits)
        return log_choose + k * F.logsigmoid(self.logits) + r * F.logsigmoid(-self.logits)

    @property
    def mean(self):
        return self.total_count * self.logits.exp()

    @property
    def variance(self):
        return self.mean / (1 - self.probs)


class Multinomial(Distribution):
    """Counts of ``total_count`` draws over K classes of ``probs`` (or ``logits``)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}

    def __init__(self, total_count=1, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs=probs, logits=logits)
        self.total_count = int(total_count)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        super().__init__(self._categorical.batch_shape, self.probs.shape[-1:])

    @property
    def support(self):
        return constraints.independent(constraints.integer_interval(0, self.total_count), 1)

    def sample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape
        probs = self.probs._data.astype(numpy.float64)
        probs = numpy.broadcast_to(probs / probs.sum(-1, keepdims=True), shape + self.event_shape)
        draws = default_generator().multinomial(self.total_count, probs)
        return Tensor._wrap(draws.astype(self.probs._data.dtype))

    def log_prob(self, value):
        x = _as_float_tensor(value)
        n = float(self.total_count)
        unused = (_array_of(x) == 0) & numpy.isinf(_array_of(self.logits))  # 0 log 0 = 0
        logits = self.logits.masked_fill(unused, 0)
        log_choose = math.lgamma(n + 1) - (x + 1).lgamma().sum(-1)
        return log_choose + (x * logits).sum(-1)

    @property
    def mean(self):
        return self.probs * self.total_count

    @property
    def variance(self):
        return self.total_count * self.probs * (1 - self.probs)


class LogitRelaxedBernoulli(Distribution):
    """The logit of a RelaxedBernoulli sample: (logits + L) / temperature, L logistic."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.real
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self.probs, self.logits = _probs_and_logits("LogitRelaxedBernoulli", probs, logits)
        self.temperature = _as_float_tensor(temperature)
        super().__init__(self.probs.shape)

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        u = _uniform(_shape(sample_shape) + self.batch_shape, self.logits._data.dtype)
        return (self.logits + u.log() - (-u).log1p()) / self.temperature

    def log_prob(self, value):
        diff = self.logits - _as_float_tensor(value) * self.temperature
        return self.temperature.log() + diff - 2 * F.softplus(diff)


class RelaxedBernoulli(TransformedDistribution):
    """The Concrete / Gumbel-sigmoid relaxation of Bernoulli: values in (0, 1), a
    reparameterised sample; near 0/1 as ``temperature`` goes to 0."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = LogitRelaxedBernoulli(temperature, probs, logits)
        super().__init__(base, transforms.SigmoidTransform())
        self.temperature, self.probs, self.logits = base.temperature, base.probs, base.logits


class ExpRelaxedCategorical(Distribution):
    """The log of a RelaxedOneHotCategorical sample (log-space, for stability)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.real_vector
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        self._categorical = Categorical(probs=probs, logits=logits)
        self.probs, self.logits = self._categorical.probs, self._categorical.logits
        self.temperature = _as_float_tensor(temperature)
        super().__init__(self._categorical.batch_shape, self.probs.shape[-1:])

    def sample(self, sample_shape=()):
        return self.rsample(sample_shape).detach()

    def rsample(self, sample_shape=()):
        shape = _shape(sample_shape) + self.batch_shape + self.event_shape
        u = _uniform(shape, self.logits._data.dtype)
        scores = (self.logits - (-u.log()).log()) / self.temperature  # Gumbel-perturbed
        return scores - scores.logsumexp(-1, keepdim=True)

    def log_prob(self, value):
        k = self.event_shape[-1]
        log_scale = math.lgamma(k) + (k - 1) * self.temperature.log()
        score = self.logits - _as_float_tensor(value) * self.temperature
        return (score - score.logsumexp(-1, keepdim=True)).sum(-1) + log_scale


class RelaxedOneHotCategorical(TransformedDistribution):
    """The Concrete / Gumbel-softmax relaxation of a one-hot categorical: points of the
    simplex with a reparameterised sample (``F.gumbel_softmax``'s distribution)."""

    arg_constraints = {"probs": constraints.simplex, "logits": constraints.real_vector}
    support = constraints.simplex
    has_rsample = True

    def __init__(self, temperature, probs=None, logits=None, validate_args=None):
        base = ExpRelaxedCategorical(temperature, probs, logits)
        super().__init__(base, transforms.ExpTransform())
        self.temperature, self.probs, self.logits = base.temperature, base.probs, base.logits


__all__ = [
    "Chi2",
    "ExpRelaxedCategorical",
    "Gumbel",
    "HalfCauchy",
    "HalfNormal",
    "LogitRelaxedBernoulli",
    "Multinomial",
    "NegativeBinomial",
    "Pareto",
    "RelaxedBernoulli",
    "RelaxedOneHotCategorical",
    "Weibull",
]
