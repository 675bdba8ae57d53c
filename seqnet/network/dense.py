"""Dense and dropout layers (any input rank: they act on the last axis).

A dense layer also takes a scipy.sparse CSR batch (the MLP's first layer on
sparse ``X``, CPU): the products ``x W^T`` and ``dW = dZ^T x`` are then
scipy's sparse-dense products, so only the stored values are touched.
"""

import numpy as np
from scipy.sparse import issparse

from .layers import Layer, ParamSpec, backend_of, kernel


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
        if issparse(x):
            return self._forward_sparse(p, x, ctx)
        n_in = x.shape[x.ndim - 1]  # (device arrays' shapes refuse negative indices)
        x2 = x.reshape(x.size // n_in, n_in)
        out = backend_of(ctx).empty((x2.shape[0], self.units), x.dtype)
        kernel(ctx, "dense_forward")(x2, p["weight"], p["bias"], self.activation_code, out)
        return out.reshape(x.shape[:-1] + (self.units,)), (x2, out, x.shape)

    def backward(self, p, g, cache, dy, ctx):
        x2, out, x_shape = cache
        if issparse(x2):
            return self._backward_sparse(p, g, cache, dy, ctx)
        B = backend_of(ctx)
        d_a = B.copy(dy.reshape(out.shape))  # the kernel overwrites d_a with dZ
        need_dx = ctx.need_input_grad
        d_x = B.empty(x2.shape, x2.dtype) if need_dx else B.empty((1, 1), x2.dtype)
        kernel(ctx, "dense_backward")(
            x2, p["weight"], out, d_a, self.activation_code,
            g["weight"], g["bias"], d_x, need_dx,
        )
        return d_x.reshape(x_shape) if need_dx else None

    def _forward_sparse(self, p, x, ctx):
        """``a = f(x W^T + b)`` for a sparse (B, I) ``x``: scipy's product, then
        the bias and the activation in place."""
        out = np.ascontiguousarray(x @ p["weight"].T, dtype=p["weight"].dtype)
        out += p["bias"]
        kernel(ctx, "activation_forward")(out, self.activation_code, out)
        return out, (x, out, x.shape)

    def _backward_sparse(self, p, g, cache, dy, ctx):
        """``dZ = dA * f'(a)``, ``db = sum_b dZ``, ``dW = dZ^T x = (x^T dZ)^T`` with
        ``x^T`` (CSC) times the dense dZ; ``dX = dZ W`` (dense) if asked."""
        x, out, _ = cache
        d_z = np.empty_like(out)
        kernel(ctx, "activation_backward")(out, np.ascontiguousarray(dy.reshape(out.shape)),
                                           self.activation_code, d_z)
        g["bias"][...] = d_z.sum(axis=0)
        g["weight"][...] = (x.T @ d_z).T
        return d_z @ p["weight"] if ctx.need_input_grad else None


class DropoutLayer(Layer):
    """Inverted dropout; identity when ``ctx.training`` is False or rate is 0."""

    def __init__(self, rate, prefix="dropout"):
        self.rate = float(rate)
        self.prefix = prefix

    def forward(self, p, x, ctx):
        if not ctx.training or self.rate <= 0.0:
            return x, None
        B = backend_of(ctx)
        flat = B.ascontiguous(x).reshape(x.size)
        u = B.to_device(ctx.rng.random(flat.shape[0]).astype(x.dtype))
        out = B.empty(flat.shape, flat.dtype)
        mask = B.empty(flat.shape, flat.dtype)
        kernel(ctx, "dropout_forward")(flat, u, self.rate, out, mask)
        return out.reshape(x.shape), mask

    def backward(self, p, g, cache, dy, ctx):
        if cache is None:
            return dy
        B = backend_of(ctx)
        flat = B.ascontiguous(dy).reshape(dy.size)
        d_x = B.empty(flat.shape, flat.dtype)
        kernel(ctx, "dropout_backward")(flat, cache, d_x)
        return d_x.reshape(dy.shape)
