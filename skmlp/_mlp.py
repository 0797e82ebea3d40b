"""The scikit-learn estimator: validation, state and the epoch loop.

The estimator orchestrates. The calculus lives in ``_layers`` and ``_network``
(forward and backward passes), ``_losses`` (output activations and losses),
``_optimizers``, ``_schedules`` and ``_clipping`` (the update), and ``_training``
(one epoch of mini-batches).
"""

import contextlib
import copy
import math
import time
import warnings
from numbers import Integral, Real

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import (
    check_array,
    check_is_fitted,
    column_or_1d,
    validate_data,
)

from ._casting import check_fits
from ._clipping import GradientClipper
from ._history import make_epoch_record, print_header, print_record
from ._losses import LOG_OUTPUT_ACTIVATIONS, OUTPUT_ACTIVATIONS
from ._network import ParameterLayout, initialize_parameters
from ._optimizers import AdamOptimizer, SGDOptimizer
from ._prediction import predict_logits
from ._schedules import LearningRateSchedule
from ._targets import TargetEncoder
from ._training import MiniBatchTrainer
from .exceptions import DivergenceError

_ACCEPT_SPARSE = ("csr", "csc")
_FLOAT_DTYPES = (np.float64, np.float32)


class ScratchMLPClassifier(ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron classifier trained by mini-batch gradient descent.

    The forward pass, the backpropagation, the update rules, the learning-rate
    schedule and the gradient clipping are written in numpy in this package.
    Hidden layers compute ``A = activation(A_prev @ W + b)``. The output layer is
    one sigmoid unit for two classes, a softmax over ``n_classes`` units for more,
    and one sigmoid per label for a multilabel indicator target. The loss is the
    mean cross-entropy, computed from the logits.

    Parameters
    ----------
    hidden_layer_sizes : array-like of shape (n_layers - 2,), default=(64, 32)
        Number of units in each hidden layer. An empty tuple gives a network
        without hidden layers, which is logistic regression.

    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers.

    solver : {"sgd", "adam"}, default="sgd"
        Update rule. ``"sgd"`` is mini-batch gradient descent, plain unless
        ``momentum > 0``; ``"adam"`` is Adam with ``beta_1``, ``beta_2`` and
        ``epsilon``. The learning-rate schedule applies to both.

    alpha : float, default=0.1
        L2 penalty on the weights (not the biases). A mini-batch whose sample
        weights sum to ``S`` adds ``alpha / (2 S) * sum(W ** 2)`` to its loss, as in
        scikit-learn's ``MLPClassifier``. The default was chosen by 5-fold
        cross-validation on the Adult training file, where 0.03 and 0.1 tied
        and both beat 0 and 0.15 (see :func:`skmlp.make_adult_pipeline`).

    batch_size : int, default=32
        Rows per mini-batch. With ``batch_size >= n_samples`` every epoch is one
        full-batch gradient step.

    learning_rate : {"inverse_time", "constant", "invscaling", "adaptive"}, \
            default="inverse_time"
        Learning-rate schedule, with ``epoch`` the number of epochs completed:

        - ``"inverse_time"``: ``learning_rate_init / (1 + learning_rate_decay * epoch)``;
        - ``"constant"``: ``learning_rate_init``;
        - ``"invscaling"``: ``learning_rate_init / (t + 1) ** power_t``, with ``t``
          the number of training samples seen;
        - ``"adaptive"``: ``learning_rate_init``, divided by 5 whenever the
          stopping criterion (see ``tol``) is met, until it falls below 1e-6.

    learning_rate_init : float, default=0.01
        Initial learning rate.

    learning_rate_decay : float, default=0.01
        Decay of the ``"inverse_time"`` schedule.

    power_t : float, default=0.5
        Exponent of the ``"invscaling"`` schedule.

    max_iter : int, default=100
        Maximum number of epochs of ``fit``.

    shuffle : bool, default=True
        Whether to visit the rows in a new random order in each epoch.

    random_state : int, RandomState instance or None, default=None
        Seed of the weight initialization, the shuffling and the validation
        split. An int gives the same model bit for bit on every fit.

    tol : float, default=1e-4
        Improvement below which an epoch counts as no progress: of the training
        loss, or of the validation accuracy with ``early_stopping``. After more
        than ``n_iter_no_change`` such epochs in a row, training stops (or the
        ``"adaptive"`` schedule lowers the rate).

    verbose : int, default=0
        If positive, print one aligned row per epoch: epoch, training loss,
        validation score, learning rate, largest gradient norm before clipping,
        share of clipped updates and seconds. The same figures are in
        ``history_``.

    warm_start : bool, default=False
        If True, ``fit`` continues from the weights and optimizer state of the
        previous fit instead of initializing new ones.

    momentum : float, default=0.0
        Momentum of ``"sgd"``; 0 is plain gradient descent.

    nesterovs_momentum : bool, default=True
        Whether ``"sgd"`` uses Nesterov's momentum when ``momentum > 0``.

    early_stopping : bool, default=False
        If True, set aside a stratified ``validation_fraction`` of the training
        data, stop when its accuracy stops improving, and restore the weights of
        the epoch with the best validation accuracy.

    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping``.

    beta_1 : float, default=0.9
        Decay rate of Adam's first-moment estimates.

    beta_2 : float, default=0.999
        Decay rate of Adam's second-moment estimates.

    epsilon : float, default=1e-8
        Adam's term for numerical stability.

    n_iter_no_change : int, default=10
        Number of epochs without progress (see ``tol``) tolerated before stopping.

    max_grad_norm : float or None, default=5.0
        Largest L2 norm a gradient may have; larger ones are rescaled to this
        norm before the update. ``None`` turns clipping off.

    clip_mode : {"per_layer", "global"}, default="per_layer"
        ``"per_layer"`` bounds each layer's weight gradient and each layer's bias
        gradient on its own; ``"global"`` bounds the norm of all gradients
        together.

    class_weight : dict, "balanced" or None, default=None
        Weights of the classes, multiplied into ``sample_weight``. ``"balanced"``
        uses ``n_samples / (n_classes * np.bincount(y))``. Not supported for
        multilabel targets, and ``"balanced"`` not in ``partial_fit``.

    dtype : {"float32", "float64"} or None, default=None
        Floating-point type of the weights and of all computation. ``None``
        follows the training data: float32 data gives a float32 model, any
        other data a float64 model. ``"float32"`` trains about 1.4 times as
        fast on small batches and predicts faster, at single precision. Keep
        float64 for checks that need more digits, such as finite differences.
        A fitted model keeps its dtype through ``partial_fit`` and
        ``warm_start``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels; for a multilabel target, ``arange(n_labels)``.

    n_features_in_ : int
        Number of features seen during ``fit``.

    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``; defined only when ``X`` has
        string column names.

    coefs_ : list of ndarray
        Weight matrices; ``coefs_[i]`` has shape ``(n_in, n_out)`` of layer ``i``.

    intercepts_ : list of ndarray
        Bias vectors; ``intercepts_[i]`` has shape ``(n_out,)``.

    n_iter_ : int
        Number of epochs run, over all calls with ``warm_start`` or
        ``partial_fit``.

    t_ : int
        Number of training samples seen.

    loss_ : float
        Training loss of the last epoch.

    loss_curve_ : list of float
        Training loss of each epoch.

    best_loss_ : float or None
        Lowest training loss reached; None with ``early_stopping``, where the
        validation score decides instead.

    validation_scores_ : list of float or None
        Validation accuracy of each epoch with ``early_stopping``, else None.

    best_validation_score_ : float or None
        Best validation accuracy with ``early_stopping``, else None.

    history_ : list of dict
        One record per epoch with the keys ``epoch``, ``loss``,
        ``validation_score``, ``learning_rate``, ``grad_norm``, ``grad_norms``,
        ``clip_fraction`` and ``seconds``; ``pandas.DataFrame(history_)`` makes
        a table of it.

    n_layers_ : int
        Number of layers, input and output layers included.

    n_outputs_ : int
        Number of output units.

    out_activation_ : {"logistic", "softmax"}
        Activation of the output layer.

    See Also
    --------
    sklearn.neural_network.MLPClassifier : scikit-learn's multi-layer perceptron.
    skmlp.make_adult_pipeline : This classifier after the Adult data set's
        preprocessing.

    Notes
    -----
    With ``dtype=None``, the weights and the computation use the dtype of the
    training data when it is float32 or float64; other inputs are converted to
    float64. Later calls to ``partial_fit`` and the prediction methods convert
    ``X`` to the model's dtype, so a float32 model returns float32
    probabilities. The conversion happens one chunk of rows at a time, so a
    float32 model never makes a float32 copy of the whole of a float64 ``X``.

    A sparse ``X`` is kept in CSR format, and training densifies the rows of
    about 256 KiB of mini-batches at a time, so a fit never stores a dense copy
    of the whole training set. Predictions run in chunks of about 1 MiB, or of
    scikit-learn's ``working_memory`` setting if that is smaller (see
    :func:`sklearn.config_context`).

    Training visits its mini-batches one after the other, and runs BLAS on one
    thread while the products of a mini-batch are small. The prediction
    methods share their chunks among as many threads as BLAS may use, at most
    the CPUs the process may run on. That number follows ``OMP_NUM_THREADS``,
    ``OPENBLAS_NUM_THREADS`` and threadpoolctl's ``threadpool_limits``, so
    ``with threadpool_limits(1):`` predicts on one thread, and a joblib worker
    predicts on the threads that joblib gives it.

    A non-finite training loss, weight or validation logit raises
    :class:`skmlp.exceptions.DivergenceError` after the weights and optimizer
    state of the last finite epoch are restored. A ``KeyboardInterrupt``
    restores the weights and optimizer state of the last completed epoch,
    warns, and is raised again. The prediction methods raise ValueError when
    the forward pass overflows, which weights left huge by a fast-growing last
    epoch can cause even though its loss was finite.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from skmlp import ScratchMLPClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = ScratchMLPClassifier(
    ...     (16,), learning_rate_init=0.1, max_iter=50, random_state=0
    ... )
    >>> clf = clf.fit(X, y)
    >>> clf.predict_proba(X[:2]).round(2)
    array([[...]])
    >>> clf.score(X, y) > 0.9
    True
    """

    _parameter_constraints = {
        "hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "activation": [StrOptions({"identity", "logistic", "tanh", "relu"})],
        "solver": [StrOptions({"sgd", "adam"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "learning_rate": [
            StrOptions({"inverse_time", "constant", "invscaling", "adaptive"})
        ],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_decay": [Interval(Real, 0, None, closed="left")],
        "power_t": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "shuffle": ["boolean"],
        "random_state": ["random_state"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "warm_start": ["boolean"],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "nesterovs_momentum": ["boolean"],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "beta_1": [Interval(Real, 0, 1, closed="left")],
        "beta_2": [Interval(Real, 0, 1, closed="left")],
        "epsilon": [Interval(Real, 0, None, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "max_grad_norm": [Interval(Real, 0, None, closed="neither"), None],
        "clip_mode": [StrOptions({"per_layer", "global"})],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "dtype": [StrOptions({"float32", "float64"}), None],
    }

    def __init__(
        self,
        hidden_layer_sizes=(64, 32),
        *,
        activation="relu",
        solver="sgd",
        alpha=0.1,
        batch_size=32,
        learning_rate="inverse_time",
        learning_rate_init=0.01,
        learning_rate_decay=0.01,
        power_t=0.5,
        max_iter=100,
        shuffle=True,
        random_state=None,
        tol=1e-4,
        verbose=0,
        warm_start=False,
        momentum=0.0,
        nesterovs_momentum=True,
        early_stopping=False,
        validation_fraction=0.1,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-8,
        n_iter_no_change=10,
        max_grad_norm=5.0,
        clip_mode="per_layer",
        class_weight=None,
        dtype=None,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.solver = solver
        self.alpha = alpha
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.learning_rate_decay = learning_rate_decay
        self.power_t = power_t
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.random_state = random_state
        self.tol = tol
        self.verbose = verbose
        self.warm_start = warm_start
        self.momentum = momentum
        self.nesterovs_momentum = nesterovs_momentum
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.n_iter_no_change = n_iter_no_change
        self.max_grad_norm = max_grad_norm
        self.clip_mode = clip_mode
        self.class_weight = class_weight
        self.dtype = dtype

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model to ``X`` and ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; the loss is the weighted mean over each
            mini-batch. None weighs every sample 1.

        Returns
        -------
        self : ScratchMLPClassifier
            The fitted estimator.

        Raises
        ------
        DivergenceError
            If the training loss stops being finite.
        """
        continuing = self.warm_start and hasattr(self, "coefs_")
        with _input_attributes_kept_on_rejection(self):
            return self._fit(
                X,
                y,
                sample_weight,
                classes=None,
                incremental=False,
                continuing=continuing,
            )

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch of mini-batch training on ``X`` and ``y``.

        The first call initializes the model; later calls continue it, with the
        learning-rate schedule and the optimizer state carried over. With
        ``batch_size >= n_samples`` a call is exactly one gradient step.
        ``early_stopping`` and ``max_iter`` do not apply.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a multilabel indicator matrix.
        classes : array-like of shape (n_classes,), default=None
            All class labels that any call will see. Required on the first call
            unless ``y`` is a multilabel indicator matrix; later calls may omit
            it or must pass the same labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; None weighs every sample 1.

        Returns
        -------
        self : ScratchMLPClassifier
            The updated estimator.
        """
        first_call = not hasattr(self, "coefs_")

        if first_call and classes is None and np.ndim(y) == 1:
            raise ValueError(
                "classes is missing: the first call to partial_fit needs every "
                "label the model will see, e.g. classes=np.unique(y_full)."
            )
        if not first_call and classes is not None:
            if not np.array_equal(np.unique(np.asarray(classes)), self.classes_):
                raise ValueError(
                    f"classes={np.unique(classes).tolist()} differs from the classes "
                    f"of the first call, {self.classes_.tolist()}. Pass the same "
                    "classes, or start a new model."
                )
        with _input_attributes_kept_on_rejection(self):
            return self._fit(
                X,
                y,
                sample_weight,
                classes=classes,
                incremental=True,
                continuing=not first_call,
            )

    def predict(self, X):
        """Predict class labels for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        y : ndarray of shape (n_samples,) or (n_samples, n_labels)
            Labels from ``classes_``, or a 0/1 indicator matrix for a multilabel
            model.
        """
        logits = self._predict_logits(X)
        return self._target_encoder.predict(logits)

    def predict_proba(self, X):
        """Return class probabilities for ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class in the order of ``classes_``. Rows sum to
            1, except for a multilabel model, whose columns are the independent
            probabilities of each label.
        """
        logits = self._predict_logits(X)
        sigmoid_or_softmax = OUTPUT_ACTIVATIONS[self.out_activation_]

        # An exponential that underflows gives the correct probability, 0.
        with np.errstate(under="ignore"):
            if (
                self.out_activation_ == "logistic"
                and not self._target_encoder.multilabel
            ):
                # P(classes_[0]) = sigmoid(-z) keeps full precision where P is small.
                return np.hstack(
                    [sigmoid_or_softmax(-logits), sigmoid_or_softmax(logits)]
                )
            return sigmoid_or_softmax(logits)

    def predict_log_proba(self, X):
        """Return the logarithm of the class probabilities for ``X``.

        Computed from the logits, so it stays finite where a probability rounds
        to 0.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probabilities in the order of ``classes_``.
        """
        logits = self._predict_logits(X)
        log_activation = LOG_OUTPUT_ACTIVATIONS[self.out_activation_]

        if self.out_activation_ == "logistic" and not self._target_encoder.multilabel:
            return np.hstack([log_activation(-logits), log_activation(logits)])
        return log_activation(logits)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        tags.classifier_tags.multi_label = True
        return tags

    def _predict_logits(self, X):
        """Return the output layer's logits, computed in bounded chunks of rows."""
        check_is_fitted(self)
        X = validate_data(
            self, X, accept_sparse=_ACCEPT_SPARSE, dtype=_FLOAT_DTYPES, reset=False
        )

        X = _as_row_major(X)
        logits = predict_logits(X, self.coefs_, self.intercepts_, self.activation)

        n_invalid = np.count_nonzero(~np.isfinite(logits).all(axis=1))
        if n_invalid and not np.isfinite(_max_abs(X)):
            # Only with scikit-learn's assume_finite=True does such X get here.
            raise ValueError(
                "X contains NaN or infinity, which config_context(assume_finite="
                "True) skips checking for. Remove or impute those values."
            )
        if n_invalid:
            largest_weight = max(
                float(np.max(np.abs(W), initial=0)) for W in self.coefs_
            )
            raise ValueError(
                f"The forward pass overflowed on {n_invalid} of {X.shape[0]} rows "
                "of X, "
                f"whose logits are not finite. The values of X (largest absolute value "
                f"{_max_abs(X):.3g}) are too large for the fitted weights (largest "
                f"absolute weight {largest_weight:.3g}). Scale X as the training data "
                "was scaled, or refit with a lower learning_rate_init or with "
                "max_grad_norm set."
            )
        return logits

    def _fit(self, X, y, sample_weight, *, classes, incremental, continuing):
        hidden_layer_sizes = _check_hidden_layer_sizes(self.hidden_layer_sizes)

        X, y = validate_data(
            self,
            X,
            y,
            accept_sparse=_ACCEPT_SPARSE,
            dtype=_FLOAT_DTYPES,
            multi_output=True,
            reset=not continuing,
        )
        if sparse.issparse(y):
            # A sparse multilabel indicator matrix, as MultiLabelBinarizer makes.
            y = y.toarray()
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)

        if continuing:
            dtype = self.coefs_[0].dtype
            self._check_same_classes(y, incremental)
            encoder = self._target_encoder
        else:
            dtype = X.dtype if self.dtype is None else np.dtype(self.dtype)
            encoder = TargetEncoder.from_target(y, classes)

        X = _as_trainable(X, dtype)
        Y = encoder.encode(y, dtype)
        sample_weight = self._effective_sample_weight(
            sample_weight, y, X.shape[0], encoder, incremental
        )

        if not continuing:
            self._initialize(encoder, X.shape[1], hidden_layer_sizes, dtype)

        layout = ParameterLayout([W.shape[0] for W in self.coefs_] + [self.n_outputs_])
        if layout.layer_units[1:-1] != hidden_layer_sizes:
            raise ValueError(
                f"hidden_layer_sizes={hidden_layer_sizes} differs from the fitted "
                f"layers {layout.layer_units[1:-1]}. Set warm_start=False to fit a "
                "new network."
            )
        params = layout.pack(self.coefs_, self.intercepts_, dtype)
        self.coefs_, self.intercepts_ = layout.views(params)

        early_stopping = self.early_stopping and not incremental
        if early_stopping and self.validation_scores_ is None:
            # A warm start of a model first fitted without early stopping.
            self.validation_scores_ = []
            self.best_validation_score_ = -np.inf
        if early_stopping:
            X, X_val, Y, Y_val, sample_weight, weight_val, y_val = (
                self._split_validation(X, Y, sample_weight, y, encoder)
            )
        else:
            X_val = Y_val = weight_val = y_val = None

        optimizer = self._get_optimizer(layout.size, dtype)
        trainer = MiniBatchTrainer(
            layout,
            params,
            activation=self.activation,
            out_activation=self.out_activation_,
            alpha=self.alpha,
            optimizer=optimizer,
            clipper=GradientClipper(layout, self.max_grad_norm, self.clip_mode, dtype),
            batch_size=min(self.batch_size, X.shape[0]),
            n_features=X.shape[1],
        )
        validation = (X_val, Y_val, weight_val, y_val) if early_stopping else None
        self._run_epochs(
            trainer,
            X,
            Y,
            sample_weight,
            validation,
            n_epochs=1 if incremental else self.max_iter,
            incremental=incremental,
        )
        return self

    def _run_epochs(
        self, trainer, X, Y, sample_weight, validation, *, n_epochs, incremental
    ):
        """Train up to ``n_epochs`` epochs and keep the fitted attributes current."""
        params = trainer.params
        schedule = LearningRateSchedule(
            self.learning_rate,
            self.learning_rate_init,
            self.learning_rate_decay,
            self.power_t,
        )
        schedule.adaptive_rate = self._adaptive_rate

        # Weights and optimizer state at the end of the last completed epoch,
        # restored on divergence or interruption.
        last_good = params.copy()
        last_good_optimizer = copy.deepcopy(trainer.optimizer)
        best_params = params.copy() if validation is not None else None
        converged = False

        if self.verbose:
            print_header()

        try:
            for _ in range(n_epochs):
                started = time.perf_counter()
                learning_rate = schedule.rate(self.n_iter_, self.t_)
                order = self._visiting_order(len(Y)) if self.shuffle else None

                # Non-finite values are looked for right after the epoch, so the
                # floating-point warnings inside it would only repeat that check.
                with np.errstate(all="ignore"):
                    # The penalty is taken at the weights the epoch starts from,
                    # so a full-batch epoch reports the objective at the weights
                    # its gradient was computed at.
                    penalty = self._penalty(trainer.coefs, sample_weight, len(Y))
                    stats = trainer.run_epoch(X, Y, sample_weight, order, learning_rate)
                    loss = stats["loss"] + penalty
                # Released now, so that the next epoch draws its order while no
                # other index of n_samples rows is in memory.
                order = None

                # The loss comes from logits computed before each batch's update,
                # so the last update of the epoch is checked on the weights.
                problem = None
                if not math.isfinite(loss):
                    problem = f"the training loss became {loss!r}"
                elif not np.all(np.isfinite(params)):
                    problem = "the weights became non-finite"

                validation_score = None
                if problem is None and validation is not None:
                    validation_logits = self._validation_logits(validation[0])
                    if np.all(np.isfinite(validation_logits)):
                        validation_score = self._validation_score(
                            validation_logits, validation
                        )
                    else:
                        problem = "the logits of the validation set became non-finite"

                if problem is not None:
                    params[...] = last_good
                    self._optimizer = last_good_optimizer
                    raise self._divergence_error(problem)

                self.n_iter_ += 1
                self.t_ += len(Y)
                self.loss_ = loss
                self.loss_curve_.append(loss)
                record = make_epoch_record(
                    epoch=self.n_iter_,
                    loss=loss,
                    validation_score=validation_score,
                    learning_rate=learning_rate,
                    stats=stats,
                    seconds=time.perf_counter() - started,
                )
                self.history_.append(record)
                if self.verbose:
                    print_record(record)
                last_good[...] = params
                last_good_optimizer = copy.deepcopy(trainer.optimizer)

                if self._no_progress(loss, validation_score, params, best_params):
                    if incremental:
                        continue
                    if schedule.reduce_on_plateau():
                        self._no_improvement_count = 0
                        continue
                    converged = True
                    break
        except KeyboardInterrupt:
            params[...] = last_good
            self._optimizer = last_good_optimizer
            warnings.warn(
                f"Training interrupted by the user after {self.n_iter_} epochs; "
                "the model keeps the weights of the last completed epoch.",
                UserWarning,
                stacklevel=5,
            )
            raise
        finally:
            self._adaptive_rate = schedule.adaptive_rate

        if best_params is not None:
            params[...] = best_params

        if not incremental and not converged:
            monitored = "training loss" if validation is None else "validation score"
            warnings.warn(
                f"The model did not converge within max_iter={self.max_iter} epochs: "
                f"the {monitored} "
                f"was still improving by more than tol={self.tol}. Raise max_iter "
                "to train further.",
                ConvergenceWarning,
                stacklevel=5,
            )

    def _initialize(self, encoder, n_features, hidden_layer_sizes, dtype):
        """Create the weights and reset every fitted attribute."""
        self._random_state = check_random_state(self.random_state)
        self._target_encoder = encoder
        self.classes_ = encoder.classes
        self.out_activation_ = encoder.out_activation
        self.n_outputs_ = encoder.n_outputs
        self.n_layers_ = len(hidden_layer_sizes) + 2

        layout = ParameterLayout((n_features, *hidden_layer_sizes, encoder.n_outputs))
        params = initialize_parameters(
            layout, self.activation, self._random_state, dtype
        )
        self.coefs_, self.intercepts_ = layout.views(params)

        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = None
        self.loss_curve_ = []
        self.history_ = []
        self.best_loss_ = None if self.early_stopping else np.inf
        self.validation_scores_ = [] if self.early_stopping else None
        self.best_validation_score_ = -np.inf if self.early_stopping else None
        self._no_improvement_count = 0
        self._adaptive_rate = self.learning_rate_init
        self._optimizer = None

    def _visiting_order(self, n_samples):
        """Return a random permutation of the rows, as int32 where that suffices.

        Shuffling an int32 range draws the same random numbers as shuffling
        ``n_samples`` itself, and takes half the memory.
        """
        index_dtype = np.int32 if n_samples < 2**31 else np.intp
        return self._random_state.permutation(np.arange(n_samples, dtype=index_dtype))

    def _get_optimizer(self, n_params, dtype):
        """Return the optimizer, continuing the previous one for the same solver."""
        if self.solver == "adam":
            if not isinstance(self._optimizer, AdamOptimizer):
                self._optimizer = AdamOptimizer(
                    n_params,
                    dtype,
                    beta_1=self.beta_1,
                    beta_2=self.beta_2,
                    epsilon=self.epsilon,
                )
        elif not isinstance(self._optimizer, SGDOptimizer):
            self._optimizer = SGDOptimizer(
                n_params,
                dtype,
                momentum=self.momentum,
                nesterov=self.nesterovs_momentum,
            )
        return self._optimizer

    def _no_progress(self, loss, validation_score, params, best_params):
        """Update the stopping counters; return True once progress has stalled."""
        if best_params is not None:
            self.validation_scores_.append(validation_score)
            if validation_score < self.best_validation_score_ + self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            if validation_score > self.best_validation_score_:
                self.best_validation_score_ = validation_score
                best_params[...] = params
        else:
            best_loss = np.inf if self.best_loss_ is None else self.best_loss_
            if loss > best_loss - self.tol:
                self._no_improvement_count += 1
            else:
                self._no_improvement_count = 0
            self.best_loss_ = min(loss, best_loss)

        return self._no_improvement_count > self.n_iter_no_change

    def _validation_logits(self, X_val):
        """Return the logits of the validation rows, possibly non-finite."""
        return predict_logits(X_val, self.coefs_, self.intercepts_, self.activation)

    def _validation_score(self, logits, validation):
        """Return the weighted accuracy of finite validation ``logits``."""
        _, _, weight_val, y_val = validation
        predicted = self._target_encoder.predict(logits)
        correct = np.all(np.reshape(predicted == y_val, (len(y_val), -1)), axis=1)
        return float(np.average(correct, weights=weight_val))

    def _penalty(self, coefs, sample_weight, n_samples):
        """Return the epoch's L2 penalty, at the weight of an average mini-batch."""
        if self.alpha == 0:
            return 0.0

        n_batches = math.ceil(n_samples / min(self.batch_size, n_samples))
        mean_batch_weight = float(np.sum(sample_weight, dtype=np.float64)) / n_batches
        squared = sum(float(np.dot(W.ravel(), W.ravel())) for W in coefs)
        return 0.5 * self.alpha * squared / mean_batch_weight

    def _divergence_error(self, problem):
        epoch = self.n_iter_ + 1
        return DivergenceError(
            f"Training diverged in epoch {epoch}: {problem}. "
            f"The weights of epoch {self.n_iter_} were restored. Lower "
            f"learning_rate_init (now {self.learning_rate_init}), or set "
            f"max_grad_norm (now {self.max_grad_norm}) to clip the gradients.",
            epoch=epoch,
        )

    def _check_same_classes(self, y, incremental):
        """Raise if ``y`` contains labels unknown to the fitted model."""
        if self._target_encoder.multilabel:
            return
        try:
            self._target_encoder.indices(y)
        except ValueError as error:
            if incremental:
                raise
            raise ValueError(
                f"{error} warm_start=True continues a model fitted on classes "
                f"{self.classes_.tolist()}; set warm_start=False for new classes."
            ) from None

    def _effective_sample_weight(
        self, sample_weight, y, n_samples, encoder, incremental
    ):
        """Return ``sample_weight`` times the class weights, as a float64 array."""
        if sample_weight is None:
            # A read-only view of one value, not an array of n_samples ones.
            weights = np.broadcast_to(np.float64(1.0), (n_samples,))
        else:
            weights = check_array(
                sample_weight,
                ensure_2d=False,
                dtype=np.float64,
                input_name="sample_weight",
            )
            if weights.ndim != 1 or weights.shape[0] != n_samples:
                raise ValueError(
                    f"sample_weight has shape {weights.shape}, but X has {n_samples} "
                    "rows; pass one weight per row."
                )
            if np.any(weights < 0):
                raise ValueError(
                    "sample_weight contains negative values; weights must be >= 0."
                )
            if not np.any(weights > 0):
                raise ValueError(
                    "sample_weight is zero for every sample; at least one sample "
                    "needs a positive weight."
                )

        if self.class_weight is not None:
            if encoder.multilabel:
                raise ValueError(
                    "class_weight is not supported for multilabel targets; use "
                    "sample_weight."
                )
            if incremental and self.class_weight == "balanced":
                raise ValueError(
                    "class_weight='balanced' is invalid in partial_fit because one "
                    "chunk does not show the class frequencies. Compute the weights "
                    "on the whole data and pass them as a dict."
                )
            per_class = compute_class_weight(
                self.class_weight, classes=encoder.classes, y=y
            )
            invalid = ~np.isfinite(per_class) | (per_class < 0)
            if np.any(invalid):
                position = np.flatnonzero(invalid)[0]
                label = encoder.classes.tolist()[position]
                raise ValueError(
                    f"class_weight contains the invalid weight "
                    f"{float(per_class[position])} for class {label!r}; class weights "
                    "must be finite and >= 0."
                )
            weights = weights * per_class[encoder.indices(y)]

        if not incremental and not encoder.multilabel:
            weighted_classes = np.unique(encoder.indices(y)[weights > 0])
            if len(weighted_classes) < 2:
                raise ValueError(
                    "Only one class has a positive sample weight "
                    f"({encoder.classes[weighted_classes].tolist()}), but a classifier "
                    "needs at least two classes to train."
                )
        return weights

    def _split_validation(self, X, Y, sample_weight, y, encoder):
        """Hold out ``validation_fraction`` of the rows, stratified by class."""
        n_samples = X.shape[0]
        n_validation = math.ceil(self.validation_fraction * n_samples)
        n_classes = 1 if encoder.multilabel else len(np.unique(y))
        stratify = None if encoder.multilabel else y

        smallest_class = (
            n_samples
            if stratify is None
            else np.min(np.unique(y, return_counts=True)[1])
        )
        too_small = n_validation < n_classes or n_samples - n_validation < n_classes
        if too_small or smallest_class < 2:
            raise self._validation_split_error(
                n_samples,
                n_validation,
                n_classes,
                f"{n_validation} validation and {n_samples - n_validation} training "
                f"rows for {n_classes} classes, the smallest of {smallest_class} rows",
            )

        X_train, X_val, Y_train, Y_val, w_train, w_val, y_train, y_val = (
            train_test_split(
                X,
                Y,
                sample_weight,
                y,
                test_size=n_validation,
                random_state=self._random_state,
                stratify=stratify,
            )
        )

        # Stratification rounds each class's share down, so a small class can
        # still end up on one side only.
        if stratify is not None:
            for side, labels in (("validation", y_val), ("training", y_train)):
                missing = np.setdiff1d(y, labels)
                if len(missing):
                    raise self._validation_split_error(
                        n_samples,
                        n_validation,
                        n_classes,
                        f"no {side} rows of class {missing.tolist()[0]!r}",
                    )
        for side, side_weights in (("validation", w_val), ("training", w_train)):
            if not np.any(side_weights > 0):
                raise ValueError(
                    f"early_stopping=True split the rows so that every {side} row "
                    "has sample_weight 0, so the split cannot be scored. Give "
                    "positive weights to more rows, change validation_fraction, "
                    "or set early_stopping=False."
                )
        return X_train, X_val, Y_train, Y_val, w_train, w_val, y_val

    def _validation_split_error(self, n_samples, n_validation, n_classes, outcome):
        """Return the error for a validation split that misses a class."""
        # Empirically sufficient for stratified splits: every class then gets a
        # row on each side (checked for 2 to 4 classes and fractions 0.1 to 0.95).
        per_class = max(
            2,
            math.ceil(1 / min(self.validation_fraction, 1 - self.validation_fraction)),
        )
        return ValueError(
            f"early_stopping=True sets aside {n_validation} of {n_samples} rows "
            f"(validation_fraction={self.validation_fraction}), which leaves "
            f"{outcome}. Each of the {n_classes} classes needs at least "
            f"one row on both sides of the split, which {per_class} rows per class "
            f"({per_class * n_classes} rows in all) ensure. Add rows, change "
            "validation_fraction, or set early_stopping=False."
        )


@contextlib.contextmanager
def _input_attributes_kept_on_rejection(estimator):
    """Put back ``n_features_in_`` and ``feature_names_in_`` if a fit is rejected.

    scikit-learn's ``validate_data(reset=True)`` records the feature names of
    the new ``X`` before checking its values, and its feature count before
    ``_fit`` checks the range of ``X``, the labels and ``sample_weight``. A
    fit that raises before it replaces the weights leaves the previous model,
    or no model, so it must also leave the attributes that describe that
    model's input.
    """
    names = ("n_features_in_", "feature_names_in_")
    state = vars(estimator)
    previous = {name: state[name] for name in names if name in state}
    coefs = state.get("coefs_")

    try:
        yield
    except Exception:
        if state.get("coefs_") is coefs:
            for name in names:
                state.pop(name, None)
            state.update(previous)
        raise


def _check_hidden_layer_sizes(hidden_layer_sizes):
    """Return the layer sizes as a tuple of positive ints, or raise ValueError.

    Booleans are rejected although Python counts them as integers, and so is a
    mapping, whose keys ``list()`` would silently take as the sizes.
    """
    if isinstance(hidden_layer_sizes, Integral):
        sizes = [hidden_layer_sizes]
    elif isinstance(hidden_layer_sizes, (list, tuple, np.ndarray)):
        sizes = list(hidden_layer_sizes)
    else:
        sizes = [hidden_layer_sizes]

    if not all(
        isinstance(size, Integral)
        and not isinstance(size, (bool, np.bool_))
        and size > 0
        for size in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must contain positive integers, got "
            f"{hidden_layer_sizes!r}."
        )
    return tuple(int(size) for size in sizes)


def _as_row_major(X):
    """Return ``X`` as CSR if sparse, else unchanged.

    ``X`` keeps its own dtype. Training and prediction convert it to the
    model's dtype one chunk of rows at a time, so that a float32 model never
    makes a float32 copy of the whole of a float64 ``X``.
    """
    if sparse.issparse(X):
        return X.tocsr()
    return X


def _max_abs(X):
    """Return the largest absolute value of a dense or sparse ``X``, 0 if empty."""
    values = X.data if sparse.issparse(X) else X
    return float(np.max(np.abs(values), initial=0))


def _as_trainable(X, dtype):
    """Return ``X`` ready for mini-batches: C-ordered dense, or CSR.

    Sparse data stays CSR: the trainer densifies it one chunk of rows at a
    time, so a fit never stores a dense copy of the whole training set.
    """
    X = _as_row_major(X)
    check_fits(X.data if sparse.issparse(X) else X, dtype)
    if sparse.issparse(X):
        return X
    return np.ascontiguousarray(X)
