"""Quick timing of the conv/pool kernels against PyTorch CPU (same threads).

The conv kernels are im2col + BLAS products, so ``--threads`` sets the BLAS
thread count (threadpoolctl) as well as numba's and PyTorch's.  Times one forward + backward of a 3x3 'same' conv2d (ReLU) at batch 64 on 8x8
inputs for 1->16 and 16->32 filters (the load_digits network), the 2x2 max pool,
and the whole conv stack of that network (conv16 - pool - conv32 - pool).

    python benchmarks/bench_conv_kernels.py [--threads 2] [--dtype float32]
"""

import argparse
import time

import numba
import numpy as np

from seqnet.kernels.cpu import conv, pool
from seqnet.kernels.cpu.activations import RELU


def best_of(fn, repeat=7, number=50):
    fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        times.append((time.perf_counter() - t0) / number)
    return min(times)


def seqnet_conv(B, H, W, C, Fo, dtype, need_dx, rng):
    x = rng.standard_normal((B, H, W, C)).astype(dtype)
    w = (rng.standard_normal((Fo, C, 3, 3)) * 0.3).astype(dtype)
    b = np.zeros(Fo, dtype)
    y = np.empty((B, H, W, Fo), dtype)
    dy = rng.standard_normal(y.shape).astype(dtype)
    dx, dw, db = np.empty_like(x), np.empty_like(w), np.empty_like(b)

    def fwd():
        conv.conv2d_forward(x, w, b, 1, 1, 1, 1, RELU, y)

    def bwd():
        conv.conv2d_backward(x, w, y, dy, 1, 1, 1, 1, RELU, need_dx, dx, dw, db)

    return fwd, bwd


def torch_conv(torch, B, H, W, C, Fo, dtype, need_dx, rng):
    tdtype = getattr(torch, np.dtype(dtype).name)
    m = torch.nn.Conv2d(C, Fo, 3, padding=1, dtype=tdtype)
    x = torch.from_numpy(rng.standard_normal((B, C, H, W)).astype(dtype))
    x.requires_grad_(need_dx)
    dy = torch.from_numpy(rng.standard_normal((B, Fo, H, W)).astype(dtype))

    def fwd_bwd():
        m.zero_grad(set_to_none=True)
        y = torch.relu(m(x))
        y.backward(dy)

    def fwd():
        with torch.no_grad():
            torch.relu(m(x))

    return fwd, fwd_bwd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args()
    numba.set_num_threads(min(args.threads, numba.config.NUMBA_NUM_THREADS))
    from threadpoolctl import threadpool_limits
    with threadpool_limits(limits=args.threads, user_api="blas"):
        run(args)


def run(args):
    dtype = np.dtype(args.dtype)
    rng = np.random.default_rng(0)
    try:
        import torch
        torch.set_num_threads(args.threads)
    except ImportError:
        torch = None

    print(f"threads={args.threads} dtype={dtype.name}  (times in microseconds, best of 7)")
    for C, Fo, H, need_dx in [(1, 16, 8, False), (16, 32, 4, True), (16, 32, 8, True)]:
        fwd, bwd = seqnet_conv(64, H, H, C, Fo, dtype, need_dx, rng)
        t_f = best_of(fwd)
        t_fb = best_of(lambda: (fwd(), bwd()))
        line = (f"conv2d B=64 {H}x{H} {C:>2}->{Fo:<2} dx={int(need_dx)}: seqnet fwd "
                f"{t_f * 1e6:7.1f}  fwd+bwd {t_fb * 1e6:7.1f}")
        if torch is not None:
            tf, tfb = torch_conv(torch, 64, H, H, C, Fo, dtype, need_dx, rng)
            line += f" | torch fwd {best_of(tf) * 1e6:7.1f}  fwd+bwd {best_of(tfb) * 1e6:7.1f}"
        print(line)

    # Pooling 2x2 on the conv1 output.
    x = rng.standard_normal((64, 8, 8, 16)).astype(dtype)
    yp = np.empty((64, 4, 4, 16), dtype)
    am = np.empty(yp.shape, np.int64)
    dx = np.empty_like(x)
    t_p = best_of(lambda: (pool.maxpool2d_forward(x, 2, 2, 2, 2, yp, am),
                           pool.maxpool2d_backward(yp, am, dx)))
    line = f"maxpool2d B=64 8x8x16 2x2 fwd+bwd: seqnet {t_p * 1e6:7.1f}"
    if torch is not None:
        xt = torch.from_numpy(x.transpose(0, 3, 1, 2).copy()).requires_grad_(True)
        mp = torch.nn.MaxPool2d(2)

        def tp():
            yt = mp(xt)
            yt.backward(torch.ones_like(yt))

        line += f" | torch {best_of(tp) * 1e6:7.1f}"
    print(line)

    # Conv stack of the digits network: conv16-pool-conv32-pool, fwd + bwd.
    x0 = rng.standard_normal((64, 8, 8, 1)).astype(dtype)
    w1 = (rng.standard_normal((16, 1, 3, 3)) * 0.3).astype(dtype)
    w2 = (rng.standard_normal((32, 16, 3, 3)) * 0.1).astype(dtype)
    b1, b2 = np.zeros(16, dtype), np.zeros(32, dtype)
    y1, p1 = np.empty((64, 8, 8, 16), dtype), np.empty((64, 4, 4, 16), dtype)
    a1 = np.empty(p1.shape, np.int64)
    y2, p2 = np.empty((64, 4, 4, 32), dtype), np.empty((64, 2, 2, 32), dtype)
    a2 = np.empty(p2.shape, np.int64)
    dp2 = rng.standard_normal(p2.shape).astype(dtype)
    dy2, dp1, dy1 = np.empty_like(y2), np.empty_like(p1), np.empty_like(y1)
    gw1, gw2, gb1, gb2 = (np.empty_like(a) for a in (w1, w2, b1, b2))
    dummy = np.empty((0, 0, 0, 0), dtype)

    def stack():
        conv.conv2d_forward(x0, w1, b1, 1, 1, 1, 1, RELU, y1)
        pool.maxpool2d_forward(y1, 2, 2, 2, 2, p1, a1)
        conv.conv2d_forward(p1, w2, b2, 1, 1, 1, 1, RELU, y2)
        pool.maxpool2d_forward(y2, 2, 2, 2, 2, p2, a2)
        pool.maxpool2d_backward(dp2, a2, dy2)
        conv.conv2d_backward(p1, w2, y2, dy2, 1, 1, 1, 1, RELU, True, dp1, gw2, gb2)
        pool.maxpool2d_backward(dp1, a1, dy1)
        conv.conv2d_backward(x0, w1, y1, dy1, 1, 1, 1, 1, RELU, False, dummy, gw1, gb1)

    line = f"digits conv stack fwd+bwd (B=64): seqnet {best_of(stack) * 1e6:7.1f}"
    if torch is not None:
        tdtype = getattr(torch, dtype.name)
        net = torch.nn.Sequential(
            torch.nn.Conv2d(1, 16, 3, padding=1, dtype=tdtype), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
            torch.nn.Conv2d(16, 32, 3, padding=1, dtype=tdtype), torch.nn.ReLU(),
            torch.nn.MaxPool2d(2))
        xt = torch.from_numpy(x0.transpose(0, 3, 1, 2).copy())
        dpt = torch.from_numpy(dp2.transpose(0, 3, 1, 2).copy())

        def tstack():
            net.zero_grad(set_to_none=True)
            net(xt).backward(dpt)

        line += f" | torch {best_of(tstack) * 1e6:7.1f}"
    print(line)


if __name__ == "__main__":
    main()
