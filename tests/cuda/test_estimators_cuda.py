"""A 3-epoch fit with device='cuda' ends with the same weights as device='cpu';
the CUDA-fitted model pickles to plain NumPy and predicts with device='cpu'."""

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import is_regressor
from sklearn.exceptions import ConvergenceWarning

from seqnet import (
    ConvClassifier,
    GRURegressor,
    LSTMClassifier,
    MLPClassifier,
    MLPRegressor,
    RNNClassifier,
)

pytest.importorskip("seqnet.kernels.cuda")

RTOL, ATOL = 1e-3, 1e-4


def _data(kind, rng):
    if kind == "table":
        X = rng.standard_normal((10, 4))
        return X, (X[:, 0] + X[:, 1] > 0).astype(int)
    if kind == "seq":
        X = rng.standard_normal((8, 4, 2))
        return X, (X[:, :, 0].sum(1) > 0).astype(int)
    if kind == "seq_reg":
        X = rng.standard_normal((8, 4, 2))
        return X, X[:, :, 0].sum(1)
    if kind == "conv1d":
        X = rng.standard_normal((8, 6, 2))
        return X, (X[:, :, 0].sum(1) > 0).astype(int)
    X = rng.standard_normal((8, 4, 4, 1))  # conv2d
    return X, (X[:, :2].sum((1, 2, 3)) > 0).astype(int)


CASES = [
    ("mlp_clf", MLPClassifier, "table",
     dict(hidden_layer_sizes=(5, 3), alpha=1e-3, dropout=0.2)),
    ("mlp_reg_sgd_clip", MLPRegressor, "table",
     dict(hidden_layer_sizes=(4,), solver="sgd", learning_rate_init=0.05, clip_norm=0.5,
          l1_ratio=0.5)),
    ("rnn_clf_bidir", RNNClassifier, "seq",
     dict(hidden_layer_sizes=(3,), bidirectional=True, pooling="mean")),
    ("lstm_clf_2layers", LSTMClassifier, "seq",
     dict(hidden_layer_sizes=(3, 3), pooling="max", bptt_steps=2, solver="rmsprop")),
    ("gru_reg", GRURegressor, "seq_reg", dict(hidden_layer_sizes=(3,))),
    ("conv1d_clf", ConvClassifier, "conv1d",
     dict(filters=(2,), kernel_size=3, pool_size=2, hidden_layer_sizes=(4,))),
    ("conv2d_clf", ConvClassifier, "conv2d",
     dict(filters=(2,), kernel_size=2, pool_size=2, hidden_layer_sizes=(3,),
          solver="adagrad")),
]


@pytest.mark.parametrize("name,cls,data,params", CASES, ids=[c[0] for c in CASES])
def test_cuda_fit_matches_cpu(name, cls, data, params):
    X, y = _data(data, np.random.default_rng(0))
    if name == "lstm_clf_2layers":  # a ragged batch: padding and lengths on the device
        X = [x[: 2 + i % 3] for i, x in enumerate(X)]
    common = dict(max_iter=3, random_state=0, batch_size=4, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = cls(device="cpu", **common).fit(X, y)
        gpu = cls(device="cuda", **common).fit(X, y)
    assert set(gpu.weights_) == set(cpu.weights_)
    for key, w in cpu.weights_.items():
        assert isinstance(gpu.weights_[key], np.ndarray)
        np.testing.assert_allclose(gpu.weights_[key], w, rtol=RTOL, atol=ATOL, err_msg=key)
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=RTOL)
    # optimizer state came back to the host (plain NumPy pickle)
    assert all(isinstance(s, np.ndarray) for s in gpu._training.optimizer.state)
    # predictions on the device equal the CPU ones
    regression = is_regressor(gpu)
    p_gpu = gpu.predict(X)
    if regression:
        np.testing.assert_allclose(p_gpu, cpu.predict(X), rtol=RTOL, atol=ATOL)
    else:
        np.testing.assert_array_equal(p_gpu, cpu.predict(X))
    # pickles to NumPy and predicts on the CPU
    blob = pickle.dumps(gpu)
    assert b"numba.cuda" not in blob and b"DeviceNDArray" not in blob
    loaded = pickle.loads(blob)
    loaded.set_params(device="cpu")
    if regression:
        np.testing.assert_allclose(loaded.predict(X), p_gpu, rtol=RTOL, atol=ATOL)
    else:
        np.testing.assert_array_equal(loaded.predict(X), p_gpu)


def test_cuda_weights_views_and_warm_start():
    X, y = _data("table", np.random.default_rng(1))
    common = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0, batch_size=5,
                  warm_start=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        gpu = MLPClassifier(device="cuda", **common).fit(X, y)
        cpu = MLPClassifier(device="cpu", **common).fit(X, y)
        w = gpu.weights_["out.weight"]
        assert np.shares_memory(w, gpu._network.params)  # views of the host buffer
        gpu.fit(X, y)
        cpu.fit(X, y)
        gpu.partial_fit(X, y)
        cpu.partial_fit(X, y)
    # the old views still see the new weights (copied back into the same buffer)
    np.testing.assert_array_equal(w, gpu.weights_["out.weight"])
    for key in cpu.weights_:
        np.testing.assert_allclose(gpu.weights_[key], cpu.weights_[key], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gpu.predict_proba(X), cpu.predict_proba(X), rtol=RTOL,
                               atol=ATOL)


def test_cuda_early_stopping_matches_cpu():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((20, 3))
    y = (X[:, 0] > 0).astype(int)
    common = dict(hidden_layer_sizes=(3,), max_iter=3, random_state=0, batch_size=8,
                  early_stopping=True, validation_fraction=0.2, n_iter_no_change=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = MLPClassifier(device="cpu", **common).fit(X, y)
        gpu = MLPClassifier(device="cuda", **common).fit(X, y)
    np.testing.assert_allclose(gpu.validation_scores_, cpu.validation_scores_)
    for key in cpu.weights_:
        np.testing.assert_allclose(gpu.weights_[key], cpu.weights_[key], rtol=RTOL, atol=ATOL)
    assert gpu._training.best_params is None or isinstance(gpu._training.best_params,
                                                            np.ndarray)


@pytest.mark.parametrize("cls, kind, params", [
    (MLPRegressor, "table", dict(loss="poisson", hidden_layer_sizes=(3,))),
    (LSTMClassifier, "seq", dict(hidden_layer_sizes=(3,), alpha=1e-2)),
], ids=["mlp_poisson", "lstm_clf"])
def test_cuda_lbfgs_matches_cpu(cls, kind, params):
    X, y = _data(kind, np.random.default_rng(3))
    if cls is MLPRegressor:
        y = np.round(np.exp(X[:, 0]))  # counts
    common = dict(solver="lbfgs", max_iter=4, random_state=0, **params)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = cls(device="cpu", **common).fit(X, y)
        gpu = cls(device="cuda", **common).fit(X, y)
    np.testing.assert_allclose(gpu.loss_curve_, cpu.loss_curve_, rtol=RTOL)
    for key, w in cpu.weights_.items():
        np.testing.assert_allclose(gpu.weights_[key], w, rtol=RTOL, atol=ATOL, err_msg=key)
    assert gpu.n_iter_ == cpu.n_iter_
