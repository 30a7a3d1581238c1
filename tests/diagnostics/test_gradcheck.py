"""gradcheck as users call it: on their own functions, good and bad."""

import pytest

import npgrad
from npgrad.autograd import Function
from npgrad.diagnostics import gradcheck
from npgrad.errors import GradcheckError


class WrongCube(Function):
    """y = x^3 with a deliberately wrong derivative."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        return grad * 2 * x * x  # wrong: should be 3 x^2


def test_passes_on_correct_function_and_reports_per_input():
    a = npgrad.randn(3, 2, dtype=npgrad.float64, requires_grad=True)
    b = npgrad.randn(2, dtype=npgrad.float64, requires_grad=True)
    report = gradcheck(lambda x, y: (x * y).tanh() @ y, [a, b])
    assert report.passed and len(report.inputs) == 2
    assert all(r.max_abs_error < 1e-7 for r in report.inputs)
    assert "passed" in str(report)


def test_failure_names_input_index_and_values():
    x = npgrad.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=npgrad.float64, requires_grad=True)
    with pytest.raises(GradcheckError, match=r"input 0 of shape \(2, 2\): at index \(\d, \d\)"):
        gradcheck(WrongCube.apply, [x], name="WrongCube")
    report = gradcheck(WrongCube.apply, [x], raise_exception=False)
    assert not report.passed and report.inputs[0].worst_index is not None


def test_refuses_float32_and_no_grad_inputs():
    with pytest.raises(GradcheckError, match="float64"):
        gradcheck(lambda t: t * 2, [npgrad.ones(2, requires_grad=True)])
    with pytest.raises(GradcheckError, match="no input requires grad"):
        gradcheck(lambda t: t * 2, [npgrad.ones(2, dtype=npgrad.float64)])


def test_multiple_outputs_and_constants():
    x = npgrad.randn(4, dtype=npgrad.float64, requires_grad=True)
    c = npgrad.randn(4, dtype=npgrad.float64)
    assert gradcheck(lambda t, k: (t * k, t.exp()), [x, c]).passed
