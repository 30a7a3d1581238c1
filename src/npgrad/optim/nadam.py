"""NAdam."""

import numpy

from npgrad.optim.adam import _AdamFamily
from npgrad.optim.optimizer import check_nonnegative


class NAdam(_AdamFamily):
    """Adam with Nesterov momentum and the momentum schedule mu_t = beta1 (1 - 0.96^(t psi) / 2)
    (Dozat, 2016): the step mixes the current gradient and the next momentum. Matches
    ``torch.optim.NAdam``."""

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        maximize=False,
    ):
        check_nonnegative("momentum_decay value", momentum_decay)
        super().__init__(
            params,
            lr,
            betas,
            eps,
            weight_decay,
            maximize,
            momentum_decay=momentum_decay,
            decoupled_weight_decay=decoupled_weight_decay,
        )

    @staticmethod
    def _direction(state, grad, group):
        beta1, beta2 = group["betas"]
        step, psi = state["step"], group["momentum_decay"]
        mu = beta1 * (1 - 0.5 * 0.96 ** (step * psi))
        mu_next = beta1 * (1 - 0.5 * 0.96 ** ((step + 1) * psi))
        state["mu_product"] = state.get("mu_product", 1.0) * mu
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg *= beta1
        exp_avg += (1 - beta1) * grad
        exp_avg_sq *= beta2
        exp_avg_sq += (1 - beta2) * grad * grad
        denom = numpy.sqrt(exp_avg_sq / (1 - beta2**step)) + group["eps"]
        product, lr = state["mu_product"], group["lr"]
        # the gradient's share now, and the momentum's at the next step
        return (lr * (1 - mu) / (1 - product)) * grad / denom + (
            lr * mu_next / (1 - product * mu_next)
        ) * exp_avg / denom
