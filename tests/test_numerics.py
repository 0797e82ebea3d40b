"""Numerical robustness: extreme logits, divergence, clipping of zero and
non-finite norms, and the float32 policy."""

import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn import config_context
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier
from skmlp._clipping import GradientClipper
from skmlp._losses import (
    LOSS_FUNCTIONS,
    binary_log_loss,
    categorical_log_loss,
    log_sigmoid,
    log_softmax,
    sigmoid,
    softmax,
)
from skmlp._network import ParameterLayout
from skmlp._training import MiniBatchTrainer
from skmlp.exceptions import DivergenceError

DTYPES = [np.float32, np.float64]

# The output activations leave underflow to their callers (an exponential that
# underflows to 0 is the correct result), so they are checked with every other
# floating-point error raised.
ALL_BUT_UNDERFLOW = {
    "over": "raise",
    "divide": "raise",
    "invalid": "raise",
    "under": "ignore",
}


@pytest.fixture
def blobs(seed):
    """Two well separated Gaussian blobs."""
    return make_blobs(n_samples=60, centers=2, random_state=seed)


def fit_quietly(estimator, X, y, **fit_params):
    """Fit, ignoring the ConvergenceWarning of short runs."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y, **fit_params)


def all_finite(estimator):
    return all(np.all(np.isfinite(A)) for A in estimator.coefs_ + estimator.intercepts_)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_extreme_logits(dtype):
    Z = np.array(
        [[1000, 0, 0], [1e4, 1e4, 1e4], [-1e4, -1e4, -1e4], [-1e4, 0, 1e4]], dtype=dtype
    )

    with np.errstate(**ALL_BUT_UNDERFLOW):
        proba = softmax(Z)
        log_proba = log_softmax(Z)

    assert proba.dtype == dtype
    np.testing.assert_array_equal(proba[0], [1, 0, 0])
    np.testing.assert_allclose(proba[1], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_allclose(proba[2], [1 / 3] * 3, rtol=1e-6)
    np.testing.assert_array_equal(proba[3], [0, 0, 1])
    assert np.all(np.isfinite(log_proba))
    np.testing.assert_allclose(log_proba[3], [-2e4, -1e4, 0], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_extreme_logits(dtype):
    Z = np.array([[-1e4], [0], [1e4]], dtype=dtype)

    with np.errstate(**ALL_BUT_UNDERFLOW):
        proba = sigmoid(Z)
        log_proba = log_sigmoid(Z)

    assert proba.dtype == dtype
    np.testing.assert_array_equal(proba.ravel(), [0, 0.5, 1])
    np.testing.assert_allclose(log_proba.ravel(), [-1e4, -np.log(2), 0], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_log_loss_extreme_logits(dtype):
    Z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    Y = np.array([[1], [0], [0], [1]], dtype=dtype)

    with np.errstate(all="raise"):
        loss = binary_log_loss(Y, Z)
        weighted = binary_log_loss(Y, Z, np.array([1.0, 1.0, 0.0, 0.0]))

    # Two rows are right with certainty (loss 0), two wrong by 1e4 each.
    assert loss == pytest.approx(5e3)
    assert weighted == pytest.approx(0.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_categorical_log_loss_extreme_logits(dtype):
    Z = np.array([[1e4, 0, 0], [1e4, 0, 0], [1e4, 1e4, 1e4]], dtype=dtype)
    Y = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]], dtype=dtype)

    with np.errstate(all="raise"):
        loss = categorical_log_loss(Y, Z)

    # Per row: 0, 1e4 and log(3).
    assert loss == pytest.approx((1e4 + np.log(3)) / 3, rel=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_classes", [2, 3])
def test_predict_proba_huge_logits(dtype, n_classes, seed):
    X, y = make_blobs(n_samples=30, centers=n_classes, random_state=seed)
    X = X.astype(dtype)
    estimator = fit_quietly(
        ScratchMLPClassifier((4,), max_iter=2, random_state=seed), X, y
    )
    estimator.coefs_[-1][...] *= 1e4
    estimator.intercepts_[-1][...] = 1e4

    with np.errstate(all="raise"):
        logits = estimator._predict_logits(X)
        proba = estimator.predict_proba(X)
        log_proba = estimator.predict_log_proba(X)

    assert np.max(np.abs(logits)) > 1e4
    assert proba.dtype == dtype
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-6)
    assert np.all(np.isfinite(log_proba))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("early_stopping", [False, True])
def test_fit_scaled_feature_errstate(dtype, early_stopping, seed):
    X, y = make_blobs(n_samples=60, centers=3, random_state=seed)
    X[:, 0] *= 1e3
    X = X.astype(dtype)
    estimator = ScratchMLPClassifier(
        (8,),
        max_iter=5,
        early_stopping=early_stopping,
        validation_fraction=0.5,
        random_state=seed,
    )

    with np.errstate(all="raise"):
        fit_quietly(estimator, X, y)
        proba = estimator.predict_proba(X)
        log_proba = estimator.predict_log_proba(X)

    assert proba.dtype == dtype
    assert np.all(np.isfinite(proba))
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert np.all(np.isfinite(log_proba))


def divergent_estimator(seed, **params):
    """A network that diverges within a few epochs on the blobs."""
    defaults = {
        "hidden_layer_sizes": (16, 16),
        "activation": "identity",
        "learning_rate_init": 1e3,
        "max_grad_norm": None,
        "max_iter": 20,
        "random_state": seed,
    }
    return ScratchMLPClassifier(**{**defaults, **params})


def test_divergence_first_nonfinite_loss(blobs, seed, monkeypatch):
    X, y = blobs
    # The losses computed in each epoch, whether per epoch or per chunk of rows.
    epoch_losses = []
    original_run_epoch = MiniBatchTrainer.run_epoch

    def run_epoch(self, *args, **kwargs):
        epoch_losses.append([])
        return original_run_epoch(self, *args, **kwargs)

    def recording_loss(Y, Z, sample_weight=None):
        epoch_losses[-1].append(binary_log_loss(Y, Z, sample_weight))
        return epoch_losses[-1][-1]

    monkeypatch.setattr(MiniBatchTrainer, "run_epoch", run_epoch)
    monkeypatch.setitem(LOSS_FUNCTIONS, "logistic", recording_loss)
    estimator = divergent_estimator(seed)

    with pytest.raises(DivergenceError, match="Lower learning_rate_init") as error:
        fit_quietly(estimator, X, y)

    finite = [bool(np.all(np.isfinite(losses))) for losses in epoch_losses]
    first_bad = finite.index(False)
    assert first_bad == len(epoch_losses) - 1
    assert error.value.epoch == first_bad + 1
    assert f"diverged in epoch {first_bad + 1}" in str(error.value)
    assert "max_grad_norm" in str(error.value)
    assert estimator.n_iter_ == first_bad
    assert len(estimator.loss_curve_) == first_bad
    assert all_finite(estimator)


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_divergence_weights_restored(blobs, seed, solver):
    # One full-batch step per epoch at this rate sends the weights past 1e300,
    # while the loss of that epoch comes from the weights before the step.
    X, y = blobs
    estimator = divergent_estimator(
        seed, learning_rate_init=1e307, batch_size=len(X), solver=solver, momentum=0.9
    )
    initial = ScratchMLPClassifier(**estimator.get_params())
    initial.set_params(max_iter=1, learning_rate_init=1e-300)
    initial = fit_quietly(initial, X, y)

    with pytest.raises(DivergenceError, match="epoch"):
        fit_quietly(estimator, X, y)

    assert all_finite(estimator)
    assert estimator._optimizer.n_steps == estimator.n_iter_ * 1
    if solver == "adam":
        assert np.all(np.isfinite(estimator._optimizer.second_moments))
    else:
        assert np.all(np.isfinite(estimator._optimizer.velocities))


def test_divergence_keeps_usable_model(blobs, seed):
    X, y = blobs
    estimator = divergent_estimator(seed)

    with pytest.raises(DivergenceError):
        fit_quietly(estimator, X, y)

    # The model either predicts valid probabilities or reports the overflow.
    try:
        proba = estimator.predict_proba(X)
    except ValueError as error:
        assert "overflowed" in str(error)
    else:
        assert np.all(np.isfinite(proba))


def test_divergence_validation_never_sees_nan(blobs, seed, monkeypatch):
    X, y = blobs
    handed = []
    original = ScratchMLPClassifier._validation_score

    def spy(self, logits, validation):
        handed.append((logits.copy(), all_finite(self)))
        return original(self, logits, validation)

    monkeypatch.setattr(ScratchMLPClassifier, "_validation_score", spy)
    estimator = divergent_estimator(
        seed,
        early_stopping=True,
        validation_fraction=0.5,
        learning_rate_init=1e200,
        batch_size=60,
    )

    with pytest.raises(DivergenceError, match="validation set"):
        fit_quietly(estimator, X, y)

    assert all(np.all(np.isfinite(logits)) for logits, _ in handed)
    assert all(weights_finite for _, weights_finite in handed)
    assert all_finite(estimator)
    assert len(estimator.validation_scores_) == estimator.n_iter_


@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_zero_norm(mode):
    layout = ParameterLayout((3, 4, 2))
    clipper = GradientClipper(layout, 1.0, mode, np.float64)
    grads = np.zeros(layout.size)

    with np.errstate(all="raise"):
        norms = clipper.norms(grads)
        clipped = clipper.clip(grads, norms)

    assert not clipped
    np.testing.assert_array_equal(norms, 0)
    np.testing.assert_array_equal(grads, 0)


@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_dead_relu_layer(mode, seed):
    # All-zero features and zero initial biases leave the ReLU layer dead, so
    # without an L2 penalty every gradient but the output bias's is exactly zero.
    X = np.zeros((20, 3))
    y = (np.arange(20) % 4 == 0).astype(int)
    estimator = ScratchMLPClassifier(
        (4,),
        alpha=0.0,
        max_iter=3,
        max_grad_norm=1e-3,
        clip_mode=mode,
        random_state=seed,
    )

    with np.errstate(all="raise"):
        fit_quietly(estimator, X, y)
        proba = estimator.predict_proba(X)

    assert all_finite(estimator)
    assert np.all(np.isfinite(proba))
    assert estimator.history_[0]["clip_fraction"] == 1.0
    if mode == "per_layer":
        # Groups: hidden weights, output weights, hidden bias, output bias.
        assert estimator.history_[0]["grad_norms"][:3] == (0.0, 0.0, 0.0)
    # A zero gradient leaves the output weights at their initial values.
    initial = ScratchMLPClassifier(
        (4,), alpha=0.0, max_iter=1, learning_rate_init=1e-300, random_state=seed
    )
    np.testing.assert_array_equal(
        estimator.coefs_[1], fit_quietly(initial, X, y).coefs_[1]
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_overflowing_norm(dtype, mode):
    # Squares of these finite gradients overflow the dtype, yet their norm does not.
    huge = np.sqrt(np.finfo(dtype).max) * 4
    layout = ParameterLayout((2, 2))
    clipper = GradientClipper(layout, 1.0, mode, dtype)
    grads = np.full(layout.size, huge, dtype=dtype)

    norms = clipper.norms(grads)
    clipped = clipper.clip(grads, norms)

    assert clipped
    assert np.all(np.isfinite(norms))
    np.testing.assert_allclose(
        norms.max(), huge * np.sqrt(4 if mode == "per_layer" else 6), rtol=1e-5
    )
    assert np.all(np.isfinite(grads))
    assert np.linalg.norm(grads.astype(np.float64)) <= np.sqrt(clipper.n_groups) * (
        1 + 1e-5
    )


@pytest.mark.parametrize("bad", [np.inf, np.nan])
def test_clip_nonfinite_norm(bad):
    layout = ParameterLayout((2, 2))
    clipper = GradientClipper(layout, 1.0, "per_layer", np.float64)
    grads = np.full(layout.size, 10.0)
    grads[0] = bad

    with np.errstate(divide="raise", invalid="ignore"):
        norms = clipper.norms(grads)
        clipped = clipper.clip(grads, norms)

    # The weight group keeps its non-finite value for the loss check to find.
    # The finite bias group is still clipped, and clipping adds no NaN of its own.
    assert clipped
    assert np.isnan(grads[0]) == np.isnan(bad)
    np.testing.assert_array_equal(grads[1:4], 10.0)
    np.testing.assert_allclose(np.linalg.norm(grads[4:]), 1.0)
    assert np.count_nonzero(np.isnan(grads)) == int(np.isnan(bad))


@pytest.mark.parametrize(
    "make_input",
    [lambda X: X, sparse.csr_matrix, sparse.csc_matrix],
    ids=["dense", "csr", "csc"],
)
def test_float32_kept(make_input, seed):
    X, y = make_blobs(n_samples=40, centers=3, random_state=seed)
    X32 = make_input(X.astype(np.float32))
    fitted = fit_quietly(
        ScratchMLPClassifier((5,), max_iter=3, random_state=seed), X32, y
    )
    partial = ScratchMLPClassifier((5,), random_state=seed).partial_fit(
        X32, y, classes=[0, 1, 2]
    )
    partial.partial_fit(X, y)

    for estimator in (fitted, partial):
        assert all(
            A.dtype == np.float32 for A in estimator.coefs_ + estimator.intercepts_
        )
        assert estimator.predict_proba(X32).dtype == np.float32
        assert estimator.predict_log_proba(X32).dtype == np.float32
        # float64 input to a float32 model is cast to float32.
        assert estimator.predict_proba(X).dtype == np.float32


@pytest.mark.parametrize("solver", ["sgd", "adam"])
def test_float32_matches_float64(solver, seed):
    X, y = make_blobs(n_samples=60, centers=3, random_state=seed)
    params = {
        "hidden_layer_sizes": (16,),
        "max_iter": 20,
        "solver": solver,
        "random_state": seed,
    }
    model64 = fit_quietly(ScratchMLPClassifier(**params), X, y)
    model32 = fit_quietly(ScratchMLPClassifier(**params), X.astype(np.float32), y)

    # Measured: the probabilities differ by at most 2.1e-7 and the weights by
    # 1.1e-6 after 20 epochs, so 1e-5 leaves a margin for other BLAS builds.
    np.testing.assert_allclose(
        model32.predict_proba(X), model64.predict_proba(X), atol=1e-5
    )
    for W32, W64 in zip(model32.coefs_, model64.coefs_, strict=True):
        np.testing.assert_allclose(W32, W64, atol=1e-5)
    np.testing.assert_allclose(model32.loss_curve_, model64.loss_curve_, rtol=1e-5)


def test_float32_overflowing_input():
    X, y = make_blobs(n_samples=20, centers=2, random_state=0)
    estimator = fit_quietly(
        ScratchMLPClassifier((3,), max_iter=1, random_state=0), X.astype(np.float32), y
    )
    X_huge = X.copy()
    X_huge[0, 0] = 1e39

    with pytest.raises(ValueError, match="too large for float32"):
        estimator.predict(X_huge)
    with pytest.raises(ValueError, match="too large for float32"):
        estimator.partial_fit(X_huge, y)


def test_predict_overflow_detected(blobs, seed):
    X, y = blobs
    estimator = fit_quietly(
        ScratchMLPClassifier((4,), activation="relu", max_iter=1, random_state=seed),
        X,
        y,
    )
    X_huge = np.full((3, X.shape[1]), 1e300)
    estimator.coefs_[0][...] = 1e10

    with np.errstate(all="raise"):
        with pytest.raises(ValueError, match="overflowed on 3 of 3 rows"):
            estimator.predict_proba(X_huge)


@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_predict_unchecked_nan_named(blobs, seed, value):
    X, y = blobs
    estimator = fit_quietly(
        ScratchMLPClassifier((4,), max_iter=1, random_state=seed), X, y
    )
    X_bad = X[:3].copy()
    X_bad[1, 0] = value

    with config_context(assume_finite=True):
        with pytest.raises(ValueError, match="contains NaN or infinity"):
            estimator.predict_proba(X_bad)
    with pytest.raises(ValueError, match="Input X contains"):
        estimator.predict_proba(X_bad)
