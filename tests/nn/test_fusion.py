"""nn.utils.fusion: a conv or linear layer with the following batch norm folded in gives the
same outputs in eval mode; nn.utils.stateless.functional_call is func's."""

import numpy as np
import pytest

import npgrad
from npgrad import nn
from npgrad.nn.utils import fusion, stateless


def _trained_bn(bn, shape):
    bn.train()
    for _ in range(3):
        bn(npgrad.randn(*shape) * 2 + 1)
    with npgrad.no_grad():
        bn.weight.uniform_(0.5, 1.5)
        bn.bias.uniform_(-1, 1)
    return bn.eval()


@pytest.mark.parametrize("transpose", [False, True])
def test_conv_bn_fusion_keeps_outputs(transpose):
    npgrad.manual_seed(0)
    conv = (nn.ConvTranspose2d(3, 4, 3) if transpose else nn.Conv2d(3, 4, 3)).eval()
    bn = _trained_bn(nn.BatchNorm2d(4), (8, 4, 5, 5))
    fused = fusion.fuse_conv_bn_eval(conv, bn, transpose=transpose)
    x = npgrad.randn(2, 3, 7, 7)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(conv(x)).detach().numpy(), atol=1e-5)
    assert isinstance(fused.weight, nn.Parameter) and fused is not conv
    with pytest.raises(AssertionError, match="eval"):
        fusion.fuse_conv_bn_eval(conv.train(), bn)


def test_linear_bn_fusion_keeps_outputs():
    npgrad.manual_seed(1)
    linear = nn.Linear(6, 5, bias=False).eval()
    bn = _trained_bn(nn.BatchNorm1d(5), (16, 5))
    fused = fusion.fuse_linear_bn_eval(linear, bn)
    x = npgrad.randn(4, 6)
    np.testing.assert_allclose(fused(x).detach().numpy(), bn(linear(x)).detach().numpy(), atol=1e-5)


def test_stateless_functional_call():
    layer = nn.Linear(2, 1)
    weights = {"weight": npgrad.ones(1, 2), "bias": npgrad.zeros(1)}
    out = stateless.functional_call(layer, weights, (npgrad.tensor([[1.0, 2.0]]),))
    assert out.tolist() == [[3.0]]
