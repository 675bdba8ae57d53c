"""How the CPU kernels' helpers are compiled: as little as a first fit needs.

**Helpers only kernels call** are compiled with :func:`helper`: no CPython
wrapper (the code that unboxes Python arguments) and no C-function wrapper
(for first-class function use) are generated for them, which saves about a
quarter of each helper's compile time; such a helper cannot be called from
Python, only from other ``@njit`` code.

**Helpers of one kernel** are not compiled on their own at all
(:func:`inlined`): a separately compiled helper is optimised and turned
into machine code once for itself and then again inside every caller
(numba links the callee's IR into the caller's module and optimises the
whole), so a helper with a single caller pays twice.  The recurrent cells'
step functions are inlined into their cell's chunk kernels this way, except
the LSTM's gradient loops, which run faster compiled on their own
(``recurrent_cells``).

**One specialization per dtype.**  numba compiles a function once per distinct argument types, and a C-contiguous
block and a strided view of the same dtype are distinct types, as are a
literal ``0`` and an ``int64``.  A helper called both ways compiles twice
(``benchmarks/compile_time.py`` counts the specializations).  Helpers that
take blocks of every layout are therefore one ``@njit`` core that kernels
call with :func:`any_layout` views of their operands:
:func:`seqnet.kernels.cpu.blas.gemm_core`,
:func:`seqnet.kernels.cpu.recurrent_chunks.copy_block_core`.  (The inlined
``@overload`` entry :func:`seqnet.kernels.cpu.blas.gemm`, kept for the tree
kernels, is typed and compiled again for every call signature.)  Call sites
pass integer offsets as ``np.int64(0)`` rather than a literal ``0`` for the
same reason.
"""

from numba import njit, types
from numba.core import event, sigutils
from numba.core.ccallback import CFunc
from numba.core.imputils import impl_ret_borrowed
from numba.extending import intrinsic


def helper(**options):
    """``@njit(cache=True, **options)`` for a function that only other
    ``@njit`` code calls: without the CPython and C-function wrappers."""
    return njit(cache=True, no_cpython_wrapper=True, no_cfunc_wrapper=True, **options)


def inlined():
    """``@njit(inline="always")``: a helper of one kernel, whose code numba
    types and lowers inside that kernel (numba IR inlining) instead of
    compiling it on its own first.  It runs under the kernel's
    ``fastmath`` and ``error_model`` flags."""
    return njit(inline="always")


@intrinsic
def any_layout(typingctx, a):
    """``a`` itself (no copy), typed as an any-layout ('A') array."""
    if not isinstance(a, types.Array):
        return None
    any_type = a.copy(layout="A")

    def codegen(context, builder, signature, args):
        return impl_ret_borrowed(context, builder, any_type, args[0])

    return any_type(a), codegen


class _ReportedCFunc(CFunc):
    """A ``@cfunc`` whose compilation (not a load from the cache) fires
    numba's ``"numba:compile"`` event, as a dispatcher's does."""

    @property
    def py_func(self):  # what listeners read of a dispatcher
        return self._pyfunc

    def _compile_uncached(self):
        data = {"dispatcher": self, "args": self._sig.args, "return_type": self._sig.return_type}
        with event.trigger_event("numba:compile", data=data):
            return super()._compile_uncached()


def chunk_kernel(signature, **options):
    """``@cfunc(signature, cache=True, **options)``, compiled now (or loaded
    from the cache), its compilation reported to numba's compile listeners:
    seqnet's compile notices and ``benchmarks/compile_time.py`` see it.  For
    the chunk kernels that the chunk threads call through their address
    (:mod:`seqnet.kernels.cpu.chunk_threads`)."""
    def wrapper(pyfunc):
        kernel = _ReportedCFunc(pyfunc, sigutils.normalize_signature(signature), locals={},
                                options=options)
        kernel.enable_caching()
        kernel.compile()
        return kernel

    return wrapper
