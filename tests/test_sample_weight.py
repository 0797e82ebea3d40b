"""``sample_weight`` and ``class_weight``, alone and routed through scikit-learn."""

import warnings

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import ScratchMLPClassifier

N_SAMPLES = 16


@pytest.fixture
def data(rng):
    X = rng.normal(size=(N_SAMPLES, 3))
    y = np.array([0, 1] * 8)
    y[:3] = 2
    return X, y


def full_batch_classifier(seed, **params):
    """A classifier whose every epoch is one full-batch step in row order."""
    settings = {
        "hidden_layer_sizes": (4,),
        "batch_size": 1000,
        "shuffle": False,
        "alpha": 0.05,
        "max_iter": 5,
        "learning_rate_init": 0.2,
        "random_state": seed,
    }
    settings.update(params)
    return ScratchMLPClassifier(**settings)


def fit_quietly(estimator, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(*args, **kwargs)


def assert_same_coefs(first, second, **tolerance):
    for a, b in zip(
        first.coefs_ + first.intercepts_, second.coefs_ + second.intercepts_
    ):
        np.testing.assert_allclose(a, b, **tolerance)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_integer_weights_equal_repeated_rows(data, seed, solver):
    X, y = data
    weights = np.tile([1, 2, 3, 1], 4)
    repeated = np.repeat(np.arange(N_SAMPLES), weights)

    weighted = fit_quietly(
        full_batch_classifier(seed, solver=solver), X, y, sample_weight=weights
    )
    copied = fit_quietly(
        full_batch_classifier(seed, solver=solver), X[repeated], y[repeated]
    )

    assert_same_coefs(weighted, copied, rtol=0, atol=1e-10)
    np.testing.assert_allclose(weighted.loss_curve_, copied.loss_curve_, rtol=1e-12)


def test_zero_weights_equal_removed_rows(data, seed):
    X, y = data
    weights = np.ones(N_SAMPLES)
    weights[[3, 4, 9]] = 0.0
    kept = weights > 0

    weighted = fit_quietly(full_batch_classifier(seed), X, y, sample_weight=weights)
    removed = fit_quietly(full_batch_classifier(seed), X[kept], y[kept])

    assert_same_coefs(weighted, removed, rtol=0, atol=1e-10)


def test_class_weight_dict_equals_sample_weight(data, seed):
    X, y = data
    class_weight = {0: 0.5, 1: 2.0, 2: 3.0}

    by_class = fit_quietly(full_batch_classifier(seed, class_weight=class_weight), X, y)
    by_sample = fit_quietly(
        full_batch_classifier(seed), X, y, sample_weight=np.array([0.5, 2.0, 3.0])[y]
    )

    assert_same_coefs(by_class, by_sample, rtol=0, atol=0)


def test_class_weight_balanced_formula(data, seed):
    X, y = data
    # Classes 0, 1 and 2 have 6, 7 and 3 rows: weight 16 / (3 * count).
    expected_weights = {0: 16 / 18, 1: 16 / 21, 2: 16 / 9}

    balanced = fit_quietly(full_batch_classifier(seed, class_weight="balanced"), X, y)
    by_dict = fit_quietly(
        full_batch_classifier(seed, class_weight=expected_weights), X, y
    )

    assert_same_coefs(balanced, by_dict, rtol=1e-15, atol=0)


def test_class_weight_times_sample_weight(data, seed, rng):
    X, y = data
    sample_weight = rng.uniform(0.5, 2.0, size=N_SAMPLES)
    class_weight = {0: 1.0, 1: 4.0, 2: 0.25}

    both = fit_quietly(
        full_batch_classifier(seed, class_weight=class_weight),
        X,
        y,
        sample_weight=sample_weight,
    )
    product = fit_quietly(
        full_batch_classifier(seed),
        X,
        y,
        sample_weight=sample_weight * np.array([1.0, 4.0, 0.25])[y],
    )

    assert_same_coefs(both, product, rtol=1e-15, atol=0)


def test_sample_weight_changes_model(data, seed):
    X, y = data
    weights = np.where(y == 1, 5.0, 1.0)

    weighted = fit_quietly(full_batch_classifier(seed), X, y, sample_weight=weights)
    plain = fit_quietly(full_batch_classifier(seed), X, y)

    assert not np.allclose(weighted.coefs_[-1], plain.coefs_[-1])


@pytest.mark.parametrize(
    "sample_weight, message",
    [
        (-np.ones(N_SAMPLES), "negative values"),
        (np.ones(N_SAMPLES - 1), "sample_weight has shape"),
        (np.zeros(N_SAMPLES), "zero for every sample"),
    ],
)
def test_sample_weight_invalid_keeps_model(data, seed, sample_weight, message):
    X, y = data
    clf = fit_quietly(full_batch_classifier(seed), X, y)
    coefs = [W.copy() for W in clf.coefs_]

    with pytest.raises(ValueError, match=message):
        clf.fit(X, y, sample_weight=sample_weight)

    for before, after in zip(coefs, clf.coefs_):
        np.testing.assert_array_equal(before, after)
    assert clf.n_iter_ == 5


def test_sample_weight_single_weighted_class(data, seed):
    X, y = data
    weights = (y == 0).astype(float)

    with pytest.raises(
        ValueError, match=r"Only one class has a positive sample weight \(\[0\]\)"
    ):
        full_batch_classifier(seed).fit(X, y, sample_weight=weights)


def routed_pipeline(seed, **params):
    scaler = StandardScaler().set_fit_request(sample_weight=False)
    clf = full_batch_classifier(seed, **params).set_fit_request(sample_weight=True)
    clf.set_score_request(sample_weight=True)
    return make_pipeline(scaler, clf)


def test_pipeline_routes_sample_weight(data, seed):
    X, y = data
    weights = np.tile([1.0, 3.0], N_SAMPLES // 2)

    with sklearn.config_context(enable_metadata_routing=True):
        pipeline = fit_quietly(routed_pipeline(seed), X, y, sample_weight=weights)
    direct = fit_quietly(
        full_batch_classifier(seed),
        StandardScaler().fit_transform(X),
        y,
        sample_weight=weights,
    )

    assert_same_coefs(pipeline[-1], direct, rtol=0, atol=0)


def test_grid_search_routes_sample_weight(data, seed):
    X, y = data
    weights = np.tile([1.0, 0.0, 3.0, 1.0], N_SAMPLES // 4)
    cv = StratifiedKFold(n_splits=3)
    grid = {"scratchmlpclassifier__alpha": [0.0, 0.5]}

    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(routed_pipeline(seed), grid, cv=cv, error_score="raise")
        fit_quietly(search, X, y, sample_weight=weights)

    # Each fold's weighted score, recomputed with the fold's weights passed by hand.
    for alpha, mean_score in zip(
        grid["scratchmlpclassifier__alpha"], search.cv_results_["mean_test_score"]
    ):
        scores = []
        for train, test in cv.split(X, y):
            scaler = StandardScaler().fit(X[train])
            clf = fit_quietly(
                full_batch_classifier(seed, alpha=alpha),
                scaler.transform(X[train]),
                y[train],
                sample_weight=weights[train],
            )
            scores.append(
                clf.score(
                    scaler.transform(X[test]), y[test], sample_weight=weights[test]
                )
            )
        assert mean_score == pytest.approx(np.mean(scores), abs=1e-15)

    best_alpha = search.best_params_["scratchmlpclassifier__alpha"]
    refit = fit_quietly(
        full_batch_classifier(seed, alpha=best_alpha),
        StandardScaler().fit_transform(X),
        y,
        sample_weight=weights,
    )
    assert_same_coefs(search.best_estimator_[-1], refit, rtol=0, atol=0)
