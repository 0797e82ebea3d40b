"""Run the command-line tool as ``python -m skmlp``."""

import sys

from skmlp.cli import main

if __name__ == "__main__":
    sys.exit(main())
