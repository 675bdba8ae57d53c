"""Two tasks on random binary trees, a recursive network against an LSTM.

    python examples/recursive_trees.py

Trees have 2-32 leaves, each a value in [-1, 1]; split points are random, so
shapes range from balanced trees to chains.

* sum: regress the sum of the leaves (R^2).  Both models can: a sum does not
  depend on the structure.
* larger subtree: classify which child subtree of the root has the larger
  sum (accuracy).  The label depends on where the root splits the leaves,
  which the LSTM, reading the leaves left to right as a sequence, never sees.

The LSTM is the baseline: ``LSTMRegressor`` / ``LSTMClassifier`` on the
flattened leaves (a ragged batch of sequences).  The tests check the
recursive settings below (tests/test_recursive.py).
"""

import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from seqnet import LSTMClassifier, LSTMRegressor, RecursiveClassifier, RecursiveRegressor

#: Settings of both models on both tasks (relu trees learn a sum fastest).
TREE_SETTINGS = dict(hidden_layer_sizes=16, activation="relu", learning_rate_init=0.01,
                     batch_size=50, max_iter=60, random_state=0)
LSTM_SETTINGS = dict(hidden_layer_sizes=16, learning_rate_init=0.01, batch_size=50,
                     max_iter=60, random_state=0)


def random_tree(rng, n_leaves, n_features=1, one_child=0.0):
    """A random binary tree over ``n_leaves`` leaves (a uniform split point per
    node); with probability ``one_child`` a node is wrapped in a one-child tuple."""
    if n_leaves == 1:
        node = rng.uniform(-1, 1) if n_features == 1 else rng.uniform(-1, 1, n_features)
    else:
        k = int(rng.integers(1, n_leaves))
        node = (random_tree(rng, k, n_features, one_child),
                random_tree(rng, n_leaves - k, n_features, one_child))
    if one_child and rng.random() < one_child:
        node = (node,)
    return node


def leaf_values(tree):
    """The leaves left to right."""
    if isinstance(tree, tuple):
        return [v for child in tree for v in leaf_values(child)]
    return [tree]


def tree_tasks(n, rng):
    """``(trees, sums, labels)``: label 1 when the root's left subtree has the larger sum."""
    trees = [random_tree(rng, int(rng.integers(2, 33))) for _ in range(n)]
    sums = np.array([sum(leaf_values(t)) for t in trees])
    labels = np.array([int(sum(leaf_values(t[0])) > sum(leaf_values(t[1]))) for t in trees])
    return trees, sums, labels


def as_sequences(trees):
    """The flattened leaves: a ragged list of (n_leaves, 1) sequences."""
    return [np.array(leaf_values(t), dtype=float).reshape(-1, 1) for t in trees]


def _fit_score(est, X, y, X_test, y_test):
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epoch budget
        est.fit(X, y)
    return est.score(X_test, y_test), time.perf_counter() - start


def main():
    rng = np.random.default_rng(0)
    trees, sums, labels = tree_tasks(1500, rng)
    t_trees, t_sums, t_labels = tree_tasks(500, rng)
    seqs, t_seqs = as_sequences(trees), as_sequences(t_trees)
    rows = [
        ("sum (R^2)", "RecursiveRegressor", RecursiveRegressor(**TREE_SETTINGS),
         trees, sums, t_trees, t_sums),
        ("sum (R^2)", "LSTMRegressor", LSTMRegressor(**LSTM_SETTINGS),
         seqs, sums, t_seqs, t_sums),
        ("larger subtree (accuracy)", "RecursiveClassifier",
         RecursiveClassifier(**TREE_SETTINGS), trees, labels, t_trees, t_labels),
        ("larger subtree (accuracy)", "LSTMClassifier", LSTMClassifier(**LSTM_SETTINGS),
         seqs, labels, t_seqs, t_labels),
    ]
    print("1500 training and 500 test trees of 2-32 leaves")
    for task, name, est, X, y, X_test, y_test in rows:
        score, seconds = _fit_score(est, X, y, X_test, y_test)
        print(f"{task:27s} {name:20s} {score:6.3f}   fit {seconds:5.1f} s, "
              f"{est.n_iter_} epochs")


if __name__ == "__main__":
    main()
