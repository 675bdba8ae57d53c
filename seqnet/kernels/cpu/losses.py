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


@njit(cache=True)
def sigmoid_cross_entropy(z, y, sw, d_out):
    n, k = z.shape
    total_w = _total_weight(sw)
    loss = 0.0
    for i in range(n):
        scale = sw[i] / total_w
        for j in range(k):
            v = z[i, j]
            # softplus(v) - y v, written to never overflow
            if v > 0:
                sp = v + math.log1p(math.exp(-v))
                s = 1.0 / (1.0 + math.exp(-v))
            else:
                e = math.exp(v)
                sp = math.log1p(e)
                s = e / (1.0 + e)
            loss += scale * (sp - y[i, j] * v)
            d_out[i, j] = scale * (s - y[i, j])
    return loss


@njit(cache=True)
def squared_error(z, y, sw, d_out):
    n, k = z.shape
    total_w = _total_weight(sw)
    loss = 0.0
    for i in range(n):
        scale = sw[i] / (total_w * k)
        for j in range(k):
            r = z[i, j] - y[i, j]
            loss += 0.5 * scale * r * r
            d_out[i, j] = scale * r
    return loss
