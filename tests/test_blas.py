"""seqnet.kernels.cpu.blas.gemm (strided BLAS products from @njit code) against NumPy."""

import numpy as np
import pytest
from numba import njit

from seqnet.kernels.cpu.blas import aligned_copy, aligned_empty, column_blocks, gemm


@njit(cache=True)
def _jit_gemm(a, b, out, trans_a, trans_b, accumulate):
    gemm(a, b, out, trans_a, trans_b, accumulate)


@njit(cache=True)
def _jit_aligned_empty(rows, cols, like):
    return aligned_empty(rows, cols, like)


@njit(cache=True)
def _jit_gemm_into_columns(a, b, big, col):
    """Product into a column block of a larger array (a strided output)."""
    gemm(a, b, big[:, col:col + b.shape[1]], False, False, True)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("accumulate", [False, True])
def test_gemm_matches_numpy(dtype, trans_a, trans_b, accumulate):
    rng = np.random.default_rng(0)
    A, Bm = rng.normal(size=(5, 7)).astype(dtype), rng.normal(size=(7, 4)).astype(dtype)
    a = np.ascontiguousarray(A.T) if trans_a else A
    # operands as column slices of wider arrays: rows strided, elements adjacent
    wide = np.zeros(((Bm.T.shape if trans_b else Bm.shape)[0], 20), dtype=dtype)
    b = wide[:, 3:3 + (7 if trans_b else 4)]
    b[...] = Bm.T if trans_b else Bm
    out = rng.normal(size=(5, 4)).astype(dtype)
    expected = A @ Bm + (out if accumulate else 0)
    _jit_gemm(a, b, out, trans_a, trans_b, accumulate)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out, expected, rtol=rtol, atol=rtol)


def test_gemm_writes_only_its_column_block():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 6)), rng.normal(size=(6, 2))
    big = rng.normal(size=(3, 10))
    before = big.copy()
    _jit_gemm_into_columns(a, b, big, 4)
    np.testing.assert_allclose(big[:, 4:6], before[:, 4:6] + a @ b, rtol=1e-12)
    np.testing.assert_array_equal(np.delete(big, [4, 5], axis=1), np.delete(before, [4, 5], axis=1))


def test_gemm_empty_inner_dimension_gives_zeros():
    out = np.ones((2, 3))
    _jit_gemm(np.zeros((2, 0)), np.zeros((0, 3)), out, False, False, False)
    np.testing.assert_array_equal(out, 0.0)


def test_gemm_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="shapes"):
        _jit_gemm(np.zeros((2, 3)), np.zeros((4, 2)), np.zeros((2, 2)), False, False, False)


def test_gemm_python_fallback_matches():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 3)), rng.normal(size=(4, 5))
    out = np.zeros((3, 5))
    gemm(a, b, out, trans_a=True)
    np.testing.assert_allclose(out, a.T @ b)


@pytest.mark.parametrize("rows,inner,cols,expect", [
    (32, 64, 256, 256), (64, 64, 256, 128), (128, 64, 256, 64), (32, 256, 1024, 64),
    (73, 256, 1600, 32), (32, 64, 488, 488),
    (64, 256, 1024, 32), (128, 256, 1024, 1024), (3, 4, 16, 16), (0, 4, 16, 16), (4, 4, 0, 1)])
def test_piece_width(rows, inner, cols, expect):
    """Pieces stay within SMALL_PRODUCT_MACS and are never narrower than
    MIN_PIECE; a product that fits, or whose narrowest piece would not, is one piece."""
    from seqnet.kernels.cpu.blas import MIN_PIECE, SMALL_PRODUCT_MACS, piece_width

    width = piece_width(rows, inner, cols)
    assert width == expect
    if width < cols:
        assert MIN_PIECE <= width and rows * inner * width <= SMALL_PRODUCT_MACS


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (64, 256)])
def test_aligned_empty(dtype, shape):
    from seqnet.kernels.cpu.blas import ALIGNMENT

    for _ in range(5):  # several allocations, whatever malloc hands out
        a = _jit_aligned_empty(shape[0], shape[1], np.zeros(1, dtype))
        assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous
        assert a.ctypes.data % ALIGNMENT == 0
    assert aligned_empty(2, 3, np.zeros(1, dtype)).ctypes.data % ALIGNMENT == 0


@njit(cache=True)
def _jit_aligned_copy(m):
    return aligned_copy(m)


def test_aligned_copy_of_a_transposed_view():
    from seqnet.kernels.cpu.blas import ALIGNMENT

    w = np.arange(12, dtype=np.float32).reshape(3, 4)
    for copy in (_jit_aligned_copy(w.T), aligned_copy(w.T)):
        np.testing.assert_array_equal(copy, w.T)
        assert copy.flags.c_contiguous and copy.ctypes.data % ALIGNMENT == 0


@njit(cache=True)
def _jit_column_blocks(m, width):
    return column_blocks(m, width)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cols, width", [(128, 32), (100, 32), (40, 40), (7, 64)])
def test_column_blocks(dtype, cols, width):
    """Every block is C-contiguous, on a cache line, and holds its columns of
    ``m`` (zeros past the last column); products through the blocks equal the
    product with ``m``."""
    from seqnet.kernels.cpu.blas import ALIGNMENT

    rng = np.random.default_rng(0)
    w = rng.normal(size=(cols, 24)).astype(dtype)
    for blocks in (_jit_column_blocks(w.T, width), column_blocks(w.T, width)):
        assert blocks.shape == (-(-cols // width), 24, width)
        for k in range(blocks.shape[0]):
            c, e = k * width, min((k + 1) * width, cols)
            np.testing.assert_array_equal(blocks[k, :, :e - c], w.T[:, c:e])
            assert not blocks[k, :, e - c:].any()
            assert blocks[k].flags.c_contiguous and blocks[k].ctypes.data % ALIGNMENT == 0
        h = rng.normal(size=(5, 24)).astype(dtype)
        out = np.zeros((5, cols), dtype=dtype)
        for k in range(blocks.shape[0]):
            c, e = k * width, min((k + 1) * width, cols)
            gemm(h, blocks[k, :, :e - c], out[:, c:e])
        np.testing.assert_allclose(out, h @ w.T, rtol=1e-5 if dtype == np.float32 else 1e-12)
