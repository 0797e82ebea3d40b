"""The flat parameter layout, the folded biases and the chunked forward pass."""

import numpy as np
import pytest
from scipy import sparse

import skmlp._prediction
import skmlp._sparse
from skmlp._network import ActivationBuffers, ParameterLayout, forward_pass
from skmlp._prediction import predict_logits
from skmlp._sparse import add_sparse_product, densify_rows
from skmlp._threads import single_blas_thread, threadpool_controller


def test_layout_blocks_hold_weights_then_bias():
    layout = ParameterLayout((3, 4, 2))
    flat = np.arange(layout.size, dtype=np.float64)
    coefs, intercepts = layout.views(flat)
    blocks = layout.blocks(flat)

    # Layer 0 is rows 0-2 weights and row 3 bias, 4 columns: offsets 0 to 15.
    assert layout.size == (3 + 1) * 4 + (4 + 1) * 2
    np.testing.assert_array_equal(coefs[0], np.arange(12).reshape(3, 4))
    np.testing.assert_array_equal(intercepts[0], [12, 13, 14, 15])
    np.testing.assert_array_equal(coefs[1], np.arange(16, 24).reshape(4, 2))
    np.testing.assert_array_equal(intercepts[1], [24, 25])
    np.testing.assert_array_equal(blocks[1], np.arange(16, 26).reshape(5, 2))
    np.testing.assert_array_equal(layout.segment_starts, [0, 12, 16, 24])
    np.testing.assert_array_equal(layout.segment_order, [0, 2, 1, 3])
    np.testing.assert_array_equal(
        np.flatnonzero(~layout.weight_mask), [12, 13, 14, 15, 24, 25]
    )
    assert all(np.shares_memory(view, flat) for view in coefs + intercepts + blocks)


def test_layout_pack_round_trip(rng):
    layout = ParameterLayout((5, 3, 3, 1))
    coefs = [rng.normal(size=shape) for shape in layout.weight_shapes]
    intercepts = [rng.normal(size=n_out) for _, n_out in layout.weight_shapes]

    packed_coefs, packed_intercepts = layout.views(
        layout.pack(coefs, intercepts, np.float64)
    )

    for packed, original in zip(
        packed_coefs + packed_intercepts, coefs + intercepts, strict=True
    ):
        np.testing.assert_array_equal(packed, original)


@pytest.mark.parametrize("bias_column", [True, False])
@pytest.mark.parametrize("activation", ["relu", "tanh", "logistic", "identity"])
def test_forward_pass_matches_formula(rng, activation, bias_column):
    layout = ParameterLayout((6, 5, 4, 2))
    flat = rng.normal(size=layout.size)
    coefs, intercepts = layout.views(flat)
    X = rng.normal(size=(7, 6))
    functions = {
        "relu": lambda Z: np.maximum(Z, 0),
        "tanh": np.tanh,
        "logistic": lambda Z: 1 / (1 + np.exp(-Z)),
        "identity": lambda Z: Z,
    }

    expected = X
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        expected = functions[activation](expected @ W + b)
    expected = expected @ coefs[-1] + intercepts[-1]

    # The input as run_epoch gathers it, with its column of ones, and as
    # prediction passes it, without.
    X_in = np.hstack([X, np.ones((7, 1))]) if bias_column else X
    buffers = ActivationBuffers(7, (5, 4), np.float64, bias_column=bias_column)
    logits = np.empty((7, 2))
    forward_pass(X_in, layout.blocks(flat), activation, buffers, logits)

    np.testing.assert_allclose(logits, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_predict_logits_sparse_dense_and_chunks_agree(rng, dtype, monkeypatch):
    layout = ParameterLayout((30, 8, 4, 3))
    coefs, intercepts = layout.views(rng.normal(size=layout.size).astype(dtype))
    X = sparse.random(500, 30, density=0.2, format="csr", random_state=0)
    expected = np.maximum(X.toarray() @ coefs[0] + intercepts[0], 0)
    expected = np.maximum(expected @ coefs[1] + intercepts[1], 0)
    expected = expected @ coefs[2] + intercepts[2]

    whole = predict_logits(X, coefs, intercepts, "relu")
    dense = predict_logits(X.toarray(), coefs, intercepts, "relu")
    # 17 rows per chunk in float64 and 34 in float32; the last chunk is short.
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 17 * 43 * 8)
    chunked = predict_logits(X, coefs, intercepts, "relu")

    tolerance = 1e-5 if dtype == np.float32 else 1e-12
    assert whole.dtype == dtype
    np.testing.assert_allclose(whole, expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_allclose(dense, expected, rtol=tolerance, atol=tolerance)
    np.testing.assert_array_equal(chunked, whole)


@pytest.mark.parametrize("kernel", ["scipy_kernel", "public_product"])
def test_add_sparse_product(rng, kernel, monkeypatch):
    if kernel == "public_product":
        monkeypatch.setattr(skmlp._sparse, "_csr_matvecs", None)
    X = sparse.random(40, 9, density=0.3, format="csr", random_state=1)
    weights = rng.normal(size=(9, 5))
    out = np.full((15, 5), 2.0)

    add_sparse_product(X, slice(20, 35), weights, out)

    np.testing.assert_allclose(
        out, 2.0 + X.toarray()[20:35] @ weights, rtol=1e-12, atol=1e-12
    )


def test_add_sparse_product_converts_values(rng):
    X = sparse.random(10, 4, density=0.5, format="csr", random_state=2)
    weights = rng.normal(size=(4, 3)).astype(np.float32)
    out = np.zeros((10, 3), dtype=np.float32)

    add_sparse_product(X, slice(0, 10), weights, out)

    expected = X.toarray().astype(np.float32) @ weights
    np.testing.assert_allclose(out, expected, rtol=1e-6)
    assert X.dtype == np.float64


def unsorted_csr_with_duplicates(rng, index_dtype):
    """Return a 40 x 9 CSR matrix whose rows repeat and reverse column indices."""
    dense = sparse.random(40, 9, density=0.3, random_state=1).toarray()
    indptr, indices, data = [0], [], []
    for row in dense:
        columns = np.flatnonzero(row)[::-1]
        # Each value is stored as two entries that add up to it.
        indices += [column for column in columns for _ in range(2)]
        data += [part for value in row[columns] for part in (value / 4, value * 3 / 4)]
        indptr.append(len(indices))
    X = sparse.csr_matrix(
        (
            np.asarray(data),
            np.asarray(indices, dtype=index_dtype),
            np.asarray(indptr, dtype=index_dtype),
        ),
        shape=(40, 9),
    )
    return X, dense


@pytest.mark.parametrize("kernel", ["scipy_kernels", "public_indexing"])
@pytest.mark.parametrize("index_dtype", [np.int32, np.int64])
@pytest.mark.parametrize(
    "rows",
    [slice(3, 11), np.array([7, 0, 7, 39, 12], dtype=np.int32)],
    ids=["slice", "indices"],
)
def test_densify_rows(rng, kernel, index_dtype, rows, monkeypatch):
    if kernel == "public_indexing":
        monkeypatch.setattr(skmlp._sparse, "_csr_row_index", None)
    X, dense = unsorted_csr_with_duplicates(rng, index_dtype)
    n_rows = len(dense[rows])
    out = np.full((n_rows, 11), 5.0, dtype=np.float32)

    densify_rows(X, rows, out)

    np.testing.assert_allclose(out[:, :9], dense[rows], rtol=1e-6, atol=1e-7)
    np.testing.assert_array_equal(out[:, 9:], 5.0)
    assert X.dtype == np.float64


def test_densify_rows_without_matching_kernels(rng, monkeypatch):
    monkeypatch.setattr(skmlp._sparse, "_kernels_match_scipy", lambda: False)
    monkeypatch.setattr(skmlp._sparse, "_run_densify", None)
    X, dense = unsorted_csr_with_duplicates(rng, np.int32)
    out = np.ones((3, 10))

    densify_rows(X, np.array([5, 1, 5]), out)

    np.testing.assert_allclose(out[:, :9], dense[[5, 1, 5]], rtol=1e-12)
    np.testing.assert_array_equal(out[:, 9], 1.0)


def test_private_kernels_pass_self_test():
    assert skmlp._sparse._kernels_match_scipy()


def blas_limits():
    return [
        pool["num_threads"]
        for pool in threadpool_controller().info()
        if pool["user_api"] == "blas"
    ]


def test_single_blas_thread_restores_after_the_last_context():
    # Contexts of overlapping fits share one limit: the inner one leaving must
    # not restore the setting while the outer one still runs.
    before = blas_limits()

    with single_blas_thread():
        with single_blas_thread():
            assert all(limit == 1 for limit in blas_limits())
        assert all(limit == 1 for limit in blas_limits())

    assert blas_limits() == before
