"""Every ```python block of README.md runs (each in a fresh namespace).

The blocks run in this process, in a temporary working directory (they may
write files), with matplotlib's non-interactive Agg backend.  Each block should
take well under 10 s once numba's cache is warm; that is checked by eye with
``pytest --durations=0``, not asserted, because a timed test fails on a busy
machine or after a kernel edit invalidates the cache (DESIGN.md section 6).
"""

import re
import warnings
from pathlib import Path

import pytest

README = Path(__file__).resolve().parents[1] / "README.md"
_BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def _blocks():
    text = README.read_text(encoding="utf-8")
    out = []
    for match in _BLOCK.finditer(text):
        line = text.count("\n", 0, match.start()) + 1
        out.append(pytest.param(match.group(1), id=f"README.md:{line}"))
    return out


def test_readme_starts_with_setup_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "```bash"
    assert lines[1].startswith("python3 -m pip install") and "seqnet demo" in lines[1]
    assert lines[2].startswith("python3 -m pip install") and "pytest" in lines[2]
    assert lines[3] == "```"


def test_readme_has_python_examples():
    assert len(_blocks()) >= 5


@pytest.mark.parametrize("code", _blocks())
def test_readme_block_runs(code, tmp_path, monkeypatch):
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        if "matplotlib" in code or "seqnet.plotting" in code:
            pytest.skip("matplotlib is not installed")
    if "import dask" in code or "from dask" in code:
        pytest.importorskip("dask.distributed")
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__readme__"}
    with warnings.catch_warnings():
        # examples use small epoch budgets on purpose
        warnings.simplefilter("ignore")
        exec(compile(code, str(README), "exec"), namespace)  # noqa: S102
    try:
        import matplotlib.pyplot as plt

        plt.close("all")
    except ImportError:
        pass
