"""The ``skmlp`` command-line tool: ``skmlp train`` and ``skmlp predict``.

Run ``skmlp --help``, ``skmlp train --help`` or ``skmlp predict --help`` for
the options. Both commands write their output files atomically, so a failure
or Ctrl-C never leaves a partial file. Errors in the input print one line,
``skmlp: error: ...``, on stderr and exit with status 2; Ctrl-C exits with
status 130.
"""

import sys

from ._cli.errors import CommandError
from ._cli.parser import build_parser
from ._cli.predict import run_predict
from ._cli.train import run_train

_COMMANDS = {"train": run_train, "predict": run_predict}

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


def main(argv=None):
    """Run the ``skmlp`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name. If None, ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or input, 130 after Ctrl-C.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        # argparse exits after --help and --version (0) and usage errors (2).
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE

    try:
        return _COMMANDS[args.command](args)
    except CommandError as error:
        print(f"skmlp: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except FileExistsError as error:
        # The output file appeared after the check at the start of the command.
        print(f"skmlp: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(
            f"skmlp: interrupted; '{args.command}' stopped and wrote no file.",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
