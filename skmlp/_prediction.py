"""The forward pass of a fitted network over many rows, for the prediction methods.

The rows go through the network in chunks of a few thousand, into buffers
allocated once per call and reused by every chunk, so that they stay in cache
instead of each layer writing fresh memory for every row. Each activation
overwrites its pre-activation, and each layer adds its bias after its product.
The first layer of a CSR input adds its product to the bias, row by row of the
CSR arrays, without copying rows of ``X`` (see :mod:`skmlp._sparse`).

Sharing the chunks among threads was tried and left out: on a 2-core virtual
machine it made ``predict_proba`` on the Adult test set about 1.5 times
slower, as every numpy call hands the GIL from one thread to the other.
"""

import contextlib
import math

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.utils import gen_batches

from ._activations import ACTIVATIONS
from ._layers import dense_forward
from ._network import ActivationBuffers, ParameterLayout, forward_pass
from ._sparse import add_sparse_product
from ._threads import threads_for_products

# Size of one chunk of rows: its input rows and its hidden-layer buffers.
# Small chunks keep the buffers in cache, but each chunk costs a few numpy
# calls. On the 16,281 rows of the Adult test set (float32, CSR input, 2-core
# virtual machine), predict_proba took about 4.0 ms in chunks of 2,048 rows,
# 4.4 ms in chunks of 9,447 and 4.7 ms in chunks of 256. 1 MiB gives 2,362
# rows there.
PREDICT_CHUNK_BYTES = 2**20

# Prediction runs BLAS on one thread while no product of a chunk exceeds this
# many multiply-adds. On the Adult test set in float32, predict_proba took
# about 4.1 ms with one OpenBLAS thread and 5.2 ms with two on CSR input, and
# 7.8 ms against 9.0 ms on dense input, on a 2-core virtual machine. Waking
# the second thread for each product costs more than it saves at these sizes.
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
    # CSR rows are read in place, so a row counts its stored values only.
    if sparse.issparse(X):
        input_values = math.ceil(X.nnz / max(n_samples, 1))
    else:
        input_values = X.shape[1]
    rows_per_chunk = chunk_rows(dtype, hidden_units, input_values)
    logits = np.empty((n_samples, n_outputs), dtype=dtype)
    if n_samples == 0:
        return logits
    buffers = ActivationBuffers(
        min(rows_per_chunk, n_samples), hidden_units, dtype, bias_column=False
    )
    activate = ACTIVATIONS[activation]

    # Overflow is looked for in the logits by the caller.
    with _blas_threads(X, layout, buffers.n_rows), np.errstate(all="ignore"):
        for rows in gen_batches(n_samples, rows_per_chunk):
            n_rows = rows.stop - rows.start
            chunk = buffers if n_rows == buffers.n_rows else buffers.head(n_rows)
            if not hidden_units:
                _first_layer(X, rows, blocks[0], logits[rows])
                continue

            Z = _first_layer(X, rows, blocks[0], chunk.pre_activations[0])
            forward_pass(
                activate(Z), blocks[1:], activation, chunk.tail(), logits[rows]
            )
    return logits


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


def _first_layer(X, rows, block, out):
    """Write ``Z = X[rows] @ W + b`` into ``out``, with ``block = [W; b]``."""
    if sparse.issparse(X):
        out[...] = block[-1]
        add_sparse_product(X, rows, block[:-1], out)
        return out

    X_rows = X[rows]
    if X_rows.dtype != out.dtype:
        X_rows = X_rows.astype(out.dtype)
    return dense_forward(X_rows, block, out)
