"""Elementwise activations and their derivatives.

Every derivative is written in terms of the activation's OUTPUT ``a`` so that
layers keep only their outputs for the backward pass (no pre-activation copy):

=============  ===========================  ==================================
kind (code)    a = f(z)                     f'(z) from a
=============  ===========================  ==================================
identity  0    z                            1
logistic  1    1 / (1 + exp(-z))            a (1 - a)
tanh      2    tanh z                       1 - a^2
relu      3    max(z, 0)                    1[a > 0]
leaky_relu 4   z if z > 0 else 0.01 z       1 if a > 0 else 0.01
lecun_tanh 5   1.7159 tanh(2z/3)            (2/3)(1.7159 - a^2 / 1.7159)
=============  ===========================  ==================================
"""

import math

from numba import njit

from seqnet.kernels.contract import (  # noqa: F401  (the codes, for the kernels here)
    ACTIVATION_CODES,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_SLOPE,
    LECUN_SCALE,
    LECUN_TANH,
    LOGISTIC,
    RELU,
    TANH,
)


@njit(cache=True, inline="always")
def sigmoid_scalar(z):
    # Split by sign so exp never overflows.
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@njit(cache=True, inline="always")
def activate_scalar(z, kind):
    if kind == IDENTITY:
        return z
    if kind == LOGISTIC:
        return sigmoid_scalar(z)
    if kind == TANH:
        return math.tanh(z)
    if kind == RELU:
        return z if z > 0 else 0.0 * z
    if kind == LEAKY_RELU:
        return z if z > 0 else LEAKY_SLOPE * z
    return LECUN_SCALE * math.tanh(z * (2.0 / 3.0))


@njit(cache=True, inline="always")
def derivative_from_output(a, kind):
    if kind == IDENTITY:
        return 1.0
    if kind == LOGISTIC:
        return a * (1.0 - a)
    if kind == TANH:
        return 1.0 - a * a
    if kind == RELU:
        return 1.0 if a > 0 else 0.0
    if kind == LEAKY_RELU:
        return 1.0 if a > 0 else LEAKY_SLOPE
    return (2.0 / 3.0) * (LECUN_SCALE - a * a / LECUN_SCALE)


@njit(cache=True)
def activation_forward(z, kind, out):
    """``out[i, j] = f(z[i, j])`` for 2-D arrays (``out`` may be ``z``)."""
    n, m = z.shape
    for i in range(n):
        for j in range(m):
            out[i, j] = activate_scalar(z[i, j], kind)


@njit(cache=True)
def activation_backward(a, d_a, kind, d_z):
    """``d_z = d_a * f'(z)`` with ``f'`` computed from the output ``a`` (2-D)."""
    n, m = a.shape
    for i in range(n):
        for j in range(m):
            d_z[i, j] = d_a[i, j] * derivative_from_output(a[i, j], kind)
