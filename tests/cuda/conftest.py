"""CUDA backend tests: run in their own process, e.g.

    NUMBA_ENABLE_CUDASIM=1 python3 -m pytest tests/cuda -q -p no:cacheprovider

(the simulator runs every CUDA thread in Python, so sizes are tiny), or on a
machine with a GPU: ``SEQNET_TEST_CUDA=1 python3 -m pytest tests/cuda``.
Skipped unless the simulator is on or a GPU is available.

``test_ptx.py`` is the exception: it compiles every kernel for real GPUs and
runs WITHOUT the simulator, in a process of its own:

    python3 -m pytest tests/cuda/test_ptx.py -p no:cacheprovider

Under the simulator every kernel launch is recorded (kernel name and argument
types); the session fails when a launch has a signature missing from
``launch_signatures.json``, the list that test_ptx.py compiles.  After adding
a kernel or changing what a kernel is launched with, rewrite it from a run of
the WHOLE directory (the file becomes exactly the signatures that run saw)

    SEQNET_RECORD_SIGNATURES=1 NUMBA_ENABLE_CUDASIM=1 python3 -m pytest tests/cuda -p no:cacheprovider
"""

import json
import os
from pathlib import Path

import numpy as np
import pytest

SIGNATURES = Path(__file__).with_name("launch_signatures.json")
_SEEN = {}  # kernel name -> set of signatures (tuples of argument type strings)


def _simulated():
    return os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"


def _enabled():
    if _simulated():
        return True
    from seqnet._runtime.backend import cuda_available

    return cuda_available()


def _is_ptx_test(item):
    return os.path.basename(str(item.fspath)) == "test_ptx.py"


def pytest_collection_modifyitems(config, items):
    if _enabled():
        return
    skip = pytest.mark.skip(reason="needs NUMBA_ENABLE_CUDASIM=1 or a CUDA GPU")
    for item in items:
        if "tests/cuda" in str(item.fspath).replace(os.sep, "/") and not _is_ptx_test(item):
            item.add_marker(skip)


# ------------------------------------------------------------ launch recording
def arg_type(a):
    """Numba's type of a kernel argument, as a string (what ``typeof`` gives on a GPU)."""
    if hasattr(a, "dtype") and getattr(a, "ndim", 0) > 0:
        if hasattr(a, "is_c_contiguous"):
            c, f = a.is_c_contiguous(), a.is_f_contiguous()
        else:
            c, f = a.flags.c_contiguous, a.flags.f_contiguous
        layout = "C" if c else ("F" if f else "A")
        return f"array({np.dtype(a.dtype).name}, {a.ndim}d, {layout})"
    if isinstance(a, (bool, np.bool_)):
        return "boolean"
    if isinstance(a, (np.integer, np.floating)):
        return np.dtype(type(a)).name
    if isinstance(a, int):
        return "int64"
    if isinstance(a, float):
        return "float64"
    raise TypeError(f"unrecorded kernel argument type {type(a)}")


def _install_recorder():
    from numba.cuda.simulator import kernel as simkernel

    from seqnet.kernels.cuda import registry

    fake = simkernel.FakeCUDAKernel
    if getattr(fake, "_seqnet_recording", False):
        return
    launch = fake.__call__

    def recording_call(self, *args):
        if not (self._device or simkernel._kernel_context):
            name = registry.name_of(self)
            if name is not None:
                _SEEN.setdefault(name, set()).add(tuple(arg_type(a) for a in args))
        return launch(self, *args)

    fake.__call__ = recording_call
    fake._seqnet_recording = True


if _simulated():  # at import: also when only a file of tests/cuda is run
    _install_recorder()


def load_signatures():
    """``{kernel name: [signature, ...]}`` from launch_signatures.json."""
    if not SIGNATURES.exists():
        return {}
    return {k: [tuple(s) for s in v] for k, v in json.loads(SIGNATURES.read_text()).items()}


def pytest_sessionfinish(session, exitstatus):
    if not _SEEN:
        return
    known = load_signatures()
    if os.environ.get("SEQNET_RECORD_SIGNATURES") == "1":
        # exactly what this run launched: record with the whole of tests/cuda
        SIGNATURES.write_text(json.dumps(
            {k: sorted(list(s) for s in _SEEN[k]) for k in sorted(_SEEN)}, indent=1) + "\n")
        return
    missing = [(k, s) for k, sigs in sorted(_SEEN.items()) for s in sorted(sigs)
               if s not in set(known.get(k, ()))]
    if missing:
        lines = "\n".join(f"  {k}{s}" for k, s in missing)
        msg = (f"\n{len(missing)} kernel launch signature(s) missing from {SIGNATURES.name}"
               f" (test_ptx.py would not compile them):\n{lines}\nrecord them with "
               "SEQNET_RECORD_SIGNATURES=1 (see tests/cuda/conftest.py)\n")
        session.config.get_terminal_writer().line(msg, red=True)
        if session.exitstatus == 0:
            session.exitstatus = 1
