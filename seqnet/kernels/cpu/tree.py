"""Recursive (tree) cell over a whole batch of trees, level by level.

The nodes of a batch are rows of ``h`` ordered by height (see
``seqnet.network.tree_encoding``): rows ``level_ptr[l]:level_ptr[l + 1]`` are
the nodes of height ``l``, the leaves first, and a node's children are always
in earlier rows.  Forward::

    h[leaf]  = f(x_leaf W_leaf^T + b_leaf)                  one product for all leaves
    G[node]  = [h[left[node]] | h[right[node]]]             gather, per height
    h[level] = f(G[level] [W_left | W_right]^T + b)         one product per height

Backward, in reverse height order, with f' from the output h::

    dZ[level] = dH[level] * f'(h[level])
    dG        = dZ[level] [W_left | W_right]                one product per height
    dH[left] += dG[:, :H]      dH[right] += dG[:, H:]       (each child has one parent)
    [dW_left | dW_right] = dZ[inner]^T G    dW_leaf = dZ[leaf]^T x_leaf
    db = sum dZ[inner]                      db_leaf = sum dZ[leaf]

The weight gradients are one product each after the level loop, over the
inner nodes of all heights at once (``G`` is kept from the forward pass).
Pooling gathers each tree's root, or the mean of its nodes, as a weighted sum
over a list of rows per tree.
"""

import numpy as np
from numba import njit

from .activations import ACTIVATION_CODES, activate_scalar, derivative_from_output
from .blas import gemm
from .jit import helper


@helper(error_model="numpy")
def _side_by_side(a, b):
    """``[a | b]`` for two (H, H) matrices: the children weights as one operand."""
    n, m = a.shape
    out = np.empty((n, 2 * m), dtype=a.dtype)
    for i in range(n):
        for j in range(m):
            out[i, j] = a[i, j]
            out[i, m + j] = b[i, j]
    return out


@helper(error_model="numpy")
def _column_sums(m, start, stop, out):
    for j in range(out.shape[0]):
        out[j] = 0.0
    for i in range(start, stop):
        for j in range(out.shape[0]):
            out[j] += m[i, j]


@njit(cache=True, error_model="numpy", inline="always")
def _bias_activate(h, start, stop, b, kind):
    for i in range(start, stop):
        for j in range(h.shape[1]):
            h[i, j] = activate_scalar(h[i, j] + b[j], kind)


def _tree_kernels(kind):
    """``(forward, backward)`` of the tree cell with activation ``kind`` (a
    constant of the closures, as the dense kernels: only the activation in use
    compiles, without a branch in the loops).  Their helpers are module-level
    functions: a jitted closure variable would change the cache key in every
    process, so the kernel would compile again each time."""

    @njit(cache=True, error_model="numpy")
    def forward(x_leaf, left, right, level_ptr, w_leaf, b_leaf, w_left, w_right, bias,
                children, h):
        n_hidden = h.shape[1]
        n_leaves = level_ptr[1]
        gemm(x_leaf, w_leaf, h[:n_leaves], trans_b=True)
        _bias_activate(h, 0, n_leaves, b_leaf, kind)
        w_children = _side_by_side(w_left, w_right)
        for lv in range(1, level_ptr.shape[0] - 1):
            start, stop = level_ptr[lv], level_ptr[lv + 1]
            for i in range(start, stop):
                g, li, ri = i - n_leaves, left[i], right[i]
                for j in range(n_hidden):
                    children[g, j] = h[li, j]
                    children[g, n_hidden + j] = h[ri, j]
            gemm(children[start - n_leaves:stop - n_leaves], w_children, h[start:stop],
                 trans_b=True)
            _bias_activate(h, start, stop, bias, kind)

    @njit(cache=True, error_model="numpy")
    def backward(d_h, x_leaf, left, right, level_ptr, h, children, w_left, w_right,
                 d_w_leaf, d_b_leaf, d_w_left, d_w_right, d_bias):
        n_nodes, n_hidden = h.shape
        n_leaves = level_ptr[1]
        w_children = _side_by_side(w_left, w_right)
        d_children = np.empty((n_nodes - n_leaves, 2 * n_hidden), dtype=h.dtype)
        for lv in range(level_ptr.shape[0] - 2, -1, -1):
            start, stop = level_ptr[lv], level_ptr[lv + 1]
            for i in range(start, stop):  # dZ = dH * f'(h), in place
                for j in range(n_hidden):
                    d_h[i, j] *= derivative_from_output(h[i, j], kind)
            if lv == 0:
                break
            d_g = d_children[start - n_leaves:stop - n_leaves]
            gemm(d_h[start:stop], w_children, d_g)
            for i in range(start, stop):
                g, li, ri = i - n_leaves, left[i], right[i]
                for j in range(n_hidden):
                    d_h[li, j] += d_children[g, j]
                    d_h[ri, j] += d_children[g, n_hidden + j]
        gemm(d_h[:n_leaves], x_leaf, d_w_leaf, trans_a=True)
        _column_sums(d_h, 0, n_leaves, d_b_leaf)
        _column_sums(d_h, n_leaves, n_nodes, d_bias)
        d_w = np.zeros((n_hidden, 2 * n_hidden), dtype=h.dtype)
        if n_nodes > n_leaves:
            gemm(d_h[n_leaves:], children, d_w, trans_a=True)
        for i in range(n_hidden):
            for j in range(n_hidden):
                d_w_left[i, j] = d_w[i, j]
                d_w_right[i, j] = d_w[i, n_hidden + j]

    return forward, backward


_KERNELS = {kind: _tree_kernels(kind) for kind in ACTIVATION_CODES.values()}


def tree_forward(x_leaf, left, right, level_ptr, w_leaf, b_leaf, w_left, w_right, bias,
                 kind, children, h):
    """States of every node of a batch of trees, level by level.

    Parameters
    ----------
    x_leaf : (n_leaves, F) leaf features; the leaves are rows ``0:n_leaves`` of ``h``
    left, right : int64 (n_nodes,) rows of each node's children (-1 for leaves)
    level_ptr : int64 (n_levels + 1,) on the host; height ``l`` is rows
        ``level_ptr[l]:level_ptr[l + 1]``
    w_leaf (H, F), b_leaf (H,), w_left (H, H), w_right (H, H), bias (H,)
    kind : activation code
    children : (n_nodes - n_leaves, 2 H), written: ``[h_left | h_right]`` of
        each inner node, which the backward pass reads
    h : (n_nodes, H), written: the node states
    """
    _KERNELS[kind][0](x_leaf, left, right, level_ptr, w_leaf, b_leaf, w_left, w_right,
                      bias, children, h)


def tree_backward(d_h, x_leaf, left, right, level_ptr, h, children, w_left, w_right, kind,
                  d_w_leaf, d_b_leaf, d_w_left, d_w_right, d_bias):
    """Gradients of the tree cell; overwrites the five weight gradients.

    ``d_h`` (n_nodes, H) is the loss gradient of each node's state from the
    layers above (the pooling); it is overwritten with the pre-activation
    gradients (the children's rows also collect their parents' share).
    """
    _KERNELS[kind][1](d_h, x_leaf, left, right, level_ptr, h, children, w_left, w_right,
                      d_w_leaf, d_b_leaf, d_w_left, d_w_right, d_bias)


@njit(cache=True, error_model="numpy")
def tree_pool_forward(h, pool_ptr, pool_nodes, pool_weight, out):
    """``out[t] = sum_k pool_weight[k] h[pool_nodes[k]]``, k in ``pool_ptr[t]:pool_ptr[t+1]``
    (a tree's root with weight 1, or all its nodes with weight 1 / their count)."""
    for t in range(out.shape[0]):
        for j in range(out.shape[1]):
            out[t, j] = 0.0
        for k in range(pool_ptr[t], pool_ptr[t + 1]):
            w, n = pool_weight[k], pool_nodes[k]
            for j in range(out.shape[1]):
                out[t, j] += w * h[n, j]


@njit(cache=True, error_model="numpy")
def tree_pool_backward(d_out, pool_ptr, pool_nodes, pool_weight, d_h):
    """``d_h`` (overwritten): each pooled node gets its weight times its tree's
    ``d_out``; nodes outside the pooling get 0 (a node is pooled at most once)."""
    for i in range(d_h.shape[0]):
        for j in range(d_h.shape[1]):
            d_h[i, j] = 0.0
    for t in range(d_out.shape[0]):
        for k in range(pool_ptr[t], pool_ptr[t + 1]):
            w, n = pool_weight[k], pool_nodes[k]
            for j in range(d_h.shape[1]):
                d_h[n, j] = w * d_out[t, j]
