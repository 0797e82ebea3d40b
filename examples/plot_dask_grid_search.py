"""
=======================================
Grid search on a local dask cluster
=======================================

:class:`~sklearn.model_selection.GridSearchCV` runs its fits through joblib,
and joblib's ``"dask"`` backend sends them to the workers of a dask cluster.
This example starts a cluster of two worker processes on this machine, runs a
search on it, checks that the result equals that of a search run in this
process, and closes the cluster.

The scheduler, the nannies and the workers listen on ``127.0.0.1`` only, so
nothing outside this machine can connect. No dashboard is started, although
the scheduler still serves its health and metrics routes over HTTP, on
``127.0.0.1`` as well. To keep the example
under a minute on two cores, it uses a stratified subsample of 4,000 training
rows and at most 15 epochs per fit.

Each worker process starts by importing the script that created it, so the
code that starts or uses the cluster runs only under
``if __name__ == "__main__":``. Without that guard, running this file with
``python`` would try to start the cluster again in every worker.
"""

# %%
# The data and the search
# -----------------------
#
# These definitions run in every process, which is cheap because nothing is
# loaded or fitted until a function is called.
import time
import warnings

import joblib
import numpy as np
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split

from skmlp import make_adult_pipeline
from skmlp.datasets import load_adult

PARAM_GRID = {
    "classifier__hidden_layer_sizes": [(16,), (32, 16)],
    "classifier__learning_rate_init": [0.003, 0.03],
    "classifier__alpha": [0.0, 1e-2],
}


def load_subsample():
    """Return a stratified subsample of 4,000 Adult training rows."""
    X, y = load_adult(return_X_y=True)
    X, _, y, _ = train_test_split(X, y, train_size=4000, stratify=y, random_state=0)
    return X, y


def run_search(X, y):
    """Fit a grid search over ``PARAM_GRID`` and return it."""
    pipeline = make_adult_pipeline(max_iter=15, random_state=0)
    search = GridSearchCV(pipeline, PARAM_GRID, cv=3, scoring="roc_auc", n_jobs=-1)
    with warnings.catch_warnings():
        # 15 epochs are too few for the small learning rate to converge.
        warnings.simplefilter("ignore", ConvergenceWarning)
        return search.fit(X, y)


# %%
# Start the cluster
# -----------------
#
# ``processes=True`` gives each worker its own Python process, so two fits run
# at the same time on two cores.
if __name__ == "__main__":
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = Client(cluster)
    print(f"scheduler at {cluster.scheduler_address}")
    print(f"workers: {len(client.scheduler_info()['workers'])}")

# %%
# Search on the cluster
# ---------------------
#
# Inside ``joblib.parallel_backend("dask")``, ``n_jobs=-1`` means every
# thread of the cluster, and the 8 candidates times 3 folds become 24 dask
# tasks.
if __name__ == "__main__":
    X, y = load_subsample()

    start = time.perf_counter()
    with joblib.parallel_backend("dask"):
        on_dask = run_search(X, y)
    print(f"search on dask: {time.perf_counter() - start:.1f} s")
    print("best parameters:", on_dask.best_params_)

# %%
# The same search in this process
# -------------------------------
#
# Every fit starts from ``random_state=0`` and the folds do not depend on
# where they run, so a search with joblib's ``"sequential"`` backend returns
# the same scores.
if __name__ == "__main__":
    start = time.perf_counter()
    with joblib.parallel_backend("sequential"):
        local = run_search(X, y)
    print(f"search in this process: {time.perf_counter() - start:.1f} s")

    same_scores = np.array_equal(
        on_dask.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    print("same scores:", same_scores)
    print("same best parameters:", on_dask.best_params_ == local.best_params_)

# %%
# On a cluster of two local processes the fits are short, so sending the data
# to the workers takes a visible share of the time. dask pays off for longer
# fits, or with workers on more machines: create the client with the address
# of a remote scheduler instead of a ``LocalCluster``.
if __name__ == "__main__":
    import matplotlib.pyplot as plt
    import pandas as pd

    results = pd.DataFrame(on_dask.cv_results_).sort_values("rank_test_score")
    labels = [
        f"{row.param_classifier__hidden_layer_sizes}, "
        f"lr={row.param_classifier__learning_rate_init}, "
        f"alpha={row.param_classifier__alpha}"
        for row in results.itertuples()
    ]
    fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    ax.barh(labels, results["mean_test_score"], xerr=results["std_test_score"])
    ax.invert_yaxis()
    ax.set_xlim(0.5, 1.0)
    ax.set_xlabel("mean ROC-AUC over 3 folds")
    ax.set_title("Grid search on a local dask cluster")
    plt.show()

# %%
# Close the cluster
# -----------------
#
# Closing the client and then the cluster stops the workers and the
# scheduler.
if __name__ == "__main__":
    client.close()
    cluster.close()
