"""Tests of the training-curve display in ``skmlp.inspection``."""

import sys

import matplotlib
import matplotlib.image
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skmlp import ScratchMLPClassifier
from skmlp.inspection import TrainingCurveDisplay, save_training_curve


@pytest.fixture(autouse=True)
def agg_backend():
    """Draw off screen, so the tests run without a display."""
    matplotlib.use("Agg")


@pytest.fixture
def data(rng):
    """A small two-class problem that a one-hidden-layer network learns."""
    X = rng.normal(size=(120, 4))
    y = (X[:, 0] + X[:, 1] ** 2 > 1).astype(int)
    return X, y


@pytest.fixture
def figure_ax():
    """A fresh figure and axis, closed after the test."""
    import matplotlib.pyplot as plt

    figure, ax = plt.subplots()
    yield figure, ax
    plt.close("all")


def _fit(X, y, seed, **params):
    defaults = {"hidden_layer_sizes": (8,), "max_iter": 6, "random_state": seed}
    clf = ScratchMLPClassifier(**{**defaults, **params})
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        return clf.fit(X, y)


def _column(history, key):
    return np.array([record[key] for record in history], dtype=float)


def test_display_draws_history(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed, max_grad_norm=0.5)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)

    history = clf.history_
    assert_array_equal(display.loss_line_.get_xdata(), np.arange(1, 7))
    assert_allclose(display.loss_line_.get_ydata(), clf.loss_curve_)
    assert_allclose(display.loss_line_.get_ydata(), _column(history, "loss"))
    assert_allclose(
        display.learning_rate_line_.get_ydata(), _column(history, "learning_rate")
    )
    assert_allclose(display.grad_norm_line_.get_ydata(), _column(history, "grad_norm"))
    assert_allclose(display.max_grad_norm_line_.get_ydata(), [0.5, 0.5])
    assert display.validation_line_ is None


def test_display_axes_and_labels(data, seed, figure_ax):
    X, y = data
    figure, ax = figure_ax
    clf = _fit(X, y, seed)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)

    assert display.ax_ is ax
    assert display.figure_ is figure
    assert display.secondary_ax_ is not ax
    assert display.secondary_ax_.get_shared_x_axes().joined(ax, display.secondary_ax_)
    assert display.loss_line_ in ax.get_lines()
    assert display.learning_rate_line_ in display.secondary_ax_.get_lines()
    assert display.grad_norm_line_ in display.secondary_ax_.get_lines()
    assert display.secondary_ax_.get_yscale() == "log"
    assert ax.get_xlabel() == "epoch"
    assert ax.get_ylabel() == "loss, accuracy"
    assert display.secondary_ax_.get_ylabel() == "learning rate, gradient norm"
    assert ax.get_title() == "ScratchMLPClassifier"


def test_display_legend_lists_every_line(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed, early_stopping=True, validation_fraction=0.25)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax, name="early stopping")

    labels = [text.get_text() for text in display.legend_.get_texts()]
    assert labels == [
        "training loss",
        "validation accuracy",
        "learning rate",
        "largest gradient norm before clipping",
        "max_grad_norm",
    ]
    assert ax.get_title() == "early stopping"


def test_display_validation_scores(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed, early_stopping=True, validation_fraction=0.25)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)

    assert_allclose(display.validation_line_.get_ydata(), clf.validation_scores_)
    assert_array_equal(
        display.validation_line_.get_xdata(), np.arange(1, clf.n_iter_ + 1)
    )


def test_display_validation_gap_is_nan(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed, early_stopping=True, validation_fraction=0.25, max_iter=3)
    # partial_fit runs without a validation split, so its epochs have no score.
    clf.partial_fit(X, y)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)

    scores = display.validation_line_.get_ydata()
    assert len(scores) == 4
    assert_allclose(scores[:3], clf.validation_scores_)
    assert np.isnan(scores[3])


def test_display_no_clipping_line(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed, max_grad_norm=None)

    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)

    assert display.max_grad_norm_line_ is None
    assert len(display.secondary_ax_.get_lines()) == 2


def test_display_from_pipeline(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    pipeline = make_pipeline(
        StandardScaler(), ScratchMLPClassifier((8,), max_iter=4, random_state=seed)
    )
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        pipeline.fit(X, y)

    display = TrainingCurveDisplay.from_estimator(pipeline, ax=ax)

    assert_allclose(display.loss_line_.get_ydata(), pipeline[-1].loss_curve_)


def test_display_plot_redraws(data, seed, figure_ax):
    import matplotlib.pyplot as plt

    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed)
    display = TrainingCurveDisplay.from_estimator(clf, ax=ax)
    _, other_ax = plt.subplots()

    display.plot(ax=other_ax, secondary_yscale="linear")

    assert display.ax_ is other_ax
    assert display.loss_line_ in other_ax.get_lines()
    assert display.secondary_ax_.get_yscale() == "linear"
    assert_allclose(display.loss_line_.get_ydata(), clf.loss_curve_)


def test_display_creates_axis(data, seed):
    import matplotlib.pyplot as plt

    X, y = data
    clf = _fit(X, y, seed)

    try:
        display = TrainingCurveDisplay.from_estimator(clf)
        assert display.figure_ is display.ax_.figure
        assert len(display.figure_.axes) == 2
    finally:
        plt.close("all")


def test_display_invalid_yscale(data, seed, figure_ax):
    X, y = data
    _, ax = figure_ax
    clf = _fit(X, y, seed)

    with pytest.raises(ValueError, match="Invalid secondary_yscale 'symlog'"):
        TrainingCurveDisplay.from_estimator(clf, ax=ax, secondary_yscale="symlog")


def test_display_not_fitted(figure_ax):
    _, ax = figure_ax
    with pytest.raises(NotFittedError):
        TrainingCurveDisplay.from_estimator(ScratchMLPClassifier(), ax=ax)


def test_display_other_estimator(data, figure_ax):
    X, y = data
    _, ax = figure_ax
    pipeline = make_pipeline(StandardScaler(), LogisticRegression()).fit(X, y)

    with pytest.raises(TypeError, match="got LogisticRegression, which records no"):
        TrainingCurveDisplay.from_estimator(pipeline, ax=ax)


def test_display_without_matplotlib(data, seed, monkeypatch):
    X, y = data
    clf = _fit(X, y, seed)
    # A None entry in sys.modules makes the import statement raise ImportError.
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)

    with pytest.raises(ImportError, match=r'pip install "skmlp\[plot\]"'):
        TrainingCurveDisplay.from_estimator(clf)


def test_save_training_curve_png(data, seed, tmp_path):
    import matplotlib.pyplot as plt

    X, y = data
    clf = _fit(X, y, seed)
    path = tmp_path / "curves.png"
    open_figures = plt.get_fignums()

    display = save_training_curve(clf, path, dpi=50, figsize=(4, 3))

    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = matplotlib.image.imread(path)
    assert image.shape[:2] == (150, 200)
    assert_allclose(display.loss_line_.get_ydata(), clf.loss_curve_)
    assert plt.get_fignums() == open_figures


def test_save_training_curve_format(data, seed, tmp_path):
    X, y = data
    clf = _fit(X, y, seed)
    path = tmp_path / "curves.tmp"

    save_training_curve(clf, path, format="svg")

    assert path.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert "<svg" in path.read_text(encoding="utf-8")
