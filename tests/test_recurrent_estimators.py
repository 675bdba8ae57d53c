"""Behaviour of the RNN / LSTM / GRU estimators: learning, ragged input,
pooling, return_sequences, persistence and scikit-learn integration."""

import pickle
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score

import seqnet
from seqnet.preprocessing import make_windows

CLASSIFIERS = [seqnet.RNNClassifier, seqnet.LSTMClassifier, seqnet.GRUClassifier]
REGRESSORS = [seqnet.RNNRegressor, seqnet.LSTMRegressor, seqnet.GRURegressor]

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _toy(n=60, t=8, f=2, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, t, f)).astype(np.float32)
    y = (X[:, :3, 0].sum(axis=1) > 0).astype(int)
    return X, y


def _long_memory_task(n=300, t=60, lag=50, seed=0):
    """The label is the sign of a pulse ``lag`` steps before the end, in noise."""
    rng = np.random.default_rng(seed)
    X = rng.normal(scale=0.5, size=(n, t, 2)).astype(np.float32)
    X[:, :, 0] = 0.0
    X[:, t - lag, 0] = rng.choice([-1.0, 1.0], size=n)
    return X, (X[:, t - lag, 0] > 0).astype(int)


@pytest.mark.parametrize("cls", [seqnet.LSTMClassifier, seqnet.GRUClassifier])
def test_long_memory_50_steps(cls):
    X, y = _long_memory_task()
    X_tr, X_te, y_tr, y_te = X[:200], X[200:], y[:200], y[200:]
    model = cls(hidden_layer_sizes=(16,), max_iter=30, n_iter_no_change=30,
                learning_rate_init=0.005, batch_size=32, random_state=0).fit(X_tr, y_tr)
    assert model.score(X_te, y_te) >= 0.95
    # a model that sees only the last step is at chance
    last_only = LogisticRegression().fit(X_tr[:, -1], y_tr)
    assert last_only.score(X_te[:, -1], y_te) < 0.7


@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_ragged_equals_alone(cls):
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(n, 2)) for n in rng.integers(1, 41, size=12)]
    seqs[0] = rng.normal(size=(1, 2))
    seqs[1] = rng.normal(size=(40, 2))
    labels = np.array([int(s[:, 0].mean() > 0) for s in seqs])
    model = cls(hidden_layer_sizes=(6,), bidirectional=True, max_iter=3, random_state=0,
                dtype="float64").fit(seqs, labels)
    together = model.predict_proba(seqs)
    alone = np.vstack([model.predict_proba([s]) for s in seqs])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-12)
    assert (model.predict(seqs) == np.concatenate([model.predict([s]) for s in seqs])).all()


@pytest.mark.parametrize("pooling", ["last", "mean", "max"])
def test_pooling_modes_learn(pooling):
    X, y = _toy(n=120)
    model = seqnet.GRUClassifier(hidden_layer_sizes=(8,), pooling=pooling, max_iter=40,
                                 learning_rate_init=0.02, random_state=0).fit(X, y)
    assert model.score(X, y) > 0.85


def test_stacked_bidirectional_weights_layout():
    X, y = _toy()
    model = seqnet.LSTMClassifier(hidden_layer_sizes=(5, 3), bidirectional=True, dropout=0.2,
                                  max_iter=2, random_state=0).fit(X, y)
    w = model.weights_
    assert w["rnn.0.weight_ih"].shape == (20, 2)
    assert w["rnn.0.weight_hh_reverse"].shape == (20, 5)
    assert w["rnn.1.weight_ih"].shape == (12, 10)
    assert w["out.weight"].shape == (1, 6)
    # weights_ are views of the one buffer predict reads
    before = model.predict_proba(X)
    w["out.bias"][:] += 3.0
    assert not np.allclose(before, model.predict_proba(X))


def test_lstm_forget_bias_and_orthogonal_init():
    X, y = _toy()
    model = seqnet.LSTMRegressor(hidden_layer_sizes=(4,), max_iter=1, learning_rate_init=1e-9,
                                 random_state=0, dtype="float64").fit(X, y.astype(float))
    b = model.weights_["rnn.0.bias_ih"]
    np.testing.assert_allclose(b[4:8], 1.0, atol=1e-6)
    w_hh = model.weights_["rnn.0.weight_hh"][:4]
    np.testing.assert_allclose(w_hh @ w_hh.T, np.eye(4), atol=1e-6)


@pytest.mark.parametrize("cls", REGRESSORS)
def test_return_sequences_regression(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 10, 1)).astype(np.float32)
    y = np.cumsum(X[:, :, 0], axis=1)  # running sum: needs the state
    model = cls(hidden_layer_sizes=(12,), return_sequences=True, max_iter=60,
                learning_rate_init=0.02, random_state=0).fit(X, y)
    assert model.predict(X).shape == (40, 10)
    assert model.score(X, y) > 0.8


def test_return_sequences_classifier_ragged():
    rng = np.random.default_rng(1)
    seqs = [rng.normal(size=(n, 1)) for n in (5, 7, 3, 7, 6, 4)] * 4
    y = np.full((len(seqs), 7), -1)
    for i, s in enumerate(seqs):
        y[i, : len(s)] = (s[:, 0] > 0).astype(int)
    y[y < 0] = 0  # padded labels are ignored by the masked loss
    model = seqnet.GRUClassifier(hidden_layer_sizes=(8,), return_sequences=True, max_iter=60,
                                 learning_rate_init=0.03, random_state=0).fit(seqs, y)
    pred = model.predict(seqs)
    assert isinstance(pred, list) and [len(p) for p in pred] == [len(s) for s in seqs]
    assert model.score(seqs, y) > 0.9


def test_truncated_bptt_trains_and_differs():
    X, y = _toy(n=60, t=12)
    full = seqnet.LSTMClassifier(hidden_layer_sizes=(6,), max_iter=3, random_state=0).fit(X, y)
    trunc = seqnet.LSTMClassifier(hidden_layer_sizes=(6,), bptt_steps=3, max_iter=3,
                                  random_state=0).fit(X, y)
    same = seqnet.LSTMClassifier(hidden_layer_sizes=(6,), bptt_steps=12, max_iter=3,
                                 random_state=0).fit(X, y)
    np.testing.assert_array_equal(full.predict_proba(X), same.predict_proba(X))
    assert not np.array_equal(full.predict_proba(X), trunc.predict_proba(X))


@pytest.mark.parametrize("cls", REGRESSORS)
def test_multi_step_forecast_output(cls):
    rng = np.random.default_rng(0)
    series = np.sin(np.arange(300) * 0.3) + 0.05 * rng.normal(size=300)
    X, y = make_windows(series, window=12, horizon=4)
    model = cls(hidden_layer_sizes=(16,), max_iter=40, learning_rate_init=0.01,
                random_state=0).fit(X, y)
    assert model.predict(X).shape == (len(X), 4)
    assert model.score(X, y) > 0.8


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("cls", CLASSIFIERS)
def test_pickle_joblib_identical(cls, dtype, tmp_path):
    X, y = _toy()
    model = cls(hidden_layer_sizes=(4,), max_iter=2, random_state=0, dtype=dtype).fit(X, y)
    expected = model.predict_proba(X)
    restored = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(restored.predict_proba(X), expected)
    path = tmp_path / "m.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert set(loaded.weights_) == set(model.weights_)
    # unfitted estimators pickle too
    assert pickle.loads(pickle.dumps(cls())).get_params() == cls().get_params()


def test_deterministic_same_random_state():
    X, y = _toy()
    a = seqnet.GRUClassifier(hidden_layer_sizes=(5,), dropout=0.3, max_iter=3,
                             random_state=7).fit(X, y)
    b = seqnet.GRUClassifier(hidden_layer_sizes=(5,), dropout=0.3, max_iter=3,
                             random_state=7).fit(X, y)
    for name in a.weights_:
        assert a.weights_[name].tobytes() == b.weights_[name].tobytes()


def test_grid_search_and_cross_val_score():
    X, y = _toy(n=60)
    search = GridSearchCV(seqnet.RNNClassifier(max_iter=3, random_state=0),
                          {"hidden_layer_sizes": [(3,), (5,)], "activation": ["tanh", "relu"]},
                          cv=2).fit(X, y)
    assert search.best_estimator_.n_features_in_ == 2
    scores = cross_val_score(clone(search.best_estimator_), X, y, cv=3)
    assert scores.shape == (3,)


def test_partial_fit_and_feature_mismatch_errors():
    X, y = _toy()
    model = seqnet.LSTMClassifier(hidden_layer_sizes=(4,), random_state=0)
    with pytest.raises(ValueError, match="classes must be passed"):
        model.partial_fit(X, y)
    model.partial_fit(X, y, classes=[0, 1])
    before = model.predict_proba(X)
    with pytest.raises(ValueError, match="features"):
        model.partial_fit(X[:, :, :1], y)
    with pytest.raises(ValueError, match="not in classes_"):
        model.partial_fit(X, np.full(len(X), 5))
    np.testing.assert_array_equal(model.predict_proba(X), before)  # nothing half-updated
    with pytest.raises(ValueError, match="length 0|0 sample"):
        model.predict([np.zeros((3, 2)), np.zeros((0, 2))])


def test_clip_norm_default_documented_and_divergence_guard():
    assert seqnet.LSTMClassifier().clip_norm == "auto"
    assert "5.0 for recurrent models" in seqnet.LSTMClassifier.__doc__
    X, y = _toy()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = seqnet.RNNRegressor(hidden_layer_sizes=(8,), activation="relu", solver="sgd",
                                    clip_norm=None, learning_rate_init=1e6, max_iter=5,
                                    random_state=0).fit(X, y * 1e3)
    assert np.isfinite(model.predict(X)).all()
    assert any(issubclass(w.category, ConvergenceWarning) and "clip_norm" in str(w.message)
               for w in caught)
