"""The recurrent chunk kernels: one chunk's whole time loop, forward or backward.

A chunk kernel is a ``@cfunc`` ``void(int64 table, int64 chunk, int64
thread)`` made per cell (and RNN activation) and dtype by
:func:`forward_kernel` and :func:`backward_kernel`, with those constants of
the closure, so a model compiles the code of its own cell and dtype only
(the closures of a factory share one cache file, keyed by the constants).
The chunk threads call it through its address
(:mod:`seqnet.kernels.cpu.chunk_threads`), and it reads its operands from
the operand table at ``table`` (:mod:`seqnet.kernels.cpu.operand_table`;
the cells below), filled by one compiled call of :func:`pack_operands`.
The two directions' tables hold the same kinds of arrays in the same
places (three 3-D, four 2-D, the three row buffers, the lengths, the chunk
boundaries), so one packer, compiled once per dtype, serves both.  It puts
the row buffers from their first 64-byte boundary on
(:func:`~seqnet.kernels.cpu.operand_table.first_aligned`): the same buffer
gives the same start in both directions, so the backward pass finds the
forward's cache where the forward wrote it.

Per chunk (DESIGN.md section 4): the input projections are one product per
block of steps, each step one small product ``h_{t-1} W_hh^T`` (forward) or
``dZ_t W_hh`` (backward) and fused pointwise loops over the step's
contiguous block, and after the time loop one product over the
``[x_t | h_{t-1} | 1]`` rows gives ``dW_ih``, ``dW_hh`` and the bias
gradients, and one more gives ``dx``.  The products read and write blocks
in place through :func:`seqnet.kernels.cpu.blas.gemm_core` (strided
operands, no copies), in pieces within OpenBLAS's small-matrix limit
(:func:`~seqnet.kernels.cpu.blas.piece_width`) on 64-byte aligned buffers
(``W_hh^T`` in contiguous blocks of the forward pieces' width:
:func:`~seqnet.kernels.cpu.blas.column_blocks`).

The cells' step functions are inlined (``jit.inlined``) and run under the
kernels' flags: fused multiply-add allowed (``CONTRACT``), no other
fastmath.  Each chunk ends with
:func:`~seqnet.kernels.cpu.spin_wait.chunk_completed`, so a chunk that
raised (it could not allocate a buffer) makes the pass raise.
"""

import numpy as np
from numba import njit

from seqnet.kernels.cpu.blas import aligned_empty, gemm_core, piece_width
from seqnet.kernels.cpu.jit import any_layout, chunk_kernel
from seqnet.kernels.cpu.operand_table import (
    CHUNK_SIGNATURE,
    first_aligned,
    put,
    put_part,
    rows_at,
    table_at,
    view,
)
from seqnet.kernels.cpu.recurrent_cells import (
    CELL_GATES,
    CELL_GRU,
    CELL_LSTM,
    GATE_COLUMNS,
    gate_weight_grads,
    gru_grads,
    gru_step,
    input_grads,
    lstm_grads,
    lstm_step,
    project_inputs,
    rnn_grads,
    rnn_step,
    state_col,
)
from seqnet.kernels.cpu.recurrent_chunks import (
    add_block,
    chunk_max_length,
    copy_block_core,
    gather_rows,
    scatter_rows,
    zero_finished_rows,
    zero_padding,
)
from seqnet.kernels.cpu.recurrent_common import CONTRACT
from seqnet.kernels.cpu.spin_wait import COMPLETED, chunk_completed


#: Scalar cells of a forward table: the direction, steps per time block,
#: inference (1: the row buffers are per-thread workspaces of ``block``
#: steps, reused block after block) and the values of one thread's workspace
#: in each row buffer.
REVERSE, BLOCK, RING, WS_H, WS_C, WS_G = 1, 2, 3, 4, 5, 6
#: Scalar cells of a backward table: the direction, whether ``dx`` is
#: wanted, truncated BPTT's segment length, then the layout of one chunk's
#: row of partial gradients: its length, and where ``dW_hh``, ``db_ih`` and
#: ``db_hh`` start in it (``dW_ih`` at 0, the four side by side).
NEED_DX, BPTT, PART_STRIDE, AT_DW_HH, AT_DB_IH, AT_DB_HH = 2, 3, 4, 5, 6, 7
#: Arrays of a forward table: the batch ``x`` (B, T, F), the output ``h``
#: (B, T, H), ``W_hh^T`` in column blocks; the initial state, ``c0`` (the
#: LSTM's cell state, else ``h0`` again), ``W_ih^T``, the gate-column bias
#: as one row.
F_X, F_H, F_W_HH_B, F_H0, F_C0, F_W_IH_T, F_BIAS = range(7)
#: Arrays of a backward table: the output gradient ``dh`` (B, T, H), ``dx``
#: (slot 2 unused); the weights, the chunks' partial gradients (one row per
#: chunk; slot 6 unused).
B_DH, B_DX, B_W_IH, B_W_HH, B_PARTS = 0, 1, 3, 4, 5
#: Both: the three flat row buffers (the chunk "rows" arrays of
#: :mod:`seqnet.kernels.cpu.recurrent_chunks`: ``[x | h_prev | 1]`` rows,
#: LSTM cell states, gate columns: the forward's cache, or per-thread
#: workspaces), the lengths and the chunk boundaries.
HBUF, CBUF, GBUF, LENGTHS, EDGES = 7, 8, 9, 10, 11
#: Arrays in a table.
N_ARRAYS = 12
#: The table's cells are defined here, beside the kernels and the packer
#: that use them: numba's cache keys a cached function on the contents of
#: its own source file only, so a cell moved in another file would leave
#: stale kernels in the cache.


@njit(cache=True)
def pack_operands(table, arrays3, arrays2, rows, values, lengths, edges):
    """Put a pass's arrays into its table (the places above): three 3-D and
    four 2-D float arrays, the three row buffers (``values`` values of each,
    from its first cache line on), the lengths and the chunk boundaries;
    clear the table's ``COMPLETED`` cell."""
    table[COMPLETED] = 0
    # one put per array: each is typed (its rank and dtype) where it stands
    a0, a1, a2 = arrays3
    b0, b1, b2, b3 = arrays2
    put(table, 0, a0), put(table, 1, a1), put(table, 2, a2)
    put(table, 3, b0), put(table, 4, b1), put(table, 5, b2), put(table, 6, b3)
    put_part(table, HBUF, rows[0], first_aligned(rows[0]), (values[0],))
    put_part(table, CBUF, rows[1], first_aligned(rows[1]), (values[1],))
    put_part(table, GBUF, rows[2], first_aligned(rows[2]), (values[2],))
    put(table, LENGTHS, lengths), put(table, EDGES, edges)


def forward_kernel(cell, kind, dtype):
    """The forward chunk kernel of one cell and dtype (see the module docstring)."""
    gates, gate_columns = CELL_GATES[cell], GATE_COLUMNS[cell]
    lstm = cell == CELL_LSTM

    @chunk_kernel(CHUNK_SIGNATURE, nogil=True, error_model="numpy", fastmath=CONTRACT)
    def forward_chunk(address, chunk, thread):
        """Time loop of the rows of chunk ``chunk`` in blocks of ``block``
        steps (input projection, steps, outputs), so a block's gates stay
        in the cache from their projection to their step.  The initial
        state ``h0[lo:hi]`` (``c0``: LSTM) goes into the rows arrays' first
        row block.

        Training: ``xh``, ``cs`` and ``g`` receive every step (the backward
        pass's cache).  Inference (``RING``): they are thread ``thread``'s
        workspace of ``block`` steps, reused block after block, each block
        starting from the state the one before ended with.  Rows of ``h``
        past a sample's length are set to 0."""
        t = table_at(address)
        # products and block copies call the any-layout cores directly
        # (kernels/cpu/jit.py); flags typed bool, not literal
        NO, YES = np.bool_(False), np.bool_(True)
        reverse, block, ring = t[REVERSE] != 0, t[BLOCK], t[RING] != 0
        x, lengths = view(address, F_X, dtype, 3), view(address, LENGTHS, np.int64, 1)
        w_ih_t, w_hh_b = view(address, F_W_IH_T, dtype, 2), view(address, F_W_HH_B, dtype, 3)
        bias, h_out = view(address, F_BIAS, dtype, 2)[0], view(address, F_H, dtype, 3)
        h0, c0 = view(address, F_H0, dtype, 2), view(address, F_C0, dtype, 2)
        edges = view(address, EDGES, np.int64, 1)
        lo, hi = edges[chunk], edges[chunk + 1]
        nb, T = hi - lo, x.shape[1]
        H = w_hh_b.shape[1]
        W, GH, GW = x.shape[2] + H + 1, gates * H, gate_columns * H
        if ring:  # this thread's workspace
            steps, owner = block, thread
            sizes = (t[WS_H], t[WS_C], t[WS_G])
        else:  # the chunk's segment of the cache
            steps, owner = T, lo
            sizes = ((T + 1) * W, (T + 1) * H, T * GW)
        rows = (steps + 1) * nb
        xh = rows_at(address, HBUF, owner * sizes[0], rows, W, dtype)
        cs = rows_at(address, CBUF, owner * sizes[1], rows if lstm else 0, H, dtype)
        g = rows_at(address, GBUF, owner * sizes[2], steps * nb, GW, dtype)
        F = state_col(xh, H)  # the state's first column in the rows layout
        copy_block_core(any_layout(h0[lo:hi]), any_layout(xh[:nb, F:F + H]))
        if lstm:
            copy_block_core(any_layout(c0[lo:hi]), any_layout(cs[:nb]))
        smax = chunk_max_length(lengths, lo, hi)
        piece = w_hh_b.shape[2]
        for s0 in range(0, smax, block):
            s1 = min(s0 + block, smax)
            base = 0 if ring else s0 * nb  # first row of this block in the buffers
            if ring and s0 > 0:  # carry the state of the workspace's last row block
                last = block * nb
                copy_block_core(any_layout(xh[last:last + nb, F:F + H]),
                                any_layout(xh[:nb, F:F + H]))
                if lstm:
                    copy_block_core(any_layout(cs[last:last + nb]), any_layout(cs[:nb]))
            xb, cb, gk = xh[base:], cs[base:], g[base:]
            n_rows = (s1 - s0) * nb
            gather_rows(x, lengths, lo, hi, s0, s1, reverse, xb)
            xb[:n_rows, F + H] = 1.0
            project_inputs(cell, w_ih_t, xb, n_rows, gk)
            for s in range(s0, s1):
                r0 = (s - s0) * nb
                r1 = r0 + nb
                gb, hp, hn = gk[r0:r1], xb[r0:r1], xb[r1:r1 + nb]
                for k in range(w_hh_b.shape[0]):
                    c = k * piece
                    e = min(c + piece, GH)
                    gemm_core(any_layout(hp[:, F:F + H]), any_layout(w_hh_b[k, :, :e - c]),
                              any_layout(gb[:, c:e]), NO, NO, YES)
                if lstm:
                    lstm_step(gb, bias, cb[r0:r1], cb[r1:r1 + nb], hn)
                    zero_finished_rows(cb[r1:r1 + nb], np.int64(0), H, lengths, lo, s)
                elif cell == CELL_GRU:
                    gru_step(gb, bias, hp, hn)
                else:
                    rnn_step(gb, bias, hn, kind)
                zero_finished_rows(hn, F, H, lengths, lo, s)
            scatter_rows(xb[nb:], F, lengths, lo, hi, s0, s1, reverse, h_out)
        zero_padding(h_out, lengths, lo, hi)
        chunk_completed(address)

    return forward_chunk


def backward_kernel(cell, kind, dtype):
    """The backward chunk kernel of one cell and dtype (see the module docstring)."""
    gate_columns = GATE_COLUMNS[cell]
    lstm = cell == CELL_LSTM

    @chunk_kernel(CHUNK_SIGNATURE, nogil=True, error_model="numpy", fastmath=CONTRACT)
    def backward_chunk(address, chunk, thread):
        """BPTT of the rows of chunk ``chunk`` over the cache the forward
        left in the row buffers: this chunk's weight and bias gradients into
        row ``chunk`` of the partial gradients (overwritten, also with 0 when
        the chunk has no step), and its rows of ``dx`` (with ``NEED_DX``; 0
        past each sample's length).  ``w_hh`` is 64-byte aligned: the
        per-step products read it in place."""
        t = table_at(address)
        NO = np.bool_(False)  # as in forward_chunk
        reverse, need_dx, bptt = t[REVERSE] != 0, t[NEED_DX] != 0, t[BPTT]
        dh, lengths = view(address, B_DH, dtype, 3), view(address, LENGTHS, np.int64, 1)
        w_ih, w_hh = view(address, B_W_IH, dtype, 2), view(address, B_W_HH, dtype, 2)
        dx, edges = view(address, B_DX, dtype, 3), view(address, EDGES, np.int64, 1)
        lo, hi = edges[chunk], edges[chunk + 1]
        nb, T = hi - lo, dh.shape[1]
        GH, H = w_hh.shape
        F = w_ih.shape[1]
        part = chunk * t[PART_STRIDE]  # this chunk's row of partial gradients
        grads = (rows_at(address, B_PARTS, part, GH, F, dtype),
                 rows_at(address, B_PARTS, part + t[AT_DW_HH], GH, H, dtype),
                 rows_at(address, B_PARTS, part + t[AT_DB_IH], 1, GH, dtype)[0],
                 rows_at(address, B_PARTS, part + t[AT_DB_HH], 1, GH, dtype)[0])
        W, GW = F + H + 1, gate_columns * H
        xh = rows_at(address, HBUF, lo * (T + 1) * W, (T + 1) * nb, W, dtype)
        cs = rows_at(address, CBUF, lo * (T + 1) * H, (T + 1) * nb if lstm else 0, H, dtype)
        g = rows_at(address, GBUF, lo * T * GW, T * nb, GW, dtype)
        smax = chunk_max_length(lengths, lo, hi)
        if smax == 0:  # no step: zero gradients
            for a in grads[:2]:
                a[:] = 0.0
            for a in grads[2:]:
                a[:] = 0.0
            if need_dx:
                zero_padding(dx, lengths, lo, hi)
            chunk_completed(address)
            return
        n_rows = smax * nb
        up = np.empty((n_rows, H), dtype=dtype)
        gather_rows(dh, lengths, lo, hi, np.int64(0), smax, reverse, up)
        dz = aligned_empty(n_rows, GW, dh)
        dh_n = aligned_empty(nb, H, dh)
        dh_n[:] = 0.0
        # np.empty then a fill: numba's np.zeros compiles an np.empty of its own
        dc_n = np.empty((nb, H), dtype=dtype)
        dc_n[:] = 0.0
        direct = np.empty((nb, H), dtype=dtype)
        direct[:] = 0.0
        piece = piece_width(nb, H, GH)  # dZ W_hh in row pieces of W_hh (a sum of products)
        for s in range(smax - 1, -1, -1):
            r0, r1 = s * nb, (s + 1) * nb
            if lstm:
                lstm_grads(up[r0:r1], dh_n, dc_n, g[r0:r1], cs[r0:r1], cs[r1:r1 + nb],
                           dz[r0:r1])
            elif cell == CELL_GRU:
                gru_grads(up[r0:r1], dh_n, g[r0:r1], xh[r0:r1], dz[r0:r1], direct)
            else:
                rnn_grads(up[r0:r1], dh_n, xh[r1:r1 + nb], dz[r0:r1], kind)
            if s == 0:
                break
            if bptt > 0 and s % bptt == 0:
                dh_n[:] = 0.0
                dc_n[:] = 0.0
            else:  # the hidden-side columns (GRU: r, z, hn) come first in g
                for c in range(0, GH, piece):
                    e = min(c + piece, GH)
                    gemm_core(any_layout(dz[r0:r1, c:e]), any_layout(w_hh[c:e]),
                              any_layout(dh_n), NO, NO, c > 0)
                if cell == CELL_GRU:
                    add_block(direct, dh_n)
        gate_weight_grads(cell, xh, dz, n_rows, aligned_empty(F + H + 1, GW, dh), grads)
        if need_dx:
            dxr = np.empty((n_rows, F), dtype=dtype)
            dxr[:] = 0.0
            input_grads(cell, dz, w_ih, dxr)
            scatter_rows(dxr, np.int64(0), lengths, lo, hi, np.int64(0), smax, reverse, dx)
            zero_padding(dx, lengths, lo, hi)
        chunk_completed(address)

    return backward_chunk
