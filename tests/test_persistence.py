"""Pickle / joblib / deepcopy of every estimator: bitwise identical predictions,
``weights_`` still views of the parameter buffer after loading, and a loaded
model predicts in a fresh process from numba's on-disk cache, compiling nothing."""

import copy
import json
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest

import seqnet

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

SMALL = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0, batch_size=4)
CONV = dict(filters=(2,), kernel_size=2, hidden_layer_sizes=(3,), max_iter=2,
            random_state=0, batch_size=4)
CLASSES = [
    seqnet.MLPClassifier, seqnet.MLPRegressor,
    seqnet.RNNClassifier, seqnet.RNNRegressor,
    seqnet.LSTMClassifier, seqnet.LSTMRegressor,
    seqnet.GRUClassifier, seqnet.GRURegressor,
    seqnet.ConvClassifier, seqnet.ConvRegressor,
]
DTYPES = ["float32", "float64"]


def _make(cls, dtype, **extra):
    kw = CONV if cls.__name__.startswith("Conv") else SMALL
    return cls(**kw, dtype=dtype, **extra)


def _data(cls, n=12, seed=0):
    rng = np.random.default_rng(seed)
    name = cls.__name__
    X = rng.normal(size=(n, 4) if name.startswith("MLP") else (n, 6, 2))
    y = np.arange(n) % 3  # multiclass: softmax output
    if name.endswith("Regressor"):
        y = np.stack([y + 0.1 * rng.normal(size=n), rng.normal(size=n)], axis=1)
    return X, y


def _outputs(est, X):
    out = {"predict": est.predict(X)}
    if hasattr(est, "predict_proba"):
        out["predict_proba"] = est.predict_proba(X)
    return out


def _assert_bitwise(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert a[key].shape == b[key].shape, key
        assert a[key].tobytes() == b[key].tobytes(), key


def _assert_views(est):
    params = est._network.params
    assert params.dtype == np.dtype(est.dtype)
    for name, w in est.weights_.items():
        assert np.shares_memory(w, params), name
        assert w.flags.writeable, name


@pytest.fixture(scope="module")
def fitted():
    models = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for cls in CLASSES:
            for dtype in DTYPES:
                X, y = _data(cls)
                models[cls.__name__, dtype] = _make(cls, dtype).fit(X, y)
    return models


CASES = [(cls, dtype) for cls in CLASSES for dtype in DTYPES]
IDS = [f"{cls.__name__}-{dtype}" for cls, dtype in CASES]


def _roundtrips(tmp_path):
    def via_pickle(est):
        return pickle.loads(pickle.dumps(est, protocol=pickle.HIGHEST_PROTOCOL))

    def via_joblib(est):
        path = tmp_path / "model.joblib"
        joblib.dump(est, path)
        return joblib.load(path)

    def via_joblib_compressed(est):
        path = tmp_path / "model.joblib.gz"
        joblib.dump(est, path, compress=3)
        return joblib.load(path)

    def via_joblib_mmap(est):
        path = tmp_path / "model_mmap.joblib"
        joblib.dump(est, path)
        return joblib.load(path, mmap_mode="r")

    return {"pickle": via_pickle, "joblib": via_joblib,
            "joblib-compressed": via_joblib_compressed, "joblib-mmap": via_joblib_mmap,
            "deepcopy": copy.deepcopy}


@pytest.mark.parametrize("cls,dtype", CASES, ids=IDS)
def test_roundtrip_bitwise_identical(fitted, cls, dtype, tmp_path):
    est = fitted[cls.__name__, dtype]
    X, _ = _data(cls, seed=1)
    before = _outputs(est, X)
    for how, roundtrip in _roundtrips(tmp_path).items():
        loaded = roundtrip(est)
        assert type(loaded) is cls, how
        _assert_bitwise(_outputs(loaded, X), before)
        assert loaded.get_params() == est.get_params(), how
        assert loaded.weights_.keys() == est.weights_.keys(), how
        for key, w in est.weights_.items():
            assert loaded.weights_[key].tobytes() == w.tobytes(), (how, key)
        if how != "joblib-mmap":  # a read-only memory map is not meant for writing
            _assert_views(loaded)
        for attr in ("n_features_in_", "n_outputs_", "n_iter_", "t_", "loss_curve_"):
            assert getattr(loaded, attr) == getattr(est, attr), (how, attr)
        if hasattr(est, "classes_"):
            np.testing.assert_array_equal(loaded.classes_, est.classes_)
    _assert_bitwise(_outputs(est, X), before)  # the original is untouched


@pytest.mark.parametrize("cls", [seqnet.LSTMClassifier, seqnet.GRURegressor,
                                 seqnet.RNNClassifier])
def test_roundtrip_ragged_and_return_sequences(cls, tmp_path):
    rng = np.random.default_rng(0)
    seqs = [rng.normal(size=(n, 2)) for n in (1, 4, 7, 3, 5, 2)]
    y = np.array([0, 1, 0, 1, 1, 0]) if cls.__name__.endswith("Classifier") else \
        rng.normal(size=6)
    est = cls(hidden_layer_sizes=(3, 2), bidirectional=True, pooling="mean", max_iter=2,
              random_state=0, dtype="float64").fit(seqs, y)
    seq_est = cls(hidden_layer_sizes=(3,), return_sequences=True, max_iter=2, random_state=0,
                  dtype="float64")
    Y = np.stack([np.arange(7) % 2] * 6) if cls.__name__.endswith("Classifier") else \
        rng.normal(size=(6, 7))
    seq_est.fit(rng.normal(size=(6, 7, 2)), Y)
    for how, roundtrip in _roundtrips(tmp_path).items():
        loaded = roundtrip(est)
        assert loaded.predict(seqs).tobytes() == est.predict(seqs).tobytes(), how
        loaded_seq = roundtrip(seq_est)
        a, b = loaded_seq.predict(seqs), seq_est.predict(seqs)
        assert isinstance(a, list) and len(a) == len(b)
        for p, q in zip(a, b):
            assert p.tobytes() == q.tobytes(), how


@pytest.mark.parametrize("cls", CLASSES)
def test_unfitted_pickles(cls, tmp_path):
    est = _make(cls, "float64", learning_rate_init=0.01)
    for how, roundtrip in _roundtrips(tmp_path).items():
        loaded = roundtrip(est)
        assert loaded.get_params() == est.get_params(), how
        assert not hasattr(loaded, "weights_")
        # and it fits exactly as a never-pickled one
    X, y = _data(cls)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a = pickle.loads(pickle.dumps(est)).fit(X, y)
        b = _make(cls, "float64", learning_rate_init=0.01).fit(X, y)
    _assert_bitwise(_outputs(a, X), _outputs(b, X))


@pytest.mark.parametrize("cls,dtype", CASES, ids=IDS)
def test_loaded_weights_are_live_views(fitted, cls, dtype, tmp_path):
    est = fitted[cls.__name__, dtype]
    X, _ = _data(cls, seed=1)
    before = _outputs(est, X)
    for how, roundtrip in _roundtrips(tmp_path).items():
        if how == "joblib-mmap":
            continue
        loaded = roundtrip(est)
        raw_before = loaded._forward_raw(*loaded._validate_X(X, reset=False))
        loaded.weights_["out.bias"] += 1.5  # in place, through the public dict
        raw_after = loaded._forward_raw(*loaded._validate_X(X, reset=False))
        # the output layer's bias moved every raw output by exactly 1.5
        np.testing.assert_allclose(raw_after - raw_before, 1.5, rtol=0,
                                   atol=1e-5 if dtype == "float32" else 1e-12)
        assert not np.array_equal(_outputs(loaded, X)["predict"], before["predict"]) or \
            "predict_proba" in before
        if "predict_proba" in before:
            assert not np.array_equal(loaded.predict_proba(X), before["predict_proba"])
        # a second round trip keeps the edit
        again = roundtrip(loaded)
        assert again.weights_["out.bias"].tobytes() == loaded.weights_["out.bias"].tobytes()
        _assert_views(again)
    _assert_bitwise(_outputs(est, X), before)  # copies share no memory with the original


@pytest.mark.parametrize("cls", [seqnet.MLPRegressor, seqnet.LSTMClassifier,
                                 seqnet.ConvRegressor])
def test_deepcopy_is_independent_and_trains_identically(fitted, cls):
    est = fitted[cls.__name__, "float64"]
    X, y = _data(cls, seed=2)
    a, b = copy.deepcopy(est), pickle.loads(pickle.dumps(est))
    for w in est.weights_.values():
        assert not np.shares_memory(w, a._network.params)
    # optimizer state (adam moments, step count) travels with the model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a.partial_fit(X, y)
        b.partial_fit(X, y)
        c = copy.deepcopy(est).partial_fit(X, y)
    _assert_bitwise(_outputs(a, X), _outputs(b, X))
    _assert_bitwise(_outputs(a, X), _outputs(c, X))
    assert a.t_ == est.t_ + len(X)
    assert not np.array_equal(a._network.params, est._network.params)


# ------------------------------------------- a fresh process: no new compilation
_CHILD = textwrap.dedent("""
    import json, sys
    import joblib
    import numpy as np
    import seqnet  # imports (and numba's own start-up) happen outside the recording
    from numba.core.event import install_recorder

    X_by_name = np.load(sys.argv[1])
    with install_recorder("numba:compile") as rec:
        loaded = joblib.load(sys.argv[2])
        out = {}
        for key, est in loaded.items():
            out[key] = est.predict(X_by_name[key.split("|")[0]]).tolist()
            if hasattr(est, "predict_proba"):
                out[key + "|proba"] = est.predict_proba(X_by_name[key.split("|")[0]]).tolist()
    compiled = sorted({
        ev.data["dispatcher"].py_func.__module__ + "." + ev.data["dispatcher"].py_func.__qualname__
        for _, ev in rec.buffer if ev.is_start
    })
    print(json.dumps({"compiled": compiled, "out": out}))
""")


def _run_child(tmp_path, models, X_by_name):
    script = tmp_path / "child.py"
    script.write_text(_CHILD)
    np.savez(tmp_path / "X.npz", **X_by_name)
    joblib.dump(models, tmp_path / "models.joblib")
    proc = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "X.npz"),
         str(tmp_path / "models.joblib")],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_loaded_model_predicts_in_fresh_process_without_compiling(fitted, tmp_path):
    models, X_by_name, expected = {}, {}, {}
    for (name, dtype), est in fitted.items():
        cls = type(est)
        X, _ = _data(cls, seed=1)
        X_by_name[name] = X
        key = f"{name}|{dtype}"
        models[key] = est
        # predicting here fills numba's on-disk cache for exactly these signatures
        expected[key] = est.predict(X)
        if hasattr(est, "predict_proba"):
            expected[key + "|proba"] = est.predict_proba(X)
    result = _run_child(tmp_path, models, X_by_name)
    if result["compiled"]:
        # The cache is keyed on the kernel sources' timestamps: a kernel file edited
        # while this test ran (this repository is shared) invalidates it once. The
        # first child re-filled it; a second fresh process must now compile nothing.
        result = _run_child(tmp_path, models, X_by_name)
    assert result["compiled"] == [], (
        "loading and predicting compiled these numba functions instead of loading "
        f"them from the on-disk cache: {result['compiled']}")
    assert result["out"].keys() == expected.keys()
    for key, want in expected.items():
        got = np.asarray(result["out"][key], dtype=want.dtype)
        # JSON carries floats as shortest round-trip reprs: exact for float64 and,
        # after the cast back, for float32 too
        np.testing.assert_array_equal(got, want, err_msg=key)
