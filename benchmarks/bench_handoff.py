"""What the recurrent kernels' thread hand-off costs per pass (issue 21).

Chunks of about 50 us of work (a ``pause`` loop, no memory traffic), run by
seqnet's chunk threads (``seqnet.kernels.cpu.chunk_threads.run_pass``), the
chunk a ``@cfunc`` over an operand table as the recurrent chunk kernels are:

* one chunk on one thread (the floor: a perfect hand-off of two chunks to
  two threads reaches it);
* two chunks on two threads: the caller posts the pass, the helper (spinning
  in compiled code) claims a chunk and calls the kernel through its address.

The difference is what handing a chunk to the second thread costs.

    python benchmarks/bench_handoff.py
"""

import os
import time

import numpy as np
from numba import cfunc

from bench_blas_shapes import cpu_name  # run from benchmarks/ as a script
from seqnet.kernels.cpu.chunk_threads import chunk_threads, run_pass
from seqnet.kernels.cpu.operand_table import CHUNK_SIGNATURE, new_table, table_at
from seqnet.kernels.cpu.spin_wait import _pause

CHUNK_S = 50e-6
PASSES = 3000


@cfunc(CHUNK_SIGNATURE, nogil=True)
def _spin_chunk(address, chunk, thread):
    """``table[1]`` pause iterations."""
    t = table_at(address)
    for _ in range(t[1]):
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
    table = new_table(0)
    table[1] = 10
    run_pass(_spin_chunk.address, table, 1, 1)  # compile / load the hand-off
    table[1] = 100_000
    start = time.perf_counter()
    run_pass(_spin_chunk.address, table, 1, 1)
    table[1] = max(1, int(CHUNK_S / ((time.perf_counter() - start) / 100_000)))
    print(f"CPU: {cpu_name()}, {os.cpu_count()} cores; work per chunk about "
          f"{CHUNK_S * 1e6:.0f} us ({table[1]} pause iterations)")
    alone = _best_per_call(lambda: run_pass(_spin_chunk.address, table, 1, 1), PASSES)
    with chunk_threads(2):
        run_pass(_spin_chunk.address, table, 2)  # the helper thread starts
        shared = _best_per_call(lambda: run_pass(_spin_chunk.address, table, 2), PASSES)
    print(f"one chunk, one thread:              {alone:6.1f} us per pass")
    print(f"two chunks, two threads (run_pass): {shared:6.1f} us per pass")
    print(f"hand-off cost:                      {shared - alone:6.1f} us per pass")


if __name__ == "__main__":
    main()
