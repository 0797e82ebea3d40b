"""Multilabel indicator targets: one sigmoid output per label."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier


@pytest.fixture
def multilabel_data(rng):
    """Three labels, each a linear function of two features."""
    X = rng.normal(size=(80, 2))
    Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 1] > 0]).astype(int)
    return X, Y


def fit_multilabel(X, Y, seed, **params):
    settings = {
        "hidden_layer_sizes": (8,),
        "solver": "adam",
        "learning_rate_init": 0.05,
        "batch_size": 16,
        "max_iter": 60,
        "random_state": seed,
    }
    settings.update(params)
    clf = ScratchMLPClassifier(**settings)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return clf.fit(X, Y)


def test_multilabel_output_shapes(multilabel_data, seed):
    X, Y = multilabel_data
    clf = fit_multilabel(X, Y, seed, max_iter=2)

    predicted = clf.predict(X)
    proba = clf.predict_proba(X)

    assert predicted.shape == (80, 3)
    assert set(np.unique(predicted)) <= {0, 1}
    assert proba.shape == (80, 3)
    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_outputs_ == 3
    assert clf.out_activation_ == "logistic"


def test_multilabel_predict_matches_proba(multilabel_data, seed):
    X, Y = multilabel_data
    clf = fit_multilabel(X, Y, seed, max_iter=5)

    proba = clf.predict_proba(X)

    np.testing.assert_array_equal(clf.predict(X), (proba > 0.5).astype(int))
    np.testing.assert_allclose(
        clf.predict_log_proba(X), np.log(proba), rtol=1e-12, atol=1e-15
    )
    # Labels are independent, so the rows need not sum to 1.
    assert not np.allclose(proba.sum(axis=1), 1.0)


def test_multilabel_learns(multilabel_data, seed):
    X, Y = multilabel_data
    clf = fit_multilabel(X, Y, seed)

    # score is the subset accuracy: all three labels right.
    assert clf.score(X, Y) > 0.9
    assert np.mean(clf.predict(X) == Y) > 0.95


def test_multilabel_early_stopping(multilabel_data, seed):
    X, Y = multilabel_data
    clf = fit_multilabel(X, Y, seed, early_stopping=True, validation_fraction=0.25)

    assert len(clf.validation_scores_) == clf.n_iter_
    assert 0.0 <= clf.best_validation_score_ <= 1.0


def test_multilabel_class_weight_rejected(multilabel_data):
    X, Y = multilabel_data
    clf = ScratchMLPClassifier(class_weight={0: 1.0, 1: 2.0})

    with pytest.raises(
        ValueError, match="class_weight is not supported for multilabel"
    ):
        clf.fit(X, Y)


def test_multilabel_partial_fit_label_count(multilabel_data, seed):
    X, Y = multilabel_data
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,), random_state=seed).partial_fit(
        X, Y
    )

    with pytest.raises(
        ValueError, match="y has 2 label columns, but the model was fitted with 3"
    ):
        clf.partial_fit(X, Y[:, :2])
