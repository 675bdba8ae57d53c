"""Threads that run the recurrent kernels' batch chunks.

The recurrent kernels cut a batch into row chunks that each run their whole
time loop alone (:mod:`seqnet.kernels.cpu.recurrent_chunks`).  A chunk is
one call of a ``@cfunc`` chunk kernel over an operand table
(:mod:`seqnet.kernels.cpu.operand_table`), and the chunks of a call (a
*pass*) are shared out here, on persistent helper threads, instead of in a
``parallel=True`` driver:

* **Compile time.**  A ``prange`` driver outlines its loop body into a second
  function and re-optimises every kernel it calls inside both; a chunk
  kernel compiles once, and the hand-off below is compiled once for every
  kernel (it calls them through their addresses).
* **Busy machines.**  Chunks are claimed one at a time from a shared
  counter, and the calling thread works too.  A thread that the operating
  system deschedules holds up at most the chunk it is running, where a
  static split waits for its whole share (``benchmarks/bench_under_load.py``).
* **No interpreter in the hand-off.**  The caller posts a pass and runs its
  chunks in one ``nogil`` call; the helpers wait for posts, claim chunks and
  call the kernel in compiled code (:mod:`seqnet.kernels.cpu.spin_wait`), so
  neither waits for the GIL or for the interpreter between chunks: a chunk
  of a small layer takes tens of microseconds, about what a Python
  hand-off costs.
* **No second runtime.**  No OpenMP or TBB pool is started.

A helper spins for posts for a bounded time (:data:`IDLE_SPIN_S`), then
sleeps on an event that the next caller sets.  The caller waits only for the
chunks that were claimed: a helper that has not taken the post when the
chunks are done has it withdrawn (a busy machine), and the caller has run
them all itself.  A caller posts only to helpers no other caller is using
(concurrent ``predict`` calls from several threads each get their own, or
run their chunks alone).

Results do not depend on the number of threads: each chunk writes only its
own rows and its own partial gradients, which the caller sums in chunk order.
"""

import contextlib
import os
import threading
import time

import numpy as np

from seqnet.kernels.cpu.spin_wait import (
    COMPLETED,
    FLAG_CELLS,
    SLOT,
    finish_pass,
    serve,
    start_pass,
)

#: How long a helper spins for its next pass before it sleeps (a training
#: step's other layers and the optimizer run between two recurrent calls).
IDLE_SPIN_S = 300e-6
#: How long a caller spins for the chunks of its pass before it sleeps.
JOIN_SPIN_S = 300e-6
#: How long a sleeping caller sleeps before it looks at its pass again
#: (helpers write it from ``nogil`` code, which sets no event).
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


def new_block():
    """An empty pass block (:mod:`seqnet.kernels.cpu.spin_wait`)."""
    return np.zeros(FLAG_CELLS, dtype=np.int64)


#: The helpers of a pass run on the calling thread alone: none.
_NO_ROWS = np.zeros(0, dtype=np.int64)
_NO_MAILBOXES = np.zeros((0, FLAG_CELLS), dtype=np.int64)


def compile_handoff():
    """Compile (or load from the cache) the hand-off's compiled parts, which
    only a call with several chunks on several threads runs
    (:func:`seqnet.warmup` calls this)."""
    serve(np.zeros(FLAG_CELLS, dtype=np.int64), 1)
    finish_pass(new_block(), _NO_MAILBOXES, _NO_ROWS, 1)  # a pass of no chunks: done


class _Spins:
    """Spin-loop iterations for the waits above, measured once per process
    (a ``pause`` takes from a few to about a hundred cycles by CPU)."""

    def __init__(self):
        empty = np.zeros(FLAG_CELLS, dtype=np.int64)  # a mailbox nothing is posted to
        serve(empty, 1)  # compile / load before timing
        n = 20_000
        start = time.perf_counter()
        serve(empty, n)
        per = max((time.perf_counter() - start) / n, 1e-10)
        self.idle = max(1, int(IDLE_SPIN_S / per))
        self.join = max(1, int(JOIN_SPIN_S / per))


class _Helper:
    """One persistent daemon thread that runs the chunks of the passes
    posted to its mailbox (row ``row`` of the pool's ``mailboxes``)."""

    def __init__(self, mailboxes, row, spins):
        self.mailbox = mailboxes[row]
        self.row = row
        self.rows = np.array([row], dtype=np.int64)  # a pass's helpers when alone
        self.spins = spins
        self.wake = threading.Event()  # set by a caller for a sleeping helper
        self.sleeping = False
        self.busy = threading.Lock()   # held by the caller using this helper
        threading.Thread(target=self._loop, name="seqnet-chunk", daemon=True).start()

    def _loop(self):
        mailbox, spins = self.mailbox, self.spins.idle
        while True:
            serve(mailbox, spins)
            self.sleeping = True
            # a caller that posts after this check finds ``sleeping`` set and
            # sets ``wake`` (before its post: serve then spins for the post)
            if mailbox[SLOT] <= 0:
                self.wake.wait()
            self.wake.clear()
            self.sleeping = False


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
        self.mailboxes = np.zeros((self.limit, FLAG_CELLS), dtype=np.int64)

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
                helper = _Helper(self.mailboxes, len(self.helpers), self.spins)
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


def _share_pass(block, kernel, table, n_chunks, n_helpers):
    """:func:`run_pass` with up to ``n_helpers`` helpers beside the caller."""
    pool = _get_pool()
    helpers = pool.acquire(n_helpers)
    if len(helpers) == 1:
        rows = helpers[0].rows
    else:
        rows = np.array([helper.row for helper in helpers], dtype=np.int64)
    finished = False
    try:
        for helper in helpers:
            if helper.sleeping:
                helper.wake.set()
        finished = start_pass(block, kernel, table, n_chunks, pool.mailboxes, rows,
                              pool.spins.join)
        while not finished:
            time.sleep(JOIN_POLL_S)
            finished = finish_pass(block, pool.mailboxes, rows, pool.spins.join)
    finally:
        # interrupted while waiting: the helpers may still read this pass's
        # arrays, so the helpers are given back (and the arrays freed) after
        while not finished:
            finished = finish_pass(block, pool.mailboxes, rows, pool.spins.join)
            if not finished:
                time.sleep(JOIN_POLL_S)
        for helper in helpers:
            helper.busy.release()


class ChunkError(RuntimeError):
    """A chunk kernel did not complete (it raised, for instance because it
    could not allocate its buffers)."""


def run_pass(kernel, table, n_chunks, threads=None):
    """Call the chunk kernel ``kernel`` (the address of a ``@cfunc``
    ``void(int64 table, int64 chunk, int64 thread)``) once for every chunk
    in ``range(n_chunks)`` with the address of ``table``, its operand table
    (int64; its ``COMPLETED`` cell 0 on entry).

    Up to ``threads`` threads (default :func:`get_chunk_threads`) claim
    chunks in order from one counter; the calling thread is one of them,
    number 0, and the others are numbered 1, 2, ... (a kernel may keep a
    workspace per thread number).  A kernel ends each chunk with
    :func:`~seqnet.kernels.cpu.spin_wait.chunk_completed`; raises
    :class:`ChunkError` when a chunk did not.
    """
    n = min(get_chunk_threads() if threads is None else int(threads), n_chunks)
    block = new_block()
    if n <= 1:
        start_pass(block, kernel, table, n_chunks, _NO_MAILBOXES, _NO_ROWS, 0)
    else:
        _share_pass(block, kernel, table, n_chunks, n - 1)
    if table[COMPLETED] != n_chunks:
        raise ChunkError(f"{n_chunks - table[COMPLETED]} of {n_chunks} chunks did not complete "
                         "(out of memory?)")
