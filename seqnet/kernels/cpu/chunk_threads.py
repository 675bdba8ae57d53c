"""Python threads that run the recurrent kernels' batch chunks.

The recurrent kernels cut a batch into row chunks that each run their whole
time loop alone (:mod:`seqnet.kernels.cpu.recurrent_chunks`).  A chunk is one
call of a ``nogil`` numba kernel, and the chunks of a call are shared out
here, on plain Python threads, instead of in a ``parallel=True`` driver:

* **Compile time.**  A ``prange`` driver outlines its loop body into a second
  function and re-optimises every kernel it calls inside both; the chunk
  kernels alone compile in a fraction of that time (``benchmarks/compile_time.py``).
* **Busy machines.**  Chunks are handed out one at a time from a shared
  counter, and the calling thread works too.  A thread that the operating
  system deschedules holds up at most the chunk it is running, where a
  static split waits for its whole share (``benchmarks/bench_under_load.py``).
* **No second runtime.**  No OpenMP or TBB pool is started, so nothing spins
  waiting for work next to BLAS.

Results do not depend on the number of threads: each chunk writes only its
own rows and its own partial gradients, which the caller sums in chunk order.
"""

import contextlib
import contextvars
import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

_local = threading.local()
_pool = None
_pool_pid = None
_pool_lock = threading.Lock()


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


def _get_pool():
    """The process's worker threads, made anew in a forked child (a pool
    inherited through ``fork`` has no live threads)."""
    global _pool, _pool_pid
    pid = os.getpid()
    if _pool is None or _pool_pid != pid:
        with _pool_lock:
            if _pool is None or _pool_pid != pid:
                workers = max(2, os.cpu_count() or 2)
                _pool = ThreadPoolExecutor(max_workers=workers,
                                           thread_name_prefix="seqnet-chunk")
                _pool_pid = pid
    return _pool


def _join(futures):
    """Wait for the helpers: cancel those that never started (the pool was
    busy with other callers, and nothing is left to do), block on the others.

    No polling: a caller that polls with ``time.sleep(0)`` takes the GIL
    straight back each time, so a helper still waiting for the GIL to start
    its chunk starves until CPython's switch interval (5 ms) forces a switch
    (two 32-row chunks ran 2.5x slower than one thread; benchmarks/RESULTS.md)."""
    running = [f for f in futures if not f.cancel()]
    for future in running:
        future.exception()


def run_chunks(work, n_chunks, threads=None):
    """Call ``work(i, slot)`` once for every chunk ``i`` in ``range(n_chunks)``.

    Up to ``threads`` threads (default :func:`get_chunk_threads`) take chunks
    in order from one counter; the calling thread is one of them.  ``slot``
    (``0 <= slot < threads``) names the thread, so ``work`` can reuse one
    workspace per slot.  The first exception raised by ``work`` is re-raised
    after every started chunk has finished; no new chunk starts after it.
    """
    n = min(get_chunk_threads() if threads is None else int(threads), n_chunks)
    if n <= 1:
        for i in range(n_chunks):
            work(i, 0)
        return
    counter = itertools.count()  # next() on it is atomic under the GIL
    failed = []

    def worker(slot):
        while not failed:
            i = next(counter)
            if i >= n_chunks:
                return
            try:
                work(i, slot)
            except BaseException as exc:
                failed.append(exc)
                raise

    pool = _get_pool()
    # helpers run in a copy of the caller's context (context variables such
    # as a compile watch follow the work onto the helper threads)
    futures = [pool.submit(contextvars.copy_context().run, worker, slot)
               for slot in range(1, n)]
    try:
        worker(0)
    except BaseException as exc:  # also raised outside ``work``: keep it
        if not any(exc is e for e in failed):
            failed.append(exc)
    _join(futures)
    if failed:
        raise failed[0]
