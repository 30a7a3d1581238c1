"""Adamax."""

import numpy

from npgrad.optim.adam import _AdamFamily


class Adamax(_AdamFamily):
    """Adam with the infinity norm: u <- max(beta2 u, |g| + eps), p <- p - lr / (1 - beta1^t)
    m / u (Kingma & Ba, 2015, section 7). Matches ``torch.optim.Adamax``."""

    state_names = ("exp_avg", "exp_inf")

    def __init__(
        self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, maximize=False
    ):
        super().__init__(params, lr, betas, eps, weight_decay, maximize)

    @staticmethod
    def _direction(state, grad, group):
        beta1, beta2 = group["betas"]
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad  # m <- beta1 m + (1 - beta1) g
        exp_inf *= beta2
        numpy.maximum(exp_inf, numpy.abs(grad) + group["eps"], out=exp_inf)
        return group["lr"] / (1 - beta1 ** state["step"]) * exp_avg / exp_inf
