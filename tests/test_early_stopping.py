"""Early stopping: the stratified split, the stopping rule and the restored weights."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split

from skmlp import ScratchMLPClassifier


@pytest.fixture
def split_spy(monkeypatch):
    """Record the arrays that each validation split returns."""
    splits = []

    def recording_split(*arrays, **options):
        result = train_test_split(*arrays, **options)
        splits.append(result)
        return result

    monkeypatch.setattr("skmlp._mlp.train_test_split", recording_split)
    return splits


def noisy_problem(rng, n_samples=120):
    """Two features, a linear boundary and 20% flipped labels."""
    X = rng.normal(size=(n_samples, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(int)
    flipped = rng.random(n_samples) < 0.2
    y[flipped] = 1 - y[flipped]
    return X, y


def test_early_stopping_restores_best_weights(rng, seed, split_spy):
    X, y = noisy_problem(rng)
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(16,),
        early_stopping=True,
        validation_fraction=0.3,
        n_iter_no_change=5,
        learning_rate_init=0.3,
        batch_size=8,
        max_iter=200,
        random_state=seed,
    )
    clf.fit(X, y)

    assert len(split_spy) == 1
    X_val, y_val = split_spy[0][1], split_spy[0][7]
    # The last epoch scored below the best, so only restored weights pass.
    assert clf.validation_scores_[-1] < clf.best_validation_score_
    assert clf.score(X_val, y_val) == clf.best_validation_score_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert len(clf.validation_scores_) == clf.n_iter_


def test_early_stopping_stops_before_max_iter(rng, seed):
    X = np.vstack([rng.normal(-3, 0.5, size=(30, 2)), rng.normal(3, 0.5, size=(30, 2))])
    y = np.repeat([0, 1], 30)
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(4,),
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.1,
        max_iter=200,
        random_state=seed,
    )

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(X, y)

    # A perfect score cannot improve by tol, so training stops after
    # n_iter_no_change + 1 epochs without progress.
    assert clf.best_validation_score_ == 1.0
    assert clf.n_iter_ < 20
    assert clf.best_loss_ is None


def test_early_stopping_split_stratified(rng, seed, split_spy):
    X = rng.normal(size=(80, 3))
    y = np.repeat([0, 1, 2], [60, 12, 8])
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(3,),
        early_stopping=True,
        validation_fraction=0.25,
        max_iter=2,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    y_train, y_val = split_spy[0][6], split_spy[0][7]
    np.testing.assert_array_equal(np.bincount(y_val), [15, 3, 2])
    np.testing.assert_array_equal(np.bincount(y_train), [45, 9, 6])
    assert clf.t_ == 2 * 60


def test_early_stopping_max_iter_warning(rng, seed):
    X, y = noisy_problem(rng, n_samples=40)
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(3,), early_stopping=True, max_iter=2, random_state=seed
    )

    with pytest.warns(ConvergenceWarning, match="max_iter=2.*validation score"):
        clf.fit(X, y)
    assert clf.n_iter_ == 2


def test_early_stopping_too_few_rows(rng):
    X = rng.normal(size=(6, 2))
    y = np.array([0, 0, 0, 0, 0, 1])
    clf = ScratchMLPClassifier(early_stopping=True)

    with pytest.raises(
        ValueError, match="needs at least one row on both sides of the split"
    ):
        clf.fit(X, y)


def test_early_stopping_off_attributes(rng, seed):
    X, y = noisy_problem(rng, n_samples=40)
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,), max_iter=3, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    assert clf.validation_scores_ is None
    assert clf.best_validation_score_ is None
    assert clf.best_loss_ == min(clf.loss_curve_)


def test_early_stopping_ignored_by_partial_fit(rng, seed, split_spy):
    X, y = noisy_problem(rng, n_samples=40)
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(3,), early_stopping=True, random_state=seed
    )

    clf.partial_fit(X, y, classes=[0, 1])

    assert split_spy == []
    assert clf.t_ == 40
