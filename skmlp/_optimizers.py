"""Update rules for the flat parameter array.

Each optimizer updates ``params`` in place from ``grads`` at a learning rate
that the caller takes from a schedule, and keeps its own state (velocities,
moment estimates) between calls, so that ``partial_fit`` can continue it.
``step`` may overwrite ``grads``: the training loop recomputes them for every
mini-batch.
"""

import numpy as np


class SGDOptimizer:
    """Mini-batch gradient descent, optionally with (Nesterov) momentum.

    With ``momentum = 0`` the update is ``params -= lr * grads``. Otherwise, with
    velocities ``v`` that start at zero::

        v = momentum * v - lr * grads
        params += v                            (classical momentum)
        params += momentum * v - lr * grads    (Nesterov's momentum)

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    momentum : float, default=0.0
    nesterov : bool, default=True
    """

    def __init__(self, n_params, dtype, *, momentum=0.0, nesterov=True):
        self.momentum = momentum
        self.nesterov = nesterov
        self.velocities = np.zeros(n_params, dtype=dtype) if momentum > 0 else None
        self.n_steps = 0

    def step(self, params, grads, learning_rate):
        """Apply one update to ``params`` in place."""
        self.n_steps += 1

        # grads becomes lr * grads.
        grads *= learning_rate

        if self.velocities is None:
            params -= grads
            return

        self.velocities *= self.momentum
        self.velocities -= grads

        if self.nesterov:
            params += self.momentum * self.velocities
            params -= grads
        else:
            params += self.velocities


class AdamOptimizer:
    """Adam (Kingma and Ba, 2015).

    With first and second moment estimates ``m`` and ``v`` that start at zero,
    and ``t`` the number of steps taken including this one::

        m = beta_1 * m + (1 - beta_1) * grads
        v = beta_2 * v + (1 - beta_2) * grads ** 2
        lr_t = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        params -= lr_t * m / (sqrt(v) + epsilon)

    ``lr_t`` folds the bias corrections of ``m`` and ``v`` into the learning rate.

    Parameters
    ----------
    n_params : int
    dtype : numpy dtype
    beta_1 : float, default=0.9
    beta_2 : float, default=0.999
    epsilon : float, default=1e-8
    """

    def __init__(self, n_params, dtype, *, beta_1=0.9, beta_2=0.999, epsilon=1e-8):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.first_moments = np.zeros(n_params, dtype=dtype)
        self.second_moments = np.zeros(n_params, dtype=dtype)
        self._scratch = np.empty(n_params, dtype=dtype)
        self.n_steps = 0

    def step(self, params, grads, learning_rate):
        """Apply one update to ``params`` in place."""
        self.n_steps += 1
        scratch = self._scratch

        self.first_moments *= self.beta_1
        np.multiply(grads, 1 - self.beta_1, out=scratch)
        self.first_moments += scratch

        self.second_moments *= self.beta_2
        np.multiply(grads, grads, out=scratch)
        scratch *= 1 - self.beta_2
        self.second_moments += scratch

        corrected_rate = (
            learning_rate
            * np.sqrt(1 - self.beta_2**self.n_steps)
            / (1 - self.beta_1**self.n_steps)
        )
        np.sqrt(self.second_moments, out=scratch)
        scratch += self.epsilon
        np.divide(self.first_moments, scratch, out=scratch)
        scratch *= corrected_rate
        params -= scratch
