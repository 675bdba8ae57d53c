"""What the recurrent kernels' thread hand-off costs per pass, against a
hand-off that never returns to the Python interpreter (issue 21).

Two chunks of about 50 us of work (a ``pause`` loop, no memory traffic) on
two threads, three ways:

* one chunk alone on one thread (the floor: a perfect hand-off reaches it);
* seqnet's hand-off: ``run_chunks`` with a helper thread that spins in
  compiled code for its task, then runs its chunk through the interpreter
  (``seqnet.kernels.cpu.chunk_threads``), the chunk a ``nogil`` kernel that
  opens the call's gate;
* a prototype: the helper stays in a compiled loop and calls the chunk, a
  ``@cfunc``, through its C function pointer; the caller posts, runs its own
  chunk the same way and spins until the helper's is done, all in one
  compiled call.

The difference between the last two is what the interpreter costs per pass
on the hand-off alone (the recurrent driver's other Python, its buffers and
weight layouts, is not in either).

    python benchmarks/bench_handoff.py
"""

import threading
import time

import numpy as np
from llvmlite import ir
from numba import carray, cfunc, njit, types
from numba.extending import intrinsic

from bench_blas_shapes import cpu_name  # run from benchmarks/ as a script
from seqnet.kernels.cpu.chunk_threads import chunk_threads, new_state, run_chunks
from seqnet.kernels.cpu.spin_wait import _load_acquire, _pause, _store_release, open_gate

POSTED, FN, ARG, DONE, STOP = 0, 1, 2, 3, 4
CHUNK_S = 50e-6
PASSES = 3000


@intrinsic
def _call_pointer(typingctx, fn, arg):
    """Call the C function ``void f(int64)`` at address ``fn`` with ``arg``."""
    def codegen(context, builder, signature, args):
        fnty = ir.FunctionType(ir.VoidType(), [ir.IntType(64)])
        builder.call(builder.inttoptr(args[0], fnty.as_pointer()), [args[1]])
        return context.get_dummy_value()

    return types.void(types.int64, types.int64), codegen


@njit(nogil=True, inline="always")
def _spin(n):
    done = 0
    for _ in range(n):
        _pause()
        done += 1
    return done


@cfunc(types.void(types.CPointer(types.int64)), nogil=True)
def _chunk_c(table):
    t = carray(table, 2)  # [iterations, counter]
    t[1] += _spin(t[0])


@njit(nogil=True)
def _chunk_gated(gate, n, out):
    open_gate(gate)
    out[1] += _spin(n)


@njit(nogil=True)
def _helper_loop(flags, spins):
    """Run each posted task (``flags[FN]`` called with ``flags[ARG]``) until
    ``spins`` idle iterations pass or ``flags[STOP]`` is set."""
    seen = _load_acquire(flags, DONE)
    while True:
        idle = 0
        while _load_acquire(flags, POSTED) == seen:
            idle += 1
            if idle > spins:
                return
            _pause()
        seen += 1
        if _load_acquire(flags, STOP) != 0:
            return
        _call_pointer(flags[FN], flags[ARG])
        _store_release(flags, DONE, seen)


@njit(nogil=True)
def _compiled_pass(flags, posted, fn, own):
    _store_release(flags, POSTED, posted)
    _call_pointer(fn, own)
    while _load_acquire(flags, DONE) != posted:
        _pause()


def _best_per_call(fn, calls, windows=3):
    best = np.inf
    for _ in range(windows):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        best = min(best, (time.perf_counter() - start) / calls)
    return best * 1e6


def main():
    import os

    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; work per chunk about {CHUNK_S * 1e6:.0f} us")
    no_gate = np.zeros(0, dtype=np.int64)
    out = np.zeros(2, dtype=np.int64)
    _chunk_gated(no_gate, 1000, out)
    start = time.perf_counter()
    _chunk_gated(no_gate, 100_000, out)
    n = int(CHUNK_S / ((time.perf_counter() - start) / 100_000))
    alone = _best_per_call(lambda: _chunk_gated(no_gate, n, out), PASSES)

    flags = np.zeros(8, dtype=np.int64)
    helper_table, own_table = np.array([n, 0]), np.array([n, 0])
    flags[FN], flags[ARG] = _chunk_c.address, helper_table.ctypes.data
    stop = []

    def helper():
        while not stop:
            _helper_loop(flags, 10_000_000)

    thread = threading.Thread(target=helper, daemon=True)
    thread.start()
    posted = [0]

    def compiled_pass():
        posted[0] += 1
        _compiled_pass(flags, posted[0], _chunk_c.address, own_table.ctypes.data)

    compiled = _best_per_call(compiled_pass, PASSES)
    stop.append(True)
    flags[STOP] = 1
    flags[POSTED] = posted[0] + 1
    thread.join()

    def python_pass():
        gate = new_state()
        run_chunks(lambda i, slot: _chunk_gated(gate, n, out), 2, threads=2, gate=gate)

    with chunk_threads(2):
        python_pass()
        python = _best_per_call(python_pass, PASSES)
    print(f"one chunk alone, one thread:                      {alone:6.1f} us")
    print(f"two chunks, two threads, compiled hand-off:       {compiled:6.1f} us per pass")
    print(f"two chunks, two threads, seqnet's hand-off:       {python:6.1f} us per pass")


if __name__ == "__main__":
    main()
