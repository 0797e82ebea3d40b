"""Reading and checking CSV files, and checking the files a command will write."""

import os
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import type_of_target

from ..persistence import write_atomically
from .errors import CommandError

# Parts of the column transformer of skmlp._pipeline.make_preprocessor whose
# columns are read as numbers.
NUMERIC_PARTS = ("numeric", "skewed", "binned")

# Separators that leave a whole row in one column when a file is read as
# comma-separated.
_OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


def check_output_path(path, *, force, option):
    """Raise unless ``path`` can be written now.

    Its folder must exist, and the file must not exist unless ``force``.
    """
    path = Path(path)

    if path.is_dir():
        raise CommandError(
            f"{option} {str(path)!r} is a folder; give a file name instead."
        )
    if not path.parent.is_dir():
        raise CommandError(
            f"the folder of {option} {str(path)!r} was not found; create it first "
            "or choose another path."
        )
    if not os.access(path.parent, os.W_OK | os.X_OK):
        raise CommandError(
            f"the folder of {option} {str(path)!r} is not writable; choose "
            "another path."
        )
    if path.exists() and not force:
        raise CommandError(
            f"{option} {str(path)!r} already exists; choose another path or pass "
            "--force to replace it."
        )


def check_distinct_paths(outputs, inputs):
    """Raise if an output path is another output or an input.

    Without this check, ``--force`` would let an output replace an input or
    another output. Two inputs may be the same file.

    Parameters
    ----------
    outputs, inputs : dict of str to path-like or None
        Paths by option name, such as ``{"--output": ...}``; None entries are
        skipped.
    """
    seen = {}
    for option, path in [*inputs.items(), *outputs.items()]:
        if path is None:
            continue
        resolved = Path(path).resolve()
        if resolved in seen and option in outputs:
            raise CommandError(
                f"{option} {str(path)!r} is the same file as {seen[resolved]}; "
                "choose another path."
            )
        seen[resolved] = option


def check_input_file(path, *, option):
    """Raise unless ``path`` is an existing file."""
    path = Path(path)

    if not path.exists():
        raise CommandError(f"{option} {str(path)!r} was not found; check the path.")
    if not path.is_file():
        raise CommandError(f"{option} {str(path)!r} is not a file; check the path.")


def read_csv(path, *, option):
    """Read a comma-separated file with a header row into a DataFrame.

    Raises
    ------
    CommandError
        If the file is missing, empty, malformed, not UTF-8 text, has no data
        rows, or looks separated by another character than commas.
    """
    check_input_file(path, option=option)

    try:
        # skipinitialspace reads "a, b" as "a" and "b", as in the Adult files.
        frame = pd.read_csv(path, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise CommandError(
            f"{option} {str(path)!r} is empty; it needs a header row and data rows."
        ) from None
    except pd.errors.ParserError as error:
        reason = str(error).strip().splitlines()[-1]
        raise CommandError(
            f"{option} {str(path)!r} is not a valid CSV file ({reason}); every row "
            "needs as many comma-separated fields as the header."
        ) from None
    except UnicodeDecodeError:
        raise CommandError(
            f"{option} {str(path)!r} is not UTF-8 text; save it as a UTF-8 CSV file."
        ) from None

    if frame.shape[1] == 1:
        header = str(frame.columns[0])
        shown_header = header if len(header) <= 40 else header[:37] + "..."
        for separator, name in _OTHER_SEPARATORS.items():
            if separator in header:
                raise CommandError(
                    f"{option} {str(path)!r} has a single column "
                    f"{shown_header!r}, so its fields look separated by {name}; "
                    "skmlp reads comma-separated files, so save it with commas as "
                    "separators."
                )
    if len(frame) == 0:
        raise CommandError(
            f"{option} {str(path)!r} has a header but no data rows; add data rows."
        )
    return frame


def split_target(frame, target, *, path, option, for_training=True):
    """Return the features and the target column of ``frame``.

    Raises
    ------
    CommandError
        If the target column is missing or has missing values. With
        ``for_training``, also if it has a single value or is continuous.
    """
    if target not in frame.columns:
        raise CommandError(
            f"target column {target!r} was not found in {option} {str(path)!r}, "
            f"whose columns are {_quoted(frame.columns)}; pass one of them to --target."
        )

    y = frame[target]
    X = frame.drop(columns=target)

    n_missing = int(y.isna().sum())
    if n_missing:
        first_line = _line_number(np.flatnonzero(y.isna())[0])
        raise CommandError(
            f"target column {target!r} of {str(path)!r} has {n_missing} missing "
            f"values (the first on line {first_line}); remove those rows or fill them."
        )
    if X.shape[1] == 0:
        raise CommandError(
            f"{option} {str(path)!r} has no column besides the target {target!r}; "
            "add feature columns."
        )
    if not for_training:
        return X, y

    if y.nunique() < 2:
        raise CommandError(
            f"target column {target!r} of {str(path)!r} has a single value "
            f"({str(y.iloc[0])!r}), but a classifier needs at least two classes; check "
            "--target or the rows of the file."
        )
    if type_of_target(y.to_numpy()) == "continuous":
        raise CommandError(
            f"target column {target!r} of {str(path)!r} contains continuous "
            "numbers, but skmlp classifies; pass a column of class labels to --target."
        )
    return X, y


def check_columns(X, *, expected, numeric, path, option):
    """Raise unless ``X`` has exactly the ``expected`` columns, numbers where needed.

    Parameters
    ----------
    X : DataFrame
        The features read from ``path``.
    expected : list of str
        The columns that the model was trained with.
    numeric : list of str
        The columns among ``expected`` whose values the model reads as numbers.
    path : str
        The file, for messages.
    option : str
        The command-line option that named the file, for messages.
    """
    missing = [name for name in expected if name not in X.columns]
    if missing:
        raise CommandError(
            f"{option} {str(path)!r} is missing the column(s) {_quoted(missing)}, "
            "which the model was trained with; add them (empty values are allowed)."
        )

    unknown = [name for name in X.columns if name not in set(expected)]
    if unknown:
        raise CommandError(
            f"{option} {str(path)!r} has the column(s) {_quoted(unknown)}, which the "
            "model was not trained with; remove them."
        )

    for name in numeric:
        column = X[name]
        if pd.api.types.is_numeric_dtype(column):
            continue
        as_numbers = pd.to_numeric(column, errors="coerce")
        text = np.flatnonzero(as_numbers.isna().to_numpy() & column.notna().to_numpy())
        if len(text):
            row = text[0]
            raise CommandError(
                f"column {name!r} of {str(path)!r} contains text ({column.iloc[row]!r} "
                f"on line {_line_number(row)}), but the model expects numbers; "
                "fix the value or leave it empty for a missing value."
            )


def write_csv(frame, path):
    """Write ``frame`` without its index to ``path``, atomically."""
    write_atomically(path, lambda temporary: frame.to_csv(temporary, index=False))


def _line_number(position):
    """Return the line of the file that contains row ``position``, counted from 1.

    Assumes one line per row after the header line, which is true unless a
    quoted field contains a line break.
    """
    return int(position) + 2


def _quoted(names, limit=10):
    """Return up to ``limit`` names, quoted and joined, with the count of the rest."""
    names = [repr(str(name)) for name in names]
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit} more"


def preprocessed_columns(model, parts):
    """Return the input columns that the ``parts`` of the model's preprocessing read.

    Known only for a fitted pipeline whose first step is the column transformer
    of ``make_preprocessor``, whose parts are named "categorical", "numeric",
    "skewed" and "binned". For other models the list is empty.
    """
    if not isinstance(model, Pipeline):
        return []
    first_step = model.steps[0][1]
    if not isinstance(first_step, ColumnTransformer):
        return []

    columns = []
    for name, _, part_columns in getattr(first_step, "transformers_", []):
        if name in parts:
            columns.extend(str(column) for column in part_columns)
    return columns
