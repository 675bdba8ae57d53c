"""GRU kernels (PyTorch layout, gate order r, z, n).

Gate loops run over contiguous rows so LLVM vectorizes them.

``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``, ``h' = (1 - z) * n + z * h``.
See :mod:`seqnet.kernels.cpu.recurrent_common` for the shared conventions.
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
    tanh_range,
    time_index,
)


@njit(cache=True, error_model="numpy")
def gru_forward(x, lengths, w_ih, w_hh, b_ih, b_hh, h0, reverse):
    """One direction of a GRU layer over a padded batch.

    For each valid step (processing order, state starts at ``h0``)::

        X = W_ih x_t + b_ih,   Hh = W_hh h_{t-1} + b_hh      (3H: r, z, n)
        r = sigma(X_r + Hh_r)    z = sigma(X_z + Hh_z)
        n = tanh(X_n + r * Hh_n)
        h_t = (1 - z) * n + z * h_{t-1}

    Returns
    -------
    h : (B, T, H) hidden outputs, 0 at padding.
    gates : (B, T, 3H) activations r, z, n (cache).
    hn : (B, T, H) hidden part of the candidate, ``Hh_n = W_hn h_{t-1} + b_hn`` (cache).
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 3
    gates = input_projection(x, w_ih)
    h = np.zeros((B, T, H), dtype=x.dtype)
    hn = np.zeros((B, T, H), dtype=x.dtype)
    hs = h0.copy()
    hh = np.empty((B, GH), dtype=x.dtype)
    smax = max_length(lengths)
    for s in range(smax):
        np.dot(hs, w_hh.T, hh)
        for b in range(B):
            L = lengths[b]
            if s >= L:
                continue
            t = time_index(s, L, reverse)
            hp = h0[b] if s == 0 else h[b, prev_time_index(t, reverse)]
            zr = hh[b]
            a = gates[b, t]
            hnr = hn[b, t]
            hr = h[b, t]
            hsb = hs[b]
            for k in range(2 * H):
                zr[k] += a[k] + b_ih[k] + b_hh[k]
            sigmoid_range(zr, 0, 2 * H)
            for j in range(H):
                hnr[j] = zr[2 * H + j] + b_hh[2 * H + j]
            for j in range(H):
                zr[2 * H + j] = a[2 * H + j] + b_ih[2 * H + j] + zr[j] * hnr[j]
            tanh_range(zr, 2 * H, GH)
            a[:] = zr
            for j in range(H):
                hr[j] = (ONE - a[H + j]) * a[2 * H + j] + a[H + j] * hp[j]
            for j in range(H):
                hsb[j] = hr[j]
    return h, gates, hn


@njit(cache=True, error_model="numpy")
def gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, gates, hn, reverse, bptt, need_dx):
    """BPTT for one GRU direction; ``dh`` (B, T, H) is dL/dh_t from above.

    With ``dh_n`` carried from the next processing step (reset to zero at
    truncation borders)::

        dH   = dh_t + dh_n
        dX_n = dH (1 - z) (1 - n^2)            (input-side candidate pre-act)
        dX_z = dH (h_{t-1} - n) z (1 - z)      dX_r = dX_n Hh_n r (1 - r)
        dHh  = [dX_r, dX_z, dX_n * r]          (hidden-side pre-acts)
        dh_n <- dHh W_hh + dH z                (one product)

    then ``dW_ih = dX^T x``, ``db_ih = sum dX``, ``dx = dX W_ih``,
    ``dW_hh = dHh^T Hprev``, ``db_hh = sum dHh``.  Values below 1e-30 in
    magnitude are flushed to zero.

    Returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)``; ``dx`` is (0, 0, 0) when
    ``need_dx`` is False.
    """
    B, T, F = x.shape
    GH = w_ih.shape[0]
    H = GH // 3
    dzx = np.zeros((B, T, GH), dtype=x.dtype)
    dzh = np.zeros((B, T, GH), dtype=x.dtype)
    hprev = np.zeros((B, T, H), dtype=x.dtype)
    dzs = np.zeros((B, GH), dtype=x.dtype)
    direct = np.zeros((B, H), dtype=x.dtype)
    dh_n = np.zeros((B, H), dtype=x.dtype)
    smax = max_length(lengths)
    for s in range(smax - 1, -1, -1):
        for b in range(B):
            L = lengths[b]
            dzb = dzs[b]
            drb = direct[b]
            if s >= L:
                dzb[:] = 0.0
                drb[:] = 0.0
                continue
            t = time_index(s, L, reverse)
            hp = h0[b] if s == 0 else h[b, prev_time_index(t, reverse)]
            hprev[b, t] = hp
            a = gates[b, t]
            hnr = hn[b, t]
            dhr = dh[b, t]
            dxr = dzx[b, t]
            dhh = dzh[b, t]
            dHb = dh_n[b]
            for j in range(H):
                dHb[j] = ftz(dhr[j] + dHb[j])
            for j in range(H):
                r = a[j]
                z = a[H + j]
                n = a[2 * H + j]
                dH = dHb[j]
                dxn = ftz(dH * (ONE - z) * (ONE - n * n))
                dxr[2 * H + j] = dxn
                dxr[H + j] = ftz(dH * (hp[j] - n) * z * (ONE - z))
                dxr[j] = ftz(dxn * hnr[j] * r * (ONE - r))
                dhh[2 * H + j] = ftz(dxn * r)
                drb[j] = ftz(dH * z)
            for k in range(2 * H):
                dhh[k] = dxr[k]
            dzb[:] = dhh
        if s == 0:
            break
        if bptt > 0 and s % bptt == 0:
            dh_n[:, :] = 0.0
        else:
            np.dot(dzs, w_hh, dh_n)
            for b in range(B):
                for j in range(H):
                    dh_n[b, j] += direct[b, j]
    return finish_grads(dzx, dzh, hprev, x, w_ih, need_dx)
