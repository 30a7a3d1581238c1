"""autocast (accepted, changes nothing), GradScaler (dynamic loss scaling) against torch's."""

import numpy as np
import pytest
from helpers import needs_torch, torch

import npgrad


@needs_torch
def test_grad_scaler_matches_torch_including_skipped_steps():
    """Scale, skipped steps on inf gradients, backoff and growth, and the weights, as torch's
    CPU GradScaler (growth_interval 2 so that growth happens within the test)."""
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 2))
    ours_w = npgrad.nn.Parameter(npgrad.tensor(w0))
    theirs_w = torch.nn.Parameter(torch.tensor(w0))
    ours_opt = npgrad.optim.SGD([ours_w], lr=0.1, momentum=0.9)
    theirs_opt = torch.optim.SGD([theirs_w], lr=0.1, momentum=0.9)
    options = {"init_scale": 256.0, "growth_interval": 2}
    ours_scaler = npgrad.amp.GradScaler("cpu", **options)
    theirs_scaler = torch.amp.GradScaler("cpu", **options)
    for step in range(7):
        x = rng.standard_normal((4, 3))
        for lib, w, opt, scaler in (
            (npgrad, ours_w, ours_opt, ours_scaler),
            (torch, theirs_w, theirs_opt, theirs_scaler),
        ):
            opt.zero_grad()
            with lib.autocast("cpu", enabled=False):
                loss = ((lib.tensor(x) @ w) ** 2).mean()
            scaler.scale(loss).backward()
            if step in (2, 5):  # an overflow: the step is skipped and the scale backs off
                w.grad[0, 0] = float("inf")
            scaler.unscale_(opt)
            scaler.step(opt)
            scaler.update()
        assert ours_scaler.get_scale() == theirs_scaler.get_scale(), step
        np.testing.assert_allclose(ours_w.numpy(), theirs_w.detach().numpy(), rtol=1e-12)
    state = ours_scaler.state_dict()
    assert state["scale"] == theirs_scaler.state_dict()["scale"]
    restored = npgrad.amp.GradScaler()
    restored.load_state_dict(state)
    assert restored.get_scale() == ours_scaler.get_scale()


def test_disabled_scaler_autocast_and_compile_pass_through():
    w = npgrad.nn.Parameter(npgrad.tensor([2.0]))
    opt = npgrad.optim.SGD([w], lr=0.5)
    scaler = npgrad.cuda.amp.GradScaler(enabled=False)
    loss = (w * w).sum()
    assert scaler.scale(loss) is loss and scaler.get_scale() == 1.0
    loss.backward()
    scaler.step(opt)
    scaler.update()
    assert w.item() == 0.0  # 2 - 0.5 * 4

    @npgrad.autocast("cpu", dtype=npgrad.float16)
    def forward(x):
        return x * 2

    assert forward(npgrad.ones(2)).dtype == npgrad.float32  # nothing is cast
    model = npgrad.nn.Linear(2, 2)
    assert npgrad.compile(model) is model
    assert npgrad.compile(mode="reduce-overhead")(forward) is forward
    with pytest.raises(RuntimeError, match="already called"):
        live = npgrad.amp.GradScaler()
        (w * 1).sum().backward()
        live.unscale_(opt)
        live.unscale_(opt)
