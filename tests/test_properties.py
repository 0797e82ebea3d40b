"""Property tests: any valid combination of data and parameters fits cleanly or
raises a clear ValueError or TypeError.

Hypothesis draws the data (shape, dtype, dense or sparse, label type, number of
classes) and the hyper-parameters within their constraints. A run passes if it
either returns valid probabilities or raises ValueError or TypeError with a
message; ``DivergenceError`` is a ValueError. Any other exception, any
RuntimeWarning (overflow, invalid value) and any NaN fails the run.
"""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier

# Every example fits for at most 3 epochs on at most 50 rows, so 60 examples per
# test take a few seconds.
PROPERTY_SETTINGS = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

LABEL_VALUES = {
    "int": np.array([3, -1, 0, 11, 7]),
    "str": np.array(["cat", "dog", "eel", "ant", "bee"]),
    "bool": np.array([False, True]),
}


@st.composite
def datasets(draw):
    """Draw ``(X, y)``: 1 to 50 rows, 1 to 20 columns, 1 to 5 classes."""
    n_samples = draw(st.integers(1, 50))
    n_features = draw(st.integers(1, 20))
    dtype = draw(st.sampled_from(["float32", "float64", "int", "bool"]))
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)

    if dtype == "bool":
        X = rng.random((n_samples, n_features)) < 0.5
    elif dtype == "int":
        X = rng.integers(-100, 100, size=(n_samples, n_features))
    else:
        scale = 10.0 ** draw(st.integers(-30, 30))
        X = (rng.standard_normal((n_samples, n_features)) * scale).astype(dtype)

    # A zero row or column is a common case in one-hot data.
    if draw(st.booleans()):
        X[:, 0] = 0
    if draw(st.booleans()):
        X = sparse.csr_matrix(X)

    label_type = draw(st.sampled_from(sorted(LABEL_VALUES)))
    values = LABEL_VALUES[label_type]
    n_classes = draw(st.integers(1, min(5, len(values))))
    y = values[rng.integers(0, n_classes, size=n_samples)]
    return X, y


@st.composite
def estimators(draw):
    """Draw a classifier whose parameters all satisfy their constraints."""
    params = {
        "hidden_layer_sizes": draw(st.sampled_from([(), (1,), (5,), (4, 3)])),
        "activation": draw(st.sampled_from(["relu", "tanh", "logistic", "identity"])),
        "solver": draw(st.sampled_from(["sgd", "adam"])),
        "alpha": draw(st.sampled_from([0.0, 1e-4, 1.0, 1e6])),
        "batch_size": draw(st.integers(1, 64)),
        "learning_rate": draw(
            st.sampled_from(["inverse_time", "constant", "invscaling", "adaptive"])
        ),
        "learning_rate_init": 10.0 ** draw(st.integers(-8, 12)),
        "momentum": draw(st.sampled_from([0.0, 0.5, 0.99])),
        "nesterovs_momentum": draw(st.booleans()),
        "max_grad_norm": draw(st.sampled_from([None, 1e-6, 1.0, 5.0])),
        "clip_mode": draw(st.sampled_from(["per_layer", "global"])),
        "early_stopping": draw(st.booleans()),
        "validation_fraction": draw(st.sampled_from([0.1, 0.5, 0.9])),
        "class_weight": draw(st.sampled_from([None, "balanced"])),
        "max_iter": draw(st.integers(1, 3)),
        "random_state": draw(st.integers(0, 1000)),
    }
    return ScratchMLPClassifier(**params)


def check_probabilities(proba, n_rows, n_classes):
    """Assert that ``proba`` contains valid class probabilities."""
    assert proba.shape == (n_rows, n_classes)
    assert np.all(np.isfinite(proba))
    assert np.all(proba >= 0)
    assert np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)


def run_or_reject(function, *args, **kwargs):
    """Call ``function``; return None instead after a clean ValueError or TypeError."""
    try:
        return function(*args, **kwargs)
    except (ValueError, TypeError) as error:
        assert str(error).strip(), f"{type(error).__name__} without a message"
        return None


@PROPERTY_SETTINGS
@given(data=datasets(), estimator=estimators())
@example(
    # One epoch of single-row steps at this rate leaves weights near 1e19 whose
    # forward pass overflows float32, although the epoch's loss was finite.
    data=(
        np.array([[0.34558418], [0.82161814], [0.33043706]], dtype=np.float32),
        np.array([True, True, False]),
    ),
    estimator=ScratchMLPClassifier(
        (4, 3),
        activation="identity",
        batch_size=1,
        learning_rate_init=1000.0,
        max_grad_norm=None,
        max_iter=1,
        nesterovs_momentum=False,
        random_state=0,
    ),
)
def test_fit_predict_valid_or_clean_error(data, estimator):
    X, y = data

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        warnings.simplefilter("ignore", ConvergenceWarning)
        if run_or_reject(estimator.fit, X, y) is None:
            return

        # Weights that training left huge may overflow on X: predict reports that.
        proba = run_or_reject(estimator.predict_proba, X)
        if proba is None:
            return
        log_proba = estimator.predict_log_proba(X)
        predicted = estimator.predict(X)

    check_probabilities(proba, X.shape[0], len(estimator.classes_))
    assert np.all(np.isfinite(log_proba))
    assert np.all(log_proba <= 0)
    assert set(predicted.tolist()) <= set(estimator.classes_.tolist())
    assert all(np.all(np.isfinite(W)) for W in estimator.coefs_ + estimator.intercepts_)
    assert np.isfinite(estimator.loss_)


@PROPERTY_SETTINGS
@given(data=datasets(), estimator=estimators(), n_calls=st.integers(1, 3))
def test_partial_fit_valid_or_clean_error(data, estimator, n_calls):
    X, y = data
    classes = np.unique(y)

    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        for _ in range(n_calls):
            if run_or_reject(estimator.partial_fit, X, y, classes=classes) is None:
                return

        proba = run_or_reject(estimator.predict_proba, X)
        if proba is None:
            return

    check_probabilities(proba, X.shape[0], len(classes))
    assert estimator.n_iter_ == n_calls


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@PROPERTY_SETTINGS
@given(
    logits=st.lists(
        st.floats(-1e4, 1e4, allow_nan=False, width=32), min_size=2, max_size=6
    ),
    n_rows=st.integers(1, 4),
)
def test_predict_proba_any_logits_valid(dtype, logits, n_rows):
    """Any output weights, however large, give valid probabilities."""
    n_classes = len(logits)
    X = np.eye(n_classes, dtype=dtype)
    y = np.arange(n_classes)
    estimator = ScratchMLPClassifier((), max_iter=1, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        estimator.fit(X, y)

    # With zero weights every row's logits are the biases, set to those drawn.
    estimator.coefs_[0][...] = 0
    estimator.intercepts_[0][...] = 0
    if n_classes == 2:
        estimator.intercepts_[0][0] = logits[1] - logits[0]
    else:
        estimator.intercepts_[0][...] = logits
    X_test = np.zeros((n_rows, n_classes), dtype=dtype)

    with np.errstate(all="raise"):
        proba = estimator.predict_proba(X_test)
        log_proba = estimator.predict_log_proba(X_test)

    check_probabilities(proba, n_rows, n_classes)
    assert proba.dtype == dtype
    assert np.all(np.isfinite(log_proba))
    assert np.all(proba[:, np.argmax(logits)] == proba.max(axis=1))
