"""lr_find: the learning-rate range test."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone

from seqnet import LSTMRegressor, MLPClassifier
from seqnet.tuning import LRFindResult, lr_find


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 5)).astype(np.float32)
    y = (X[:, 0] - X[:, 1] > 0).astype(int) + (X[:, 2] > 1)  # 3 classes
    return X, y


@pytest.fixture(scope="module")
def sequences():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(48, 6, 2)).astype(np.float32)
    return X, X[:, -1, 0] + 0.5 * X[:, 0, 1]


def _check_result(res, start_lr, end_lr, num_steps):
    assert isinstance(res, LRFindResult)
    k = len(res.learning_rates)
    assert 2 <= k <= num_steps
    assert len(res.losses) == len(res.raw_losses) == k
    assert np.all(np.diff(res.learning_rates) > 0)
    assert res.learning_rates[0] == pytest.approx(start_lr)
    assert res.learning_rates[-1] <= end_lr * (1 + 1e-12)
    assert np.isfinite(res.losses).all() and np.isfinite(res.raw_losses).all()
    assert start_lr <= res.suggested_lr <= end_lr


def test_mlp_classifier_range_test(table):
    X, y = table
    est = MLPClassifier(hidden_layer_sizes=(16,), batch_size=20, random_state=0)
    res = lr_find(est, X, y, start_lr=1e-5, end_lr=10.0, num_steps=40)
    _check_result(res, 1e-5, 10.0, 40)
    # the exponential schedule: a constant ratio between consecutive rates
    ratios = res.learning_rates[1:] / res.learning_rates[:-1]
    np.testing.assert_allclose(ratios, (10.0 / 1e-5) ** (1 / 39), rtol=1e-9)
    assert res.stop_reason in ("end_lr", "diverged")
    assert not hasattr(est, "weights_")  # the unfitted estimator stays unfitted


def test_huge_rates_stop_on_divergence(table):
    X, y = table
    res = lr_find(MLPClassifier(hidden_layer_sizes=(16,), batch_size=20, solver="sgd",
                                random_state=0),
                  X, y, start_lr=1e-3, end_lr=1e6, num_steps=60)
    assert res.stop_reason == "diverged" and len(res.learning_rates) < 60
    assert np.isfinite(res.losses).all()


def test_lstm_regressor_range_test(sequences):
    X, y = sequences
    est = LSTMRegressor(hidden_layer_sizes=(4,), batch_size=12, random_state=0)
    res = lr_find(est, X, y, num_steps=12)
    _check_result(res, 1e-6, 1.0, 12)


def test_fitted_estimator_left_untouched(table):
    X, y = table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = MLPClassifier(hidden_layer_sizes=(8,), max_iter=3, batch_size=30,
                            learning_rate="adaptive", early_stopping=True,
                            random_state=np.random.RandomState(3)).fit(X, y)
    params = clone(est).get_params()
    rs_state = est.random_state.get_state()[1].copy()
    weights = {k: v.copy() for k, v in est.weights_.items()}
    history = list(est.loss_curve_), est.n_iter_, est.t_
    buffer_id = id(est._network.params)

    lr_find(est, X, y, num_steps=10)

    after = est.get_params()
    assert after.keys() == params.keys()
    for key in params:
        if key != "random_state":
            assert after[key] == params[key], key
    np.testing.assert_array_equal(est.random_state.get_state()[1], rs_state)
    assert est.weights_.keys() == weights.keys()
    for key, value in weights.items():
        np.testing.assert_array_equal(est.weights_[key], value)
    assert (list(est.loss_curve_), est.n_iter_, est.t_) == history
    assert id(est._network.params) == buffer_id


def test_same_seed_same_result(sequences):
    X, y = sequences
    est = LSTMRegressor(hidden_layer_sizes=(4,), batch_size=12)
    a = lr_find(est, X, y, num_steps=8, random_state=5)
    b = lr_find(est, X, y, num_steps=8, random_state=5)
    np.testing.assert_array_equal(a.raw_losses, b.raw_losses)


@pytest.mark.parametrize("kw", [dict(start_lr=1.0, end_lr=0.1), dict(num_steps=1),
                                dict(smooth=0.0), dict(diverge_factor=1.0)])
def test_invalid_arguments(table, kw):
    X, y = table
    with pytest.raises(ValueError):
        lr_find(MLPClassifier(), X, y, **kw)


def test_plot(table, tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    X, y = table
    res = lr_find(MLPClassifier(hidden_layer_sizes=(8,), batch_size=30, random_state=0),
                  X, y, num_steps=10)
    ax = res.plot()
    assert ax.get_xscale() == "log"
    path = tmp_path / "lr.png"
    ax.figure.savefig(path)
    plt.close(ax.figure)
    assert path.stat().st_size > 0
