"""Numba compilations, seen as they happen.

On a cold cache the first ``fit`` / ``predict`` compiles its kernels, which
can take a while; a ``verbose`` estimator says so while it happens
("compiling kernels (first run only)") and how long it took, and
:func:`seqnet.warmup` counts what it compiled.

Compilation is detected with numba's own ``"numba:compile"`` events
(``numba.core.event``), which numba fires only when it really compiles:
loading machine code from its on-disk cache fires none, so nothing is
reported on a warm cache.  One process-wide listener is registered with numba
while at least one watch is active (reference-counted under a lock), and each
event is credited to the watches of the context that fires it (numba compiles
in the thread that calls the kernel), so fits running in several threads at
once each see their own compilations.  The watches live in a
:class:`contextvars.ContextVar`.  The recurrent kernels' chunk threads
never compile: a chunk kernel is compiled in the calling thread before its
chunks are handed out.
"""

import contextlib
import contextvars
import threading
import time

COMPILING = "compiling kernels (first run only)"

_watches = contextvars.ContextVar("seqnet_compile_watches", default=())
_notice = contextvars.ContextVar("seqnet_compile_notice", default=None)
_lock = threading.Lock()     # guards _n_active and the registration with numba
_n_active = 0
_listener = None


class CompileWatch:
    """Compilations of one thread while the watch is active.

    Attributes
    ----------
    n_compiled : int
        Specializations compiled: one per ``"numba:compile"`` event, those a
        kernel compiles inside its own compilation included.
    seconds : float
        Wall time of the outermost compilations (nested ones counted once).
    """

    def __init__(self, on_start=None):
        self.n_compiled = 0
        self.seconds = 0.0
        self._depth = 0
        self._t0 = 0.0
        self._on_start = on_start

    def _start(self):
        self.n_compiled += 1
        self._depth += 1
        if self._depth == 1:
            self._t0 = time.perf_counter()
            if self._on_start is not None:
                self._on_start()

    def _end(self):
        self._depth -= 1
        if self._depth == 0:
            self.seconds += time.perf_counter() - self._t0


def _numba_listener():
    from numba.core import event

    class _Listener(event.Listener):
        def on_start(self, ev):
            for watch in _watches.get():
                watch._start()

        def on_end(self, ev):
            for watch in _watches.get():
                watch._end()

    return _Listener()


@contextlib.contextmanager
def watch_compiles(on_start=None):
    """Count this thread's numba compilations inside the block.

    Parameters
    ----------
    on_start : callable() or None
        Called when an outermost compilation starts (in the compiling thread).

    Yields
    ------
    watch : CompileWatch
    """
    global _n_active, _listener
    from numba.core import event

    watch = CompileWatch(on_start)
    with _lock:
        if _n_active == 0:
            if _listener is None:
                _listener = _numba_listener()
            event.register("numba:compile", _listener)
        _n_active += 1
    token = _watches.set(_watches.get() + (watch,))
    try:
        yield watch
    finally:
        _watches.reset(token)
        with _lock:
            _n_active -= 1
            if _n_active == 0:
                event.unregister("numba:compile", _listener)


class CompileNotice:
    """What a verbose ``fit`` / ``predict`` says about compilation.

    While an :class:`~seqnet.training.progress.EpochProgress` is open it is
    the ``sink`` (the message goes into the progress bar); otherwise plain
    lines are printed.
    """

    def __init__(self):
        self.sink = None
        self.watch = None
        self._pending = False   # a compilation started and was not reported yet
        self._reported = 0.0    # seconds already reported

    def started(self):
        if self._pending:
            return
        self._pending = True
        if self.sink is not None:
            self.sink.compiling(COMPILING)
        else:
            print(COMPILING, flush=True)

    def flush(self):
        """Report the compile time since the last report, if anything compiled."""
        if not self._pending or self.watch is None or self.watch._depth:
            return
        self._pending = False
        seconds = self.watch.seconds - self._reported
        self._reported = self.watch.seconds
        text = f"compiled kernels in {seconds:.1f} s"
        if self.sink is not None:
            self.sink.compiled(text)
        else:
            print(text, flush=True)


@contextlib.contextmanager
def compile_notice(verbose):
    """Report compilations inside the block when ``verbose`` (else do nothing).

    Nested blocks in one thread (a ``predict`` inside a ``fit``) share the
    outermost notice.  Yields the :class:`CompileNotice` or None.
    """
    if not verbose or current_notice() is not None:
        yield None
        return
    notice = CompileNotice()
    with watch_compiles(on_start=notice.started) as watch:
        notice.watch = watch
        token = _notice.set(notice)
        try:
            yield notice
        finally:
            _notice.reset(token)
            notice.flush()


def current_notice():
    """The active :class:`CompileNotice` of this thread, or None."""
    return _notice.get()
