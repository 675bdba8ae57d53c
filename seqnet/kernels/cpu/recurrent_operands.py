"""Operand tables of the recurrent chunk kernels, filled in compiled code.

A pass of a recurrent chunk kernel (:mod:`seqnet.kernels.cpu.recurrent_chunk_kernels`)
reads its arrays from an operand table (:mod:`seqnet.kernels.cpu.operand_table`).
The driver (:mod:`seqnet.kernels.cpu.recurrent_driver`) allocates the
buffers of a pass and calls :func:`prepare_forward` or
:func:`prepare_backward` once: that call lays the weights out as the
products read them and puts every array in the table.  One compiled call
instead of a dozen NumPy operations is what keeps a small layer's call
close to the time its chunks take.

Every buffer the driver passes is one cache line longer than its contents;
the arrays start at its first 64-byte boundary (:func:`aligned_part`), where
OpenBLAS's small-matrix kernels read them fastest.  The same buffer gives
the same start in both directions, so the backward pass finds the
forward's cache where the forward wrote it.
"""

from numba import njit

from seqnet.kernels.cpu.blas import ALIGNMENT, fill_column_blocks
from seqnet.kernels.cpu.operand_table import put
from seqnet.kernels.cpu.spin_wait import COMPLETED

#: Scalar cells of a forward table: the direction, steps per time block,
#: inference (1: the row buffers are per-thread workspaces of ``block``
#: steps, reused block after block) and the values of one thread's workspace
#: in each row buffer.
REVERSE, BLOCK, RING, WS_H, WS_C, WS_G = 1, 2, 3, 4, 5, 6
#: Scalar cells of a backward table: the direction, whether ``dx`` is
#: wanted, truncated BPTT's segment length, then the layout of one chunk's
#: row of partial gradients: its length, and where ``dW_hh``, ``db_ih`` and
#: ``db_hh`` start in it (``dW_ih`` at 0).
NEED_DX, BPTT, PART_STRIDE, AT_DW_HH, AT_DB_IH, AT_DB_HH = 2, 3, 4, 5, 6, 7
#: Arrays of a forward table: the batch ``x`` (B, T, F), the output ``h``
#: (B, T, H), ``W_ih^T``, ``W_hh^T`` in column blocks, the gate-column bias
#: as one row, the initial state and ``c0`` (the LSTM's cell state, else
#: ``h0`` again).
F_X, F_H, F_W_IH_T, F_W_HH_B, F_BIAS, F_H0, F_C0 = range(7)
#: Arrays of a backward table: the output gradient ``dh`` (B, T, H), ``dx``,
#: the weights (``w_hh`` copied to a cache line), the chunks' partial
#: gradients (one row of ``PART_STRIDE`` values per chunk).
B_DH, B_DX, B_W_IH, B_W_HH, B_PARTS = range(5)
#: Both: the three flat row buffers (the chunk "rows" arrays of
#: :mod:`seqnet.kernels.cpu.recurrent_chunks`: ``[x | h_prev | 1]`` rows,
#: LSTM cell states, gate columns: the forward's cache, or per-thread
#: workspaces), the lengths and the chunk boundaries.
HBUF, CBUF, GBUF, LENGTHS, EDGES = 7, 8, 9, 10, 11
#: Arrays in a table.
N_ARRAYS = 12
#: Cells of a forward pass's ``layout`` (:func:`prepare_forward`): the
#: column blocks of ``W_hh^T`` (count, width), 1 for the GRU's bias layout,
#: the values of the three row buffers.
L_BLOCKS, L_WIDTH, L_GRU, L_HBUF, L_CBUF, L_GBUF = range(6)
#: Values of a 64-byte cache line of float32 (two of float64): the unit the
#: parts of a buffer are rounded up to, and the padding of every buffer.
LINE = 16


def line_multiple(n):
    """``n`` rounded up to a multiple of :data:`LINE` values: a part of that
    many values keeps the next one on a cache line."""
    return -(-n // LINE) * LINE


@njit(cache=True, inline="always")
def aligned_start(buf):
    """Index of the first value of ``buf`` on a 64-byte boundary."""
    return ((-buf.ctypes.data) % ALIGNMENT) // buf.itemsize


@njit(cache=True, inline="always")
def aligned_part(buf, n):
    """``n`` values of ``buf`` from its first 64-byte boundary on."""
    start = aligned_start(buf)
    return buf[start:start + n]


@njit(cache=True)
def prepare_forward(table, arrays, weights, buffers, lengths, edges, layout):
    """Fill the forward table ``table`` (its scalars already set).

    ``arrays``: ``x``, ``h``, ``h0``, ``c0``; ``weights``: ``w_ih``,
    ``w_hh``, ``b_ih``, ``b_hh``; ``buffers``: the weight buffer, then the
    three row buffers.  ``layout``: the cells ``L_*`` (the GRU's bias layout
    is ``b_r, b_z, b_hn, b_in``).  The weight buffer receives ``W_ih^T``,
    the column blocks and the bias, each on a cache line."""
    x, h, h0, c0 = arrays
    w_ih, w_hh, b_ih, b_hh = weights
    GH, F = w_ih.shape
    H = w_hh.shape[1]
    n_blocks, width, gru = layout[L_BLOCKS], layout[L_WIDTH], layout[L_GRU] != 0
    at_blocks = -(-(F * GH) // LINE) * LINE
    at_bias = at_blocks + -(-(n_blocks * H * width) // LINE) * LINE
    GW = GH + H if gru else GH
    w = aligned_part(buffers[0], at_bias + GW)
    w_ih_t = w[:F * GH].reshape((F, GH))
    for i in range(GH):
        for j in range(F):
            w_ih_t[j, i] = w_ih[i, j]
    w_hh_b = w[at_blocks:at_blocks + n_blocks * H * width].reshape((n_blocks, H, width))
    fill_column_blocks(w_hh.T, w_hh_b)
    bias = w[at_bias:at_bias + GW]
    summed = 2 * H if gru else GH  # columns where both biases add
    for k in range(summed):
        bias[k] = b_ih[k] + b_hh[k]
    if gru:  # then b_hn (inside the reset gate's product), then b_in
        for k in range(H):
            bias[2 * H + k] = b_hh[2 * H + k]
            bias[3 * H + k] = b_ih[2 * H + k]
    table[COMPLETED] = 0
    put(table, F_X, x), put(table, F_H, h), put(table, F_H0, h0), put(table, F_C0, c0)
    put(table, F_W_IH_T, w_ih_t), put(table, F_W_HH_B, w_hh_b)
    put(table, F_BIAS, bias.reshape((1, GW)))
    put(table, HBUF, aligned_part(buffers[1], layout[L_HBUF]))
    put(table, CBUF, aligned_part(buffers[2], layout[L_CBUF]))
    put(table, GBUF, aligned_part(buffers[3], layout[L_GBUF]))
    put(table, LENGTHS, lengths), put(table, EDGES, edges)


@njit(cache=True, inline="always")
def _zero_gaps(parts, table, n_dw_ih, n_dw_hh, n_db):
    """Zero the padding after each part of every chunk's row: the caller sums
    whole rows, and uninitialised padding could hold NaN or infinities."""
    stride = table[PART_STRIDE]
    ends = ((n_dw_ih, table[AT_DW_HH]), (table[AT_DW_HH] + n_dw_hh, table[AT_DB_IH]),
            (table[AT_DB_IH] + n_db, table[AT_DB_HH]), (table[AT_DB_HH] + n_db, stride))
    for row in range(0, parts.shape[0], stride):
        for end, next_start in ends:
            parts[row + end:row + next_start] = 0.0


@njit(cache=True)
def prepare_backward(table, arrays, weights, buffer, cache, lengths, edges, layout):
    """Fill the backward table ``table`` (its scalars already set); return
    where the chunks' partial gradients start in ``buffer``.

    ``arrays``: ``dh``, ``dx``; ``weights``: ``w_ih``, ``w_hh``;
    ``buffer`` receives ``w_hh`` (on a cache line) and then the partial
    gradients, one row of ``table[PART_STRIDE]`` values per chunk;
    ``cache``: the forward's three row buffers, and ``layout`` the
    forward's."""
    dh, dx = arrays
    w_ih, w_hh = weights
    GH, H = w_hh.shape
    at_parts = -(-(GH * H) // LINE) * LINE
    n_parts = (edges.shape[0] - 1) * table[PART_STRIDE]
    w = aligned_part(buffer, at_parts + n_parts)
    w_hh_a = w[:GH * H].reshape((GH, H))
    w_hh_a[:] = w_hh
    _zero_gaps(w[at_parts:], table, GH * w_ih.shape[1], GH * H, GH)
    table[COMPLETED] = 0
    put(table, B_DH, dh), put(table, B_DX, dx), put(table, B_W_IH, w_ih)
    put(table, B_W_HH, w_hh_a), put(table, B_PARTS, w[at_parts:])
    put(table, HBUF, aligned_part(cache[0], layout[L_HBUF]))
    put(table, CBUF, aligned_part(cache[1], layout[L_CBUF]))
    put(table, GBUF, aligned_part(cache[2], layout[L_GBUF]))
    put(table, LENGTHS, lengths), put(table, EDGES, edges)
    return aligned_start(buffer) + at_parts
