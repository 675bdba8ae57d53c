"""Keep freed kernel buffers mapped between training steps (glibc only).

Every forward pass allocates its caches (several MB for a recurrent layer)
and the backward pass frees them.  With glibc's default settings the freed
memory goes back to the kernel (``munmap`` or trimming of the heap and of the
per-thread arenas numba's threads allocate from), so the next step faults
every page in again, a sizeable share of a recurrent training step
(benchmarks/RESULTS.md, "Tuning notes").  On the first seqnet fit/predict this module raises
glibc's mmap threshold to its maximum (32 MiB) and the trim threshold to
256 MiB, as ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` would, so
such buffers are reused instead.  The cost: a process may keep up to about
256 MiB of freed memory per malloc arena mapped.

Set ``SEQNET_MALLOC_TUNING=0`` to leave malloc alone; settings the user made
through the ``MALLOC_*`` environment variables are never overridden.
"""

import ctypes
import ctypes.util
import os
import platform
import threading

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 32 * 1024 * 1024   # glibc's upper limit for this setting on 64-bit
TRIM_THRESHOLD = 256 * 1024 * 1024

_lock = threading.Lock()
_done = False
_applied = {}


def _user_opted_out():
    if os.environ.get("SEQNET_MALLOC_TUNING", "1").strip().lower() in ("0", "false", "no", "off"):
        return True
    return any(var in os.environ for var in (
        "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_", "GLIBC_TUNABLES"))


def tune_malloc():
    """Apply the thresholds once per process; returns what was applied (a dict)."""
    global _done
    with _lock:
        if _done:
            return dict(_applied)
        _done = True
        if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
            return {}
        if _user_opted_out():
            return {}
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
            mallopt = libc.mallopt
        except (OSError, AttributeError):  # pragma: no cover - not glibc after all
            return {}
        mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
        mallopt.restype = ctypes.c_int
        for name, param, value in (("mmap_threshold", M_MMAP_THRESHOLD, MMAP_THRESHOLD),
                                   ("trim_threshold", M_TRIM_THRESHOLD, TRIM_THRESHOLD)):
            if mallopt(param, value) == 1:
                _applied[name] = value
        return dict(_applied)
