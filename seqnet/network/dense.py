"""Dense and dropout layers (any input rank: they act on the last axis)."""

import numpy as np

from seqnet.kernels import cpu as _cpu

from .layers import Layer, ParamSpec


def _kernel(ctx, name):
    backend = ctx.backend if ctx is not None and ctx.backend is not None else _cpu
    return getattr(backend, name)


class DenseLayer(Layer):
    """``a = f(x W^T + b)`` on the last axis; ``prefix`` like ``"dense.0"`` or ``"out"``."""

    def __init__(self, units, prefix, activation_code):
        self.units = int(units)
        self.prefix = prefix
        self.activation_code = int(activation_code)

    def build(self, in_shape):
        self.in_shape = tuple(in_shape)
        self.out_shape = self.in_shape[:-1] + (self.units,)
        return self.out_shape

    def param_specs(self):
        n_in = self.in_shape[-1]
        return [
            ParamSpec("weight", (self.units, n_in), "default", n_in, self.units, True),
            ParamSpec("bias", (self.units,), "zeros", n_in, self.units, False),
        ]

    def forward(self, p, x, ctx):
        x2 = x.reshape(-1, x.shape[-1])
        out = np.empty((x2.shape[0], self.units), dtype=x.dtype)
        _kernel(ctx, "dense_forward")(x2, p["weight"], p["bias"], self.activation_code, out)
        return out.reshape(x.shape[:-1] + (self.units,)), (x2, out, x.shape)

    def backward(self, p, g, cache, dy, ctx):
        x2, out, x_shape = cache
        d_a = np.ascontiguousarray(dy.reshape(out.shape))
        if d_a is dy or np.shares_memory(d_a, dy):
            d_a = d_a.copy()  # the kernel overwrites d_a with dZ
        need_dx = ctx.need_input_grad
        d_x = np.empty_like(x2) if need_dx else np.empty((1, 1), dtype=x2.dtype)
        _kernel(ctx, "dense_backward")(
            x2, p["weight"], out, d_a, self.activation_code,
            g["weight"], g["bias"], d_x, need_dx,
        )
        return d_x.reshape(x_shape) if need_dx else None


class DropoutLayer(Layer):
    """Inverted dropout; identity when ``ctx.training`` is False or rate is 0."""

    def __init__(self, rate, prefix="dropout"):
        self.rate = float(rate)
        self.prefix = prefix

    def forward(self, p, x, ctx):
        if not ctx.training or self.rate <= 0.0:
            return x, None
        flat = np.ascontiguousarray(x).reshape(-1)
        u = ctx.rng.random(flat.shape[0]).astype(x.dtype)
        out = np.empty_like(flat)
        mask = np.empty_like(flat)
        _kernel(ctx, "dropout_forward")(flat, u, self.rate, out, mask)
        return out.reshape(x.shape), mask

    def backward(self, p, g, cache, dy, ctx):
        if cache is None:
            return dy
        flat = np.ascontiguousarray(dy).reshape(-1)
        d_x = np.empty_like(flat)
        _kernel(ctx, "dropout_backward")(flat, cache, d_x)
        return d_x.reshape(dy.shape)
