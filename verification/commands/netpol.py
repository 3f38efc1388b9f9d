"""`platform-verify netpol matrix|explain|check`: the NetworkPolicy truth table of a set of workloads.

`matrix --json` prints `{"<ns>/<name>": {"<ns>/<name>:<port>/<PROTOCOL>": bool}}` for every
ordered pair of workloads (self included) and every port of the destination; without --json,
one grid per port/protocol. `explain SRC DST:PORT/PROTO` says which policies decide one cell
(exit 0 allowed, 1 denied). `check` compares the table with a reachability intent (exit 0 equal,
1 with expected/observed/differences grids); `check --boundaries` adds the synthetic boundary
workloads and each layer alone (verification/models/netpol/boundaries.py).
"""

import argparse
import json

from verification.errors import UserError
from verification.models.netpol.boundaries import Boundaries
from verification.models.netpol.model import (
    EGRESS,
    INGRESS,
    Model,
    Workload,
    load_reachability,
    load_workloads,
)
from verification.paths import INTENT, MANIFESTS
from verification.verdicts.grid import render
from verification.verdicts.netpol import matrix_verdict, port_grids
from verification.yamlio import load_file, load_manifests


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("netpol", help="NetworkPolicy truth table of workloads")
    actions = parser.add_subparsers(dest="netpol_command", metavar="ACTION", required=True)

    matrix = actions.add_parser("matrix", help="allowed/denied for every ordered pair and destination port")
    _common(matrix)
    matrix.add_argument("--json", action="store_true", help="machine-readable output (stable contract)")
    matrix.set_defaults(func=_matrix)

    explain = actions.add_parser("explain", help="which policies allow or deny one connection")
    _common(explain)
    explain.add_argument("source", help="<ns>/<name> of the source workload")
    explain.add_argument("target", help="<ns>/<name>:<port>/<PROTOCOL> of the destination port")
    explain.set_defaults(func=_explain)

    check = actions.add_parser("check", help="compare the truth table with a reachability intent")
    _common(check, defaults=True)
    check.add_argument("--intent", default=str(INTENT / "reachability.yaml"), metavar="FILE")
    check.add_argument(
        "--boundaries",
        action="store_true",
        help="also the synthetic boundary workloads, and each layer (ingress, egress) alone",
    )
    check.set_defaults(func=_check)


def _common(parser: argparse.ArgumentParser, defaults: bool = False) -> None:
    # `check` defaults to the platform's own files; matrix/explain keep the explicit contract.
    parser.add_argument(
        "--manifests", action="append", required=not defaults, metavar="PATH", help="file or directory (repeatable)"
    )
    parser.add_argument(
        "--workloads",
        required=not defaults,
        default=str(INTENT / "workloads.yaml") if defaults else None,
        metavar="FILE",
        help="YAML list of workloads",
    )


def _load(args: argparse.Namespace) -> tuple[Model, list[Workload]]:
    workloads = load_workloads(args.workloads)
    return Model.from_objects(load_manifests(args.manifests or [MANIFESTS])), workloads


def _matrix(args: argparse.Namespace) -> int:
    model, workloads = _load(args)
    table = model.truth_table(workloads).as_table()
    print(json.dumps(table, indent=2) if args.json else "\n\n".join(render(g) for g in port_grids(table, workloads)))
    return 0


def _explain(args: argparse.Namespace) -> int:
    model, workloads = _load(args)
    by_key = {w.key: w for w in workloads}
    dst_key, _, port_label = args.target.rpartition(":")
    if args.source not in by_key:
        raise UserError(f"{args.source}: no such workload in {args.workloads}")
    if dst_key not in by_key:
        raise UserError(f"{args.target}: expected <ns>/<name>:<port>/<PROTOCOL> naming a workload of {args.workloads}")
    dst = by_key[dst_key]
    port = next((p for p in dst.ports if p.label == port_label), None)
    if port is None:
        known = ", ".join(p.label for p in dst.ports) or "none"
        raise UserError(f"{args.target}: {dst_key} has no port {port_label!r} (ports: {known})")
    verdict = model.verdict(by_key[args.source], dst, port)
    print(verdict.explain())
    return 0 if verdict.allowed else 1


def _check(args: argparse.Namespace) -> int:
    model, workloads = _load(args)
    expected = load_reachability(args.intent, workloads)
    matrix = model.truth_table(workloads)
    observed = matrix.as_table()
    why = [v.explain() for (src, target), v in matrix.verdicts.items() if expected[src][target] != v.allowed]
    cause = "\n  ".join(["the model says why:", *why]) if why else ""
    verdicts = [matrix_verdict(f"truth table against {args.intent}", expected, observed, workloads, cause=cause)]
    if args.boundaries:
        boundaries = Boundaries.of(model, workloads, load_file(args.intent), args.intent)
        verdicts += [boundaries.verdict(side) for side in (None, INGRESS, EGRESS)]
    print("\n\n".join(v.render() for v in verdicts))
    return 0 if all(v.ok for v in verdicts) else 1
