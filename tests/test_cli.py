"""Tests for the ``seqnet`` command line (seqnet.cli)."""

import csv
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest

from seqnet.cli import guess_period, main, metrics, read_series
from seqnet.datasets import load_lynx

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

REPO = Path(__file__).resolve().parents[1]


def _neural_model():
    """'lstm' when seqnet's estimators are importable, else the Ridge baseline."""
    try:
        from seqnet import LSTMRegressor  # noqa: F401
    except ImportError:
        return ["--model", "ridge"]
    return ["--model", "lstm", "--epochs", "2", "--hidden", "4"]


@pytest.fixture
def series_csv(tmp_path):
    t = np.arange(80)
    y = 10 + np.sin(2 * np.pi * t / 8) + 0.01 * t
    path = tmp_path / "data.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "y", "other"])
        for i, v in enumerate(y):
            w.writerow([f"2000-01-{i:02d}", f"{v:.6f}", "x"])
    return path


def _read(path):
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_forecast_in_process(series_csv, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main(["forecast", str(series_csv), "--column", "y", "--window", "16", "--horizon", "6",
               "--test-size", "8", "--output-dir", str(out), *_neural_model()])
    assert rc == 0
    text = capsys.readouterr().out
    for word in ("MAE", "RMSE", "MAPE", "seasonal naive (m=8)"):
        assert word in text
    rows = _read(out / "forecast.csv")
    assert rows[0] == ["step", "index", "forecast", "lower", "upper"] and len(rows) == 7
    assert np.isfinite([float(r[2]) for r in rows[1:]]).all()
    rows = _read(out / "holdout.csv")
    assert rows[0] == ["index", "actual", "forecast", "lower", "upper", "seasonal_naive"]
    assert len(rows) == 9
    assert (out / "forecast_y_lstm.png").stat().st_size > 1000 or \
        (out / "forecast_y_ridge.png").stat().st_size > 1000


def test_forecast_shipped_series_direct_ridge(tmp_path, capsys):
    out = tmp_path / "o"
    rc = main(["forecast", "--model", "ridge", "--strategy", "direct", "--difference", "1",
               "--log", "--no-plot", "--output-dir", str(out)])
    assert rc == 0
    assert "lynx" in capsys.readouterr().out
    assert (out / "forecast.csv").exists() and not list(out.glob("*.png"))


def test_forecast_subprocess(series_csv, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")])
    env["MPLBACKEND"] = "Agg"
    out = tmp_path / "sub"
    proc = subprocess.run(
        [sys.executable, "-m", "seqnet.cli", "forecast", str(series_csv), "--column", "1",
         "--window", "8", "--horizon", "4", "--model", "ridge", "--no-plot",
         "--output-dir", str(out)],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "MAE" in proc.stdout and (out / "forecast.csv").exists()
    # a user error through the real entry point: one line, status 2
    proc = subprocess.run(
        [sys.executable, "-m", "seqnet.cli", "forecast", str(tmp_path / "missing.csv")],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


def _write(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize(
    "content, args, message",
    [
        (None, [], "cannot read"),
        ("a,b\n1,2\n3,4\n", ["--column", "zz"], "column 'zz' not found"),
        ("a,b\n1,2\n3,oops\n", [], "non-numeric value 'oops'"),
        ("a,b\n1,2\n3,\n", [], "non-numeric value '<empty>'"),
        ("a,b\n1,2\n3,nan\n", [], "non-numeric value 'nan'"),
        ("y\n" + "1\n" * 12, ["--window", "8"], "needs at least"),
        ("", [], "is empty"),
        ("y\n", [], "no data rows"),
    ],
)
def test_bad_csv_exit_code_2(tmp_path, capsys, content, args, message):
    path = str(tmp_path / "missing.csv") if content is None else _write(tmp_path, content)
    rc = main(["forecast", path, "--model", "ridge", "--output-dir", str(tmp_path / "o"), *args])
    assert rc == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert message in err and "Traceback" not in err


@pytest.fixture
def monthly_csv(tmp_path):
    """A positive monthly series whose season grows with its level, with dates."""
    t = np.arange(120)
    y = (100 + 2 * t) * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    months = np.arange("2010-01", "2020-01", dtype="datetime64[M]").astype("datetime64[D]")
    path = tmp_path / "monthly.csv"
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "sales"])
        w.writerows([[str(d), f"{v:.3f}"] for d, v in zip(months, y)])
    return path


def test_forecast_monthly_csv_with_dates(monthly_csv, tmp_path, capsys):
    out = tmp_path / "m"
    rc = main(["forecast", str(monthly_csv), "--window", "24", "--horizon", "12",
               "--output-dir", str(out), *_neural_model()])
    assert rc == 0
    text = capsys.readouterr().out
    assert "seasonal period 12 (from the monthly dates)" in text
    assert "seasonal naive (m=12)" in text and "transform=log" in text
    rows = _read(out / "forecast.csv")
    assert rows[0] == ["step", "date", "forecast", "lower", "upper"]
    assert [r[1] for r in rows[1:]] == [f"2020-{m:02d}-01" for m in range(1, 13)]
    values = np.array([[float(v) for v in r[2:]] for r in rows[1:]])
    forecast, lower, upper = values.T
    assert np.all(lower <= forecast) and np.all(forecast <= upper)
    assert np.all(lower > 0)  # a positive series is never forecast negative
    rows = _read(out / "holdout.csv")
    assert rows[0][0] == "date" and rows[1][0] == "2019-01-01"
    assert list(out.glob("forecast_sales_*.png"))


def test_forecast_season_override_and_lynx_in_years(tmp_path, capsys):
    out = tmp_path / "l"
    assert main(["forecast", "--model", "ridge", "--season", "9", "--no-plot",
                 "--output-dir", str(out)]) == 0
    text = capsys.readouterr().out
    assert "seasonal period 9 (from the --season)" in text
    rows = _read(out / "forecast.csv")
    assert rows[1][1] == "1935" and rows[-1][1] == "1944"
    assert all(float(v) > 0 for r in rows[1:] for v in r[2:])


def test_forecast_errors_say_what_to_change(tmp_path, capsys):
    path = _write(tmp_path, "y\n" + "1\n" * 25)
    assert main(["forecast", path, "--model", "ridge", "--window", "20"]) == 2
    err = capsys.readouterr().err
    assert "needs at least 32" in err and "use --window 13 or less" in err
    path = _write(tmp_path, "date;y\n2000-01-01;1,5\n2000-02-01;2,5\n", "semi.csv")
    assert main(["forecast", path, "--model", "ridge"]) == 2
    err = capsys.readouterr().err
    assert "delimiter ';' found" in err and "decimal mark" in err


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    import seqnet

    assert capsys.readouterr().out.strip() == f"seqnet {seqnet.__version__}"


def test_bad_option_values(capsys):
    assert main(["forecast", "--window", "0"]) == 2
    assert "--window must be >= 1" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:  # argparse's own usage errors
        main(["forecast", "--model", "transformer"])
    assert exc.value.code == 2


def test_read_series_headerless_and_index(tmp_path):
    path = _write(tmp_path, "1,10\n2,20\n3,30\n", "plain.csv")
    values, name = read_series(path)
    np.testing.assert_array_equal(values, [10, 20, 30])
    assert name == "column 1"
    values, _ = read_series(path, "0")
    np.testing.assert_array_equal(values, [1, 2, 3])


def test_helpers():
    assert guess_period(load_lynx()) in (9, 10)
    assert guess_period(np.ones(20)) == 1
    m = metrics([1.0, 2.0], [2.0, 2.0])
    assert m["MAE"] == 0.5 and m["RMSE"] == pytest.approx(np.sqrt(0.5)) and m["MAPE"] == 50.0
    assert np.isnan(metrics([0.0, 1.0], [1.0, 1.0])["MAPE"])


def test_demo_calls_run_demo(monkeypatch, tmp_path):
    calls = {}
    fake = types.ModuleType("seqnet.demo")
    fake.run_demo = lambda output_dir, quick: calls.update(output_dir=output_dir, quick=quick)
    monkeypatch.setitem(sys.modules, "seqnet.demo", fake)
    import seqnet

    monkeypatch.setattr(seqnet, "demo", fake, raising=False)
    assert main(["demo", "--output-dir", str(tmp_path), "--quick"]) == 0
    assert calls == {"output_dir": str(tmp_path), "quick": True}


def test_bench_quick(capsys):
    rc = main(["bench", "--samples", "8", "--timesteps", "4", "--features", "2",
               "--hidden", "4", "--batch-size", "4", "--epochs", "1"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "LSTMRegressor" in out and "benchmarks/" in out
