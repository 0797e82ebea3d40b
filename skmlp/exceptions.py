"""Exceptions raised by skmlp."""


class DivergenceError(ValueError):
    """Raised when training produces a non-finite loss.

    The estimator that raised it keeps the weights of the last epoch whose loss
    was finite, so it is still usable; the message names the epoch that diverged
    and the settings to change.

    Attributes
    ----------
    epoch : int
        The epoch, counted from 1, whose loss was not finite.
    """

    def __init__(self, message, epoch):
        super().__init__(message)
        self.epoch = epoch
