"""LSTM kernels (PyTorch layout, gate order i, f, g, o).

See :mod:`seqnet.kernels.cpu.recurrent_common` for the shared conventions
(lengths / padding, reverse direction, truncated BPTT) and
:mod:`seqnet.kernels.cpu.recurrent_chunks` for the batch chunks and the
processing-order, feature-major caches these kernels keep.
"""

import numpy as np
from numba import njit, prange

from seqnet.kernels.cpu.recurrent_chunks import (
    chunk_bounds,
    chunk_max_length,
    column_bias,
    gather_steps,
    scatter_steps,
    steps_to_columns,
    sum_parts,
    zero_finished_columns,
)
from seqnet.kernels.cpu.recurrent_common import ONE, ftz, gate_tanh, sigmoid_add, tanh_add

GATES = 4


@njit(cache=True, error_model="numpy")
def _cell_update(i, f, g, o, c_prev, c, h):
    """``c = f * c_prev + i * g``, ``h = o * tanh(c)`` over a flat block."""
    for k in range(c.shape[0]):
        c[k] = f[k] * c_prev[k] + i[k] * g[k]
    for k in range(c.shape[0]):
        h[k] = o[k] * gate_tanh(c[k])


@njit(cache=True, error_model="numpy")
def _forward_chunk(x, lengths, wcat, bias, reverse, lo, hi, xh, cb, gb, h_out):
    """Forward pass of rows ``lo:hi``.

    ``xh`` (T + 1, F + H, nb): inputs and the state each step reads (slot 0
    holds h0); ``cb`` (T + 1, H, nb): cell states (slot 0 = c0); ``gb``
    (T, 4H, nb): gate activations.
    """
    nb = hi - lo
    F = x.shape[2]
    H = cb.shape[1]
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    gather_steps(x, lengths, lo, hi, reverse, xh)
    bb = column_bias(bias, nb).reshape(GATES, n)
    for s in range(smax):
        np.dot(wcat, xh[s], gb[s])
        z = gb[s].reshape(GATES, n)
        sigmoid_add(z[0], bb[0])
        sigmoid_add(z[1], bb[1])
        tanh_add(z[2], bb[2])
        sigmoid_add(z[3], bb[3])
        h_next = xh[s + 1, F:]
        _cell_update(z[0], z[1], z[2], z[3], cb[s].reshape(n), cb[s + 1].reshape(n),
                     h_next.reshape(n))
        zero_finished_columns(h_next, lengths, lo, s)
        zero_finished_columns(cb[s + 1], lengths, lo, s)
    scatter_steps(xh[1:smax + 1, F:], lengths, lo, hi, reverse, h_out)


def lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    """One direction of an LSTM layer over a padded batch.

    For each valid step (processing order, state starts at ``h0, c0``)::

        Z   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (4H: i, f, g, o)
        i = sigma(Z_i)  f = sigma(Z_f)  g = tanh(Z_g)  o = sigma(Z_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    Row chunks run in parallel; each step of a chunk is one product
    ``[W_ih | W_hh] @ [x_t; h_{t-1}]``.

    Returns
    -------
    h : (B, T, H) hidden outputs, 0 at padding.
    xh, c, gates : flat caches for :func:`lstm_backward` (chunk segments of
        the (T + 1, F + H, nb), (T + 1, H, nb) and (T, 4H, nb) blocks).
    """
    return _lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse,
                         chunk_bounds(x.shape[0]))


@njit(cache=True, parallel=True, error_model="numpy")
def _lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, bounds):
    B, T, F = x.shape
    H = w_hh.shape[1]
    K = F + H
    wcat = np.empty((GATES * H, K), dtype=x.dtype)
    wcat[:, :F] = w_ih
    wcat[:, F:] = w_hh
    bias = b_ih + b_hh
    h = np.zeros((B, T, H), dtype=x.dtype)
    xhbuf = np.zeros(B * (T + 1) * K, dtype=x.dtype)
    cbuf = np.zeros(B * (T + 1) * H, dtype=x.dtype)
    gbuf = np.empty(B * T * GATES * H, dtype=x.dtype)
    for i in prange(bounds.shape[0] - 1):
        lo, hi = bounds[i], bounds[i + 1]
        nb = hi - lo
        xh = xhbuf[lo * (T + 1) * K:hi * (T + 1) * K].reshape(T + 1, K, nb)
        cb = cbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape(T + 1, H, nb)
        gb = gbuf[lo * T * GATES * H:hi * T * GATES * H].reshape(T, GATES * H, nb)
        xh[0, F:] = h0[lo:hi].T
        cb[0] = c0[lo:hi].T
        _forward_chunk(x, lengths, wcat, bias, reverse, lo, hi, xh, cb, gb, h)
    return h, xhbuf, cbuf, gbuf


@njit(cache=True, error_model="numpy")
def _gate_grads(dh, dh_n, dc_n, i, f, g, o, c_prev, c, dzi, dzf, dzg, dzo):
    """One step's gate gradients over a flat block; updates ``dc_n`` in place."""
    for k in range(c.shape[0]):
        dH = dh[k] + dh_n[k]
        tc = gate_tanh(c[k])
        dzo[k] = ftz(dH * tc * o[k] * (ONE - o[k]))
        dc_n[k] = dc_n[k] + dH * o[k] * (ONE - tc * tc)
    for k in range(c.shape[0]):
        dC = dc_n[k]
        dzi[k] = ftz(dC * g[k] * i[k] * (ONE - i[k]))
        dzf[k] = ftz(dC * c_prev[k] * f[k] * (ONE - f[k]))
        dzg[k] = ftz(dC * i[k] * (ONE - g[k] * g[k]))
        dc_n[k] = ftz(dC * f[k])


@njit(cache=True, error_model="numpy")
def _backward_chunk(dh, x, lengths, wcat, xh, cb, gb, reverse, bptt, need_dx, lo, hi,
                    dwcat, db, dx):
    """BPTT of rows ``lo:hi``: writes this chunk's ``dwcat`` (4H, F + H) and
    ``db`` (4H,) and its rows of ``dx``."""
    nb = hi - lo
    F = x.shape[2]
    H = cb.shape[1]
    K = F + H
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    if smax == 0:
        return
    dhs = np.zeros((smax, H, nb), dtype=x.dtype)
    gather_steps(dh, lengths, lo, hi, reverse, dhs)
    dz = np.empty((smax, GATES * H, nb), dtype=x.dtype)
    dxh = np.empty((smax, K, nb), dtype=x.dtype)
    dh_n = np.zeros(n, dtype=x.dtype)
    dc_n = np.zeros(n, dtype=x.dtype)
    for s in range(smax - 1, -1, -1):
        a = gb[s].reshape(GATES, n)
        d = dz[s].reshape(GATES, n)
        _gate_grads(dhs[s].reshape(n), dh_n, dc_n, a[0], a[1], a[2], a[3],
                    cb[s].reshape(n), cb[s + 1].reshape(n), d[0], d[1], d[2], d[3])
        if need_dx or s > 0:  # dx_t and the carried dh in one product
            np.dot(wcat.T, dz[s], dxh[s])
            dh_n[:] = dxh[s, F:].reshape(n)
        if bptt > 0 and s % bptt == 0:
            dh_n[:] = 0.0
            dc_n[:] = 0.0
    dz2 = steps_to_columns(dz, smax)
    np.dot(dz2, steps_to_columns(xh, smax).T, dwcat)
    np.dot(dz2, np.ones(smax * nb, dtype=x.dtype), db)
    if need_dx:
        scatter_steps(dxh[:, :F], lengths, lo, hi, reverse, dx)


def lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, xhbuf, cbuf, gbuf, reverse, bptt,
                  need_dx):
    """BPTT for one LSTM direction; ``dh`` (B, T, H) is dL/dh_t from above.

    Backwards over processing steps, with ``dh_n``, ``dc_n`` the gradients
    carried from the next step (zero at the first processed step of the
    backward sweep, and reset to zero at truncation borders)::

        dH  = dh_t + dh_n
        dC  = dc_n + dH * o * (1 - tanh(c_t)^2)
        dZ_o = dH * tanh(c_t) * o (1 - o)     dZ_i = dC * g * i (1 - i)
        dZ_f = dC * c_{t-1} * f (1 - f)       dZ_g = dC * i * (1 - g^2)
        dc_n <- dC * f                        [dx_t; dh_n] <- [W_ih | W_hh]^T dZ

    then per chunk ``[dW_ih | dW_hh] = dZ [x; Hprev]^T`` and ``db = sum dZ``
    (one product each); the chunks' weight gradients are summed in chunk
    order.  ``h0``/``c0`` are unused (the caches hold them); they keep the
    CUDA kernel's signature.  Gate gradients below 1e-30 are flushed to zero.

    Returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` is (0, 0, 0) when
    ``need_dx`` is False.
    """
    return _lstm_backward(dh, x, lengths, w_ih, w_hh, xhbuf, cbuf, gbuf, reverse, bptt,
                          need_dx, chunk_bounds(x.shape[0]))


@njit(cache=True, parallel=True, error_model="numpy")
def _lstm_backward(dh, x, lengths, w_ih, w_hh, xhbuf, cbuf, gbuf, reverse, bptt, need_dx,
                   bounds):
    B, T, F = x.shape
    H = w_hh.shape[1]
    K = F + H
    GH = GATES * H
    wcat = np.empty((GH, K), dtype=x.dtype)
    wcat[:, :F] = w_ih
    wcat[:, F:] = w_hh
    nc = bounds.shape[0] - 1
    dwcat = np.zeros((nc, GH, K), dtype=x.dtype)
    db = np.zeros((nc, GH), dtype=x.dtype)
    dx = np.zeros((B, T, F) if need_dx else (0, 0, 0), dtype=x.dtype)
    for i in prange(nc):
        lo, hi = bounds[i], bounds[i + 1]
        nb = hi - lo
        xh = xhbuf[lo * (T + 1) * K:hi * (T + 1) * K].reshape(T + 1, K, nb)
        cb = cbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape(T + 1, H, nb)
        gb = gbuf[lo * T * GH:hi * T * GH].reshape(T, GH, nb)
        _backward_chunk(dh, x, lengths, wcat, xh, cb, gb, reverse, bptt, need_dx, lo, hi,
                        dwcat[i], db[i], dx)
    dw = sum_parts(dwcat)
    dbs = sum_parts(db)
    return dx, dw[:, :F].copy(), dw[:, F:].copy(), dbs, dbs.copy()
