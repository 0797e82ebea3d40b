"""The ``dtype`` parameter: a float32 model trained and used on float64 data."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

import skmlp._training
from skmlp import ScratchMLPClassifier, make_adult_pipeline
from skmlp._training import MiniBatchTrainer


def fit_quietly(estimator, X, y):
    """Fit, ignoring the ConvergenceWarning of short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize(
    "make_input", [np.asarray, sparse.csr_matrix], ids=["dense", "csr"]
)
def test_float32_model_from_float64_data(make_input, seed):
    X, y = make_blobs(n_samples=80, centers=3, random_state=seed)
    params = {"hidden_layer_sizes": (16,), "max_iter": 20, "random_state": seed}
    model64 = fit_quietly(ScratchMLPClassifier(**params), make_input(X), y)
    model32 = fit_quietly(
        ScratchMLPClassifier(dtype="float32", **params), make_input(X), y
    )
    # The same fit with the data cast beforehand, which dtype=None follows.
    cast32 = fit_quietly(
        ScratchMLPClassifier(**params), make_input(X.astype(np.float32)), y
    )

    assert all(W.dtype == np.float32 for W in model32.coefs_ + model32.intercepts_)
    assert model32.predict_proba(X).dtype == np.float32
    for W, W_cast in zip(model32.coefs_, cast32.coefs_, strict=True):
        np.testing.assert_array_equal(W, W_cast)
    np.testing.assert_allclose(
        model32.predict_proba(X), model64.predict_proba(X), atol=1e-5
    )


@pytest.mark.parametrize("scratch_rows", [1, 7, 64])
def test_float32_conversion_scratch_sizes(seed, scratch_rows, monkeypatch):
    # 80 rows in chunks of 16 batches of 5 rows, converted through a scratch of
    # 1, 7 or 64 rows of 2 float64 values: one, several or a partial piece.
    monkeypatch.setattr(skmlp._training, "CONVERSION_BYTES", scratch_rows * 2 * 8)
    X, y = make_blobs(n_samples=80, centers=3, random_state=seed)
    params = {"hidden_layer_sizes": (6,), "batch_size": 5, "max_iter": 3}
    model32 = ScratchMLPClassifier(dtype="float32", random_state=seed, **params)
    cast32 = ScratchMLPClassifier(random_state=seed, **params)

    fit_quietly(model32, X, y)
    fit_quietly(cast32, X.astype(np.float32), y)

    for W, W_cast in zip(model32.coefs_, cast32.coefs_, strict=True):
        np.testing.assert_array_equal(W, W_cast)


def test_float64_model_from_float32_data(seed):
    X, y = make_blobs(n_samples=40, centers=2, random_state=seed)
    X32 = X.astype(np.float32)
    model = fit_quietly(
        ScratchMLPClassifier((4,), max_iter=2, dtype="float64", random_state=seed),
        X32,
        y,
    )
    reference = fit_quietly(
        ScratchMLPClassifier((4,), max_iter=2, random_state=seed),
        X32.astype(np.float64),
        y,
    )

    assert model.coefs_[0].dtype == np.float64
    for W, W_ref in zip(model.coefs_, reference.coefs_, strict=True):
        np.testing.assert_array_equal(W, W_ref)


def test_partial_fit_keeps_model_dtype(seed):
    X, y = make_blobs(n_samples=40, centers=2, random_state=seed)
    model = ScratchMLPClassifier((4,), dtype="float32", random_state=seed)
    model.partial_fit(X, y, classes=[0, 1])
    model.partial_fit(X.astype(np.float32), y)

    assert model.coefs_[0].dtype == np.float32
    assert model.n_iter_ == 2


def test_invalid_dtype_rejected():
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    model = ScratchMLPClassifier(dtype="float16")

    with pytest.raises(ValueError, match="'dtype' parameter"):
        model.fit(X, y)


def test_float32_fit_keeps_float64_data_uncopied(seed, monkeypatch):
    # The trainer receives the caller's float64 array itself and converts
    # rows one chunk at a time.
    X, y = make_blobs(n_samples=64, centers=2, random_state=seed)
    X = np.ascontiguousarray(X)
    received = []
    original = MiniBatchTrainer.run_epoch

    def run_epoch(self, X_epoch, *args, **kwargs):
        received.append(X_epoch)
        return original(self, X_epoch, *args, **kwargs)

    monkeypatch.setattr(MiniBatchTrainer, "run_epoch", run_epoch)
    fit_quietly(
        ScratchMLPClassifier((4,), max_iter=2, dtype="float32", random_state=seed),
        X,
        y,
    )

    assert len(received) == 2
    assert all(np.shares_memory(X_epoch, X) for X_epoch in received)


def test_adult_pipeline_computes_in_float32():
    assert make_adult_pipeline().named_steps["classifier"].dtype == "float32"
    assert make_adult_pipeline(dtype=None).named_steps["classifier"].dtype is None
