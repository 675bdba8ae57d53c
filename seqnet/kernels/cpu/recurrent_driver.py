"""Time loops of the recurrent kernels: RNN, LSTM and GRU, one direction per call.

Public kernels: ``rnn_forward`` / ``rnn_backward``, ``lstm_forward`` /
``lstm_backward``, ``gru_forward`` / ``gru_backward``; their signatures are
listed once, in :mod:`seqnet.kernels.cpu.recurrent`, which re-exports them.

``keep_cache=False`` (inference) keeps only two steps of state per chunk and
returns empty caches: no backward pass can follow.

Backward kernels take back ``h`` and ``cache`` from their forward kernel,
and return ``(dx, dw_ih, dw_hh, db_ih, db_hh)`` (``dx`` has shape (0, 0, 0)
when ``need_dx`` is False).  ``cache`` is opaque (the CUDA twins keep their
own): here three flat buffers (states, LSTM cell states, gate activations:
the chunk blocks of :mod:`seqnet.kernels.cpu.recurrent_chunks`) and the chunk
boundaries they were laid out with.  Conventions (lengths, reverse, truncated BPTT,
flush to zero) are those of :mod:`seqnet.kernels.cpu.recurrent_common`; the
per-step math is in :mod:`seqnet.kernels.cpu.recurrent_cells`.

Each row chunk runs its whole time loop in one ``prange`` iteration
(DESIGN.md section 4): the input projections of all steps are one product,
each step one small product ``W_hh h_{t-1}`` (forward) or ``W_hh^T dZ_t``
(backward) and flat pointwise loops, and after the time loop ``dW_ih``,
``dW_hh`` and ``dx`` are one product each.  The chunks' weight gradients are
summed in chunk order.
"""

import numpy as np
from numba import njit, prange

from seqnet.kernels.cpu.recurrent_cells import (
    BLOCK_ROWS,
    CELL_GATES,
    CELL_GRU,
    CELL_LSTM,
    CELL_RNN,
    assemble_step,
    gru_grads,
    gru_step,
    lstm_grads,
    lstm_step,
    rnn_grads,
    rnn_step,
)
from seqnet.kernels.cpu.recurrent_chunks import (
    chunk_bounds,
    chunk_max_length,
    gather_columns,
    gather_steps,
    scatter_columns,
    scatter_step,
    scatter_steps,
    steps_to_columns,
    zero_finished_columns,
)


@njit(cache=True, error_model="numpy")
def _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, RH):
    """This chunk's (T+1, H, nb) states, (T+1, H, nb) cells and (T, RH, nb) gates.

    ``cbuf``/``gbuf`` may be empty (cells without cell states / gate caches).
    """
    nb = hi - lo
    hb = hbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape(T + 1, H, nb)
    cb = np.empty((0, H, nb), dtype=hbuf.dtype)
    if cbuf.shape[0] > 0:
        cb = cbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape(T + 1, H, nb)
    gb = np.empty((0, RH, nb), dtype=hbuf.dtype)
    if gbuf.shape[0] > 0:
        gb = gbuf[lo * T * RH:hi * T * RH].reshape(T, RH, nb)
    return hb, cb, gb


@njit(cache=True, error_model="numpy")
def _forward_chunk(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, reverse, lo, hi,
                   hb, cb, gb, keep, h_out):
    """Time loop of rows ``lo:hi``.  With ``keep`` (training) ``hb``/``cb``/``gb``
    hold every step (the backward pass's cache); without, ``hb``/``cb`` are
    two-slot rings and ``gb`` is empty, so inference touches little memory."""
    nb = hi - lo
    H = hb.shape[1]
    RH = gb.shape[1]
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    if smax == 0:
        return
    proj = np.dot(w_ih, gather_columns(x, lengths, lo, hi, smax, reverse))
    b_sum = b_ih + b_hh
    rec = np.empty((w_hh.shape[0], nb), dtype=x.dtype)
    scratch = np.empty((RH, nb), dtype=x.dtype)
    for s in range(smax):
        cur, nxt = (s, s + 1) if keep else (s % 2, (s + 1) % 2)
        np.dot(w_hh, hb[cur], rec)
        z2 = gb[s] if keep and gb.shape[0] > 0 else scratch
        assemble_step(cell, z2, proj, s * nb, rec, b_ih, b_hh, b_sum)
        z = z2.reshape(RH // H, n)
        h_next = hb[nxt].reshape(n)
        if cell == CELL_LSTM:
            lstm_step(z, cb[cur].reshape(n), cb[nxt].reshape(n), h_next)
            zero_finished_columns(cb[nxt], lengths, lo, s)
        elif cell == CELL_GRU:
            gru_step(z, hb[cur].reshape(n), h_next)
        else:
            rnn_step(z[0], h_next, kind)
        zero_finished_columns(hb[nxt], lengths, lo, s)
        if not keep:
            scatter_step(hb[nxt], lengths, lo, reverse, s, h_out)
    if keep:
        scatter_steps(hb[1:smax + 1], lengths, lo, hi, reverse, h_out)


@njit(cache=True, parallel=True, error_model="numpy")
def _forward(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, RH, keep,
             bounds):
    B, T, F = x.shape
    H = h0.shape[1]
    h = np.zeros((B, T, H), dtype=x.dtype)
    rows = B if keep else 0
    hbuf = np.empty(rows * (T + 1) * H, dtype=x.dtype)
    cbuf = np.empty(rows * (T + 1) * H if cell == CELL_LSTM else 0, dtype=x.dtype)
    gbuf = np.empty(rows * T * RH if cell != CELL_RNN else 0, dtype=x.dtype)
    for i in prange(bounds.shape[0] - 1):
        lo, hi = bounds[i], bounds[i + 1]
        nb = hi - lo
        if keep:
            hb, cb, gb = _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, RH)
        else:
            hb = np.empty((2, H, nb), dtype=x.dtype)
            cb = np.empty((2 if cell == CELL_LSTM else 0, H, nb), dtype=x.dtype)
            gb = np.empty((0, RH, nb), dtype=x.dtype)
        hb[0] = h0[lo:hi].T
        if cell == CELL_LSTM:
            cb[0] = c0[lo:hi].T
        _forward_chunk(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, reverse, lo, hi,
                       hb, cb, gb, keep, h)
    return h, hbuf, cbuf, gbuf


@njit(cache=True, error_model="numpy")
def _backward_chunk(cell, kind, dh, x, lengths, w_ih, w_hh, hb, cb, gb, reverse, bptt,
                    need_dx, lo, hi, dw_ih, dw_hh, db_ih, db_hh, dx):
    nb = hi - lo
    H = hb.shape[1]
    GH = w_hh.shape[0]
    RH = gb.shape[1]
    n = H * nb
    smax = chunk_max_length(lengths, lo, hi)
    if smax == 0:
        return
    dhs = np.zeros((smax, H, nb), dtype=x.dtype)
    gather_steps(dh, lengths, lo, hi, reverse, dhs)
    dz = np.empty((smax, RH, nb), dtype=x.dtype)
    dh_n = np.zeros(n, dtype=x.dtype)
    dc_n = np.zeros(n, dtype=x.dtype)
    direct = np.zeros(n, dtype=x.dtype)
    for s in range(smax - 1, -1, -1):
        d = dz[s].reshape(RH // H, n)
        if cell == CELL_LSTM:
            lstm_grads(dhs[s].reshape(n), dh_n, dc_n, gb[s].reshape(RH // H, n),
                       cb[s].reshape(n), cb[s + 1].reshape(n), d)
        elif cell == CELL_GRU:
            gru_grads(dhs[s].reshape(n), dh_n, gb[s].reshape(RH // H, n), hb[s].reshape(n),
                      d, direct)
        else:
            rnn_grads(dhs[s].reshape(n), dh_n, hb[s + 1].reshape(n), d[0], kind)
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            dh_n[:] = 0.0
            dc_n[:] = 0.0
        else:  # the hidden-side rows (GRU: r, z, hn) come first in the block
            np.dot(w_hh.T, dz[s, :GH], dh_n.reshape(H, nb))
            for k in range(n):
                dh_n[k] += direct[k]
    cols = smax * nb
    dzh = np.empty((GH, cols), dtype=x.dtype)
    steps_to_columns(dz, smax, 0, GH, dzh, 0)
    dzx = dzh
    if cell == CELL_GRU:  # input side: rows r, z and W_in x + b_in
        dzx = np.empty((GH, cols), dtype=x.dtype)
        steps_to_columns(dz, smax, 0, 2 * H, dzx, 0)
        steps_to_columns(dz, smax, 3 * H, 4 * H, dzx, 2 * H)
    hcols = np.empty((H, cols), dtype=x.dtype)
    steps_to_columns(hb, smax, 0, H, hcols, 0)
    np.dot(dzx, gather_columns(x, lengths, lo, hi, smax, reverse).T, dw_ih)
    np.dot(dzh, hcols.T, dw_hh)
    ones = np.ones(cols, dtype=x.dtype)
    np.dot(dzx, ones, db_ih)
    np.dot(dzh, ones, db_hh)
    if need_dx:
        scatter_columns(np.dot(w_ih.T, dzx), lengths, lo, hi, reverse, dx)


@njit(cache=True, parallel=True, error_model="numpy")
def _backward(cell, kind, dh, x, lengths, w_ih, w_hh, hbuf, cbuf, gbuf, reverse, bptt,
              need_dx, RH, bounds):
    B, T, F = x.shape
    GH, H = w_hh.shape
    nc = bounds.shape[0] - 1
    dw_ih = np.zeros((nc, GH, F), dtype=x.dtype)
    dw_hh = np.zeros((nc, GH, H), dtype=x.dtype)
    db_ih = np.zeros((nc, GH), dtype=x.dtype)
    db_hh = np.zeros((nc, GH), dtype=x.dtype)
    dx = np.zeros((B, T, F) if need_dx else (0, 0, 0), dtype=x.dtype)
    for i in prange(nc):
        lo, hi = bounds[i], bounds[i + 1]
        hb, cb, gb = _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, RH)
        _backward_chunk(cell, kind, dh, x, lengths, w_ih, w_hh, hb, cb, gb, reverse, bptt,
                        need_dx, lo, hi, dw_ih[i], dw_hh[i], db_ih[i], db_hh[i], dx)
    return dx, dw_ih, dw_hh, db_ih, db_hh


def _chunk_sum(parts):
    """Sum of per-chunk partial gradients in chunk order (reproducible)."""
    total = parts[0].copy()
    for part in parts[1:]:
        total += part
    return total


def _run_forward(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse,
                 keep_cache):
    H = w_hh.shape[1]
    if w_hh.shape[0] != CELL_GATES[cell] * H or w_ih.shape[0] != w_hh.shape[0]:
        raise ValueError(f"weights of shapes {w_ih.shape}, {w_hh.shape} do not fit "
                         f"{CELL_GATES[cell]} gates of {H} units")
    bounds = chunk_bounds(x.shape[0])
    h, hbuf, cbuf, gbuf = _forward(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0,
                                   reverse, BLOCK_ROWS[cell] * H, bool(keep_cache), bounds)
    return h, (hbuf, cbuf, gbuf, bounds)


def _run_backward(cell, kind, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx):
    hbuf, cbuf, gbuf, bounds = cache
    if hbuf.size == 0 and x.shape[0] > 0:
        raise ValueError("this cache comes from an inference forward (keep_cache=False)")
    dx, *parts = _backward(cell, kind, dh, x, lengths, w_ih, w_hh, hbuf, cbuf, gbuf, reverse,
                           bptt, need_dx, BLOCK_ROWS[cell] * w_hh.shape[1], bounds)
    return (dx, *[_chunk_sum(p) for p in parts])


def rnn_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, kind, keep_cache=True):
    """Elman RNN, one direction: ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``.

    ``kind`` is an activation code (``TANH`` or ``RELU``).  Returns
    ``(h, cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_RNN, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, h0, reverse,
                        keep_cache)


def rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, reverse, bptt, need_dx, kind):
    """BPTT of :func:`rnn_forward`: ``dZ_t = act'(Z_t) (dh_t + dh_n)``, ``dh_n <- W_hh^T dZ_t``.

    ``h0`` and ``h`` are unused (the cache holds them); they keep the CUDA
    kernel's signature.
    """
    return _run_backward(CELL_RNN, kind, dh, x, lengths, w_ih, w_hh, cache,
                         reverse, bptt, need_dx)


def lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, keep_cache=True):
    """LSTM, one direction (gates i, f, g, o)::

        Z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        i, f, o = sigma(Z_i, Z_f, Z_o)   g = tanh(Z_g)
        c_t = f c_{t-1} + i g            h_t = o tanh(c_t)

    Returns ``(h, cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_LSTM, 0, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse,
                        keep_cache)


def lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, cache, reverse, bptt, need_dx):
    """BPTT of :func:`lstm_forward` (gate gradients: ``recurrent_cells.lstm_grads``).

    ``h0``, ``c0`` and ``h`` are unused (the cache holds them); they keep the
    CUDA kernel's signature.
    """
    return _run_backward(CELL_LSTM, 0, dh, x, lengths, w_ih, w_hh, cache,
                         reverse, bptt, need_dx)


def gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse, keep_cache=True):
    """GRU, one direction (gates r, z, n)::

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)   z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        h_t = (1 - z) n + z h_{t-1}

    Returns ``(h, cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    return _run_forward(CELL_GRU, 0, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, h0, reverse,
                        keep_cache)


def gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, reverse, bptt, need_dx):
    """BPTT of :func:`gru_forward` (gradients: ``recurrent_cells.gru_grads``).

    ``h0`` and ``h`` are unused (the cache holds them); they keep the CUDA
    kernel's signature.
    """
    return _run_backward(CELL_GRU, 0, dh, x, lengths, w_ih, w_hh, cache,
                         reverse, bptt, need_dx)
