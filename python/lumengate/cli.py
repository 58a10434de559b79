"""The ``lumengate`` command line."""

from __future__ import annotations

import argparse
import sys

from lumengate import __version__, available_cpus


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lumengate", description="lumengate command line")
    parser.add_argument("--version", action="version", version=f"lumengate {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("info", help="show the version and the CPUs batch calls may use")
    args = parser.parse_args(argv)
    if args.command == "info":
        print(f"lumengate {__version__}; batch calls may use {available_cpus()} CPUs")
        return 0
    parser.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
