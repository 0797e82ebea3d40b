"""Learning-rate schedules.

A schedule returns the learning rate to use for an epoch. ``epoch`` counts the
epochs completed before it, so the first epoch runs at ``learning_rate_init``
under every schedule except ``"invscaling"``.
"""


class LearningRateSchedule:
    """Learning rate as a function of the epoch and the samples seen.

    Parameters
    ----------
    name : {"inverse_time", "constant", "invscaling", "adaptive"}
        - ``"inverse_time"``: ``lr = learning_rate_init / (1 + decay * epoch)``.
        - ``"constant"``: ``lr = learning_rate_init``.
        - ``"invscaling"``: ``lr = learning_rate_init / (n_samples_seen + 1) ** power_t``,
          with ``n_samples_seen`` the samples seen before the epoch, as in
          scikit-learn's ``MLPClassifier``.
        - ``"adaptive"``: ``learning_rate_init``, divided by 5 each time
          :meth:`reduce_on_plateau` is called.
    learning_rate_init : float
    decay : float
    power_t : float
    """

    #: Factor by which ``"adaptive"`` divides the rate on a plateau.
    PLATEAU_FACTOR = 5.0

    #: ``"adaptive"`` stops lowering the rate below this value.
    MIN_ADAPTIVE_RATE = 1e-6

    def __init__(self, name, learning_rate_init, decay, power_t):
        self.name = name
        self.learning_rate_init = learning_rate_init
        self.decay = decay
        self.power_t = power_t
        self.adaptive_rate = learning_rate_init

    def rate(self, epoch, n_samples_seen):
        """Return the learning rate of epoch ``epoch``."""
        if self.name == "inverse_time":
            return self.learning_rate_init / (1.0 + self.decay * epoch)
        if self.name == "invscaling":
            return self.learning_rate_init / (n_samples_seen + 1) ** self.power_t
        if self.name == "adaptive":
            return self.adaptive_rate
        return self.learning_rate_init

    def reduce_on_plateau(self):
        """Lower an adaptive rate after a plateau.

        Returns
        -------
        reduced : bool
            True if the rate was lowered, so training should go on; False for the
            other schedules, and for ``"adaptive"`` once the rate is below
            :attr:`MIN_ADAPTIVE_RATE`, so training should stop.
        """
        if self.name != "adaptive" or self.adaptive_rate <= self.MIN_ADAPTIVE_RATE:
            return False

        self.adaptive_rate /= self.PLATEAU_FACTOR
        return True
