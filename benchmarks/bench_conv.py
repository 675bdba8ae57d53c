"""Epoch time of a small CNN on load_digits (8x8x1): seqnet vs PyTorch CPU.

Network (both sides): conv 3x3 'same' 16 filters + ReLU, max-pool 2,
conv 3x3 'same' 32 filters + ReLU, max-pool 2, flatten, dense 64 + ReLU,
dense 10; softmax cross-entropy, Adam (lr 1e-3), batch 64, float32,
2 threads.  Median seconds per epoch over repeats after a warm-up epoch.

    pip install torch==2.13.0 threadpoolctl
    python benchmarks/bench_conv.py
"""

import argparse
import os
import statistics
import time
import warnings

import numpy as np
from sklearn.datasets import load_digits

THREADS = 2


def _median(fn, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def seqnet_epoch(X, y, batch, repeats):
    from seqnet import ConvClassifier

    model = ConvClassifier(filters=(16, 32), kernel_size=3, padding="same", pool_size=2,
                           hidden_layer_sizes=(64,), batch_size=batch, alpha=0.0,
                           random_state=0)
    model.partial_fit(X, y, classes=np.unique(y))  # compile / load kernels, one epoch
    return _median(lambda: model.partial_fit(X, y), repeats), model.score(X, y)


def torch_epoch(X, y, batch, repeats):
    import torch

    torch.set_num_threads(THREADS)
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()
    Xt = torch.from_numpy(np.transpose(X, (0, 3, 1, 2)).copy())
    yt = torch.from_numpy(y.astype(np.int64))
    gen = torch.Generator().manual_seed(0)

    def epoch():
        order = torch.randperm(len(Xt), generator=gen)
        for s in range(0, len(Xt), batch):
            idx = order[s:s + batch]
            opt.zero_grad()
            loss_fn(net(Xt[idx]), yt[idx]).backward()
            opt.step()

    epoch()  # warm-up
    t = _median(epoch, repeats)
    with torch.no_grad():
        acc = float((net(Xt).argmax(1) == yt).float().mean())
    return t, acc


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32).reshape(-1, 8, 8, 1)
    print(f"{os.cpu_count()} cores, {THREADS} threads, load_digits {X.shape}, batch {args.batch}")
    with threadpool_limits(THREADS):
        s, s_acc = seqnet_epoch(X, y, args.batch, args.repeats)
        t, t_acc = torch_epoch(X, y, args.batch, args.repeats)
    print("| | s/epoch | train acc after warm-up + repeats |")
    print("|---|---|---|")
    print(f"| seqnet ConvClassifier | {s:.4f} | {s_acc:.3f} |")
    print(f"| PyTorch | {t:.4f} | {t_acc:.3f} |")
    print(f"ratio (PyTorch / seqnet): {t / s:.2f}x")


if __name__ == "__main__":
    main()
