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
    load_reachability,
    load_workloads,
    port_grids,
    table_report,
)
from verification.paths import INTENT, MANIFESTS
from verification.verdicts.grid import render
from verification.yamlio import load_file, load_manifests


def register(sub: argparse._SubParsersAction) -> None:
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


def _load(args: argparse.Namespace):
    workloads = load_workloads(args.workloads)
    model = Model.from_objects(load_manifests(args.manifests or [MANIFESTS]))
    return model, workloads


def _matrix(args: argparse.Namespace) -> int:
    model, workloads = _load(args)
    table = model.truth_table(workloads).as_table()
    if args.json:
        print(json.dumps(table, indent=2))
        return 0
    print("\n\n".join(render(grid) for grid in port_grids(table, workloads)))
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
    report = table_report(expected, observed, workloads, "reachability")
    if report:
        print(report)
        print("\nwhy (model):")
        for (src, target), verdict in matrix.verdicts.items():
            if expected[src][target] != verdict.allowed:
                print(verdict.explain())
    else:
        cells = sum(len(row) for row in observed.values())
        print(f"truth table equals {args.intent}: {len(workloads)} workloads, {cells} cells")
    if not args.boundaries:
        return 1 if report else 0
    boundaries = Boundaries.of(model, workloads, load_file(args.intent), args.intent)
    failed = bool(report)
    for side, name in ((None, "both sides"), (INGRESS, "ingress alone"), (EGRESS, "egress alone")):
        found = boundaries.report(side)
        failed |= bool(found)
        print(
            f"\n{found}"
            if found
            else f"{name}: equals the intent over {len(boundaries.workloads)} workloads "
            f"({len(boundaries.synthetic)} synthetic or with boundary ports), {len(boundaries.matrix.verdicts)} cells"
        )
    return 1 if failed else 0
