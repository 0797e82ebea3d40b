"""Fixtures shared by the test modules.

Randomness in tests comes from the ``rng`` fixture, a generator seeded per
test, so no test depends on global numpy state or on the order tests run in.
"""

import numpy as np
import pytest


@pytest.fixture
def seed():
    """Seed of a test's random data and of its estimators' ``random_state``."""
    return 0


@pytest.fixture
def rng(seed):
    """A ``numpy.random.Generator`` seeded with ``seed``."""
    return np.random.default_rng(seed)
