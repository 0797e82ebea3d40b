"""The whole network: its parameters in one flat buffer, the forward pass through
every layer and the backward pass that fills one flat gradient buffer.

Keeping all weights and biases in one contiguous array lets an optimizer update
every parameter with a handful of numpy calls per mini-batch, whatever the number
of layers. ``coefs`` and ``intercepts`` are views into that array, shaped as
scikit-learn's ``MLPClassifier`` shapes its ``coefs_`` and ``intercepts_``. Each
layer's weights and bias sit together as one block ``[W; b]``, so that its
forward and backward passes are one matrix product each (see
:mod:`skmlp._layers`).
"""

import numpy as np

from ._activations import ACTIVATIONS, DERIVATIVES
from ._layers import dense_backward, dense_forward


class ParameterLayout:
    """Positions of each layer's weights and bias inside one flat array.

    Each layer owns one contiguous block ``[W; b]`` of shape (n_in + 1, n_out),
    stored row by row with the bias as its last row (see :mod:`skmlp._layers`).
    The blocks follow one another in layer order.

    Parameters
    ----------
    layer_units : sequence of int
        Number of units per layer, input and output layers included.

    Attributes
    ----------
    weight_shapes : list of tuple of int
        ``(n_in, n_out)`` per layer.
    block_shapes : list of tuple of int
        ``(n_in + 1, n_out)`` per layer.
    size : int
        Number of parameters.
    segment_starts : ndarray of shape (2 * n_layers,)
        Offsets in the flat array, in increasing order: the first weight
        matrix, the first bias, the second weight matrix, and so on.
    segment_order : ndarray of shape (2 * n_layers,)
        Positions in ``segment_starts`` of the weight matrices in layer order,
        then of the biases in layer order.
    weight_mask : ndarray of shape (size,)
        True at the weights of the flat array, False at the biases.
    """

    def __init__(self, layer_units):
        self.layer_units = tuple(int(units) for units in layer_units)
        self.weight_shapes = list(zip(self.layer_units[:-1], self.layer_units[1:]))
        self.block_shapes = [(n_in + 1, n_out) for n_in, n_out in self.weight_shapes]

        block_sizes = [n_rows * n_out for n_rows, n_out in self.block_shapes]
        self._block_starts = np.cumsum([0] + block_sizes)
        self.size = int(self._block_starts[-1])

        starts = []
        for start, (n_in, n_out) in zip(self._block_starts, self.weight_shapes):
            starts += [start, start + n_in * n_out]
        self.segment_starts = np.asarray(starts, dtype=np.intp)
        n_layers = len(self.weight_shapes)
        self.segment_order = np.concatenate(
            [np.arange(0, 2 * n_layers, 2), np.arange(1, 2 * n_layers, 2)]
        )

        self.weight_mask = np.zeros(self.size, dtype=bool)
        for start, bias_start in zip(starts[::2], starts[1::2]):
            self.weight_mask[start:bias_start] = True

    def blocks(self, flat):
        """Return the list of ``[W; b]`` views into ``flat``, one per layer."""
        return [
            flat[start:stop].reshape(shape)
            for start, stop, shape in zip(
                self._block_starts[:-1], self._block_starts[1:], self.block_shapes
            )
        ]

    def views(self, flat):
        """Return ``(coefs, intercepts)``: lists of views into ``flat``."""
        blocks = self.blocks(flat)
        return [block[:-1] for block in blocks], [block[-1] for block in blocks]

    def pack(self, coefs, intercepts, dtype):
        """Copy lists of weights and biases into a new flat array of ``dtype``."""
        flat = np.empty(self.size, dtype=dtype)
        coef_views, intercept_views = self.views(flat)

        for view, values in zip(coef_views + intercept_views, coefs + intercepts):
            view[...] = values
        return flat


class ActivationBuffers:
    """Arrays that receive the pre-activations and activations of the hidden layers.

    With ``bias_column=True`` each activation array has a last column of ones,
    so that it is the input ``A1 = [A, 1]`` of the next layer and the next
    product adds the bias (see :mod:`skmlp._layers`). That saves a numpy call
    per layer, which pays on mini-batches. Without it, each activation
    overwrites its pre-activation and the next layer adds the bias itself,
    which is faster on chunks of thousands of rows, where an activation
    written into every row but the last column costs more than the addition.

    Parameters
    ----------
    n_rows : int
    hidden_units : sequence of int
    dtype : numpy dtype
    bias_column : bool, default=True

    Attributes
    ----------
    pre_activations : list of ndarray of shape (n_rows, units)
        ``Z`` per hidden layer.
    inputs : list of ndarray
        The next layer's input per hidden layer: ``A1 = [A, 1]`` of shape
        (n_rows, units + 1), or ``A`` itself without the bias column.
    activations : list of ndarray of shape (n_rows, units)
        ``A``: views into ``inputs`` without the column of ones, or the
        pre-activation arrays themselves without the bias column.
    """

    def __init__(self, n_rows, hidden_units, dtype, bias_column=True):
        self.n_rows = n_rows
        self.pre_activations = [
            np.empty((n_rows, units), dtype=dtype) for units in hidden_units
        ]
        if bias_column:
            self.inputs = [
                np.ones((n_rows, units + 1), dtype=dtype) for units in hidden_units
            ]
            self.activations = [A1[:, :-1] for A1 in self.inputs]
        else:
            self.inputs = self.activations = self.pre_activations

    def tail(self):
        """Return the buffers of the hidden layers after the first, as views."""
        tail = object.__new__(ActivationBuffers)
        tail.n_rows = self.n_rows
        tail.pre_activations = self.pre_activations[1:]
        tail.inputs = self.inputs[1:]
        tail.activations = self.activations[1:]
        return tail

    def head(self, n_rows):
        """Return buffers that are views of the first ``n_rows`` rows of these."""
        head = object.__new__(ActivationBuffers)
        head.n_rows = n_rows
        head.pre_activations = [Z[:n_rows] for Z in self.pre_activations]
        if self.inputs is self.pre_activations:
            head.inputs = head.activations = head.pre_activations
        else:
            head.inputs = [A1[:n_rows] for A1 in self.inputs]
            head.activations = [A1[:, :-1] for A1 in head.inputs]
        return head


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


def forward_pass(X, blocks, activation, buffers, logits_out):
    """Run the forward pass and return the output layer's logits.

    For each hidden layer ``Z = A1_prev @ [W; b]`` then ``A = activation(Z)``;
    the output layer stops at its logits ``Z``, which the losses and the output
    activation take from there.

    Parameters
    ----------
    X : ndarray
        The input, either of shape (n_samples, n_features + 1) with a last
        column of ones, or of shape (n_samples, n_features).
    blocks : list of ndarray
        ``[W; b]`` per layer, from :meth:`ParameterLayout.blocks`.
    activation : str
        Name of the hidden-layer activation.
    buffers : ActivationBuffers
        Receives ``Z`` and ``A`` of the hidden layers, ``n_samples`` rows.
    logits_out : ndarray of shape (n_samples, n_outputs)
        C-contiguous; receives the logits.

    Returns
    -------
    logits_out : ndarray of shape (n_samples, n_outputs)
    """
    activate = ACTIVATIONS[activation]
    inputs = X

    for block, Z, A1, A in zip(
        blocks, buffers.pre_activations, buffers.inputs, buffers.activations
    ):
        activate(dense_forward(inputs, block, Z), out=A)
        inputs = A1

    return dense_forward(inputs, blocks[-1], logits_out)


def backward_pass(X, buffers, output_delta, blocks, activation, block_grads, deltas):
    """Backpropagate ``dL/dZ`` of the output layer through every layer.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features + 1)
        The input with its last column of ones.
    buffers : ActivationBuffers
        The hidden activations from :func:`forward_pass`.
    output_delta : ndarray of shape (n_samples, n_outputs)
        ``dL/dZ`` of the output layer.
    blocks : list of ndarray
        ``[W; b]`` per layer.
    activation : str
        Name of the hidden-layer activation.
    block_grads : list of ndarray
        Receive ``dL/d[W; b]`` per layer.
    deltas : list of ndarray
        C-contiguous scratch arrays shaped as ``buffers.activations``; receive
        ``dL/dZ`` per hidden layer.
    """
    derivative = DERIVATIVES[activation]
    delta = output_delta

    for i in range(len(blocks) - 1, 0, -1):
        dense_backward(
            buffers.inputs[i - 1], blocks[i], delta, block_grads[i], deltas[i - 1]
        )
        # dL/dZ of the layer below is dL/dA times activation'(Z).
        delta = derivative(buffers.activations[i - 1], deltas[i - 1])

    dense_backward(X, blocks[0], delta, block_grads[0], None)
