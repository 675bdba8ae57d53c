"""Multi-layer perceptrons: ``MLPClassifier`` and ``MLPRegressor``."""

import numpy as np
from sklearn.utils._param_validation import StrOptions

from seqnet.kernels.contract import ACTIVATION_CODES, IDENTITY
from seqnet.network.dense import DenseLayer, DropoutLayer

from .base import SHARED_CONSTRAINTS, SHARED_PARAMS_DOC, SIZES_CONSTRAINT, BaseSeqNet, _set_params
from .classifier import CLASSIFIER_CONSTRAINTS, SeqNetClassifierMixin
from .inputs import validate_table
from .regressor import REGRESSOR_CONSTRAINTS, REGRESSOR_LOSS_DOC, SeqNetRegressorMixin


class _BaseMLP(BaseSeqNet):
    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "hidden_layer_sizes": SIZES_CONSTRAINT,
        "activation": [StrOptions(set(ACTIVATION_CODES))],
    }

    def _validate_X(self, X, reset):
        return validate_table(self, X, self._dtype, reset,
                              accept_sparse=["csr", "csc"]), None

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR / CSC X, as scikit-learn's MLP
        return tags

    def _build_layers(self, in_shape, n_outputs):
        return dense_head(self.hidden_layer_sizes, self.activation, self.dropout, n_outputs)

    def _layer_names(self):
        n_hidden = sum(1 for k in self.weights_ if k.startswith("dense.") and
                       k.endswith(".weight"))
        return [f"dense.{i}" for i in range(n_hidden)] + ["out"]

    @property
    def coefs_(self):
        """scikit-learn's ``coefs_``: per layer an (n_in, n_out) view of the
        parameter buffer (the transpose of ``weights_["dense.{i}.weight"]``,
        then ``"out.weight"``); writing into it changes predictions. Assigning
        a list copies its arrays into the buffer."""
        return [self.weights_[f"{name}.weight"].T for name in self._layer_names()]

    @coefs_.setter
    def coefs_(self, values):
        _copy_into(self.coefs_, values, "coefs_")

    @property
    def intercepts_(self):
        """scikit-learn's ``intercepts_``: per layer an (n_out,) view of the
        parameter buffer (``weights_["dense.{i}.bias"]``, then ``"out.bias"``)."""
        return [self.weights_[f"{name}.bias"] for name in self._layer_names()]

    @intercepts_.setter
    def intercepts_(self, values):
        _copy_into(self.intercepts_, values, "intercepts_")

    @property
    def n_layers_(self):
        """Number of layers, input and output included (scikit-learn's ``n_layers_``)."""
        return len(self._layer_names()) + 1


def _copy_into(views, values, name):
    """Write ``values`` (one array per layer) into the buffer's ``views``."""
    if len(values) != len(views):
        raise ValueError(f"{name} needs {len(views)} arrays, got {len(values)}.")
    for view, value in zip(views, values):
        value = np.asarray(value)
        if value.shape != view.shape:
            raise ValueError(f"{name}: shape {value.shape} does not match {view.shape}.")
        view[...] = value


def dense_head(hidden_layer_sizes, activation, dropout, n_outputs):
    """Hidden dense layers (each followed by dropout if > 0) and the output layer."""
    code = ACTIVATION_CODES[activation]
    layers = []
    for i, units in enumerate(_as_sizes(hidden_layer_sizes)):
        layers.append(DenseLayer(units, f"dense.{i}", code))
        if dropout > 0:
            layers.append(DropoutLayer(dropout, f"dropout.{i}"))
    layers.append(DenseLayer(n_outputs, "out", IDENTITY))
    return layers


def _as_sizes(hidden_layer_sizes):
    """A list of positive ints; an int ``n`` (or NumPy integer) means ``[n]``."""
    if np.ndim(hidden_layer_sizes) == 0:
        hidden_layer_sizes = [hidden_layer_sizes]
    sizes = [int(s) for s in hidden_layer_sizes]
    if any(s <= 0 for s in sizes):
        raise ValueError(f"hidden_layer_sizes must be > 0, got {sizes}.")
    return sizes


_MLP_DOC = """
    Parameters
    ----------
    hidden_layer_sizes : int or array-like of int, default=(100,)
        Units of each hidden dense layer (weights ``dense.{i}.weight``); an
        int ``n`` means ``(n,)``, as in scikit-learn.
    activation : {'identity', 'logistic', 'tanh', 'relu', 'leaky_relu', \
'lecun_tanh'}, default='relu'
        Hidden-layer activation; 'lecun_tanh' is 1.7159 tanh(2x/3).
""" + SHARED_PARAMS_DOC


class MLPClassifier(SeqNetClassifierMixin, _BaseMLP):
    __doc__ = """Multi-layer perceptron classifier on Numba kernels.

    Binary, multiclass and multilabel-indicator targets; ``X`` of rank > 2 is
    flattened per sample.
""" + _MLP_DOC + """    class_weight : dict, 'balanced' or None, default=None
        Weights of the classes, multiplied into ``sample_weight``.

    Attributes
    ----------
    classes_ : ndarray
    n_features_in_ : int
    n_outputs_ : int
    n_iter_, t_ : int
        Epochs run by the last ``fit`` / ``partial_fit`` call, and samples
        seen over all calls (``t_`` and ``loss_curve_`` keep accumulating
        with ``warm_start`` and ``partial_fit``), as in scikit-learn.
    loss_, loss_curve_, best_loss_ : float, list, float
    validation_scores_, best_validation_score_ : list, float
        With ``early_stopping`` only (else None).
    weights_ : dict of str -> ndarray
        Named views into the single parameter buffer, PyTorch layout
        (``"dense.0.weight"`` is (out, in)); writing into them changes predictions.
    coefs_, intercepts_ : list of ndarray
        scikit-learn's layout of the same memory: (n_in, n_out) weight and
        (n_out,) bias views per layer, output layer last.
    n_layers_ : int

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from seqnet import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), learning_rate_init=0.01,
    ...                     max_iter=300, random_state=0).fit(X / 16, y)
    >>> clf.classes_
    array([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    >>> clf.predict(X[:3] / 16).shape
    (3,)
    >>> clf.score(X / 16, y) > 0.95  # training accuracy
    True
    """

    _parameter_constraints = {**_BaseMLP._parameter_constraints, **CLASSIFIER_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm=None, class_weight=None):
        _set_params(self, locals())


class MLPRegressor(SeqNetRegressorMixin, _BaseMLP):
    __doc__ = """Multi-layer perceptron regressor on Numba kernels (multi-output).
""" + _MLP_DOC + REGRESSOR_LOSS_DOC + """
    Attributes
    ----------
    n_features_in_, n_outputs_, n_iter_, t_ : int
    loss_, loss_curve_, best_loss_, validation_scores_, best_validation_score_
        As on :class:`MLPClassifier`.
    weights_ : dict of str -> ndarray
    coefs_, intercepts_ : list of ndarray
        Views of the same buffer in scikit-learn's shapes, as on :class:`MLPClassifier`.
    n_layers_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from seqnet import MLPRegressor
    >>> X = np.random.default_rng(0).normal(size=(64, 3))
    >>> reg = MLPRegressor(hidden_layer_sizes=(16,), learning_rate_init=0.01,
    ...                    max_iter=300, random_state=0)
    >>> reg.fit(X, X.sum(axis=1)).predict(X).shape
    (64,)
    >>> reg.score(X, X.sum(axis=1)) > 0.95  # training R^2
    True
    """

    _parameter_constraints = {**_BaseMLP._parameter_constraints, **REGRESSOR_CONSTRAINTS}

    def __init__(self, hidden_layer_sizes=(100,), activation="relu", *, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm=None, loss="squared_error"):
        _set_params(self, locals())
