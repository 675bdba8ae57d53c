"""Drop-in for scikit-learn's MLP (issue 18): parameters, counters and edge cases
that behave as scikit-learn's ``MLPClassifier`` / ``MLPRegressor`` do."""

import re
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from seqnet import (
    ConvClassifier,
    ConvRegressor,
    GRUClassifier,
    LSTMRegressor,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
)

TINY = dict(max_iter=2, random_state=0)


def _data(n=40, n_features=6, n_classes=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    return X, np.arange(n) % n_classes


def _fit_quietly(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


# ------------------------------------------------- hidden_layer_sizes as an int
@pytest.mark.parametrize("cls, extra", [
    (MLPClassifier, {}), (MLPRegressor, {}),
    (RNNClassifier, {}), (LSTMRegressor, {}),
    (ConvClassifier, dict(filters=(2,), pool_size=1)),
    (ConvRegressor, dict(filters=(2,), pool_size=1)),
])
def test_int_hidden_layer_sizes_means_one_layer(cls, extra):
    X, y = _data()
    as_int = _fit_quietly(cls(hidden_layer_sizes=3, **extra, **TINY), X, y)
    as_tuple = _fit_quietly(cls(hidden_layer_sizes=(3,), **extra, **TINY), X, y)
    assert as_int.weights_.keys() == as_tuple.weights_.keys()
    for name, w in as_tuple.weights_.items():
        np.testing.assert_array_equal(as_int.weights_[name], w)
    assert as_int.get_params()["hidden_layer_sizes"] == 3  # stored unchanged


@pytest.mark.parametrize("bad", [0, -1, 2.5, "10"])
def test_bad_hidden_layer_sizes_rejected(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier(hidden_layer_sizes=bad, **TINY).fit(X, y)


# ------------------------------------------------------ n_iter_no_change=np.inf
def test_n_iter_no_change_inf_runs_max_iter():
    X, y = _data()
    clf = MLPClassifier(hidden_layer_sizes=3, tol=1e9, n_iter_no_change=np.inf,
                        max_iter=15, random_state=0)
    with pytest.warns(ConvergenceWarning):  # never improves by tol, never stops
        clf.fit(X, y)
    assert clf.n_iter_ == 15 and clf.stop_reason_ == "max_iter"
    stops = MLPClassifier(hidden_layer_sizes=3, tol=1e9, n_iter_no_change=2,
                          max_iter=15, random_state=0).fit(X, y)
    assert stops.n_iter_ == 4  # a first epoch, then 3 > n_iter_no_change without gain


# ------------------------------------- n_iter_ counts the last call (sklearn 1.9)
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, GRUClassifier])
def test_n_iter_counts_the_last_call(cls):
    X, y = _data()
    est = cls(hidden_layer_sizes=3, max_iter=3, tol=0.0, warm_start=True, random_state=0)
    _fit_quietly(est, X, y)
    assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (3, 120, 3)
    _fit_quietly(est.set_params(max_iter=4), X, y)  # warm start: 4 more
    assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (4, 280, 7)
    est.partial_fit(X, y)
    assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (1, 320, 8)
    _fit_quietly(est.set_params(warm_start=False, max_iter=2), X, y)  # cold: forgets
    assert (est.n_iter_, est.t_, len(est.loss_curve_)) == (2, 80, 2)


# ---------------------------------------- partial_fit after early-stopping fit
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor, LSTMRegressor])
def test_partial_fit_after_early_stopping_fit_raises(cls):
    X, y = _data()
    est = _fit_quietly(cls(hidden_layer_sizes=3, early_stopping=True, **TINY), X, y)
    before = {k: v.copy() for k, v in est.weights_.items()}
    n_iter, t = est.n_iter_, est.t_
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        est.partial_fit(X, y)
    assert (est.n_iter_, est.t_) == (n_iter, t)
    for name, w in before.items():
        np.testing.assert_array_equal(est.weights_[name], w)


# ------------------------------------------------------------ one class in y
@pytest.mark.parametrize("cls, extra", [
    (MLPClassifier, {}), (GRUClassifier, {}),
    (ConvClassifier, dict(filters=(2,), pool_size=1)),
])
def test_single_class_fits_and_predicts_it(cls, extra):
    X, _ = _data()
    y = np.full(len(X), "spam")
    est = _fit_quietly(cls(hidden_layer_sizes=3, **extra, **TINY), X, y)
    assert list(est.classes_) == ["spam"] and est.n_outputs_ == 1
    np.testing.assert_array_equal(est.predict(X[:5]), y[:5])
    np.testing.assert_array_equal(est.predict_proba(X[:5]), np.ones((5, 1)))
    assert est.score(X, y) == 1.0
    _fit_quietly(cls(hidden_layer_sizes=3, early_stopping=True, **extra, **TINY), X, y)


def test_single_class_partial_fit():
    X, _ = _data()
    clf = MLPClassifier(hidden_layer_sizes=3, random_state=0)
    clf.partial_fit(X, np.zeros(len(X), int), classes=[0])
    np.testing.assert_array_equal(clf.predict(X), 0)
    with pytest.raises(ValueError, match=r"labels \[1\] that are not in classes_ \[0\]"):
        clf.partial_fit(X, np.ones(len(X), int))


# ------------------------------------------- warm_start with other classes
@pytest.mark.parametrize("cls", [MLPClassifier, RNNClassifier])
@pytest.mark.parametrize("other", [[0, 1], [0, 1, 3], [0, 1, 2, 3]])
def test_warm_start_other_classes_raises(cls, other):
    X, y = _data(n_classes=3)
    est = _fit_quietly(cls(hidden_layer_sizes=3, warm_start=True, **TINY), X, y)
    before = {k: v.copy() for k, v in est.weights_.items()}
    y_other = np.resize(other, len(y))
    message = ("warm_start can only be used where `y` has the same classes as in the "
               f"previous call to fit. Previously got [0 1 2], `y` has {np.unique(other)}")
    with pytest.raises(ValueError, match=re.escape(message)):
        est.fit(X, y_other)
    for name, w in before.items():  # left as it was
        np.testing.assert_array_equal(est.weights_[name], w)
    _fit_quietly(est, X, y[::-1])  # the same classes in another order: fine
    _fit_quietly(est.set_params(warm_start=False), X, y_other)  # a cold refit: fine
    assert list(est.classes_) == sorted(other)


def test_warm_start_multilabel_to_binary_raises():
    X, _ = _data()
    Y = (X[:, :2] > 0).astype(int)
    clf = _fit_quietly(MLPClassifier(hidden_layer_sizes=3, warm_start=True, **TINY), X, Y)
    with pytest.raises(ValueError, match="warm_start can only be used"):
        clf.fit(X, Y[:, 0])


# ------------------------------------------- diverging regressor, early stopping
def test_diverging_regressor_with_early_stopping_records_nan():
    # scikit-learn's test_mlp_diverging_loss: finite weights whose predictions overflow
    X, y = load_iris(return_X_y=True)
    mlp = MLPRegressor(hidden_layer_sizes=100, activation="identity", solver="sgd",
                       learning_rate_init=1, max_iter=20, early_stopping=True,
                       n_iter_no_change=10, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        mlp.fit(X, y)
    assert str(mlp.validation_scores_[-1]) == "nan"
    assert isinstance(mlp.validation_scores_[-1], float)
    assert np.isfinite(mlp.best_validation_score_)  # the best weights are restored
    assert np.isfinite(mlp.predict(X)).all()


# --------------------------------------------------- the early-stopping split
@pytest.mark.parametrize("cls", [MLPClassifier, GRUClassifier])
def test_early_stopping_split_is_stratified(cls):
    X, _ = _data(n=40)
    y = np.r_[np.zeros(30, int), np.ones(6, int), np.full(4, 2)]
    est = _fit_quietly(cls(hidden_layer_sizes=3, early_stopping=True,
                           validation_fraction=0.5, max_iter=1, random_state=0), X, y)
    idx = np.arange(len(y))
    from sklearn.preprocessing import LabelBinarizer

    encoded = LabelBinarizer().fit_transform(y).astype(bool)  # as scikit-learn stratifies
    _, val = train_test_split(idx, test_size=0.5, stratify=encoded, random_state=0)
    assert np.bincount(y[val]).tolist() == [15, 3, 2]
    assert est.validation_scores_[0] == pytest.approx(est.score(X[val], y[val]))
    _, plain = train_test_split(idx, test_size=0.5, random_state=0)  # what it is not
    assert np.bincount(y[plain], minlength=3).tolist() != [15, 3, 2]


def test_early_stopping_rare_class_raises_like_sklearn():
    X = [[1, 2], [2, 3], [3, 4], [4, 5]]  # scikit-learn stratifies its boolean encoding
    with pytest.raises(ValueError, match=r"The least populated classes in y have only 1 "
                       r"member.*Classes with too few members are: \['True'\]"):
        MLPClassifier(early_stopping=True).fit(X, ["a", "a", "a", "b"])


def test_early_stopping_validation_too_small_message():
    X, y = _data(n=2)
    with pytest.raises(ValueError, match="The validation set is too small. Increase "
                       "'validation_fraction' or the size of your dataset"):
        MLPRegressor(early_stopping=True, random_state=0).fit(X, y.astype(float))


# ----------------------------------------------- coefs_ / intercepts_ as views
@pytest.mark.parametrize("cls, sk_name", [(MLPClassifier, "MLPClassifier"),
                                          (MLPRegressor, "MLPRegressor")])
def test_coefs_intercepts_shapes_as_scikit_learn(cls, sk_name):
    import sklearn.neural_network as skn

    X, y = _data(n=30, n_features=5, n_classes=3)
    ours = _fit_quietly(cls(hidden_layer_sizes=(7, 4), **TINY), X, y)
    theirs = _fit_quietly(getattr(skn, sk_name)(hidden_layer_sizes=(7, 4), **TINY), X, y)
    assert [c.shape for c in ours.coefs_] == [c.shape for c in theirs.coefs_]
    assert [b.shape for b in ours.intercepts_] == [b.shape for b in theirs.intercepts_]
    assert ours.n_layers_ == theirs.n_layers_ == 4


def test_coefs_are_views_of_the_weights():
    X, y = _data(n=30, n_classes=3)
    clf = _fit_quietly(MLPClassifier(hidden_layer_sizes=5, **TINY), X, y)
    assert np.shares_memory(clf.coefs_[0], clf.weights_["dense.0.weight"])
    np.testing.assert_array_equal(clf.coefs_[1], clf.weights_["out.weight"].T)
    proba = clf.predict_proba(X)
    clf.coefs_[0][:] *= 3.0  # in place: predictions follow
    assert not np.allclose(clf.predict_proba(X), proba)
    np.testing.assert_array_equal(clf.weights_["dense.0.weight"].T, clf.coefs_[0])
    clf.intercepts_[1][:] = 0.0
    assert np.all(clf.weights_["out.bias"] == 0.0)
    clf.coefs_ = [np.zeros_like(c) for c in clf.coefs_]  # assignment copies in
    np.testing.assert_allclose(clf.predict_proba(X), np.full((30, 3), 1 / 3), rtol=1e-6)
    assert not hasattr(MLPClassifier(), "coefs_")


def test_coefs_survive_pickling():
    import pickle

    X, y = _data(n=30)
    reg = _fit_quietly(MLPRegressor(hidden_layer_sizes=4, **TINY), X, y.astype(float))
    loaded = pickle.loads(pickle.dumps(reg))
    loaded.coefs_[0][:] = 0.0
    assert np.all(loaded.weights_["dense.0.weight"] == 0.0)
    np.testing.assert_array_equal(loaded.predict(X), np.full(30, loaded.predict(X)[0]))


def test_multilabel_partial_fit_with_classes():
    """scikit-learn accepts ``classes=range(n_labels)`` with a multilabel indicator y."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4))
    Y = (rng.random((30, 5)) > 0.5).astype(int)
    clf = MLPClassifier(hidden_layer_sizes=5, random_state=0)
    clf.partial_fit(X, Y, classes=[0, 1, 2, 3, 4])
    clf.partial_fit(X, Y)
    assert clf.predict(X).shape == (30, 5)
    with pytest.raises(ValueError, match="classes has 3 labels"):
        MLPClassifier().partial_fit(X, Y, classes=[0, 1, 2])


# ------------------------------------------------------------------- sparse X
def _no_densify(monkeypatch, n_features):
    """Densifying a sparse matrix of ``n_features`` columns (X or rows of it)
    fails (scikit-learn's LabelBinarizer may still densify its own output)."""
    import scipy.sparse as sp

    for cls in (sp.csr_matrix, sp.csc_matrix, sp.csr_array):
        for name in ("toarray", "todense"):
            original = getattr(cls, name)

            def refuse(self, *a, _original=original, **k):
                assert self.shape[1] != n_features, "sparse X was densified"
                return _original(self, *a, **k)
            monkeypatch.setattr(cls, name, refuse)


@pytest.mark.parametrize("container", ["csr_matrix", "csc_matrix", "csr_array"])
@pytest.mark.parametrize("cls, solver, extra", [
    (MLPClassifier, "lbfgs", dict(hidden_layer_sizes=15)),
    (MLPClassifier, "adam", dict(hidden_layer_sizes=(7, 5), activation="tanh")),
    (MLPRegressor, "sgd", dict(hidden_layer_sizes=(6,), early_stopping=True)),
])
def test_sparse_X_fits_as_dense(monkeypatch, container, cls, solver, extra):
    """The first layer's products on the sparse matrix give the dense fit."""
    import scipy.sparse as sp

    X, y = _data(n=60)
    X[np.abs(X) < 0.8] = 0.0  # mostly zeros
    if cls is MLPRegressor:
        y = X[:, 0] - X[:, 1]
    Xs = getattr(sp, container)(X)
    kw = dict(solver=solver, dtype="float64", max_iter=15, random_state=0, **extra)
    dense = _fit_quietly(cls(**kw), X, y)
    _no_densify(monkeypatch, X.shape[1])
    sparse = _fit_quietly(cls(**kw), Xs, y)
    for a, b in zip(dense.coefs_, sparse.coefs_):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(sparse.predict(Xs), dense.predict(X), rtol=1e-9)
    assert sparse.n_features_in_ == X.shape[1]


def test_sparse_X_partial_fit_float32(monkeypatch):
    import scipy.sparse as sp

    X, y = _data(n=50, n_classes=3)
    _no_densify(monkeypatch, X.shape[1])
    clf = MLPClassifier(hidden_layer_sizes=8, random_state=0)
    for _ in range(3):
        clf.partial_fit(sp.csr_matrix(X), y, classes=[0, 1, 2])
    assert clf.predict_proba(sp.csr_matrix(X)).shape == (50, 3)
    assert clf.__sklearn_tags__().input_tags.sparse


@pytest.mark.parametrize("cls", [ConvClassifier, GRUClassifier, RNNClassifier])
def test_sparse_X_rejected_by_other_families(cls):
    import scipy.sparse as sp

    X, y = _data(n=20, n_features=8)
    with pytest.raises(TypeError, match="Sparse data was passed.*dense data is required"):
        cls(**TINY).fit(sp.csr_matrix(X), y)
    assert not cls().__sklearn_tags__().input_tags.sparse


# --------------------------------------- default conv geometry fits any input
@pytest.mark.parametrize("cls", [ConvClassifier, ConvRegressor])
@pytest.mark.parametrize("shape", [(1,), (2,), (3,), (5, 1, 1), (1, 3, 2)])
def test_default_conv_fits_short_inputs(cls, shape):
    """pool_size='auto' clamps each window to the feature map and skips a
    pooling that no longer fits: any length fits, one step included."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(12,) + shape)
    y = np.arange(12) % 2
    est = _fit_quietly(cls(**TINY), X, y)
    assert est.predict(X).shape == (12,)


def test_auto_pooling_layers():
    X, y = _data(n=10, n_features=3)  # univariate series of 3 steps
    est = _fit_quietly(ConvClassifier(**TINY), X, y)
    # conv (3) -> pool 2 (1) -> conv (1) -> no pooling
    assert [type(layer).__name__ for layer in est._network.layers[:3]] == [
        "Conv1DLayer", "MaxPool1DLayer", "Conv1DLayer"]
    assert type(est._network.layers[3]).__name__ == "FlattenLayer"


def test_explicit_geometry_that_cannot_fit_raises():
    X, y = _data(n=10, n_features=3)
    with pytest.raises(ValueError, match=r"pool_size=2 does not fit the output of convolution 1"):
        ConvClassifier(pool_size=2, **TINY).fit(X, y)
    with pytest.raises(ValueError, match="invalid output size"):
        ConvClassifier(kernel_size=5, padding="valid", **TINY).fit(X, y)


def test_pandas_series_sample_weight():
    pd = pytest.importorskip("pandas")
    X, y = _data(n=20, n_features=6)
    sw = pd.Series(np.linspace(0.5, 2, 20))
    for est in (ConvClassifier(**TINY), MLPClassifier(**TINY), GRUClassifier(**TINY)):
        _fit_quietly(est, X, y, sample_weight=sw)
