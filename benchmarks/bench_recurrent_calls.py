"""Per-call cost of the recurrent kernels: one training step (forward that
keeps its cache + backward) and one inference forward, called directly.

Shows the fixed cost around the chunk kernels (the Python driver, thread
hand-off) that dominates at small sizes.  BLAS is limited to one thread and
malloc keeps freed buffers mapped, as the estimators do; ``--threads`` sets
the chunk threads (and numba's threads, for older trees that used
``prange``).  Best of 7 windows of ``--calls`` calls.

    python benchmarks/bench_recurrent_calls.py --cell rnn --size 32,20,1,32 --threads 1
    PYTHONPATH=/path/to/older/checkout python benchmarks/bench_recurrent_calls.py ...
"""

import argparse
import contextlib
import time

import numpy as np


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["rnn", "lstm", "gru"], default="rnn")
    parser.add_argument("--size", default="32,20,1,32", help="B,T,F,H")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()

    import numba
    import scipy.linalg.cython_blas  # noqa: F401 - the BLAS numba's products call
    from threadpoolctl import threadpool_limits

    import seqnet
    import seqnet.kernels.cpu as K

    B, T, F, H = (int(v) for v in args.size.split(","))
    G = {"rnn": 1, "lstm": 4, "gru": 3}[args.cell]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    lengths = np.full(B, T, np.int64)
    w_ih = (rng.normal(size=(G * H, F)) * 0.1).astype(np.float32)
    w_hh = (rng.normal(size=(G * H, H)) * 0.1).astype(np.float32)
    b = np.zeros(G * H, np.float32)
    h0 = np.zeros((B, H), np.float32)
    dh = rng.normal(size=(B, T, H)).astype(np.float32)
    tanh = 2  # the activation code of tanh (the RNN's default)

    one_signature = hasattr(K, "recurrent_forward")  # trees before it: a kernel per cell

    def forward(keep):
        if one_signature:
            return K.recurrent_forward(args.cell, x, lengths, w_ih, w_hh, b, b, h0, h0, False,
                                       tanh, keep)
        if args.cell == "rnn":
            return K.rnn_forward(x, lengths, w_ih, w_hh, b, b, h0, False, tanh, keep)
        if args.cell == "lstm":
            return K.lstm_forward(x, lengths, w_ih, w_hh, b, b, h0, h0, False, keep)
        return K.gru_forward(x, lengths, w_ih, w_hh, b, b, h0, False, keep)

    def train():
        h, cache = forward(True)
        if one_signature:
            K.recurrent_backward(args.cell, dh, x, lengths, w_ih, w_hh, cache, False, 0, False,
                                 tanh)
        elif args.cell == "rnn":
            K.rnn_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, False, 0, False, tanh)
        elif args.cell == "lstm":
            K.lstm_backward(dh, x, lengths, w_ih, w_hh, h0, h0, h, cache, False, 0, False)
        else:
            K.gru_backward(dh, x, lengths, w_ih, w_hh, h0, h, cache, False, 0, False)

    try:  # malloc tuned as the estimators' calls tune it (older trees: seqnet._malloc)
        from seqnet._runtime.malloc import tune_malloc
    except ImportError:
        from seqnet._malloc import tune_malloc
    tune_malloc()
    try:
        from seqnet.kernels.cpu.chunk_threads import chunk_threads
        threads = chunk_threads(args.threads)
    except ImportError:  # an older tree: its prange kernels follow numba's setting
        threads = contextlib.nullcontext()
    numba.set_num_threads(args.threads)
    out = []
    with threadpool_limits(1, user_api="blas"), threads:
        for name, fn in (("train step", train), ("inference", lambda: forward(False))):
            fn()
            best = np.inf
            for _ in range(7):
                start = time.perf_counter()
                for _ in range(args.calls):
                    fn()
                best = min(best, (time.perf_counter() - start) / args.calls)
            out.append(f"{name} {best * 1e6:.0f} us")
    print(f"seqnet {seqnet.__file__}: {args.cell} {args.size}, {args.threads} thread(s): "
          + ", ".join(out))


if __name__ == "__main__":
    main()
