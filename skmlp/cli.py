"""The ``skmlp`` command-line tool: ``skmlp train`` and ``skmlp predict``.

Run ``skmlp --help``, ``skmlp train --help`` or ``skmlp predict --help`` for
the options. Both commands write their output files atomically, so a failure
or Ctrl-C never leaves a partial file. Errors in the input print one line,
``skmlp: error: ...``, on stderr and exit with status 2. Ctrl-C exits with
status 130 and SIGTERM with 143.
"""

import os
import signal
import sys

from ._cli.errors import CommandError
from ._cli.parser import build_parser
from ._cli.predict import run_predict
from ._cli.train import run_train

_COMMANDS = {"train": run_train, "predict": run_predict}

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_TERMINATED = 128 + signal.SIGTERM


class _Terminated(BaseException):
    """Raised by the SIGTERM handler so that cleanup code runs as for Ctrl-C."""


def _raise_terminated(signum, frame):
    raise _Terminated()


def main(argv=None):
    """Run the ``skmlp`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments after the program name. If None, ``sys.argv[1:]``.

    Returns
    -------
    status : int
        0 on success, 2 for invalid arguments or input, 130 after Ctrl-C,
        143 after SIGTERM.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit:
        # argparse exits after --help and --version (0) and usage errors (2).
        return exit.code if isinstance(exit.code, int) else EXIT_USAGE

    # Python's default SIGTERM action ends the process without unwinding, which
    # would leave a temporary file behind.
    previous_handler = signal.signal(signal.SIGTERM, _raise_terminated)
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
    except _Terminated:
        print(
            f"skmlp: terminated; '{args.command}' stopped and wrote no file.",
            file=sys.stderr,
        )
        return EXIT_TERMINATED
    except BrokenPipeError:
        # The reader of stdout went away, as with `skmlp train | head`. Further
        # writes to stdout would raise again, so it is pointed at /dev/null.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(
            f"skmlp: error: standard output was closed; '{args.command}' stopped "
            "and wrote no file.",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except OSError as error:
        # Writing a file failed, for example on a full or read-only disk.
        print(f"skmlp: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
