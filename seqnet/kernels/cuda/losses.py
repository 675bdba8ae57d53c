"""Output losses fused with their nonlinearity (CUDA twins of
``seqnet.kernels.cpu.losses``).

One thread per row writes ``d_out`` and the row's weighted loss; the total
sample weight and the loss are deterministic block reductions (reduce.py), and
ONE float comes back to the host per call.  Rows compute in the array dtype
(float32 stays float32: constants and the total weight are cast once); the
row losses are summed in float64 by the reduction.
"""

import math

from numba import cuda

from .arrays import grid
from .reduce import device_sum, host_sum


@cuda.jit(device=True, inline=True)
def _weight_total(total, one):
    """The batch's total sample weight (``total[0]``), or ``one`` where it is
    not positive (a batch of zero weights)."""
    tw = total[0]
    return one if tw <= one - one else tw


@cuda.jit
def _softmax_ce_rows(z, y, sw, total, d_out, row_loss):
    n, k = z.shape
    dt = d_out.dtype.type
    zero = dt(0.0)
    tw = _weight_total(total, dt(1.0))
    for i in range(cuda.grid(1), n, cuda.gridsize(1)):
        zmax = z[i, 0]
        for j in range(1, k):
            if z[i, j] > zmax:
                zmax = z[i, j]
        s = zero
        for j in range(k):
            s += math.exp(z[i, j] - zmax)
        log_s = math.log(s) + zmax
        scale = sw[i] / tw
        loss = zero
        for j in range(k):
            p = math.exp(z[i, j] - log_s)
            if y[i, j] != zero:
                loss -= scale * y[i, j] * (z[i, j] - log_s)
            d_out[i, j] = scale * (p - y[i, j])
        row_loss[i] = loss


@cuda.jit(device=True, inline=True)
def _sigmoid_ce_term(v, t, scale, one):
    """Weighted loss term and gradient of one output: softplus(v) - t v,
    written to never overflow (``one``: 1 in the array dtype)."""
    if v > one - one:
        sp = v + math.log1p(math.exp(-v))
        s = one / (one + math.exp(-v))
    else:
        e = math.exp(v)
        sp = math.log1p(e)
        s = e / (one + e)
    return scale * (sp - t * v), scale * (s - t)


@cuda.jit(device=True, inline=True)
def _squared_term(v, t, scale, one):
    """Weighted loss term and gradient of one output: (v - t)^2 / 2."""
    half = one / (one + one)
    r = v - t
    return half * scale * r * r, scale * r


def _elementwise_rows(term, per_output):
    """The row kernel of an elementwise loss: ``row_loss[i] = sum_j term(z_ij,
    y_ij, sw_i / norm)``, the gradients into ``d_out``; ``norm`` is the total
    weight, times the number of outputs when ``per_output`` (a mean over them)."""

    @cuda.jit
    def rows(z, y, sw, total, d_out, row_loss):
        n, k = z.shape
        dt = d_out.dtype.type
        one = dt(1.0)
        tw = _weight_total(total, one)
        norm = tw * dt(k) if per_output else tw
        for i in range(cuda.grid(1), n, cuda.gridsize(1)):
            scale = sw[i] / norm
            loss = dt(0.0)
            for j in range(k):
                value, grad = term(z[i, j], y[i, j], scale, one)
                loss += value
                d_out[i, j] = grad
            row_loss[i] = loss

    return rows


_sigmoid_ce_rows = _elementwise_rows(_sigmoid_ce_term, False)
_squared_rows = _elementwise_rows(_squared_term, True)


def _loss(rows_kernel, z, y, sw, d_out):
    n = z.shape[0]
    if n == 0:
        return 0.0
    total = device_sum(sw, dtype=z.dtype)  # the kernels read it in the array dtype
    row_loss = cuda.device_array(n, dtype=z.dtype)  # summed in float64 by host_sum
    rows_kernel[grid(n)](z, y, sw, total, d_out, row_loss)
    return host_sum(row_loss)


def softmax_cross_entropy(z, y, sw, d_out):
    """Weighted mean softmax cross-entropy; writes d(loss)/dz into ``d_out``."""
    return _loss(_softmax_ce_rows, z, y, sw, d_out)


def sigmoid_cross_entropy(z, y, sw, d_out):
    return _loss(_sigmoid_ce_rows, z, y, sw, d_out)


def squared_error(z, y, sw, d_out):
    return _loss(_squared_rows, z, y, sw, d_out)
