"""Dense, activation, loss and dropout kernels against NumPy references and
central finite differences (float64)."""

import numpy as np
import pytest

from seqnet.kernels import cpu as K
from seqnet.kernels.cpu.activations import ACTIVATION_CODES, IDENTITY

from tests import reference as ref

KINDS = sorted(ACTIVATION_CODES.items(), key=lambda kv: kv[1])
KIND_IDS = [name for name, _ in KINDS]
KIND_CODES = [code for _, code in KINDS]
DTYPES = [np.float64, np.float32]
TOL = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-6)}
FD_TOL = 1e-6
B, I, O = 5, 4, 3


def test_activation_codes_match_reference():
    assert ACTIVATION_CODES == ref.ACTIVATIONS


def _away_from_kink(rng, shape, margin=1e-2):
    """Normal draws pushed away from 0 (relu's kink) by ``margin``."""
    z = rng.normal(size=shape)
    return np.where(np.abs(z) < margin, np.sign(z + 1e-300) * margin, z) + 0.0


# --------------------------------------------------------------- activations
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KIND_CODES, ids=KIND_IDS)
def test_activation_forward_backward(kind, dtype):
    rng = np.random.default_rng(kind)
    z = (3 * _away_from_kink(rng, (6, 7))).astype(dtype)
    z[0, :3] = [40.0, -40.0, 0.5]  # saturated logistic/tanh must stay finite
    out = np.empty_like(z)
    K.activation_forward(z, kind, out)
    np.testing.assert_allclose(out, ref.activation(z, kind), **TOL[dtype])
    d_a = rng.normal(size=z.shape).astype(dtype)
    d_z = np.empty_like(z)
    K.activation_backward(out, d_a, kind, d_z)
    expect = d_a.astype(np.float64) * ref.activation_derivative(z, kind)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    # derivatives from the output lose a little at saturation: compare absolutely
    np.testing.assert_allclose(d_z, expect, rtol=tol["rtol"], atol=max(tol["atol"], 1e-10))
    assert np.all(np.isfinite(out)) and np.all(np.isfinite(d_z))


@pytest.mark.parametrize("kind", KIND_CODES, ids=KIND_IDS)
def test_activation_forward_in_place(kind):
    z = np.linspace(-3, 3, 12).reshape(3, 4)
    expect = ref.activation(z, kind)
    K.activation_forward(z, kind, z)
    np.testing.assert_allclose(z, expect, rtol=1e-12, atol=1e-15)


def test_activations_propagate_nan():
    for kind in KIND_CODES:
        z = np.array([[np.nan, 1.0]])
        out = np.empty_like(z)
        K.activation_forward(z, kind, out)
        assert np.isnan(out[0, 0]), kind


# --------------------------------------------------------------------- dense
def _dense_case(rng, dtype, kind):
    """Inputs whose pre-activations keep clear of relu's kink."""
    for _ in range(100):
        x = rng.normal(size=(B, I))
        w = rng.normal(size=(O, I)) * 0.7
        b = rng.normal(size=O) * 0.3
        if np.min(np.abs(ref.dense_preactivation(x, w, b))) > 1e-3:
            break
    return x.astype(dtype), w.astype(dtype), b.astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KIND_CODES, ids=KIND_IDS)
def test_dense_forward_matches_reference(kind, dtype):
    rng = np.random.default_rng(10 + kind)
    x, w, b = _dense_case(rng, dtype, kind)
    out = np.empty((B, O), dtype=dtype)
    K.dense_forward(x, w, b, kind, out)
    np.testing.assert_allclose(out, ref.dense_forward(x, w, b, kind), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", KIND_CODES, ids=KIND_IDS)
def test_dense_backward_matches_reference(kind, dtype):
    rng = np.random.default_rng(20 + kind)
    x, w, b = _dense_case(rng, dtype, kind)
    a = np.empty((B, O), dtype=dtype)
    K.dense_forward(x, w, b, kind, a)
    d_a = rng.normal(size=(B, O)).astype(dtype)
    d_w, d_b, d_x = np.empty_like(w), np.empty_like(b), np.empty_like(x)
    d_b[:] = 123.0  # must be overwritten, not accumulated
    e_w, e_b, e_x = ref.dense_backward(x, w, b, d_a, kind)
    K.dense_backward(x, w, a, d_a.copy(), kind, d_w, d_b, d_x, True)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(d_w, e_w, **tol)
    np.testing.assert_allclose(d_b, e_b, **tol)
    np.testing.assert_allclose(d_x, e_x, **tol)


@pytest.mark.parametrize("host", [c for c in KIND_CODES if c != 0],
                         ids=[n for n, c in KINDS if c != 0])
def test_identity_layer_on_borrowed_kernels_is_bitwise_identity(host, monkeypatch):
    """An identity layer runs on the kernels of the first other activation
    used (an MLP compiles one kernel pair, not two) with identical results."""
    from seqnet.kernels.cpu import dense

    rng = np.random.default_rng(30 + host)
    x, w, b = _dense_case(rng, np.float32, IDENTITY)
    d_a = rng.normal(size=(B, O)).astype(np.float32)

    def identity_layer():
        a = np.empty((B, O), dtype=np.float32)
        K.dense_forward(x, w, b, IDENTITY, a)
        grads = np.empty_like(w), np.empty_like(b), np.empty_like(x)
        d = d_a.copy()
        K.dense_backward(x, w, a, d, IDENTITY, *grads, True)
        return (a, d) + grads

    monkeypatch.setattr(dense, "_HOST_KIND", {})
    alone = identity_layer()
    assert dense._kernels_for(IDENTITY, np.dtype(np.float32)) == (dense._KERNELS[IDENTITY], False)
    K.dense_forward(x, w, b, host, np.empty((B, O), dtype=np.float32))
    assert dense._kernels_for(IDENTITY, np.dtype(np.float32)) == (dense._KERNELS[host], False)
    assert dense._kernels_for(IDENTITY, np.dtype(np.float64))[0] is dense._KERNELS[IDENTITY]
    for got, want in zip(identity_layer(), alone):
        np.testing.assert_array_equal(got, want)


def test_dense_backward_skips_dx():
    rng = np.random.default_rng(0)
    x, w, b = _dense_case(rng, np.float64, 2)
    a = np.empty((B, O))
    K.dense_forward(x, w, b, 2, a)
    d_w, d_b = np.empty_like(w), np.empty_like(b)
    sentinel = np.full((1, 1), 7.0)
    K.dense_backward(x, w, a, rng.normal(size=(B, O)), 2, d_w, d_b, sentinel, False)
    assert sentinel[0, 0] == 7.0


def test_dense_forward_noncontiguous_weight_view():
    """Layers pass views of the flat buffer; a transposed-layout weight also works."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(B, I))
    wt = np.asfortranarray(rng.normal(size=(O, I)))
    b = rng.normal(size=O)
    out = np.empty((B, O))
    K.dense_forward(x, wt, b, 0, out)
    np.testing.assert_allclose(out, ref.dense_forward(x, wt, b, 0), rtol=1e-12)


@pytest.mark.parametrize("kind", KIND_CODES, ids=KIND_IDS)
def test_dense_backward_finite_differences(kind):
    rng = np.random.default_rng(30 + kind)
    x, w, b = _dense_case(rng, np.float64, kind)
    r = rng.normal(size=(B, O))  # L = sum(r * a)
    a = np.empty((B, O))

    def loss():
        K.dense_forward(x, w, b, kind, a)
        return float(np.sum(r * a))

    loss()
    d_w, d_b, d_x = np.empty_like(w), np.empty_like(b), np.empty_like(x)
    K.dense_backward(x, w, a.copy(), r.copy(), kind, d_w, d_b, d_x, True)
    for analytic, var in ((d_w, w), (d_b, b), (d_x, x)):
        numeric = ref.numerical_gradient(loss, var)
        assert ref.relative_error(analytic, numeric) < FD_TOL


# -------------------------------------------------------------------- losses
def _targets(name, rng, n, k):
    if name == "softmax":
        y = np.zeros((n, k))
        y[np.arange(n), rng.integers(0, k, n)] = 1.0
        y[0] = [0.2, 0.8] + [0.0] * (k - 2)  # soft targets are allowed too
        return y
    if name == "logistic":
        return (rng.random((n, k)) < 0.5).astype(np.float64)
    return rng.normal(size=(n, k))


LOSS_KERNELS = {
    "softmax": K.softmax_cross_entropy,
    "logistic": K.sigmoid_cross_entropy,
    "squared": K.squared_error,
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", sorted(LOSS_KERNELS))
def test_loss_matches_reference(name, dtype):
    rng = np.random.default_rng(5)
    n, k = 7, 4
    z = (rng.normal(size=(n, k)) * 3).astype(dtype)
    y = _targets(name, rng, n, k).astype(dtype)
    sw = rng.uniform(0.1, 3.0, size=n).astype(dtype)
    sw[2] = 0.0
    d = np.empty_like(z)
    loss = LOSS_KERNELS[name](z, y, sw, d)
    e_loss, e_d = ref.LOSSES[name](z, y, sw)
    tol = TOL[dtype] if dtype == np.float64 else dict(rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(loss, e_loss, **tol)
    np.testing.assert_allclose(d, e_d, **tol)
    assert np.all(d[2] == 0.0)


@pytest.mark.parametrize("name", sorted(LOSS_KERNELS))
def test_loss_extreme_logits_finite(name):
    z = np.array([[1e3, -1e3], [-800.0, 800.0]])
    y = np.array([[1.0, 0.0], [1.0, 0.0]])
    d = np.empty_like(z)
    loss = LOSS_KERNELS[name](z, y, np.ones(2), d)
    assert np.isfinite(loss) and np.all(np.isfinite(d))
    e_loss, e_d = ref.LOSSES[name](z, y, np.ones(2))
    np.testing.assert_allclose(loss, e_loss, rtol=1e-12)
    np.testing.assert_allclose(d, e_d, rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("name", sorted(LOSS_KERNELS))
def test_loss_weight_two_equals_duplicate(name):
    rng = np.random.default_rng(3)
    z = rng.normal(size=(4, 3))
    y = _targets(name, rng, 4, 3)
    sw = np.array([1.0, 2.0, 1.0, 1.0])
    d1 = np.empty_like(z)
    l1 = LOSS_KERNELS[name](z, y, sw, d1)
    zd, yd = np.vstack([z, z[1:2]]), np.vstack([y, y[1:2]])
    d2 = np.empty_like(zd)
    l2 = LOSS_KERNELS[name](zd, yd, np.ones(5), d2)
    np.testing.assert_allclose(l1, l2, rtol=1e-12)
    np.testing.assert_allclose(d1[1], d2[1] + d2[4], rtol=1e-12)


@pytest.mark.parametrize("name", sorted(LOSS_KERNELS))
def test_loss_finite_differences_weighted(name):
    rng = np.random.default_rng(11)
    n, k = 6, 3
    z = rng.normal(size=(n, k)) * 2
    y = _targets(name, rng, n, k)
    sw = rng.uniform(0.2, 4.0, size=n)  # non-uniform sample weights
    d = np.empty_like(z)
    LOSS_KERNELS[name](z, y, sw, d)
    scratch = np.empty_like(z)

    def loss():
        return LOSS_KERNELS[name](z, y, sw, scratch)

    numeric = ref.numerical_gradient(loss, z)
    assert ref.relative_error(d, numeric) < FD_TOL


# ------------------------------------------------------------------- dropout
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("rate", [0.0, 0.25, 0.5, 0.9])
def test_dropout_matches_reference(rate, dtype):
    rng = np.random.default_rng(4)
    x = rng.normal(size=50).astype(dtype)
    u = rng.random(50).astype(dtype)
    u[0] = np.nextafter(dtype(rate), dtype(1))  # u >= rate keeps the unit
    out, mask = np.empty_like(x), np.empty_like(x)
    K.dropout_forward(x, u, rate, out, mask)
    e_out, e_mask = ref.dropout_forward(x, u, rate)
    np.testing.assert_allclose(mask, e_mask, **TOL[dtype])
    np.testing.assert_allclose(out, e_out, **TOL[dtype])
    assert mask[0] != 0.0
    d = rng.normal(size=50).astype(dtype)
    d_x = np.empty_like(d)
    K.dropout_backward(d, mask, d_x)
    np.testing.assert_allclose(d_x, ref.dropout_backward(d, e_mask), **TOL[dtype])


def test_dropout_backward_finite_differences():
    rng = np.random.default_rng(6)
    x = rng.normal(size=40)
    u = rng.random(40)
    r = rng.normal(size=40)
    out, mask = np.empty_like(x), np.empty_like(x)

    def loss():
        K.dropout_forward(x, u, 0.3, out, mask)
        return float(np.sum(r * out))

    loss()
    d_x = np.empty_like(x)
    K.dropout_backward(r, mask, d_x)
    assert ref.relative_error(d_x, ref.numerical_gradient(loss, x)) < FD_TOL


def test_dropout_expectation_is_identity():
    rng = np.random.default_rng(8)
    x = np.ones(200_000)
    out, mask = np.empty_like(x), np.empty_like(x)
    K.dropout_forward(x, rng.random(x.size), 0.4, out, mask)
    assert abs(out.mean() - 1.0) < 0.01
