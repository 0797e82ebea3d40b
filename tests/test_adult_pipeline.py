"""The Adult pipeline with scikit-learn's model-selection tools and joblib."""

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_val_score

from skmlp import ScratchMLPClassifier, make_adult_pipeline
from skmlp.datasets import load_adult

# Rows of adult.data used here: enough for every class in every fold, few
# enough to keep each fit under a second.
N_ROWS = 3000


@pytest.fixture(scope="module")
def adult_sample():
    X, y = load_adult(subset="train", return_X_y=True)
    rows = np.random.RandomState(0).choice(len(X), size=N_ROWS, replace=False)
    return X.iloc[rows], y.iloc[rows]


@pytest.fixture(scope="module")
def fitted_pipeline(adult_sample):
    X, y = adult_sample
    return make_adult_pipeline(max_iter=5, random_state=0).fit(X, y)


def test_grid_search_parallel_adult(adult_sample):
    X, y = adult_sample
    grid = {
        "classifier__hidden_layer_sizes": [(16,), (32, 16)],
        "classifier__learning_rate_init": [0.01, 0.05],
    }
    cv = StratifiedKFold(n_splits=3, shuffle=True, random_state=0)
    pipeline = make_adult_pipeline(max_iter=3, random_state=0)

    parallel = GridSearchCV(pipeline, grid, cv=cv, n_jobs=2).fit(X, y)
    serial = GridSearchCV(pipeline, grid, cv=cv, n_jobs=1).fit(X, y)

    assert len(parallel.cv_results_["params"]) == 4
    np.testing.assert_array_equal(
        parallel.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert parallel.best_params_ == serial.best_params_
    # Predicting the majority class scores about 0.76; a trained model beats it.
    assert parallel.best_score_ > 0.80
    assert isinstance(parallel.best_estimator_[-1], ScratchMLPClassifier)


def test_cross_val_score_five_folds(adult_sample):
    X, y = adult_sample

    pipeline = make_adult_pipeline(max_iter=10, random_state=0)

    scores = cross_val_score(pipeline, X, y, cv=5)

    assert scores.shape == (5,)
    assert np.all(np.isfinite(scores))
    # Predicting the majority class scores about 0.76.
    assert scores.mean() > 0.80


def test_clone_fitted_pipeline(fitted_pipeline, adult_sample):
    X, y = adult_sample

    cloned = clone(fitted_pipeline)

    assert not hasattr(cloned[-1], "coefs_")
    assert cloned[-1].get_params() == fitted_pipeline[-1].get_params()
    refitted = cloned.fit(X, y)
    np.testing.assert_array_equal(
        refitted.predict_proba(X), fitted_pipeline.predict_proba(X)
    )


def test_joblib_round_trip(fitted_pipeline, adult_sample, tmp_path):
    X, _ = adult_sample
    path = tmp_path / "adult.joblib"

    joblib.dump(fitted_pipeline, path)
    loaded = joblib.load(path)

    np.testing.assert_array_equal(
        loaded.predict_proba(X), fitted_pipeline.predict_proba(X)
    )
    np.testing.assert_array_equal(loaded.predict(X), fitted_pipeline.predict(X))
    assert loaded[-1].classes_.tolist() == ["<=50K", ">50K"]
