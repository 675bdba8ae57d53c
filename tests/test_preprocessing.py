"""Tests for seqnet.preprocessing: make_windows, pad_sequences, SequenceScaler."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks

from seqnet.preprocessing import SequenceScaler, make_windows, pad_sequences

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


def tiny_regressor():
    """A tiny seqnet LSTM if the estimators are importable, else a linear stand-in."""
    try:
        from seqnet import LSTMRegressor
    except ImportError:
        return make_pipeline(FunctionTransformer(_flatten), Ridge(alpha=1.0))
    return LSTMRegressor(hidden_layer_sizes=(8,), max_iter=5, random_state=0)


# -- make_windows -------------------------------------------------------------


def test_make_windows_1d_values():
    X, y = make_windows(np.arange(10.0), window=3, horizon=2)
    assert X.shape == (6, 3, 1) and y.shape == (6, 2)
    np.testing.assert_array_equal(X[0, :, 0], [0, 1, 2])
    np.testing.assert_array_equal(y[0], [3, 4])
    np.testing.assert_array_equal(X[-1, :, 0], [5, 6, 7])
    np.testing.assert_array_equal(y[-1], [8, 9])
    assert X.flags.c_contiguous and y.flags.c_contiguous


def test_make_windows_step_and_exact_length():
    X, y = make_windows(np.arange(10.0), window=3, horizon=1, step=3)
    np.testing.assert_array_equal(X[:, 0, 0], [0, 3, 6])
    np.testing.assert_array_equal(y[:, 0], [3, 6, 9])
    # window + horizon == length: exactly one window
    X, y = make_windows(np.arange(5.0), window=3, horizon=2)
    assert X.shape == (1, 3, 1) and y.shape == (1, 2)


def test_make_windows_multivariate_targets():
    series = np.arange(30.0).reshape(10, 3)
    X, y = make_windows(series, window=4, horizon=2)
    assert X.shape == (5, 4, 3) and y.shape == (5, 2)
    np.testing.assert_array_equal(y[0], series[4:6, 0])  # default: column 0
    _, y2 = make_windows(series, window=4, horizon=2, target=2)
    np.testing.assert_array_equal(y2[0], series[4:6, 2])
    _, y3 = make_windows(series, window=4, horizon=2, target=[0, 2])
    assert y3.shape == (5, 2, 2)
    np.testing.assert_array_equal(y3[1], series[5:7][:, [0, 2]])
    _, y1 = make_windows(series, window=4, horizon=2, target=[1])
    assert y1.shape == (5, 2, 1)
    _, yneg = make_windows(series, window=4, target=-1)
    np.testing.assert_array_equal(yneg[:, 0], series[4:, 2])


def test_make_windows_dtype():
    X, y = make_windows(np.arange(8, dtype=np.float32), window=3)
    assert X.dtype == np.float32 and y.dtype == np.float32
    X, _ = make_windows(np.arange(8), window=3)
    assert X.dtype == np.float64


def test_make_windows_too_long_raises_with_lengths():
    with pytest.raises(ValueError, match=r"window \(8\) \+ horizon \(3\).*\(10 time steps\)"):
        make_windows(np.arange(10.0), window=8, horizon=3)


@pytest.mark.parametrize(
    "kwargs, err",
    [
        ({"window": 0}, InvalidParameterError),
        ({"window": 2, "horizon": 0}, InvalidParameterError),
        ({"window": 2, "step": 0}, InvalidParameterError),
        ({"window": 2, "target": 5}, ValueError),
        ({"window": 2, "target": []}, ValueError),
    ],
)
def test_make_windows_bad_params(kwargs, err):
    with pytest.raises(err):
        make_windows(np.arange(10.0).reshape(5, 2), **kwargs)


def test_make_windows_rejects_nan():
    with pytest.raises(ValueError, match="NaN"):
        make_windows([1.0, np.nan, 3.0, 4.0], window=2)


# -- pad_sequences ------------------------------------------------------------


def test_pad_sequences_post_and_lengths():
    padded, lengths = pad_sequences([[1, 2, 3], [4], []])
    assert padded.shape == (3, 3, 1) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[:, :, 0], [[1, 2, 3], [4, 0, 0], [0, 0, 0]])
    np.testing.assert_array_equal(lengths, [3, 1, 0])


def test_pad_sequences_pre_truncating_value_dtype():
    padded, lengths = pad_sequences(
        [[1, 2, 3, 4], [5]], maxlen=3, padding="pre", truncating="pre", value=-1, dtype="int64"
    )
    assert padded.dtype == np.int64
    np.testing.assert_array_equal(padded[:, :, 0], [[2, 3, 4], [-1, -1, 5]])
    np.testing.assert_array_equal(lengths, [3, 1])
    padded, _ = pad_sequences([[1, 2, 3, 4]], maxlen=2, truncating="post")
    np.testing.assert_array_equal(padded[0, :, 0], [1, 2])


def test_pad_sequences_multifeature():
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(t, 2)) for t in (5, 2, 4)]
    padded, lengths = pad_sequences(seqs, dtype="float64")
    assert padded.shape == (3, 5, 2)
    for s, p, n in zip(seqs, padded, lengths):
        np.testing.assert_array_equal(p[:n], s)
        assert np.all(p[n:] == 0)


def test_pad_sequences_errors():
    with pytest.raises(ValueError, match="same number of features"):
        pad_sequences([np.zeros((3, 2)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match="at least one"):
        pad_sequences([])
    with pytest.raises(ValueError, match="1-D"):
        pad_sequences([np.zeros((2, 2, 2))])
    with pytest.raises(InvalidParameterError):
        pad_sequences([[1, 2]], padding="middle")


# -- SequenceScaler -----------------------------------------------------------


def test_scaler_3d_matches_standard_scaler_and_round_trips():
    rng = np.random.default_rng(0)
    X = rng.normal(loc=[1, -5, 10], scale=[1, 2, 30], size=(20, 7, 3))
    s = SequenceScaler().fit(X)
    ref = StandardScaler().fit(X.reshape(-1, 3))
    np.testing.assert_allclose(s.mean_, ref.mean_)
    np.testing.assert_allclose(s.scale_, ref.scale_)
    assert s.n_features_in_ == 3 and s.n_samples_seen_ == 140
    Xt = s.transform(X)
    assert Xt.shape == X.shape
    np.testing.assert_allclose(Xt.reshape(-1, 3).mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(Xt.reshape(-1, 3).std(0), 1)
    np.testing.assert_allclose(s.inverse_transform(Xt), X)
    # any sequence length at transform time
    assert s.transform(X[:, :3]).shape == (20, 3, 3)


def test_scaler_2d_univariate():
    rng = np.random.default_rng(1)
    X = rng.normal(3, 2, size=(10, 6))
    s = SequenceScaler().fit(X)
    assert s.mean_.shape == (1,) and s.n_features_in_ == 6
    np.testing.assert_allclose(s.mean_[0], X.mean())
    np.testing.assert_allclose(s.inverse_transform(s.transform(X)), X)
    with pytest.raises(ValueError, match="X has 4 features"):
        s.transform(X[:, :4])
    # one-feature 3-D data shares the univariate statistic
    np.testing.assert_allclose(s.transform(X[:, :, None])[:, :, 0], s.transform(X))


def test_scaler_ragged_round_trip_keeps_kind():
    rng = np.random.default_rng(2)
    X = [rng.normal(size=(t, 2)) * [1, 10] for t in (3, 8, 5)]
    s = SequenceScaler().fit(X)
    np.testing.assert_allclose(s.mean_, np.concatenate(X).mean(0))
    Xt = s.transform(X)
    assert isinstance(Xt, list) and [a.shape for a in Xt] == [a.shape for a in X]
    back = s.inverse_transform(Xt)
    for a, b in zip(X, back):
        np.testing.assert_allclose(a, b)
    # 1-D ragged sequences stay 1-D
    X1 = [np.arange(3.0), np.arange(5.0)]
    out = SequenceScaler().fit_transform(X1)
    assert [a.shape for a in out] == [(3,), (5,)]


def test_scaler_float32_and_constant_feature():
    X = np.ones((4, 5, 2), dtype=np.float32)
    X[..., 1] = np.arange(5, dtype=np.float32)
    s = SequenceScaler().fit(X)
    assert s.scale_[0] == 1.0  # zero variance: scale 1, only centred
    Xt = s.transform(X)
    assert Xt.dtype == np.float32
    np.testing.assert_array_equal(Xt[..., 0], 0)


def test_scaler_options():
    X = np.random.default_rng(3).normal(5, 3, size=(6, 4, 2))
    np.testing.assert_allclose(SequenceScaler(with_mean=False, with_std=False).fit_transform(X), X)
    s = SequenceScaler(with_std=False).fit(X)
    assert s.scale_ is None
    np.testing.assert_allclose(s.transform(X), X - s.mean_)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_scaler_rejects_nonfinite(bad):
    X = np.zeros((3, 4, 2))
    X[1, 2, 0] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        SequenceScaler().fit(X)
    with pytest.raises(ValueError, match="NaN|infinity"):
        SequenceScaler().fit([np.zeros((2, 2)), X[1]])
    s = SequenceScaler().fit(np.ones((3, 4, 2)))
    with pytest.raises(ValueError, match="NaN|infinity"):
        s.transform(X)


def test_scaler_feature_mismatch_and_bad_rank():
    s = SequenceScaler().fit(np.zeros((3, 4, 2)))
    with pytest.raises(ValueError, match="X has 3 features"):
        s.transform(np.zeros((3, 4, 3)))
    with pytest.raises(ValueError, match="2 features per step"):
        s.transform(np.zeros((3, 4)))
    with pytest.raises(ValueError, match="4-D"):
        SequenceScaler().fit(np.zeros((2, 2, 2, 2)))


def test_scaler_clone_and_pickle():
    X = np.random.default_rng(4).normal(size=(5, 3, 2))
    s = SequenceScaler(with_mean=False).fit(X)
    assert clone(s).get_params() == {"with_mean": False, "with_std": True}
    s2 = pickle.loads(pickle.dumps(s))
    np.testing.assert_array_equal(s2.transform(X), s.transform(X))


def test_scaler_in_pipeline_gridsearch():
    rng = np.random.default_rng(5)
    X = rng.normal(100, 50, size=(40, 6, 2))
    y = X[:, -1, 0] * 0.01 + rng.normal(0, 0.01, size=40)
    reg = tiny_regressor()
    pipe = Pipeline([("scale", SequenceScaler()), ("reg", reg)])
    grid = {"scale__with_std": [True, False]}
    search = GridSearchCV(pipe, grid, cv=KFold(2)).fit(X, y)
    assert search.best_estimator_.predict(X).shape == (40,)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


@parametrize_with_checks([SequenceScaler(), SequenceScaler(with_mean=False)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# -- properties (hypothesis) --------------------------------------------------


@settings(max_examples=25, deadline=None)
@given(
    length=st.integers(1, 40),
    n_features=st.integers(1, 3),
    window=st.integers(1, 10),
    horizon=st.integers(1, 5),
    step=st.integers(1, 4),
)
def test_make_windows_shapes_property(length, n_features, window, horizon, step):
    series = np.arange(length * n_features, dtype=float).reshape(length, n_features)
    if window + horizon > length:
        with pytest.raises(ValueError):
            make_windows(series, window, horizon, step)
        return
    X, y = make_windows(series, window, horizon, step)
    n = (length - window - horizon) // step + 1
    assert X.shape == (n, window, n_features) and y.shape == (n, horizon)
    i = n - 1  # the last window is followed directly by its target
    np.testing.assert_array_equal(X[i, -1], series[i * step + window - 1])
    np.testing.assert_array_equal(y[i], series[i * step + window : i * step + window + horizon, 0])


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(0, 8), min_size=1, max_size=6),
    maxlen=st.one_of(st.none(), st.integers(0, 10)),
    padding=st.sampled_from(["pre", "post"]),
    truncating=st.sampled_from(["pre", "post"]),
)
def test_pad_sequences_property(lengths, maxlen, padding, truncating):
    seqs = [np.arange(1, n + 1, dtype=float)[:, None] * [1, -1] for n in lengths]
    padded, got = pad_sequences(seqs, maxlen=maxlen, padding=padding, truncating=truncating)
    m = max(lengths) if maxlen is None else maxlen
    assert padded.shape == (len(seqs), m, 2)
    np.testing.assert_array_equal(got, np.minimum(lengths, m))
    # the real values sit where `padding` says, padding elsewhere is zero
    assert np.count_nonzero(padded[:, :, 0]) == got.sum()
    for s, p, n in zip(seqs, padded, got):
        kept = s[-n:] if truncating == "pre" else s[:n]
        real = p[m - n :] if padding == "pre" else p[:n]
        np.testing.assert_array_equal(real, kept[:n] if n else real)


@settings(max_examples=25, deadline=None)
@given(
    lengths=st.lists(st.integers(1, 6), min_size=1, max_size=5),
    n_features=st.integers(1, 3),
    seed=st.integers(0, 2**16),
    loc=st.floats(-1e3, 1e3),
    log_scale=st.floats(-3, 3),
)
def test_scaler_round_trip_property(lengths, n_features, seed, loc, log_scale):
    rng = np.random.default_rng(seed)
    X = [loc + 10.0**log_scale * rng.normal(size=(n, n_features)) for n in lengths]
    s = SequenceScaler().fit(X)
    back = s.inverse_transform(s.transform(X))
    back = back if isinstance(back, list) else list(back)
    for a, b in zip(X, back):
        np.testing.assert_allclose(b, a, rtol=1e-9, atol=1e-9 * (abs(loc) + 10.0**log_scale))
