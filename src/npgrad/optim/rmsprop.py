"""RMSprop."""

import numpy

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class RMSprop(Optimizer):
    """RMSprop: divide the gradient by a running root-mean-square of recent gradients.

    For each parameter p with gradient g::

        g <- g + weight_decay * p
        s <- alpha s + (1 - alpha) g^2
        a <- alpha a + (1 - alpha) g;  d = sqrt(s - a^2) + eps   (centered)
                                       d = sqrt(s) + eps          (otherwise)
        b <- momentum b + g / d;  p <- p - lr b                   (momentum > 0)
        p <- p - lr g / d                                         (otherwise)

    Hinton, Lecture 6e of "Neural Networks for Machine Learning" (2012); centered form from
    Graves (2013). Matches ``torch.optim.RMSprop``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([2.0]))
    >>> opt = npgrad.optim.RMSprop([w], lr=0.01)
    >>> (w * w).sum().backward(); opt.step(); round(w.item(), 4)
    1.9
    """

    def __init__(
        self,
        params,
        lr=1e-2,
        alpha=0.99,
        eps=1e-8,
        weight_decay=0,
        momentum=0,
        centered=False,
        maximize=False,
    ):
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("momentum value", momentum)
        check_nonnegative("weight_decay value", weight_decay)
        check_nonnegative("alpha value", alpha)
        defaults = dict(
            lr=lr,
            alpha=alpha,
            eps=eps,
            weight_decay=weight_decay,
            momentum=momentum,
            centered=centered,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            weight_decay, momentum = group["weight_decay"], group["momentum"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state["square_avg"] = numpy.zeros_like(param)
                    if momentum > 0:
                        state["momentum_buffer"] = numpy.zeros_like(param)
                    if group["centered"]:
                        state["grad_avg"] = numpy.zeros_like(param)
                state["step"] += 1
                if weight_decay:
                    grad = grad + weight_decay * param
                square_avg = state["square_avg"]
                square_avg *= alpha
                square_avg += (1 - alpha) * (grad * grad)
                if group["centered"]:
                    grad_avg = state["grad_avg"]
                    grad_avg *= alpha
                    grad_avg += (1 - alpha) * grad
                    denominator = numpy.sqrt(square_avg - grad_avg * grad_avg)
                else:
                    denominator = numpy.sqrt(square_avg)
                denominator += eps
                if momentum > 0:
                    buffer = state["momentum_buffer"]
                    buffer *= momentum
                    buffer += grad / denominator
                    param -= lr * buffer
                else:
                    param -= lr * (grad / denominator)
        return loss
