"""Where a distribution's parameters and values live (``torch.distributions.constraints``).

A constraint's ``check(value)`` is a bool tensor, one entry per event (``event_dim`` trailing
dims are one event); ``is_discrete`` marks integer supports. Each distribution lists its
parameters' constraints in ``arg_constraints`` and its values' in ``support``.

>>> import npgrad
>>> from npgrad.distributions import constraints
>>> constraints.positive.check(npgrad.tensor([1.0, -1.0])).tolist()
[True, False]
>>> constraints.simplex.check(npgrad.tensor([0.25, 0.75])).item()
True
"""

import numpy

from npgrad.tensor import Tensor, _array_of

__all__ = [
    "Constraint",
    "boolean",
    "cat",
    "corr_cholesky",
    "dependent",
    "dependent_property",
    "greater_than",
    "greater_than_eq",
    "half_open_interval",
    "independent",
    "integer_interval",
    "interval",
    "is_dependent",
    "less_than",
    "lower_cholesky",
    "lower_triangular",
    "nonnegative",
    "nonnegative_integer",
    "one_hot",
    "positive",
    "positive_definite",
    "positive_integer",
    "positive_semidefinite",
    "real",
    "real_vector",
    "simplex",
    "square",
    "stack",
    "symmetric",
    "unit_interval",
]


def _values(value):
    return numpy.asarray(_array_of(value) if isinstance(value, Tensor) else value)


class Constraint:
    """A region of values: ``check`` tells which events are in it."""

    is_discrete = False
    event_dim = 0

    def check(self, value):
        return Tensor._wrap(numpy.asarray(self._check(_values(value))))

    def _check(self, x):
        raise NotImplementedError

    def __repr__(self):
        return type(self).__name__.lstrip("_") + "()"


class _Test(Constraint):
    """A constraint given by a test that answers per event (``event_dim`` trailing dims)."""

    def __init__(self, test, name, event_dim=0, discrete=False):
        self._test, self._name = test, name
        self.event_dim, self.is_discrete = event_dim, discrete

    def _check(self, x):
        return self._test(x)

    def __repr__(self):
        return self._name


class _Dependent(Constraint):
    """A placeholder for a constraint that depends on other parameters (not checkable)."""

    def __init__(self, is_discrete=False, event_dim=0):
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, *, is_discrete=False, event_dim=0):
        return _Dependent(is_discrete, event_dim)

    def check(self, value):
        raise ValueError("Cannot determine validity of dependent constraint")


class dependent_property(property):  # noqa: N801 - PyTorch's name
    """A property whose constraint depends on the distribution's parameters."""

    def __init__(self, fn=None, *, is_discrete=False, event_dim=0):
        super().__init__(fn)
        self.is_discrete, self.event_dim = is_discrete, event_dim

    def __call__(self, fn):
        return dependent_property(fn, is_discrete=self.is_discrete, event_dim=self.event_dim)


def is_dependent(constraint):
    """True for ``dependent`` (a constraint that cannot be checked on its own)."""
    return isinstance(constraint, _Dependent)


class _Interval(Constraint):
    def __init__(self, lower=None, upper=None, closed=(True, True), discrete=False, name=""):
        self.lower_bound, self.upper_bound = lower, upper
        self._closed, self.is_discrete, self._name = closed, discrete, name

    def _check(self, x):
        ok = numpy.ones(x.shape, dtype=bool)
        if self.lower_bound is not None:
            low = _values(self.lower_bound)
            ok &= (x >= low) if self._closed[0] else (x > low)
        if self.upper_bound is not None:
            high = _values(self.upper_bound)
            ok &= (x <= high) if self._closed[1] else (x < high)
        if self.is_discrete:
            ok &= x == numpy.floor(x)
        return ok

    def __repr__(self):
        bounds = (("lower_bound", self.lower_bound), ("upper_bound", self.upper_bound))
        shown = ", ".join(f"{name}={b}" for name, b in bounds if b is not None)
        return f"{self._name}({shown})"


def interval(lower_bound, upper_bound):
    """lower <= x <= upper."""
    return _Interval(lower_bound, upper_bound, name="Interval")


def half_open_interval(lower_bound, upper_bound):
    """lower <= x < upper."""
    return _Interval(lower_bound, upper_bound, (True, False), name="HalfOpenInterval")


def greater_than(lower_bound):
    """x > lower."""
    return _Interval(lower_bound, None, (False, True), name="GreaterThan")


def greater_than_eq(lower_bound):
    """x >= lower."""
    return _Interval(lower_bound, None, name="GreaterThanEq")


def less_than(upper_bound):
    """x < upper."""
    return _Interval(None, upper_bound, (True, False), name="LessThan")


def integer_interval(lower_bound, upper_bound):
    """Whole numbers lower..upper."""
    return _Interval(lower_bound, upper_bound, discrete=True, name="IntegerInterval")


class independent(Constraint):  # noqa: N801 - PyTorch's name
    """``base_constraint`` with ``reinterpreted_batch_ndims`` more dims read as one event."""

    def __init__(self, base_constraint, reinterpreted_batch_ndims):
        self.base_constraint = base_constraint
        self.reinterpreted_batch_ndims = reinterpreted_batch_ndims
        self.event_dim = base_constraint.event_dim + reinterpreted_batch_ndims
        self.is_discrete = base_constraint.is_discrete

    def _check(self, x):
        ok = self.base_constraint._check(x)
        if self.reinterpreted_batch_ndims:
            ok = ok.all(axis=tuple(range(-self.reinterpreted_batch_ndims, 0)))
        return ok


class _Stacked(Constraint):
    """Pieces of ``dim`` each under their own constraint (``cat`` by sizes, ``stack`` one each)."""

    def __init__(self, constraints, dim, lengths=None):
        self.constraints, self.dim, self.lengths = list(constraints), dim, lengths

    def _check(self, x):
        if self.lengths is None:
            pieces = [numpy.take(x, i, axis=self.dim) for i in range(len(self.constraints))]
            return numpy.stack(
                [c._check(p) for c, p in zip(self.constraints, pieces, strict=True)], self.dim
            )
        bounds = numpy.cumsum([0, *self.lengths])
        parts = [
            c._check(numpy.take(x, range(a, b), axis=self.dim))
            for c, a, b in zip(self.constraints, bounds[:-1], bounds[1:], strict=True)
        ]
        return numpy.concatenate(parts, axis=self.dim)


def cat(cseq, dim=0, lengths=None):
    """Pieces of ``dim`` of the given lengths (1 each by default), each under its constraint."""
    return _Stacked(cseq, dim, list(lengths) if lengths is not None else [1] * len(cseq))


def stack(cseq, dim=0):
    """Slices along ``dim``, each under its constraint."""
    return _Stacked(cseq, dim)


def _lower_cholesky(x):
    lower = (numpy.triu(x, 1) == 0).all(axis=(-2, -1))
    return lower & (numpy.diagonal(x, axis1=-2, axis2=-1) > 0).all(-1)


def _corr_cholesky(x):
    tolerance = numpy.finfo(x.dtype).eps * x.shape[-1] * 10
    unit_rows = (numpy.abs(numpy.linalg.norm(x, axis=-1) - 1) <= tolerance).all(-1)
    return _lower_cholesky(x) & unit_rows


def _symmetric(x):
    if x.shape[-1] != x.shape[-2]:
        return numpy.zeros(x.shape[:-2], dtype=bool)
    return numpy.isclose(x, numpy.swapaxes(x, -1, -2), atol=1e-6).all(axis=(-2, -1))


def _eigenvalues_at_least(x, strict):
    if x.shape[-1] != x.shape[-2]:
        return numpy.zeros(x.shape[:-2], dtype=bool)
    values = numpy.linalg.eigvalsh(x)
    ok = values > 0 if strict else values >= -1e-6 * numpy.abs(values).max(-1, keepdims=True)
    return _symmetric(x) & ok.all(-1)


def _square(x):
    return numpy.full(x.shape[:-2], x.shape[-1] == x.shape[-2])


dependent = _Dependent()
boolean = _Test(lambda x: (x == 0) | (x == 1), "Boolean()", discrete=True)
one_hot = _Test(
    lambda x: ((x == 0) | (x == 1)).all(-1) & (x.sum(-1) == 1), "OneHot()", 1, discrete=True
)
nonnegative_integer = _Interval(0, None, discrete=True, name="IntegerGreaterThanEq")
positive_integer = _Interval(1, None, discrete=True, name="IntegerGreaterThanEq")
real = _Test(lambda x: x == x, "Real()")  # all but NaN
real_vector = independent(real, 1)
positive = greater_than(0.0)
nonnegative = greater_than_eq(0.0)
unit_interval = interval(0.0, 1.0)
simplex = _Test(lambda x: (x >= 0).all(-1) & (numpy.abs(x.sum(-1) - 1) < 1e-6), "Simplex()", 1)
lower_triangular = _Test(
    lambda x: (numpy.triu(x, 1) == 0).all(axis=(-2, -1)), "LowerTriangular()", 2
)
lower_cholesky = _Test(_lower_cholesky, "LowerCholesky()", 2)
corr_cholesky = _Test(_corr_cholesky, "CorrCholesky()", 2)
square = _Test(_square, "Square()", 2)
symmetric = _Test(_symmetric, "Symmetric()", 2)
positive_definite = _Test(lambda x: _eigenvalues_at_least(x, True), "PositiveDefinite()", 2)
positive_semidefinite = _Test(
    lambda x: _eigenvalues_at_least(x, False), "PositiveSemidefinite()", 2
)
