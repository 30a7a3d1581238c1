"""Layers: parity with torch (same weights loaded), gradcheck of every layer, init statistics."""

import numpy as np
import pytest
from helpers import (
    assert_param_grads_match,
    check_grad,
    check_layer,
    check_op,
    classification_losses,
    needs_torch,
    torch,
)

import npgrad
from npgrad import nn
from npgrad.errors import ShapeError

TNN = torch.nn if torch else None


@needs_torch
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Linear(4, 3), (5, 4)),
        (lambda m: m.Linear(4, 3, bias=False), (2, 6, 4)),
        (lambda m: m.Sequential(m.Linear(4, 8), m.Tanh(), m.Linear(8, 2)), (5, 4)),
        (lambda m: m.LayerNorm(6), (3, 6)),
        (lambda m: m.LayerNorm((2, 3)), (4, 2, 3)),
        (lambda m: m.LayerNorm(6, elementwise_affine=False), (3, 6)),
        (lambda m: m.BatchNorm1d(4), (8, 4)),
        (lambda m: m.BatchNorm1d(3), (5, 3, 7)),
        (lambda m: m.BatchNorm1d(3, affine=False, momentum=None), (5, 3)),
        (lambda m: m.BatchNorm2d(2), (4, 2, 3, 3)),
        (lambda m: m.GroupNorm(2, 4), (3, 4, 3, 3)),
        (lambda m: m.GroupNorm(1, 3), (2, 3, 5)),
        (lambda m: m.GroupNorm(3, 3, affine=False), (2, 3, 2, 2)),
        (lambda m: m.InstanceNorm2d(3), (2, 3, 4, 4)),
        (lambda m: m.InstanceNorm2d(3, affine=True), (3, 4, 5)),  # unbatched (C, H, W)
        (lambda m: m.InstanceNorm1d(2, affine=True, track_running_stats=True), (3, 2, 5)),
        (lambda m: m.Flatten(), (2, 3, 4)),
        (lambda m: m.Unflatten(1, (2, 2)), (3, 4)),
        (lambda m: m.Identity(), (2, 2)),
    ],
)
def test_layer_parity_training_mode(make, shape):
    check_layer(make(nn), make(TNN), shape)


@needs_torch
def test_batchnorm_eval_uses_running_statistics():
    ours, theirs = nn.BatchNorm1d(4).double(), TNN.BatchNorm1d(4).double()
    ours.load_state_dict(theirs.state_dict())
    for seed in range(3):  # a few training batches move the running statistics
        batch = np.random.default_rng(seed).normal(2.0, 3.0, (16, 4))
        ours(npgrad.tensor(batch))
        theirs(torch.tensor(batch))
    ours.eval()
    theirs.eval()
    check_layer(ours, theirs, (6, 4))
    assert ours.num_batches_tracked.item() == 3


@needs_torch
@pytest.mark.parametrize("shape, groups", [((2, 6, 3, 4), 3), ((4, 4, 5), 2), ((3, 2), 1)])
def test_group_norm_with_affine_parameters(shape, groups):
    """Random scale and shift (the layer starts at ones and zeros, which hide a misplaced one)."""
    channels = shape[1]
    check_op(
        [shape, (channels,), (channels,)],
        torch_fn=lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b),
        npgrad_fn=lambda x, w, b: nn.functional.group_norm(x, groups, w, b),
        atol=1e-10,
        grad_atol=1e-10,
    )


@needs_torch
@pytest.mark.parametrize("shape", [(2, 3, 4, 5), (3, 2, 6)])
def test_instance_norm_with_affine_parameters(shape):
    channels = shape[1]
    check_op(
        [shape, (channels,), (channels,)],
        torch_fn=lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b),
        npgrad_fn=lambda x, w, b: nn.functional.instance_norm(x, weight=w, bias=b),
        atol=1e-10,
        grad_atol=1e-10,
    )


@needs_torch
@pytest.mark.parametrize("momentum", [0.1, None])
def test_instance_norm_running_statistics(momentum):
    """Tracked statistics: training batches move them as torch's do, eval then uses them."""
    kwargs = {"affine": True, "track_running_stats": True, "momentum": momentum}
    ours, theirs = nn.InstanceNorm2d(3, **kwargs).double(), TNN.InstanceNorm2d(3, **kwargs).double()
    for seed in range(3):
        batch = np.random.default_rng(seed).normal(2.0, 3.0, (4, 3, 5, 5))
        ours(npgrad.tensor(batch))
        theirs(torch.tensor(batch))
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(
            getattr(ours, name).numpy(), getattr(theirs, name).numpy(), rtol=1e-12
        )
    ours.eval()
    theirs.eval()
    check_layer(ours, theirs, (2, 3, 4, 4))


def test_group_and_instance_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(4\) must be divisible by num_groups"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ShapeError, match=r"GroupNorm: expected input of shape \(N, 4, \*\)"):
        nn.GroupNorm(2, 4)(npgrad.ones(2, 3, 5))
    with pytest.raises(ShapeError, match="C divisible by num_groups=2"):
        nn.functional.group_norm(npgrad.ones(2, 3, 5), 2)
    with pytest.raises(ShapeError, match=r"InstanceNorm2d: expected input of shape \(N, 3, H, W\)"):
        nn.InstanceNorm2d(3)(npgrad.ones(2, 3, 5))
    with pytest.raises(ShapeError, match="more than 1 spatial element"):
        nn.InstanceNorm1d(3)(npgrad.ones(2, 3, 1))
    assert repr(nn.GroupNorm(2, 4)) == "GroupNorm(2, 4, eps=1e-05, affine=True)"


@needs_torch
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("ReLU", {}),
        ("ReLU6", {}),
        ("LeakyReLU", {"negative_slope": 0.2}),
        ("ELU", {"alpha": 0.5}),
        ("SELU", {}),
        ("GELU", {}),
        ("GELU", {"approximate": "tanh"}),
        ("SiLU", {}),
        ("Mish", {}),
        ("Sigmoid", {}),
        ("Tanh", {}),
        ("Softplus", {"beta": 2.0}),
        ("LogSigmoid", {}),
        ("Softsign", {}),
        ("Hardtanh", {"min_val": -0.5, "max_val": 0.8}),
        ("Hardsigmoid", {}),
        ("Hardswish", {}),
        ("Softmax", {"dim": 1}),
        ("LogSoftmax", {"dim": -1}),
        ("CELU", {"alpha": 0.7}),
        ("PReLU", {}),
        ("PReLU", {"num_parameters": 4, "init": 0.1}),
        ("RReLU", {}),  # (eval mode in check_layer: the mean slope)
        ("GLU", {"dim": 1}),
        ("Softmin", {"dim": 1}),
        ("Threshold", {"threshold": 0.3, "value": -1.0}),
        ("Tanhshrink", {}),
        ("Softshrink", {"lambd": 0.4}),
        ("Hardshrink", {"lambd": 0.4}),
    ],
)
def test_activation_modules(name, kwargs):
    vals = [np.linspace(-4.1, 4.3, 12).reshape(3, 4)]  # avoids the kinks exactly
    ours, theirs = getattr(nn, name)(**kwargs), getattr(TNN, name)(**kwargs)
    if name == "RReLU":
        ours.eval(), theirs.eval()
    # (torch's CELU gradient is computed less exactly than npgrad's: 1e-8)
    check_layer(ours, theirs, (3, 4), vals=vals, atol=1e-7 if name == "CELU" else 1e-6)


@needs_torch
def test_embedding_parity_and_padding():
    index = np.array([[0, 2, 2], [4, 1, 0]])
    check_layer(nn.Embedding(5, 3), TNN.Embedding(5, 3), None, integer_input=index)
    check_layer(
        nn.Embedding(5, 3, padding_idx=2),
        TNN.Embedding(5, 3, padding_idx=2),
        None,
        integer_input=index,
    )


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda: nn.Linear(3, 2), (4, 3)),
        (lambda: nn.LayerNorm(5), (2, 5)),
        (lambda: nn.BatchNorm1d(3), (6, 3)),
        (lambda: nn.BatchNorm2d(2), (3, 2, 2, 2)),
        (lambda: nn.BatchNorm1d(3, affine=False), (5, 3, 4)),
        # batch norm of a convolution's batch-last output (a transposed view)
        (lambda: nn.Sequential(nn.Conv2d(2, 3, 3), nn.BatchNorm2d(3)), (4, 2, 5, 5)),
        (lambda: nn.GroupNorm(2, 4), (2, 4, 3)),
        (lambda: nn.InstanceNorm2d(2, affine=True), (2, 2, 3, 3)),
        (lambda: nn.Sequential(nn.Linear(3, 4), nn.GELU(), nn.Linear(4, 2)), (4, 3)),
    ],
)
def test_layers_pass_gradcheck(make, shape):
    layer = make().double()
    x = npgrad.tensor(np.random.default_rng(0).normal(size=shape), requires_grad=True)
    # gradcheck perturbs the parameters' own arrays, so the layer sees every change
    report = npgrad.diagnostics.gradcheck(lambda x, *params: layer(x), [x, *layer.parameters()])
    assert report.passed and len(report.inputs) == 1 + len(list(layer.parameters()))


def test_embedding_gradcheck():
    table = np.random.default_rng(0).normal(size=(4, 3))
    index = npgrad.tensor([[0, 3], [3, 3]])
    check_grad(lambda w: nn.functional.embedding(index, w, padding_idx=2), table)


def test_dropout_train_and_eval():
    npgrad.manual_seed(0)
    drop = nn.Dropout(0.25)
    x = npgrad.ones(10_000)
    y = drop(x)
    kept = (y.numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.02
    assert np.allclose(y.numpy()[y.numpy() != 0], 1 / 0.75)
    assert drop.eval()(x) is x
    with pytest.raises(ValueError, match="between 0 and 1"):
        nn.Dropout(1.5)


def test_linear_default_init_matches_torch_bounds():
    npgrad.manual_seed(0)
    layer = nn.Linear(400, 300)
    bound = 1 / np.sqrt(400)
    assert np.abs(layer.weight.numpy()).max() <= bound
    assert np.abs(layer.weight.numpy()).max() > 0.95 * bound
    assert abs(layer.weight.numpy().std() - bound / np.sqrt(3)) < 0.01 * bound
    assert layer.weight.dtype == npgrad.float32


@pytest.mark.parametrize(
    "fill, expected_std",
    [
        (lambda w: nn.init.xavier_uniform_(w), np.sqrt(2 / (200 + 100))),
        (lambda w: nn.init.xavier_normal_(w, gain=2.0), 2 * np.sqrt(2 / (200 + 100))),
        (lambda w: nn.init.kaiming_uniform_(w, nonlinearity="relu"), np.sqrt(2 / 100)),
        (
            lambda w: nn.init.kaiming_normal_(w, mode="fan_out", nonlinearity="relu"),
            np.sqrt(2 / 200),
        ),
        (lambda w: nn.init.normal_(w, 0.0, 0.3), 0.3),
        (lambda w: nn.init.trunc_normal_(w, std=0.02), 0.02),  # [-2, 2] is 100 std: no cut
        (lambda w: nn.init.trunc_normal_(w, a=-1.0, b=1.0), 0.5398),  # std of N(0,1) cut at 1
    ],
)
def test_init_statistics(fill, expected_std):
    npgrad.manual_seed(0)
    w = npgrad.empty(200, 100)
    fill(w)
    assert abs(w.numpy().std() - expected_std) < 0.03 * expected_std


def test_init_orthogonal_zeros_ones_and_gain():
    w = npgrad.empty(6, 4)
    nn.init.orthogonal_(w)
    np.testing.assert_allclose(w.numpy().T @ w.numpy(), np.eye(4), atol=1e-5)
    nn.init.zeros_(w)
    assert not w.numpy().any()
    nn.init.ones_(w)
    assert (w.numpy() == 1).all()
    assert nn.init.calculate_gain("tanh") == 5 / 3
    assert nn.init.calculate_gain("leaky_relu", 0.2) == np.sqrt(2 / 1.04)
    with pytest.raises(ValueError, match="unsupported"):
        nn.init.calculate_gain("swish")


@needs_torch
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.PixelShuffle(2), (2, 8, 3, 4)),
        (lambda m: m.PixelUnshuffle(2), (2, 2, 4, 6)),
        (lambda m: m.Softmax2d(), (2, 3, 2, 2)),
        (lambda m: m.Unfold((2, 3), padding=1, stride=2), (2, 3, 5, 6)),
        (lambda m: m.Fold((5, 6), (2, 3), padding=1, stride=2), (2, 18, 9)),
        (lambda m: m.Fold(4, 2), (1, 8, 9)),
        (lambda m: m.LocalResponseNorm(3), (2, 5, 3, 3)),
        (lambda m: m.LocalResponseNorm(4, alpha=0.1, beta=0.5, k=2.0), (2, 6, 4)),
        (lambda m: m.RMSNorm(4), (3, 4)),
        (lambda m: m.RMSNorm((2, 3), eps=1e-3), (2, 2, 3)),
        (lambda m: m.RMSNorm(4, elementwise_affine=False), (3, 4)),
        (lambda m: m.Dropout1d(0.5).eval(), (2, 3, 4)),
    ],
)
def test_more_layers(make, shape):
    check_layer(make(nn), make(TNN), shape)


@needs_torch
def test_two_input_layers():
    rng = np.random.default_rng(0)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 5))
    ours, theirs = nn.Bilinear(3, 5, 2).double(), TNN.Bilinear(3, 5, 2).double()
    ours.load_state_dict(theirs.state_dict())
    out = ours(npgrad.tensor(x1), npgrad.tensor(x2))
    expected = theirs(torch.tensor(x1), torch.tensor(x2))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-12)
    out.sum().backward()
    expected.sum().backward()
    assert_param_grads_match(ours, theirs, atol=1e-12)
    y = rng.standard_normal((4, 3))
    for name, kwargs in [("CosineSimilarity", {"dim": 1}), ("PairwiseDistance", {"p": 1.0})]:
        got = getattr(nn, name)(**kwargs)(npgrad.tensor(x1), npgrad.tensor(y))
        want = getattr(TNN, name)(**kwargs)(torch.tensor(x1), torch.tensor(y))
        np.testing.assert_allclose(got.numpy(), want.numpy(), atol=1e-12)


def test_bilinear_gradcheck_and_init():
    layer = nn.Bilinear(3, 2, 4).double()
    assert np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(3)
    rng = np.random.default_rng(0)
    x1 = npgrad.tensor(rng.normal(size=(2, 3)), requires_grad=True)
    x2 = npgrad.tensor(rng.normal(size=(2, 2)), requires_grad=True)
    report = npgrad.diagnostics.gradcheck(
        lambda a, b, *params: layer(a, b), [x1, x2, *layer.parameters()]
    )
    assert report.passed


def test_lazy_linear_and_parameter_containers():
    lazy = nn.LazyLinear(3)
    assert lazy.weight is None and list(lazy.parameters()) == []
    out = lazy(npgrad.ones(2, 5))
    assert out.shape == (2, 3) and lazy.weight.shape == (3, 5) and lazy.in_features == 5
    assert len(list(lazy.parameters())) == 2
    model = nn.Module()
    model.scales = nn.ParameterList([npgrad.ones(2), npgrad.zeros(3)])
    model.scales.append(npgrad.ones(1))
    model.named = nn.ParameterDict({"a": npgrad.ones(2)})
    model.named["b"] = nn.Parameter(npgrad.zeros(1))
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scales.0", "scales.1", "scales.2", "named.a", "named.b"]
    assert list(model.state_dict()) == names
    assert len(model.scales) == 3 and model.scales[-1].shape == (1,) and "b" in model.named
    assert all(p.requires_grad for p in model.parameters())
    if torch is not None:  # the same names as torch's containers
        theirs = TNN.Module()
        theirs.scales = TNN.ParameterList([TNN.Parameter(torch.ones(2)) for _ in range(3)])
        theirs.named = TNN.ParameterDict({"a": torch.ones(2), "b": torch.ones(1)})
        assert [name for name, _ in theirs.named_parameters()] == names


def test_embedding_from_pretrained():
    vectors = npgrad.randn(5, 3)
    frozen = nn.Embedding.from_pretrained(vectors)
    assert not frozen.weight.requires_grad and list(frozen.parameters())[0] is frozen.weight
    np.testing.assert_array_equal(frozen(npgrad.tensor([4, 0])).numpy(), vectors.numpy()[[4, 0]])
    tuned = nn.Embedding.from_pretrained(vectors, freeze=False, padding_idx=0)
    tuned(npgrad.tensor([0, 2, 2])).sum().backward()
    assert tuned.weight.grad.numpy()[0].tolist() == [0.0, 0.0, 0.0]  # padding: no gradient
    assert tuned.weight.grad.numpy()[2].tolist() == [2.0, 2.0, 2.0]
    vectors.fill_(0.0)  # the table holds its own copy
    assert frozen.weight.abs().sum().item() > 0


def test_alpha_dropout_keeps_mean_and_variance():
    npgrad.manual_seed(0)
    x = npgrad.randn(200_000)
    out = nn.functional.alpha_dropout(x, 0.3, training=True).numpy()
    assert abs(out.mean()) < 0.01 and abs(out.std() - 1) < 0.01  # (torch: 0.0005, 1.0013)
    assert nn.AlphaDropout(0.3).eval()(x) is x
    channels = nn.FeatureAlphaDropout(0.5)(npgrad.randn(4, 6, 5)).numpy()
    constant = np.ptp(channels, axis=2) < 1e-6  # a dropped channel is one constant value
    assert constant.any() and not constant.all()  # whole channels dropped, others kept
    grad_in = npgrad.ones(3, requires_grad=True)
    nn.functional.alpha_dropout(grad_in, 0.5, training=True).sum().backward()
    assert grad_in.grad is not None


@needs_torch
def test_dirac_init_matches_torch():
    for shape, groups in [((4, 2, 3, 3), 2), ((3, 3, 5), 1), ((2, 4, 3, 3), 1)]:
        ours = nn.init.dirac_(npgrad.empty(*shape), groups=groups).numpy()
        theirs = torch.nn.init.dirac_(torch.empty(*shape), groups=groups).numpy()
        np.testing.assert_array_equal(ours, theirs)


def test_global_flags_accepted():
    npgrad.use_deterministic_algorithms(True)
    assert npgrad.are_deterministic_algorithms_enabled()
    npgrad.set_float32_matmul_precision("high")
    npgrad.set_default_device("cpu")
    with pytest.raises(ValueError, match="CPU only"):
        npgrad.set_default_device("cuda")


BAG_CASES = [
    # (indices, offsets, options): bags by offsets (one empty), by rows, weighted, max, padding
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 2, 2, 5], {"mode": "mean"}),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 5], {"mode": "sum", "weighted": True}),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 5], {"mode": "max"}),
    ([[1, 2, 0], [4, 0, 5]], None, {"mode": "mean", "padding_idx": 0}),
    ([1, 2, 4, 5, 4, 3, 2, 9], [0, 3, 5, 8], {"mode": "sum", "include_last_offset": True}),
]


@pytest.mark.parametrize("indices, offsets, options", BAG_CASES, ids=str)
def test_embedding_bag(indices, offsets, options):
    options = dict(options)
    weighted = options.pop("weighted", False)
    rng = np.random.default_rng(0)
    weights = rng.standard_normal(len(indices)) if weighted else None

    def call(library, functional):
        def run(table):
            return functional.embedding_bag(
                library.tensor(indices),
                table,
                None if offsets is None else library.tensor(offsets),
                per_sample_weights=None if weights is None else library.tensor(weights),
                **options,
            )

        return run

    check_op(
        [(10, 3)],
        torch_fn=call(torch, torch.nn.functional) if torch else None,
        npgrad_fn=call(npgrad, nn.functional),
    )


@needs_torch
@pytest.mark.parametrize(
    "make, shape",
    [(lambda m: m.Linear(4, 3), (5, 4)), (lambda m: m.Conv2d(2, 3, 3), (1, 2, 5, 5))],
)
@pytest.mark.parametrize("dim", [0, None])
def test_weight_norm_matches_torch(make, shape, dim):
    theirs = make(TNN).double()
    ours = make(nn).double()
    ours.load_state_dict(
        {k: npgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    with pytest.warns(FutureWarning):  # (torch deprecates its old-style API)
        theirs = torch.nn.utils.weight_norm(theirs, dim=dim)
    ours = nn.utils.weight_norm(ours, dim=dim)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    check_layer(ours, theirs, shape, atol=1e-10)
    nn.utils.remove_weight_norm(ours)
    assert sorted(name for name, _ in ours.named_parameters()) == ["bias", "weight"]


@needs_torch
@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.Linear(4, 3), (5, 4)),
        (lambda m: m.Conv2d(2, 3, 3), (1, 2, 5, 5)),
        (lambda m: m.ConvTranspose2d(2, 3, 3), (1, 2, 4, 4)),  # (dim 1)
    ],
)
def test_spectral_norm_matches_torch(make, shape):
    """Power iteration in each training forward, W / sigma, gradients; the same start vectors
    (torch draws them from its own generator, so they are copied)."""
    theirs = torch.nn.utils.spectral_norm(make(TNN).double())
    ours = make(nn).double()
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    ours.load_state_dict(
        {"weight": npgrad.tensor(state["weight_orig"]), "bias": npgrad.tensor(state["bias"])}
    )
    ours = nn.utils.spectral_norm(ours)
    ours.load_state_dict({k: npgrad.tensor(v) for k, v in state.items()})
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(3):  # three training forwards move u and v
        out, expected = ours(npgrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-10)
    np.testing.assert_allclose(ours.weight_u.numpy(), theirs.weight_u.numpy(), atol=1e-10)
    ours.eval(), theirs.eval()
    check_layer(ours, theirs, shape, atol=1e-10)
    nn.utils.remove_spectral_norm(ours)
    assert sorted(ours.state_dict()) == ["bias", "weight"]


@needs_torch
@pytest.mark.parametrize("kind", ["weight_norm", "spectral_norm"])
@pytest.mark.parametrize(
    "make, shape",
    [(lambda m: m.Linear(4, 3), (5, 4)), (lambda m: m.Conv2d(2, 3, 3), (1, 2, 5, 5))],
)
def test_parametrizations_match_torch(kind, make, shape):
    """torch.nn.utils.parametrizations: PyTorch's state-dict names, outputs and gradients (the
    spectral norm's vectors copied over: torch draws them from its own generator)."""
    theirs = getattr(torch.nn.utils.parametrizations, kind)(make(TNN).double())
    ours = make(nn).double()
    ours = getattr(nn.utils.parametrizations, kind)(ours)
    assert sorted(ours.state_dict()) == sorted(theirs.state_dict())
    ours.load_state_dict(
        {k: npgrad.tensor(v.detach().numpy()) for k, v in theirs.state_dict().items()}
    )
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(2):
        out, expected = ours(npgrad.tensor(x)), theirs(torch.tensor(x))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-10)
    weights = np.random.default_rng(1).standard_normal(out.shape)
    (out * npgrad.tensor(weights)).sum().backward()
    (expected * torch.tensor(weights)).sum().backward()
    assert_param_grads_match(ours, theirs, atol=1e-10)
    assert type(ours).__name__ == type(theirs).__name__  # ParametrizedLinear, ...
    nn.utils.parametrize.remove_parametrizations(ours, "weight")
    assert sorted(ours.state_dict()) == ["bias", "weight"] and type(ours).__name__ in (
        "Linear",
        "Conv2d",
    )


@pytest.mark.parametrize(
    "lazy, full, shape",
    [
        (lambda: nn.LazyConv1d(4, 3, padding=1), nn.Conv1d, (2, 3, 8)),
        (lambda: nn.LazyConv2d(4, 3, stride=2), nn.Conv2d, (2, 3, 7, 7)),
        (lambda: nn.LazyConv3d(2, 2), nn.Conv3d, (1, 3, 4, 4, 4)),
        (lambda: nn.LazyConvTranspose1d(4, 3), nn.ConvTranspose1d, (2, 3, 5)),
        (lambda: nn.LazyConvTranspose2d(4, 2, stride=2), nn.ConvTranspose2d, (2, 3, 4, 4)),
        (lambda: nn.LazyBatchNorm1d(momentum=0.2), nn.BatchNorm1d, (4, 3)),
        (lambda: nn.LazyBatchNorm2d(), nn.BatchNorm2d, (4, 3, 2, 2)),
        (lambda: nn.LazyBatchNorm3d(affine=False), nn.BatchNorm3d, (2, 3, 2, 2, 2)),
        (lambda: nn.LazyLinear(2), nn.Linear, (4, 3)),
    ],
)
def test_lazy_modules_become_the_full_layer_on_the_first_forward(lazy, full, shape):
    module = lazy()
    module.eval()
    called = []
    module.register_forward_hook(lambda *args: called.append(True))
    assert isinstance(module, nn.LazyModuleMixin) and module.has_uninitialized_params()
    assert list(module.parameters()) == [] and "first input" in repr(module)
    x = npgrad.randn(*shape, dtype=npgrad.float64)
    out = module(x)
    assert type(module) is full and not module.training and called == [True]
    assert all(p.dtype == npgrad.float64 for p in module.parameters())
    # the same as the full layer built by hand with the same weights
    args = {nn.Linear: (3, 2)}.get(full)
    reference = full(3, *module_arguments(module)) if args is None else full(*args)
    reference = reference.double()
    reference.load_state_dict(module.state_dict())
    reference.eval()
    np.testing.assert_allclose(out.detach().numpy(), reference(x).detach().numpy())


def module_arguments(module):
    """The arguments after the input size that rebuild ``module`` (convolutions, norms)."""
    if isinstance(module, nn.modules.normalization._BatchNorm):
        return (module.eps, module.momentum, module.affine)
    return (module.out_channels, module.kernel_size, module.stride, module.padding)


def test_lazy_model_trains_after_a_dry_run():
    model = nn.Sequential(
        nn.LazyConv2d(4, 3), nn.LazyBatchNorm2d(), nn.ReLU(), nn.Flatten(), nn.LazyLinear(2)
    )
    x, y = npgrad.randn(8, 1, 6, 6), npgrad.tensor([0, 1] * 4)
    model(x)  # the dry run creates the weights
    optimizer = npgrad.optim.Adam(model.parameters(), lr=0.05)
    losses = classification_losses(model, optimizer, x, y, steps=30)
    assert losses[-1] < 0.5 * losses[0]
    assert [type(m).__name__ for m in model][:2] == ["Conv2d", "BatchNorm2d"]


def test_load_state_dict_builds_lazy_layers_to_fit_the_saved_weights():
    def make():
        return nn.Sequential(
            nn.LazyConv2d(4, 3, groups=2),
            nn.LazyBatchNorm2d(),
            nn.ReLU(),
            nn.LazyConvTranspose2d(2, 2, stride=2),
            nn.Flatten(),
            nn.LazyLinear(3),
        )

    trained = make()
    x = npgrad.randn(2, 6, 6, 6, dtype=npgrad.float64)
    expected = trained.double()(x)
    fresh = make()
    fresh.load_state_dict(trained.state_dict())  # no dry run
    assert [type(m).__name__ for m in fresh][:2] == ["Conv2d", "BatchNorm2d"]
    assert fresh[0].in_channels == 6 and fresh[0].groups == 2 and fresh[3].in_channels == 4
    assert fresh[0].weight.dtype == npgrad.float64
    np.testing.assert_array_equal(fresh(x).detach().numpy(), expected.detach().numpy())
