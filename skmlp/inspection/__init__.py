"""Inspection of fitted models: plots of what happened during training."""

from skmlp.inspection._training_curve import TrainingCurveDisplay, save_training_curve

__all__ = ["TrainingCurveDisplay", "save_training_curve"]
