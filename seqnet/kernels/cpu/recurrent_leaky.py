"""Leaky RNN cell with optional skip connections in time, one direction per call.

The cell (``a``: per-unit leak rates in (0, 1], ``d``: ``skip`` steps)::

    f_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh + S h_{t-d})
    h_t = (1 - a) * h_{t-1} + a * f_t

``act`` is tanh or relu (activation code ``kind``).  ``skip = 0`` drops the
``S h_{t-d}`` term (``w_skip`` is then ignored and may be empty); with
``skip = d >= 2`` the term reads the state ``d`` processing steps back, and
is 0 for the first ``d`` steps of each sample (``h_{t-d} = 0`` for ``t < d``,
counted in the sample's own processing order: the reverse direction counts
from its own start at ``lengths[b] - 1``).  The initial state ``h0`` feeds
``h_{t-1}`` at the first step only, never the skip term.

Kernels::

    leaky_rnn_forward(x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, skip, kind)
        -> (h, cache)
    leaky_rnn_backward(dh, x, lengths, w_ih, w_hh, w_skip, a, h, cache, bptt, need_dx)
        -> (dx, dw_ih, dw_hh, dw_skip, db_ih, db_hh, da)

``a`` is the vector of leak rates itself (a fixed leak is ``full(H, leak)``);
``da`` is the gradient with respect to it.  A learned leak is a logit per
unit: the layer (``seqnet.network.recurrent_leaky``) applies the sigmoid and
its chain rule, so the kernels do not depend on how ``a`` is parametrised.
``cache`` is opaque (the states and activations in processing order, and the
forward's ``reverse``, ``skip`` and ``kind``, so a backward pass cannot
disagree with its forward); it is kept in inference too (the forward needs
every state for the skip term anyway).

Conventions (padding, reverse direction, flush to zero) are those of
:mod:`seqnet.kernels.cpu.recurrent_common`.  Truncated BPTT (``bptt = k >
0``): processing steps are cut into segments ``s // k``; a gradient never
crosses from a step to a state of an earlier segment, through ``h_{t-1}``
(the leak's direct path and ``W_hh``) or through ``h_{t-d}`` (``S``).  For
the ``h_{t-1}`` path this is exactly the cut of the plain kernels.  The
weight gradients still sum every step's local term.

These kernels are separate from ``recurrent_forward`` / ``recurrent_backward`` so the
plain Elman cell keeps its chunked, multi-threaded path and its compile
cost; this cell runs in the calling thread: per step one product
``h_{t-1} W_hh^T`` (plus ``h_{t-d} S^T``) through
:func:`seqnet.kernels.cpu.blas.gemm` on row blocks of the state buffer, a
fused pointwise loop, and after the time loop one product each for ``dW_ih``,
``dW_hh``, ``dS`` and ``dx``.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.activations import RELU, TANH
from seqnet.kernels.cpu.blas import aligned_copy, aligned_empty, gemm
from seqnet.kernels.cpu.jit import helper
from seqnet.kernels.cpu.recurrent_common import CONTRACT, ONE, ZERO, ftz, gate_tanh

__all__ = ["leaky_rnn_forward", "leaky_rnn_backward"]


@helper(error_model="numpy")
def _max_length(lengths):
    m = 0
    for L in lengths:
        m = max(m, L)
    return m


@helper(error_model="numpy")
def _zeros(rows, cols, like):
    """Zeros on a cache-line boundary (blas.aligned_empty): a product's result
    must not depend on where its operands happen to be allocated."""
    out = aligned_empty(rows, cols, like)
    out[:] = 0.0
    return out


@helper(error_model="numpy", fastmath=CONTRACT)
def _leaky_step(zx, pre, b_ih, b_hh, a, lengths, s, reverse, kind, hs, fs, h):
    """Step ``s`` of every sample: ``fs`` block ``s``, state block ``s + 1``
    of ``hs`` and the output ``h[b, t]``; a finished sample carries its state."""
    B, T, H = h.shape
    for b in range(B):
        L = lengths[b]
        rp, rn, rf = s * B + b, (s + 1) * B + b, s * B + b
        if s >= L:
            for k in range(H):
                hs[rn, k] = hs[rp, k]
            continue
        t = L - 1 - s if reverse else s
        rz = b * T + t
        for k in range(H):
            v = zx[rz, k] + pre[b, k] + (b_ih[k] + b_hh[k])
            if kind == RELU:
                f = v if v > ZERO else ZERO
            else:
                f = gate_tanh(v)
            fs[rf, k] = f
            hv = (ONE - a[k]) * hs[rp, k] + a[k] * f
            hs[rn, k] = hv
            h[b, t, k] = hv


@njit(cache=True, error_model="numpy")
def _forward(x2, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, skip, kind):
    """``x2``: the (B * T, F) rows of ``x``; ``x2`` and the weights aligned."""
    B = lengths.shape[0]
    T = x2.shape[0] // B if B > 0 else 0
    H = w_hh.shape[0]
    smax = _max_length(lengths)
    h = np.zeros((B, T, H), dtype=x2.dtype)
    hs = _zeros((smax + 1) * B, H, x2)  # state blocks: h0, after step 0, ...
    fs = np.zeros((smax * B, H), dtype=x2.dtype)  # act(Z) per processing step
    if smax == 0:
        return h, hs, fs
    for b in range(B):
        for k in range(H):
            hs[b, k] = h0[b, k]
    zx = aligned_empty(B * T, H, x2)  # every step's input projection, one product
    gemm(x2, w_ih, zx, trans_b=True)
    pre = aligned_empty(B, H, x2)
    for s in range(smax):
        gemm(hs[s * B:(s + 1) * B], w_hh, pre, trans_b=True)
        if skip > 0 and s >= skip:
            r = (s - skip + 1) * B  # the state after step s - skip
            gemm(hs[r:r + B], w_skip, pre, trans_b=True, accumulate=True)
        _leaky_step(zx, pre, b_ih, b_hh, a, lengths, s, reverse, kind, hs, fs, h)
    return h, hs, fs


@helper(error_model="numpy", fastmath=CONTRACT)
def _leaky_grads(dh, lengths, a, hs, fs, s, reverse, kind, cut, g, dz, da):
    """Step ``s``'s pre-activation gradients into ``dz`` block ``s``, the
    leak's gradient into ``da``, and (unless ``cut``) the direct path
    ``(1 - a) dH`` into the carried gradient ``g`` of state block ``s``."""
    B, T, H = dh.shape
    for b in range(B):
        L = lengths[b]
        if s >= L:
            continue
        t = L - 1 - s if reverse else s
        r = s * B + b
        for k in range(H):
            dH = dh[b, t, k] + g[r + B, k]
            f = fs[r, k]
            da[k] += dH * (f - hs[r, k])
            df = dH * a[k]
            if kind == RELU:
                dz[r, k] = ftz(df) if f > ZERO else ZERO
            else:
                dz[r, k] = ftz(df * (ONE - f * f))
            if not cut:
                g[r, k] += ftz(dH * (ONE - a[k]))


@helper(error_model="numpy")
def _bptt(dh, lengths, w_hh, w_skip, a, hs, fs, reverse, skip, kind, bptt, dz, da):
    """The time loop of the backward pass: fills ``dz`` and ``da``."""
    B, H = dh.shape[0], dh.shape[2]
    smax = fs.shape[0] // B
    g = _zeros((smax + 1) * B, H, dz)  # carried gradient of each state block
    for s in range(smax - 1, -1, -1):
        cut = s == 0 or (bptt > 0 and s % bptt == 0)  # h_{t-1} lies in an earlier segment
        _leaky_grads(dh, lengths, a, hs, fs, s, reverse, kind, cut, g, dz, da)
        d = dz[s * B:(s + 1) * B]
        if not cut:
            gemm(d, w_hh, g[s * B:(s + 1) * B], accumulate=True)
        if skip > 0 and s >= skip and (bptt <= 0 or s // bptt == (s - skip) // bptt):
            r = (s - skip + 1) * B
            gemm(d, w_skip, g[r:r + B], accumulate=True)


@helper(error_model="numpy")
def _time_layout(dz, lengths, reverse, T):
    """``dz`` blocks (processing order) as (B * T, H) rows in time order, 0 at padding."""
    H = dz.shape[1]
    B = lengths.shape[0]
    out = _zeros(B * T, H, dz)
    for b in range(B):
        L = lengths[b]
        for s in range(L):
            t = L - 1 - s if reverse else s
            for k in range(H):
                out[b * T + t, k] = dz[s * B + b, k]
    return out


@njit(cache=True, error_model="numpy")
def _backward(dh, x2, lengths, w_ih, w_hh, w_skip, a, hs, fs, reverse, skip, kind, bptt,
              need_dx):
    """``x2``: the (B * T, F) rows of ``x``; ``x2`` and the weights aligned."""
    B, T = dh.shape[0], dh.shape[1]
    F = x2.shape[1]
    H = w_hh.shape[0]
    smax = fs.shape[0] // B if B > 0 else 0
    dz = _zeros(smax * B, H, x2)
    da = np.zeros(H, dtype=x2.dtype)
    dw_ih = _zeros(H, F, x2)
    dw_hh = _zeros(H, H, x2)
    dw_skip = _zeros(w_skip.shape[0], w_skip.shape[1], x2)
    db = np.zeros(H, dtype=x2.dtype)
    dx2 = _zeros(B * T if need_dx else 0, F, x2)
    dx = dx2.reshape((B, T, F) if need_dx else (0, 0, 0))
    if smax == 0:
        return dx, dw_ih, dw_hh, dw_skip, db, db.copy(), da
    _bptt(dh, lengths, w_hh, w_skip, a, hs, fs, reverse, skip, kind, bptt, dz, da)
    n = smax * B
    gemm(dz, hs[:n], dw_hh, trans_a=True)
    if skip > 0 and smax > skip:
        gemm(dz[skip * B:], hs[B:(smax - skip + 1) * B], dw_skip, trans_a=True)
    dzt = _time_layout(dz, lengths, reverse, T)
    gemm(dzt, x2, dw_ih, trans_a=True)
    for r in range(n):
        for k in range(H):
            db[k] += dz[r, k]
    if need_dx:
        gemm(dzt, w_ih, dx2)
    return dx, dw_ih, dw_hh, dw_skip, db, db.copy(), da


def _check(w_ih, w_hh, w_skip, a, skip, kind):
    H = w_hh.shape[0]
    if w_hh.shape != (H, H) or w_ih.shape[0] != H or a.shape != (H,):
        raise ValueError(f"weights {w_ih.shape}, {w_hh.shape} and leak {a.shape} do not "
                         f"fit one gate of {H} units")
    if skip < 0 or skip == 1:
        raise ValueError(f"skip must be 0 (none) or >= 2, got {skip}")
    if skip and w_skip.shape != (H, H):
        raise ValueError(f"w_skip has shape {w_skip.shape}, expected {(H, H)}")
    if kind not in (TANH, RELU):
        raise ValueError(f"the leaky RNN cell takes activation code {TANH} (tanh) or "
                         f"{RELU} (relu), not {kind!r}")


def _aligned(x, w_ih, w_hh, w_skip):
    """Aligned copies of the operands the products read (``x`` as (B * T, F)
    rows): OpenBLAS's small-matrix path sums in an order that depends on
    operand alignment, so a result must not depend on where the caller's
    arrays sit (a pickled model predicts bitwise as the original)."""
    B, T, F = x.shape
    return (aligned_copy(np.ascontiguousarray(x).reshape(B * T, F)), aligned_copy(w_ih),
            aligned_copy(w_hh), aligned_copy(w_skip))


def leaky_rnn_forward(x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, skip, kind):
    """Leaky RNN with optional skip connections, one direction (module docstring).

    Returns ``(h, cache)``, ``h`` (B, T, H) with 0 at padding.
    """
    skip, kind = int(skip), int(kind)
    _check(w_ih, w_hh, w_skip, a, skip, kind)
    B, T, _ = x.shape
    if B == 0:  # no rows to tell T from inside the kernel
        empty = np.zeros((0, w_hh.shape[0]), dtype=x.dtype)
        return np.zeros((0, T, w_hh.shape[0]), dtype=x.dtype), (empty, empty, bool(reverse),
                                                                 skip, kind)
    x2, w_ih, w_hh, w_skip = _aligned(x, w_ih, w_hh, w_skip)
    h, hs, fs = _forward(x2, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, bool(reverse),
                         skip, kind)
    return h, (hs, fs, bool(reverse), skip, kind)


def leaky_rnn_backward(dh, x, lengths, w_ih, w_hh, w_skip, a, h, cache, bptt, need_dx):
    """BPTT of :func:`leaky_rnn_forward` (truncation: module docstring)::

        dH_t = dh_t + (1 - a) dH_{t+1} + W_hh^T dZ_{t+1} + S^T dZ_{t+d}
        dZ_t = act'(Z_t) a dH_t          da += dH_t (f_t - h_{t-1})

    Returns ``(dx, dw_ih, dw_hh, dw_skip, db_ih, db_hh, da)`` (``dx`` (0, 0, 0)
    without ``need_dx``; ``dw_skip`` has ``w_skip``'s shape).  ``h`` is unused
    (the cache holds the states); it keeps the CUDA kernel's signature.
    """
    hs, fs, reverse, skip, kind = cache
    x2, w_ih, w_hh, w_skip = _aligned(x, w_ih, w_hh, w_skip)
    return _backward(dh, x2, lengths, w_ih, w_hh, w_skip, a, hs, fs, reverse, skip, kind,
                     int(bptt), bool(need_dx))
