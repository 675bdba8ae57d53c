"""Bad input at every public entry point gives a clear ValueError / TypeError.

Every estimator family is fitted once (tiny sizes); each test works on a deep
copy of it, and after every error on a fitted estimator checks that nothing
was half-updated: predictions (and probabilities) are bitwise identical to
before, ``weights_`` holds the same values and the fitted attributes that
describe the input (``n_features_in_``, ``classes_``, ``n_outputs_``) are
unchanged.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

import seqnet
from seqnet.preprocessing import SequenceScaler, make_windows, pad_sequences

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0, batch_size=4)
CONV = dict(filters=(2,), kernel_size=2, hidden_layer_sizes=(3,), max_iter=2,
            random_state=0, batch_size=4)

ESTIMATORS = {
    "MLPClassifier": lambda: seqnet.MLPClassifier(**SMALL),
    "MLPRegressor": lambda: seqnet.MLPRegressor(**SMALL),
    "RNNClassifier": lambda: seqnet.RNNClassifier(**SMALL),
    "RNNRegressor": lambda: seqnet.RNNRegressor(**SMALL),
    "LSTMClassifier": lambda: seqnet.LSTMClassifier(**SMALL),
    "LSTMRegressor": lambda: seqnet.LSTMRegressor(**SMALL),
    "GRUClassifier": lambda: seqnet.GRUClassifier(**SMALL),
    "GRURegressor": lambda: seqnet.GRURegressor(**SMALL),
    "ConvClassifier": lambda: seqnet.ConvClassifier(**CONV),
    "ConvRegressor": lambda: seqnet.ConvRegressor(**CONV),
}
NAMES = list(ESTIMATORS)
SEQUENCE = [n for n in NAMES if n[:3] in ("RNN", "LST", "GRU")]
CLASSIFIERS = [n for n in NAMES if n.endswith("Classifier")]


def _data(name, n=12, seed=0):
    """Training data of the shape each family expects."""
    rng = np.random.default_rng(seed)
    if name.startswith("MLP"):
        X = rng.normal(size=(n, 4))
    elif name.startswith("Conv"):
        X = rng.normal(size=(n, 6, 2))
    else:
        X = rng.normal(size=(n, 5, 2))
    y = np.arange(n) % 2
    if name.endswith("Regressor"):
        y = y.astype(float) + 0.1 * rng.normal(size=n)
    return X, y


@pytest.fixture(scope="module")
def fitted_models():
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, make in ESTIMATORS.items():
            X, y = _data(name)
            models[name] = make().fit(X, y)
    return models


@pytest.fixture
def model(request, fitted_models):
    return copy.deepcopy(fitted_models[request.param])


def _snapshot(est, X):
    snap = {
        "pred": np.array(est.predict(X), copy=True),
        "weights": {k: v.copy() for k, v in est.weights_.items()},
        "n_features_in_": est.n_features_in_,
        "n_outputs_": est.n_outputs_,
        "n_iter_": est.n_iter_,
    }
    if hasattr(est, "predict_proba"):
        snap["proba"] = np.array(est.predict_proba(X), copy=True)
        snap["classes_"] = est.classes_.copy()
    return snap


def assert_unchanged(est, X, snap):
    """Bitwise identical predictions, same weights and fitted input attributes."""
    pred = est.predict(X)
    assert pred.dtype == snap["pred"].dtype
    np.testing.assert_array_equal(pred, snap["pred"], strict=True)
    if "proba" in snap:
        assert est.predict_proba(X).tobytes() == snap["proba"].tobytes()
        np.testing.assert_array_equal(est.classes_, snap["classes_"])
    assert est.weights_.keys() == snap["weights"].keys()
    for key, w in snap["weights"].items():
        assert est.weights_[key].tobytes() == w.tobytes(), key
    # weights_ still views the buffer that predict reads
    for w in est.weights_.values():
        assert np.shares_memory(w, est._network.params)
    assert est.n_features_in_ == snap["n_features_in_"]
    assert est.n_outputs_ == snap["n_outputs_"]
    assert est.n_iter_ == snap["n_iter_"]


def _raises_unchanged(est, name, call, exc, match):
    X, _ = _data(name, seed=1)
    snap = _snapshot(est, X)
    with pytest.raises(exc, match=match):
        call()
    assert_unchanged(est, X, snap)


def _methods(name):
    """Every public method taking X, as (label, callable(est, X, y))."""
    out = [
        ("fit", lambda est, X, y: est.fit(X, y)),
        ("partial_fit", lambda est, X, y: est.partial_fit(X, y)),
        ("predict", lambda est, X, y: est.predict(X)),
        ("score", lambda est, X, y: est.score(X, y)),
    ]
    if name in CLASSIFIERS:
        out.append(("predict_proba", lambda est, X, y: est.predict_proba(X)))
        out.append(("predict_log_proba", lambda est, X, y: est.predict_log_proba(X)))
    return out


METHOD_CASES = [(n, label) for n in NAMES for label, _ in _methods(n)]


def _method(name, label):
    return dict(_methods(name))[label]


# --------------------------------------------------------------- NaN / inf in X
@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "infinity"),
                                       (-np.inf, "infinity")])
@pytest.mark.parametrize("model,label", METHOD_CASES, indirect=["model"])
def test_non_finite_X(model, label, bad, match):
    name = type(model).__name__
    X, y = _data(name)
    X = X.copy()
    X.flat[7] = bad
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, X, y), ValueError, match)


@pytest.mark.parametrize("model", SEQUENCE, indirect=True)
def test_non_finite_in_ragged_list(model):
    name = type(model).__name__
    X, y = _data(name)
    seqs = [X[i, : 1 + i % 5] for i in range(len(X))]
    seqs[3] = seqs[3].copy()
    seqs[3][0, 1] = np.nan
    _raises_unchanged(model, name, lambda: model.predict(seqs), ValueError, "NaN")
    _raises_unchanged(model, name, lambda: model.fit(seqs, y), ValueError, "NaN")


# --------------------------------------------------------------- NaN / inf in y
# a classifier's score() goes through sklearn's accuracy_score, whose type_of_target
# casts the NaN to int (a RuntimeWarning) before raising the ValueError
@pytest.mark.filterwarnings("ignore:invalid value encountered in cast:RuntimeWarning")
@pytest.mark.parametrize("bad,match", [(np.nan, "NaN"), (np.inf, "infinity")])
@pytest.mark.parametrize("label", ["fit", "partial_fit", "score"])
@pytest.mark.parametrize("model", NAMES, indirect=True)
def test_non_finite_y(model, label, bad, match):
    name = type(model).__name__
    X, y = _data(name)
    y = y.astype(float)
    y[2] = bad
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, X, y), ValueError, match)


@pytest.mark.parametrize("model", NAMES, indirect=True)
def test_y_of_wrong_length(model):
    name = type(model).__name__
    X, y = _data(name)
    _raises_unchanged(model, name, lambda: model.fit(X, y[:5]), ValueError,
                      "inconsistent numbers of samples")
    _raises_unchanged(model, name, lambda: model.partial_fit(X, y[:5]), ValueError,
                      "inconsistent numbers of samples")


@pytest.mark.parametrize("model", NAMES, indirect=True)
def test_bad_sample_weight(model):
    name = type(model).__name__
    X, y = _data(name)
    for sw, match in [(-np.ones(len(y)), "Negative"), (np.full(len(y), np.nan), "NaN"),
                      (np.zeros(len(y)), "non-zero|all zero"), (np.ones(3), "shape")]:
        _raises_unchanged(model, name, lambda: model.fit(X, y, sample_weight=sw),
                          ValueError, match)


@pytest.mark.parametrize("model", [n for n in NAMES if n in CLASSIFIERS], indirect=True)
def test_continuous_y_for_classifier(model):
    name = type(model).__name__
    X, _ = _data(name)
    y = np.linspace(0, 1, len(X))
    _raises_unchanged(model, name, lambda: model.fit(X, y), ValueError, "Unknown label type")


# ----------------------------------------------------------------- wrong rank
@pytest.mark.parametrize("model,label", METHOD_CASES, indirect=["model"])
def test_1d_X(model, label):
    name = type(model).__name__
    X, y = _data(name)
    call = _method(name, label)
    x1 = np.ascontiguousarray(X.reshape(len(X), -1)[0])
    _raises_unchanged(model, name, lambda: call(model, x1, y[:1]), ValueError,
                      r"Expected 2D array, got 1D array")


@pytest.mark.parametrize("model,label", [c for c in METHOD_CASES if c[0] in SEQUENCE],
                         indirect=["model"])
def test_4d_X_for_recurrent(model, label):
    name = type(model).__name__
    X, y = _data(name)
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, X[..., None], y), ValueError,
                      r"\(n_samples, n_timesteps, n_features\).*shape \(12, 5, 2, 1\)")


@pytest.mark.parametrize("model,label", [c for c in METHOD_CASES if c[0].startswith("Conv")],
                         indirect=["model"])
def test_5d_X_for_conv(model, label):
    name = type(model).__name__
    X, y = _data(name)
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, X[..., None, None], y), ValueError,
                      r"\(n, T, C\), \(n, H, W, C\).*shape \(12, 6, 2, 1, 1\)")


@pytest.mark.parametrize("model", [n for n in NAMES if n.startswith("Conv")], indirect=True)
def test_conv_rank_differs_from_fit(model):
    name = type(model).__name__
    X, y = _data(name)
    _raises_unchanged(model, name, lambda: model.predict(X[..., None]), ValueError,
                      r"samples of shape \(6, 2, 1\).*fitted on \(6, 2\)")
    _raises_unchanged(model, name, lambda: model.partial_fit(X[..., None], y), ValueError,
                      r"samples of shape \(6, 2, 1\).*fitted on \(6, 2\)")


@pytest.mark.parametrize("model", SEQUENCE, indirect=True)
def test_recurrent_fitted_3d_rejects_2d(model):
    name = type(model).__name__
    X, y = _data(name)
    # 5 columns read as 5 features of univariate steps: the feature count differs
    _raises_unchanged(model, name, lambda: model.predict(X[:, :, 0]), ValueError,
                      r"X has 5 features, but \w+ is expecting 2 features")
    # 2 columns: the count matches, but the layout does not
    _raises_unchanged(model, name, lambda: model.predict(X[:, :2, 0]), ValueError,
                      r"fitted on 3-D sequences with 2 features; got a 2-D array")


# ---------------------------------------------------------------- empty input
@pytest.mark.parametrize("model,label", METHOD_CASES, indirect=["model"])
def test_empty_X(model, label):
    name = type(model).__name__
    X, y = _data(name)
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, X[:0], y[:0]), ValueError,
                      r"0 sample\(s\)")


@pytest.mark.parametrize("model", SEQUENCE, indirect=True)
def test_empty_list_and_zero_timesteps(model):
    name = type(model).__name__
    X, y = _data(name)
    _raises_unchanged(model, name, lambda: model.predict([]), ValueError,
                      "empty list.*at least one sequence")
    _raises_unchanged(model, name, lambda: model.predict(X[:, :0]), ValueError,
                      "0 time steps")
    _raises_unchanged(model, name, lambda: model.fit(X[:, :0], y), ValueError,
                      "0 time steps")


@pytest.mark.parametrize("label", ["fit", "partial_fit", "predict", "score"])
@pytest.mark.parametrize("model", SEQUENCE, indirect=True)
def test_zero_length_sequence_in_ragged_list(model, label):
    name = type(model).__name__
    X, y = _data(name)
    seqs = [X[i, : 1 + i % 5] for i in range(len(X))]
    seqs[4] = X[4, :0]
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, seqs, y), ValueError,
                      "Sequence 4 of the ragged batch has length 0")


@pytest.mark.parametrize("model", [n for n in NAMES if n.startswith("Conv")], indirect=True)
def test_ragged_list_for_conv(model):
    name = type(model).__name__
    X, y = _data(name)
    seqs = [X[i, : 2 + i % 4] for i in range(len(X))]
    _raises_unchanged(model, name, lambda: model.predict(seqs), ValueError,
                      "ragged list.*pad_sequences")
    _raises_unchanged(model, name, lambda: model.fit(seqs, y), ValueError,
                      "ragged list.*pad_sequences")


@pytest.mark.parametrize("model", SEQUENCE, indirect=True)
def test_ragged_list_with_different_n_features(model):
    name = type(model).__name__
    X, _ = _data(name)
    seqs = [X[0, :3], np.zeros((2, 3))]
    _raises_unchanged(model, name, lambda: model.predict(seqs), ValueError,
                      r"same number of features; got \[2, 3\]")


# -------------------------------------------------- n_features differs after fit
@pytest.mark.parametrize("label", ["partial_fit", "predict", "score"])
@pytest.mark.parametrize("model", NAMES, indirect=True)
def test_n_features_differs(model, label):
    name = type(model).__name__
    X, y = _data(name)
    Xb = X[..., :1] if X.ndim == 3 else X[:, :3]
    expected = 2 if X.ndim == 3 else 4
    call = _method(name, label)
    _raises_unchanged(model, name, lambda: call(model, Xb, y), ValueError,
                      rf"X has {Xb.shape[-1]} features, but {name} is expecting "
                      rf"{expected} features")


@pytest.mark.parametrize("model", NAMES, indirect=True)
def test_failed_refit_keeps_fitted_state(model):
    """fit() with a new number of features but an invalid y must not leave
    n_features_in_ (validated first) changed."""
    name = type(model).__name__
    X, y = _data(name)
    Xb = np.concatenate([X, X[..., :1]], axis=-1)
    y_bad = y.astype(float)
    y_bad[0] = np.nan
    _raises_unchanged(model, name, lambda: model.fit(Xb, y_bad), ValueError, "NaN")


# --------------------------------------------------- partial_fit target checks
@pytest.mark.parametrize("model", CLASSIFIERS, indirect=True)
def test_partial_fit_unseen_labels(model):
    name = type(model).__name__
    X, y = _data(name)
    y2 = y.copy()
    y2[3] = 7
    _raises_unchanged(model, name, lambda: model.partial_fit(X, y2), ValueError,
                      r"y has labels \[7\] that are not in classes_ \[0, 1\]")
    _raises_unchanged(model, name, lambda: model.partial_fit(X, y, classes=[0, 1, 2]),
                      ValueError, "not the same as on the first call")


@pytest.mark.parametrize("name", CLASSIFIERS)
def test_partial_fit_first_call_needs_classes(name):
    X, y = _data(name)
    est = ESTIMATORS[name]()
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        est.partial_fit(X, y)
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes_ \[0\]"):
        est.partial_fit(X, y, classes=[0])
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes_ \[0, 2\]"):
        est.partial_fit(X, y, classes=[0, 2])
    assert not hasattr(est, "weights_")
    assert not hasattr(est, "classes_")


@pytest.mark.parametrize("model", [n for n in NAMES if n.endswith("Regressor")],
                         indirect=True)
def test_partial_fit_regressor_outputs_differ(model):
    name = type(model).__name__
    X, y = _data(name)
    _raises_unchanged(model, name, lambda: model.partial_fit(X, np.stack([y, y], 1)),
                      ValueError, "y has 2 outputs, but .* was fitted with 1")
    _raises_unchanged(model, name, lambda: model.fit(X, np.zeros((len(y), 2, 2))),
                      ValueError, r"y must have shape \(n_samples,\) or \(n_samples, "
                                  r"n_outputs\); got \(12, 2, 2\)")


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_predict(name):
    X, _ = _data(name)
    with pytest.raises(NotFittedError):
        ESTIMATORS[name]().predict(X)


@pytest.mark.parametrize("name", ["LSTMClassifier", "MLPRegressor"])
def test_non_numeric_X(name):
    X, y = _data(name)
    with pytest.raises(ValueError, match="could not convert string to float"):
        ESTIMATORS[name]().fit(np.full(X.shape, "a"), y)
    with pytest.raises(ValueError, match="Complex data not supported"):
        ESTIMATORS[name]().fit(X + 1j, y)


# ------------------------------------------------- out-of-range hyperparameters
BAD_PARAMS = [
    ("learning_rate_init", -1), ("learning_rate_init", 0.0), ("dropout", 1.5),
    ("dropout", 1.0), ("solver", "foo"), ("alpha", -0.1), ("l1_ratio", 2.0),
    ("max_iter", 0), ("batch_size", 0), ("momentum", 1.5), ("beta_1", 1.0),
    ("epsilon", 0.0), ("validation_fraction", 1.0), ("clip_norm", 0.0),
    ("clip_norm", "always"), ("learning_rate", "fast"), ("init", "zeros"),
    ("dtype", "float16"), ("device", "gpu"), ("n_iter_no_change", 0), ("tol", -1.0),
]
RECURRENT_BAD = [("bptt_steps", 0), ("bptt_steps", -3), ("pooling", "min"),
                 ("bidirectional", "yes")]
CONV_BAD = [("kernel_size", 0), ("padding", "full"), ("pool_size", 0), ("strides", 0)]


def _bad_param_cases():
    cases = [(n, p, v) for n in ("MLPClassifier", "LSTMRegressor", "ConvClassifier")
             for p, v in BAD_PARAMS]
    cases += [(n, p, v) for n in ("RNNClassifier", "GRURegressor", "LSTMClassifier")
              for p, v in RECURRENT_BAD]
    cases += [("RNNRegressor", "activation", "relu6")]
    cases += [(n, p, v) for n in ("ConvClassifier", "ConvRegressor") for p, v in CONV_BAD]
    return cases


@pytest.mark.parametrize("model,param,value", _bad_param_cases(), indirect=["model"])
def test_invalid_hyperparameter(model, param, value):
    name = type(model).__name__
    X, y = _data(name)
    good = model.get_params()[param]
    model.set_params(**{param: value})
    # sklearn's InvalidParameterError is a ValueError that names the parameter
    with pytest.raises(InvalidParameterError, match=rf"The '{param}' parameter of {name}"):
        model.fit(X, y)
    with pytest.raises(ValueError, match=rf"The '{param}' parameter of {name}"):
        model.partial_fit(X, y)
    model.set_params(**{param: good})
    Xp, _ = _data(name, seed=1)
    ref, _ = _data(name)
    # predictions identical to a never-touched copy
    fresh = ESTIMATORS[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fresh.fit(ref, y)
    np.testing.assert_array_equal(model.predict(Xp), fresh.predict(Xp), strict=True)


@pytest.mark.parametrize("model", ["MLPClassifier", "LSTMClassifier", "ConvClassifier"],
                         indirect=True)
def test_invalid_layer_sizes_after_fit(model):
    """hidden_layer_sizes / filters fail when the network is built -- after y was
    encoded: classes_ and n_features_in_ must still be the old ones."""
    name = type(model).__name__
    X, y = _data(name)
    Xn = np.concatenate([X, X[..., :1]], axis=-1)
    model.set_params(hidden_layer_sizes=(0,))
    _raises_unchanged(model, name, lambda: model.fit(Xn, y + 5), ValueError,
                      r"hidden_layer_sizes must be > 0, got \[0\]")
    if name.startswith("Conv"):
        model.set_params(hidden_layer_sizes=(3,), filters=(-2,))
        _raises_unchanged(model, name, lambda: model.fit(Xn, y + 5), ValueError,
                          r"must be > 0, got \[-2\]")


# --------------------------------------------------------------- preprocessing
@pytest.mark.parametrize("window,horizon,n", [(4, 2, 5), (5, 1, 5), (1, 10, 3), (20, 20, 39)])
def test_make_windows_too_long(window, horizon, n):
    with pytest.raises(ValueError, match=rf"window \({window}\) \+ horizon \({horizon}\) = "
                                         rf"{window + horizon} is longer than the series "
                                         rf"\({n} time steps\)"):
        make_windows(np.arange(float(n)), window, horizon)


@pytest.mark.parametrize("series,kwargs,exc,match", [
    (np.array([1.0, np.nan, 3.0, 4.0]), {}, ValueError, "series contains NaN"),
    (np.array([1.0, np.inf, 3.0, 4.0]), {}, ValueError, "series contains infinity"),
    (np.zeros((4, 3, 2)), {}, ValueError, "dim 3"),
    (np.zeros(0), {}, ValueError, r"0 sample\(s\)"),
    (np.zeros(5), {"window": 0}, InvalidParameterError, "'window' parameter"),
    (np.zeros(5), {"horizon": 0}, InvalidParameterError, "'horizon' parameter"),
    (np.zeros(5), {"step": 0}, InvalidParameterError, "'step' parameter"),
    (np.zeros((6, 2)), {"target": 2}, ValueError, "target column 2 is out of range"),
    (np.zeros((6, 2)), {"target": []}, ValueError, "at least one column"),
    (np.zeros(6), {"window": 2.5}, InvalidParameterError, "'window' parameter"),
])
def test_make_windows_bad_input(series, kwargs, exc, match):
    kw = {"window": 2, **kwargs}
    with pytest.raises(exc, match=match):
        make_windows(series, **kw)


@pytest.mark.parametrize("sequences,kwargs,match", [
    ([[1.0, np.nan], [1.0]], {}, r"sequences\[0\] contains NaN"),
    ([[1.0, 2.0], [np.inf]], {}, r"sequences\[1\] contains infinity"),
    ([np.zeros((2, 2, 2))], {}, r"1-D \(T,\) or 2-D \(T, n_features\); sequence 0 has shape"),
    ([1.0, 2.0], {}, r"sequence 0 has shape \(\)"),
    ([], {}, "at least one sequence, got 0"),
    ([np.zeros((2, 2)), np.zeros((3, 3))], {}, r"same number of features; got \[2, 3\]"),
    ([[1.0]], {"maxlen": -1}, "'maxlen' parameter"),
    ([[1.0]], {"padding": "middle"}, "'padding' parameter"),
])
def test_pad_sequences_bad_input(sequences, kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(sequences, **kwargs)


def test_pad_sequences_zero_length_is_allowed():
    # documented: lengths may be zero (the estimators reject such sequences)
    padded, lengths = pad_sequences([np.ones((3, 2)), np.zeros((0, 2))])
    assert padded.shape == (2, 3, 2)
    np.testing.assert_array_equal(lengths, [3, 0])
    assert not padded[1].any()


def _scaler_X():
    return np.random.default_rng(0).normal(size=(4, 5, 2))


@pytest.mark.parametrize("X,match", [
    (np.where(np.arange(40).reshape(4, 5, 2) == 7, np.nan, 1.0), "Input X contains NaN"),
    (np.where(np.arange(40).reshape(4, 5, 2) == 7, np.inf, 1.0), "Input X contains infinity"),
    (np.zeros((4, 5, 2, 1)), r"2-D \(n_samples, n_timesteps\) or 3-D .* got 4-D"),
    (np.zeros(5), "Expected 2D array, got 1D array"),
    (np.zeros((0, 5, 2)), r"0 sample\(s\)"),
    (np.zeros((3, 0, 2)), "0 time steps"),
    ([np.zeros((3, 2)), np.zeros((2, 3))], r"same number of features; got \[2, 3\]"),
    ([np.zeros((3, 2)), np.array([[1.0, np.nan]])], r"X\[1\] contains NaN"),
])
def test_sequence_scaler_bad_fit(X, match):
    scaler = SequenceScaler().fit(_scaler_X())
    mean, scale = scaler.mean_.copy(), scaler.scale_.copy()
    with pytest.raises(ValueError, match=match):
        scaler.fit(X)
    # a failed refit leaves the fitted statistics alone
    np.testing.assert_array_equal(scaler.mean_, mean)
    np.testing.assert_array_equal(scaler.scale_, scale)


@pytest.mark.parametrize("method", ["transform", "inverse_transform"])
def test_sequence_scaler_bad_transform(method):
    scaler = SequenceScaler().fit(_scaler_X())
    Xn = _scaler_X()
    Xn[1, 2, 0] = np.nan
    f = getattr(scaler, method)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        f(Xn)
    with pytest.raises(ValueError, match="X has 1 features, but SequenceScaler is "
                                         "expecting 2 features"):
        f(_scaler_X()[..., :1])
    with pytest.raises(ValueError, match="fitted on sequences with 2 features per step; "
                                         "got a 2-D"):
        f(_scaler_X()[..., 0])
    with pytest.raises(NotFittedError):
        getattr(SequenceScaler(), method)(_scaler_X())
    with pytest.raises(InvalidParameterError, match="'with_mean' parameter"):
        SequenceScaler(with_mean="yes").fit(_scaler_X())


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_check_samples_skips_only_arrays_it_would_not_change(dtype):
    """The validation shortcut returns a finite C-contiguous array of the compute
    dtype itself; NaN, inf, other dtypes, strided and empty arrays still go
    through scikit-learn's check_array (its conversions and its messages)."""
    from seqnet.estimators.inputs import check_samples

    est = seqnet.LSTMRegressor()
    X = np.arange(24, dtype=dtype).reshape(2, 4, 3)
    assert check_samples(X, dtype, est) is X
    converted = check_samples(X.astype(np.int64), dtype, est)
    assert converted.dtype == dtype and np.array_equal(converted, X)
    strided = X[:, ::2]
    assert np.array_equal(check_samples(strided, dtype, est), strided)
    for bad in (np.nan, np.inf):
        Xb = X.copy()
        Xb[1, 2, 0] = bad
        with pytest.raises(ValueError, match="NaN|infinity"):
            check_samples(Xb, dtype, est)
    huge = np.full((2, 3), np.finfo(dtype).max, dtype=dtype)  # finite, sum overflows
    assert check_samples(huge, dtype, est) is huge
    with pytest.raises(ValueError, match="0 sample"):
        check_samples(np.empty((0, 4, 3), dtype=dtype), dtype, est)


def test_partial_fit_validates_hyperparameters_again_after_set_params(monkeypatch):
    """scikit-learn validates only a first partial_fit; seqnet validates again
    after set_params (so a changed value cannot train out of range), and not on
    other calls (a few tenths of a millisecond each)."""
    est = seqnet.MLPRegressor(**SMALL)
    X, y = _data("MLPRegressor")
    est.partial_fit(X, y)
    calls = []
    validate = type(est)._validate_params
    monkeypatch.setattr(type(est), "_validate_params",
                        lambda self: calls.append(1) or validate(self))
    est.partial_fit(X, y)
    assert calls == []
    est.set_params(alpha=1e-3)
    est.partial_fit(X, y)
    assert calls == [1]
    est.partial_fit(X, y)
    assert calls == [1]
