"""``RemovableHandle``: what ``register_hook`` and the modules' ``register_*_hook`` return
(PyTorch's ``torch.utils.hooks.RemovableHandle``)."""

import itertools

_ids = itertools.count()


class RemovableHandle:
    """Registers ``hook`` in the dict ``hooks`` under a fresh id; ``remove()`` (or leaving a
    ``with`` block) unregisters it. Removing twice is harmless.

    >>> hooks = {}
    >>> with RemovableHandle(hooks, print):
    ...     len(hooks)
    1
    >>> len(hooks)
    0
    """

    def __init__(self, hooks, hook):
        self.hooks_dict, self.id = hooks, next(_ids)
        hooks[self.id] = hook

    def remove(self):
        self.hooks_dict.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.remove()
