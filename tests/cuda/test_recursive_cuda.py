"""The CUDA tree kernels equal their CPU twins (tiny trees: the simulator is slow),
and a recursive estimator fitted with device='cuda' ends where the CPU one does.

    NUMBA_ENABLE_CUDASIM=1 python -m pytest tests/cuda/test_recursive_cuda.py -p no:cacheprovider
"""

import importlib
import warnings

import numpy as np
import pytest
from numba import config
from sklearn.exceptions import ConvergenceWarning

from seqnet import RecursiveClassifier, RecursiveRegressor
from seqnet.kernels import cpu
from seqnet.kernels.contract import ACTIVATION_CODES
from seqnet.network.layers import Context
from seqnet.network.tree import TreeLayer
from seqnet.network.tree_encoding import encode_trees

cuda_k = pytest.importorskip("seqnet.kernels.cuda")

try:
    from tests import reference_tree as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_tree as ref

F, H = 2, 3


def _trees(rng):
    """Mixed shapes: a single leaf, a one-child chain, an unbalanced and a balanced tree."""
    leaf = lambda: rng.uniform(-1, 1, F)  # noqa: E731
    return [leaf(), ((leaf(),),), (((leaf(), leaf()), leaf()), leaf()),
            ((leaf(), leaf()), (leaf(), (leaf(),)))]


def _weights(rng, dtype):
    return {k: v.astype(dtype) for k, v in ref.random_weights(rng, H, F).items()}


def _tolerances(dtype):
    return (1e-4, 1e-5) if dtype == np.float32 else (1e-10, 1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ["tanh", "relu"])
def test_tree_kernels_match_cpu(dtype, activation):
    rng = np.random.default_rng(0)
    lv = encode_trees(_trees(rng), dtype).levels()
    w = _weights(rng, dtype)
    kind = ACTIVATION_CODES[activation]
    n_inner = lv.n_nodes - lv.n_leaves
    d_h0 = rng.standard_normal((lv.n_nodes, H)).astype(dtype)
    outs = {}
    for name, B in (("cpu", cpu), ("cuda", cuda_k)):
        d = {k: B.to_device(v) for k, v in w.items()}
        x, left, right = (B.to_device(a) for a in (lv.x_leaf, lv.left, lv.right))
        h = B.empty((lv.n_nodes, H), dtype)
        children = B.empty((n_inner, 2 * H), dtype)
        B.tree_forward(x, left, right, lv.level_ptr, d["weight_leaf"], d["bias_leaf"],
                       d["weight_left"], d["weight_right"], d["bias"], kind, children, h)
        d_h = B.to_device(d_h0.copy())
        grads = [B.empty(v.shape, dtype) for v in (w["weight_leaf"], w["bias_leaf"],
                                                   w["weight_left"], w["weight_right"],
                                                   w["bias"])]
        B.tree_backward(d_h, x, left, right, lv.level_ptr, h, children, d["weight_left"],
                        d["weight_right"], kind, *grads)
        outs[name] = [B.to_host(a) for a in [h, children, d_h] + grads]
    rtol, atol = _tolerances(dtype)
    for a, b in zip(outs["cuda"], outs["cpu"]):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
    # and the CPU states are the NumPy reference's
    ref_h = ref.levels_forward(lv.x_leaf, lv.left, lv.right, lv.level_ptr, w, activation)
    np.testing.assert_allclose(outs["cpu"][0], ref_h, rtol=rtol, atol=atol)


def _layer_on_both_backends(layer, forest, w, dy):
    """``{backend: [output, gradients by name]}`` of one forward and backward pass."""
    results = {}
    for name, B in (("cpu", cpu), ("cuda", cuda_k)):
        p = {k: B.to_device(v) for k, v in w.items()}
        g = {k: B.empty(v.shape, np.float32) for k, v in w.items()}
        ctx = Context(training=True, backend=B)
        out, cache = layer.forward(p, forest, ctx)
        layer.backward(p, g, cache, B.to_device(dy), ctx)
        results[name] = [B.to_host(out)] + [B.to_host(g[k]) for k in sorted(g)]
    return results


@pytest.mark.parametrize("pooling", ["root", "mean"])
def test_tree_layer_matches_cpu(pooling):
    rng = np.random.default_rng(1)
    forest = encode_trees(_trees(rng), np.float32)
    w = _weights(rng, np.float32)
    layer = TreeLayer(H, "tanh", pooling)
    layer.build((F,))
    dy = rng.standard_normal((len(forest), H)).astype(np.float32)
    results = _layer_on_both_backends(layer, forest, w, dy)
    for a, b in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(results["cpu"][0],
                               ref.forest_forward(_trees(np.random.default_rng(1)), w,
                                                  "tanh", pooling), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cls", [RecursiveRegressor, RecursiveClassifier])
def test_cuda_fit_matches_cpu(cls):
    rng = np.random.default_rng(2)
    X = _trees(rng) + _trees(rng)
    y = np.array([ref.leaf_values(t)[0][0] for t in X])
    if cls is RecursiveClassifier:
        y = (y > 0).astype(int)
    fitted = {}
    for device in ("cpu", "cuda"):
        est = cls(hidden_layer_sizes=H, max_iter=2, batch_size=4, random_state=0,
                  shuffle=False, device=device)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            fitted[device] = est.fit(X, y)
    for k, v in fitted["cpu"].weights_.items():
        np.testing.assert_allclose(fitted["cuda"].weights_[k], v, rtol=1e-3, atol=1e-4)
    np.testing.assert_allclose(fitted["cuda"].predict(X[:3]), fitted["cpu"].predict(X[:3]),
                               rtol=1e-3, atol=1e-4)


def test_tree_layer_at_gpu_launch_constants(monkeypatch):
    """256-thread blocks, 16x16 tiles and several blocks per launch (the other
    tests shrink them for the simulator's sake), against the CPU."""
    if not config.ENABLE_CUDASIM:
        pytest.skip("the real launch constants already run on a GPU")
    arrays, reduce, matmul_mod = (importlib.import_module(f"seqnet.kernels.cuda.{m}")
                                  for m in ("arrays", "reduce", "matmul"))
    for mod in (arrays, reduce):
        monkeypatch.setattr(mod, "THREADS", arrays.GPU_THREADS)
        monkeypatch.setattr(mod, "MAX_BLOCKS", arrays.GPU_MAX_BLOCKS)
    monkeypatch.setattr(matmul_mod, "TILE", matmul_mod.GPU_TILE)
    monkeypatch.setattr(matmul_mod, "MAX_GRID", matmul_mod.GPU_MAX_GRID)
    rng = np.random.default_rng(3)
    hidden = 17  # one full 16x16 tile and a ragged one
    trees = [ref.random_tree(rng, 5, F) for _ in range(4)]
    forest = encode_trees(trees, np.float32)
    w = {k: v.astype(np.float32) for k, v in ref.random_weights(rng, hidden, F).items()}
    layer = TreeLayer(hidden, "tanh", "mean")
    layer.build((F,))
    dy = rng.standard_normal((len(trees), hidden)).astype(np.float32)
    results = _layer_on_both_backends(layer, forest, w, dy)
    for a, b in zip(results["cuda"], results["cpu"]):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
