"""Trees as flat arrays: the input of the recursive estimators.

A tree is a nested tuple: a leaf is a 1-D array of ``n_features`` values (a
number when ``n_features`` is 1), an inner node a tuple of two children, and a
one-child node ``(child,)`` passes its child's state up unchanged, so it is
the same node as its child here (it adds no node, also not to a mean over
the nodes of a tree).

The trees of ``X`` are encoded ONCE, at ``fit`` / ``predict``, into a
:class:`Forest`: per tree a contiguous run of nodes in post-order (children
before parents, the root last) with tree-local child indices, the node
heights (0 for a leaf, 1 + the larger child height otherwise) and one row of
leaf features per leaf.  The estimators use the forest as their internal
``X``: it has a ``shape`` ``(n_trees, n_features)`` and ``forest[idx]`` is
the forest of trees ``idx`` (a slice, indices or a mask), so the one training
loop draws batches and early-stopping splits from it as from rows of an
array, and no tree is parsed again.

:meth:`Forest.levels` lays out a batch for the kernels: the nodes of ALL its
trees ordered by height, so each height is a contiguous block of rows (the
leaves first) whose children all sit in earlier blocks; the forward pass is
then one product per height, the backward pass the same in reverse.  Encoding
a batch is a handful of vectorised NumPy gathers, not a loop over nodes.
"""

from numbers import Number

import numpy as np
from sklearn.utils.validation import check_array


class Forest:
    """Trees encoded as flat arrays (see the module docstring).

    Parameters
    ----------
    node_ptr, leaf_ptr : ndarray of int64, shape (n_trees + 1,)
        Tree ``t`` owns nodes ``node_ptr[t]:node_ptr[t + 1]`` and leaf rows
        ``leaf_ptr[t]:leaf_ptr[t + 1]`` of ``features``.
    left, right : ndarray of int64, shape (n_nodes,)
        Tree-local index of each node's children; -1 for a leaf.
    height : ndarray of int64, shape (n_nodes,)
    leaf : ndarray of int64, shape (n_nodes,)
        Tree-local leaf row of a leaf node; -1 for an inner node.
    features : ndarray of shape (n_leaves, n_features)
    """

    def __init__(self, node_ptr, leaf_ptr, left, right, height, leaf, features):
        self.node_ptr, self.leaf_ptr = node_ptr, leaf_ptr
        self.left, self.right, self.height, self.leaf = left, right, height, leaf
        self.features = features

    @property
    def shape(self):
        """``(n_trees, n_features)``: what scikit-learn's length checks read."""
        return (len(self.node_ptr) - 1, self.features.shape[1])

    @property
    def n_features(self):
        return self.features.shape[1]

    @property
    def dtype(self):
        return self.features.dtype

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, idx):
        """The forest of trees ``idx`` (a slice, integer indices or a boolean mask)."""
        trees = np.arange(len(self))[idx]
        if np.ndim(trees) == 0:
            trees = np.array([trees])
        nodes, node_ptr = _runs(self.node_ptr, trees)
        rows, leaf_ptr = _runs(self.leaf_ptr, trees)
        return Forest(node_ptr, leaf_ptr, self.left[nodes], self.right[nodes],
                      self.height[nodes], self.leaf[nodes], self.features[rows])

    def astype(self, dtype):
        """This forest with its features in ``dtype`` (itself when they already are)."""
        if self.features.dtype == dtype:
            return self
        return Forest(self.node_ptr, self.leaf_ptr, self.left, self.right, self.height,
                      self.leaf, self.features.astype(dtype))

    def levels(self):
        """The batch layout of the kernels, a :class:`TreeLevels`."""
        n_nodes = len(self.height)
        sizes = np.diff(self.node_ptr)
        start = np.repeat(self.node_ptr[:-1], sizes)  # first node of each node's tree
        order = np.argsort(self.height, kind="stable")
        pos = np.empty(n_nodes, dtype=np.int64)
        pos[order] = np.arange(n_nodes)  # batch node -> its row in level order
        is_leaf = self.left[order] < 0
        left = np.where(is_leaf, -1, pos[self.left[order] + start[order]])
        right = np.where(is_leaf, -1, pos[self.right[order] + start[order]])
        height = self.height[order]
        level_ptr = np.searchsorted(height, np.arange(height[-1] + 2 if n_nodes else 1))
        n_leaves = int(level_ptr[1]) if len(level_ptr) > 1 else 0
        leaf_start = np.repeat(self.leaf_ptr[:-1], sizes)[order[:n_leaves]]
        x_leaf = np.ascontiguousarray(self.features[leaf_start + self.leaf[order[:n_leaves]]])
        n_trees = len(self)
        root = pos[self.node_ptr[1:] - 1]
        # mean pooling: the nodes of tree t are pos[node_ptr[t]:node_ptr[t + 1]]
        weight = np.repeat((1.0 / np.maximum(sizes, 1)).astype(self.features.dtype), sizes)
        return TreeLevels(
            x_leaf, left.astype(np.int64), right.astype(np.int64), level_ptr.astype(np.int64),
            root_pool=(np.arange(n_trees + 1, dtype=np.int64), root.astype(np.int64),
                       np.ones(n_trees, dtype=self.features.dtype)),
            mean_pool=(self.node_ptr.astype(np.int64), pos, weight),
        )


class TreeLevels:
    """One batch of trees laid out by height for the tree kernels.

    Attributes
    ----------
    x_leaf : ndarray (n_leaves, n_features)
        Features of the leaves, which are rows ``0:n_leaves`` of the node states.
    left, right : ndarray of int64 (n_nodes,)
        Rows of each node's children (-1 for leaves); always earlier rows.
    level_ptr : ndarray of int64 (n_levels + 1,)
        Height ``l`` is rows ``level_ptr[l]:level_ptr[l + 1]``.
    root_pool, mean_pool : (pool_ptr, pool_nodes, pool_weight)
        The pooled state of tree ``t`` is ``sum_k pool_weight[k] *
        h[pool_nodes[k]]`` over ``k`` in ``pool_ptr[t]:pool_ptr[t + 1]``: its
        root, or the mean over its nodes.
    """

    def __init__(self, x_leaf, left, right, level_ptr, root_pool, mean_pool):
        self.x_leaf, self.left, self.right, self.level_ptr = x_leaf, left, right, level_ptr
        self.root_pool, self.mean_pool = root_pool, mean_pool

    @property
    def n_nodes(self):
        return len(self.left)

    @property
    def n_leaves(self):
        return self.x_leaf.shape[0]

    @property
    def n_trees(self):
        return len(self.root_pool[0]) - 1


def _runs(ptr, which):
    """Indices of runs ``ptr[t]:ptr[t + 1]`` for ``t`` in ``which``, concatenated,
    and the pointer array of the runs in their new places."""
    sizes = ptr[which + 1] - ptr[which]
    new_ptr = np.zeros(len(which) + 1, dtype=np.int64)
    np.cumsum(sizes, out=new_ptr[1:])
    idx = np.repeat(ptr[which] - new_ptr[:-1], sizes) + np.arange(new_ptr[-1])
    return idx, new_ptr


def encode_trees(X, dtype=np.float64, estimator=None):
    """Encode a list of trees into a :class:`Forest`, with clear errors.

    Parameters
    ----------
    X : list of trees, or a Forest (returned in ``dtype``)
    dtype : numpy dtype of the leaf features
    estimator : estimator or None
        Named in scikit-learn's messages for non-finite leaf values.
    """
    if isinstance(X, Forest):
        return X.astype(np.dtype(dtype))
    if isinstance(X, np.ndarray) and X.ndim == 1 and X.dtype == object:
        X = list(X)
    if not isinstance(X, list):
        raise TypeError(
            "X must be a list of trees (a leaf is a 1-D array of features, an inner "
            f"node a tuple of two children); got {type(X).__name__}"
            + (f" of shape {X.shape}." if hasattr(X, "shape") else "."))
    if len(X) == 0:
        raise ValueError("X is an empty list: expected at least one tree.")
    parts = [_encode_tree(tree, i) for i, tree in enumerate(X)]
    sizes = np.array([len(p[0]) for p in parts], dtype=np.int64)
    leaf_sizes = np.array([len(p[4]) for p in parts], dtype=np.int64)
    leaves = [v for p in parts for v in p[4]]
    widths = {v.size for v in leaves}
    if len(widths) != 1:
        tree = next(i for i, p in enumerate(parts) if {v.size for v in p[4]} != {leaves[0].size})
        raise ValueError(
            f"All leaves must have the same number of features; tree 0 starts with "
            f"{leaves[0].size}, tree {tree} has leaves with "
            f"{sorted({v.size for v in parts[tree][4]})}.")
    features = check_array(np.stack(leaves), dtype=dtype, estimator=estimator,
                           input_name="X (leaf values)")
    columns = [np.concatenate([p[k] for p in parts]).astype(np.int64) for k in range(4)]
    return Forest(_pointer(sizes), _pointer(leaf_sizes), *columns, features)


def _pointer(sizes):
    ptr = np.zeros(len(sizes) + 1, dtype=np.int64)
    np.cumsum(sizes, out=ptr[1:])
    return ptr


def _encode_tree(tree, index):
    """``(left, right, height, leaf, leaf_values)`` of one tree, post-order.

    Iterative (a deep, unbalanced tree never reaches Python's recursion
    limit): a node is visited twice, its children first, then itself."""
    left, right, height, leaf, values = [], [], [], [], []
    stack, done = [(tree, False)], []
    while stack:
        node, children_done = stack.pop()
        if isinstance(node, tuple):
            if len(node) == 1:  # one child: the same node as its child
                stack.append((node[0], False))
                continue
            if len(node) != 2:
                raise ValueError(
                    f"Tree {index}: an inner node is a tuple of one or two children; "
                    f"got a tuple of {len(node)}.")
            if not children_done:
                stack += [(node, True), (node[1], False), (node[0], False)]
                continue
            r, l_ = done.pop(), done.pop()
            left.append(l_)
            right.append(r)
            height.append(1 + max(height[l_], height[r]))
            leaf.append(-1)
        else:
            values.append(_leaf_values(node, index))
            left.append(-1)
            right.append(-1)
            height.append(0)
            leaf.append(len(values) - 1)
        done.append(len(left) - 1)
    return left, right, height, leaf, values


def _leaf_values(node, index):
    if isinstance(node, (list, np.ndarray, Number, np.generic)):
        values = np.asarray(node)
        if values.ndim <= 1 and values.size > 0 and values.dtype.kind in "biuf":
            return values.reshape(-1)
    raise ValueError(
        f"Tree {index}: a leaf must be a non-empty 1-D array of numbers (or a number "
        f"when n_features is 1); got {type(node).__name__}"
        + (f" of shape {np.shape(node)} and dtype {np.asarray(node).dtype}."
           if isinstance(node, (list, np.ndarray)) else f" {node!r}."[:80]))
