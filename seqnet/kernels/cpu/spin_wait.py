"""The chunk threads' hand-off, in compiled code without the GIL.

A batch's row chunks (:mod:`seqnet.kernels.cpu.recurrent_chunks`) are
handed out here, one *pass* (one kernel call over a batch) at a time:

* a pass is an int64 *pass block*: the address of its chunk kernel (a
  ``@cfunc`` ``void(int64 table, int64 chunk, int64 thread)``), the address
  of its operand table (:mod:`seqnet.kernels.cpu.operand_table`), its chunk
  count and two counters: the next chunk to claim and the chunks finished;
* the caller posts the block's address to its helper threads' *mailboxes*
  (:func:`start_pass`), then claims chunks itself; every thread claims the
  next chunk with an atomic add and calls the kernel through its address,
  so no thread goes back to the interpreter between chunks;
* a helper thread waits for a post by spinning in :func:`serve` for a
  bounded time (waking a sleeping thread through the operating system costs
  tens of microseconds on a virtual machine, as long as a small chunk);
* the caller waits for the chunks to finish and then for every helper to
  let go of the block (:func:`finish_pass`): a helper that never took the
  post has it withdrawn, so a helper the operating system has not run yet
  (a busy machine) costs nothing, and the caller runs the chunks itself.

Flags are int64 cells read with acquire and written with release ordering
(the stores of one thread are seen in order by the other), updated with
atomic read-modify-write where several threads write, and each spin
iteration issues the x86 ``pause`` hint, which lets the sibling
hyper-thread run and saves power while spinning.
"""

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")

#: Cells of a pass block: the chunk kernel's address, the operand table's
#: address, the chunk count, the next chunk to claim, the chunks finished.
FN, TABLE, N_CHUNKS, NEXT, FINISHED = 0, 1, 2, 3, 4
#: Cells of a helper's mailbox: the address of the pass block posted to it
#: (0: none; :data:`TAKEN` while it works on one), and the thread number
#: it runs that pass's chunks as (the kernels keep a workspace per thread).
SLOT, THREAD = 0, 1
TAKEN = -1
#: Cell of an operand table that counts the chunks that ran to their end
#: (:func:`chunk_completed`): a chunk kernel that raised (numba writes the
#: exception out as unraisable and returns) is missing from it.
COMPLETED = 0
#: Length of a pass block or a mailbox: one 64-byte cache line of int64, so
#: two threads' mailboxes never share a line.
FLAG_CELLS = 8


def _item_pointer(context, builder, array_type, array, index):
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index])


def _cell_pointer(builder, address, cell):
    base = builder.inttoptr(address, ir.PointerType(ir.IntType(64)))
    return builder.gep(base, [cell])


@intrinsic
def _load_acquire(typingctx, array, index):
    """``array[index]`` (int64), read with acquire ordering: never hoisted
    out of a loop, and later reads are not moved before it."""
    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return types.int64(array, types.intp), codegen


@intrinsic
def _store_release(typingctx, array, index, value):
    """``array[index] = value`` (int64) with release ordering: the writes
    before it are visible to a thread that reads ``value``."""
    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        builder.store_atomic(args[2], ptr, ordering="release", align=8)
        return context.get_dummy_value()

    return types.void(array, types.intp, types.int64), codegen


@intrinsic
def _compare_exchange(typingctx, array, index, expected, value):
    """Atomically ``array[index] = value`` if it holds ``expected``; True if so."""
    def codegen(context, builder, signature, args):
        ptr = _item_pointer(context, builder, signature.args[0], args[0], args[1])
        pair = builder.cmpxchg(ptr, args[2], args[3], "acq_rel", "acquire")
        return builder.extract_value(pair, 1)

    return types.boolean(array, types.intp, types.int64, types.int64), codegen


@intrinsic
def _load_address(typingctx, address, cell):
    """Cell ``cell`` of the int64 array at ``address`` (its data pointer, as
    an integer), read with acquire ordering."""
    def codegen(context, builder, signature, args):
        ptr = _cell_pointer(builder, args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return types.int64(types.int64, types.intp), codegen


@intrinsic
def _fetch_add_address(typingctx, address, cell, value):
    """Atomically add ``value`` to cell ``cell`` of the int64 array at
    ``address``; returns the value before the addition."""
    def codegen(context, builder, signature, args):
        ptr = _cell_pointer(builder, args[0], args[1])
        return builder.atomic_rmw("add", ptr, args[2], ordering="acq_rel")

    return types.int64(types.int64, types.intp, types.int64), codegen


@intrinsic
def _call_chunk(typingctx, fn, table, chunk, thread):
    """Call the C function ``void f(int64, int64, int64)`` at address ``fn``."""
    def codegen(context, builder, signature, args):
        i64 = ir.IntType(64)
        fnty = ir.FunctionType(ir.VoidType(), [i64, i64, i64])
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), list(args[1:]))
        return context.get_dummy_value()

    return types.void(types.int64, types.int64, types.int64, types.int64), codegen


@intrinsic
def _pause(typingctx):
    """The x86 spin-wait hint (nothing elsewhere)."""
    def codegen(context, builder, signature, args):
        if _X86:
            fn = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(ir.VoidType(), []), "llvm.x86.sse2.pause")
            builder.call(fn, [])
        return context.get_dummy_value()

    return types.void(), codegen


@njit(nogil=True, inline="always")
def _run_claimed(block, thread):
    """Claim and run chunks of the pass block at address ``block`` until none
    is left, then add the count to its ``FINISHED`` cell."""
    fn = _load_address(block, FN)
    table = _load_address(block, TABLE)
    n = _load_address(block, N_CHUNKS)
    done = 0
    while True:
        i = _fetch_add_address(block, NEXT, 1)
        if i >= n:
            break
        _call_chunk(fn, table, i, thread)
        done += 1
    _fetch_add_address(block, FINISHED, done)


@njit(cache=True, nogil=True)
def serve(mailbox, spins):
    """A helper thread's loop: run the chunks of every pass posted to
    ``mailbox``; return once ``spins`` spin iterations pass without one."""
    idle = 0
    while idle <= spins:
        block = _load_acquire(mailbox, SLOT)
        if block > 0 and _compare_exchange(mailbox, SLOT, block, TAKEN):
            _run_claimed(block, mailbox[THREAD])
            _store_release(mailbox, SLOT, 0)  # done with the block
            idle = 0
        else:
            idle += 1
            _pause()


@njit(cache=True, nogil=True)
def start_pass(block, fn, table, n_chunks, mailboxes, rows, spins):
    """Fill the pass block ``block`` (kernel address ``fn``, operand table
    ``table``, ``n_chunks`` chunks), post it to the helpers whose mailboxes
    are ``mailboxes[rows]`` (thread numbers 1, 2, ...), run chunks on this
    thread (number 0) until none is left to claim, then wait as
    :func:`finish_pass` does; True if the pass is over."""
    block[FN] = fn
    block[TABLE] = table.ctypes.data
    block[N_CHUNKS] = n_chunks
    block[NEXT] = 0
    block[FINISHED] = 0
    address = block.ctypes.data
    for k in range(rows.shape[0]):
        mailboxes[rows[k], THREAD] = k + 1
        _store_release(mailboxes[rows[k]], SLOT, address)
    _run_claimed(address, 0)
    return rows.shape[0] == 0 or _finish(block, mailboxes, rows, spins)


@njit(nogil=True, inline="always")
def _finish(block, mailboxes, rows, spins):
    """Wait (at most about ``spins`` iterations) until every chunk of the
    pass is finished and no helper holds its block (a post not taken yet is
    withdrawn); True once so, False to be called again."""
    i = 0
    while _load_acquire(block, FINISHED) != block[N_CHUNKS]:
        i += 1
        if i > spins:
            return False
        _pause()
    address = block.ctypes.data
    for k in range(rows.shape[0]):
        mailbox = mailboxes[rows[k]]
        if _compare_exchange(mailbox, SLOT, address, 0):
            continue  # never taken
        while _load_acquire(mailbox, SLOT) != 0:
            i += 1
            if i > spins:
                return False
            _pause()
    return True


@njit(cache=True, nogil=True)
def finish_pass(block, mailboxes, rows, spins):
    """Wait again for a pass that :func:`start_pass` left unfinished (a busy
    machine: a helper descheduled while it runs a chunk)."""
    return _finish(block, mailboxes, rows, spins)


@njit(nogil=True, inline="always")
def chunk_completed(table):
    """What a chunk kernel calls as its last step: count it in the
    ``COMPLETED`` cell of its operand table (at address ``table``)."""
    _fetch_add_address(table, COMPLETED, 1)
