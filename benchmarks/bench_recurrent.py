"""Training-epoch time and inference throughput: seqnet vs PyTorch CPU.

Same data, same network (one recurrent layer of H units + a linear head on
the last hidden state, squared error), same batch size, Adam, float32,
batch first, 2 threads for both.  Times are medians over repeats after a
warm-up (numba compilation and PyTorch's first-call costs excluded).

    pip install torch==2.13.0 threadpoolctl
    python benchmarks/bench_recurrent.py                  # all cells, all sizes
    python benchmarks/bench_recurrent.py --cells lstm --sizes 32,20,1,32

Prints a Markdown table of seconds per epoch, inferences per second and the
ratios (PyTorch time / seqnet time: > 1 means seqnet is faster).
"""

import argparse
import os
import platform
import statistics
import time
import warnings

import numpy as np

DEFAULT_SIZES = ["32,20,1,32", "64,50,8,64", "128,100,16,128", "256,200,32,256"]
THREADS = 2


def _median_time(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
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
            for s in range(0, len(Xt), 4096):
                net(Xt[s:s + 4096])

    net(Xt[:batch]).sum().backward()  # warm-up
    e = _median_time(epoch, repeats)
    infer()
    i = _median_time(infer, repeats)
    return e, X.shape[0] / i



def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="rnn,lstm,gru")
    parser.add_argument("--sizes", nargs="*", default=DEFAULT_SIZES,
                        help="B,T,F,H quadruples")
    parser.add_argument("--batches", type=int, default=8, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    import numba

    numba.set_num_threads(THREADS)
    warnings.filterwarnings("ignore")
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"threads {THREADS}; OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE')}")
    print("| cell | (B, T, F, H) | seqnet s/epoch | torch s/epoch | epoch ratio | "
          "seqnet inf/s | torch inf/s | inference ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        B, T, F, H = (int(v) for v in size.split(","))
        n_batches = args.batches if B * T * H < 5_000_000 else max(2, args.batches // 4)
        rng = np.random.default_rng(0)
        X = rng.normal(size=(B * n_batches, T, F)).astype(np.float32)
        y = X[:, -5:, 0].sum(axis=1).astype(np.float32)
        repeats = args.repeats if B * T * H < 5_000_000 else 1
        for cell in args.cells.split(","):
            with threadpool_limits(THREADS):
                s_epoch, s_inf = seqnet_times(cell, X, y, B, H, repeats)
                t_epoch, t_inf = torch_times(cell, X, y, B, H, repeats)
            print(f"| {cell} | ({B}, {T}, {F}, {H}) | {s_epoch:.4f} | {t_epoch:.4f} | "
                  f"{t_epoch / s_epoch:.2f}x | {s_inf:,.0f} | {t_inf:,.0f} | "
                  f"{s_inf / t_inf:.2f}x |", flush=True)


if __name__ == "__main__":
    main()
