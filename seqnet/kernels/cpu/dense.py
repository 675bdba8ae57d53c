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

from .activations import (
    IDENTITY,
    LEAKY_RELU,
    LECUN_TANH,
    LOGISTIC,
    RELU,
    TANH,
    activate_scalar,
    derivative_from_output,
)


@njit(cache=True, inline="always")
def _bias_activate(out, b, kind):
    n, m = out.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = activate_scalar(out[i, j] + b[j], kind)


@njit(cache=True, inline="always")
def _activation_grad(a, d_a, kind, d_b):
    n, m = a.shape
    for j in range(m):
        d_b[j] = 0.0
    for i in range(n):
        for j in range(m):
            dz = d_a[i, j] * derivative_from_output(a[i, j], kind)
            d_a[i, j] = dz
            d_b[j] += dz


# The elementwise loops are specialised per activation: with ``kind`` a
# constant after inlining, LLVM drops the dispatch and emits branch-free
# (vectorised) selects.  A runtime ``kind`` inside the loop left data-dependent
# branches there (relu's sign is a coin flip: ~8 ns per element mispredicted).
@njit(cache=True)
def dense_forward(x, w, b, kind, out):
    """``out[...] = f(x @ w.T + b)``; ``out`` is (B, O), preallocated."""
    np.dot(x, w.T, out)
    if kind == IDENTITY:
        _bias_activate(out, b, IDENTITY)
    elif kind == LOGISTIC:
        _bias_activate(out, b, LOGISTIC)
    elif kind == TANH:
        _bias_activate(out, b, TANH)
    elif kind == RELU:
        _bias_activate(out, b, RELU)
    elif kind == LEAKY_RELU:
        _bias_activate(out, b, LEAKY_RELU)
    else:
        _bias_activate(out, b, LECUN_TANH)


@njit(cache=True)
def dense_backward(x, w, a, d_a, kind, d_w, d_b, d_x, compute_dx):
    """Gradients of a dense layer; overwrites ``d_w``, ``d_b`` and (if asked) ``d_x``.

    ``d_a`` is overwritten with dZ = dA * f'(a) to avoid a temporary.
    """
    if kind == IDENTITY:
        _activation_grad(a, d_a, IDENTITY, d_b)
    elif kind == LOGISTIC:
        _activation_grad(a, d_a, LOGISTIC, d_b)
    elif kind == TANH:
        _activation_grad(a, d_a, TANH, d_b)
    elif kind == RELU:
        _activation_grad(a, d_a, RELU, d_b)
    elif kind == LEAKY_RELU:
        _activation_grad(a, d_a, LEAKY_RELU, d_b)
    else:
        _activation_grad(a, d_a, LECUN_TANH, d_b)
    np.dot(d_a.T, x, d_w)
    if compute_dx:
        np.dot(d_a, w, d_x)
