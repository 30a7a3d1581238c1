"""Adam and AdamW, and the set-up Adam's relatives share (``_AdamFamily``)."""

import math

import numpy

from npgrad.optim.optimizer import Optimizer, check_nonnegative


class Adam(Optimizer):
    """Adam: per-parameter step sizes from running averages of the gradient and its square.

    For each parameter p with gradient g at step t::

        g <- g + weight_decay * p                         (L2 penalty; see AdamW)
        m <- beta1 m + (1 - beta1) g
        v <- beta2 v + (1 - beta2) g^2
        v_max <- max(v_max, v)                            (amsgrad only; then v := v_max)
        p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps)

    Kingma & Ba, "Adam: A Method for Stochastic Optimization" (2015); amsgrad from Reddi et al.
    (2018). Matches ``torch.optim.Adam``.

    >>> import npgrad
    >>> w = npgrad.nn.Parameter(npgrad.tensor([1.0, -1.0]))
    >>> opt = npgrad.optim.Adam([w], lr=0.1)
    >>> (w * w).sum().backward(); opt.step()
    >>> [round(v, 4) for v in w.tolist()]  # Adam's first step moves each weight by lr
    [0.9, -0.9]
    """

    decoupled_weight_decay = False

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0,
        amsgrad=False,
        maximize=False,
    ):
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        _check_betas(betas)
        defaults = dict(
            lr=lr,
            betas=tuple(betas),
            eps=eps,
            weight_decay=weight_decay,
            amsgrad=amsgrad,
            maximize=maximize,
        )
        super().__init__(params, defaults)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for index, group in enumerate(self.param_groups):
            lr, weight_decay = group["lr"], group["weight_decay"]
            names = ["exp_avg", "exp_avg_sq"] + ["max_exp_avg_sq"] * group["amsgrad"]
            items = list(self._params_with_grad(group))
            for param, _, state in items:
                if not state:
                    state["step"] = 0
                    state.update((name, numpy.zeros_like(param)) for name in names)
                state["step"] += 1
                if weight_decay and self.decoupled_weight_decay:
                    param *= 1 - lr * weight_decay  # AdamW: shrink the weights directly
            # small parameters: one update over all of them, through flat views
            pack, small, items = self._packed(index, items, names)
            if pack is not None:
                for (param, grad, _), flat_grad in zip(small, pack.grads, strict=True):
                    self._gradient(param, grad, weight_decay, out=flat_grad)
                self._update(pack.state, pack.grad, pack.work, small[0][2]["step"], group)
                for param, work in zip(pack.params, pack.works, strict=True):
                    param -= work
            for param, grad, state in items:
                grad = self._gradient(param, grad, weight_decay)
                param -= self._update(state, grad, self._scratch(param), state["step"], group)
        return loss

    def _gradient(self, param, grad, weight_decay, out=None):
        """The gradient the moments see: with (non-decoupled) weight decay, g + weight_decay p.
        Written into ``out`` when given."""
        if weight_decay and not self.decoupled_weight_decay:
            return numpy.add(grad, weight_decay * param, out=out)
        if out is not None:
            numpy.copyto(out, grad)
            return out
        return grad

    @staticmethod
    def _update(state, grad, scratch, step, group):
        """Update the moments in ``state`` from ``grad``; returns the step to subtract from the
        parameter, written into ``scratch``."""
        lr, eps = group["lr"], group["eps"]
        beta1, beta2 = group["betas"]
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        # m <- beta1 m + (1 - beta1) g
        exp_avg *= beta1
        numpy.multiply(grad, 1 - beta1, out=scratch)
        exp_avg += scratch
        # v <- beta2 v + (1 - beta2) g^2
        exp_avg_sq *= beta2
        numpy.multiply(grad, grad, out=scratch)
        scratch *= 1 - beta2
        exp_avg_sq += scratch
        second_moment = exp_avg_sq
        if group["amsgrad"]:
            numpy.maximum(state["max_exp_avg_sq"], exp_avg_sq, out=state["max_exp_avg_sq"])
            second_moment = state["max_exp_avg_sq"]
        # lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps), with sqrt(1 - beta2^t)
        # moved out of the denominator: one pass less
        root_correction2 = math.sqrt(1 - beta2**step)
        numpy.sqrt(second_moment, out=scratch)
        scratch += eps * root_correction2
        numpy.divide(exp_avg, scratch, out=scratch)
        scratch *= lr * root_correction2 / (1 - beta1**step)
        return scratch


class AdamW(Adam):
    """Adam with decoupled weight decay: ``p <- p (1 - lr wd)`` before the Adam step.

    Loshchilov & Hutter, "Decoupled Weight Decay Regularization" (2019). Matches
    ``torch.optim.AdamW`` (default ``weight_decay=0.01``).
    """

    decoupled_weight_decay = True

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        maximize=False,
    ):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize)


def _check_betas(betas):
    for i, beta in enumerate(betas):
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"Invalid beta parameter at index {i}: {beta} (must be in [0, 1))")


class _AdamFamily(Optimizer):
    """Shared set-up: lr, betas, eps, weight decay (L2, or decoupled as AdamW's), maximize."""

    state_names = ("exp_avg", "exp_avg_sq")

    def __init__(self, params, lr, betas, eps, weight_decay, maximize, **extra):
        check_nonnegative("learning rate", lr)
        check_nonnegative("epsilon value", eps)
        check_nonnegative("weight_decay value", weight_decay)
        _check_betas(betas)
        defaults = dict(
            lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, maximize=maximize
        )
        super().__init__(params, {**defaults, **extra})

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            lr, weight_decay = group["lr"], group["weight_decay"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state.update((name, numpy.zeros_like(param)) for name in self.state_names)
                state["step"] += 1
                if weight_decay and group.get("decoupled_weight_decay", False):
                    param *= 1 - lr * weight_decay  # decoupled, as AdamW
                elif weight_decay:
                    grad = grad + weight_decay * param  # an L2 penalty in the gradient
                param -= self._direction(state, grad, group)
        return loss
