"""Convolutional estimators: ``ConvClassifier`` and ``ConvRegressor``.

Network: for each entry of ``filters`` a convolution (fused activation) and
a max pooling (``pool_size='auto'``: 2 wherever the feature map still has
room for it); then flatten, the dense hidden layers
of ``hidden_layer_sizes`` (with dropout) and the output layer.
Input rank picks the convolution: (n, T, C) -> 1-D over time,
(n, H, W, C) -> 2-D; flat rows are reshaped by ``input_shape``.
"""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names

from seqnet.kernels.contract import ACTIVATION_CODES
from seqnet.network.conv import (
    Conv1DLayer,
    Conv2DLayer,
    FlattenLayer,
    MaxPool1DLayer,
    MaxPool2DLayer,
)
from seqnet.network.normalization import ActivationLayer, BatchNormLayer, GlobalPoolLayer

from .base import SHARED_CONSTRAINTS, SHARED_PARAMS_DOC, SIZES_CONSTRAINT, BaseSeqNet, _set_params
from .classifier import CLASS_WEIGHT_DOC, CLASSIFIER_CONSTRAINTS, SeqNetClassifierMixin
from .doc_examples import sequence_example
from .inputs import _is_ragged_list, check_samples, pad_ragged
from .mlp import _as_sizes, dense_head
from .regressor import REGRESSOR_CONSTRAINTS, REGRESSOR_LOSS_DOC, SeqNetRegressorMixin


class _BaseConv(BaseSeqNet):
    _is_sequence_model = True
    _parameter_constraints = {
        **SHARED_CONSTRAINTS,
        "filters": ["array-like"],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), tuple],
        "strides": [Interval(Integral, 1, None, closed="left"), tuple],
        "padding": [StrOptions({"same", "valid"}), Interval(Integral, 0, None, closed="left")],
        "pool_size": [StrOptions({"auto"}), Interval(Integral, 1, None, closed="left"), tuple],
        "hidden_layer_sizes": SIZES_CONSTRAINT,
        "activation": [StrOptions(set(ACTIVATION_CODES))],
        "input_shape": [None, tuple],
        "batch_norm": ["boolean"],
        "global_pooling": [None, StrOptions({"avg", "max"})],
    }

    def _thread_owner(self):
        return "blas"  # conv kernels are im2col + BLAS products (serial loops otherwise)

    def _validate_X(self, X, reset):
        if reset or hasattr(self, "feature_names_in_"):
            _check_feature_names(self, X, reset=reset)
        ragged = _is_ragged_list(X)
        if ragged and self.global_pooling is None:
            raise ValueError(f"{type(self).__name__} needs samples of one shape; got a ragged "
                             "list of sequences of different lengths (pad them, e.g. with "
                             "seqnet.preprocessing.pad_sequences).")
        if ragged:
            X, lengths = pad_ragged(self, X, self._dtype)
            n_features, series_2d = X.shape[2], False
        else:
            X, n_features, series_2d = self._as_samples(check_samples(X, self._dtype, self))
            lengths = None
        if reset:
            self.n_features_in_ = n_features
            self._sample_shape = X.shape[1:]
            self._fitted_on_2d_series = series_2d
        else:
            self._check_fitted_shape(X, n_features, series_2d, ragged)
        if self.global_pooling is not None and X.ndim == 3:
            # sequences of any length: built for T = None, masked by lengths
            if lengths is None:
                lengths = np.full(X.shape[0], X.shape[1], dtype=np.int64)
            return np.ascontiguousarray(X), lengths
        return np.ascontiguousarray(X), None

    def _as_samples(self, X):
        """``(X, n_features, series_2d)``: X shaped per sample, ``n_features`` as
        scikit-learn counts it (a 2-D X's columns), and whether X was 2-D rows
        read as univariate series (n, T) -> (n, T, 1)."""
        if X.ndim == 2:
            n_features = X.shape[1]
            if self.input_shape is None:
                return X.reshape(X.shape[0], n_features, 1), n_features, True
            shape = tuple(int(s) for s in self.input_shape)
            if int(np.prod(shape)) != n_features:
                raise ValueError(f"input_shape={shape} holds {int(np.prod(shape))} values "
                                 f"but X has {n_features} features per row.")
            return X.reshape((X.shape[0],) + shape), n_features, False
        if X.ndim in (3, 4):
            return X, X.shape[-1], False
        raise ValueError(f"Expected X of shape (n, T, C), (n, H, W, C) or flat rows; "
                         f"got an array of shape {X.shape}.")

    def _check_fitted_shape(self, X, n_features, series_2d, ragged):
        """Samples of ``X`` against the fitted ones.  With global pooling a 1-D
        model takes sequences of any length with the fitted channels per step
        (a 2-D fit: one); a 2-D X after a 2-D fit keeps scikit-learn's rule
        that its columns number ``n_features_in_``."""
        name, fitted = type(self).__name__, self._sample_shape
        if X.ndim != len(fitted) + 1:
            got = "a ragged list of sequences" if ragged else f"samples of shape {X.shape[1:]}"
            raise ValueError(f"X has {got}, but {name} was fitted on {fitted}.")
        any_length = self.global_pooling is not None and X.ndim == 3
        fitted_2d = getattr(self, "_fitted_on_2d_series", False)
        per_step = any_length and (not series_2d or (not fitted_2d and fitted[-1] == 1))
        expected = fitted[-1] if per_step else self.n_features_in_
        got = X.shape[2] if per_step else n_features
        if got != expected:
            hint = ""
            if any_length and series_2d and fitted_2d:
                hint = (f" (a 2-D X is {expected} time steps, as fitted; pass series of "
                        "other lengths as a list or as a 3-D array (n, T, 1))")
            raise ValueError(f"X has {got} features, but {name} is expecting {expected} "
                             f"features as input.{hint}")
        if X.shape[1 + any_length:] != fitted[any_length:]:
            raise ValueError(f"X has samples of shape {X.shape[1:]}, but "
                             f"{name} was fitted on {fitted}.")

    def _build_layers(self, in_shape, n_outputs):
        two_d = len(in_shape) == 3
        conv, pool = (Conv2DLayer, MaxPool2DLayer) if two_d else (Conv1DLayer, MaxPool1DLayer)
        kernel, strides, pool_size = (self.kernel_size, self.strides, self.pool_size)
        if not two_d:
            kernel, strides, pool_size = (_first(kernel), _first(strides), _first(pool_size))
        layers = []
        bn = self.batch_norm
        shape = tuple(in_shape)  # per-sample shape after the layers so far
        for i, n_filters in enumerate(_as_sizes(self.filters)):
            layer = conv(n_filters, kernel, i, strides, self.padding,
                         "identity" if bn else self.activation, self._dtype)
            shape = layer.build(shape)
            layers.append(layer)
            if bn:  # conv -> BN -> activation (ReLU fused into BN)
                layers.append(BatchNormLayer(f"bn.{i}", relu=self.activation == "relu"))
                if self.activation not in ("relu", "identity"):
                    layers.append(ActivationLayer(self.activation))
            window = _pool_window(pool_size, shape[:-1])
            if window is not None:
                layer = pool(window)
                try:
                    shape = layer.build(shape)
                except ValueError as exc:
                    raise ValueError(
                        f"{type(self).__name__}: pool_size={self.pool_size!r} does not fit "
                        f"the output of convolution {i} (per-sample shape {shape}): {exc}. "
                        "Use a smaller pool_size, or pool_size='auto' (the default), "
                        "which pools only where the feature map has room.") from None
                layers.append(layer)
        if self.global_pooling is not None:
            layers.append(GlobalPoolLayer(self.global_pooling))
        else:
            layers.append(FlattenLayer())
        return layers + dense_head(self.hidden_layer_sizes, self.activation, self.dropout,
                                   n_outputs)


def _first(value):
    return value[0] if isinstance(value, tuple) else value


def _pool_window(pool_size, spatial):
    """Window of the pooling after a convolution whose output has ``spatial``
    sizes (None: sequences of any length), or None for no pooling.

    ``'auto'``: 2 along each axis, clamped to the axis's size, and no pooling
    where every axis is down to 1 (a default model fits any input length);
    on sequences of any length (global pooling) 2 per step axis.  An explicit
    int or tuple is used as given (1 everywhere: no pooling).
    """
    if isinstance(pool_size, str):  # 'auto'
        window = tuple(2 if n is None else min(2, int(n)) for n in spatial)
        if max(window) <= 1:
            return None
        return window if len(window) > 1 else window[0]
    return pool_size if np.max(pool_size) > 1 else None


_CONV_DOC = """
    Input ``X``: (n_samples, T, C) sequences (1-D convolution over time),
    (n_samples, H, W, C) images (2-D convolution), or flat rows reshaped by
    ``input_shape``; without ``input_shape`` a 2-D X is read as univariate
    sequences (n_samples, T).

    Parameters
    ----------
    filters : array-like of int, default=(16, 32)
        Output channels of each convolution (weights ``conv.{i}.weight`` in
        PyTorch's (out, in, k[, k]) layout).
    kernel_size : int or tuple, default=3
        With 'same' padding (the default) any kernel fits any input size;
        with 'valid' or int padding a kernel longer than the padded input
        raises a ValueError.
    strides : int or tuple, default=1
        Step of each convolution along each axis.
    padding : {'same', 'valid'} or int, default='same'
        Zero padding of each convolution: 'same' keeps the length (at stride
        1), 'valid' pads nothing, an int pads that many zeros on each side.
    pool_size : 'auto', int or tuple, default='auto'
        Max-pooling window (and stride) after each convolution; 1 disables it.
        'auto' is 2 along each axis clamped to the feature map's size there,
        and a pooling layer is skipped once the map is down to one step (one
        pixel): a default model fits inputs of any length (a univariate
        series of 1 step included). An explicit window that does not fit
        the feature map raises a ValueError naming the convolution.
    hidden_layer_sizes : int or array-like of int, default=(64,)
        Dense layers between the flattened features and the output (an int
        ``n`` means ``(n,)``; ``()`` none).
    activation : str, default='relu'
        Activation of the convolutions and dense layers.
    input_shape : tuple or None, default=None
        Per-sample shape to read flat rows as, e.g. (8, 8, 1) for load_digits.
    batch_norm : bool, default=False
        Batch normalisation after each convolution (conv -> BN -> activation):
        batch statistics in training, running statistics (PyTorch's momentum
        0.1, eps 1e-5) at predict; ``weights_`` gains ``bn.{i}.weight``,
        ``bn.{i}.bias``, ``bn.{i}.running_mean``, ``bn.{i}.running_var``.
    global_pooling : {None, 'avg', 'max'}, default=None
        Global average or max pooling of the last feature map instead of
        flattening it: the dense head sees one value per channel, so 1-D
        models take sequences of any length, ragged lists included (padding
        is masked: a padded sequence is predicted exactly as alone, for
        'valid', int and stride-1 'same' padding). A 2-D X (n, T) is n
        univariate series: ``n_features_in_`` is T and a later 2-D X must
        have T columns (scikit-learn's rule), but lists of 1-D series and
        (n, T', 1) arrays of any length are taken.
""" + SHARED_PARAMS_DOC


class ConvClassifier(SeqNetClassifierMixin, _BaseConv):
    __doc__ = "Convolutional classifier (1-D over time or 2-D over images).\n" + _CONV_DOC + \
        CLASS_WEIGHT_DOC + """
    Examples
    --------
    Digits as 8x8 images (2-D convolution):

    >>> from sklearn.datasets import load_digits
    >>> from seqnet import ConvClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = ConvClassifier(input_shape=(8, 8, 1), filters=(8,), hidden_layer_sizes=32,
    ...                      learning_rate_init=0.01, max_iter=300, random_state=0)
    >>> clf.fit(X[:200] / 16, y[:200]).predict(X[:2] / 16).shape
    (2,)
    >>> clf.score(X[200:400] / 16, y[200:400]) > 0.8  # accuracy on unseen digits
    True
    """
    _parameter_constraints = {**_BaseConv._parameter_constraints, **CLASSIFIER_CONSTRAINTS}

    def __init__(self, filters=(16, 32), kernel_size=3, *, strides=1, padding="same",
                 pool_size="auto", hidden_layer_sizes=(64,), activation="relu",
                 input_shape=None, batch_norm=False, global_pooling=None, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm=None, class_weight=None):
        _set_params(self, locals())


class ConvRegressor(SeqNetRegressorMixin, _BaseConv):
    __doc__ = ("Convolutional regressor (1-D over time or 2-D over images).\n" + _CONV_DOC
               + REGRESSOR_LOSS_DOC + sequence_example(
                   "ConvRegressor", "filters=(8,), hidden_layer_sizes=16, learning_rate_init=0.01, "))
    _parameter_constraints = {**_BaseConv._parameter_constraints, **REGRESSOR_CONSTRAINTS}

    def __init__(self, filters=(16, 32), kernel_size=3, *, strides=1, padding="same",
                 pool_size="auto", hidden_layer_sizes=(64,), activation="relu",
                 input_shape=None, batch_norm=False, global_pooling=None, solver="adam",
                 alpha=0.0001, l1_ratio=0.0, dropout=0.0, batch_size="auto",
                 learning_rate="constant", learning_rate_init=0.001, max_learning_rate=None,
                 cycle_length=8, power_t=0.5, max_iter=200, shuffle=True, random_state=None,
                 tol=0.0001, verbose=0, warm_start=False, momentum=0.9, nesterovs_momentum=True,
                 early_stopping=False, validation_fraction=0.1, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-08, n_iter_no_change=10, init="glorot", device="cpu",
                 dtype="float32", max_fun=15000, clip_norm=None, loss="squared_error"):
        _set_params(self, locals())
