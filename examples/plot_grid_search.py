"""
=====================================================
Tuning the network size and the learning rate
=====================================================

This example tunes two parameters of :class:`~skmlp.ScratchMLPClassifier` with
:class:`~sklearn.model_selection.GridSearchCV` on the Adult pipeline: the
hidden layer sizes and the initial learning rate. The parameters of a
pipeline step are addressed as ``<step>__<parameter>``.

To keep the search under a minute on two cores, it runs on a stratified
subsample of 6,000 training rows, with 3 folds and at most 30 epochs per fit.
The full data gives higher scores for every candidate.
"""

# %%
# A stratified subsample of Adult
# -------------------------------
from sklearn.model_selection import train_test_split

from skmlp.datasets import load_adult

X, y = load_adult(return_X_y=True)
X_small, _, y_small, _ = train_test_split(
    X, y, train_size=6000, stratify=y, random_state=0
)

# %%
# The search
# ----------
#
# Early stopping lets each candidate choose its own number of epochs, so the
# grid does not need ``max_iter``. Every candidate starts from the same seed,
# so differences come from the parameters, not from the initialization. The
# candidates with the smallest learning rate are still improving after 30
# epochs. Their :class:`~sklearn.exceptions.ConvergenceWarning` is silenced
# here, because the table below shows the same fact.
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from skmlp import make_adult_pipeline

pipeline = make_adult_pipeline(
    early_stopping=True, n_iter_no_change=4, max_iter=30, random_state=0
)
param_grid = {
    "classifier__hidden_layer_sizes": [(8,), (32,), (64, 32)],
    "classifier__learning_rate_init": [0.001, 0.01, 0.1],
}
search = GridSearchCV(pipeline, param_grid, cv=3, scoring="roc_auc", n_jobs=2)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_small, y_small)

print("best parameters:", search.best_params_)
print(f"best mean ROC-AUC: {search.best_score_:.3f}")

# %%
# All candidates
# --------------
#
# ``cv_results_`` contains the score of every candidate on every fold. A table
# with one row per learning rate and one column per network size shows both
# effects at once.
import pandas as pd

results = pd.DataFrame(search.cv_results_)
results["hidden_layer_sizes"] = results["param_classifier__hidden_layer_sizes"].map(str)
table = results.pivot(
    index="param_classifier__learning_rate_init",
    columns="hidden_layer_sizes",
    values="mean_test_score",
)
table = table[[str(sizes) for sizes in param_grid["classifier__hidden_layer_sizes"]]]
print(table.round(3))

# %%
import matplotlib.pyplot as plt
import numpy as np

fig, ax = plt.subplots(figsize=(6, 4))
image = ax.imshow(table.to_numpy(), cmap="viridis")
ax.set_xticks(np.arange(table.shape[1]), labels=table.columns)
ax.set_yticks(np.arange(table.shape[0]), labels=table.index)
ax.set_xlabel("hidden_layer_sizes")
ax.set_ylabel("learning_rate_init")
# Dark text on the light cells, light text on the dark ones.
midpoint = (table.to_numpy().min() + table.to_numpy().max()) / 2
for (row, column), score in np.ndenumerate(table.to_numpy()):
    color = "black" if score > midpoint else "white"
    ax.text(column, row, f"{score:.3f}", ha="center", va="center", color=color)
fig.colorbar(image, ax=ax, label="mean ROC-AUC over 3 folds")
ax.set_title("Grid search on 6,000 Adult rows")
plt.show()

# %%
# A learning rate of 0.001 is too small for 30 epochs: the smaller networks
# stop before they have learned much. On this data the network size matters
# much less than the learning rate, so a small network is a reasonable start.
