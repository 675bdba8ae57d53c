"""Leaky RNN cell with skip connections in time: CUDA twins of
``seqnet.kernels.cpu.recurrent_leaky`` (same signatures, cell, truncation
rule and return values, as device arrays).

As ``seqnet.kernels.cuda.recurrent``: ``lengths`` is the host int64 array
(the step loop runs on the host, ``max(lengths)`` steps) copied to the
device once per call; the input projection of all steps is one tiled
product; each step is one (B, H) x (H, H) product ``h_{s-1} W_hh^T`` (plus
``h_{s-d} S^T``) and one fused pointwise kernel.  States and activations are
kept in processing order, ``hs`` (smax + 1, B, H) and ``fs`` (smax, B, H),
so the skip term reads a contiguous block.  Backward: one gradient kernel
and up to two products per step; the leak's gradient is written per
(step, sample, unit) and summed by column after the loop (no atomics, so
the sum is deterministic); the weight gradients are single products after
the time loop.  Constants are cast to the arrays' dtype: a float32 call
computes in float32.
"""

from numba import cuda

from seqnet.kernels.contract import RELU

from .arrays import copy_into, empty, grid, unravel3, zeros
from .matmul import matmul
from .recurrent import _activate, _ftz, _lengths, _preact, _projection, _t_of, _unit_at
from .reduce import column_sums


@cuda.jit
def _leaky_step(zx, pre, b_ih, b_hh, a, lengths, s, reverse, kind, hs, fs, h):
    """Step ``s``: ``fs[s]``, ``hs[s + 1]`` and ``h[b, t]``; a finished sample
    carries its state."""
    for idx in range(cuda.grid(1), pre.size, cuda.gridsize(1)):
        b, j, t = _unit_at(idx, pre.shape[1], lengths, s, reverse)
        hp = hs[s, b, j]
        if t < 0:
            hs[s + 1, b, j] = hp
            continue
        f = _activate(_preact(pre, zx, b_ih, b_hh, b, t, j), kind)
        fs[s, b, j] = f
        v = (type(f)(1.0) - a[j]) * hp + a[j] * f
        hs[s + 1, b, j] = v
        h[b, t, j] = v


@cuda.jit
def _leaky_bstep(dh, lengths, a, hs, fs, s, reverse, kind, cut, g, dz, ea):
    """Step ``s``'s gradients: ``dz[s]``, the leak terms ``ea[s]`` and, unless
    ``cut``, the direct path ``(1 - a) dH`` into ``g[s]``."""
    for idx in range(cuda.grid(1), dz.shape[1] * dz.shape[2], cuda.gridsize(1)):
        b, j, t = _unit_at(idx, dz.shape[2], lengths, s, reverse)
        if t < 0:
            continue
        dH = dh[b, t, j] + g[s + 1, b, j]
        f = fs[s, b, j]
        ea[s, b, j] = dH * (f - hs[s, b, j])
        df = dH * a[j]
        one = type(df)(1.0)
        if kind == RELU:
            dz[s, b, j] = _ftz(df) if f > type(df)(0.0) else df * type(df)(0.0)
        else:
            dz[s, b, j] = _ftz(df * (one - f * f))
        if not cut:
            g[s, b, j] += _ftz(dH * (one - a[j]))


@cuda.jit
def _to_time(dz, lengths, reverse, out):
    """``dz`` (smax, B, H) in processing order -> ``out`` (B, T, H) in time order
    (``out`` is zero at padding beforehand)."""
    for idx in range(cuda.grid(1), dz.size, cuda.gridsize(1)):
        s, b, j = unravel3(idx, dz.shape[1], dz.shape[2])
        L = lengths[b]
        if s < L:
            out[b, _t_of(s, L, reverse), j] = dz[s, b, j]


def leaky_rnn_forward(x, lengths, w_ih, w_hh, w_skip, b_ih, b_hh, a, h0, reverse, skip, kind):
    B, T, _ = x.shape
    H = w_hh.shape[0]
    skip, kind, reverse = int(skip), int(kind), bool(reverse)
    lens, smax = _lengths(lengths)
    h = zeros((B, T, H), x.dtype)
    hs = zeros((smax + 1, B, H), x.dtype)
    fs = zeros((smax, B, H), x.dtype)
    if smax > 0:
        zx = _projection(x, w_ih)
        copy_into(hs[0], h0)
        pre = empty((B, H), x.dtype)
        cfg = grid(B * H)
        for s in range(smax):
            matmul(hs[s], w_hh, pre, trans_b=True)
            if skip > 0 and s >= skip:
                matmul(hs[s - skip + 1], w_skip, pre, trans_b=True, accumulate=True)
            _leaky_step[cfg](zx, pre, b_ih, b_hh, a, lens, s, reverse, kind, hs, fs, h)
    return h, (hs, fs, reverse, skip, kind)


def _bptt(dh, lens, smax, w_hh, w_skip, a, hs, fs, reverse, skip, kind, bptt, dz, ea):
    B, H = dz.shape[1], dz.shape[2]
    g = zeros((smax + 1, B, H), dz.dtype)
    cfg = grid(B * H)
    for s in range(smax - 1, -1, -1):
        cut = s == 0 or (bptt > 0 and s % bptt == 0)
        _leaky_bstep[cfg](dh, lens, a, hs, fs, s, reverse, kind, cut, g, dz, ea)
        if not cut:
            matmul(dz[s], w_hh, g[s], accumulate=True)
        if skip > 0 and s >= skip and (bptt <= 0 or s // bptt == (s - skip) // bptt):
            matmul(dz[s], w_skip, g[s - skip + 1], accumulate=True)


def leaky_rnn_backward(dh, x, lengths, w_ih, w_hh, w_skip, a, h, cache, bptt, need_dx):
    hs, fs, reverse, skip, kind = cache
    B, T, F = x.shape
    H = w_hh.shape[0]
    lens, smax = _lengths(lengths)
    dt = x.dtype
    dz = zeros((smax, B, H), dt)
    ea = zeros((smax, B, H), dt)
    dzt = zeros((B, T, H), dt)
    dw_hh = zeros((H, H), dt)
    dw_skip = zeros(w_skip.shape, dt)
    if smax > 0:
        _bptt(dh, lens, smax, w_hh, w_skip, a, hs, fs, reverse, skip, kind, int(bptt), dz, ea)
        n = smax * B
        matmul(dz.reshape(n, H), hs[:smax].reshape(n, H), dw_hh, trans_a=True)
        if skip > 0 and smax > skip:
            m = (smax - skip) * B
            matmul(dz[skip:].reshape(m, H), hs[1:smax - skip + 1].reshape(m, H), dw_skip,
                   trans_a=True)
        _to_time[grid(n * H)](dz, lens, reverse, dzt)
    dz2 = dzt.reshape(B * T, H)
    dw_ih = zeros((H, F), dt)
    matmul(dz2, x.reshape(B * T, F), dw_ih, trans_a=True)
    db_ih = column_sums(dz2, zeros(H, dt))
    db_hh = column_sums(dz2, zeros(H, dt))
    da = column_sums(ea.reshape(smax * B, H), zeros(H, dt))
    if need_dx:
        dx = matmul(dz2, w_ih, empty((B * T, F), dt)).reshape(B, T, F)
    else:
        dx = empty((0, 0, 0), dt)
    return dx, dw_ih, dw_hh, dw_skip, db_ih, db_hh, da
