"""``import seqnet`` and ``seqnet --help`` stay light (no timing asserted here:
the measured times are in benchmarks/RESULTS.md, "Import time")."""

import json

from tests.fresh_process import run_fresh

_HEAVY = ["matplotlib", "tqdm", "numba.cuda", "seqnet.forecasting", "seqnet.kernels.cuda",
          "seqnet.demo", "seqnet.plotting", "seqnet.tuning", "seqnet.datasets", "dask"]

_LOADED = """
import json, sys
{code}
print(json.dumps(sorted(m for m in {names!r} if m in sys.modules)))
"""


def _loaded_after(code, names):
    out = run_fresh(_LOADED.format(code=code, names=names))
    return json.loads(out.strip().splitlines()[-1])


def test_import_seqnet_loads_nothing_heavy():
    assert _loaded_after("import seqnet", _HEAVY + ["numba", "sklearn", "numpy"]) == []


def test_estimators_load_nothing_optional():
    code = "import seqnet\nfrom seqnet import MLPClassifier, LSTMClassifier, ConvClassifier"
    assert _loaded_after(code, _HEAVY) == []


def test_cli_help_builds_the_parser_only():
    code = ("from seqnet.cli import build_parser\n"
            "try:\n    build_parser().parse_args(['--help'])\nexcept SystemExit:\n    pass")
    assert _loaded_after(code, _HEAVY + ["numba", "sklearn", "numpy", "scipy"]) == []


def test_lazy_names_are_the_estimators():
    import seqnet
    from seqnet.estimators import LSTMClassifier

    assert seqnet.LSTMClassifier is LSTMClassifier
    assert set(seqnet.__all__) <= set(dir(seqnet))
    assert callable(seqnet.warmup)
