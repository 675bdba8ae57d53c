"""The compiled fillers of the recurrent operand tables against NumPy: the
weight layouts the products read, the arrays each table cell points at, the
cache-line alignment, and zeroed padding between the partial gradients."""

import numpy as np
import pytest

from seqnet.kernels.cpu.blas import ALIGNMENT
from seqnet.kernels.cpu.operand_table import ENTRY, array_cell
from seqnet.kernels.cpu.recurrent_cells import CELL_GATES, CELL_GRU, CELL_LSTM, CELL_RNN
from seqnet.kernels.cpu.recurrent_driver import _backward_plan, _forward_plan
from seqnet.kernels.cpu import recurrent_operands as ops
from seqnet.kernels.cpu.spin_wait import COMPLETED


def _entry(table, i):
    """(address, dims) of array ``i`` of ``table``."""
    first = array_cell(i)
    return int(table[first]), tuple(int(d) for d in table[first + 1:first + ENTRY])


def _bias_reference(cell, b_ih, b_hh):
    if cell != CELL_GRU:
        return b_ih + b_hh
    H = b_ih.shape[0] // 3
    return np.concatenate([b_ih[:2 * H] + b_hh[:2 * H], b_hh[2 * H:], b_ih[2 * H:]])


def _column_blocks_reference(m, n_blocks, width):
    out = np.zeros((n_blocks, m.shape[0], width), m.dtype)
    for k in range(n_blocks):
        cols = m[:, k * width:(k + 1) * width]
        out[k, :, :cols.shape[1]] = cols
    return out


def _read(address, shape, dtype):
    """The C-contiguous array of ``shape`` at ``address`` (a copy)."""
    n = int(np.prod(shape))
    buf = (np.ctypeslib.as_ctypes_type(dtype) * max(n, 1)).from_address(address)
    return np.ctypeslib.as_array(buf)[:n].reshape(shape).copy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", [CELL_RNN, CELL_LSTM, CELL_GRU])
def test_prepare_forward_lays_out_weights_and_fills_every_cell(cell, dtype):
    rng = np.random.default_rng(cell)
    B, T, F, H = 40, 3, 5, 70  # H wide enough for several column blocks
    GH = CELL_GATES[cell] * H
    x = rng.normal(size=(B, T, F)).astype(dtype)
    h = np.empty((B, T, H), dtype)
    h0, c0 = rng.normal(size=(2, B, H)).astype(dtype)
    w_ih, w_hh = rng.normal(size=(GH, F)).astype(dtype), rng.normal(size=(GH, H)).astype(dtype)
    b_ih, b_hh = rng.normal(size=(2, GH)).astype(dtype)
    lengths = np.full(B, T, np.int64)
    plan = _forward_plan(cell, 2, np.dtype(dtype), x.shape, H, True, 2)
    buffers = tuple(np.empty(n, dtype) for n in plan.sizes)
    table = plan.table.copy()
    table[COMPLETED] = 5  # cleared by the filler
    ops.prepare_forward(table, (x, h, h0, c0), (w_ih, w_hh, b_ih, b_hh), buffers, lengths,
                        plan.edges, plan.layout)
    assert table[COMPLETED] == 0
    for i, a in ((ops.F_X, x), (ops.F_H, h), (ops.F_H0, h0), (ops.F_C0, c0), (ops.LENGTHS, lengths),
                 (ops.EDGES, plan.edges)):  # in place, not copied
        address, dims = _entry(table, i)
        assert address == a.ctypes.data and dims[:a.ndim] == a.shape
    address, dims = _entry(table, ops.F_W_IH_T)
    assert dims[:2] == (F, GH) and address % ALIGNMENT == 0
    np.testing.assert_array_equal(_read(address, (F, GH), dtype), w_ih.T)
    n_blocks, width = plan.layout[ops.L_BLOCKS], plan.layout[ops.L_WIDTH]
    address, dims = _entry(table, ops.F_W_HH_B)
    assert dims == (n_blocks, H, width) and address % ALIGNMENT == 0
    np.testing.assert_array_equal(_read(address, dims, dtype),
                                  _column_blocks_reference(w_hh.T, n_blocks, width))
    bias = _bias_reference(cell, b_ih, b_hh)
    address, dims = _entry(table, ops.F_BIAS)
    assert dims[:2] == (1, bias.size) and address % ALIGNMENT == 0
    np.testing.assert_array_equal(_read(address, bias.shape, dtype), bias)
    for i, buf in ((ops.HBUF, buffers[1]), (ops.CBUF, buffers[2]), (ops.GBUF, buffers[3])):
        address, dims = _entry(table, i)
        assert address % ALIGNMENT == 0
        assert buf.ctypes.data <= address < buf.ctypes.data + ALIGNMENT
        assert address + dims[0] * buf.itemsize <= buf.ctypes.data + buf.nbytes
    assert _entry(table, ops.HBUF)[1][0] == plan.layout[ops.L_HBUF] == B * (T + 1) * (F + H + 1)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_prepare_backward_aligns_the_parts_and_zeroes_their_padding(dtype):
    rng = np.random.default_rng(1)
    B, T, F, H, n_chunks = 40, 3, 3, 5, 3  # parts shorter than their cache lines
    GH = CELL_GATES[CELL_LSTM] * H
    fplan = _forward_plan(CELL_LSTM, 2, np.dtype(dtype), (B, T, F), H, True, 2)
    plan = _backward_plan(CELL_LSTM, 2, np.dtype(dtype), (B, T, F), H, n_chunks)
    rows = tuple(np.empty(n, dtype) for n in fplan.sizes[1:])
    dh, dx = rng.normal(size=(B, T, H)).astype(dtype), np.empty((B, T, F), dtype)
    w_ih, w_hh = rng.normal(size=(GH, F)).astype(dtype), rng.normal(size=(GH, H)).astype(dtype)
    buffer = np.full(plan.sizes[0], np.nan, dtype)
    table = plan.table.copy()
    edges = np.array([0, 10, 25, B], np.int64)
    start = ops.prepare_backward(table, (dh, dx), (w_ih, w_hh), buffer, rows,
                                 np.full(B, T, np.int64), edges, fplan.layout)
    stride = table[ops.PART_STRIDE]
    assert stride % (ALIGNMENT // buffer.itemsize) == 0
    parts = buffer[start:start + n_chunks * stride].reshape(n_chunks, stride)
    address, dims = _entry(table, ops.B_PARTS)
    assert address == parts.ctypes.data and address % ALIGNMENT == 0
    assert dims[0] == n_chunks * stride
    spans = [(0, GH * F), (table[ops.AT_DW_HH], GH * H), (table[ops.AT_DB_IH], GH),
             (table[ops.AT_DB_HH], GH)]
    assert all(at % (ALIGNMENT // buffer.itemsize) == 0 for at, _ in spans)
    padding = np.ones(stride, bool)
    for at, n in spans:
        padding[at:at + n] = False
    assert padding.any() and np.all(parts[:, padding] == 0.0)
    assert np.all(np.isnan(parts[:, ~padding]))  # left for the kernels to write
    address, dims = _entry(table, ops.B_W_HH)
    assert address % ALIGNMENT == 0 and dims[:2] == (GH, H)
    np.testing.assert_array_equal(_read(address, (GH, H), dtype), w_hh)
    for i, a in ((ops.B_DH, dh), (ops.B_DX, dx), (ops.B_W_IH, w_ih)):
        assert _entry(table, i)[0] == a.ctypes.data
    assert _entry(table, ops.HBUF)[0] % ALIGNMENT == 0
    assert rows[0].ctypes.data <= _entry(table, ops.HBUF)[0] < rows[0].ctypes.data + ALIGNMENT
    assert _entry(table, ops.GBUF)[1][0] == fplan.layout[ops.L_HBUF + 2]
