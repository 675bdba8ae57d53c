"""Training-epoch time and inference throughput on a GPU: seqnet (device='cuda')
vs PyTorch CUDA, for the recurrent sizes of bench_recurrent.py.

Same data, same network (one recurrent layer of H units + a linear head on
the last hidden state, squared error), same batch size, Adam, float32, batch
first.  Times are medians over repeats after a warm-up (kernel compilation and
PyTorch's first-call costs excluded); every timed call ends synchronized
(seqnet copies the loss / predictions back; PyTorch calls synchronize()).

    pip install -e ".[cuda]" torch        # a CUDA build of torch for its column
    python benchmarks/bench_cuda.py                        # all cells, all sizes
    python benchmarks/bench_cuda.py --cells lstm --sizes 32,20,1,32 --no-torch

Prints the GPU's name, the driver and CUDA versions, then a Markdown table of
seconds per epoch, inferences per second and the ratios (PyTorch time /
seqnet time: > 1 means seqnet is faster).  Without a usable GPU it says so and
exits 0.
"""

import argparse
import statistics
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, __import__("os").path.dirname(__file__))
from bench_recurrent import DEFAULT_SIZES  # noqa: E402  (the same sizes)

MIN_WINDOW_S = 0.05


def _median_time(fn, repeats, sync=lambda: None):
    """Median seconds per call over ``repeats`` windows of >= MIN_WINDOW_S each."""
    start = time.perf_counter()
    fn()
    sync()
    first = time.perf_counter() - start
    calls = max(1, int(MIN_WINDOW_S / max(first, 1e-9)))
    times = [first] if calls == 1 else []
    while len(times) < repeats:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        sync()
        times.append((time.perf_counter() - start) / calls)
    return statistics.median(times)


def gpu_info():
    """``(name, driver version, CUDA runtime version)`` of numba's current GPU,
    or None (with the reason printed) when there is none."""
    from seqnet._runtime.backend import cuda_available

    if not cuda_available():
        return None
    from numba import cuda

    dev = cuda.get_current_device()
    name = dev.name.decode() if isinstance(dev.name, bytes) else str(dev.name)
    try:
        drv = ".".join(map(str, cuda.cudadrv.driver.driver.get_version()))
    except Exception as e:  # pragma: no cover - depends on the binding
        drv = f"unknown ({e})"
    try:
        rt = ".".join(map(str, cuda.runtime.get_version()))
    except Exception:
        rt = "unknown"
    return name, drv, rt, dev.compute_capability


def seqnet_times(cell, X, y, batch, hidden, repeats):
    import seqnet

    cls = {"rnn": seqnet.RNNRegressor, "lstm": seqnet.LSTMRegressor,
           "gru": seqnet.GRURegressor}[cell]
    model = cls(hidden_layer_sizes=(hidden,), batch_size=batch, shuffle=False,
                random_state=0, alpha=0.0, clip_norm=None, learning_rate_init=1e-3,
                device="cuda")
    model.partial_fit(X[:batch], y[:batch])  # compile the kernels
    epoch = _median_time(lambda: model.partial_fit(X, y), repeats)
    model.predict(X[:batch])
    infer = _median_time(lambda: model.predict(X), repeats)
    return epoch, X.shape[0] / infer


def torch_times(cell, X, y, batch, hidden, repeats):
    import torch

    if not torch.cuda.is_available():
        return None
    dev = torch.device("cuda")
    rnn_cls = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn_cls(X.shape[2], hidden, batch_first=True)
            self.out = torch.nn.Linear(hidden, 1)

        def forward(self, x):
            h, _ = self.rnn(x)
            return self.out(h[:, -1])

    net = Net().to(dev)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    loss_fn = torch.nn.MSELoss()

    def epoch():  # the host arrays go to the GPU each epoch, as seqnet's do
        Xt, yt = torch.from_numpy(X).to(dev), torch.from_numpy(y[:, None]).to(dev)
        for s in range(0, len(Xt), batch):
            opt.zero_grad()
            loss = loss_fn(net(Xt[s:s + batch]), yt[s:s + batch])
            loss.backward()
            opt.step()

    def infer():
        with torch.no_grad():
            Xt = torch.from_numpy(X).to(dev)
            outs = [net(Xt[s:s + 512]) for s in range(0, len(Xt), 512)]
            return torch.cat(outs).cpu().numpy()

    net(torch.from_numpy(X[:batch]).to(dev)).sum().backward()  # warm-up
    sync = torch.cuda.synchronize
    e = _median_time(epoch, repeats, sync)
    infer()
    i = _median_time(infer, repeats, sync)
    return e, X.shape[0] / i


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", nargs="*", default=["rnn", "lstm", "gru"])
    parser.add_argument("--sizes", nargs="*", default=DEFAULT_SIZES,
                        help="B,T,F,H (batch, steps, features, hidden units)")
    parser.add_argument("--batches", type=int, default=8, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    args = parser.parse_args(argv)

    info = gpu_info()
    if info is None:
        print("bench_cuda: no usable CUDA GPU (numba.cuda.is_available() is False: no "
              "NVIDIA driver or device, or the 'cuda' extra is not installed); nothing "
              "to time.")
        return 0
    name, drv, rt, cc = info
    print(f"GPU: {name} (sm_{cc[0]}{cc[1]}), driver {drv}, CUDA runtime {rt}")
    have_torch = False
    if not args.no_torch:
        try:
            import torch

            have_torch = torch.cuda.is_available()
            print(f"PyTorch {torch.__version__} (CUDA {torch.version.cuda}): "
                  f"{torch.cuda.get_device_name(0) if have_torch else 'no CUDA device'}")
        except ImportError:
            print("PyTorch not installed: seqnet columns only")
    warnings.filterwarnings("ignore")
    print()
    print("| cell | (B, T, F, H) | seqnet s/epoch | torch s/epoch | epoch ratio | "
          "seqnet inf/s | torch inf/s | inference ratio |")
    print("|---|---|---|---|---|---|---|---|")
    for size in args.sizes:
        B, T, F, H = (int(v) for v in size.split(","))
        rng = np.random.default_rng(0)
        X = rng.normal(size=(B * args.batches, T, F)).astype(np.float32)
        y = X[:, -5:, 0].sum(axis=1).astype(np.float32)
        for cell in args.cells:
            se, si = seqnet_times(cell, X, y, B, H, args.repeats)
            t = torch_times(cell, X, y, B, H, args.repeats) if have_torch else None
            if t is None:
                print(f"| {cell} | ({size}) | {se:.4f} | - | - | {si:,.0f} | - | - |")
            else:
                te, ti = t
                print(f"| {cell} | ({size}) | {se:.4f} | {te:.4f} | {te / se:.2f} | "
                      f"{si:,.0f} | {ti:,.0f} | {si / ti:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
