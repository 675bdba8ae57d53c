"""Backend choice (CPU or CUDA kernels) and thread-pool ownership.

Two thread pools must never compete for the cores (DESIGN.md section 4), so
each estimator names ONE owner of the cores for its kernels: 'blas' (dense and
convolution kernels are serial loops around BLAS products) or 'chunks'
(recurrent kernels run batch chunks on seqnet's threads, each with
single-threaded BLAS).
"""

import contextlib
import importlib

# the submodule, not seqnet.threads (the context manager of that name)
from seqnet._runtime.malloc import tune_malloc
from seqnet._runtime.threads import (
    blas_limiter,
    default_num_threads,
    get_num_threads,
    is_user_set,
)
from seqnet.kernels import cpu as _cpu
from seqnet.kernels.cpu.chunk_threads import chunk_threads


def cuda_available():
    """True when numba can see a CUDA GPU (never raises)."""
    try:
        from numba import cuda
    except ImportError:  # pragma: no cover - numba always ships numba.cuda
        return False
    try:
        return bool(cuda.is_available())
    except Exception:
        return False


def get_backend(device):
    """Kernel module for ``device`` in {'cpu', 'cuda', 'auto'}."""
    if device == "cpu":
        return _cpu
    if device == "auto":
        return _cuda_backend() if cuda_available() else _cpu
    if not cuda_available():
        raise RuntimeError(
            "device='cuda' was requested but numba finds no usable CUDA GPU "
            "(numba.cuda.is_available() is False: no NVIDIA driver or device, or "
            "the numba-cuda extra is not installed). Use device='cpu', or "
            "device='auto' to fall back to the CPU."
        )
    return _cuda_backend()


def _cuda_backend():
    return importlib.import_module("seqnet.kernels.cuda")


@contextlib.contextmanager
def thread_limits(owner):
    """Give the cores to one pool for the duration of a fit/predict call.

    The number of threads is ``seqnet.get_num_threads()`` (see
    ``seqnet/_runtime/threads.py``: ``set_num_threads`` / ``threads(n)``, by default all
    cores as limited by the environment, so a joblib/dask worker uses its share,
    less the cores other programs keep busy now).

    owner='blas':  BLAS limited to n threads (left alone while the user set
                   nothing and no core is busy: BLAS already read the same
                   environment limits).
    owner='chunks': the recurrent kernels called from this Python thread run
                   their batch chunks on n threads, BLAS 1.
    """
    tune_malloc()

    n = get_num_threads()
    if owner != "chunks":
        if not is_user_set() and n >= default_num_threads():
            yield  # BLAS read the same environment limits when it loaded
            return
        with blas_limiter.limit(n):
            yield
        return
    with blas_limiter.limit(1), chunk_threads(n):
        yield


def compile_chunk_handoff():
    """Compile (or load) the CPU chunk threads' hand-off, which only a call
    with several chunks on several threads runs: :func:`seqnet.warmup`'s tiny
    batches never do."""
    from seqnet.kernels.cpu.chunk_threads import compile_handoff

    compile_handoff()
