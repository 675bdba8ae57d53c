"""Operand tables: a chunk kernel's arrays passed as addresses and shapes.

A chunk kernel is a ``@cfunc`` that the chunk threads call through its
address (:mod:`seqnet.kernels.cpu.spin_wait`), so all it receives is the
address of an int64 *table*: scalars in its first cells, then, from
:data:`FIRST_ARRAY` on, :data:`ENTRY` cells per array (its data address and
up to three dimensions).  The driver fills a table with one compiled call
(a packer of :func:`put` calls) and the kernel rebuilds C-contiguous arrays
over the same memory (:func:`view`, :func:`rows_at`), so nothing is copied.
Every array put in a table must be C-contiguous, and must stay alive until
the kernel calls are over (the table holds addresses only).
"""

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic
from numba.np.arrayobj import populate_array

from seqnet.kernels.cpu.blas import ALIGNMENT


#: Cells per array: address, then three dimensions.
ENTRY = 4
#: Cell of the first array (cells 1 to 7: a kernel's scalars; 0: the chunk
#: threads' ``COMPLETED``).
FIRST_ARRAY = 8
#: The signature of every chunk kernel: table address, chunk, thread number.
CHUNK_SIGNATURE = types.void(types.int64, types.int64, types.int64)


def array_cell(i):
    """First cell of the ``i``-th array of a table."""
    return FIRST_ARRAY + ENTRY * i


def new_table(n_arrays):
    """A table for ``n_arrays`` arrays (its scalar cells zero)."""
    return np.zeros(array_cell(n_arrays), dtype=np.int64)


def _array_at(context, builder, array_type, address, shape):
    """An array struct of ``array_type`` (C-contiguous, no owner) over the
    memory at ``address`` (an int64 value) with dimensions ``shape``."""
    int64 = ir.IntType(64)
    item_type = context.get_data_type(array_type.dtype)
    itemsize = context.get_abi_sizeof(item_type)
    strides, stride = [], int64(itemsize)
    for dim in reversed(shape):
        strides.insert(0, stride)
        stride = builder.mul(stride, dim)
    array = context.make_array(array_type)(context, builder)
    populate_array(array, data=builder.inttoptr(address, item_type.as_pointer()),
                   shape=cgutils.pack_array(builder, shape),
                   strides=cgutils.pack_array(builder, strides),
                   itemsize=context.get_constant(types.intp, itemsize), meminfo=None)
    return array._getvalue()


def _cell(builder, address, index):
    """Cell ``index`` (an int64 value) of the int64 table at ``address``."""
    base = builder.inttoptr(address, ir.IntType(64).as_pointer())
    return builder.load(builder.gep(base, [index]))


@intrinsic
def table_at(typingctx, address):
    """The scalar cells of the table at ``address`` (int64, writable)."""
    array_type = types.Array(types.int64, 1, "C")

    def codegen(context, builder, signature, args):
        return _array_at(context, builder, array_type, args[0],
                         [ir.IntType(64)(FIRST_ARRAY)])

    return array_type(address), codegen


@intrinsic
def view(typingctx, address, i, dtype, ndim):
    """Array ``i`` of the table at ``address``: ``ndim`` dimensions (a
    constant) of ``dtype`` (a NumPy scalar type)."""
    if not isinstance(ndim, types.IntegerLiteral) or not isinstance(dtype, types.NumberClass):
        return None
    array_type = types.Array(dtype.dtype, ndim.literal_value, "C")

    def codegen(context, builder, signature, args):
        int64 = ir.IntType(64)
        first = builder.add(builder.mul(args[1], int64(ENTRY)), int64(FIRST_ARRAY))
        shape = [_cell(builder, args[0], builder.add(first, int64(1 + d)))
                 for d in range(array_type.ndim)]
        return _array_at(context, builder, array_type, _cell(builder, args[0], first), shape)

    return array_type(address, i, dtype, ndim), codegen


@intrinsic
def rows_at(typingctx, address, i, first, rows, cols, dtype):
    """``rows`` rows of ``cols`` values of ``dtype`` of array ``i`` of the
    table at ``address`` read as one flat buffer, from value ``first`` on."""
    if not isinstance(dtype, types.NumberClass):
        return None
    array_type = types.Array(dtype.dtype, 2, "C")

    def codegen(context, builder, signature, args):
        int64 = ir.IntType(64)
        cell = builder.add(builder.mul(args[1], int64(ENTRY)), int64(FIRST_ARRAY))
        itemsize = context.get_abi_sizeof(context.get_data_type(array_type.dtype))
        start = builder.add(_cell(builder, args[0], cell), builder.mul(args[2], int64(itemsize)))
        return _array_at(context, builder, array_type, start, [args[3], args[4]])

    return array_type(address, i, types.int64, types.int64, types.int64, dtype), codegen


def _store_entry(context, builder, table_type, table, i, values):
    """Store ``values`` (an address, then dimensions) in the cells of array
    ``i`` of ``table``."""
    cells = context.make_array(table_type)(context, builder, table)
    int64 = ir.IntType(64)
    first = builder.add(builder.mul(i, int64(ENTRY)), int64(FIRST_ARRAY))
    for k, value in enumerate(values):
        builder.store(value, builder.gep(cells.data, [builder.add(first, int64(k))]))


@intrinsic
def put(typingctx, table, i, a):
    """Array ``a`` (C-contiguous) as array ``i`` of ``table``: its data
    address, then its dimensions.  An intrinsic, so a packer of many arrays
    of several types compiles as one small function."""
    if not isinstance(a, types.Array):
        return None

    def codegen(context, builder, signature, args):
        table_type, _, array_type = signature.args
        array = context.make_array(array_type)(context, builder, args[2])
        address = builder.ptrtoint(array.data, ir.IntType(64))
        dims = cgutils.unpack_tuple(builder, array.shape, array_type.ndim)
        _store_entry(context, builder, table_type, args[0], args[1], [address] + dims)
        return context.get_dummy_value()

    return types.void(table, types.int64, a), codegen


@intrinsic
def first_aligned(typingctx, buf):
    """Index of the first value of the 1-D array ``buf`` that sits on a
    :data:`~seqnet.kernels.cpu.blas.ALIGNMENT` (cache line) boundary: plain
    integer arithmetic on its address, where ``buf.ctypes.data`` would
    compile a ctypes object."""
    if not isinstance(buf, types.Array):
        return None

    def codegen(context, builder, signature, args):
        array = context.make_array(signature.args[0])(context, builder, args[0])
        int64 = ir.IntType(64)
        address = builder.ptrtoint(array.data, int64)
        itemsize = int64(context.get_abi_sizeof(context.get_data_type(signature.args[0].dtype)))
        skip = builder.and_(builder.neg(address), int64(ALIGNMENT - 1))
        return builder.udiv(skip, itemsize)

    return types.int64(buf), codegen


@intrinsic
def put_part(typingctx, table, i, buf, start, shape):
    """Values ``start:`` of the 1-D array ``buf`` read as a C-contiguous
    array of ``shape`` (a tuple of up to three ints), as array ``i`` of
    ``table``: the address of ``buf[start]``, then the dimensions.  Puts
    a part of a larger buffer without making an array of it."""
    if not (isinstance(buf, types.Array) and isinstance(shape, types.BaseTuple)):
        return None

    def codegen(context, builder, signature, args):
        table_type, _, buf_type, _, shape_type = signature.args
        array = context.make_array(buf_type)(context, builder, args[2])
        int64 = ir.IntType(64)
        itemsize = int64(context.get_abi_sizeof(context.get_data_type(buf_type.dtype)))
        address = builder.add(builder.ptrtoint(array.data, int64),
                              builder.mul(args[3], itemsize))
        dims = [context.cast(builder, builder.extract_value(args[4], d), shape_type[d],
                             types.int64) for d in range(len(shape_type))]
        _store_entry(context, builder, table_type, args[0], args[1], [address] + dims)
        return context.get_dummy_value()

    return types.void(table, types.int64, buf, types.int64, shape), codegen
