"""Kernel-level tests of seqnet.kernels.cpu.recurrent (float64 unless stated)."""

import numpy as np
import pytest

from seqnet.kernels.cpu import recurrent as K
from seqnet.kernels.cpu.activations import RELU, TANH
from tests.reference import numerical_gradient, relative_error

try:
    from tests import reference_recurrent as ref
except ImportError:  # tests/ is not a package: pytest put tests/ on sys.path
    import reference_recurrent as ref

B, T, F, H = 3, 5, 2, 4
LENGTHS = np.array([5, 2, 4], dtype=np.int64)
CELLS = ["rnn_tanh", "rnn_relu", "lstm", "gru"]


def split(cellname):
    """'rnn_relu' -> ('rnn', 'relu'); 'lstm' -> ('lstm', 'tanh')."""
    if cellname.startswith("rnn_"):
        return "rnn", cellname[4:]
    return cellname, "tanh"


def make_params(cell, rng, dtype=np.float64, scale=0.5):
    G = ref.GATES[cell]
    return {
        "weight_ih": (rng.normal(size=(G * H, F)) * scale).astype(dtype),
        "weight_hh": (rng.normal(size=(G * H, H)) * scale).astype(dtype),
        "bias_ih": (rng.normal(size=G * H) * scale).astype(dtype),
        "bias_hh": (rng.normal(size=G * H) * scale).astype(dtype),
    }


def kfwd(cellname, x, lengths, P, h0, c0, reverse, keep_cache=True):
    """Run a forward kernel (``keep_cache=False``: inference mode); returns
    (h, cache tuple for kbwd)."""
    cell, nl = split(cellname)
    kind = RELU if nl == "relu" else TANH
    h, cache = K.recurrent_forward(cell, x, lengths, P["weight_ih"], P["weight_hh"],
                                   P["bias_ih"], P["bias_hh"], h0, c0, reverse, kind, keep_cache)
    return h, cache

def assert_grads_sum_of_samples(cellname, grads, dh, x, lengths, P, h0, reverse):
    """``grads`` of a whole batch: dx equals each sample's own, and the weight
    gradients equal the sum of the samples' (each run alone, from state h0)."""
    totals = [np.zeros_like(g) for g in grads[1:]]
    for b in range(x.shape[0]):
        sl = slice(b, b + 1)
        _, cb = kfwd(cellname, x[sl], lengths[sl], P, h0[sl], h0[sl], reverse)
        gb = kbwd(cellname, dh[sl], x[sl], lengths[sl], P, h0[sl], h0[sl], cb, reverse)
        np.testing.assert_allclose(grads[0][sl], gb[0], rtol=1e-10, atol=1e-12)
        for tot, g in zip(totals, gb[1:]):
            tot += g
    for tot, g in zip(totals, grads[1:]):
        np.testing.assert_allclose(g, tot, rtol=1e-10, atol=1e-12)


def kbwd(cellname, dh, x, lengths, P, h0, c0, cache, reverse, bptt=0, need_dx=True):
    cell, nl = split(cellname)
    kind = RELU if nl == "relu" else TANH
    return K.recurrent_backward(cell, dh, x, lengths, P["weight_ih"], P["weight_hh"], cache,
                                reverse, bptt, need_dx, kind)


def setup(cellname, seed=0, h0_scale=0.0, T_=T, lengths=LENGTHS):
    rng = np.random.default_rng(seed)
    cell, _ = split(cellname)
    P = make_params(cell, rng)
    x = rng.normal(size=(B, T_, F))
    h0 = rng.normal(size=(B, H)) * h0_scale
    c0 = rng.normal(size=(B, H)) * h0_scale
    dh = rng.normal(size=(B, T_, H))
    return P, x, h0, c0, dh, lengths.copy()


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_forward_matches_reference(cellname, reverse):
    P, x, h0, c0, _, lengths = setup(cellname, h0_scale=0.7)
    cell, nl = split(cellname)
    h, _ = kfwd(cellname, x, lengths, P, h0, c0, reverse)
    expect = ref.run_direction(cell, x, lengths, P["weight_ih"], P["weight_hh"],
                               P["bias_ih"], P["bias_hh"], reverse, nl, h0, c0)
    np.testing.assert_allclose(h, expect, rtol=1e-12, atol=1e-12)
    for b in range(B):
        assert np.all(h[b, lengths[b]:] == 0.0)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_backward_finite_differences(cellname, reverse):
    P, x, h0, c0, dh, lengths = setup(cellname, seed=1, h0_scale=0.7)

    def loss():
        h, _ = kfwd(cellname, x, lengths, P, h0, c0, reverse)
        return float(np.sum(dh * h))

    _, cache = kfwd(cellname, x, lengths, P, h0, c0, reverse)
    dx, dw_ih, dw_hh, db_ih, db_hh = kbwd(cellname, dh, x, lengths, P, h0, c0, cache, reverse)
    analytic = {"weight_ih": dw_ih, "weight_hh": dw_hh, "bias_ih": db_ih, "bias_hh": db_hh}
    for name, arr in P.items():
        assert relative_error(analytic[name], numerical_gradient(loss, arr)) < 1e-6, name
    assert relative_error(dx, numerical_gradient(loss, x)) < 1e-6
    for b in range(B):
        assert np.all(dx[b, lengths[b]:] == 0.0)


@pytest.mark.parametrize("batch,chunks", [(0, 1), (8, 1), (31, 1), (32, 2), (64, 2),
                                          (100, 2), (128, 2), (200, 3), (512, 8)])
def test_chunk_bounds(batch, chunks):
    from seqnet.kernels.cpu.recurrent_chunks import chunk_bounds

    bounds = chunk_bounds(batch)
    assert bounds[0] == 0 and bounds[-1] == batch and len(bounds) == chunks + 1
    assert np.all(np.diff(bounds) >= 0)


@pytest.mark.parametrize("batch,per_row,chunks", [
    (64, 0, 2), (64, 1, 2), (64, 1 / 50, 1), (512, 1 / 50, 8), (512, 1 / 250, 2),
    (31, 1000, 1)])
def test_chunk_count_keeps_chunks_worth_a_thread(batch, per_row, chunks):
    """With the forward's multiply-adds per row given (here as a fraction of
    MIN_CHUNK_MACS), a chunk is never cut smaller than MIN_CHUNK_MACS of
    work (the count still ignores threads)."""
    from seqnet.kernels.cpu.recurrent_chunks import MIN_CHUNK_MACS, chunk_bounds, chunk_count

    row_macs = int(per_row * MIN_CHUNK_MACS)
    assert chunk_count(batch, row_macs) == chunks
    bounds = chunk_bounds(batch, row_macs)
    if chunks > 1 and row_macs:
        assert np.diff(bounds).min() * row_macs >= MIN_CHUNK_MACS


@pytest.fixture
def small_chunks(monkeypatch):
    """Tiny test layers cut into as many chunks as their batch size allows
    (their chunks hold far less than MIN_CHUNK_MACS of work)."""
    from seqnet.kernels.cpu import recurrent_chunks

    monkeypatch.setattr(recurrent_chunks, "MIN_CHUNK_MACS", 1)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_many_chunks_equal_samples_alone(cellname, reverse, small_chunks):
    """A batch split into several row chunks (ragged, lengths 0..T) gives each
    sample's own outputs, and weight gradients equal to the sum over samples."""
    rng = np.random.default_rng(7)
    cell, nl = split(cellname)
    P = make_params(cell, rng)
    n, T_ = 70, 6
    x = rng.normal(size=(n, T_, F))
    dh = rng.normal(size=(n, T_, H))
    lengths = rng.integers(0, T_ + 1, size=n).astype(np.int64)
    zeros = np.zeros((n, H))
    from seqnet.kernels.cpu.chunk_threads import chunk_threads

    with chunk_threads(2):
        h, cache = kfwd(cellname, x, lengths, P, zeros, zeros, reverse)
        grads = kbwd(cellname, dh, x, lengths, P, zeros, zeros, cache, reverse)
    with chunk_threads(1):  # chunks do not depend on the thread count
        again = kbwd(cellname, dh, x, lengths, P, zeros, zeros, cache, reverse)
        h1, cache1 = kfwd(cellname, x, lengths, P, zeros, zeros, reverse)
    np.testing.assert_array_equal(h1, h)
    for a, b in zip(grads, again):
        np.testing.assert_array_equal(a, b)
    expect = ref.run_direction(cell, x, lengths, P["weight_ih"], P["weight_hh"],
                               P["bias_ih"], P["bias_hh"], reverse, nl)
    np.testing.assert_allclose(h, expect, rtol=1e-12, atol=1e-12)
    assert_grads_sum_of_samples(cellname, grads, dh, x, lengths, P, zeros, reverse)


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_inference_mode_equals_training_forward(cellname, reverse, small_chunks):
    """keep_cache=False (per-thread workspaces, no cache kept) gives bitwise the
    same outputs as the training forward, ragged and over several chunks; its
    cache is refused by the backward pass."""
    rng = np.random.default_rng(3)
    cell, nl = split(cellname)
    P = {k: v.astype(np.float32) for k, v in make_params(cell, rng).items()}
    x = rng.normal(size=(37, 7, F)).astype(np.float32)
    lengths = rng.integers(0, 8, size=37).astype(np.int64)
    h0 = np.zeros((37, H), np.float32)
    train, infer = (kfwd(cellname, x, lengths, P, h0, h0, reverse, keep)
                    for keep in (True, False))
    np.testing.assert_array_equal(infer[0], train[0])
    dh = np.ones_like(train[0])
    with pytest.raises(ValueError, match="inference forward"):
        kbwd(cellname, dh, x, lengths, P, h0, h0, infer[1], reverse)


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_time_blocks(cellname, reverse, steps, monkeypatch, small_chunks):
    """The forward runs in blocks of a few steps: in training into the whole
    cache (the same cache, so the same gradients), in inference in a workspace
    reused block after block (the state carried across).  Outputs and
    gradients are bitwise those of one block, ragged, over several chunks, in
    both directions."""
    import seqnet.kernels.cpu.recurrent_driver as driver

    rng = np.random.default_rng(11)
    cell, nl = split(cellname)
    P = {k: v.astype(np.float32) for k, v in make_params(cell, rng).items()}
    n, T_ = 300, 7
    x = rng.normal(size=(n, T_, F)).astype(np.float32)
    dh = rng.normal(size=(n, T_, H)).astype(np.float32)
    lengths = rng.integers(0, T_ + 1, size=n).astype(np.int64)
    h0 = np.zeros((n, H), np.float32)
    assert len(driver.chunk_bounds(n)) > 2
    assert driver.block_steps(n, 4 * H, 4, T_) == T_  # unpatched: one block

    def run():
        h, cache = kfwd(cellname, x, lengths, P, h0, h0, reverse)
        grads = kbwd(cellname, dh, x, lengths, P, h0, h0, cache, reverse)
        return h, grads, kfwd(cellname, x, lengths, P, h0, h0, reverse, False)[0]

    whole = run()
    monkeypatch.setattr(driver, "block_steps", lambda *args: steps)
    blocked = run()
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_array_equal(blocked[2], whole[0])
    for a, b in zip(blocked[1], whole[1]):
        np.testing.assert_array_equal(a, b)
    for b in range(n):
        assert np.all(blocked[2][b, lengths[b]:] == 0.0)


@pytest.mark.parametrize("rows,width,itemsize,steps,expect", [
    (128, 256, 4, 50, 4), (64, 1024, 4, 200, 2), (128, 4096, 8, 10, 1), (16, 4, 4, 3, 3)])
def test_block_steps(rows, width, itemsize, steps, expect):
    from seqnet.kernels.cpu.recurrent_chunks import BLOCK_BYTES, block_steps

    got = block_steps(rows, width, itemsize, steps)
    assert got == expect
    assert got == steps or got == 1 or got * rows * width * itemsize <= BLOCK_BYTES


@pytest.mark.parametrize("cellname", CELLS)
def test_wide_layer_products_in_pieces(cellname):
    """A wide layer's per-step products run in pieces (blas.piece_width): the
    forward matches the reference, ragged, in both directions, and the weight
    gradients equal the sum of each sample's alone (one row: one piece)."""
    from seqnet.kernels.cpu.blas import piece_width
    from seqnet.kernels.cpu.recurrent_chunks import chunk_bounds

    rng = np.random.default_rng(5)
    cell, nl = split(cellname)
    G = ref.GATES[cell]
    Hw, n, T_ = 256, 40, 4
    rows = int(np.diff(chunk_bounds(n)).max())
    assert piece_width(rows, Hw, G * Hw) < G * Hw  # the test runs split products
    P = {"weight_ih": rng.normal(size=(G * Hw, F)) * 0.1,
         "weight_hh": rng.normal(size=(G * Hw, Hw)) * 0.1,
         "bias_ih": rng.normal(size=G * Hw) * 0.1, "bias_hh": rng.normal(size=G * Hw) * 0.1}
    x = rng.normal(size=(n, T_, F))
    dh = rng.normal(size=(n, T_, Hw))
    lengths = rng.integers(1, T_ + 1, size=n).astype(np.int64)
    h0 = np.zeros((n, Hw))
    for reverse in (False, True):
        h, cache = kfwd(cellname, x, lengths, P, h0, h0, reverse)
        expect = ref.run_direction(cell, x, lengths, P["weight_ih"], P["weight_hh"],
                                   P["bias_ih"], P["bias_hh"], reverse, nl)
        np.testing.assert_allclose(h, expect, rtol=1e-12, atol=1e-12)
    grads = kbwd(cellname, dh, x, lengths, P, h0, h0, cache, True)
    assert_grads_sum_of_samples(cellname, grads, dh, x, lengths, P, h0, True)


@pytest.mark.parametrize("cellname", CELLS)
def test_float32_close_to_float64(cellname):
    P, x, h0, c0, dh, lengths = setup(cellname, seed=2, h0_scale=0.5)
    P32 = {k: v.astype(np.float32) for k, v in P.items()}
    f32 = lambda a: a.astype(np.float32)  # noqa: E731
    h64, cache64 = kfwd(cellname, x, lengths, P, h0, c0, True)
    h32, cache32 = kfwd(cellname, f32(x), lengths, P32, f32(h0), f32(c0), True)
    assert h32.dtype == np.float32
    np.testing.assert_allclose(h32, h64, atol=1e-5)
    g64 = kbwd(cellname, dh, x, lengths, P, h0, c0, cache64, True)
    g32 = kbwd(cellname, f32(dh), f32(x), lengths, P32, f32(h0), f32(c0), cache32, True)
    for a, b in zip(g32, g64):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, atol=1e-4)


@pytest.mark.parametrize("cellname", ["lstm", "gru", "rnn_tanh"])
def test_need_dx_false_skips_dx(cellname):
    P, x, h0, c0, dh, lengths = setup(cellname)
    _, cache = kfwd(cellname, x, lengths, P, h0, c0, False)
    full = kbwd(cellname, dh, x, lengths, P, h0, c0, cache, False, need_dx=True)
    part = kbwd(cellname, dh, x, lengths, P, h0, c0, cache, False, need_dx=False)
    assert part[0].size == 0
    for a, b in zip(full[1:], part[1:]):
        np.testing.assert_array_equal(a, b)


def chunked_grads(cellname, x, lengths, P, dh, reverse, k):
    """Sum over chunks of k processing steps of each chunk's FULL gradients,
    each chunk run separately from the state of the full forward pass."""
    cell, _ = split(cellname)
    zeros = np.zeros((B, H))
    h_full, c_full = ref.run_direction(cell, x, lengths, P["weight_ih"], P["weight_hh"],
                                       P["bias_ih"], P["bias_hh"], reverse,
                                       nonlinearity=split(cellname)[1], return_cell=True)
    totals = [np.zeros_like(P[n]) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
    dx = np.zeros_like(x)
    smax = int(lengths.max())
    for s0 in range(0, smax, k):
        lc = np.clip(lengths - s0, 0, k).astype(np.int64)
        xc = np.zeros((B, k, F))
        dhc = np.zeros((B, k, H))
        h0c = np.zeros((B, H))
        c0c = np.zeros((B, H))
        starts = np.zeros(B, dtype=np.int64)
        for b in range(B):
            L, n = int(lengths[b]), int(lc[b])
            if n == 0:
                continue
            start = L - s0 - n if reverse else s0
            starts[b] = start
            xc[b, :n] = x[b, start:start + n]
            dhc[b, :n] = dh[b, start:start + n]
            if s0 > 0:
                tprev = L - s0 if reverse else s0 - 1
                h0c[b] = h_full[b, tprev]
                if c_full is not None:
                    c0c[b] = c_full[b, tprev]
        _, cc = kfwd(cellname, xc, lc, P, h0c, c0c, reverse)
        dxc, *grads = kbwd(cellname, dhc, xc, lc, P, h0c, c0c, cc, reverse)
        for tot, gr in zip(totals, grads):
            tot += gr
        for b in range(B):
            n = int(lc[b])
            dx[b, starts[b]:starts[b] + n] += dxc[b, :n]
    return [dx] + totals


@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("cellname", CELLS)
def test_truncated_bptt(cellname, reverse):
    T_ = 7
    lengths = np.array([7, 3, 6], dtype=np.int64)
    P, x, _, _, dh, _ = setup(cellname, seed=3, T_=T_)
    zeros = np.zeros((B, H))
    _, cache = kfwd(cellname, x, lengths, P, zeros, zeros, reverse)
    full = kbwd(cellname, dh, x, lengths, P, zeros, zeros, cache, reverse, bptt=0)
    for k in (T_, T_ + 3):
        same = kbwd(cellname, dh, x, lengths, P, zeros, zeros, cache, reverse, bptt=k)
        for a, b in zip(full, same):
            np.testing.assert_array_equal(a, b)
    for k in (1, 2, 3):
        trunc = kbwd(cellname, dh, x, lengths, P, zeros, zeros, cache, reverse, bptt=k)
        expect = chunked_grads(cellname, x, lengths, P, dh, reverse, k)
        for a, b in zip(trunc, expect):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
        assert relative_error(trunc[2], full[2]) > 1e-6  # truncation really cuts something


@pytest.mark.parametrize("cellname", CELLS)
def test_tiny_gradients_flushed_to_zero(cellname):
    P, x, h0, c0, dh, lengths = setup(cellname)
    _, cache = kfwd(cellname, x, lengths, P, h0, c0, False)
    grads = kbwd(cellname, dh * 1e-36, x, lengths, P, h0, c0, cache, False)
    for a in grads:
        assert np.all(a == 0.0)


def test_pooling_kernels_match_reference():
    rng = np.random.default_rng(4)
    lengths = np.array([5, 1, 3], dtype=np.int64)
    y = rng.normal(size=(B, T, 2 * H))
    for b in range(B):
        y[b, lengths[b]:] = 0.0
    np.testing.assert_allclose(K.seqpool_mean_forward(y, lengths), ref.pool(y, lengths, "mean"))
    out, arg = K.seqpool_max_forward(y, lengths)
    np.testing.assert_allclose(out, ref.pool(y, lengths, "max"))
    for d in (1, 2):
        np.testing.assert_allclose(K.seqpool_last_forward(y, lengths, d),
                                   ref.pool(y, lengths, "last", d))
    dout = rng.normal(size=(B, 2 * H))
    dmax = K.seqpool_max_backward(dout, arg, T)
    np.testing.assert_allclose(dmax.sum(axis=1), dout)
    dmean = K.seqpool_mean_backward(dout, lengths, T)
    np.testing.assert_allclose(dmean.sum(axis=1), dout)
    dlast = K.seqpool_last_backward(dout, lengths, 2, T)
    np.testing.assert_allclose(dlast.sum(axis=1), dout)
    for d in (dmax, dmean, dlast):
        for b in range(B):
            assert np.all(d[b, lengths[b]:] == 0.0)
    # A sample of length 0 pools to zeros.
    z = np.array([0, 5, 2], dtype=np.int64)
    assert np.all(K.seqpool_mean_forward(y, z)[0] == 0)
    assert np.all(K.seqpool_max_forward(y, z)[0][0] == 0)
    assert np.all(K.seqpool_last_forward(y, z, 2)[0] == 0)
