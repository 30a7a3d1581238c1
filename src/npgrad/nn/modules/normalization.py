"""``LayerNorm``, ``GroupNorm``, the batch norms and the instance norms."""

from npgrad.errors import ShapeError
from npgrad.nn import functional as F
from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter
from npgrad.tensor import int64, ones, tensor, zeros


class LayerNorm(Module):
    """Normalise each sample over its last dims, then scale and shift (Ba et al., 2016).

    Matches ``torch.nn.LayerNorm``.

    >>> import npgrad
    >>> out = npgrad.nn.LayerNorm(4)(npgrad.randn(2, 4))
    >>> [round(abs(v), 4) for v in out.mean(dim=1).tolist()]
    [0.0, 0.0]
    """

    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, bias=True, dtype=None):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype))
            bias_param = Parameter(zeros(*self.normalized_shape, dtype=dtype)) if bias else None
            self.register_parameter("bias", bias_param)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):  # noqa: A002
        return F.layer_norm(input, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )


class _BatchNorm(Module):
    """Shared body of BatchNorm1d/2d: per-channel statistics over every other dim."""

    expected_dims = ()

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=True,
        track_running_stats=True,
        dtype=None,
    ):
        super().__init__()
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.affine, self.track_running_stats = affine, track_running_stats
        if affine:
            self.weight = Parameter(ones(num_features, dtype=dtype))
            self.bias = Parameter(zeros(num_features, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", zeros(num_features, dtype=dtype))
            self.register_buffer("running_var", ones(num_features, dtype=dtype))
            self.register_buffer("num_batches_tracked", tensor(0, dtype=int64))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self):
        """Running mean 0, variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1.0)
            self.num_batches_tracked.zero_()

    def forward(self, input):  # noqa: A002
        if input.ndim not in self.expected_dims or input.shape[1] != self.num_features:
            shapes = " or ".join(
                f"({', '.join(['N', str(self.num_features)] + ['L', 'H', 'W'][: d - 2])})"
                for d in self.expected_dims
            )
            raise ShapeError(
                f"{type(self).__name__}: expected input of shape {shapes}, got {input.shape}"
            )
        momentum = self.momentum
        use_batch_stats = self.training or not self.track_running_stats
        if self.training and self.track_running_stats:
            self.num_batches_tracked._data += 1
            if momentum is None:  # cumulative moving average
                momentum = 1.0 / int(self.num_batches_tracked.item())
        return F.batch_norm(
            input,
            self.running_mean,  # None when not tracking: nothing to update or use
            self.running_var,
            self.weight,
            self.bias,
            use_batch_stats,
            momentum if momentum is not None else 0.0,
            self.eps,
        )

    def extra_repr(self):
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalisation over (N, C) or (N, C, L) input (Ioffe & Szegedy, 2015).

    Training uses the batch's statistics and updates ``running_mean``/``running_var``
    (``momentum`` 0.1, unbiased variance); eval uses the running ones. Matches
    ``torch.nn.BatchNorm1d``.

    >>> import npgrad
    >>> bn = npgrad.nn.BatchNorm1d(3)
    >>> out = bn(npgrad.randn(8, 3) * 5 + 2)
    >>> [round(abs(v), 4) for v in out.mean(dim=0).tolist()], bn.num_batches_tracked.item()
    ([0.0, 0.0, 0.0], 1)
    """

    expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input per channel. Matches ``torch.nn.BatchNorm2d``."""

    expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """Batch normalisation of (N, C, D, H, W) input per channel. Matches
    ``torch.nn.BatchNorm3d``."""

    expected_dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """Batch normalisation over (N, C, *) input. PyTorch's synchronises the statistics across
    processes; npgrad trains in one process, where it is plain batch normalisation (so that
    scripts written for several GPUs run)."""

    expected_dims = (2, 3, 4, 5)

    @classmethod
    def convert_sync_batchnorm(cls, module, process_group=None):
        """``module`` itself: its batch norms already see the whole batch here."""
        return module


class GroupNorm(Module):
    """Normalise each sample over groups of channels (Wu & He, 2018), then scale and shift per
    channel: batch-size independent, so it suits small batches. Matches ``torch.nn.GroupNorm``.

    >>> import npgrad
    >>> npgrad.nn.GroupNorm(2, 6)(npgrad.randn(1, 6, 4, 4)).shape
    (1, 6, 4, 4)
    """

    def __init__(self, num_groups, num_channels, eps=1e-5, affine=True, dtype=None, device=None):
        super().__init__()
        if num_channels % num_groups:
            raise ValueError(
                f"GroupNorm: num_channels ({num_channels}) must be divisible by num_groups "
                f"({num_groups})"
            )
        self.num_groups, self.num_channels, self.eps = num_groups, num_channels, eps
        self.affine = affine
        if affine:
            self.weight = Parameter(ones(num_channels, dtype=dtype))
            self.bias = Parameter(zeros(num_channels, dtype=dtype))
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)

    def forward(self, input):  # noqa: A002
        if input.ndim < 2 or input.shape[1] != self.num_channels:
            raise ShapeError(
                f"GroupNorm: expected input of shape (N, {self.num_channels}, *), got {input.shape}"
            )
        return F.group_norm(input, self.num_groups, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class _InstanceNorm(_BatchNorm):
    """Shared body of InstanceNorm1d/2d: per-sample, per-channel statistics over the spatial
    dims. PyTorch's defaults: no affine parameters, no running statistics. Unbatched input
    (C, *) is accepted too."""

    spatial_dims = 1

    def __init__(
        self,
        num_features,
        eps=1e-5,
        momentum=0.1,
        affine=False,
        track_running_stats=False,
        dtype=None,
        device=None,
    ):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype)

    def forward(self, input):  # noqa: A002
        batched = 2 + self.spatial_dims
        if input.ndim not in (batched - 1, batched) or input.shape[-batched + 1] != (
            self.num_features
        ):
            names = ", ".join(["L"] if self.spatial_dims == 1 else ["H", "W"])
            raise ShapeError(
                f"{type(self).__name__}: expected input of shape (N, {self.num_features}, "
                f"{names}) or ({self.num_features}, {names}), got {input.shape}"
            )
        unbatched = input.ndim == batched - 1
        if unbatched:
            input = input.unsqueeze(0)  # noqa: A001
        # as PyTorch's instance norms: num_batches_tracked stays 0 and momentum=None means 0
        momentum = self.momentum
        out = F.instance_norm(
            input,
            self.running_mean,
            self.running_var,
            self.weight,
            self.bias,
            self.training or not self.track_running_stats,
            momentum if momentum is not None else 0.0,
            self.eps,
        )
        return out.squeeze(0) if unbatched else out


class InstanceNorm1d(_InstanceNorm):
    """Instance normalisation of (N, C, L) input. Matches ``torch.nn.InstanceNorm1d``."""

    spatial_dims = 1


class InstanceNorm2d(_InstanceNorm):
    """Instance normalisation of (N, C, H, W) input (style transfer, GANs). Matches
    ``torch.nn.InstanceNorm2d``."""

    spatial_dims = 2


class InstanceNorm3d(_InstanceNorm):
    """Instance normalisation of (N, C, D, H, W) input. Matches ``torch.nn.InstanceNorm3d``."""

    spatial_dims = 3


class LocalResponseNorm(Module):
    """x / (k + alpha * mean of x^2 over ``size`` neighbouring channels)^beta (AlexNet)."""

    def __init__(self, size, alpha=1e-4, beta=0.75, k=1.0):
        super().__init__()
        self.size, self.alpha, self.beta, self.k = size, alpha, beta, k

    def forward(self, input):  # noqa: A002
        return F.local_response_norm(input, self.size, self.alpha, self.beta, self.k)

    def extra_repr(self):
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class RMSNorm(Module):
    """x / sqrt(mean(x^2) + eps) over the last dims, times a learned weight (no centring, no
    bias: the LLaMA-style norm). Matches ``torch.nn.RMSNorm``."""

    def __init__(
        self, normalized_shape, eps=None, elementwise_affine=True, dtype=None, device=None
    ):
        super().__init__()
        if isinstance(normalized_shape, int):
            normalized_shape = (normalized_shape,)
        self.normalized_shape, self.eps = tuple(normalized_shape), eps
        self.elementwise_affine = elementwise_affine
        if elementwise_affine:
            self.weight = Parameter(ones(*self.normalized_shape, dtype=dtype))
        else:
            self.register_parameter("weight", None)

    def forward(self, input):  # noqa: A002
        return F.rms_norm(input, self.normalized_shape, self.weight, self.eps)

    def extra_repr(self):
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
