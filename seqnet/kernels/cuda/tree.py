"""Recursive (tree) cell and its pooling (CUDA twins of ``seqnet.kernels.cpu.tree``).

Same layout and equations as the CPU kernels: the nodes of a batch are rows
ordered by height, ``level_ptr`` (read on the host) gives each height's rows.
Per height the forward pass is one gather kernel and one tiled product with
bias and activation fused in its epilogue; the backward pass one fused
``dZ = dH * f'(h)`` kernel, one product and one scatter kernel.  Every child
has exactly one parent, so the scatter writes each row once per height and
needs no atomics; the weight gradients are one product each after the loop,
the bias gradients deterministic column sums.  Results are deterministic.
"""

import numpy as np
from numba import cuda

from .activations import derivative
from .arrays import concat_last, fill, grid, row_col
from .matmul import matmul
from .reduce import column_sums


@cuda.jit(device=True, inline=True)
def _child_entry(k, start, n_hidden, left, right):
    """Entry ``k`` of the flat ``(rows, 2H)`` block ``[h[left[i]] | h[right[i]]]``
    over rows ``i = start, start + 1, ...``: ``(i, j, child, col)``, its column
    ``j`` being ``h[child, col]``."""
    r, j = row_col(k, 2 * n_hidden)
    i = start + r
    child = left[i] if j < n_hidden else right[i]
    return i, j, child, j % n_hidden


@cuda.jit
def _gather_children(h, left, right, start, stop, n_leaves, children):
    """``children[i - n_leaves] = [h[left[i]] | h[right[i]]]`` for rows ``start:stop``."""
    n_hidden = h.shape[1]
    for k in range(cuda.grid(1), (stop - start) * 2 * n_hidden, cuda.gridsize(1)):
        i, j, child, col = _child_entry(k, start, n_hidden, left, right)
        children[i - n_leaves, j] = h[child, col]


@cuda.jit
def _activation_grad_rows(h, d_h, start, stop, kind):
    """``d_h[i] *= f'(h[i])`` for rows ``start:stop`` (dZ in place)."""
    n_hidden = h.shape[1]
    for k in range(cuda.grid(1), (stop - start) * n_hidden, cuda.gridsize(1)):
        r, j = row_col(k, n_hidden)
        i = start + r
        d_h[i, j] = d_h[i, j] * derivative(h[i, j], kind)


@cuda.jit
def _scatter_children(d_children, left, right, start, stop, n_leaves, d_h):
    """``d_h[left[i]] += dG[:, :H]``, ``d_h[right[i]] += dG[:, H:]`` (one parent per row)."""
    n_hidden = d_h.shape[1]
    for k in range(cuda.grid(1), (stop - start) * 2 * n_hidden, cuda.gridsize(1)):
        i, j, child, col = _child_entry(k, start, n_hidden, left, right)
        d_h[child, col] += d_children[i - start, j]


@cuda.jit
def _split_columns(m, a, b):
    """``a = m[:, :H]``, ``b = m[:, H:]`` for ``m`` (H, 2H)."""
    n_hidden = a.shape[1]
    for k in range(cuda.grid(1), a.shape[0] * n_hidden, cuda.gridsize(1)):
        i, j = row_col(k, n_hidden)
        a[i, j] = m[i, j]
        b[i, j] = m[i, n_hidden + j]


@cuda.jit
def _pool_forward(h, pool_ptr, pool_nodes, pool_weight, out):
    n_hidden = out.shape[1]
    for k in range(cuda.grid(1), out.shape[0] * n_hidden, cuda.gridsize(1)):
        t, j = row_col(k, n_hidden)
        acc = out.dtype.type(0.0)
        for p in range(pool_ptr[t], pool_ptr[t + 1]):
            acc += pool_weight[p] * h[pool_nodes[p], j]
        out[t, j] = acc


@cuda.jit
def _pool_backward(d_out, pool_ptr, pool_nodes, pool_weight, d_h):
    n_hidden = d_out.shape[1]
    for k in range(cuda.grid(1), d_out.shape[0] * n_hidden, cuda.gridsize(1)):
        t, j = row_col(k, n_hidden)
        for p in range(pool_ptr[t], pool_ptr[t + 1]):
            d_h[pool_nodes[p], j] = pool_weight[p] * d_out[t, j]


def _levels(level_ptr):
    """``level_ptr`` as host ints (it may come as a device array)."""
    if hasattr(level_ptr, "copy_to_host"):
        level_ptr = level_ptr.copy_to_host()
    return [int(v) for v in np.asarray(level_ptr)]


def tree_forward(x_leaf, left, right, level_ptr, w_leaf, b_leaf, w_left, w_right, bias,
                 kind, children, h):
    """States of every node, level by level (see ``seqnet.kernels.cpu.tree``)."""
    ptr = _levels(level_ptr)
    n_leaves, n_hidden = ptr[1], h.shape[1]
    matmul(x_leaf, w_leaf, h[:n_leaves], trans_b=True, bias=b_leaf, kind=kind)
    w_children = concat_last(w_left, w_right)  # [W_left | W_right] (H, 2H)
    for lv in range(1, len(ptr) - 1):
        start, stop = ptr[lv], ptr[lv + 1]
        _gather_children[grid((stop - start) * 2 * n_hidden)](
            h, left, right, start, stop, n_leaves, children)
        matmul(children[start - n_leaves:stop - n_leaves], w_children, h[start:stop],
               trans_b=True, bias=bias, kind=kind)


def tree_backward(d_h, x_leaf, left, right, level_ptr, h, children, w_left, w_right, kind,
                  d_w_leaf, d_b_leaf, d_w_left, d_w_right, d_bias):
    """Gradients of the tree cell; ``d_h`` is overwritten with dZ (as on the CPU)."""
    ptr = _levels(level_ptr)
    n_leaves, (n_nodes, n_hidden) = ptr[1], h.shape
    w_children = concat_last(w_left, w_right)
    widest = max([ptr[lv + 1] - ptr[lv] for lv in range(1, len(ptr) - 1)], default=0)
    d_children = cuda.device_array((max(widest, 1), 2 * n_hidden), dtype=h.dtype)
    for lv in range(len(ptr) - 2, -1, -1):
        start, stop = ptr[lv], ptr[lv + 1]
        _activation_grad_rows[grid((stop - start) * n_hidden)](h, d_h, start, stop, int(kind))
        if lv == 0:
            break
        d_g = d_children[:stop - start]
        matmul(d_h[start:stop], w_children, d_g)
        _scatter_children[grid((stop - start) * 2 * n_hidden)](
            d_g, left, right, start, stop, n_leaves, d_h)
    matmul(d_h[:n_leaves], x_leaf, d_w_leaf, trans_a=True)
    column_sums(d_h[:n_leaves], d_b_leaf)
    if n_nodes == n_leaves:  # single-leaf trees only: the inner weights are unused
        for g in (d_w_left, d_w_right, d_bias):
            fill(g, 0)
        return
    column_sums(d_h[n_leaves:], d_bias)
    d_w = cuda.device_array((n_hidden, 2 * n_hidden), dtype=h.dtype)
    matmul(d_h[n_leaves:], children, d_w, trans_a=True)
    _split_columns[grid(n_hidden * n_hidden)](d_w, d_w_left, d_w_right)


def tree_pool_forward(h, pool_ptr, pool_nodes, pool_weight, out):
    """``out[t] = sum_k pool_weight[k] h[pool_nodes[k]]`` over tree ``t``'s run."""
    if out.size:
        _pool_forward[grid(out.size)](h, pool_ptr, pool_nodes, pool_weight, out)


def tree_pool_backward(d_out, pool_ptr, pool_nodes, pool_weight, d_h):
    """``d_h`` (overwritten): pooled nodes get weight x d_out, the others 0."""
    fill(d_h, 0)
    if d_out.size:
        _pool_backward[grid(d_out.size)](d_out, pool_ptr, pool_nodes, pool_weight, d_h)
