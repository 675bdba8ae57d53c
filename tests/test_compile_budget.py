"""What a first fit compiles: only the model's own kernels, in its own dtype.

Each case is a fresh process with an empty numba cache, counting numba's
compile events (``numba:compile``); seconds are measured by
``benchmarks/compile_time.py``, never asserted here.
"""

import json
import os
import subprocess
import sys
import textwrap

import pytest

_SCRIPT = textwrap.dedent("""
    import json, sys
    import numpy as np
    from numba.core import event
    import seqnet

    compiled = []

    class Listener(event.Listener):
        def on_start(self, ev):
            fn = ev.data["dispatcher"].py_func
            compiled.append([fn.__module__ + "." + fn.__qualname__, str(ev.data["args"])])

        def on_end(self, ev):
            pass

    event.register("numba:compile", Listener())
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 5, 2))            # float64 input, as users pass it
    y = (X[:, 0, 0] > 0).astype(int)
    est = getattr(seqnet, sys.argv[1])(hidden_layer_sizes=(4,), max_iter=1, random_state=0)
    est.fit(X, y).predict(X)
    print(json.dumps(compiled))
""")


def _compiled(name, tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", _SCRIPT, name], env=env, capture_output=True,
                         text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("name,other_cells", [
    ("LSTMClassifier", ("gru_step", "gru_grads", "rnn_step", "rnn_grads")),
])
def test_first_fit_compiles_its_own_cell_in_float32_only(name, other_cells, tmp_path):
    compiled = _compiled(name, tmp_path)
    names = [fn for fn, _ in compiled]
    assert any("forward_chunk" in fn for fn in names), names
    for cell_fn in other_cells:
        assert not any(fn.endswith("." + cell_fn) for fn in names), (cell_fn, names)
    # one specialization per kernel: no float64 twin of a float32 kernel
    seqnet_sigs = [sig for fn, sig in compiled if fn.startswith("seqnet.")]
    assert not [sig for sig in seqnet_sigs if "Array(float64" in sig]
    chunks = [sig for fn, sig in compiled if fn.endswith("forward_chunk")]
    assert len(chunks) == 1, chunks  # training and inference share one specialization
    # the second process finds everything in the cache
    assert _compiled(name, tmp_path) == []
