"""Single-thread BLAS rate at the product shapes of the recurrent kernels.

The recurrent kernels spend most of their time in small products run by
scipy's OpenBLAS from numba (``seqnet.kernels.cpu.blas.gemm``), one thread
per chunk.  How fast those run depends on the CPU and on which OpenBLAS
kernels it selects (its AVX-512 "small matrix" path, SkylakeX and later, runs
them unpacked and several times faster than the Haswell path AMD Zen 2/3
gets), so this script is the first thing to run on a new host: it tells
whether a change in the recurrent ratios against PyTorch comes from the
machine or from seqnet.

    python benchmarks/bench_blas_shapes.py [--seconds 0.3]

Prints the CPU, OpenBLAS's architecture and, per shape, multiply-adds per
second of the best window.  A benchmark, never a test.
"""

import argparse
import time

import numpy as np
from numba import njit
from threadpoolctl import threadpool_info, threadpool_limits

from seqnet.kernels.cpu.blas import aligned_copy, aligned_empty, gemm

#: (label, rows, inner, cols, trans_a): the per-step forward product
#: ``h W_hh^T`` of a 32- or 64-row chunk, the backward ``dZ W_hh``, and the
#: weight-gradient product ``[x | h | 1]^T dZ`` over a chunk's 50 steps.
SHAPES = [
    ("LSTM H=32 step, 64 rows", 64, 32, 128, False),
    ("LSTM H=64 step, 32 rows", 32, 64, 256, False),
    ("LSTM H=64 backward step dZ W_hh", 32, 256, 64, False),
    ("LSTM H=64 weight gradients, 1600 rows", 73, 1600, 256, True),
    ("LSTM H=128 step, 64 rows", 64, 128, 512, False),
    ("LSTM H=256 step, 64 rows", 64, 256, 1024, False),
    ("RNN H=256 step, 64 rows", 64, 256, 256, False),
]


@njit(cache=True)
def _repeat(a, b, out, trans_a, calls):
    for _ in range(calls):
        gemm(a, b, out, trans_a=trans_a)


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or platform.machine()


def openblas_architecture():
    archs = {i.get("architecture") for i in threadpool_info() if i.get("internal_api") == "openblas"}
    return ", ".join(sorted(a for a in archs if a)) or "no OpenBLAS found"


def rate(rows, inner, cols, trans_a, seconds):
    """Best multiply-adds per second of ``gemm`` over windows of about 20 ms."""
    rng = np.random.default_rng(0)
    a_shape = (inner, rows) if trans_a else (rows, inner)
    a = aligned_copy(rng.normal(size=a_shape).astype(np.float32))
    b = aligned_copy(rng.normal(size=(inner, cols)).astype(np.float32))
    out = aligned_empty(rows, cols, a)
    calls = max(1, int(20e-3 * 20e9 / (rows * inner * cols)))  # ~20 ms at 20 GMAC/s
    _repeat(a, b, out, trans_a, 1)
    best = np.inf
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        _repeat(a, b, out, trans_a, calls)
        best = min(best, (time.perf_counter() - start) / calls)
    return rows * inner * cols / best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=0.3, help="timing per shape")
    args = parser.parse_args()
    # load scipy's OpenBLAS, the one numba's products call, so that
    # threadpoolctl reports its architecture too (not only numpy's copy)
    import scipy.linalg.cython_blas  # noqa: F401

    print(f"CPU: {cpu_name()}; OpenBLAS architecture: {openblas_architecture()}; 1 thread")
    print("| product | shape | GMAC/s |")
    print("|---|---|---|")
    with threadpool_limits(1, user_api="blas"):
        for label, rows, inner, cols, trans_a in SHAPES:
            gmacs = rate(rows, inner, cols, trans_a, args.seconds) / 1e9
            print(f"| {label} | ({rows} x {inner}) @ ({inner} x {cols}) | {gmacs:.1f} |", flush=True)


if __name__ == "__main__":
    main()
