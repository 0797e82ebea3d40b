"""The messages that the command-line tool prints on stderr."""

import re
import sys

from .parser import CLASSIFIER_OPTIONS

# The command-line option that sets each estimator parameter. Only parameter
# names with an underscore are replaced in messages, so that plain words such
# as "solver" stay as they are.
_OPTION_OF_PARAMETER = {
    parameter: "--" + option.replace("_", "-")
    for option, parameter in CLASSIFIER_OPTIONS.items()
    if "_" in parameter
}
_UNKNOWN_CATEGORY_COLUMNS = re.compile(r"unknown categories in columns \[([\d, ]+)\]")
_PARAMETER_NAME = re.compile(
    r"\b(" + "|".join(map(re.escape, _OPTION_OF_PARAMETER)) + r")\b"
)


class CommandError(Exception):
    """Invalid input or state that stops a command with exit status 2.

    The message is printed after ``skmlp: error:``. It names the invalid value
    and the fix.
    """


def with_option_names(message):
    """Return ``message`` with each estimator parameter named by its option.

    For example ``max_iter`` becomes ``--epochs``, the option that sets it.
    """
    return _PARAMETER_NAME.sub(
        lambda match: _OPTION_OF_PARAMETER[match.group(1)], message
    )


def print_warnings(caught, categorical_columns=()):
    """Print each distinct message of the ``caught`` warnings as one line on stderr.

    Estimator parameters in the messages are named by their options, and the
    positions that scikit-learn's one-hot encoder gives for columns with
    unknown categories by the names in ``categorical_columns``.
    """
    printed = set()
    for warning in caught:
        message = with_option_names(" ".join(str(warning.message).split()))
        message = with_column_names(message, categorical_columns)
        if message not in printed:
            printed.add(message)
            print(f"skmlp: warning: {message}", file=sys.stderr)


def with_column_names(message, categorical_columns):
    """Return ``message`` with the encoder's column positions replaced by names.

    ``OneHotEncoder`` reports unknown categories "in columns [0, 7]", counting
    only the columns it encodes. A position outside ``categorical_columns``
    leaves the message unchanged.
    """
    match = _UNKNOWN_CATEGORY_COLUMNS.search(message)
    if match is None:
        return message

    positions = [int(position) for position in match.group(1).split(",")]
    if not all(position < len(categorical_columns) for position in positions):
        return message
    names = ", ".join(repr(categorical_columns[position]) for position in positions)
    return message[: match.start(1)] + names + message[match.end(1) :]
