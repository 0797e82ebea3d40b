"""The training-curve display: per-epoch figures of a fitted classifier.

matplotlib is an optional dependency (the ``plot`` extra), so it is imported
inside the functions that draw, never when this module loads.
"""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from skmlp._mlp import ScratchMLPClassifier

_INSTALL_HINT = 'pip install "skmlp[plot]"'


def _import_matplotlib_figure():
    """Return :class:`matplotlib.figure.Figure`, or raise a clear ImportError."""
    try:
        from matplotlib.figure import Figure
    except ImportError as error:
        raise ImportError(
            "TrainingCurveDisplay needs matplotlib, which is not installed. "
            f"Install it with: {_INSTALL_HINT}"
        ) from error
    return Figure


def _import_pyplot():
    """Return :mod:`matplotlib.pyplot`, or raise a clear ImportError."""
    _import_matplotlib_figure()
    import matplotlib.pyplot as plt

    return plt


def _final_estimator(estimator):
    """Return the last step of a Pipeline, or ``estimator`` itself."""
    if isinstance(estimator, Pipeline):
        return estimator[-1]
    return estimator


class TrainingCurveDisplay:
    """Training-curve visualization of a fitted :class:`~skmlp.ScratchMLPClassifier`.

    The main axis shows the training loss and, when the model was fitted with
    ``early_stopping=True``, the validation accuracy of each epoch. A second y
    axis, on the right and on a log scale by default, shows the learning rate
    of each epoch and the largest gradient norm measured before clipping, with
    a dashed line at ``max_grad_norm`` when clipping is on.

    Build it with :meth:`from_estimator`. Create it directly only to plot
    figures recorded elsewhere; :meth:`plot` draws it.

    Parameters
    ----------
    epoch : array-like of shape (n_epochs,)
        Epoch numbers, counted from 1.

    loss : array-like of shape (n_epochs,)
        Training loss of each epoch.

    learning_rate : array-like of shape (n_epochs,)
        Learning rate used in each epoch.

    grad_norm : array-like of shape (n_epochs,)
        Largest gradient norm of each epoch, before clipping.

    validation_score : array-like of shape (n_epochs,), default=None
        Validation accuracy of each epoch; NaN where an epoch has none. None
        draws no validation curve.

    max_grad_norm : float, default=None
        Clipping bound, drawn as a horizontal line; None draws no line.

    estimator_name : str, default=None
        Name used in the title; None draws no title.

    Attributes
    ----------
    loss_line_ : matplotlib Line2D
        Training loss per epoch, on ``ax_``.

    validation_line_ : matplotlib Line2D or None
        Validation accuracy per epoch, on ``ax_``; None without validation
        scores.

    learning_rate_line_ : matplotlib Line2D
        Learning rate per epoch, on ``secondary_ax_``.

    grad_norm_line_ : matplotlib Line2D
        Largest pre-clipping gradient norm per epoch, on ``secondary_ax_``.

    max_grad_norm_line_ : matplotlib Line2D or None
        The clipping bound, on ``secondary_ax_``; None without clipping.

    legend_ : matplotlib Legend
        One legend, on ``ax_``, for the lines of both axes.

    ax_ : matplotlib Axes
        Axis with the loss and the validation accuracy.

    secondary_ax_ : matplotlib Axes
        Axis that shares the x axis of ``ax_`` (from ``ax_.twinx()``), with the
        learning rate and the gradient norm.

    figure_ : matplotlib Figure
        Figure that contains the axes.

    See Also
    --------
    save_training_curve : Draw the curves of a fitted model into a PNG file.
    sklearn.model_selection.LearningCurveDisplay : Scores as a function of the
        number of training samples, for any estimator.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from sklearn.datasets import make_classification
    >>> from skmlp import ScratchMLPClassifier
    >>> from skmlp.inspection import TrainingCurveDisplay
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = ScratchMLPClassifier(
    ...     (8,), tol=1e-2, n_iter_no_change=2, random_state=0
    ... ).fit(X, y)
    >>> display = TrainingCurveDisplay.from_estimator(clf)
    >>> display.loss_line_.get_xdata()[:3]
    array([1, 2, 3])
    >>> len(display.loss_line_.get_ydata()) == clf.n_iter_
    True
    """

    def __init__(
        self,
        *,
        epoch,
        loss,
        learning_rate,
        grad_norm,
        validation_score=None,
        max_grad_norm=None,
        estimator_name=None,
    ):
        self.epoch = epoch
        self.loss = loss
        self.learning_rate = learning_rate
        self.grad_norm = grad_norm
        self.validation_score = validation_score
        self.max_grad_norm = max_grad_norm
        self.estimator_name = estimator_name

    def plot(self, ax=None, *, secondary_yscale="log"):
        """Draw the curves.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Axis for the loss and the validation accuracy. None creates a new
            figure and axis with :func:`matplotlib.pyplot.subplots`.

        secondary_yscale : {"log", "linear"}, default="log"
            Scale of the second y axis. The learning rate and the gradient norm
            usually differ by orders of magnitude, hence the log default.

        Returns
        -------
        display : TrainingCurveDisplay
            This object, with the artists stored in its attributes.
        """
        if secondary_yscale not in ("log", "linear"):
            raise ValueError(
                f"Invalid secondary_yscale {secondary_yscale!r}: expected 'log' "
                "or 'linear'."
            )
        _import_matplotlib_figure()

        if ax is None:
            _, ax = _import_pyplot().subplots()
        secondary_ax = ax.twinx()

        epoch = np.asarray(self.epoch)
        (self.loss_line_,) = ax.plot(
            epoch, self.loss, color="C0", label="training loss"
        )

        self.validation_line_ = None
        if self.validation_score is not None:
            (self.validation_line_,) = ax.plot(
                epoch, self.validation_score, color="C1", label="validation accuracy"
            )

        (self.learning_rate_line_,) = secondary_ax.plot(
            epoch, self.learning_rate, color="C2", linestyle=":", label="learning rate"
        )
        (self.grad_norm_line_,) = secondary_ax.plot(
            epoch,
            self.grad_norm,
            color="C3",
            linestyle="--",
            label="largest gradient norm before clipping",
        )

        self.max_grad_norm_line_ = None
        if self.max_grad_norm is not None:
            self.max_grad_norm_line_ = secondary_ax.axhline(
                self.max_grad_norm,
                color="C3",
                linewidth=0.8,
                alpha=0.6,
                label="max_grad_norm",
            )
        secondary_ax.set_yscale(secondary_yscale)

        ax.set_xlabel("epoch")
        ax.set_ylabel("loss, accuracy")
        secondary_ax.set_ylabel("learning rate, gradient norm")
        if self.estimator_name is not None:
            ax.set_title(self.estimator_name)

        # One legend for both axes, drawn on the secondary axis because that
        # axis is drawn last, so the legend covers the lines of both.
        lines = [
            line
            for line in (
                self.loss_line_,
                self.validation_line_,
                self.learning_rate_line_,
                self.grad_norm_line_,
                self.max_grad_norm_line_,
            )
            if line is not None
        ]
        self.legend_ = secondary_ax.legend(
            lines, [line.get_label() for line in lines], loc="best", fontsize="small"
        )

        self.ax_ = ax
        self.secondary_ax_ = secondary_ax
        self.figure_ = ax.figure
        return self

    @classmethod
    def from_estimator(cls, estimator, *, ax=None, name=None, secondary_yscale="log"):
        """Plot the training curves of a fitted classifier or pipeline.

        Parameters
        ----------
        estimator : ScratchMLPClassifier or Pipeline
            Fitted classifier, or a fitted :class:`~sklearn.pipeline.Pipeline`
            whose last step is one. The figures come from its ``history_``.

        ax : matplotlib Axes, default=None
            Axis for the loss and the validation accuracy. None creates a new
            figure and axis.

        name : str, default=None
            Title of the plot. None uses the class name of the classifier.

        secondary_yscale : {"log", "linear"}, default="log"
            Scale of the second y axis.

        Returns
        -------
        display : TrainingCurveDisplay
            The drawn display.

        Raises
        ------
        TypeError
            If the estimator, or the last step of the pipeline, is not a
            :class:`~skmlp.ScratchMLPClassifier`.
        sklearn.exceptions.NotFittedError
            If it is not fitted.
        """
        _import_matplotlib_figure()
        classifier = _final_estimator(estimator)
        if not isinstance(classifier, ScratchMLPClassifier):
            raise TypeError(
                "TrainingCurveDisplay needs a ScratchMLPClassifier or a Pipeline "
                f"ending in one, got {type(classifier).__name__}, which records "
                "no history_."
            )
        check_is_fitted(classifier, "history_")

        history = classifier.history_
        validation_score = None
        if any(record["validation_score"] is not None for record in history):
            validation_score = [
                np.nan
                if record["validation_score"] is None
                else record["validation_score"]
                for record in history
            ]

        display = cls(
            epoch=[record["epoch"] for record in history],
            loss=[record["loss"] for record in history],
            learning_rate=[record["learning_rate"] for record in history],
            grad_norm=[record["grad_norm"] for record in history],
            validation_score=validation_score,
            max_grad_norm=getattr(classifier, "max_grad_norm", None),
            estimator_name=type(classifier).__name__ if name is None else name,
        )
        return display.plot(ax=ax, secondary_yscale=secondary_yscale)


def save_training_curve(estimator, path, *, format=None, dpi=100, figsize=(8, 5)):
    """Draw the training curves of a fitted model and save them as an image.

    The figure is created without :mod:`matplotlib.pyplot`, so this works
    without a display and leaves pyplot's state untouched.

    Parameters
    ----------
    estimator : ScratchMLPClassifier or Pipeline
        Fitted classifier, or a fitted pipeline whose last step is one.

    path : str or path-like
        Destination file. It is overwritten if it exists.

    format : str, default=None
        Image format, such as ``"png"``, ``"svg"`` or ``"pdf"``. None takes
        it from the extension of ``path``. Pass it when writing to a
        temporary file whose name has another extension.

    dpi : int, default=100
        Resolution in dots per inch.

    figsize : tuple of float, default=(8, 5)
        Width and height of the figure in inches.

    Returns
    -------
    display : TrainingCurveDisplay
        The display that was saved.

    See Also
    --------
    TrainingCurveDisplay.from_estimator : Draw the curves on an axis.
    """
    Figure = _import_matplotlib_figure()

    figure = Figure(figsize=figsize, layout="constrained")
    ax = figure.subplots()
    display = TrainingCurveDisplay.from_estimator(estimator, ax=ax)
    figure.savefig(path, format=format, dpi=dpi)
    return display
