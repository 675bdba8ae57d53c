"""Each kernel family once at the launch constants a GPU runs (256 threads per
block, 16x16 product tiles, several blocks) on small data, against the CPU twin.

The other simulator tests shrink the blocks (8 threads, 4x4 tiles, 2 blocks)
so that Python threads stay few; here the full 256-thread reduction trees and
16x16 shared-memory tiles execute, with inputs just large enough to need
several blocks.  Simulator only (a GPU runs these constants everywhere).
"""

import importlib

import numpy as np
import pytest
from numba import config

from seqnet.kernels import cpu
from seqnet.kernels.cpu import conv as cpu_conv
from seqnet.kernels.cpu import pool as cpu_pool
from seqnet.kernels.cpu import recurrent as cpu_rec

cuda_k = pytest.importorskip("seqnet.kernels.cuda")
try:
    from tests.cuda.test_kernels_cuda import check_dense
except ImportError:  # tests/ not importable as a package: pytest put tests/cuda on sys.path
    from test_kernels_cuda import check_dense
from seqnet.kernels.cuda import arrays, reduce  # noqa: E402

matmul = importlib.import_module("seqnet.kernels.cuda.matmul")  # (the package exports a function of that name)

pytestmark = pytest.mark.skipif(not config.ENABLE_CUDASIM,
                                reason="the real launch constants already run on a GPU")

F32 = np.float32
RTOL, ATOL = 1e-4, 1e-5


@pytest.fixture(autouse=True)
def gpu_launch_constants(monkeypatch):
    """The GPU's THREADS / MAX_BLOCKS / TILE / MAX_GRID in every module that reads them
    (the simulator executes the kernels' Python, so globals are read at launch)."""
    for mod in (arrays, reduce):
        monkeypatch.setattr(mod, "THREADS", arrays.GPU_THREADS)
        monkeypatch.setattr(mod, "MAX_BLOCKS", arrays.GPU_MAX_BLOCKS)
    monkeypatch.setattr(matmul, "TILE", matmul.GPU_TILE)
    monkeypatch.setattr(matmul, "MAX_GRID", matmul.GPU_MAX_GRID)
    assert arrays.grid(3 * arrays.GPU_THREADS) == (3, 256)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


def rnd(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(F32)


def dev(a):
    return cuda_k.to_device(np.ascontiguousarray(a))


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(cuda_k.to_host(a), b, rtol=rtol, atol=atol)


def test_elementwise_and_block_reductions(rng):
    n = 2 * 256 + 77  # 3 blocks of 256 threads, a ragged last block
    p, g = rnd(rng, n), rnd(rng, n)
    m, s = np.abs(rnd(rng, n)), np.abs(rnd(rng, n))
    host = [p.copy(), g.copy(), m.copy(), s.copy()]
    cpu.adam_update(*host, 0.01, 0.9, 0.999, 1e-8)
    devs = [dev(a) for a in (p, g, m, s)]
    cuda_k.adam_update(*devs, 0.01, 0.9, 0.999, 1e-8)
    for d, h in zip(devs, host):
        close(d, h)
    # 3-block tree reduction + the one-block second pass
    np.testing.assert_allclose(cuda_k.global_norm(dev(g)), cpu.global_norm(g), rtol=1e-6)
    assert cuda_k.all_finite(dev(g))


def test_losses_reduce_over_blocks(rng):
    n, k = 300, 3  # row kernel and the sample-weight/loss reductions on 2 blocks
    z = rnd(rng, n, k, scale=2.0)
    y = np.eye(k, dtype=F32)[rng.integers(0, k, n)]
    sw = rng.random(n).astype(F32) + 0.5
    d_c = np.empty_like(z)
    loss_c = cpu.softmax_cross_entropy(z, y, sw, d_c)
    d_g = cuda_k.empty(z.shape, F32)
    loss_g = cuda_k.softmax_cross_entropy(dev(z), dev(y), dev(sw), d_g)
    np.testing.assert_allclose(loss_g, loss_c, rtol=1e-5)
    close(d_g, d_c)


@pytest.mark.parametrize("kind", [1, 3])
def test_dense_tiles_and_column_sums(rng, kind):
    # 16x16 tiles with ragged edges: forward 3 x 1 blocks, dW 1 x 2 blocks over 3
    # k-tiles, dX 3 x 2 blocks; the bias gradient's column sums: 256-thread trees
    check_dense(rng, kind, B=33, I=20, O=5, w_scale=0.3, atol=1e-4)


def test_conv_and_pool(rng):
    B, H, W, C, F, KH, KW = 2, 9, 8, 2, 3, 3, 3
    x, w, b = rnd(rng, B, H, W, C), rnd(rng, F, C, KH, KW), rnd(rng, F)
    Ho, Wo = H - KH + 1, W - KW + 1
    y_c = np.empty((B, Ho, Wo, F), F32)
    cpu_conv.conv2d_forward(x, w, b, 1, 1, 0, 0, 3, y_c)
    y_g = cuda_k.empty(y_c.shape, F32)
    cuda_k.conv2d_forward(dev(x), dev(w), dev(b), 1, 1, 0, 0, 3, y_g)
    close(y_g, y_c)
    dy = rnd(rng, *y_c.shape)
    res_c = [np.empty_like(x), np.empty_like(w), np.empty_like(b)]
    cpu_conv.conv2d_backward(x, w, y_c, dy, 1, 1, 0, 0, 3, True, *res_c)
    res_g = [cuda_k.empty(x.shape, F32), cuda_k.empty(w.shape, F32), cuda_k.empty(b.shape, F32)]
    cuda_k.conv2d_backward(dev(x), dev(w), dev(y_c), dev(dy), 1, 1, 0, 0, 3, True, *res_g)
    for g_, c_ in zip(res_g, res_c):
        close(g_, c_, atol=1e-4)
    Po, Qo = Ho // 2, Wo // 2
    p_c, a_c = np.empty((B, Po, Qo, F), F32), np.empty((B, Po, Qo, F), np.int64)
    cpu_pool.maxpool2d_forward(y_c, 2, 2, 2, 2, p_c, a_c)
    p_g, a_g = cuda_k.empty(p_c.shape, F32), cuda_k.empty(p_c.shape, np.int64)
    cuda_k.maxpool2d_forward(dev(y_c), 2, 2, 2, 2, p_g, a_g)
    close(p_g, p_c)
    np.testing.assert_array_equal(cuda_k.to_host(a_g), a_c)


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_recurrent(rng, cell):
    B, T, F, H = 3, 3, 4, 6
    G = 4 if cell == "lstm" else 3
    lengths = np.array([3, 1, 2], dtype=np.int64)
    x = rnd(rng, B, T, F)
    w = [rnd(rng, G * H, F, scale=0.5), rnd(rng, G * H, H, scale=0.5),
         rnd(rng, G * H, scale=0.1), rnd(rng, G * H, scale=0.1)]
    h0 = np.zeros((B, H), F32)
    h_c, cache_c = cpu_rec.recurrent_forward(cell, x, lengths, *w, h0, h0, False, 0)
    h_g, cache_g = cuda_k.recurrent_forward(cell, dev(x), lengths, *[dev(a) for a in w],
                                            dev(h0), dev(h0), False, 0)
    close(h_g, h_c)
    dh = rnd(rng, B, T, H)
    res_c = cpu_rec.recurrent_backward(cell, dh, x, lengths, w[0], w[1], cache_c, False, 0,
                                       True, 0)
    res_g = cuda_k.recurrent_backward(cell, dev(dh), dev(x), lengths, dev(w[0]), dev(w[1]),
                                      cache_g, False, 0, True, 0)
    for g_, c_ in zip(res_g, res_c):
        close(g_, c_, atol=1e-4)
    pooled_c = cpu_rec.seqpool_mean_forward(h_c, lengths)
    close(cuda_k.seqpool_mean_forward(h_g, lengths), pooled_c)
