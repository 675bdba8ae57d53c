"""Layer-level tests of RecurrentLayer and SequencePooling (float64)."""

import types

import numpy as np
import pytest

from seqnet.kernels.cpu import recurrent as K
from seqnet.network.layers import Context, ParamSpec
from seqnet.network.recurrent import RecurrentLayer, SequencePooling
from tests.reference import numerical_gradient, relative_error

try:
    from tests import reference_recurrent as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_recurrent as ref

B, T, F, H = 3, 5, 2, 4
LENGTHS = np.array([5, 2, 4], dtype=np.int64)
CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]
CELL_IDS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def make_layer(cell, nl="tanh", bi=False, index=0, in_features=F, bptt=None, hidden=H):
    layer = RecurrentLayer(cell, hidden, index, bidirectional=bi, nonlinearity=nl,
                           bptt_steps=bptt, dtype=np.float64)
    layer.build((None, in_features))
    return layer


def make_params(layer, rng, scale=0.5):
    return {s.name: rng.normal(size=s.shape) * scale for s in layer.param_specs()}


def zeros_like(p):
    return {k: np.full_like(v, np.nan) for k, v in p.items()}  # backward must overwrite


class Stack:
    """A tiny sequential model of layers, for tests only."""

    def __init__(self, layers, params):
        self.layers, self.params = layers, params

    def forward(self, x, ctx):
        caches = []
        for layer, p in zip(self.layers, self.params):
            x, cache = layer.forward(p, x, ctx)
            caches.append(cache)
        return x, caches

    def backward(self, dy, caches, ctx):
        grads = []
        for layer, p, cache in reversed(list(zip(self.layers, self.params, caches))):
            g = zeros_like(p)
            dy = layer.backward(p, g, cache, dy, ctx)
            grads.insert(0, g)
        return dy, grads


def check_stack_gradients(stack, x, lengths, seed=0):
    """FD check of L = sum(dout * out) w.r.t. every parameter and x."""
    ctx = Context(lengths=lengths)
    out, caches = stack.forward(x, ctx)
    dout = np.random.default_rng(seed).normal(size=out.shape)
    dx, grads = stack.backward(dout, caches, ctx)

    def loss():
        return float(np.sum(dout * stack.forward(x, ctx)[0]))

    for p, g in zip(stack.params, grads):
        for name in p:
            assert not np.any(np.isnan(g[name])), name
            assert relative_error(g[name], numerical_gradient(loss, p[name])) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    return out, dx, grads


# -- construction -------------------------------------------------------------


@pytest.mark.parametrize("cell,gates", [("rnn", 1), ("lstm", 4), ("gru", 3)])
def test_param_specs_and_build(cell, gates):
    layer = RecurrentLayer(cell, H, 2, bidirectional=True)
    assert layer.prefix == "rnn.2"
    assert layer.build((7, F)) == (7, 2 * H)
    assert layer.build((None, F)) == (None, 2 * H)
    specs = {s.name: s for s in layer.param_specs()}
    assert list(specs) == ["weight_ih", "weight_hh", "bias_ih", "bias_hh",
                           "weight_ih_reverse", "weight_hh_reverse",
                           "bias_ih_reverse", "bias_hh_reverse"]
    for sfx in ("", "_reverse"):
        w_ih, w_hh = specs["weight_ih" + sfx], specs["weight_hh" + sfx]
        assert isinstance(w_ih, ParamSpec)
        assert w_ih.shape == (gates * H, F) and w_ih.init == "default"
        assert (w_ih.fan_in, w_ih.fan_out, w_ih.gates) == (F, H, gates)
        assert w_hh.shape == (gates * H, H) and w_hh.init == "orthogonal" and w_hh.gates == gates
        for b in ("bias_ih", "bias_hh"):
            assert specs[b + sfx].shape == (gates * H,) and not specs[b + sfx].regularize
        assert specs["bias_hh" + sfx].init == "zeros"
        b_ih = specs["bias_ih" + sfx]
        if cell == "lstm":
            init = b_ih.init(np.random.default_rng(0), b_ih.shape, np.float32)
            assert init.dtype == np.float32
            np.testing.assert_array_equal(init[H:2 * H], 1.0)
            assert init.sum() == H
        else:
            assert b_ih.init == "zeros"


def test_invalid_arguments():
    with pytest.raises(ValueError):
        RecurrentLayer("transformer", H, 0)
    with pytest.raises(ValueError):
        RecurrentLayer("rnn", H, 0, nonlinearity="sigmoid")
    with pytest.raises(ValueError):
        RecurrentLayer("lstm", H, 0, bptt_steps=0)
    with pytest.raises(ValueError):
        SequencePooling("median")
    layer = make_layer("gru")
    p = make_params(layer, np.random.default_rng(0))
    with pytest.raises(ValueError):
        layer.forward(p, np.zeros((B, T, F)), Context(lengths=np.array([1, 2, 9])))


# -- forward against the NumPy reference ------------------------------------------


@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("cell,nl", CELLS, ids=CELL_IDS)
def test_forward_matches_reference(cell, nl, bi):
    rng = np.random.default_rng(0)
    layer = make_layer(cell, nl, bi)
    p = make_params(layer, rng)
    x = rng.normal(size=(B, T, F))
    y, _ = layer.forward(p, x, Context(lengths=LENGTHS))
    expect = ref.run_layer(cell, x, LENGTHS, p, bi, nl)
    np.testing.assert_allclose(y, expect, rtol=1e-12, atol=1e-12)
    # lengths=None means all full length
    y_full, _ = layer.forward(p, x, Context())
    np.testing.assert_allclose(y_full, ref.run_layer(cell, x, np.full(B, T), p, bi, nl),
                               rtol=1e-12, atol=1e-12)


# -- gradients ------------------------------------------------------------------


@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("cell,nl", CELLS, ids=CELL_IDS)
def test_layer_gradients(cell, nl, bi):
    rng = np.random.default_rng(1)
    layer = make_layer(cell, nl, bi)
    stack = Stack([layer], [make_params(layer, rng)])
    x = rng.normal(size=(B, T, F))
    _, dx, _ = check_stack_gradients(stack, x, LENGTHS)
    for b in range(B):
        assert np.all(dx[b, LENGTHS[b]:] == 0.0)


@pytest.mark.parametrize("mode", ["last", "mean", "max"])
@pytest.mark.parametrize("cell1,cell2", [("lstm", "gru"), ("gru", "rnn"), ("rnn", "lstm")])
def test_two_stacked_layers_with_pooling(cell1, cell2, mode):
    rng = np.random.default_rng(2)
    l1 = make_layer(cell1, bi=True, index=0)
    l2 = make_layer(cell2, bi=(mode == "last"), index=1, in_features=2 * H, hidden=3)
    pool = SequencePooling(mode, directions=l2.directions)
    assert pool.build(l2.out_shape) == (l2.directions * 3,)
    stack = Stack([l1, l2, pool], [make_params(l1, rng), make_params(l2, rng), {}])
    x = rng.normal(size=(B, T, F))
    out, dx, _ = check_stack_gradients(stack, x, LENGTHS, seed=3)
    assert out.shape == (B, l2.directions * 3)
    # pooled value equals the reference pooling of the reference stack
    y1 = ref.run_layer(cell1, x, LENGTHS, stack.params[0], True)
    y2 = ref.run_layer(cell2, y1, LENGTHS, stack.params[1], l2.bidirectional)
    np.testing.assert_allclose(out, ref.pool(y2, LENGTHS, mode, l2.directions), atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_truncated_bptt_layer(cell):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(B, T, F))
    full = make_layer(cell, bi=True)
    p = make_params(full, rng)
    ctx = Context(lengths=LENGTHS)
    y, cache = full.forward(p, x, ctx)
    dy = rng.normal(size=y.shape)
    g_full = zeros_like(p)
    dx_full = full.backward(p, g_full, cache, dy, ctx)
    for k, equal in ((T, True), (T + 4, True), (2, False)):
        layer = make_layer(cell, bi=True, bptt=k)
        y_k, cache_k = layer.forward(p, x, ctx)
        np.testing.assert_array_equal(y_k, y)  # forward is never truncated
        g = zeros_like(p)
        dx = layer.backward(p, g, cache_k, dy, ctx)
        if equal:
            np.testing.assert_array_equal(dx, dx_full)
            for name in p:
                np.testing.assert_array_equal(g[name], g_full[name])
        else:
            assert relative_error(g["weight_hh"], g_full["weight_hh"]) > 1e-6


def test_need_input_grad_false_returns_none():
    rng = np.random.default_rng(5)
    layer = make_layer("lstm", bi=True)
    p = make_params(layer, rng)
    x = rng.normal(size=(B, T, F))
    y, cache = layer.forward(p, x, Context(lengths=LENGTHS))
    dy = rng.normal(size=y.shape)
    g1, g2 = zeros_like(p), zeros_like(p)
    assert layer.backward(p, g1, cache, dy, Context(lengths=LENGTHS, need_input_grad=False)) is None
    assert layer.backward(p, g2, cache, dy, Context(lengths=LENGTHS)).shape == x.shape
    for name in p:
        np.testing.assert_array_equal(g1[name], g2[name])


def test_float32_layer():
    rng = np.random.default_rng(6)
    layer = RecurrentLayer("gru", H, 0, bidirectional=True)  # default dtype float32
    layer.build((T, F))
    p = {k: v.astype(np.float32) for k, v in make_params(layer, rng).items()}
    x = rng.normal(size=(B, T, F))  # float64 input is cast to the layer dtype
    y, cache = layer.forward(p, x, Context(lengths=LENGTHS))
    assert y.dtype == np.float32
    g = {k: np.zeros_like(v) for k, v in p.items()}
    dx = layer.backward(p, g, cache, np.ones_like(y), Context(lengths=LENGTHS))
    assert dx.dtype == np.float32
    p64 = {k: v.astype(np.float64) for k, v in p.items()}
    np.testing.assert_allclose(y, ref.run_layer("gru", x.astype(np.float32), LENGTHS, p64, True),
                               atol=1e-5)


def test_backend_routing():
    calls = []

    def spy(name):
        def fn(*args):
            calls.append(name)
            return getattr(K, name)(*args)
        return fn

    from seqnet.kernels import contract, cpu

    # every kernel of the contract (array helpers unspied), the recurrent ones spied
    backend = types.SimpleNamespace(**{n: getattr(cpu, n) for n in contract.KERNELS},
                                    NAME="spy", ON_DEVICE=False)
    for n in K.__all__:
        setattr(backend, n, spy(n))
    rng = np.random.default_rng(7)
    layer = make_layer("lstm", bi=True)
    pool = SequencePooling("max")
    p = make_params(layer, rng)
    ctx = Context(lengths=LENGTHS, backend=backend)
    y, cache = layer.forward(p, rng.normal(size=(B, T, F)), ctx)
    out, pcache = pool.forward({}, y, ctx)
    dy = pool.backward({}, {}, pcache, np.ones_like(out), ctx)
    layer.backward(p, zeros_like(p), cache, dy, ctx)
    assert calls == ["recurrent_forward", "recurrent_forward", "seqpool_max_forward",
                     "seqpool_max_backward", "recurrent_backward", "recurrent_backward"]


# -- ragged invariance ----------------------------------------------------------


@pytest.mark.parametrize("mode", ["last", "mean", "max"])
@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_ragged_batch_equals_unpadded_sequences(cell, mode):
    rng = np.random.default_rng(8)
    layer = make_layer(cell, bi=True)
    pool = SequencePooling(mode, directions=2)
    p = make_params(layer, rng)
    x = rng.normal(size=(B, T, F))
    x_garbage = x.copy()
    for b in range(B):
        x_garbage[b, LENGTHS[b]:] = rng.normal(size=(T - LENGTHS[b], F)) * 10
    ctx = Context(lengths=LENGTHS)
    y, cache = layer.forward(p, x_garbage, ctx)
    pooled, pcache = pool.forward({}, y, ctx)
    dpooled = rng.normal(size=pooled.shape)
    g = zeros_like(p)
    dx = layer.backward(p, g, cache, pool.backward({}, {}, pcache, dpooled, ctx), ctx)
    g_sum = {k: np.zeros_like(v) for k, v in p.items()}
    for b in range(B):
        L = int(LENGTHS[b])
        xb = x[b:b + 1, :L]
        yb, cb = layer.forward(p, xb, Context())
        np.testing.assert_allclose(y[b, :L], yb[0], rtol=1e-12, atol=1e-13)
        assert np.all(y[b, L:] == 0.0)
        pb, pcb = pool.forward({}, yb, Context())
        np.testing.assert_allclose(pooled[b], pb[0], rtol=1e-12, atol=1e-13)
        gb = zeros_like(p)
        dxb = layer.backward(p, gb, cb, pool.backward({}, {}, pcb, dpooled[b:b + 1], Context()),
                             Context())
        np.testing.assert_allclose(dx[b, :L], dxb[0], rtol=1e-10, atol=1e-13)
        assert np.all(dx[b, L:] == 0.0)
        for k in p:
            g_sum[k] += gb[k]
    for k in p:  # batch gradient = sum of per-sequence gradients
        np.testing.assert_allclose(g[k], g_sum[k], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_extra_padding_changes_nothing(cell):
    rng = np.random.default_rng(9)
    layer = make_layer(cell, bi=True)
    p = make_params(layer, rng)
    x = rng.normal(size=(B, T, F))
    x_long = np.concatenate([x, rng.normal(size=(B, 3, F))], axis=1)
    dy = rng.normal(size=(B, T + 3, 2 * H))
    results = []
    for xi in (x, x_long):
        ctx = Context(lengths=LENGTHS)
        y, cache = layer.forward(p, xi, ctx)
        g = zeros_like(p)
        dx = layer.backward(p, g, cache, dy[:, :xi.shape[1]], ctx)
        results.append((y, dx, g))
    (y1, dx1, g1), (y2, dx2, g2) = results
    # equal up to BLAS blocking of the differently shaped products
    np.testing.assert_allclose(y2[:, :T], y1, rtol=1e-13, atol=1e-14)
    assert np.all(y2[:, T:] == 0) and np.all(dx2[:, T:] == 0)
    np.testing.assert_allclose(dx2[:, :T], dx1, rtol=1e-13, atol=1e-14)
    for k in p:
        np.testing.assert_allclose(g2[k], g1[k], rtol=1e-13, atol=1e-14)


# -- PyTorch --------------------------------------------------------------------

TORCH_CELLS = [("rnn", "tanh"), ("rnn", "relu"), ("lstm", "tanh"), ("gru", "tanh")]


def _torch_module(torch, cell, nl, bi, num_layers):
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    kw = {"nonlinearity": nl} if cell == "rnn" else {}
    return cls(F, H, num_layers=num_layers, batch_first=True, bidirectional=bi, **kw).double()


def _torch_name(layer, local):
    base, _, rev = local.partition("_reverse")
    return f"{base}_l{layer.index}" + ("_reverse" if local.endswith("_reverse") else "")


@pytest.mark.parametrize("num_layers", [1, 2])
@pytest.mark.parametrize("bi", [False, True])
@pytest.mark.parametrize("cell,nl", TORCH_CELLS, ids=CELL_IDS)
def test_matches_torch(cell, nl, bi, num_layers):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(10)
    layers, params = [], []
    in_features = F
    for i in range(num_layers):
        layer = make_layer(cell, nl, bi, index=i, in_features=in_features)
        layers.append(layer)
        params.append(make_params(layer, rng))
        in_features = layer.out_shape[1]
    module = _torch_module(torch, cell, nl, bi, num_layers)
    with torch.no_grad():
        for layer, p in zip(layers, params):
            for name, v in p.items():
                getattr(module, _torch_name(layer, name)).copy_(torch.from_numpy(v))
    x = rng.normal(size=(B, T, F))
    stack = Stack(layers, params)
    ctx = Context()
    y, caches = stack.forward(x, ctx)
    dy = rng.normal(size=y.shape)
    dx, grads = stack.backward(dy, caches, ctx)

    xt = torch.from_numpy(x).requires_grad_()
    yt, _ = module(xt)
    (yt * torch.from_numpy(dy)).sum().backward()
    assert np.abs(y - yt.detach().numpy()).max() < 1e-5
    assert np.abs(dx - xt.grad.numpy()).max() < 1e-5
    for layer, g in zip(layers, grads):
        for name in g:
            tg = getattr(module, _torch_name(layer, name)).grad.numpy()
            assert np.abs(g[name] - tg).max() < 1e-5, f"{layer.prefix}.{name}"


@pytest.mark.parametrize("cell,nl", TORCH_CELLS, ids=CELL_IDS)
def test_matches_torch_packed_ragged(cell, nl):
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

    rng = np.random.default_rng(11)
    layer = make_layer(cell, nl, bi=True)
    p = make_params(layer, rng)
    module = _torch_module(torch, cell, nl, True, 1)
    with torch.no_grad():
        for name, v in p.items():
            getattr(module, _torch_name(layer, name)).copy_(torch.from_numpy(v))
    x = rng.normal(size=(B, T, F))
    ctx = Context(lengths=LENGTHS)
    y, cache = layer.forward(p, x, ctx)
    pooled, pcache = SequencePooling("last", directions=2).forward({}, y, ctx)
    dy = rng.normal(size=y.shape)
    g = zeros_like(p)
    dx = layer.backward(p, g, cache, dy, ctx)

    xt = torch.from_numpy(x).requires_grad_()
    packed = pack_padded_sequence(xt, torch.from_numpy(LENGTHS), batch_first=True,
                                  enforce_sorted=False)
    out, h_n = module(packed)
    if cell == "lstm":
        h_n = h_n[0]
    yt, _ = pad_packed_sequence(out, batch_first=True, total_length=T)
    (yt * torch.from_numpy(dy)).sum().backward()
    assert np.abs(y - yt.detach().numpy()).max() < 1e-5
    assert np.abs(dx - xt.grad.numpy()).max() < 1e-5
    # "last" pooling of a bidirectional output is PyTorch's h_n (forward, reverse)
    h_last = torch.cat([h_n[0], h_n[1]], dim=1).detach().numpy()
    assert np.abs(pooled - h_last).max() < 1e-5
    for name in g:
        tg = getattr(module, _torch_name(layer, name)).grad.numpy()
        assert np.abs(g[name] - tg).max() < 1e-5, name
