"""`platform-verify`: one entry point; each module in verification/commands adds a subcommand.

A command module defines `register(subparsers)` and sets `func(args) -> int` on its parser.
Every error of the hierarchy in verification/errors.py surfaces as one line on stderr and its exit
code (2 bad input, 3 a program failed, 4 a wait timed out); no traceback.
"""

import argparse
import importlib
import os
import pkgutil
import sys

from verification import __version__, commands
from verification.errors import VerificationError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="platform-verify", description="Verify the Kubernetes DevOps platform against its intent."
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"verification.commands.{info.name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except VerificationError as exc:
        print(f"platform-verify: error: {exc.line()}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # `platform-verify ... | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("platform-verify: interrupted", file=sys.stderr)
        return 130


def entrypoint() -> None:
    sys.exit(main())
