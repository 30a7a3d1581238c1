"""Batch norm folded into the convolution or linear layer before it, for inference
(``torch.nn.utils.fusion``): in eval mode BN(conv(x)) is one affine map per channel, so the
fused layer computes the same outputs with one op fewer.

W' = W gamma / sqrt(var + eps) (per output channel), b' = (b - mean) gamma / sqrt(var + eps)
+ beta.
"""

import copy

from npgrad.nn.parameter import Parameter
from npgrad.tensor import zeros_like

__all__ = [
    "fuse_conv_bn_eval",
    "fuse_conv_bn_weights",
    "fuse_linear_bn_eval",
    "fuse_linear_bn_weights",
]


def _scale(bn_rv, bn_eps, bn_w):
    scale = (bn_rv + bn_eps).rsqrt()
    return scale if bn_w is None else bn_w * scale


def fuse_conv_bn_weights(conv_w, conv_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b, transpose=False):
    """(weight, bias) Parameters of the convolution with the batch norm folded in; a transposed
    convolution's output channels are its second dim."""
    scale = _scale(bn_rv, bn_eps, bn_w).detach()
    conv_b = zeros_like(bn_rm) if conv_b is None else conv_b
    bn_b = zeros_like(bn_rm) if bn_b is None else bn_b
    shape = [1] * conv_w.ndim
    shape[1 if transpose else 0] = -1
    weight = conv_w.detach() * scale.reshape(shape).to(conv_w.dtype)
    bias = (conv_b.detach() - bn_rm) * scale + bn_b.detach()
    return Parameter(weight, conv_w.requires_grad), Parameter(bias.to(conv_w.dtype), True)


def fuse_conv_bn_eval(conv, bn, transpose=False):
    """A copy of ``conv`` (eval mode, like ``bn``) with ``bn`` folded into its weights."""
    if conv.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    fused = copy.deepcopy(conv)
    if bn.running_mean is None or bn.running_var is None:
        raise AssertionError("fuse_conv_bn_eval: the batch norm has no running statistics")
    fused.weight, fused.bias = fuse_conv_bn_weights(
        fused.weight,
        fused.bias,
        bn.running_mean,
        bn.running_var,
        bn.eps,
        bn.weight,
        bn.bias,
        transpose,
    )
    return fused


def fuse_linear_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b):
    """(weight, bias) Parameters of the linear layer with the batch norm folded in."""
    return fuse_conv_bn_weights(linear_w, linear_b, bn_rm, bn_rv, bn_eps, bn_w, bn_b)


def fuse_linear_bn_eval(linear, bn):
    """A copy of ``linear`` (eval mode) with the ``bn`` that follows it folded in."""
    if linear.training or bn.training:
        raise AssertionError("Fusion only for eval!")
    if linear.out_features != bn.num_features:
        raise AssertionError(
            "To fuse, linear.out_features must equal bn.num_features "
            f"({linear.out_features} against {bn.num_features})"
        )
    fused = copy.deepcopy(linear)
    fused.weight, fused.bias = fuse_linear_bn_weights(
        fused.weight, fused.bias, bn.running_mean, bn.running_var, bn.eps, bn.weight, bn.bias
    )
    return fused
