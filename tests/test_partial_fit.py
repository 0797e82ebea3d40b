"""``partial_fit``: hand-worked gradient steps and the checks on ``classes``.

The hand-worked tests train a network with 2 inputs, one hidden layer of 2
tanh units and one sigmoid output on two samples, from weights the test sets.
With ``batch_size >= n_samples`` and ``shuffle=False`` one call to
``partial_fit`` is one gradient step, which the test recomputes with explicit
numpy arithmetic: forward pass, ``p - y``, backward pass, clipping, update.
"""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier

X_TINY = np.array([[0.5, -1.0], [1.5, 2.0]])
Y_TINY = np.array([0, 1])
W1 = np.array([[0.1, -0.2], [0.4, 0.3]])
B1 = np.array([0.05, -0.1])
W2 = np.array([[0.7], [-0.5]])
B2 = np.array([0.2])
ALPHA = 0.1
LEARNING_RATE = 0.5


@pytest.fixture
def fixed_initialization(monkeypatch):
    """Make every new model start from ``W1, B1, W2, B2``."""

    def initialize(layout, activation, random_state, dtype):
        return layout.pack([W1, W2], [B1, B2], dtype)

    monkeypatch.setattr("skmlp._mlp.initialize_parameters", initialize)


def hand_gradients(weights, sample_weight):
    """Return the gradients of the batch objective, worked out step by step."""
    W1_, b1, W2_, b2 = weights
    total_weight = sample_weight.sum()

    hidden_input = X_TINY @ W1_ + b1
    hidden = np.tanh(hidden_input)
    logit = hidden @ W2_ + b2
    probability = 1.0 / (1.0 + np.exp(-logit))

    # Sigmoid with binary cross-entropy: dL/dz = p - y, weighted by w_i / S.
    output_delta = (
        (probability - Y_TINY[:, None]) * sample_weight[:, None] / total_weight
    )
    grad_W2 = hidden.T @ output_delta + ALPHA / total_weight * W2_
    grad_b2 = output_delta.sum(axis=0)

    hidden_delta = (output_delta @ W2_.T) * (1.0 - hidden**2)
    grad_W1 = X_TINY.T @ hidden_delta + ALPHA / total_weight * W1_
    grad_b1 = hidden_delta.sum(axis=0)
    return [grad_W1, grad_b1, grad_W2, grad_b2]


def clip_by_hand(grads, max_grad_norm, clip_mode):
    if max_grad_norm is None:
        return grads
    if clip_mode == "global":
        norm = np.sqrt(sum(np.sum(g**2) for g in grads))
        scale = min(1.0, max_grad_norm / norm)
        return [g * scale for g in grads]
    return [g * min(1.0, max_grad_norm / np.linalg.norm(g)) for g in grads]


def make_tiny_classifier(**params):
    settings = {
        "hidden_layer_sizes": (2,),
        "activation": "tanh",
        "alpha": ALPHA,
        "batch_size": 10,
        "shuffle": False,
        "learning_rate": "constant",
        "learning_rate_init": LEARNING_RATE,
        "max_grad_norm": None,
        "random_state": 0,
    }
    settings.update(params)
    return ScratchMLPClassifier(**settings)


def fitted_weights(clf):
    return [clf.coefs_[0], clf.intercepts_[0], clf.coefs_[1], clf.intercepts_[1]]


def assert_weights_equal(clf, expected_weights):
    for name, actual, expected in zip(
        ["W1", "b1", "W2", "b2"], fitted_weights(clf), expected_weights, strict=True
    ):
        np.testing.assert_allclose(
            actual, expected, rtol=1e-12, atol=1e-15, err_msg=name
        )


@pytest.mark.parametrize("sample_weight", [None, np.array([1.0, 3.0])])
def test_partial_fit_one_sgd_step(fixed_initialization, sample_weight):
    clf = make_tiny_classifier()
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1], sample_weight=sample_weight)

    weights = [W1, B1, W2, B2]
    grads = hand_gradients(
        weights, np.ones(2) if sample_weight is None else sample_weight
    )
    expected = [w - LEARNING_RATE * g for w, g in zip(weights, grads)]
    assert_weights_equal(clf, expected)


def test_partial_fit_hand_worked_numbers(fixed_initialization):
    # The same step as above, for the first hidden weight, as plain numbers:
    # the hidden inputs of sample 1 are 0.05 - 0.4 + 0.05 and -0.1 - 0.3 - 0.1.
    clf = make_tiny_classifier(alpha=0.0)
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    h1 = np.tanh([-0.3, -0.5])
    h2 = np.tanh([0.15 + 0.8 + 0.05, -0.3 + 0.6 - 0.1])
    p1 = 1 / (1 + np.exp(-(0.7 * h1[0] - 0.5 * h1[1] + 0.2)))
    p2 = 1 / (1 + np.exp(-(0.7 * h2[0] - 0.5 * h2[1] + 0.2)))
    grad_w11 = (
        0.5 * (p1 - 0) * 0.7 * (1 - h1[0] ** 2)
        + 1.5 * (p2 - 1) * 0.7 * (1 - h2[0] ** 2)
    ) / 2

    assert clf.coefs_[0][0, 0] == pytest.approx(
        0.1 - LEARNING_RATE * grad_w11, rel=1e-13
    )


@pytest.mark.parametrize("sample_weight", [None, np.array([1.0, 3.0])])
def test_partial_fit_loss_at_step_weights(fixed_initialization, sample_weight):
    # A full-batch epoch reports the objective at the weights its gradient
    # was computed at: the cross-entropy plus alpha / (2 S) * sum(W ** 2).
    clf = make_tiny_classifier()
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1], sample_weight=sample_weight)

    weights = np.ones(2) if sample_weight is None else sample_weight
    hidden = np.tanh(X_TINY @ W1 + B1)
    probability = 1.0 / (1.0 + np.exp(-(hidden @ W2 + B2)[:, 0]))
    cross_entropy = -(
        Y_TINY * np.log(probability) + (1 - Y_TINY) * np.log(1 - probability)
    )
    penalty = ALPHA / (2 * weights.sum()) * (np.sum(W1**2) + np.sum(W2**2))
    expected = np.sum(weights * cross_entropy) / weights.sum() + penalty

    assert clf.loss_ == pytest.approx(expected, rel=1e-13)
    assert clf.loss_curve_ == [clf.loss_]


SOLVER_CASES = {
    "momentum": {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": False},
    "nesterov": {"solver": "sgd", "momentum": 0.9, "nesterovs_momentum": True},
    "adam": {"solver": "adam", "beta_1": 0.8, "beta_2": 0.95, "epsilon": 1e-3},
}


@pytest.mark.parametrize("solver", SOLVER_CASES)
def test_partial_fit_two_solver_steps(fixed_initialization, solver):
    clf = make_tiny_classifier(**SOLVER_CASES[solver])
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])
    clf.partial_fit(X_TINY, Y_TINY)

    lr = LEARNING_RATE
    weights = [W1, B1, W2, B2]
    velocities = [np.zeros_like(w) for w in weights]
    first_moments = [np.zeros_like(w) for w in weights]
    second_moments = [np.zeros_like(w) for w in weights]

    for step in (1, 2):
        grads = hand_gradients(weights, np.ones(2))
        updated = []
        for k, (w, g) in enumerate(zip(weights, grads)):
            if solver == "adam":
                first_moments[k] = 0.8 * first_moments[k] + 0.2 * g
                second_moments[k] = 0.95 * second_moments[k] + 0.05 * g**2
                rate = lr * np.sqrt(1 - 0.95**step) / (1 - 0.8**step)
                updated.append(
                    w - rate * first_moments[k] / (np.sqrt(second_moments[k]) + 1e-3)
                )
            else:
                velocities[k] = 0.9 * velocities[k] - lr * g
                if solver == "nesterov":
                    updated.append(w + 0.9 * velocities[k] - lr * g)
                else:
                    updated.append(w + velocities[k])
        weights = updated

    assert_weights_equal(clf, weights)
    assert clf.n_iter_ == 2


def test_partial_fit_inverse_time_second_step(fixed_initialization):
    clf = make_tiny_classifier(learning_rate="inverse_time", learning_rate_decay=0.5)
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])
    clf.partial_fit(X_TINY, Y_TINY)

    weights = [W1, B1, W2, B2]
    for rate in (LEARNING_RATE, LEARNING_RATE / (1 + 0.5 * 1)):
        grads = hand_gradients(weights, np.ones(2))
        weights = [w - rate * g for w, g in zip(weights, grads)]

    assert_weights_equal(clf, weights)
    assert [record["learning_rate"] for record in clf.history_] == [0.5, 0.5 / 1.5]


@pytest.mark.parametrize("clip_mode", ["per_layer", "global"])
def test_partial_fit_clipped_step(fixed_initialization, clip_mode):
    # 0.02 is below every group's norm, so every group is rescaled.
    max_grad_norm = 0.02
    clf = make_tiny_classifier(max_grad_norm=max_grad_norm, clip_mode=clip_mode)
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    weights = [W1, B1, W2, B2]
    grads = hand_gradients(weights, np.ones(2))
    clipped = clip_by_hand(grads, max_grad_norm, clip_mode)
    expected = [w - LEARNING_RATE * g for w, g in zip(weights, clipped)]
    assert_weights_equal(clf, expected)

    # history_ contains the norms before clipping. The per_layer groups are
    # the weight matrices in layer order, then the bias vectors.
    if clip_mode == "global":
        norms = [np.sqrt(sum(np.sum(g**2) for g in grads))]
    else:
        norms = [np.linalg.norm(grads[k]) for k in (0, 2, 1, 3)]
    assert min(norms) > max_grad_norm
    np.testing.assert_allclose(clf.history_[0]["grad_norms"], norms, rtol=1e-12)
    assert clf.history_[0]["grad_norm"] == pytest.approx(max(norms), rel=1e-12)
    assert clf.history_[0]["clip_fraction"] == 1.0


def test_partial_fit_classes_missing():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,))
    with pytest.raises(ValueError, match="classes is missing"):
        clf.partial_fit(X_TINY, Y_TINY)
    assert not hasattr(clf, "coefs_")


def test_partial_fit_classes_differ():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,)).partial_fit(
        X_TINY, Y_TINY, classes=[0, 1, 2]
    )
    coefs = [W.copy() for W in clf.coefs_]

    with pytest.raises(ValueError, match=r"classes=\[0, 1\] differs from the classes"):
        clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])
    for before, after in zip(coefs, clf.coefs_):
        np.testing.assert_array_equal(before, after)


def test_partial_fit_same_classes_accepted():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,)).partial_fit(
        X_TINY, Y_TINY, classes=[2, 0, 1]
    )
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1, 2])

    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.n_iter_ == 2


@pytest.mark.parametrize("first_call", [True, False])
def test_partial_fit_unknown_label(first_call):
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,))
    if not first_call:
        clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    with pytest.raises(ValueError, match=r"labels not in classes_: \[7\]"):
        clf.partial_fit(
            X_TINY, np.array([0, 7]), classes=None if not first_call else [0, 1]
        )


def test_partial_fit_counts_epochs_and_samples():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,), batch_size=1)
    for _ in range(3):
        clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    assert clf.n_iter_ == 3
    assert clf.t_ == 6
    assert len(clf.loss_curve_) == 3
    assert [record["epoch"] for record in clf.history_] == [1, 2, 3]


def test_partial_fit_no_convergence_warning():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,), max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    assert clf.n_iter_ == 1


def test_partial_fit_balanced_class_weight_rejected():
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,), class_weight="balanced")
    with pytest.raises(
        ValueError, match="class_weight='balanced' is invalid in partial_fit"
    ):
        clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])


def test_partial_fit_class_weight_dict(fixed_initialization):
    clf = make_tiny_classifier(class_weight={0: 2.0, 1: 0.5})
    clf.partial_fit(X_TINY, Y_TINY, classes=[0, 1])

    weights = [W1, B1, W2, B2]
    grads = hand_gradients(weights, np.array([2.0, 0.5]))
    assert_weights_equal(clf, [w - LEARNING_RATE * g for w, g in zip(weights, grads)])


def test_partial_fit_multilabel_needs_no_classes():
    Y = np.array([[0, 1, 1], [1, 0, 1]])
    clf = ScratchMLPClassifier(hidden_layer_sizes=(3,)).partial_fit(X_TINY, Y)

    np.testing.assert_array_equal(clf.classes_, [0, 1, 2])
    assert clf.predict(X_TINY).shape == (2, 3)
