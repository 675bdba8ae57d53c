"""Conv / pool / flatten layers: shapes, errors, parameters, and agreement with PyTorch."""

import types

import numpy as np
import pytest

from seqnet.network.conv import (
    Conv1DLayer,
    Conv2DLayer,
    FlattenLayer,
    MaxPool1DLayer,
    MaxPool2DLayer,
    conv_output_size,
)
from seqnet.network.layers import Context


def init_params(layer, rng, dtype=np.float64):
    """Allocate p and g like the network does: views into flat buffers."""
    specs = layer.param_specs()
    sizes = [int(np.prod(s.shape)) for s in specs]
    flat_p = rng.standard_normal(sum(sizes)).astype(dtype) * 0.5
    flat_g = np.full(sum(sizes), np.nan, dtype=dtype)  # backward must overwrite
    p, g, off = {}, {}, 0
    for spec, n in zip(specs, sizes):
        p[spec.name] = flat_p[off:off + n].reshape(spec.shape)
        g[spec.name] = flat_g[off:off + n].reshape(spec.shape)
        off += n
    return p, g


# ---------------------------------------------------------------- shapes and errors

@pytest.mark.parametrize("n,k,s,padding,expected", [
    (8, 3, 1, "same", (8, 1)),
    (8, 4, 1, "same", (8, 1)),   # total pad 3: 1 before, 2 after
    (7, 3, 2, "same", (4, 1)),
    (8, 3, 2, "same", (4, 0)),   # total pad 1: 0 before, 1 after
    (6, 1, 3, "same", (2, 0)),
    (7, 3, 1, "valid", (5, 0)),
    (7, 3, 2, "valid", (3, 0)),
    (7, 3, 2, 1, (4, 1)),
])
def test_conv_output_size(n, k, s, padding, expected):
    assert conv_output_size(n, k, s, padding) == expected


def test_layer_shapes_and_specs():
    layer = Conv2DLayer(5, (3, 2), index=2, strides=(2, 1), padding="same")
    assert layer.build((7, 6, 3)) == (4, 6, 5)
    assert layer.prefix == "conv.2"
    w, b = layer.param_specs()
    assert (w.name, w.shape, w.init, w.fan_in, w.fan_out, w.regularize) == (
        "weight", (5, 3, 3, 2), "default", 18, 30, True)
    assert (b.name, b.shape, b.init, b.regularize) == ("bias", (5,), "zeros", False)

    layer1 = Conv1DLayer(4, 3, index=0, strides=2, padding=1)
    assert layer1.build((9, 2)) == (5, 4)
    w1, b1 = layer1.param_specs()
    assert w1.shape == (4, 2, 3) and (w1.fan_in, w1.fan_out) == (6, 12)
    assert layer1.prefix == "conv.0"

    assert MaxPool2DLayer(2).build((7, 5, 3)) == (3, 2, 3)
    assert MaxPool2DLayer((3, 2), strides=1).build((7, 5, 3)) == (5, 4, 3)
    assert MaxPool1DLayer(3, strides=2).build((9, 4)) == (4, 4)
    assert FlattenLayer().build((3, 2, 4)) == (24,)


def test_invalid_output_size_raises():
    with pytest.raises(ValueError, match=r"conv\.0.*input size 5, kernel 2, stride 2"):
        Conv1DLayer(4, 2, index=0, strides=2, padding="valid").build((5, 1))
    with pytest.raises(ValueError, match=r"conv\.3.*width.*input size 4, kernel 5"):
        Conv2DLayer(4, 5, index=3, padding="valid").build((6, 4, 1))
    with pytest.raises(ValueError, match=r"conv\.1.*input size 6, kernel 3, stride 2"):
        Conv2DLayer(4, 3, index=1, strides=2, padding=1).build((6, 7, 1))
    with pytest.raises(ValueError, match="padding"):
        Conv1DLayer(4, 3, index=0, padding="full")
    with pytest.raises(ValueError, match="activation"):
        Conv1DLayer(4, 3, index=0, activation="swish")
    with pytest.raises(ValueError, match=r"maxpool2d.*window 3.*input size 2"):
        MaxPool2DLayer(3).build((2, 5, 1))
    with pytest.raises(ValueError, match=r"maxpool1d.*window 4.*input size 3"):
        MaxPool1DLayer(4).build((3, 2))
    # 'same' is always valid, whatever the stride.
    assert Conv1DLayer(2, 1, index=0, strides=4, padding="same").build((6, 1)) == (2, 2)


# ---------------------------------------------------------------- layer mechanics

def test_need_input_grad_false_and_overwrite():
    rng = np.random.default_rng(0)
    layer = Conv2DLayer(3, 3, index=0, padding="same", activation="tanh", dtype=np.float64)
    layer.build((5, 5, 2))
    p, g = init_params(layer, rng)
    x = rng.standard_normal((4, 5, 5, 2))
    y, cache = layer.forward(p, x, Context())
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(p, g, cache, dy, Context(need_input_grad=True))
    g1 = {k: v.copy() for k, v in g.items()}
    assert dx.shape == x.shape
    assert layer.backward(p, g, cache, dy, Context(need_input_grad=False)) is None
    for k in g:  # overwritten, not accumulated
        np.testing.assert_array_equal(g[k], g1[k])


def test_backend_dispatch():
    rng = np.random.default_rng(1)
    calls = []
    from seqnet.kernels.cpu import conv as cpu_conv

    def spy(*args):
        calls.append("conv1d_forward")
        return cpu_conv.conv1d_forward(*args)

    # a backend with every kernel of the contract but conv1d_backward, and a
    # spying conv1d_forward
    from seqnet.kernels import contract, cpu

    kernels = {n: getattr(cpu, n) for n in contract.KERNELS if n != "conv1d_backward"}
    backend = types.SimpleNamespace(**{**kernels, "conv1d_forward": spy},
                                    NAME="fake", ON_DEVICE=False)
    layer = Conv1DLayer(2, 3, index=0, dtype=np.float64)
    layer.build((6, 1))
    p, _ = init_params(layer, rng)
    y, cache = layer.forward(p, rng.standard_normal((2, 6, 1)), Context(backend=backend))
    assert calls == ["conv1d_forward"]
    with pytest.raises(AttributeError, match="conv1d_backward"):
        layer.backward(p, {}, cache, y, Context(backend=backend))
    # The CPU package itself works as a backend (it exports every kernel name).
    y2, _ = layer.forward(p, cache[0], Context(backend=cpu))
    np.testing.assert_array_equal(y2, y)


def test_flatten_round_trip():
    layer = FlattenLayer()
    layer.build((2, 3, 4))
    x = np.arange(48.0).reshape(2, 2, 3, 4)
    y, cache = layer.forward({}, x, Context())
    assert y.shape == (2, 24)
    np.testing.assert_array_equal(layer.backward({}, {}, cache, y, Context()), x)


def test_float32_layer():
    rng = np.random.default_rng(2)
    layer = Conv2DLayer(4, 3, index=0, padding="same")
    layer.build((6, 6, 1))
    p, g = init_params(layer, rng, np.float32)
    y, cache = layer.forward(p, rng.standard_normal((3, 6, 6, 1)), Context())
    assert y.dtype == np.float32 and cache[0].dtype == np.float32
    assert layer.backward(p, g, cache, np.ones_like(y), Context(need_input_grad=False)) is None
    assert np.isfinite(g["weight"]).all() and g["weight"].dtype == np.float32


def test_layer_gradients_bitwise_deterministic():
    rng = np.random.default_rng(3)
    layer = Conv2DLayer(8, 3, index=0, padding="same", dtype=np.float32)
    layer.build((8, 8, 4))
    p, g = init_params(layer, rng, np.float32)
    x = rng.standard_normal((37, 8, 8, 4)).astype(np.float32)
    dy = rng.standard_normal((37, 8, 8, 8)).astype(np.float32)
    out = []
    for _ in range(2):
        y, cache = layer.forward(p, x, Context())
        dx = layer.backward(p, g, cache, dy, Context())
        out.append((y.tobytes(), dx.tobytes(), g["weight"].tobytes(), g["bias"].tobytes()))
    assert out[0] == out[1]


# ---------------------------------------------------------------- PyTorch agreement

ACTS = {"relu": "relu", "tanh": "tanh", "identity": None, "logistic": "sigmoid"}


def torch_act(torch, name, z):
    return z if ACTS[name] is None else getattr(torch, ACTS[name])(z)


def torch_pads(layer_pad, n_in, k, s, n_out):
    """(before, after) zeros that reproduce the layer's geometry in PyTorch."""
    after = max((n_out - 1) * s + k - n_in - layer_pad, 0)
    return layer_pad, after


@pytest.mark.parametrize("stride,padding,act", [
    (1, "same", "relu"), (1, "valid", "tanh"), (1, 2, "identity"),
    (2, "same", "relu"), (2, "valid", "logistic"), (2, 1, "relu"),
])
def test_conv1d_matches_torch(stride, padding, act):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(4)
    T, C, K, Fo = 9, 3, 3, 4
    layer = Conv1DLayer(Fo, K, index=0, strides=stride, padding=padding, activation=act,
                        dtype=np.float64)
    (To, _) = layer.build((T, C))
    p, g = init_params(layer, rng)
    x = rng.standard_normal((3, T, C))
    y, cache = layer.forward(p, x, Context())
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(p, g, cache, dy, Context())

    conv = torch.nn.Conv1d(C, Fo, K, stride=stride, dtype=torch.float64)
    with torch.no_grad():  # state_dict maps one to one
        conv.load_state_dict({"weight": torch.from_numpy(p["weight"].copy()),
                              "bias": torch.from_numpy(p["bias"].copy())})
    xt = torch.from_numpy(x).permute(0, 2, 1).contiguous().requires_grad_(True)
    yt = torch_act(torch, act, conv(F.pad(xt, torch_pads(layer.pad, T, K, stride, To))))
    yt.backward(torch.from_numpy(dy).permute(0, 2, 1))
    assert np.abs(y - yt.detach().permute(0, 2, 1).numpy()).max() < 1e-6
    assert np.abs(dx - xt.grad.permute(0, 2, 1).numpy()).max() < 1e-6
    assert np.abs(g["weight"] - conv.weight.grad.numpy()).max() < 1e-6
    assert np.abs(g["bias"] - conv.bias.grad.numpy()).max() < 1e-6


@pytest.mark.parametrize("strides,padding,kernel,act", [
    (1, "same", 3, "relu"), (1, "same", (2, 3), "tanh"), (1, "valid", (3, 2), "relu"),
    (1, 1, 3, "identity"), (2, "same", 3, "relu"), (2, "same", 2, "logistic"),
    ((2, 1), "valid", 3, "tanh"), (2, 1, 3, "relu"),
])
def test_conv2d_matches_torch(strides, padding, kernel, act):
    torch = pytest.importorskip("torch")
    F = torch.nn.functional
    rng = np.random.default_rng(5)
    H, W, C, Fo = 7, 9, 2, 3
    layer = Conv2DLayer(Fo, kernel, index=1, strides=strides, padding=padding,
                        activation=act, dtype=np.float64)
    Ho, Wo, _ = layer.build((H, W, C))
    p, g = init_params(layer, rng)
    x = rng.standard_normal((3, H, W, C))
    y, cache = layer.forward(p, x, Context())
    dy = rng.standard_normal(y.shape)
    dx = layer.backward(p, g, cache, dy, Context())

    (KH, KW), (SH, SW) = layer.kernel_size, layer.strides
    conv = torch.nn.Conv2d(C, Fo, (KH, KW), stride=(SH, SW), dtype=torch.float64)
    with torch.no_grad():
        conv.load_state_dict({"weight": torch.from_numpy(p["weight"].copy()),
                              "bias": torch.from_numpy(p["bias"].copy())})
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    pads = torch_pads(layer.pad_w, W, KW, SW, Wo) + torch_pads(layer.pad_h, H, KH, SH, Ho)
    yt = torch_act(torch, act, conv(F.pad(xt, pads)))
    yt.backward(torch.from_numpy(dy).permute(0, 3, 1, 2))
    assert np.abs(y - yt.detach().permute(0, 2, 3, 1).numpy()).max() < 1e-6
    assert np.abs(dx - xt.grad.permute(0, 2, 3, 1).numpy()).max() < 1e-6
    assert np.abs(g["weight"] - conv.weight.grad.numpy()).max() < 1e-6
    assert np.abs(g["bias"] - conv.bias.grad.numpy()).max() < 1e-6


@pytest.mark.parametrize("pool,strides", [(2, None), (3, 2), (2, 1)])
def test_maxpool1d_matches_torch(pool, strides):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    layer = MaxPool1DLayer(pool, strides)
    layer.build((9, 3))
    x = rng.standard_normal((2, 9, 3))
    y, cache = layer.forward({}, x, Context())
    dy = rng.standard_normal(y.shape)
    dx = layer.backward({}, {}, cache, dy, Context())
    xt = torch.from_numpy(x).permute(0, 2, 1).contiguous().requires_grad_(True)
    yt = torch.nn.MaxPool1d(pool, strides)(xt)
    yt.backward(torch.from_numpy(dy).permute(0, 2, 1))
    assert np.abs(y - yt.detach().permute(0, 2, 1).numpy()).max() < 1e-6
    assert np.abs(dx - xt.grad.permute(0, 2, 1).numpy()).max() < 1e-6


@pytest.mark.parametrize("pool,strides", [(2, None), ((3, 2), (2, 1)), (2, 1)])
def test_maxpool2d_matches_torch(pool, strides):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    layer = MaxPool2DLayer(pool, strides)
    layer.build((7, 6, 3))
    x = rng.standard_normal((2, 7, 6, 3))
    y, cache = layer.forward({}, x, Context())
    dy = rng.standard_normal(y.shape)
    dx = layer.backward({}, {}, cache, dy, Context())
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_(True)
    yt = torch.nn.MaxPool2d(pool, strides)(xt)
    yt.backward(torch.from_numpy(dy).permute(0, 3, 1, 2))
    assert np.abs(y - yt.detach().permute(0, 2, 3, 1).numpy()).max() < 1e-6
    assert np.abs(dx - xt.grad.permute(0, 2, 3, 1).numpy()).max() < 1e-6
