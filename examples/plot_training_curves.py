"""
=====================================
Reading the training curves
=====================================

Every fit of :class:`~skmlp.ScratchMLPClassifier` records one entry per epoch
in ``history_``: the training loss, the validation accuracy with early
stopping, the learning rate and the largest gradient norm before clipping.
:class:`~skmlp.inspection.TrainingCurveDisplay` draws them. This example fits
the Adult pipeline with three optimizer settings and reads their curves side
by side.
"""

# %%
# Three settings
# --------------
#
# All three use early stopping on 10% of the training rows and the same seed.
# The first is the default: SGD with the inverse-time schedule and
# ``max_grad_norm=5``. The second is Adam. The third is SGD with a learning
# rate thirty times the default, kept in check by a tight clipping bound.
from skmlp import make_adult_pipeline
from skmlp.datasets import load_adult

X_train, y_train = load_adult(subset="train", return_X_y=True)
X_test, y_test = load_adult(subset="test", return_X_y=True)

common = {
    "hidden_layer_sizes": (32,),
    "early_stopping": True,
    "n_iter_no_change": 5,
    "max_iter": 40,
    "random_state": 0,
}
settings = {
    "SGD, inverse-time schedule": {},
    "Adam": {"solver": "adam", "learning_rate_init": 0.001},
    "SGD, rate 0.3, max_grad_norm=0.5": {
        "learning_rate_init": 0.3,
        "max_grad_norm": 0.5,
    },
}
pipelines = {}
for name, params in settings.items():
    pipelines[name] = make_adult_pipeline(**common, **params).fit(X_train, y_train)
    classifier = pipelines[name].named_steps["classifier"]
    print(
        f"{name:34s} epochs: {classifier.n_iter_:2d}  "
        f"test accuracy: {pipelines[name].score(X_test, y_test):.3f}"
    )

# %%
# The curves
# ----------
#
# :meth:`~skmlp.inspection.TrainingCurveDisplay.from_estimator` accepts the
# fitted pipeline and reads ``history_`` from its last step. The left axis
# shows the loss and the validation accuracy. The right axis, on a log scale,
# shows the learning rate, the largest gradient norm of each epoch and the
# clipping bound.
import matplotlib.pyplot as plt

from skmlp.inspection import TrainingCurveDisplay

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), layout="constrained")
displays = {}
for ax, (name, pipeline) in zip(axes, pipelines.items()):
    displays[name] = TrainingCurveDisplay.from_estimator(pipeline, ax=ax, name=name)
plt.show()

# %%
# What the curves show
# --------------------
#
# - With the default settings the gradient norms stay well below the bound
#   of 5, so clipping never acts and the learning rate decays slowly.
# - Adam reaches a similar loss with a learning rate ten times smaller than
#   the SGD default, because it scales each parameter's step by its own
#   gradient history.
# - With a learning rate of 0.3, the largest gradient norm of every epoch lies
#   above the clipping bound of 0.5. Only the steepest steps are clipped,
#   though: ``clip_fraction`` in ``history_`` gives the share of clipped steps
#   per epoch, a few percent at first and less later.
import pandas as pd

classifier = pipelines["SGD, rate 0.3, max_grad_norm=0.5"].named_steps["classifier"]
history = pd.DataFrame(classifier.history_)
print(
    history[["epoch", "loss", "validation_score", "grad_norm", "clip_fraction"]].head()
)

# %%
# The display keeps its artists, so the drawn data can be read back, and
# :meth:`~skmlp.inspection.TrainingCurveDisplay.plot` draws the same curves
# again on another axis, here with a linear right axis.
display = displays["Adam"]
print(display.loss_line_.get_ydata()[:3])

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
display.plot(ax=ax, secondary_yscale="linear")
plt.show()
