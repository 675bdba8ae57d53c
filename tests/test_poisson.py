"""``loss='poisson'`` on every regressor (issue 18): the half Poisson deviance on
a log link, as scikit-learn's MLPRegressor; its kernel against a NumPy reference."""

import warnings

import numpy as np
import pytest
from scipy.special import xlogy
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import PoissonRegressor
from sklearn.metrics import mean_poisson_deviance
from sklearn.utils._param_validation import InvalidParameterError

from seqnet import ConvRegressor, GRURegressor, LSTMRegressor, MLPRegressor, RNNRegressor
from seqnet.kernels.cpu import poisson_deviance


def _reference(z, y, sw):
    """scikit-learn's ``poisson_loss`` of ``exp(z)`` and its gradient in ``z``."""
    mu = np.exp(z)
    loss = np.average(xlogy(y, y / mu) - y + mu, weights=sw, axis=0).sum()
    return loss, sw[:, None] * (mu - y) / sw.sum()


def test_kernel_matches_reference_and_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(7, 3))
    y = rng.poisson(2.0, size=(7, 3)).astype(float)
    y[0] = 0.0
    sw = rng.uniform(0.5, 2.0, size=7)
    d = np.empty_like(z)
    loss = poisson_deviance(z, y, sw, d)
    ref_loss, ref_d = _reference(z, y, sw)
    np.testing.assert_allclose(loss, ref_loss, rtol=1e-12)
    np.testing.assert_allclose(d, ref_d, rtol=1e-12)
    eps, num = 1e-6, np.empty_like(z)
    for idx in np.ndindex(z.shape):
        zp, zm = z.copy(), z.copy()
        zp[idx] += eps
        zm[idx] -= eps
        num[idx] = (_reference(zp, y, sw)[0] - _reference(zm, y, sw)[0]) / (2 * eps)
    np.testing.assert_allclose(d, num, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-6), ("float32", 1e-4)])
def test_mlp_vs_poisson_glm_equivalent(dtype, rtol):
    """scikit-learn's test: one identity hidden unit with a log link is a Poisson GLM."""
    n = 100
    rng = np.random.default_rng(42)
    X = np.linspace(0, 1, n)
    y = rng.poisson(np.exp(X + 1))
    X = X.reshape(n, -1)
    glm = PoissonRegressor(alpha=0, tol=1e-7).fit(X, y)
    params = dict(hidden_layer_sizes=(1,), activation="identity", alpha=0, solver="lbfgs",
                  tol=1e-7, random_state=1, dtype=dtype)
    with warnings.catch_warnings():  # float32 cannot reach tol=1e-7: 'ABNORMAL' stop
        warnings.simplefilter("ignore", ConvergenceWarning)
        mlp = MLPRegressor(loss="poisson", **params).fit(X, y)
    np.testing.assert_allclose(mlp.predict(X), glm.predict(X), rtol=rtol)
    assert mlp.out_activation_ == "exp"
    squared = MLPRegressor(loss="squared_error", **params).fit(X, y)
    assert not np.allclose(squared.predict(X), glm.predict(X), rtol=1e-4)


def _counts(seed=0, n=120, t=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, 2))
    rate = np.exp(0.8 * X[:, :, 0].mean(axis=1) + 0.5 * X[:, -1, 1] + 1.0)
    return X, rng.poisson(rate).astype(float)


@pytest.mark.parametrize("est", [
    MLPRegressor(hidden_layer_sizes=8),
    RNNRegressor(hidden_layer_sizes=6),
    LSTMRegressor(hidden_layer_sizes=6),
    GRURegressor(hidden_layer_sizes=6),
    ConvRegressor(filters=(4,), hidden_layer_sizes=6, pool_size=1),
], ids=lambda e: type(e).__name__)
def test_poisson_learns_counts(est):
    X, y = _counts()
    if isinstance(est, MLPRegressor):
        X = X.reshape(len(X), -1)
    est.set_params(loss="poisson", solver="lbfgs", max_iter=100, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pred = est.fit(X, y).predict(X)
    assert pred.shape == y.shape and np.all(pred > 0)
    constant = mean_poisson_deviance(y, np.full_like(y, y.mean()))
    assert mean_poisson_deviance(y, pred) < 0.8 * constant


def test_poisson_with_a_stochastic_solver():
    X, y = _counts()
    reg = MLPRegressor(loss="poisson", hidden_layer_sizes=8, learning_rate_init=0.01,
                       max_iter=60, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pred = reg.fit(X.reshape(len(X), -1), y).predict(X.reshape(len(X), -1))
    assert mean_poisson_deviance(y, pred) < mean_poisson_deviance(y, np.full_like(y, y.mean()))


@pytest.mark.parametrize("y", [[-1.0, 1.0, 2.0, 3.0], [0.0, 0.0, 0.0, 0.0]])
def test_poisson_validates_y(y):
    with pytest.raises(ValueError, match=r"loss='poisson' requires non-negative y and sum"):
        MLPRegressor(loss="poisson").fit(np.ones((4, 2)), y)


def test_loss_is_validated():
    with pytest.raises(InvalidParameterError):
        LSTMRegressor(loss="hinge").fit(np.ones((4, 3, 1)), np.ones(4))
