"""Time loops of the recurrent kernels: RNN, LSTM and GRU, one direction per call.

Public kernels (re-exported by :mod:`seqnet.kernels.cpu.recurrent`)::

    rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind) -> (h, *cache)
    rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, *cache, reverse, bptt, need_dx, kind)
    lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse) -> (h, *cache)
    lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, *cache, reverse, bptt, need_dx)
    gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse) -> (h, *cache)
    gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, *cache, reverse, bptt, need_dx)

Backward kernels take back everything their forward kernel returned, and return ``(dx, dw_ih, dw_hh, db_ih, db_hh)`` (``dx`` has shape
(0, 0, 0) when ``need_dx`` is False).  ``cache`` is three flat buffers
(``xh``, ``c``, ``gates``: the chunk blocks of
:mod:`seqnet.kernels.cpu.recurrent_chunks`) that only the matching backward
kernel reads.  Conventions (lengths, reverse, truncated BPTT, flush to zero)
are those of :mod:`seqnet.kernels.cpu.recurrent_common`; the per-step math is
in :mod:`seqnet.kernels.cpu.recurrent_cells`.

Each row chunk runs its whole time loop in one ``prange`` iteration: per step
one product ``W_block @ [x_t; h_{t-1}]`` (forward) or
``W_block^T @ dZ_t`` (backward: dx_t and the carried dh together), flat
pointwise loops, and after the loop one product for the chunk's weight
gradients.  The chunks' weight gradients are summed in chunk order.
"""

import numpy as np
from numba import njit, prange

from seqnet.kernels.cpu.recurrent_cells import (
    BLOCK_ROWS,
    CELL_GRU,
    CELL_LSTM,
    CELL_RNN,
    block_weights,
    gru_grads,
    gru_step,
    lstm_grads,
    lstm_step,
    rnn_grads,
    rnn_step,
    split_block_grads,
)
from seqnet.kernels.cpu.recurrent_chunks import (
    chunk_bounds,
    chunk_max_length,
    column_bias,
    gather_steps,
    scatter_steps,
    steps_to_columns,
    zero_finished_columns,
)


@njit(cache=True, error_model="numpy")
def _chunk_views(xhbuf, cbuf, gbuf, lo, hi, T, K, H, R):
    """This chunk's (T+1, K, nb) inputs/states, (T+1, H, nb) cells and (T, R*H, nb) gates.

    ``cbuf``/``gbuf`` may be empty (cells without cell states / gate caches).
    """
    nb = hi - lo
    xh = xhbuf[lo * (T + 1) * K:hi * (T + 1) * K].reshape(T + 1, K, nb)
    cb = np.empty((0, H, nb), dtype=xhbuf.dtype)
    if cbuf.shape[0] > 0:
        cb = cbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape(T + 1, H, nb)
    gb = np.empty((0, R * H, nb), dtype=xhbuf.dtype)
    if gbuf.shape[0] > 0:
        gb = gbuf[lo * T * R * H:hi * T * R * H].reshape(T, R * H, nb)
    return xh, cb, gb


@njit(cache=True, error_model="numpy")
def _forward_chunk(cell, kind, x, lengths, wb, bias, reverse, lo, hi, xh, cb, gb, h_out):
    nb = hi - lo
    F = x.shape[2]
    H = xh.shape[1] - F
    R = wb.shape[0] // H
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    gather_steps(x, lengths, lo, hi, reverse, xh)
    bb = column_bias(bias, nb).reshape(R, n)
    scratch = np.empty((R * H, nb), dtype=x.dtype)
    for s in range(smax):
        z2 = gb[s] if gb.shape[0] > 0 else scratch
        np.dot(wb, xh[s], z2)
        z = z2.reshape(R, n)
        h_next = xh[s + 1, F:]
        if cell == CELL_LSTM:
            lstm_step(z, bb, cb[s].reshape(n), cb[s + 1].reshape(n), h_next.reshape(n))
            zero_finished_columns(cb[s + 1], lengths, lo, s)
        elif cell == CELL_GRU:
            gru_step(z, bb, xh[s, F:].reshape(n), h_next.reshape(n))
        else:
            rnn_step(z[0], bb[0], h_next.reshape(n), kind)
        zero_finished_columns(h_next, lengths, lo, s)
    scatter_steps(xh[1:smax + 1, F:], lengths, lo, hi, reverse, h_out)


@njit(cache=True, parallel=True, error_model="numpy")
def _forward(cell, kind, x, lengths, wb, bias, h0, c0, reverse, bounds):
    B, T, F = x.shape
    H = h0.shape[1]
    K = F + H
    R = wb.shape[0] // H
    h = np.zeros((B, T, H), dtype=x.dtype)
    xhbuf = np.zeros(B * (T + 1) * K, dtype=x.dtype)
    cbuf = np.zeros(B * (T + 1) * H if cell == CELL_LSTM else 0, dtype=x.dtype)
    gbuf = np.empty(B * T * R * H if cell != CELL_RNN else 0, dtype=x.dtype)
    for i in prange(bounds.shape[0] - 1):
        lo, hi = bounds[i], bounds[i + 1]
        xh, cb, gb = _chunk_views(xhbuf, cbuf, gbuf, lo, hi, T, K, H, R)
        xh[0, F:] = h0[lo:hi].T
        if cell == CELL_LSTM:
            cb[0] = c0[lo:hi].T
        _forward_chunk(cell, kind, x, lengths, wb, bias, reverse, lo, hi, xh, cb, gb, h)
    return h, xhbuf, cbuf, gbuf


@njit(cache=True, error_model="numpy")
def _backward_chunk(cell, kind, dh, x, lengths, wb, xh, cb, gb, reverse, bptt, need_dx,
                    lo, hi, dwb, db, dx):
    nb = hi - lo
    F = x.shape[2]
    H = xh.shape[1] - F
    K = F + H
    R = wb.shape[0] // H
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    if smax == 0:
        return
    dhs = np.zeros((smax, H, nb), dtype=x.dtype)
    gather_steps(dh, lengths, lo, hi, reverse, dhs)
    dz = np.empty((smax, R * H, nb), dtype=x.dtype)
    dxh = np.empty((smax, K, nb), dtype=x.dtype)
    dh_n = np.zeros(n, dtype=x.dtype)
    dc_n = np.zeros(n, dtype=x.dtype)
    direct = np.zeros(n, dtype=x.dtype)
    for s in range(smax - 1, -1, -1):
        d = dz[s].reshape(R, n)
        if cell == CELL_LSTM:
            lstm_grads(dhs[s].reshape(n), dh_n, dc_n, gb[s].reshape(R, n),
                       cb[s].reshape(n), cb[s + 1].reshape(n), d)
        elif cell == CELL_GRU:
            gru_grads(dhs[s].reshape(n), dh_n, gb[s].reshape(R, n), xh[s, F:].reshape(n),
                      d, direct)
        else:
            rnn_grads(dhs[s].reshape(n), dh_n, xh[s + 1, F:].reshape(n), d[0], kind)
        if need_dx or s > 0:  # dx_t and the carried dh in one product
            np.dot(wb.T, dz[s], dxh[s])
            carried = dxh[s, F:].reshape(n)
            for k in range(n):
                dh_n[k] = carried[k] + direct[k]
        if bptt > 0 and s % bptt == 0:
            dh_n[:] = 0.0
            dc_n[:] = 0.0
    dz2 = steps_to_columns(dz, smax)
    np.dot(dz2, steps_to_columns(xh, smax).T, dwb)
    np.dot(dz2, np.ones(smax * nb, dtype=x.dtype), db)
    if need_dx:
        scatter_steps(dxh[:, :F], lengths, lo, hi, reverse, dx)


@njit(cache=True, parallel=True, error_model="numpy")
def _backward(cell, kind, dh, x, lengths, wb, xhbuf, cbuf, gbuf, reverse, bptt, need_dx,
              bounds):
    B, T, F = x.shape
    H = dh.shape[2]
    K = F + H
    R = wb.shape[0] // H
    nc = bounds.shape[0] - 1
    dwb = np.zeros((nc, R * H, K), dtype=x.dtype)
    db = np.zeros((nc, R * H), dtype=x.dtype)
    dx = np.zeros((B, T, F) if need_dx else (0, 0, 0), dtype=x.dtype)
    for i in prange(nc):
        lo, hi = bounds[i], bounds[i + 1]
        xh, cb, gb = _chunk_views(xhbuf, cbuf, gbuf, lo, hi, T, K, H, R)
        _backward_chunk(cell, kind, dh, x, lengths, wb, xh, cb, gb, reverse, bptt, need_dx,
                        lo, hi, dwb[i], db[i], dx)
    return dx, dwb, db


def _run_forward(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    wb, bias = block_weights(cell, w_ih, w_hh, b_ih, b_hh)
    assert wb.shape[0] == BLOCK_ROWS[cell] * w_hh.shape[1]
    return _forward(cell, kind, x, lengths, wb, bias, h0, c0, reverse,
                    chunk_bounds(x.shape[0]))


def _run_backward(cell, kind, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx):
    zero = np.zeros(w_hh.shape[0], dtype=x.dtype)
    wb, _ = block_weights(cell, w_ih, w_hh, zero, zero)
    xhbuf, cbuf, gbuf = cache
    dx, dwb, db = _backward(cell, kind, dh, x, lengths, wb, xhbuf, cbuf, gbuf, reverse,
                            bptt, need_dx, chunk_bounds(x.shape[0]))
    # chunk partials summed in chunk order (a fixed order: reproducible)
    dw_sum, db_sum = dwb[0].copy(), db[0].copy()
    for i in range(1, dwb.shape[0]):
        dw_sum += dwb[i]
        db_sum += db[i]
    return (dx, *split_block_grads(cell, dw_sum, db_sum, x.shape[2]))


def rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind):
    """Elman RNN, one direction: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    ``kind`` is an activation code (``TANH`` or ``RELU``).  Returns
    ``(h, *cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_RNN, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, h0, reverse)


def rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, xhbuf, cbuf, gbuf, reverse, bptt, need_dx,
                 kind):
    """BPTT of :func:`rnn_forward`: ``dZ_t = act'(Z_t) (dh_t + dh_n)``, ``dh_n <- W_hh^T dZ_t``.

    ``h0`` and ``h`` are unused (the cache holds them); they keep the CUDA
    kernel's signature.
    """
    return _run_backward(CELL_RNN, kind, dh, x, lengths, w_ih, w_hh, (xhbuf, cbuf, gbuf),
                         reverse, bptt, need_dx)


def lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    """LSTM, one direction (gates i, f, g, o)::

        Z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        i, f, o = sigma(Z_i, Z_f, Z_o)   g = tanh(Z_g)
        c_t = f c_{t-1} + i g            h_t = o tanh(c_t)

    Returns ``(h, *cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_LSTM, 0, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse)


def lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, xhbuf, cbuf, gbuf, reverse, bptt,
                  need_dx):
    """BPTT of :func:`lstm_forward` (gate gradients: ``recurrent_cells.lstm_grads``).

    ``h0``, ``c0`` and ``h`` are unused (the cache holds them); they keep the
    CUDA kernel's signature.
    """
    return _run_backward(CELL_LSTM, 0, dh, x, lengths, w_ih, w_hh, (xhbuf, cbuf, gbuf),
                         reverse, bptt, need_dx)


def gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    """GRU, one direction (gates r, z, n)::

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)   z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        h_t = (1 - z) n + z h_{t-1}

    Returns ``(h, *cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_GRU, 0, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, h0, reverse)


def gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, xhbuf, cbuf, gbuf, reverse, bptt,
                 need_dx):
    """BPTT of :func:`gru_forward` (gradients: ``recurrent_cells.gru_grads``).

    ``h0`` and ``h`` are unused (the cache holds them); they keep the CUDA
    kernel's signature.
    """
    return _run_backward(CELL_GRU, 0, dh, x, lengths, w_ih, w_hh, (xhbuf, cbuf, gbuf),
                         reverse, bptt, need_dx)
