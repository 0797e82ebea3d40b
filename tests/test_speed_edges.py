"""Edge cases of the fast paths: float32 clipping bounds, rejected refits, CSR
layouts read in place by the prediction kernel, and prediction chunk sizes."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse
from scipy.special import expit
from sklearn import config_context
from sklearn.exceptions import ConvergenceWarning, NotFittedError

import skmlp._prediction
from skmlp import ScratchMLPClassifier


def fit_quietly(estimator, X, y, **fit_params):
    """Fit, ignoring the ConvergenceWarning of short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


@pytest.fixture
def data(rng):
    X = rng.standard_normal((60, 5))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    return X, y


def make_model(seed, **params):
    defaults = {"hidden_layer_sizes": (4,), "max_iter": 2, "random_state": seed}
    return ScratchMLPClassifier(**{**defaults, **params})


@pytest.mark.parametrize("max_grad_norm", [1e25, None])
def test_clipping_float32_overflowing_squares(data, seed, max_grad_norm):
    # Gradients of about 1e29 have sums of squares beyond float32's range. A
    # bound whose square is beyond it too must still clip them, and the
    # recorded norms must be the exact ones that a float64 model measures.
    X, y = data
    params = {
        "batch_size": len(X),
        "shuffle": False,
        "alpha": 0.0,
        "learning_rate": "constant",
        "learning_rate_init": 1e-45,
        "max_grad_norm": max_grad_norm,
    }
    model32 = fit_quietly(make_model(seed, dtype="float32", **params), X * 1e30, y)
    model64 = fit_quietly(make_model(seed, dtype="float64", **params), X * 1e30, y)

    norms32 = np.asarray(model32.history_[0]["grad_norms"])
    norms64 = np.asarray(model64.history_[0]["grad_norms"])
    assert np.all(np.isfinite(norms32))
    np.testing.assert_allclose(norms32, norms64, rtol=1e-5)

    expected_fraction = 0.0 if max_grad_norm is None else 1.0
    assert model32.history_[0]["clip_fraction"] == expected_fraction
    assert model64.history_[0]["clip_fraction"] == expected_fraction


def too_large_for_float32(X, y):
    X_bad = X[:, :3].copy()
    X_bad[0, 0] = 1e39
    return X_bad, y, {}, "too large for float32"


def negative_weights(X, y):
    return X[:, :3], y, {"sample_weight": -np.ones(len(y))}, "negative"


@pytest.mark.parametrize("make_bad_fit", [too_large_for_float32, negative_weights])
@pytest.mark.parametrize("as_frame", [False, True])
def test_refit_rejected_keeps_fitted_model(data, seed, make_bad_fit, as_frame):
    X, y = data
    X_bad, y_bad, fit_params, message = make_bad_fit(X, y)
    if as_frame:
        X = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
        X_bad = pd.DataFrame(X_bad, columns=["a", "b", "c"])
    model = fit_quietly(make_model(seed, dtype="float32"), X, y)
    expected = model.predict_proba(X)

    with pytest.raises(ValueError, match=message):
        model.fit(X_bad, y_bad, **fit_params)

    assert model.n_features_in_ == 5
    if as_frame:
        assert model.feature_names_in_.tolist() == ["x0", "x1", "x2", "x3", "x4"]
    else:
        assert not hasattr(model, "feature_names_in_")
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        np.testing.assert_array_equal(model.predict_proba(X), expected)


@pytest.mark.parametrize("method", ["fit", "partial_fit"])
def test_first_fit_rejected_leaves_model_unfitted(data, seed, method):
    X, y = data
    X_bad = X.copy()
    X_bad[0, 0] = -1e39
    model = make_model(seed, dtype="float32")
    fit_params = {"classes": [0, 1]} if method == "partial_fit" else {}

    with pytest.raises(ValueError, match="too large for float32"):
        getattr(model, method)(X_bad, y, **fit_params)

    assert not hasattr(model, "n_features_in_")
    with pytest.raises(NotFittedError):
        model.predict(X)


def reversed_indices(X):
    """Return ``X`` as CSR with each row's column indices in decreasing order."""
    csr = sparse.csr_matrix(X)
    indices, values = csr.indices.copy(), csr.data.copy()
    for start, stop in zip(csr.indptr[:-1], csr.indptr[1:]):
        indices[start:stop] = indices[start:stop][::-1]
        values[start:stop] = values[start:stop][::-1]
    return sparse.csr_matrix((values, indices, csr.indptr), shape=X.shape)


def halved_duplicates(X):
    """Return ``X`` as CSR where every stored value is two halves at one position."""
    csr = sparse.csr_matrix(X)
    row_lengths = np.diff(csr.indptr)
    indices = np.concatenate(
        [np.tile(csr.indices[a:b], 2) for a, b in zip(csr.indptr, csr.indptr[1:])]
    )
    values = np.concatenate(
        [np.tile(csr.data[a:b] / 2, 2) for a, b in zip(csr.indptr, csr.indptr[1:])]
    )
    indptr = np.concatenate([[0], np.cumsum(2 * row_lengths)])
    return sparse.csr_matrix((values, indices, indptr), shape=X.shape)


def int64_indices_only(X):
    csr = sparse.csr_matrix(X)
    csr.indices = csr.indices.astype(np.int64)
    return csr


def indptr_not_from_zero(X):
    """Return CSR rows 2: of ``X`` whose ``indptr`` starts where row 2 starts."""
    full = sparse.csr_matrix(X)
    csr = sparse.csr_matrix(X[2:].shape)
    csr.data, csr.indices, csr.indptr = full.data, full.indices, full.indptr[2:]
    return csr


@pytest.mark.parametrize(
    "make_csr",
    [reversed_indices, halved_duplicates, int64_indices_only, indptr_not_from_zero],
)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_predict_csr_layouts_match_dense(data, seed, make_csr, dtype):
    # The first layer reads the CSR arrays in place, through scipy's kernel
    # where the index dtypes agree and the public product otherwise.
    X, y = data
    X_csr = make_csr(X)
    X_dense = X_csr.toarray()
    model = fit_quietly(make_model(seed, dtype=dtype, hidden_layer_sizes=(3,)), X, y)
    rtol = 1e-5 if dtype == "float32" else 1e-12

    np.testing.assert_allclose(
        model.predict_proba(X_csr), model.predict_proba(X_dense), rtol=rtol
    )
    with config_context(working_memory=1e-4):
        np.testing.assert_allclose(
            model.predict_proba(X_csr), model.predict_proba(X_dense), rtol=rtol
        )


def test_predict_wide_csr_chunks_by_stored_values(seed, monkeypatch):
    # A CSR row of 2**18 columns with a few stored values is read in place, so
    # it must not count as 2**18 values (2 MiB in float64) toward a chunk.
    n_features = 2**18
    X = sparse.random(
        200, n_features, density=5 / n_features, format="csr", random_state=seed
    )
    y = np.arange(200) % 2
    model = fit_quietly(
        make_model(seed, hidden_layer_sizes=(), batch_size=2, max_iter=1), X[:4], y[:4]
    )

    n_calls = 0
    add_sparse_product = skmlp._prediction.add_sparse_product

    def counting_add_sparse_product(*args):
        nonlocal n_calls
        n_calls += 1
        return add_sparse_product(*args)

    monkeypatch.setattr(
        skmlp._prediction, "add_sparse_product", counting_add_sparse_product
    )
    proba = model.predict_proba(X)

    assert n_calls == 1
    logits = X @ model.coefs_[0][:, 0] + model.intercepts_[0][0]
    np.testing.assert_allclose(proba[:, 1], expit(logits), rtol=1e-12)
