"""The ``seqnet`` command: ``demo``, ``forecast``, ``bench`` and ``warmup``.

Installed as the console script ``seqnet = "seqnet.cli:main"``; also runnable as
``python -m seqnet.cli``. User errors (unreadable or malformed CSV, series too
short) print one line on stderr and exit with status 2, never a traceback.

Only the standard library is imported at module level: ``seqnet --help``
builds the parser without loading NumPy, scikit-learn or numba; each command
imports what it needs.
"""

import argparse
import sys
import time
import warnings

from . import __version__  # seqnet/__init__.py imports nothing heavy

__all__ = ["main"]

from .forecast_cli import (  # noqa: F401  (guess_period, metrics, read_series: public helpers)
    CLIError,
    add_forecast_parser,
    guess_period,
    metrics,
    read_series,
)


def _cmd_demo(args):
    from . import demo  # lazy: the demo pulls in plotting and every model

    demo.run_demo(output_dir=args.output_dir, quick=args.quick)
    return 0


def _cmd_bench(args):
    import numpy as np
    from sklearn.exceptions import ConvergenceWarning

    import seqnet

    rng = np.random.default_rng(0)
    n, t, f, h = args.samples, args.timesteps, args.features, args.hidden
    X = rng.standard_normal((n, t, f)).astype(np.float32)
    y = rng.standard_normal(n).astype(np.float32)
    print(f"quick timing: {n} sequences x {t} steps x {f} features, hidden {h}, "
          f"batch {args.batch_size}, {args.epochs} epoch(s), device {args.device}")
    print("(first fit of each model includes Numba compilation, if not cached; "
          "see benchmarks/ for comparisons with PyTorch and scikit-learn)")
    warnings.simplefilter("ignore", ConvergenceWarning)  # fixed epochs on noise
    for cls in ("RNNRegressor", "GRURegressor", "LSTMRegressor"):
        make = getattr(seqnet, cls)
        times = []
        for _ in range(2):  # first run warms up (compilation), second is timed
            est = make(hidden_layer_sizes=(h,), max_iter=args.epochs,
                       batch_size=args.batch_size, device=args.device, random_state=0)
            t0 = time.perf_counter()
            est.fit(X, y)
            times.append(time.perf_counter() - t0)
        print(f"{cls:<16} first fit {times[0]:8.3f} s   "
              f"then {times[1] / args.epochs:8.4f} s/epoch")
    return 0


def _names(text):
    return [t.strip() for t in text.split(",") if t.strip()]


def _cmd_warmup(args):
    from .warmup import warmup

    try:
        report = warmup(families=_names(args.families) if args.families else None,
                        dtypes=_names(args.dtypes), verbose=True)
    except ValueError as exc:
        raise CLIError(str(exc)) from None
    print(f"{'family':<8} {'seconds':>8} {'compiled':>9}")
    for family, row in report.items():
        print(f"{family:<8} {row['seconds']:>8.2f} {row['compiled']:>9}")
    return 0


# -- parser -------------------------------------------------------------------


def build_parser():
    """The argparse parser of the ``seqnet`` command."""
    parser = argparse.ArgumentParser(
        prog="seqnet", description="Numba neural networks for sequences, sklearn-style."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("demo", help="run the demo (plots and a summary)")
    p.add_argument("--output-dir", default="seqnet_demo_output",
                   help="where to write plots (default: %(default)s)")
    p.add_argument("--quick", action="store_true", help="smaller data, fewer epochs")
    p.set_defaults(handler=_cmd_demo)

    add_forecast_parser(sub)

    p = sub.add_parser("bench", help="quick timing of the recurrent models "
                       "(full comparisons: benchmarks/)")
    p.add_argument("--samples", type=int, default=256)
    p.add_argument("--timesteps", type=int, default=50)
    p.add_argument("--features", type=int, default=8)
    p.add_argument("--hidden", type=int, default=32)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    p.set_defaults(handler=_cmd_bench)

    p = sub.add_parser(
        "warmup",
        help="compile the kernels into numba's cache (Docker images, CI, Dask workers)",
        description="Fit and predict tiny models of each family so that numba's "
        "on-disk cache holds their kernels: a later fit in a new process loads "
        "machine code instead of compiling it.",
    )
    p.add_argument("--families", default=None,
                   help="comma-separated, of mlp,rnn,lstm,gru,conv,tree (default: all)")
    p.add_argument("--dtypes", default="float32",
                   help="comma-separated, of float32,float64 (default: %(default)s)")
    p.set_defaults(handler=_cmd_warmup)
    return parser


def _check_positive(args):
    for name in ("window", "horizon", "test_size", "season", "epochs", "hidden", "n_models",
                 "batch_size", "samples", "timesteps", "features"):
        v = getattr(args, name, None)
        if v is not None and v < 1:
            raise CLIError(f"--{name.replace('_', '-')} must be >= 1, got {v}")
    coverage = getattr(args, "coverage", None)
    if coverage is not None and not 0 < coverage < 1:
        raise CLIError(f"--coverage must be in (0, 1), got {coverage}")


def main(argv=None):
    """Run the ``seqnet`` command.

    Parameters
    ----------
    argv : list of str or None, default=None
        Arguments without the program name; None reads ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 on a user error (one line on stderr). Malformed
        options make argparse exit with status 2 and its usage message.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        _check_positive(args)
        return args.handler(args)
    except CLIError as exc:
        print(f"seqnet {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
