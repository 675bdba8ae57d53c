"""Tests for seqnet.forecasting and seqnet.datasets."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit, cross_val_score
from sklearn.neighbors import KNeighborsRegressor
from sklearn.utils._param_validation import InvalidParameterError

from seqnet.datasets import load_lynx, load_sunspots
from seqnet.forecasting import Forecaster, kpss_statistic, ndiffs, seasonal_naive

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def tiny_regressor():
    """A tiny seqnet LSTM if the estimators are importable, else Ridge."""
    try:
        from seqnet import LSTMRegressor
    except ImportError:
        return Ridge(alpha=1.0)
    return LSTMRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


def exact_linear():
    # An almost unregularised linear AR model reproduces a noiseless sine (and
    # its differences) exactly, so exactness checks are independent of training.
    return Ridge(alpha=1e-8)


T = np.arange(150)
SINE = np.sin(2 * np.pi * T / 12)
TRENDED = SINE + 0.05 * T + 3.0
TWO_SINES = SINE + 0.5 * np.sin(2 * np.pi * T / 7)  # needs 4 lags, not 3


@pytest.mark.parametrize("strategy", ["recursive", "direct"])
@pytest.mark.parametrize("difference", [0, 1, 2])
def test_exact_on_linear_recurrence(strategy, difference):
    fc = Forecaster(exact_linear(), window=24, horizon=5, strategy=strategy,
                    difference=difference).fit(TRENDED[:120])
    # 30 steps: 6 direct blocks / 30 recursive steps, with differencing undone
    np.testing.assert_allclose(fc.predict(30), TRENDED[120:], atol=1e-5)
    assert fc.predict().shape == (5,)  # default: horizon steps
    assert fc.predict(7).shape == (7,)  # direct: a partial last block


def test_fitted_attributes_and_output_shapes():
    fc = Forecaster(exact_linear(), window=12, horizon=4, strategy="direct").fit(SINE[:100])
    assert fc.n_train_ == 100 and fc.n_features_in_ == 1
    assert fc.n_windows_ == 100 - 12 - 4 + 1
    assert fc.last_window_.shape == (12,)
    assert fc.estimator_.coef_.shape == (4, 12)  # one multi-output model
    rec = Forecaster(exact_linear(), window=12, horizon=4, step=2).fit(SINE[:100])
    assert rec.estimator_.coef_.shape == (12,)  # one step ahead
    assert rec.n_windows_ == (100 - 12 - 1) // 2 + 1


def test_predict_accepts_int_array_and_history():
    fc = Forecaster(exact_linear(), window=12).fit(SINE[:100].reshape(-1, 1))
    by_int = fc.predict(10)
    np.testing.assert_array_equal(fc.predict(np.zeros(10)), by_int)  # length only
    np.testing.assert_array_equal(fc.predict(np.empty((10, 1))), by_int)
    np.testing.assert_allclose(fc.predict(5, history=SINE[:130]), SINE[130:135], atol=1e-6)
    with pytest.raises(ValueError, match="at least"):
        fc.predict(3, history=SINE[:5])
    with pytest.raises(ValueError, match="steps must be >= 1"):
        fc.predict(0)


@pytest.mark.filterwarnings("ignore::scipy.linalg.LinAlgWarning")
def test_scaling_is_undone():
    big = 1e4 + 500.0 * SINE
    for scale in (True, False):
        fc = Forecaster(exact_linear(), window=12, scale=scale).fit(big[:120])
        np.testing.assert_allclose(fc.predict(12), big[120:132], rtol=1e-6)
    fc = Forecaster(exact_linear(), window=12).fit(big[:120])
    assert abs(fc.mean_ - big[:120].mean()) < 1e-6
    const = Forecaster(Ridge(), window=4).fit(np.full(30, 7.0))
    assert const.scale_ == 1.0
    np.testing.assert_allclose(const.predict(3), 7.0)


def test_neural_regressor_runs():
    y = load_lynx()
    fc = Forecaster(tiny_regressor(), window=10, horizon=3, strategy="direct").fit(y[:100])
    pred = fc.predict(14)
    assert pred.shape == (14,) and np.isfinite(pred).all()
    fc = Forecaster(tiny_regressor(), window=10, difference=1).fit(y[:100])
    assert np.isfinite(fc.predict(5)).all()


def test_gridsearch_with_timeseriessplit():
    # score() forecasts len(test fold) steps from the end of the training fold.
    search = GridSearchCV(Forecaster(exact_linear()), {"window": [3, 12]},
                          cv=TimeSeriesSplit(3)).fit(TWO_SINES)
    assert search.best_params_ == {"window": 12}
    assert search.best_score_ > 0.999
    # string scorers need y: the series is passed twice
    search = GridSearchCV(Forecaster(tiny_regressor()), {"window": [6, 12]},
                          cv=TimeSeriesSplit(2), scoring="neg_mean_absolute_error")
    search.fit(TRENDED, TRENDED)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    assert search.predict(4).shape == (4,)


def test_cross_val_score_and_score():
    scores = cross_val_score(Forecaster(exact_linear(), window=12), SINE, cv=TimeSeriesSplit(4))
    assert np.all(scores > 0.999)
    fc = Forecaster(exact_linear(), window=12).fit(SINE[:100])
    assert fc.score(SINE[100:120]) == pytest.approx(1.0)
    assert fc.score(np.zeros(20), SINE[100:120]) == pytest.approx(1.0)  # y is the truth


def test_clone_and_pickle():
    fc = Forecaster(Ridge(), window=6, horizon=2, strategy="direct", difference=1)
    c = clone(fc)
    assert c.get_params()["window"] == 6 and not hasattr(c, "estimator_")
    fc.fit(TRENDED[:100])
    fc2 = pickle.loads(pickle.dumps(fc))
    np.testing.assert_array_equal(fc2.predict(8), fc.predict(8))
    assert fc.estimator.__class__ is Ridge and not hasattr(fc.estimator, "coef_")


def test_errors():
    with pytest.raises(ValueError, match=r"has 10 values.*needs at least"):
        Forecaster(Ridge(), window=12).fit(np.arange(10.0))
    with pytest.raises(ValueError, match="univariate"):
        Forecaster(Ridge()).fit(np.zeros((50, 2)))
    with pytest.raises(ValueError, match="NaN"):
        Forecaster(Ridge(), window=2).fit([1.0, 2.0, np.nan, 4.0, 5.0, 6.0])
    with pytest.raises(InvalidParameterError):
        Forecaster(Ridge(), strategy="sideways").fit(SINE)
    with pytest.raises(InvalidParameterError):
        Forecaster(Ridge(), window=0).fit(SINE)
    with pytest.raises(ValueError):
        Forecaster(Ridge(), window=4).fit(SINE, SINE[:10])  # inconsistent y
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Forecaster(Ridge()).predict(3)


def test_seasonal_naive():
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3, 4, 5], 4, period=2), [4, 5, 4, 5])
    np.testing.assert_array_equal(seasonal_naive([1, 2, 3], 2), [3, 3])
    with pytest.raises(ValueError, match="period"):
        seasonal_naive([1, 2, 3], 2, period=4)


def test_datasets():
    y, years = load_lynx(return_years=True)
    assert y.shape == (114,) and y.dtype == np.float64
    assert years[0] == 1821 and years[-1] == 1934
    assert y[:5].tolist() == [269, 321, 585, 871, 1475] and y[-1] == 3396
    assert y.sum() == 175334 and y.max() == 6991 and y.min() == 39
    s, years = load_sunspots(return_years=True)
    assert s.shape == (309,) and years[0] == 1700 and years[-1] == 2008
    assert s[0] == 5.0 and s[-1] == pytest.approx(2.9)


def test_predict_interval_coverage_on_held_out_stretches():
    """90% conformal intervals cover 80-100% of held-out values over many origins."""
    for series, window in ((load_lynx(), 12), (load_sunspots(), 20)):
        hits = []
        for origin in range(int(len(series) * 0.6), len(series) - 10 + 1, 3):
            fc = Forecaster(Ridge(alpha=1.0), window=window).fit(series[:origin])
            band = fc.predict_interval(10, coverage=0.9)
            assert band.shape == (10, 3)
            assert np.all(band[:, 0] <= band[:, 1]) and np.all(band[:, 1] <= band[:, 2])
            truth = series[origin:origin + 10]
            hits.extend((band[:, 0] <= truth) & (truth <= band[:, 2]))
        assert 0.8 <= np.mean(hits) <= 1.0


def test_transform_log_keeps_forecasts_positive():
    y = load_lynx()
    fc = Forecaster(Ridge(alpha=1.0), window=12).fit(y[:100])
    assert fc.transform_ == "log"
    band = fc.predict_interval(14)
    assert np.all(band > 0)
    np.testing.assert_allclose(band[:, 1], fc.predict(14))
    assert Forecaster(Ridge(), window=12).fit(SINE).transform_ == "none"
    with pytest.raises(ValueError, match="strictly positive"):
        Forecaster(Ridge(), window=12, transform="log").fit(SINE)


def test_kpss_and_ndiffs():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=200)
    walk = np.cumsum(noise)
    assert kpss_statistic(noise) < 0.463 < kpss_statistic(walk)
    assert kpss_statistic(np.full(50, 3.0)) == 0.0
    assert ndiffs(noise) == 0 and ndiffs(walk) == 1 and ndiffs(np.cumsum(walk)) == 2
    assert ndiffs(SINE) == 0 and ndiffs(TRENDED) == 1
    assert ndiffs(np.cumsum(walk), max_d=1) == 1
    with pytest.raises(ValueError, match="alpha"):
        ndiffs(noise, alpha=0.2)


@pytest.mark.filterwarnings("ignore::Warning")
def test_kpss_matches_statsmodels():
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    rng = np.random.default_rng(1)
    for series in (np.cumsum(rng.normal(size=150)), load_lynx()):
        for lags in (1, 4, 12):
            expected = stattools.kpss(series, "c", nlags=lags)[0]
            assert kpss_statistic(series, lags) == pytest.approx(expected, rel=1e-10)


def test_difference_auto():
    fc = Forecaster(exact_linear(), window=24).fit(TRENDED[:120])
    assert fc.difference == "auto" and fc.difference_ == 1
    np.testing.assert_allclose(fc.predict(30), TRENDED[120:], atol=1e-5)
    assert Forecaster(exact_linear(), window=12).fit(SINE).difference_ == 0
    assert Forecaster(exact_linear(), window=12, difference=0).fit(TRENDED).difference_ == 0
    # the interval backtest uses the order chosen on the whole series
    band = fc.predict_interval(6)
    assert np.all(band[:, 0] <= band[:, 2])


def test_seed_ensemble():
    from seqnet import LSTMRegressor

    est = LSTMRegressor(hidden_layer_sizes=(4,), max_iter=3, random_state=7)
    fc = Forecaster(est, window=6, n_models=3).fit(SINE[:60])
    seeds = [m.random_state for m in fc.estimators_]
    assert len(set(seeds)) == 3 and fc.estimator_ is fc.estimators_[0]
    again = Forecaster(est, window=6, n_models=3).fit(SINE[:60])  # seeds from est's int
    assert [m.random_state for m in again.estimators_] == seeds
    np.testing.assert_array_equal(again.predict(5), fc.predict(5))
    members = np.mean([m.predict(fc.last_window_[None]) for m in fc.estimators_])
    assert fc.predict(1)[0] == pytest.approx(members * fc.scale_ + fc.mean_, rel=1e-6)
    other = Forecaster(est, window=6, n_models=3, random_state=1).fit(SINE[:60])
    assert [m.random_state for m in other.estimators_] != seeds
    single = Forecaster(est, window=6, n_models=1).fit(SINE[:60])
    assert [m.random_state for m in single.estimators_] == [7]  # left as given
    knn = Forecaster(KNeighborsRegressor(), window=6, n_models=3).fit(SINE[:60])
    assert len(knn.estimators_) == 1  # no random_state: fitted once


def test_defaults_forecast_a_trend_beyond_its_range():
    """Forecaster() alone continues a trend + season series past its training range."""
    rng = np.random.default_rng(0)
    t = np.arange(132)
    series = 10.0 + 0.1 * t + np.sin(2 * np.pi * t / 12) + 0.1 * rng.normal(size=t.size)
    train, test = series[:120], series[120:]
    with warnings.catch_warnings():  # the default's fixed budget is not the user's to change
        warnings.simplefilter("error", ConvergenceWarning)
        fc = Forecaster(random_state=0).fit(train)
    assert fc.difference_ == 1 and fc.transform_ == "none" and len(fc.estimators_) == 5
    pred = fc.predict(12)
    assert pred.max() > train.max()
    assert np.mean(np.abs(pred - test)) < np.mean(np.abs(seasonal_naive(train, 12, 12) - test))


def test_cli_forecast_defaults_difference_a_trend(tmp_path, capsys):
    from seqnet.cli import main

    t = np.arange(96)
    path = tmp_path / "trend.csv"
    path.write_text("y\n" + "\n".join(f"{v:.4f}" for v in 5.0 + 0.2 * t + np.sin(t)))
    rc = main(["forecast", str(path), "--model", "ridge", "--window", "12", "--horizon", "6",
               "--no-plot", "--output-dir", str(tmp_path / "out")])
    assert rc == 0
    assert "difference=1" in capsys.readouterr().out
    assert main(["forecast", str(path), "--n-models", "0"]) == 2
