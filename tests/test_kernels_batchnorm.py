"""Batch normalisation and global pooling kernels: NumPy references, central
finite differences (float64) and parity with PyTorch (float64, < 1e-5)."""

import numpy as np
import pytest

from seqnet.kernels import cpu as K
from tests import reference_bn as ref

MOM, EPS = 0.1, 1e-5


def _inputs(rng, B=4, N=7, C=3, ragged=True):
    x = rng.standard_normal((B, N, C))
    lengths = (rng.integers(2, N + 1, size=B) if ragged else np.full(B, N)).astype(np.int64)
    lengths[0] = N
    return x, lengths


def _train(x, lengths, weights, gamma, beta, relu, rm=None, rv=None):
    B, N, C = x.shape
    rm = np.zeros(C) if rm is None else rm.copy()
    rv = np.ones(C) if rv is None else rv.copy()
    y, xhat, inv = np.empty_like(x), np.empty_like(x), np.empty(C)
    K.batchnorm_forward_train(x, lengths, weights, gamma, beta, MOM, EPS, relu, rm, rv, y,
                              xhat, inv)
    return y, xhat, inv, rm, rv


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("weighted", [False, True])
def test_batchnorm_matches_reference(relu, weighted):
    rng = np.random.default_rng(0)
    x, lengths = _inputs(rng)
    C = x.shape[2]
    w = rng.uniform(0.5, 2.0, x.shape[0]) if weighted else np.ones(x.shape[0])
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    rm0, rv0 = rng.standard_normal(C), rng.uniform(0.5, 2, C)
    y, _, _, rm, rv = _train(x, lengths, w, gamma, beta, relu, rm0, rv0)
    y_ref, rm_ref, rv_ref = ref.batchnorm_train(x, lengths, w, gamma, beta, MOM, EPS, relu,
                                                rm0, rv0)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    np.testing.assert_allclose(rm, rm_ref, atol=1e-12)
    np.testing.assert_allclose(rv, rv_ref, atol=1e-12)
    ye = np.empty_like(x)
    K.batchnorm_forward_eval(x, lengths, gamma, beta, EPS, relu, rm, rv, ye)
    np.testing.assert_allclose(ye, ref.batchnorm_eval(x, lengths, gamma, beta, EPS, relu, rm,
                                                      rv), atol=1e-12)


@pytest.mark.parametrize("relu", [False, True])
def test_batchnorm_gradients_finite_differences(relu):
    rng = np.random.default_rng(1)
    x, lengths = _inputs(rng, B=3, N=5, C=2)
    C = x.shape[2]
    w = np.array([1.0, 2.0, 0.5])
    gamma, beta = rng.standard_normal(C), rng.standard_normal(C)
    R = rng.standard_normal(x.shape)

    def loss(x, gamma, beta):
        return float((_train(x, lengths, w, gamma, beta, relu)[0] * R).sum())

    y, xhat, inv, _, _ = _train(x, lengths, w, gamma, beta, relu)
    dx, dg, db = np.empty_like(x), np.empty(C), np.empty(C)
    K.batchnorm_backward(R, y, xhat, lengths, w, gamma, inv, relu, True, dx, dg, db)
    h = 1e-6
    for arr, grad, args in ((x, dx, 0), (gamma, dg, 1), (beta, db, 2)):
        num = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            vals = [x.copy(), gamma.copy(), beta.copy()]
            vals[args][i] += h
            up = loss(*vals)
            vals[args][i] -= 2 * h
            num[i] = (up - loss(*vals)) / (2 * h)
        np.testing.assert_allclose(grad, num, atol=1e-6)
    # padded steps get no gradient
    for b, L in enumerate(lengths):
        assert np.all(dx[b, L:] == 0)


@pytest.mark.parametrize("mode", ["avg", "max"])
def test_global_pool_reference_and_gradients(mode):
    rng = np.random.default_rng(2)
    x, lengths = _inputs(rng, B=3, N=6, C=4)
    fwd = K.global_avgpool_forward if mode == "avg" else K.global_maxpool_forward
    out = fwd(x, lengths)
    y = out if mode == "avg" else out[0]
    y_ref = (ref.global_avgpool if mode == "avg" else ref.global_maxpool)(x, lengths)
    np.testing.assert_allclose(y, y_ref, atol=1e-12)
    R = rng.standard_normal(y.shape)
    if mode == "avg":
        dx = K.global_avgpool_backward(R, lengths, x.shape)
    else:
        dx = K.global_maxpool_backward(R, out[1], x.shape)
    h = 1e-6
    num = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        f = (lambda z: (ref.global_avgpool if mode == "avg" else ref.global_maxpool)(
            z, lengths))
        num[i] = ((f(xp) - f(xm)) * R).sum() / (2 * h)
    np.testing.assert_allclose(dx, num, atol=1e-6)


def test_global_pool_over_space():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 4, 5))
    lengths = np.full(2, 12, dtype=np.int64)
    np.testing.assert_allclose(K.global_avgpool_forward(x, lengths), x.mean(axis=(1, 2)))
    np.testing.assert_allclose(K.global_maxpool_forward(x, lengths)[0], x.max(axis=(1, 2)))
    dx = K.global_avgpool_backward(np.ones((2, 5)), lengths, x.shape)
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, 1 / 12)


def test_mask_steps():
    x = np.ones((2, 4, 3))
    K.mask_steps(x, np.array([4, 2], dtype=np.int64))
    assert x[0].sum() == 12 and x[1, :2].sum() == 6 and x[1, 2:].sum() == 0


# ------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("two_d", [False, True])
def test_batchnorm_matches_torch(two_d):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(4)
    shape = (5, 3, 4, 6) if two_d else (5, 9, 6)
    x = rng.standard_normal(shape)
    C = shape[-1]
    bn = (torch.nn.BatchNorm2d if two_d else torch.nn.BatchNorm1d)(C).double()
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(rng.standard_normal(C)))
        bn.bias.copy_(torch.tensor(rng.standard_normal(C)))
    gamma, beta = bn.weight.detach().numpy().copy(), bn.bias.detach().numpy().copy()
    perm = (0, 3, 1, 2) if two_d else (0, 2, 1)
    xt = torch.tensor(x.transpose(perm).copy(), requires_grad=True)
    R = rng.standard_normal(shape)
    Rt = torch.tensor(R.transpose(perm).copy())
    rm, rv = np.zeros(C), np.ones(C)
    x3 = x.reshape(shape[0], -1, C)
    lengths = np.full(shape[0], x3.shape[1], dtype=np.int64)
    w = np.ones(shape[0])
    for _ in range(2):  # running statistics over two steps
        bn.train()
        yt = bn(xt)
        y, xhat, inv = np.empty_like(x3), np.empty_like(x3), np.empty(C)
        K.batchnorm_forward_train(x3, lengths, w, gamma, beta, MOM, EPS, False, rm, rv, y,
                                  xhat, inv)
    np.testing.assert_allclose(y.reshape(shape).transpose(perm), yt.detach().numpy(),
                               atol=1e-5)
    np.testing.assert_allclose(rm, bn.running_mean.numpy(), atol=1e-5)
    np.testing.assert_allclose(rv, bn.running_var.numpy(), atol=1e-5)
    (yt * Rt).sum().backward()
    dx, dg, db = np.empty_like(x3), np.empty(C), np.empty(C)
    K.batchnorm_backward(R.reshape(x3.shape), y, xhat, lengths, w, gamma, inv, False, True, dx,
                         dg, db)
    np.testing.assert_allclose(dx.reshape(shape).transpose(perm), xt.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(dg, bn.weight.grad.numpy(), atol=1e-5)
    np.testing.assert_allclose(db, bn.bias.grad.numpy(), atol=1e-5)
    bn.eval()
    ye = np.empty_like(x3)
    K.batchnorm_forward_eval(x3, lengths, gamma, beta, EPS, False, rm, rv, ye)
    np.testing.assert_allclose(ye.reshape(shape).transpose(perm), bn(xt).detach().numpy(),
                               atol=1e-5)


def test_global_avgpool_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    x = rng.standard_normal((3, 11, 4))
    xt = torch.tensor(x.transpose(0, 2, 1).copy(), requires_grad=True)
    yt = torch.nn.AdaptiveAvgPool1d(1)(xt)[..., 0]
    lengths = np.full(3, 11, dtype=np.int64)
    np.testing.assert_allclose(K.global_avgpool_forward(x, lengths), yt.detach().numpy(),
                               atol=1e-12)
    R = rng.standard_normal((3, 4))
    (yt * torch.tensor(R)).sum().backward()
    np.testing.assert_allclose(K.global_avgpool_backward(R, lengths, x.shape),
                               xt.grad.numpy().transpose(0, 2, 1), atol=1e-12)
