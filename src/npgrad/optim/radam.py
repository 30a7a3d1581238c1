"""RAdam."""

import math

import numpy

from npgrad.optim.adam import _AdamFamily


class RAdam(_AdamFamily):
    """Rectified Adam: plain momentum SGD while the variance of the adaptive rate is undefined
    (rho_t <= 5), then Adam scaled by the rectification term r_t (Liu et al., 2020). Matches
    ``torch.optim.RAdam``."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        decoupled_weight_decay=False,
        maximize=False,
    ):
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            maximize,
            decoupled_weight_decay=decoupled_weight_decay,
        )

    @staticmethod
    def _direction(state, grad, group):
        beta1, beta2 = group["betas"]
        step, lr = state["step"], group["lr"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        corrected = exp_avg / (1 - beta1**step)
        rho_inf = 2 / (1 - beta2) - 1
        rho = rho_inf - 2 * step * beta2**step / (1 - beta2**step)
        if rho <= 5:
            return lr * corrected
        rect = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))
        adaptive = math.sqrt(1 - beta2**step) / (numpy.sqrt(exp_avg_sq) + group["eps"])
        return lr * rect * corrected * adaptive
