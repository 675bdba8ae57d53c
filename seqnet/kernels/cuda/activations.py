"""Device functions of the activations (same codes and formulas as
``seqnet.kernels.cpu.activations``; derivatives from the OUTPUT ``a``)."""

import math

from numba import cuda

from seqnet.kernels.cpu.activations import (  # noqa: F401  (plain ints)
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
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


@cuda.jit(device=True, inline=True)
def activate(z, kind):
    if kind == IDENTITY:
        return z
    if kind == LOGISTIC:
        return sigmoid(z)
    if kind == TANH:
        return math.tanh(z)
    if kind == RELU:
        return z if z > 0 else 0.0 * z
    if kind == LEAKY_RELU:
        return z if z > 0 else LEAKY_SLOPE * z
    return LECUN_SCALE * math.tanh(z * (2.0 / 3.0))


@cuda.jit(device=True, inline=True)
def derivative(a, kind):
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
