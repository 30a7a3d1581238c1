"""Weight averaging, as ``torch.optim.swa_utils``: ``AveragedModel`` (stochastic weight averaging,
or an exponential moving average of the weights with ``get_ema_multi_avg_fn``), the ``SWALR``
schedule, and ``update_bn`` to recompute batch-norm statistics for the averaged weights.

Izmailov et al., "Averaging Weights Leads to Wider Optima and Better Generalization" (2018).
"""

import copy
import math

from npgrad.autograd import no_grad
from npgrad.nn.modules.module import Module
from npgrad.nn.modules.normalization import _BatchNorm, _InstanceNorm
from npgrad.optim.lr_scheduler import LRScheduler
from npgrad.tensor import int64, tensor


def get_swa_avg_fn():
    """The running mean: avg + (current - avg) / (n + 1), n the number averaged so far."""

    def swa_update(averaged_param, current_param, num_averaged):
        return averaged_param + (current_param - averaged_param) / (num_averaged + 1)

    return swa_update


def get_ema_avg_fn(decay=0.999):
    """An exponential moving average: decay * avg + (1 - decay) * current."""

    def ema_update(ema_param, current_param, num_averaged):
        return decay * ema_param + (1 - decay) * current_param

    return ema_update


def get_swa_multi_avg_fn():
    """``get_swa_avg_fn`` over lists of tensors, in place."""

    def swa_update(averaged_params, current_params, num_averaged):
        weight = 1.0 / (float(num_averaged) + 1)
        for averaged, current in zip(averaged_params, current_params, strict=True):
            averaged._data += weight * (current._data - averaged._data)

    return swa_update


def get_ema_multi_avg_fn(decay=0.999):
    """``get_ema_avg_fn`` over lists of tensors, in place."""

    def ema_update(ema_params, current_params, num_averaged):
        for ema, current in zip(ema_params, current_params, strict=True):
            ema._data += (1 - decay) * (current._data - ema._data)  # = decay ema + (1-d) current

    return ema_update


class AveragedModel(Module):
    """A copy of ``model`` whose weights are an average of the weights ``update_parameters``
    is given. Matches ``torch.optim.swa_utils.AveragedModel``.

    By default the average is the plain running mean (SWA); ``avg_fn(avg, current, n)`` (one
    tensor, returns the new average) or ``multi_avg_fn(avgs, currents, n)`` (lists, in place)
    changes it: ``multi_avg_fn=get_ema_multi_avg_fn(0.999)`` keeps an EMA of the weights.
    Buffers (batch-norm statistics) are copied from ``model`` at each update, or averaged too
    with ``use_buffers=True``. Calling it runs the averaged copy.
    """

    def __init__(self, model, device=None, avg_fn=None, multi_avg_fn=None, use_buffers=False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give avg_fn or multi_avg_fn, not both")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", tensor(0, dtype=int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def _averaged(self, module):
        tensors = list(module.parameters())
        if self.use_buffers:
            tensors += [buffer for buffer in module.buffers() if buffer is not None]
        return tensors

    def update_parameters(self, model):
        """Fold ``model``'s current weights into the average."""
        averaged, current = self._averaged(self.module), self._averaged(model)
        if len(averaged) != len(current):
            raise ValueError(
                f"AveragedModel.update_parameters: the model has {len(current)} tensors to "
                f"average, the averaged copy {len(averaged)} (not the same architecture?)"
            )
        with no_grad():
            first = int(self.n_averaged.item()) == 0
            floats = [
                (a, c) for a, c in zip(averaged, current, strict=True) if a.is_floating_point()
            ]
            for a, c in zip(averaged, current, strict=True):
                if first or not a.is_floating_point():  # counters are copied, not averaged
                    a._data[...] = c._data
            if not first and floats:
                targets, sources = [a for a, _ in floats], [c for _, c in floats]
                if self.multi_avg_fn is not None:
                    self.multi_avg_fn(targets, sources, self.n_averaged)
                elif self.avg_fn is not None:
                    for a, c in floats:
                        a._data[...] = self.avg_fn(a.detach(), c.detach(), self.n_averaged)._data
                else:
                    get_swa_multi_avg_fn()(targets, sources, self.n_averaged)
            for a in averaged:
                a._version[0] += 1
            if not self.use_buffers:  # keep the buffers in step with the model
                for mine, theirs in zip(self.module.buffers(), model.buffers(), strict=True):
                    if mine is not None and theirs is not None:
                        mine._data[...] = theirs._data
        self.n_averaged._data += 1


def update_bn(loader, model, device=None):
    """Recompute the running statistics of ``model``'s batch norms with one pass over
    ``loader`` (batches, or tuples/lists whose first item is the input), as a cumulative
    average: the averaged weights need statistics of their own."""
    momenta = {}
    for module in model.modules():
        if isinstance(module, _BatchNorm) and not isinstance(module, _InstanceNorm):
            module.reset_running_stats()
            momenta[module] = module.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for module in momenta:
        module.momentum = None  # a cumulative average over the pass
    with no_grad():
        for batch in loader:
            model(batch[0] if isinstance(batch, list | tuple) else batch)
    for module, momentum in momenta.items():
        module.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    """Anneal each group's rate to ``swa_lr`` over ``anneal_epochs`` steps ("cos" or "linear"),
    then hold it. Matches ``torch.optim.swa_utils.SWALR`` (``swa_lr`` may be one per group)."""

    def __init__(self, optimizer, swa_lr, anneal_epochs=10, anneal_strategy="cos", last_epoch=-1):
        groups = optimizer.param_groups
        swa_lrs = list(swa_lr) if isinstance(swa_lr, list | tuple) else [swa_lr] * len(groups)
        if len(swa_lrs) != len(groups):
            raise ValueError(f"SWALR: {len(swa_lrs)} swa_lr values for {len(groups)} groups")
        for group, rate in zip(groups, swa_lrs, strict=True):
            group["swa_lr"] = rate
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"SWALR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be an int >= 0, got {anneal_epochs!r}")
        self.anneal_strategy, self.anneal_epochs = anneal_strategy, anneal_epochs
        super().__init__(optimizer, last_epoch)

    def _anneal(self, t):
        return (1 - math.cos(math.pi * t)) / 2 if self.anneal_strategy == "cos" else t

    def get_lr(self):
        # each step moves the rate from where it is toward swa_lr: the rate the previous step
        # started from is recovered from the current one, so other changes to it are kept
        step = self.last_epoch if self.anneal_epochs else max(1, self.last_epoch)
        span = max(1, self.anneal_epochs)
        previous = self._anneal(max(0.0, min(1.0, (step - 1) / span)))
        alpha = self._anneal(max(0.0, min(1.0, step / span)))
        rates = []
        for group in self.optimizer.param_groups:
            swa = group["swa_lr"]
            start = swa if previous == 1 else (group["lr"] - previous * swa) / (1 - previous)
            rates.append(swa * alpha + start * (1 - alpha))
        return rates
