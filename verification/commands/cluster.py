"""`platform-verify cluster up|down|status`: the named kind cluster for e2e."""

import argparse

from verification.cluster import cluster


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("cluster", help="create/reuse, delete or show the e2e kind cluster")
    parser.add_argument("action", choices=["up", "down", "status"], nargs="?", default="status")
    parser.add_argument("--name", default=cluster.DEFAULT_NAME, help="kind cluster name (default %(default)s)")
    parser.add_argument(
        "--image-source",
        choices=["pull", "build", "auto"],
        default="auto",
        help="node and stack images from registries, built here, or pull if a registry resolves",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "up":
        found = cluster.up(args.name, args.image_source)
        print(f"cluster {found.name} ready; kubeconfig: {found.kubeconfig}")
        return 0
    if args.action == "down":
        print(f"deleted kind cluster {args.name}" if cluster.down(args.name) else f"no kind cluster {args.name}")
        return 0
    lines = cluster.status(args.name)
    print("\n".join(lines))
    return 0 if any("present" in line for line in lines) else 1
