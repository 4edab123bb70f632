"""The command line: click only. Parse options, call the library, print; errors become exit codes once."""

from syndicate.cli.main import main

__all__ = ["main"]
