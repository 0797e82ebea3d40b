"""Finite-difference checks of the gradients that training uses.

The analytic gradient comes from ``MiniBatchTrainer.compute_gradients``, the
function the training loop calls for every mini-batch. The numerical gradient
comes from central differences of the batch objective

    sum_i w_i * loss_i / S + alpha / (2 S) * sum(W ** 2),

evaluated by a forward pass and a cross-entropy written out in this module, so
neither side reuses the other's code.
"""

import numpy as np
import pytest
from scipy import sparse

from skmlp import ScratchMLPClassifier
from skmlp._clipping import GradientClipper
from skmlp._network import ParameterLayout
from skmlp._optimizers import SGDOptimizer
from skmlp._targets import TargetEncoder
from skmlp._training import MiniBatchTrainer

N_FEATURES = 3
HIDDEN_LAYER_SIZES = (4, 3)
N_SAMPLES = 10
BATCH_ROWS = 6
ALPHA = 0.3
STEP = 1e-6
TOLERANCE = 1e-6

# No ReLU pre-activation may lie this close to the kink at 0, where the
# derivative jumps and central differences would straddle two slopes.
KINK_MARGIN = 1e-4

ACTIVATION_NAMES = ["identity", "logistic", "tanh", "relu"]

REFERENCE_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0.0),
}


def make_target(kind, rng):
    """Return ``(y, encoder)`` for a target of ``kind`` with ``N_SAMPLES`` rows."""
    if kind == "binary":
        y = np.array([0, 1, 1, 0, 1, 0, 0, 1, 1, 0])
    elif kind == "multiclass":
        y = np.array([0, 1, 2, 2, 0, 1, 2, 0, 1, 1])
    else:
        y = rng.integers(0, 2, size=(N_SAMPLES, 3))
    return y, TargetEncoder.from_target(y)


def make_weights(weighting, y, encoder, rng):
    """Return the per-row weights the estimator would train with."""
    if weighting == "uniform":
        return np.ones(N_SAMPLES)

    sample_weight = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    if weighting == "sample_weight":
        return sample_weight

    # class_weight multiplies into sample_weight inside the estimator.
    class_weight = dict(zip(encoder.classes.tolist(), [0.5, 2.0, 3.5]))
    clf = ScratchMLPClassifier(class_weight=class_weight)
    weights = clf._effective_sample_weight(
        sample_weight, y, N_SAMPLES, encoder, incremental=False
    )
    expected = sample_weight * np.array([class_weight[label] for label in y])
    np.testing.assert_allclose(weights, expected, rtol=1e-15)
    return weights


def reference_hidden_inputs(flat, layout, X, activation):
    """Return the pre-activations of every hidden layer and the output logits."""
    coefs, intercepts = layout.views(flat)
    activate = REFERENCE_ACTIVATIONS[activation]
    A = X.toarray() if sparse.issparse(X) else X

    pre_activations = []
    for W, b in zip(coefs[:-1], intercepts[:-1]):
        Z = A @ W + b
        pre_activations.append(Z)
        A = activate(Z)
    return pre_activations, A @ coefs[-1] + intercepts[-1]


def reference_objective(
    flat, layout, X, Y, weights, batch_weight, activation, out_activation
):
    """Return the batch objective, written out without the package's code."""
    _, Z = reference_hidden_inputs(flat, layout, X, activation)

    if out_activation == "softmax":
        shifted = Z - Z.max(axis=1, keepdims=True)
        log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        per_sample = -(Y * log_probabilities).sum(axis=1)
    else:
        # -y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)) = log(1 + exp(z)) - y z
        per_sample = (np.logaddexp(0.0, Z) - Y * Z).sum(axis=1)

    coefs, _ = layout.views(flat)
    squared_weights = sum(np.sum(W**2) for W in coefs)
    return (
        np.sum(weights * per_sample) / batch_weight
        + ALPHA / (2 * batch_weight) * squared_weights
    )


def central_differences(objective, flat):
    """Return the gradient of ``objective`` at ``flat`` by central differences."""
    gradient = np.empty_like(flat)
    for k in range(flat.size):
        shifted = flat.copy()
        shifted[k] += STEP
        upper = objective(shifted)
        shifted[k] -= 2 * STEP
        lower = objective(shifted)
        gradient[k] = (upper - lower) / (2 * STEP)
    return gradient


def make_trainer(
    layout, params, activation, out_activation, batch_size, optimizer=None
):
    if optimizer is None:
        optimizer = SGDOptimizer(layout.size, params.dtype)
    return MiniBatchTrainer(
        layout,
        params,
        activation=activation,
        out_activation=out_activation,
        alpha=ALPHA,
        optimizer=optimizer,
        clipper=GradientClipper(layout, None, "global", params.dtype),
        batch_size=batch_size,
        n_features=N_FEATURES,
    )


def assert_away_from_kink(flat, layout, X, activation):
    if activation != "relu":
        return
    pre_activations, _ = reference_hidden_inputs(flat, layout, X, activation)
    closest = min(np.min(np.abs(Z)) for Z in pre_activations)
    assert closest > KINK_MARGIN, (
        f"a ReLU pre-activation is {closest:.2e} from the kink"
    )


def assert_gradients_match(analytic, numeric, layout):
    """Assert a relative error below ``TOLERANCE`` for each weight matrix and bias."""
    analytic_coefs, analytic_intercepts = layout.views(analytic)
    numeric_coefs, numeric_intercepts = layout.views(numeric)
    segments = [
        ("coefs", i, a, n)
        for i, (a, n) in enumerate(zip(analytic_coefs, numeric_coefs))
    ]
    segments += [
        ("intercepts", i, a, n)
        for i, (a, n) in enumerate(zip(analytic_intercepts, numeric_intercepts))
    ]

    for name, layer, a, n in segments:
        scale = max(np.linalg.norm(a), np.linalg.norm(n))
        assert scale > 1e-8, (
            f"{name}[{layer}] has a vanishing gradient; the check proves nothing"
        )
        relative_error = np.linalg.norm(a - n) / scale
        assert relative_error < TOLERANCE, (
            f"{name}[{layer}]: relative error {relative_error:.2e}"
        )


GRADIENT_CASES = [
    (activation, target, weighting)
    for activation in ACTIVATION_NAMES
    for target in ["binary", "multiclass", "multilabel"]
    for weighting in ["uniform", "sample_weight", "class_weight"]
    # The estimator rejects class_weight for multilabel targets.
    if not (target == "multilabel" and weighting == "class_weight")
]


@pytest.mark.parametrize("input_format", ["dense", "csr"])
@pytest.mark.parametrize("activation, target, weighting", GRADIENT_CASES)
def test_compute_gradients_finite_differences(
    activation, target, weighting, input_format, rng
):
    y, encoder = make_target(target, rng)
    Y = encoder.encode(y, np.float64)
    weights = make_weights(weighting, y, encoder, rng)

    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    X[rng.random(X.shape) < 0.3] = 0.0
    layout = ParameterLayout((N_FEATURES, *HIDDEN_LAYER_SIZES, encoder.n_outputs))
    params = rng.normal(scale=0.7, size=layout.size)

    # The batch is the first BATCH_ROWS rows of an epoch, normalized as
    # run_epoch normalizes it: S = BATCH_ROWS * mean weight of the epoch.
    X_batch = X[:BATCH_ROWS]
    Y_batch = Y[:BATCH_ROWS]
    batch_weights = weights[:BATCH_ROWS]
    batch_weight = BATCH_ROWS * np.mean(weights)
    assert_away_from_kink(params, layout, X_batch, activation)
    if input_format == "csr":
        X_batch = sparse.csr_matrix(X_batch)

    trainer = make_trainer(
        layout,
        params.copy(),
        activation,
        encoder.out_activation,
        BATCH_ROWS,
    )
    logits = np.empty_like(Y_batch)
    trainer.compute_gradients(
        X_batch,
        Y_batch,
        (batch_weights / batch_weight)[:, np.newaxis],
        batch_weight,
        logits,
    )

    def objective(flat):
        return reference_objective(
            flat,
            layout,
            X_batch,
            Y_batch,
            batch_weights,
            batch_weight,
            activation,
            encoder.out_activation,
        )

    numeric = central_differences(objective, params)
    assert_gradients_match(trainer.grads, numeric, layout)

    _, expected_logits = reference_hidden_inputs(params, layout, X_batch, activation)
    np.testing.assert_allclose(logits, expected_logits, rtol=1e-12, atol=1e-14)


class RecordingOptimizer:
    """Optimizer double that records each step's gradients and changes nothing."""

    def __init__(self):
        self.recorded = []

    def step(self, params, grads, learning_rate):
        self.recorded.append(grads.copy())


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_run_epoch_batch_normalization(activation, rng):
    # 10 rows in batches of 4 leave a short last batch of 2 rows, whose S is
    # 2 * mean weight rather than 4 * mean weight.
    batch_size = 4
    y, encoder = make_target("multiclass", rng)
    Y = encoder.encode(y, np.float64)
    weights = rng.uniform(0.2, 3.0, size=N_SAMPLES)
    X = rng.normal(size=(N_SAMPLES, N_FEATURES))
    layout = ParameterLayout((N_FEATURES, *HIDDEN_LAYER_SIZES, encoder.n_outputs))
    params = rng.normal(scale=0.7, size=layout.size)

    optimizer = RecordingOptimizer()
    trainer = make_trainer(
        layout, params.copy(), activation, "softmax", batch_size, optimizer
    )
    logits = np.empty_like(Y)
    trainer.run_epoch(X, Y, weights, None, 0.1, logits)

    starts = [0, 4, 8]
    assert len(optimizer.recorded) == len(starts)
    for start, analytic in zip(starts, optimizer.recorded):
        rows = slice(start, min(start + batch_size, N_SAMPLES))
        batch_weight = (rows.stop - rows.start) * np.mean(weights)

        def objective(flat, rows=rows, batch_weight=batch_weight):
            return reference_objective(
                flat,
                layout,
                X[rows],
                Y[rows],
                weights[rows],
                batch_weight,
                activation,
                "softmax",
            )

        assert_gradients_match(analytic, central_differences(objective, params), layout)


def test_run_epoch_rejects_row_mismatch():
    layout = ParameterLayout((N_FEATURES, 3, 1))
    params = np.zeros(layout.size)
    trainer = make_trainer(layout, params, "relu", "logistic", 4)
    X = np.ones((6, N_FEATURES))
    order = np.arange(6)

    with pytest.raises(ValueError, match="X has 6 rows, but the targets have 12"):
        trainer.run_epoch(X, np.zeros((12, 1)), np.ones(6), order, 0.1)

    assert np.all(params == 0)


@pytest.mark.parametrize("input_format", ["dense", "csr"])
def test_run_epoch_identity_order_matches_no_order(rng, input_format):
    # With an order, each chunk's rows and targets are copied into buffers
    # whose batch views are reused from chunk to chunk. Without one, the
    # targets are views of Y at each chunk's own offset. Three chunks of rows
    # must give the same updates either way.
    layout = ParameterLayout((N_FEATURES, 5, 1))
    params = rng.normal(scale=0.5, size=layout.size)
    n_samples = 3 * make_trainer(layout, params, "tanh", "logistic", 4).chunk_rows - 5
    X = rng.normal(size=(n_samples, N_FEATURES))
    if input_format == "csr":
        X = sparse.csr_matrix(X)
    Y = (rng.random((n_samples, 1)) < 0.5).astype(np.float64)
    weights = rng.uniform(0.5, 2.0, size=n_samples)

    results = []
    for order in (None, np.arange(n_samples)):
        trainer = make_trainer(layout, params.copy(), "tanh", "logistic", 4)
        stats = trainer.run_epoch(X, Y, weights, order, 0.05)
        results.append((trainer.params, stats["loss"]))

    np.testing.assert_array_equal(results[0][0], results[1][0])
    assert results[0][1] == results[1][1]
    assert not np.array_equal(results[0][0], params)
