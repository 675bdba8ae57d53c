"""``solver='lbfgs'`` (issue 18): scipy's L-BFGS-B over the flat parameter
buffer, for every family, behaving as scikit-learn's MLP with lbfgs."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier as SkMLPClassifier
from sklearn.utils.estimator_checks import check_sample_weight_equivalence_on_dense_data

from seqnet import ConvClassifier, LSTMClassifier, MLPClassifier, MLPRegressor
from seqnet.network.network import Network


def _sequences(n=60, t=8, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, 2))
    return X, (X[:, :, 0].sum(axis=1) > 0).astype(int)


def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y, **kw)


@pytest.mark.parametrize("est", [
    LSTMClassifier(solver="lbfgs", hidden_layer_sizes=6, max_iter=60, random_state=0),
    ConvClassifier(solver="lbfgs", filters=(4,), hidden_layer_sizes=8, max_iter=60,
                   random_state=0),
], ids=["lstm", "conv"])
def test_lbfgs_learns_sequences(est):
    X, y = _sequences()
    assert _quiet_fit(est, X, y).score(X, y) >= 0.95


def test_lbfgs_learns_regression():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(100, 3))
    y = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
    reg = _quiet_fit(MLPRegressor(solver="lbfgs", hidden_layer_sizes=20, max_iter=300,
                                  random_state=0), X, y)
    assert reg.score(X, y) > 0.95


def test_digits_accuracy_matches_scikit_learn():
    X, y = load_digits(return_X_y=True)
    Xt, Xv, yt, yv = train_test_split(X / 16, y, random_state=0)
    params = dict(solver="lbfgs", hidden_layer_sizes=32, max_iter=100, random_state=0)
    ours = _quiet_fit(MLPClassifier(**params), Xt, yt).score(Xv, yv)
    theirs = _quiet_fit(SkMLPClassifier(**params), Xt, yt).score(Xv, yv)
    assert abs(ours - theirs) <= 0.01, (ours, theirs)  # 0.953 and 0.958 measured


@pytest.mark.parametrize("max_fun", [5, 12, 30])
def test_max_fun_bounds_loss_evaluations(monkeypatch, max_fun):
    calls = []
    original = Network.loss_and_grad

    def counted(self, *args):
        calls.append(1)
        return original(self, *args)

    monkeypatch.setattr(Network, "loss_and_grad", counted)
    X, y = load_digits(n_class=4, return_X_y=True)
    clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=10, max_iter=500, tol=0.0,
                        max_fun=max_fun, random_state=0)
    with pytest.warns(ConvergenceWarning, match="EVALUATIONS EXCEEDS LIMIT"):
        clf.fit(X / 16, y)
    assert len(calls) <= max_fun  # one chunk: one call per evaluation
    assert 0 < clf.n_iter_ < max_fun


def test_lbfgs_attributes_as_scikit_learn():
    X, y = load_digits(n_class=4, return_X_y=True)
    X = X / 16
    clf = MLPClassifier(solver="lbfgs", hidden_layer_sizes=10, max_iter=7, tol=0.0,
                        early_stopping=True, random_state=0)
    with pytest.warns(ConvergenceWarning, match="lbfgs failed to converge"):
        clf.fit(X, y)
    assert clf.n_iter_ == 7 and len(clf.loss_curve_) == 7
    assert clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ is None  # lbfgs keeps no best loss (scikit-learn sets none)
    assert clf.validation_scores_ is None  # early stopping does not apply to lbfgs
    assert not hasattr(clf, "partial_fit")
    assert not hasattr(MLPRegressor(solver="lbfgs"), "partial_fit")
    assert hasattr(clf.set_params(solver="adam"), "partial_fit")
    clf.set_params(solver="lbfgs", warm_start=True, max_iter=5)
    before = clf.loss_
    _quiet_fit(clf, X, y)
    assert clf.n_iter_ == 5 and len(clf.loss_curve_) == 12  # per call; curve accumulates
    assert clf.loss_ < before  # continued from the fitted weights


def test_lbfgs_is_deterministic():
    X, y = _sequences()
    X = X.reshape(len(X), -1)
    a = _quiet_fit(MLPClassifier(solver="lbfgs", hidden_layer_sizes=8, max_iter=20,
                                 random_state=3), X, y)
    b = _quiet_fit(MLPClassifier(solver="lbfgs", hidden_layer_sizes=8, max_iter=20,
                                 random_state=3), X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))


@pytest.mark.parametrize("cls", [MLPClassifier, MLPRegressor])
def test_lbfgs_sample_weight_equivalence(cls):
    est = cls(solver="lbfgs", dtype="float64", random_state=0)
    check_sample_weight_equivalence_on_dense_data(cls.__name__, est)
