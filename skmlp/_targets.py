"""Encoding of classification targets for the output layer, and decoding of
the network's outputs back to the original labels.

Three kinds of target are supported, as in scikit-learn's ``MLPClassifier``:

- binary: one sigmoid unit whose probability is that of ``classes_[1]``;
- multiclass: a softmax over one unit per class;
- multilabel (a 0/1 indicator matrix): one sigmoid unit per label.
"""

import numpy as np
from sklearn.utils.multiclass import check_classification_targets, type_of_target

try:
    # scikit-learn's own way to sort the labels once for all its target checks.
    from sklearn.utils._unique import attach_unique, cached_unique
except ImportError:  # pragma: no cover - depends on the scikit-learn version

    def attach_unique(y):
        return y

    cached_unique = np.unique


class TargetEncoder:
    """Map labels to the output layer's targets and its outputs back to labels.

    Parameters
    ----------
    classes : ndarray of shape (n_classes,)
        Sorted class labels; for a multilabel target, ``arange(n_labels)``.
    multilabel : bool

    Attributes
    ----------
    out_activation : {"logistic", "softmax"}
    n_outputs : int
        Units of the output layer.
    """

    def __init__(self, classes, multilabel):
        self.classes = classes
        self.multilabel = multilabel
        if multilabel or len(classes) == 2:
            self.out_activation = "logistic"
            self.n_outputs = len(classes) if multilabel else 1
        else:
            self.out_activation = "softmax"
            self.n_outputs = len(classes)

    @classmethod
    def from_target(cls, y, classes=None):
        """Build an encoder for ``y``, or for the labels ``classes`` if given.

        Raises
        ------
        ValueError
            If ``y`` is not a classification target, or contains a single class.
        """
        # Each check below needs the sorted labels, and sorting 32,561 string
        # labels takes about 6 ms. They are sorted once and attached to a view
        # of y that the checks share, so y itself is not changed.
        labelled = attach_unique(y)
        check_classification_targets(labelled)
        target_type = type_of_target(labelled, input_name="y")
        if target_type == "multiclass-multioutput":
            raise ValueError(
                "y has several columns of more than two classes "
                "(multiclass-multioutput), which is not supported. Pass one "
                "label column, or a 0/1 indicator matrix for multilabel targets."
            )
        multilabel = target_type == "multilabel-indicator"

        if multilabel:
            classes = np.arange(y.shape[1])
        elif classes is None:
            classes = cached_unique(labelled)
        else:
            classes = np.unique(np.asarray(classes))

        if len(classes) < 2:
            # tolist() gives Python scalars, whose repr is 'a' instead of np.str_('a').
            found = repr(classes.tolist()[0]) if len(classes) else "none"
            raise ValueError(
                f"y contains only one class ({found}), but a classifier needs at "
                "least two classes to train. Check how the target column was "
                "selected or filtered."
            )
        return cls(classes, multilabel)

    def encode(self, y, dtype):
        """Return the targets of the output layer, shape (n_samples, n_outputs).

        Raises
        ------
        ValueError
            If ``y`` contains a label that is not in ``classes``, or has another
            number of labels than the encoder.
        """
        if self.multilabel:
            if y.ndim != 2 or y.shape[1] != self.n_outputs:
                raise ValueError(
                    f"y has {y.shape[1] if y.ndim == 2 else 1} label columns, but "
                    f"the model was fitted with {self.n_outputs}."
                )
            return np.asarray(y, dtype=dtype)

        indices = self.indices(y)
        if self.out_activation == "logistic":
            return indices.astype(dtype).reshape(-1, 1)

        Y = np.zeros((len(indices), self.n_outputs), dtype=dtype)
        Y[np.arange(len(indices)), indices] = 1
        return Y

    def indices(self, y):
        """Return the position of each label of ``y`` in ``classes``."""
        y = np.asarray(y)
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.ravel()
        if y.ndim != 1:
            raise ValueError(
                f"y has shape {y.shape}, but the model was fitted on a 1-D target "
                f"of classes {self.classes.tolist()}; pass one label per row."
            )
        indices = np.searchsorted(self.classes, y)
        indices = np.clip(indices, 0, len(self.classes) - 1)

        unknown = self.classes[indices] != y
        if np.any(unknown):
            raise ValueError(
                f"y contains labels not in classes_: {np.unique(y[unknown]).tolist()}. "
                f"The model was set up for classes {self.classes.tolist()}; pass all "
                "labels as `classes` on the first call to partial_fit."
            )
        return indices

    def predict(self, logits):
        """Return labels from logits.

        A label is predicted where its probability exceeds 0.5 (sigmoid outputs),
        or the class with the largest probability (softmax), which is where the
        logit is positive or largest.
        """
        if self.multilabel:
            return (logits > 0).astype(int)
        if self.out_activation == "logistic":
            return self.classes[(logits[:, 0] > 0).astype(np.intp)]
        return self.classes[np.argmax(logits, axis=1)]
