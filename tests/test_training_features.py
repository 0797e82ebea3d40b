"""Training as a whole: reproducibility, stopping, warm starts and divergence."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, cross_val_score, cross_validate

from skmlp import ScratchMLPClassifier
from skmlp.exceptions import DivergenceError


@pytest.fixture
def data(rng):
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] - X[:, 2] + 0.3 * rng.normal(size=60) > 0).astype(int)
    return X, y


def fit_quietly(clf, X, y, **fit_params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, y, **fit_params)


def parameters(clf):
    return clf.coefs_ + clf.intercepts_


def assert_bitwise_equal(first, second):
    for a, b in zip(parameters(first), parameters(second)):
        assert a.dtype == b.dtype
        assert a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_fit_reproducible(data, seed, dtype, solver):
    X, y = data
    X = X.astype(dtype)

    def fit():
        clf = ScratchMLPClassifier(
            (5, 3),
            solver=solver,
            batch_size=8,
            max_iter=4,
            momentum=0.5,
            random_state=seed,
        )
        return fit_quietly(clf, X, y)

    first, second = fit(), fit()

    assert first.coefs_[0].dtype == dtype
    assert_bitwise_equal(first, second)
    assert first.loss_curve_ == second.loss_curve_


def test_fit_early_stopping_reproducible(data, seed):
    X, y = data

    def fit():
        clf = ScratchMLPClassifier(
            (5,), early_stopping=True, max_iter=5, random_state=seed
        )
        return fit_quietly(clf, X, y)

    first, second = fit(), fit()

    assert_bitwise_equal(first, second)
    assert first.validation_scores_ == second.validation_scores_


def test_fit_sparse_equals_dense(data, seed):
    X, y = data
    X[np.abs(X) < 0.5] = 0.0

    def fit(features):
        clf = ScratchMLPClassifier(
            (5,), batch_size=8, max_iter=3, alpha=0.01, random_state=seed
        )
        return fit_quietly(clf, features, y)

    dense, csr = fit(X), fit(sparse.csr_matrix(X))

    for a, b in zip(parameters(dense), parameters(csr)):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


def test_fit_random_state_matters(data):
    X, y = data
    first = fit_quietly(ScratchMLPClassifier((5,), max_iter=2, random_state=0), X, y)
    second = fit_quietly(ScratchMLPClassifier((5,), max_iter=2, random_state=1), X, y)

    assert not np.array_equal(first.coefs_[0], second.coefs_[0])


def test_cross_validation_parallel_reproducible(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((5,), batch_size=8, max_iter=3, random_state=seed)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = cross_validate(clf, X, y, cv=3, n_jobs=1, return_estimator=True)
        parallel = cross_validate(clf, X, y, cv=3, n_jobs=2, return_estimator=True)
        serial_scores = cross_val_score(clf, X, y, cv=3, n_jobs=1)
        parallel_scores = cross_val_score(clf, X, y, cv=3, n_jobs=2)

    np.testing.assert_array_equal(serial["test_score"], parallel["test_score"])
    np.testing.assert_array_equal(serial_scores, parallel_scores)
    for serial_estimator, parallel_estimator in zip(
        serial["estimator"], parallel["estimator"]
    ):
        assert_bitwise_equal(serial_estimator, parallel_estimator)


def test_grid_search_parallel_reproducible(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((5,), batch_size=8, max_iter=3, random_state=seed)
    grid = {"alpha": [0.0, 0.1], "learning_rate_init": [0.01, 0.1]}

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = GridSearchCV(clf, grid, cv=2, n_jobs=1).fit(X, y)
        parallel = GridSearchCV(clf, grid, cv=2, n_jobs=2).fit(X, y)

    for key in ("split0_test_score", "split1_test_score", "mean_test_score"):
        np.testing.assert_array_equal(
            serial.cv_results_[key], parallel.cv_results_[key]
        )
    assert serial.best_params_ == parallel.best_params_
    assert_bitwise_equal(serial.best_estimator_, parallel.best_estimator_)


def test_fit_stops_on_tol(data, seed):
    # With tol=10 no epoch after the first counts as progress, so training
    # stops once n_iter_no_change + 1 epochs in a row made none.
    X, y = data
    clf = ScratchMLPClassifier(
        (4,), tol=10.0, n_iter_no_change=3, max_iter=100, random_state=seed
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)

    assert clf.n_iter_ == 5
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_fit_max_iter_warning(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((4,), tol=0.0, max_iter=3, random_state=seed)

    with pytest.warns(
        ConvergenceWarning, match="did not converge within max_iter=3 epochs"
    ):
        clf.fit(X, y)

    assert clf.n_iter_ == 3


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_warm_start_continues(data, seed, solver):
    # Two warm-started fits of 3 epochs equal one fit of 6: the weights, the
    # optimizer state, the schedule and the shuffling all carry over.
    X, y = data
    params = {"solver": solver, "momentum": 0.9, "batch_size": 16, "random_state": seed}
    warm = ScratchMLPClassifier((5,), warm_start=True, max_iter=3, **params)
    fit_quietly(warm, X, y)
    fit_quietly(warm, X, y)
    once = fit_quietly(ScratchMLPClassifier((5,), max_iter=6, **params), X, y)

    assert warm.n_iter_ == 6
    assert warm.t_ == 6 * 60
    assert_bitwise_equal(warm, once)
    assert warm.loss_curve_ == once.loss_curve_


def test_warm_start_off_restarts(data, seed):
    X, y = data
    clf = ScratchMLPClassifier((5,), max_iter=3, random_state=seed)
    first = [W.copy() for W in parameters(fit_quietly(clf, X, y))]
    fit_quietly(clf, X, y)

    assert clf.n_iter_ == 3
    for before, after in zip(first, parameters(clf)):
        assert before.tobytes() == after.tobytes()


def test_warm_start_new_layers_rejected(data, seed):
    X, y = data
    clf = fit_quietly(
        ScratchMLPClassifier((5,), warm_start=True, max_iter=2, random_state=seed), X, y
    )
    clf.set_params(hidden_layer_sizes=(6,))

    with pytest.raises(
        ValueError,
        match=r"hidden_layer_sizes=\(6,\) differs from the fitted layers \(5,\)",
    ):
        clf.fit(X, y)


def test_warm_start_new_class_rejected(data, seed):
    X, y = data
    clf = fit_quietly(
        ScratchMLPClassifier((5,), warm_start=True, max_iter=2, random_state=seed), X, y
    )

    with pytest.raises(
        ValueError, match=r"labels not in classes_: \[2\].*set warm_start=False"
    ):
        clf.fit(X, np.where(y == 1, 2, y))


@pytest.fixture
def divergent_blobs(rng):
    """Two Gaussian blobs scaled up by 1e4."""
    X = 1e4 * np.vstack(
        [rng.normal(-1.0, 1.0, size=(20, 2)), rng.normal(1.0, 1.0, size=(20, 2))]
    )
    y = np.repeat([0, 1], 20)
    return X, y


def test_divergence_error(divergent_blobs, seed):
    # Plain SGD at this rate makes the loss grow by many orders of magnitude
    # per epoch until it overflows. Adam's steps are bounded by the rate, so
    # Adam does not overflow here.
    X, y = divergent_blobs
    clf = ScratchMLPClassifier(
        (8,), learning_rate_init=1e3, max_grad_norm=None, max_iter=50, random_state=seed
    )

    with pytest.raises(DivergenceError, match=r"epoch \d+") as error:
        clf.fit(X, y)

    message = str(error.value)
    assert "learning_rate_init" in message
    assert "max_grad_norm" in message
    assert error.value.epoch == clf.n_iter_ + 1
    assert isinstance(error.value, ValueError)
    for values in parameters(clf):
        assert np.all(np.isfinite(values))

    proba = clf.predict_proba(X)
    assert proba.shape == (40, 2)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_divergence_avoided_by_clipping(divergent_blobs, seed):
    X, y = divergent_blobs
    clf = ScratchMLPClassifier(
        (8,), learning_rate_init=1e-3, max_grad_norm=1.0, max_iter=5, random_state=seed
    )

    fit_quietly(clf, X, y)

    assert all(np.isfinite(loss) for loss in clf.loss_curve_)
    assert clf.history_[0]["clip_fraction"] > 0.0
