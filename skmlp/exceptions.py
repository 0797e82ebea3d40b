"""Exceptions raised by skmlp."""


class DivergenceError(ValueError):
    """Raised when training produces a non-finite loss, weight or logit.

    The estimator that raised it keeps the weights of the last epoch whose loss
    was finite, so it is still usable. The message names the epoch that
    diverged and the settings to change.

    Attributes
    ----------
    epoch : int
        The epoch, counted from 1, whose loss was not finite.
    """

    def __init__(self, message, epoch):
        super().__init__(message)
        self.epoch = epoch


class InconsistentVersionWarning(UserWarning):
    """Warning issued when a model file was saved by another skmlp version.

    The model may still work, but attributes or behaviour can differ between
    versions: refit the model with the running version to be sure.

    Parameters
    ----------
    path : str
        The model file.
    saved_version : str
        The skmlp version that saved the file.
    current_version : str
        The running skmlp version.
    """

    def __init__(self, *, path, saved_version, current_version):
        self.path = path
        self.saved_version = saved_version
        self.current_version = current_version

    def __str__(self):
        return (
            f"The model in {self.path!r} was saved with skmlp {self.saved_version} "
            f"and is loaded with skmlp {self.current_version}. Its predictions "
            "may differ; refit the model with this version to be sure."
        )
