"""``seqnet demo --quick`` end to end: the table and non-empty plot files."""

import pytest

pytest.importorskip("matplotlib")

from seqnet.demo import run_demo  # noqa: E402


def test_quick_demo_writes_plots(tmp_path, capsys):
    rows = run_demo(output_dir=tmp_path, quick=True)
    out = capsys.readouterr().out
    assert "sklearn MLP acc" in out and "lynx forecast" in out
    assert len(rows) >= 2  # digits LSTM and conv; GunPoint too when aeon is installed
    for name, model, acc, secs, sk_acc, sk_secs in rows:
        assert 0.0 <= acc <= 1.0 and secs > 0
    pngs = sorted(tmp_path.glob("*.png"))
    names = {p.name for p in pngs}
    assert "lynx_forecast.png" in names
    assert {f"loss_curve_{i}.png" for i in range(len(rows))} <= names
    assert all(p.stat().st_size > 1000 for p in pngs)
