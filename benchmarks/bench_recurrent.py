"""Training-epoch time and inference throughput: seqnet vs PyTorch CPU.

Same data, same network (one recurrent layer of H units + a linear head on
the last hidden state, squared error), same batch size, Adam, float32,
batch first, 2 threads for both.  Times are medians over repeats after a
warm-up (numba compilation and PyTorch's first-call costs excluded).

    pip install torch==2.13.0 threadpoolctl
    python benchmarks/bench_recurrent.py                  # all cells, all sizes
    python benchmarks/bench_recurrent.py --cells lstm --sizes 32,20,1,32 --rounds 5
    python benchmarks/bench_recurrent.py --baseline /tmp/old-checkout --no-torch

``--baseline DIR`` also times the seqnet found in the source tree ``DIR`` (an
older checkout: ``git worktree add DIR <commit>``), alternating with this one,
and prints new/baseline ratios: a change's effect on the steady-state speed.

Prints a Markdown table of seconds per epoch, inferences per second and the
ratios (PyTorch time / seqnet time: > 1 means seqnet is faster).
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import warnings

import numpy as np

DEFAULT_SIZES = ["32,20,1,32", "64,50,8,64", "128,100,16,128", "256,200,32,256"]
THREADS = 2


#: Shortest window one timing covers: a call shorter than this is repeated
#: inside the window (a predict of 256 short sequences takes under 1 ms, where
#: one slow scheduler tick on this shared VM moved a single timing by 30%).
MIN_WINDOW_S = 0.05


def _median_time(fn, repeats):
    """Median seconds per call over ``repeats`` windows of at least
    :data:`MIN_WINDOW_S` each (the first call is timed to size the windows)."""
    start = time.perf_counter()
    fn()
    first = time.perf_counter() - start
    calls = max(1, int(MIN_WINDOW_S / max(first, 1e-9)))
    times = [first] if calls == 1 else []  # a long call is a window of its own
    while len(times) < repeats:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def seqnet_times(cell, X, y, batch, hidden, repeats):
    import seqnet

    cls = {"rnn": seqnet.RNNRegressor, "lstm": seqnet.LSTMRegressor,
           "gru": seqnet.GRURegressor}[cell]
    model = cls(hidden_layer_sizes=(hidden,),
                batch_size=batch, shuffle=False, random_state=0, alpha=0.0,
                clip_norm=None, learning_rate_init=1e-3)
    model.partial_fit(X[:batch], y[:batch])  # compile / load kernels
    epoch = _median_time(lambda: model.partial_fit(X, y), repeats)
    model.predict(X[:batch])
    infer = _median_time(lambda: model.predict(X), repeats)
    return epoch, X.shape[0] / infer


def torch_times(cell, X, y, batch, hidden, repeats):
    import torch

    torch.set_num_threads(THREADS)
    rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn_cls(X.shape[2], hidden, batch_first=True)
            self.out = torch.nn.Linear(hidden, 1)

        def forward(self, x):
            h, _ = self.rnn(x)
            return self.out(h[:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y[:, None])
    loss_fn = torch.nn.MSELoss()

    def epoch():
        for s in range(0, len(Xt), batch):
            opt.zero_grad()
            loss = loss_fn(net(Xt[s:s + batch]), yt[s:s + batch])
            loss.backward()
            opt.step()

    def infer():
        with torch.no_grad():
            for s in range(0, len(Xt), 512):
                net(Xt[s:s + 512])

    net(Xt[:batch]).sum().backward()  # warm-up
    e = _median_time(epoch, repeats)
    infer()
    i = _median_time(infer, repeats)
    return e, X.shape[0] / i



def _run_worker(framework, cell, size, batches, repeats, source=None):
    """Time one framework in a fresh process: seqnet's BLAS/OpenMP threads and
    PyTorch's OpenMP threads otherwise keep spinning in each other's way (in one
    process PyTorch's RNN inference ran 100x slower after seqnet had run).
    ``source``: a source tree whose seqnet the worker imports instead."""
    cmd = [sys.executable, __file__, "--worker", framework, "--cells", cell,
           "--sizes", size, "--batches", str(batches), "--repeats", str(repeats)]
    env = dict(os.environ)
    if source:
        env["PYTHONPATH"] = os.path.abspath(source)
    out = subprocess.run(cmd, capture_output=True, text=True, check=True, env=env,
                         cwd=os.path.dirname(os.path.abspath(source)) if source else None
                         ).stdout
    return json.loads(out.strip().splitlines()[-1])


def _worker(args):
    from threadpoolctl import threadpool_limits

    if args.worker == "seqnet":
        # never in the PyTorch process: starting numba's OpenMP pool there made
        # PyTorch's RNN/GRU 100x slower (two OpenMP runtimes spinning)
        import numba

        numba.set_num_threads(THREADS)
    warnings.filterwarnings("ignore")
    B, T, F, H = (int(v) for v in args.sizes[0].split(","))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(B * args.batches, T, F)).astype(np.float32)
    y = X[:, -5:, 0].sum(axis=1).astype(np.float32)
    fn = seqnet_times if args.worker == "seqnet" else torch_times
    with threadpool_limits(THREADS):
        epoch, inf = fn(args.cells, X, y, B, H, args.repeats)
    print(json.dumps({"epoch": epoch, "inf": inf}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--sizes", nargs="*", default=DEFAULT_SIZES,
                        help="B,T,F,H quadruples")
    parser.add_argument("--batches", type=int, default=8, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timing windows per process")
    parser.add_argument("--rounds", type=int, default=3,
                        help="seqnet/PyTorch process pairs per cell and size (ratios: median "
                             "over rounds of each pair's ratio)")
    parser.add_argument("--baseline", metavar="DIR",
                        help="also time the seqnet of this source tree and print new/baseline")
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch (with --baseline)")
    parser.add_argument("--worker", choices=["seqnet", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    if args.baseline:
        return _compare_with_baseline(args)
    # imported here, not at the top: the PyTorch workers run this file too and
    # must not load numba (bench_blas_shapes imports seqnet's kernels)
    from bench_blas_shapes import cpu_name, openblas_architecture

    # the CPU and OpenBLAS's kernel choice move the recurrent ratios by
    # themselves (an AVX-512 host's small-matrix path against Zen 3's Haswell one)
    print(f"machine: {cpu_name()} ({platform.machine()}), {os.cpu_count()} cores; OpenBLAS "
          f"{openblas_architecture()}; threads {THREADS}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}; "
          "each framework timed in its own process")
    print(f"machine probe: {_probe_gmacs():.0f} GMAC/s single-threaded float32 "
          "(64 x 256) @ (256 x 1024) in numpy (the host is shared: compare runs by it)")
    print(f"{args.rounds} rounds of one seqnet and one PyTorch process (order alternating); "
          "times: medians over rounds; ratios: median (min-max) of the rounds' ratios")
    print("| cell | (B, T, F, H) | seqnet s/epoch | torch s/epoch | epoch ratio | "
          "seqnet inf/s | torch inf/s | inference ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for size, (B, T, F, H), n_batches, repeats in _sizes(args):
        for cell in args.cells.split(","):
            rounds = [_run_round(cell, size, n_batches, repeats, r) for r in range(args.rounds)]
            s_epoch = statistics.median(r["seqnet"]["epoch"] for r in rounds)
            t_epoch = statistics.median(r["torch"]["epoch"] for r in rounds)
            s_inf = statistics.median(r["seqnet"]["inf"] for r in rounds)
            t_inf = statistics.median(r["torch"]["inf"] for r in rounds)
            epoch_ratios = [r["torch"]["epoch"] / r["seqnet"]["epoch"] for r in rounds]
            inf_ratios = [r["seqnet"]["inf"] / r["torch"]["inf"] for r in rounds]
            print(f"| {cell} | ({B}, {T}, {F}, {H}) | {s_epoch:.4f} | {t_epoch:.4f} | "
                  f"{_ratio_text(epoch_ratios)} | {s_inf:,.0f} | {t_inf:,.0f} | "
                  f"{_ratio_text(inf_ratios)} |", flush=True)


def _sizes(args):
    """``(size, (B, T, F, H), batches, repeats)`` per size: the largest sizes
    get fewer batches and one timing window."""
    for size in args.sizes:
        B, T, F, H = (int(v) for v in size.split(","))
        large = B * T * H >= 5_000_000
        yield (size, (B, T, F, H), max(2, args.batches // 4) if large else args.batches,
               1 if large else args.repeats)


def _compare_with_baseline(args):
    """seqnet here against seqnet in ``args.baseline``, alternating processes."""
    from bench_blas_shapes import cpu_name, openblas_architecture

    print(f"machine: {cpu_name()}, {os.cpu_count()} cores; OpenBLAS {openblas_architecture()}; "
          f"threads {THREADS}; baseline tree {args.baseline}; {args.rounds} alternating rounds")
    print("| cell | (B, T, F, H) | epoch s new | epoch s baseline | epoch new/baseline | "
          "inf/s new | inf/s baseline | inference new/baseline |")
    print("|---|---|---|---|---|---|---|---|")
    for size, (B, T, F, H), n_batches, repeats in _sizes(args):
        for cell in args.cells.split(","):
            runs = {"new": [], "base": []}
            for r in range(args.rounds):
                order = ("new", "base") if r % 2 == 0 else ("base", "new")
                for which in order:
                    src = args.baseline if which == "base" else None
                    runs[which].append(_run_worker("seqnet", cell, size, n_batches, repeats, src))
            e_new = statistics.median(r["epoch"] for r in runs["new"])
            e_base = statistics.median(r["epoch"] for r in runs["base"])
            i_new = statistics.median(r["inf"] for r in runs["new"])
            i_base = statistics.median(r["inf"] for r in runs["base"])
            print(f"| {cell} | ({B}, {T}, {F}, {H}) | {e_new:.4f} | {e_base:.4f} | "
                  f"{e_new / e_base:.2f} | {i_new:,.0f} | {i_base:,.0f} | {i_new / i_base:.2f} |",
                  flush=True)


def _probe_gmacs(seconds=0.5):
    """Multiply-adds per second of one BLAS thread on a product the size of an
    LSTM step at H = 256: tells a run on a busy host from one on a quiet one."""
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.normal(size=(64, 256)).astype(np.float32)
    b = rng.normal(size=(256, 1024)).astype(np.float32)
    best = np.inf
    with threadpool_limits(1, user_api="blas"):
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            start = time.perf_counter()
            for _ in range(20):
                a @ b
            best = min(best, (time.perf_counter() - start) / 20)
    return a.shape[0] * a.shape[1] * b.shape[1] / best / 1e9


def _run_round(cell, size, batches, repeats, index):
    """One seqnet and one PyTorch process, back to back (which goes first
    alternates, so neither always runs in the other's wake)."""
    order = ("seqnet", "torch") if index % 2 == 0 else ("torch", "seqnet")
    return {fw: _run_worker(fw, cell, size, batches, repeats) for fw in order}


def _ratio_text(ratios):
    if len(ratios) == 1:
        return f"{ratios[0]:.2f}x"
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


if __name__ == "__main__":
    main()
