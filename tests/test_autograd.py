"""The engine: accumulation, grad modes, deep graphs, freeing, errors, in-place safety."""

import gc
import weakref

import numpy as np
import pytest
from helpers import needs_torch

import npgrad
from npgrad.errors import GradientError, ShapeError


def test_fan_out_accumulates():
    x = npgrad.tensor(3.0, requires_grad=True)
    y = x * x + x  # x used three times
    y.backward()
    assert x.grad.item() == 7.0


def test_paths_of_different_lengths_all_arrive_before_a_node_runs():
    x = npgrad.tensor([-1.5, 0.5], requires_grad=True)
    (x * x.abs()).sum().backward()  # d(x|x|)/dx = 2|x|
    assert x.grad.tolist() == [3.0, 1.0]
    z = npgrad.tensor([2.0], dtype=npgrad.float64, requires_grad=True)
    w = z * 1.0  # a non-leaf reached by a short path and a long one
    (w * w.exp().log().sin()).backward(npgrad.ones(1, dtype=npgrad.float64))
    np.testing.assert_allclose(z.grad.numpy(), [np.sin(2.0) + 2.0 * np.cos(2.0)], rtol=1e-12)


def test_leaf_grads_accumulate_across_backward_calls():
    x = npgrad.tensor([1.0, 2.0], requires_grad=True)
    (x * 2).sum().backward()
    (x * 3).sum().backward()
    assert x.grad.tolist() == [5.0, 5.0]


def test_shared_gradient_arrays_are_not_aliased():
    a = npgrad.ones(3, requires_grad=True)
    b = npgrad.ones(3, requires_grad=True)
    (a + b).sum().backward()
    a.grad.mul_(10)
    assert b.grad.tolist() == [1.0, 1.0, 1.0]


def test_no_grad_builds_no_graph_and_works_as_decorator():
    x = npgrad.ones(2, requires_grad=True)
    with npgrad.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None

    @npgrad.no_grad()
    def double(t):
        return t * 2

    assert not double(x).requires_grad
    with npgrad.no_grad(), npgrad.enable_grad():
        assert (x * 2).requires_grad
    assert npgrad.is_grad_enabled()
    npgrad.set_grad_enabled(False)
    assert not (x * 2).requires_grad
    npgrad.set_grad_enabled(True)
    with npgrad.set_grad_enabled(False):
        assert not npgrad.is_grad_enabled()
    assert npgrad.is_grad_enabled()


def test_long_chain_needs_no_recursion():
    x = npgrad.tensor(1.0, requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert abs(x.grad.item() - 1.0001**10_000) < 1e-2


def test_graph_is_freed_after_backward():
    x = npgrad.ones(1000, requires_grad=True)
    y = (x * 2).exp()
    node = weakref.ref(y.grad_fn)
    loss = y.sum()
    loss.backward()
    assert y.grad_fn.saved_tensors == ()
    with pytest.raises(GradientError, match="second time"):
        loss.backward()
    del y, loss
    gc.collect()
    assert node() is None


def test_retain_graph_allows_second_backward():
    x = npgrad.tensor(2.0, requires_grad=True)
    y = x.exp()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_allclose(x.grad.item(), 2 * np.exp(2.0), rtol=1e-6)


def test_backward_on_non_scalar_needs_gradient():
    x = npgrad.ones(3, requires_grad=True)
    with pytest.raises(GradientError, match="scalar outputs"):
        (x * 2).backward()
    (x * 2).backward(npgrad.tensor([1.0, 2.0, 3.0]))
    assert x.grad.tolist() == [2.0, 4.0, 6.0]
    with pytest.raises(ShapeError, match="gradient has shape"):
        (x * 2).backward(npgrad.ones(2))


def test_backward_without_grad_raises():
    with pytest.raises(GradientError, match="does not require grad"):
        npgrad.ones(2).sum().backward()


def test_modified_saved_input_is_detected():
    w = npgrad.ones(2, requires_grad=True)
    loss = (w * w).sum()
    with npgrad.no_grad():
        w -= 0.1
    with pytest.raises(GradientError, match="modified by an in-place operation"):
        loss.backward()


@pytest.mark.parametrize("shape", [(4, 3), (2, 4, 3)])
def test_modified_input_of_a_linear_layer_is_detected(shape):
    """Linear works on a 2-D view of a batched input: the input itself must still be watched."""
    x = npgrad.ones(*shape)
    layer = npgrad.nn.Linear(3, 2)
    loss = layer(x).sum()
    x.add_(1.0)  # x needs no grad: an in-place change after the forward is allowed to happen
    with pytest.raises(GradientError, match="modified by an in-place operation"):
        loss.backward()


def test_modified_input_of_a_convolution_is_detected():
    """A batch-last input (a convolution's output) is read through a view: still watched."""
    with npgrad.no_grad():
        x = npgrad.nn.Conv2d(1, 2, 3)(npgrad.ones(2, 1, 6, 6))  # batch last in memory
    conv = npgrad.nn.Conv2d(2, 3, 3)
    loss = conv(x).sum()
    x.add_(1.0)
    with pytest.raises(GradientError, match="modified by an in-place operation"):
        loss.backward()


def test_modified_saved_output_is_detected():
    x = npgrad.ones(2, requires_grad=True)
    y = x.exp()
    with npgrad.no_grad():
        y.mul_(2)
    with pytest.raises(GradientError, match="its output"):
        y.sum().backward()


def test_constant_refilled_between_graphs_is_fine():
    """The DCGAN tutorial's pattern: a label tensor (no grad) refilled in place between two
    losses. Each graph checks the version the label had when it was used, not version 0."""
    x = npgrad.randn(4, requires_grad=True)
    label = npgrad.full((4,), 1.0)
    bce = npgrad.nn.BCELoss()
    bce(x.sigmoid(), label).backward()
    label.fill_(0.0)
    bce(x.sigmoid(), label).backward()  # label modified before this graph: fine
    loss = bce(x.sigmoid(), label)
    label.fill_(1.0)  # ... but after it: the saved label is stale
    with pytest.raises(GradientError, match="modified by an in-place operation"):
        loss.backward()


def test_inplace_on_non_leaf_keeps_gradient_exact():
    a = npgrad.tensor([1.0, 2.0], requires_grad=True)
    h = a * 3
    z = h * h  # saves h
    h += 1  # rebinds h; z's saved copy is untouched
    (z.sum() + h.sum()).backward()
    assert a.grad.tolist() == [2 * 3 * 3 + 3, 2 * 6 * 3 + 3]


def test_inplace_on_leaf_requiring_grad_is_refused():
    w = npgrad.ones(2, requires_grad=True)
    with pytest.raises(GradientError, match="leaf"):
        w += 1
    with npgrad.no_grad():
        w += 1
    assert w.tolist() == [2.0, 2.0] and w.is_leaf


def test_inplace_keeps_dtype_and_shape():
    x = npgrad.tensor([1, 2])
    with pytest.raises(TypeError, match="can't be cast"):
        x += 0.5
    y = npgrad.ones(3)
    with pytest.raises(ShapeError, match="in-place"):
        y += npgrad.ones(2, 3)


def test_hooks_and_retain_grad():
    x = npgrad.tensor([1.0, 2.0], requires_grad=True)
    x.register_hook(lambda g: g * 10)
    h = x * 2
    h.retain_grad()
    seen = []
    h.register_hook(lambda g: seen.append(g.tolist()))
    (h * h).sum().backward()
    assert seen == [[4.0, 8.0]]
    assert h.grad.tolist() == [4.0, 8.0]
    assert x.grad.tolist() == [80.0, 160.0]


def test_hook_handles_remove_their_hooks():
    """register_hook returns a handle, as PyTorch's: remove() (or a with block) takes the hook
    off, on a leaf and on a non-leaf, and the other hooks stay."""
    x = npgrad.tensor([1.0, 2.0], requires_grad=True)
    doubling = x.register_hook(lambda g: g * 2)
    x.register_hook(lambda g: g + 1)
    h = x * 3
    seen = []
    with h.register_hook(lambda g: seen.append(g.tolist())):
        h.sum().backward(retain_graph=True)
    assert seen == [[1.0, 1.0]] and x.grad.tolist() == [7.0, 7.0]  # (3 * 2) + 1
    doubling.remove()
    doubling.remove()  # a second remove is harmless
    x.grad = None
    (x * 3).sum().backward()
    assert x.grad.tolist() == [4.0, 4.0]  # only the + 1 hook is left
    h.sum().backward()
    assert seen == [[1.0, 1.0]]  # the non-leaf's hook was removed by the with block


def test_detach_and_data():
    x = npgrad.ones(2, requires_grad=True)
    y = (x * 2).detach()
    assert not y.requires_grad and y.is_leaf
    x.data.mul_(3)  # .data is outside the graph, as in torch
    assert x.tolist() == [3.0, 3.0]
    x.data = npgrad.zeros(2)
    assert x.tolist() == [0.0, 0.0]


def test_grad_fn_names():
    x = npgrad.ones(2, requires_grad=True)
    assert repr((x * 2).grad_fn) == "<MulBackward>"
    assert "grad_fn=<AddBackward>" in repr(x + 1)


def test_integer_tensors_cannot_require_grad():
    with pytest.raises(TypeError, match="floating point"):
        npgrad.tensor([1, 2], requires_grad=True)


class Cube(npgrad.autograd.Function):
    """A user-defined Function in PyTorch style: Tensors in and out."""

    @staticmethod
    def forward(ctx, x):
        assert isinstance(x, npgrad.Tensor) and not npgrad.is_grad_enabled()
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    def backward(ctx, grad):
        (x,) = ctx.saved_tensors
        assert isinstance(grad, npgrad.Tensor)
        return grad * 3 * x * x


def test_user_functions_get_tensors_and_builtin_ops_get_arrays():
    assert Cube.tensor_io and not npgrad.ops.elementwise.Mul.tensor_io
    x = npgrad.tensor([1.0, -2.0], requires_grad=True)
    y = Cube.apply(x)
    assert y.grad_fn is not None and y.tolist() == [1.0, -8.0]
    y.sum().backward()
    assert x.grad.tolist() == [3.0, 12.0]
    w = npgrad.ones(2, requires_grad=True)
    loss = Cube.apply(w).sum()
    with npgrad.no_grad():
        w.mul_(2)
    with pytest.raises(GradientError, match="CubeBackward"):
        loss.backward()  # in-place checks see through the saved Tensors


def test_detect_anomaly_names_the_op():
    x = npgrad.tensor([1.0, 0.0], requires_grad=True)
    with npgrad.autograd.detect_anomaly():
        loss = x.sqrt().sum()  # d sqrt(x) at 0 is inf
        with pytest.raises(GradientError, match="SqrtBackward returned 1 NaN/inf"):
            loss.backward()
    assert not npgrad.autograd.is_anomaly_enabled()
    npgrad.autograd.set_detect_anomaly(True)
    assert npgrad.autograd.is_anomaly_enabled()
    npgrad.autograd.set_detect_anomaly(False)
    (x * 2).sum().backward()  # off again: no check


def test_autograd_grad_returns_without_accumulating():
    x = npgrad.tensor([1.0, 2.0], requires_grad=True)
    w = npgrad.tensor([3.0], requires_grad=True)
    h = x * w
    gx, gh = npgrad.autograd.grad((h * h).sum(), [x, h])
    assert gx.tolist() == [18.0, 36.0] and gh.tolist() == [6.0, 12.0]
    assert x.grad is None and w.grad is None
    unused = npgrad.ones(1, requires_grad=True)
    with pytest.raises(GradientError, match="not used"):
        npgrad.autograd.grad((x * 2).sum(), [unused])
    assert npgrad.autograd.grad((x * 2).sum(), [x, unused], allow_unused=True)[1] is None
    (g,) = npgrad.autograd.grad((x * 2).sum(), x, create_graph=True)  # tests/test_autograd_double
    assert g.tolist() == [2.0, 2.0]
    (g,) = npgrad.autograd.grad((x * x).sum(), x, retain_graph=True)
    assert g.tolist() == [2.0, 4.0]


@needs_torch
def test_graph_introspection_and_functional_match_torch():
    """The autograd tutorial's grad_fn.next_functions, and torch.autograd.functional's
    jacobian, vjp and jvp (from repeated first-order backward passes)."""
    import torch

    from npgrad.autograd import functional as AF

    x = npgrad.ones(2, requires_grad=True)
    node = ((x * 2).sum()).grad_fn
    t = torch.ones(2, requires_grad=True)
    reference = ((t * 2).sum()).grad_fn
    assert len(node.next_functions) == len(reference.next_functions) == 1
    mul, mul_ref = node.next_functions[0][0], reference.next_functions[0][0]
    assert [type(n).__name__ if n else None for n, _ in mul.next_functions] == [
        "_AccumulateGrad",
        None,
    ]
    assert [type(n).__name__ if n else None for n, _ in mul_ref.next_functions] == [
        "AccumulateGrad",
        None,
    ]
    assert mul.next_functions[0][0].variable is x
    rng = np.random.default_rng(0)
    w, a, b, u, v = (rng.standard_normal(s) for s in [(2, 3), (3,), (2, 3), (3,), (2,)])

    def f(lib):
        return lambda x_: (lib.tensor(w) @ x_).tanh()

    np.testing.assert_allclose(
        AF.jacobian(f(npgrad), npgrad.tensor(a)).numpy(),
        torch.autograd.functional.jacobian(f(torch), torch.tensor(a)).numpy(),
        atol=1e-12,
    )
    two = AF.jacobian(lambda p, q: (p * q).sum(0), (npgrad.tensor(b), npgrad.tensor(b * 2)))
    two_ref = torch.autograd.functional.jacobian(
        lambda p, q: (p * q).sum(0), (torch.tensor(b), torch.tensor(b * 2))
    )
    for mine, theirs in zip(two, two_ref, strict=True):
        np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    _, mine = AF.vjp(f(npgrad), npgrad.tensor(a), npgrad.tensor(v))
    _, theirs = torch.autograd.functional.vjp(f(torch), torch.tensor(a), torch.tensor(v))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    _, mine = AF.jvp(f(npgrad), npgrad.tensor(a), npgrad.tensor(u))
    _, theirs = torch.autograd.functional.jvp(f(torch), torch.tensor(a), torch.tensor(u))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    mine = AF.hessian(lambda x_: (x_ * x_.sin()).sum(), npgrad.tensor(a))
    theirs = torch.autograd.functional.hessian(lambda x_: (x_ * x_.sin()).sum(), torch.tensor(a))
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    _, mine = AF.hvp(lambda x_: (x_**3).sum(), npgrad.tensor(a), npgrad.tensor(u))
    _, theirs = torch.autograd.functional.hvp(
        lambda x_: (x_**3).sum(), torch.tensor(a), torch.tensor(u)
    )
    np.testing.assert_allclose(mine.numpy(), theirs.numpy(), atol=1e-12)
    assert npgrad.autograd.functional is AF
