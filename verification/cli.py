"""`platform-verify`: one entry point; each module in verification/commands adds a subcommand.

A command module defines `register(subparsers)` and sets `func(args) -> int` on its parser.
Bad input surfaces as one line on stderr and exit 2; no traceback.
"""

import argparse
import importlib
import os
import pkgutil
import sys

from verification import __version__, commands
from verification.errors import UserError
from verification.run import CommandError


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
    except UserError as exc:
        print(f"platform-verify: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except CommandError as exc:
        print(f"platform-verify: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # `platform-verify ... | head`: the reader left; that is not an error.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("platform-verify: interrupted", file=sys.stderr)
        return 130


def entrypoint() -> None:
    sys.exit(main())
