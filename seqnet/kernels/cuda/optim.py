"""Fused optimizer updates over the flat device parameter buffer (CUDA twins
of ``seqnet.kernels.cpu.optim``: same equations, one grid-stride kernel each).
``add_elastic_net`` and ``global_norm`` return host floats through one
deterministic reduction each.

Scalars (learning rate, decay rates, ...) are cast once on the host to the
parameters' dtype and constants inside the kernels are typed: a float32
model updates in float32 (``_dt`` below)."""

import math

from numba import cuda

from .arrays import grid
from .reduce import NONFINITE, SUMSQ, host_sum


@cuda.jit
def _sgd(params, grads, velocity, lr, momentum, nesterov):
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        v = momentum * velocity[i] - lr * grads[i]
        velocity[i] = v
        if nesterov:
            params[i] += momentum * v - lr * grads[i]
        else:
            params[i] += v


@cuda.jit
def _adam(params, grads, m, s, lr_t, beta_1, beta_2, epsilon):
    one = params.dtype.type(1.0)
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        g = grads[i]
        mi = beta_1 * m[i] + (one - beta_1) * g
        si = beta_2 * s[i] + (one - beta_2) * g * g
        m[i] = mi
        s[i] = si
        params[i] -= lr_t * mi / (math.sqrt(si) + epsilon)


@cuda.jit
def _rmsprop(params, grads, s, lr, rho, epsilon):
    one = params.dtype.type(1.0)
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        g = grads[i]
        si = rho * s[i] + (one - rho) * g * g
        s[i] = si
        params[i] -= lr * g / (math.sqrt(si) + epsilon)


@cuda.jit
def _adagrad(params, grads, s, lr, epsilon):
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        g = grads[i]
        si = s[i] + g * g
        s[i] = si
        params[i] -= lr * g / (math.sqrt(si) + epsilon)


@cuda.jit
def _adadelta(params, grads, s, u, lr, rho, epsilon):
    one = params.dtype.type(1.0)
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        g = grads[i]
        si = rho * s[i] + (one - rho) * g * g
        s[i] = si
        d = math.sqrt(u[i] + epsilon) / math.sqrt(si + epsilon) * g
        u[i] = rho * u[i] + (one - rho) * d * d
        params[i] -= lr * d


@cuda.jit
def _elastic_net(params, grads, reg_mask, l2, l1, penalty):
    dt = params.dtype.type
    zero = dt(0.0)
    one = dt(1.0)
    half = dt(0.5)
    for i in range(cuda.grid(1), params.shape[0], cuda.gridsize(1)):
        if reg_mask[i]:
            p = params[i]
            sign = (one if p > zero else zero) - (one if p < zero else zero)
            penalty[i] = half * l2 * p * p + l1 * abs(p)
            grads[i] += l2 * p + l1 * sign
        else:
            penalty[i] = zero


@cuda.jit
def _scale(grads, factor):
    for i in range(cuda.grid(1), grads.shape[0], cuda.gridsize(1)):
        grads[i] *= factor


def _n(a):
    return a.shape[0]


def _dt(a, *scalars):
    """The host scalars cast to ``a``'s dtype (NumPy scalars: typed float32 on launch)."""
    t = a.dtype.type
    return tuple(t(v) for v in scalars)


def sgd_update(params, grads, velocity, lr, momentum, nesterov):
    if _n(params):
        _sgd[grid(_n(params))](params, grads, velocity, *_dt(params, lr, momentum),
                               bool(nesterov))


def adam_update(params, grads, m, s, lr_t, beta_1, beta_2, epsilon):
    if _n(params):
        _adam[grid(_n(params))](params, grads, m, s,
                                *_dt(params, lr_t, beta_1, beta_2, epsilon))


def rmsprop_update(params, grads, s, lr, rho, epsilon):
    if _n(params):
        _rmsprop[grid(_n(params))](params, grads, s, *_dt(params, lr, rho, epsilon))


def adagrad_update(params, grads, s, lr, epsilon):
    if _n(params):
        _adagrad[grid(_n(params))](params, grads, s, *_dt(params, lr, epsilon))


def adadelta_update(params, grads, s, u, lr, rho, epsilon):
    if _n(params):
        _adadelta[grid(_n(params))](params, grads, s, u, *_dt(params, lr, rho, epsilon))


def add_elastic_net(params, grads, reg_mask, alpha, l1_ratio):
    """Add the elastic-net gradient to ``grads``; return the penalty (host float)."""
    n = _n(params)
    if n == 0:
        return 0.0
    penalty = cuda.device_array(n, dtype=params.dtype)  # summed in float64 by host_sum
    _elastic_net[grid(n)](params, grads, reg_mask,
                          *_dt(params, alpha * (1.0 - l1_ratio), alpha * l1_ratio), penalty)
    return host_sum(penalty)


def global_norm(grads):
    """Euclidean norm of the whole gradient (float64 accumulation), host float."""
    return math.sqrt(host_sum(grads, SUMSQ))


def scale_inplace(grads, factor):
    if _n(grads):
        _scale[grid(_n(grads))](grads, *_dt(grads, factor))


def all_finite(a):
    """True when no entry of ``a`` is NaN or infinite (one reduction)."""
    if a.size == 0:
        return True
    return host_sum(a.reshape(a.size), NONFINITE) == 0.0
