"""Judging a live NetworkPolicy matrix against the model, with the cause when they differ.

Three sources of a difference are told apart, so a red run says where to look:
1. the cluster's NetworkPolicies are not the repository's (deleted, edited or added live):
   `policy_drift` names each one, and the matrix is also compared with the model of the live
   policies, which shows whether the drift explains every differing cell;
2. a known deviation of the cluster's NetworkPolicy implementation from the Kubernetes semantics
   the model implements (platform/kind/netpol-deviations.yaml: cell, reason, evidence); reported,
   not failed, and an entry whose cell no longer differs fails as stale, so the list cannot rot;
3. anything else: the implementation enforces differently from the model (grids show where).
"""

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verification.cluster import cni
from verification.errors import UserError
from verification.models.netpol.model import Model, Policy, Workload, policies_from
from verification.paths import REPO_ROOT
from verification.verdicts.grid import Grid
from verification.verdicts.verdict import Row, Verdict
from verification.yamlio import load_file, only_fields

_DEVIATION_FIELDS = {"source", "destination", "model", "observed", "implementation", "reason", "evidence"}
_STATES = {"allowed": True, "denied": False}
_CLASS_FIELDS = {"id", "implementation", "model", "observed", "reason", "evidence"}

Table = Mapping[str, Mapping[str, bool]]


@dataclass(frozen=True)
class Deviation:
    source: str  # workload key <ns>/<name>
    destination: str  # target label <ns>/<name>:<port>/<PROTOCOL>
    model: bool  # the model's answer (allowed?)
    observed: bool  # what the implementation does
    implementation: str
    reason: str

    @property
    def cell(self) -> str:
        return f"{self.source} -> {self.destination}"


def port_grids(table: Table, workloads: Sequence[Workload]) -> list[Grid]:
    """A table split into one grid per port/protocol: sources x the destinations with that port."""
    columns: dict[str, list[str]] = {}
    for w in workloads:
        for p in w.ports:
            columns.setdefault(p.label, []).append(w.key)
    cells: dict[str, dict[tuple[str, str], bool]] = {label: {} for label in columns}
    # Each target's grid and column, split once (a table holds one row per source of each target).
    where = {w.target(p): (cells[p.label], w.key) for w in workloads for p in w.ports}
    for src, row in table.items():
        for target, allowed in row.items():
            found = where.get(target)
            if found is None:
                dst, _, label = target.rpartition(":")
                if label not in cells:  # a port no listed workload has is no cell of these grids
                    continue
                found = where[target] = (cells[label], dst)
            grid, dst = found
            grid[(src, dst)] = allowed
    rows = tuple(w.key for w in workloads)
    order = sorted(columns, key=lambda label: (int(label.split("/")[0]), label))
    return [Grid(f"port {label}", rows, tuple(columns[label]), cells[label]) for label in order]


def matrix_verdict(title: str, expected: Table, observed: Table, workloads: Sequence[Workload], **more: Any) -> Verdict:
    """Tables of the Matrix.as_table() shape (a live probe matrix too) compared port by port;
    `more`: the Verdict's cause, rows and notes."""
    wanted = port_grids(expected, workloads)
    # Equal tables (every check that passes) share their grids: nothing to split twice or compare.
    seen = wanted if observed == expected else port_grids(observed, workloads)
    return Verdict(title, tuple(zip(wanted, seen, strict=True)), **more)


def _word(allowed: bool) -> str:
    return "allowed" if allowed else "denied"


def load_classes(path: Path = cni.DEVIATIONS_FILE) -> list[str]:
    """The ids of the file's `classes:` (behaviours with reason and evidence); each needs a predicate."""
    data = load_file(path)
    entries = data.get("classes") or [] if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UserError(f"{path}: `classes` must be a list")
    ids = []
    for i, entry in enumerate(entries):
        where = f"{path}: classes[{i}]"
        only_fields(entry, _CLASS_FIELDS, where, required=sorted(_CLASS_FIELDS))
        if entry["id"] not in {**cni.CLASSES, **cni.REJECTING}:
            raise UserError(
                f"{where}: no predicate {entry['id']!r} in {cni.__name__} "
                f"(known: {', '.join([*cni.CLASSES, *cni.REJECTING])})"
            )
        ids.append(entry["id"])
    return ids


def load_avoided(path: Path = cni.DEVIATIONS_FILE) -> list[str]:
    """The ids of the file's `avoided:` (order-dependent behaviours); each needs a check in cni.AVOIDED."""
    data = load_file(path)
    entries = data.get("avoided") or [] if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UserError(f"{path}: `avoided` must be a list")
    for i, entry in enumerate(entries):
        fields = _CLASS_FIELDS - {"model", "observed"}
        only_fields(entry, fields, f"{path}: avoided[{i}]", required=sorted(fields))
        if entry["id"] not in cni.AVOIDED:
            raise UserError(f"{path}: avoided[{i}]: no check {entry['id']!r} in {cni.__name__}")
    return [entry["id"] for entry in entries]


def load_deviations(path: Path = cni.DEVIATIONS_FILE) -> list[Deviation]:
    data = load_file(path)
    entries = (data or {}).get("deviations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not set(data) <= {"deviations", "classes", "avoided"}:
        raise UserError(f"{path}: expected a mapping with a list `deviations` (and optionally `classes`, `avoided`)")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path}: deviations[{i}]"
        only_fields(entry, _DEVIATION_FIELDS, where, required=sorted(_DEVIATION_FIELDS))
        if entry["model"] not in _STATES or entry["observed"] not in _STATES or entry["model"] == entry["observed"]:
            raise UserError(f"{where}: model and observed must be different values of allowed/denied")
        found.append(
            Deviation(
                entry["source"],
                entry["destination"],
                _STATES[entry["model"]],
                _STATES[entry["observed"]],
                entry["implementation"],
                " ".join(entry["reason"].split()),
            )
        )
    return found


def _comparable(policy: Policy) -> Policy:
    return dataclasses.replace(policy, source="")


def policy_drift(
    repository: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]], harness: Sequence[str] = ()
) -> list[Row]:
    """NetworkPolicies that differ between the repository (expected) and the cluster (observed).

    Compared after parsing (defaults applied: protocol TCP, policyTypes inferred), so the API
    server's defaulting is not a difference. `harness`: keys of policies the test harness adds.
    """
    want = {p.key: p for p in policies_from(repository)}
    have = {p.key: p for p in policies_from(live) if p.key not in harness}
    rows = [
        Row(f"NetworkPolicy {k}", f"as in {want[k].source}", "missing from the cluster")
        for k in want.keys() - have.keys()
    ]
    rows += [Row(f"NetworkPolicy {k}", "not in the repository", "in the cluster") for k in have.keys() - want.keys()]
    rows += [
        Row(f"NetworkPolicy {k}", f"as in {want[k].source}", "different in the cluster")
        for k in want.keys() & have.keys()
        if _comparable(want[k]) != _comparable(have[k])
    ]
    return sorted(rows, key=lambda r: (r.observed, r.subject))


def differing(expected: Table, observed: Table) -> set[tuple[str, str]]:
    """The (source, target) cells whose observed answer differs from the expected one (or is missing)."""
    return {(s, d) for s, row in expected.items() for d, v in row.items() if observed.get(s, {}).get(d) != v}


def tolerating(expected: Table, deviations: Sequence[Deviation]) -> dict[str, dict[str, bool]]:
    """The expected table with the implementation's known deviations applied."""
    adjusted = {s: dict(row) for s, row in expected.items()}
    for d in deviations:
        if adjusted.get(d.source, {}).get(d.destination) == d.model:
            adjusted[d.source][d.destination] = d.observed
    return adjusted


def judge(
    expected: Table,
    observed: Table,
    workloads: Sequence[Workload],
    *,
    deviations: Sequence[Deviation] = (),
    drift: Sequence[Row] = (),
    live_objects: Sequence[Mapping[str, Any]] | None = None,
    policies: str = "the repository's",
) -> tuple[Verdict, list[Deviation]]:
    """The matrix verdict and the known deviations seen in it; `drift`/`live_objects` from the
    cluster name the cause of a difference; `policies`: whose policies the model is of."""
    different = differing(expected, observed)
    applicable = [d for d in deviations if d.source in expected and d.destination in expected[d.source]]
    known = [
        d
        for d in applicable
        if (d.source, d.destination) in different and observed[d.source][d.destination] == d.observed
    ]
    stale = [d for d in applicable if d not in known and expected[d.source][d.destination] == d.model]
    tolerated = tolerating(expected, known)
    cause = ""
    if drift:
        cause = "the cluster's NetworkPolicies are not the repository's (the NetworkPolicy rows)"
        if live_objects is not None:
            live_table = tolerating(Model.from_objects(live_objects).truth_table(workloads).as_table(), known)
            explained = not differing(live_table, observed)
            cause += "; the observed matrix " + (
                "equals the model of the cluster's live policies"
                if explained
                else "does not equal either the model of the cluster's live policies: the implementation also "
                "enforces differently from the model"
            )
    elif differing(tolerated, observed):
        cause = (
            f"the cluster's policies are {policies}, so its NetworkPolicy implementation enforces them "
            "differently from the model (or the probes could not reach each other)"
        )
    listed = f"listed in {cni.DEVIATIONS_FILE.relative_to(REPO_ROOT)}"
    stale_rows = [
        Row(d.cell, f"{_word(d.observed)} ({listed})", _word(d.model), "stale entry: the cell no longer deviates")
        for d in stale
    ]
    notes = [
        f"known deviation ({d.implementation}): {d.cell}: model {_word(d.model)}, observed {_word(d.observed)}: "
        + d.reason
        for d in known
    ]
    title = f"live matrix against the model of {policies} policies (known deviations applied)"
    verdict = matrix_verdict(
        title, tolerated, observed, workloads, cause=cause, rows=(*drift, *stale_rows), notes=notes
    )
    return verdict, known


def class_deviations(
    model: Model,
    pods: Sequence[Workload],
    table: Table,
    classes: Sequence[str] = (*cni.CLASSES, *cni.REJECTING),
) -> list[Deviation]:
    """Cell deviations that the named classes explain in `table`: model denied and implementation
    allowed (cni.CLASSES), or the reverse (cni.REJECTING)."""
    by_key = {w.key: w for w in pods}
    found = []
    for src_key, row in table.items():
        for target, allowed in row.items():
            dst_key, _, label = target.rpartition(":")
            src, dst = by_key[src_key], by_key[dst_key]
            number, protocol = label.split("/")
            port = next(p for p in dst.ports if p.port == int(number) and p.protocol == protocol)
            if allowed:
                rejecting = [
                    n for n in classes if n in cni.REJECTING and any(cni.REJECTING[n](model, src, dst, port, pods))
                ]
                if rejecting:
                    found.append(Deviation(src_key, target, True, False, " + ".join(rejecting), "deviation class"))
                continue
            verdict = model.verdict(src, dst, port)
            egress, ingress = verdict.egress.allowed, verdict.ingress.allowed
            used = []
            for name in (n for n in classes if n in cni.CLASSES):
                more_egress, more_ingress = cni.CLASSES[name](model, src, dst, port, pods)
                if (more_egress and not egress) or (more_ingress and not ingress):
                    used.append(name)
                egress, ingress = egress or more_egress, ingress or more_ingress
            if egress and ingress:
                found.append(Deviation(src_key, target, False, True, " + ".join(used), "deviation class"))
    return found
