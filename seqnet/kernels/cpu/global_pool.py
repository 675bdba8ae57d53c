"""Masked global pooling over time or space, and masking of padded steps.

Feature maps are channels-last: ``(B, T, C)`` sequences or ``(B, H, W, C)``
images.  Global pooling reduces every sample to ``(B, C)``:

    avg:  y[b, c] = sum_{n < L_b} x[b, n, c] / L_b      dx[b, n, c] = dy[b, c] / L_b
    max:  y[b, c] = max_{n < L_b} x[b, n, c]            dx routed to the (first) argmax

with ``n`` running over the ``N = T`` steps (or ``H * W`` pixels viewed flat) and
``L_b = lengths[b]`` the valid ones (padding gets no gradient).  These are
Python views onto the sequence-pooling kernels of ``recurrent.py`` (the same
loops, so nothing new to compile).

:func:`mask_steps` zeroes the padded steps of a ``(B, T, C)`` map in place: a
convolution over a padded batch writes values at padded steps, and zeroing them
makes the next layer see exactly the zero padding an unpadded sequence has.
"""

from numba import njit

from .recurrent import (
    seqpool_max_backward,
    seqpool_max_forward,
    seqpool_mean_backward,
    seqpool_mean_forward,
)


def _flat(x):
    return x.reshape((x.shape[0], x.size // (x.shape[0] * x.shape[-1]) if x.shape[0] else 0,
                      x.shape[-1]))


def _positions(x_shape):
    """Positions per sample of a ``(B, ..., C)`` map: the product of the middle axes."""
    n = 1
    for s in x_shape[1:-1]:
        n *= s
    return n


def global_avgpool_forward(x, lengths):
    """Average over the valid positions: ``x`` (B, ..., C) -> (B, C)."""
    return seqpool_mean_forward(_flat(x), lengths)


def global_avgpool_backward(dy, lengths, x_shape):
    """Gradient (shape ``x_shape``) of :func:`global_avgpool_forward`."""
    return seqpool_mean_backward(dy, lengths, _positions(x_shape)).reshape(x_shape)


def global_maxpool_forward(x, lengths):
    """Max over the valid positions: ``(y (B, C), argmax (B, C) int64)``."""
    return seqpool_max_forward(_flat(x), lengths)


def global_maxpool_backward(dy, argmax, x_shape):
    """Gradient (shape ``x_shape``) of :func:`global_maxpool_forward`."""
    return seqpool_max_backward(dy, argmax, _positions(x_shape)).reshape(x_shape)


@njit(cache=True)
def mask_steps(x, lengths):
    """Zero ``x[b, t, :]`` for ``t >= lengths[b]`` in place; ``x`` (B, T, C)."""
    B, T, C = x.shape
    for b in range(B):
        for t in range(max(lengths[b], 0), T):
            xr = x[b, t]
            for c in range(C):
                xr[c] = 0.0
