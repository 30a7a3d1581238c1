"""Loss functions: torch parity of forward and backward, gradcheck, option combinations."""

import numpy as np
import pytest
from helpers import check_grad, check_op, needs_torch, torch

import npgrad
import npgrad.nn.functional as F
from npgrad.errors import DTypeError, OutOfRangeError, ShapeError

TF = torch.nn.functional if torch else None
LABELS = np.array([1, 0, 3, 3, 2])
WEIGHT = np.array([0.5, 1.0, 2.0, 0.25])


def ours_ce(**kw):
    return lambda x: F.cross_entropy(x, npgrad.tensor(LABELS), **_np_weight(kw))


def theirs_ce(**kw):
    return lambda x: TF.cross_entropy(x, torch.tensor(LABELS), **_torch_weight(kw))


def _np_weight(kw):
    return {k: (npgrad.tensor(v) if k == "weight" else v) for k, v in kw.items()}


def _torch_weight(kw):
    return {k: (torch.tensor(v) if k == "weight" else v) for k, v in kw.items()}


CE_OPTIONS = [
    {},
    {"reduction": "sum"},
    {"reduction": "none"},
    {"weight": WEIGHT},
    {"weight": WEIGHT, "reduction": "none"},
    {"ignore_index": 3},
    {"ignore_index": 3, "weight": WEIGHT},
    {"label_smoothing": 0.1},
    {"label_smoothing": 0.2, "weight": WEIGHT},
    {"label_smoothing": 0.2, "weight": WEIGHT, "ignore_index": 0, "reduction": "none"},
    {"label_smoothing": 0.1, "ignore_index": 3, "reduction": "sum"},
]


@pytest.mark.parametrize("options", CE_OPTIONS, ids=str)
def test_cross_entropy_options(options):
    check_op(
        [(5, 4)],
        torch_fn=theirs_ce(**options) if torch else ours_ce(**options),
        npgrad_fn=ours_ce(**options),
    )


@needs_torch
def test_cross_entropy_spatial_and_probability_targets():
    labels = np.array([[[0, 2], [1, 1], [2, 0]], [[1, 0], [0, 0], [2, 2]]])  # (N=2, 3, 2)
    check_op(
        [(2, 3, 3, 2)],
        torch_fn=lambda x: TF.cross_entropy(x, torch.tensor(labels), label_smoothing=0.1),
        npgrad_fn=lambda x: F.cross_entropy(x, npgrad.tensor(labels), label_smoothing=0.1),
    )
    probs = np.random.default_rng(0).dirichlet(np.ones(4), size=5)
    for options in ({}, {"label_smoothing": 0.3, "weight": WEIGHT}, {"reduction": "none"}):
        check_op(
            [(5, 4)],
            torch_fn=lambda x, o=options: TF.cross_entropy(
                x, torch.tensor(probs), **_torch_weight(o)
            ),
            npgrad_fn=lambda x, o=options: F.cross_entropy(
                x, npgrad.tensor(probs), **_np_weight(o)
            ),
        )
    check_op(
        [(4,)],
        torch_fn=lambda x: TF.cross_entropy(x, torch.tensor(2)),
        npgrad_fn=lambda x: F.cross_entropy(x, npgrad.tensor(2)),
    )


@needs_torch
def test_nll_loss():
    check_op(
        [(5, 4)],
        torch_fn=lambda x: TF.nll_loss(
            x.log_softmax(1), torch.tensor(LABELS), torch.tensor(WEIGHT)
        ),
        npgrad_fn=lambda x: F.nll_loss(
            x.log_softmax(1), npgrad.tensor(LABELS), npgrad.tensor(WEIGHT)
        ),
    )


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize(
    "name, kwargs",
    [
        ("mse_loss", {}),
        ("l1_loss", {}),
        ("smooth_l1_loss", {"beta": 0.5}),
        ("huber_loss", {"delta": 0.7}),
    ],
)
def test_regression_losses(name, kwargs, reduction):
    check_op(
        [(3, 4), (3, 4)],
        lambda x, y: getattr(TF if isinstance(x, torch.Tensor) else F, name)(
            x, y, reduction=reduction, **kwargs
        ),
    )


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_cross_entropies(reduction):
    target = np.random.default_rng(3).integers(0, 2, (3, 4)).astype(float)
    pos_weight = np.array([1.0, 2.0, 0.5, 3.0])
    check_op(
        [(3, 4)],
        torch_fn=lambda x: TF.binary_cross_entropy(
            x.sigmoid(), torch.tensor(target), reduction=reduction
        ),
        npgrad_fn=lambda x: F.binary_cross_entropy(
            x.sigmoid(), npgrad.tensor(target), reduction=reduction
        ),
    )
    check_op(
        [(3, 4)],
        torch_fn=lambda x: TF.binary_cross_entropy_with_logits(
            x, torch.tensor(target), reduction=reduction, pos_weight=torch.tensor(pos_weight)
        ),
        npgrad_fn=lambda x: F.binary_cross_entropy_with_logits(
            x, npgrad.tensor(target), reduction=reduction, pos_weight=npgrad.tensor(pos_weight)
        ),
        low=-30,
        high=30,
    )


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "batchmean", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div(reduction, log_target):
    target = np.random.default_rng(4).dirichlet(np.ones(4), size=3)
    target[0, 1] = 0.0
    if log_target:
        target = np.log(target + 1e-3)
    check_op(
        [(3, 4)],
        torch_fn=lambda x: TF.kl_div(
            x.log_softmax(1), torch.tensor(target), reduction=reduction, log_target=log_target
        ),
        npgrad_fn=lambda x: F.kl_div(
            x.log_softmax(1), npgrad.tensor(target), reduction=reduction, log_target=log_target
        ),
    )


def test_loss_modules_match_functions():
    x = npgrad.randn(5, 4)
    y = npgrad.tensor(LABELS)
    assert npgrad.nn.CrossEntropyLoss()(x, y).item() == F.cross_entropy(x, y).item()
    t = npgrad.randn(5, 4)
    assert (
        npgrad.nn.MSELoss(reduction="sum")(x, t).item() == F.mse_loss(x, t, reduction="sum").item()
    )


def test_cross_entropy_is_stable_and_float32():
    logits = npgrad.tensor([[1e4, -1e4, 0.0]], requires_grad=True)
    loss = F.cross_entropy(logits, npgrad.tensor([1]))
    loss.backward()
    assert loss.dtype == npgrad.float32 and np.isfinite(loss.item())
    assert np.isfinite(logits.grad.numpy()).all()


def test_class_label_errors_are_clear():
    x = npgrad.randn(3, 4)
    with pytest.raises(OutOfRangeError, match="target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, npgrad.tensor([0, 4, 1]))
    with pytest.raises(OutOfRangeError, match="target -1"):
        F.cross_entropy(x, npgrad.tensor([0, -1, 1]))
    with pytest.raises(ShapeError, match=r"expected target of shape \(3,\).*got \(2,\)"):
        F.cross_entropy(x, npgrad.tensor([0, 1]))
    with pytest.raises(DTypeError, match="integer class labels.*float32.*use .long"):
        F.nll_loss(x, npgrad.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(DTypeError, match=r"probabilities must have the input's shape \(3, 4\)"):
        F.cross_entropy(x, npgrad.tensor([0.0, 1.0, 2.0]))
    with pytest.raises(OutOfRangeError, match="between 0 and 1"):
        F.binary_cross_entropy(npgrad.tensor([1.5]), npgrad.tensor([1.0]))


def test_broadcasting_target_warns():
    with pytest.warns(UserWarning, match="target shape"):
        F.mse_loss(npgrad.ones(4, 1), npgrad.ones(4))


def test_cross_entropy_gradcheck_with_everything():
    check_grad(
        lambda x: F.cross_entropy(
            x,
            npgrad.tensor(LABELS),
            weight=npgrad.tensor(WEIGHT),
            ignore_index=0,
            label_smoothing=0.3,
        ),
        np.random.default_rng(0).normal(size=(5, 4)),
    )


PLUS_MINUS = [1.0, -1.0, 1.0, -1.0, 1.0]
# (name, input shapes, fixed targets (not differentiated), keyword options)
MORE_LOSSES = [
    ("margin_ranking_loss", [(5,), (5,)], [PLUS_MINUS], {"margin": 0.3}),
    ("hinge_embedding_loss", [(5,)], [[1.0, -1.0, 0.0, -1.0, 1.0]], {"margin": 0.5}),
    ("soft_margin_loss", [(5,)], [PLUS_MINUS], {}),
    ("multilabel_soft_margin_loss", [(3, 4)], [[[1, 0, 0, 1], [0, 0, 1, 1], [1, 1, 1, 0]]], {}),
    ("multi_margin_loss", [(3, 4)], [[0, 3, 1]], {}),
    ("multi_margin_loss", [(3, 4)], [[0, 3, 1]], {"p": 2, "margin": 0.5}),
    ("cosine_embedding_loss", [(5, 3), (5, 3)], [PLUS_MINUS], {"margin": 0.2}),
    ("triplet_margin_loss", [(4, 3), (4, 3), (4, 3)], [], {}),
    ("triplet_margin_loss", [(4, 3), (4, 3), (4, 3)], [], {"p": 1, "swap": True}),
    ("poisson_nll_loss", [(6,)], [[0.0, 1.0, 2.0, 3.0, 5.0, 0.0]], {}),
    ("poisson_nll_loss", [(6,)], [[0.0, 1.0, 2.0, 3.0, 5.0, 0.0]], {"full": True}),
]


@pytest.mark.parametrize("name, shapes, targets, options", MORE_LOSSES, ids=str)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_more_losses(name, shapes, targets, options, reduction):
    def call(library, functional):
        fixed = [
            library.tensor(
                np.array(t, dtype=np.int64 if name == "multi_margin_loss" else np.float64)
            )
            for t in targets
        ]
        return lambda *xs: getattr(functional, name)(*xs, *fixed, reduction=reduction, **options)

    check_op(shapes, torch_fn=call(torch, TF) if torch else None, npgrad_fn=call(npgrad, F))


@pytest.mark.parametrize("var_shape, full", [((4, 3), False), ((4,), True), ((4, 1), False)])
def test_gaussian_nll_loss(var_shape, full):
    """Positive variances, one per element or one per sample; full adds 0.5 log(2 pi)."""
    check_op(
        [(4, 3), (4, 3), var_shape],
        torch_fn=lambda x, y, v: TF.gaussian_nll_loss(x, y, v.abs() + 0.1, full=full),
        npgrad_fn=lambda x, y, v: F.gaussian_nll_loss(x, y, v.abs() + 0.1, full=full),
    )
    with pytest.raises(OutOfRangeError, match="negative"):
        F.gaussian_nll_loss(npgrad.ones(2), npgrad.ones(2), -npgrad.ones(2))


@needs_torch
def test_more_loss_modules():
    rng = np.random.default_rng(0)
    a, b, c = (rng.standard_normal((5, 3)) for _ in range(3))
    signs, flat_signs = np.sign(rng.standard_normal((5, 3))), np.array(PLUS_MINUS)
    cases = [
        ("MarginRankingLoss", {"margin": 0.1}, [a[:, 0], b[:, 0], flat_signs]),
        ("CosineEmbeddingLoss", {"margin": 0.2}, [a, b, flat_signs]),
        ("TripletMarginLoss", {"margin": 0.5}, [a, b, c]),
        ("SoftMarginLoss", {}, [a, signs]),
        ("HingeEmbeddingLoss", {}, [a, signs]),
        ("MultiLabelSoftMarginLoss", {}, [a, (signs > 0).astype(float)]),
        ("PoissonNLLLoss", {}, [a, np.abs(b).round()]),
        ("GaussianNLLLoss", {}, [a, b, np.abs(c) + 0.1]),
    ]
    for name, args, arrays in cases:
        ours = getattr(npgrad.nn, name)(**args)(*(npgrad.tensor(x) for x in arrays))
        theirs = getattr(torch.nn, name)(**args)(*(torch.tensor(x) for x in arrays))
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10, err_msg=name)
    labels = np.array([0, 2, 1, 2, 0])
    ours = npgrad.nn.MultiMarginLoss(margin=0.5)(npgrad.tensor(a), npgrad.tensor(labels))
    theirs = torch.nn.MultiMarginLoss(margin=0.5)(torch.tensor(a), torch.tensor(labels))
    np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-10)


def test_binary_cross_entropy_gradient_is_finite_at_saturated_probabilities():
    """A sigmoid saturates to exactly 0 or 1 in float32 (|logit| > ~17): PyTorch's gradient
    (p - y) / max(p (1 - p), 1e-12) stays finite there; a composite of clamped logs made nan."""
    p = npgrad.tensor(np.float32([0.0, 1.0, 0.5, 1.0, 0.0]), requires_grad=True)
    y = npgrad.tensor(np.float32([1.0, 0.0, 1.0, 1.0, 0.0]), requires_grad=True)
    loss = F.binary_cross_entropy(p, y, reduction="sum")
    loss.backward()
    np.testing.assert_allclose(loss.item(), 200 + np.log(2), rtol=1e-6)  # the logs clamp at -100
    np.testing.assert_allclose(p.grad.numpy(), [-1e12, 1e12, -2.0, 0.0, 0.0], rtol=1e-6)
    np.testing.assert_allclose(y.grad.numpy(), [100.0, -100.0, 0.0, -100.0, 100.0], rtol=1e-6)
    if torch is not None:
        pt = torch.tensor(p.numpy(), requires_grad=True)
        yt = torch.tensor(y.numpy(), requires_grad=True)
        TF.binary_cross_entropy(pt, yt, reduction="sum").backward()
        np.testing.assert_allclose(p.grad.numpy(), pt.grad.numpy(), rtol=1e-6)
        # the target's gradient: PyTorch's is log(1 - p) - log p unclamped, +-inf at p = 0 or
        # 1; ours is the derivative of the loss as computed (clamped logs): +-100 there
        inside = (p.numpy() > 0) & (p.numpy() < 1)
        np.testing.assert_allclose(y.grad.numpy()[inside], yt.grad.numpy()[inside], rtol=1e-6)


def test_binary_cross_entropy_target_gradcheck():
    p = np.random.default_rng(4).uniform(0.1, 0.9, (3, 2))
    check_grad(lambda y: F.binary_cross_entropy(npgrad.tensor(p), y), np.full((3, 2), 0.3))
    check_grad(lambda q: F.binary_cross_entropy(q, npgrad.tensor(np.full((3, 2), 0.3))), p)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_class_losses_with_logits_masked_to_minus_infinity(loss, reduction):
    """A class masked with -inf (not the target) adds nothing: the loss is finite and the
    masked class's gradient is 0, as in PyTorch (0 * -inf would be nan)."""
    logits = np.float32([[-np.inf, 1.0, 2.0], [0.5, -np.inf, -1.0]])
    labels = np.array([1, 2])
    x = npgrad.tensor(logits, requires_grad=True)
    inputs = x if loss == "cross_entropy" else F.log_softmax(x, dim=1)
    out = getattr(F, loss)(inputs, npgrad.tensor(labels), reduction=reduction)
    out.sum().backward()
    assert np.isfinite(out.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    assert x.grad.numpy()[0, 0] == 0 and x.grad.numpy()[1, 1] == 0
    if torch is not None:
        xt = torch.tensor(logits, requires_grad=True)
        inputs_t = xt if loss == "cross_entropy" else TF.log_softmax(xt, dim=1)
        out_t = getattr(TF, loss)(inputs_t, torch.tensor(labels), reduction=reduction)
        out_t.sum().backward()
        np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-6)
        np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
def test_mean_class_loss_with_every_target_ignored_is_nan_with_zero_gradient(loss, smoothing):
    """PyTorch: the mean over no targets is 0 / 0 = nan, and its gradient is 0, not nan (a
    batch of padding only must not poison the weights)."""
    x = npgrad.tensor(np.float32([[1.0, 2.0], [3.0, -1.0]]), requires_grad=True)
    kwargs = {"label_smoothing": smoothing} if loss == "cross_entropy" else {}
    if loss == "nll_loss" and smoothing:
        pytest.skip("nll_loss has no label smoothing")
    out = getattr(F, loss)(x, npgrad.tensor([1, 1]), ignore_index=1, **kwargs)
    out.backward()
    assert np.isnan(out.item())
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((2, 2), np.float32))


# ----------------------------------------------------------------------- CTC

CTC_RNG = np.random.default_rng(7)
CTC_LOGITS = CTC_RNG.standard_normal((9, 4, 5))  # T, N, C
CTC_TARGETS = np.array([[1, 2, 2, 3], [4, 1, 0, 0], [3, 3, 0, 0], [0, 0, 0, 0]])
CTC_TARGET_LENGTHS = np.array([4, 2, 2, 0])
CTC_INPUT_LENGTHS = np.array([9, 6, 4, 3])


def _ctc_by_enumeration(log_probs, target, blank=0):
    """-log p(target | x) by summing over every path of the input's length (tiny cases only)."""
    steps, classes = log_probs.shape
    total = 0.0
    for path in np.ndindex(*(classes,) * steps):
        collapsed = [c for i, c in enumerate(path) if c != blank and (i == 0 or c != path[i - 1])]
        if collapsed == list(target):
            total += np.exp(sum(log_probs[t, c] for t, c in enumerate(path)))
    return -np.log(total)


def test_ctc_loss_is_the_sum_over_alignments():
    logits = CTC_RNG.standard_normal((5, 3, 3))
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    targets = np.array([[1, 2], [1, 1], [2, 0]])
    lengths, inputs = np.array([2, 2, 1]), np.array([5, 4, 2])
    losses = F.ctc_loss(
        npgrad.tensor(log_probs), npgrad.tensor(targets), inputs, lengths, reduction="none"
    )
    expected = [
        _ctc_by_enumeration(log_probs[:n, i], targets[i, :k])
        for i, (n, k) in enumerate(zip(inputs, lengths, strict=True))
    ]
    np.testing.assert_allclose(losses.numpy(), expected, rtol=1e-10)


def test_ctc_loss_gradcheck_through_log_softmax():
    def loss(logits):
        return F.ctc_loss(
            logits.log_softmax(2),
            npgrad.tensor(CTC_TARGETS),
            CTC_INPUT_LENGTHS,
            CTC_TARGET_LENGTHS,
            reduction="sum",
        )

    assert check_grad(loss, CTC_LOGITS, name="ctc_loss")


@needs_torch
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("concatenated", [False, True])
def test_ctc_loss_matches_pytorch(reduction, concatenated):
    targets = CTC_TARGETS
    if concatenated:
        targets = np.concatenate(
            [row[:k] for row, k in zip(CTC_TARGETS, CTC_TARGET_LENGTHS, strict=True)]
        )
    results = []
    for lib in (npgrad, torch):
        logits = lib.tensor(CTC_LOGITS, requires_grad=True)
        log_probs = logits.log_softmax(2)
        log_probs.retain_grad()
        losses = lib.nn.CTCLoss(blank=0, reduction=reduction)(
            log_probs,
            lib.tensor(targets),
            tuple(CTC_INPUT_LENGTHS.tolist()),  # (PyTorch takes both as tuples or as tensors)
            tuple(CTC_TARGET_LENGTHS.tolist()),
        )
        (
            losses * lib.tensor(np.arange(1.0, 1 + losses.numel()).reshape(losses.shape))
        ).sum().backward()
        results.append((losses.detach().numpy(), logits.grad.numpy(), log_probs.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-9, atol=1e-12)


@needs_torch
def test_ctc_loss_blank_unbatched_float32_and_impossible_targets_match_pytorch():
    logits = CTC_RNG.standard_normal((6, 2, 4)).astype(np.float32)
    targets = np.array([[1, 1, 2, 0], [2, 0, 1, 1]])  # the first needs 5 steps, has 3
    for zero_infinity in (False, True):
        results = []
        for lib in (npgrad, torch):
            x = lib.tensor(logits, requires_grad=True)
            losses = lib.nn.functional.ctc_loss(
                x.log_softmax(2), lib.tensor(targets), lib.tensor([3, 6]), lib.tensor([4, 3]),
                blank=3, reduction="none", zero_infinity=zero_infinity,
            )  # fmt: skip
            losses.sum().backward()
            results.append((losses.detach().numpy(), x.grad.numpy()))
        for ours, theirs in zip(*results, strict=True):
            np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    results = []
    for lib in (npgrad, torch):  # unbatched: (T, C) and (S,)
        x = lib.tensor(logits[:, 0].astype(np.float64), requires_grad=True)
        loss = lib.nn.functional.ctc_loss(
            x.log_softmax(1), lib.tensor([1, 2]), lib.tensor(6), lib.tensor(2)
        )
        loss.backward()
        results.append((loss.detach().numpy(), x.grad.numpy()))
    for ours, theirs in zip(*results, strict=True):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12)


def test_ctc_loss_errors_name_the_problem():
    log_probs = npgrad.tensor(CTC_LOGITS).log_softmax(2)
    targets = npgrad.tensor(CTC_TARGETS)
    with pytest.raises(ShapeError, match="input_lengths"):
        F.ctc_loss(log_probs, targets, [10, 6, 4, 3], CTC_TARGET_LENGTHS)
    with pytest.raises(ShapeError, match="do not fit"):
        F.ctc_loss(log_probs, targets, CTC_INPUT_LENGTHS, [5, 2, 2, 0])
    with pytest.raises(ShapeError, match="concatenated"):
        F.ctc_loss(log_probs, npgrad.tensor([1, 2, 3]), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(OutOfRangeError, match="blank 5"):
        F.ctc_loss(log_probs, targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS, blank=5)
    with pytest.raises(OutOfRangeError, match="target labels"):
        F.ctc_loss(log_probs, targets * 2, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(DTypeError, match="integer"):
        F.ctc_loss(log_probs, targets.double(), CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
    with pytest.raises(ShapeError, match=r"\(T, N, C\)"):
        F.ctc_loss(log_probs[0, 0], targets, CTC_INPUT_LENGTHS, CTC_TARGET_LENGTHS)
