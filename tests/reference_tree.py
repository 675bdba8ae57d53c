"""Plain-NumPy float64 references of the recursive (tree) network.

``tree_state`` walks the nested tuples by recursion, independently of the
flat encoding the kernels read; ``levels_forward`` is the kernel's level loop
on the encoded arrays.  Random trees and the two tree tasks come from
examples/recursive_trees.py, so the tests check the example's own data.
"""

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from recursive_trees import (  # noqa: E402,F401  (re-exported for the tests)
    TREE_SETTINGS,
    leaf_values,
    random_tree,
    tree_tasks,
)

ACT = {"tanh": np.tanh, "relu": lambda z: np.maximum(z, 0.0)}


def tree_state(tree, w, activation="tanh"):
    """``(root_state, [states of every node])`` of one tree (one-child nodes
    pass their child's state up and add no node)."""
    f = ACT[activation]
    if isinstance(tree, tuple):
        if len(tree) == 1:
            return tree_state(tree[0], w, activation)
        hl, nl = tree_state(tree[0], w, activation)
        hr, nr = tree_state(tree[1], w, activation)
        h = f(w["weight_left"] @ hl + w["weight_right"] @ hr + w["bias"])
        return h, nl + nr + [h]
    x = np.atleast_1d(np.asarray(tree, dtype=np.float64))
    h = f(w["weight_leaf"] @ x + w["bias_leaf"])
    return h, [h]


def forest_forward(trees, w, activation="tanh", pooling="root"):
    """(n_trees, H): each tree's root state or mean node state."""
    out = []
    for tree in trees:
        root, nodes = tree_state(tree, w, activation)
        out.append(root if pooling == "root" else np.mean(nodes, axis=0))
    return np.array(out)


def levels_forward(x_leaf, left, right, level_ptr, w, activation="tanh"):
    """The kernel's per-level computation on encoded arrays: (n_nodes, H)."""
    f = ACT[activation]
    n_leaves = level_ptr[1]
    h = np.zeros((len(left), w["bias"].shape[0]))
    h[:n_leaves] = f(x_leaf @ w["weight_leaf"].T + w["bias_leaf"])
    for lv in range(1, len(level_ptr) - 1):
        rows = np.arange(level_ptr[lv], level_ptr[lv + 1])
        h[rows] = f(h[left[rows]] @ w["weight_left"].T + h[right[rows]] @ w["weight_right"].T
                    + w["bias"])
    return h


def random_weights(rng, H, F, scale=0.5):
    return {"weight_leaf": rng.normal(0, scale, (H, F)), "bias_leaf": rng.normal(0, 0.3, H),
            "weight_left": rng.normal(0, scale, (H, H)),
            "weight_right": rng.normal(0, scale, (H, H)), "bias": rng.normal(0, 0.3, H)}
