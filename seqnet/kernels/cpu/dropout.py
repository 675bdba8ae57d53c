"""Inverted dropout: ``y = x * m`` with ``m = 1[u >= rate] / (1 - rate)``.

The uniform draws ``u`` come from the caller's ``numpy.random.Generator`` so
masks (and hence trained weights) do not depend on the thread count.  At
predict time dropout is the identity, which is why the scaling is applied
during training.
"""

from numba import njit


@njit(cache=True)
def dropout_forward(x, u, rate, out, mask):
    """1-D views: writes ``mask`` and ``out = x * mask``."""
    keep = 1.0 - rate
    inv = 1.0 / keep
    for i in range(x.shape[0]):
        m = inv if u[i] >= rate else 0.0
        mask[i] = m
        out[i] = x[i] * m


@njit(cache=True)
def dropout_backward(d_out, mask, d_x):
    for i in range(d_out.shape[0]):
        d_x[i] = d_out[i] * mask[i]
