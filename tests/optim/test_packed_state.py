"""Small parameters share flat state arrays (``Optimizer._packed``): the updates must be exactly
those of one parameter at a time, through every change of which parameters have gradients."""

import numpy as np
import pytest

import npgrad
from npgrad import nn, optim
from npgrad.optim import optimizer

SHAPES = [(40, 30), (30,), (3, 40), (3,), (200, 200), (1,)]  # (200, 200): too large to pack

CONFIGS = {
    "adam": lambda p: optim.Adam(p, lr=0.01),
    "adam_wd_amsgrad": lambda p: optim.Adam(p, lr=0.01, weight_decay=0.1, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.01, weight_decay=0.1),
    "adam_maximize": lambda p: optim.Adam(p, lr=0.01, maximize=True),
}


def make_params(dtypes=("float32",)):
    rng = np.random.default_rng(0)
    return [
        nn.Parameter(npgrad.tensor(rng.normal(size=shape).astype(dtypes[i % len(dtypes)])))
        for i, shape in enumerate(SHAPES)
    ]


def run(make_optimizer, steps, pack_below, monkeypatch, dtypes=("float32",), skip=None):
    """Train identical parameters for ``steps`` steps; ``skip[step]`` lists parameters that get
    no gradient in that step. Returns the parameters and the optimizer."""
    monkeypatch.setattr(optimizer, "PACK_BELOW", pack_below)
    params = make_params(dtypes)
    opt = make_optimizer(params)
    for step in range(steps):
        opt.zero_grad()
        left_out = (skip or {}).get(step, ())
        loss = sum(
            ((p * p).sum() * (k + 1) + (p * float(step)).sum())
            for k, p in enumerate(params)
            if k not in left_out
        )
        loss.backward()
        opt.step()
    return params, opt


def assert_same(run_a, run_b):
    (params_a, opt_a), (params_b, opt_b) = run_a, run_b
    for k, (a, b) in enumerate(zip(params_a, params_b, strict=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"parameter {k}")
        state_a, state_b = opt_a.state.get(a, {}), opt_b.state.get(b, {})
        assert state_a.keys() == state_b.keys()
        for name in state_a:
            np.testing.assert_array_equal(state_a[name], state_b[name], err_msg=name)


@pytest.mark.parametrize("name", list(CONFIGS))
def test_packed_updates_equal_one_parameter_at_a_time(name, monkeypatch):
    packed = run(CONFIGS[name], 6, 1 << 15, monkeypatch)
    assert len(packed[1]._packs[0].params) == 5  # all but the (200, 200) weight
    assert_same(run(CONFIGS[name], 6, 0, monkeypatch), packed)


def test_parameters_without_a_gradient_in_some_steps(monkeypatch):
    # parameter 1 gets no gradient in step 2 (its step count falls behind: it leaves the pack),
    # parameter 3 none in steps 3 and 4
    skip = {2: (1,), 3: (3,), 4: (3,)}
    packed = run(CONFIGS["adam"], 7, 1 << 15, monkeypatch, skip=skip)
    assert_same(run(CONFIGS["adam"], 7, 0, monkeypatch, skip=skip), packed)
    assert packed[1].state[packed[0][1]]["step"] == 6


def test_mixed_dtypes(monkeypatch):
    dtypes = ("float32", "float64")
    packed = run(CONFIGS["adamw"], 4, 1 << 15, monkeypatch, dtypes=dtypes)
    assert_same(run(CONFIGS["adamw"], 4, 0, monkeypatch, dtypes=dtypes), packed)


def test_state_dict_and_load_state_dict_with_packed_state(monkeypatch):
    params, opt = run(CONFIGS["adam"], 3, 1 << 15, monkeypatch)
    saved = opt.state_dict()
    # a fresh optimizer over copies of the parameters, loaded from the state dict, continues
    # exactly as the original does
    clones = [nn.Parameter(npgrad.tensor(p.numpy().copy())) for p in params]
    restored = optim.Adam(clones, lr=0.5)
    restored.load_state_dict(saved)
    for group in (params, clones):
        for k, p in enumerate(group):
            p.grad = npgrad.tensor(np.full(p.shape, 0.1 * (k + 1), dtype=p.numpy().dtype))
    opt.step()
    restored.step()
    for k, (a, b) in enumerate(zip(params, clones, strict=True)):
        np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"parameter {k}")
    # the loaded state was copied in, not shared with the original's flat arrays
    ours, theirs = opt.state[params[0]]["exp_avg"], restored.state[clones[0]]["exp_avg"]
    assert not np.shares_memory(ours, theirs)
