"""Plain-NumPy float64 references for batch normalisation and global pooling."""

import numpy as np


def _valid(shape, lengths):
    B, N = shape[0], shape[1]
    return np.arange(N)[None, :] < np.asarray(lengths)[:, None]  # (B, N)


def batchnorm_train(x, lengths, weights, gamma, beta, momentum, eps, relu, rm, rv):
    """Returns ``(y, new_running_mean, new_running_var)``; x (B, N, C)."""
    m = _valid(x.shape, lengths)[..., None] * np.asarray(weights)[:, None, None]
    W = m.sum(axis=(0, 1))
    mean = (m * x).sum(axis=(0, 1)) / W
    var = (m * (x - mean) ** 2).sum(axis=(0, 1)) / W
    y = gamma * (x - mean) / np.sqrt(var + eps) + beta
    if relu:
        y = np.maximum(y, 0.0)
    y = y * _valid(x.shape, lengths)[..., None]
    new_rm = (1 - momentum) * rm + momentum * mean
    new_rv = (1 - momentum) * rv + momentum * var * W / (W - 1)
    return y, new_rm, new_rv


def batchnorm_eval(x, lengths, gamma, beta, eps, relu, rm, rv):
    y = gamma * (x - rm) / np.sqrt(rv + eps) + beta
    if relu:
        y = np.maximum(y, 0.0)
    return y * _valid(x.shape, lengths)[..., None]


def global_avgpool(x, lengths):
    x = x.reshape(x.shape[0], -1, x.shape[-1])
    m = _valid(x.shape, lengths)[..., None]
    return (x * m).sum(axis=1) / np.asarray(lengths)[:, None]


def global_maxpool(x, lengths):
    x = x.reshape(x.shape[0], -1, x.shape[-1])
    m = _valid(x.shape, lengths)[..., None]
    return np.where(m, x, -np.inf).max(axis=1)
