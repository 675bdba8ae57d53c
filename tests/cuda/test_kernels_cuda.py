"""Every CUDA kernel equals its CPU twin on fresh random float32 inputs (tiny shapes)."""

import numpy as np
import pytest

from seqnet.kernels import cpu
from seqnet.kernels.cpu import conv as cpu_conv
from seqnet.kernels.cpu import pool as cpu_pool
from seqnet.kernels.cpu import recurrent as cpu_rec

cuda_k = pytest.importorskip("seqnet.kernels.cuda")

try:
    from tests import reference_recurrent as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_recurrent as ref

RTOL, ATOL = 1e-4, 1e-6
F32 = np.float32


def rnd(rng, *shape, scale=1.0):
    return (scale * rng.standard_normal(shape)).astype(F32)


def dev(a):
    return cuda_k.to_device(np.ascontiguousarray(a))


def host(a):
    return cuda_k.to_host(a)


def close(a, b, rtol=RTOL, atol=ATOL):
    np.testing.assert_allclose(host(a), b, rtol=rtol, atol=atol)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_matmul_transposes(rng, ta, tb):
    M, N, K = 5, 7, 6
    a = rnd(rng, K, M) if ta else rnd(rng, M, K)
    b = rnd(rng, N, K) if tb else rnd(rng, K, N)
    c = cuda_k.empty((M, N), F32)
    cuda_k.matmul(dev(a), dev(b), c, ta, tb)
    close(c, (a.T if ta else a) @ (b.T if tb else b))
    c0 = rnd(rng, M, N)
    c = dev(c0)
    cuda_k.matmul(dev(a), dev(b), c, ta, tb, accumulate=True)
    close(c, (a.T if ta else a) @ (b.T if tb else b) + c0)


def check_dense(rng, kind, B, I, O, w_scale=1.0, atol=ATOL):
    """dense_forward / dense_backward on CUDA equal the CPU's; returns d_a."""
    x, w, b = rnd(rng, B, I), rnd(rng, O, I, scale=w_scale), rnd(rng, O)
    out_c = np.empty((B, O), F32)
    cpu.dense_forward(x, w, b, kind, out_c)
    out_g = cuda_k.empty((B, O), F32)
    cuda_k.dense_forward(dev(x), dev(w), dev(b), kind, out_g)
    close(out_g, out_c, atol=atol)
    d_a = rnd(rng, B, O)
    res_c = [np.empty((O, I), F32), np.empty(O, F32), np.empty((B, I), F32)]
    cpu.dense_backward(x, w, out_c, d_a.copy(), kind, *res_c, True)
    res_g = [cuda_k.empty((O, I), F32), cuda_k.empty(O, F32), cuda_k.empty((B, I), F32)]
    cuda_k.dense_backward(dev(x), dev(w), dev(out_c), dev(d_a), kind, *res_g, True)
    for g, c in zip(res_g, res_c):
        close(g, c, atol=atol)
    return d_a


@pytest.mark.parametrize("kind", [0, 1, 2, 3, 4, 5])
def test_dense_and_activations(rng, kind):
    B, I, O = 3, 4, 5
    d_a = check_dense(rng, kind, B, I, O)
    z = rnd(rng, B, O)
    a_c = np.empty_like(z)
    cpu.activation_forward(z, kind, a_c)
    a_g = cuda_k.empty(z.shape, F32)
    cuda_k.activation_forward(dev(z), kind, a_g)
    close(a_g, a_c)
    dz_c = np.empty_like(z)
    cpu.activation_backward(a_c, d_a, kind, dz_c)
    dz_g = cuda_k.empty(z.shape, F32)
    cuda_k.activation_backward(dev(a_c), dev(d_a), kind, dz_g)
    close(dz_g, dz_c)


def test_dropout(rng):
    x, u = rnd(rng, 10), rng.random(10).astype(F32)
    out_c, mask_c = np.empty(10, F32), np.empty(10, F32)
    cpu.dropout_forward(x, u, 0.3, out_c, mask_c)
    out_g, mask_g = cuda_k.empty(10, F32), cuda_k.empty(10, F32)
    cuda_k.dropout_forward(dev(x), dev(u), 0.3, out_g, mask_g)
    close(out_g, out_c)
    close(mask_g, mask_c)
    d = rnd(rng, 10)
    dx_c = np.empty(10, F32)
    cpu.dropout_backward(d, mask_c, dx_c)
    dx_g = cuda_k.empty(10, F32)
    cuda_k.dropout_backward(dev(d), dev(mask_c), dx_g)
    close(dx_g, dx_c)


@pytest.mark.parametrize("name", ["softmax_cross_entropy", "sigmoid_cross_entropy",
                                  "squared_error", "poisson_deviance"])
def test_losses(rng, name):
    n, k = 5, 3
    z = rnd(rng, n, k, scale=2.0)
    if name == "softmax_cross_entropy":
        y = np.eye(k, dtype=F32)[rng.integers(0, k, n)]
    elif name == "sigmoid_cross_entropy":
        y = (rng.random((n, k)) > 0.5).astype(F32)
    elif name == "poisson_deviance":
        y = rng.poisson(2.0, (n, k)).astype(F32)
    else:
        y = rnd(rng, n, k)
    sw = rng.random(n).astype(F32) + 0.5
    d_c = np.empty_like(z)
    loss_c = getattr(cpu, name)(z, y, sw, d_c)
    d_g = cuda_k.empty(z.shape, F32)
    loss_g = getattr(cuda_k, name)(dev(z), dev(y), dev(sw), d_g)
    assert isinstance(loss_g, float)
    np.testing.assert_allclose(loss_g, loss_c, rtol=RTOL)
    close(d_g, d_c)


def _state(rng, n):
    return rnd(rng, n), rnd(rng, n), np.abs(rnd(rng, n)), np.abs(rnd(rng, n))


@pytest.mark.parametrize("solver", ["sgd", "sgd_nesterov", "adam", "rmsprop", "adagrad",
                                    "adadelta"])
def test_optimizer_updates(rng, solver):
    n = 13
    p, g, s1, s2 = _state(rng, n)
    calls = {
        "sgd": ("sgd_update", (0, 2), (0.1, 0.9, False)),
        "sgd_nesterov": ("sgd_update", (0, 2), (0.1, 0.9, True)),
        "adam": ("adam_update", (0, 2, 3), (0.01, 0.9, 0.999, 1e-8)),
        "rmsprop": ("rmsprop_update", (0, 3), (0.01, 0.9, 1e-8)),
        "adagrad": ("adagrad_update", (0, 3), (0.01, 1e-8)),
        "adadelta": ("adadelta_update", (0, 3, 2), (1.0, 0.95, 1e-6)),
    }
    name, _, scalars = calls[solver]
    arrays = {"sgd_update": [p, g, s1], "adam_update": [p, g, s1, s2],
              "rmsprop_update": [p, g, s2], "adagrad_update": [p, g, s2],
              "adadelta_update": [p, g, s2, np.abs(s1)]}[name]
    host_arrays = [a.copy() for a in arrays]
    getattr(cpu, name)(*host_arrays, *scalars)
    dev_arrays = [dev(a) for a in arrays]
    getattr(cuda_k, name)(*dev_arrays, *scalars)
    for d, h in zip(dev_arrays, host_arrays):
        close(d, h)


@pytest.mark.parametrize("l1_ratio", [0.0, 0.5])
def test_elastic_net_norm_scale(rng, l1_ratio):
    n = 17
    p, g = rnd(rng, n), rnd(rng, n)
    mask = (rng.random(n) > 0.3).astype(np.uint8)
    g_c = g.copy()
    pen_c = cpu.add_elastic_net(p, g_c, mask, 0.01, l1_ratio)
    g_g = dev(g)
    pen_g = cuda_k.add_elastic_net(dev(p), g_g, dev(mask), 0.01, l1_ratio)
    np.testing.assert_allclose(pen_g, pen_c, rtol=RTOL)
    close(g_g, g_c)
    np.testing.assert_allclose(cuda_k.global_norm(dev(g)), cpu.global_norm(g), rtol=RTOL)
    s_c = g.copy()
    cpu.scale_inplace(s_c, 0.37)
    s_g = dev(g)
    cuda_k.scale_inplace(s_g, 0.37)
    close(s_g, s_c)
    assert cuda_k.all_finite(dev(g))
    g[3] = np.nan
    assert not cuda_k.all_finite(dev(g))


@pytest.mark.parametrize("stride,pad,kind", [((1, 1), (0, 0), 3), ((2, 1), (1, 1), 2)])
def test_conv2d(rng, stride, pad, kind):
    B, H, W, C, F, KH, KW = 2, 5, 4, 2, 3, 3, 2
    x, w, b = rnd(rng, B, H, W, C), rnd(rng, F, C, KH, KW), rnd(rng, F)
    Ho = (H + 2 * pad[0] - KH) // stride[0] + 1
    Wo = (W + 2 * pad[1] - KW) // stride[1] + 1
    y_c = np.empty((B, Ho, Wo, F), F32)
    cpu_conv.conv2d_forward(x, w, b, *stride, *pad, kind, y_c)
    y_g = cuda_k.empty(y_c.shape, F32)
    cuda_k.conv2d_forward(dev(x), dev(w), dev(b), *stride, *pad, kind, y_g)
    close(y_g, y_c)
    dy = rnd(rng, *y_c.shape)
    dx_c, dw_c, db_c = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    cpu_conv.conv2d_backward(x, w, y_c, dy, *stride, *pad, kind, True, dx_c, dw_c, db_c)
    dx_g, dw_g, db_g = (cuda_k.empty(a.shape, F32) for a in (x, w, b))
    cuda_k.conv2d_backward(dev(x), dev(w), dev(y_c), dev(dy), *stride, *pad, kind, True,
                           dx_g, dw_g, db_g)
    for g, c in ((dx_g, dx_c), (dw_g, dw_c), (db_g, db_c)):
        close(g, c, atol=1e-5)


def test_conv1d(rng):
    B, T, C, F, K, stride, pad = 3, 6, 2, 3, 3, 1, 1
    x, w, b = rnd(rng, B, T, C), rnd(rng, F, C, K), rnd(rng, F)
    To = (T + 2 * pad - K) // stride + 1
    y_c = np.empty((B, To, F), F32)
    cpu_conv.conv1d_forward(x, w, b, stride, pad, 3, y_c)
    y_g = cuda_k.empty(y_c.shape, F32)
    cuda_k.conv1d_forward(dev(x), dev(w), dev(b), stride, pad, 3, y_g)
    close(y_g, y_c)
    dy = rnd(rng, *y_c.shape)
    dx_c, dw_c, db_c = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    cpu_conv.conv1d_backward(x, w, y_c, dy, stride, pad, 3, True, dx_c, dw_c, db_c)
    dx_g, dw_g, db_g = (cuda_k.empty(a.shape, F32) for a in (x, w, b))
    cuda_k.conv1d_backward(dev(x), dev(w), dev(y_c), dev(dy), stride, pad, 3, True,
                           dx_g, dw_g, db_g)
    for g, c in ((dx_g, dx_c), (dw_g, dw_c), (db_g, db_c)):
        close(g, c, atol=1e-5)


@pytest.mark.parametrize("pool,stride", [((2, 2), (2, 2)), ((2, 2), (1, 1))])
def test_maxpool2d(rng, pool, stride):
    B, H, W, C = 2, 4, 5, 2
    x = rnd(rng, B, H, W, C)
    Ho, Wo = (H - pool[0]) // stride[0] + 1, (W - pool[1]) // stride[1] + 1
    y_c, a_c = np.empty((B, Ho, Wo, C), F32), np.empty((B, Ho, Wo, C), np.int64)
    cpu_pool.maxpool2d_forward(x, *pool, *stride, y_c, a_c)
    y_g, a_g = cuda_k.empty(y_c.shape, F32), cuda_k.empty(y_c.shape, np.int64)
    cuda_k.maxpool2d_forward(dev(x), *pool, *stride, y_g, a_g)
    close(y_g, y_c)
    np.testing.assert_array_equal(host(a_g), a_c)
    dy = rnd(rng, *y_c.shape)
    dx_c = np.empty_like(x)
    cpu_pool.maxpool2d_backward(dy, a_c, dx_c)
    dx_g = cuda_k.empty(x.shape, F32)
    cuda_k.maxpool2d_backward(dev(dy), dev(a_c), dx_g)
    close(dx_g, dx_c)


def test_maxpool1d(rng):
    B, T, C = 2, 7, 3
    x = rnd(rng, B, T, C)
    To = (T - 2) // 2 + 1
    y_c, a_c = np.empty((B, To, C), F32), np.empty((B, To, C), np.int64)
    cpu_pool.maxpool1d_forward(x, 2, 2, y_c, a_c)
    y_g, a_g = cuda_k.empty(y_c.shape, F32), cuda_k.empty(y_c.shape, np.int64)
    cuda_k.maxpool1d_forward(dev(x), 2, 2, y_g, a_g)
    close(y_g, y_c)
    np.testing.assert_array_equal(host(a_g), a_c)
    dy = rnd(rng, *y_c.shape)
    dx_c = np.empty_like(x)
    cpu_pool.maxpool1d_backward(dy, a_c, dx_c)
    dx_g = cuda_k.empty(x.shape, F32)
    cuda_k.maxpool1d_backward(dev(dy), dev(a_c), dx_g)
    close(dx_g, dx_c)


B_, T_, F_, H_ = 3, 4, 2, 3
LENGTHS = np.array([4, 2, 3], dtype=np.int64)


def _rec_inputs(rng, gates):
    x = rnd(rng, B_, T_, F_)
    x[1, 2:] = 0.0
    x[2, 3:] = 0.0
    w = [rnd(rng, gates * H_, F_, scale=0.5), rnd(rng, gates * H_, H_, scale=0.5),
         rnd(rng, gates * H_, scale=0.1), rnd(rng, gates * H_, scale=0.1)]
    return x, w, np.zeros((B_, H_), F32)


def _check_grads(res_g, res_c):
    for g, c in zip(res_g, res_c):
        close(g, c, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("reverse,bptt", [(False, 0), (True, 2)])
@pytest.mark.parametrize("kind", [2, 3])
def test_rnn(rng, reverse, bptt, kind):
    x, w, h0 = _rec_inputs(rng, 1)
    h_c, cache_c = cpu_rec.recurrent_forward("rnn", x, LENGTHS, *w, h0, None, reverse, kind)
    h_g, cache_g = cuda_k.recurrent_forward("rnn", dev(x), LENGTHS, *[dev(a) for a in w],
                                            dev(h0), None, reverse, kind)
    close(h_g, h_c, atol=1e-5)
    dh = rnd(rng, B_, T_, H_)
    # each backend's backward reads its own forward cache (the layouts differ)
    res_c = cpu_rec.recurrent_backward("rnn", dh, x, LENGTHS, w[0], w[1], cache_c, reverse,
                                       bptt, True, kind)
    res_g = cuda_k.recurrent_backward("rnn", dev(dh), dev(x), LENGTHS, dev(w[0]), dev(w[1]),
                                      cache_g, reverse, bptt, True, kind)
    _check_grads(res_g, res_c)


@pytest.mark.parametrize("reverse,bptt", [(False, 0), (True, 2)])
def test_lstm(rng, reverse, bptt):
    x, w, h0 = _rec_inputs(rng, 4)
    h_c, cache_c = cpu_rec.recurrent_forward("lstm", x, LENGTHS, *w, h0, h0, reverse, 0)
    h_g, cache_g = cuda_k.recurrent_forward("lstm", dev(x), LENGTHS, *[dev(a) for a in w],
                                            dev(h0), dev(h0), reverse, 0)
    close(h_g, h_c, atol=1e-5)
    c_ref = ref.run_direction("lstm", x, LENGTHS, *w, reverse, return_cell=True)[1]
    close(cache_g[3][0], c_ref, atol=1e-5)  # CUDA cell states, (B, T, H) time layout
    dh = rnd(rng, B_, T_, H_)
    res_c = cpu_rec.recurrent_backward("lstm", dh, x, LENGTHS, w[0], w[1], cache_c,
                                       reverse, bptt, True, 0)
    res_g = cuda_k.recurrent_backward("lstm", dev(dh), dev(x), LENGTHS, dev(w[0]), dev(w[1]),
                                      cache_g, reverse, bptt, True, 0)
    _check_grads(res_g, res_c)


@pytest.mark.parametrize("reverse,bptt", [(False, 0), (True, 2)])
def test_gru(rng, reverse, bptt):
    x, w, h0 = _rec_inputs(rng, 3)
    h_c, cache_c = cpu_rec.recurrent_forward("gru", x, LENGTHS, *w, h0, None, reverse, 0)
    h_g, cache_g = cuda_k.recurrent_forward("gru", dev(x), LENGTHS, *[dev(a) for a in w],
                                            dev(h0), None, reverse, 0)
    close(h_g, h_c, atol=1e-5)
    dh = rnd(rng, B_, T_, H_)
    res_c = cpu_rec.recurrent_backward("gru", dh, x, LENGTHS, w[0], w[1], cache_c,
                                       reverse, bptt, True, 0)
    res_g = cuda_k.recurrent_backward("gru", dev(dh), dev(x), LENGTHS, dev(w[0]), dev(w[1]),
                                      cache_g, reverse, bptt, True, 0)
    _check_grads(res_g, res_c)


def test_sequence_pooling(rng):
    lengths = np.array([4, 0, 2], dtype=np.int64)
    y = rnd(rng, 3, 4, 6)
    out_c = cpu_rec.seqpool_last_forward(y, lengths, 2)
    close(cuda_k.seqpool_last_forward(dev(y), lengths, 2), out_c)
    d = rnd(rng, 3, 6)
    close(cuda_k.seqpool_last_backward(dev(d), lengths, 2, 4),
          cpu_rec.seqpool_last_backward(d, lengths, 2, 4))
    close(cuda_k.seqpool_mean_forward(dev(y), lengths),
          cpu_rec.seqpool_mean_forward(y, lengths))
    close(cuda_k.seqpool_mean_backward(dev(d), lengths, 4),
          cpu_rec.seqpool_mean_backward(d, lengths, 4))
    o_c, a_c = cpu_rec.seqpool_max_forward(y, lengths)
    o_g, a_g = cuda_k.seqpool_max_forward(dev(y), lengths)
    close(o_g, o_c)
    np.testing.assert_array_equal(host(a_g), a_c)
    close(cuda_k.seqpool_max_backward(dev(d), a_g, 4),
          cpu_rec.seqpool_max_backward(d, a_c, 4))


def test_array_api(rng):
    a = rnd(rng, 2, 3, 4)
    b = rnd(rng, 2, 3, 2)
    close(cuda_k.concat_last(dev(a), dev(b)), np.concatenate((a, b), axis=-1))
    close(cuda_k.slice_last(dev(a), 1, 3), a[..., 1:3])
    close(cuda_k.add(dev(a), dev(a)), a + a)
    close(cuda_k.zeros((2, 3), F32), np.zeros((2, 3)))
    c = cuda_k.copy(dev(a))
    close(c, a)
    out = np.empty_like(a)
    cuda_k.to_host(dev(a), out=out)
    np.testing.assert_array_equal(out, a)
