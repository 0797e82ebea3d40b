"""Gradient clipping against its formula, and its record in ``history_``."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skmlp import ScratchMLPClassifier
from skmlp._clipping import GradientClipper
from skmlp._network import ParameterLayout

# Groups of a (3, 4, 2) network in flat order: W0 (12), b0 (4), W1 (8), b1 (2).
LAYOUT = ParameterLayout((3, 4, 2))
GROUPS = [slice(0, 12), slice(12, 16), slice(16, 24), slice(24, 26)]
MAX_NORM = 1.0


@pytest.fixture
def no_warnings():
    """Turn every warning and floating-point error into an exception."""
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        yield


def make_grads(rng, group_norms):
    """Return a flat gradient whose groups have the given L2 norms."""
    grads = np.empty(LAYOUT.size)
    for group, norm in zip(GROUPS, group_norms):
        direction = rng.normal(size=group.stop - group.start)
        grads[group] = direction * (norm / np.linalg.norm(direction))
    return grads


def test_clip_per_layer_rescales_large_groups(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, "per_layer", np.float64)
    grads = make_grads(rng, [3.0, 0.5, 1.7, 0.2])
    original = grads.copy()

    norms = clipper.norms(grads)
    clipped = clipper.clip(grads, norms)

    assert clipped
    np.testing.assert_allclose(norms, [3.0, 0.5, 1.7, 0.2], rtol=1e-14)
    for index in (0, 2):
        group = GROUPS[index]
        assert np.linalg.norm(grads[group]) == pytest.approx(MAX_NORM, rel=1e-14)
        np.testing.assert_allclose(
            grads[group], original[group] * (MAX_NORM / norms[index]), rtol=1e-15
        )
    for index in (1, 3):
        group = GROUPS[index]
        assert grads[group].tobytes() == original[group].tobytes()


def test_clip_global_rescales_all(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, "global", np.float64)
    grads = make_grads(rng, [3.0, 0.5, 1.7, 0.2])
    original = grads.copy()

    norms = clipper.norms(grads)
    clipped = clipper.clip(grads, norms)

    total = np.sqrt(3.0**2 + 0.5**2 + 1.7**2 + 0.2**2)
    assert clipped
    np.testing.assert_allclose(norms, [total], rtol=1e-14)
    assert np.linalg.norm(grads) == pytest.approx(MAX_NORM, rel=1e-14)
    np.testing.assert_allclose(grads, original * (MAX_NORM / total), rtol=1e-15)


@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_below_bound_untouched(rng, mode, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, mode, np.float64)
    grads = make_grads(rng, [0.4, 0.5, 0.3, 0.2])
    original = grads.copy()

    clipped = clipper.clip(grads, clipper.norms(grads))

    assert not clipped
    assert grads.tobytes() == original.tobytes()


def test_clip_at_bound_untouched(no_warnings):
    # A norm of exactly 5 is not above a bound of 5.
    layout = ParameterLayout((1, 1))
    clipper = GradientClipper(layout, 5.0, "global", np.float64)
    grads = np.array([3.0, 4.0])

    clipped = clipper.clip(grads, clipper.norms(grads))

    assert not clipped
    np.testing.assert_array_equal(grads, [3.0, 4.0])


@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_zero_gradient(mode, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, mode, np.float64)
    grads = np.zeros(LAYOUT.size)

    norms = clipper.norms(grads)
    clipped = clipper.clip(grads, norms)

    assert not clipped
    assert np.all(norms == 0.0)
    assert np.all(grads == 0.0)


def test_clip_zero_group_beside_large_group(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, "per_layer", np.float64)
    grads = make_grads(rng, [3.0, 1.0, 1.0, 1.0])
    grads[GROUPS[1]] = 0.0

    clipper.clip(grads, clipper.norms(grads))

    assert np.all(grads[GROUPS[1]] == 0.0)
    assert np.linalg.norm(grads[GROUPS[0]]) == pytest.approx(MAX_NORM, rel=1e-14)


@pytest.mark.parametrize("bad_value", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("mode", ["per_layer", "global"])
def test_clip_non_finite_gradient(rng, mode, bad_value, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, mode, np.float64)
    grads = make_grads(rng, [0.5, 0.5, 0.5, 0.5])
    grads[3] = bad_value
    original = grads.copy()

    norms = clipper.norms(grads)
    clipper.clip(grads, norms)

    # The bad value stays as it is, for the divergence check to find, and no
    # NaN appears where the gradient was finite.
    assert not np.isfinite(norms[0])
    np.testing.assert_array_equal(grads[3], original[3])
    finite = np.isfinite(original)
    assert np.all(np.isfinite(grads[finite]))


def test_clip_non_finite_group_leaves_others_clipped(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, "per_layer", np.float64)
    grads = make_grads(rng, [0.5, 4.0, 0.5, 0.5])
    grads[0] = np.inf

    clipper.clip(grads, clipper.norms(grads))

    assert grads[0] == np.inf
    assert np.linalg.norm(grads[GROUPS[1]]) == pytest.approx(MAX_NORM, rel=1e-14)


def test_clip_without_bound_measures_only(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, None, "per_layer", np.float64)
    grads = make_grads(rng, [30.0, 20.0, 10.0, 5.0])
    original = grads.copy()

    norms = clipper.norms(grads)

    assert not clipper.clip(grads, norms)
    np.testing.assert_allclose(norms, [30.0, 20.0, 10.0, 5.0], rtol=1e-14)
    assert grads.tobytes() == original.tobytes()


def test_clip_float32(rng, no_warnings):
    clipper = GradientClipper(LAYOUT, MAX_NORM, "global", np.float32)
    grads = make_grads(rng, [3.0, 2.0, 1.0, 1.0]).astype(np.float32)

    clipper.clip(grads, clipper.norms(grads))

    assert grads.dtype == np.float32
    assert np.linalg.norm(grads.astype(np.float64)) == pytest.approx(MAX_NORM, rel=1e-6)


def spy_on_measures(monkeypatch):
    """Wrap ``GradientClipper.squared_norms``; return the list of each call's norms.

    Training measures every mini-batch's gradient with it once, before
    clipping.
    """
    measured = []
    real_squared_norms = GradientClipper.squared_norms

    def squared_norms(clipper, grads):
        squares = real_squared_norms(clipper, grads)
        measured.append(np.sqrt(squares))
        return squares

    monkeypatch.setattr(GradientClipper, "squared_norms", squared_norms)
    return measured


@pytest.mark.parametrize("mode, max_grad_norm", [("per_layer", 0.3), ("global", 0.7)])
def test_history_records_norms_before_clipping(
    rng, seed, monkeypatch, mode, max_grad_norm
):
    measured = spy_on_measures(monkeypatch)
    X = rng.normal(size=(32, 3))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)

    # 4 steps per epoch; a bound near the typical norm clips some steps only.
    clf = ScratchMLPClassifier(
        hidden_layer_sizes=(4,),
        batch_size=8,
        learning_rate_init=0.5,
        max_grad_norm=max_grad_norm,
        clip_mode=mode,
        max_iter=3,
        random_state=seed,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)

    assert len(measured) == 12
    fractions = []
    for epoch, record in enumerate(clf.history_):
        epoch_norms = measured[4 * epoch : 4 * epoch + 4]
        largest = np.max(epoch_norms, axis=0)
        if mode == "per_layer":
            # The clipper measures W0, b0, W1, b1; history_ lists W0, W1, b0, b1.
            largest = largest[[0, 2, 1, 3]]
        n_clipped = sum(bool(np.any(norms > max_grad_norm)) for norms in epoch_norms)

        np.testing.assert_array_equal(record["grad_norms"], largest)
        assert record["grad_norm"] == largest.max()
        assert record["clip_fraction"] == n_clipped / 4
        fractions.append(record["clip_fraction"])
    assert any(0.0 < fraction < 1.0 for fraction in fractions)
