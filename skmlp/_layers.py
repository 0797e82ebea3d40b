"""The dense layer: its forward pass and its hand-written backward pass.

A dense layer maps its input ``A_prev`` of shape (n_samples, n_in) to the
pre-activation ``Z = A_prev @ W + b`` of shape (n_samples, n_out). The weights
and the bias are stored together as one block ``[W; b]`` of shape
(n_in + 1, n_out), whose last row is the bias. With a column of ones appended to
the input, ``A1 = [A_prev, 1]``, the layer is one matrix product::

    Z = A1 @ [W; b] = A_prev @ W + b

Given the gradient of the loss with respect to ``Z``, the chain rule gives

- ``dL/d[W; b] = A1.T @ dL/dZ``, shape (n_in + 1, n_out). Its first ``n_in``
  rows are ``dL/dW = A_prev.T @ dL/dZ``, and its last row, the product with the
  column of ones, is ``dL/db``, the column sums of ``dL/dZ``;
- ``dL/dA_prev = dL/dZ @ W.T``, shape (n_samples, n_in).

On a mini-batch of 32 rows a numpy call costs about a microsecond whatever its
arithmetic, so doing the bias inside the products saves two calls per layer
and mini-batch: the bias addition and the sum for its gradient.

Every function writes into arrays that the caller allocates, so that the
training loop reuses the same memory for every mini-batch.
"""

import numpy as np


def dense_forward(inputs, block, out):
    """Compute ``Z = inputs @ W + b`` into ``out``, where ``block = [W; b]``.

    Parameters
    ----------
    inputs : ndarray
        Either ``A1`` of shape (n_samples, n_in + 1), whose last column is ones,
        or the plain input of shape (n_samples, n_in), to which the bias is then
        added. Sparse input reaches the first layer through
        :func:`skmlp._sparse.add_sparse_product` instead.
    block : ndarray of shape (n_in + 1, n_out)
        C-contiguous, of the same dtype as ``out``.
    out : ndarray of shape (n_samples, n_out)
        C-contiguous; receives ``Z``.

    Returns
    -------
    out : ndarray of shape (n_samples, n_out)
    """
    if inputs.shape[1] == block.shape[0]:
        np.dot(inputs, block, out=out)
        return out

    np.dot(inputs, block[:-1], out=out)
    out += block[-1]
    return out


def dense_backward(inputs, block, output_grad, block_grad, input_grad):
    """Compute the gradients of a dense layer from ``dL/dZ``.

    Parameters
    ----------
    inputs : ndarray of shape (n_samples, n_in + 1)
        ``A1``, the layer's input from the forward pass with its column of ones.
    block : ndarray of shape (n_in + 1, n_out)
        ``[W; b]``.
    output_grad : ndarray of shape (n_samples, n_out)
        ``dL/dZ``.
    block_grad : ndarray of shape (n_in + 1, n_out)
        C-contiguous; receives ``dL/d[W; b] = A1.T @ dL/dZ``.
    input_grad : ndarray of shape (n_samples, n_in) or None
        C-contiguous; receives ``dL/dA_prev = dL/dZ @ W.T``. ``None`` skips it,
        as for the first layer, whose input is the data.

    Notes
    -----
    All arrays share one dtype. ``np.dot`` then calls BLAS directly, which for
    mini-batch shapes takes about half a microsecond less per product than
    ``np.matmul``, and gives bit-identical results.
    """
    np.dot(inputs.T, output_grad, out=block_grad)

    if input_grad is not None:
        np.dot(output_grad, block[:-1].T, out=input_grad)
