"""Predictions of one fitted model from many threads at once."""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier

N_THREADS = 8
N_ROUNDS = 3
# scikit-learn's configuration is per thread, so each task sets it itself. At
# 1 MiB, a chunk has room for 2**20 // (8 * (10 + 32 + 16 + 1)) = 2221 float64 rows.
WORKING_MEMORY_MIB = 1


@pytest.fixture
def fitted(seed):
    X, y = make_blobs(n_samples=60, n_features=10, centers=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return ScratchMLPClassifier((32, 16), max_iter=3, random_state=seed).fit(X, y)


@pytest.mark.parametrize(
    "make_input", [np.asarray, sparse.csr_matrix], ids=["dense", "csr"]
)
@pytest.mark.parametrize("method", ["predict", "predict_proba", "predict_log_proba"])
def test_predict_threads_match_serial(fitted, make_input, method, rng):
    # Each input spans 3 to 5 chunks, and every thread gets a different one.
    inputs = [
        make_input(rng.standard_normal((rng.integers(5000, 10000), 10)))
        for _ in range(N_THREADS)
    ]

    def predict(X):
        with config_context(working_memory=WORKING_MEMORY_MIB):
            return getattr(fitted, method)(X)

    serial = [predict(X) for X in inputs]
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        for _ in range(N_ROUNDS):
            concurrent = list(pool.map(predict, inputs))
            for got, expected in zip(concurrent, serial, strict=True):
                np.testing.assert_array_equal(got, expected)
