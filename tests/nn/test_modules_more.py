"""Layers and functions added from a scan of torch.nn for missing names: LPPool, channel
shuffle, pdist, triplet loss with a distance function, 3-D batch and instance norm,
SyncBatchNorm, Dropout3d, DataParallel, the deprecated upsample_* functions."""

import numpy as np
import pytest
from helpers import check_layer, check_op, needs_torch, torch

import npgrad
from npgrad import nn

F = nn.functional
TF = torch.nn.functional if torch else None

FUNCTIONS = {
    "channel_shuffle": ([(2, 6, 3, 2)], lambda f: lambda x: f.channel_shuffle(x, 3)),
    "lp_pool2d_p2": ([(2, 3, 4, 6)], lambda f: lambda x: f.lp_pool2d(x, 2.0, 2)),
    "lp_pool2d_p3_ceil": (
        [(1, 2, 5, 5)],
        lambda f: lambda x: f.lp_pool2d(x, 3.0, (3, 2), stride=2, ceil_mode=True),
    ),
    "lp_pool1d": ([(2, 3, 9)], lambda f: lambda x: f.lp_pool1d(x, 2.0, 3, 2)),
    "pdist": ([(5, 3)], lambda f: lambda x: f.pdist(x)),
    "pdist_p1": ([(4, 2)], lambda f: lambda x: f.pdist(x, 1.0)),
    "upsample_bilinear": (
        [(1, 2, 3, 4)],
        lambda f: lambda x: f.upsample_bilinear(x, scale_factor=2),
    ),
    "upsample_nearest": ([(1, 2, 3, 4)], lambda f: lambda x: f.upsample_nearest(x, size=(5, 7))),
    "triplet_with_distance": (
        [(4, 3), (4, 3), (4, 3)],
        lambda f: lambda a, p, n: f.triplet_margin_with_distance_loss(a, p, n, swap=True),
    ),
}


@pytest.mark.parametrize("name", list(FUNCTIONS))
def test_functions_against_torch(name):
    shapes, make = FUNCTIONS[name]
    low = 0.1 if name.startswith("lp_pool2d_p3") else -2.0  # x^3 of negatives: a root of < 0
    check_op(shapes, torch_fn=make(TF) if torch else make(F), npgrad_fn=make(F), low=low)


def test_pdist_of_coinciding_rows_has_zero_gradient():
    x = npgrad.tensor([[1.0, 2.0], [1.0, 2.0], [0.0, 0.0]], requires_grad=True)
    F.pdist(x).sum().backward()
    assert np.isfinite(x.grad.numpy()).all()
    assert npgrad.pdist(x).shape == (3,)


@needs_torch
@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (lambda: nn.LPPool2d(2, 2), lambda: torch.nn.LPPool2d(2, 2), (2, 3, 4, 4)),
        (lambda: nn.LPPool1d(2, 3), lambda: torch.nn.LPPool1d(2, 3), (2, 3, 9)),
        (lambda: nn.ChannelShuffle(2), lambda: torch.nn.ChannelShuffle(2), (2, 4, 3, 3)),
        (lambda: nn.BatchNorm3d(3), lambda: torch.nn.BatchNorm3d(3), (2, 3, 2, 3, 4)),
        (
            lambda: nn.InstanceNorm3d(3, affine=True),
            lambda: torch.nn.InstanceNorm3d(3, affine=True),
            (2, 3, 2, 3, 4),
        ),
        (lambda: nn.SyncBatchNorm(4), lambda: torch.nn.SyncBatchNorm(4), (3, 4, 5)),
        (
            lambda: nn.DataParallel(nn.Linear(3, 2)),
            lambda: torch.nn.DataParallel(torch.nn.Linear(3, 2)),
            (4, 3),
        ),
    ],
)
def test_layers_against_torch(ours, theirs, shape):
    check_layer(ours(), theirs(), shape)


def test_dropout3d_zeroes_whole_channels_and_data_parallel_keys():
    npgrad.manual_seed(0)
    y = nn.Dropout3d(0.5)(npgrad.ones(4, 8, 2, 2, 2)).numpy()
    assert all(len(np.unique(y[n, c])) == 1 for n in range(4) for c in range(8))
    assert set(np.unique(y)) == {0.0, 2.0}
    assert list(nn.DataParallel(nn.Linear(3, 2)).state_dict()) == ["module.weight", "module.bias"]
    model = nn.Sequential(nn.BatchNorm1d(3))
    assert nn.SyncBatchNorm.convert_sync_batchnorm(model) is model


THREE_D = {
    "conv3d": (
        [(2, 3, 4, 5, 4), (2, 3, 3, 2, 3), (2,)],
        lambda f: lambda x, w, b: f.conv3d(x, w, b),
    ),
    "conv3d_stride_pad_dilation": (
        [(1, 2, 5, 6, 5), (3, 2, 2, 3, 2)],
        lambda f: (
            lambda x, w: f.conv3d(x, w, stride=(2, 1, 2), padding=(1, 2, 0), dilation=(1, 2, 1))
        ),
    ),
    "conv3d_same": (
        [(1, 2, 4, 4, 4), (2, 2, 2, 3, 3)],
        lambda f: lambda x, w: f.conv3d(x, w, padding="same"),
    ),
    "conv3d_groups": (
        [(1, 4, 3, 4, 4), (4, 2, 3, 3, 3)],
        lambda f: lambda x, w: f.conv3d(x, w, groups=2, padding=1),
    ),
    "max_pool3d": ([(2, 2, 4, 4, 6)], lambda f: lambda x: f.max_pool3d(x, 2)),
    "max_pool3d_pad_stride": ([(1, 2, 5, 5, 5)], lambda f: lambda x: f.max_pool3d(x, 3, 2, 1)),
    "max_pool3d_dilation": ([(1, 2, 5, 5, 5)], lambda f: lambda x: f.max_pool3d(x, 2, 1, 0, 2)),
    "avg_pool3d": ([(2, 2, 4, 4, 6)], lambda f: lambda x: f.avg_pool3d(x, 2)),
    "avg_pool3d_pad_stride": ([(1, 2, 5, 5, 5)], lambda f: lambda x: f.avg_pool3d(x, 3, 2, 1)),
    "max_pool3d_ceil": (
        [(1, 2, 5, 6, 7)],
        lambda f: lambda x: f.max_pool3d(x, (2, 3, 2), (2, 2, 3), ceil_mode=True),
    ),
    "avg_pool3d_ceil_exclude_pad": (
        [(1, 2, 5, 6, 7)],
        lambda f: lambda x: f.avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
    ),
    "avg_pool3d_ceil": (
        [(1, 2, 5, 6, 7)],
        lambda f: lambda x: f.avg_pool3d(x, 3, (2, 3, 2), 1, ceil_mode=True),
    ),
    "avg_pool3d_divisor": (
        [(1, 2, 4, 5, 4)],
        lambda f: lambda x: f.avg_pool3d(x, (2, 3, 2), divisor_override=5),
    ),
}


@pytest.mark.parametrize("name", list(THREE_D))
def test_3d_ops_against_torch(name):
    shapes, make = THREE_D[name]
    check_op(shapes, torch_fn=make(TF) if torch else make(F), npgrad_fn=make(F))


def test_max_pool3d_routes_ties_like_torch():
    """After a ReLU whole windows are 0: the gradient goes to the first (depth, row, column)."""
    x = np.maximum(np.random.default_rng(5).standard_normal((1, 2, 4, 4, 4)), 0)
    ours = npgrad.tensor(x, requires_grad=True)
    F.max_pool3d(ours, 2).sum().backward()
    assert ours.grad.numpy().sum() == 2 * 8  # one winner per window, ties included
    if torch is not None:
        theirs = torch.tensor(x, requires_grad=True)
        TF.max_pool3d(theirs, 2).sum().backward()
        np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


@needs_torch
@pytest.mark.parametrize(
    "ours, theirs, shape",
    [
        (
            lambda: nn.Conv3d(2, 3, 3, padding=1),
            lambda: torch.nn.Conv3d(2, 3, 3, padding=1),
            (2, 2, 3, 4, 4),
        ),
        (lambda: nn.MaxPool3d(2), lambda: torch.nn.MaxPool3d(2), (1, 2, 4, 4, 4)),
        (lambda: nn.AvgPool3d(2, 1), lambda: torch.nn.AvgPool3d(2, 1), (1, 2, 3, 4, 4)),
    ],
)
def test_3d_layers_against_torch(ours, theirs, shape):
    check_layer(ours(), theirs(), shape)


@needs_torch
@pytest.mark.parametrize(
    "name", ["ZeroPad3d", "ReflectionPad3d", "ReplicationPad3d", "CircularPad3d"]
)
def test_3d_padding_layers(name):
    padding = (1, 2, 1, 1, 2, 1)
    check_layer(getattr(nn, name)(padding), getattr(torch.nn, name)(padding), (1, 2, 3, 4, 5))


@needs_torch
def test_constant_pad_3d():
    check_layer(nn.ConstantPad3d(1, 0.5), torch.nn.ConstantPad3d(1, 0.5), (1, 2, 2, 3, 2))


def test_buffer_assignment_registers_a_buffer():
    """torch.nn.Buffer: assigning one registers it (persistent or not), as a plain tensor."""

    class Masked(nn.Module):
        def __init__(self):
            super().__init__()
            self.mask = nn.Buffer(npgrad.ones(3))
            self.cache = nn.Buffer(npgrad.zeros(2), persistent=False)
            self.linear = nn.Linear(2, 2)

    model = Masked()
    assert list(model.state_dict()) == ["mask", "linear.weight", "linear.bias"]
    assert [name for name, _ in model.named_buffers()] == ["mask", "cache"]
    assert type(model.mask) is npgrad.Tensor and not model.mask.requires_grad
    model.cache = nn.Buffer(npgrad.ones(2))  # re-registered as persistent
    assert "cache" in model.state_dict()
    model.mask = npgrad.zeros(3)  # a plain tensor assigned to a buffer's name stays a buffer
    assert model.state_dict()["mask"].tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("name", ["adaptive_avg_pool3d", "adaptive_max_pool3d"])
@pytest.mark.parametrize(
    "shape, size",
    [((2, 3, 5, 6, 7), (2, 3, 4)), ((1, 2, 4, 4, 4), 1), ((1, 2, 7, 5, 6), (3, None, 2))],
    ids=str,
)
def test_adaptive_3d_pools(name, shape, size):
    check_op(
        [shape],
        torch_fn=lambda x: getattr(TF if torch else F, name)(x, size),
        npgrad_fn=lambda x: getattr(F, name)(x, size),
    )


@needs_torch
def test_adaptive_3d_pool_layers():
    check_layer(
        nn.AdaptiveAvgPool3d((1, 2, 2)), torch.nn.AdaptiveAvgPool3d((1, 2, 2)), (1, 2, 3, 4, 5)
    )
    check_layer(nn.AdaptiveMaxPool3d(2), torch.nn.AdaptiveMaxPool3d(2), (1, 2, 4, 4, 6))


def test_max_pool3d_indices_point_at_the_maxima():
    x = np.random.default_rng(6).standard_normal((2, 3, 5, 6, 7))
    values, indices = F.max_pool3d(npgrad.tensor(x), 3, 2, 1, ceil_mode=True, return_indices=True)
    flat = x.reshape(2, 3, -1)
    picked = np.take_along_axis(flat, indices.numpy().reshape(2, 3, -1), axis=2)
    np.testing.assert_array_equal(picked.reshape(values.shape), values.numpy())
    assert indices.dtype == npgrad.int64
    if torch is not None:
        theirs = TF.max_pool3d(torch.tensor(x), 3, 2, 1, ceil_mode=True, return_indices=True)
        np.testing.assert_array_equal(indices.numpy(), theirs[1].numpy())
    pool = nn.MaxPool3d(2, return_indices=True, ceil_mode=True)
    out, where = pool(npgrad.tensor(x))
    assert out.shape == where.shape == (2, 3, 3, 3, 4)
