"""The whole network: its parameters in one flat buffer, the forward pass through
every layer and the backward pass that fills one flat gradient buffer.

Keeping all weights and biases in one contiguous array lets an optimizer update
every parameter with a handful of numpy calls per mini-batch, whatever the number
of layers. ``coefs`` and ``intercepts`` are views into that array, shaped as
scikit-learn's ``MLPClassifier`` shapes its ``coefs_`` and ``intercepts_``.
"""

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._layers import dense_backward, dense_forward


class ParameterLayout:
    """Positions of each layer's weights and bias inside one flat array.

    All weight matrices come first, in layer order, then all bias vectors, so the
    weights, which the L2 penalty acts on, form one contiguous block.

    Parameters
    ----------
    layer_units : sequence of int
        Number of units per layer, input and output layers included.

    Attributes
    ----------
    weight_shapes : list of tuple of int
        ``(n_in, n_out)`` per layer.
    n_weights : int
        Number of weights, which is also the offset of the first bias.
    size : int
        Number of parameters.
    segment_starts : ndarray of shape (2 * n_layers,)
        Start of each weight matrix, then of each bias vector.
    """

    def __init__(self, layer_units):
        self.layer_units = tuple(int(units) for units in layer_units)
        self.weight_shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))

        weight_sizes = [n_in * n_out for n_in, n_out in self.weight_shapes]
        bias_sizes = [n_out for _, n_out in self.weight_shapes]
        self.n_weights = sum(weight_sizes)
        self.size = self.n_weights + sum(bias_sizes)

        sizes = weight_sizes + bias_sizes
        self.segment_starts = np.cumsum([0] + sizes[:-1])

    def views(self, flat):
        """Return ``(coefs, intercepts)``: lists of views into ``flat``."""
        n_layers = len(self.weight_shapes)
        ends = list(self.segment_starts[1:]) + [self.size]

        coefs = [
            flat[self.segment_starts[i] : ends[i]].reshape(shape)
            for i, shape in enumerate(self.weight_shapes)
        ]
        intercepts = [
            flat[self.segment_starts[n_layers + i] : ends[n_layers + i]]
            for i in range(n_layers)
        ]
        return coefs, intercepts

    def pack(self, coefs, intercepts, dtype):
        """Copy lists of weights and biases into a new flat array of ``dtype``."""
        flat = np.empty(self.size, dtype=dtype)
        coef_views, intercept_views = self.views(flat)

        for view, values in zip(coef_views + intercept_views, coefs + intercepts):
            view[...] = values
        return flat


def initialize_parameters(layout, activation, random_state, dtype):
    """Draw initial weights and zero biases into a new flat array.

    Hidden layers followed by ReLU use He initialization, ``U(-b, b)`` with
    ``b = sqrt(6 / n_in)``, which keeps the variance of the activations constant
    through ReLU layers. All other layers, the output layer included, use Glorot
    initialization, ``b = sqrt(6 / (n_in + n_out))``. The values are drawn in
    float64 and cast, so one seed gives the same model for either dtype.

    Parameters
    ----------
    layout : ParameterLayout
    activation : str
        Name of the hidden-layer activation.
    random_state : numpy.random.RandomState
    dtype : numpy dtype

    Returns
    -------
    flat : ndarray of shape (layout.size,)
    """
    flat = np.zeros(layout.size, dtype=dtype)
    coefs, _ = layout.views(flat)
    last = len(coefs) - 1

    for i, (n_in, n_out) in enumerate(layout.weight_shapes):
        if activation == "relu" and i < last:
            bound = np.sqrt(6.0 / n_in)
        else:
            bound = np.sqrt(6.0 / (n_in + n_out))
        coefs[i][...] = random_state.uniform(-bound, bound, size=(n_in, n_out))

    return flat


def forward_pass(X, coefs, intercepts, activation, hidden_out, logits_out):
    """Run the forward pass and return the output layer's logits.

    For each hidden layer ``Z = A_prev @ W + b`` then ``A = activation(Z)``; the
    output layer stops at its logits ``Z``, which the losses and the output
    activation take from there.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    coefs, intercepts : list of ndarray
        Weights and biases per layer.
    activation : str
        Name of the hidden-layer activation.
    hidden_out : list of ndarray
        One array of shape (n_samples, n_units) per hidden layer; receives ``A``.
    logits_out : ndarray of shape (n_samples, n_outputs)
        Receives the logits.

    Returns
    -------
    logits_out : ndarray of shape (n_samples, n_outputs)
    """
    activate = ACTIVATIONS[activation]
    inputs = X

    for W, b, out in zip(coefs[:-1], intercepts[:-1], hidden_out):
        activate(dense_forward(inputs, W, b, out))
        inputs = out

    return dense_forward(inputs, coefs[-1], intercepts[-1], logits_out)


def backward_pass(
    X, hidden, output_delta, coefs, activation, coef_grads, intercept_grads, deltas
):
    """Backpropagate ``dL/dZ`` of the output layer through every layer.

    Parameters
    ----------
    X : ndarray or sparse matrix of shape (n_samples, n_features)
    hidden : list of ndarray
        Hidden activations ``A`` from :func:`forward_pass`.
    output_delta : ndarray of shape (n_samples, n_outputs)
        ``dL/dZ`` of the output layer.
    coefs : list of ndarray
    activation : str
        Name of the hidden-layer activation.
    coef_grads, intercept_grads : list of ndarray
        Receive ``dL/dW`` and ``dL/db`` per layer.
    deltas : list of ndarray
        Scratch arrays shaped as ``hidden``; receive ``dL/dZ`` per hidden layer.
    """
    derivative = DERIVATIVES[activation]
    delta = output_delta

    for i in range(len(coefs) - 1, -1, -1):
        if i == 0:
            dense_backward(X, coefs[0], delta, coef_grads[0], intercept_grads[0], None)
            break

        dense_backward(
            hidden[i - 1],
            coefs[i],
            delta,
            coef_grads[i],
            intercept_grads[i],
            deltas[i - 1],
        )
        # dL/dZ of the layer below is dL/dA times activation'(Z).
        delta = derivative(hidden[i - 1], deltas[i - 1])
