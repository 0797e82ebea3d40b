"""The messages that the command-line tool prints on stderr."""

import sys


class CommandError(Exception):
    """Invalid input or state that stops a command with exit status 2.

    The message is printed after ``skmlp: error:``. It names the invalid value
    and the fix.
    """


def print_warnings(caught):
    """Print each distinct message of the ``caught`` warnings as one line on stderr."""
    printed = set()
    for warning in caught:
        message = " ".join(str(warning.message).split())
        if message not in printed:
            printed.add(message)
            print(f"skmlp: warning: {message}", file=sys.stderr)
