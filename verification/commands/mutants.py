"""`platform-verify mutants`: the mutation run (catalog in verification/mutants/catalog/)."""

import argparse


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    from verification.mutants import cli

    parser = sub.add_parser(
        "mutants", help="apply each catalogued misconfiguration to a copy and check that conformance fails"
    )
    cli.add_arguments(parser)
    parser.set_defaults(func=cli.main)
