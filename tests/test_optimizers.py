"""Update rules checked against updates written out by hand.

Every expected value below is computed in the test from the same gradients,
with the formulas of SGD, momentum, Nesterov's momentum and Adam. No expected
value comes from the optimizer code.
"""

import numpy as np
import pytest

from skmlp._optimizers import AdamOptimizer, SGDOptimizer

PARAMS = np.array([0.5, -1.25, 2.0, 0.0])
FIRST_GRADS = np.array([0.2, -0.4, 1.5, -3.0])
SECOND_GRADS = np.array([-0.1, 0.3, 0.5, 2.0])
LEARNING_RATE = 0.1
MOMENTUM = 0.9


def take_step(optimizer, params, grads, learning_rate=LEARNING_RATE):
    # step may overwrite grads, so it gets a copy.
    optimizer.step(params, grads.copy(), learning_rate)


def test_sgd_plain_step():
    params = PARAMS.copy()
    take_step(SGDOptimizer(4, np.float64), params, FIRST_GRADS)

    expected = np.array(
        [0.5 - 0.1 * 0.2, -1.25 + 0.1 * 0.4, 2.0 - 0.1 * 1.5, 0.0 + 0.1 * 3.0]
    )
    np.testing.assert_allclose(params, expected, rtol=1e-15, atol=1e-15)


def test_sgd_plain_keeps_no_velocities():
    optimizer = SGDOptimizer(4, np.float64, momentum=0.0)
    assert optimizer.velocities is None


@pytest.mark.parametrize("learning_rate", [0.1, 0.03])
def test_sgd_momentum_two_steps(learning_rate):
    params = PARAMS.copy()
    optimizer = SGDOptimizer(4, np.float64, momentum=MOMENTUM, nesterov=False)
    take_step(optimizer, params, FIRST_GRADS, learning_rate)
    take_step(optimizer, params, SECOND_GRADS, learning_rate)

    # v1 = -lr g1, p1 = p0 + v1; v2 = 0.9 v1 - lr g2, p2 = p1 + v2.
    velocity_1 = -learning_rate * FIRST_GRADS
    params_1 = PARAMS + velocity_1
    velocity_2 = 0.9 * velocity_1 - learning_rate * SECOND_GRADS
    params_2 = params_1 + velocity_2

    np.testing.assert_allclose(params, params_2, rtol=1e-14, atol=1e-15)
    np.testing.assert_allclose(optimizer.velocities, velocity_2, rtol=1e-14, atol=1e-15)


def test_sgd_nesterov_two_steps():
    params = PARAMS.copy()
    optimizer = SGDOptimizer(4, np.float64, momentum=MOMENTUM, nesterov=True)
    take_step(optimizer, params, FIRST_GRADS)

    # Nesterov: v1 = -lr g1, p1 = p0 + 0.9 v1 - lr g1.
    velocity_1 = -0.1 * FIRST_GRADS
    params_1 = PARAMS + 0.9 * velocity_1 - 0.1 * FIRST_GRADS
    np.testing.assert_allclose(params, params_1, rtol=1e-14, atol=1e-15)

    take_step(optimizer, params, SECOND_GRADS)
    velocity_2 = 0.9 * velocity_1 - 0.1 * SECOND_GRADS
    params_2 = params_1 + 0.9 * velocity_2 - 0.1 * SECOND_GRADS
    np.testing.assert_allclose(params, params_2, rtol=1e-14, atol=1e-15)


def test_sgd_nesterov_differs_from_classical():
    classical = PARAMS.copy()
    nesterov = PARAMS.copy()
    take_step(
        SGDOptimizer(4, np.float64, momentum=MOMENTUM, nesterov=False),
        classical,
        FIRST_GRADS,
    )
    take_step(
        SGDOptimizer(4, np.float64, momentum=MOMENTUM, nesterov=True),
        nesterov,
        FIRST_GRADS,
    )

    # After one step Nesterov has moved 1.9 times as far as classical momentum.
    np.testing.assert_allclose(
        nesterov - PARAMS, 1.9 * (classical - PARAMS), rtol=1e-14
    )


@pytest.mark.parametrize("epsilon", [1e-8, 0.5])
def test_adam_two_steps(epsilon):
    # epsilon=0.5 makes the place where epsilon enters the formula visible.
    beta_1, beta_2, lr = 0.8, 0.99, 0.05
    params = PARAMS.copy()
    optimizer = AdamOptimizer(
        4, np.float64, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon
    )
    take_step(optimizer, params, FIRST_GRADS, lr)
    take_step(optimizer, params, SECOND_GRADS, lr)

    first_1 = 0.2 * FIRST_GRADS
    second_1 = 0.01 * FIRST_GRADS**2
    rate_1 = lr * np.sqrt(1 - 0.99) / (1 - 0.8)
    params_1 = PARAMS - rate_1 * first_1 / (np.sqrt(second_1) + epsilon)

    first_2 = 0.8 * first_1 + 0.2 * SECOND_GRADS
    second_2 = 0.99 * second_1 + 0.01 * SECOND_GRADS**2
    rate_2 = lr * np.sqrt(1 - 0.99**2) / (1 - 0.8**2)
    params_2 = params_1 - rate_2 * first_2 / (np.sqrt(second_2) + epsilon)

    np.testing.assert_allclose(params, params_2, rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(optimizer.first_moments, first_2, rtol=1e-14)
    np.testing.assert_allclose(optimizer.second_moments, second_2, rtol=1e-14)
    assert optimizer.n_steps == 2


def test_adam_first_step_size_is_learning_rate():
    # With epsilon negligible, the bias-corrected first step moves every
    # parameter with a nonzero gradient by exactly lr, against the gradient's sign.
    params = PARAMS.copy()
    take_step(AdamOptimizer(4, np.float64, epsilon=1e-12), params, FIRST_GRADS, 0.01)

    np.testing.assert_allclose(params - PARAMS, -0.01 * np.sign(FIRST_GRADS), rtol=1e-8)


@pytest.mark.parametrize(
    "make_optimizer",
    [
        lambda: SGDOptimizer(4, np.float32),
        lambda: SGDOptimizer(4, np.float32, momentum=0.9),
        lambda: AdamOptimizer(4, np.float32),
    ],
    ids=["sgd", "momentum", "adam"],
)
def test_optimizer_step_keeps_float32(make_optimizer):
    params = PARAMS.astype(np.float32)
    take_step(make_optimizer(), params, FIRST_GRADS.astype(np.float32))

    assert params.dtype == np.float32
    assert np.all(params != PARAMS.astype(np.float32))
