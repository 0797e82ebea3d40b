"""Output activations and cross-entropy losses, computed from the logits.

The losses take the output layer's logits ``Z`` rather than probabilities, so they
never evaluate ``log(0)`` and never overflow: for ``|Z|`` of 1e4 they stay finite in
float32 and float64. The output activations run once per mini-batch, so they leave
the floating-point error state to the caller: an exponential that underflows to 0
is the correct result there, and callers that may run under
``np.errstate(under="raise")`` ignore underflow around them.
"""

import numpy as np
from scipy.special import expit, log_expit, logsumexp


def sigmoid(Z, out=None):
    """Return ``1 / (1 + exp(-Z))``, computed without overflow."""
    return expit(Z, out=out)


def softmax(Z, out=None):
    """Return the row-wise softmax of ``Z``, computed without overflow.

    The row maximum is subtracted before the exponential, which leaves the result
    unchanged and keeps every exponent at or below zero.
    """
    if out is None:
        out = np.empty_like(Z)

    np.subtract(Z, Z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


def log_sigmoid(Z):
    """Return ``log(sigmoid(Z))``, exact for large ``|Z|``."""
    with np.errstate(under="ignore"):
        return log_expit(Z)


def log_softmax(Z):
    """Return the row-wise ``log(softmax(Z))``, exact for large ``|Z|``."""
    with np.errstate(under="ignore"):
        return Z - logsumexp(Z, axis=1, keepdims=True)


def binary_log_loss(Y, Z, sample_weight=None):
    """Return the weighted mean binary cross-entropy of logits ``Z`` against ``Y``.

    Per sample, the loss is summed over the output columns (one column for a
    binary target, one per label for a multilabel target) using
    ``-y log(sigmoid(z)) - (1 - y) log(1 - sigmoid(z)) = max(z, 0) - z y + log(1 + exp(-|z|))``.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_outputs)
        Targets in {0, 1}.
    Z : ndarray of shape (n_samples, n_outputs)
        Logits of the output layer.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the samples; ``None`` weighs every sample 1.

    Returns
    -------
    loss : float
    """
    with np.errstate(under="ignore"):
        per_output = np.maximum(Z, 0) - Z * Y + np.log1p(np.exp(-np.abs(Z)))
    return _weighted_mean(per_output.sum(axis=1), sample_weight)


def categorical_log_loss(Y, Z, sample_weight=None):
    """Return the weighted mean categorical cross-entropy of logits ``Z``.

    Per sample, the loss is ``logsumexp(z) - sum(y * z)``, which equals
    ``-sum(y * log(softmax(z)))`` without forming the probabilities.

    Parameters
    ----------
    Y : ndarray of shape (n_samples, n_classes)
        One-hot targets.
    Z : ndarray of shape (n_samples, n_classes)
        Logits of the output layer.
    sample_weight : ndarray of shape (n_samples,), default=None
        Weights of the samples; ``None`` weighs every sample 1.

    Returns
    -------
    loss : float
    """
    with np.errstate(under="ignore"):
        per_sample = logsumexp(Z, axis=1) - (Y * Z).sum(axis=1)
    return _weighted_mean(per_sample, sample_weight)


def _weighted_mean(values, sample_weight):
    if sample_weight is None:
        return float(np.mean(values, dtype=np.float64))

    total_weight = float(np.sum(sample_weight, dtype=np.float64))
    return float(np.dot(values.astype(np.float64), sample_weight)) / total_weight


OUTPUT_ACTIVATIONS = {"logistic": sigmoid, "softmax": softmax}

LOG_OUTPUT_ACTIVATIONS = {"logistic": log_sigmoid, "softmax": log_softmax}

LOSS_FUNCTIONS = {"logistic": binary_log_loss, "softmax": categorical_log_loss}
