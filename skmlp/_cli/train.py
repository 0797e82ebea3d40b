"""The ``skmlp train`` command: train, evaluate and save a pipeline."""

import importlib.util
import warnings
from pathlib import Path

import numpy as np
from sklearn.metrics import accuracy_score, confusion_matrix, roc_auc_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline

from .._mlp import ScratchMLPClassifier
from .._pipeline import make_adult_pipeline, make_preprocessor
from ..datasets import load_adult
from ..exceptions import DivergenceError
from ..inspection import save_training_curve
from ..persistence import save_model, write_atomically
from .errors import CommandError, print_warnings, with_option_names
from .parser import CLASSIFIER_OPTIONS, DEFAULT_MODEL_STEM
from .tables import (
    check_columns,
    check_distinct_paths,
    check_output_path,
    preprocessed_columns,
    read_csv,
    split_target,
)

DEFAULT_TEST_SIZE = 0.2


def run_train(args):
    """Run ``skmlp train`` with the parsed ``args``; return the exit status."""
    output, format = _output_path_and_format(args)
    check_distinct_paths(
        outputs={"--output": output, "--plot": args.plot},
        inputs={"--data": args.data, "--test": args.test},
    )
    check_output_path(output, force=args.force, option="--output")
    if format == "skops" and importlib.util.find_spec("skops") is None:
        raise CommandError(
            "saving in skops format needs the skops package, which is not "
            'installed; run pip install "skmlp[skops]" (".[skops]" from a clone) '
            "or pass --format joblib."
        )
    plot = _plot_path(args)

    X_train, y_train, X_test, y_test, pipeline = _load_data_and_pipeline(args)
    print(
        f"Training on {len(X_train)} rows and testing on {len(X_test)} rows.",
        flush=True,
    )

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            pipeline.fit(X_train, y_train)
        except DivergenceError as error:
            raise CommandError(with_option_names(str(error))) from None
        except ValueError as error:
            raise CommandError(
                f"training failed: {with_option_names(str(error))}"
            ) from None
    categorical_columns = preprocessed_columns(pipeline, ("categorical",))
    print_warnings(caught, categorical_columns)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _print_evaluation(pipeline, X_test, y_test)
    print_warnings(caught, categorical_columns)

    if plot is not None:
        write_atomically(
            plot,
            lambda temporary: save_training_curve(
                pipeline, temporary, format=plot.suffix[1:]
            ),
        )
        print(f"Training curves saved to {plot}.")

    save_model(pipeline, output, format=format, force=args.force)
    print(f"Model saved to {output} ({format} format).")
    return 0


def _plot_path(args):
    """Return the --plot path after checking it and matplotlib, or None."""
    if args.plot is None:
        return None

    plot = Path(args.plot)
    if plot.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise CommandError(
            f"--plot {str(plot)!r} has no image suffix; use a name ending in "
            ".png, .svg or .pdf."
        )
    check_output_path(plot, force=args.force, option="--plot")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise CommandError(
            "--plot needs matplotlib, which is not installed; run "
            'pip install "skmlp[plot]" or leave out --plot.'
        ) from None
    return plot


def _output_path_and_format(args):
    """Return the model path and format from --output and --format."""
    if args.output is None:
        format = args.format or "skops"
        return Path(f"{DEFAULT_MODEL_STEM}.{format}"), format

    output = Path(args.output)
    suffix_format = {".skops": "skops", ".joblib": "joblib"}.get(output.suffix)
    if args.format is None:
        return output, suffix_format or "skops"

    if suffix_format is not None and suffix_format != args.format:
        raise CommandError(
            f"--output {str(output)!r} ends in {output.suffix}, but --format is "
            f"{args.format}; make the suffix match the format."
        )
    return output, args.format


def _classifier_params(args):
    """Return the classifier parameters set on the command line, and verbose=1."""
    params = {"verbose": 1}
    for option, parameter in CLASSIFIER_OPTIONS.items():
        if hasattr(args, option):
            params[parameter] = getattr(args, option)

    if "hidden_layer_sizes" in params:
        # --hidden 64,32 and --hidden 64 32 both give [(64, 32)] or [(64,), (32,)].
        params["hidden_layer_sizes"] = tuple(
            size for group in params["hidden_layer_sizes"] for size in group
        )
    return params


def _load_data_and_pipeline(args):
    """Return the training and test data and the unfitted pipeline."""
    params = _classifier_params(args)

    if args.data is None:
        for option in ("target", "test", "test_size"):
            if getattr(args, option) is not None:
                flag = "--" + option.replace("_", "-")
                raise CommandError(
                    f"{flag} applies only with --data; add --data FILE.csv or "
                    f"remove {flag}."
                )
        X_train, y_train = load_adult(subset="train", return_X_y=True)
        X_test, y_test = load_adult(subset="test", return_X_y=True)
        return X_train, y_train, X_test, y_test, make_adult_pipeline(**params)

    if args.target is None:
        raise CommandError("--target is missing; name the label column of --data.")
    if args.test is not None and args.test_size is not None:
        raise CommandError(
            "--test-size applies only without --test; remove one of them."
        )

    frame = read_csv(args.data, option="--data")
    X, y = split_target(frame, args.target, path=args.data, option="--data")
    preprocessor = _make_csv_preprocessor(X)

    if args.test is None:
        X_train, X_test, y_train, y_test = _hold_out(X, y, args)
    else:
        X_train, y_train = X, y
        test_frame = read_csv(args.test, option="--test")
        X_test, y_test = split_target(
            test_frame,
            args.target,
            path=args.test,
            option="--test",
            for_training=False,
        )
        numeric = [
            column
            for name, _, columns in preprocessor.transformers
            if name != "categorical"
            for column in columns
        ]
        check_columns(
            X_test,
            expected=list(X.columns),
            numeric=numeric,
            path=args.test,
            option="--test",
        )

    pipeline = Pipeline(
        [
            ("preprocess", preprocessor),
            ("classifier", ScratchMLPClassifier(**params)),
        ]
    )
    return X_train, y_train, X_test, y_test, pipeline


def _make_csv_preprocessor(X):
    """Return ``make_preprocessor()`` with its dtype-based columns resolved on ``X``.

    The default preprocessor selects columns with ``make_column_selector``
    objects, which the skops format does not trust by default. Listing the
    columns keeps the saved pipeline within ``skmlp.persistence.TRUSTED_TYPES``
    and selects the same columns.
    """
    by_dtype = make_preprocessor()
    columns = {
        name: selector(X)
        for name, _, selector in by_dtype.transformers
        if callable(selector)
    }
    return make_preprocessor(columns["categorical"], numeric_columns=columns["numeric"])


def _hold_out(X, y, args):
    """Split off a stratified test set of --test-size of the rows."""
    test_size = DEFAULT_TEST_SIZE if args.test_size is None else args.test_size
    seed = getattr(args, "seed", None)

    counts = y.value_counts()
    if counts.min() < 2:
        rare_class = str(counts.idxmin())
        raise CommandError(
            f"cannot hold out a stratified test set: the class {rare_class!r} of "
            f"--target {args.target!r} has a single row; add rows of that class or "
            "pass a test file with --test."
        )
    try:
        return train_test_split(
            X, y, test_size=test_size, stratify=y, random_state=seed
        )
    except ValueError as error:
        raise CommandError(
            f"cannot hold out a stratified test set of --test-size {test_size} from "
            f"{len(y)} rows and {len(counts)} classes ({error}); raise --test-size "
            "or pass a test file with --test."
        ) from None


def _print_evaluation(pipeline, X_test, y_test):
    """Print accuracy, ROC-AUC and the confusion matrix on the test data."""
    try:
        probabilities = pipeline.predict_proba(X_test)
        predictions = pipeline.predict(X_test)
    except ValueError as error:
        raise CommandError(f"evaluation on the test data failed: {error}") from None

    y_test = np.asarray(y_test)
    classes = pipeline.classes_

    print(f"Test accuracy: {accuracy_score(y_test, predictions):.4f}")
    print(_roc_auc_line(y_test, probabilities, classes))

    labels = np.unique(np.concatenate([classes, y_test]))
    matrix = confusion_matrix(y_test, predictions, labels=labels)
    print("Confusion matrix (rows: true label, columns: predicted label):")
    print(_format_matrix(matrix, labels))


def _format_matrix(matrix, labels):
    """Return the confusion matrix as aligned text with the labels as headers."""
    names = [str(label) for label in labels]
    label_width = max(len(name) for name in names)
    cell_width = max(label_width, len(str(matrix.max())))

    lines = [" " * label_width + "".join(f"  {name:>{cell_width}}" for name in names)]
    for name, row in zip(names, matrix, strict=True):
        cells = "".join(f"  {count:>{cell_width}d}" for count in row)
        lines.append(f"{name:>{label_width}}{cells}")
    return "\n".join(lines)


def _roc_auc_line(y_test, probabilities, classes):
    """Return the ROC-AUC line, or the reason it is skipped."""
    test_classes = np.unique(y_test)
    unseen = np.setdiff1d(test_classes, classes)
    if len(unseen):
        return (
            "Test ROC-AUC: skipped, the test data has labels the model never saw: "
            f"{unseen.tolist()}."
        )
    if len(test_classes) < len(classes):
        return (
            "Test ROC-AUC: skipped, the test data lacks the classes "
            f"{np.setdiff1d(classes, test_classes).tolist()}."
        )

    if len(classes) == 2:
        score = roc_auc_score(y_test == classes[1], probabilities[:, 1])
        return f"Test ROC-AUC: {score:.4f}"

    score = roc_auc_score(
        y_test, probabilities, multi_class="ovr", average="macro", labels=classes
    )
    return f"Test ROC-AUC (macro one-vs-rest): {score:.4f}"
