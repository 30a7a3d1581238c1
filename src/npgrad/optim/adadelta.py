"""Adadelta."""

import numpy

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class Adadelta(Optimizer):
    """Adadelta: step sizes from running averages of squared gradients and squared updates.

    For each parameter p with gradient g::

        g <- g + weight_decay * p
        s <- rho s + (1 - rho) g^2
        d = sqrt(u + eps) / sqrt(s + eps) * g
        u <- rho u + (1 - rho) d^2
        p <- p - lr d

    Zeiler, "ADADELTA: An Adaptive Learning Rate Method" (2012). Matches ``torch.optim.Adadelta``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([1.0]))
    >>> opt = npgrad.optim.Adadelta([w], lr=1.0)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 5)
    0.99684
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, maximize=False):
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Invalid rho value: {rho} (must be in [0, 1])")
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, rho, eps, weight_decay = (
                group["lr"],
                group["rho"],
                group["eps"],
                group["weight_decay"],
            )
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["square_avg"] = numpy.zeros_like(param)
                    state["acc_delta"] = numpy.zeros_like(param)
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                square_avg, acc_delta = state["square_avg"], state["acc_delta"]
                square_avg *= rho
                square_avg += (1 - rho) * (grad * grad)
                delta = numpy.sqrt(acc_delta + eps) / numpy.sqrt(square_avg + eps) * grad
                acc_delta *= rho
                acc_delta += (1 - rho) * (delta * delta)
                param -= lr * delta
        return loss
