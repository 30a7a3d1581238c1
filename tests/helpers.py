"""Test helpers: ``check_op`` (gradcheck + PyTorch parity in one call) and ``check_grad``.

``check_op(shapes, torch_fn)`` builds seeded float64 inputs of the given shapes, runs the function
on npgrad tensors and (when torch is installed) on torch tensors built from the same arrays, and
compares the forward values and the gradients of a random projection of the output. It also runs
npgrad's own finite-difference gradcheck, so each op test checks the op three ways in one line.
"""

import numpy as np
import pytest

import npgrad
from npgrad.diagnostics import gradcheck

try:
    import torch

    torch.set_default_dtype(torch.float64)
except ImportError:  # parity halves are skipped, gradchecks still run
    torch = None


def make_inputs(shapes, low=-2.0, high=2.0, seed=0, vals=None):
    """Seeded float64 arrays of ``shapes`` (or the given ``vals``)."""
    if vals is not None:
        return [np.array(v, dtype=np.float64) for v in vals]
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=shape) for shape in shapes]


def _as_list(result):
    if isinstance(result, tuple | list):
        return list(result)
    return [result]


def check_grad(fn, *arrays, atol=1e-5, rtol=1e-3, name=None):
    """Finite-difference gradcheck of ``fn`` at float64 copies of ``arrays``."""
    inputs = [npgrad.tensor(a, dtype=npgrad.float64, requires_grad=True) for a in arrays]
    return gradcheck(fn, inputs, atol=atol, rtol=rtol, name=name)


def check_op(
    shapes,
    torch_fn,
    npgrad_fn=None,
    atol=1e-6,
    rtol=1e-6,
    grad_atol=1e-6,
    forward_only=False,
    vals=None,
    low=-2.0,
    high=2.0,
    gradcheck_atol=1e-5,
):
    """Check an op's forward and backward against PyTorch and against finite differences."""
    npgrad_fn = npgrad_fn or torch_fn
    arrays = make_inputs(shapes, low, high, vals=vals)
    ours = [npgrad.tensor(a, dtype=npgrad.float64, requires_grad=not forward_only) for a in arrays]
    outputs = _as_list(npgrad_fn(*ours))
    for out in outputs:
        assert isinstance(out, npgrad.Tensor), f"expected a Tensor, got {type(out)}"

    if not forward_only:
        check_grad(
            npgrad_fn, *arrays, atol=gradcheck_atol, name=getattr(torch_fn, "__name__", None)
        )

    if torch is None:
        return
    theirs = [torch.tensor(a, dtype=torch.float64, requires_grad=not forward_only) for a in arrays]
    expected = _as_list(torch_fn(*theirs))
    assert len(outputs) == len(expected)
    for out, exp in zip(outputs, expected, strict=True):
        assert out.shape == tuple(exp.shape), f"shape {out.shape} != torch {tuple(exp.shape)}"
        np.testing.assert_allclose(
            out.numpy(), exp.detach().numpy(), atol=atol, rtol=rtol, err_msg="forward vs torch"
        )
    if forward_only:
        return
    rng = np.random.default_rng(1)
    projections = [rng.standard_normal(out.shape) for out in outputs]
    ours_total = sum(
        (o * npgrad.tensor(r)).sum()
        for o, r in zip(outputs, projections, strict=True)
        if o.requires_grad
    )
    theirs_total = sum(
        (e * torch.tensor(r)).sum()
        for e, r in zip(expected, projections, strict=True)
        if e.requires_grad
    )
    if not isinstance(ours_total, npgrad.Tensor):
        return  # nothing differentiable came out (e.g. an integer result)
    ours_total.backward()
    theirs_total.backward()
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        if b.grad is None:
            assert a.grad is None or np.allclose(a.grad.numpy(), 0), f"input {i}: torch has no grad"
            continue
        assert a.grad is not None, f"input {i}: npgrad computed no gradient, torch did"
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.numpy(), atol=grad_atol, rtol=1e-6, err_msg=f"grad of input {i}"
        )


needs_torch = pytest.mark.skipif(torch is None, reason="torch not installed")


def assert_param_grads_match(ours, theirs, atol, rtol=1e-7):
    """Every parameter's gradient in npgrad module ``ours`` equals torch module ``theirs``'s."""
    theirs_params = dict(theirs.named_parameters())
    for name, param in ours.named_parameters():
        np.testing.assert_allclose(
            param.grad.numpy(),
            theirs_params[name].grad.numpy(),
            atol=atol,
            rtol=rtol,
            err_msg=f"grad of {name}",
        )


def check_layer(ours, theirs, input_shape, vals=None, integer_input=None, atol=1e-6):
    """Load torch's weights into our layer unchanged; compare output, input grad, param grads."""
    ours.double()
    theirs.double()
    ours.load_state_dict(theirs.state_dict())
    if integer_input is not None:
        x_ours, x_theirs = npgrad.tensor(integer_input), torch.tensor(integer_input)
    else:
        array = make_inputs([input_shape], vals=vals)[0]
        x_ours = npgrad.tensor(array, requires_grad=True)
        x_theirs = torch.tensor(array, requires_grad=True)
    out_ours, out_theirs = ours(x_ours), theirs(x_theirs)
    np.testing.assert_allclose(out_ours.numpy(), out_theirs.detach().numpy(), atol=atol, rtol=1e-6)
    projection = np.random.default_rng(2).standard_normal(out_ours.shape)
    (out_ours * npgrad.tensor(projection)).sum().backward()
    (out_theirs * torch.tensor(projection)).sum().backward()
    if integer_input is None:
        np.testing.assert_allclose(x_ours.grad.numpy(), x_theirs.grad.numpy(), atol=atol, rtol=1e-6)
    assert_param_grads_match(ours, theirs, atol=atol, rtol=1e-6)
    for name, buffer in theirs.named_buffers():
        np.testing.assert_allclose(
            dict(ours.named_buffers())[name].numpy(), buffer.numpy(), atol=atol, err_msg=name
        )


def classification_losses(model, optimizer, x, y, steps):
    """The cross-entropy loss at each of ``steps`` full-batch training steps of ``model``."""
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        loss = npgrad.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses
