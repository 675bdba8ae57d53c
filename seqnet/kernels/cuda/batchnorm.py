"""Batch normalisation (CUDA twins of ``seqnet.kernels.cpu.batchnorm``).

Per-channel statistics and gradient sums: one thread per channel, summing the
valid positions in the CPU kernel's order into float64 accumulators
(deterministic, no atomics; the documented float64 kernels of ``F64_KERNELS``).
Normalisation, the input gradient and the masking of padded positions: one
thread per element (grid-stride), in the array's dtype.  ``lengths`` and
``weights`` may be host arrays (copied once per call).
"""

import math

import numpy as np
from numba import cuda

from .arrays import empty, grid, step_at, to_device

F64_KERNELS = {
    "_bn_stats": "per-channel batch statistics: float64 accumulators over B*N rows",
    "_bn_grad_sums": "per-channel gradient sums: float64 accumulators over B*N rows",
}


@cuda.jit
def _bn_stats(x, lengths, weights, momentum, eps, running_mean, running_var, mean, inv_std):
    B, N, C = x.shape
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        total = 0.0
        s = 0.0
        for b in range(B):
            L = min(lengths[b], N)
            w = float(weights[b])
            total += w * L
            for n in range(L):
                s += w * x[b, n, c]
        inv_total = 1.0 / total if total > 0 else 0.0
        m = s * inv_total
        v = 0.0
        for b in range(B):
            L = min(lengths[b], N)
            w = float(weights[b])
            for n in range(L):
                d = x[b, n, c] - m
                v += w * d * d
        v *= inv_total
        unbias = total / (total - 1.0) if total > 1.0 else 1.0
        mean[c] = m
        inv_std[c] = 1.0 / math.sqrt(v + eps)
        running_mean[c] = (1.0 - momentum) * running_mean[c] + momentum * m
        running_var[c] = (1.0 - momentum) * running_var[c] + momentum * v * unbias


@cuda.jit
def _bn_eval_scale(running_var, eps, inv_std):
    one = inv_std.dtype.type(1.0)  # eps comes in the array dtype
    for c in range(cuda.grid(1), inv_std.shape[0], cuda.gridsize(1)):
        inv_std[c] = one / math.sqrt(running_var[c] + eps)


@cuda.jit
def _bn_apply(x, lengths, gamma, beta, mean, inv_std, relu, y, xhat, store_xhat):
    zero = y.dtype.type(0.0)
    for idx in range(cuda.grid(1), x.size, cuda.gridsize(1)):
        b, n, c, valid = step_at(idx, x, lengths)
        if not valid:
            y[b, n, c] = 0.0
            if store_xhat:
                xhat[b, n, c] = 0.0
            continue
        h = (x[b, n, c] - mean[c]) * inv_std[c]
        if store_xhat:
            xhat[b, n, c] = h
        v = gamma[c] * h + beta[c]
        if relu and not v > zero:
            v = zero * v
        y[b, n, c] = v


@cuda.jit
def _bn_grad_sums(dy, y, xhat, lengths, relu, dgamma, dbeta):
    B, N, C = dy.shape
    for c in range(cuda.grid(1), C, cuda.gridsize(1)):
        db = 0.0
        dg = 0.0
        for b in range(B):
            for n in range(min(lengths[b], N)):
                g = dy[b, n, c]
                if relu and not y[b, n, c] > 0:
                    g = 0.0
                db += g
                dg += g * xhat[b, n, c]
        dbeta[c] = db
        dgamma[c] = dg


@cuda.jit
def _bn_dx(dy, y, xhat, lengths, weights, inv_total, gamma, inv_std, dgamma, dbeta, relu, dx):
    zero = dx.dtype.type(0.0)
    for idx in range(cuda.grid(1), dy.size, cuda.gridsize(1)):
        b, n, c, valid = step_at(idx, dy, lengths)
        if not valid:
            dx[b, n, c] = 0.0
            continue
        g = dy[b, n, c]
        if relu and not y[b, n, c] > zero:
            g = zero * g
        w = weights[b] * inv_total
        dx[b, n, c] = gamma[c] * inv_std[c] * (g - w * (dbeta[c] + xhat[b, n, c] * dgamma[c]))


def _host(a, dtype):
    return np.ascontiguousarray(a.copy_to_host() if hasattr(a, "copy_to_host") else a,
                                dtype=dtype)


def batchnorm_forward_train(x, lengths, weights, gamma, beta, momentum, eps, relu,
                            running_mean, running_var, y, xhat, inv_std):
    B, N, C = x.shape
    lens = to_device(np.minimum(_host(lengths, np.int64), N))
    w = to_device(_host(weights, x.dtype))
    mean = empty((C,), x.dtype)
    if C:
        _bn_stats[grid(C)](x, lens, w, float(momentum), float(eps), running_mean, running_var,
                           mean, inv_std)
    if x.size:
        _bn_apply[grid(x.size)](x, lens, gamma, beta, mean, inv_std, bool(relu), y, xhat, True)


def batchnorm_forward_eval(x, lengths, gamma, beta, eps, relu, running_mean, running_var, y):
    B, N, C = x.shape
    lens = to_device(np.minimum(_host(lengths, np.int64), N))
    inv_std = empty((C,), x.dtype)
    if C:
        _bn_eval_scale[grid(C)](running_var, np.dtype(inv_std.dtype).type(eps), inv_std)
    if x.size:
        _bn_apply[grid(x.size)](x, lens, gamma, beta, running_mean, inv_std, bool(relu), y, y,
                                False)


def batchnorm_backward(dy, y, xhat, lengths, weights, gamma, inv_std, relu, need_dx, dx,
                       dgamma, dbeta):
    B, N, C = dy.shape
    host_lens = np.minimum(_host(lengths, np.int64), N)
    host_w = _host(weights, np.float64)
    lens = to_device(host_lens)
    if C:
        _bn_grad_sums[grid(C)](dy, y, xhat, lens, bool(relu), dgamma, dbeta)
    if not need_dx or not dy.size:
        return
    total = float((host_w * host_lens).sum())
    inv_total = 1.0 / total if total > 0 else 0.0
    _bn_dx[grid(dy.size)](dy, y, xhat, lens, to_device(host_w.astype(dy.dtype)),
                          np.dtype(dy.dtype).type(inv_total), gamma, inv_std, dgamma, dbeta,
                          bool(relu), dx)
