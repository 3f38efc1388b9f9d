"""`platform-verify cluster up|down|status`: the named kind cluster for e2e.
`cluster preflight|census --kubeconfig K [--context C]`: a cluster built elsewhere: may the suite
use it (one line, exit 2 if not), and its object counts per kind and namespace (`--out` keeps
them, `--compare` an earlier census: exit 1 when any count differs)."""

import argparse
import json
from pathlib import Path

from verification.cluster import census, cluster, preflight
from verification.cluster.cluster import Cluster
from verification.errors import UserError


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("cluster", help="create/reuse, delete or show the e2e kind cluster")
    parser.add_argument("action", choices=["up", "down", "status", "preflight", "census"], nargs="?", default="status")
    parser.add_argument("--kubeconfig", type=Path, help="preflight, census: kubeconfig of a cluster built elsewhere")
    parser.add_argument("--context", help="preflight, census: its context (default: the current-context)")
    parser.add_argument("--out", type=Path, help="census: also write the counts (JSON) to this file")
    parser.add_argument("--compare", type=Path, help="census: an earlier --out file; print what changed")
    parser.add_argument("--name", default=cluster.DEFAULT_NAME, help="kind cluster name (default %(default)s)")
    parser.add_argument(
        "--image-source",
        choices=["pull", "build", "registry", "auto"],
        default="auto",
        help="node and stack images from registries, built here (side-loaded), built here and pulled from a "
        "local registry (crane), or pull if a registry resolves",
    )
    parser.add_argument(
        "--nodes",
        type=int,
        default=cluster.DEFAULT_NODES,
        help="up: one control-plane and N-1 workers (default %(default)s, the fastest)",
    )
    parser.set_defaults(func=_run)


def _elsewhere(args: argparse.Namespace) -> int:
    if args.kubeconfig is None:
        raise UserError(f"cluster {args.action} needs --kubeconfig PATH")
    if args.action == "preflight":
        _, context = preflight.check(args.kubeconfig, args.context)
        print(f"context {context!r}: present, answering, and it grants the {len(preflight.required())} permissions")
        return 0
    context = preflight.context_of(args.kubeconfig, args.context)
    target = Cluster(context, args.kubeconfig, "existing", "existing", context=context)
    preflight.reachable(target, context)
    counted = census.take(target)
    print(census.render(counted))
    print(f"{sum(counted.values())} objects in {len(counted)} kind/namespace pairs (context {context!r})")
    if args.out:
        args.out.write_text(json.dumps(counted, indent=1) + "\n")
    if args.compare:
        changed = census.diff(census.load(args.compare), counted)
        print("\n".join(["changed since " + str(args.compare) + ":", *changed]) if changed else "no count changed")
        return 1 if changed else 0
    return 0


def _run(args: argparse.Namespace) -> int:
    if args.action in ("preflight", "census"):
        return _elsewhere(args)
    # up/down act on the named kind cluster: an option meant for a cluster built elsewhere would be
    # silently ignored there (and `down` deletes), so it is refused before anything happens.
    given = [f"--{name}" for name in ("kubeconfig", "context", "out", "compare") if getattr(args, name) is not None]
    if given:
        raise UserError(
            f"cluster {args.action} acts on the kind cluster --name; {', '.join(given)} is for preflight|census"
        )
    if args.action != "up" and args.nodes != cluster.DEFAULT_NODES:
        raise UserError(f"cluster {args.action}: --nodes is for up (the nodes a new cluster gets)")
    if args.action == "up":
        found = cluster.up(args.name, args.image_source, nodes=args.nodes)
        print(f"cluster {found.name} ready; kubeconfig: {found.kubeconfig}")
        return 0
    if args.action == "down":
        print(f"deleted kind cluster {args.name}" if cluster.down(args.name) else f"no kind cluster {args.name}")
        return 0
    lines = cluster.status(args.name)
    print("\n".join(lines))
    return 0 if any("present" in line for line in lines) else 1
