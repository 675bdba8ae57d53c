"""Property tests (hypothesis): masking and padding invariance of the recurrent
models, permutation and batch-size independence of predict, the dense kernel
against NumPy, and the shapes of the preprocessing helpers.

Models are fitted once per module (float64, tiny); each property draws only a
few examples, so the module runs in seconds on 2 cores.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import seqnet
from seqnet.kernels.cpu import dense_forward
from seqnet.kernels.cpu.activations import IDENTITY, RELU
from seqnet.preprocessing import make_windows, pad_sequences

FEW = settings(max_examples=15, deadline=None, database=None,
               suppress_health_check=[HealthCheck.too_slow])
ATOL = 1e-10
N_FEATURES = 2

# name -> estimator; all float64 so ATOL is meaningful
RECURRENT = {
    "rnn": lambda: seqnet.RNNRegressor(hidden_layer_sizes=(4,), activation="relu"),
    "rnn-bi": lambda: seqnet.RNNClassifier(hidden_layer_sizes=(3,), bidirectional=True),
    "lstm": lambda: seqnet.LSTMRegressor(hidden_layer_sizes=(4,), pooling="mean"),
    "lstm-bi": lambda: seqnet.LSTMClassifier(hidden_layer_sizes=(3, 2), bidirectional=True),
    "gru": lambda: seqnet.GRUClassifier(hidden_layer_sizes=(4,), pooling="max"),
    "gru-bi": lambda: seqnet.GRURegressor(hidden_layer_sizes=(3,), bidirectional=True),
    "lstm-seq": lambda: seqnet.LSTMRegressor(hidden_layer_sizes=(3,), bidirectional=True,
                                             return_sequences=True),
}
OTHER = {
    "mlp": lambda: seqnet.MLPClassifier(hidden_layer_sizes=(5,)),
    "conv": lambda: seqnet.ConvRegressor(filters=(3,), kernel_size=3, hidden_layer_sizes=(4,)),
}
T_FIXED = 6  # time steps the MLP / conv models see


@pytest.fixture(scope="module")
def models():
    rng = np.random.default_rng(0)
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, make in {**RECURRENT, **OTHER}.items():
            est = make().set_params(max_iter=3, random_state=0, dtype="float64",
                                    batch_size=8, learning_rate_init=0.01)
            if name in RECURRENT:
                X = [rng.normal(size=(n, N_FEATURES)) for n in rng.integers(1, 16, size=16)]
            elif name == "mlp":
                X = rng.normal(size=(16, T_FIXED * N_FEATURES))
            else:
                X = rng.normal(size=(16, T_FIXED, N_FEATURES))
            n = len(X)
            if name == "lstm-seq":
                y = rng.normal(size=(n, 15))  # per step; padding steps are ignored
            elif type(est).__name__.endswith("Classifier"):
                y = np.arange(n) % 3
            else:
                y = rng.normal(size=n)
            out[name] = est.fit(X, y)
    return out


def _raw(est, X):
    """The most sensitive output: probabilities for classifiers, else predict."""
    return est.predict_proba(X) if hasattr(est, "predict_proba") else est.predict(X)


def _sequences(seed, lengths):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(int(n), N_FEATURES)) for n in lengths]


lengths_st = st.lists(st.integers(1, 15), min_size=1, max_size=6)
seed_st = st.integers(0, 2**32 - 1)
recurrent_st = st.sampled_from(list(RECURRENT))


def _assert_close(a, b):
    if isinstance(a, list) or isinstance(b, list):
        assert len(a) == len(b)
        for p, q in zip(a, b):
            np.testing.assert_allclose(p, q, rtol=0, atol=ATOL)
    else:
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL)


def _rows(out):
    """Per-sample results of a batch prediction (array or list), as a list."""
    return list(out)


# ----------------------------------------------------------- (a) masking
@FEW
@given(name=recurrent_st, lengths=lengths_st, seed=seed_st)
def test_ragged_batch_equals_each_sequence_alone(models, name, lengths, seed):
    est = models[name]
    seqs = _sequences(seed, lengths)
    together = _rows(_raw(est, seqs))
    assert len(together) == len(seqs)
    for seq, got in zip(seqs, together):
        alone = _raw(est, seq[None])[0]
        _assert_close(got, alone)


# ----------------------------------------------------------- (b) padding
@FEW
@given(name=recurrent_st, lengths=lengths_st, seed=seed_st, extra=st.integers(0, 6),
       value=st.sampled_from([0.0, 7.5]))
def test_padding_with_true_lengths_changes_nothing(models, name, lengths, seed, extra, value):
    est = models[name]
    seqs = _sequences(seed, lengths)
    ref = _raw(est, seqs)
    padded, true_len = pad_sequences(seqs, maxlen=max(lengths) + extra, dtype="float64",
                                     value=value)
    np.testing.assert_array_equal(true_len, lengths)
    # public API: the true lengths travel as a ragged list of (strided) views
    _assert_close(_raw(est, [padded[i, :n] for i, n in enumerate(true_len)]), ref)
    # kernels: the whole padded block (padding past the longest sequence, of any
    # value) with the true lengths gives the same raw outputs as the ragged batch
    net_out = est._network.predict_raw(padded, true_len, est._backend())
    raw_ref = est._forward_raw(*est._validate_X(seqs, reset=False))
    if net_out.ndim == 3:  # per step: only valid steps are defined
        net_out = [net_out[i, :n] for i, n in enumerate(true_len)]
        raw_ref = [raw_ref[i, :n] for i, n in enumerate(true_len)]
    _assert_close(net_out, raw_ref)


@FEW
@given(name=recurrent_st, seed=seed_st, n=st.integers(1, 5), t=st.integers(1, 10),
       extra=st.integers(1, 5))
def test_equal_length_array_equals_ragged_padded(models, name, seed, n, t, extra):
    """A 3-D array of n sequences of length t predicts as those sequences given
    inside a ragged list whose other member is longer."""
    est = models[name]
    seqs = _sequences(seed, [t] * n + [t + extra])
    as_array = _rows(_raw(est, np.stack(seqs[:n])))
    in_ragged = _rows(_raw(est, seqs))[:n]
    _assert_close(as_array, in_ragged)


# ----------------------------------------------------------- (c) permutation
def _inputs(name, seed, lengths):
    if name in RECURRENT:
        return _sequences(seed, lengths)
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(len(lengths), T_FIXED, N_FEATURES))
    return X.reshape(len(X), -1) if name == "mlp" else X


def _take(X, idx):
    return [X[i] for i in idx] if isinstance(X, list) else X[idx]


@FEW
@given(name=st.sampled_from(list(RECURRENT) + list(OTHER)), seed=seed_st,
       lengths=st.lists(st.integers(1, 15), min_size=2, max_size=8), data=st.data())
def test_permuting_samples_permutes_predictions(models, name, seed, lengths, data):
    est = models[name]
    X = _inputs(name, seed, lengths)
    perm = data.draw(st.permutations(range(len(lengths))))
    ref = _rows(_raw(est, X))
    got = _rows(_raw(est, _take(X, perm)))
    _assert_close(got, [ref[i] for i in perm])
    if hasattr(est, "predict_proba"):  # and the labels follow
        np.testing.assert_array_equal(est.predict(_take(X, perm)), est.predict(X)[perm])


# ----------------------------------------------------------- (d) batch size
@FEW
@given(name=st.sampled_from(list(RECURRENT) + list(OTHER)), seed=seed_st,
       lengths=st.lists(st.integers(1, 15), min_size=2, max_size=10), data=st.data())
def test_predicting_in_chunks_equals_at_once(models, name, seed, lengths, data):
    est = models[name]
    X = _inputs(name, seed, lengths)
    n = len(lengths)
    cuts = sorted(data.draw(st.sets(st.integers(1, n - 1), max_size=n - 1)))
    bounds = [0, *cuts, n]
    at_once = _rows(_raw(est, X))
    chunked = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        chunk = X[a:b]
        chunked.extend(_rows(_raw(est, chunk)))
    _assert_close(chunked, at_once)


# ----------------------------------------------------------- (e) kernels
@settings(max_examples=25, deadline=None, database=None)
@given(b=st.integers(1, 9), i=st.integers(1, 9), o=st.integers(1, 9), seed=seed_st,
       dtype=st.sampled_from([np.float32, np.float64]))
def test_dense_forward_matches_numpy(b, i, o, seed, dtype):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(b, i)).astype(dtype)
    w = rng.normal(size=(o, i)).astype(dtype)
    bias = rng.normal(size=o).astype(dtype)
    inputs = (x.copy(), w.copy(), bias.copy())
    ref = x.astype(np.float64) @ w.astype(np.float64).T + bias
    tol = 1e-12 if dtype == np.float64 else 1e-5
    out = np.full((b, o), np.nan, dtype=dtype)
    dense_forward(x, w, bias, IDENTITY, out)
    assert out.shape == (b, o) and out.dtype == dtype
    np.testing.assert_allclose(out, ref, rtol=tol, atol=tol)
    out_relu = np.full((b, o), np.nan, dtype=dtype)
    dense_forward(x, w, bias, RELU, out_relu)
    np.testing.assert_allclose(out_relu, np.maximum(ref, 0.0), rtol=tol, atol=tol)
    for before, after in zip(inputs, (x, w, bias)):  # the inputs are only read
        np.testing.assert_array_equal(before, after)


# ----------------------------------------------------------- (f) preprocessing
@settings(max_examples=25, deadline=None, database=None)
@given(t=st.integers(1, 40), window=st.integers(1, 12), horizon=st.integers(1, 6),
       step=st.integers(1, 5), n_features=st.integers(1, 3))
def test_make_windows_shapes_and_values(t, window, horizon, step, n_features):
    series = np.arange(t * n_features, dtype=np.float64).reshape(t, n_features)
    if window + horizon > t:
        with pytest.raises(ValueError, match="longer than the series"):
            make_windows(series, window, horizon, step)
        return
    X, y = make_windows(series, window, horizon, step)
    n = (t - window - horizon) // step + 1
    assert X.shape == (n, window, n_features)
    assert y.shape == (n, horizon)
    assert X.flags.c_contiguous and y.flags.c_contiguous
    for k in range(n):
        s = k * step
        np.testing.assert_array_equal(X[k], series[s:s + window])
        np.testing.assert_array_equal(y[k], series[s + window:s + window + horizon, 0])
    # the last window leaves no room for another
    assert (n - 1) * step + window + horizon <= t < n * step + window + horizon


@settings(max_examples=25, deadline=None, database=None)
@given(lengths=st.lists(st.integers(0, 10), min_size=1, max_size=6),
       maxlen=st.one_of(st.none(), st.integers(0, 12)), n_features=st.integers(1, 3),
       padding=st.sampled_from(["pre", "post"]), truncating=st.sampled_from(["pre", "post"]))
def test_pad_sequences_shapes_and_lengths(lengths, maxlen, n_features, padding, truncating):
    seqs = [np.arange(1, n * n_features + 1, dtype=np.float64).reshape(n, n_features)
            for n in lengths]
    padded, out_len = pad_sequences(seqs, maxlen=maxlen, dtype="float64",
                                    padding=padding, truncating=truncating, value=-1.0)
    width = max(lengths) if maxlen is None else maxlen
    assert padded.shape == (len(seqs), width, n_features)
    assert out_len.dtype == np.int64
    np.testing.assert_array_equal(out_len, np.minimum(lengths, width))
    for s, row, n in zip(seqs, padded, out_len):
        kept = s[len(s) - n:] if truncating == "pre" else s[:n]
        real = row[:n] if padding == "post" else row[width - n:]
        pad = row[n:] if padding == "post" else row[:width - n]
        np.testing.assert_array_equal(real, kept)
        assert (pad == -1.0).all()
