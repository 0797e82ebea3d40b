"""
==================================================
Cross-validating the network against baselines
==================================================

This example scores the Adult pipeline with 5-fold stratified
cross-validation, next to two baselines with the same preprocessing: a
majority-class classifier and a logistic regression. Each fold refits the
whole pipeline, preprocessing included, on its own training part, so no
statistic of a validation fold leaks into training.

To stay under a minute on two cores, it uses a stratified subsample of 10,000
training rows.
"""

# %%
# Data and models
# ---------------
#
# The baselines reuse the preprocessing step of
# :func:`~skmlp.make_adult_pipeline`, cloned so that each model fits its own.
from sklearn.base import clone
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline

from skmlp import make_adult_pipeline
from skmlp.datasets import load_adult

X, y = load_adult(return_X_y=True)
X, _, y, _ = train_test_split(X, y, train_size=10_000, stratify=y, random_state=0)

network = make_adult_pipeline(
    hidden_layer_sizes=(32,),
    early_stopping=True,
    n_iter_no_change=5,
    max_iter=60,
    random_state=0,
)
preprocessor = network.named_steps["preprocess"]
models = {
    "majority class": make_pipeline(
        clone(preprocessor), DummyClassifier(strategy="most_frequent")
    ),
    "logistic regression": make_pipeline(
        clone(preprocessor), LogisticRegression(max_iter=1000)
    ),
    "ScratchMLPClassifier": network,
}

# %%
# Cross-validation
# ----------------
#
# :func:`~sklearn.model_selection.cross_validate` computes several scores per
# fold. Accuracy alone flatters every model on Adult, where 76% of the rows
# are ``<=50K``; ROC-AUC and balanced accuracy do not reward always predicting
# the majority class.
import pandas as pd
from sklearn.model_selection import StratifiedKFold, cross_validate

cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
scoring = ["accuracy", "balanced_accuracy", "roc_auc"]

fold_scores = []
for name, model in models.items():
    scores = cross_validate(model, X, y, cv=cv, scoring=scoring, n_jobs=2)
    for metric in scoring:
        for fold, value in enumerate(scores[f"test_{metric}"]):
            fold_scores.append(
                {"model": name, "metric": metric, "fold": fold, "score": value}
            )

fold_scores = pd.DataFrame(fold_scores)
grouped = fold_scores.groupby(["model", "metric"])["score"]
summary = (
    grouped.mean().map("{:.3f}".format) + " ± " + grouped.std().map("{:.3f}".format)
)
print(summary.unstack("metric").to_string())

# %%
# The spread between folds
# ------------------------
#
# The difference between two models means something only when it is larger
# than the spread of each model's scores over the folds.
import matplotlib.pyplot as plt

fig, axes = plt.subplots(1, len(scoring), figsize=(11, 3.5), sharey=False)
for ax, metric in zip(axes, scoring):
    per_model = [
        fold_scores.query("model == @name and metric == @metric")["score"]
        for name in models
    ]
    ax.boxplot(per_model, tick_labels=["majority", "logistic", "MLP"])
    ax.set_title(metric)
axes[0].set_ylabel("score on the validation fold")
fig.suptitle("5-fold cross-validation on 10,000 Adult rows")
fig.tight_layout()
plt.show()

# %%
# On this subsample, the network and the logistic regression score within
# about one fold standard deviation of each other, and both far above the
# majority class. With the preprocessing of
# :func:`~skmlp.make_adult_pipeline`, most of what can be learned from Adult
# is close to linear in the one-hot columns, so the hidden layer adds little.
# On all 32,561 training rows the network pulls slightly ahead: 0.909 against
# 0.907 mean ROC-AUC with this script and ``train_size=0.999``. A baseline
# that shares the preprocessing is what tells whether the hidden layers earn
# their cost.
