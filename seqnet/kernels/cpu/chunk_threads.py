"""Python threads that run the recurrent kernels' batch chunks.

The recurrent kernels cut a batch into row chunks that each run their whole
time loop alone (:mod:`seqnet.kernels.cpu.recurrent_chunks`).  A chunk is one
call of a ``nogil`` numba kernel, and the chunks of a call are shared out
here, on persistent Python threads, instead of in a ``parallel=True`` driver:

* **Compile time.**  A ``prange`` driver outlines its loop body into a second
  function and re-optimises every kernel it calls inside both; the chunk
  kernels alone compile in a fraction of that time (``benchmarks/compile_time.py``).
* **Busy machines.**  Chunks are handed out one at a time from a shared
  counter, and the calling thread works too.  A thread that the operating
  system deschedules holds up at most the chunk it is running, where a
  static split waits for its whole share (``benchmarks/bench_under_load.py``).
* **No second runtime.**  No OpenMP or TBB pool is started.

**The hand-off.**  Chunks of a small layer take tens of microseconds, as long
as waking a sleeping thread takes on a virtual machine, so a hand-off through
locks or a queue cost more than the second thread saved.  Each helper thread
therefore waits for its next chunk spinning in ``nogil`` compiled code for a
bounded time (:data:`IDLE_SPIN_S`) before it sleeps on an event, and the
caller waits for its helpers the same way (:mod:`seqnet.kernels.cpu.spin_wait`).
A helper that sees work also waits for the caller's *gate*, which the caller's
own chunk kernel opens once the caller has released the GIL, so neither
thread sleeps on the GIL the other holds.  The caller waits only for the
chunks its helpers took: a helper the operating system has not run yet (a
busy machine) takes none, and the caller runs them all itself.  A caller
posts only to helpers no other caller is using (concurrent ``predict`` calls
from several threads each get their own, or run their chunks alone).

Results do not depend on the number of threads: each chunk writes only its
own rows and its own partial gradients, which the caller sums in chunk order.
"""

import contextlib
import contextvars
import itertools
import os
import threading
import time

import numpy as np

from seqnet.kernels.cpu.spin_wait import (
    FINISHED,
    FLAG_CELLS,
    GATE,
    POSTED,
    STATE_ADDRESS,
    wait_for_post,
    wait_for_value,
)

#: How long a helper spins for its next chunk before it sleeps (a training
#: step's other layers and the optimizer run between two recurrent calls).
IDLE_SPIN_S = 300e-6
#: How long a caller spins for its helpers' chunks before it sleeps.
JOIN_SPIN_S = 300e-6
#: How long a helper that has work waits for the caller's gate: about the
#: time a numba dispatch takes to enter the caller's kernel.
GATE_SPIN_S = 50e-6
#: How often a sleeping caller looks at its call's state again (helpers
#: write it from ``nogil`` code, which sets no event).
JOIN_POLL_S = 200e-6

_local = threading.local()


def default_threads():
    """Threads used when no :func:`chunk_threads` block is active: numba's
    default thread count (all usable cores, or ``NUMBA_NUM_THREADS``)."""
    import numba

    return int(numba.config.NUMBA_NUM_THREADS)


def get_chunk_threads():
    """Threads the recurrent kernels called from this Python thread may use."""
    n = getattr(_local, "n", None)
    return default_threads() if n is None else n


@contextlib.contextmanager
def chunk_threads(n):
    """Let the recurrent kernels called from this Python thread use ``n``
    threads inside the block (thread-local, restored after, also on error)."""
    previous = getattr(_local, "n", None)
    _local.n = max(1, int(n))
    try:
        yield _local.n
    finally:
        _local.n = previous


def compile_handoff():
    """Compile (or load from the cache) the compiled waits of the hand-off,
    which only a call with several chunks on several threads runs
    (:func:`seqnet.warmup` calls this)."""
    wait_for_value(new_state(), POSTED, 0, 1)


def new_state():
    """A call's state array (:mod:`seqnet.kernels.cpu.spin_wait`): pass it
    to :func:`run_chunks` as ``gate`` and have the kernels open it."""
    return np.zeros(FLAG_CELLS, dtype=np.int64)


class _Spins:
    """Spin-loop iterations for the waits above, measured once per process
    (a ``pause`` takes from a few to about a hundred cycles by CPU)."""

    def __init__(self):
        flags = new_state()
        wait_for_value(flags, POSTED, 1, 1)  # compile / load before timing
        n = 20_000
        start = time.perf_counter()
        wait_for_value(flags, POSTED, 1, n)
        per = max((time.perf_counter() - start) / n, 1e-10)
        self.idle = max(1, int(IDLE_SPIN_S / per))
        self.join = max(1, int(JOIN_SPIN_S / per))
        self.gate = max(1, int(GATE_SPIN_S / per))


class _Helper:
    """One persistent daemon thread that runs the tasks posted to it; it is
    free for the next caller as soon as its task has returned."""

    def __init__(self, spins):
        self.flags = new_state()
        self.spins = spins
        self.task = self.state = None
        self.wake = threading.Event()   # set by post() for a sleeping helper
        self.sleeping = False
        self.busy = threading.Lock()    # taken by a caller, released by the helper
        threading.Thread(target=self._loop, name="seqnet-chunk", daemon=True).start()

    def _loop(self):
        flags, spins, posted = self.flags, self.spins, 0
        state, finished = None, 0  # the last call's state, kept alive until updated
        while True:
            address = 0 if state is None else state.ctypes.data
            if not wait_for_post(flags, address, finished, posted + 1, spins.idle, spins.gate):
                state = None  # its count is in
                self.sleeping = True
                while flags[POSTED] != posted + 1:  # post() sets wake after POSTED
                    self.wake.wait()
                    self.wake.clear()
                self.sleeping = False
            posted += 1
            task, state = self.task, self.state
            self.task = self.state = None
            try:
                finished = task()
            except BaseException:  # noqa: S110 - run_chunks' worker keeps the task's own
                finished = 0
            self.busy.release()

    def post(self, task, state):
        """Run ``task()`` (which returns the chunks it finished) for the call
        of ``state``; the caller holds ``busy``."""
        self.task, self.state = task, state
        self.flags[STATE_ADDRESS] = state.ctypes.data
        self.flags[POSTED] += 1
        if self.sleeping:
            self.wake.set()


class _Pool:
    """The process's helpers, made on first use (and anew in a forked child,
    which inherits no live threads)."""

    def __init__(self):
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.helpers = []
        self.spins = None
        # a few callers at once; counted once (os.cpu_count reads a file)
        self.limit = 2 * max(1, (os.cpu_count() or 2) - 1)

    def acquire(self, n):
        """Up to ``n`` helpers no other caller is using (possibly none)."""
        taken = []
        with self.lock:
            if self.spins is None:
                self.spins = _Spins()
            for helper in self.helpers:
                if len(taken) == n:
                    break
                if helper.busy.acquire(blocking=False):
                    taken.append(helper)
            while len(taken) < n and len(self.helpers) < self.limit:
                helper = _Helper(self.spins)
                helper.busy.acquire()
                self.helpers.append(helper)
                taken.append(helper)
        return taken


_pool = None
_pool_lock = threading.Lock()


def _get_pool():
    global _pool
    pid = os.getpid()
    if _pool is None or _pool.pid != pid:
        with _pool_lock:
            if _pool is None or _pool.pid != pid:
                _pool = _Pool()
    return _pool


def _wait_finished(state, target, spins):
    """Wait until the helpers have finished ``target`` chunks of the call."""
    if wait_for_value(state, FINISHED, target, spins):
        return
    while state[FINISHED] != target:
        time.sleep(JOIN_POLL_S)


def run_chunks(work, n_chunks, threads=None, gate=None):
    """Call ``work(i, slot)`` once for every chunk ``i`` in ``range(n_chunks)``.

    Up to ``threads`` threads (default :func:`get_chunk_threads`) take chunks
    in order from one counter; the calling thread is one of them.  ``slot``
    (``0 <= slot < threads``) names the thread, so ``work`` can reuse one
    workspace per slot.  ``gate``: an array from :func:`new_state` that the
    kernel ``work`` calls opens on entry
    (:func:`seqnet.kernels.cpu.spin_wait.open_gate`), or None (or empty):
    helpers then start at once.  The first
    exception raised by ``work`` is re-raised after every started chunk has
    finished; no new chunk starts after it.
    """
    n = min(get_chunk_threads() if threads is None else int(threads), n_chunks)
    helpers = _get_pool().acquire(n - 1) if n > 1 else []
    if not helpers:
        for i in range(n_chunks):
            work(i, 0)
        return
    gated = gate is not None and gate.shape[0] > 0
    state = gate if gated else new_state()
    if not gated:
        state[GATE] = 1  # nothing opens it: helpers go at once
    counter = itertools.count()  # next() on it is atomic under the GIL
    failed = []
    own = [0]  # chunks the caller took

    def worker(slot, taken=None):
        """Chunks from the counter until none is left; returns how many."""
        taken = [0] if taken is None else taken
        while True:
            i = next(counter)
            if i >= n_chunks:
                return taken[0]
            taken[0] += 1
            if failed:
                continue  # counted as finished, never started
            try:
                work(i, slot)
            except BaseException as exc:
                failed.append(exc)

    try:
        for slot, helper in enumerate(helpers, start=1):
            # helpers run in a copy of the caller's context (context variables
            # such as a compile watch follow the work onto them)
            context = contextvars.copy_context()
            helper.post(lambda context=context, slot=slot: context.run(worker, slot), state)
        worker(0, own)
    except BaseException as exc:  # raised outside ``work``: stop, then wait
        failed.append(exc)
        for i in counter:  # the chunks no thread took yet count as the caller's
            if i >= n_chunks:
                break
            own[0] += 1
    _wait_finished(state, n_chunks - own[0], helpers[0].spins.join)
    if failed:
        raise failed[0]
