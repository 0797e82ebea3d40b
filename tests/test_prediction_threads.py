"""Prediction shared among threads, its conversions and its ReLU."""

import multiprocessing
import os
import threading
import warnings

import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import make_blobs
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

import skmlp._activations
import skmlp._prediction
import skmlp._threads
from skmlp import ScratchMLPClassifier
from skmlp._activations import ACTIVATIONS
from skmlp._network import ParameterLayout
from skmlp._prediction import predict_logits
from skmlp._threads import available_threads, run_in_threads, single_blas_thread


def random_network(rng, dtype, layer_units=(12, 9, 5, 2)):
    layout = ParameterLayout(layer_units)
    return layout.views(rng.normal(size=layout.size).astype(dtype))


def reference_logits(X, coefs, intercepts):
    """The forward pass of a ReLU network, in float64 with plain numpy."""
    A = X.toarray() if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    for W, b in zip(coefs[:-1], intercepts[:-1], strict=True):
        A = np.maximum(A @ W.astype(np.float64) + b, 0)
    return A @ coefs[-1].astype(np.float64) + intercepts[-1]


def chunk_spy(calls, meeting=None):
    """Return a stand-in for ``_first_layer`` that records ``(thread id, first row)``.

    With a barrier, each thread's first chunk waits there until as many threads
    as the barrier counts have taken one, however late a worker starts.
    """
    original = skmlp._prediction._first_layer
    waited = threading.local()

    def spy(X, rows, *args):
        calls.append((threading.get_ident(), rows.start))
        if meeting is not None and not getattr(waited, "done", False):
            waited.done = True
            meeting.wait()
        return original(X, rows, *args)

    return spy


def record_chunk_threads(monkeypatch, meeting=None):
    """Return the list that receives ``(thread id, first row)`` per chunk."""
    calls = []
    monkeypatch.setattr(skmlp._prediction, "_first_layer", chunk_spy(calls, meeting))
    return calls


@pytest.mark.parametrize("n_threads", [1, 2, 3])
@pytest.mark.parametrize(
    "input_kind", ["csr_float64", "dense_float64", "dense_float32"]
)
def test_threads_share_chunks_and_agree(rng, monkeypatch, n_threads, input_kind):
    coefs, intercepts = random_network(rng, np.float32)
    X = sparse.random(3000, 12, density=0.4, format="csr", random_state=rng)
    if input_kind == "dense_float64":
        X = X.toarray()
    elif input_kind == "dense_float32":
        X = X.toarray().astype(np.float32)
    # A row takes its input values (its stored values if CSR), 9 + 5 hidden
    # values and 1 output value, of 4 bytes each: 100 dense rows per chunk.
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 100 * 27 * 4)
    input_values = -(-X.nnz // 3000) if sparse.issparse(X) else 12
    bound = 100 * 27 // (input_values + 15)
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: n_threads)
    calls = record_chunk_threads(monkeypatch)

    logits = predict_logits(X, coefs, intercepts, "relu")

    np.testing.assert_allclose(
        logits, reference_logits(X, coefs, intercepts), rtol=1e-4, atol=1e-4
    )
    starts = sorted(start for _, start in calls)
    assert len(starts) % n_threads == 0
    assert starts == sorted(set(starts))
    assert starts[0] == 0
    # Every chunk but the last has the same number of rows.
    sizes = np.diff(starts + [3000])
    assert sizes.max() <= bound
    assert np.all(sizes[:-1] == sizes[0])


def test_second_thread_does_work(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64, (200, 64, 1))
    X = rng.normal(size=(20000, 200))
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 2**16)
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: 2)
    calls = record_chunk_threads(monkeypatch, threading.Barrier(2, timeout=30))

    predict_logits(X, coefs, intercepts, "relu")

    # 30 rows per chunk. A worker that never runs leaves the barrier broken.
    assert len(calls) == 667
    assert len({thread for thread, _ in calls}) == 2


def test_run_in_threads_gives_each_item_once():
    items = iter(range(500))
    lock = threading.Lock()
    done = []

    def work():
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            done.append((item, threading.get_ident()))

    run_in_threads(work, 3)

    assert sorted(item for item, _ in done) == list(range(500))


def test_run_in_threads_raises_worker_error():
    caller = threading.get_ident()
    started = threading.Barrier(2, timeout=10)

    def work():
        # Each call waits for the other, so that one runs on a worker thread.
        started.wait()
        if threading.get_ident() != caller:
            raise KeyError("raised on the worker")

    with pytest.raises(KeyError, match="raised on the worker"):
        run_in_threads(work, 2)


def test_available_threads_ignores_own_limit(monkeypatch):
    monkeypatch.setattr(skmlp._threads, "_usable_cpus", lambda: 8)
    with threadpool_limits(limits=3, user_api="blas"):
        with single_blas_thread():
            # A fit or prediction on another thread keeps BLAS on one thread.
            assert available_threads() == 3
        with threadpool_limits(limits=1, user_api="blas"):
            assert available_threads() == 1


def test_available_threads_follows_blas_limit():
    with threadpool_limits(limits=1, user_api="blas"):
        assert available_threads() == 1
    assert 1 <= available_threads() <= os.cpu_count()


@pytest.fixture
def float32_model():
    X, y = make_blobs(n_samples=60, centers=2, random_state=0)
    model = ScratchMLPClassifier((4,), max_iter=1, dtype="float32", random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(X, y)


@pytest.mark.parametrize("as_sparse", [False, True], ids=["dense", "csr"])
def test_float32_overflow_in_a_worker_chunk(float32_model, rng, monkeypatch, as_sparse):
    X = rng.normal(size=(4000, 2))
    X[-1, 1] = -1e39
    if as_sparse:
        X = sparse.csr_matrix(X)
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 2**12)
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: 2)

    with pytest.raises(ValueError, match="too large for float32"):
        float32_model.predict_proba(X)


def test_float32_largest_value_fits_training():
    largest = float(np.finfo(np.float32).max) * (1 + 2**-30)
    X = np.array([[largest, 1.0], [-largest, 0.0], [0.0, 1.0], [0.0, 0.0]])
    model = ScratchMLPClassifier((2,), max_iter=1, dtype="float32", random_state=0)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.partial_fit(X[2:], [0, 1], classes=[0, 1])
        model.partial_fit(X[:2], [0, 1])

    assert model.n_iter_ == 2
    X[0, 0] = 1e39
    with pytest.raises(ValueError, match="too large for float32"):
        model.partial_fit(X[:2], [0, 1])


def test_float32_largest_value_accepted(float32_model):
    # This float64 value rounds to the largest float32 instead of overflowing.
    largest = float(np.finfo(np.float32).max) * (1 + 2**-30)
    float32_model.coefs_[0][0] = 0.0
    X = np.array([[largest, 1.0], [-largest, 1.0]])

    proba = float32_model.predict_proba(X)

    np.testing.assert_array_equal(proba, float32_model.predict_proba([[0.0, 1.0]] * 2))


def test_concurrent_callers_get_their_own_results(rng, monkeypatch):
    coefs, intercepts = random_network(rng, np.float64)
    inputs = [rng.normal(size=(5000, 12)) for _ in range(4)]
    expected = [predict_logits(X, coefs, intercepts, "relu") for X in inputs]
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 2**14)
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: 2)
    results = [None] * len(inputs)

    def predict(i):
        for _ in range(5):
            results[i] = predict_logits(inputs[i], coefs, intercepts, "relu")

    callers = [threading.Thread(target=predict, args=(i,)) for i in range(4)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=60)

    assert not any(caller.is_alive() for caller in callers)
    for result, reference in zip(results, expected, strict=True):
        np.testing.assert_array_equal(result, reference)


def _predict_in_child(queue):
    rng = np.random.default_rng(1)
    coefs, intercepts = random_network(rng, np.float64)
    X = rng.normal(size=(20000, 12))
    calls = []
    skmlp._prediction._first_layer = chunk_spy(calls, threading.Barrier(2, timeout=30))
    skmlp._prediction.available_threads = lambda: 2
    skmlp._prediction.PREDICT_CHUNK_BYTES = 2**14
    logits = predict_logits(X, coefs, intercepts, "relu")
    queue.put(
        (
            len({thread for thread, _ in calls}),
            float(np.abs(logits - reference_logits(X, coefs, intercepts)).max()),
        )
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_forked_child_predicts_on_two_threads(rng, monkeypatch):
    # The parent's worker threads exist before the fork, and not in the child.
    coefs, intercepts = random_network(rng, np.float64)
    monkeypatch.setattr(skmlp._prediction, "available_threads", lambda: 2)
    monkeypatch.setattr(skmlp._prediction, "PREDICT_CHUNK_BYTES", 2**14)
    predict_logits(rng.normal(size=(5000, 12)), coefs, intercepts, "relu")

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_predict_in_child, args=(queue,))
    child.start()
    n_threads, error = queue.get(timeout=60)
    child.join(timeout=60)

    assert child.exitcode == 0
    assert n_threads == 2
    assert error < 1e-9


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("size", [7, 5000, skmlp._activations.ZEROS_MAX_SIZE + 1])
def test_relu_matches_definition(rng, dtype, size):
    Z = rng.normal(size=size).astype(dtype)
    Z[:3] = [np.nan, -0.0, np.inf]
    expected = np.where(Z > 0, Z, 0).astype(dtype)
    expected[0] = np.nan
    out = np.empty_like(Z)

    result = ACTIVATIONS["relu"](Z, out=out)

    assert result is out
    np.testing.assert_array_equal(out, expected)
    ACTIVATIONS["relu"](Z)
    np.testing.assert_array_equal(Z, expected)


def test_relu_zeros_stay_zero(rng):
    zeros = skmlp._activations._zeros_like(np.empty((4, 3)))
    Z = rng.normal(size=(4, 3))
    ACTIVATIONS["relu"](Z, out=Z)

    assert not zeros.flags.writeable
    with pytest.raises(ValueError):
        zeros[0, 0] = 1.0
    np.testing.assert_array_equal(zeros, 0.0)
