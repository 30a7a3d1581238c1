"""ASGD."""

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class ASGD(Optimizer):
    """Averaged SGD: SGD with a decaying step and, from step ``t0`` on, a running average of
    the iterates (``state["ax"]``, the averaged weights to evaluate with).

    For each parameter p with gradient g at step t (eta and mu from the previous step)::

        g <- g + weight_decay * p
        p <- p (1 - lambd eta) - eta g
        ax <- ax + mu (p - ax)                       (ax <- p while mu = 1)
        eta <- lr / (1 + lambd lr t)^alpha,  mu <- 1 / max(1, t - t0)

    Polyak & Juditsky, "Acceleration of Stochastic Approximation by Averaging" (1992). Matches
    ``torch.optim.ASGD``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([3.0]))
    >>> opt = npgrad.optim.ASGD([w], lr=0.1, lambd=0.0)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 4)
    2.4
    """

    def __init__(
        self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, maximize=False
    ):
        check_nonnegative("learning rate", lr)
        check_nonnegative("weight_decay value", weight_decay)
        defaults = dict(
            lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, lambd, weight_decay = group["lr"], group["lambd"], group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"], state["eta"], state["mu"] = 0, lr, 1.0
                    state["ax"] = param.copy()
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                eta = state["eta"]
                param *= 1 - lambd * eta
                param -= eta * grad
                if state["mu"] != 1:
                    state["ax"] += state["mu"] * (param - state["ax"])
                else:
                    state["ax"][...] = param
                state["eta"] = lr / (1 + lambd * lr * state["step"]) ** group["alpha"]
                state["mu"] = 1 / max(1, state["step"] - group["t0"])
        return loss
