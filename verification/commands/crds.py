"""`platform-verify crds fetch|status|validate`: CRD schemas of the pinned upstream versions.

`fetch` is the explicit preparation step (nox runs it before the tests); tests only read the cache.
`validate PATH...` checks the custom resources in manifest files or folders against them.
"""

import argparse

from verification.errors import UserError
from verification.models.schema import crd as crd_schema
from verification.yamlio import load_manifests


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("crds", help="fetch, show or validate against the pinned CRD schemas")
    parser.add_argument("action", choices=["fetch", "status", "validate"])
    parser.add_argument("paths", nargs="*", help="validate: manifest files or folders")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "validate":
        return _validate(args.paths)
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


def _validate(paths: list[str]) -> int:
    crd_schema.require_fetched()
    custom = [o for o in load_manifests(paths or ["."]) if crd_schema.is_custom(o)]
    if not custom:
        raise UserError(f"{' '.join(paths) or '.'}: no custom resources to validate (give the files that hold them)")
    problems = [p for o in custom for p in crd_schema.validate(o)]
    for problem in problems:
        print(problem)
    print(f"{len(custom)} custom resource(s), {len(problems)} problem(s)")
    return 1 if problems else 0
