"""`platform-verify tools status|install [NAME ...]`: the pinned external binaries."""

import argparse

from verification import tools
from verification.versions import tool as tool_pin


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("tools", help="show or install the pinned external tools")
    parser.add_argument("action", choices=["status", "install", "path"])
    parser.add_argument("names", nargs="*", help="tools (default: all pinned tools)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    names = args.names or tools.all_tool_names()
    for name in names:
        tool_pin(name)  # unknown names fail with one line
    if args.action == "install":
        for name in names:
            found = tools.install(name)
            print(f"{name:16} {found.version:10} {found.path}")
        return 0
    if args.action == "path":
        for name in names:
            print(tools.require(name).path)
        return 0
    missing = 0
    for name in names:
        present = tools.find(name)
        if present:
            print(f"{name:16} ok       {present.version:10} {present.path}")
        else:
            missing += 1
            print(f"{name:16} MISSING  want {tool_pin(name)['version']}: {tools.describe_install(name)}")
    return 1 if missing else 0
