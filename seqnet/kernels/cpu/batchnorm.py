"""Batch normalisation over channels-last feature maps, with an optional fused ReLU.

Data layout
-----------
``x`` is ``(B, N, C)``: ``N`` positions per sample (time steps of a 1-D map, or
``H * W`` pixels of a 2-D map viewed flat) and ``C`` channels.  ``lengths[b]``
is the number of valid positions of sample ``b`` (``N`` for full-length and 2-D
maps); positions ``n >= lengths[b]`` are padding: they take no part in any
statistic and their output (and input gradient) is 0.

Equations (per channel ``c``; sums over valid positions ``(b, n < L_b)``; the
per-sample weights ``w_b`` make a sample of weight 2 count as two copies)::

    W      = sum w_b                       mean = sum w_b x / W
    var    = sum w_b (x - mean)^2 / W      s    = 1 / sqrt(var + eps)
    xhat   = (x - mean) * s                y    = act(gamma * xhat + beta)
    running_mean = (1 - m) running_mean + m mean
    running_var  = (1 - m) running_var  + m var * W / (W - 1)   (unbiased, as PyTorch)

Backward (``g = dy * act'`` from ``y``; ``act`` is identity or ReLU)::

    dbeta  = sum g                         dgamma = sum g xhat
    dxhat  = g * gamma
    dx     = gamma * s * (g - w_b / W * (dbeta + xhat * dgamma))
  Eval mode normalises with the running
statistics: ``y = act(gamma * (x - running_mean) / sqrt(running_var + eps) + beta)``.
PyTorch's defaults: momentum 0.1, eps 1e-5.

Serial loops, innermost over contiguous channels: memory-bound next to the
convolutions' BLAS products (which own the cores, see ``conv.py``).  Sums run in
a fixed order, so results are bitwise reproducible.
"""

import numpy as np
from numba import njit


@njit(cache=True)
def batchnorm_forward_train(x, lengths, weights, gamma, beta, momentum, eps, relu,
                            running_mean, running_var, y, xhat, inv_std):
    """Training-mode forward: batch statistics; running statistics updated in place.

    Parameters
    ----------
    x : (B, N, C) float array
    lengths : (B,) int64 array
        Valid positions per sample (``N`` where all are valid).
    weights : (B,) float array
        Per-sample weights of the statistics (ones for plain batch statistics).
    gamma, beta : (C,) float arrays
    momentum, eps : float
    relu : bool
        Fuse a ReLU after the affine map.
    running_mean, running_var : (C,) float arrays, UPDATED in place.
    y, xhat : (B, N, C) float arrays, OVERWRITTEN (0 at padding).
    inv_std : (C,) float array, OVERWRITTEN with ``1 / sqrt(var + eps)``.
    """
    B, N, C = x.shape
    mean = np.zeros(C, dtype=np.float64)
    var = np.zeros(C, dtype=np.float64)
    total = 0.0
    for b in range(B):
        w = weights[b]
        L = min(lengths[b], N)
        total += w * L
        for n in range(L):
            xr = x[b, n]
            for c in range(C):
                mean[c] += w * xr[c]
    inv_total = 1.0 / total if total > 0 else 0.0
    for c in range(C):
        mean[c] *= inv_total
    for b in range(B):
        w = weights[b]
        L = min(lengths[b], N)
        for n in range(L):
            xr = x[b, n]
            for c in range(C):
                d = xr[c] - mean[c]
                var[c] += w * d * d
    unbias = total / (total - 1.0) if total > 1.0 else 1.0
    for c in range(C):
        var[c] *= inv_total
        inv_std[c] = 1.0 / np.sqrt(var[c] + eps)
        running_mean[c] = (1.0 - momentum) * running_mean[c] + momentum * mean[c]
        running_var[c] = (1.0 - momentum) * running_var[c] + momentum * var[c] * unbias
    for b in range(B):
        L = min(lengths[b], N)
        for n in range(N):
            yr = y[b, n]
            hr = xhat[b, n]
            if n >= L:
                for c in range(C):
                    yr[c] = 0.0
                    hr[c] = 0.0
                continue
            xr = x[b, n]
            for c in range(C):
                h = (xr[c] - mean[c]) * inv_std[c]
                hr[c] = h
                v = gamma[c] * h + beta[c]
                if relu and not v > 0:
                    v = 0.0 * v
                yr[c] = v


@njit(cache=True)
def batchnorm_forward_eval(x, lengths, gamma, beta, eps, relu, running_mean, running_var, y):
    """Inference forward with the running statistics; ``y`` (B, N, C) OVERWRITTEN
    (0 at padding).  Arguments as :func:`batchnorm_forward_train`."""
    B, N, C = x.shape
    scale = np.empty(C, dtype=np.float64)
    shift = np.empty(C, dtype=np.float64)
    for c in range(C):
        scale[c] = gamma[c] / np.sqrt(running_var[c] + eps)
        shift[c] = beta[c] - running_mean[c] * scale[c]
    for b in range(B):
        L = max(min(lengths[b], N), 0)
        for n in range(L):
            xr, yr = x[b, n], y[b, n]
            for c in range(C):
                v = xr[c] * scale[c] + shift[c]
                if relu and not v > 0:
                    v = 0.0 * v
                yr[c] = v
        y[b, L:] = 0.0  # padding


@njit(cache=True)
def batchnorm_backward(dy, y, xhat, lengths, weights, gamma, inv_std, relu, need_dx, dx,
                       dgamma, dbeta):
    """Backward of :func:`batchnorm_forward_train`.

    Parameters
    ----------
    dy, y, xhat : (B, N, C) float arrays (``y`` and ``xhat`` from the forward pass).
    lengths, weights, gamma, relu : as in the forward pass.
    inv_std : (C,) float array from the forward pass.
    need_dx : bool
        When False ``dx`` is not touched.
    dx : (B, N, C) float array, OVERWRITTEN (0 at padding) when ``need_dx``.
    dgamma, dbeta : (C,) float arrays, OVERWRITTEN.
    """
    B, N, C = dy.shape
    db = np.zeros(C, dtype=np.float64)
    dg = np.zeros(C, dtype=np.float64)
    total = 0.0
    for b in range(B):
        L = max(min(lengths[b], N), 0)
        total += weights[b] * L
        for n in range(L):
            dyr, yr, hr = dy[b, n], y[b, n], xhat[b, n]
            for c in range(C):
                g = dyr[c]
                if relu and not yr[c] > 0:
                    g = 0.0
                db[c] += g
                dg[c] += g * hr[c]
                if need_dx:  # the masked gradient, finished below once the sums are known
                    dx[b, n, c] = g
    for c in range(C):
        dbeta[c] = db[c]
        dgamma[c] = dg[c]
    if not need_dx:
        return
    inv_total = 1.0 / total if total > 0 else 0.0
    for b in range(B):
        w = weights[b] * inv_total
        L = max(min(lengths[b], N), 0)
        for n in range(L):
            dxr, hr = dx[b, n], xhat[b, n]
            for c in range(C):
                dxr[c] = gamma[c] * inv_std[c] * (dxr[c] - w * (db[c] + hr[c] * dg[c]))
        dx[b, L:] = 0.0  # padding
