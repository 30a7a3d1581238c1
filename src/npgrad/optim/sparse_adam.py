"""SparseAdam: Adam that moves only the rows a step's gradient touches."""

import math

import numpy

from npgrad.optim.adam import _AdamFamily


class SparseAdam(_AdamFamily):
    """Lazy Adam for embedding tables (``torch.optim.SparseAdam``): each step updates the
    moments and the values only of the rows that have a gradient; the other rows, and their
    moments, stay as they are (plain Adam would decay every row's moments and keep moving rows
    unseen for many steps).

    npgrad's gradients are dense, also ``nn.Embedding(sparse=True)``'s: a row counts as
    touched when its gradient is not all zero (PyTorch's sparse gradient lists the rows looked
    up, so a looked-up row with an exactly zero gradient is the one difference). For a row r
    with gradient g: m_r <- beta1 m_r + (1 - beta1) g, v_r <- beta2 v_r + (1 - beta2) g^2,
    p_r <- p_r - lr sqrt(1 - beta2^t) / (1 - beta1^t) m_r / (sqrt(v_r) + eps), t counting
    the parameter's steps."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, maximize=False):
        super().__init__(params, lr, betas, eps, 0, maximize)

    def step(self, closure=None):
        """Perform one update; ``closure`` re-evaluates the model and returns the loss."""
        loss = self._evaluate(closure)
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for param, grad, state in self._params_with_grad(group):
                if not state:
                    state["step"] = 0
                    state.update((name, numpy.zeros_like(param)) for name in self.state_names)
                state["step"] += 1
                flat = grad.reshape(grad.shape[0], -1) if grad.ndim > 1 else grad[:, None]
                rows = numpy.flatnonzero((flat != 0).any(axis=1))
                g = grad[rows]
                m = state["exp_avg"][rows] * beta1 + (1 - beta1) * g
                v = state["exp_avg_sq"][rows] * beta2 + (1 - beta2) * g * g
                state["exp_avg"][rows], state["exp_avg_sq"][rows] = m, v
                t = state["step"]
                step_size = group["lr"] * math.sqrt(1 - beta2**t) / (1 - beta1**t)
                param[rows] -= step_size * m / (numpy.sqrt(v) + group["eps"])
        return loss
