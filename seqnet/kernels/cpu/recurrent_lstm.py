"""LSTM kernels (PyTorch layout, gate order i, f, g, o).

See :mod:`seqnet.kernels.cpu.recurrent_common` for the shared conventions
(lengths / padding, reverse direction, truncated BPTT, cache layout).
Gate loops run over contiguous rows, one simple loop per quantity, so LLVM
vectorizes them (float32 gate nonlinearities are branch-free rationals).
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.recurrent_common import (
    ONE,
    finish_grads,
    ftz,
    input_projection,
    max_length,
    prev_time_index,
    sigmoid_range,
    tanh_copy,
    tanh_range,
    time_index,
)


@njit(cache=True, error_model="numpy")
def lstm_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse):
    """One direction of an LSTM layer over a padded batch.

    For each valid step (processing order, state starts at ``h0, c0``)::

        Z   = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh        (4H: i, f, g, o)
        i = sigma(Z_i)  f = sigma(Z_f)  g = tanh(Z_g)  o = sigma(Z_o)
        c_t = f * c_{t-1} + i * g
        h_t = o * tanh(c_t)

    ``W_ih x`` is one (B*T, F) @ (F, 4H) product; each step adds one
    (B, H) @ (H, 4H) product.

    Returns
    -------
    h : (B, T, H) hidden outputs, 0 at padding.
    c : (B, T, H) cell states (cache), 0 at padding.
    gates : (B, T, 4H) activations i, f, g, o (cache; padding entries unused).
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 4
    gates = input_projection(x, w_ih)
    h = np.zeros((B, T, H), dtype=x.dtype)
    c = np.zeros((B, T, H), dtype=x.dtype)
    hs = h0.copy()
    hh = np.empty((B, GH), dtype=x.dtype)
    bias = b_ih + b_hh
    smax = max_length(lengths)
    for s in range(smax):
        np.dot(hs, w_hh.T, hh)
        for b in range(B):
            L = lengths[b]
            if s >= L:
                continue
            t = time_index(s, L, reverse)
            cp = c0[b] if s == 0 else c[b, prev_time_index(t, reverse)]
            z = hh[b]
            a = gates[b, t]
            for k in range(GH):
                z[k] += a[k] + bias[k]
            # activations in place on the contiguous row (no aliasing: vectorizes)
            sigmoid_range(z, 0, 2 * H)
            tanh_range(z, 2 * H, 3 * H)
            sigmoid_range(z, 3 * H, GH)
            a[:] = z
            cr = c[b, t]
            hr = h[b, t]
            hsb = hs[b]
            for j in range(H):
                cr[j] = z[H + j] * cp[j] + z[j] * z[2 * H + j]
            tanh_copy(cr, hr)
            for j in range(H):
                hr[j] *= z[3 * H + j]
            for j in range(H):
                hsb[j] = hr[j]
    return h, c, gates


@njit(cache=True, error_model="numpy")
def lstm_backward(dh, x, lengths, w_ih, w_hh, h0, c0, h, c, gates, reverse, bptt, need_dx):
    """BPTT for one LSTM direction; ``dh`` (B, T, H) is dL/dh_t from above.

    Backwards over processing steps, with ``dh_n``, ``dc_n`` the gradients
    carried from the next step (zero at the first processed step of the
    backward sweep, and reset to zero at truncation borders)::

        dH  = dh_t + dh_n
        dC  = dc_n + dH * o * (1 - tanh(c_t)^2)
        dZ_o = dH * tanh(c_t) * o (1 - o)     dZ_i = dC * g * i (1 - i)
        dZ_f = dC * c_{t-1} * f (1 - f)       dZ_g = dC * i * (1 - g^2)
        dc_n <- dC * f                        dh_n <- dZ W_hh   (one product)

    then after the loop (see ``finish_grads``)::

        dW_ih = dZ^T x    dW_hh = dZ^T Hprev    db_ih = db_hh = sum dZ    dx = dZ W_ih

    Values below 1e-30 in magnitude are flushed to zero.

    Returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` is (0, 0, 0) when
    ``need_dx`` is False.
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 4
    dz = np.zeros((B, T, GH), dtype=x.dtype)
    hprev = np.zeros((B, T, H), dtype=x.dtype)
    dzs = np.zeros((B, GH), dtype=x.dtype)
    dh_n = np.zeros((B, H), dtype=x.dtype)
    dc_n = np.zeros((B, H), dtype=x.dtype)
    tc = np.empty(H, dtype=x.dtype)
    smax = max_length(lengths)
    for s in range(smax - 1, -1, -1):
        for b in range(B):
            L = lengths[b]
            dzb = dzs[b]
            dcb = dc_n[b]
            if s >= L:
                dzb[:] = 0.0
                dcb[:] = 0.0
                continue
            t = time_index(s, L, reverse)
            tp = prev_time_index(t, reverse)
            hp = h0[b] if s == 0 else h[b, tp]
            cp = c0[b] if s == 0 else c[b, tp]
            hprev[b, t] = hp
            a = gates[b, t]
            cr = c[b, t]
            dhr = dh[b, t]
            dzr = dz[b, t]
            dHb = dh_n[b]
            for j in range(H):
                dHb[j] = ftz(dhr[j] + dHb[j])
            tanh_copy(cr, tc)
            for j in range(H):
                o = a[3 * H + j]
                dcb[j] = ftz(dcb[j] + dHb[j] * o * (ONE - tc[j] * tc[j]))
                dzr[3 * H + j] = ftz(dHb[j] * tc[j] * o * (ONE - o))
            for j in range(H):
                ig = a[j]
                fg = a[H + j]
                gg = a[2 * H + j]
                dC = dcb[j]
                dzr[j] = ftz(dC * gg * ig * (ONE - ig))
                dzr[H + j] = ftz(dC * cp[j] * fg * (ONE - fg))
                dzr[2 * H + j] = ftz(dC * ig * (ONE - gg * gg))
                dcb[j] = ftz(dC * fg)
            dzb[:] = dzr
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            dh_n[:, :] = 0.0
            dc_n[:, :] = 0.0
        else:
            np.dot(dzs, w_hh, dh_n)
    return finish_grads(dz, dz, hprev, x, w_ih, need_dx)
