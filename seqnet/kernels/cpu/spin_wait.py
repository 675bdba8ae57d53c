"""Waits that spin in compiled code, without the GIL: the chunk threads' hand-off.

A chunk thread that sleeps on a lock or an event is woken through the
operating system (a futex wake: tens of microseconds on a virtual machine),
and a thread that returns from a ``nogil`` call while another holds the GIL
sleeps the same way.  For chunks of a few tens of microseconds that costs
more than the second thread saves.  So a chunk thread waits here, in a
``nogil`` loop over one memory cell, for a bounded number of iterations
before it falls back to sleeping (:mod:`seqnet.kernels.cpu.chunk_threads`):

* a helper thread waits for its next task (:func:`wait_for_post`), and then
  for the call's *gate*: the caller's own chunk kernel opens it on entry
  (:func:`open_gate`), that is once the caller has released the GIL, so the
  helper takes a free GIL instead of sleeping on a held one;
* the caller waits until the chunks the helpers took are finished
  (:func:`wait_for_value` on the call's ``FINISHED`` cell); a helper adds
  its count from inside ``nogil`` code, on its way back to waiting, so the
  caller returns to a free GIL.

Flags are int64 cells read with acquire and written with release ordering
(the stores of one thread are seen in order by the other), and each loop
iteration issues the x86 ``pause`` hint, which lets the sibling hyper-thread
run and saves power while spinning.
"""

import platform

from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

_X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")

#: Cells of a helper's flag array: tasks posted to it, and the address of the
#: state array of the call that posted the last one.
POSTED, STATE_ADDRESS = 0, 1
#: Cells of a call's state array: its gate, and the chunks its helpers finished.
GATE, FINISHED = 0, 1
#: Length of a flag or state array: one 64-byte cache line of int64, so two
#: threads' flags never share a line.
FLAG_CELLS = 8


def _item_pointer(context, builder, array_type, array, index):
    ary = context.make_array(array_type)(context, builder, array)
    return cgutils.get_item_pointer(context, builder, array_type, ary, [index])


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


def _cell_pointer(builder, address, cell):
    base = builder.inttoptr(address, ir.PointerType(ir.IntType(64)))
    return builder.gep(base, [cell])


@intrinsic
def _load_address(typingctx, address, cell):
    """Cell ``cell`` of the int64 array at ``address`` (its data pointer, as
    an integer), read with acquire ordering."""
    def codegen(context, builder, signature, args):
        ptr = _cell_pointer(builder, args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return types.int64(types.int64, types.intp), codegen


@intrinsic
def _add_address(typingctx, address, cell, value):
    """Atomically add ``value`` to cell ``cell`` of the int64 array at ``address``."""
    def codegen(context, builder, signature, args):
        ptr = _cell_pointer(builder, args[0], args[1])
        builder.atomic_rmw("add", ptr, args[2], ordering="acq_rel")
        return context.get_dummy_value()

    return types.void(types.int64, types.intp, types.int64), codegen


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


@njit(cache=True, nogil=True)
def spin_wait(flags, cell, value, spins, finished_address, finished, gate_spins):
    """Publish, then spin until ``flags[cell] == value``: True if it got there
    within ``spins`` iterations.

    First, unless ``finished_address`` is 0, add ``finished`` to the
    ``FINISHED`` cell of the state array at that address (a helper's count of
    its last task's chunks).  Once the value is there, spin (at most
    ``gate_spins``) until the gate of the state array whose address is
    ``flags[STATE_ADDRESS]`` is open (``gate_spins=0``: no gate).  One
    function for every wait, so numba compiles one specialization."""
    if finished_address != 0:
        _add_address(finished_address, FINISHED, finished)
    i = 0
    while _load_acquire(flags, cell) != value:
        i += 1
        if i > spins:
            return False
        _pause()
    if gate_spins > 0:
        address = _load_acquire(flags, STATE_ADDRESS)
        for _ in range(gate_spins):
            if _load_address(address, GATE) != 0:
                break
            _pause()
    return True


def wait_for_value(flags, cell, value, spins):
    """Spin until ``flags[cell] == value`` (at most ``spins`` iterations);
    True if it got there."""
    return spin_wait(flags, cell, value, spins, 0, 0, 0)


def wait_for_post(flags, finished_address, finished, posted, spins, gate_spins):
    """A helper's wait between tasks: add ``finished`` (chunks of its last
    task) to the ``FINISHED`` cell of the state array at ``finished_address``
    (0: none), spin until ``flags[POSTED] == posted`` (at most ``spins``
    iterations; False if not), then until the new call's gate is open (at
    most ``gate_spins``)."""
    return spin_wait(flags, POSTED, posted, spins, finished_address, finished, gate_spins)


@njit(cache=True, nogil=True, inline="always")
def open_gate(gate):
    """Called by a chunk kernel on entry (``gate``: the int64 array of its
    call, see :func:`seqnet.kernels.cpu.chunk_threads.run_chunks`): the
    calling thread has released the GIL, helpers may take it."""
    if gate.shape[0] > 0:
        _store_release(gate, GATE, 1)
