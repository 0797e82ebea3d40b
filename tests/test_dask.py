"""Training beyond one process: grid search on a local dask cluster, and
``partial_fit`` over a CSV file read in chunks."""

import warnings

import joblib
import numpy as np
import pandas as pd
import psutil
import pytest
from distributed import Client, LocalCluster, get_task_stream
from numpy.testing import assert_array_equal
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.preprocessing import StandardScaler

from skmlp import ScratchMLPClassifier

PARAM_GRID = {"hidden_layer_sizes": [(4,), (16,)], "learning_rate_init": [0.003, 0.05]}


@pytest.fixture(scope="module")
def dask_client():
    """A client of a two-process dask cluster that listens on 127.0.0.1 only."""
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
    )
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_cluster_listens_on_loopback_only(dask_client):
    # The scheduler runs in this process; the nannies and workers are children.
    processes = [psutil.Process(), *psutil.Process().children(recursive=True)]
    listening = [
        connection.laddr
        for process in processes
        for connection in process.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN
    ]

    assert len(listening) >= 3
    assert {address.ip for address in listening} == {"127.0.0.1"}


def _grid_search(seed, n_jobs):
    classifier = ScratchMLPClassifier(max_iter=15, random_state=seed)
    return GridSearchCV(classifier, PARAM_GRID, cv=3, n_jobs=n_jobs)


def test_grid_search_dask_matches_default(dask_client, seed):
    X, y = make_classification(n_samples=240, n_features=6, random_state=seed)

    with warnings.catch_warnings():
        # max_iter is kept small for speed, so most candidates stop unconverged.
        warnings.simplefilter("ignore", ConvergenceWarning)
        # The reference runs in this process: joblib's default backend with
        # n_jobs=1, which skips the seconds that starting loky workers takes.
        local = _grid_search(seed, n_jobs=1).fit(X, y)
        with joblib.parallel_backend("dask"), get_task_stream(dask_client) as tasks:
            on_dask = _grid_search(seed, n_jobs=-1).fit(X, y)

    workers = dask_client.scheduler_info()["workers"]
    assert len(workers) == 2
    assert all(address.startswith("tcp://127.0.0.1:") for address in workers)
    assert {task["worker"] for task in tasks.data} <= set(workers)
    assert len(tasks.data) > 0
    for split in range(3):
        key = f"split{split}_test_score"
        assert_array_equal(on_dask.cv_results_[key], local.cv_results_[key])
    assert_array_equal(
        on_dask.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert on_dask.best_params_ == local.best_params_
    assert on_dask.best_score_ == local.best_score_
    assert np.ptp(local.cv_results_["mean_test_score"]) > 0


@pytest.fixture
def csv_problem(tmp_path, seed):
    """Train and test parts of a small problem, the train part written to a CSV."""
    X, y = make_classification(
        n_samples=1500, n_features=8, n_informative=5, flip_y=0.05, random_state=seed
    )
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=500, random_state=seed
    )
    frame = pd.DataFrame(X_train, columns=[f"x{i}" for i in range(X.shape[1])])
    frame["label"] = y_train
    path = tmp_path / "train.csv"
    frame.to_csv(path, index=False)
    return path, X_train, y_train, X_test, y_test


def test_partial_fit_chunks_matches_fit(csv_problem, seed):
    path, X_train, y_train, X_test, y_test = csv_problem
    n_passes = 10
    params = {
        "hidden_layer_sizes": (16,),
        "learning_rate": "constant",
        "learning_rate_init": 0.05,
        "random_state": seed,
    }

    # The scaler is fitted on the first chunk only, as a stream allows.
    with pd.read_csv(path, chunksize=200) as reader:
        first_chunk = next(reader)
    scaler = StandardScaler().fit(first_chunk.drop(columns="label").to_numpy())
    streamed = ScratchMLPClassifier(**params)
    for _ in range(n_passes):
        with pd.read_csv(path, chunksize=200) as reader:
            for chunk in reader:
                X_chunk = scaler.transform(chunk.drop(columns="label").to_numpy())
                streamed.partial_fit(X_chunk, chunk["label"].to_numpy(), classes=[0, 1])

    full_scaler = StandardScaler().fit(X_train)
    with pytest.warns(ConvergenceWarning):
        batch = ScratchMLPClassifier(max_iter=n_passes, **params).fit(
            full_scaler.transform(X_train), y_train
        )

    streamed_accuracy = streamed.score(scaler.transform(X_test), y_test)
    batch_accuracy = batch.score(full_scaler.transform(X_test), y_test)
    assert streamed.n_iter_ == n_passes * 5
    assert batch_accuracy > 0.75
    assert abs(streamed_accuracy - batch_accuracy) <= 0.02
