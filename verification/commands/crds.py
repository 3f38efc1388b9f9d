"""`platform-verify crds fetch|status`: CRD schemas of the pinned upstream versions.

`fetch` is the explicit preparation step (nox runs it before the tests); tests only read the cache.
"""

import argparse

from verification.models import crd_schema


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("crds", help="fetch or show the pinned CRD schemas (ArgoCD, prometheus-operator)")
    parser.add_argument("action", choices=["fetch", "status"])
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    missing = 0
    for source in crd_schema.SOURCES:
        if args.action == "fetch":
            path = crd_schema.fetch(source)
            print(f"{source.component:20} {source.version:10} {path}")
        elif source in crd_schema.missing_sources():
            missing += 1
            print(f"{source.component:20} MISSING  want {source.version}: {crd_schema.FETCH_COMMAND}")
        else:
            print(f"{source.component:20} ok       {source.version:10} {source.cache}")
    return 1 if missing else 0
