"""Convolution and pooling layers: each stores its geometry and calls ``npgrad.nn.functional``."""

import math

from npgrad.nn import functional as F
from npgrad.nn import init
from npgrad.nn.modules.module import Module
from npgrad.nn.parameter import Parameter
from npgrad.ops import conv as conv_ops
from npgrad.tensor import empty


def _tuple(value, count):
    return (value,) * count if isinstance(value, int) else tuple(value)


class _ConvNd(Module):
    """Shared body of Conv1d/Conv2d: weight (out, in, *kernel), PyTorch's default init."""

    dims = 2
    transposed = False

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        dilation=1,
        groups=1,
        bias=True,
        padding_mode="zeros",
        dtype=None,
        device=None,
    ):
        super().__init__()
        if in_channels % groups or out_channels % groups:
            raise ValueError(
                f"{type(self).__name__}: in_channels ({in_channels}) and out_channels "
                f"({out_channels}) must both be divisible by groups ({groups})"
            )
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(
                f"{type(self).__name__}: padding_mode must be 'zeros', 'reflect', 'replicate' "
                f"or 'circular', got {padding_mode!r}"
            )
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = _tuple(kernel_size, self.dims)
        self.stride, self.dilation = _tuple(stride, self.dims), _tuple(dilation, self.dims)
        self.padding = padding if isinstance(padding, str) else _tuple(padding, self.dims)
        self.groups, self.padding_mode = groups, padding_mode
        # (out, in / groups, *kernel); a transposed convolution's is (in, out / groups, *kernel)
        shape = (in_channels, out_channels) if self.transposed else (out_channels, in_channels)
        self.weight = Parameter(empty(shape[0], shape[1] // groups, *self.kernel_size, dtype=dtype))
        self.register_parameter(
            "bias", Parameter(empty(out_channels, dtype=dtype)) if bias else None
        )
        self.reset_parameters()

    def reset_parameters(self):
        """kaiming_uniform_(a=sqrt(5)) for the weight, U(+-1/sqrt(fan_in)) for the bias."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.weight.shape[1] * math.prod(self.kernel_size)  # channels seen, per tap
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def _padded(self, input):  # noqa: A002
        """(input, padding left for the convolution): with a padding_mode other than zeros the
        input is padded here (``F.pad`` in that mode) and the convolution pads nothing."""
        if self.padding_mode == "zeros":
            return input, self.padding
        if self.padding == "valid":
            return input, (0,) * self.dims
        if self.padding == "same":
            widths = F.same_padding(self.kernel_size, self.dilation)
        else:
            widths = [(p, p) for p in self.padding]
        flat = [w for pair in reversed(widths) for w in pair]  # F.pad: last dim first
        return F.pad(input, flat, self.padding_mode), (0,) * self.dims

    def extra_repr(self):
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if self.padding != (0,) * self.dims:
            text += f", padding={self.padding}"
        if self.dilation != (1,) * self.dims:
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input. Matches ``torch.nn.Conv2d``.

    >>> import npgrad
    >>> conv = npgrad.nn.Conv2d(1, 8, kernel_size=3, padding=1)
    >>> conv(npgrad.ones(2, 1, 28, 28)).shape
    (2, 8, 28, 28)
    """

    dims = 2

    def forward(self, input):  # noqa: A002
        input, padding = self._padded(input)  # noqa: A001
        return F.conv2d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) input (volumes, video). Matches ``torch.nn.Conv3d``.

    >>> import npgrad
    >>> npgrad.nn.Conv3d(1, 4, kernel_size=3, padding=1)(npgrad.ones(2, 1, 5, 6, 7)).shape
    (2, 4, 5, 6, 7)
    """

    dims = 3

    def forward(self, input):  # noqa: A002
        input, padding = self._padded(input)  # noqa: A001
        return F.conv3d(
            input, self.weight, self.bias, self.stride, padding, self.dilation, self.groups
        )


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input. Matches ``torch.nn.Conv1d``."""

    dims = 1

    def forward(self, input):  # noqa: A002
        input, padding = self._padded(input)  # noqa: A001
        padding = padding if isinstance(padding, str) else padding[0]
        return F.conv1d(
            input, self.weight, self.bias, self.stride[0], padding, self.dilation[0], self.groups
        )


class _ConvTransposeNd(_ConvNd):
    """Shared body of ConvTranspose1d/2d/3d: PyTorch's argument order, output_padding and
    ``forward(input, output_size=None)`` through the subclass's ``function``."""

    transposed = True

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size,
        stride=1,
        padding=0,
        output_padding=0,
        groups=1,
        bias=True,
        dilation=1,
        padding_mode="zeros",
        dtype=None,
        device=None,
    ):
        if isinstance(padding, str):
            raise ValueError(f"{type(self).__name__}: padding must be ints, not {padding!r}")
        if padding_mode != "zeros":
            raise ValueError(
                f"{type(self).__name__}: only padding_mode 'zeros' is supported (as in PyTorch)"
            )
        super().__init__(
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            bias,
            padding_mode,
            dtype,
            device,
        )
        self.output_padding = _tuple(output_padding, self.dims)

    def _output_padding(self, input, output_size):  # noqa: A002
        """output_padding, or the one that gives ``output_size`` (the last dims' sizes)."""
        if output_size is None:
            return self.output_padding
        wanted = tuple(output_size)[-self.dims :]
        padding = []
        for d in range(self.dims):
            smallest = conv_ops.transposed_output_size(
                input.shape[-self.dims + d],
                self.kernel_size[d],
                self.stride[d],
                self.padding[d],
                0,
                self.dilation[d],
            )
            if not smallest <= wanted[d] < smallest + self.stride[d]:
                raise ValueError(
                    f"{type(self).__name__}: output_size {tuple(output_size)} is not reachable "
                    f"from input {tuple(input.shape)}: dim {d} can be {smallest} to "
                    f"{smallest + self.stride[d] - 1}"
                )
            padding.append(wanted[d] - smallest)
        return tuple(padding)

    def forward(self, input, output_size=None):  # noqa: A002
        return self.function(
            input,
            self.weight,
            self.bias,
            self.stride,
            self.padding,
            self._output_padding(input, output_size),
            self.groups,
            self.dilation,
        )

    def extra_repr(self):
        text = super().extra_repr()
        if self.output_padding != (0,) * self.dims:
            text += f", output_padding={self.output_padding}"
        return text


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution over (N, C, H, W) input (the upsampling layer of decoders and
    GAN generators). Matches ``torch.nn.ConvTranspose2d``.

    >>> import npgrad
    >>> up = npgrad.nn.ConvTranspose2d(16, 8, kernel_size=2, stride=2)
    >>> up(npgrad.ones(1, 16, 7, 7)).shape
    (1, 8, 14, 14)
    """

    dims = 2
    function = staticmethod(F.conv_transpose2d)


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution over (N, C, D, H, W) input (volumetric and video decoders).
    Matches ``torch.nn.ConvTranspose3d``.

    >>> import npgrad
    >>> npgrad.nn.ConvTranspose3d(4, 2, kernel_size=2, stride=2)(npgrad.ones(1, 4, 3, 4, 5)).shape
    (1, 2, 6, 8, 10)
    """

    dims = 3
    function = staticmethod(F.conv_transpose3d)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution over (N, C, L) input. Matches ``torch.nn.ConvTranspose1d``."""

    dims = 1

    def forward(self, input, output_size=None):  # noqa: A002
        return F.conv_transpose1d(
            input,
            self.weight,
            self.bias,
            self.stride[0],
            self.padding[0],
            self._output_padding(input, output_size)[0],
            self.groups,
            self.dilation[0],
        )


class MaxPool2d(Module):
    """Max over windows of (N, C, H, W) input. Matches ``torch.nn.MaxPool2d``.

    >>> import npgrad
    >>> npgrad.nn.MaxPool2d(2)(npgrad.ones(1, 3, 28, 28)).shape
    (1, 3, 14, 14)
    """

    pool = staticmethod(F.max_pool2d)  # (MaxPool1d: the 1-D one)

    def __init__(
        self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.dilation, self.return_indices, self.ceil_mode = dilation, return_indices, ceil_mode

    def forward(self, input):  # noqa: A002
        return self.pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            self.ceil_mode,
            self.return_indices,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool3d(MaxPool2d):
    """Max over windows of (N, C, D, H, W) input. Matches ``torch.nn.MaxPool3d``."""

    pool = staticmethod(F.max_pool3d)


class AvgPool2d(Module):
    """Mean over windows of (N, C, H, W) input. Matches ``torch.nn.AvgPool2d``."""

    pool = staticmethod(F.avg_pool2d)  # (AvgPool3d: the 3-D one)

    def __init__(
        self,
        kernel_size,
        stride=None,
        padding=0,
        ceil_mode=False,
        count_include_pad=True,
        divisor_override=None,
    ):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input):  # noqa: A002
        return self.pool(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average-pool to a fixed output size (e.g. 1 for global average pooling)."""

    def __init__(self, output_size):
        super().__init__()
        self.output_size = output_size

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool2d(input, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(Module):
    """Max-pool to a fixed output size (PyTorch's adaptive windows)."""

    def __init__(self, output_size, return_indices=False):
        super().__init__()
        self.output_size, self.return_indices = output_size, return_indices

    def forward(self, input):  # noqa: A002
        return F.adaptive_max_pool2d(input, self.output_size, self.return_indices)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class AdaptiveAvgPool3d(AdaptiveAvgPool2d):
    """Average-pool (N, C, D, H, W) input to a fixed output size."""

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool3d(input, self.output_size)


class AdaptiveMaxPool3d(AdaptiveMaxPool2d):
    """Max-pool (N, C, D, H, W) input to a fixed output size."""

    def forward(self, input):  # noqa: A002
        return F.adaptive_max_pool3d(input, self.output_size, self.return_indices)


class MaxPool1d(MaxPool2d):
    """Max over windows of (N, C, L) input. Matches ``torch.nn.MaxPool1d``.

    >>> import npgrad
    >>> npgrad.nn.MaxPool1d(3, stride=2)(npgrad.ones(1, 4, 9)).shape
    (1, 4, 4)
    """

    pool = staticmethod(F.max_pool1d)


class LPPool2d(Module):
    """(sum over each window of x^p)^(1/p) on (N, C, H, W) input. Matches ``torch.nn.LPPool2d``."""

    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False):
        super().__init__()
        self.norm_type, self.kernel_size = norm_type, kernel_size
        self.stride, self.ceil_mode = stride, ceil_mode

    def forward(self, input):  # noqa: A002
        return F.lp_pool2d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)

    def extra_repr(self):
        return (
            f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, stride={self.stride}, "
            f"ceil_mode={self.ceil_mode}"
        )


class LPPool1d(LPPool2d):
    """(sum over each window of x^p)^(1/p) on (N, C, L) input. Matches ``torch.nn.LPPool1d``."""

    def forward(self, input):  # noqa: A002
        return F.lp_pool1d(input, self.norm_type, self.kernel_size, self.stride, self.ceil_mode)


class AvgPool3d(AvgPool2d):
    """Mean over windows of (N, C, D, H, W) input. Matches ``torch.nn.AvgPool3d``."""

    pool = staticmethod(F.avg_pool3d)


class AvgPool1d(AvgPool2d):
    """Mean over windows of (N, C, L) input. Matches ``torch.nn.AvgPool1d``."""

    def __init__(
        self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True
    ):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad)

    def forward(self, input):  # noqa: A002
        return F.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AdaptiveAvgPool1d(AdaptiveAvgPool2d):
    """Average-pool (N, C, L) input to a fixed length (PyTorch's adaptive windows)."""

    def forward(self, input):  # noqa: A002
        return F.adaptive_avg_pool1d(input, self.output_size)


class AdaptiveMaxPool1d(AdaptiveMaxPool2d):
    """Max-pool (N, C, L) input to a fixed length (PyTorch's adaptive windows)."""

    def forward(self, input):  # noqa: A002
        return F.adaptive_max_pool1d(input, self.output_size, self.return_indices)


class MaxUnpool2d(Module):
    """Put each value of a max-pooled map back where its maximum was (zeros elsewhere)."""

    unpool = staticmethod(F.max_unpool2d)  # (MaxUnpool1d: the 1-D one)

    def __init__(self, kernel_size, stride=None, padding=0):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride or kernel_size, padding

    def forward(self, input, indices, output_size=None):  # noqa: A002
        return self.unpool(input, indices, self.kernel_size, self.stride, self.padding, output_size)


class MaxUnpool1d(MaxUnpool2d):
    """``MaxUnpool2d`` over (N, C, L) input."""

    unpool = staticmethod(F.max_unpool1d)
