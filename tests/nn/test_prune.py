"""nn.utils.prune: the pruning tutorial's steps, masks against torch.nn.utils.prune for the
deterministic methods, iterative pruning, global pruning, remove, and training with a mask."""

import numpy as np
import pytest

import npgrad
import npgrad.nn.functional as F
from npgrad import nn
from npgrad.nn.utils import prune


def _lenet(lib):
    class LeNet(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = lib.nn.Conv2d(1, 6, 3)
            self.conv2 = lib.nn.Conv2d(6, 16, 3)
            self.fc1 = lib.nn.Linear(16 * 5 * 5, 120)
            self.fc2 = lib.nn.Linear(120, 10)

    return LeNet()


def _same_weights(ours, theirs):
    import torch

    with torch.no_grad():
        for name, value in ours.state_dict().items():
            theirs.state_dict()[name].copy_(torch.tensor(value.numpy()))


def test_tutorial_steps():
    npgrad.manual_seed(0)
    model = _lenet(npgrad)
    module = model.conv1
    assert not prune.is_pruned(model)
    prune.random_unstructured(module, name="weight", amount=0.3)
    assert sorted(n for n, _ in module.named_parameters()) == ["bias", "weight_orig"]
    assert [n for n, _ in module.named_buffers()] == ["weight_mask"]
    assert int((module.weight == 0).sum()) == round(0.3 * 54) and prune.is_pruned(model)
    assert len(module._forward_pre_hooks) == 1
    prune.l1_unstructured(module, name="bias", amount=3)
    smallest = np.argsort(np.abs(module.bias_orig.detach().numpy()))[:3]
    assert (module.bias.numpy()[smallest] == 0).all() and np.count_nonzero(module.bias.numpy()) == 3
    # iterative: half the output channels by L2 norm, on top of the random mask
    prune.ln_structured(module, name="weight", amount=0.5, n=2, dim=0)
    (container,) = [h for h in module._forward_pre_hooks.values() if h._tensor_name == "weight"]
    assert isinstance(container, prune.PruningContainer) and len(container) == 2
    kept = np.abs(module.weight.numpy()).reshape(6, -1).sum(axis=1) != 0
    assert kept.sum() == 3
    assert set(model.state_dict()) >= {"conv1.weight_orig", "conv1.weight_mask", "conv1.bias_mask"}
    prune.remove(module, "weight")
    assert sorted(n for n, _ in module.named_parameters()) == ["bias_orig", "weight"]
    assert isinstance(module.weight, nn.Parameter) and (module.weight.numpy()[~kept] == 0).all()
    with pytest.raises(ValueError, match="has to be pruned"):
        prune.remove(module, "weight")


def test_pruned_entries_stay_zero_while_training():
    npgrad.manual_seed(1)
    layer = nn.Linear(8, 4)
    prune.l1_unstructured(layer, "weight", amount=0.5)
    mask = layer.weight_mask.numpy().copy()
    opt = npgrad.optim.SGD(layer.parameters(), lr=0.5)
    x, y = npgrad.randn(16, 8), npgrad.randn(16, 4)
    for _ in range(3):
        opt.zero_grad()
        F.mse_loss(layer(x), y).backward()
        assert (layer.weight_orig.grad.numpy()[mask == 0] == 0).all()
        opt.step()
    layer(x)  # the pre-hook recomputes weight from weight_orig
    assert (layer.weight.numpy()[mask == 0] == 0).all()
    assert (layer.weight.numpy()[mask == 1] != 0).all()


def test_amount_checks():
    layer = nn.Linear(3, 2)
    with pytest.raises(ValueError, match="float in the range"):
        prune.l1_unstructured(layer, "weight", amount=1.5)
    with pytest.raises(ValueError, match="smaller than the number"):
        prune.l1_unstructured(layer, "weight", amount=7)
    assert isinstance(layer.weight, nn.Parameter)  # a failed prune leaves the module as it was
    with pytest.raises(TypeError):
        prune.l1_unstructured(layer, "weight", amount="half")


def test_masks_match_torch():
    torch = pytest.importorskip("torch")
    import torch.nn.utils.prune as tprune

    npgrad.manual_seed(2)
    ours, theirs = _lenet(npgrad), _lenet(torch)
    _same_weights(ours, theirs)
    for lib_prune, model in ((prune, ours), (tprune, theirs)):
        lib_prune.l1_unstructured(model.conv2, "weight", amount=0.3)
        lib_prune.ln_structured(model.conv2, "weight", amount=2, n=1, dim=1)
        lib_prune.l1_unstructured(model.conv2, "weight", amount=0.25)  # of what remains
        lib_prune.ln_structured(model.fc1, "weight", amount=0.4, n=float("inf"), dim=0)
        lib_prune.global_unstructured(
            [(model.conv1, "weight"), (model.fc1, "weight"), (model.fc2, "weight")],
            pruning_method=lib_prune.L1Unstructured,
            amount=0.2,
        )
        scores = model.fc2.bias.detach().abs() + 1  # rank by these, not by the bias
        scores[3] = 0
        lib_prune.l1_unstructured(model.fc2, "bias", amount=1, importance_scores=scores)
    ours_state, theirs_state = ours.state_dict(), theirs.state_dict()
    assert set(ours_state) == set(theirs_state)
    for name in ours_state:
        np.testing.assert_array_equal(ours_state[name].numpy(), theirs_state[name].numpy(), name)
    for name in ("conv2", "fc1", "fc2"):
        np.testing.assert_array_equal(
            getattr(ours, name).weight.detach().numpy(),
            getattr(theirs, name).weight.detach().numpy(),
        )
