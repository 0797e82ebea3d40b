"""
============================================
Predicting income on Adult with a pipeline
============================================

This example trains the ready-made pipeline of :func:`skmlp.make_adult_pipeline`
on the training subset of the UCI Adult data set and evaluates it on the test
subset: the preprocessing of mixed categorical and numeric columns, the
classifier, and a comparison with a baseline that always predicts the
majority class.

The Adult data set is by Becker and Kohavi (1996),
https://doi.org/10.24432/C5XW20, licensed under CC BY 4.0.
"""

# %%
# Load the data
# -------------
#
# :func:`~skmlp.datasets.load_adult` reads the files shipped with skmlp. The
# features are a DataFrame with eight categorical and six numeric columns; the
# target is the income class.
from skmlp.datasets import load_adult

X_train, y_train = load_adult(subset="train", return_X_y=True)
X_test, y_test = load_adult(subset="test", return_X_y=True)

print(X_train.shape, X_test.shape)
print(y_train.value_counts(normalize=True).round(3))

# %%
# About 76% of the people earn at most 50K, so accuracy must be read against
# that share: a model that always predicts ``<=50K`` reaches it.
from sklearn.dummy import DummyClassifier

baseline = DummyClassifier(strategy="most_frequent").fit(X_train, y_train)
print(f"majority-class accuracy: {baseline.score(X_test, y_test):.3f}")

# %%
# Build and fit the pipeline
# --------------------------
#
# The pipeline one-hot encodes the categorical columns and standardizes the
# numeric ones, with statistics learned on ``X_train`` only, and ends in a
# :class:`~skmlp.ScratchMLPClassifier`. Early stopping holds out 10% of the
# training rows and keeps the weights of the epoch with the best accuracy on
# them.
from skmlp import make_adult_pipeline

pipeline = make_adult_pipeline(
    hidden_layer_sizes=(32,),
    early_stopping=True,
    n_iter_no_change=5,
    max_iter=60,
    random_state=0,
)
pipeline.fit(X_train, y_train)

classifier = pipeline.named_steps["classifier"]
print(f"epochs run: {classifier.n_iter_}")
print(f"best validation accuracy: {classifier.best_validation_score_:.3f}")

# %%
# The preprocessing turns 14 columns into a sparse matrix with one column per
# category and per numeric feature:
preprocessor = pipeline.named_steps["preprocess"]
print(preprocessor.transform(X_test).shape)

# %%
# Evaluate on the test subset
# ---------------------------
from sklearn.metrics import balanced_accuracy_score, roc_auc_score

proba = pipeline.predict_proba(X_test)[:, 1]
prediction = pipeline.predict(X_test)
print(f"accuracy:          {pipeline.score(X_test, y_test):.3f}")
print(f"balanced accuracy: {balanced_accuracy_score(y_test, prediction):.3f}")
print(f"ROC-AUC:           {roc_auc_score(y_test, proba):.3f}")

# %%
# The confusion matrix shows where the errors are: the network finds most of
# the ``<=50K`` rows and misses a larger share of the ``>50K`` rows, the
# smaller class.
import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay

ConfusionMatrixDisplay.from_estimator(
    pipeline, X_test, y_test, normalize="true", values_format=".2f"
)
plt.title("Adult test subset, rows normalized")
plt.show()
