"""The forward's per-step product ``h W_hh^T`` in column pieces: right operand
read from column slices of ``W_hh^T`` against contiguous column blocks
(``seqnet.kernels.cpu.blas.column_blocks``, what the kernels use).

    python benchmarks/bench_column_blocks.py [--hidden 256 128] [--rows 64]

One BLAS thread, ``steps`` steps that each accumulate into their own block of
gates (as the forward pass writes them), pieces as ``blas.piece_width``
chooses.  The two layouts alternate in one process, so a busy host slows
both alike.  Prints the best and median rate in GMAC/s.  A benchmark, never
a test.
"""

import argparse
import time

import numpy as np
from numba import njit
from threadpoolctl import threadpool_limits

from seqnet.kernels.cpu.blas import aligned_copy, aligned_empty, column_blocks, gemm, piece_width


@njit(cache=True)
def _from_slices(h, w_t, gates, rows, piece, calls):
    for _ in range(calls):
        for s in range(gates.shape[0] // rows):
            block = gates[s * rows:(s + 1) * rows]
            for c in range(0, w_t.shape[1], piece):
                e = min(c + piece, w_t.shape[1])
                gemm(h, w_t[:, c:e], block[:, c:e], accumulate=True)


@njit(cache=True)
def _from_blocks(h, w_b, gates, rows, calls):
    piece = w_b.shape[2]
    cols = gates.shape[1]
    for _ in range(calls):
        for s in range(gates.shape[0] // rows):
            block = gates[s * rows:(s + 1) * rows]
            for k in range(w_b.shape[0]):
                c = k * piece
                e = min(c + piece, cols)
                gemm(h, w_b[k, :, :e - c], block[:, c:e], accumulate=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="*", default=[256, 128])
    parser.add_argument("--rows", type=int, default=64)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    for H in args.hidden:
        gh = 4 * H  # an LSTM's gate columns
        piece = piece_width(args.rows, H, gh)
        h = aligned_copy(rng.normal(size=(args.rows, H)).astype(np.float32))
        w_t = aligned_copy((rng.normal(size=(H, gh)) * 0.1).astype(np.float32))
        w_b = column_blocks(w_t, piece)
        gates = aligned_empty(args.steps * args.rows, gh, h)
        gates[:] = 0.0
        times = {"slices": [], "blocks": []}
        with threadpool_limits(1, user_api="blas"):
            _from_slices(h, w_t, gates, args.rows, piece, 1)
            _from_blocks(h, w_b, gates, args.rows, 1)
            for _ in range(args.repeats):
                start = time.perf_counter()
                _from_slices(h, w_t, gates, args.rows, piece, 2)
                times["slices"].append(time.perf_counter() - start)
                start = time.perf_counter()
                _from_blocks(h, w_b, gates, args.rows, 2)
                times["blocks"].append(time.perf_counter() - start)
        macs = 2 * args.steps * args.rows * H * gh
        for layout, t in times.items():
            print(f"H = {H}, {args.rows} rows, {piece}-column pieces, {layout}: "
                  f"best {macs / min(t) / 1e9:.1f} GMAC/s, median {macs / np.median(t) / 1e9:.1f}")


if __name__ == "__main__":
    main()
