"""Hypothesis-generated shapes and dims for reductions, unary and shape ops (gradcheck + torch)."""

from helpers import check_op
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes

shapes = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)


@st.composite
def shape_and_dim(draw):
    shape = draw(shapes)
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    keepdim = draw(st.booleans())
    return shape, dim, keepdim


@settings(max_examples=20, deadline=None)
@given(
    case=shape_and_dim(), name=st.sampled_from(["sum", "mean", "amax", "amin", "logsumexp", "var"])
)
def test_reductions_over_random_shapes(case, name):
    shape, dim, keepdim = case
    if name == "var" and shape[dim] == 1:
        return  # the variance of one sample is nan (n - 1 = 0), in torch as here
    check_op([shape], lambda x: getattr(x, name)(dim=dim, keepdim=keepdim))


@settings(max_examples=20, deadline=None)
@given(
    shape=array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=4),
    name=st.sampled_from(["exp", "tanh", "sigmoid", "abs", "sin", "square", "neg"]),
)
def test_unary_over_random_shapes(shape, name):
    check_op([shape], lambda x: getattr(x, name)() if name != "neg" else -x)


@settings(max_examples=20, deadline=None)
@given(case=shape_and_dim())
def test_softmax_family_over_random_shapes(case):
    shape, dim, _ = case
    check_op([shape], lambda x: x.softmax(dim))
    check_op([shape], lambda x: x.log_softmax(dim))


@settings(max_examples=15, deadline=None)
@given(shape=array_shapes(min_dims=2, max_dims=4, min_side=1, max_side=3), data=st.data())
def test_permute_and_transpose_over_random_shapes(shape, data):
    order = data.draw(st.permutations(range(len(shape))))
    check_op([shape], lambda x: x.permute(*order))
    a, b = data.draw(st.integers(0, len(shape) - 1)), data.draw(st.integers(0, len(shape) - 1))
    check_op([shape], lambda x: x.transpose(a, b))
