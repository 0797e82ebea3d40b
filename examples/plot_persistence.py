"""
====================================================
Saving a fitted pipeline with joblib and with skops
====================================================

A fitted pipeline is saved once and loaded wherever predictions are needed.
This example saves the Adult pipeline in both formats that
:func:`skmlp.persistence.save_model` writes, loads it back, and shows which
types a user must trust to load the skops file.

- **joblib** pickles the model. Loading a pickle runs any code the file
  contains, so load joblib files only from sources you trust.
- **skops** stores the model without pickle. Loading builds only objects of
  types that the caller trusts, and rejects a file with any other type.

To keep the example short, the pipeline trains for 10 epochs on a subsample
of 5,000 training rows. Saving works the same for any fit.
"""

# %%
# Fit a pipeline
# --------------
import warnings

from sklearn.exceptions import ConvergenceWarning

from skmlp import make_adult_pipeline
from skmlp.datasets import load_adult

X_train, y_train = load_adult(subset="train", return_X_y=True)
X_test, y_test = load_adult(subset="test", return_X_y=True)

pipeline = make_adult_pipeline(hidden_layer_sizes=(16,), max_iter=10, random_state=0)
with warnings.catch_warnings():
    # Ten epochs are too few to converge, which does not matter for saving.
    warnings.simplefilter("ignore", ConvergenceWarning)
    pipeline.fit(X_train[:5000], y_train[:5000])
expected = pipeline.predict_proba(X_test)

# %%
# Save and load in both formats
# -----------------------------
#
# The suffix selects the format. ``save_model`` writes through a temporary
# file, and raises ``FileExistsError`` instead of replacing an existing file
# unless ``force=True``.
import tempfile
from pathlib import Path

import numpy as np

from skmlp.persistence import load_model, save_model

temporary_folder = tempfile.TemporaryDirectory()
folder = Path(temporary_folder.name)
for name in ["model.joblib", "model.skops"]:
    path = folder / name
    save_model(pipeline, path)
    loaded = load_model(path)
    same = np.array_equal(loaded.predict_proba(X_test), expected)
    print(f"{name}: {path.stat().st_size / 1024:.0f} KiB, same predictions: {same}")

# %%
# Which types does the skops file contain?
# ----------------------------------------
#
# :func:`skops.io.get_untrusted_types` lists the types in a file that skops
# does not trust by default, without loading anything. For an skmlp pipeline
# they are the classifier, the helpers it stores and one function of the
# preprocessing:
import skops.io

untrusted = skops.io.get_untrusted_types(file=folder / "model.skops")
for name in untrusted:
    print(name)

# %%
# :data:`skmlp.persistence.TRUSTED_TYPES` lists the types that a pipeline
# built by skmlp may contain, ``AdamOptimizer`` for ``solver="adam"``
# included, and ``load_model`` trusts them. Every type above is in it:
from skmlp.persistence import TRUSTED_TYPES

print(set(untrusted) <= set(TRUSTED_TYPES))

# %%
# Loading a file with an unexpected type
# --------------------------------------
#
# A pipeline with a transformer of your own contains a type outside that
# list. Here the preprocessing gains a
# :class:`~sklearn.preprocessing.FunctionTransformer` that calls a function
# defined in this script. ``load_model`` raises a ``ValueError`` that names
# the type, before creating any object:
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer


def clip_hours(X):
    """Cap hours-per-week at 80, a stand-in for a user's own step."""
    X = X.copy()
    X["hours-per-week"] = X["hours-per-week"].clip(upper=80)
    return X


custom = make_pipeline(FunctionTransformer(clip_hours), pipeline)
save_model(custom, folder / "custom.skops")
try:
    load_model(folder / "custom.skops")
except ValueError as error:
    print(error)

# %%
# After checking that the function is the one you expect, trust it by name:
trusted_name = skops.io.get_untrusted_types(file=folder / "custom.skops")
trusted_name = [name for name in trusted_name if name.endswith("clip_hours")]
print(trusted_name)
loaded = load_model(folder / "custom.skops", trusted=trusted_name)
print(np.array_equal(loaded.predict_proba(X_test), custom.predict_proba(X_test)))

# %%
# The temporary folder and its files are removed at the end.
temporary_folder.cleanup()
