"""`platform-verify images [--rebuild] [--only NAME ...]`: every image the offline e2e cluster needs."""

import argparse
import time

from verification.cluster import gobuild, node_image, smoke_image
from verification.cluster.progress import say


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("images", help="build the kind node image and stack images offline (cached)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild even when the cached result is current")
    parser.add_argument(
        "--binaries-only",
        action="store_true",
        help="only the Go builds of the cluster components (long; run in the background first)",
    )
    parser.add_argument("--only", nargs="*", help="with --binaries-only: these components only")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    started = time.monotonic()
    if args.binaries_only:
        for name, path in gobuild.build_all(rebuild=args.rebuild, only=args.only).items():
            print(f"{name:14} {path}")
        return 0
    built = [node_image.ensure_node_image(rebuild=args.rebuild), smoke_image.ensure_smoke_image(args.rebuild)]
    from verification.cluster import stack_images  # reads the catalog: only when the command runs

    built += stack_images.build_all(rebuild=args.rebuild)
    for ref in built:
        print(ref)
    say(f"images: {len(built)} current in {time.monotonic() - started:.0f}s")
    return 0
