"""RNNClassifier / RNNRegressor with ``leak`` and ``skip_steps`` (issue 23): the
plain cell's path is untouched, the new parameters behave as estimator
parameters, ragged input equals each sequence alone, and a 100-steps-back
memory task that a plain tanh RNN cannot learn is learned by leaky and skip
RNNs."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import InvalidParameterError

from seqnet import RNNClassifier, RNNRegressor
from seqnet.kernels import cpu as K
from seqnet.network.recurrent import RecurrentLayer
from seqnet.network.recurrent_leaky import LeakyRecurrentLayer


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        yield


def small_data(seed=0, n=12, T=6):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, T, 2)).astype(np.float32)
    return X, (X[:, 0, 0] + X[:, -1, 1] > 0).astype(int)


def recurrent_layers(est):
    return [la for la in est._network.layers if isinstance(la, RecurrentLayer)]


def test_leak_one_without_skips_is_the_plain_path(monkeypatch):
    """leak=1.0, skip_steps=None builds the plain RecurrentLayer, never calls the
    leaky kernels, and predicts bitwise as the default estimator."""
    X, y = small_data()
    common = dict(hidden_layer_sizes=(4, 3), bidirectional=True, max_iter=3, random_state=0)
    default = RNNClassifier(**common).fit(X, y)

    def forbidden(*args):
        raise AssertionError("the plain Elman cell must not run the leaky kernels")

    monkeypatch.setattr(K, "leaky_rnn_forward", forbidden)
    monkeypatch.setattr(K, "leaky_rnn_backward", forbidden)
    explicit = RNNClassifier(leak=1.0, skip_steps=None, **common).fit(X, y)
    assert all(type(la) is RecurrentLayer for la in recurrent_layers(explicit))
    np.testing.assert_array_equal(explicit.predict_proba(X), default.predict_proba(X))
    assert set(explicit.weights_) == set(default.weights_)
    for name, w in default.weights_.items():
        np.testing.assert_array_equal(explicit.weights_[name], w)


@pytest.mark.parametrize("params, names", [
    (dict(leak=0.5), set()),
    (dict(leak="learn"), {"rnn.0.leak", "rnn.0.leak_reverse", "rnn.1.leak",
                          "rnn.1.leak_reverse"}),
    (dict(skip_steps=2), {"rnn.0.weight_hh_skip", "rnn.0.weight_hh_skip_reverse",
                          "rnn.1.weight_hh_skip", "rnn.1.weight_hh_skip_reverse"}),
])
def test_new_weights_and_layers(params, names):
    X, y = small_data(1)
    est = RNNClassifier(hidden_layer_sizes=(4, 3), bidirectional=True, max_iter=2,
                        random_state=0, **params).fit(X, y)
    assert all(isinstance(la, LeakyRecurrentLayer) for la in recurrent_layers(est))
    plain = RNNClassifier(hidden_layer_sizes=(4, 3), bidirectional=True, max_iter=1).fit(X, y)
    assert set(est.weights_) - set(plain.weights_) == names
    for name in names:
        H = 4 if name.startswith("rnn.0") else 3
        assert est.weights_[name].shape == ((H, H) if "skip" in name else (H,))


@pytest.mark.parametrize("params", [dict(leak=0.0), dict(leak=1.5), dict(leak="auto"),
                                    dict(skip_steps=1), dict(skip_steps=2.5)])
def test_invalid_parameters_raise(params):
    X, y = small_data()
    with pytest.raises(InvalidParameterError):
        RNNClassifier(max_iter=1, **params).fit(X, y)


def test_sklearn_clone_get_params_pickle():
    X, y = small_data(2)
    est = RNNClassifier(hidden_layer_sizes=5, leak="learn", skip_steps=3, max_iter=3,
                        random_state=0)
    params = est.get_params()
    assert params["leak"] == "learn" and params["skip_steps"] == 3
    twin = clone(est)
    assert twin.get_params() == params and twin is not est
    est.fit(X, y)
    twin.fit(X, y)  # the same parameters and random_state: the same model
    np.testing.assert_array_equal(twin.predict_proba(X), est.predict_proba(X))
    loaded = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(loaded.predict_proba(X), est.predict_proba(X))
    est.set_params(leak=0.25, skip_steps=None)
    assert est.get_params()["leak"] == 0.25


def test_ragged_regressor_equals_each_sequence_alone():
    """Padding never changes a result (bidirectional, stacked, per-step outputs)."""
    rng = np.random.default_rng(3)
    X = [rng.normal(size=(n, 2)) for n in (7, 3, 5, 6)]
    y = [rng.normal(size=n) for n in (7, 3, 5, 6)]
    est = RNNRegressor(hidden_layer_sizes=(4, 3), leak="learn", skip_steps=2,
                       bidirectional=True, bptt_steps=3, return_sequences=True, max_iter=3,
                       dtype="float64", random_state=0)
    est.fit(X, [np.pad(v, (0, 7 - v.size)) for v in y])
    together = est.predict(X)
    for i, seq in enumerate(X):
        alone = est.predict([seq])
        np.testing.assert_allclose(np.asarray(together[i]).ravel()[:len(seq)],
                                   np.asarray(alone[0]).ravel()[:len(seq)],
                                   rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------- long memory
LAG = 100


def memory_task(n, seed):
    """The class is the sign of the first value, followed by LAG noise steps."""
    rng = np.random.default_rng(seed)
    first = rng.choice([-1.0, 1.0], size=n)
    X = rng.normal(scale=0.5, size=(n, LAG + 1, 1))
    X[:, 0, 0] = first
    return X.astype(np.float32), (first > 0).astype(int)


@pytest.mark.parametrize("params, low, high", [
    (dict(), 0.0, 0.65),                 # plain tanh RNN: near chance (0.5)
    (dict(leak=0.05), 0.75, 1.0),        # leaky units: a state kept for ~20 steps
    (dict(skip_steps=25), 0.95, 1.0),    # skips: 4 hops back to the first step
])
def test_long_memory_task(params, low, high):
    """Held-out accuracy after 40 epochs (8 units, 200 samples, float32; each fit
    takes well under a second here): measured 0.485-0.54 (plain), 0.865-0.91
    (leak 0.05) and 0.985-1.0 (skip 25) over random_state 0, 1, 2 (training
    and test sets drawn with the same seeds)."""
    Xtr, ytr = memory_task(200, 0)
    Xte, yte = memory_task(200, 10)
    est = RNNClassifier(hidden_layer_sizes=8, max_iter=40, batch_size=32,
                        learning_rate_init=0.01, random_state=0, **params).fit(Xtr, ytr)
    assert low <= est.score(Xte, yte) <= high
