"""Time loops of the recurrent kernels: RNN, LSTM and GRU, one direction per call.

Public kernels: ``recurrent_forward`` / ``recurrent_backward`` (one signature
for the three cells, listed in :mod:`seqnet.kernels.contract`), re-exported
by :mod:`seqnet.kernels.cpu.recurrent`.

``keep_cache=False`` (inference) returns empty caches (no backward pass can
follow): each chunk runs in a workspace of its thread that holds one block of
steps (``recurrent_chunks.block_steps``), reused block after block.

The backward kernel takes back the ``cache`` of its forward kernel, and
returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)`` (``dx`` has shape (0, 0, 0)
when ``need_dx`` is False).  ``cache`` is opaque (the CUDA twins keep their
own): here three flat buffers (``[x | h_prev | 1]`` rows, LSTM cell states,
gate activations: the chunk "rows" arrays of
:mod:`seqnet.kernels.cpu.recurrent_chunks`) and the chunk boundaries they
were laid out with.  A backward pass leaves the cache as it was.
Conventions (lengths, reverse, truncated BPTT, flush to zero) are those of :mod:`seqnet.kernels.cpu.recurrent_common`; the
per-step math is in :mod:`seqnet.kernels.cpu.recurrent_cells`.

Each row chunk runs its whole time loop in one call of a ``nogil`` chunk
kernel, and the chunks of a batch are shared out on Python threads
(:mod:`seqnet.kernels.cpu.chunk_threads`).  The chunk kernels are made once
per cell (and RNN activation) by :func:`_forward_kernel` and
:func:`_backward_kernel`, with the cell a
compile-time constant, so a model compiles the code of its own cell only.
Per chunk (DESIGN.md section 4): the input projections are one product per block of
steps, each step one small product ``h_{t-1} W_hh^T`` (forward) or
``dZ_t W_hh`` (backward) and fused pointwise loops over the step's contiguous
block, and after the time loop one product over the ``[x_t | h_{t-1} | 1]``
rows gives ``dW_ih``, ``dW_hh`` and the bias gradients, and one more gives
``dx``.  The products read and write blocks in place through
:func:`seqnet.kernels.cpu.blas.gemm` (strided operands, no copies), run in
pieces within OpenBLAS's small-matrix limit (:func:`~seqnet.kernels.cpu.blas.piece_width`)
on 64-byte aligned buffers (``W_hh^T`` in contiguous blocks of the forward
pieces' width: :func:`~seqnet.kernels.cpu.blas.column_blocks`).  The chunks'
weight gradients are summed in chunk order, inside the backward kernel.
"""

from collections import namedtuple

import numpy as np
from numba import njit

from seqnet.kernels.cpu.activations import RELU, TANH
from seqnet.kernels.cpu.blas import (
    aligned_copy,
    aligned_empty,
    column_blocks,
    gemm_core,
    piece_width,
)
from seqnet.kernels.cpu.jit import any_layout
from seqnet.kernels.cpu.chunk_threads import get_chunk_threads, new_state, run_chunks
from seqnet.kernels.cpu.recurrent_common import CONTRACT
from seqnet.kernels.cpu.spin_wait import open_gate
from seqnet.kernels.cpu.recurrent_cells import (
    GATE_COLUMNS,
    CELL_GATES,
    CELL_GRU,
    CELL_LSTM,
    CELL_RNN,
    bias_columns,
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
    block_steps,
    chunk_bounds,
    copy_block_core,
    chunk_max_length,
    gather_rows,
    scatter_rows,
    zero_finished_rows,
    zero_padding,
)


#: The forward pass's operands: the batch (``x`` (B, T, F), ``lengths``,
#: ``reverse``), ``W_ih^T`` (aligned), ``W_hh^T`` in column blocks
#: (:func:`seqnet.kernels.cpu.blas.column_blocks`), the gate-column bias
#: (:func:`~seqnet.kernels.cpu.recurrent_cells.bias_columns`) and the initial
#: state (``c0``: the LSTM's cell state, else ``h0`` again); ``gate``: the
#: call's gate, opened on entry (:func:`seqnet.kernels.cpu.spin_wait.open_gate`).
ForwardOperands = namedtuple("ForwardOperands",
                             "x lengths reverse w_ih_t w_hh_b bias h0 c0 gate")
#: The backward pass's operands: the output gradient ``dh`` (B, T, H), the
#: batch's ``lengths`` and direction, the weights (``w_hh`` aligned), truncated
#: BPTT's ``bptt``, whether ``dx`` is wanted and the call's gate.
BackwardOperands = namedtuple("BackwardOperands",
                              "dh lengths reverse w_ih w_hh bptt need_dx gate")
#: A chunk's rows arrays (:mod:`seqnet.kernels.cpu.recurrent_chunks`):
#: ``xh`` ``[x | h_prev | 1]`` rows, ``cs`` LSTM cell states (empty for the
#: other cells), ``g`` gate columns.
ChunkRows = namedtuple("ChunkRows", "xh cs g")
#: A chunk's partial weight and bias gradients (overwritten by its backward).
ChunkGrads = namedtuple("ChunkGrads", "dw_ih dw_hh db_ih db_hh")


# The chunk kernels are made per cell by the two factories below: ``cell`` and
# ``kind`` (the RNN's activation) are constants of the closures, so numba
# prunes the other cells' branches and compiles one cell's code per kernel;
# the closures of a factory share one cache file, keyed by those constants.
# The cells' step functions are inlined into them (``jit.inlined``) and run
# under their flags: fused multiply-add allowed (``CONTRACT``), no other
# fastmath.
def _forward_kernel(cell, kind):
    """The forward chunk kernel of one cell (see the comment above)."""
    gates = CELL_GATES[cell]

    @njit(cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
    def forward_chunk(ops, rows, lo, hi, h_out, block, ring):
        """Time loop of rows ``lo:hi`` of the batch in ``ops``
        (:data:`ForwardOperands`), in blocks of ``block`` steps (input
        projection, steps, outputs), so a block's gates stay in the cache
        from their projection to their step.  ``rows`` (:data:`ChunkRows`)
        are the chunk's rows arrays (:func:`_chunk_views`); the initial state
        ``h0[lo:hi]`` (``c0``: LSTM) goes into their first row block.

        ``ring=False``: ``xh``, ``cs`` and ``g`` receive every step (the
        backward pass's cache).  ``ring=True``: they are an inference
        workspace of ``block`` steps, reused block after block, each block
        starting from the state the one before ended with.  Rows of
        ``h_out`` past a sample's length are set to 0."""
        open_gate(ops.gate)
        # products and block copies call the any-layout cores directly
        # (kernels/cpu/jit.py): an inlined entry is compiled again for every
        # distinct call signature; flags typed bool, not literal
        NO, YES = np.bool_(False), np.bool_(True)
        x, lengths, reverse = ops.x, ops.lengths, ops.reverse
        w_ih_t, w_hh_b, bias = ops.w_ih_t, ops.w_hh_b, ops.bias
        xh, cs, g = rows
        nb = hi - lo
        H = w_hh_b.shape[1]
        GH = gates * H
        F = state_col(xh, H)  # the state's first column in the rows layout
        copy_block_core(any_layout(ops.h0[lo:hi]), any_layout(xh[:nb, F:F + H]))
        if cell == CELL_LSTM:
            copy_block_core(any_layout(ops.c0[lo:hi]), any_layout(cs[:nb]))
        smax = chunk_max_length(lengths, lo, hi)
        piece = w_hh_b.shape[2]
        for s0 in range(0, smax, block):
            s1 = min(s0 + block, smax)
            base = 0 if ring else s0 * nb  # first row of this block in the buffers
            if ring and s0 > 0:  # carry the state of the workspace's last row block
                last = block * nb
                copy_block_core(any_layout(xh[last:last + nb, F:F + H]),
                                any_layout(xh[:nb, F:F + H]))
                if cell == CELL_LSTM:
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
                if cell == CELL_LSTM:
                    lstm_step(gb, bias, cb[r0:r1], cb[r1:r1 + nb], hn)
                    zero_finished_rows(cb[r1:r1 + nb], np.int64(0), H, lengths, lo, s)
                elif cell == CELL_GRU:
                    gru_step(gb, bias, hp, hn)
                else:
                    rnn_step(gb, bias, hn, kind)
                zero_finished_rows(hn, F, H, lengths, lo, s)
            scatter_rows(xb[nb:], F, lengths, lo, hi, s0, s1, reverse, h_out)
        zero_padding(h_out, lengths, lo, hi)

    return forward_chunk


def _backward_kernel(cell, kind):
    """The backward chunk kernel of one cell (see the comment above
    :func:`_forward_kernel`)."""

    @njit(cache=True, nogil=True, error_model="numpy", fastmath=CONTRACT)
    def backward_chunk(ops, rows, lo, hi, grads, dx):
        """BPTT of n_rows ``lo:hi`` (operands ``ops``: :data:`BackwardOperands`)
        over the cache the forward left in ``n_rows`` (:data:`ChunkRows`): this
        chunk's weight and bias gradients into ``grads`` (:data:`ChunkGrads`,
        overwritten), and its n_rows of ``dx`` (with ``need_dx``; 0 past each
        sample's length).  ``w_hh`` is 64-byte aligned: the per-step products
        read it in place."""
        open_gate(ops.gate)
        NO = np.bool_(False)  # as in forward_chunk
        dh, lengths, reverse, w_ih, w_hh, bptt, need_dx = ops[:7]
        xh, cs, g = rows
        nb = hi - lo
        GH, H = w_hh.shape
        F = w_ih.shape[1]
        GW = g.shape[1]
        smax = chunk_max_length(lengths, lo, hi)
        if smax == 0:
            if need_dx:
                zero_padding(dx, lengths, lo, hi)
            return
        n_rows = smax * nb
        up = np.empty((n_rows, H), dtype=dh.dtype)
        gather_rows(dh, lengths, lo, hi, np.int64(0), smax, reverse, up)
        dz = aligned_empty(n_rows, GW, dh)
        dh_n = aligned_empty(nb, H, dh)
        dh_n[:] = 0.0
        # np.empty then a fill: numba's np.zeros compiles an np.empty of its own
        dc_n = np.empty((nb, H), dtype=dh.dtype)
        dc_n[:] = 0.0
        direct = np.empty((nb, H), dtype=dh.dtype)
        direct[:] = 0.0
        piece = piece_width(nb, H, GH)  # dZ W_hh in row pieces of W_hh (a sum of products)
        for s in range(smax - 1, -1, -1):
            r0, r1 = s * nb, (s + 1) * nb
            if cell == CELL_LSTM:
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
        dxr = np.empty((n_rows if need_dx else 0, F), dtype=dh.dtype)
        dxr[:] = 0.0
        if need_dx:
            input_grads(cell, dz, w_ih, dxr)
        if need_dx:
            scatter_rows(dxr, np.int64(0), lengths, lo, hi, np.int64(0), smax, reverse, dx)
            zero_padding(dx, lengths, lo, hi)

    return backward_chunk


#: Chunk kernels ``(forward, backward)`` per (cell, activation code); the
#: LSTM and GRU ignore the code.
_KERNELS = {(cell, kind): (_forward_kernel(cell, kind), _backward_kernel(cell, kind))
            for cell, kind in ((CELL_RNN, TANH), (CELL_RNN, RELU), (CELL_LSTM, 0),
                               (CELL_GRU, 0))}


def _kernels(cell, kind):
    try:
        return _KERNELS[(cell, kind if cell == CELL_RNN else 0)]
    except KeyError:
        raise ValueError(f"the RNN cell takes activation code {TANH} (tanh) or "
                         f"{RELU} (relu), not {kind!r}") from None


#: The gate of a call whose chunks run on the calling thread alone.
_NO_GATE = np.zeros(0, dtype=np.int64)


def _call_gate(threads):
    """The gate the chunk kernels of a call open on entry: a fresh state
    array when chunks go to other threads, else an empty one (no write)."""
    return new_state() if threads > 1 else _NO_GATE


def _chunk_threads(n_chunks):
    """Threads for a call of ``n_chunks`` chunks (every chunk of a call with
    several is worth a thread: :data:`~seqnet.kernels.cpu.recurrent_chunks.MIN_CHUNK_MACS`)."""
    return 1 if n_chunks <= 1 else min(get_chunk_threads(), n_chunks)


def _line_multiple(n):
    """``n`` rounded up to a multiple of 16 values (64 bytes of float32, two
    lines of float64): rows of that many values keep every row of an aligned
    array aligned."""
    return -(-n // 16) * 16


def _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, W, GW):
    """Rows ``lo:hi``'s rows arrays in the flat buffers: ``xh`` ((T + 1) * nb, W)
    ``[x | h_prev | 1]``, ``cs`` ((T + 1) * nb, H) cell states (empty
    without), ``g`` (T * nb, GW) gates (``GW = GATE_COLUMNS[cell] * H``)."""
    nb = hi - lo
    xh = hbuf[lo * (T + 1) * W:hi * (T + 1) * W].reshape((T + 1) * nb, W)
    if cbuf.shape[0] > 0:
        cs = cbuf[lo * (T + 1) * H:hi * (T + 1) * H].reshape((T + 1) * nb, H)
    else:
        cs = np.empty((0, H), dtype=hbuf.dtype)
    g = gbuf[lo * T * GW:hi * T * GW].reshape(T * nb, GW)
    return ChunkRows(xh, cs, g)


def _run_forward(cell, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse,
                 keep_cache):
    forward_chunk = _kernels(cell, kind)[0]
    GH, H = w_hh.shape
    if GH != CELL_GATES[cell] * H or w_ih.shape[0] != GH:
        raise ValueError(f"weights of shapes {w_ih.shape}, {w_hh.shape} do not fit "
                         f"{CELL_GATES[cell]} gates of {H} units")
    B, T, F = x.shape
    W = F + H + 1
    GW = GATE_COLUMNS[cell] * H
    bounds = chunk_bounds(B, T * GW * W)  # forward multiply-adds per row
    edges = bounds.tolist()
    n_chunks = len(edges) - 1
    nb_max = -(-B // n_chunks)  # chunks differ by at most one row
    block = block_steps(nb_max, GW, x.itemsize, max(T, 1))
    keep, reverse = bool(keep_cache), bool(reverse)
    h = np.empty((B, T, H), dtype=x.dtype)  # every chunk fills its rows
    bias = bias_columns(cell, b_ih, b_hh)
    # The products read W_ih^T and W_hh^T row-major and from a cache-line
    # boundary (blas.aligned_empty); W_hh^T in the column blocks of the
    # per-step product's pieces (blas.column_blocks), cut for the widest
    # chunk: a chunk with a row less stays within the limit.
    w_hh_b = column_blocks(w_hh.T, piece_width(nb_max, H, GH))
    w_ih_t = aligned_copy(w_ih.T)
    c_init = c0 if cell == CELL_LSTM else h0
    # every buffer a product reads or writes in place starts on a cache line;
    # inference keeps no cache (empty buffers)
    lstm = cell == CELL_LSTM
    if keep:
        hbuf = aligned_empty(1, B * (T + 1) * W, x)[0]
        cbuf = aligned_empty(1, B * (T + 1) * H if lstm else 0, x)[0]
        gbuf = aligned_empty(1, B * T * GW, x)[0]
    else:
        hbuf = cbuf = gbuf = np.empty(0, dtype=x.dtype)
    threads = _chunk_threads(n_chunks)
    gate = _call_gate(threads)
    ops = ForwardOperands(x, lengths, reverse, w_ih_t, w_hh_b, bias, h0, c_init, gate)
    if keep:
        def work(i, slot):
            lo, hi = edges[i], edges[i + 1]
            rows = _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, W, GW)
            forward_chunk(ops, rows, lo, hi, h, block, False)
    else:
        # Inference keeps no cache: each thread reuses one workspace of a
        # chunk's rows over ``block`` steps, block after block.
        spaces = [(aligned_empty(1, _line_multiple((block + 1) * nb_max * W), x)[0],
                   aligned_empty(1, (block + 1) * nb_max * H if lstm else 0, x)[0],
                   aligned_empty(1, _line_multiple(block * nb_max * GW), x)[0])
                  for _ in range(threads)]

        def work(i, slot):
            lo, hi = edges[i], edges[i + 1]
            ws_h, ws_c, ws_g = spaces[slot]
            rows = _chunk_views(ws_h, ws_c, ws_g, 0, hi - lo, block, H, W, GW)
            forward_chunk(ops, rows, lo, hi, h, block, True)
    run_chunks(work, n_chunks, threads, gate)
    return h, (hbuf, cbuf, gbuf, bounds)


def _run_backward(cell, kind, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx):
    backward_chunk = _kernels(cell, kind)[1]
    hbuf, cbuf, gbuf, bounds = cache
    if hbuf.size == 0 and x.shape[0] > 0:
        raise ValueError("this cache comes from an inference forward (keep_cache=False)")
    B, T, F = x.shape
    GH, H = w_hh.shape
    W = F + H + 1
    GW = GATE_COLUMNS[cell] * H
    edges = bounds.tolist()
    n_chunks = len(edges) - 1
    reverse, bptt, need_dx = bool(reverse), int(bptt), bool(need_dx)
    dw_ih = np.zeros((n_chunks, GH, F), dtype=x.dtype)
    dw_hh = np.zeros((n_chunks, GH, H), dtype=x.dtype)
    db_ih = np.zeros((n_chunks, GH), dtype=x.dtype)
    db_hh = np.zeros((n_chunks, GH), dtype=x.dtype)
    dx = np.empty((B, T, F) if need_dx else (0, 0, 0), dtype=x.dtype)  # filled per chunk
    # the per-step products read W_hh in place from a cache-line boundary
    threads = _chunk_threads(n_chunks)
    gate = _call_gate(threads)
    ops = BackwardOperands(dh, lengths, reverse, w_ih, aligned_copy(w_hh), bptt, need_dx, gate)

    def work(i, slot):
        lo, hi = edges[i], edges[i + 1]
        rows = _chunk_views(hbuf, cbuf, gbuf, lo, hi, T, H, W, GW)
        backward_chunk(ops, rows, lo, hi, ChunkGrads(dw_ih[i], dw_hh[i], db_ih[i], db_hh[i]),
                       dx)

    run_chunks(work, n_chunks, threads, gate)
    # the chunks' partial gradients summed in chunk order, so the result does
    # not depend on the thread count
    for i in range(1, n_chunks):
        dw_ih[0] += dw_ih[i]
        dw_hh[0] += dw_hh[i]
        db_ih[0] += db_ih[i]
        db_hh[0] += db_hh[i]
    return dx, dw_ih[0], dw_hh[0], db_ih[0], db_hh[0]


#: Cell codes of the contract's cell names.
CELL_CODES = {"rnn": CELL_RNN, "lstm": CELL_LSTM, "gru": CELL_GRU}


def _cell_code(cell):
    try:
        return CELL_CODES[cell]
    except KeyError:
        raise ValueError(f"cell must be one of {sorted(CELL_CODES)}, got {cell!r}") from None


def recurrent_forward(cell, x, lengths, w_ih, w_hh, b_ih, b_hh, h0, c0, reverse, kind,
                      keep_cache=True):
    """One direction of a recurrent layer; returns ``(h, cache)``, ``h``
    (B, T, H) with 0 at padding.  ``cell``:

    * ``'rnn'`` (Elman): ``h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh)``,
      ``act`` the activation code ``kind`` (``TANH`` or ``RELU``);
    * ``'lstm'`` (gates i, f, g, o; cell state from ``c0``)::

        Z = W_ih x_t + b_ih + W_hh h_{t-1} + b_hh
        i, f, o = sigma(Z_i, Z_f, Z_o)   g = tanh(Z_g)
        c_t = f c_{t-1} + i g            h_t = o tanh(c_t)

    * ``'gru'`` (gates r, z, n)::

        r = sigma(W_ir x + b_ir + W_hr h + b_hr)   z = sigma(W_iz x + b_iz + W_hz h + b_hz)
        n = tanh(W_in x + b_in + r (W_hn h + b_hn))
        h_t = (1 - z) n + z h_{t-1}

    ``c0`` is read by the LSTM only (None for the others), ``kind`` by the
    RNN only.  ``keep_cache=False`` (inference) returns an empty cache.
    """
    code = _cell_code(cell)
    return _run_forward(code, kind, x, lengths, w_ih, w_hh, b_ih, b_hh, h0,
                        c0 if code == CELL_LSTM else h0, reverse, keep_cache)


def recurrent_backward(cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx, kind):
    """BPTT of :func:`recurrent_forward` over its ``cache`` (the initial
    states and every step's values are in it); returns ``(dx, dw_ih, dw_hh,
    db_ih, db_hh)``.  RNN: ``dZ_t = act'(Z_t) (dh_t + dh_n)``, ``dh_n <- W_hh^T dZ_t``;
    the LSTM's and GRU's gate gradients are ``recurrent_cells.lstm_grads`` /
    ``gru_grads``."""
    return _run_backward(_cell_code(cell), kind, dh, x, lengths, w_ih, w_hh, cache,
                         reverse, bptt, need_dx)
