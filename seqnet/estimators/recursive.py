"""Recursive networks over binary trees: ``RecursiveClassifier`` / ``RecursiveRegressor``.

``X`` is a list of trees (nested tuples; see :mod:`seqnet.network.tree_encoding`).
The estimators' internal ``X`` is the encoded :class:`Forest`: ``_validate_X``
parses the trees once per ``fit`` / ``predict`` call into flat node arrays,
and the one training loop slices batches (and the early-stopping split)
from it as from the rows of an array, so ``BaseSeqNet`` / ``TaskMixin`` /
the classifier and regressor mixins run unchanged: every shared parameter
(solvers including lbfgs, schedules, early stopping, ``partial_fit``,
``sample_weight``, ``device``, ...) means what it means elsewhere.

Network: the tree layer (``tree.*`` weights; ``hidden_layer_sizes[0]`` is
the state size), then a dense hidden layer per further entry of
``hidden_layer_sizes`` (``dense.{i}.*``, same activation), then the output
layer ``out.*``.
"""

from sklearn.utils._param_validation import StrOptions

from seqnet.kernels.contract import IDENTITY
from seqnet.network.dense import DenseLayer, DropoutLayer
from seqnet.network.tree import TREE_POOLING, TreeLayer
from seqnet.network.tree_encoding import encode_trees

from .base import SHARED_CONSTRAINTS, SHARED_PARAMS_DOC, SIZES_CONSTRAINT, BaseSeqNet, _set_params
from .classifier import CLASS_WEIGHT_DOC, CLASSIFIER_CONSTRAINTS, SeqNetClassifierMixin
from .inputs import _check_n_features
from .mlp import _as_sizes, dense_head
from .regressor import REGRESSOR_CONSTRAINTS, REGRESSOR_LOSS_DOC, SeqNetRegressorMixin


class _BaseRecursive(BaseSeqNet):
    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "hidden_layer_sizes": SIZES_CONSTRAINT,
        "activation": [StrOptions({"tanh", "relu"})],
        "pooling": [StrOptions(set(TREE_POOLING))],
    }

    def _validate_X(self, X, reset):
        forest = encode_trees(X, self._dtype, estimator=self)
        _check_n_features(self, forest.n_features, reset)
        return forest, None

    def _build_layers(self, in_shape, n_outputs):
        sizes = _as_sizes(self.hidden_layer_sizes)
        layers = [TreeLayer(sizes[0], self.activation, self.pooling)]
        if self.dropout > 0:
            layers.append(DropoutLayer(self.dropout, "dropout.tree"))
        if len(sizes) == 1:
            return layers + [DenseLayer(n_outputs, "out", IDENTITY)]
        return layers + dense_head(sizes[1:], self.activation, self.dropout, n_outputs)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # X is a list of trees, not an array: scikit-learn's array-input checks
        # do not apply (see the class docstring)
        tags.input_tags.two_d_array = False
        return tags


_DOC = """
    ``X`` is a list of trees.  A tree is a nested tuple: a leaf is a 1-D
    array of ``n_features`` values (a number when ``n_features`` is 1), an
    inner node a tuple of two children ``(left, right)``; a one-child node
    ``(child,)`` passes its child's state up unchanged.  A leaf's state is
    ``f(W_leaf x + b_leaf)``, an inner node's ``f(W_left h_left + W_right
    h_right + b)``; the root's state (or the mean over the tree's nodes)
    feeds the output layer.  All nodes of a batch are computed together,
    level by level (one matrix product per tree height).  ``fit`` and
    ``predict`` also take an already encoded
    :class:`seqnet.network.tree_encoding.Forest` (``encode_trees(X)``).

    scikit-learn's ``check_estimator`` cannot run as a whole: its checks
    build ``X`` as arrays (2-D tables, sparse matrices, pandas frames) and
    test array semantics (n_features from columns, dtype casts, NaN in a
    cell, array-likes), which a list of trees does not have.  Its checks
    that build no ``X`` (``check_get_params_invariance``,
    ``check_set_params``, ``check_no_attributes_set_in_init``,
    ``check_estimator_cloneable``, ``check_estimator_repr``, ...) run as
    they are; the others that apply -- parameter validation, fit idempotence
    and determinism, ``n_features_in_``, ``n_iter_``, pickling,
    ``partial_fit``, sample weights, unfitted errors -- are explicit tests
    with tree input, all in ``tests/test_recursive_estimators.py``.

    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(64,)
        The first entry is the size H of every node's state (``tree.*``
        weights); each further entry adds a dense hidden layer after the
        pooling (``dense.{i}.*``), as the other families' hidden layers.
    activation : {'tanh', 'relu'}, default='tanh'
        Nonlinearity f of the tree cell (and of the dense hidden layers).
    pooling : {'root', 'mean'}, default='root'
        What feeds the output layer: the root's state, or the mean state over
        the tree's nodes (leaves and two-child nodes).
""" + SHARED_PARAMS_DOC

_ATTRS = """
    Attributes
    ----------
{classes}    n_features_in_ : int
        Features per leaf.
    n_outputs_, n_iter_, t_ : int
    loss_, loss_curve_, best_loss_, validation_scores_, best_validation_score_
    weights_ : dict of str -> ndarray
        Named views into the single parameter buffer: ``tree.weight_leaf``
        (H, n_features), ``tree.bias_leaf``, ``tree.weight_left`` (H, H),
        ``tree.weight_right`` (H, H), ``tree.bias``, then ``dense.{{i}}.*`` and
        ``out.weight`` / ``out.bias``.

    Examples
    --------
    Four trees with one feature per leaf: a leaf is a number, ``(a, b)`` a
    node with two children, ``(a,)`` a node with one.

    >>> from seqnet import {name}
    >>> X = [((0.5, -1.0), 2.0), (1.0,), ((0.1, 0.2), (0.3, 0.4)), (((0.3, -0.2), 1.0), -0.5)]
    >>> est = {name}(hidden_layer_sizes=8, solver="lbfgs", random_state=0)
    >>> est.fit(X, {y}).predict(X){out}
    {result}
"""


class RecursiveClassifier(SeqNetClassifierMixin, _BaseRecursive):
    _parameter_constraints = {**_BaseRecursive._parameter_constraints,
                              **CLASSIFIER_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), activation="tanh", *, pooling="root",
                 solver="adam", alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, clip_norm=None, init="glorot",
                 device="cpu", dtype="float32", max_fun=15000, class_weight=None):
        _set_params(self, locals())

    __doc__ = ("Recursive neural network classifier over binary trees.\n" + _DOC
               + CLASS_WEIGHT_DOC
               + _ATTRS.format(classes="    classes_ : ndarray\n", name="RecursiveClassifier",
                               y="[1, 1, 0, 0]", out="", result="array([1, 1, 0, 0])"))


class RecursiveRegressor(SeqNetRegressorMixin, _BaseRecursive):
    _parameter_constraints = {**_BaseRecursive._parameter_constraints,
                              **REGRESSOR_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(64,), activation="tanh", *, pooling="root",
                 solver="adam", alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, clip_norm=None, init="glorot",
                 device="cpu", dtype="float32", max_fun=15000, loss="squared_error"):
        _set_params(self, locals())

    __doc__ = ("Recursive neural network regressor over binary trees.\n" + _DOC
               + REGRESSOR_LOSS_DOC
               + _ATTRS.format(classes="", name="RecursiveRegressor",
                               y="[1.5, 1.0, 1.0, 0.6]", out=".round(2)",
                               result="array([1.5, 1. , 1. , 0.6])"))
