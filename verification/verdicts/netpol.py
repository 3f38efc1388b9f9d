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
from verification.models.netpol.model import (
    Model,
    Workload,
    policies_from,
    table_report,
)
from verification.paths import REPO_ROOT
from verification.yamlio import load_file

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


@dataclass
class Verdict:
    ok: bool
    message: str  # '' when ok
    known: list[Deviation]  # known deviations seen in this matrix

    def known_report(self) -> str:
        return "\n".join(
            f"known deviation ({d.implementation}): {d.cell}: model {_word(d.model)}, "
            f"observed {_word(d.observed)}: {d.reason}"
            for d in self.known
        )


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
        if not isinstance(entry, dict) or set(entry) != _CLASS_FIELDS:
            raise UserError(f"{where}: expected exactly the fields {sorted(_CLASS_FIELDS)}")
        if entry["id"] not in cni.CLASSES:
            raise UserError(
                f"{where}: no predicate {entry['id']!r} in {cni.__name__} (known: {', '.join(cni.CLASSES)})"
            )
        ids.append(entry["id"])
    return ids


def load_deviations(path: Path = cni.DEVIATIONS_FILE) -> list[Deviation]:
    data = load_file(path)
    entries = (data or {}).get("deviations") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not set(data) <= {"deviations", "classes"}:
        raise UserError(f"{path}: expected a mapping with a list `deviations` (and optionally `classes`)")
    found = []
    for i, entry in enumerate(entries):
        where = f"{path}: deviations[{i}]"
        if not isinstance(entry, dict):
            raise UserError(f"{where}: expected a mapping")
        unknown = set(entry) - _DEVIATION_FIELDS
        missing = _DEVIATION_FIELDS - set(entry)
        if unknown or missing:
            raise UserError(f"{where}: unknown fields {sorted(unknown)}, missing fields {sorted(missing)}")
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


def _comparable(policy) -> Any:
    return dataclasses.replace(policy, source="")


def policy_drift(
    repository: Sequence[Mapping[str, Any]], live: Sequence[Mapping[str, Any]], harness: Sequence[str] = ()
) -> list[str]:
    """NetworkPolicies that differ between the repository and the cluster, one line each.

    Compared after parsing (defaults applied: protocol TCP, policyTypes inferred), so the API
    server's defaulting is not a difference. `harness`: keys of policies the test harness adds.
    """
    want = {p.key: p for p in policies_from(repository)}
    have = {p.key: p for p in policies_from(live) if p.key not in harness}
    lines = [
        f"NetworkPolicy {key} ({want[key].source}) is missing from the cluster"
        for key in sorted(want.keys() - have.keys())
    ]
    lines += [
        f"NetworkPolicy {key} in the cluster is not in the repository" for key in sorted(have.keys() - want.keys())
    ]
    lines += [
        f"NetworkPolicy {key} in the cluster differs from {want[key].source}"
        for key in sorted(want.keys() & have.keys())
        if _comparable(want[key]) != _comparable(have[key])
    ]
    return lines


def _differing(expected: Table, observed: Table) -> set[tuple[str, str]]:
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
    drift: Sequence[str] = (),
    live_objects: Sequence[Mapping[str, Any]] | None = None,
) -> Verdict:
    """The matrix verdict; `drift`/`live_objects` from the cluster name the cause of a difference."""
    differing = _differing(expected, observed)
    applicable = [d for d in deviations if d.source in expected and d.destination in expected[d.source]]
    known = [
        d
        for d in applicable
        if (d.source, d.destination) in differing and observed[d.source][d.destination] == d.observed
    ]
    stale = [d for d in applicable if d not in known and expected[d.source][d.destination] == d.model]
    tolerated = tolerating(expected, known)
    parts = []
    if drift:
        parts.append("cause: the cluster's NetworkPolicies are not the repository's:\n  " + "\n  ".join(drift))
        if live_objects is not None:
            live_table = tolerating(Model.from_objects(live_objects).truth_table(workloads).as_table(), known)
            explained = not _differing(live_table, observed)
            parts.append(
                "the observed matrix "
                + ("equals" if explained else "does not equal either")
                + " the model of the cluster's live policies"
                + ("" if explained else ": the implementation also enforces differently from the model")
            )
    unexplained = _differing(tolerated, observed)
    if unexplained:
        if not drift:
            parts.append(
                "cause: the cluster's policies are the repository's, so its NetworkPolicy implementation "
                "enforces them differently from the model (or the probes could not reach each other)"
            )
        parts.append(
            f"{len(unexplained)} cells differ from the repository's model:\n"
            + table_report(tolerated, observed, workloads, "live")
        )
    if stale:
        parts.append(
            "stale entries in " + str(cni.DEVIATIONS_FILE.relative_to(REPO_ROOT)) + " (the cell no longer "
            "deviates: delete them):\n  " + "\n  ".join(d.cell for d in stale)
        )
    ok = not unexplained and not stale and not drift
    return Verdict(ok, "" if ok else "\n".join(parts), known)


def class_deviations(
    model: Model, pods: Sequence[Workload], table: Table, classes: Sequence[str] = tuple(cni.CLASSES)
) -> list[Deviation]:
    """Cell deviations (model denied, implementation allowed) that the named classes explain in `table`."""
    by_key = {w.key: w for w in pods}
    found = []
    for src_key, row in table.items():
        for target, allowed in row.items():
            if allowed:
                continue
            dst_key, _, label = target.rpartition(":")
            src, dst = by_key[src_key], by_key[dst_key]
            number, protocol = label.split("/")
            port = next(p for p in dst.ports if p.port == int(number) and p.protocol == protocol)
            verdict = model.verdict(src, dst, port)
            egress, ingress = verdict.egress.allowed, verdict.ingress.allowed
            used = []
            for name in classes:
                more_egress, more_ingress = cni.CLASSES[name](model, src, dst, port, pods)
                if (more_egress and not egress) or (more_ingress and not ingress):
                    used.append(name)
                egress, ingress = egress or more_egress, ingress or more_ingress
            if egress and ingress:
                found.append(Deviation(src_key, target, False, True, " + ".join(used), "deviation class"))
    return found
