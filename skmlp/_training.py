"""One epoch of mini-batch training: forward pass, backward pass, clipping and
update for every mini-batch, on memory allocated once per fit.

The per-batch loop is where training spends its time, so it makes a fixed,
small number of numpy calls per mini-batch and allocates nothing but the
batch's row indices. The rows of ``X`` are copied in visiting order into one
reused buffer, a chunk of whole mini-batches at a time, so an epoch never
copies the whole training set and sparse data is densified a chunk at a time.
"""

import numpy as np
from scipy import sparse

from ._losses import LOSS_FUNCTIONS, OUTPUT_ACTIVATIONS
from ._network import ActivationBuffers, backward_pass, forward_pass
from ._sparse import densify_rows
from ._threads import threads_for_products

# Size of the buffer that receives one chunk of rows of X. A larger chunk makes
# fewer gathering calls per epoch, which matters for CSR input, where one call
# costs about 50 microseconds whatever its size. On the Adult pipeline's output
# at batch size 32, 256 KiB made CSR epochs about 5% slower than 512 KiB and
# the fit's peak memory 0.3 MiB lower, measured with one BLAS thread on a
# 2-core AMD EPYC virtual machine.
CHUNK_BYTES = 2**18

# Training runs BLAS on one thread while no matrix product of a mini-batch
# exceeds this many multiply-adds, an estimated 0.1 ms of work on one core.
# Waking a second thread for each product costs more than it saves at that
# size, and far more on a busy machine. With batch size 256 on the Adult
# pipeline's output, an epoch took about 10 times longer on two OpenBLAS
# threads than on one, on a 2-core virtual machine with other jobs running.
# The weights come out bit for bit the same with one thread or two, as
# OpenBLAS splits a product by blocks of its output, not along the sum.
SINGLE_THREAD_MAX_MULTIPLY_ADDS = 2**22

# Dense rows of another dtype than the model's are gathered into a scratch
# array of about this size in their own dtype, then converted into the chunk.
# On the Adult data in float64 with a float32 model, gathering an epoch took
# about 7.2 ms a mini-batch at a time, 5.7 ms through 128 KiB and 5.1 ms
# through a whole chunk, which would double the scratch memory.
CONVERSION_BYTES = 2**17


class MiniBatchTrainer:
    """Gradients and updates for one flat parameter array.

    Parameters
    ----------
    layout : ParameterLayout
    params : ndarray of shape (layout.size,)
        The parameters, updated in place.
    activation : str
        Name of the hidden-layer activation.
    out_activation : {"logistic", "softmax"}
    alpha : float
        L2 penalty. A mini-batch of total sample weight ``S`` adds
        ``alpha / (2 S) * sum(W ** 2)`` over all weight matrices to its loss and
        ``alpha / S * W`` to each weight gradient, as scikit-learn's
        ``MLPClassifier`` does, so ``alpha`` means the same in both.
    optimizer : SGDOptimizer or AdamOptimizer
    clipper : GradientClipper
    batch_size : int
    n_features : int

    Notes
    -----
    :meth:`run_epoch` copies the rows it visits, dense or CSR, into one reused
    dense buffer of whole mini-batches, about ``CHUNK_BYTES`` in size, with a
    last column of ones that carries the first layer's bias. CSR data is
    therefore densified one chunk at a time.
    """

    def __init__(
        self,
        layout,
        params,
        *,
        activation,
        out_activation,
        alpha,
        optimizer,
        clipper,
        batch_size,
        n_features,
    ):
        dtype = params.dtype
        self.layout = layout
        self.params = params
        self.activation = activation
        self.output_activation = OUTPUT_ACTIVATIONS[out_activation]
        self.compute_loss = LOSS_FUNCTIONS[out_activation]
        self.alpha = alpha
        self.optimizer = optimizer
        self.clipper = clipper
        self.batch_size = batch_size
        self.n_features = n_features

        self.blocks = layout.blocks(params)
        self.coefs, self.intercepts = layout.views(params)
        self.grads = np.zeros(layout.size, dtype=dtype)
        self.block_grads = layout.blocks(self.grads)

        hidden_units = layout.layer_units[1:-1]
        n_outputs = layout.layer_units[-1]
        self._buffers = ActivationBuffers(batch_size, hidden_units, dtype)
        self._deltas = [
            np.empty((batch_size, units), dtype=dtype) for units in hidden_units
        ]
        self._output_delta = np.empty((batch_size, n_outputs), dtype=dtype)

        # Rounded to the nearest whole number of batches: rounding down would
        # leave a batch of 256 float32 rows of 130 columns alone in its chunk,
        # at half the size, and double the gathering calls.
        batches_per_chunk = max(
            1, round(CHUNK_BYTES / (batch_size * max(n_features, 1) * dtype.itemsize))
        )
        self.chunk_rows = batches_per_chunk * batch_size
        # Allocated by the first epoch, with at most as many rows as it visits.
        self._x_chunk = None
        self._x_scratch = None
        self._views_key = self._views = None

        if alpha > 0:
            self._l2_mask = layout.weight_mask.astype(dtype)
            self._penalty = np.empty(layout.size, dtype=dtype)
            # alpha / S on the weights and 0 on the biases, for the last S.
            self._l2_scale = (None, None)

    def compute_gradients(self, X_batch, Y_batch, row_scale, batch_weight, logits_out):
        """Fill ``self.grads`` with the gradient of one mini-batch's loss.

        The batch's loss is ``sum_i w_i * loss_i / S`` plus the L2 penalty
        ``alpha / (2 S) * sum(W ** 2)``, where ``S`` is the weight that a batch
        of its size carries on average (see :meth:`run_epoch`).

        Parameters
        ----------
        X_batch : ndarray or sparse matrix
            The batch's rows, of shape (m, n_features), or of shape
            (m, n_features + 1) with a last column of ones, as
            :meth:`run_epoch` passes them.
        Y_batch : ndarray of shape (m, n_outputs)
            Targets: 0/1 columns, or one-hot rows for softmax.
        row_scale : ndarray of shape (m, 1)
            ``w_i / S`` per row.
        batch_weight : float
            ``S``, which also scales the L2 penalty.
        logits_out : ndarray of shape (m, n_outputs)
            C-contiguous; receives the logits, from which the caller computes
            the loss.
        """
        m = Y_batch.shape[0]
        if X_batch.shape[1] == self.n_features:
            self._allocate_chunk(m, Y_batch.shape[1])
            X_batch = self._gather_rows(X_batch, None, 0, m)

        if m == self.batch_size:
            buffers, deltas, output_delta = (
                self._buffers,
                self._deltas,
                self._output_delta,
            )
        else:
            buffers = self._buffers.head(m)
            deltas = [delta[:m] for delta in self._deltas]
            output_delta = self._output_delta[:m]

        forward_pass(X_batch, self.blocks, self.activation, buffers, logits_out)

        # For a sigmoid output with binary cross-entropy, and for a softmax with
        # categorical cross-entropy, dL/dZ of sample i is p_i - y_i. The weighted
        # loss multiplies it by w_i / S.
        self.output_activation(logits_out, out=output_delta)
        np.subtract(output_delta, Y_batch, out=output_delta)
        np.multiply(output_delta, row_scale, out=output_delta)

        backward_pass(
            X_batch,
            buffers,
            output_delta,
            self.blocks,
            self.activation,
            self.block_grads,
            deltas,
        )

        if self.alpha > 0:
            # The gradient of the penalty: alpha / S * W on the weights, 0 on
            # the biases. S changes only for the short last batch of an epoch.
            scale_weight, scale = self._l2_scale
            if scale_weight != batch_weight:
                scale = self._l2_mask * (self.alpha / batch_weight)
                self._l2_scale = (batch_weight, scale)
            np.multiply(self.params, scale, out=self._penalty)
            np.add(self.grads, self._penalty, out=self.grads)

    def run_epoch(self, X, Y, sample_weight, order, learning_rate, logits_out=None):
        """Run one pass over the data in mini-batches and return its statistics.

        A batch of ``m`` rows is normalized by ``S = m * mean(sample_weight)``,
        the weight it carries on average, rather than by its own total weight.
        The batch gradients then average to the gradient of the weighted mean
        loss over the epoch, and a batch of nearly weightless rows makes a
        nearly zero step instead of a full one. Without sample weights, ``S`` is
        the batch size.

        The rows of ``X``, ``Y`` and ``sample_weight`` are gathered in visiting
        order one chunk of whole mini-batches at a time, so the epoch allocates
        no array of ``n_samples`` rows.

        Parameters
        ----------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Targets, in the row order of ``X``.
        sample_weight : ndarray of shape (n_samples,)
            Weights, in the row order of ``X``; their mean must be positive.
        order : ndarray of shape (n_samples,) or None
            Rows of ``X`` to visit, in order; ``None`` visits them in order.
        learning_rate : float
        logits_out : ndarray of shape (n_samples, n_outputs), default=None
            If given, receives the logits of each row, in visiting order.

        Returns
        -------
        stats : dict
            ``loss`` is the weighted mean loss of the epoch without the L2
            penalty. It comes from the logits of each row, computed with the
            weights before that row's update. ``grad_norms`` is the largest
            norm of each clipping group over the epoch's steps, before
            clipping. ``n_steps`` counts the updates, and ``n_clipped`` the
            updates whose gradients were clipped.
        """
        # _take_rows clips indices instead of checking them, so a target or a
        # weight vector of another length must be caught here.
        if not X.shape[0] == Y.shape[0] == sample_weight.shape[0]:
            raise ValueError(
                f"X has {X.shape[0]} rows, but the targets have {Y.shape[0]} and "
                f"sample_weight {sample_weight.shape[0]}; pass one of each per row."
            )
        # A float32 gradient whose sum of squares overflows is measured again
        # exactly, so the overflow flag that the sum raises is ignored here.
        with (
            threads_for_products(
                self.batch_size,
                self.layout.weight_shapes,
                SINGLE_THREAD_MAX_MULTIPLY_ADDS,
            ),
            np.errstate(over="ignore"),
        ):
            return self._run_chunks(
                X, Y, sample_weight, order, learning_rate, logits_out
            )

    def _run_chunks(self, X, Y, sample_weight, order, learning_rate, logits_out):
        n_samples = Y.shape[0]
        batch_size = self.batch_size
        mean_weight = float(np.mean(sample_weight, dtype=np.float64))
        total_weight = float(np.sum(sample_weight, dtype=np.float64))
        last_start = (n_samples - 1) // batch_size * batch_size
        chunk_rows = self.chunk_rows
        self._allocate_chunk(min(chunk_rows, n_samples), Y.shape[1])

        loss = 0.0
        max_norms = np.zeros(self.clipper.n_groups, dtype=np.float64)
        max_squares = np.zeros(self.clipper.n_groups, dtype=np.float64)
        # A NaN or infinite sum of squares fails "<=" against either bound.
        # The bound is a float64 scalar because numpy 2 (NEP 50) compares a
        # float32 with a Python float in float32, where a bound above 3.4e38
        # becomes inf and every overflowing sum would pass.
        largest_square = np.float64(
            np.finfo(np.float64).max
            if self.clipper.max_norm is None
            else min(self.clipper.max_norm, 1e154) ** 2
        )
        n_steps = 0
        n_clipped = 0
        # Bound once: attribute lookups add up over thousands of mini-batches.
        compute_gradients = self.compute_gradients
        clipper = self.clipper
        step = self.optimizer.step
        params = self.params
        grads = self.grads

        # chunk_rows is a multiple of batch_size, so no batch spans two chunks.
        for chunk_start in range(0, n_samples, chunk_rows):
            chunk_stop = min(chunk_start + chunk_rows, n_samples)
            n_rows = chunk_stop - chunk_start
            X_chunk = self._gather_rows(X, order, chunk_start, chunk_stop)
            Y_chunk = _take_rows(
                Y, order, chunk_start, chunk_stop, self._y_chunk[:n_rows]
            )
            weight_chunk = _take_rows(
                sample_weight,
                order,
                chunk_start,
                chunk_stop,
                self._weight_chunk[:n_rows],
            )
            if logits_out is None:
                logits_chunk = self._logits_chunk[:n_rows]
            else:
                logits_chunk = logits_out[chunk_start:chunk_stop]

            # row_scale[i] = w_i / S of row i's batch; only the last batch may be short.
            row_scale = self._row_scale[:n_rows]
            np.divide(
                weight_chunk[:, np.newaxis],
                mean_weight * batch_size,
                out=row_scale,
                casting="unsafe",
            )
            if chunk_stop > last_start:
                row_scale[last_start - chunk_start :] *= batch_size / (
                    n_samples - last_start
                )

            for X_batch, Y_batch, scale_batch, logits_batch in self._batch_views(
                X_chunk, Y_chunk, row_scale, logits_chunk
            ):
                compute_gradients(
                    X_batch,
                    Y_batch,
                    scale_batch,
                    mean_weight * len(Y_batch),
                    logits_batch,
                )

                # Most batches need only the sums of squares: below the bound,
                # they are finite and nothing is clipped. Any other batch
                # takes the exact norms, which also cope with overflow.
                squares = clipper.squared_norms(grads)
                if squares.max() <= largest_square:
                    np.fmax(max_squares, squares, out=max_squares)
                else:
                    norms = clipper.norms(grads)
                    np.fmax(max_norms, norms, out=max_norms)
                    n_clipped += clipper.clip(grads, norms)

                step(params, grads, learning_rate)
                n_steps += 1

            # The epoch's loss adds up each chunk's weighted mean times the
            # chunk's share of the total weight. A chunk of every row takes its
            # weighted mean as it is, which a share rounded off 1 would change.
            chunk_weight = float(np.sum(weight_chunk, dtype=np.float64))
            if chunk_weight > 0:
                share = 1.0 if n_rows == n_samples else chunk_weight / total_weight
                loss += self.compute_loss(Y_chunk, logits_chunk, weight_chunk) * share

        return {
            "loss": loss,
            "grad_norms": np.fmax(max_norms, np.sqrt(max_squares))[
                clipper.report_order
            ],
            "n_steps": n_steps,
            "n_clipped": n_clipped,
        }

    def _batch_views(self, X_chunk, Y_chunk, row_scale, logits_chunk):
        """Return the mini-batches of a chunk as tuples of views, one per batch.

        The chunk buffers are the same arrays for every chunk, so the views
        of a chunk of the usual length are made once per fit rather than
        sliced again for every mini-batch.
        """
        arrays = (X_chunk, Y_chunk, row_scale, logits_chunk)
        # Targets without a visiting order, and logits the caller passes, are
        # views into other arrays at every chunk's own offset: never cached.
        reusable = (
            Y_chunk.base is self._y_chunk and logits_chunk.base is self._logits_chunk
        )
        if reusable and self._views_key == len(Y_chunk):
            return self._views

        starts = range(0, len(Y_chunk), self.batch_size)
        views = [
            tuple(array[start : start + self.batch_size] for array in arrays)
            for start in starts
        ]
        if reusable:
            self._views_key, self._views = len(Y_chunk), views
        return views

    def _allocate_chunk(self, n_rows, n_outputs):
        """Grow the chunk buffers to at least ``n_rows`` rows."""
        if self._x_chunk is not None and self._x_chunk.shape[0] >= n_rows:
            return
        dtype = self.params.dtype
        self._views_key = self._views = None
        # The last column stays 1: it multiplies the first layer's bias.
        self._x_chunk = np.ones((n_rows, self.n_features + 1), dtype=dtype)
        self._y_chunk = np.empty((n_rows, n_outputs), dtype=dtype)
        self._weight_chunk = np.empty(n_rows, dtype=np.float64)
        self._logits_chunk = np.empty((n_rows, n_outputs), dtype=dtype)
        self._row_scale = np.empty((n_rows, 1), dtype=dtype)

    def _gather_rows(self, X, order, start, stop):
        """Return rows ``start:stop`` of the visiting order, with a column of ones.

        The rows are copied into the chunk buffer and converted to the model's
        dtype, as a dense C-contiguous array of shape
        (stop - start, n_features + 1).
        """
        n_rows = stop - start
        out = self._x_chunk[:n_rows]
        features = out[:, :-1]

        if sparse.issparse(X):
            rows = slice(start, stop) if order is None else order[start:stop]
            densify_rows(X, rows, out)
        elif order is None:
            features[...] = X[start:stop]
        elif X.dtype == out.dtype:
            _take_rows(X, order, start, stop, features)
        else:
            scratch = self._conversion_scratch(X)
            for first in range(0, n_rows, len(scratch)):
                last = min(first + len(scratch), n_rows)
                features[first:last] = _take_rows(
                    X, order, start + first, start + last, scratch[: last - first]
                )
        return out

    def _conversion_scratch(self, X):
        """Return the scratch rows, in the dtype of ``X``, for converting dense rows."""
        n_rows = max(1, CONVERSION_BYTES // (max(X.shape[1], 1) * X.dtype.itemsize))
        shape = (min(n_rows, self.chunk_rows), X.shape[1])
        scratch = self._x_scratch
        if scratch is None or scratch.shape != shape or scratch.dtype != X.dtype:
            self._x_scratch = np.empty(shape, dtype=X.dtype)
        return self._x_scratch


def _take_rows(array, order, start, stop, out):
    """Return rows ``start:stop`` of the visiting order of a dense ``array``.

    Without an order the rows are a view. Otherwise they are copied into
    ``out``. With ``mode="clip"`` numpy writes there directly, where the
    default ``mode="raise"`` goes through a temporary copy. No index is ever
    clipped, because ``order`` is a permutation of valid rows.
    """
    if order is None:
        return array[start:stop]
    return array.take(order[start:stop], axis=0, out=out, mode="clip")
