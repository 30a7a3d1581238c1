"""Gradients of gradients (``create_graph=True``): every op's ``backward_graph`` against float64
finite differences of its first derivatives (gradgradcheck) and, where torch is installed,
against PyTorch on the uses that need it: gradient penalties, Hessians, MAML, PINNs."""

import numpy as np
import pytest
from helpers import needs_torch

import npgrad
import npgrad.nn as nn
import npgrad.nn.functional as F
from npgrad.autograd.functional import hessian, hvp, jacobian, vhp, vjp
from npgrad.diagnostics import gradgradcheck
from npgrad.ops import recurrent

rng = np.random.default_rng(0)


def _t(*shape, positive=False):
    data = rng.standard_normal(shape)
    if positive:
        data = np.abs(data) + 0.5
    return npgrad.tensor(data, requires_grad=True)


TARGETS = npgrad.tensor([1, 0, 3])


# the second query sees no key: its output is 0, and so are its gradients
BLIND_ROW = np.array([[True, False, True, True], [False] * 4, [True] * 4])


def _with_zero(a):
    """``a`` with one element set to zero (products then need their exact gradient)."""
    return a * npgrad.tensor(np.where(np.arange(a.shape[-1]) == 1, 0.0, 1.0))


def _put(a, values):
    out = a * 1.0
    out[npgrad.tensor([0, 2])] = values  # IndexPut, in place on a non-leaf
    return out


# (name, function, input shapes, positive inputs): each op that has a backward_graph
CASES = [
    ("add_sub_broadcast", lambda a, b: (a + b) * (a - b) * a, [(3, 4), (4,)], False),
    ("mul_div", lambda a, b: a * b / (b * b + 1), [(2, 3), (2, 3)], False),
    ("pow", lambda a, b: a**b + a**2.5, [(4,), (4,)], True),
    ("neg_abs_sign", lambda a: (-a).abs() * a * a + a.sign() * a * a, [(5,)], False),
    ("exp_log_log1p", lambda a: a.exp() * a.log() + a.log1p() * a, [(4,)], True),
    ("expm1_sqrt_rsqrt", lambda a: a.expm1() * a.sqrt() + a.rsqrt() * a, [(4,)], True),
    ("trig", lambda a: a.sin() * a.cos() + a.tan() * a, [(4,)], False),
    ("hyperbolic", lambda a: a.sinh() * a.cosh() + a.atan() * a, [(4,)], False),
    ("asin_acos", lambda a: (a * 0.3).asin() * (a * 0.3).acos() * a, [(4,)], False),
    ("atan2", lambda a, b: npgrad.atan2(a, b) * a * b, [(4,), (4,)], True),
    ("erf", lambda a: a.erf() * a, [(4,)], False),
    ("lgamma_erfinv", lambda a: a.lgamma() * a + (a * 0.3).tanh().erfinv() * a, [(4,)], True),
    (
        "clamp_max_min",
        lambda a, b: a.clamp(-0.5, 0.5) * a + npgrad.maximum(a, b) * b + npgrad.minimum(a, b) * a,
        [(6,), (6,)],
        False,
    ),
    (
        "where_masked_fill",
        lambda a, b: npgrad.where(a > 0, a * b, b * b) * a + a.masked_fill(b > 0, 2.0) * a,
        [(6,), (6,)],
        False,
    ),
    ("remainder", lambda a, b: npgrad.remainder(a * 3, b) * a, [(4,), (4,)], True),
    ("cast_clone", lambda a: a.clone() * a.double() * a.to(npgrad.float64), [(3,)], False),
    ("sigmoid_tanh", lambda a: a.sigmoid() * a.tanh(), [(5,)], False),
    (
        "relu_family",
        lambda a: (
            (
                F.relu(a)
                + F.leaky_relu(a, 0.2)
                + F.relu6(a * 4)
                + F.hardtanh(a)
                + F.hardsigmoid(a * 4)
            )
            * a
        ),
        [(8,)],
        False,
    ),
    ("elu_selu_celu", lambda a: F.elu(a) * F.selu(a) + F.celu(a, alpha=0.5) * a, [(6,)], False),
    ("gelu", lambda a: F.gelu(a) * a + F.gelu(a, approximate="tanh") * a, [(6,)], False),
    (
        "silu_softplus_logsigmoid",
        lambda a: (
            F.silu(a) * F.softplus(a, beta=2.0) + F.logsigmoid(a) * a + F.hardswish(a * 4) * a
        ),
        [(6,)],
        False,
    ),
    ("prelu", lambda a, w: F.prelu(a, w) * a, [(2, 3, 2), (3,)], False),
    ("softmax", lambda a: a.softmax(-1) * a + a.log_softmax(0) * a, [(3, 4)], False),
    ("matmul", lambda a, b: (a @ b).tanh(), [(2, 3, 4), (4, 2)], False),
    ("matmul_vectors", lambda a, b, c: (a @ b) * (b @ c).sum(), [(3,), (3, 2), (2,)], False),
    ("linear", lambda x, w, b: F.linear(x, w, b).tanh(), [(2, 3), (4, 3), (4,)], False),
    ("sum_mean", lambda a: a.sum(0) * a.mean(1, keepdim=True) * a.sum(), [(3, 4)], False),
    ("var_std", lambda a: a.var(1) * a.std(0).sum() + a.std() * a.var(), [(3, 4)], False),
    ("norm", lambda a: a.norm(dim=1) * a.norm() + a.norm(p=3), [(3, 4)], False),
    ("logsumexp", lambda a: a.logsumexp(1) ** 2, [(3, 4)], False),
    (
        "amax_amin_median",
        lambda a: a.amax(1) * a.amin(0).sum() + a.median() * a.sum(),
        [(3, 4)],
        False,
    ),
    ("cumsum", lambda a: a.cumsum(1) ** 2, [(2, 3)], False),
    ("reshape_permute", lambda a: a.permute(2, 0, 1).reshape(4, 6) ** 3, [(2, 3, 4)], False),
    ("expand_getitem", lambda a: a[:, None, [0, 2, 2]].expand(3, 2, 3) ** 3, [(3, 4)], False),
    (
        "cat_stack",
        lambda a, b: npgrad.cat([a, b], 1) ** 2 + npgrad.stack([a, b], -1).sum(-1).repeat(1, 2),
        [(3, 2), (3, 2)],
        False,
    ),
    ("pad_flip", lambda a: F.pad(a, (1, 2)).flip(1) ** 3, [(2, 3)], False),
    (
        "gather_scatter",
        lambda a, b: (
            (a.gather(1, npgrad.tensor([[0, 0], [1, 0]])) ** 2).sum()
            * b.scatter_add(1, npgrad.tensor([[1, 1], [0, 1]]), a * a)
        ),
        [(2, 2), (2, 2)],
        False,
    ),
    (
        "scatter_index_add",
        lambda a, b: (
            a.scatter(0, npgrad.tensor([[1, 0]]), b) ** 2
            + a.index_add(0, npgrad.tensor([1, 1]), b * b) * a
        ),
        [(2, 2), (2, 2)],
        False,
    ),
    (
        "index_put",
        lambda a, b: _put(a, b * b) ** 2,
        [(3,), (2,)],
        False,
    ),
    (
        "embedding",
        lambda w: F.embedding(npgrad.tensor([[0, 2], [2, 1]]), w, padding_idx=1) ** 2,
        [(3, 4)],
        False,
    ),
    ("repeat_interleave", lambda a: a.repeat_interleave(2, dim=1) ** 3, [(2, 3)], False),
    ("layer_norm", lambda x, w, b: F.layer_norm(x, (4,), w, b) ** 2, [(3, 4), (4,), (4,)], False),
    (
        "batch_norm",
        lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
        [(5, 3), (3,), (3,)],
        False,
    ),
    ("group_norm", lambda x: F.group_norm(x, 2) ** 2, [(2, 4, 3)], False),
    (
        "cross_entropy",
        lambda x: F.cross_entropy(x * x, TARGETS, label_smoothing=0.1),
        [(3, 4)],
        False,
    ),
    (  # plain labels: the one-hot coefficients are kept as the labels
        "cross_entropy_labels",
        lambda x: F.cross_entropy(x * x, TARGETS),
        [(3, 4)],
        False,
    ),
    (
        "cross_entropy_labels_none",
        lambda x: F.cross_entropy(x * x, TARGETS, reduction="none") ** 2,
        [(3, 4)],
        False,
    ),
    (
        "nll",
        lambda x: F.nll_loss((x * x).log_softmax(1), TARGETS, reduction="none"),
        [(3, 4)],
        False,
    ),
    ("bce", lambda x, y: F.binary_cross_entropy(x.sigmoid(), y.sigmoid()), [(3,), (3,)], False),
    (
        "mse_l1_huber",
        lambda x, y: F.mse_loss(x * x, y) + F.smooth_l1_loss(x * y, y),
        [(4,), (4,)],
        False,
    ),
    (
        "conv2d",
        lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1).tanh(),
        [(2, 2, 5, 4), (3, 2, 3, 3), (3,)],
        False,
    ),
    (
        "conv2d_groups",
        lambda x, w: F.conv2d(x, w, groups=2, dilation=2).tanh(),
        [(1, 4, 5, 5), (2, 2, 2, 2)],
        False,
    ),
    (
        "conv_transpose2d",
        lambda x, w: F.conv_transpose2d(x, w, stride=2, output_padding=1).tanh(),
        [(1, 2, 3, 2), (2, 2, 2, 2)],
        False,
    ),
    (
        "prod",
        lambda a: (
            (a.prod() * a.prod(1) + _with_zero(a).prod(1))[:, None] + a.prod(0, keepdim=True) * a
        ),
        [(3, 4)],
        False,
    ),
    ("cumprod", lambda a: a.cumprod(1) * a + _with_zero(a).cumprod(-1) ** 2, [(2, 5)], False),
    (
        "einsum",
        lambda a, b: (
            npgrad.einsum("ij,jk->ik", a, b).tanh() * npgrad.einsum("ij,ij->", b[:, :2], b[:, 1:3])
            + (npgrad.einsum("ij,kj->j", a, a) ** 2).sum()
        ),
        [(2, 3), (3, 4)],
        False,
    ),
    (
        "lstm",
        lambda x, h, c, w_ih, w_hh, b: recurrent.LSTM.apply(x, h, c, w_ih, w_hh, b, None).tanh(),
        [(3, 2, 2), (2, 2), (2, 2), (8, 2), (8, 2), (8,)],
        False,
    ),
    (
        "lstm_reverse_all_cells_no_bias",
        lambda x, h, c, w_ih, w_hh: (
            recurrent.LSTM.apply(x, h, c, w_ih, w_hh, reverse=True).tanh()
            * recurrent.LSTM.apply(x, h, c, w_ih, w_hh, all_cells=True)[1:5]
        ),
        [(3, 2, 2), (2, 2), (2, 2), (8, 2), (8, 2)],
        False,
    ),
    (
        "lstm_projected",
        lambda x, h, c, w_ih, w_hh, w_hr: recurrent.LSTM.apply(
            x, h, c, w_ih, w_hh, None, None, w_hr, reverse=True
        ).tanh(),
        [(3, 2, 2), (2, 1), (2, 2), (8, 2), (8, 1), (1, 2)],
        False,
    ),
    (
        "gru",
        lambda x, h, w_ih, w_hh, b_ih, b_hh: (
            recurrent.GRU.apply(x, h, w_ih, w_hh, b_ih, b_hh).tanh()
            + recurrent.GRU.apply(x, h, w_ih, w_hh, reverse=True) ** 2
        ),
        [(3, 2, 2), (2, 2), (6, 2), (6, 2), (6,), (6,)],
        False,
    ),
    (
        "rnn_tanh_relu",
        lambda x, h, w_ih, w_hh, b: (
            recurrent.RNN.apply(x, h, w_ih, w_hh, b, None, reverse=True).tanh()
            + recurrent.RNN.apply(x, h, w_ih, w_hh, None, b, nonlinearity="relu") ** 2
        ),
        [(3, 2, 2), (2, 2), (2, 2), (2, 2), (2,)],
        False,
    ),
    (
        "attention",
        lambda q, k, v: (
            F.scaled_dot_product_attention(q, k, v).tanh()
            + F.scaled_dot_product_attention(q, k, v, is_causal=True) ** 2
        ),
        [(2, 3, 2), (2, 3, 2), (2, 3, 2)],
        False,
    ),
    (
        "attention_blind_row",
        lambda q, k, v: F.scaled_dot_product_attention(q, k, v, attn_mask=BLIND_ROW) ** 2,
        [(1, 3, 2), (1, 4, 2), (1, 4, 3)],
        False,
    ),
    (
        "pools",
        lambda x: F.max_pool2d(x * x, 3, 2, 1) * F.avg_pool2d(x * x, 2)[..., :1, :1],
        [(1, 2, 4, 4)],
        False,
    ),
]


@pytest.mark.parametrize("name, fn, shapes, positive", CASES, ids=[c[0] for c in CASES])
def test_second_derivatives_match_finite_differences(name, fn, shapes, positive):
    inputs = [_t(*shape, positive=positive) for shape in shapes]
    assert gradgradcheck(fn, inputs, atol=1e-5, rtol=1e-4, name=name)


def test_gradient_of_a_gradient_by_hand():
    x = npgrad.tensor([1.5, -2.0], dtype=npgrad.float64, requires_grad=True)
    (g,) = npgrad.autograd.grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and g.grad_fn is not None
    np.testing.assert_allclose(g.numpy(), 3 * x.numpy() ** 2)
    g.sum().backward(retain_graph=True)
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())  # d2/dx2 x^3 = 6x
    (third,) = npgrad.autograd.grad((g * g).sum(), x, create_graph=True)
    np.testing.assert_allclose(third.numpy(), 2 * g.detach().numpy() * 6 * x.numpy())


def test_backward_create_graph_leaves_a_differentiable_grad_and_inputs_restricts():
    x = npgrad.tensor([2.0], dtype=npgrad.float64, requires_grad=True)
    y = npgrad.tensor([3.0], dtype=npgrad.float64, requires_grad=True)
    (x * x * y).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    assert x.grad.item() == 12.0  # 2xy
    first = x.grad
    first.sum().backward()  # d(2xy)/dx = 2y, d(2xy)/dy = 2x, added to 12 and 4
    assert x.grad.item() == 12.0 + 6.0 and y.grad.item() == 4.0 + 4.0
    assert first.item() == 12.0  # added out of place: the graph's tensor is untouched
    z = npgrad.tensor([1.0], requires_grad=True)
    w = npgrad.tensor([1.0], requires_grad=True)
    (z * w * 5).sum().backward(inputs=[z])
    assert z.grad.item() == 5.0 and w.grad is None


def test_create_graph_keeps_the_graph_by_default():
    x = _t(3)
    y = (x.sin() * x).sum()
    npgrad.autograd.grad(y, x, create_graph=True)
    y.backward()  # retain_graph defaults to create_graph, as in PyTorch
    np.testing.assert_allclose(x.grad.numpy(), np.sin(x.numpy()) + x.numpy() * np.cos(x.numpy()))


def test_an_op_without_second_derivative_names_itself_only_when_needed():
    x = npgrad.tensor([[2.0, 1.0], [0.5, 3.0]], dtype=npgrad.float64, requires_grad=True)
    (g,) = npgrad.autograd.grad(npgrad.linalg.det(x), x, create_graph=True)  # first order works
    np.testing.assert_allclose(g.detach().numpy(), [[3.0, -0.5], [-1.0, 2.0]])  # the cofactors
    with pytest.raises(NotImplementedError, match="DetBackward"):
        g.sum().backward()


def test_custom_function_backward_in_tensor_ops_is_differentiated_again():
    class Cube(npgrad.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x * x

        @staticmethod
        def backward(ctx, grad):
            (x,) = ctx.saved_tensors
            return grad * 3 * x * x

    x = npgrad.tensor([2.0, -1.0], dtype=npgrad.float64, requires_grad=True)
    (g,) = npgrad.autograd.grad(Cube.apply(x).sum(), x, create_graph=True)
    (h,) = npgrad.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(h.numpy(), 6 * x.numpy())


def test_hessian_and_vector_products():
    def f(x, y):
        return (x**3).sum() * y.sum() + (x * y).sum()

    x = npgrad.tensor([1.0, 2.0], dtype=npgrad.float64)
    y = npgrad.tensor([0.5, -1.0], dtype=npgrad.float64)
    blocks = hessian(f, (x, y))
    s = y.numpy().sum()
    np.testing.assert_allclose(blocks[0][0].numpy(), np.diag(6 * x.numpy() * s))
    np.testing.assert_allclose(blocks[0][1].numpy(), 3 * x.numpy()[:, None] ** 2 + np.eye(2))
    np.testing.assert_allclose(blocks[1][1].numpy(), np.zeros((2, 2)))
    one = hessian(lambda t: (t**3).sum(), x)
    v = npgrad.tensor([1.0, -1.0], dtype=npgrad.float64)
    value, product = hvp(lambda t: (t**3).sum(), x, v)
    np.testing.assert_allclose(product.numpy(), one.numpy() @ v.numpy())
    assert value.item() == 9.0 and not value.requires_grad
    np.testing.assert_allclose(vhp(lambda t: (t**3).sum(), x, v)[1].numpy(), product.numpy())


def test_functional_create_graph_results_stay_differentiable():
    x = npgrad.tensor([1.0, 2.0], dtype=npgrad.float64, requires_grad=True)
    _, g = vjp(lambda t: t**3, x, npgrad.ones(2, dtype=npgrad.float64), create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x.numpy())
    j = jacobian(lambda t: t**2, x, create_graph=True)
    assert j.requires_grad


def _penalty_models(torch=None):
    lib_nn = torch.nn if torch else nn
    return lib_nn.Sequential(
        lib_nn.Conv2d(1, 4, 3, stride=2, padding=1),
        lib_nn.LeakyReLU(0.2),
        lib_nn.Conv2d(4, 8, 3, stride=2, padding=1),
        lib_nn.LayerNorm([8, 2, 2]),
        lib_nn.LeakyReLU(0.2),
        lib_nn.Flatten(),
        lib_nn.Linear(32, 1),
    )


@needs_torch
def test_wgan_gradient_penalty_matches_pytorch():
    import torch

    critic, reference = _penalty_models(), _penalty_models(torch).double()
    reference.load_state_dict(
        {k: torch.tensor(v.numpy()) for k, v in critic.double().state_dict().items()}
    )
    real, fake = rng.standard_normal((2, 5, 1, 8, 8))
    alpha = rng.random((5, 1, 1, 1))
    results = []
    for lib, model in ((npgrad, critic), (torch, reference)):
        mixed = lib.tensor(alpha * real + (1 - alpha) * fake, requires_grad=True)
        scores = model(mixed)
        (grads,) = lib.autograd.grad(
            scores, mixed, grad_outputs=lib.ones_like(scores), create_graph=True
        )
        penalty = ((grads.reshape(5, -1).norm(2, dim=1) - 1) ** 2).mean() * 10
        loss = scores.mean() + penalty
        loss.backward()
        results.append([p.grad.detach().numpy() for p in model.parameters()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-11)


@needs_torch
def test_maml_and_pinn_second_order_match_pytorch():
    import torch

    w1, b1, w2 = rng.standard_normal((8, 1)), rng.standard_normal(8), rng.standard_normal((1, 8))
    xs, ys = rng.standard_normal((6, 1)), rng.standard_normal((6, 1))
    outcomes = []
    for lib in (npgrad, torch):
        params = [lib.tensor(a, requires_grad=True) for a in (w1, b1, w2)]
        x, y = lib.tensor(xs), lib.tensor(ys)

        def net(inputs, p, lib=lib):
            return lib.nn.functional.linear(
                lib.tanh(lib.nn.functional.linear(inputs, p[0], p[1])), p[2]
            )

        # MAML: one inner SGD step, the outer loss differentiated through it
        inner = ((net(x, params) - y) ** 2).mean()
        grads = lib.autograd.grad(inner, params, create_graph=True)
        adapted = [p - 0.1 * g for p, g in zip(params, grads, strict=True)]
        ((net(x, adapted) - y) ** 2).mean().backward()
        maml = [p.grad.numpy().copy() for p in params]
        # PINN: the residual u'' + u, differentiated twice in x, then trained on
        for p in params:
            p.grad = None
        points = lib.tensor(xs, requires_grad=True)
        u = net(points, params)
        (du,) = lib.autograd.grad(u.sum(), points, create_graph=True)
        (d2u,) = lib.autograd.grad(du.sum(), points, create_graph=True)
        ((d2u + u) ** 2).mean().backward()
        outcomes.append(maml + [p.grad.numpy() for p in params])
    for ours, theirs in zip(*outcomes, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


def _sequence_critic(lib):
    """A critic over (N, T, 4) sequences: a GRU, an LSTM, a transformer layer, a linear head."""
    nn_ = lib.nn

    class Critic(nn_.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn_.GRU(4, 4, batch_first=True, bidirectional=True)
            self.lstm = nn_.LSTM(8, 4, batch_first=True)
            self.encoder = nn_.TransformerEncoderLayer(4, 2, 8, dropout=0.0, batch_first=True)
            self.head = nn_.Linear(4, 1)

        def forward(self, x):
            states, _ = self.gru(x)
            states, _ = self.lstm(states)
            return self.head(self.encoder(states).mean(dim=1))

    return Critic()


@needs_torch
def test_gradient_penalty_through_recurrent_and_attention_layers_matches_pytorch():
    import contextlib

    import torch
    from torch.nn.attention import SDPBackend, sdpa_kernel

    critic, reference = _sequence_critic(npgrad).double(), _sequence_critic(torch).double()
    reference.load_state_dict({k: torch.tensor(v.numpy()) for k, v in critic.state_dict().items()})
    inputs = rng.standard_normal((3, 5, 4))
    results = []
    # PyTorch's fused CPU attention kernel has no double backward: its plain (math) one does
    backends = (contextlib.nullcontext(), sdpa_kernel(SDPBackend.MATH))
    for lib, model, backend in zip((npgrad, torch), (critic, reference), backends, strict=True):
        x = lib.tensor(inputs, requires_grad=True)
        with backend:
            scores = model(x)
            (grads,) = lib.autograd.grad(scores.sum(), x, create_graph=True)
            penalty = ((grads.reshape(3, -1).norm(2, dim=1) - 1) ** 2).mean()
            (scores.mean() + penalty).backward()
        results.append([x.grad.numpy()] + [p.grad.numpy() for p in model.parameters()])
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-8, atol=1e-11)
