"""The recursive (tree) layer: a batch of trees in, one state per tree out.

A leaf's state is ``f(W_leaf x + b_leaf)``, an inner node's
``f(W_left h_left + W_right h_right + b)``; the layer's output is each tree's
root state, or with ``pooling='mean'`` the mean state over its nodes.  The
input is a :class:`~seqnet.network.tree_encoding.Forest` (the estimators'
internal ``X``); the math runs in the ``tree_*`` kernels of ``ctx.backend``,
over all nodes of the batch level by level (``kernels/cpu/tree.py``).

Public names: ``tree.weight_leaf`` (H, F), ``tree.bias_leaf`` (H,),
``tree.weight_left`` (H, H), ``tree.weight_right`` (H, H), ``tree.bias`` (H,).
"""

import numpy as np

from seqnet.kernels.contract import ACTIVATION_CODES

from .layers import Layer, ParamSpec, backend_of, kernel

TREE_POOLING = ("root", "mean")


class TreeLayer(Layer):
    """Recursive cell over binary trees.

    Parameters
    ----------
    hidden_size : int
        H, the size of every node's state and of the output.
    activation : {'tanh', 'relu'} or another name of ``ACTIVATION_CODES``
    pooling : {'root', 'mean'}
    """

    prefix = "tree"

    def __init__(self, hidden_size, activation="tanh", pooling="root"):
        if int(hidden_size) < 1:
            raise ValueError(f"hidden_size must be >= 1, got {hidden_size!r}")
        if pooling not in TREE_POOLING:
            raise ValueError(f"pooling must be one of {TREE_POOLING}, got {pooling!r}")
        self.hidden_size = int(hidden_size)
        self.kind = ACTIVATION_CODES[activation]
        self.pooling = pooling

    def build(self, in_shape):
        in_shape = tuple(in_shape)
        if len(in_shape) != 1:
            raise ValueError(f"TreeLayer expects (n_features,) per leaf, got {in_shape}")
        self.in_shape = in_shape
        self.out_shape = (self.hidden_size,)
        return self.out_shape

    def param_specs(self):
        H, F = self.hidden_size, self.in_shape[0]
        return [
            ParamSpec("weight_leaf", (H, F), "default", F, H),
            ParamSpec("bias_leaf", (H,), "zeros", F, H, regularize=False),
            # an inner node reads 2 H values: both child matrices scale by it
            ParamSpec("weight_left", (H, H), "default", 2 * H, H),
            ParamSpec("weight_right", (H, H), "default", 2 * H, H),
            ParamSpec("bias", (H,), "zeros", 2 * H, H, regularize=False),
        ]

    def forward(self, p, x, ctx):
        levels = x.levels()
        B = backend_of(ctx)
        dtype = p["weight_leaf"].dtype
        ptr, nodes, weight = levels.root_pool if self.pooling == "root" else levels.mean_pool
        host = (levels.x_leaf.astype(dtype, copy=False), levels.left, levels.right, ptr,
                nodes, weight.astype(dtype, copy=False))
        arrays = [B.to_device(np.ascontiguousarray(a)) for a in host]
        x_leaf, left, right, pool_ptr, pool_nodes, pool_weight = arrays
        # level_ptr stays on the host: the CUDA twin launches one product per level
        level_ptr = levels.level_ptr
        H = self.hidden_size
        h = B.empty((levels.n_nodes, H), dtype)
        children = B.empty((levels.n_nodes - levels.n_leaves, 2 * H), dtype)
        kernel(ctx, "tree_forward")(x_leaf, left, right, level_ptr, p["weight_leaf"],
                                    p["bias_leaf"], p["weight_left"], p["weight_right"],
                                    p["bias"], self.kind, children, h)
        out = B.empty((levels.n_trees, H), dtype)
        kernel(ctx, "tree_pool_forward")(h, pool_ptr, pool_nodes, pool_weight, out)
        keep = ctx.keep_cache
        return out, ((x_leaf, left, right, level_ptr, h, children, pool_ptr, pool_nodes,
                      pool_weight) if keep else None)

    def backward(self, p, g, cache, dy, ctx):
        x_leaf, left, right, level_ptr, h, children, pool_ptr, pool_nodes, pool_weight = cache
        B = backend_of(ctx)
        d_h = B.empty(h.shape, h.dtype)
        kernel(ctx, "tree_pool_backward")(B.ascontiguous(dy), pool_ptr, pool_nodes,
                                          pool_weight, d_h)
        kernel(ctx, "tree_backward")(d_h, x_leaf, left, right, level_ptr, h, children,
                                     p["weight_left"], p["weight_right"], self.kind,
                                     g["weight_leaf"], g["bias_leaf"], g["weight_left"],
                                     g["weight_right"], g["bias"])
        return None  # trees are data: no gradient with respect to them
