"""The leaky / skip RNN kernels on CUDA equal their CPU twins (tiny float32
shapes, ragged lengths), and a leaky skip RNN fitted with device='cuda' ends
with the CPU's weights (learned leak, bidirectional, ragged, truncated BPTT)."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from seqnet import RNNClassifier
from seqnet.kernels.cpu import recurrent_leaky as cpu_leaky

cuda_k = pytest.importorskip("seqnet.kernels.cuda")

F32 = np.float32
B, T, F, H = 3, 5, 2, 3
LENGTHS = np.array([5, 2, 4], dtype=np.int64)


def rnd(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(F32)


def dev(a):
    return cuda_k.to_device(np.ascontiguousarray(a))


def close(a, b, rtol=1e-4, atol=1e-5):
    np.testing.assert_allclose(cuda_k.to_host(a), b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("reverse,skip,bptt,kind", [
    (False, 0, 0, 2), (True, 2, 0, 2), (False, 3, 2, 3), (True, 2, 3, 2), (False, 2, 0, 3)])
def test_leaky_rnn_kernels_match_cpu(reverse, skip, bptt, kind):
    rng = np.random.default_rng(7)
    x = rnd(rng, B, T, F)
    w = [rnd(rng, H, F, scale=0.5), rnd(rng, H, H, scale=0.5),
         rnd(rng, H, H, scale=0.5) if skip else np.zeros((0, H), F32),
         rnd(rng, H, scale=0.1), rnd(rng, H, scale=0.1)]
    a = rng.uniform(0.2, 0.9, H).astype(F32)
    h0 = rnd(rng, B, H, scale=0.5)
    h_c, cache_c = cpu_leaky.leaky_rnn_forward(x, LENGTHS, *w, a, h0, reverse, skip, kind)
    h_g, cache_g = cuda_k.leaky_rnn_forward(dev(x), LENGTHS, *[dev(v) for v in w], dev(a),
                                            dev(h0), reverse, skip, kind)
    close(h_g, h_c)
    dh = rnd(rng, B, T, H)
    res_c = cpu_leaky.leaky_rnn_backward(dh, x, LENGTHS, w[0], w[1], w[2], a, h_c, cache_c,
                                         bptt, True)
    res_g = cuda_k.leaky_rnn_backward(dev(dh), dev(x), LENGTHS, dev(w[0]), dev(w[1]),
                                      dev(w[2]), dev(a), h_g, cache_g, bptt, True)
    assert len(res_g) == len(res_c) == 7
    for g, c in zip(res_g, res_c):
        close(g, c)
    no_dx = cuda_k.leaky_rnn_backward(dev(dh), dev(x), LENGTHS, dev(w[0]), dev(w[1]),
                                      dev(w[2]), dev(a), h_g, cache_g, bptt, False)
    assert no_dx[0].shape == (0, 0, 0)


def test_leaky_skip_fit_on_cuda_matches_cpu():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((6, 5, 2))
    y = (X[:, 0, 0] > 0).astype(int)
    X = [x[: 3 + i % 3] for i, x in enumerate(X)]  # ragged
    common = dict(hidden_layer_sizes=(3,), leak="learn", skip_steps=2, bidirectional=True,
                  bptt_steps=3, max_iter=2, batch_size=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        cpu = RNNClassifier(device="cpu", **common).fit(X, y)
        gpu = RNNClassifier(device="cuda", **common).fit(X, y)
    assert "rnn.0.leak_reverse" in gpu.weights_
    for key, w in cpu.weights_.items():
        np.testing.assert_allclose(gpu.weights_[key], w, rtol=1e-3, atol=1e-4, err_msg=key)
    np.testing.assert_array_equal(gpu.predict(X), cpu.predict(X))
