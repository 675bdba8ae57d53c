"""How many threads seqnet's fit / predict / partial_fit may use.

``seqnet.set_num_threads(n)`` / ``seqnet.get_num_threads()`` and the context
manager ``seqnet.threads(n)`` set one process-wide number of threads.  Inside
every fit/predict call :func:`seqnet._runtime.backend.thread_limits` gives those threads
to the one pool that owns the cores for the estimator's kernels
(DESIGN.md section 4, "never run two thread pools at once"):

* owner ``'blas'`` (dense and im2col-convolution kernels: serial loops
  around BLAS products): BLAS is limited to ``n`` threads;
* owner ``'chunks'`` (recurrent kernels): ``n`` threads run batch chunks
  (:mod:`seqnet.kernels.cpu.chunk_threads`), each calling BLAS with 1 thread.

Default (``set_num_threads(None)``): all the cores this process may use,
less the cores other programs keep busy at the time of the call (see
*Busy machines* below), *as limited by the environment*: ``NUMBA_NUM_THREADS`` (numba's own
``numba.config.NUMBA_NUM_THREADS``), ``OMP_NUM_THREADS``,
``OPENBLAS_NUM_THREADS``, ``MKL_NUM_THREADS`` and ``joblib.cpu_count()``
(CPU affinity, cgroup quotas, ``LOKY_MAX_CPU_COUNT``).  joblib's loky workers
get all of these variables set to ``max(1, cpu_count // n_jobs)`` (or to
``joblib.parallel_config(inner_max_num_threads=...)``) and dask's nanny sets
``OMP_NUM_THREADS`` / ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` to 1 in its
worker processes, so ``GridSearchCV(n_jobs=k)`` never oversubscribes the cores.
While nothing was set explicitly, owner ``'blas'`` leaves BLAS's own thread
count alone (BLAS read the same variables when it loaded).

The setting is process-wide (like numpy's BLAS threads): it is not copied into
joblib / dask worker processes, which use their default as above.

Busy machines
-------------
A parallel region whose threads wait for each other runs at the pace of its
slowest thread, and on a core shared with another busy process a thread gets
half the time or less: on 2 cores with other processes busy, 2 threads were
several times slower than 1 (``benchmarks/bench_under_load.py``).  So by
default each fit / predict call reads how many tasks are runnable right now
(Linux ``/proc/loadavg``, its fourth field, less this process's own running
threads; read at most every 0.1 s, and a count holds once two readings in a
row see it) and uses no more threads than the cores left over, at least 1.
``SEQNET_ADAPTIVE_THREADS=0`` turns this off; an explicit
``set_num_threads(n)`` is always honoured as given.

Numba's threading layer
-----------------------
seqnet starts no OpenMP or TBB pool: the recurrent kernels run their batch
chunks on seqnet's own threads (``seqnet.kernels.cpu.chunk_threads``), so
numba's threading layer is never loaded.
"""

import contextlib
import functools
import os
import threading
import time
from numbers import Integral

__all__ = ["get_num_threads", "set_num_threads", "threads"]

#: Threading layer requested at import when the user did not choose one.
SAFE_THREADING_LAYER = "threadsafe"

_ENV_LIMITS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

_user_threads = None            # None: default; else the int given to set_num_threads
_state_lock = threading.RLock()  # guards _user_threads and the BLAS limiter below


# --------------------------------------------------------------- public API
def set_num_threads(n):
    """Set the threads every seqnet fit / predict call may use (process-wide).

    Parameters
    ----------
    n : int >= 1 or None
        ``None`` restores the default: every core this process may use, as
        limited by ``NUMBA_NUM_THREADS`` / ``OMP_NUM_THREADS`` /
        ``OPENBLAS_NUM_THREADS`` / ``MKL_NUM_THREADS`` and CPU affinity (so a
        joblib worker of ``GridSearchCV(n_jobs=k)`` uses ``cores // k``).
        Numba's share is capped at ``numba.config.NUMBA_NUM_THREADS``.
    """
    global _user_threads
    if n is not None:
        if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
            raise ValueError(f"n must be an integer >= 1 or None, got {n!r}.")
        n = int(n)
    with _state_lock:
        _user_threads = n


def get_num_threads():
    """The threads seqnet's fit / predict calls use now (an int >= 1)."""
    n = _user_threads
    return n if n is not None else default_num_threads(adapt=True)


@contextlib.contextmanager
def threads(n):
    """Context manager: ``set_num_threads(n)`` inside, the previous value after.

    The previous setting is restored in ``finally``, also when the block
    raises.  The setting is process-wide, so other Python threads see it too.

    Examples
    --------
    >>> import seqnet
    >>> with seqnet.threads(1):
    ...     seqnet.get_num_threads()
    1
    """
    previous = _user_threads
    set_num_threads(n)
    try:
        yield get_num_threads()
    finally:
        set_num_threads(previous)


def is_user_set():
    """True when ``set_num_threads`` / ``threads`` chose an explicit number."""
    return _user_threads is not None


@functools.lru_cache(maxsize=1)
def _usable_cores():
    """``joblib.cpu_count()`` (affinity, cgroup quota), read once per process:
    it opens cgroup files, which every predict call would pay for."""
    import joblib

    return int(joblib.cpu_count())


@functools.lru_cache(maxsize=1)
def _online_cores():
    """``os.cpu_count()`` (the machine's cores, which ``/proc/loadavg``'s
    running tasks share), read once: it reads a file on every call."""
    return int(os.cpu_count() or 1)


def default_num_threads(adapt=False):
    """All usable cores, lowered by the environment's thread limits and,
    with ``adapt``, by the cores other runnable tasks occupy now."""
    import numba

    limits = [int(numba.config.NUMBA_NUM_THREADS), _usable_cores()]
    for var in _ENV_LIMITS:
        value = os.environ.get(var, "").split(",")[0].strip()  # OMP_NUM_THREADS may be a list
        # unset variables are the common case: no int() that raises for them
        # (caught exceptions were most of this function's time)
        if value.isdigit() and int(value) >= 1:
            limits.append(int(value))
    n = max(1, min(limits))
    if adapt and n > 1 and os.environ.get("SEQNET_ADAPTIVE_THREADS", "1") != "0":
        n = max(1, min(n, _online_cores() - _busy_tasks()))
    return n


_LOAD_TTL = 0.1  # seconds a /proc/loadavg reading is reused
_LOAD_PAIR_S = 1.0  # two readings at most this far apart confirm each other
_load_sample = [-1.0, 0, 0]  # [monotonic time, busy tasks, last raw count]


def _busy_tasks():
    """Runnable tasks of other processes, from the fourth field of
    ``/proc/loadavg`` ("running/total") less this process's own running
    threads (BLAS threads that spin after a product, seqnet's chunk threads,
    the calling thread); 0 where it cannot be read.

    An instant count, not the load average: a busy neighbour shows up at
    once, and idle (blocked) threads do not count.  Own threads are counted
    before and after the system's count and the larger count is taken: a
    chunk thread that stops spinning between the two reads is not taken for
    a neighbour.  A count counts when the reading before it (at most
    :data:`_LOAD_PAIR_S` earlier) saw as many: a process that is runnable
    for an instant (a shell command, a short-lived helper) would otherwise
    halve the threads of every call for the next :data:`_LOAD_TTL`, while a
    busy neighbour is seen by both readings."""
    now = time.monotonic()
    last_time, _, last_count = _load_sample
    if now - last_time < _LOAD_TTL:
        return _load_sample[1]
    try:
        own = _own_running_threads()
        running = _running_tasks() - max(own, _own_running_threads())
    except (OSError, ValueError, IndexError):
        running = 0
    count = max(0, running)
    busy = count if now - last_time > _LOAD_PAIR_S else min(count, last_count)
    _load_sample[:] = [now, busy, count]
    return busy


def _running_tasks():
    """Runnable tasks of the whole system now (``/proc/loadavg``)."""
    with open("/proc/loadavg", "rb") as f:
        return int(f.read().split()[3].split(b"/")[0])


def _own_running_threads():
    """Threads of this process in state R (``/proc/self/task/*/stat``)."""
    n = 0
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", "rb") as f:
                stat = f.read()
        except OSError:  # the thread ended
            continue
        state = stat[stat.rindex(b")") + 2:][:1]  # the field after "(comm)"
        if state == b"R":
            n += 1
    return max(n, 1)  # at least the calling thread


# ------------------------------------------------------------ BLAS threads
class _BlasLimiter:
    """Reference-counted, thread-safe BLAS thread limit.

    threadpoolctl's limit is process-global, so two Python threads that each
    saved and restored it (a conv predict with BLAS=1 overlapping an LSTM
    predict with BLAS=n) could leave the wrong value behind.  Here the first
    entry saves the original limits and the last exit restores them; an exit
    while this Python thread still has an outer limit active re-applies that.

    The libraries are found once (threadpoolctl's ``ThreadpoolController``,
    built after importing scipy's BLAS, the one numba's ``np.dot`` calls:
    scanning loaded libraries costs milliseconds) and then driven through
    their controllers' ``get_num_threads`` / ``set_num_threads``, setting only
    a library whose count differs, about half the cost of threadpoolctl's
    ``limit`` object per call.
    """

    def __init__(self):
        self._libraries = None
        self._original = None
        self._depth = 0
        self._local = threading.local()

    def _get_libraries(self):
        if self._libraries is None:
            import numpy  # noqa: F401 - load numpy's BLAS
            try:
                import scipy.linalg.cython_blas  # noqa: F401 - numba's np.dot BLAS
            except ImportError:  # pragma: no cover - scipy comes with scikit-learn
                pass
            from threadpoolctl import ThreadpoolController

            controller = ThreadpoolController().select(user_api="blas")
            self._libraries = list(controller.lib_controllers)
        return self._libraries

    @staticmethod
    def _set_counts(libraries, wanted, current=None):
        """Give each library its wanted count where its current one differs
        (a library that reports no count is left alone); ``current``: the
        counts just read, where the caller has them (each read is a call
        into the library)."""
        if current is None:
            current = [lib.get_num_threads() for lib in libraries]
        for lib, want, now in zip(libraries, wanted, current):
            if now is not None and now != want:
                lib.set_num_threads(want)

    @contextlib.contextmanager
    def limit(self, n):
        n = int(n)
        stack = self._local.__dict__.setdefault("stack", [])
        with _state_lock:
            libraries = self._get_libraries()
            current = None
            if self._depth == 0:
                self._original = current = [lib.get_num_threads() for lib in libraries]
            self._set_counts(libraries, [n] * len(libraries), current)
            self._depth += 1
            stack.append(n)
        try:
            yield
        finally:
            with _state_lock:
                stack.pop()
                self._depth -= 1
                if self._depth == 0:  # compared with the counts in force (set by any thread)
                    self._set_counts(libraries, self._original)
                    self._original = None
                elif stack:
                    self._set_counts(libraries, [stack[-1]] * len(libraries))


blas_limiter = _BlasLimiter()
