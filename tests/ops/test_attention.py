"""Scaled dot-product attention: gradcheck of the fused op, PyTorch parity, masks, dropout."""

import numpy as np
import pytest
from helpers import check_grad, check_op, make_inputs, needs_torch, torch
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad.errors import ShapeError
from npgrad.ops.attention import ScaledDotProductAttention

F = npgrad.nn.functional
TF = torch.nn.functional if torch else None

CASES = [
    # (q, k, v shapes, kwargs)
    ((3, 4), (5, 4), (5, 2), {}),
    ((2, 3, 4), (2, 5, 4), (2, 5, 3), {"scale": 0.3}),
    ((2, 2, 3, 4), (2, 2, 3, 4), (2, 2, 3, 4), {"is_causal": True}),
    ((2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 4), {"is_causal": True}),  # L < S: top-left aligned
    ((2, 3, 3, 4), (1, 3, 5, 4), (1, 3, 5, 2), {}),  # key and value broadcast over the batch
    ((1, 1, 4), (1, 1, 4), (1, 1, 1), {}),  # one key: every weight is 1
]


@pytest.mark.parametrize("shapes, kwargs", [(c[:3], c[3]) for c in CASES], ids=str)
def test_sdpa_matches_torch_and_finite_differences(shapes, kwargs):
    check_op(
        list(shapes),
        torch_fn=lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, **kwargs),
        npgrad_fn=lambda q, k, v: F.scaled_dot_product_attention(q, k, v, **kwargs),
    )


@pytest.mark.parametrize("kind", ["bool", "float", "bool broadcast"])
def test_sdpa_masks_match_torch(kind):
    rng = np.random.default_rng(0)
    if kind == "bool":
        mask = rng.random((2, 2, 3, 5)) > 0.3
        mask[..., 0] = True  # every query sees at least one key
    elif kind == "float":
        mask = rng.standard_normal((3, 5))
    else:
        mask = rng.random((1, 2, 3, 5)) > 0.3
        mask[..., 0] = True

    def ours(q, k, v):
        return F.scaled_dot_product_attention(q, k, v, attn_mask=npgrad.tensor(mask))

    def theirs(q, k, v):
        return TF.scaled_dot_product_attention(q, k, v, attn_mask=torch.tensor(mask))

    check_op([(2, 2, 3, 4), (2, 2, 5, 4), (2, 2, 5, 3)], torch_fn=theirs, npgrad_fn=ours)


@needs_torch
def test_sdpa_query_with_every_key_masked_gets_zero_as_in_torch():
    q, k, v = make_inputs([(1, 3, 4), (1, 5, 4), (1, 5, 2)])
    mask = np.ones((3, 5), dtype=bool)
    mask[1] = False
    ours = [npgrad.tensor(a, requires_grad=True) for a in (q, k, v)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (q, k, v)]
    out = F.scaled_dot_product_attention(*ours, attn_mask=npgrad.tensor(mask))
    expected = TF.scaled_dot_product_attention(*theirs, attn_mask=torch.tensor(mask))
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), atol=1e-12)
    assert (out.numpy()[0, 1] == 0).all()
    out.sum().backward()
    expected.sum().backward()
    for mine, reference in zip(ours, theirs, strict=True):
        assert np.isfinite(mine.grad.numpy()).all()
        np.testing.assert_allclose(mine.grad.numpy(), reference.grad.numpy(), atol=1e-12)


@needs_torch
def test_sdpa_grouped_query_heads_match_torch():
    check_op(
        [(2, 4, 3, 5), (2, 2, 6, 5), (2, 2, 6, 3)],
        torch_fn=lambda q, k, v: TF.scaled_dot_product_attention(q, k, v, enable_gqa=True),
        npgrad_fn=lambda q, k, v: F.scaled_dot_product_attention(q, k, v, enable_gqa=True),
    )


@settings(max_examples=25, deadline=None)
@given(
    batch=st.lists(st.integers(1, 3), min_size=0, max_size=2),
    length=st.integers(1, 4),
    source=st.integers(1, 4),
    features=st.integers(1, 4),
    value_features=st.integers(1, 3),
    masked=st.booleans(),
)
def test_sdpa_gradcheck_over_shapes(batch, length, source, features, value_features, masked):
    """Finite differences over batch dims, lengths and feature sizes, with and without a mask."""
    shapes = [
        (*batch, length, features),
        (*batch, source, features),
        (*batch, source, value_features),
    ]
    mask = None
    if masked:
        mask = np.random.default_rng(length * source).random((length, source)) > 0.5
        mask[:, 0] = True
    check_grad(
        lambda q, k, v: F.scaled_dot_product_attention(
            q, k, v, attn_mask=None if mask is None else npgrad.tensor(mask)
        ),
        *make_inputs(shapes),
    )


def test_sdpa_dropout_gradient_with_a_fixed_mask():
    """The op with a fixed dropout multiplier is differentiable like the rest."""
    rng = np.random.default_rng(3)
    keep = (rng.random((2, 3, 5)) > 0.4) / 0.6

    def attend(q, k, v):
        return ScaledDotProductAttention.apply(q, k, v, scale=0.5, keep=keep)

    check_grad(attend, *make_inputs([(2, 3, 4), (2, 5, 4), (2, 5, 2)]))


def test_sdpa_dropout_zeroes_weights_and_is_seeded():
    q = k = npgrad.zeros(1, 64, 4)  # equal scores: every weight is 1/64 before dropout
    v = npgrad.ones(1, 64, 1)
    npgrad.manual_seed(0)
    first = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    npgrad.manual_seed(0)
    again = F.scaled_dot_product_attention(q, k, v, dropout_p=0.5).numpy()
    np.testing.assert_array_equal(first, again)
    # each output is (kept weights) * 2 / 64: about 1 on average, never all exactly 1
    assert 0.8 < first.mean() < 1.2
    assert not np.allclose(first, 1.0)
    no_dropout = F.scaled_dot_product_attention(q, k, v, dropout_p=0.0).numpy()
    np.testing.assert_allclose(no_dropout, 1.0, rtol=1e-6)


def test_sdpa_errors_name_the_op_and_shapes():
    q, v = npgrad.ones(2, 3, 4), npgrad.ones(2, 5, 4)
    with pytest.raises(ShapeError, match=r"scaled_dot_product_attention.*\(2, 5, 3\)"):
        F.scaled_dot_product_attention(q, npgrad.ones(2, 5, 3), v)
    with pytest.raises(ValueError, match="either attn_mask or is_causal"):
        F.scaled_dot_product_attention(q, q, q, attn_mask=npgrad.ones(3, 3), is_causal=True)
    with pytest.raises(ShapeError, match="not a multiple"):
        F.scaled_dot_product_attention(
            npgrad.ones(1, 3, 2, 4),
            npgrad.ones(1, 2, 2, 4),
            npgrad.ones(1, 2, 2, 4),
            enable_gqa=True,
        )
