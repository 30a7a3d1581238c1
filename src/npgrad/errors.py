"""Errors raised by npgrad.

Every error derives from :class:`NpgradError` and also from the builtin exception it refines, so
``except ValueError`` keeps working for a caller that does not know about npgrad.
"""


class NpgradError(Exception):
    """Base class of every error npgrad raises on purpose."""


class ShapeError(NpgradError, ValueError):
    """Operands whose shapes do not fit the op (names the op and the shapes)."""


class DTypeError(NpgradError, TypeError):
    """An operand of a dtype the op cannot take (e.g. a gradient for an integer tensor)."""


class GradientError(NpgradError, RuntimeError):
    """Misuse of the autograd engine: backward twice, a modified saved tensor, no gradient."""


class GradcheckError(NpgradError, AssertionError):
    """Analytic and numerical gradients disagree (raised by ``npgrad.diagnostics.gradcheck``)."""


class SerializationError(NpgradError, ValueError):
    """A file that is not a valid npgrad archive: truncated, foreign, or of an unknown version."""


class OutOfRangeError(NpgradError, IndexError):
    """An index or class label outside its valid range (names the value and the range)."""


class DownloadError(NpgradError, OSError):
    """A dataset file could not be downloaded or failed its checksum."""


class DataError(NpgradError, ValueError):
    """Training or evaluation data that cannot be used: empty, mismatched lengths, NaN values."""
