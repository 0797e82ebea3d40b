"""Edges of prediction shared among threads: an error or an interrupt on one
thread, a fork while another thread limits BLAS, prediction at interpreter
exit, inputs of every layout and dtype, and values near float32's largest."""

import multiprocessing
import os
import queue
import subprocess
import sys
import textwrap
import threading
import warnings

import numpy as np
import pytest
from joblib import Parallel, delayed, parallel_backend
from scipy import sparse
from scipy.special import expit
from sklearn import config_context
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import cross_val_score
from sklearn.utils import gen_batches

import skmlp._prediction
import skmlp._threads
from skmlp import ScratchMLPClassifier
from skmlp._network import ParameterLayout
from skmlp._prediction import predict_logits

ACTIVATIONS = ["identity", "logistic", "tanh", "relu"]

# float32's largest value is 2**128 - 2**104. A float64 value at or beyond the
# midpoint between it and 2**128 rounds to infinity in float32, and a value
# below the midpoint rounds to the largest value.
FLOAT32_OVERFLOW = 2.0**128 - 2.0**103

# Seconds that a test waits for another thread or process before failing.
TIMEOUT = 20

N_ROWS = 97

REFERENCE_ACTIVATIONS = {
    "identity": lambda Z: Z,
    "logistic": expit,
    "tanh": np.tanh,
    "relu": lambda Z: np.maximum(Z, 0),
}


def random_network(rng, dtype, layer_units=(6, 7, 5, 3)):
    layout = ParameterLayout(layer_units)
    return layout.views(rng.normal(size=layout.size).astype(dtype))


def reference_logits(X, coefs, intercepts, activation="relu"):
    """Return the forward pass in float64 with plain numpy."""
    A = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        A = REFERENCE_ACTIVATIONS[activation](A @ W.astype(np.float64) + b)
    return A @ coefs[-1].astype(np.float64) + intercepts[-1]


def share_chunks(monkeypatch, n_threads, rows_per_chunk):
    """Make prediction split rows into chunks of ``rows_per_chunk`` on ``n_threads``."""
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: n_threads)
    monkeypatch.setattr(skmlp._prediction, "chunk_rows", lambda *_: rows_per_chunk)


def unsorted_csr(dense):
    """Return ``dense`` as CSR with reversed column indices and split entries.

    Each nonzero value is stored as two entries that add up to it, and each
    row, empty rows included, ends with an explicit zero in column 0.
    """
    indptr, indices, data = [0], [], []
    for row in dense:
        for column in np.flatnonzero(row)[::-1]:
            indices += [column, column]
            data += [row[column] / 4, row[column] * 3 / 4]
        indices.append(0)
        data.append(0.0)
        indptr.append(len(indices))
    return sparse.csr_matrix(
        (np.asarray(data), np.asarray(indices), np.asarray(indptr)), shape=dense.shape
    )


def make_read_only(dense):
    X = dense.copy()
    X.flags.writeable = False
    return X


def csr_with_int64_indices(dense):
    X = sparse.csr_matrix(dense)
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    return X


INPUT_KINDS = {
    "dense_float64": lambda dense: dense,
    "dense_float32": lambda dense: dense.astype(np.float32),
    "fortran": np.asfortranarray,
    "strided": lambda dense: np.repeat(dense, 2, axis=1)[:, ::2],
    "read_only": make_read_only,
    "csr": sparse.csr_matrix,
    "csr_int64": csr_with_int64_indices,
    "csr_unsorted": unsorted_csr,
}


def sparse_rows(rng, n_rows=N_ROWS, n_features=6):
    """Return dense rows with about 30% of the values zero and rows 5 and 60 empty."""
    dense = rng.normal(size=(n_rows, n_features))
    dense[rng.random(dense.shape) < 0.3] = 0.0
    dense[[5, 60]] = 0.0
    return dense


@pytest.mark.parametrize("kind", list(INPUT_KINDS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_logits_same_for_threads_and_chunks(rng, monkeypatch, kind, dtype, activation):
    coefs, intercepts = random_network(rng, dtype)
    dense = sparse_rows(rng)
    X = INPUT_KINDS[kind](dense)
    expected = reference_logits(X, coefs, intercepts, activation)
    tolerance = 1e-4 if dtype == np.float32 else 1e-10
    results = {}

    for n_threads in [1, 2, 3]:
        for rows_per_chunk in [1, 13, N_ROWS]:
            share_chunks(monkeypatch, n_threads, rows_per_chunk)
            logits = predict_logits(X, coefs, intercepts, activation)
            results[n_threads, rows_per_chunk] = logits

            assert logits.dtype == dtype
            np.testing.assert_allclose(logits, expected, rtol=tolerance, atol=tolerance)

    first = results[1, N_ROWS]
    for logits in results.values():
        np.testing.assert_allclose(logits, first, rtol=tolerance / 10, atol=0)


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("as_sparse", [False, True], ids=["dense", "csr"])
def test_relu_nan_stays_in_its_row(rng, monkeypatch, n_threads, dtype, as_sparse):
    coefs, intercepts = random_network(rng, dtype)
    dense = sparse_rows(rng)
    dense[40, 2] = np.nan
    X = sparse.csr_matrix(dense) if as_sparse else dense
    share_chunks(monkeypatch, n_threads, 13)

    logits = predict_logits(X, coefs, intercepts, "relu")

    assert np.isnan(logits[40]).all()
    others = np.delete(np.arange(N_ROWS), 40)
    assert np.isfinite(logits[others]).all()
    np.testing.assert_allclose(
        logits[others],
        reference_logits(dense[others], coefs, intercepts),
        rtol=1e-4,
        atol=1e-4,
    )


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize("row", [0, 48, N_ROWS - 1], ids=["first", "middle", "last"])
@pytest.mark.parametrize("as_sparse", [False, True], ids=["dense", "csr"])
def test_overflow_in_one_chunk_raises(rng, monkeypatch, n_threads, row, as_sparse):
    coefs, intercepts = random_network(rng, np.float32)
    dense = sparse_rows(rng)
    overflowing = dense.copy()
    overflowing[row, 3] = -1e39
    make_input = sparse.csr_matrix if as_sparse else np.asarray
    share_chunks(monkeypatch, n_threads, 13)

    with pytest.raises(ValueError, match="too large for float32"):
        predict_logits(make_input(overflowing), coefs, intercepts, "relu")

    logits = predict_logits(make_input(dense), coefs, intercepts, "relu")
    np.testing.assert_allclose(
        logits, reference_logits(dense, coefs, intercepts), rtol=1e-4, atol=1e-4
    )


@pytest.mark.parametrize(
    "value, accepted",
    [
        (np.nextafter(FLOAT32_OVERFLOW, 0.0), True),
        (-np.nextafter(FLOAT32_OVERFLOW, 0.0), True),
        (FLOAT32_OVERFLOW, False),
        (-FLOAT32_OVERFLOW, False),
    ],
    ids=["below", "below_negative", "midpoint", "midpoint_negative"],
)
@pytest.mark.parametrize("as_sparse", [False, True], ids=["dense", "csr"])
def test_float32_rounding_limit(rng, monkeypatch, value, accepted, as_sparse):
    coefs, intercepts = random_network(rng, np.float32)
    # The first weights of the value's column are zero, so the logits stay finite.
    coefs[0][3] = 0.0
    dense = sparse_rows(rng)
    dense[50, 3] = value
    X = sparse.csr_matrix(dense) if as_sparse else dense
    share_chunks(monkeypatch, 2, 13)

    if not accepted:
        with pytest.raises(ValueError, match="too large for float32"):
            predict_logits(X, coefs, intercepts, "relu")
        return

    logits = predict_logits(X, coefs, intercepts, "relu")
    dense[50, 3] = 0.0
    np.testing.assert_allclose(
        logits, reference_logits(dense, coefs, intercepts), rtol=1e-4, atol=1e-4
    )


def batches_reporting_close(closed):
    """Return a stand-in for ``gen_batches`` that sets ``closed`` when closed early."""

    def batches(*args):
        try:
            yield from gen_batches(*args)
        except GeneratorExit:
            closed.set()
            raise

    return batches


def record_chunks(monkeypatch, on_chunk):
    """Call ``on_chunk(is_caller, n_taken)`` before each chunk's first layer.

    ``n_taken`` counts the chunks that the same thread took before this one.
    Return the list of ``is_caller`` per chunk, True for chunks that the
    calling thread took.
    """
    caller = threading.get_ident()
    chunks = []
    first_layer = skmlp._prediction._first_layer

    def spy(X, rows, *args):
        is_caller = threading.get_ident() == caller
        n_taken = chunks.count(is_caller)
        chunks.append(is_caller)
        on_chunk(is_caller, n_taken)
        return first_layer(X, rows, *args)

    monkeypatch.setattr(skmlp._prediction, "_first_layer", spy)
    return chunks


def test_worker_error_stops_caller(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64)
    X = rng.normal(size=(1000, 6))
    share_chunks(monkeypatch, 2, 10)
    closed = threading.Event()
    caller_started = threading.Event()
    monkeypatch.setattr(
        skmlp._prediction, "gen_batches", batches_reporting_close(closed)
    )

    def on_chunk(is_caller, n_taken):
        if not is_caller:
            caller_started.wait(TIMEOUT)
            raise ValueError("failed on the worker")
        # The caller waits in its first chunk until the worker's error has
        # stopped the sharing of chunks.
        if n_taken == 0:
            caller_started.set()
            closed.wait(TIMEOUT)

    chunks = record_chunks(monkeypatch, on_chunk)

    with pytest.raises(ValueError, match="failed on the worker"):
        predict_logits(X, coefs, intercepts, "relu")

    assert chunks.count(True) == 1
    assert chunks.count(False) == 1
    monkeypatch.undo()
    np.testing.assert_allclose(
        predict_logits(X, coefs, intercepts, "relu"),
        reference_logits(X, coefs, intercepts),
        rtol=1e-12,
    )


def test_caller_interrupt_stops_worker(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64)
    X = rng.normal(size=(1000, 6))
    share_chunks(monkeypatch, 2, 10)
    closed = threading.Event()
    worker_started = threading.Event()
    monkeypatch.setattr(
        skmlp._prediction, "gen_batches", batches_reporting_close(closed)
    )

    def on_chunk(is_caller, n_taken):
        if is_caller:
            worker_started.wait(TIMEOUT)
            raise KeyboardInterrupt
        # The worker waits in its first chunk until the interrupt has
        # stopped the sharing of chunks.
        if n_taken == 0:
            worker_started.set()
            closed.wait(TIMEOUT)

    chunks = record_chunks(monkeypatch, on_chunk)

    with pytest.raises(KeyboardInterrupt):
        predict_logits(X, coefs, intercepts, "relu")

    assert chunks.count(False) == 1
    monkeypatch.undo()
    share_chunks(monkeypatch, 2, 10)
    np.testing.assert_allclose(
        predict_logits(X, coefs, intercepts, "relu"),
        reference_logits(X, coefs, intercepts),
        rtol=1e-12,
    )


def test_nested_prediction_on_worker(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64)
    X = rng.normal(size=(600, 6))
    inner_X = rng.normal(size=(300, 6))
    share_chunks(monkeypatch, 2, 10)
    first_layer = skmlp._prediction._first_layer
    worker_predicted = threading.Event()
    inner_results = []
    outer_results = []

    def spy(X_chunk, rows, *args):
        if X_chunk is X and not worker_predicted.is_set():
            # The outer caller waits in its first chunk, which leaves the
            # next chunk to a worker, and that worker predicts again.
            if threading.current_thread() is outer:
                worker_predicted.wait(TIMEOUT)
            else:
                inner_results.append(predict_logits(inner_X, coefs, intercepts, "relu"))
                worker_predicted.set()
        return first_layer(X_chunk, rows, *args)

    monkeypatch.setattr(skmlp._prediction, "_first_layer", spy)
    outer = threading.Thread(
        target=lambda: outer_results.append(
            predict_logits(X, coefs, intercepts, "relu")
        )
    )
    outer.start()
    outer.join(TIMEOUT)

    assert not outer.is_alive()
    assert worker_predicted.is_set()
    assert len(inner_results) == 1
    np.testing.assert_allclose(
        inner_results[0], reference_logits(inner_X, coefs, intercepts), rtol=1e-12
    )
    np.testing.assert_allclose(
        outer_results[0], reference_logits(X, coefs, intercepts), rtol=1e-12
    )


def test_worker_threads_stay_bounded(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64)
    inputs = [rng.normal(size=(500, 6)) for _ in range(6)]
    expected = [reference_logits(X, coefs, intercepts) for X in inputs]
    # More threads than the pool has, from more callers than there are CPUs.
    share_chunks(monkeypatch, 4, 10)

    def predict_repeatedly(X):
        return [predict_logits(X, coefs, intercepts, "relu") for _ in range(5)]

    with parallel_backend("threading", n_jobs=6):
        results = Parallel()(delayed(predict_repeatedly)(X) for X in inputs)

    workers = [t for t in threading.enumerate() if t.name.startswith("skmlp")]
    assert len(workers) <= max(1, skmlp._threads._usable_cpus() - 1)
    for repeats, reference in zip(results, expected, strict=True):
        for logits in repeats:
            np.testing.assert_allclose(logits, reference, rtol=1e-12)


def _predict_after_fork(results):
    rng = np.random.default_rng(1)
    coefs, intercepts = random_network(rng, np.float64)
    X = rng.normal(size=(50, 6))
    logits = predict_logits(X, coefs, intercepts, "relu")
    error = float(np.abs(logits - reference_logits(X, coefs, intercepts)).max())
    results.put((skmlp._threads._single_thread_users, error))


def _hold_lock(inside, release):
    with skmlp._threads._lock:
        inside.set()
        release.wait(TIMEOUT)


def _hold_single_blas_thread(inside, release):
    with skmlp._threads.single_blas_thread():
        inside.set()
        release.wait(TIMEOUT)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("hold", [_hold_lock, _hold_single_blas_thread])
def test_fork_while_thread_limits_blas(hold):
    # Another thread is inside the BLAS limit at the fork, as when a web
    # server thread predicts while the main thread starts a process.
    inside, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold, args=(inside, release))
    holder.start()
    assert inside.wait(TIMEOUT)
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    child = context.Process(target=_predict_after_fork, args=(results,))
    try:
        child.start()
        users, error = results.get(timeout=TIMEOUT)
        child.join(TIMEOUT)
    except queue.Empty:
        pytest.fail("the forked child did not finish its prediction")
    finally:
        release.set()
        holder.join(TIMEOUT)
        if child.is_alive():
            child.kill()

    assert child.exitcode == 0
    assert users == 0
    assert error < 1e-12
    assert skmlp._threads._single_thread_users == 0


AT_EXIT_SCRIPT = textwrap.dedent(
    """
    import atexit
    import sys

    import numpy as np

    import skmlp._prediction
    from skmlp._network import ParameterLayout
    from skmlp._prediction import predict_logits

    skmlp._prediction.available_threads = lambda: 2
    skmlp._prediction.chunk_rows = lambda *_: 50
    layout = ParameterLayout((4, 6, 2))
    coefs, intercepts = layout.views(np.random.default_rng(0).normal(size=layout.size))
    X = np.random.default_rng(1).normal(size=(1000, 4))
    expected = np.maximum(X @ coefs[0] + intercepts[0], 0) @ coefs[1] + intercepts[1]
    if sys.argv[1] == "before_exit":
        predict_logits(X, coefs, intercepts, "relu")


    def predict_at_exit():
        logits = predict_logits(X, coefs, intercepts, "relu")
        print(np.abs(logits - expected).max())


    atexit.register(predict_at_exit)
    """
)


@pytest.mark.parametrize("first_prediction", ["before_exit", "at_exit"])
def test_predict_at_interpreter_exit(first_prediction):
    # atexit functions run after concurrent.futures stopped taking new work.
    completed = subprocess.run(
        [sys.executable, "-c", AT_EXIT_SCRIPT, first_prediction],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert completed.stderr == ""
    assert completed.returncode == 0
    assert float(completed.stdout) < 1e-12


THREAD_COUNT_SCRIPT = textwrap.dedent(
    """
    import threading

    import numpy as np

    import skmlp._prediction
    from skmlp._network import ParameterLayout
    from skmlp._prediction import predict_logits
    from skmlp._threads import available_threads

    skmlp._prediction.chunk_rows = lambda *_: 50
    layout = ParameterLayout((4, 6, 2))
    coefs, intercepts = layout.views(np.random.default_rng(0).normal(size=layout.size))
    predict_logits(np.ones((5000, 4)), coefs, intercepts, "relu")
    workers = [t for t in threading.enumerate() if t.name.startswith("skmlp")]
    print(available_threads(), len(workers))
    """
)


@pytest.mark.parametrize("variable", ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"])
def test_one_blas_thread_from_environment(variable):
    environment = dict(os.environ)
    for name in ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS"]:
        environment.pop(name, None)
    environment[variable] = "1"

    completed = subprocess.run(
        [sys.executable, "-c", THREAD_COUNT_SCRIPT],
        capture_output=True,
        text=True,
        timeout=60,
        env=environment,
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split() == ["1", "0"]


@pytest.fixture
def blobs():
    return make_blobs(n_samples=120, n_features=4, centers=3, random_state=0)


def fit_quietly(estimator, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return estimator.fit(X, y)


@pytest.mark.parametrize("hidden_layer_sizes", [(), (5,)], ids=["none", "one"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "input_dtype", [np.float16, np.int64, np.bool_], ids=["float16", "int", "bool"]
)
def test_predict_other_input_dtypes(
    blobs, rng, monkeypatch, hidden_layer_sizes, dtype, input_dtype
):
    X, y = blobs
    model = ScratchMLPClassifier(
        hidden_layer_sizes, max_iter=3, dtype=dtype, random_state=0
    )
    fit_quietly(model, X, y)
    X_test = (rng.normal(size=(N_ROWS, 4)) * 3).astype(input_dtype)
    expected = model.predict_proba(X_test.astype(np.float64))
    share_chunks(monkeypatch, 2, 7)

    proba = model.predict_proba(X_test)

    assert proba.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(proba, expected)


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("make_sparse", [unsorted_csr, csr_with_int64_indices])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_fit_on_csr_matches_dense(blobs, rng, shuffle, make_sparse, dtype):
    _, y = blobs
    dense = sparse_rows(rng, n_rows=len(y), n_features=4)

    def fit(X):
        model = ScratchMLPClassifier(
            (5,),
            max_iter=3,
            batch_size=16,
            shuffle=shuffle,
            dtype=dtype,
            random_state=0,
        )
        return fit_quietly(model, X, y)

    on_dense, on_sparse = fit(dense), fit(make_sparse(dense))

    for sparse_coef, dense_coef in zip(on_sparse.coefs_, on_dense.coefs_, strict=True):
        np.testing.assert_allclose(sparse_coef, dense_coef, rtol=1e-5, atol=1e-6)


def test_cross_val_score_threading_backend(blobs):
    X, y = blobs
    model = ScratchMLPClassifier((5,), max_iter=3, early_stopping=True, random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        serial = cross_val_score(model, X, y, cv=3, n_jobs=1)
        with parallel_backend("threading"), config_context(working_memory=1):
            parallel = cross_val_score(model, X, y, cv=3, n_jobs=2)

    np.testing.assert_array_equal(parallel, serial)
