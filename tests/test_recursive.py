"""Recursive networks over trees: the encoding, the tree kernels against the NumPy
reference, finite-difference gradients and two learning tasks.  The
scikit-learn conventions of the estimators are in test_recursive_estimators.py."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from seqnet import RecursiveClassifier, RecursiveRegressor
from seqnet.kernels import cpu as K
from seqnet.kernels.contract import ACTIVATION_CODES, IDENTITY
from seqnet.network.dense import DenseLayer
from seqnet.network.layers import Context
from seqnet.network.network import Network
from seqnet.network.tree import TreeLayer
from seqnet.network.tree_encoding import encode_trees

from tests import reference_tree as ref

F, H = 3, 4


def mixed_trees(rng, n_features=F):
    """Unbalanced trees, one-child nodes, single-leaf trees, a balanced tree."""
    def leaf():
        return rng.uniform(-1, 1, n_features)
    return [leaf(), (leaf(),), ((leaf(),),), (leaf(), leaf()),
            (((leaf(), leaf()), leaf()), leaf()), ((leaf(), (leaf(),)), (leaf(), leaf())),
            ref.random_tree(rng, 7, n_features, one_child=0.3),
            ref.random_tree(rng, 12, n_features)]


def quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# ------------------------------------------------------------------ encoding
def test_levels_put_children_before_parents():
    forest = encode_trees(mixed_trees(np.random.default_rng(0)))
    lv = forest.levels()
    assert lv.level_ptr[0] == 0 and lv.level_ptr[-1] == lv.n_nodes
    assert np.all(lv.left[:lv.n_leaves] == -1)
    for level in range(1, len(lv.level_ptr) - 1):
        rows = np.arange(lv.level_ptr[level], lv.level_ptr[level + 1])
        assert np.all(lv.left[rows] < lv.level_ptr[level])
        assert np.all(lv.right[rows] < lv.level_ptr[level])
    # every node but the roots is exactly one node's child
    children = np.concatenate([lv.left[lv.n_leaves:], lv.right[lv.n_leaves:]])
    assert len(np.unique(children)) == len(children) == lv.n_nodes - forest.shape[0]


def test_forest_indexing_equals_encoding_the_subset():
    trees = mixed_trees(np.random.default_rng(1))
    forest = encode_trees(trees)
    for idx in (slice(2, 6), np.array([7, 0, 4]), np.arange(8) % 3 == 0):
        sub = forest[idx]
        direct = encode_trees([trees[i] for i in np.arange(8)[idx]])
        for name in ("node_ptr", "leaf_ptr", "left", "right", "height", "leaf", "features"):
            np.testing.assert_array_equal(getattr(sub, name), getattr(direct, name))
    assert forest.shape == (8, F) and len(forest[3]) == 1


def test_one_child_nodes_add_no_node():
    x = np.array([1.0, 2.0, 3.0])
    a, b = encode_trees([x]), encode_trees([(((x,),),)])
    np.testing.assert_array_equal(a.height, b.height)


def test_deep_chain_has_no_recursion_limit():
    rng = np.random.default_rng(2)
    tree = rng.uniform(size=1)
    for _ in range(3000):  # a 3000-deep unbalanced tree
        tree = (tree, rng.uniform(size=1))
    forest = encode_trees([tree])
    assert len(forest.levels().level_ptr) == 3002


@pytest.mark.parametrize("X, match", [
    ([], "empty list"),
    ([(1.0, 2.0, 3.0)], "tuple of 3"),
    ([()], "tuple of 0"),
    ([(np.ones(2), np.ones(3))], "same number of features"),
    ([np.ones(2), np.ones(3)], "same number of features"),
    ([np.ones((2, 2))], "1-D array of numbers"),
    ([("a", 1.0)], "1-D array of numbers"),
    ([np.array([])], "1-D array of numbers"),
    ([(np.array([1.0, np.nan]), np.ones(2))], "NaN"),
])
def test_malformed_trees_raise_clear_errors(X, match):
    with pytest.raises(ValueError, match=match):
        RecursiveRegressor(max_iter=1).fit(X, np.zeros(len(X)))


def test_x_must_be_a_list_of_trees():
    with pytest.raises(TypeError, match="list of trees"):
        RecursiveClassifier().fit(np.zeros((4, 3)), [0, 1, 0, 1])


# ----------------------------------------------- kernels against the reference
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tree_forward_kernel_equals_reference(activation):
    rng = np.random.default_rng(3)
    lv = encode_trees(mixed_trees(rng)).levels()
    w = ref.random_weights(rng, H, F)
    h = np.empty((lv.n_nodes, H))
    children = np.empty((lv.n_nodes - lv.n_leaves, 2 * H))
    K.tree_forward(lv.x_leaf, lv.left, lv.right, lv.level_ptr, w["weight_leaf"],
                   w["bias_leaf"], w["weight_left"], w["weight_right"], w["bias"],
                   ACTIVATION_CODES[activation], children, h)
    expected = ref.levels_forward(lv.x_leaf, lv.left, lv.right, lv.level_ptr, w, activation)
    np.testing.assert_allclose(h, expected, rtol=1e-12, atol=1e-12)
    inner = np.arange(lv.n_leaves, lv.n_nodes)
    np.testing.assert_array_equal(children, np.hstack([h[lv.left[inner]], h[lv.right[inner]]]))


@pytest.mark.parametrize("pooling", ["root", "mean"])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tree_layer_equals_recursive_reference(pooling, activation):
    rng = np.random.default_rng(4)
    trees = mixed_trees(rng)
    w = ref.random_weights(rng, H, F)
    layer = TreeLayer(H, activation, pooling)
    layer.build((F,))
    out, _ = layer.forward(w, encode_trees(trees), Context(backend=K))
    np.testing.assert_allclose(out, ref.forest_forward(trees, w, activation, pooling),
                               rtol=1e-12, atol=1e-12)


def test_pool_kernels_are_adjoint():
    """<pool(h), d_out> == <h, pool_backward(d_out)>: the backward is the transpose."""
    rng = np.random.default_rng(5)
    lv = encode_trees(mixed_trees(rng)).levels()
    h = rng.normal(size=(lv.n_nodes, H))
    d_out = rng.normal(size=(lv.n_trees, H))
    for pool in (lv.root_pool, lv.mean_pool):
        out, d_h = np.empty((lv.n_trees, H)), np.empty_like(h)
        K.tree_pool_forward(h, *pool, out)
        K.tree_pool_backward(d_out, *pool, d_h)
        assert np.isclose(np.sum(out * d_out), np.sum(h * d_h), rtol=1e-12)


# ------------------------------------------------------- gradients (float64)
def _tree_net(pooling, activation, loss, n_out, seed):
    net = Network([TreeLayer(H, activation, pooling), DenseLayer(n_out, "out", IDENTITY)],
                  loss, np.float64)
    net.build((F,))
    net.initialize(np.random.default_rng(seed), "glorot")
    for name, view in net.named_weights().items():  # non-zero biases: every parameter matters
        if "bias" in name:
            view[...] = np.random.default_rng(seed + 1).normal(size=view.shape) * 0.3
    return net


@pytest.mark.parametrize("pooling", ["root", "mean"])
@pytest.mark.parametrize("activation, loss", [("tanh", "softmax"), ("tanh", "squared"),
                                              ("relu", "squared")])
def test_network_gradient_matches_finite_differences(pooling, activation, loss):
    rng = np.random.default_rng(6)
    forest = encode_trees(mixed_trees(rng))
    n = len(forest)
    y = np.eye(3)[rng.integers(0, 3, n)] if loss == "softmax" else rng.normal(size=(n, 3))
    sw = rng.uniform(0.2, 3.0, n)
    net = _tree_net(pooling, activation, loss, 3, seed=7)

    def objective():
        return net.loss_and_grad(forest, y, sw, Context(training=True, backend=K))

    objective()
    analytic = net.grads.copy()
    numeric = np.empty_like(analytic)
    eps = 1e-6
    for i in range(net.n_params):
        keep = net.params[i]
        net.params[i] = keep + eps
        up = objective()
        net.params[i] = keep - eps
        down = objective()
        net.params[i] = keep
        numeric[i] = (up - down) / (2 * eps)
    rel = np.linalg.norm(analytic - numeric) / max(np.linalg.norm(numeric), 1e-12)
    assert rel < 1e-6, rel
    assert np.all(np.abs(analytic) > 0) or activation == "relu"  # every parameter is reached


# ------------------------------------------------------------- learning tasks
@pytest.mark.parametrize("cls, column, threshold", [
    (RecursiveRegressor, 1, 0.95),   # the sum of the leaves: R^2
    (RecursiveClassifier, 2, 0.9),   # which child subtree of the root is larger: accuracy
], ids=["sum_of_leaves", "larger_subtree"])
def test_learns_the_tree_tasks(cls, column, threshold):
    rng = np.random.default_rng(0)
    train, test = ref.tree_tasks(1500, rng), ref.tree_tasks(500, rng)
    est = quiet_fit(cls(**ref.TREE_SETTINGS), train[0], train[column])
    assert est.score(test[0], test[column]) >= threshold
