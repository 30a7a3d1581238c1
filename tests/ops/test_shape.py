"""Shape ops and indexing."""

import numpy as np
import pytest
from helpers import check_grad, check_op, make_inputs, needs_torch, torch

import npgrad
from npgrad.errors import ShapeError


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: x.reshape(4, 6),
        lambda x: x.reshape(-1),
        lambda x: x.view(2, -1),
        lambda x: x.flatten(),
        lambda x: x.flatten(1),
        lambda x: x.unsqueeze(0),
        lambda x: x.unsqueeze(-1),
        lambda x: x.unsqueeze(1).squeeze(1),
        lambda x: x.transpose(0, 2),
        lambda x: x.transpose(-1, -2),
        lambda x: x.permute(2, 0, 1),
        lambda x: x.mT,
        lambda x: x.flip(0, 2),
        lambda x: x.repeat(2, 1, 3),
        lambda x: x.repeat(2, 1, 1, 2),
        lambda x: x.clone(),
        lambda x: x.contiguous(),
    ],
)
def test_shape_ops(fn):
    check_op([(2, 3, 4)], fn)


def test_squeeze_and_expand():
    check_op([(3, 1, 2)], lambda x: x.squeeze())
    check_op([(3, 1, 2)], lambda x: x.squeeze(1))
    check_op([(3, 1)], lambda x: x.expand(3, 4))
    check_op([(3, 1)], lambda x: x.expand(2, -1, 5))
    check_op([(3,)], lambda x: x.T)
    check_op([(2, 3)], lambda x: x.t())
    check_op([(2, 3)], lambda x: x.T)


INDEXES = [
    1,
    -1,
    slice(1, 3),
    (slice(None), 2),
    (Ellipsis, 1),
    (None, 0),
    (slice(None, None, -1),),
    (slice(0, 3, 2), slice(None), 1),
    [0, 2, 0],
    ([0, 2, 2], [1, 1, 1]),
]


@pytest.mark.parametrize("index", INDEXES, ids=str)
def test_getitem(index):
    if isinstance(index, tuple) and any(isinstance(i, slice) and (i.step or 1) < 0 for i in index):
        # torch has no negative steps; compare with numpy and gradcheck only
        x = npgrad.randn(4, 3, 2, dtype=npgrad.float64)
        np.testing.assert_array_equal(x[index].numpy(), x.numpy()[index])
        check_grad(lambda t: t[index], x.numpy())
        return
    check_op([(4, 3, 2)], lambda x: x[index])


def test_getitem_boolean_mask_and_tensor_index():
    vals = [[[1.0, -2.0, 3.0], [-4.0, 5.0, -6.0]]]
    check_op([(2, 3)], lambda x: x[x > 0], vals=vals)
    check_op(
        [(5, 3)],
        torch_fn=lambda x: x[torch.tensor([4, 0, 4])],
        npgrad_fn=lambda x: x[npgrad.tensor([4, 0, 4])],
    )


def test_setitem_under_grad_and_no_grad():
    check_op([(3, 4), (4,)], torch_fn=_set_row)
    x = npgrad.zeros(2, 3)
    x[0, 1] = 5.0
    x[1] = npgrad.ones(3)
    assert x.tolist() == [[0.0, 5.0, 0.0], [1.0, 1.0, 1.0]]


def _set_row(x, row):
    y = x * 1
    y[1] = row * 2
    return y


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_cat_and_stack(dim):
    check_op(
        [(2, 3), (2, 3), (2, 3)],
        torch_fn=lambda a, b, c: torch.cat([a, b, c], dim=dim),
        npgrad_fn=lambda a, b, c: npgrad.cat([a, b, c], dim=dim),
    )
    check_op(
        [(2, 3), (2, 3)],
        torch_fn=lambda a, b: torch.stack([a, b], dim=dim),
        npgrad_fn=lambda a, b: npgrad.stack([a, b], dim=dim),
    )


def test_cat_uneven_sizes():
    check_op(
        [(2, 3), (4, 3)],
        torch_fn=lambda a, b: torch.cat([a, b]),
        npgrad_fn=lambda a, b: npgrad.cat([a, b]),
    )


@pytest.mark.parametrize("sections", [2, 3, [1, 4]])
def test_split_and_chunk(sections):
    check_op([(5, 2)], lambda x: x.split(sections, dim=0))
    check_op([(2, 5)], lambda x: x.chunk(2, dim=1))
    check_op([(3, 2)], lambda x: x.unbind(1))


def test_pad():
    check_op(
        [(2, 3, 4)],
        torch_fn=lambda x: torch.nn.functional.pad(x, (1, 2, 0, 1)),
        npgrad_fn=lambda x: npgrad.pad(x, (1, 2, 0, 1)),
    )
    check_op(
        [(2, 3)],
        torch_fn=lambda x: torch.nn.functional.pad(x, (2, 0), value=1.5),
        npgrad_fn=lambda x: npgrad.pad(x, (2, 0), value=1.5),
    )


def test_gather_and_scatter_add():
    index = np.array([[0, 2, 2], [1, 0, 1]])
    check_op(
        [(3, 3)],
        torch_fn=lambda x: torch.gather(x, 0, torch.tensor(index)),
        npgrad_fn=lambda x: npgrad.gather(x, 0, npgrad.tensor(index)),
    )
    check_op(
        [(2, 4)],
        torch_fn=lambda x: torch.gather(x, 1, torch.tensor([[3, 3], [0, 1]])),
        npgrad_fn=lambda x: x.gather(1, npgrad.tensor([[3, 3], [0, 1]])),
    )
    check_op(
        [(3, 3), (2, 3)],
        torch_fn=lambda x, s: torch.scatter_add(x, 0, torch.tensor(index), s),
        npgrad_fn=lambda x, s: npgrad.scatter_add(x, 0, npgrad.tensor(index), s),
    )


def test_index_select():
    check_op(
        [(4, 3)],
        torch_fn=lambda x: x.index_select(0, torch.tensor([3, 3, 1])),
        npgrad_fn=lambda x: x.index_select(0, npgrad.tensor([3, 3, 1])),
    )


def test_shape_errors_name_the_op():
    x = npgrad.ones(2, 3)
    with pytest.raises(ShapeError, match=r"reshape.*\(2, 3\)"):
        x.reshape(4, 2)
    with pytest.raises(ShapeError, match="permute"):
        x.permute(0)
    with pytest.raises(ShapeError, match="cat"):
        npgrad.cat([x, npgrad.ones(2, 4)])


@pytest.mark.parametrize("dim", [None, 0, 1, -1])
def test_repeat_interleave(dim):
    check_op([(2, 3)], lambda x: x.repeat_interleave(3, dim=dim))


# rows of a (3, 4) target, distinct within each column
SCATTER_INDEX = np.array([[0, 1, 2, 0], [2, 0, 1, 1]])


def test_scatter_writes_and_its_gradients():
    """Overwritten elements get no gradient from the target; each source element gets the
    gradient of where it went (indices distinct per column, so the result is defined)."""
    check_op(
        [(3, 4), (2, 4)],
        torch_fn=lambda x, s: x.scatter(0, torch.tensor(SCATTER_INDEX), s),
        npgrad_fn=lambda x, s: x.scatter(0, npgrad.tensor(SCATTER_INDEX), s),
    )
    # a source larger than the index: its unused part gets a zero gradient (torch's backward
    # rejects this case, so only finite differences check it)
    for name in ("scatter", "scatter_add"):
        check_grad(
            lambda x, s, name=name: getattr(x, name)(0, npgrad.tensor(SCATTER_INDEX), s),
            *make_inputs([(3, 4), (2, 5)]),
        )
    check_op(
        [(3, 4)],
        torch_fn=lambda x: x.scatter(1, torch.tensor([[1], [3], [0]]), 2.5),
        npgrad_fn=lambda x: x.scatter(1, npgrad.tensor([[1], [3], [0]]), 2.5),
    )


def test_index_add_with_repeated_indices():
    index = [2, 0, 2]
    check_op(
        [(3, 4), (3, 3)],
        torch_fn=lambda x, s: x.index_add(1, torch.tensor(index), s, alpha=2.0),
        npgrad_fn=lambda x, s: x.index_add(1, npgrad.tensor(index), s, alpha=2.0),
    )


@needs_torch
def test_inplace_scatter_and_index_helpers_match_torch():
    labels = [2, 0, 3]
    ours = npgrad.zeros(3, 4).scatter_(1, npgrad.tensor(labels).unsqueeze(1), 1.0)
    theirs = torch.zeros(3, 4).scatter_(1, torch.tensor(labels).unsqueeze(1), 1.0)
    assert ours.tolist() == theirs.tolist()  # the one-hot idiom
    data = np.random.default_rng(0).standard_normal((3, 4))
    cases = [
        ("scatter_add_", (0, SCATTER_INDEX, data[:2])),
        ("index_add_", (0, [1, 1], data[:2])),
        ("index_fill_", (1, [0, 2], -1.0)),
        ("scatter_", (0, SCATTER_INDEX, data[:2])),
    ]
    for name, (dim, index, source) in cases:
        mine = getattr(npgrad.tensor(data.copy()), name)(
            dim, npgrad.tensor(index), npgrad.tensor(source) if np.ndim(source) else source
        )
        reference = getattr(torch.tensor(data.copy()), name)(
            dim, torch.tensor(index), torch.tensor(source) if np.ndim(source) else source
        )
        np.testing.assert_allclose(mine.numpy(), reference.numpy(), err_msg=name)
    x = npgrad.tensor(data, requires_grad=True)
    hidden = x * 2
    hidden.scatter_(1, npgrad.tensor(labels).unsqueeze(1), 5.0)  # in place inside a graph
    hidden.sum().backward()
    expected = np.full((3, 4), 2.0)
    expected[[0, 1, 2], labels] = 0.0
    np.testing.assert_array_equal(x.grad.numpy(), expected)
