"""What the recurrent chunk kernels read, against NumPy: the weight layouts
(per-thread buffers on cache lines, ``recurrent_weights``) and the operand
table the packer fills (every array in place, the row buffers from their
first cache line)."""

import threading

import numpy as np
import pytest

from seqnet.kernels.cpu import recurrent_chunk_kernels as tables
from seqnet.kernels.cpu import recurrent_weights as weights
from seqnet.kernels.cpu.blas import ALIGNMENT
from seqnet.kernels.cpu.operand_table import ENTRY, array_cell, new_table
from seqnet.kernels.cpu.spin_wait import COMPLETED


def _entry(table, i):
    """(address, dims) of array ``i`` of ``table``."""
    first = array_cell(i)
    return int(table[first]), tuple(int(d) for d in table[first + 1:first + ENTRY])


def _bias_reference(gru, b_ih, b_hh):
    if not gru:
        return b_ih + b_hh
    H = b_ih.shape[0] // 3
    return np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_hh[2 * H:], b_ih[2 * H:]])


def _column_blocks_reference(m, n_blocks, width):
    out = np.zeros((n_blocks, m.shape[0], width), m.dtype)
    for k in range(n_blocks):
        cols = m[:, k * width:(k + 1) * width]
        out[k, :, :cols.shape[1]] = cols
    return out


def _weights(rng, gates, F, H, dtype):
    GH = gates * H
    return (rng.normal(size=(GH, F)).astype(dtype), rng.normal(size=(GH, H)).astype(dtype),
            rng.normal(size=GH).astype(dtype), rng.normal(size=GH).astype(dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gates, gru", [(1, False), (4, False), (3, True)])
@pytest.mark.parametrize("n_blocks", [1, 3])
def test_forward_weights_match_numpy_on_cache_lines(gates, gru, n_blocks, dtype):
    rng = np.random.default_rng(gates)
    F, H = 5, 7
    w_ih, w_hh, b_ih, b_hh = _weights(rng, gates, F, H, dtype)
    GH = gates * H
    width = -(-GH // n_blocks)  # the last block zero-padded
    w_ih_t, w_hh_b, bias = weights.forward_weights(gru, w_ih, w_hh, b_ih, b_hh, n_blocks, width)
    np.testing.assert_array_equal(w_ih_t, w_ih.T)
    np.testing.assert_array_equal(w_hh_b, _column_blocks_reference(w_hh.T, n_blocks, width))
    np.testing.assert_array_equal(bias[0], _bias_reference(gru, b_ih, b_hh))
    for a in (w_ih_t, w_hh_b, bias):
        assert a.dtype == dtype and a.flags.c_contiguous and a.ctypes.data % ALIGNMENT == 0


def test_weight_buffers_are_reused_per_thread():
    rng = np.random.default_rng(0)
    w_ih, w_hh, b_ih, b_hh = _weights(rng, 4, 2, 3, np.float32)
    first = weights.forward_weights(False, w_ih, w_hh, b_ih, b_hh, 1, 12)
    again = weights.forward_weights(False, 2 * w_ih, 2 * w_hh, b_ih, b_hh, 1, 12)
    assert all(a is b for a, b in zip(first, again))  # rewritten in place
    np.testing.assert_array_equal(again[0], 2 * w_ih.T)
    other = []
    thread = threading.Thread(target=lambda: other.append(
        weights.forward_weights(False, w_ih, w_hh, b_ih, b_hh, 1, 12)))
    thread.start()
    thread.join()
    assert not any(np.shares_memory(a, b) for a, b in zip(first, other[0]))
    np.testing.assert_array_equal(first[0], 2 * w_ih.T)  # the other thread left it alone
    w_hh_a = weights.backward_weights(w_hh)
    assert w_hh_a.ctypes.data % ALIGNMENT == 0 and w_hh_a is weights.backward_weights(w_hh)
    np.testing.assert_array_equal(w_hh_a, w_hh)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pack_operands_puts_every_array_in_place(dtype):
    rng = np.random.default_rng(1)
    B, T, F, H = 6, 3, 2, 4
    x, h, dh = (rng.normal(size=(B, T, n)).astype(dtype) for n in (F, H, H))
    h0, c0, w_ih_t, bias = (rng.normal(size=shape).astype(dtype)
                            for shape in ((B, H), (B, H), (F, 4 * H), (1, 4 * H)))
    values = np.array([B * (T + 1) * (F + H + 1), 0, B * T * 4 * H], np.int64)
    rows = tuple(np.empty(n + weights.LINE, dtype) for n in values)
    lengths, edges = np.full(B, T, np.int64), np.array([0, 3, B], np.int64)
    table = new_table(tables.N_ARRAYS)
    table[COMPLETED] = 2
    tables.pack_operands(table, (x, h, dh), (h0, c0, w_ih_t, bias), rows, values, lengths, edges)
    assert table[COMPLETED] == 0
    for i, a in enumerate((x, h, dh, h0, c0, w_ih_t, bias)):
        address, dims = _entry(table, i)
        assert address == a.ctypes.data and dims[:a.ndim] == a.shape
    # the forward's places of those arrays, and the backward's
    assert [tables.F_X, tables.F_H, tables.F_W_HH_B, tables.F_H0, tables.F_C0, tables.F_W_IH_T,
            tables.F_BIAS] == list(range(7))
    assert [tables.B_DH, tables.B_DX, tables.B_W_IH, tables.B_W_HH, tables.B_PARTS] == \
        [0, 1, 3, 4, 5]
    for i, a in ((tables.LENGTHS, lengths), (tables.EDGES, edges)):
        assert _entry(table, i) == (a.ctypes.data, (a.size, 0, 0))
    for i, buf, n in zip((tables.HBUF, tables.CBUF, tables.GBUF), rows, values):
        address, dims = _entry(table, i)
        assert address % ALIGNMENT == 0 and dims[0] == n
        assert buf.ctypes.data <= address < buf.ctypes.data + ALIGNMENT
        assert address + n * buf.itemsize <= buf.ctypes.data + buf.nbytes
