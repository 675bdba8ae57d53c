"""Convolution and max-pooling kernels against NumPy references and finite differences."""

import numpy as np
import pytest

from seqnet.kernels.cpu import conv, pool
from seqnet.kernels.cpu.activations import ACTIVATION_CODES
from tests.reference import numerical_gradient, relative_error

try:
    from tests import reference_conv as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_conv as ref

KINDS = sorted(ACTIVATION_CODES.values())
# Smooth activations only for finite differences (relu's kink breaks them).
SMOOTH = [ACTIVATION_CODES[k] for k in ("identity", "tanh", "logistic", "lecun_tanh")]


def geometry(n, k, s, padding):
    """(out, pad_before) for 'same', 'valid' or int padding (sizes chosen to be valid)."""
    if padding == "same":
        return ref.same_padding(n, k, s)
    p = 0 if padding == "valid" else padding
    assert (n - k + 2 * p) % s == 0
    return (n - k + 2 * p) // s + 1, p


# Input sizes that give an integer output size for every (stride, padding) below.
CASES_2D = [  # (stride_h, stride_w, padding, H, W, KH, KW)
    (1, 1, "same", 5, 6, 3, 2),
    (1, 1, "valid", 5, 6, 3, 2),
    (1, 1, 1, 5, 6, 3, 3),
    (2, 2, "same", 6, 5, 3, 3),
    (2, 2, "same", 5, 4, 2, 2),
    (2, 1, "valid", 7, 6, 3, 2),
    (2, 2, 1, 7, 5, 3, 3),
]
CASES_1D = [  # (stride, padding, T, K)
    (1, "same", 7, 3),
    (1, "same", 6, 4),
    (1, "valid", 7, 3),
    (1, 2, 6, 3),
    (2, "same", 7, 3),
    (2, "same", 8, 2),
    (2, "valid", 9, 3),
    (2, 1, 7, 3),
]


def run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo):
    y = np.empty((x.shape[0], Ho, Wo, w.shape[0]), dtype=x.dtype)
    conv.conv2d_forward(x, w, b, sh, sw, ph, pw, kind, y)
    return y


def run_conv1d(x, w, b, s, p, kind, To):
    y = np.empty((x.shape[0], To, w.shape[0]), dtype=x.dtype)
    conv.conv1d_forward(x, w, b, s, p, kind, y)
    return y


def make_conv2d(rng, case, B=2, C=2, F=3):
    sh, sw, padding, H, W, KH, KW = case
    Ho, ph = geometry(H, KH, sh, padding)
    Wo, pw = geometry(W, KW, sw, padding)
    x = rng.standard_normal((B, H, W, C))
    w = rng.standard_normal((F, C, KH, KW)) * 0.5
    b = rng.standard_normal(F) * 0.5
    return x, w, b, sh, sw, ph, pw, Ho, Wo


def make_conv1d(rng, case, B=2, C=2, F=3):
    s, padding, T, K = case
    To, p = geometry(T, K, s, padding)
    x = rng.standard_normal((B, T, C))
    w = rng.standard_normal((F, C, K)) * 0.5
    b = rng.standard_normal(F) * 0.5
    return x, w, b, s, p, To


@pytest.mark.parametrize("case", CASES_2D)
def test_conv2d_matches_reference(case):
    rng = np.random.default_rng(0)
    x, w, b, sh, sw, ph, pw, Ho, Wo = make_conv2d(rng, case)
    for kind in KINDS:
        y = run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
        expected = ref.conv2d_forward(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
        np.testing.assert_allclose(y, expected, rtol=1e-12, atol=1e-12)

        dy = rng.standard_normal(y.shape)
        dx, dw, db = np.empty_like(x), np.full_like(w, np.nan), np.full_like(b, np.nan)
        conv.conv2d_backward(x, w, y, dy, sh, sw, ph, pw, kind, True, dx, dw, db)
        rdx, rdw, rdb = ref.conv2d_backward(x, w, b, dy, sh, sw, ph, pw, kind)
        np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dw, rdw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, rdb, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("case", CASES_1D)
def test_conv1d_matches_reference(case):
    rng = np.random.default_rng(1)
    x, w, b, s, p, To = make_conv1d(rng, case)
    for kind in KINDS:
        y = run_conv1d(x, w, b, s, p, kind, To)
        np.testing.assert_allclose(y, ref.conv1d_forward(x, w, b, s, p, kind, To),
                                   rtol=1e-12, atol=1e-12)
        dy = rng.standard_normal(y.shape)
        dx, dw, db = np.empty_like(x), np.full_like(w, np.nan), np.full_like(b, np.nan)
        conv.conv1d_backward(x, w, y, dy, s, p, kind, True, dx, dw, db)
        rdx, rdw, rdb = ref.conv1d_backward(x, w, b, dy, s, p, kind)
        np.testing.assert_allclose(dx, rdx, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dw, rdw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(db, rdb, rtol=1e-10, atol=1e-12)


def test_conv_backward_without_input_grad():
    rng = np.random.default_rng(2)
    x, w, b, sh, sw, ph, pw, Ho, Wo = make_conv2d(rng, CASES_2D[0])
    kind = ACTIVATION_CODES["tanh"]
    y = run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
    dy = rng.standard_normal(y.shape)
    dw, db = np.empty_like(w), np.empty_like(b)
    conv.conv2d_backward(x, w, y, dy, sh, sw, ph, pw, kind, False,
                         np.empty((0, 0, 0, 0)), dw, db)
    _, rdw, rdb = ref.conv2d_backward(x, w, b, dy, sh, sw, ph, pw, kind)
    np.testing.assert_allclose(dw, rdw, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, rdb, rtol=1e-10, atol=1e-12)

    x1, w1, b1, s, p, To = make_conv1d(rng, CASES_1D[4])
    y1 = run_conv1d(x1, w1, b1, s, p, kind, To)
    dy1 = rng.standard_normal(y1.shape)
    dw1, db1 = np.empty_like(w1), np.empty_like(b1)
    conv.conv1d_backward(x1, w1, y1, dy1, s, p, kind, False, np.empty((0, 0, 0)), dw1, db1)
    _, rdw1, rdb1 = ref.conv1d_backward(x1, w1, b1, dy1, s, p, kind)
    np.testing.assert_allclose(dw1, rdw1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db1, rdb1, rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------- finite differences

def assert_rel_close(analytic, numeric, tol=1e-6):
    scale = max(np.abs(numeric).max(), np.abs(analytic).max(), 1e-12)
    err = np.abs(analytic - numeric).max() / scale
    assert err < tol, f"relative error {err:.2e}"


@pytest.mark.parametrize("i", [0, 1, 2, 3, 6])
def test_conv2d_finite_differences(i):
    case = CASES_2D[i]
    rng = np.random.default_rng(3)
    x, w, b, sh, sw, ph, pw, Ho, Wo = make_conv2d(rng, case, B=2, C=2, F=2)
    kind = SMOOTH[i % len(SMOOTH)]
    r = rng.standard_normal((x.shape[0], Ho, Wo, w.shape[0]))

    def loss():
        return float(np.sum(r * run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)))

    y = run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    conv.conv2d_backward(x, w, y, r, sh, sw, ph, pw, kind, True, dx, dw, db)
    assert_rel_close(dx, numerical_gradient(loss, x))
    assert_rel_close(dw, numerical_gradient(loss, w))
    assert_rel_close(db, numerical_gradient(loss, b))


@pytest.mark.parametrize("i", [0, 2, 3, 4, 6, 7])
def test_conv1d_finite_differences(i):
    case = CASES_1D[i]
    rng = np.random.default_rng(4)
    x, w, b, s, p, To = make_conv1d(rng, case)
    kind = SMOOTH[i % len(SMOOTH)]
    r = rng.standard_normal((x.shape[0], To, w.shape[0]))

    def loss():
        return float(np.sum(r * run_conv1d(x, w, b, s, p, kind, To)))

    y = run_conv1d(x, w, b, s, p, kind, To)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
    conv.conv1d_backward(x, w, y, r, s, p, kind, True, dx, dw, db)
    assert_rel_close(dx, numerical_gradient(loss, x))
    assert_rel_close(dw, numerical_gradient(loss, w))
    assert_rel_close(db, numerical_gradient(loss, b))


# ---------------------------------------------------------------- pooling

POOL_2D = [(2, 2, 2, 2), (3, 2, 2, 1), (2, 3, 1, 2), (3, 3, 3, 3)]  # ph, pw, sh, sw
POOL_1D = [(2, 2), (3, 2), (2, 1), (3, 3)]


def no_tie_input(rng, shape):
    """Distinct values (a permutation), so the argmax is unique."""
    return rng.permutation(np.prod(shape)).reshape(shape).astype(np.float64) / 7.0


def run_pool2d(x, ph, pw, sh, sw):
    B, H, W, C = x.shape
    shape = (B, (H - ph) // sh + 1, (W - pw) // sw + 1, C)
    y, am = np.empty(shape), np.empty(shape, dtype=np.int64)
    pool.maxpool2d_forward(x, ph, pw, sh, sw, y, am)
    return y, am


def run_pool1d(x, p, s):
    B, T, C = x.shape
    shape = (B, (T - p) // s + 1, C)
    y, am = np.empty(shape), np.empty(shape, dtype=np.int64)
    pool.maxpool1d_forward(x, p, s, y, am)
    return y, am


@pytest.mark.parametrize("params", POOL_2D)
def test_maxpool2d_matches_reference(params):
    rng = np.random.default_rng(5)
    x = rng.standard_normal((2, 7, 8, 3))
    x[0, :2, :2, 0] = 1.5  # a tie: the first maximum gets the gradient
    y, am = run_pool2d(x, *params)
    np.testing.assert_array_equal(y, ref.maxpool2d_forward(x, *params))
    dy = rng.standard_normal(y.shape)
    dx = np.full_like(x, np.nan)
    pool.maxpool2d_backward(dy, am, dx)
    np.testing.assert_allclose(dx, ref.maxpool2d_backward(x, dy, *params), rtol=0, atol=1e-15)


@pytest.mark.parametrize("params", POOL_1D)
def test_maxpool1d_matches_reference(params):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 9, 3))
    x[1, 3:6, 2] = 2.5
    y, am = run_pool1d(x, *params)
    np.testing.assert_array_equal(y, ref.maxpool1d_forward(x, *params))
    dy = rng.standard_normal(y.shape)
    dx = np.full_like(x, np.nan)
    pool.maxpool1d_backward(dy, am, dx)
    np.testing.assert_allclose(dx, ref.maxpool1d_backward(x, dy, *params), rtol=0, atol=1e-15)


def test_maxpool_propagates_nan():
    x = np.zeros((1, 2, 2, 1))
    x[0, 1, 0, 0] = np.nan
    y, _ = run_pool2d(x, 2, 2, 2, 2)
    assert np.isnan(y[0, 0, 0, 0])


@pytest.mark.parametrize("params", [POOL_2D[0], POOL_2D[1]])
def test_maxpool2d_finite_differences(params):
    rng = np.random.default_rng(7)
    x = no_tie_input(rng, (2, 5, 6, 2))
    y, am = run_pool2d(x, *params)
    r = rng.standard_normal(y.shape)
    dx = np.empty_like(x)
    pool.maxpool2d_backward(r, am, dx)
    num = numerical_gradient(lambda: float(np.sum(r * run_pool2d(x, *params)[0])), x, h=1e-4)
    assert_rel_close(dx, num)


@pytest.mark.parametrize("params", [POOL_1D[1], POOL_1D[2]])
def test_maxpool1d_finite_differences(params):
    rng = np.random.default_rng(8)
    x = no_tie_input(rng, (2, 7, 2))
    y, am = run_pool1d(x, *params)
    r = rng.standard_normal(y.shape)
    dx = np.empty_like(x)
    pool.maxpool1d_backward(r, am, dx)
    num = numerical_gradient(lambda: float(np.sum(r * run_pool1d(x, *params)[0])), x, h=1e-4)
    assert_rel_close(dx, num)


# ---------------------------------------------------------------- determinism, threads

def test_conv_gradients_bitwise_deterministic():
    rng = np.random.default_rng(9)
    x, w, b, sh, sw, ph, pw, Ho, Wo = make_conv2d(rng, CASES_2D[3], B=13, C=3, F=4)
    kind = ACTIVATION_CODES["relu"]
    y = run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
    dy = rng.standard_normal(y.shape)
    results = []
    for _ in range(2):
        dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
        conv.conv2d_backward(x, w, y, dy, sh, sw, ph, pw, kind, True, dx, dw, db)
        results.append((dx, dw, db))
    for a, c in zip(*results):
        assert a.tobytes() == c.tobytes()


def test_conv_gradients_independent_of_blas_threads_up_to_rounding():
    threadpoolctl = pytest.importorskip("threadpoolctl")
    rng = np.random.default_rng(10)
    x, w, b, s, p, To = make_conv1d(rng, CASES_1D[0], B=9)
    kind = ACTIVATION_CODES["tanh"]
    y = run_conv1d(x, w, b, s, p, kind, To)
    dy = rng.standard_normal(y.shape)
    out = []
    for n in (1, 2):
        with threadpoolctl.threadpool_limits(limits=n, user_api="blas"):
            dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)
            conv.conv1d_backward(x, w, y, dy, s, p, kind, True, dx, dw, db)
            out.append((dx, dw, db))
    for a, c in zip(out[0], out[-1]):
        np.testing.assert_allclose(a, c, rtol=1e-12, atol=1e-12)


def test_float32_kernels_close_to_float64():
    rng = np.random.default_rng(11)
    x, w, b, sh, sw, ph, pw, Ho, Wo = make_conv2d(rng, CASES_2D[0], B=3)
    kind = ACTIVATION_CODES["relu"]
    y64 = run_conv2d(x, w, b, sh, sw, ph, pw, kind, Ho, Wo)
    x32, w32, b32 = (a.astype(np.float32) for a in (x, w, b))
    y32 = run_conv2d(x32, w32, b32, sh, sw, ph, pw, kind, Ho, Wo)
    assert y32.dtype == np.float32
    np.testing.assert_allclose(y32, y64, rtol=1e-4, atol=1e-5)
    dy = rng.standard_normal(y64.shape)
    g64 = [np.empty_like(x), np.empty_like(w), np.empty_like(b)]
    g32 = [np.empty_like(x32), np.empty_like(w32), np.empty_like(b32)]
    conv.conv2d_backward(x, w, y64, dy, sh, sw, ph, pw, kind, True, *g64)
    conv.conv2d_backward(x32, w32, y32, dy.astype(np.float32), sh, sw, ph, pw, kind, True, *g32)
    for a, c in zip(g32, g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, c, rtol=1e-3, atol=1e-4)
