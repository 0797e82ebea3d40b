"""Gradient clipping by L2 norm.

Clipping runs between the backward pass and the update. A group of gradients
whose L2 norm ``g`` exceeds ``max_norm`` is rescaled by ``max_norm / g``, which
keeps its direction and sets its norm to ``max_norm``. A group at or below the
bound is left as it is. Two groupings are offered:

- ``"per_layer"``: each layer's weight gradient and each layer's bias gradient is
  a group of its own;
- ``"global"``: all gradients together form one group.

A zero norm is never divided by, and a non-finite norm leaves its gradients
unchanged so that the non-finite loss that follows stops training instead of
clipping hiding it.
"""

import math

import numpy as np


class GradientClipper:
    """Measure and clip the gradients held in one flat array.

    Parameters
    ----------
    layout : ParameterLayout
        Positions of the weights and biases in the flat gradient array.
    max_norm : float or None
        Largest L2 norm a group may have; ``None`` measures the norms without
        clipping.
    mode : {"per_layer", "global"}
    dtype : numpy dtype

    Attributes
    ----------
    group_starts : ndarray of shape (n_groups,)
        Offset of each group in the flat array, in increasing order.
    report_order : ndarray of shape (n_groups,)
        Order in which ``history_`` lists the groups: the weight matrices in
        layer order, then the biases in layer order.
    """

    def __init__(self, layout, max_norm, mode, dtype):
        self.max_norm = max_norm
        self.mode = mode
        if mode == "global":
            self.group_starts = np.zeros(1, dtype=np.intp)
            self.report_order = np.zeros(1, dtype=np.intp)
        else:
            self.group_starts = np.asarray(layout.segment_starts, dtype=np.intp)
            self.report_order = np.asarray(layout.segment_order, dtype=np.intp)
        self._group_ends = np.append(self.group_starts[1:], layout.size)
        self._squares = np.empty(layout.size, dtype=dtype)

    @property
    def n_groups(self):
        """Number of groups whose norms are measured."""
        return len(self.group_starts)

    def norms(self, grads):
        """Return the L2 norm of each group of ``grads`` as float64, shape (n_groups,).

        A norm is infinite only if its group contains an infinite value. A sum
        of squares that overflows, which in float32 takes a gradient of about
        1.8e19, is computed again in float64 on the group scaled by its largest
        absolute value.
        """
        with np.errstate(over="ignore"):
            norms = np.sqrt(self._sums_of_squares(grads), dtype=np.float64)

        if not math.isinf(norms.max()):
            return norms

        for group in np.flatnonzero(np.isinf(norms)):
            values = grads[self.group_starts[group] : self._group_ends[group]]
            largest = float(np.max(np.abs(values)))
            if math.isfinite(largest):
                scaled = values.astype(np.float64) / largest
                norms[group] = largest * math.sqrt(np.dot(scaled, scaled))
        return norms

    def squared_norms(self, grads):
        """Return the sum of squares of each group of ``grads``, in their dtype.

        This is the quick measure that training takes for every mini-batch. A
        sum that overflows is infinite here and raises the floating-point
        overflow flag, which the caller is expected to ignore; :meth:`norms`
        gives the exact norms.
        """
        return self._sums_of_squares(grads)

    def _sums_of_squares(self, grads):
        # Squares in the gradients' own dtype: a float32 array cast to float64
        # would cost more than the rest of this method.
        np.multiply(grads, grads, out=self._squares)
        return np.add.reduceat(self._squares, self.group_starts)

    def clip(self, grads, norms):
        """Rescale in place each group of ``grads`` whose norm exceeds the bound.

        Parameters
        ----------
        grads : ndarray of shape (n_params,)
        norms : ndarray of shape (n_groups,)
            Norms before clipping, from :meth:`norms`.

        Returns
        -------
        clipped : bool
            True if any group was rescaled.
        """
        # A NaN maximum fails this test and goes on to the loop, which clips the
        # finite groups that exceed the bound.
        if self.max_norm is None or norms.max() <= self.max_norm:
            return False

        clipped = False
        for start, end, norm in zip(self.group_starts, self._group_ends, norms):
            if norm > self.max_norm and math.isfinite(norm):
                grads[start:end] *= self.max_norm / norm
                clipped = True
        return clipped
