"""Stochastic gradient descent with momentum."""

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with (Nesterov) momentum and weight decay.

    For each parameter p with gradient g (``maximize`` negates g)::

        g <- g + weight_decay * p
        b <- g                                   (first step)
        b <- momentum * b + (1 - dampening) * g  (later steps)
        g <- g + momentum * b  if nesterov else  b
        p <- p - lr * g

    Sutskever et al., "On the importance of initialization and momentum in deep learning" (2013).
    Matches ``torch.optim.SGD``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([1.0]))
    >>> opt = npgrad.optim.SGD([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step(); w.item()
    0.800000011920929
    """

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0,
        dampening=0,
        weight_decay=0,
        nesterov=False,
        maximize=False,
    ):
        check_nonnegative("learning rate", lr)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("weight_decay value", weight_decay)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("Nesterov momentum requires a momentum and zero dampening")
        defaults = dict(
            lr=lr,
            momentum=momentum,
            dampening=dampening,
            weight_decay=weight_decay,
            nesterov=nesterov,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
            weight_decay, nesterov = group["weight_decay"], group["nesterov"]
            for param, grad, state in self._params_with_grad(group):
                if weight_decay:
                    grad = grad + weight_decay * param
                if momentum:
                    buffer = state.get("momentum_buffer")
                    if buffer is None:
                        buffer = state["momentum_buffer"] = grad.copy()
                    else:
                        buffer *= momentum
                        buffer += (1 - dampening) * grad
                    grad = grad + momentum * buffer if nesterov else buffer
                param -= lr * grad
        return loss
