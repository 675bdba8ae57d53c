"""Time loops of the recurrent kernels: RNN, LSTM and GRU, one direction per call.

Public kernels: ``recurrent_forward`` / ``recurrent_backward`` (one signature
for the three cells, listed in :mod:`seqnet.kernels.contract`), re-exported
by :mod:`seqnet.kernels.cpu.recurrent`.

``keep_cache=False`` (inference) returns a cache no backward pass can take:
each chunk runs in a workspace of its thread that holds one block of steps
(``recurrent_chunks.block_steps``), reused block after block.

The backward kernel takes back the ``cache`` of its forward kernel, and
returns ``(dx, dw_ih, dw_hh, db_ih, db_hh)`` (``dx`` has shape (0, 0, 0)
when ``need_dx`` is False).  ``cache`` is opaque (the CUDA twins keep their
own): here the three flat row buffers (``[x | h_prev | 1]`` rows, LSTM cell
states, gate activations: the chunk "rows" arrays of
:mod:`seqnet.kernels.cpu.recurrent_chunks`) with their layout (None after
an inference forward), and the chunk boundaries they were laid out with.
A backward pass leaves the cache as it was.
Conventions (lengths, reverse, truncated BPTT, flush to zero) are those of
:mod:`seqnet.kernels.cpu.recurrent_common`; the per-step math is in
:mod:`seqnet.kernels.cpu.recurrent_cells`.

Each row chunk runs its whole time loop in one call of a chunk kernel
(:mod:`seqnet.kernels.cpu.recurrent_chunk_kernels`), and the chunks of a
batch are shared out by the chunk threads
(:mod:`seqnet.kernels.cpu.chunk_threads`).  This module prepares a call:
a shape's chunks, threads and buffer sizes are worked out once (a
:data:`ForwardPlan`, :data:`BackwardPlan`), and a call allocates its output
and row buffers, lays the weights out in its thread's buffers
(:mod:`seqnet.kernels.cpu.recurrent_weights`) and fills the operand table
the kernels read with one compiled call
(:func:`~seqnet.kernels.cpu.recurrent_chunk_kernels.pack_operands`).  The
chunks' weight gradients are summed here, in chunk order.
"""

import functools
from collections import namedtuple

import numpy as np

from seqnet.kernels.cpu.activations import RELU, TANH
from seqnet.kernels.cpu.blas import block_count, piece_width
from seqnet.kernels.cpu.chunk_threads import get_chunk_threads, run_pass
from seqnet.kernels.cpu.operand_table import new_table
from seqnet.kernels.cpu.recurrent_cells import (
    CELL_GATES,
    CELL_GRU,
    CELL_LSTM,
    CELL_RNN,
    GATE_COLUMNS,
)
from seqnet.kernels.cpu.recurrent_chunk_kernels import (
    AT_DB_HH,
    AT_DB_IH,
    AT_DW_HH,
    BLOCK,
    BPTT,
    NEED_DX,
    N_ARRAYS,
    PART_STRIDE,
    REVERSE,
    RING,
    WS_C,
    WS_G,
    WS_H,
    backward_kernel,
    forward_kernel,
    pack_operands,
)
from seqnet.kernels.cpu.recurrent_chunks import block_steps, chunk_bounds
from seqnet.kernels.cpu.recurrent_weights import (
    LINE,
    backward_weights,
    forward_weights,
    line_multiple,
)


#: Addresses of the chunk kernels compiled so far, by (direction, cell,
#: activation code, dtype).
_ADDRESSES = {}


def _kernel_address(direction, cell, kind, dtype):
    """The address of a chunk kernel, compiled (or loaded from the cache) on
    first use: ``direction`` 'forward' or 'backward', the cell's code, the
    RNN's activation code (ignored by the LSTM and GRU) and the dtype."""
    if cell != CELL_RNN:
        kind = 0
    key = (direction, cell, kind, dtype)
    address = _ADDRESSES.get(key)
    if address is None:
        if cell == CELL_RNN and kind not in (TANH, RELU):
            raise ValueError(f"the RNN cell takes activation code {TANH} (tanh) or "
                             f"{RELU} (relu), not {kind!r}")
        make = forward_kernel if direction == "forward" else backward_kernel
        address = _ADDRESSES[key] = make(cell, kind, dtype.type).address
    return address


def _table(scalars):
    """A read-only operand table with ``scalars`` in its cells from 1 on: the
    template a call copies."""
    table = new_table(N_ARRAYS)
    for cell, value in scalars.items():
        table[cell] = value
    table.flags.writeable = False
    return table


#: What a forward pass of one shape needs besides its arrays, worked out
#: once per shape: the chunk kernel's address, the chunk boundaries
#: (read-only), the threads, the table's template (its scalars set, the
#: direction 0), the column blocks of ``W_hh^T`` (count, width), the values
#: the kernels use of each row buffer (a read-only int64 array) and the
#: sizes to allocate them with.
ForwardPlan = namedtuple("ForwardPlan", "kernel edges threads table blocks values sizes")
#: The same for a backward pass: the kernel's address, the table's template
#: and where the four parts of a chunk's row of partial gradients start,
#: then the row's length.
BackwardPlan = namedtuple("BackwardPlan", "kernel table at")


@functools.lru_cache(maxsize=256)
def _forward_plan(cell, kind, dtype, shape, H, keep, available):
    """The :data:`ForwardPlan` of a forward pass over ``shape`` (B, T, F)
    with up to ``available`` threads.

    The row buffers (:mod:`seqnet.kernels.cpu.recurrent_chunks`) hold the
    whole batch's cache (``keep``), or one workspace of a block of steps per
    thread, each thread's starting on a cache line (the scalar cells give
    the values per thread), with a cache line to spare for their alignment.
    ``W_hh^T`` is cut into the column blocks of the per-step product's
    pieces (:func:`~seqnet.kernels.cpu.blas.column_blocks`) for the widest
    chunk: a chunk with a row less stays within the limit."""
    B, T, F = shape
    W, GH, GW = F + H + 1, CELL_GATES[cell] * H, GATE_COLUMNS[cell] * H
    edges = chunk_bounds(B, T * GW * W)  # forward multiply-adds per row
    n_chunks = edges.shape[0] - 1
    rows = -(-B // n_chunks)  # chunks differ by at most one row
    block = block_steps(rows, GW, np.dtype(dtype).itemsize, max(T, 1))
    threads = min(available, n_chunks)  # as run_pass takes them
    lstm = cell == CELL_LSTM
    if keep:
        workspace = (0, 0, 0)
        values = (B * (T + 1) * W, B * (T + 1) * H if lstm else 0, B * T * GW)
    else:
        workspace = (line_multiple((block + 1) * rows * W),
                     line_multiple((block + 1) * rows * H) if lstm else 0,
                     line_multiple(block * rows * GW))
        values = tuple(threads * size for size in workspace)
    width = piece_width(rows, H, GH)
    table = _table({BLOCK: block, RING: int(not keep), WS_H: workspace[0],
                    WS_C: workspace[1], WS_G: workspace[2]})
    read_only = np.array(values, dtype=np.int64)
    read_only.flags.writeable = False
    return ForwardPlan(_kernel_address("forward", cell, kind, dtype), edges, threads, table,
                       (block_count(GH, width), width), read_only,
                       tuple(n + LINE for n in values))


@functools.lru_cache(maxsize=256)
def _backward_plan(cell, kind, dtype, F, H):
    """The :data:`BackwardPlan` of a backward pass with ``F`` inputs and
    ``H`` units.  Each chunk's partial gradients are one row of ``dW_ih``,
    ``dW_hh``, ``db_ih``, ``db_hh`` side by side (the kernels copy them in
    from an aligned product, and the rows are summed whole)."""
    GH = CELL_GATES[cell] * H
    at = tuple(int(v) for v in np.cumsum([0, GH * F, GH * H, GH, GH]))
    table = _table({PART_STRIDE: at[4], AT_DW_HH: at[1], AT_DB_IH: at[2],
                    AT_DB_HH: at[3]})
    return BackwardPlan(_kernel_address("backward", cell, kind, dtype), table, at)


def _writable_contiguous(a, dtype):
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _contiguous(dtype, *arrays):
    """The arrays C-contiguous, writable and of ``dtype`` (the kernels read
    the table's memory as such, and the table's fillers are compiled for
    writable arrays only); no copy where they are already."""
    return tuple(_writable_contiguous(a, dtype) for a in arrays)


def _lengths(lengths):
    return _writable_contiguous(lengths, np.int64)


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
    RNN only.  ``keep_cache=False`` (inference) keeps no cache: the one it
    returns makes :func:`recurrent_backward` raise.
    """
    cell = _cell_code(cell)
    dtype = x.dtype
    c0 = c0 if cell == CELL_LSTM else h0
    x, h0, c0, w_ih, w_hh, b_ih, b_hh = _contiguous(dtype, x, h0, c0, w_ih, w_hh, b_ih, b_hh)
    GH, H = w_hh.shape
    if GH != CELL_GATES[cell] * H or w_ih.shape[0] != GH:
        raise ValueError(f"weights of shapes {w_ih.shape}, {w_hh.shape} do not fit "
                         f"{CELL_GATES[cell]} gates of {H} units")
    keep = bool(keep_cache)
    plan = _forward_plan(cell, kind, dtype, x.shape, H, keep, get_chunk_threads())
    h = np.empty(x.shape[:2] + (H,), dtype=dtype)  # every chunk fills its rows
    rows = tuple(np.empty(n, dtype=dtype) for n in plan.sizes)
    w_ih_t, w_hh_b, bias = forward_weights(cell == CELL_GRU, w_ih, w_hh, b_ih, b_hh,
                                           *plan.blocks)
    table = plan.table.copy()
    table[REVERSE] = bool(reverse)
    # the table holds addresses only: the arrays stay referenced here until
    # the pass is over
    pack_operands(table, (x, h, w_hh_b), (h0, c0, w_ih_t, bias), rows, plan.values,
                  _lengths(lengths), plan.edges)
    run_pass(plan.kernel, table, plan.edges.shape[0] - 1, plan.threads)
    return h, ((rows, plan.values) if keep else None, plan.edges)


def recurrent_backward(cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx, kind):
    """BPTT of :func:`recurrent_forward` over its ``cache`` (the initial
    states and every step's values are in it); returns ``(dx, dw_ih, dw_hh,
    db_ih, db_hh)``.  RNN: ``dZ_t = act'(Z_t) (dh_t + dh_n)``, ``dh_n <- W_hh^T dZ_t``;
    the LSTM's and GRU's gate gradients are ``recurrent_cells.lstm_grads`` /
    ``gru_grads``."""
    cell = _cell_code(cell)
    dtype = x.dtype
    kept, edges = cache
    if kept is None:
        raise ValueError("this cache comes from an inference forward (keep_cache=False)")
    rows, values = kept
    w_ih, w_hh, dh = _contiguous(dtype, w_ih, w_hh, dh)
    B, T, F = x.shape
    GH, H = w_hh.shape
    n_chunks = edges.shape[0] - 1
    plan = _backward_plan(cell, kind, dtype, F, H)
    table = plan.table.copy()
    table[REVERSE], table[NEED_DX] = bool(reverse), bool(need_dx)
    table[BPTT] = int(bptt)
    dx = np.empty((B, T, F) if need_dx else (0, 0, 0), dtype=dtype)
    at = plan.at
    parts = np.empty((n_chunks, at[4]), dtype=dtype)  # every chunk overwrites its row
    # slots 2 and 6 are unused (the forward's W_hh^T blocks and bias)
    pack_operands(table, (dh, dx, dh), (w_ih, backward_weights(w_hh), parts, w_ih),
                  rows, values, _lengths(lengths), edges)
    run_pass(plan.kernel, table, n_chunks)
    # the chunks' partial gradients summed in chunk order, so the result does
    # not depend on the thread count
    for i in range(1, n_chunks):
        parts[0] += parts[i]
    total = parts[0]
    return (dx, total[:GH * F].reshape(GH, F), total[at[1]:at[2]].reshape(GH, H),
            total[at[2]:at[3]], total[at[3]:at[4]])
