"""Rprop."""

import numpy

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class Rprop(Optimizer):
    """Resilient backpropagation: each weight's step follows only the sign of its gradient,
    with a step size of its own that grows while the sign holds and shrinks when it flips.

    For each parameter p with gradient g and the previous step's gradient g'::

        same sign (g g' > 0):      step <- min(step * eta_plus, step_max)
        sign flip (g g' < 0):      step <- max(step * eta_minus, step_min), and g <- 0
        p <- p - sign(g) * step,   g' <- g

    Riedmiller & Braun, "A Direct Adaptive Method for Faster Backpropagation Learning: The RPROP
    Algorithm" (1993). Meant for full-batch training. Matches ``torch.optim.Rprop``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([3.0]))
    >>> opt = npgrad.optim.Rprop([w], lr=0.5)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 4)
    2.5
    """

    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), maximize=False):
        check_nonnegative("learning rate", lr)
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise ValueError(f"Rprop: etas must satisfy 0 < eta_minus < 1 < eta_plus, got {etas}")
        defaults = dict(lr=lr, etas=tuple(etas), step_sizes=tuple(step_sizes), maximize=maximize)
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            eta_minus, eta_plus = group["etas"]
            step_min, step_max = group["step_sizes"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["prev"] = numpy.zeros_like(param)
                    state["step_size"] = numpy.full_like(param, group["lr"])
                state["step"] += 1
                agreement = numpy.sign(grad * state["prev"])
                factor = numpy.where(agreement > 0, eta_plus, eta_minus)
                factor = numpy.where(agreement == 0, 1.0, factor).astype(param.dtype)
                step_size = state["step_size"]
                numpy.clip(step_size * factor, step_min, step_max, out=step_size)
                grad = numpy.where(agreement < 0, 0.0, grad).astype(param.dtype)  # flipped: wait
                param -= numpy.sign(grad) * step_size
                state["prev"][...] = grad
        return loss
