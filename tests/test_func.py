"""npgrad.func (torch.func): per-sample gradients with vmap(grad(...)) over functional_call,
nested grad, Jacobians and Hessians, vjp/jvp, vmap's dims, and PyTorch parity."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad import func

rng = np.random.default_rng(0)
WEIGHTS = [rng.standard_normal(s) for s in ((8, 3), (8,), (2, 8), (2,))]
X, Y = rng.standard_normal((6, 3)), rng.integers(0, 2, 6)


def _model(lib):
    model = lib.nn.Sequential(lib.nn.Linear(3, 8), lib.nn.Tanh(), lib.nn.Linear(8, 2)).double()
    with lib.no_grad():
        for parameter, value in zip(model.parameters(), WEIGHTS, strict=True):
            parameter.copy_(lib.tensor(value))
    return model


def _per_sample_gradients(lib, transforms):
    model = _model(lib)
    params = {k: v.detach() for k, v in model.named_parameters()}

    def loss(params, x, y):
        logits = transforms.functional_call(model, params, (x.unsqueeze(0),))
        return lib.nn.functional.cross_entropy(logits, y.unsqueeze(0))

    grads = transforms.vmap(transforms.grad(loss), in_dims=(None, 0, 0))(
        params, lib.tensor(X), lib.tensor(Y)
    )
    return {k: v.detach().numpy() for k, v in grads.items()}, model


def test_per_sample_gradients_equal_one_backward_per_sample():
    grads, model = _per_sample_gradients(npgrad, func)
    assert model[0].weight.grad is None  # the module's own parameters were not touched
    np.testing.assert_array_equal(model[0].weight.detach().numpy(), WEIGHTS[0])
    for index in range(len(X)):
        model.zero_grad()
        logits = model(npgrad.tensor(X[index : index + 1]))
        npgrad.nn.functional.cross_entropy(logits, npgrad.tensor(Y[index : index + 1])).backward()
        for name, parameter in model.named_parameters():
            np.testing.assert_allclose(grads[name][index], parameter.grad.numpy(), rtol=1e-12)


@needs_torch
def test_transforms_match_torch_func():
    ours, _ = _per_sample_gradients(npgrad, func)
    theirs, _ = _per_sample_gradients(torch, torch.func)
    for name in ours:
        np.testing.assert_allclose(ours[name], theirs[name], rtol=1e-12, atol=1e-14)
    results = []
    for lib, transforms in ((npgrad, func), (torch, torch.func)):
        x, w = lib.tensor(X[0]), lib.tensor(WEIGHTS[0])
        hessian = transforms.hessian(lambda v: (v.sin() ** 2).sum())(x)
        jacobian = transforms.jacrev(lambda v, m: (m @ v).tanh(), argnums=1)(x, w)
        gradients, value = transforms.grad_and_value(lambda a, b: (a * b).sum(), (0, 1))(x, x * 2)
        _, vjp_fn = transforms.vjp(lambda v: v.exp() * v, x)
        _, tangent = transforms.jvp(lambda v: v.exp() * v, (x,), (lib.ones(3, dtype=x.dtype),))
        values = [hessian, jacobian, *gradients, value, vjp_fn(lib.ones(3, dtype=x.dtype))[0]]
        results.append([t.detach().numpy() for t in (*values, tangent)])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_nested_grad_and_has_aux():
    third = func.grad(func.grad(func.grad(lambda x: (x**4).sum())))
    x = npgrad.tensor(1.5, dtype=npgrad.float64)
    assert third(x).item() == pytest.approx(24 * 1.5)
    gradient, aux = func.grad(lambda x: ((x * x).sum(), x.mean()), has_aux=True)(
        npgrad.tensor([1.0, 3.0], dtype=npgrad.float64)
    )
    assert gradient.tolist() == [2.0, 6.0] and aux.item() == 2.0
    with pytest.raises(RuntimeError, match="one-element"):
        func.grad(lambda x: x * 2)(npgrad.ones(3))


def test_maml_outer_gradient_through_an_inner_functional_step():
    model = _model(npgrad)
    params = dict(model.named_parameters())  # requires grad: the inner gradient stays in a graph

    def loss(params, x, y):
        return npgrad.nn.functional.cross_entropy(func.functional_call(model, params, (x,)), y)

    x, y = npgrad.tensor(X), npgrad.tensor(Y)
    inner = func.grad(loss)(params, x, y)
    adapted = {k: params[k] - 0.5 * inner[k] for k in params}
    loss(adapted, x, y).backward()
    reference = _model(npgrad)
    inner_ref = npgrad.autograd.grad(
        loss(dict(reference.named_parameters()), x, y), list(reference.parameters()),
        create_graph=True,
    )  # fmt: skip
    adapted_ref = {
        k: p - 0.5 * g for (k, p), g in zip(reference.named_parameters(), inner_ref, strict=True)
    }
    loss(adapted_ref, x, y).backward()
    for ours, theirs in zip(model.parameters(), reference.parameters(), strict=True):
        np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)


def test_vmap_dims_and_structures():
    a, b = npgrad.randn(4, 3), npgrad.randn(3, 5)
    out = npgrad.vmap(lambda row, m: {"sum": row @ m, "rows": row}, in_dims=(0, None))(a, b)
    np.testing.assert_allclose(out["sum"].numpy(), (a @ b).numpy(), rtol=1e-6)
    columns = func.vmap(lambda column: column * 2, in_dims=1, out_dims=1)(b)
    np.testing.assert_array_equal(columns.numpy(), (b * 2).numpy())
    with pytest.raises(ValueError, match="one size"):
        func.vmap(lambda p, q: p + q)(npgrad.ones(2), npgrad.ones(3))


def test_functional_call_checks_names_and_restores_on_error():
    layer = npgrad.nn.Linear(2, 2)
    original = layer.weight
    with pytest.raises(KeyError, match="unexpected names"):
        func.functional_call(layer, {"weights": npgrad.zeros(2, 2)}, (npgrad.ones(1, 2),))
    with pytest.raises(Exception):  # noqa: B017 - any error: the weights must come back
        func.functional_call(layer, {"weight": npgrad.zeros(3, 3)}, (npgrad.ones(1, 2),))
    assert layer.weight is original
    out = func.functional_call(
        layer, ({"weight": npgrad.zeros(2, 2)}, {"bias": npgrad.ones(2)}), npgrad.ones(1, 2)
    )
    assert out.tolist() == [[1.0, 1.0]]
