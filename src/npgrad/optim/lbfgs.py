"""L-BFGS: a quasi-Newton method for small, smooth, full-batch problems (PINNs, style transfer,
fitting a few thousand parameters). Matches ``torch.optim.LBFGS``: the same arguments, the same
iterations (the two-loop recursion over the last ``history_size`` steps, a first step of
``lr / |g|_1``, an optional strong-Wolfe line search with cubic interpolation), and the same
``closure`` protocol: ``step(closure)`` calls ``closure()`` (which zeroes the gradients,
computes the loss, calls ``backward`` and returns the loss) as often as it needs.

Nocedal & Wright, "Numerical Optimization" (2006): algorithm 7.4 (two-loop recursion) and
algorithms 3.5-3.6 (line search and zoom).
"""

import math

import numpy

from npgrad.optim.optimizer import Optimizer


def _cubic_minimum(x1, f1, g1, x2, f2, g2, bounds=None):
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped
    to ``bounds`` (default: the interval between x1 and x2); its midpoint if the cubic has none."""
    low, high = bounds if bounds is not None else (min(x1, x2), max(x1, x2))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    square = d1 * d1 - g1 * g2
    if square < 0:
        return (low + high) / 2
    d2 = math.sqrt(square)
    if x1 <= x2:
        point = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        point = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(point, low), high)


class _Bracket:
    """The line search's interval: steps ``t``, losses ``f``, gradients ``g`` and slopes along
    the direction ``gtd`` at its two ends (or at one, once a step satisfies the conditions)."""

    def __init__(self, *ends):
        self.t, self.f, self.g, self.gtd = (list(values) for values in zip(*ends, strict=True))

    def low_high(self):
        """(index of the end with the lower loss, index of the other)."""
        return (0, 1) if self.f[0] <= self.f[-1] else (1, 0)

    def set(self, index, t, f, g, gtd):
        self.t[index], self.f[index], self.g[index], self.gtd[index] = t, f, g, gtd


def _strong_wolfe(
    evaluate, t, direction, loss, grad, slope, c1=1e-4, c2=0.9, tolerance=1e-9, max_ls=25
):
    """A step size along ``direction`` meeting the strong Wolfe conditions: enough decrease,
    f(t) <= f(0) + c1 t f'(0), and a flat enough slope, |f'(t)| <= c2 |f'(0)|.
    ``evaluate(t)`` returns (loss, gradient) at that step. Returns (loss, gradient, t, evals)."""
    scale = numpy.abs(direction).max()
    new_loss, new_grad = evaluate(t)
    evals, new_slope = 1, float(new_grad @ direction)
    previous = (0.0, loss, grad, slope)
    bracket, done, iteration = None, False, 0
    # expand the step until the interval [previous, t] contains an acceptable one
    while iteration < max_ls:
        current = (t, new_loss, new_grad, new_slope)
        if new_loss > loss + c1 * t * slope or (iteration > 1 and new_loss >= previous[1]):
            bracket = _Bracket(previous, current)
            break
        if abs(new_slope) <= -c2 * slope:
            bracket, done = _Bracket(current), True
            break
        if new_slope >= 0:
            bracket = _Bracket(previous, current)
            break
        t_next = _cubic_minimum(
            previous[0], previous[1], previous[3], t, new_loss, new_slope,
            bounds=(t + 0.01 * (t - previous[0]), t * 10),
        )  # fmt: skip
        previous, t = current, t_next
        new_loss, new_grad = evaluate(t)
        evals, new_slope, iteration = evals + 1, float(new_grad @ direction), iteration + 1
    if bracket is None:  # out of evaluations while still expanding
        bracket = _Bracket((0.0, loss, grad, slope), (t, new_loss, new_grad, new_slope))
    # zoom: shrink the interval by cubic interpolation until a step is acceptable
    stalled = False
    low, high = bracket.low_high()
    while not done and iteration < max_ls:
        if abs(bracket.t[1] - bracket.t[0]) * scale < tolerance:
            break
        t = _cubic_minimum(
            bracket.t[0], bracket.f[0], bracket.gtd[0], bracket.t[1], bracket.f[1], bracket.gtd[1]
        )
        # keep t off the interval's ends, where interpolation makes no progress
        top, bottom = max(bracket.t), min(bracket.t)
        margin = 0.1 * (top - bottom)
        if min(top - t, t - bottom) < margin:
            if stalled or t >= top or t <= bottom:
                t = top - margin if abs(t - top) < abs(t - bottom) else bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False
        new_loss, new_grad = evaluate(t)
        evals, new_slope, iteration = evals + 1, float(new_grad @ direction), iteration + 1
        if new_loss > loss + c1 * t * slope or new_loss >= bracket.f[low]:
            bracket.set(high, t, new_loss, new_grad, new_slope)  # t becomes the high end
            low, high = bracket.low_high()
        else:
            if abs(new_slope) <= -c2 * slope:
                done = True
            elif new_slope * (bracket.t[high] - bracket.t[low]) >= 0:
                bracket.set(high, bracket.t[low], bracket.f[low], bracket.g[low], bracket.gtd[low])
            bracket.set(low, t, new_loss, new_grad, new_slope)  # t becomes the low end
    return bracket.f[low], bracket.g[low], bracket.t[low], evals


class LBFGS(Optimizer):
    """Limited-memory BFGS. Matches ``torch.optim.LBFGS`` (one parameter group; ``step`` needs
    a closure that re-evaluates the model and returns the loss).

    >>> import npgrad
    >>> w = npgrad.tensor([-1.5, 2.0], dtype=npgrad.float64, requires_grad=True)
    >>> optimizer = LBFGS([w], line_search_fn="strong_wolfe")
    >>> def closure():
    ...     optimizer.zero_grad()
    ...     loss = (1 - w[0]) ** 2 + 100 * (w[1] - w[0] ** 2) ** 2  # Rosenbrock
    ...     loss.backward()
    ...     return loss
    >>> for _ in range(5):
    ...     _ = optimizer.step(closure)
    >>> [round(v, 4) for v in w.tolist()]
    [1.0, 1.0]

    Args:
        lr: the step size (1 suits most problems with a line search).
        max_iter: iterations per ``step``; max_eval: closure calls per ``step`` (1.25 max_iter).
        tolerance_grad: stop once every gradient entry is this small;
        tolerance_change: once the loss or the step changes less than this.
        history_size: the number of past steps the curvature estimate keeps.
        line_search_fn: None (a fixed step ``lr``) or "strong_wolfe".
    """

    def __init__(
        self,
        params,
        lr=1,
        max_iter=20,
        max_eval=None,
        tolerance_grad=1e-7,
        tolerance_change=1e-9,
        history_size=100,
        line_search_fn=None,
    ):
        if lr <= 0:
            raise ValueError(f"LBFGS: invalid learning rate {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        defaults = dict(
            lr=lr,
            max_iter=max_iter,
            max_eval=max_iter * 5 // 4 if max_eval is None else max_eval,
            tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change,
            history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    # the parameters as one flat vector
    def _flat_grad(self):
        return numpy.concatenate(
            [
                numpy.zeros(p.numel(), p.dtype.numpy) if p.grad is None else p.grad._data.ravel()
                for p in self._params
            ]
        )

    def _move(self, step, direction):
        """p <- p + step * direction, for every parameter's slice of the flat direction."""
        offset = 0
        for param in self._params:
            size = param.numel()
            param._data += (
                (step * direction[offset : offset + size])
                .reshape(param.shape)
                .astype(param._data.dtype, copy=False)
            )
            param._version[0] += 1  # an in-place update: graphs that saved p must notice
            offset += size

    def _set(self, arrays):
        for param, array in zip(self._params, arrays, strict=True):
            param._data[...] = array
            param._version[0] += 1

    def step(self, closure):
        """Run up to ``max_iter`` iterations; returns the loss the first closure call gave."""
        if closure is None:
            raise ValueError(
                "LBFGS.step needs a closure: a function that zeroes the gradients, computes the "
                "loss, calls loss.backward() and returns the loss"
            )
        group = self.param_groups[0]
        lr, history_size = group["lr"], group["history_size"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        state = self.state.setdefault(self._params[0], {})  # (PyTorch keeps it there too)
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        first_loss = self._evaluate(closure)
        loss, evals = float(first_loss), 1
        state["func_evals"] += 1
        grad = self._flat_grad()
        if numpy.abs(grad).max() <= tolerance_grad:
            return first_loss
        direction, t = state.get("d"), state.get("t")
        old_dirs, old_steps = state.get("old_dirs", []), state.get("old_stps", [])
        rho, h_diag = state.get("ro", []), state.get("H_diag", 1.0)
        previous_grad, previous_loss = state.get("prev_flat_grad"), state.get("prev_loss")

        iteration = 0
        while iteration < group["max_iter"]:
            iteration += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                direction, old_dirs, old_steps, rho, h_diag = -grad, [], [], [], 1.0
            else:
                # curvature pair of the last step: y = g_k - g_{k-1}, s = t d
                y, s = grad - previous_grad, direction * t
                ys = float(y @ s)
                if ys > 1e-10:  # keep only pairs with positive curvature
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_steps.pop(0), rho.pop(0)
                    old_dirs.append(y), old_steps.append(s), rho.append(1.0 / ys)
                    h_diag = ys / float(y @ y)  # the initial inverse Hessian's scale
                direction = self._two_loop(-grad, old_dirs, old_steps, rho, h_diag)
            previous_grad, previous_loss = grad.copy(), loss
            t = min(1.0, 1.0 / numpy.abs(grad).sum()) * lr if state["n_iter"] == 1 else lr
            slope = float(grad @ direction)
            if slope > -tolerance_change:  # not a descent direction any more
                break
            if group["line_search_fn"] is None:
                self._move(t, direction)
                extra = 0
                if iteration != group["max_iter"]:  # re-evaluate, except after the last step
                    loss, grad, extra = float(self._evaluate(closure)), self._flat_grad(), 1
            else:
                start = [p._data.copy() for p in self._params]

                def evaluate(step, start=start, direction=direction):
                    self._move(step, direction)
                    value = float(self._evaluate(closure))
                    gradient = self._flat_grad()
                    self._set(start)
                    return value, gradient

                loss, grad, t, extra = _strong_wolfe(
                    evaluate, t, direction, loss, grad, slope, tolerance=tolerance_change
                )
                self._move(t, direction)
            evals += extra
            state["func_evals"] += extra
            if (
                iteration == group["max_iter"]
                or evals >= group["max_eval"]
                or numpy.abs(grad).max() <= tolerance_grad
                or numpy.abs(direction * t).max() <= tolerance_change
                or abs(loss - previous_loss) < tolerance_change
            ):
                break

        state.update(
            d=direction, t=t, old_dirs=old_dirs, old_stps=old_steps, ro=rho, H_diag=h_diag,
            prev_flat_grad=previous_grad, prev_loss=previous_loss,
        )  # fmt: skip
        return first_loss

    @staticmethod
    def _two_loop(q, old_dirs, old_steps, rho, h_diag):
        """H q for the L-BFGS inverse-Hessian estimate H (Nocedal & Wright, algorithm 7.4)."""
        alphas = []
        for y, s, r in zip(reversed(old_dirs), reversed(old_steps), reversed(rho), strict=True):
            alpha = float(s @ q) * r
            q -= alpha * y
            alphas.append(alpha)
        q *= h_diag
        for y, s, r, alpha in zip(old_dirs, old_steps, rho, reversed(alphas), strict=True):
            beta = float(y @ q) * r
            q += (alpha - beta) * s
        return q
