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
Conventions (lengths, reverse, truncated BPTT, flush to zero) are those of
:mod:`seqnet.kernels.cpu.recurrent_common`; the per-step math is in
:mod:`seqnet.kernels.cpu.recurrent_cells`.

Each row chunk runs its whole time loop in one call of a chunk kernel
(:mod:`seqnet.kernels.cpu.recurrent_chunk_kernels`), and the chunks of a
batch are shared out by the chunk threads
(:mod:`seqnet.kernels.cpu.chunk_threads`).  This module prepares a call:
the weights in the layouts the products read, the output and row buffers,
and the operand table (:mod:`seqnet.kernels.cpu.operand_table`) the
kernels read them from.  The chunks' weight gradients are summed here, in
chunk order.
"""

import functools
from collections import namedtuple

import numpy as np

from seqnet.kernels.cpu.activations import RELU, TANH
from seqnet.kernels.cpu.blas import (
    aligned_arrays,
    block_count,
    fill_column_blocks,
    piece_width,
)
from seqnet.kernels.cpu.chunk_threads import get_chunk_threads, run_pass
from seqnet.kernels.cpu.operand_table import new_table
from seqnet.kernels.cpu.recurrent_cells import (
    CELL_GATES,
    CELL_GRU,
    CELL_LSTM,
    CELL_RNN,
    GATE_COLUMNS,
    bias_columns,
)
from seqnet.kernels.cpu.recurrent_chunk_kernels import (
    BPTT,
    N_ARRAYS,
    NEED_DX,
    REVERSE,
    WS_G,
    backward_kernel,
    forward_kernel,
    pack_operands,
)
from seqnet.kernels.cpu.recurrent_chunks import block_steps, chunk_bounds


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


def _line_multiple(n):
    """``n`` rounded up to a multiple of 16 values (64 bytes of float32, two
    lines of float64): rows of that many values keep every row of an aligned
    array aligned."""
    return -(-n // 16) * 16


#: The layout of a forward pass of one shape (:func:`_forward_plan`): its
#: threads, the scalar cells of its table (the direction left 0) and the
#: shapes of the arrays it makes in one allocation: ``W_ih^T``, ``W_hh^T``
#: in column blocks and the three flat row buffers.
ForwardPlan = namedtuple("ForwardPlan", "threads scalars shapes")


@functools.lru_cache(maxsize=256)
def _forward_plan(cell, shape, H, keep, split):
    """The :data:`ForwardPlan` of a forward pass over ``shape`` (B, T, F)
    cut into ``split`` = (chunks, steps per time block, threads available).

    The row buffers (:mod:`seqnet.kernels.cpu.recurrent_chunks`) hold the
    whole batch's cache (``keep``), or one workspace of a block of steps per
    thread, each thread's starting on a cache line (the scalar cells give
    the values per thread).  The products read ``W_ih^T`` and ``W_hh^T``
    row-major from a cache line (:func:`~seqnet.kernels.cpu.blas.aligned_empty`),
    ``W_hh^T`` in the column blocks of the per-step product's pieces
    (:func:`~seqnet.kernels.cpu.blas.column_blocks`), cut for the widest
    chunk: a chunk with a row less stays within the limit."""
    (B, T, F), (n_chunks, block, available) = shape, split
    W, GH, GW = F + H + 1, CELL_GATES[cell] * H, GATE_COLUMNS[cell] * H
    rows = -(-B // n_chunks)  # chunks differ by at most one row
    threads = min(available, n_chunks)  # as run_pass takes them
    lstm = cell == CELL_LSTM
    if keep:
        sizes = (0, 0, 0)
        totals = (B * (T + 1) * W, B * (T + 1) * H if lstm else 0, B * T * GW)
    else:
        sizes = (_line_multiple((block + 1) * rows * W),
                 _line_multiple((block + 1) * rows * H) if lstm else 0,
                 _line_multiple(block * rows * GW))
        totals = tuple(threads * size for size in sizes)
    width = piece_width(rows, H, GH)
    shapes = ((F, GH), (block_count(GH, width), H, width)) + tuple((t,) for t in totals)
    return ForwardPlan(threads, (0, block, int(not keep)) + sizes, shapes)


def _writable_contiguous(a, dtype):
    a = np.ascontiguousarray(a, dtype=dtype)
    return a if a.flags.writeable else a.copy()


def _contiguous(dtype, *arrays):
    """The arrays C-contiguous, writable and of ``dtype`` (the kernels read
    the table's memory as such, and :func:`pack_operands` is compiled for
    writable arrays only); no copy where they are already."""
    return tuple(_writable_contiguous(a, dtype) for a in arrays)


#: Empty arrays by dtype and number of dimensions: the unused 3-D array of
#: a forward table, the buffers of an inference forward's cache.
_EMPTY = {np.dtype(t).char: {n: np.zeros((0,) * n, dtype=t) for n in (1, 3)}
          for t in (np.float32, np.float64)}


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
    RNN only.  ``keep_cache=False`` (inference) returns an empty cache.
    """
    cell = _cell_code(cell)
    c0 = c0 if cell == CELL_LSTM else h0
    w_ih, w_hh, b_ih, b_hh = _contiguous(x.dtype, w_ih, w_hh, b_ih, b_hh)
    GH, H = w_hh.shape
    if GH != CELL_GATES[cell] * H or w_ih.shape[0] != GH:
        raise ValueError(f"weights of shapes {w_ih.shape}, {w_hh.shape} do not fit "
                         f"{CELL_GATES[cell]} gates of {H} units")
    kernel = _kernel_address("forward", cell, kind, x.dtype)
    keep = bool(keep_cache)
    B, T, F = x.shape
    GW = GATE_COLUMNS[cell] * H
    bounds = chunk_bounds(B, T * GW * (F + H + 1))  # forward multiply-adds per row
    n_chunks = bounds.shape[0] - 1
    block = block_steps(-(-B // n_chunks), GW, x.itemsize, max(T, 1))
    plan = _forward_plan(cell, x.shape, H, keep, (n_chunks, block, get_chunk_threads()))
    h = np.empty((B, T, H), dtype=x.dtype)  # every chunk fills its rows
    w_ih_t, w_hh_b, *buffers = aligned_arrays(x, plan.shapes)
    w_ih_t[...] = w_ih.T
    fill_column_blocks(w_hh.T, w_hh_b)
    x, h0, c0 = _contiguous(x.dtype, x, h0, c0)
    table = new_table(N_ARRAYS)
    table[REVERSE:WS_G + 1] = plan.scalars
    table[REVERSE] = bool(reverse)
    # the table holds addresses only: ``operands`` keeps the arrays alive
    operands = ((x, w_hh_b, h, _EMPTY[x.dtype.char][3]),
                (w_ih_t, h0, c0, bias_columns(cell, b_ih, b_hh).reshape(1, -1)),
                tuple(buffers), _lengths(lengths), bounds)
    pack_operands(table, *operands)
    run_pass(kernel, table, n_chunks, plan.threads)
    cache = operands[2] if keep else (_EMPTY[x.dtype.char][1],) * 3
    return h, cache + (bounds,)


def recurrent_backward(cell, dh, x, lengths, w_ih, w_hh, cache, reverse, bptt, need_dx, kind):
    """BPTT of :func:`recurrent_forward` over its ``cache`` (the initial
    states and every step's values are in it); returns ``(dx, dw_ih, dw_hh,
    db_ih, db_hh)``.  RNN: ``dZ_t = act'(Z_t) (dh_t + dh_n)``, ``dh_n <- W_hh^T dZ_t``;
    the LSTM's and GRU's gate gradients are ``recurrent_cells.lstm_grads`` /
    ``gru_grads``."""
    cell = _cell_code(cell)
    w_ih, w_hh, dh = _contiguous(x.dtype, w_ih, w_hh, dh)
    hbuf, cbuf, gbuf, bounds = cache
    if hbuf.size == 0 and x.shape[0] > 0:
        raise ValueError("this cache comes from an inference forward (keep_cache=False)")
    kernel = _kernel_address("backward", cell, kind, x.dtype)
    B, T, F = x.shape
    GH, H = w_hh.shape
    n_chunks = bounds.shape[0] - 1
    need_dx = bool(need_dx)
    # the per-step products read W_hh in place from a cache line; every
    # chunk overwrites its row of the partial gradients, and its rows of dx
    w_hh_a, *grads = aligned_arrays(x, [(GH, H), (n_chunks, GH, F), (n_chunks, GH, H),
                                        (n_chunks, GH), (n_chunks, GH)])
    w_hh_a[...] = w_hh
    dx = np.empty((B, T, F) if need_dx else (0, 0, 0), dtype=x.dtype)
    table = new_table(N_ARRAYS)
    table[REVERSE], table[NEED_DX], table[BPTT] = bool(reverse), need_dx, int(bptt)
    operands = ((dh, grads[0], grads[1], dx), (w_ih, w_hh_a, grads[2], grads[3]),
                (hbuf, cbuf, gbuf), _lengths(lengths), bounds)  # alive until the kernels are done
    pack_operands(table, *operands)
    run_pass(kernel, table, n_chunks)
    # the chunks' partial gradients summed in chunk order, so the result does
    # not depend on the thread count
    for part in grads:
        for i in range(1, n_chunks):
            part[0] += part[i]
    return (dx,) + tuple(part[0] for part in grads)
