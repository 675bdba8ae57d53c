"""FCN and ResNet training-epoch time and inference throughput: seqnet vs PyTorch CPU.

Same data (GunPoint-shaped by default: 50 univariate series of 150 steps,
binary labels, random), same network as ``FCNClassifier`` /
``ResNetClassifier`` with their default sizes (FCN: conv 128x8, 256x5,
128x3, each + batch norm + ReLU; ResNet: three residual blocks of 64, 128,
128 filters, widths 8, 5, 3, 1x1 conv + BN shortcut where the channel count
changes; both: 'same' padding, global average pooling, one logistic output),
batch 16, Adam, float32, 2 threads for both, each framework in its own
process.  Times are medians over repeats after a warm-up (numba compilation
and PyTorch's first-call costs excluded).

    pip install torch==2.13.0 threadpoolctl
    python benchmarks/bench_fcn.py                       # fcn and resnet, 3 rounds
    python benchmarks/bench_fcn.py --models fcn --rounds 1 --shape 50,150,1

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
import warnings

import numpy as np

from bench_recurrent import THREADS, _median_time, _ratio_text

BATCH = 16
FCN = dict(filters=(128, 256, 128), widths=(8, 5, 3))
RESNET = dict(filters=(64, 128, 128), widths=(8, 5, 3))


def seqnet_times(model, X, y, repeats):
    import seqnet

    cls, sizes = {"fcn": (seqnet.FCNClassifier, FCN),
                  "resnet": (seqnet.ResNetClassifier, RESNET)}[model]
    est = cls(filters=sizes["filters"], kernel_size=sizes["widths"], batch_size=BATCH,
              shuffle=False, random_state=0, alpha=0.0, learning_rate_init=1e-3)
    est.partial_fit(X[:BATCH], y[:BATCH], classes=[0, 1])  # compile / load kernels
    epoch = _median_time(lambda: est.partial_fit(X, y), repeats)
    est.predict(X[:BATCH])
    infer = _median_time(lambda: est.predict(X), repeats)
    return epoch, X.shape[0] / infer


def torch_net(model, in_channels):
    import torch
    from torch import nn

    def conv_bn(c_in, c_out, k, relu=True):
        layers = [nn.Conv1d(c_in, c_out, k, padding="same"), nn.BatchNorm1d(c_out)]
        return layers + [nn.ReLU()] if relu else layers

    class Residual(nn.Module):
        def __init__(self, c_in, c_out, widths):
            super().__init__()
            layers, c = [], c_in
            for j, k in enumerate(widths):
                layers += conv_bn(c, c_out, k, relu=j < len(widths) - 1)
                c = c_out
            self.main = nn.Sequential(*layers)
            self.shortcut = (nn.Sequential(*conv_bn(c_in, c_out, 1, relu=False))
                             if c_in != c_out else nn.Identity())

        def forward(self, x):
            return torch.relu(self.main(x) + self.shortcut(x))

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            blocks, c = [], in_channels
            if model == "fcn":
                for f, k in zip(FCN["filters"], FCN["widths"]):
                    blocks += conv_bn(c, f, k)
                    c = f
            else:
                for f in RESNET["filters"]:
                    blocks.append(Residual(c, f, RESNET["widths"]))
                    c = f
            self.body = nn.Sequential(*blocks)
            self.out = nn.Linear(c, 1)

        def forward(self, x):  # x: (n, T, C), batch first as seqnet's
            return self.out(self.body(x.transpose(1, 2)).mean(dim=2))

    return Net()


def torch_times(model, X, y, repeats):
    import torch

    torch.set_num_threads(THREADS)
    net = torch_net(model, X.shape[2])
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y.astype(np.float32)[:, None])
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def epoch():
        net.train()
        for s in range(0, len(Xt), BATCH):
            opt.zero_grad()
            loss = loss_fn(net(Xt[s:s + BATCH]), yt[s:s + BATCH])
            loss.backward()
            opt.step()

    def infer():
        net.eval()
        with torch.no_grad():
            for s in range(0, len(Xt), 512):
                net(Xt[s:s + 512])

    net(Xt[:BATCH]).sum().backward()  # warm-up
    e = _median_time(epoch, repeats)
    infer()
    i = _median_time(infer, repeats)
    return e, X.shape[0] / i


def _run_worker(framework, model, shape, repeats):
    """One framework in a fresh process (numba's and PyTorch's OpenMP pools
    otherwise spin in each other's way, see bench_recurrent)."""
    cmd = [sys.executable, __file__, "--worker", framework, "--models", model,
           "--shape", shape, "--repeats", str(repeats)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _worker(args):
    from threadpoolctl import threadpool_limits

    if args.worker == "seqnet":
        import numba

        numba.set_num_threads(THREADS)
    warnings.filterwarnings("ignore")
    n, T, C = (int(v) for v in args.shape.split(","))
    rng = np.random.default_rng(0)
    X = rng.normal(size=(n, T, C)).astype(np.float32)
    y = (X[:, : T // 2, 0].mean(axis=1) > 0).astype(np.int64)
    fn = seqnet_times if args.worker == "seqnet" else torch_times
    with threadpool_limits(THREADS):
        epoch, inf = fn(args.models, X, y, args.repeats)
    print(json.dumps({"epoch": epoch, "inf": inf}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default="fcn,resnet")
    parser.add_argument("--shape", default="50,150,1",
                        help="n,T,C: series, steps, channels (default GunPoint's)")
    parser.add_argument("--repeats", type=int, default=3, help="timing windows per process")
    parser.add_argument("--rounds", type=int, default=3,
                        help="seqnet/PyTorch process pairs per model (ratios: median over "
                             "rounds of each pair's ratio)")
    parser.add_argument("--worker", choices=["seqnet", "torch"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return _worker(args)
    from bench_blas_shapes import cpu_name

    print(f"machine: {cpu_name()} ({platform.machine()}), {os.cpu_count()} cores; "
          f"threads {THREADS}; batch {BATCH}; data (n, T, C) = ({args.shape}); "
          "each framework timed in its own process")
    print(f"{args.rounds} rounds of one seqnet and one PyTorch process (order alternating); "
          "times: medians over rounds; ratios: median (min-max) of the rounds' ratios")
    print("| model | seqnet s/epoch | torch s/epoch | epoch ratio | "
          "seqnet inf/s | torch inf/s | inference ratio |")
    print("|---|---|---|---|---|---|---|")
    for model in args.models.split(","):
        rounds = []
        for r in range(args.rounds):
            order = ("seqnet", "torch") if r % 2 == 0 else ("torch", "seqnet")
            rounds.append({fw: _run_worker(fw, model, args.shape, args.repeats)
                           for fw in order})
        med = {(fw, k): statistics.median(r[fw][k] for r in rounds)
               for fw in ("seqnet", "torch") for k in ("epoch", "inf")}
        epoch_ratios = [r["torch"]["epoch"] / r["seqnet"]["epoch"] for r in rounds]
        inf_ratios = [r["seqnet"]["inf"] / r["torch"]["inf"] for r in rounds]
        print(f"| {model} | {med['seqnet', 'epoch']:.4f} | {med['torch', 'epoch']:.4f} | "
              f"{_ratio_text(epoch_ratios)} | {med['seqnet', 'inf']:,.0f} | "
              f"{med['torch', 'inf']:,.0f} | {_ratio_text(inf_ratios)} |", flush=True)


if __name__ == "__main__":
    main()
