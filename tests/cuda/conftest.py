"""CUDA backend tests: run in their own process, e.g.

    NUMBA_ENABLE_CUDASIM=1 python3 -m pytest tests/cuda -q -p no:cacheprovider

(the simulator runs every CUDA thread in Python, so sizes are tiny), or on a
machine with a GPU: ``SEQNET_TEST_CUDA=1 python3 -m pytest tests/cuda``.
Skipped unless the simulator is on or a GPU is available.
"""

import os

import pytest


def _enabled():
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        return True
    from seqnet.backend import cuda_available

    return cuda_available()


def pytest_collection_modifyitems(config, items):
    if _enabled():
        return
    skip = pytest.mark.skip(reason="needs NUMBA_ENABLE_CUDASIM=1 or a CUDA GPU")
    for item in items:
        if "tests/cuda" in str(item.fspath).replace(os.sep, "/"):
            item.add_marker(skip)
