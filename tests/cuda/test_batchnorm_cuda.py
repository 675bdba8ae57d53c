"""CUDA batch-norm, global-pooling and masking kernels against the CPU ones
(simulator: NUMBA_ENABLE_CUDASIM=1, tiny sizes), and an FCN / ResNet fit."""

import warnings

import numpy as np
import pytest

from seqnet.kernels import cpu as K


@pytest.fixture(scope="module")
def G():
    from seqnet.kernels import cuda

    return cuda


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batchnorm_matches_cpu(G, relu, dtype):
    rng = np.random.default_rng(0)
    B, N, C = 3, 4, 2
    x = rng.normal(size=(B, N, C)).astype(dtype)
    lengths = np.array([4, 2, 3], dtype=np.int64)
    w = np.array([1.0, 2.0, 0.5], dtype=dtype)
    gamma, beta = rng.normal(size=C).astype(dtype), rng.normal(size=C).astype(dtype)
    rm, rv = rng.normal(size=C).astype(dtype), rng.uniform(0.5, 2, C).astype(dtype)
    outs = {}
    for name, be in (("cpu", K), ("cuda", G)):
        d = (lambda a: a) if be is K else G.to_device
        h = (lambda a: a) if be is K else (lambda a: a.copy_to_host())
        rmd, rvd = d(rm.copy()), d(rv.copy())
        y, xh, inv = (d(np.zeros_like(x)), d(np.zeros_like(x)), d(np.zeros(C, dtype)))
        be.batchnorm_forward_train(d(x), lengths, w, d(gamma), d(beta), 0.1, 1e-5, relu, rmd,
                                   rvd, y, xh, inv)
        dy = rng.normal(size=x.shape).astype(dtype) if name == "cpu" else outs["cpu"][-1]
        dx, dg, db = d(np.zeros_like(x)), d(np.zeros(C, dtype)), d(np.zeros(C, dtype))
        be.batchnorm_backward(d(dy), y, xh, lengths, w, d(gamma), inv, relu, True, dx, dg, db)
        ye = d(np.zeros_like(x))
        be.batchnorm_forward_eval(d(x), lengths, d(gamma), d(beta), 1e-5, relu, rmd, rvd, ye)
        outs[name] = [h(a) for a in (y, rmd, rvd, dx, dg, db, ye)] + [dy]
    tol = 1e-12 if dtype == np.float64 else 2e-5
    for a, b in zip(outs["cpu"], outs["cuda"]):
        np.testing.assert_allclose(a, b, atol=tol, rtol=tol)


@pytest.mark.parametrize("mode", ["avg", "max"])
def test_global_pool_and_mask_match_cpu(G, mode):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(3, 5, 2))
    lengths = np.array([5, 3, 1], dtype=np.int64)
    dy = rng.normal(size=(3, 2))
    if mode == "avg":
        y_c = K.global_avgpool_forward(x, lengths)
        y_g = G.global_avgpool_forward(G.to_device(x), lengths).copy_to_host()
        dx_c = K.global_avgpool_backward(dy, lengths, x.shape)
        dx_g = G.global_avgpool_backward(G.to_device(dy), lengths, x.shape).copy_to_host()
    else:
        y_c, a_c = K.global_maxpool_forward(x, lengths)
        y_g, a_g = G.global_maxpool_forward(G.to_device(x), lengths)
        y_g = y_g.copy_to_host()
        dx_c = K.global_maxpool_backward(dy, a_c, x.shape)
        dx_g = G.global_maxpool_backward(G.to_device(dy), a_g, x.shape).copy_to_host()
    np.testing.assert_allclose(y_c, y_g, atol=1e-12)
    np.testing.assert_allclose(dx_c, dx_g, atol=1e-12)
    xc, xg = x.copy(), G.to_device(x)
    K.mask_steps(xc, lengths)
    G.mask_steps(xg, lengths)
    np.testing.assert_array_equal(xc, xg.copy_to_host())


@pytest.mark.parametrize("name", ["FCNClassifier", "ResNetClassifier"])
def test_fit_matches_cpu(name):
    import seqnet

    rng = np.random.default_rng(2)
    seqs = [rng.normal(size=(int(rng.integers(3, 6)), 1)) for _ in range(6)]
    y = np.array([0, 1, 0, 1, 0, 1])
    preds = []
    for device in ("cpu", "cuda"):
        est = getattr(seqnet, name)(filters=(2, 2), kernel_size=(3, 2), max_iter=2,
                                    batch_size=3, random_state=0, dtype="float64",
                                    device=device, shuffle=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            est.fit(seqs, y)
        preds.append(est.predict_proba(seqs))
    np.testing.assert_allclose(preds[0], preds[1], atol=1e-8)
