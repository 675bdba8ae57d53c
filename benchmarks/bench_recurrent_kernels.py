"""Quick timing of the recurrent kernels (one forward + backward of one layer).

    python benchmarks/bench_recurrent_kernels.py [--sizes 64,50,8,64 256,200,32,256]
        [--cells lstm gru rnn] [--threads 2] [--repeat 3] [--torch] [--saturate]

``--saturate`` scales inputs and weights so that gates saturate and gradients
decay towards denormal floats (the case where PyTorch's CPU LSTM backward
slows down ~8x); seqnet flushes |v| < 1e-30 to zero, so it should not.
Reports the best of ``--repeat`` runs, float32.  seqnet runs as its estimators
do (numba owns the cores, BLAS 1 thread).  With ``--torch`` both run in one
process, where numba's OpenMP pool can slow PyTorch down: the side-by-side
numbers of record come from ``bench_recurrent.py`` (one process each).
A benchmark, never a test.
"""

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_limits

from seqnet import threads
from seqnet._runtime.backend import thread_limits
from seqnet.network.layers import Context
from seqnet.network.recurrent import RecurrentLayer


def make(cell, B, T, F, H, saturate, rng):
    layer = RecurrentLayer(cell, H, 0, dtype=np.float32)
    layer.build((T, F))
    scale_x = 10.0 if saturate else 1.0
    p = {}
    for s in layer.param_specs():
        fan = s.shape[1] if len(s.shape) == 2 else H
        p[s.name] = (rng.normal(size=s.shape) * scale_x / np.sqrt(fan)).astype(np.float32)
    x = (rng.normal(size=(B, T, F)) * scale_x).astype(np.float32)
    dy = np.zeros((B, T, H), np.float32)
    dy[:, -1] = rng.normal(size=(B, H))  # loss on the last step only: gradients decay backwards
    return layer, p, x, dy


def time_seqnet(layer, p, x, dy, repeat):
    g = {k: np.empty_like(v) for k, v in p.items()}
    ctx = Context(need_input_grad=True)
    y, cache = layer.forward(p, x, ctx)  # compile / load cache
    layer.backward(p, g, cache, dy, ctx)
    best_f, best_b = np.inf, np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        y, cache = layer.forward(p, x, ctx)
        t1 = time.perf_counter()
        layer.backward(p, g, cache, dy, ctx)
        t2 = time.perf_counter()
        best_f, best_b = min(best_f, t1 - t0), min(best_b, t2 - t1)
    return best_f, best_b


def time_torch(cell, p, x, dy, repeat, threads):
    import torch

    torch.set_num_threads(threads)
    F, H = x.shape[2], dy.shape[2]
    cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    m = cls(F, H, batch_first=True)
    with torch.no_grad():
        for k, v in p.items():
            getattr(m, k + "_l0").copy_(torch.from_numpy(v))
    xt = torch.from_numpy(x).requires_grad_()
    dyt = torch.from_numpy(dy)
    best_f, best_b = np.inf, np.inf
    for _ in range(repeat + 1):
        t0 = time.perf_counter()
        yt, _ = m(xt)
        t1 = time.perf_counter()
        yt.backward(dyt)
        t2 = time.perf_counter()
        best_f, best_b = min(best_f, t1 - t0), min(best_b, t2 - t1)
    return best_f, best_b


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", nargs="+", default=["64,50,8,64", "256,200,32,256"])
    ap.add_argument("--cells", nargs="+", default=["lstm", "gru", "rnn"])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--torch", action="store_true", help="also time torch.nn CPU")
    ap.add_argument("--saturate", action="store_true")
    args = ap.parse_args()
    rng = np.random.default_rng(0)
    with threadpool_limits(args.threads):
        for size in args.sizes:
            B, T, F, H = map(int, size.split(","))
            for cell in args.cells:
                layer, p, x, dy = make(cell, B, T, F, H, args.saturate, rng)
                with threads(args.threads), thread_limits("numba"):
                    f, b = time_seqnet(layer, p, x, dy, args.repeat)
                line = (f"{cell:4s} (B,T,F,H)=({B},{T},{F},{H}) float32 "
                        f"seqnet fwd {f * 1e3:8.1f} ms  bwd {b * 1e3:8.1f} ms")
                if args.torch:
                    tf, tb = time_torch(cell, p, x, dy, args.repeat, args.threads)
                    line += f" | torch fwd {tf * 1e3:8.1f} ms  bwd {tb * 1e3:8.1f} ms"
                print(line, flush=True)


if __name__ == "__main__":
    main()
