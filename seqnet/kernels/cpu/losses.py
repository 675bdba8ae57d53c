"""Output losses fused with their output nonlinearity.

Each returns the weighted mean loss and writes d(loss)/d(logits) into ``d_out``.
The mean is over samples weighted by ``sw`` and normalised by ``sum(sw)``, so a
weight of 2 is the same as repeating a sample (scikit-learn's sample-weight
semantics):

- softmax cross-entropy:  l_b = -sum_k y_bk log softmax(z_b)_k,  dz = sw_b (p - y) / W
- sigmoid cross-entropy (binary and multilabel; summed over outputs):
  l_b = sum_k softplus(z) - y z,                                   dz = sw_b (s - y) / W
- squared error (scikit-learn's MLP convention, mean over outputs, halved):
  l_b = 0.5 * mean_k (z - y)^2,                                    dz = sw_b (z - y) / (K W)
"""

import math

from numba import njit


@njit(cache=True, inline="always")
def _total_weight(sw):
    total = 0.0
    for i in range(sw.shape[0]):
        total += sw[i]
    return total if total > 0.0 else 1.0


@njit(cache=True)
def softmax_cross_entropy(z, y, sw, d_out):
    n, k = z.shape
    total_w = _total_weight(sw)
    loss = 0.0
    for i in range(n):
        zmax = z[i, 0]
        for j in range(1, k):
            if z[i, j] > zmax:
                zmax = z[i, j]
        s = 0.0
        for j in range(k):
            s += math.exp(z[i, j] - zmax)
        log_s = math.log(s) + zmax
        scale = sw[i] / total_w
        for j in range(k):
            p = math.exp(z[i, j] - log_s)
            if y[i, j] != 0.0:
                loss -= scale * y[i, j] * (z[i, j] - log_s)
            d_out[i, j] = scale * (p - y[i, j])
    return loss


@njit(cache=True, inline="always")
def _sigmoid_ce_term(v, t, scale):
    """Weighted loss term and gradient of one output: softplus(v) - t v,
    written to never overflow."""
    if v > 0:
        sp = v + math.log1p(math.exp(-v))
        s = 1.0 / (1.0 + math.exp(-v))
    else:
        e = math.exp(v)
        sp = math.log1p(e)
        s = e / (1.0 + e)
    return scale * (sp - t * v), scale * (s - t)


@njit(cache=True, inline="always")
def _squared_term(v, t, scale):
    """Weighted loss term and gradient of one output: (v - t)^2 / 2."""
    r = v - t
    return 0.5 * scale * r * r, scale * r


@njit(cache=True, inline="always")
def _weighted_sum(z, y, sw, norm, term, d_out):
    """``sum_ij term(z_ij, y_ij, sw_i / norm)``, the loss of the elementwise
    losses, whose gradients ``term`` writes into ``d_out``."""
    n, k = z.shape
    loss = 0.0
    for i in range(n):
        scale = sw[i] / norm
        for j in range(k):
            value, grad = term(z[i, j], y[i, j], scale)
            loss += value
            d_out[i, j] = grad
    return loss


@njit(cache=True)
def sigmoid_cross_entropy(z, y, sw, d_out):
    return _weighted_sum(z, y, sw, _total_weight(sw), _sigmoid_ce_term, d_out)


@njit(cache=True)
def squared_error(z, y, sw, d_out):
    return _weighted_sum(z, y, sw, _total_weight(sw) * z.shape[1], _squared_term, d_out)
