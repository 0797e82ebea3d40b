"""Output activations and cross-entropy losses, checked against their definitions."""

import numpy as np
import pytest

from skmlp._losses import (
    binary_log_loss,
    categorical_log_loss,
    log_sigmoid,
    log_softmax,
    sigmoid,
    softmax,
)


@pytest.fixture
def raise_on_float_errors():
    with np.errstate(all="raise"):
        yield


def test_binary_log_loss_definition(rng):
    Z = rng.uniform(-3, 3, size=(6, 3))
    Y = rng.integers(0, 2, size=(6, 3)).astype(float)

    p = 1 / (1 + np.exp(-Z))
    expected = np.mean(np.sum(-Y * np.log(p) - (1 - Y) * np.log(1 - p), axis=1))

    assert binary_log_loss(Y, Z) == pytest.approx(expected, rel=1e-13)


def test_categorical_log_loss_definition(rng):
    Z = rng.uniform(-3, 3, size=(6, 4))
    Y = np.eye(4)[rng.integers(0, 4, size=6)]

    p = np.exp(Z) / np.exp(Z).sum(axis=1, keepdims=True)
    expected = np.mean(-np.sum(Y * np.log(p), axis=1))

    assert categorical_log_loss(Y, Z) == pytest.approx(expected, rel=1e-13)


@pytest.mark.parametrize("loss", [binary_log_loss, categorical_log_loss])
def test_loss_weighted_mean_equals_repeated_rows(loss, rng):
    Z = rng.uniform(-2, 2, size=(4, 3))
    Y = np.eye(3)[[0, 2, 1, 2]]
    weights = np.array([1, 3, 0, 2])

    repeated = np.repeat(np.arange(4), weights)

    assert loss(Y, Z, weights.astype(float)) == pytest.approx(
        loss(Y[repeated], Z[repeated]), rel=1e-14
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_binary_log_loss_large_logits(dtype, raise_on_float_errors):
    # A wrong sign costs |z|, and a right one costs exp(-|z|), which is 0 here.
    Z = np.array([[1e4], [-1e4], [1e4], [-1e4]], dtype=dtype)
    Y = np.array([[0.0], [1.0], [1.0], [0.0]], dtype=dtype)

    assert binary_log_loss(Y, Z) == pytest.approx(0.5 * 1e4, rel=1e-7)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_categorical_log_loss_large_logits(dtype, raise_on_float_errors):
    Z = np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]], dtype=dtype)
    Y = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype=dtype)

    assert categorical_log_loss(Y, Z) == pytest.approx(0.5 * 2e4, rel=1e-7)


def test_softmax_large_logits(raise_on_float_errors):
    Z = np.array([[1e4, 0.0, -1e4], [1.0, 2.0, 3.0]])

    with np.errstate(under="ignore"):
        P = softmax(Z)

    np.testing.assert_allclose(P.sum(axis=1), 1.0, rtol=1e-15)
    np.testing.assert_allclose(P[0], [1.0, 0.0, 0.0])
    np.testing.assert_allclose(
        P[1], np.exp([1.0, 2.0, 3.0]) / np.exp([1.0, 2.0, 3.0]).sum(), rtol=1e-15
    )


def test_sigmoid_symmetry(rng):
    Z = rng.uniform(-10, 10, size=20)

    np.testing.assert_allclose(sigmoid(Z) + sigmoid(-Z), 1.0, rtol=1e-15)


def test_log_sigmoid_large_logits(raise_on_float_errors):
    Z = np.array([-1e4, -5.0, 0.0, 5.0, 1e4])

    result = log_sigmoid(Z)

    np.testing.assert_allclose(result[1:4], -np.log1p(np.exp(-Z[1:4])), rtol=1e-14)
    assert result[0] == pytest.approx(-1e4, rel=1e-15)
    assert result[4] == 0.0


def test_log_softmax_large_logits(raise_on_float_errors):
    Z = np.array([[1e4, 0.0, -1e4]])

    np.testing.assert_allclose(log_softmax(Z), [[0.0, -1e4, -2e4]], rtol=1e-15)
