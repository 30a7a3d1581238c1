"""Adagrad."""

import numpy

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class Adagrad(Optimizer):
    """Adagrad: step sizes shrink with the sum of each parameter's squared gradients.

    For each parameter p with gradient g at step t::

        g <- g + weight_decay * p
        lr_t = lr / (1 + (t - 1) lr_decay)
        s <- s + g^2
        p <- p - lr_t g / (sqrt(s) + eps)

    Duchi et al., "Adaptive Subgradient Methods for Online Learning and Stochastic Optimization"
    (2011). Matches ``torch.optim.Adagrad``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([3.0]))
    >>> opt = npgrad.optim.Adagrad([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 4)
    2.5
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        lr_decay=0,
        weight_decay=0,
        initial_accumulator_value=0,
        eps=1e-10,
        maximize=False,
    ):
        check_nonnegative("learning rate", lr)
        check_nonnegative("lr_decay value", lr_decay)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("initial_accumulator_value", initial_accumulator_value)
        check_nonnegative("epsilon value", eps)
        defaults = dict(
            lr=lr,
            lr_decay=lr_decay,
            weight_decay=weight_decay,
            eps=eps,
            initial_accumulator_value=initial_accumulator_value,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
            weight_decay = group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["sum"] = numpy.full_like(param, group["initial_accumulator_value"])
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                step_size = lr / (1 + (state["step"] - 1) * lr_decay)
                state["sum"] += grad * grad
                param -= step_size * (grad / (numpy.sqrt(state["sum"]) + eps))
        return loss
