"""An absurd learning rate ends training cleanly: a ConvergenceWarning that says
what to change, the last weights with a finite loss, finite predictions and
``stop_reason_ == "diverged"``."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

import seqnet

ABSURD = dict(solver="sgd", learning_rate_init=1e9, clip_norm=None, momentum=0.9,
              max_iter=5, batch_size=8, random_state=0)

FAMILIES = {
    "MLP": (seqnet.MLPRegressor, seqnet.MLPClassifier, dict(hidden_layer_sizes=(4,))),
    "LSTM": (seqnet.LSTMRegressor, seqnet.LSTMClassifier, dict(hidden_layer_sizes=(4,))),
    "Conv": (seqnet.ConvRegressor, seqnet.ConvClassifier,
             dict(filters=(2,), kernel_size=2, hidden_layer_sizes=(4,))),
}


def _data(family, n=32, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6, 2))
    if family == "MLP":
        X = X.reshape(n, -1)
    return X


def _fit_diverging(est, X, y, method="fit"):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(est, method)(X, y)
    return [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _check_diverged(est, caught, X):
    assert est.stop_reason_ == "diverged"
    assert len(caught) == 1, [str(w.message) for w in caught]
    msg = str(caught[0].message)
    assert type(est).__name__ in msg
    assert "NaN or infinite" in msg
    assert "learning_rate_init" in msg and "clip_norm" in msg
    for name, w in est.weights_.items():
        assert np.isfinite(w).all(), name
    assert np.isfinite(est._network.params).all()
    assert all(np.isfinite(v) for v in est.loss_curve_)
    pred = est.predict(X)
    if pred.dtype.kind == "f":
        assert np.isfinite(pred).all()
    if hasattr(est, "predict_proba"):
        proba = est.predict_proba(X)
        assert np.isfinite(proba).all()
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_regressor_diverges_cleanly(family, dtype):
    reg_cls, _, kw = FAMILIES[family]
    X = _data(family)
    y = X.reshape(len(X), -1).sum(axis=1) * 1e3  # targets scaled up
    est = reg_cls(**kw, **ABSURD, dtype=dtype)
    caught = _fit_diverging(est, X, y)
    _check_diverged(est, caught, X)
    # the estimator stays usable: a sane refit trains normally
    est.set_params(learning_rate_init=1e-3, max_iter=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        est.fit(X, y / 1e3)
    assert est.stop_reason_ != "diverged"
    assert np.isfinite(est.predict(X)).all()


@pytest.mark.parametrize("family", ["MLP", "Conv"])
def test_classifier_diverges_cleanly(family):
    # (an LSTM classifier's saturating gates keep its loss finite: not used here)
    _, clf_cls, kw = FAMILIES[family]
    X = _data(family) * 100.0
    y = (X.reshape(len(X), -1)[:, 0] > 0).astype(int)
    est = clf_cls(**kw, **ABSURD)
    caught = _fit_diverging(est, X, y)
    _check_diverged(est, caught, X)


@pytest.mark.parametrize("family", list(FAMILIES))
def test_partial_fit_diverges_cleanly(family):
    reg_cls, _, kw = FAMILIES[family]
    X = _data(family)
    y = X.reshape(len(X), -1).sum(axis=1) * 1e3
    est = reg_cls(**kw, **ABSURD)
    caught = _fit_diverging(est, X, y, method="partial_fit")
    _check_diverged(est, caught, X)
    assert est.n_iter_ == 0  # the diverged epoch is not counted
