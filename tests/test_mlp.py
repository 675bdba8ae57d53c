"""Behaviour tests of seqnet.MLPClassifier / MLPRegressor (tiny and fast)."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import LabelBinarizer, StandardScaler

import seqnet
from seqnet import MLPClassifier, MLPRegressor

SOLVERS = ["adam", "sgd", "rmsprop", "adagrad", "adadelta"]
SCHEDULES = ["constant", "invscaling", "adaptive", "cyclic"]


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


@pytest.fixture(scope="module")
def binary():
    X, y = make_classification(n_samples=120, n_features=6, n_informative=4,
                               class_sep=2.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def multiclass():
    X, y = make_classification(n_samples=150, n_features=8, n_informative=6,
                               n_classes=3, n_clusters_per_class=1, random_state=1)
    return X, y


@pytest.fixture(scope="module")
def regression():
    X, y = make_regression(n_samples=100, n_features=5, n_targets=3, noise=0.1,
                           random_state=2)
    return X, y / np.std(y, axis=0)


def small(cls=MLPClassifier, **kw):
    params = dict(hidden_layer_sizes=(16,), max_iter=30, random_state=0,
                  learning_rate_init=0.01)
    params.update(kw)
    return cls(**params)


# -------------------------------------------------------------- targets
def test_binary(binary):
    X, y = binary
    clf = small().fit(X, y)
    assert clf.n_outputs_ == 1 and clf.weights_["out.weight"].shape == (1, 16)
    assert list(clf.classes_) == [0, 1]
    assert clf.score(X, y) > 0.85
    proba = clf.predict_proba(X)
    assert proba.shape == (120, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(axis=1)], clf.predict(X))
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-6)


def test_multiclass(multiclass):
    X, y = multiclass
    clf = small().fit(X, y)
    assert clf.n_outputs_ == 3
    assert clf.score(X, y) > 0.85
    proba = clf.predict_proba(X)
    assert proba.shape == (150, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(proba >= 0)
    np.testing.assert_array_equal(proba.argmax(axis=1), clf.predict(X))


def test_multilabel():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5))
    Y = np.stack([X[:, 0] > 0, X[:, 1] + X[:, 2] > 0, X[:, 3] < 0.5], axis=1).astype(int)
    clf = small(max_iter=80).fit(X, Y)
    pred = clf.predict(X)
    assert pred.shape == Y.shape and set(np.unique(pred)) <= {0, 1}
    assert clf.score(X, Y) > 0.7  # subset accuracy
    proba = clf.predict_proba(X)
    assert proba.shape == Y.shape and np.all((proba >= 0) & (proba <= 1))
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))


def test_string_labels(multiclass):
    X, y = multiclass
    names = np.array(["cat", "dog", "emu"])[y]
    clf = small().fit(X, names)
    assert list(clf.classes_) == ["cat", "dog", "emu"]
    pred = clf.predict(X)
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    # the same model as with the integer codes (labels are encoded in sorted order)
    codes = small().fit(X, y).predict(X)
    np.testing.assert_array_equal(pred, np.array(["cat", "dog", "emu"])[codes])


def test_multi_output_regression(regression):
    X, Y = regression
    reg = small(MLPRegressor, max_iter=100).fit(X, Y)
    assert reg.predict(X).shape == (100, 3)
    assert reg.n_outputs_ == 3
    assert reg.score(X, Y) > 0.8
    single = small(MLPRegressor).fit(X, Y[:, 0])
    assert single.predict(X).shape == (100,)


# ------------------------------------------------------------ weighting
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_sample_weight_two_equals_duplicate(cls, multiclass):
    X, y = multiclass
    X, y = X[:40], y[:40]
    if cls is MLPRegressor:
        y = X[:, 0] - 2 * X[:, 1]
    kw = dict(batch_size=1000, shuffle=False, dtype="float64", max_iter=15)
    sw = np.ones(len(y))
    sw[[3, 7]] = 2.0
    a = small(cls, **kw).fit(X, y, sample_weight=sw)
    Xd = np.vstack([X, X[[3, 7]]])
    yd = np.concatenate([y, y[[3, 7]]])
    b = small(cls, **kw).fit(Xd, yd)
    for name in a.weights_:
        np.testing.assert_allclose(a.weights_[name], b.weights_[name], rtol=1e-9,
                                   atol=1e-12, err_msg=name)
    np.testing.assert_allclose(a.loss_curve_, b.loss_curve_, rtol=1e-9)


def test_sample_weight_zero_ignores_samples(binary):
    X, y = binary
    kw = dict(batch_size=1000, shuffle=False, dtype="float64", max_iter=10)
    sw = np.ones(len(y))
    sw[100:] = 0.0
    a = small(**kw).fit(X, y, sample_weight=sw)
    b = small(**kw).fit(X[:100], y[:100])
    np.testing.assert_allclose(a.weights_["out.weight"], b.weights_["out.weight"],
                               rtol=1e-9, atol=1e-12)


def test_class_weight_equals_sample_weight(multiclass):
    X, y = multiclass
    kw = dict(shuffle=False, dtype="float64", max_iter=5)
    a = small(class_weight={0: 1.0, 1: 3.0, 2: 0.5}, **kw).fit(X, y)
    b = small(**kw).fit(X, y, sample_weight=np.array([1.0, 3.0, 0.5])[y])
    for name in a.weights_:
        np.testing.assert_allclose(a.weights_[name], b.weights_[name], rtol=1e-10)
    bal = small(class_weight="balanced", max_iter=5).fit(X[:100], y[:100])
    assert bal.n_iter_ == 5


# ------------------------------------------------------- incremental fits
def test_partial_fit_with_classes(multiclass):
    X, y = multiclass
    clf = small()
    first = y < 2  # class 2 not in the first chunk
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[first], y[first])
    clf.partial_fit(X[first], y[first], classes=[0, 1, 2])
    assert list(clf.classes_) == [0, 1, 2] and clf.n_outputs_ == 3
    assert clf.n_iter_ == 1 and clf.t_ == first.sum()
    for _ in range(20):
        clf.partial_fit(X, y)
    assert clf.n_iter_ == 1 and clf.t_ == first.sum() + 20 * len(y)  # n_iter_: last call
    assert clf.score(X, y) > 0.8
    with pytest.raises(ValueError):
        clf.partial_fit(X, y, classes=[0, 1, 2, 3])
    with pytest.raises(ValueError):
        clf.partial_fit(X[:5], np.full(5, 7))


def test_partial_fit_regressor(regression):
    X, Y = regression
    reg = small(MLPRegressor)
    for _ in range(3):
        reg.partial_fit(X, Y)
    assert reg.n_iter_ == 1 and len(reg.loss_curve_) == 3  # n_iter_: the last call
    assert reg.loss_curve_[-1] < reg.loss_curve_[0]


def test_warm_start(multiclass):
    X, y = multiclass
    clf = small(max_iter=3, tol=0.0).fit(X, y)
    first_curve = list(clf.loss_curve_)
    w_before = clf.weights_["dense.0.weight"].copy()
    clf.set_params(warm_start=True)
    clf.fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 6  # n_iter_: the last call
    assert clf.loss_curve_[:3] == first_curve
    assert clf.loss_curve_[3] < first_curve[0]
    assert not np.array_equal(clf.weights_["dense.0.weight"], w_before)
    # cold restart forgets
    clf.set_params(warm_start=False).fit(X, y)
    assert clf.n_iter_ == 3 and clf.loss_curve_ == first_curve


def test_early_stopping_restores_best_weights(multiclass):
    X, y = multiclass
    clf = small(early_stopping=True, n_iter_no_change=2, max_iter=60,
                learning_rate_init=0.3, solver="sgd", validation_fraction=0.3)
    clf.fit(X, y)
    scores = clf.validation_scores_
    assert scores is not None and len(scores) == clf.n_iter_
    assert clf.best_validation_score_ == max(scores)
    assert scores[-1] < max(scores)  # so restoring the best weights matters
    assert clf.best_loss_ is None
    # the restored weights reproduce the best validation score
    encoded = LabelBinarizer().fit_transform(y).astype(bool)  # scikit-learn's stratification
    _, val = train_test_split(np.arange(len(y)), test_size=0.3, stratify=encoded,
                              random_state=0)
    assert clf.score(X[val], y[val]) == pytest.approx(clf.best_validation_score_)
    plain = small().fit(X, y)
    assert plain.validation_scores_ is None and plain.best_validation_score_ is None


# ---------------------------------------------------- solvers, schedules
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("solver", SOLVERS)
def test_solver_and_schedule_train(solver, schedule, multiclass):
    X, y = multiclass
    X = StandardScaler().fit_transform(X)
    lr = {"adadelta": 1.0, "sgd": 0.05, "adagrad": 0.05}.get(solver, 0.005)
    if schedule == "invscaling":  # lr0 / sqrt(samples seen + 1): start higher
        lr *= 20
    clf = small(solver=solver, learning_rate=schedule, learning_rate_init=lr,
                max_iter=12, tol=0.0, batch_size=32)
    clf.fit(X, y)
    assert clf.n_iter_ == 12
    assert np.all(np.isfinite(clf.loss_curve_))
    assert clf.loss_curve_[-1] < 0.9 * clf.loss_curve_[0], clf.loss_curve_


def test_adaptive_lowers_rate_and_stops(multiclass):
    X, y = multiclass
    clf = small(solver="sgd", learning_rate="adaptive", tol=10.0, n_iter_no_change=1,
                max_iter=200)
    clf.fit(X, y)
    # tol=10 never improves: stall every 2 epochs, 5 divisions, then stop
    assert clf.n_iter_ < 200
    assert clf._training.schedule.learning_rate <= 1e-6


def test_clip_norm_trains(binary):
    X, y = binary
    clf = small(clip_norm=0.5).fit(X, y)
    assert clf.score(X, y) > 0.8


@pytest.mark.parametrize("init", ["glorot", "he", "orthogonal", "sparse"])
def test_inits_train(init, binary):
    X, y = binary
    assert small(init=init, max_iter=20).fit(X, y).score(X, y) > 0.8


def test_dropout_and_l1_train(binary):
    X, y = binary
    clf = small(dropout=0.2, alpha=1e-3, l1_ratio=0.5, max_iter=40).fit(X, y)
    assert clf.score(X, y) > 0.8
    np.testing.assert_array_equal(clf.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("verbose", [1, 2])
def test_verbose_output(verbose, binary, capsys):
    X, y = binary
    small(max_iter=3, verbose=verbose).fit(X, y)
    out = capsys.readouterr()
    text = out.out + out.err
    assert "loss" in text


# ------------------------------------------------------------ determinism
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_bitwise_determinism(dtype, multiclass):
    X, y = multiclass
    kw = dict(dropout=0.1, max_iter=8, batch_size=32, dtype=dtype)
    a = small(**kw).fit(X, y)
    b = small(**kw).fit(X, y)
    assert a.weights_.keys() == b.weights_.keys()
    for name in a.weights_:
        assert a.weights_[name].dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a.weights_[name], b.weights_[name])
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.loss_curve_ == b.loss_curve_
    c = small(random_state=1, **kw).fit(X, y)
    assert not np.array_equal(a.weights_["out.weight"], c.weights_["out.weight"])


def test_weights_are_writable_views(multiclass, regression):
    X, y = multiclass
    clf = small().fit(X, y)
    expected_names = {"dense.0.weight", "dense.0.bias", "out.weight", "out.bias"}
    assert set(clf.weights_) == expected_names
    assert clf.weights_["dense.0.weight"].shape == (16, 8)
    before = clf.predict_proba(X)
    clf.weights_["out.weight"][...] = 0.0
    after = clf.predict_proba(X)
    assert not np.allclose(before, after)
    # with zero output weights every row gets softmax(out.bias)
    b = clf.weights_["out.bias"].astype(np.float64)
    np.testing.assert_allclose(after, np.tile(np.exp(b) / np.exp(b).sum(), (len(X), 1)),
                               rtol=1e-6)
    Xr, Yr = regression
    reg = small(MLPRegressor).fit(Xr, Yr)
    reg.weights_["out.weight"][...] = 0.0
    reg.weights_["out.bias"][...] = [1.0, 2.0, 3.0]
    np.testing.assert_allclose(reg.predict(Xr), np.tile([1.0, 2.0, 3.0], (100, 1)))


# ------------------------------------------------------------- persistence
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pickle_and_joblib_round_trip(dtype, multiclass, tmp_path):
    X, y = multiclass
    clf = small(dtype=dtype, max_iter=5).fit(X, y)
    expect = clf.predict_proba(X)
    loaded = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(loaded.predict_proba(X), expect)
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    loaded2 = joblib.load(path)
    np.testing.assert_array_equal(loaded2.predict_proba(X), expect)
    # the reloaded weights_ are still views that predict reads
    loaded2.weights_["out.weight"][...] = 0.0
    assert not np.array_equal(loaded2.predict_proba(X), expect)
    # and the loaded model keeps training
    loaded.set_params(warm_start=True).fit(X, y)
    assert loaded.n_iter_ == 5 and len(loaded.loss_curve_) == 10
    reg = small(MLPRegressor, dtype=dtype, max_iter=5).fit(X, y.astype(float))
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(reg)).predict(X), reg.predict(X))


def test_clone_gridsearch_pipeline(multiclass):
    X, y = multiclass
    clf = small(max_iter=10)
    c = clone(clf)
    assert c.get_params() == clf.get_params() and not hasattr(c, "weights_")
    pipe = make_pipeline(StandardScaler(), small(max_iter=10))
    grid = GridSearchCV(pipe, {"mlpclassifier__hidden_layer_sizes": [(4,), (16,)],
                               "mlpclassifier__alpha": [1e-4, 1e-2]}, cv=2)
    grid.fit(X, y)
    assert grid.best_score_ > 0.7
    assert grid.predict(X).shape == (150,)
    assert len(grid.cv_results_["params"]) == 4


# -------------------------------------------------------------- divergence
@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_divergence_warns_and_stays_finite(cls, regression):
    X, Y = regression
    y = Y[:, 0] * 1e3 if cls is MLPRegressor else (Y[:, 0] > 0).astype(int)
    est = small(cls, solver="sgd", learning_rate_init=1e8, momentum=0.9, max_iter=20)
    with pytest.warns(ConvergenceWarning, match="NaN or infinite"):
        est.fit(X * 100, y)
    assert est.stop_reason_ == "diverged"
    for w in est.weights_.values():
        assert np.all(np.isfinite(w))
    pred = est.predict_proba(X) if cls is MLPClassifier else est.predict(X)
    assert np.all(np.isfinite(pred))


def test_max_iter_warns(binary):
    X, y = binary
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning, match="maximum iterations"):
            small(max_iter=2, tol=0.0).fit(X, y)


# -------------------------------------------------------------- real data
def test_load_digits_accuracy_matches_sklearn():
    X, y = load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    ours = seqnet.MLPClassifier(hidden_layer_sizes=(100,), random_state=0).fit(Xtr, ytr)
    theirs = SkMLPClassifier(hidden_layer_sizes=(100,), random_state=0).fit(Xtr, ytr)
    assert ours.score(Xte, yte) >= theirs.score(Xte, yte) - 0.005


def test_partial_fit_with_early_stopping_raises_like_sklearn():
    X = np.random.default_rng(0).random((30, 4))
    y = np.arange(30) % 2
    model = MLPClassifier(hidden_layer_sizes=(4,), early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        model.partial_fit(X, y, classes=[0, 1])
    assert not hasattr(model, "weights_")
