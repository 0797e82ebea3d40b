"""Edge cases of the Adult pipeline under cross-validation."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import StratifiedKFold, cross_val_score

from skmlp import make_adult_pipeline
from skmlp.datasets import load_adult

RARE_COUNTRY = "Holand-Netherlands"


@pytest.fixture(scope="module")
def adult_with_rare_row():
    """600 random rows of adult.data plus its single Holand-Netherlands row."""
    X, y = load_adult(subset="train", return_X_y=True)
    rare = np.flatnonzero(X["native-country"] == RARE_COUNTRY)
    others = np.random.default_rng(0).choice(len(X), size=600, replace=False)
    rows = np.union1d(rare, others)
    return X.iloc[rows].reset_index(drop=True), y.iloc[rows].reset_index(drop=True)


def test_rare_category_present_once(adult_with_rare_row):
    X, _ = adult_with_rare_row

    assert np.count_nonzero(X["native-country"] == RARE_COUNTRY) == 1


def test_rare_category_cross_val_finite(adult_with_rare_row):
    X, y = adult_with_rare_row

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        scores = cross_val_score(
            make_adult_pipeline(max_iter=2, random_state=0),
            X,
            y,
            cv=5,
            error_score="raise",
        )

    assert scores.shape == (5,)
    assert np.all(np.isfinite(scores))
    assert np.all((scores > 0) & (scores <= 1))


def test_rare_category_unseen_in_fit(adult_with_rare_row):
    # The fold that tests the rare row never saw its category in fit.
    X, y = adult_with_rare_row
    rare = np.flatnonzero(X["native-country"] == RARE_COUNTRY)[0]
    train, test = next(
        (train, test) for train, test in StratifiedKFold(5).split(X, y) if rare in test
    )
    pipeline = make_adult_pipeline(max_iter=2, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(X.iloc[train], y.iloc[train])
    proba = pipeline.predict_proba(X.iloc[[rare]])

    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    assert pipeline.predict(X.iloc[[rare]])[0] in set(y)
