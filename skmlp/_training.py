"""One epoch of mini-batch training: forward pass, backward pass, clipping and
update for every mini-batch, on memory allocated once per fit.

The per-batch loop is where training spends its time, so it makes a fixed,
small number of numpy calls per mini-batch and allocates nothing but the
batch's row indices.
"""

import numpy as np

from ._losses import OUTPUT_ACTIVATIONS
from ._network import backward_pass, forward_pass


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
    dense_input : bool
        True if the training data is a dense array, whose batches are gathered
        into one reused buffer.
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
        dense_input,
    ):
        dtype = params.dtype
        self.layout = layout
        self.params = params
        self.activation = activation
        self.output_activation = OUTPUT_ACTIVATIONS[out_activation]
        self.alpha = alpha
        self.optimizer = optimizer
        self.clipper = clipper
        self.batch_size = batch_size

        self.coefs, self.intercepts = layout.views(params)
        self.grads = np.zeros(layout.size, dtype=dtype)
        self.coef_grads, self.intercept_grads = layout.views(self.grads)

        hidden_units = layout.layer_units[1:-1]
        n_outputs = layout.layer_units[-1]
        self._hidden = [np.empty((batch_size, units), dtype=dtype) for units in hidden_units]
        self._deltas = [np.empty((batch_size, units), dtype=dtype) for units in hidden_units]
        self._output_delta = np.empty((batch_size, n_outputs), dtype=dtype)
        self._x_batch = np.empty((batch_size, n_features), dtype=dtype) if dense_input else None
        self._penalty = np.empty(layout.n_weights, dtype=dtype) if alpha > 0 else None

    def compute_gradients(self, X_batch, Y_batch, row_scale, batch_weight, logits_out):
        """Fill ``self.grads`` with the gradient of one mini-batch's loss.

        The batch's loss is ``sum_i w_i * loss_i / S`` plus the L2 penalty
        ``alpha / (2 S) * sum(W ** 2)``, where ``S`` is the weight that a batch
        of its size carries on average (see :meth:`run_epoch`).

        Parameters
        ----------
        X_batch : ndarray or sparse matrix of shape (m, n_features)
        Y_batch : ndarray of shape (m, n_outputs)
            Targets: 0/1 columns, or one-hot rows for softmax.
        row_scale : ndarray of shape (m, 1)
            ``w_i / S`` per row.
        batch_weight : float
            ``S``, which also scales the L2 penalty.
        logits_out : ndarray of shape (m, n_outputs)
            Receives the logits, from which the caller computes the loss.
        """
        m = Y_batch.shape[0]
        hidden, deltas, output_delta = self._buffers(m)

        forward_pass(X_batch, self.coefs, self.intercepts, self.activation, hidden, logits_out)

        # For a sigmoid output with binary cross-entropy, and for a softmax with
        # categorical cross-entropy, dL/dZ of sample i is p_i - y_i; the weighted
        # loss multiplies it by w_i / S.
        self.output_activation(logits_out, out=output_delta)
        output_delta -= Y_batch
        output_delta *= row_scale

        backward_pass(
            X_batch,
            hidden,
            output_delta,
            self.coefs,
            self.activation,
            self.coef_grads,
            self.intercept_grads,
            deltas,
        )

        if self._penalty is not None:
            n_weights = self.layout.n_weights
            np.multiply(self.params[:n_weights], self.alpha / batch_weight, out=self._penalty)
            self.grads[:n_weights] += self._penalty

    def run_epoch(self, X, Y, sample_weight, order, learning_rate, logits_out):
        """Run one pass over the data in mini-batches.

        A batch of ``m`` rows is normalized by ``S = m * mean(sample_weight)``,
        the weight it carries on average, rather than by its own total weight.
        The batch gradients then average to the gradient of the weighted mean
        loss over the epoch, and a batch of nearly weightless rows makes a
        nearly zero step instead of a full one. Without sample weights, ``S`` is
        the batch size.

        Parameters
        ----------
        X : ndarray or CSR matrix of shape (n_samples, n_features)
        Y : ndarray of shape (n_samples, n_outputs)
            Targets, in visiting order.
        sample_weight : ndarray of shape (n_samples,)
            Weights, in visiting order; their mean must be positive.
        order : ndarray of shape (n_samples,) or None
            Rows of ``X`` to visit, in order; ``None`` visits them in order.
        learning_rate : float
        logits_out : ndarray of shape (n_samples, n_outputs)
            Receives the logits of each row, in visiting order, computed with the
            weights before that row's update.

        Returns
        -------
        stats : dict
            ``grad_norms``: the largest norm of each clipping group over the
            epoch's steps, before clipping; ``n_steps``: updates made;
            ``n_clipped``: updates whose gradients were clipped.
        """
        n_samples = Y.shape[0]
        batch_size = self.batch_size
        mean_weight = float(np.mean(sample_weight, dtype=np.float64))

        # row_scale[i] = w_i / S of row i's batch; only the last batch may be short.
        row_scale = np.empty((n_samples, 1), dtype=logits_out.dtype)
        np.divide(sample_weight[:, np.newaxis], mean_weight * batch_size, out=row_scale, casting="unsafe")
        last_start = (n_samples - 1) // batch_size * batch_size
        row_scale[last_start:] *= batch_size / (n_samples - last_start)

        max_norms = np.zeros(self.clipper.n_groups, dtype=np.float64)
        n_steps = 0
        n_clipped = 0

        for start in range(0, n_samples, batch_size):
            stop = min(start + batch_size, n_samples)
            self.compute_gradients(
                self._gather_rows(X, order, start, stop),
                Y[start:stop],
                row_scale[start:stop],
                mean_weight * (stop - start),
                logits_out[start:stop],
            )

            norms = self.clipper.norms(self.grads)
            np.fmax(max_norms, norms, out=max_norms)
            n_clipped += self.clipper.clip(self.grads, norms)

            self.optimizer.step(self.params, self.grads, learning_rate)
            n_steps += 1

        return {"grad_norms": max_norms, "n_steps": n_steps, "n_clipped": n_clipped}

    def _gather_rows(self, X, order, start, stop):
        if order is None:
            return X[start:stop]

        rows = order[start:stop]
        if self._x_batch is None:
            return X[rows]
        return X.take(rows, axis=0, out=self._x_batch[: stop - start])

    def _buffers(self, m):
        if m == self.batch_size:
            return self._hidden, self._deltas, self._output_delta
        return (
            [buffer[:m] for buffer in self._hidden],
            [buffer[:m] for buffer in self._deltas],
            self._output_delta[:m],
        )

