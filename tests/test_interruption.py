"""KeyboardInterrupt during fit: the model keeps its last completed epoch, warns,
and the interrupt propagates."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier
from skmlp._optimizers import AdamOptimizer, SGDOptimizer
from skmlp._training import MiniBatchTrainer

INTERRUPTED_EPOCH = 3


@pytest.fixture
def blobs(seed):
    return make_blobs(n_samples=50, centers=3, random_state=seed)


def make_estimator(seed, **params):
    defaults = {
        "hidden_layer_sizes": (6,),
        "max_iter": 8,
        "batch_size": 10,
        "random_state": seed,
    }
    return ScratchMLPClassifier(**{**defaults, **params})


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


def interrupt_after_epoch_runs(monkeypatch, epoch):
    """Make epoch ``epoch`` run all its updates, then raise KeyboardInterrupt."""
    original = MiniBatchTrainer.run_epoch
    calls = []

    def run_epoch(self, *args, **kwargs):
        calls.append(1)
        stats = original(self, *args, **kwargs)
        if len(calls) == epoch:
            raise KeyboardInterrupt
        return stats

    monkeypatch.setattr(MiniBatchTrainer, "run_epoch", run_epoch)


def interrupt_mid_epoch(monkeypatch, optimizer_class, step):
    """Raise KeyboardInterrupt from the optimizer's update number ``step``."""
    original = optimizer_class.step

    def interrupted_step(self, params, grads, learning_rate):
        if self.n_steps + 1 == step:
            # Half an update is made, as a real interrupt could leave it.
            params -= learning_rate * grads / 2
            raise KeyboardInterrupt
        original(self, params, grads, learning_rate)

    monkeypatch.setattr(optimizer_class, "step", interrupted_step)


def assert_same_model(interrupted, reference):
    for name in ("coefs_", "intercepts_"):
        for A, B in zip(
            getattr(interrupted, name), getattr(reference, name), strict=True
        ):
            np.testing.assert_array_equal(A, B)
    assert interrupted.n_iter_ == reference.n_iter_
    assert interrupted.t_ == reference.t_
    assert interrupted.loss_curve_ == reference.loss_curve_
    assert len(interrupted.history_) == len(reference.history_)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
@pytest.mark.parametrize("where", ["end-of-epoch", "mid-epoch"])
def test_interrupt_keeps_last_epoch(blobs, seed, solver, where, monkeypatch):
    X, y = blobs
    reference = fit_quietly(
        make_estimator(seed, solver=solver, max_iter=INTERRUPTED_EPOCH - 1), X, y
    )

    if where == "end-of-epoch":
        interrupt_after_epoch_runs(monkeypatch, INTERRUPTED_EPOCH)
    else:
        # 50 rows in batches of 10 make 5 updates per epoch, so this is the third
        # update of the interrupted epoch.
        optimizer_class = AdamOptimizer if solver == "adam" else SGDOptimizer
        interrupt_mid_epoch(
            monkeypatch, optimizer_class, step=5 * (INTERRUPTED_EPOCH - 1) + 3
        )
    estimator = make_estimator(seed, solver=solver)

    with pytest.warns(
        UserWarning, match=f"interrupted.*after {INTERRUPTED_EPOCH - 1} epochs"
    ):
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(X, y)

    monkeypatch.undo()
    assert_same_model(estimator, reference)
    np.testing.assert_array_equal(estimator.predict(X), reference.predict(X))
    np.testing.assert_array_equal(
        estimator.predict_proba(X), reference.predict_proba(X)
    )


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_interrupt_restores_optimizer(blobs, seed, solver, monkeypatch):
    # Continuing after the interrupt must continue from the last completed
    # epoch's optimizer state too, not from the half-run epoch's.
    X, y = blobs
    params = {"solver": solver, "momentum": 0.9, "shuffle": False}
    reference = fit_quietly(
        make_estimator(seed, max_iter=INTERRUPTED_EPOCH - 1, **params), X, y
    )
    reference.partial_fit(X, y)

    interrupt_after_epoch_runs(monkeypatch, INTERRUPTED_EPOCH)
    estimator = make_estimator(seed, **params)
    with pytest.warns(UserWarning, match="interrupted"):
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(X, y)
    monkeypatch.undo()
    estimator.partial_fit(X, y)

    assert_same_model(estimator, reference)


def test_interrupt_first_epoch_usable(blobs, seed, monkeypatch):
    X, y = blobs
    interrupt_after_epoch_runs(monkeypatch, 1)
    estimator = make_estimator(seed)

    with pytest.warns(UserWarning, match="after 0 epochs"):
        with pytest.raises(KeyboardInterrupt):
            estimator.fit(X, y)

    assert estimator.n_iter_ == 0
    assert estimator.loss_curve_ == []
    proba = estimator.predict_proba(X)
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1)
