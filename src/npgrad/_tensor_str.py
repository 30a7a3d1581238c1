"""How tensors print: PyTorch's layout, value for value.

One width for every element of a tensor, chosen from its finite non-zero values (as
``torch._tensor_str`` does): whole floats print as ``1.``; others with ``precision`` decimals
(``1.5000``); scientific notation when the largest over the smallest is above 1000, the largest
above 1e8, or the smallest below 1e-4. Tensors over ``threshold`` elements keep ``edgeitems`` at
each end of each dimension, with ``...`` between.
"""

import math
import sys

import numpy

# torch.set_printoptions' settings and its three profiles
PROFILES = {
    "default": {"precision": 4, "threshold": 1000, "edgeitems": 3, "linewidth": 80},
    "short": {"precision": 2, "threshold": 1000, "edgeitems": 2, "linewidth": 80},
    "full": {"precision": 4, "threshold": sys.maxsize, "edgeitems": 3, "linewidth": 80},
}
options = dict(PROFILES["default"], sci_mode=None)


def set_printoptions(
    precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None
):
    """How tensors print (``torch.set_printoptions``): ``precision`` digits after the point,
    summarised above ``threshold`` elements keeping ``edgeitems`` at each end, ``linewidth``
    characters a line; ``profile`` "default", "short" or "full" first resets all four;
    ``sci_mode`` True or False forces scientific notation on or off (None: chosen per tensor)."""
    if profile is not None:
        if profile not in PROFILES:
            raise ValueError(f"set_printoptions: profile must be one of {sorted(PROFILES)}")
        options.update(PROFILES[profile])
    given = {"precision": precision, "threshold": threshold, "edgeitems": edgeitems}
    given["linewidth"] = linewidth
    options.update({k: v for k, v in given.items() if v is not None})
    options["sci_mode"] = sci_mode


class _Formatter:
    """Formats every element of one tensor to the same width."""

    def __init__(self, values):
        self.floating = values.dtype.kind == "f"
        self.int_mode, self.sci_mode, self.width = True, False, 1
        precision = options["precision"]
        flat = values.reshape(-1)
        if not self.floating:
            for value in flat.tolist():
                self.width = max(self.width, len(str(value)))
            return
        finite = flat[numpy.isfinite(flat) & (flat != 0)].astype(numpy.float64)
        if finite.size:
            magnitudes = numpy.abs(finite)
            largest, smallest = magnitudes.max(), magnitudes.min()
            self.int_mode = bool(numpy.all(finite == numpy.ceil(finite)))
            self.sci_mode = largest / smallest > 1000.0 or largest > 1.0e8
            if not self.int_mode:
                self.sci_mode = self.sci_mode or smallest < 1.0e-4
            if options["sci_mode"] is not None:
                self.sci_mode = options["sci_mode"]
            if self.sci_mode:
                texts, extra = [f"{v:.{precision}e}" for v in finite.tolist()], 0
            elif self.int_mode:  # whole numbers print as "3.": one more character
                texts, extra = [f"{v:.0f}" for v in finite.tolist()], 1
            else:
                texts, extra = [f"{v:.{precision}f}" for v in finite.tolist()], 0
            self.width = max(self.width, max(len(t) for t in texts) + extra)

    def format(self, value):
        precision = options["precision"]
        if not self.floating:
            text = str(value)
        elif self.sci_mode:
            text = f"{value:{self.width}.{precision}e}"
        elif self.int_mode:
            text = f"{value:.0f}" + ("" if math.isinf(value) or math.isnan(value) else ".")
        else:
            text = f"{value:.{precision}f}"
        return " " * (self.width - len(text)) + text


def _summarised(values, edgeitems):
    """The elements a summarised print shows: edgeitems at each end of every dimension."""
    if values.ndim == 0:
        return values
    if not edgeitems:
        return values[:0]
    if values.shape[0] > 2 * edgeitems:
        values = numpy.concatenate([values[:edgeitems], values[-edgeitems:]])
    if values.ndim == 1:
        return values
    return numpy.stack([_summarised(row, edgeitems) for row in values])


def _vector(values, indent, summarize, formatter):
    edgeitems = options["edgeitems"]
    per_line = max(1, (options["linewidth"] - indent) // (formatter.width + 2))
    if summarize and not edgeitems:
        items = ["..."]
    elif summarize and values.shape[0] > 2 * edgeitems:
        items = [formatter.format(v) for v in values[:edgeitems].tolist()] + [" ..."]
        items += [formatter.format(v) for v in values[-edgeitems:].tolist()]
    else:
        items = [formatter.format(v) for v in values.tolist()]
    lines = [", ".join(items[i : i + per_line]) for i in range(0, len(items), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values, indent, summarize, formatter):
    if values.ndim == 0:
        return formatter.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, formatter)
    edgeitems, count = options["edgeitems"], values.shape[0]
    if summarize and not edgeitems:
        rows = ["..."]
    elif summarize and count > 2 * edgeitems:
        rows = [_nested(values[i], indent + 1, summarize, formatter) for i in range(edgeitems)]
        rows.append("...")
        rows += [
            _nested(values[i], indent + 1, summarize, formatter)
            for i in range(count - edgeitems, count)
        ]
    else:
        rows = [_nested(row, indent + 1, summarize, formatter) for row in values]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(rows) + "]"


def body(values, indent):
    """The bracketed elements of an array, as ``torch`` prints them after ``tensor(``, and
    whether it hides them all (edgeitems 0), when the size must be printed too."""
    if values.dtype == numpy.float16:
        values = values.astype(numpy.float32)
    summarize = values.size > options["threshold"]
    shown = _summarised(values, options["edgeitems"]) if summarize else values
    text = _nested(values, indent, summarize, _Formatter(shown))
    return text, summarize and not options["edgeitems"]


def with_suffixes(text, suffixes, indent):
    """``text`` then ``, suffix`` for each, starting a new line where one would pass the width."""
    parts = [text]
    line_length = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if line_length + len(suffix) + 2 > options["linewidth"]:
            parts.append(",\n" + " " * indent + suffix)
            line_length = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            line_length += len(suffix) + 2
    return "".join(parts) + ")"
