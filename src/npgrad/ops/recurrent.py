"""Recurrent layers as one fused op per layer and direction, over the whole sequence.

Each step costs one GEMM (GRU and RNN: with the recurrent weights, after one GEMM projecting
every step's input; LSTM: with the input, the recurrent weights and the bias at once) plus a
handful of element-wise NumPy calls, and backward (backpropagation through time) runs the same
loop in reverse with hand-written gate derivatives. A graph node per time step would cost far
more than the arithmetic. Gradients of gradients (``create_graph=True``, rare) go through the
step-by-step Tensor form instead (``_lstm_composite`` and its siblings).
"""

from npgrad import buffers
from npgrad.autograd import Function, recomputed_backward
from npgrad.backend import xp
from npgrad.errors import ShapeError
from npgrad.ops.shape import Cat, Stack


def _sigmoid(z, out=None):
    """1 / (1 + e^-z) through tanh: no overflow for large |z|."""
    out = xp.tanh(z * 0.5, out=out)
    out *= 0.5
    out += 0.5
    return out


def _check_shapes(op, x, states, w_ih, w_hh, widths=None):
    """A clear error when the input, the states and the weights do not fit together (each
    state (N, width); the width is w_hh's column count unless ``widths`` says otherwise)."""
    batch = x.shape[1]
    widths = widths or [w_hh.shape[1]] * len(states)
    expected = [(batch, width) for width in widths]
    if x.shape[2] != w_ih.shape[1] or [state.shape for state in states] != expected:
        shapes = ", ".join(str(state.shape) for state in states)
        wanted = ", ".join(f"(N, {width})" for width in widths)
        raise ShapeError(
            f"{op}: input {x.shape} and states {shapes} do not fit weights {w_ih.shape} / "
            f"{w_hh.shape} (expected input (T, N, {w_ih.shape[1]}) and states {wanted})"
        )


def _project_inputs(op, x, states, w_ih, w_hh, reverse):
    """Check shapes, reverse time if asked, and project every step's input with one GEMM.

    Returns the (possibly reversed) input and x_t W_ih^T for all steps, shape (T, N, gates * H).
    """
    _check_shapes(op, x, states, w_ih, w_hh)
    steps, batch, _ = x.shape
    if reverse:
        x = x[::-1]
    projected = buffers.matmul(x.reshape(steps * batch, -1), w_ih.T)
    return x, projected.reshape(steps, batch, w_ih.shape[0])


def _steps_in_order(x, reverse):
    """The time steps of x (T, N, I) as Tensors, in the order the layer runs them."""
    steps = x.unbind(0)
    return steps[::-1] if reverse else steps


def _in_place_order(states, reverse):
    """Per-step states (in running order) stacked as (T, N, H) in the sequence's order."""
    return Stack.apply(*(states[::-1] if reverse else states), axis=0)


def _affine(x, weight, bias):
    """x W^T (+ b), in Tensor ops: the composites' gate pre-activations."""
    out = x @ weight.T
    return out if bias is None else out + bias


def _lstm_composite(ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """``LSTM`` from differentiable Tensor ops, step by step: its gradients of gradients."""
    h, c, hs, cells = h0, c0, [], []
    for x_t in _steps_in_order(x, ctx.reverse):
        gates = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        i, f, g, o = gates.chunk(4, dim=1)
        c = f.sigmoid() * c + i.sigmoid() * g.tanh()
        h = o.sigmoid() * c.tanh()
        if w_hr is not None:
            h = h @ w_hr.T
        hs.append(h)
        cells.append(c)
    last = _in_place_order(cells, ctx.reverse) if ctx.all_cells else c[None]
    sequence = _in_place_order(hs, ctx.reverse)
    if w_hr is None:
        return Cat.apply(sequence, last, axis=0)
    return Cat.apply(sequence.reshape(-1), last.reshape(-1), axis=0)


def _gru_composite(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """``GRU`` from differentiable Tensor ops, step by step: its gradients of gradients."""
    h, hs = h0, []
    for x_t in _steps_in_order(x, ctx.reverse):
        from_x_r, from_x_z, from_x_n = _affine(x_t, w_ih, b_ih).chunk(3, dim=1)
        from_h_r, from_h_z, from_h_n = _affine(h, w_hh, b_hh).chunk(3, dim=1)
        r, z = (from_x_r + from_h_r).sigmoid(), (from_x_z + from_h_z).sigmoid()
        n = (from_x_n + r * from_h_n).tanh()
        h = n + z * (h - n)
        hs.append(h)
    return _in_place_order(hs, ctx.reverse)


def _rnn_composite(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None):
    """``RNN`` from differentiable Tensor ops, step by step: its gradients of gradients."""
    h, hs = h0, []
    for x_t in _steps_in_order(x, ctx.reverse):
        pre = _affine(x_t, w_ih, b_ih) + _affine(h, w_hh, b_hh)
        h = pre.tanh() if ctx.tanh else pre.relu()
        hs.append(h)
    return _in_place_order(hs, ctx.reverse)


def _lstm_internal(rows, hidden, out=None):
    """PyTorch's gate blocks [i, f, g, o] -> npgrad's working order [o, i, f, g] (into ``out``).

    With the three sigmoid gates first they form one contiguous block (one tanh call activates
    all four gates, see ``LSTM``), and the [i, f, g] block is the part of the gradient that is a
    multiple of dc. The reordering is a rotation by one block: two slice copies.
    """
    if out is None:
        out = buffers.empty(rows.shape, rows.dtype)
    out[:hidden], out[hidden:] = rows[3 * hidden :], rows[: 3 * hidden]
    return out


def _lstm_external(rows, hidden):
    """The inverse of ``_lstm_internal``: [o, i, f, g] -> [i, f, g, o]."""
    out = buffers.empty(rows.shape, rows.dtype)
    out[: 3 * hidden], out[3 * hidden :] = rows[hidden:], rows[:hidden]
    return out


def lstm_parts(result, steps, batch, out_size, hidden, projected):
    """The LSTM op's output split into (h_1..h_T (T, N, out_size), cell states (k, N, H)).
    Without a projection both are rows of one (T + k, N, H) array; with one (h narrower than
    c) they are laid end to end, flat."""
    if not projected:
        return result[:steps], result[steps:]
    size = steps * batch * out_size
    return result[:size].reshape(steps, batch, out_size), result[size:].reshape(-1, batch, hidden)


class LSTM(Function):
    """One LSTM layer over a sequence x (T, N, I) from state (h0, c0), in one direction.

    Per step, with gates z = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh split as [i, f, g, o]:
    c_t = sigmoid(f) c_{t-1} + sigmoid(i) tanh(g) and h_t = sigmoid(o) tanh(c_t), projected to
    h_t = W_hr (sigmoid(o) tanh(c_t)) when ``w_hr`` (P, H) is given (PyTorch's ``proj_size``).
    The output stacks h_1..h_T and then c_T: shape (T + 1, N, H), so that the final cell state
    is differentiable too (an op has one output); with a projection the two parts are laid end
    to end, flat (``lstm_parts`` splits either). ``reverse=True`` runs from t = T down to 1.
    With ``all_cells`` every c_t follows instead of c_T alone: sequences of different lengths
    (packed) take their final cell state at their own last step.

    Inside the loop everything is transposed, (features, N), and a step's operands are stacked:
    ``stacked[t]`` (of T + 1) holds [h_{t-1}; x_t; 1], (P + I + 1, N), so that a step's gates
    z^T = [W_hh | W_ih | b] [h_{t-1}; x_t; 1] are one GEMM straight into a (4H, N) array whose
    gate blocks are contiguous (H, N) arrays (NumPy's element-wise calls on contiguous arrays
    cost a third of those on column slices), h_t is written where the next step reads it, and
    backward's weight gradient is one GEMM a step for all three. The gates are kept in the order
    [o, i, f, g] (``_lstm_internal``), and since sigmoid(z) = (1 + tanh(z / 2)) / 2, the sigmoid
    gates' weight rows are halved: one tanh call activates a step's four gates.
    """

    @staticmethod
    def forward(
        ctx, x, h0, c0, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None, reverse=False, all_cells=False
    ):
        hidden = w_hh.shape[0] // 4
        out_size = hidden if w_hr is None else w_hr.shape[0]  # h's size: H, or P projected
        if w_hh.shape[1] != out_size or (w_hr is not None and w_hr.shape[1] != hidden):
            raise ShapeError(
                f"lstm: weight_hh {w_hh.shape} and weight_hr "
                f"{None if w_hr is None else w_hr.shape} do not fit hidden size {hidden}"
            )
        _check_shapes("lstm", x, (h0, c0), w_ih, w_hh, widths=[out_size, hidden])
        steps, batch, inputs = x.shape
        dtype = xp.result_type(x, w_ih, w_hh)
        biases = [bias for bias in (b_ih, b_hh) if bias is not None]
        width = out_size + inputs + (1 if biases else 0)
        weights = buffers.empty((4 * hidden, width), dtype)  # [W_hh | W_ih | b], [o, i, f, g]
        _lstm_internal(w_hh, hidden, out=weights[:, :out_size])
        _lstm_internal(w_ih, hidden, out=weights[:, out_size : out_size + inputs])
        if biases:
            _lstm_internal(sum(biases)[:, None], hidden, out=weights[:, -1:])
        weights[: 3 * hidden] *= 0.5
        # large arrays come from npgrad's pool (npgrad.buffers): the next step reuses them
        # instead of faulting them in
        stacked = buffers.empty((steps + 1, width, batch), dtype)
        stacked[0, :out_size] = h0.T
        stacked[:steps, out_size : out_size + inputs] = (x[::-1] if reverse else x).transpose(
            0, 2, 1
        )
        if biases:
            stacked[:, -1] = 1
        acts = buffers.empty((steps, 4 * hidden, batch), dtype)
        cs = buffers.empty((steps, hidden, batch), dtype)
        # with a projection, each step's unprojected sigmoid(o) tanh(c_t), for backward
        ms = None if w_hr is None else buffers.empty((steps, hidden, batch), dtype)
        c = xp.ascontiguousarray(c0.T)
        for t in range(steps):
            z = xp.matmul(weights, stacked[t], out=acts[t])  # sigmoid gates halved
            xp.tanh(z, out=z)
            sigmoids = z[: 3 * hidden]
            sigmoids *= 0.5
            sigmoids += 0.5  # sigmoid(z) = (1 + tanh(z / 2)) / 2
            o, i, f, g = z.reshape(4, hidden, batch)
            c = xp.multiply(f, c, out=cs[t])
            c += i * g
            if ms is None:
                xp.multiply(o, xp.tanh(c), out=stacked[t + 1, :hidden])
            else:
                m = xp.multiply(o, xp.tanh(c), out=ms[t])
                xp.matmul(w_hr, m, out=stacked[t + 1, :out_size])  # h_t = W_hr m_t
        # h_1..h_T, then c_T (or c_1..c_T), back in (N, features) layout
        cells = steps if all_cells else 1
        if w_hr is None:
            out = buffers.empty((steps + cells, batch, hidden), dtype)
        else:
            out = buffers.empty((batch * (steps * out_size + cells * hidden),), dtype)
        sequence, cell_part = lstm_parts(out, steps, batch, out_size, hidden, w_hr is not None)
        hs = stacked[1:, :out_size]
        sequence[...] = (hs[::-1] if reverse else hs).transpose(0, 2, 1)
        if all_cells:
            cell_part[...] = (cs[::-1] if reverse else cs).transpose(0, 2, 1)
        else:
            cell_part[0] = c.T
        ctx.save_for_backward(stacked, c0, w_ih, w_hh, acts, cs, w_hr, ms)
        ctx.has_bias = (b_ih is not None, b_hh is not None)
        ctx.reverse, ctx.all_cells = reverse, all_cells
        return out

    @staticmethod
    def backward(ctx, grad):
        stacked, c0, w_ih, w_hh, acts, cs, w_hr, ms = ctx.saved_tensors
        steps, hidden, batch = cs.shape
        out_size, inputs = w_hh.shape[1], w_ih.shape[1]
        reverse, dtype = ctx.reverse, acts.dtype
        needs_x = ctx.needs_input_grad[0]
        # the input gradients of a step, (P [+ I], N) = [W_hh | W_ih]^T dz: one GEMM for both
        rows = out_size + inputs if needs_x else out_size
        back = buffers.empty((rows, 4 * hidden), dtype)
        _lstm_internal(w_hh, hidden, out=back[:out_size].T)
        if needs_x:
            _lstm_internal(w_ih, hidden, out=back[out_size:].T)
            grad_in = buffers.empty((steps, rows, batch), dtype)  # [dh_{t-1}; dx_t] per step
        else:
            grad_in = xp.empty((1, out_size, batch), dtype=dtype)  # dh_{t-1}, reused
        # the outputs' gradients in step order and the loop's (features, N) layout
        grad_sequence, grad_cells = lstm_parts(
            grad, steps, batch, out_size, hidden, w_hr is not None
        )
        grad_h = buffers.empty((steps, out_size, batch), dtype)
        grad_h[...] = (grad_sequence[::-1] if reverse else grad_sequence).transpose(0, 2, 1)
        if ctx.all_cells:  # each step's cell state is an output: its gradient joins there
            grad_c = grad_cells[::-1] if reverse else grad_cells
            dc_next = xp.zeros((hidden, batch), dtype=dtype)
        else:
            dc_next = xp.ascontiguousarray(grad_cells[0].T)
        # the weight gradient accumulates step by step while dz is in cache (as fast as one big
        # GEMM at the end, measured, and no (T, 4H, N) array is built)
        grad_w = buffers.zeros((4 * hidden, stacked.shape[1]), dtype)  # [W_hh | W_ih | b]
        scratch = buffers.empty_like(grad_w)
        dz = xp.empty((4 * hidden, batch), dtype=dtype)  # d pre-activations, [o, i, f, g]
        do, di, df, dg = dz.reshape(4, hidden, batch)
        dc, tanh_c = (xp.empty((hidden, batch), dtype=dtype) for _ in range(2))
        dh = xp.empty((out_size, batch), dtype=dtype)
        dh_next = xp.zeros((out_size, batch), dtype=dtype)
        dm = dh  # the gradient of o * tanh(c): h's own, unless h = W_hr m is projected
        if w_hr is not None:  # then m's gradient is W_hr^T dh, W_hr's dh m^T
            dm = xp.empty((hidden, batch), dtype=dtype)
            grad_w_hr, scratch_hr = xp.zeros(w_hr.shape, dtype=dtype), xp.empty_like(w_hr)
        c0_t = xp.ascontiguousarray(c0.T)
        for t in range(steps - 1, -1, -1):
            a = acts[t]
            o, i, f, g = a.reshape(4, hidden, batch)
            xp.tanh(cs[t], out=tanh_c)
            xp.add(grad_h[t], dh_next, out=dh)
            if w_hr is not None:
                xp.matmul(w_hr.T, dh, out=dm)
                grad_w_hr += xp.matmul(dh, ms[t].T, out=scratch_hr)
            xp.multiply(tanh_c, tanh_c, out=dc)  # dm/dc = o (1 - tanh^2 c)
            xp.subtract(1, dc, out=dc)
            dc *= o
            dc *= dm
            dc += dc_next
            if ctx.all_cells:
                dc += grad_c[t].T
            xp.subtract(1, a[: 3 * hidden], out=dz[: 3 * hidden])  # sigmoid' = s (1 - s)
            dz[: 3 * hidden] *= a[: 3 * hidden]
            xp.multiply(g, g, out=dg)  # tanh' = 1 - g^2
            xp.subtract(1, dg, out=dg)
            do *= tanh_c  # dm/do = tanh c
            do *= dm
            di *= g  # dc/di = g
            df *= cs[t - 1] if t else c0_t  # dc/df = c_{t-1}
            dg *= i  # dc/dg = i
            dz[hidden:].reshape(3, hidden, batch)[...] *= dc  # i, f and g: times dc at once
            dc_next = dc * f  # dc_t/dc_{t-1} = f
            # dz/d[h_{t-1}; x_t] = [W_hh | W_ih]
            dh_next = xp.matmul(back, dz, out=grad_in[t if needs_x else 0])[:out_size]
            # dz/d[W_hh | W_ih | b] = [h_{t-1}; x_t; 1]
            grad_w += xp.matmul(dz, stacked[t].T, out=scratch)
        grad_x = None
        if needs_x:
            dx = grad_in[:, out_size:]
            grad_x = (dx[::-1] if reverse else dx).transpose(0, 2, 1)
        grad_w = _lstm_external(grad_w, hidden)
        grad_b = grad_w[:, -1] if any(ctx.has_bias) else None
        return (
            grad_x,
            dh_next.T,
            dc_next.T,
            grad_w[:, out_size : out_size + inputs],
            grad_w[:, :out_size],
            grad_b if ctx.has_bias[0] else None,
            grad_b if ctx.has_bias[1] else None,
            None if w_hr is None else grad_w_hr,
        )

    @staticmethod
    def backward_graph(ctx, grad, *inputs):
        return recomputed_backward(ctx, grad, lambda *inputs: _lstm_composite(ctx, *inputs))


class GRU(Function):
    """One GRU layer over a sequence x (T, N, I) from state h0, in one direction (PyTorch's form).

    Per step, with gates ordered [r, z, n] in the weights:
    r = sigmoid(x W_ir + b_ir + h W_hr + b_hr), z = sigmoid(x W_iz + b_iz + h W_hz + b_hz),
    n = tanh(x W_in + b_in + r * (h W_hn + b_hn)), h' = (1 - z) n + z h.
    Output: h_1..h_T, shape (T, N, H). ``reverse=True`` runs from t = T down to 1.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False):
        steps, batch, _ = x.shape
        hidden = w_hh.shape[1]
        x, from_x = _project_inputs("gru", x, (h0,), w_ih, w_hh, reverse)
        if b_ih is not None:
            from_x += b_ih
        hs = buffers.empty((steps, batch, hidden), x.dtype)
        acts = buffers.empty((steps, batch, 3 * hidden), x.dtype)  # r, z, n
        from_h_n = buffers.empty((steps, batch, hidden), x.dtype)  # h W_hn + b_hn, for backward
        h = h0
        for t in range(steps):
            from_h = h @ w_hh.T
            if b_hh is not None:
                from_h += b_hh
            a = acts[t]
            xp.add(from_x[t, :, : 2 * hidden], from_h[:, : 2 * hidden], out=a[:, : 2 * hidden])
            _sigmoid(a[:, : 2 * hidden], out=a[:, : 2 * hidden])
            r, z, n = xp.split(a, 3, axis=1)
            from_h_n[t] = from_h[:, 2 * hidden :]
            xp.tanh(from_x[t, :, 2 * hidden :] + r * from_h_n[t], out=n)
            h = xp.add(n, z * (h - n), out=hs[t])  # (1 - z) n + z h
        ctx.save_for_backward(x, h0, w_ih, w_hh, acts, from_h_n, hs)
        ctx.reverse, ctx.has_bias = reverse, (b_ih is not None, b_hh is not None)
        return hs[::-1] if reverse else hs

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, acts, from_h_n, hs = ctx.saved_tensors
        steps, batch, hidden = hs.shape
        grad_hs = grad[::-1] if ctx.reverse else grad
        d_from_x = buffers.empty(acts.shape, acts.dtype)  # gradient of x W_ih + b_ih, [r, z, n]
        d_from_h = buffers.empty(acts.shape, acts.dtype)  # gradient of h W_hh + b_hh
        dh_next = xp.zeros_like(h0)
        for t in range(steps - 1, -1, -1):
            r, z, n = xp.split(acts[t], 3, axis=1)
            h_prev = hs[t - 1] if t else h0
            dh = grad_hs[t] + dh_next
            dn = dh * (1 - z) * (1 - n * n)  # dh'/dn = 1 - z, tanh' = 1 - n^2
            dz = dh * (h_prev - n) * z * (1 - z)  # dh'/dz = h - n, sigmoid' = z (1 - z)
            dr = dn * from_h_n[t] * r * (1 - r)  # dn/dr = h W_hn + b_hn
            d_from_x[t, :, :hidden], d_from_x[t, :, hidden : 2 * hidden] = dr, dz
            d_from_x[t, :, 2 * hidden :] = dn
            d_from_h[t, :, : 2 * hidden] = d_from_x[t, :, : 2 * hidden]
            d_from_h[t, :, 2 * hidden :] = dn * r  # dn/d(h W_hn + b_hn) = r
            dh_next = dh * z + d_from_h[t] @ w_hh  # dh'/dh = z, plus through the gates
        flat_x = d_from_x.reshape(steps * batch, 3 * hidden)
        flat_h = d_from_h.reshape(steps * batch, 3 * hidden)
        h_prev_all = xp.concatenate([h0[None], hs[:-1]]).reshape(steps * batch, hidden)
        grad_x = (flat_x @ w_ih).reshape(x.shape)
        if ctx.reverse:
            grad_x = grad_x[::-1]
        return (
            grad_x,
            dh_next,
            flat_x.T @ x.reshape(steps * batch, -1),  # dW_ih
            flat_h.T @ h_prev_all,  # dW_hh
            flat_x.sum(axis=0) if ctx.has_bias[0] else None,
            flat_h.sum(axis=0) if ctx.has_bias[1] else None,
        )

    @staticmethod
    def backward_graph(ctx, grad, *inputs):
        return recomputed_backward(ctx, grad, lambda *inputs: _gru_composite(ctx, *inputs))


class RNN(Function):
    """One Elman RNN layer: h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh), act tanh or relu.

    Output: h_1..h_T, shape (T, N, H). ``reverse=True`` runs from t = T down to 1.
    """

    @staticmethod
    def forward(ctx, x, h0, w_ih, w_hh, b_ih=None, b_hh=None, reverse=False, nonlinearity="tanh"):
        x, hs = _project_inputs("rnn", x, (h0,), w_ih, w_hh, reverse)
        steps = x.shape[0]
        for bias in (b_ih, b_hh):
            if bias is not None:
                hs += bias
        h = h0
        for t in range(steps):
            hs[t] += h @ w_hh.T
            h = (
                xp.tanh(hs[t], out=hs[t])
                if nonlinearity == "tanh"
                else xp.maximum(hs[t], 0, out=hs[t])
            )
        ctx.save_for_backward(x, h0, w_ih, w_hh, hs)
        ctx.reverse, ctx.tanh = reverse, nonlinearity == "tanh"
        ctx.has_bias = (b_ih is not None, b_hh is not None)
        return hs[::-1] if reverse else hs

    @staticmethod
    def backward(ctx, grad):
        x, h0, w_ih, w_hh, hs = ctx.saved_tensors
        steps, batch, hidden = hs.shape
        grad_hs = grad[::-1] if ctx.reverse else grad
        d_pre = buffers.empty(hs.shape, hs.dtype)
        dh_next = xp.zeros_like(h0)
        for t in range(steps - 1, -1, -1):
            dh = grad_hs[t] + dh_next
            # tanh' = 1 - h^2; relu' = [h > 0]
            d_pre[t] = dh * (1 - hs[t] * hs[t]) if ctx.tanh else dh * (hs[t] > 0)
            dh_next = d_pre[t] @ w_hh  # d pre / d h_{t-1} = W_hh
        flat = d_pre.reshape(steps * batch, hidden)
        h_prev = xp.concatenate([h0[None], hs[:-1]]).reshape(steps * batch, hidden)
        grad_x = (flat @ w_ih).reshape(x.shape)
        if ctx.reverse:
            grad_x = grad_x[::-1]
        grad_b = flat.sum(axis=0)
        return (
            grad_x,
            dh_next,
            flat.T @ x.reshape(steps * batch, -1),
            flat.T @ h_prev,
            grad_b if ctx.has_bias[0] else None,
            grad_b if ctx.has_bias[1] else None,
        )

    @staticmethod
    def backward_graph(ctx, grad, *inputs):
        return recomputed_backward(ctx, grad, lambda *inputs: _rnn_composite(ctx, *inputs))
