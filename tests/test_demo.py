"""``seqnet demo --quick`` end to end: stages announced, the table, the plot files."""

import pytest

pytest.importorskip("matplotlib")

from seqnet.demo import run_demo  # noqa: E402


def test_quick_demo_tells_the_story(tmp_path, capsys):
    rows = run_demo(output_dir=tmp_path, quick=True)
    out = capsys.readouterr().out
    # every stage announces itself before its fits, and in this order
    stages = ["[1/3] Time-series classification: GunPoint", "[2/3] Forecasting: Canadian lynx",
              "[3/3] Small images: digits"]
    positions = [out.index(s) for s in stages]
    assert positions == sorted(positions)
    assert out.index("fitting ...") > positions[0]
    assert "sklearn MLP" in out and "seasonal naive" in out
    tasks = [r[0] for r in rows]
    assert tasks[0].startswith("GunPoint") and tasks[1].startswith("lynx")
    for task, model, score, secs, base, base_score, base_secs, metric in rows:
        assert secs > 0
        if metric == "accuracy":
            assert 0.0 <= score[0] <= 1.0 and 0.0 <= base_score[0] <= 1.0
    # the sequence model earns its place on the time-series task
    assert rows[0][2][0] > rows[0][5][0]
    names = {p.name for p in tmp_path.glob("*.png")}
    assert names == {"lynx_forecast_lstm_vs_seasonal_naive.png",
                     "loss_curve_gunpoint_conv1d.png", "loss_curve_digits_conv2d.png"}
    assert all(p.stat().st_size > 1000 for p in tmp_path.glob("*.png"))


def test_compile_footer_only_when_something_compiled(tmp_path, capsys):
    run_demo(output_dir=tmp_path, quick=True)  # the second run in this process: all compiled
    out = capsys.readouterr().out
    assert "compiled" not in out.split("=" * 96)[-1]
    assert "compiling kernels" not in out


def test_gunpoint_shipped():
    from seqnet.datasets import load_gunpoint

    X_tr, X_te, y_tr, y_te = load_gunpoint()
    assert X_tr.shape == (50, 150) and X_te.shape == (150, 150)
    assert set(y_tr) == set(y_te) == {"1", "2"}
    X, y = load_gunpoint(split="test")
    assert (X == X_te).all() and (y == y_te).all()
    with pytest.raises(ValueError, match="split"):
        load_gunpoint(split="validation")
