"""Both kernel backends implement the contract of ``seqnet.kernels.contract``:
every kernel it names, with exactly its parameters, and nothing above the
backends reads a backend's private facts."""

import inspect
import pathlib
import re

import pytest

from seqnet.kernels import contract, cpu

BACKENDS = ["cpu", "cuda"]


def _backend(name):
    if name == "cpu":
        return cpu
    pytest.importorskip("numba.cuda")
    from seqnet.kernels import cuda

    return cuda


def _params(fn):
    fn = getattr(fn, "py_func", fn)
    return list(inspect.signature(fn).parameters)


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_implements_every_kernel_of_the_contract(backend):
    module = _backend(backend)
    for name in contract.KERNELS:
        assert hasattr(module, name), f"{backend} lacks {name}"
        assert _params(getattr(module, name)) == contract.parameters(name), name


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_defines_the_contract_attributes(backend):
    module = _backend(backend)
    assert module.NAME == backend
    assert module.ON_DEVICE is (backend != "cpu")
    assert set(contract.BACKEND_ATTRIBUTES) <= set(vars(module))


def test_nothing_above_the_backends_guesses_the_backend():
    """The backend is passed explicitly: no ``getattr(backend, "NAME", ...)``
    default and no ``backend is None`` fallback above the kernels."""
    root = pathlib.Path(contract.__file__).resolve().parents[1]
    pattern = re.compile(r"getattr\(backend, \"NAME\"|backend is None|backend is not None")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "kernels" not in p.parts and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("backend", BACKENDS)
def test_backend_exports_nothing_outside_the_contract(backend):
    module = _backend(backend)
    public = {n for n in vars(module) if not n.startswith("_") and callable(vars(module)[n])}
    extra = {n for n in public - set(contract.KERNELS)
             if inspect.isfunction(getattr(vars(module)[n], "py_func", vars(module)[n]))
             and vars(module)[n].__module__.startswith("seqnet.kernels")}
    assert extra <= {"matmul"}, extra  # the CUDA backend's tiled product, used by its kernels


def test_backend_neutral_facts_come_from_the_contract():
    """Above the backends (network, training, estimators, features) nothing
    imports a backend module's constants; ``backend.py``, which chooses the
    backend and gives it the cores, is the one place that may."""
    root = pathlib.Path(contract.__file__).resolve().parents[1]
    pattern = re.compile(r"from seqnet\.kernels\.(cpu|cuda)\.\w+ import")
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "kernels" not in p.parts and p.name != "backend.py"
                 and pattern.search(p.read_text())]
    assert offenders == []
