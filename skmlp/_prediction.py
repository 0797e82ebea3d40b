"""The forward pass of a fitted network over many rows, for the prediction methods.

The rows go through the network in chunks of a few thousand, into buffers
allocated once per call and reused by every chunk, so that they stay in cache
instead of each layer writing fresh memory for every row. Each activation
overwrites its pre-activation, and each layer adds its bias after its product.
The first layer of a CSR input adds its product to the bias, row by row of the
CSR arrays, without copying rows of ``X`` (see :mod:`skmlp._sparse`).

The chunks are shared among as many threads as BLAS may use (see
:func:`skmlp._threads.available_threads`), each with its own buffers. The
products, the sparse kernel and the element-wise steps of a chunk release the
GIL, so the threads run side by side. On the Adult test set (16,281 rows,
float32, CSR input), ``predict_proba`` took about 2.3 ms on two threads
against 3.6 ms on one, called back to back on a 2-core virtual machine.

Right after a product that ran on several OpenBLAS threads, as in
scikit-learn's ``MLPClassifier.predict_proba``, OpenBLAS keeps those threads
spinning for about 0.1 s. A second thread of ours then shares a core with one
of them and gains nothing: a call in that window took about 4.3 ms.
"""

import contextlib
import math
import threading

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.utils import gen_batches

from ._activations import ACTIVATIONS
from ._casting import cast_into
from ._layers import dense_forward
from ._network import ActivationBuffers, ParameterLayout, forward_pass
from ._sparse import add_sparse_product
from ._threads import available_threads, run_in_threads, threads_for_products

# Size of one chunk of rows: its input rows and its hidden-layer buffers.
# Small chunks keep the buffers in cache, but each chunk costs a few numpy
# calls. These are timings of predict_proba on the Adult test set in float32,
# on two threads of a 2-core virtual machine. On CSR input it took about
# 3.0 to 3.5 ms in chunks of 256 KiB, 2.3 ms in chunks of 1 MiB or 2 MiB, and
# 2.3 to 2.4 ms in chunks of 4 MiB. On dense input it took 4.2, 3.7 and 3.8 ms.
PREDICT_CHUNK_BYTES = 2**20

# Prediction runs BLAS on one thread while no product of a chunk exceeds this
# many multiply-adds, because the chunks themselves are shared among threads.
# On the Adult test set in float32, on one thread of ours, predict_proba took
# about 4.1 ms with one OpenBLAS thread and 5.2 ms with two on CSR input. On
# dense input it took 7.8 ms against 9.0 ms, on a 2-core virtual machine.
# Waking a second BLAS thread for each product costs more than it saves here.
SINGLE_THREAD_MAX_MULTIPLY_ADDS = 2**26


def predict_logits(X, coefs, intercepts, activation):
    """Return the output layer's logits for every row of ``X``, possibly non-finite.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_samples, n_features)
        Converted to the dtype of ``coefs`` one chunk at a time.
    coefs, intercepts : list of ndarray
        The fitted weights and biases per layer.
    activation : str
        Name of the hidden-layer activation.

    Returns
    -------
    logits : ndarray of shape (n_samples, n_outputs)
    """
    dtype = coefs[0].dtype
    hidden_units = [W.shape[1] for W in coefs[:-1]]
    n_outputs = coefs[-1].shape[1]
    layout = ParameterLayout([W.shape[0] for W in coefs] + [n_outputs])
    blocks = layout.blocks(layout.pack(coefs, intercepts, dtype))

    n_samples = X.shape[0]
    logits = np.empty((n_samples, n_outputs), dtype=dtype)
    if n_samples == 0:
        return logits
    # CSR rows are read in place, so a row counts its stored values only.
    if sparse.issparse(X):
        input_values = math.ceil(X.nnz / n_samples)
    else:
        input_values = X.shape[1]
    rows_per_chunk, n_threads = _share_rows(
        n_samples, chunk_rows(dtype, hidden_units, input_values), available_threads()
    )
    chunks = gen_batches(n_samples, rows_per_chunk)
    lock = threading.Lock()
    activate = ACTIVATIONS[activation]

    def predict_chunks():
        buffers = ActivationBuffers(rows_per_chunk, hidden_units, dtype, False)
        inputs = _conversion_buffer(X, rows_per_chunk, dtype)
        # The caller checks the logits for overflow.
        with np.errstate(all="ignore"), _closed_on_error(chunks, lock):
            while True:
                with lock:
                    rows = next(chunks, None)
                if rows is None:
                    return

                n_rows = rows.stop - rows.start
                chunk = buffers if n_rows == rows_per_chunk else buffers.head(n_rows)
                if not hidden_units:
                    _first_layer(X, rows, blocks[0], logits[rows], inputs)
                    continue

                Z = _first_layer(X, rows, blocks[0], chunk.pre_activations[0], inputs)
                forward_pass(
                    activate(Z), blocks[1:], activation, chunk.tail(), logits[rows]
                )

    with _blas_threads(X, layout, rows_per_chunk):
        run_in_threads(predict_chunks, n_threads)
    return logits


@contextlib.contextmanager
def _closed_on_error(chunks, lock):
    """Close the shared generator ``chunks`` if the block raises.

    The other threads then take no further chunk, so that an error or an
    interrupt on one thread reaches the caller after the chunks in progress
    instead of after all the rest.
    """
    try:
        yield
    except BaseException:
        with lock:
            chunks.close()
        raise


def _share_rows(n_samples, rows_per_chunk, n_threads):
    """Return ``(rows_per_chunk, n_threads)`` with chunks shared evenly by the threads.

    The chunks are made no larger, and their number a multiple of the number
    of threads, so that no thread is left with one more chunk than another.
    """
    n_chunks = math.ceil(n_samples / rows_per_chunk)
    n_threads = min(n_threads, n_chunks)
    n_chunks = math.ceil(n_chunks / n_threads) * n_threads
    return math.ceil(n_samples / n_chunks), n_threads


def chunk_rows(dtype, hidden_units, n_features):
    """Return how many rows one prediction chunk holds.

    A chunk's input rows and hidden-layer buffers take about
    ``PREDICT_CHUNK_BYTES``, or scikit-learn's ``working_memory`` if that is
    smaller. ``n_features`` is the number of values in one input row: its
    columns if dense, its stored values on average if CSR.
    """
    values_per_row = n_features + sum(hidden_units) + 1
    bytes_per_row = np.dtype(dtype).itemsize * values_per_row
    budget = min(PREDICT_CHUNK_BYTES, get_config()["working_memory"] * 2**20)
    return max(1, int(budget // bytes_per_row))


def _blas_threads(X, layout, n_rows):
    """Return the BLAS thread context for chunks of ``n_rows`` rows of ``X``."""
    # The first layer of CSR input is scipy's sparse product, not BLAS.
    shapes = layout.weight_shapes[1:] if sparse.issparse(X) else layout.weight_shapes
    if not shapes:
        return contextlib.nullcontext()
    return threads_for_products(n_rows, shapes, SINGLE_THREAD_MAX_MULTIPLY_ADDS)


def _conversion_buffer(X, n_rows, dtype):
    """Return the array that dense rows of ``X`` are converted into, or None.

    Rows of a dense ``X`` of another dtype than the model's are copied into
    it, beside a last column of ones, so that the first layer is one product
    that adds the bias too (see :mod:`skmlp._layers`). On the Adult test set,
    a float32 model predicted from float64 rows about 1 ms faster that way
    than by converting each chunk into a new array and adding the bias after.
    """
    if sparse.issparse(X) or X.dtype == dtype:
        return None
    return np.ones((n_rows, X.shape[1] + 1), dtype=dtype)


def _first_layer(X, rows, block, out, inputs):
    """Write ``Z = X[rows] @ W + b`` into ``out``, with ``block = [W; b]``.

    ``inputs`` is the buffer from :func:`_conversion_buffer`.
    """
    if sparse.issparse(X):
        out[...] = block[-1]
        add_sparse_product(X, rows, block[:-1], out)
        return out

    if inputs is None:
        return dense_forward(X[rows], block, out)
    inputs = inputs[: rows.stop - rows.start]
    cast_into(inputs[:, :-1], X[rows])
    return dense_forward(inputs, block, out)
