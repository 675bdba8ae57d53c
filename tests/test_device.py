"""device='cuda' without a GPU raises a clear error; device='auto' falls back to
the CPU.  Runs in the normal (non-simulated) process; the simulator is detected
and the no-GPU case is then forced through ``cuda_available``."""

import numpy as np
import pytest

import seqnet._runtime.backend as backend_mod
from seqnet import MLPClassifier
from seqnet.kernels import cpu


@pytest.fixture
def no_gpu(monkeypatch):
    monkeypatch.setattr(backend_mod, "cuda_available", lambda: False)


def _data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 3))
    return X, (X[:, 0] > 0).astype(int)


def test_cuda_without_gpu_raises_clear_error(no_gpu):
    with pytest.raises(RuntimeError, match="device='cuda' was requested.*device='auto'"):
        backend_mod.get_backend("cuda")
    X, y = _data()
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        MLPClassifier(hidden_layer_sizes=(3,), max_iter=1, device="cuda").fit(X, y)


def test_auto_falls_back_to_cpu(no_gpu):
    assert backend_mod.get_backend("auto") is cpu
    X, y = _data()
    common = dict(hidden_layer_sizes=(3,), max_iter=2, random_state=0)
    with pytest.warns(Warning):
        auto = MLPClassifier(device="auto", **common).fit(X, y)
    with pytest.warns(Warning):
        ref = MLPClassifier(device="cpu", **common).fit(X, y)
    for key in ref.weights_:
        np.testing.assert_array_equal(auto.weights_[key], ref.weights_[key])


def test_real_probe_is_consistent():
    # on this machine (no GPU, simulator off) the real probe says False and the
    # error is raised without monkeypatching
    if backend_mod.cuda_available():
        pytest.skip("a CUDA GPU (or the simulator) is available here")
    with pytest.raises(RuntimeError, match="no usable CUDA GPU"):
        backend_mod.get_backend("cuda")
    assert backend_mod.get_backend("auto") is cpu


def test_import_seqnet_does_not_load_cuda_kernels():
    import subprocess
    import sys

    code = ("import sys, seqnet, seqnet._runtime.backend; "
            "from seqnet import MLPClassifier; "
            "assert 'seqnet.kernels.cuda' not in sys.modules; "
            "assert 'numba.cuda' not in sys.modules, 'numba.cuda imported eagerly'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_gpu_fitted_model_predicts_on_cpu_machine():
    """A model fitted with device='cuda' and unpickled where no GPU is usable
    predicts on the CPU (with a warning) from its plain NumPy weights."""
    import pickle
    import warnings as _w

    import numpy as np

    from seqnet import GRUClassifier
    from seqnet._runtime.backend import cuda_available

    if cuda_available():
        pytest.skip("a CUDA device (or the simulator) is usable here")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(20, 5, 2)).astype(np.float32)
    y = (X[:, 0, 0] > 0).astype(int)
    model = GRUClassifier(hidden_layer_sizes=(3,), max_iter=2, random_state=0).fit(X, y)
    expected = model.predict_proba(X)
    model.set_params(device="cuda")  # as if it had been fitted on a GPU machine
    loaded = pickle.loads(pickle.dumps(model))
    with _w.catch_warnings(record=True) as caught:
        _w.simplefilter("always")
        np.testing.assert_array_equal(loaded.predict_proba(X), expected)
    assert any("predicting on the CPU" in str(w.message) for w in caught)
