"""Fully connected layer: forward with fused bias and activation, and its backward.

Forward::

    a = f(x W^T + b)                 x (B, I), W (O, I), b (O,), a (B, O)

Backward, with f' computed from the output a (see activations.py)::

    dZ = dA * f'(a)
    dW = dZ^T x        db = sum_b dZ        dX = dZ W

The products go to BLAS (numba's ``np.dot``); the elementwise parts are fused
loops, so no temporary pre-activation array is kept between the passes.
"""

import numpy as np
from numba import njit

from .activations import activate_scalar, derivative_from_output


@njit(cache=True)
def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; ``out`` is (B, O), preallocated."""
    np.dot(x, w.T, out)
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = activate_scalar(out[i, j] + b[j], kind)


@njit(cache=True)
def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; overwrites ``d_w``, ``d_b`` and (if asked) ``d_x``.

    ``d_a`` is overwritten with dZ = dA * f'(a) to avoid a temporary.
    """
    n, m = a.shape
    for j in range(m):
        d_b[j] = 0.0
    for i in range(n):
        for j in range(m):
            dz = d_a[i, j] * derivative_from_output(a[i, j], kind)
            d_a[i, j] = dz
            d_b[j] += dz
    np.dot(d_a.T, x, d_w)
    if compute_dx:
        np.dot(d_a, w, d_x)
