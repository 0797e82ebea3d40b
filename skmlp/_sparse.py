"""Products and dense copies of rows of a CSR matrix, into arrays the caller owns.

scipy's ``X @ W`` allocates its result, and ``X[rows]`` copies the rows into a
new matrix at a cost of tens of microseconds per call. Prediction needs the
product chunk after chunk, and training needs dense copies of shuffled rows
chunk after chunk, into arrays they reuse. scipy's compiled kernels do each
step on arrays that the caller passes: ``csr_matvecs`` adds ``X @ W`` into an
array, ``csr_row_index`` copies the index and value arrays of chosen rows, and
``csr_todense`` adds CSR rows into a dense array. They live in the private
module ``scipy.sparse._sparsetools``, so they are used only after they have
reproduced the public operations on a small matrix, and only for operands of
the types they take. Otherwise the public operations serve.
"""

import functools

import numpy as np
from scipy import sparse

from ._casting import cast

try:
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
    from scipy.sparse._sparsetools import csr_row_index as _csr_row_index
    from scipy.sparse._sparsetools import csr_todense as _csr_todense
except ImportError:  # pragma: no cover - depends on the scipy version
    _csr_matvecs = _csr_row_index = _csr_todense = None


def add_sparse_product(X, rows, weights, out):
    """Add ``X[rows] @ weights`` into ``out``.

    Parameters
    ----------
    X : CSR matrix of shape (n_samples, n_in)
        Its values are converted to the dtype of ``out`` for these rows only,
        with :func:`skmlp._casting.cast`.
    rows : slice
        Consecutive rows of ``X``, with ``step`` None.
    weights : ndarray of shape (n_in, n_out)
    out : ndarray of shape (rows.stop - rows.start, n_out)
        C-contiguous, of the dtype of ``weights``; ``X[rows] @ weights`` is
        added to it.
    """
    indptr, indices, data = _row_arrays(X, rows)
    data = cast(data, out.dtype)

    if _kernel_applies(indptr, indices, data, weights, out) and _kernels_match_scipy():
        _run_kernel(indptr, indices, data, X.shape[1], weights, out)
    else:
        out += (
            sparse.csr_matrix((data, indices, indptr), (len(indptr) - 1, X.shape[1]))
            @ weights
        )


def _kernel_applies(indptr, indices, data, weights, out):
    return (
        _csr_matvecs is not None
        and indptr.dtype == indices.dtype
        and data.dtype == weights.dtype == out.dtype
        and weights.flags.c_contiguous
        and out.flags.c_contiguous
    )


def _run_kernel(indptr, indices, data, n_columns, weights, out):
    _csr_matvecs(
        len(indptr) - 1,
        n_columns,
        weights.shape[1],
        indptr,
        indices,
        data,
        weights.ravel(),
        out.ravel(),
    )


def densify_rows(X, rows, out):
    """Write ``X[rows]`` as dense rows into the first ``X.shape[1]`` columns of ``out``.

    Parameters
    ----------
    X : CSR matrix of shape (n_samples, n_in)
        Its values are converted to the dtype of ``out``.
    rows : slice or ndarray of int
        Consecutive rows of ``X``, with ``step`` None, or row indices.
    out : ndarray of shape (n_rows, n_columns)
        C-contiguous, with ``n_columns >= n_in``. The columns after the first
        ``n_in`` are left as they are.
    """
    n_in = X.shape[1]
    if _densify_applies(X, out) and _kernels_match_scipy():
        indptr, indices, data = _row_arrays(X, rows)
        out[:, :n_in] = 0
        _run_densify(indptr, indices, data.astype(out.dtype, copy=False), out)
    else:
        block = X[rows]
        out[:, :n_in] = block.toarray()


def _densify_applies(X, out):
    return (
        _csr_row_index is not None
        and _csr_todense is not None
        and X.indptr.dtype == X.indices.dtype
        and out.flags.c_contiguous
    )


def _row_arrays(X, rows):
    """Return ``(indptr, indices, data)`` of ``X[rows]``, as views where they can be."""
    if isinstance(rows, slice):
        first, last = X.indptr[rows.start], X.indptr[rows.stop]
        indptr = X.indptr[rows.start : rows.stop + 1] - first
        return indptr, X.indices[first:last], X.data[first:last]

    rows = rows.astype(X.indptr.dtype, copy=False)
    starts = X.indptr[rows]
    indptr = np.empty(len(rows) + 1, dtype=X.indptr.dtype)
    indptr[0] = 0
    np.cumsum(X.indptr[rows + 1] - starts, out=indptr[1:])
    indices = np.empty(indptr[-1], dtype=X.indices.dtype)
    data = np.empty(indptr[-1], dtype=X.data.dtype)
    _csr_row_index(len(rows), rows, X.indptr, X.indices, X.data, indices, data)
    return indptr, indices, data


def _run_densify(indptr, indices, data, out):
    # csr_todense adds row i at offset i * out.shape[1] of the flat array.
    _csr_todense(len(indptr) - 1, out.shape[1], indptr, indices, data, out.ravel())


@functools.cache
def _kernels_match_scipy():
    """Return True if the private kernels reproduce scipy's public operations."""
    rng = np.random.default_rng(0)
    X = sparse.random(6, 5, density=0.5, format="csr", random_state=rng)
    weights = rng.standard_normal((5, 3))
    product = np.ones((4, 3))
    rows = np.array([4, 0, 4, 2])
    dense = np.full((4, 7), 2.0)
    try:
        _run_kernel(*_row_arrays(X, slice(1, 5)), 5, weights, product)
        dense[:, :5] = 0
        _run_densify(*_row_arrays(X, rows), dense)
    except (TypeError, ValueError):
        return False

    expected_dense = np.full((4, 7), 2.0)
    expected_dense[:, :5] = X[rows].toarray()
    return bool(
        np.allclose(product, 1 + X[1:5] @ weights, rtol=1e-12, atol=1e-12)
        and np.array_equal(dense, expected_dense)
    )
