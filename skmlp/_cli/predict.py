"""The ``skmlp predict`` command: predictions of a saved model for a CSV file."""

import warnings

import numpy as np
import pandas as pd

from ..persistence import load_model
from .errors import CommandError, print_warnings
from .tables import (
    NUMERIC_PARTS,
    check_columns,
    check_distinct_paths,
    check_input_file,
    check_output_path,
    preprocessed_columns,
    read_csv,
    write_csv,
)


def run_predict(args):
    """Run ``skmlp predict`` with the parsed ``args``; return the exit status."""
    check_distinct_paths(
        outputs={"--output": args.output},
        inputs={"--data": args.data, "--model": args.model},
    )
    check_output_path(args.output, force=args.force, option="--output")
    check_input_file(args.model, option="--model")
    model = _load_classifier(args.model, args.format)

    X = read_csv(args.data, option="--data")
    expected = getattr(model, "feature_names_in_", None)
    if expected is not None:
        check_columns(
            X,
            expected=[str(name) for name in expected],
            numeric=preprocessed_columns(model, NUMERIC_PARTS),
            path=args.data,
            option="--data",
        )

    # Warnings such as categories unknown to the encoder go to stderr, once.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            probabilities = model.predict_proba(X)
            predictions = model.predict(X)
        except ValueError as error:
            raise CommandError(
                f"the model cannot predict for --data {args.data!r}: {error}"
            ) from None
    print_warnings(caught, preprocessed_columns(model, ("categorical",)))

    if np.ndim(predictions) != 1:
        raise CommandError(
            f"--model {args.model!r} predicts several labels per row (a multilabel "
            "model), which 'skmlp predict' does not support; pass a model trained "
            "on one target column."
        )

    table = pd.DataFrame({"prediction": predictions})
    for index, label in enumerate(model.classes_):
        table[f"proba_{label}"] = probabilities[:, index]
    write_csv(table, args.output)

    print(f"Wrote {len(table)} predictions to {args.output}.")
    return 0


def _load_classifier(path, format):
    """Load the model in ``path`` and check that it predicts class probabilities."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = load_model(path, format=format)
        except ImportError as error:
            raise CommandError(f"cannot load --model: {error}") from None
        except ValueError as error:
            # The message names the keyword argument of load_model; here the
            # same choice is the option --format.
            message = str(error).replace("format='joblib'", "--format joblib")
            raise CommandError(f"cannot load --model: {message}") from None
    print_warnings(caught)

    if not (hasattr(model, "predict_proba") and hasattr(model, "classes_")):
        raise CommandError(
            f"--model {str(path)!r} contains a {type(model).__name__}, not a fitted "
            "classifier; pass a model saved by 'skmlp train'."
        )
    if np.ndim(model.classes_) != 1:
        raise CommandError(
            f"--model {str(path)!r} is a multi-output classifier, which 'skmlp "
            "predict' does not support; pass a model with one target column."
        )
    return model
