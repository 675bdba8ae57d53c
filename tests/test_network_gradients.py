"""Whole-network gradients: Network of DenseLayer stacks, loss + elastic net,
against central finite differences on the flat parameter buffer (float64)."""

import numpy as np
import pytest

from seqnet.kernels import cpu as K
from seqnet.kernels.cpu.activations import ACTIVATION_CODES, IDENTITY
from seqnet.network.dense import DenseLayer, DropoutLayer
from seqnet.network.layers import Context
from seqnet.network.network import Network

from tests import reference as ref

FD_TOL = 1e-6
N, F = 9, 4


def make_net(loss, hidden, activation, n_out, dropout=0.0, dtype=np.float64, seed=0):
    code = ACTIVATION_CODES[activation]
    layers = []
    for i, h in enumerate(hidden):
        layers.append(DenseLayer(h, f"dense.{i}", code))
        layers.append(DropoutLayer(dropout, f"dropout.{i}"))
    layers.append(DenseLayer(n_out, "out", IDENTITY))
    net = Network(layers, loss, dtype)
    net.build((F,))
    net.initialize(np.random.default_rng(seed), "glorot")
    # non-zero biases so that every parameter matters
    for name, view in net.named_weights().items():
        if name.endswith("bias"):
            view[...] = np.random.default_rng(seed + 1).normal(size=view.shape) * 0.3
    return net


def make_data(loss, n_out, rng):
    x = rng.normal(size=(N, F))
    if loss == "softmax":
        y = np.eye(n_out)[rng.integers(0, n_out, N)]
    elif loss == "logistic":
        y = (rng.random((N, n_out)) < 0.5).astype(np.float64)
    else:
        y = rng.normal(size=(N, n_out))
    sw = rng.uniform(0.2, 3.0, size=N)  # non-uniform sample weights
    return x, y, sw


def objective(net, x, y, sw, alpha, l1_ratio, dropout_seed=None):
    """The training loop's batch objective; fills ``net.grads``."""
    rng = None if dropout_seed is None else np.random.default_rng(dropout_seed)
    ctx = Context(training=True, rng=rng, backend=K)
    loss = net.loss_and_grad(x, y, sw, ctx)
    if alpha > 0:
        loss += K.add_elastic_net(net.params, net.grads, net.reg_mask,
                                  alpha / float(sw.sum()), l1_ratio)
    return loss


def check_gradient(net, x, y, sw, alpha, l1_ratio, dropout_seed=None):
    objective(net, x, y, sw, alpha, l1_ratio, dropout_seed)
    analytic = net.grads.copy()

    def f():
        return objective(net, x, y, sw, alpha, l1_ratio, dropout_seed)

    numeric = ref.numerical_gradient(f, net.params)
    err = ref.relative_error(analytic, numeric)
    assert err < FD_TOL, err
    # and per named parameter: no block is silently zero or swapped
    objective(net, x, y, sw, alpha, l1_ratio, dropout_seed)
    for name, g in net.named_grads().items():
        a = net.named_weights()[name]
        start = a.__array_interface__["data"][0] - net.params.__array_interface__["data"][0]
        sl = slice(start // 8, start // 8 + a.size)
        assert ref.relative_error(g.ravel(), numeric[sl]) < FD_TOL, name
    return analytic


CASES = [
    # loss, n_out, hidden, activation, alpha, l1_ratio
    ("softmax", 3, (5,), "tanh", 0.1, 0.0),
    ("softmax", 4, (6, 5), "logistic", 0.3, 0.5),
    ("softmax", 3, (5, 4), "lecun_tanh", 0.2, 1.0),
    ("logistic", 1, (5,), "tanh", 0.2, 0.3),
    ("logistic", 3, (6, 4), "logistic", 0.1, 0.0),
    ("squared", 1, (5,), "tanh", 0.1, 0.7),
    ("squared", 2, (6, 5), "lecun_tanh", 0.5, 0.2),
    ("squared", 3, (4,), "identity", 0.3, 0.0),
    ("softmax", 3, (5,), "relu", 0.1, 0.5),
    ("squared", 2, (5,), "leaky_relu", 0.2, 0.3),
]


@pytest.mark.parametrize("loss,n_out,hidden,activation,alpha,l1_ratio", CASES,
                         ids=[f"{c[0]}-{c[3]}-{len(c[2])}layers" for c in CASES])
def test_network_gradient_finite_differences(loss, n_out, hidden, activation, alpha,
                                             l1_ratio):
    rng = np.random.default_rng(CASES.index(
        (loss, n_out, hidden, activation, alpha, l1_ratio)))
    net = make_net(loss, hidden, activation, n_out)
    x, y, sw = make_data(loss, n_out, rng)
    if activation in ("relu", "leaky_relu"):
        # keep every hidden pre-activation clear of the kink
        z = ref.dense_preactivation(x, net.named_weights()["dense.0.weight"],
                                    net.named_weights()["dense.0.bias"])
        keep = np.min(np.abs(z), axis=1) > 1e-3
        x, y, sw = x[keep], y[keep], sw[keep]
    check_gradient(net, x, y, sw, alpha, l1_ratio)


def test_network_gradient_no_penalty_matches_reference_loss():
    """Loss value of a 1-hidden-layer net equals the plain-NumPy forward pass."""
    rng = np.random.default_rng(1)
    net = make_net("softmax", (5,), "tanh", 3)
    x, y, sw = make_data("softmax", 3, rng)
    w = net.named_weights()
    h = ref.dense_forward(x, w["dense.0.weight"], w["dense.0.bias"], ref.TANH)
    z = ref.dense_forward(h, w["out.weight"], w["out.bias"], ref.IDENTITY)
    e_loss, _ = ref.softmax_cross_entropy(z, y, sw)
    e_pen, _ = ref.elastic_net(net.params, net.reg_mask, 0.2 / sw.sum(), 0.4)
    got = objective(net, x, y, sw, 0.2, 0.4)
    np.testing.assert_allclose(got, e_loss + e_pen, rtol=1e-12)
    np.testing.assert_allclose(net.predict_raw(x, None, K), z, rtol=1e-12)


def test_network_gradient_with_fixed_dropout_mask():
    """Dropout on, with the same mask for every evaluation (reseeded rng)."""
    rng = np.random.default_rng(2)
    net = make_net("squared", (6, 5), "tanh", 2, dropout=0.3)
    x, y, sw = make_data("squared", 2, rng)
    check_gradient(net, x, y, sw, 0.1, 0.2, dropout_seed=123)
    # predict (training=False) ignores dropout: deterministic
    np.testing.assert_array_equal(net.predict_raw(x, None, K), net.predict_raw(x, None, K))


def test_network_gradient_sequence_input():
    """Dense layers act on the last axis of (n, T, F) with per-step targets."""
    rng = np.random.default_rng(3)
    layers = [DenseLayer(5, "dense.0", ACTIVATION_CODES["tanh"]),
              DenseLayer(2, "out", IDENTITY)]
    net = Network(layers, "squared", np.float64)
    net.build((None, F))
    net.initialize(rng, "glorot")
    x = rng.normal(size=(4, 3, F))
    y = rng.normal(size=(4, 3, 2))
    sw = rng.uniform(0.5, 2.0, size=4)
    check_gradient(net, x, y, sw, 0.1, 0.5)


def test_reg_mask_covers_weights_not_biases():
    net = make_net("softmax", (5, 4), "tanh", 3)
    objective(net, *make_data("softmax", 3, np.random.default_rng(0)), 0.0, 0.0)
    mask = net.reg_mask.astype(bool)
    start = 0
    for name, view in net.named_weights().items():
        block = mask[start:start + view.size]
        assert block.all() if name.endswith("weight") else not block.any(), name
        start += view.size
    assert start == net.n_params


def test_backward_overwrites_gradients():
    """Two identical backward passes give identical (not doubled) gradients."""
    rng = np.random.default_rng(4)
    net = make_net("logistic", (5,), "tanh", 2)
    x, y, sw = make_data("logistic", 2, rng)
    objective(net, x, y, sw, 0.1, 0.0)
    g1 = net.grads.copy()
    objective(net, x, y, sw, 0.1, 0.0)
    np.testing.assert_array_equal(net.grads, g1)
