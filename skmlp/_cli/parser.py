"""The argument parser of the ``skmlp`` command and its value types."""

import argparse
import math

from .._version import __version__

DEFAULT_MODEL_STEM = "skmlp-model"

#: Options of ``skmlp train`` that set a parameter of ScratchMLPClassifier:
#: attribute of the parsed arguments -> parameter name.
CLASSIFIER_OPTIONS = {
    "epochs": "max_iter",
    "batch_size": "batch_size",
    "learning_rate": "learning_rate_init",
    "decay": "learning_rate_decay",
    "hidden": "hidden_layer_sizes",
    "max_grad_norm": "max_grad_norm",
    "seed": "random_state",
    "solver": "solver",
    "early_stopping": "early_stopping",
}

_JOBLIB_WARNING = (
    "A joblib file is a pickle: loading it runs any code that it contains, so "
    "load only joblib files that you made or trust. skops files are read without "
    "pickle and only with the types that skmlp trusts."
)


def build_parser():
    """Return the parser of ``skmlp`` with its ``train`` and ``predict`` commands."""
    parser = argparse.ArgumentParser(
        prog="skmlp",
        description=(
            "Train the numpy multi-layer perceptron of skmlp on the Adult data set "
            "or a CSV file, and predict with a saved model."
        ),
    )
    parser.add_argument("--version", action="version", version=f"skmlp {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    _add_train_parser(commands)
    _add_predict_parser(commands)
    return parser


def _add_train_parser(commands):
    train = commands.add_parser(
        "train",
        help="train a model, print its test scores and save it",
        description=(
            "Train a preprocessing + ScratchMLPClassifier pipeline, print one line "
            "per epoch, evaluate it on test data (accuracy, ROC-AUC, confusion "
            "matrix) and save it. Without --data, it trains on the training subset "
            "of the Adult data set shipped with skmlp and tests on its test subset. "
            "Classifier options that are not given keep the defaults of "
            "ScratchMLPClassifier."
        ),
        epilog=(
            "ROC-AUC is the area under the ROC curve of the second class for a "
            "binary target, and the macro average of one-vs-rest areas for more "
            "classes. It is skipped when the test data lacks a class of the model or "
            "has a class the model never saw."
        ),
    )

    data = train.add_argument_group("data")
    data.add_argument(
        "--data",
        metavar="FILE.csv",
        help=(
            "train on this comma-separated file with a header row instead of Adult; "
            "text and boolean columns are one-hot encoded, number columns "
            "standardized, and missing values imputed"
        ),
    )
    data.add_argument(
        "--target",
        metavar="COLUMN",
        help="column of --data that contains the class labels (required with --data)",
    )
    data.add_argument(
        "--test",
        metavar="FILE.csv",
        help="test on this CSV file, with the same columns as --data",
    )
    data.add_argument(
        "--test-size",
        type=_fraction,
        metavar="FRACTION",
        help=(
            "without --test, the fraction of the rows of --data held out for "
            "testing, stratified by class and shuffled with --seed (default: 0.2)"
        ),
    )

    output = train.add_argument_group("output")
    output.add_argument(
        "--output",
        metavar="FILE",
        help=(
            "file to save the fitted pipeline to (default: "
            f"{DEFAULT_MODEL_STEM}.skops, or {DEFAULT_MODEL_STEM}.joblib with "
            "--format joblib, in the current folder)"
        ),
    )
    output.add_argument(
        "--format",
        choices=("skops", "joblib"),
        help=(
            "file format of the model (default: joblib for an --output ending in "
            ".joblib, skops otherwise)"
        ),
    )
    output.add_argument(
        "--force",
        action="store_true",
        help=(
            "replace --output if it exists; without it, an existing file is an "
            "error, reported before training starts"
        ),
    )
    output.add_argument(
        "--plot",
        metavar="FILE.png",
        help=(
            "also save the training curves (loss, validation score, learning "
            "rate and gradient norm per epoch) to this image; needs matplotlib "
            '(pip install "skmlp[plot]") and follows --force like --output'
        ),
    )

    classifier = train.add_argument_group(
        "classifier", "each option sets one parameter of ScratchMLPClassifier"
    )
    suppress = argparse.SUPPRESS
    classifier.add_argument(
        "--epochs",
        type=_positive_int,
        default=suppress,
        metavar="N",
        help="maximum number of epochs, passes over the training data (max_iter)",
    )
    classifier.add_argument(
        "--batch-size",
        type=_positive_int,
        default=suppress,
        metavar="N",
        help="rows per mini-batch (batch_size)",
    )
    classifier.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=suppress,
        metavar="RATE",
        help=(
            "initial learning rate, the step size per unit of gradient "
            "(learning_rate_init)"
        ),
    )
    classifier.add_argument(
        "--decay",
        type=_non_negative_float,
        default=suppress,
        metavar="DECAY",
        help=(
            "decay of the inverse-time schedule: the rate of epoch e is "
            "RATE / (1 + DECAY * e) (learning_rate_decay)"
        ),
    )
    classifier.add_argument(
        "--hidden",
        type=_layer_sizes,
        nargs="+",
        default=suppress,
        metavar="UNITS",
        help="units of each hidden layer, as 64,32 or 64 32 (hidden_layer_sizes)",
    )
    classifier.add_argument(
        "--max-grad-norm",
        type=_max_grad_norm,
        default=suppress,
        metavar="NORM",
        help=(
            "largest L2 norm of a gradient, larger ones are rescaled to it; "
            "'none' turns clipping off (max_grad_norm)"
        ),
    )
    classifier.add_argument(
        "--seed",
        type=_seed,
        default=suppress,
        metavar="SEED",
        help=(
            "integer seed of the weight initialization, the shuffling and the "
            "held-out splits (random_state)"
        ),
    )
    classifier.add_argument(
        "--solver",
        choices=("sgd", "adam"),
        default=suppress,
        help="update rule: mini-batch gradient descent or Adam (solver)",
    )
    classifier.add_argument(
        "--early-stopping",
        action=argparse.BooleanOptionalAction,
        default=suppress,
        help=(
            "hold out part of the training data and stop when its accuracy stops "
            "improving (early_stopping)"
        ),
    )


def _add_predict_parser(commands):
    predict = commands.add_parser(
        "predict",
        help="write the predictions of a saved model for a CSV file",
        description=(
            "Load a model saved by 'skmlp train' and write, for each row of --data, "
            "the predicted label (column 'prediction') and the probability of each "
            "class (columns 'proba_<label>')."
        ),
        epilog=_JOBLIB_WARNING,
    )
    predict.add_argument(
        "--model", required=True, metavar="FILE", help="the saved model"
    )
    predict.add_argument(
        "--data",
        required=True,
        metavar="FILE.csv",
        help=(
            "comma-separated file with a header row and the columns that the "
            "model was trained with"
        ),
    )
    predict.add_argument(
        "--output",
        default="predictions.csv",
        metavar="FILE.csv",
        help="CSV file to write the predictions to (default: predictions.csv)",
    )
    predict.add_argument(
        "--format",
        choices=("skops", "joblib"),
        help=(
            "format of --model (default: joblib for a name ending in .joblib, skops "
            "otherwise); joblib files run code when loaded"
        ),
    )
    predict.add_argument(
        "--force", action="store_true", help="replace --output if it exists"
    )


def _positive_int(text):
    value = _parse(text, int, "an integer")
    if value < 1:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: must be at least 1")
    return value


def _positive_float(text):
    value = _parse(text, float, "a number")
    if not value > 0:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be greater than 0"
        )
    return value


def _non_negative_float(text):
    value = _parse(text, float, "a number")
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"invalid value {text!r}: must be 0 or more")
    return value


def _seed(text):
    value = _parse(text, int, "an integer")
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be between 0 and 4294967295"
        )
    return value


def _fraction(text):
    value = _parse(text, float, "a number")
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be between 0 and 1, e.g. 0.2"
        )
    return value


def _max_grad_norm(text):
    if text.strip().lower() == "none":
        return None
    return _positive_float(text)


def _layer_sizes(text):
    """Parse ``"64,32"`` or ``"64"`` into a tuple of layer sizes."""
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if not parts:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: give positive integers, e.g. 64,32"
        )
    return tuple(_positive_int(part) for part in parts)


def _parse(text, convert, description):
    try:
        value = convert(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be {description}"
        ) from None

    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"invalid value {text!r}: must be a finite number"
        )
    return value
