"""`platform-verify conformance`: the no-cluster suite with readable output."""

import argparse

from verification.paths import REPO_ROOT


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("conformance", help="run the conformance suite (manifests against intent, no cluster)")
    parser.add_argument("pytest_args", nargs=argparse.REMAINDER, help="extra pytest arguments (after --)")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    import pytest

    extra = [a for a in args.pytest_args if a != "--"]
    return int(pytest.main([str(REPO_ROOT / "verification" / "conformance"), "-q", "--no-header", "-rfE", *extra]))
