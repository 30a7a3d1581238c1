"""Optimizers and schedulers: 20 steps from identical weights match torch to 1e-6 (float64)."""

import math

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad
from npgrad import nn, optim

pytestmark = needs_torch


def build_pair(seed=0):
    """The same small MLP in npgrad and torch, float64, identical weights."""
    torch.manual_seed(seed)
    theirs = torch.nn.Sequential(
        torch.nn.Linear(5, 8), torch.nn.Tanh(), torch.nn.Linear(8, 3)
    ).double()
    ours = nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 3)).double()
    ours.load_state_dict(theirs.state_dict())
    return ours, theirs


def data(step):
    rng = np.random.default_rng(100 + step)
    return rng.normal(size=(16, 5)), rng.integers(0, 3, 16)


def train_pair(make_optimizer, make_scheduler=None, steps=20, groups=None, closure=False):
    ours, theirs = build_pair()
    params_ours = groups(ours) if groups else ours.parameters()
    params_theirs = groups(theirs) if groups else theirs.parameters()
    opt_ours = make_optimizer(optim, params_ours)
    opt_theirs = make_optimizer(torch.optim, params_theirs)
    sched_ours = make_scheduler(optim.lr_scheduler, opt_ours) if make_scheduler else None
    sched_theirs = make_scheduler(torch.optim.lr_scheduler, opt_theirs) if make_scheduler else None
    plateau = (optim.lr_scheduler.ReduceLROnPlateau, torch.optim.lr_scheduler.ReduceLROnPlateau)
    for step in range(steps):
        x, y = data(step)
        for model, opt, lib, loss_fn in (
            (ours, opt_ours, npgrad, nn.functional.cross_entropy),
            (theirs, opt_theirs, torch, torch.nn.functional.cross_entropy),
        ):
            compute = _loss_closure(model, opt, loss_fn, lib.tensor(x), lib.tensor(y))
            if closure:
                opt.step(compute)
            else:
                compute()
                opt.step()
        for sched in (sched_ours, sched_theirs):
            if isinstance(sched, plateau):
                sched.step(10.0 if step < 5 else 11.0)  # plateaus after step 5
            elif sched is not None:
                sched.step()
        lrs_ours = [g["lr"] for g in opt_ours.param_groups]
        lrs_theirs = [g["lr"] for g in opt_theirs.param_groups]
        np.testing.assert_allclose(lrs_ours, lrs_theirs, rtol=1e-9, err_msg=f"lr at step {step}")
    for (name, a), (_, b) in zip(ours.named_parameters(), theirs.named_parameters(), strict=True):
        np.testing.assert_allclose(
            a.numpy(), b.detach().numpy(), atol=1e-6, rtol=1e-6, err_msg=name
        )
    return opt_ours, opt_theirs


def _loss_closure(model, opt, loss_fn, x, y):
    def compute():
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    return compute


OPTIMIZERS = {
    "sgd": lambda lib, p: lib.SGD(p, lr=0.1),
    "sgd_momentum": lambda lib, p: lib.SGD(
        p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=1e-3
    ),
    "sgd_nesterov": lambda lib, p: lib.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "sgd_maximize": lambda lib, p: lib.SGD(p, lr=0.01, maximize=True),
    "adam": lambda lib, p: lib.Adam(p, lr=0.01),
    "adam_wd_amsgrad": lambda lib, p: lib.Adam(
        p, lr=0.01, betas=(0.8, 0.99), weight_decay=0.1, amsgrad=True
    ),
    "adamw": lambda lib, p: lib.AdamW(p, lr=0.01, weight_decay=0.1),
    "adamw_amsgrad": lambda lib, p: lib.AdamW(p, lr=0.01, amsgrad=True),
    "rmsprop": lambda lib, p: lib.RMSprop(p, lr=0.01),
    "rmsprop_centered_momentum": lambda lib, p: lib.RMSprop(
        p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.01
    ),
    "adadelta": lambda lib, p: lib.Adadelta(p, lr=1.0, rho=0.8, weight_decay=0.01),
    "adagrad": lambda lib, p: lib.Adagrad(
        p, lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1
    ),
    "adamax": lambda lib, p: lib.Adamax(p, lr=0.01),
    "adamax_wd": lambda lib, p: lib.Adamax(p, lr=0.01, betas=(0.8, 0.9), weight_decay=0.1),
    "nadam": lambda lib, p: lib.NAdam(p, lr=0.01),
    "nadam_options": lambda lib, p: lib.NAdam(
        p, lr=0.01, weight_decay=0.1, momentum_decay=0.01, decoupled_weight_decay=True
    ),
    "nadam_l2": lambda lib, p: lib.NAdam(p, lr=0.01, weight_decay=0.1, maximize=True),
    # (beta2 0.9: rho_t passes 5 at step 6 of the 20, so both of RAdam's branches run)
    "radam": lambda lib, p: lib.RAdam(p, lr=0.01, betas=(0.9, 0.9)),
    "radam_options": lambda lib, p: lib.RAdam(
        p, lr=0.01, betas=(0.9, 0.8), weight_decay=0.1, decoupled_weight_decay=True
    ),
    "radam_default": lambda lib, p: lib.RAdam(p, lr=0.01, weight_decay=0.05),
    "rprop": lambda lib, p: lib.Rprop(p, lr=0.01),
    "rprop_options": lambda lib, p: lib.Rprop(
        p, lr=0.05, etas=(0.3, 1.5), step_sizes=(1e-3, 0.02), maximize=True
    ),
    # (PyTorch keeps eta as a float32 tensor, npgrad as a float: they agree to ~1e-9)
    "asgd": lambda lib, p: lib.ASGD(p, lr=0.05, t0=5, weight_decay=0.01),
    "asgd_decay": lambda lib, p: lib.ASGD(p, lr=0.1, lambd=1e-2, alpha=0.5),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_parity(name):
    train_pair(OPTIMIZERS[name])


def test_closure_and_param_groups():
    def groups(model):
        return [
            {"params": model[0].parameters(), "lr": 0.05},
            {"params": model[2].parameters()},
        ]

    train_pair(lambda lib, p: lib.SGD(p, lr=0.1, momentum=0.9), groups=groups, closure=True)


SCHEDULERS = {
    "step": lambda lib, o: lib.StepLR(o, step_size=3, gamma=0.5),
    "multistep": lambda lib, o: lib.MultiStepLR(o, milestones=[2, 5, 11], gamma=0.3),
    "exponential": lambda lib, o: lib.ExponentialLR(o, gamma=0.9),
    "cosine": lambda lib, o: lib.CosineAnnealingLR(o, T_max=7, eta_min=0.001),
    "linear": lambda lib, o: lib.LinearLR(o, start_factor=0.2, total_iters=6),
    "lambda": lambda lib, o: lib.LambdaLR(o, lambda epoch: 1 / (1 + epoch)),
    "onecycle": lambda lib, o: lib.OneCycleLR(o, max_lr=0.1, total_steps=25),
    "onecycle_linear_3phase": lambda lib, o: lib.OneCycleLR(
        o, max_lr=0.2, epochs=5, steps_per_epoch=5, anneal_strategy="linear", three_phase=True
    ),
    "plateau": lambda lib, o: lib.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
    "constant": lambda lib, o: lib.ConstantLR(o, factor=0.25, total_iters=4),
    "polynomial": lambda lib, o: lib.PolynomialLR(o, total_iters=12, power=2.0),
    "multiplicative": lambda lib, o: lib.MultiplicativeLR(o, lambda epoch: 0.9 + 0.01 * epoch),
    "warm_restarts": lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=4, eta_min=0.01),
    "warm_restarts_mult": lambda lib, o: lib.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2),
    "cyclic": lambda lib, o: lib.CyclicLR(o, 0.01, 0.1, step_size_up=3),
    "cyclic_triangular2": lambda lib, o: lib.CyclicLR(
        o, 0.01, 0.1, step_size_up=2, step_size_down=4, mode="triangular2"
    ),
    "cyclic_exp_range": lambda lib, o: lib.CyclicLR(
        o, 0.01, 0.1, step_size_up=3, mode="exp_range", gamma=0.9, base_momentum=0.5
    ),
    "sequential": lambda lib, o: lib.SequentialLR(
        o,
        [lib.LinearLR(o, start_factor=0.1, total_iters=4), lib.CosineAnnealingLR(o, T_max=10)],
        milestones=[4],
    ),
    "sequential_three": lambda lib, o: lib.SequentialLR(
        o,
        [
            lib.ConstantLR(o, factor=0.5, total_iters=2),
            lib.ExponentialLR(o, gamma=0.8),
            lib.StepLR(o, step_size=2),
        ],
        milestones=[3, 9],
    ),
    "chained": lambda lib, o: lib.ChainedScheduler(
        [lib.ConstantLR(o, factor=0.1, total_iters=3), lib.ExponentialLR(o, gamma=0.9)]
    ),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_parity(name):
    make_optimizer = OPTIMIZERS["sgd_momentum"]
    if name.startswith("onecycle") or name == "cyclic_exp_range":  # (Adam's beta1 cycles)
        make_optimizer = OPTIMIZERS["adam"]
    train_pair(make_optimizer, SCHEDULERS[name])


def test_onecycle_cycles_sgd_momentum():
    train_pair(OPTIMIZERS["sgd_momentum"], SCHEDULERS["onecycle"])


def test_state_dict_round_trip_continues_identically():
    ours, _ = build_pair()
    opt = optim.Adam(ours.parameters(), lr=0.01)
    x, y = data(0)
    for _ in range(3):
        opt.zero_grad()
        nn.functional.cross_entropy(ours(npgrad.tensor(x)), npgrad.tensor(y)).backward()
        opt.step()
    clone, _ = build_pair()
    clone.load_state_dict(ours.state_dict())
    opt_clone = optim.Adam(clone.parameters(), lr=0.5)
    opt_clone.load_state_dict(opt.state_dict())
    assert opt_clone.param_groups[0]["lr"] == 0.01
    for model, o in ((ours, opt), (clone, opt_clone)):
        o.zero_grad()
        nn.functional.cross_entropy(model(npgrad.tensor(x)), npgrad.tensor(y)).backward()
        o.step()
    for a, b in zip(ours.parameters(), clone.parameters(), strict=True):
        assert a.equal(b)


def test_loads_torch_optimizer_state():
    ours, theirs = build_pair()
    opt_theirs = torch.optim.Adam(theirs.parameters(), lr=0.01)
    x, y = data(0)
    opt_theirs.zero_grad()
    torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
    opt_theirs.step()
    ours.load_state_dict(theirs.state_dict())
    opt_ours = optim.Adam(ours.parameters(), lr=0.01)
    opt_ours.load_state_dict(opt_theirs.state_dict())
    assert opt_ours.state[next(iter(ours.parameters()))]["step"] == 1


def test_hyperparameter_validation():
    params = [nn.Parameter(npgrad.ones(1))]
    with pytest.raises(ValueError, match="learning rate: -1"):
        optim.SGD(params, lr=-1)
    with pytest.raises(ValueError, match="beta parameter at index 1"):
        optim.Adam(params, betas=(0.9, 1.0))
    with pytest.raises(ValueError, match="Nesterov"):
        optim.SGD(params, lr=0.1, nesterov=True)
    with pytest.raises(TypeError, match="iterable"):
        optim.SGD(params[0], lr=0.1)
    with pytest.raises(ValueError, match="empty"):
        optim.Adam([])


def test_zero_grad_and_skip_params_without_grad():
    a, b = nn.Parameter(npgrad.ones(2)), nn.Parameter(npgrad.ones(2))
    opt = optim.Adam([a, b], lr=0.1)
    (a * 2).sum().backward()
    opt.step()
    assert b.tolist() == [1.0, 1.0] and b not in opt.state
    opt.zero_grad(set_to_none=False)
    assert a.grad.tolist() == [0.0, 0.0]
    opt.zero_grad()
    assert a.grad is None


def test_optimizer_step_before_backward_is_detected():
    w = nn.Parameter(npgrad.ones(2))
    opt = optim.SGD([w], lr=0.1)
    w.grad = npgrad.ones(2)
    loss = (w * w).sum()
    opt.step()
    with pytest.raises(npgrad.errors.GradientError, match="in-place"):
        loss.backward()


def test_clip_grad_norm_and_value():
    a, b = nn.Parameter(npgrad.zeros(2)), nn.Parameter(npgrad.zeros(1))
    a.grad, b.grad = npgrad.tensor([3.0, 0.0]), npgrad.tensor([4.0])
    total = nn.utils.clip_grad_norm_([a, b], max_norm=1.0)
    assert math.isclose(total.item(), 5.0, rel_tol=1e-6)
    assert math.isclose(math.hypot(*a.grad.tolist(), *b.grad.tolist()), 1.0, rel_tol=1e-5)
    a.grad = npgrad.tensor([3.0, -7.0])
    nn.utils.clip_grad_value_([a], 2.0)
    assert a.grad.tolist() == [2.0, -2.0]
    ours, theirs = build_pair()
    x, y = data(0)
    nn.functional.cross_entropy(ours(npgrad.tensor(x)), npgrad.tensor(y)).backward()
    torch.nn.functional.cross_entropy(theirs(torch.tensor(x)), torch.tensor(y)).backward()
    for norm_type in (2.0, 1.0, math.inf):
        t_ours = nn.utils.clip_grad_norm_(ours.parameters(), 0.1, norm_type)
        t_theirs = torch.nn.utils.clip_grad_norm_(theirs.parameters(), 0.1, norm_type)
        assert math.isclose(t_ours.item(), t_theirs.item(), rel_tol=1e-9)
    for a, b in zip(ours.parameters(), theirs.parameters(), strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-9)


def test_asgd_average_and_rprop_step_sizes_match_pytorch():
    for make, key in ((OPTIMIZERS["asgd"], "ax"), (OPTIMIZERS["rprop_options"], "step_size")):
        opt_ours, opt_theirs = train_pair(make)
        for p_ours, p_theirs in zip(
            opt_ours.param_groups[0]["params"], opt_theirs.param_groups[0]["params"], strict=True
        ):
            np.testing.assert_allclose(
                opt_ours.state[p_ours][key],
                opt_theirs.state[p_theirs][key].numpy(),
                rtol=1e-6,
                atol=1e-9,
            )
