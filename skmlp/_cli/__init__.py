"""Parts of the ``skmlp`` command-line tool; :mod:`skmlp.cli` is its entry point."""
