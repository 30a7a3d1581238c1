"""Finite-difference gradient checking for any function of tensors.

The check compares, for every input that requires grad, the analytic gradient that ``backward``
computes against central differences in float64. To keep it to one backward pass the output is
projected on a fixed random direction ``r``: we differentiate the scalar ``sum(f(x) * r)``, whose
gradient is the vector-Jacobian product that backward computes (the trick of CMU's needle).
"""

from dataclasses import dataclass, field

import numpy

from npgrad.autograd import enable_grad, grad, no_grad
from npgrad.errors import GradcheckError
from npgrad.tensor import Tensor


@dataclass
class InputReport:
    """How well one input's analytic gradient matched the numerical one."""

    index: int
    shape: tuple
    max_abs_error: float
    max_rel_error: float
    worst_index: tuple | None
    analytic: float | None
    numeric: float | None
    passed: bool = True

    def __str__(self):
        where = "" if self.passed else f", FAILS at {self.worst_index}"
        return (
            f"input {self.index} {self.shape}: max abs error {self.max_abs_error:.3g}, "
            f"max rel error {self.max_rel_error:.3g}{where}"
        )


@dataclass
class GradcheckReport:
    """Result of :func:`gradcheck`: one :class:`InputReport` per input that requires grad."""

    inputs: list = field(default_factory=list)
    passed: bool = True

    def __bool__(self):  # ``assert gradcheck(...)`` as with torch.autograd.gradcheck
        return self.passed

    def __str__(self):
        status = "passed" if self.passed else "FAILED"
        return "\n".join([f"gradcheck {status}"] + [f"  {r}" for r in self.inputs])


def _outputs(result):
    """Normalise a function's result to a list of tensors."""
    if isinstance(result, Tensor):
        return [result]
    return [r for r in result if isinstance(r, Tensor)]


def _projection(outputs, projections):
    """sum(out * r) over the outputs that require grad (None when none does)."""
    total = None
    for out, r in zip(outputs, projections, strict=True):
        if out.requires_grad:
            term = (out * Tensor._wrap(r)).sum()
            total = term if total is None else total + term
    return total


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0, name=None):
    """Check ``fn``'s analytic gradients against float64 central differences.

    Args:
        fn: a function of tensors returning a tensor (or a tuple of tensors).
        inputs: a tensor or a sequence of tensors; those with ``requires_grad`` are checked. Use
            float64 tensors: float32 finite differences are too noisy to be meaningful.
        eps: the finite-difference step.
        atol: absolute tolerance.
        rtol: relative tolerance: an element passes when
            ``|analytic - numeric| <= atol + rtol * |numeric|``.
        raise_exception: raise on mismatch (default) instead of only reporting it.
        seed: seed of the random output projection.
        name: what to call ``fn`` in messages (defaults to its ``__name__``).

    Returns:
        A :class:`GradcheckReport` (its ``passed`` says whether all inputs matched).

    Raises:
        GradcheckError: when a gradient mismatches, naming the input, the worst element and both
            values; or when no input requires grad.

    >>> import npgrad
    >>> x = npgrad.randn(3, 4, dtype=npgrad.float64, requires_grad=True)
    >>> npgrad.diagnostics.gradcheck(lambda t: (t * t).sum(dim=1), x).passed
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    label = name or getattr(fn, "__name__", "function")
    if not checked:
        raise GradcheckError(f"gradcheck({label}): no input requires grad, nothing to check")
    for i in checked:
        if inputs[i].dtype != numpy.float64:
            raise GradcheckError(
                f"gradcheck({label}): input {i} is {inputs[i].dtype}; use float64 inputs "
                "(x.double()) for meaningful finite differences"
            )

    rng = numpy.random.default_rng(seed)
    outputs = _outputs(fn(*inputs))
    projections = [rng.standard_normal(out.shape) for out in outputs]

    # Analytic: one backward of sum(out * r).
    for i in checked:
        inputs[i].grad = None
    total = _projection(outputs, projections)
    analytic = {}
    if total is not None:
        total.backward()
    for i in checked:
        grad = inputs[i].grad
        analytic[i] = numpy.zeros(inputs[i].shape) if grad is None else grad.numpy().copy()
        inputs[i].grad = None

    def projected(values):
        return sum(
            float(numpy.sum(o.numpy() * r))
            for o, r in zip(_outputs(values), projections, strict=True)
        )

    report = GradcheckReport()
    with no_grad():
        for i in checked:
            array = inputs[i].numpy()
            numeric = numpy.zeros(array.shape)
            for position in numpy.ndindex(array.shape):
                original = array[position]
                array[position] = original + eps
                plus = projected(fn(*inputs))
                array[position] = original - eps
                minus = projected(fn(*inputs))
                array[position] = original
                numeric[position] = (plus - minus) / (2 * eps)
            report.inputs.append(_compare(i, analytic[i], numeric, atol, rtol))
    report.passed = all(r.passed for r in report.inputs)
    if not report.passed and raise_exception:
        worst = next(r for r in report.inputs if not r.passed)
        raise GradcheckError(
            f"gradcheck({label}) failed for input {worst.index} of shape {worst.shape}: at index "
            f"{worst.worst_index} the analytic gradient is {worst.analytic!r} but the numerical "
            f"one is {worst.numeric!r} (abs error {abs(worst.analytic - worst.numeric):.3g}, "
            f"atol={atol}, rtol={rtol})\n{report}"
        )
    return report


def gradgradcheck(
    fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True, seed=0, name=None
):
    """Check ``fn``'s second derivatives (``create_graph=True``) against float64 central
    differences of its first derivatives, as ``torch.autograd.gradgradcheck``.

    The first derivatives, d sum(f(x) * v) / dx for a fixed random ``v``, are themselves a
    function of the inputs, whose gradient :func:`gradcheck` compares with finite differences:
    that checks every op's ``backward_graph`` along the way.

    >>> import npgrad
    >>> x = npgrad.randn(3, dtype=npgrad.float64, requires_grad=True)
    >>> npgrad.diagnostics.gradgradcheck(lambda t: (t * t * t).sum(), x).passed
    True
    """
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    label = name or getattr(fn, "__name__", "function")
    rng = numpy.random.default_rng(seed + 1)
    projections = [rng.standard_normal(out.shape) for out in _outputs(fn(*inputs))]
    checked = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]

    def first_derivatives(*args):
        with enable_grad():  # (gradcheck evaluates its function under no_grad)
            total = _projection(_outputs(fn(*args)), projections)
            found = (None,) * len(checked)
            if total is not None:
                found = grad(total, checked, create_graph=True, allow_unused=True)
        return [
            Tensor._wrap(numpy.zeros(t.shape)) if g is None else g
            for g, t in zip(found, checked, strict=True)
        ]

    return gradcheck(
        first_derivatives, inputs, eps, atol, rtol, raise_exception, seed, f"grad of {label}"
    )


def _compare(index, analytic, numeric, atol, rtol):
    """Summarise the mismatch between two gradient arrays for one input."""
    error = numpy.abs(analytic - numeric)
    if error.size == 0:
        return InputReport(index, numeric.shape, 0.0, 0.0, None, None, None, passed=True)
    # The element that fails the tolerance by the most (or the largest error when all pass).
    excess = error - (atol + rtol * numpy.abs(numeric))
    worst = numpy.unravel_index(numpy.argmax(excess), error.shape)
    relative = error / numpy.maximum(numpy.abs(numeric), 1e-12)
    failing = excess[worst] > 0
    return InputReport(
        index=index,
        shape=numeric.shape,
        max_abs_error=float(error.max()),
        max_rel_error=float(relative.max()),
        worst_index=tuple(int(k) for k in worst),
        analytic=float(analytic[worst]),
        numeric=float(numeric[worst]),
        passed=not failing,
    )
