"""Learning-rate schedules against their formulas, alone and inside ``fit``."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier
from skmlp._schedules import LearningRateSchedule

N_SAMPLES = 24


@pytest.fixture
def blobs(rng):
    """Two overlapping Gaussian blobs, 12 rows each."""
    X = np.vstack(
        [rng.normal(-0.5, 1.0, size=(12, 2)), rng.normal(0.5, 1.0, size=(12, 2))]
    )
    y = np.repeat([0, 1], 12)
    return X, y


def fitted_rates(X, y, seed, **params):
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(3,), batch_size=8, random_state=seed, **params
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    return clf, [record["learning_rate"] for record in clf.history_]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("inverse_time", [0.2 / (1 + 0.5 * epoch) for epoch in range(5)]),
        ("constant", [0.2] * 5),
        ("invscaling", [0.2 / (10 * epoch + 1) ** 0.25 for epoch in range(5)]),
        ("adaptive", [0.2] * 5),
    ],
)
def test_schedule_rate_formula(name, expected):
    schedule = LearningRateSchedule(name, 0.2, decay=0.5, power_t=0.25)
    rates = [schedule.rate(epoch, n_samples_seen=10 * epoch) for epoch in range(5)]

    assert rates == pytest.approx(expected, rel=1e-15)


def test_schedule_reduce_on_plateau():
    schedule = LearningRateSchedule("adaptive", 1e-5, decay=0.0, power_t=0.5)

    assert schedule.reduce_on_plateau()
    assert schedule.rate(3, 0) == pytest.approx(2e-6, rel=1e-15)
    assert schedule.reduce_on_plateau()
    assert schedule.rate(4, 0) == pytest.approx(4e-7, rel=1e-15)
    # At or below 1e-6 the schedule stops lowering the rate and returns False,
    # which stops training.
    assert not schedule.reduce_on_plateau()
    assert schedule.rate(5, 0) == pytest.approx(4e-7, rel=1e-15)


@pytest.mark.parametrize("name", ["inverse_time", "constant", "invscaling"])
def test_schedule_no_plateau_reduction(name):
    schedule = LearningRateSchedule(name, 0.1, decay=0.1, power_t=0.5)

    assert not schedule.reduce_on_plateau()
    assert schedule.rate(0, 0) == 0.1


def test_fit_inverse_time_rates(blobs, seed):
    X, y = blobs
    _, rates = fitted_rates(
        X, y, seed, max_iter=6, learning_rate_init=0.3, learning_rate_decay=0.2, tol=0.0
    )

    assert rates == pytest.approx(
        [0.3 / (1 + 0.2 * epoch) for epoch in range(6)], rel=1e-15
    )


def test_fit_constant_rates(blobs, seed):
    X, y = blobs
    _, rates = fitted_rates(
        X, y, seed, max_iter=4, learning_rate="constant", learning_rate_init=0.05
    )

    assert rates == [0.05] * 4


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_fit_invscaling_rates(blobs, seed, power_t):
    X, y = blobs
    clf, rates = fitted_rates(
        X,
        y,
        seed,
        max_iter=5,
        learning_rate="invscaling",
        learning_rate_init=0.4,
        power_t=power_t,
        tol=0.0,
    )

    # The epoch after k full epochs has seen k * 24 samples.
    expected = [0.4 / (N_SAMPLES * epoch + 1) ** power_t for epoch in range(5)]
    assert rates == pytest.approx(expected, rel=1e-15)
    assert clf.t_ == 5 * N_SAMPLES


def test_fit_adaptive_divides_by_five_on_plateau(blobs, seed):
    # tol=10 makes every epoch after the first count as no progress, so with
    # n_iter_no_change=1 the rate drops after epochs 3, 5 and 7.
    X, y = blobs
    clf, rates = fitted_rates(
        X,
        y,
        seed,
        max_iter=8,
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=10.0,
        n_iter_no_change=1,
    )

    expected = [0.1, 0.1, 0.1, 0.02, 0.02, 0.004, 0.004, 0.0008]
    assert rates == pytest.approx(expected, rel=1e-14)
    assert clf.n_iter_ == 8


def test_fit_adaptive_stops_below_minimum_rate(blobs, seed):
    X, y = blobs
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(3,),
        learning_rate="adaptive",
        learning_rate_init=2e-5,
        tol=10.0,
        n_iter_no_change=1,
        max_iter=50,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.fit(*blobs)

    # The rate is 2e-5 for epochs 1-3, 4e-6 for epochs 4-5 and 8e-7 for epochs
    # 6-7. The plateau after epoch 7 finds the rate at or below 1e-6 and stops.
    rates = [record["learning_rate"] for record in clf.history_]
    assert rates == pytest.approx([2e-5] * 3 + [4e-6] * 2 + [8e-7] * 2, rel=1e-14)
    assert clf.n_iter_ == 7


def test_fit_adaptive_rate_kept_by_warm_start(blobs, seed):
    X, y = blobs
    clf, rates = fitted_rates(
        X,
        y,
        seed,
        max_iter=4,
        learning_rate="adaptive",
        learning_rate_init=0.1,
        tol=10.0,
        n_iter_no_change=1,
        warm_start=True,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    continued = [record["learning_rate"] for record in clf.history_[4:]]
    assert rates == pytest.approx([0.1, 0.1, 0.1, 0.02], rel=1e-14)
    assert continued[0] == pytest.approx(0.02, rel=1e-14)


def test_fit_inverse_time_continues_with_warm_start(blobs, seed):
    X, y = blobs
    clf, _ = fitted_rates(
        X, y, seed, max_iter=3, learning_rate_decay=1.0, tol=0.0, warm_start=True
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    rates = [record["learning_rate"] for record in clf.history_]
    assert rates == pytest.approx([0.01 / (1 + epoch) for epoch in range(6)], rel=1e-15)
