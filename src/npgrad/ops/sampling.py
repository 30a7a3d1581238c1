"""Sampling an image at arbitrary points: ``GridSample`` (spatial transformers, warping).

Grid points are in [-1, 1] (x along the width, y along the height), as PyTorch's grid_sample.
Bilinear sampling mixes the four pixels around each point; its gradient reaches the image (the
same weights, scattered back) and the grid (the slopes between the neighbours).
"""

from npgrad.autograd import Function
from npgrad.backend import xp


def _unnormalize(coordinate, size, align_corners):
    """[-1, 1] -> pixel units; also returns d pixel / d coordinate."""
    if align_corners:  # -1 and 1 are the centres of the corner pixels
        return (coordinate + 1) / 2 * (size - 1), (size - 1) / 2
    return ((coordinate + 1) * size - 1) / 2, size / 2  # ... the outer edges of the corners


class GridSample(Function):
    """out[n, c, i, j] = input[n, c] sampled at grid[n, i, j] = (x, y)"""

    @staticmethod
    def forward(ctx, image, grid, mode="bilinear", padding_mode="zeros", align_corners=False):
        n, _, height, width = image.shape
        x, dx = _unnormalize(grid[..., 0], width, align_corners)
        y, dy = _unnormalize(grid[..., 1], height, align_corners)
        ctx.inside_x = ctx.inside_y = True
        if padding_mode == "border":  # points outside take the edge pixels' values
            ctx.inside_x = (x >= 0) & (x <= width - 1)
            ctx.inside_y = (y >= 0) & (y <= height - 1)
            x, y = xp.clip(x, 0, width - 1), xp.clip(y, 0, height - 1)
        ctx.shape, ctx.mode, ctx.scales = image.shape, mode, (dx, dy)
        batch = xp.arange(n)[:, None, None]
        if mode == "nearest":
            column, row = xp.rint(x).astype(xp.int64), xp.rint(y).astype(xp.int64)
            valid = (column >= 0) & (column < width) & (row >= 0) & (row < height)
            ctx.corners = [(row, column, valid, 1.0)]
        else:
            left, top = xp.floor(x).astype(xp.int64), xp.floor(y).astype(xp.int64)
            fx, fy = x - left, y - top  # how far past the top-left pixel
            ctx.corners = []
            for row, weight_y in ((top, 1 - fy), (top + 1, fy)):
                for column, weight_x in ((left, 1 - fx), (left + 1, fx)):
                    valid = (column >= 0) & (column < width) & (row >= 0) & (row < height)
                    ctx.corners.append((row, column, valid, weight_y * weight_x))
            ctx.fractions = (fx, fy)
        out = 0
        values = []
        for row, column, valid, weight in ctx.corners:
            picked = image[batch, :, xp.clip(row, 0, height - 1), xp.clip(column, 0, width - 1)]
            picked = xp.moveaxis(picked, -1, 1) * valid[:, None]  # (N, C, H_out, W_out)
            values.append(picked)
            out = out + picked * (weight[:, None] if xp.ndim(weight) else weight)
        ctx.values = values
        return xp.asarray(out, dtype=image.dtype)

    @staticmethod
    def backward(ctx, grad):
        n, channels, height, width = ctx.shape
        grad_image = grad_grid = None
        batch = xp.arange(n)[:, None, None]
        if ctx.needs_input_grad[0]:  # each output pixel sends grad * weight to its neighbours
            grad_image = xp.zeros(ctx.shape, dtype=grad.dtype)
            moved = xp.moveaxis(grad_image, 1, -1)  # (N, H, W, C) view
            for row, column, valid, weight in ctx.corners:
                share = xp.moveaxis(grad, 1, -1) * (
                    (weight * valid)[..., None] if xp.ndim(weight) else valid[..., None]
                )
                xp.add.at(
                    moved,
                    (batch, xp.clip(row, 0, height - 1), xp.clip(column, 0, width - 1)),
                    share,
                )
        if ctx.needs_input_grad[1] and ctx.mode != "nearest":
            # d out / d x = (1 - fy)(v01 - v00) + fy (v11 - v10), and likewise for y
            v00, v01, v10, v11 = ctx.values
            fx, fy = ctx.fractions
            slope_x = (1 - fy)[:, None] * (v01 - v00) + fy[:, None] * (v11 - v10)
            slope_y = (1 - fx)[:, None] * (v10 - v00) + fx[:, None] * (v11 - v01)
            dx, dy = ctx.scales
            grad_x = (grad * slope_x).sum(axis=1) * dx * ctx.inside_x
            grad_y = (grad * slope_y).sum(axis=1) * dy * ctx.inside_y
            grad_grid = xp.stack([grad_x, grad_y], axis=-1).astype(grad.dtype)
        elif ctx.needs_input_grad[1]:  # nearest: piecewise constant in the grid
            grad_grid = xp.zeros(grad.shape[:1] + grad.shape[2:] + (2,), dtype=grad.dtype)
        return grad_image, grad_grid
