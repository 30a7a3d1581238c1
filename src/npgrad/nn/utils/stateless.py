"""``torch.nn.utils.stateless``: ``functional_call`` (the same function as ``npgrad.func``'s)."""

from npgrad.func import functional_call

__all__ = ["functional_call"]
