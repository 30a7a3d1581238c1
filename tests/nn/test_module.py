"""Module behaviour: registration, state dicts, freezing, modes, hooks, errors, printing."""

from collections import OrderedDict

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad import nn
from npgrad.errors import ShapeError


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.BatchNorm1d(8))
        self.head = nn.Linear(8, 2)
        self.scale = nn.Parameter(npgrad.ones(1))
        self.register_buffer("steps", npgrad.zeros(1))
        self.not_a_param = npgrad.ones(3)

    def forward(self, x):
        return self.head(self.encoder(x)) * self.scale


def test_registration_and_names():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == [
        "scale",
        "encoder.0.weight",
        "encoder.0.bias",
        "encoder.2.weight",
        "encoder.2.bias",
        "head.weight",
        "head.bias",
    ]
    assert [n for n, _ in model.named_buffers()] == [
        "steps",
        "encoder.2.running_mean",
        "encoder.2.running_var",
        "encoder.2.num_batches_tracked",
    ]
    assert len(list(model.children())) == 2 and len(list(model.modules())) == 6
    assert model.get_submodule("encoder.0") is model.encoder[0]


def test_state_dict_round_trip():
    npgrad.manual_seed(0)
    a, b = TwoLayer(), TwoLayer()
    a(npgrad.randn(5, 4))  # moves the batch-norm statistics
    b.load_state_dict(a.state_dict())
    for (name, x), (_, y) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert x.equal(y), name
    x = npgrad.randn(3, 4)
    a.eval(), b.eval()
    assert a(x).equal(b(x))


def test_state_dict_values_are_copied_on_load():
    a, b = nn.Linear(2, 2), nn.Linear(2, 2)
    state = a.state_dict()
    b.load_state_dict(state)
    with npgrad.no_grad():
        b.weight.mul_(0)
    assert a.weight.abs().sum().item() > 0


def test_strict_load_errors_name_the_keys_and_shapes():
    model = TwoLayer()
    state = model.state_dict()
    del state["head.bias"]
    state["extra.weight"] = npgrad.ones(1)
    with pytest.raises(
        KeyError, match=r"Missing key\(s\).*'head\.bias'[\s\S]*Unexpected.*'extra\.weight'"
    ):
        model.load_state_dict(state)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert missing == ["head.bias"] and unexpected == ["extra.weight"]
    bad = model.state_dict()
    bad["head.weight"] = npgrad.ones(3, 8)
    with pytest.raises(ShapeError, match=r"size mismatch for head.weight.*\(3, 8\).*\(2, 8\)"):
        model.load_state_dict(bad)


def test_freezing_stops_updates():
    npgrad.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 1))
    model[0].requires_grad_(False)
    frozen = model[0].weight.numpy().copy()
    opt = npgrad.optim.SGD(model.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        model(npgrad.randn(8, 3)).pow(2).mean().backward()
        opt.step()
    assert np.array_equal(model[0].weight.numpy(), frozen)
    assert model[0].weight.grad is None and model[1].weight.grad is not None


def test_train_eval_switch_dropout_and_batchnorm():
    model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(3))
    assert model.training and model[0].training
    model.eval()
    assert not model[0].training and not model[1].training
    x = npgrad.randn(4, 3)
    before = model[1].running_mean.numpy().copy()
    model(x)
    assert np.array_equal(before, model[1].running_mean.numpy())  # eval: statistics untouched
    model.train()
    model(x)
    assert not np.array_equal(before, model[1].running_mean.numpy())


def test_hooks_fire_and_can_be_removed():
    layer = nn.Linear(2, 2)
    calls = []
    handle = layer.register_forward_hook(lambda m, args, out: calls.append(("post", out.shape)))
    pre = layer.register_forward_pre_hook(lambda m, args: calls.append(("pre", args[0].shape)))
    layer(npgrad.ones(3, 2))
    assert calls == [("pre", (3, 2)), ("post", (3, 2))]
    handle.remove()
    pre.remove()
    layer(npgrad.ones(3, 2))
    assert len(calls) == 2
    doubled = layer.register_forward_hook(lambda m, args, out: out * 2)
    assert layer(npgrad.ones(1, 2)).equal(layer.forward(npgrad.ones(1, 2)) * 2)
    doubled.remove()


def test_wrong_feature_size_names_the_layer_path():
    model = nn.Sequential(nn.Linear(3, 5), nn.ReLU(), nn.Linear(4, 2))
    with pytest.raises(ShapeError) as info:
        model(npgrad.ones(2, 3))
    message = str(info.value)
    assert "model.2" in message and "Linear(in_features=4" in message
    assert "(2, 5)" in message and "expects 4" in message
    nested = nn.Sequential(OrderedDict(body=nn.Sequential(nn.Linear(2, 2), nn.Linear(3, 1))))
    with pytest.raises(ShapeError, match=r"model\.body\.1"):
        nested(npgrad.ones(1, 2))


def test_apply_zero_grad_and_repr():
    model = TwoLayer()
    model.apply(lambda m: nn.init.zeros_(m.bias) if isinstance(m, nn.Linear) else None)
    assert model.head.bias.abs().sum().item() == 0
    model(npgrad.randn(4, 4)).sum().backward()
    assert model.head.weight.grad is not None
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    text = repr(model)
    assert "(encoder): Sequential(" in text and "(0): Linear(in_features=4, out_features=8" in text
    assert "(2): BatchNorm1d(8, eps=1e-05, momentum=0.1" in text


def test_containers():
    layers = nn.ModuleList([nn.Linear(2, 2) for _ in range(3)])
    assert len(layers) == 3 and len(list(layers.parameters())) == 6
    layers.append(nn.ReLU())
    assert isinstance(layers[-1], nn.ReLU)
    table = nn.ModuleDict({"a": nn.Linear(1, 1), "b": nn.Tanh()})
    assert list(table.keys()) == ["a", "b"] and "a" in table
    seq = nn.Sequential(OrderedDict(first=nn.Linear(2, 3), act=nn.ReLU()))
    assert isinstance(seq.first, nn.Linear) and len(seq[:1]) == 1


def test_setattr_rules():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="cannot assign Tensor as parameter 'weight'"):
        layer.weight = npgrad.ones(2, 2)

    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(1, 1)

    with pytest.raises(AttributeError, match="super"):
        Broken()


def test_dtype_conversion():
    layer = nn.Linear(2, 2).double()
    assert layer.weight.dtype == npgrad.float64
    assert layer(npgrad.ones(1, 2, dtype=npgrad.float64)).dtype == npgrad.float64
    assert layer.to("cpu") is layer


def _hooked_backward(library, state_dict, x):
    """Build the same small CNN in ``library``, hook it, run backward twice (with and without
    a hook that doubles grad_input); returns what the hooks saw and the input gradients."""
    nn_ = library.nn
    model = nn_.Sequential(nn_.Conv2d(1, 2, 3), nn_.ReLU(), nn_.Flatten(), nn_.Linear(8, 1))
    model.double().load_state_dict({k: library.tensor(v) for k, v in state_dict.items()})
    seen = {}

    def on_conv(module, grad_input, grad_output):
        seen.update(grad_in=grad_input[0].numpy().copy(), grad_out=grad_output[0].numpy().copy())

    def before_linear(module, grad_output):
        seen.update(pre=grad_output[0].numpy().copy())

    model[0].register_full_backward_hook(on_conv)
    model[3].register_full_backward_pre_hook(before_linear)
    doubled = model[1].register_full_backward_hook(lambda m, gi, go: (gi[0] * 2,))
    inputs = library.tensor(x, requires_grad=True)
    model(inputs).sum().backward()
    with_double = inputs.grad.numpy().copy()
    doubled.remove()
    inputs.grad = None
    model(inputs).sum().backward()
    return seen, with_double, inputs.grad.numpy()


@needs_torch
def test_backward_hooks_match_torch():
    """Grad-CAM's use: a full backward hook on a conv layer sees grad_output (and grad_input);
    a pre-hook sees grad_output first; a returned grad_input replaces the gradient."""
    torch.manual_seed(0)
    reference = torch.nn.Sequential(
        torch.nn.Conv2d(1, 2, 3), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(8, 1)
    ).double()
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    x = np.random.default_rng(0).standard_normal((1, 1, 4, 4))
    ours, ours_doubled, ours_plain = _hooked_backward(npgrad, state, x)
    theirs, theirs_doubled, _ = _hooked_backward(torch, state, x)
    for key in ("grad_out", "pre", "grad_in"):
        np.testing.assert_allclose(ours[key], theirs[key], atol=1e-6, err_msg=key)
    np.testing.assert_allclose(ours_doubled, 2 * ours_plain, atol=1e-6)
    np.testing.assert_allclose(ours_doubled, theirs_doubled, atol=1e-6)


def test_backward_hook_without_input_gradient_and_module_lookups():
    layer = nn.Linear(3, 2)
    calls = []
    layer.register_full_backward_hook(lambda m, gi, go: calls.append((gi, go[0].shape)))
    layer(npgrad.ones(4, 3)).sum().backward()  # the input needs no gradient
    assert calls == [((None,), (4, 2))]
    model = nn.Sequential(nn.Linear(2, 2), nn.BatchNorm1d(2))
    assert model.get_parameter("0.weight") is model[0].weight
    assert model.get_buffer("1.running_mean") is model[1].running_mean
    with pytest.raises(AttributeError, match="no parameter 'nope'"):
        model.get_parameter("0.nope")
    assert model.half()[0].weight.dtype == np.float16


def test_rng_state_and_seeds():
    npgrad.manual_seed(3)
    assert npgrad.initial_seed() == 3
    state = npgrad.get_rng_state()
    first = npgrad.randn(4).tolist()
    npgrad.set_rng_state(state)
    assert npgrad.randn(4).tolist() == first
    assert npgrad.randint_like(npgrad.ones(2, 3), 5).shape == (2, 3)
    assert npgrad.ones(2, 3).ndimension() == 2
    assert npgrad.utils.data.get_worker_info() is None
