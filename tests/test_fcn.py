"""Batch-norm, global-pooling and residual layers in whole networks (finite
differences, PyTorch parity in float64), and the FCN / ResNet / Conv estimators
with global pooling (ragged = unpadded, running statistics as buffers)."""

import warnings

import numpy as np
import pytest

import seqnet
from seqnet.kernels import cpu as K
from seqnet.kernels.cpu.activations import IDENTITY
from seqnet.network.conv import Conv1DLayer
from seqnet.network.dense import DenseLayer
from seqnet.network.layers import Context
from seqnet.network.network import Network
from seqnet.network.normalization import (
    BatchNormLayer,
    GlobalPoolLayer,
    ResidualBlock,
    conv_bn,
)


def _net(kind, C=2, n_out=3, seed=0):
    if kind == "fcn":
        layers = conv_bn(4, 3, 0, False, np.float64) + conv_bn(5, 2, 1, False, np.float64)
        layers += [GlobalPoolLayer("avg")]
    elif kind == "fcn_max":
        layers = conv_bn(4, 3, 0, False, np.float64) + [GlobalPoolLayer("max")]
    elif kind == "conv_valid":
        layers = [Conv1DLayer(4, 3, 0, 1, "valid", "tanh", np.float64),
                  BatchNormLayer("bn.0"), GlobalPoolLayer("avg")]
    else:
        layers = [ResidualBlock(4, (3, 2), 0, dtype=np.float64),
                  ResidualBlock(4, (3,), 1, dtype=np.float64), GlobalPoolLayer("avg")]
    net = Network(layers + [DenseLayer(n_out, "out", IDENTITY)], "softmax", np.float64)
    net.build((None, C))
    rng = np.random.default_rng(seed)
    net.initialize(rng, "glorot")
    for name, v in net.named_weights().items():
        if name.endswith(("bias", ".weight")) and "bn" in name:
            v[...] = rng.uniform(0.5, 1.5, v.shape) if name.endswith("weight") else \
                rng.normal(size=v.shape) * 0.3
    return net


@pytest.mark.parametrize("kind", ["fcn", "fcn_max", "conv_valid", "resnet"])
def test_network_gradients_masked(kind):
    rng = np.random.default_rng(1)
    B, T, C = 4, 7, 2
    x = rng.normal(size=(B, T, C))
    lengths = np.array([7, 5, 6, 4], dtype=np.int64)
    for b, L in enumerate(lengths):
        x[b, L:] = 0.0
    y = np.eye(3)[rng.integers(0, 3, B)]
    sw = rng.uniform(0.5, 2.0, B)
    net = _net(kind)
    buffers = [n for n in net.named_weights() if "running" in n]

    def loss():
        saved = {n: net.named_weights()[n].copy() for n in buffers}
        val = net.loss_and_grad(x, y, sw, Context(training=True, lengths=lengths, backend=K))
        for n in buffers:  # the forward pass moves the running statistics
            net.named_weights()[n][...] = saved[n]
        return val

    loss()
    grad = net.grads.copy()
    h = 1e-6
    num = np.zeros_like(grad)
    for i in range(net.n_params):
        old = net.params[i]
        net.params[i] = old + h
        up = loss()
        net.params[i] = old - h
        num[i] = (up - loss()) / (2 * h)
        net.params[i] = old
    np.testing.assert_allclose(grad, num, atol=1e-6, rtol=1e-5)
    for n in buffers:  # buffers: zero gradient, never regularised
        assert not np.any(net.named_grads()[n])


def _torch_stack(torch, net, C):
    """The same FCN-style stack in PyTorch with seqnet's weights."""
    mods = []
    w = net.named_weights()
    for i, layer in enumerate(net.layers):
        if isinstance(layer, Conv1DLayer):
            conv = torch.nn.Conv1d(layer.in_channels, layer.filters, layer.kernel_size,
                                   padding="same").double()
            conv.weight.data[...] = torch.tensor(w[f"{layer.prefix}.weight"])
            conv.bias.data[...] = torch.tensor(w[f"{layer.prefix}.bias"])
            mods.append(conv)
        elif isinstance(layer, BatchNormLayer):
            bn = torch.nn.BatchNorm1d(layer.in_shape[-1]).double()
            bn.weight.data[...] = torch.tensor(w[f"{layer.prefix}.weight"])
            bn.bias.data[...] = torch.tensor(w[f"{layer.prefix}.bias"])
            mods += [bn, torch.nn.ReLU()]
    mods += [torch.nn.AdaptiveAvgPool1d(1), torch.nn.Flatten()]
    lin = torch.nn.Linear(5, 3).double()
    lin.weight.data[...] = torch.tensor(w["out.weight"])
    lin.bias.data[...] = torch.tensor(w["out.bias"])
    return torch.nn.Sequential(*mods, lin)


def test_fcn_stack_matches_torch():
    torch = pytest.importorskip("torch")
    net = _net("fcn")
    model = _torch_stack(torch, net, 2)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(6, 9, 2))
    labels = rng.integers(0, 3, 6)
    y = np.eye(3)[labels]
    for _ in range(2):
        loss = net.loss_and_grad(x, y, np.ones(6), Context(training=True, backend=K))
        xt = torch.tensor(x.transpose(0, 2, 1).copy())
        model.train()
        model.zero_grad()
        lt = torch.nn.functional.cross_entropy(model(xt), torch.tensor(labels))
        lt.backward()
    assert abs(loss - lt.item()) < 1e-5
    grads = net.named_grads()
    weights = net.named_weights()
    tparams = dict(model.named_parameters())
    tbufs = dict(model.named_buffers())
    order = {"0": "conv.0", "1": "bn.0", "3": "conv.1", "4": "bn.1", "8": "out"}
    for tname, p in tparams.items():
        idx, attr = tname.split(".")
        np.testing.assert_allclose(grads[f"{order[idx]}.{attr}"], p.grad.numpy(), atol=1e-5)
    for tname, b in tbufs.items():
        idx, attr = tname.split(".")
        if attr.startswith("running"):
            np.testing.assert_allclose(weights[f"{order[idx]}.{attr}"], b.numpy(), atol=1e-5)
    model.eval()
    out = net.predict_raw(x, None, K)
    np.testing.assert_allclose(out, model(xt).detach().numpy(), atol=1e-5)


ESTIMATORS = [
    lambda: seqnet.FCNClassifier(filters=(6, 6, 6), max_iter=15, random_state=0),
    lambda: seqnet.ResNetClassifier(filters=(6, 6, 6), max_iter=15, random_state=0),
    lambda: seqnet.ConvClassifier(filters=(6, 6), global_pooling="avg", batch_norm=True,
                                  pool_size=2, max_iter=15, random_state=0),
    lambda: seqnet.ConvClassifier(filters=(6,), global_pooling="max", padding="valid",
                                  max_iter=15, random_state=0),
]


@pytest.mark.parametrize("make", ESTIMATORS)
def test_ragged_equals_unpadded(make):
    rng = np.random.default_rng(3)
    seqs = [rng.normal(size=(int(rng.integers(6, 20)), 2)) for _ in range(30)]
    y = np.array([int(s[:, 0].mean() > 0) for s in seqs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = make().set_params(dtype="float64").fit(seqs, y)
    proba = est.predict_proba(seqs)
    alone = np.vstack([est.predict_proba(s[None])
                       for s in seqs])
    np.testing.assert_allclose(proba, alone, atol=1e-10)
    # a longer sequence than any seen in fit works too
    assert est.predict(rng.normal(size=(2, 40, 2))).shape == (2,)


def test_running_stats_are_buffers():
    rng = np.random.default_rng(4)
    X = rng.normal(size=(32, 12, 1)) * 3 + 2
    y = (X[:, :, 0].mean(1) > 2).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clf = seqnet.FCNClassifier(filters=(4, 4), kernel_size=3, max_iter=5, alpha=10.0,
                                   random_state=0, dtype="float64").fit(X, y)
    w = clf.weights_
    assert set(w) >= {f"bn.{i}.{s}" for i in range(2)
                      for s in ("weight", "bias", "running_mean", "running_var")}
    net = clf._network
    names = list(net.named_weights())
    offsets = {f"{net.layers[i].prefix}.{spec.name}": off for i, spec, off in net.specs}
    for n in names:
        if "running" in n:
            sl = slice(offsets[n], offsets[n] + w[n].size)
            assert not np.any(net.reg_mask[sl])
    # running mean of the first BN tracks the conv output's mean (not decayed by alpha)
    assert np.all(w["bn.0.running_var"] > 0)
    before = clf.predict_proba(X)
    w["bn.0.running_mean"][...] += 1.0  # predict reads the buffers
    assert not np.allclose(before, clf.predict_proba(X))


@pytest.mark.parametrize("cls", ["FCNRegressor", "ResNetRegressor"])
def test_regressors_fit(cls):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(40, 16, 1))
    y = X[:, :, 0].mean(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = getattr(seqnet, cls)(filters=(4, 4, 4), max_iter=5, random_state=0).fit(X, y)
    assert est.predict(X).shape == (40,)


GLOBAL_POOLING = {
    "FCNClassifier": lambda: seqnet.FCNClassifier(filters=(4, 4), kernel_size=3, max_iter=3,
                                                  random_state=0, dtype="float64"),
    "ResNetClassifier": lambda: seqnet.ResNetClassifier(filters=(4,), kernel_size=(3, 2),
                                                        max_iter=3, random_state=0,
                                                        dtype="float64"),
    "ConvClassifier": lambda: seqnet.ConvClassifier(filters=(4,), global_pooling="avg",
                                                    max_iter=3, random_state=0,
                                                    dtype="float64"),
}


@pytest.mark.parametrize("name", sorted(GLOBAL_POOLING))
def test_2d_fit_is_univariate_series(name):
    """A 2-D X (n, T) is n univariate series: after such a fit the model takes
    univariate series of any length as a list or a 3-D (n, T', 1) array, while
    a 2-D X keeps scikit-learn's rule (n_features_in_ = T columns)."""
    rng = np.random.default_rng(6)
    X = rng.normal(size=(24, 12))
    y = (X[:, :6].mean(1) > 0).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GLOBAL_POOLING[name]().fit(X, y)
    assert est.n_features_in_ == 12
    proba = est.predict_proba(X[:5])
    # the same series as a list of 1-D arrays, as (T, 1) arrays, as a 3-D array
    np.testing.assert_allclose(est.predict_proba(list(X[:5])), proba, atol=1e-12)
    np.testing.assert_allclose(est.predict_proba([s[:, None] for s in X[:5]]), proba,
                               atol=1e-12)
    np.testing.assert_allclose(est.predict_proba(X[:5, :, None]), proba, atol=1e-12)
    # ragged lengths, each predicted as it would be alone
    seqs = [rng.normal(size=n) for n in (3, 12, 30)]
    ragged = est.predict_proba(seqs)
    alone = np.vstack([est.predict_proba(s[None, :, None]) for s in seqs])
    np.testing.assert_allclose(ragged, alone, atol=1e-10)
    with pytest.raises(ValueError, match=r"X has 7 features, but \w+ is expecting 12 "
                                         r"features as input. \(a 2-D X is 12 time steps"):
        est.predict(X[:, :7])
    with pytest.raises(ValueError, match=r"X has 2 features, but \w+ is expecting 1"):
        est.predict([rng.normal(size=(5, 2))])


@pytest.mark.parametrize("name", sorted(GLOBAL_POOLING))
def test_univariate_3d_fit_takes_2d_series(name):
    """The other way round: fitted on (n, T, 1) or a ragged list of 1-D
    series, a 2-D X of any width is read as univariate series."""
    rng = np.random.default_rng(7)
    seqs = [rng.normal(size=int(n)) for n in rng.integers(5, 15, size=24)]
    y = np.array([int(s.mean() > 0) for s in seqs])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = GLOBAL_POOLING[name]().fit(seqs, y)
    assert est.n_features_in_ == 1
    X2 = rng.normal(size=(4, 9))
    np.testing.assert_allclose(est.predict_proba(X2), est.predict_proba(list(X2)),
                               atol=1e-12)


@pytest.mark.parametrize("cls", ["FCNClassifier", "ResNetClassifier"])
def test_ragged_pickup_gesture_padding_never_changes_a_prediction(cls):
    """PickupGestureWiimoteZ as shipped: 1-D series of 29 to 361 steps. A short
    series batched (so padded) beside the longest is predicted exactly as alone,
    whatever the batch around it."""
    from seqnet.datasets import load_pickup_gesture_wiimote_z

    X_tr, X_te, y_tr, _ = load_pickup_gesture_wiimote_z()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = getattr(seqnet, cls)(filters=(4, 4, 4), max_iter=2, random_state=0,
                                   dtype="float64").fit(X_tr, y_tr)
    order = np.argsort([len(s) for s in X_te])
    seqs = [X_te[i] for i in order[:4]] + [X_te[i] for i in order[-2:]]
    assert len(seqs[-1]) > 5 * len(seqs[0])  # padding is most of the short rows
    alone = np.vstack([est.predict_proba([s]) for s in seqs])
    np.testing.assert_allclose(est.predict_proba(seqs), alone, atol=1e-10)
    np.testing.assert_allclose(est.predict_proba(seqs[::-1]), alone[::-1], atol=1e-10)
    assert np.ptp(alone, axis=0).max() > 1e-6  # not one constant output for all
