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

import numpy as np
from scipy import sparse
from sklearn import get_config
from sklearn.utils import gen_batches

from ._activations import ACTIVATIONS
from ._layers import dense_forward
from ._network import ActivationBuffers, ParameterLayout, forward_pass
from ._sparse import add_sparse_product

# Size of one chunk of rows: its input rows and its hidden-layer buffers. In
# float64, predict_proba on the 16,281 rows of the Adult test set took about
# 7 ms in chunks of 2,048 rows and about 19 ms in one chunk of all rows, on a
# 2-core virtual machine, where fresh memory is slow to touch the first time.
PREDICT_CHUNK_BYTES = 2**22


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
    rows_per_chunk = chunk_rows(dtype, hidden_units, X.shape[1])
    logits = np.empty((n_samples, n_outputs), dtype=dtype)
    if n_samples == 0:
        return logits
    buffers = ActivationBuffers(
        min(rows_per_chunk, n_samples), hidden_units, dtype, bias_column=False
    )
    activate = ACTIVATIONS[activation]

    # Overflow is looked for in the logits by the caller.
    with np.errstate(all="ignore"):
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
    smaller.
    """
    values_per_row = n_features + sum(hidden_units) + 1
    bytes_per_row = np.dtype(dtype).itemsize * values_per_row
    budget = min(PREDICT_CHUNK_BYTES, get_config()["working_memory"] * 2**20)
    return max(1, int(budget // bytes_per_row))


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
