"""The product of rows of a CSR matrix with a dense matrix, added into an array.

scipy's ``X @ W`` allocates its result, and ``X[rows]`` copies the rows into a
new matrix at a cost of tens of microseconds per call. Prediction needs the
product chunk after chunk, into arrays it reuses. scipy's compiled kernel for
that product, ``csr_matvecs``, adds ``X @ W`` into an array that the caller
passes and reads the rows' index arrays in place, but it lives in the private
module ``scipy.sparse._sparsetools``. It is used only after it has reproduced
the public product on a small matrix, and only for operands of the types it
takes. Otherwise the public product serves.
"""

import functools

import numpy as np
from scipy import sparse

from ._casting import cast

try:
    from scipy.sparse._sparsetools import csr_matvecs as _csr_matvecs
except ImportError:  # pragma: no cover - depends on the scipy version
    _csr_matvecs = None


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
    first, last = X.indptr[rows.start], X.indptr[rows.stop]
    indptr = X.indptr[rows.start : rows.stop + 1] - first
    indices = X.indices[first:last]
    data = cast(X.data[first:last], out.dtype)

    if _kernel_applies(indptr, indices, data, weights, out) and _kernel_matches_scipy():
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


@functools.cache
def _kernel_matches_scipy():
    """Return True if the private kernel reproduces ``X[rows] @ W`` on a small case."""
    rng = np.random.default_rng(0)
    X = sparse.random(4, 5, density=0.5, format="csr", random_state=rng)
    weights = rng.standard_normal((5, 3))
    out = np.ones((4, 3))
    try:
        _run_kernel(X.indptr, X.indices, X.data, 5, weights, out)
    except (TypeError, ValueError):
        return False
    return bool(np.allclose(out, 1 + X @ weights, rtol=1e-12, atol=1e-12))
