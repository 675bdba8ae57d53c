"""Device functions of the activations (same codes and formulas as
``seqnet.kernels.cpu.activations``; derivatives from the OUTPUT ``a``).

Every constant is cast to the argument's type (``type(z)(...)``): a float32
kernel computes in float32 (a bare Python float would make it float64).
"""

import math

from numba import cuda

from seqnet.kernels.contract import (  # noqa: F401  (plain ints)
    ACTIVATION_CODES,
    IDENTITY,
    LEAKY_RELU,
    LEAKY_SLOPE,
    LECUN_SCALE,
    LOGISTIC,
    RELU,
    TANH,
)


@cuda.jit(device=True, inline=True)
def sigmoid(z):
    one = type(z)(1.0)
    if z >= 0:
        return one / (one + math.exp(-z))
    e = math.exp(z)
    return e / (one + e)


@cuda.jit(device=True, inline=True)
def activate(z, kind):
    dt = type(z)
    if kind == IDENTITY:
        return z
    if kind == LOGISTIC:
        return sigmoid(z)
    if kind == TANH:
        return math.tanh(z)
    if kind == RELU:
        return z if z > 0 else dt(0.0) * z
    if kind == LEAKY_RELU:
        return z if z > 0 else dt(LEAKY_SLOPE) * z
    return dt(LECUN_SCALE) * math.tanh(z * dt(2.0 / 3.0))


@cuda.jit(device=True, inline=True)
def derivative(a, kind):
    dt = type(a)
    one = dt(1.0)
    if kind == IDENTITY:
        return one
    if kind == LOGISTIC:
        return a * (one - a)
    if kind == TANH:
        return one - a * a
    if kind == RELU:
        return one if a > 0 else dt(0.0)
    if kind == LEAKY_RELU:
        return one if a > 0 else dt(LEAKY_SLOPE)
    scale = dt(LECUN_SCALE)
    return dt(2.0 / 3.0) * (scale - a * a / scale)
