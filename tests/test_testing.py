"""npgrad.testing.assert_close and the small PyTorch-compatibility names: autograd.Variable,
nn.init.sparse_, jit.script/trace."""

import numpy as np
import pytest

import npgrad


def test_assert_close_tolerances_structures_and_messages():
    npgrad.testing.assert_close(npgrad.ones(3), npgrad.ones(3) + 1e-6)  # within float32's
    npgrad.testing.assert_close({"a": [npgrad.zeros(2)]}, {"a": [npgrad.zeros(2)]})
    npgrad.testing.assert_close(npgrad.tensor([np.nan]), npgrad.tensor([np.nan]), equal_nan=True)
    with pytest.raises(AssertionError, match=r"Mismatched elements: 1 / 3[\s\S]*index \(1,\)"):
        npgrad.testing.assert_close(npgrad.ones(3), npgrad.tensor([1.0, 1.1, 1.0]))
    with pytest.raises(AssertionError, match="dtype"):
        npgrad.testing.assert_close(npgrad.ones(2), npgrad.ones(2, dtype=npgrad.float64))
    with pytest.raises(AssertionError, match="shape"):
        npgrad.testing.assert_close(npgrad.ones(2), npgrad.ones(3))
    with pytest.raises(AssertionError):  # integers: exact
        npgrad.testing.assert_close(npgrad.tensor([1, 2]), npgrad.tensor([1, 3]))
    npgrad.testing.assert_close(npgrad.ones(2), npgrad.ones(2) * 1.1, rtol=0.2, atol=0)


def test_variable_sparse_init_and_jit_identity():
    variable = npgrad.autograd.Variable(npgrad.ones(2), requires_grad=True)
    assert variable.requires_grad and npgrad.autograd.Variable([1.0]).tolist() == [1.0]
    npgrad.manual_seed(0)
    weight = npgrad.nn.init.sparse_(npgrad.empty(10, 4), sparsity=0.3, std=0.05)
    assert ((weight.numpy() == 0).sum(axis=0) == 3).all()  # ceil(0.3 * 10) zeros per column
    assert 0 < weight.numpy().std() < 0.1
    with pytest.raises(ValueError, match="2-D"):
        npgrad.nn.init.sparse_(npgrad.empty(3), 0.5)
    model = npgrad.nn.Linear(2, 2)
    assert npgrad.jit.script(model) is model and npgrad.jit.trace(model, npgrad.ones(1, 2)) is model
