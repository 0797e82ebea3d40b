"""Hidden-layer activations and their derivatives against their formulas."""

import numpy as np
import pytest

from skmlp._activations import ACTIVATIONS, DERIVATIVES

FORMULAS = {
    "identity": lambda Z: Z,
    "logistic": lambda Z: 1.0 / (1.0 + np.exp(-Z)),
    "tanh": lambda Z: (np.exp(Z) - np.exp(-Z)) / (np.exp(Z) + np.exp(-Z)),
    "relu": lambda Z: np.where(Z > 0, Z, 0.0),
}


@pytest.fixture
def pre_activations(rng):
    """Values in [-3, 3], none within 1e-3 of ReLU's kink at 0."""
    Z = rng.uniform(-3.0, 3.0, size=(5, 4))
    Z[np.abs(Z) < 1e-3] = 0.5
    return Z


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_formula_in_place(name, pre_activations):
    Z = pre_activations.copy()

    A = ACTIVATIONS[name](Z)

    assert A is Z
    np.testing.assert_allclose(
        A, FORMULAS[name](pre_activations), rtol=1e-14, atol=1e-15
    )


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_finite_differences(name, pre_activations, rng):
    step = 1e-6
    A = ACTIVATIONS[name](pre_activations.copy())
    delta = rng.normal(size=A.shape)

    result = DERIVATIVES[name](A, delta.copy())

    slope = (
        FORMULAS[name](pre_activations + step) - FORMULAS[name](pre_activations - step)
    ) / (2 * step)
    np.testing.assert_allclose(result, delta * slope, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_derivative_in_place(name, pre_activations, rng):
    A = ACTIVATIONS[name](pre_activations.copy())
    delta = rng.normal(size=A.shape)

    assert DERIVATIVES[name](A, delta) is delta


def test_relu_derivative_zero_at_kink():
    A = ACTIVATIONS["relu"](np.array([[-1.0, 0.0, 2.0]]))

    result = DERIVATIVES["relu"](A, np.ones((1, 3)))

    np.testing.assert_array_equal(result, [[0.0, 0.0, 1.0]])


@pytest.mark.parametrize("name", ["logistic", "tanh"])
def test_saturated_activation_finite(name):
    Z = np.array([[-800.0, 800.0]])

    with np.errstate(over="ignore"):
        A = ACTIVATIONS[name](Z)

    assert np.all(np.isfinite(A))
    np.testing.assert_allclose(DERIVATIVES[name](A, np.ones_like(A)), 0.0, atol=1e-300)
