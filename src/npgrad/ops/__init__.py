"""Every differentiable op as a :class:`~npgrad.autograd.Function`, grouped by family.

Users rarely call these directly: ``Tensor`` methods, ``npgrad.*`` functions and
``npgrad.nn.functional`` are the public faces of the same classes.
"""
