"""Matrix products on strided blocks, callable from ``@njit`` kernels.

``np.dot`` in numba needs contiguous operands and always overwrites its
output.  The recurrent kernels keep every step of a chunk side by side in one
``(rows, steps * nb)`` array and need

* a product that writes into (or adds to) the columns of one step in place,
  without copying the block out and back, and
* transposed operands (``W_hh^T dZ``, ``dZ H^T``) without a transposed copy.

:func:`gemm` gives both: it calls the same BLAS ``sgemm``/``dgemm`` that
numba's ``np.dot`` uses (scipy's, through numba's C helper ``numba_xxgemm``,
which loads it on first use and takes the GIL for that, so it is safe on
any thread, the GIL released or not), passing the blocks' leading dimensions instead of
copying.

Two helpers serve OpenBLAS's fast path for small products (read in place,
without packing): :func:`piece_width` cuts a product into pieces within its
size limit, and :func:`aligned_empty` allocates operands on cache-line
boundaries, without which that path splits every vector load.
"""

import numpy as np
from numba import types
from numba.extending import overload, register_jitable

from seqnet.kernels.cpu.jit import any_layout, helper


def _xxgemm(dtype):
    # numba's C helper (numba/_lapack.c), Fortran (column-major) convention.
    sig = types.intc(types.char, types.char, types.char,          # kind, transa, transb
                     types.intp, types.intp, types.intp,           # m, n, k
                     types.CPointer(dtype), types.CPointer(dtype), types.intp,  # alpha, a, lda
                     types.CPointer(dtype), types.intp,            # b, ldb
                     types.CPointer(dtype), types.CPointer(dtype), types.intp)  # beta, c, ldc
    return types.ExternalFunction("numba_xxgemm", sig)


_XXGEMM = {types.float32: (_xxgemm(types.float32), ord("s")),
           types.float64: (_xxgemm(types.float64), ord("d"))}


def gemm(a, b, out, trans_a=False, trans_b=False, accumulate=False):
    """``out = op(a) @ op(b)`` (``out += ...`` with ``accumulate``), in place.

    ``op(m)`` is ``m.T`` when its ``trans_*`` flag is set.  All three are 2-D
    arrays of one float dtype whose rows may be strided (column slices of a
    larger C-contiguous array) but whose elements within a row are adjacent.
    """
    prod = (a.T if trans_a else a) @ (b.T if trans_b else b)
    if accumulate:
        out += prod
    else:
        out[...] = prod


@register_jitable
def _rows_contiguous(m):
    return m.size == 0 or m.shape[1] <= 1 or m.strides[1] == m.itemsize


@register_jitable
def _leading_dim(m):
    """Row stride of a row-major block, in elements (at least the row length)."""
    return max(m.strides[0] // m.itemsize, m.shape[1], 1)


def _xxgemm_call(trans_a, trans_b, m, n, k, scale, a, lda, b, ldb, out, ldc):
    """numba's ``numba_xxgemm`` of ``out``'s dtype (column-major convention,
    ``alpha, beta = scale``); typed by :func:`_xxgemm_call_impl`."""


@overload(_xxgemm_call)
def _xxgemm_call_impl(trans_a, trans_b, m, n, k, scale, a, lda, b, ldb, out, ldc):
    fn, kind = _XXGEMM[out.dtype]

    def impl(trans_a, trans_b, m, n, k, scale, a, lda, b, ldb, out, ldc):
        fn(kind, trans_a, trans_b, m, n, k, scale[:1].ctypes, a.ctypes, lda,
           b.ctypes, ldb, scale[1:].ctypes, out.ctypes, ldc)

    return impl


@helper(error_model="numpy")
def gemm_core(a, b, out, trans_a, trans_b, accumulate):
    """:func:`gemm` with every argument explicit: any-layout operands
    (:func:`seqnet.kernels.cpu.jit.any_layout`) and ``np.bool_`` flags (a
    literal ``True`` would compile a second specialization).  The one
    compiled product per dtype that every call of :func:`gemm` reaches;
    kernels with few call sites call it directly, without :func:`gemm`'s
    inlined entry (compiled once per call signature)."""
    m, n = out.shape
    k = a.shape[0] if trans_a else a.shape[1]
    if (b.shape[1] if trans_b else b.shape[0]) != k or \
            (a.shape[1] if trans_a else a.shape[0]) != m or \
            (b.shape[0] if trans_b else b.shape[1]) != n:
        raise ValueError("gemm: operand shapes do not match")
    if not (_rows_contiguous(a) and _rows_contiguous(b) and _rows_contiguous(out)):
        raise ValueError("gemm: rows must be contiguous")
    if m == 0 or n == 0:
        return
    scale = np.empty(2, dtype=out.dtype)
    scale[0] = 1.0
    scale[1] = 1.0 if accumulate else 0.0
    no, yes = 78, 84  # ord("N"), ord("T")
    # Row-major out = op(a) op(b) is column-major out^T = op(b)^T op(a)^T,
    # and a row-major matrix read column-major is its own transpose.
    _xxgemm_call(yes if trans_b else no, yes if trans_a else no, n, m, k, scale,
                 b, _leading_dim(b), a, _leading_dim(a), out, _leading_dim(out))


@overload(gemm, inline="always")
def _gemm_entry(a, b, out, trans_a=False, trans_b=False, accumulate=False):
    # Inlined into the caller: layouts erased and the flags made plain bools
    # (``== True`` turns an omitted default or a literal into a ``bool``), so
    # every call reaches the one compiled gemm_core of its dtype
    # (seqnet.kernels.cpu.jit).
    def entry(a, b, out, trans_a=False, trans_b=False, accumulate=False):
        gemm_core(any_layout(a), any_layout(b), any_layout(out),
                      trans_a == True, trans_b == True, accumulate == True)  # noqa: E712

    return entry


#: Byte alignment of GEMM operands allocated by :func:`aligned_empty`.
ALIGNMENT = 64


@register_jitable
def aligned_empty(rows, cols, like):
    """An uninitialised ``(rows, cols)`` C-contiguous array of ``like``'s dtype
    whose first element sits on a 64-byte (cache line) boundary.

    OpenBLAS reads small operands in place, without packing them, with
    64-byte vector loads: an operand that starts mid-line splits every load
    across two cache lines (timings: benchmarks/RESULTS.md, "Tuning notes").
    """
    extra = ALIGNMENT // like.itemsize
    buf = np.empty(rows * cols + extra, dtype=like.dtype)
    skip = ((-buf.ctypes.data) % ALIGNMENT) // like.itemsize
    return buf[skip:skip + rows * cols].reshape((rows, cols))


@register_jitable
def aligned_copy(m):
    """A C-contiguous copy of the 2-D array (or view, e.g. ``w.T``) ``m``
    allocated by :func:`aligned_empty`."""
    out = aligned_empty(m.shape[0], m.shape[1], m)
    out[:] = m
    return out


@register_jitable
def column_blocks(m, width):
    """``m`` (rows, cols) cut into blocks of ``width`` columns, each block
    C-contiguous and 64-byte aligned: ``out[k, :, :w]`` is
    ``m[:, k * width:k * width + w]`` (the last block may hold fewer columns;
    its other columns are zero).

    The right operand of a product in column pieces (:func:`piece_width`)
    read from a block instead of from a column slice of ``m``: a slice of a
    wide ``m`` is a few cache lines per row at a stride of whole pages, which
    the hardware prefetchers do not follow once ``m`` is out of L2
    (``benchmarks/bench_column_blocks.py``).
    """
    rows, cols = m.shape
    n = block_count(cols, width)
    out = aligned_empty(n * rows, width, m).reshape((n, rows, width))
    fill_column_blocks(m, out)
    return out


@register_jitable
def block_count(cols, width):
    """Blocks of :func:`column_blocks` for ``cols`` columns of ``width``."""
    return max(-(-cols // width), 1)


@register_jitable
def fill_column_blocks(m, out):
    """Fill ``out`` (blocks, rows, width) with the column blocks of ``m``,
    as :func:`column_blocks` returns them."""
    width, cols = out.shape[2], m.shape[1]
    if out.shape[0] == 1 and width == cols:  # one block: ``m`` itself
        out[0] = m
        return
    for k in range(out.shape[0]):
        c = k * width
        e = min(c + width, cols)
        out[k, :, :e - c] = m[:, c:e]
        out[k, :, e - c:] = 0.0


#: Largest product (multiply-adds) run in one piece by :func:`piece_width`:
#: OpenBLAS's limit for its small-matrix kernels on AVX-512 machines, which
#: read the operands in place (no packing) and run several times faster per
#: multiply-add at the sizes of a recurrent step; elsewhere pieces cost only
#: a few more calls (timings: benchmarks/RESULTS.md, "Tuning notes").
SMALL_PRODUCT_MACS = 1_000_000
#: Narrowest piece worth a call: below it one product is faster again.
MIN_PIECE = 32


@register_jitable
def piece_width(rows, inner, cols):
    """Width of the pieces a product of ``rows * inner * cols`` multiply-adds
    is cut into along its ``cols`` dimension (any of the three: an output
    dimension, or the summed one, the pieces then adding up): the widest
    power of two whose piece stays within :data:`SMALL_PRODUCT_MACS`,
    or ``cols`` (one piece) when the whole product does or when the piece
    would be narrower than :data:`MIN_PIECE`."""
    if rows * inner * cols <= SMALL_PRODUCT_MACS:
        return max(cols, 1)
    width = MIN_PIECE
    while rows * inner * width * 2 <= SMALL_PRODUCT_MACS and width * 2 < cols:
        width *= 2
    if rows * inner * width > SMALL_PRODUCT_MACS:
        return max(cols, 1)
    return width
