"""skmlp: a multi-layer perceptron classifier written in numpy, packaged as a
scikit-learn estimator."""

from ._mlp import ScratchMLPClassifier
from ._pipeline import make_adult_pipeline, make_preprocessor
from ._version import __version__

__all__ = [
    "ScratchMLPClassifier",
    "make_adult_pipeline",
    "make_preprocessor",
    "__version__",
]
