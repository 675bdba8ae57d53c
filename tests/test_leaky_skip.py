"""Leaky units and skip connections in time for the RNN (issue 23).

Kernels against the NumPy reference (tests/reference_leaky.py) and central
finite differences in float64; the layer and the estimators (parameters,
gradients through the whole network, the unchanged plain path, sklearn
conformance); and a long-memory task that a plain tanh RNN cannot learn.
"""

import pickle

import numpy as np
import pytest
from sklearn.base import clone

from seqnet import RNNClassifier, RNNRegressor
from seqnet.kernels import cpu as K
from seqnet.kernels.cpu.activations import IDENTITY, RELU, TANH
from seqnet.network.dense import DenseLayer
from seqnet.network.layers import Context
from seqnet.network.network import Network
from seqnet.network.recurrent import SequencePooling
from seqnet.network.recurrent_leaky import LeakyRecurrentLayer
from tests.reference import numerical_gradient, relative_error

try:
    from tests import reference_leaky as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_leaky as ref

FD_TOL = 1e-6
B, T, F, H = 3, 7, 2, 4
LENGTHS = np.array([7, 3, 6], dtype=np.int64)
KINDS = {"tanh": TANH, "relu": RELU}


def make_params(rng, skip, scale=0.5):
    return {
        "w_ih": rng.normal(size=(H, F)) * scale,
        "w_hh": rng.normal(size=(H, H)) * scale,
        "w_skip": rng.normal(size=(H, H)) * scale if skip else np.zeros((0, H)),
        "b_ih": rng.normal(size=H) * scale,
        "b_hh": rng.normal(size=H) * scale,
        "a": rng.uniform(0.2, 0.9, size=H),
    }


def kfwd(P, x, lengths, h0, reverse, skip, nl):
    return K.leaky_rnn_forward(x, lengths, P["w_ih"], P["w_hh"], P["w_skip"], P["b_ih"],
                               P["b_hh"], P["a"], h0, reverse, skip, KINDS[nl])


def kbwd(P, dh, x, lengths, h, cache, bptt=0, need_dx=True):
    return K.leaky_rnn_backward(dh, x, lengths, P["w_ih"], P["w_hh"], P["w_skip"], P["a"],
                                h, cache, bptt, need_dx)


def rfwd(P, x, lengths, h0, reverse, skip, nl, bptt=0, frozen=None):
    return ref.run_direction(x, lengths, P["w_ih"], P["w_hh"], P["w_skip"], P["b_ih"],
                             P["b_hh"], P["a"], h0, reverse, skip, nl, bptt, frozen)


def setup(seed, skip):
    rng = np.random.default_rng(seed)
    P = make_params(rng, skip)
    x = rng.normal(size=(B, T, F))
    h0 = rng.normal(size=(B, H)) * 0.7
    dh = rng.normal(size=(B, T, H))
    return P, x, h0, dh


CASES = [(reverse, skip, nl) for reverse in (False, True) for skip in (0, 2, 3)
         for nl in ("tanh", "relu")]


@pytest.mark.parametrize("reverse, skip, nl", CASES)
def test_forward_matches_reference(reverse, skip, nl):
    P, x, h0, _ = setup(0, skip)
    h, _ = kfwd(P, x, LENGTHS, h0, reverse, skip, nl)
    expect, _ = rfwd(P, x, LENGTHS, h0, reverse, skip, nl)
    np.testing.assert_allclose(h, expect, rtol=1e-12, atol=1e-12)
    for b in range(B):
        assert np.all(h[b, LENGTHS[b]:] == 0.0)


def test_leak_one_no_skip_is_the_elman_cell():
    P, x, h0, _ = setup(1, 0)
    P["a"] = np.ones(H)
    for reverse in (False, True):
        h, _ = kfwd(P, x, LENGTHS, h0, reverse, 0, "tanh")
        plain, _ = K.recurrent_forward("rnn", x, LENGTHS, P["w_ih"], P["w_hh"], P["b_ih"],
                                       P["b_hh"], h0, None, reverse, TANH)
        np.testing.assert_allclose(h, plain, rtol=1e-12, atol=1e-12)


def test_skip_state_is_zero_before_step_d():
    """With W_hh = 0 and a = 1 the first d processing steps see no state at all."""
    P, x, h0, _ = setup(2, 3)
    P["w_hh"][:] = 0.0
    P["a"][:] = 1.0
    for reverse in (False, True):
        h, _ = kfwd(P, x, LENGTHS, h0, reverse, 3, "tanh")
        P0 = dict(P, w_skip=np.zeros((H, H)))
        h_noskip, _ = kfwd(P0, x, LENGTHS, h0, reverse, 3, "tanh")
        for b in range(B):
            L = LENGTHS[b]
            first = [L - 1 - s if reverse else s for s in range(min(3, L))]
            np.testing.assert_array_equal(h[b, first], h_noskip[b, first])
            later = [L - 1 - s if reverse else s for s in range(3, L)]
            if later:
                assert not np.allclose(h[b, later], h_noskip[b, later])


def analytic_grads(P, x, h0, dh, reverse, skip, nl, bptt=0):
    h, cache = kfwd(P, x, LENGTHS, h0, reverse, skip, nl)
    dx, dw_ih, dw_hh, dw_skip, db_ih, db_hh, da = kbwd(P, dh, x, LENGTHS, h, cache, bptt)
    return {"x": dx, "w_ih": dw_ih, "w_hh": dw_hh, "w_skip": dw_skip, "b_ih": db_ih,
            "b_hh": db_hh, "a": da}


@pytest.mark.parametrize("reverse, skip, nl", CASES)
def test_backward_finite_differences(reverse, skip, nl):
    P, x, h0, dh = setup(3, skip)
    grads = analytic_grads(P, x, h0, dh, reverse, skip, nl)

    def loss():
        return float(np.sum(dh * kfwd(P, x, LENGTHS, h0, reverse, skip, nl)[0]))

    for name in ("w_ih", "w_hh", "w_skip", "b_ih", "b_hh", "a"):
        assert relative_error(grads[name], numerical_gradient(loss, P[name])) < FD_TOL, name
    assert relative_error(grads["x"], numerical_gradient(loss, x)) < FD_TOL
    for b in range(B):
        assert np.all(grads["x"][b, LENGTHS[b]:] == 0.0)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("skip", [0, 2, 3])
@pytest.mark.parametrize("bptt", [1, 2, 3])
def test_truncated_bptt_against_frozen_reference(reverse, skip, bptt):
    """Truncation makes plain finite differences inapplicable: the reference is
    the finite-difference gradient of the forward whose reads across a segment
    border are frozen at the unperturbed states (reference_leaky docstring)."""
    P, x, h0, dh = setup(4, skip)
    grads = analytic_grads(P, x, h0, dh, reverse, skip, "tanh", bptt)
    _, frozen = rfwd(P, x, LENGTHS, h0, reverse, skip, "tanh")

    def loss():
        h, _ = rfwd(P, x, LENGTHS, h0, reverse, skip, "tanh", bptt, frozen)
        return float(np.sum(dh * h))

    full = analytic_grads(P, x, h0, dh, reverse, skip, "tanh", 0)
    for name in ("w_ih", "w_hh", "w_skip", "b_ih", "b_hh", "a"):
        assert relative_error(grads[name], numerical_gradient(loss, P[name])) < FD_TOL, name
    assert relative_error(grads["x"], numerical_gradient(loss, x)) < FD_TOL
    assert relative_error(grads["w_hh"], full["w_hh"]) > 1e-6  # truncation cuts something
    longer = analytic_grads(P, x, h0, dh, reverse, skip, "tanh", T + 2)
    for name in grads:
        np.testing.assert_array_equal(longer[name], full[name])


def test_need_dx_false_and_float32():
    P, x, h0, dh = setup(5, 2)
    h, cache = kfwd(P, x, LENGTHS, h0, False, 2, "tanh")
    full = kbwd(P, dh, x, LENGTHS, h, cache)
    part = kbwd(P, dh, x, LENGTHS, h, cache, need_dx=False)
    assert part[0].shape == (0, 0, 0)
    for u, v in zip(full[1:], part[1:]):
        np.testing.assert_array_equal(u, v)
    P32 = {k: v.astype(np.float32) for k, v in P.items()}
    h32, cache32 = kfwd(P32, x.astype(np.float32), LENGTHS, h0.astype(np.float32), False, 2,
                        "tanh")
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, h, atol=1e-5)
    g32 = kbwd(P32, dh.astype(np.float32), x.astype(np.float32), LENGTHS, h32, cache32)
    for u, v in zip(g32, full):
        assert u.dtype == np.float32
        np.testing.assert_allclose(u, v, rtol=1e-4, atol=1e-4)


def test_bad_arguments_raise():
    P, x, h0, _ = setup(6, 2)
    with pytest.raises(ValueError, match="skip"):
        kfwd(P, x, LENGTHS, h0, False, 1, "tanh")
    with pytest.raises(ValueError, match="w_skip"):
        kfwd(dict(P, w_skip=np.zeros((0, H))), x, LENGTHS, h0, False, 2, "tanh")


# ------------------------------------------------------------- layer and network
def make_network(layers, rng, dtype=np.float64):
    net = Network(layers + [SequencePooling("mean", layers[-1].directions),
                            DenseLayer(2, "out", IDENTITY)], "squared", dtype)
    net.build((None, F))
    net.initialize(rng, "glorot")
    for name, view in net.named_weights().items():  # every parameter matters
        view[...] += rng.normal(size=view.shape) * 0.2
    return net


NETWORK_CASES = {
    "fixed_leak": lambda: [LeakyRecurrentLayer(H, 0, leak=0.3, dtype=np.float64)],
    "learned_leak": lambda: [LeakyRecurrentLayer(H, 0, leak="learn", dtype=np.float64)],
    "skip": lambda: [LeakyRecurrentLayer(H, 0, skip_steps=2, nonlinearity="relu",
                                         dtype=np.float64)],
    "leak_skip_bidir_stacked": lambda: [
        LeakyRecurrentLayer(H, 0, True, leak="learn", skip_steps=2, dtype=np.float64),
        LeakyRecurrentLayer(3, 1, True, leak=0.6, skip_steps=3, dtype=np.float64)],
}


@pytest.mark.parametrize("case", list(NETWORK_CASES))
def test_network_gradient_finite_differences_ragged(case):
    """Whole network (leaky layers, mean pooling, dense output, squared loss) on a
    ragged batch: every named parameter against central differences."""
    rng = np.random.default_rng(8)
    net = make_network(NETWORK_CASES[case](), rng)
    x = rng.normal(size=(B, T, F))
    x[1, LENGTHS[1]:] = 99.0  # padding must not matter
    y = rng.normal(size=(B, 2))
    sw = rng.uniform(0.5, 2.0, size=B)

    def objective():
        return net.loss_and_grad(x, y, sw, Context(training=True, lengths=LENGTHS, backend=K))

    objective()
    analytic = net.named_grads()
    analytic = {k: v.copy() for k, v in analytic.items()}
    for name, view in net.named_weights().items():
        err = relative_error(analytic[name], numerical_gradient(objective, view))
        assert err < FD_TOL, (name, err)
    names = set(analytic)
    if "learn" in case:
        assert "rnn.0.leak" in names
    if "bidir" in case:
        assert {"rnn.0.weight_hh_skip_reverse", "rnn.0.leak_reverse",
                "rnn.1.weight_hh_skip_reverse"} <= names
        assert "rnn.1.leak" not in names  # a fixed leak is no parameter


def test_layer_truncated_gradient_learned_leak_bidirectional():
    """Layer with bptt_steps, learned leak (the sigmoid's chain rule), skips, both
    directions, ragged: its gradients against the frozen-read reference
    (plain finite differences do not apply to a truncated gradient)."""
    rng = np.random.default_rng(9)
    layer = LeakyRecurrentLayer(H, 0, True, bptt_steps=2, dtype=np.float64, leak="learn",
                                skip_steps=3)
    layer.build((T, F))
    specs = layer.param_specs()
    p = {s.name: rng.normal(size=s.shape) * 0.5 for s in specs}
    g = {s.name: np.zeros(s.shape) for s in specs}
    x = rng.normal(size=(B, T, F))
    dy = rng.normal(size=(B, T, 2 * H))
    ctx = Context(training=True, lengths=LENGTHS, backend=K)
    y, cache = layer.forward(p, x, ctx)
    layer.backward(p, g, cache, dy, ctx)

    def direction(sfx, reverse, frozen=None):
        a = 1.0 / (1.0 + np.exp(-p["leak" + sfx]))
        return ref.run_direction(x, LENGTHS, p["weight_ih" + sfx], p["weight_hh" + sfx],
                                 p["weight_hh_skip" + sfx], p["bias_ih" + sfx],
                                 p["bias_hh" + sfx], a, None, reverse, 3, "tanh", 2, frozen)

    frozen = {sfx: direction(sfx, sfx == "_reverse")[1] for sfx in ("", "_reverse")}
    expect = np.concatenate([direction(s, s == "_reverse")[0] for s in ("", "_reverse")], 2)
    np.testing.assert_allclose(y, expect, rtol=1e-12, atol=1e-12)

    def loss():
        outs = [direction(s, s == "_reverse", frozen[s])[0] for s in ("", "_reverse")]
        return float(np.sum(dy * np.concatenate(outs, 2)))

    for name in p:
        assert relative_error(g[name], numerical_gradient(loss, p[name])) < FD_TOL, name


def test_layer_rejects_bad_leak_and_skip():
    for kwargs in (dict(leak=0.0), dict(leak=1.5), dict(leak="auto"), dict(skip_steps=1)):
        with pytest.raises(ValueError):
            LeakyRecurrentLayer(H, 0, **kwargs)


def test_empty_batch_keeps_its_shape():
    P, _, _, _ = setup(7, 2)
    x = np.zeros((0, T, F))
    lengths = np.zeros(0, dtype=np.int64)
    h, cache = kfwd(P, x, lengths, np.zeros((0, H)), False, 2, "tanh")
    assert h.shape == (0, T, H)
    grads = kbwd(P, np.zeros((0, T, H)), x, lengths, h, cache)
    assert grads[0].shape == (0, T, F)
    assert all(not g.any() for g in grads[1:])
