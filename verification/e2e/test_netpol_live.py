"""NetworkPolicy live: the probe matrix between real pods equals the model's truth table.

Probe pods carry the labels of every workload of platform/intent/workloads.yaml in its namespace
(verification/probes/netpol.py). The observed matrix, every source x every destination port,
must equal the truth table of verification.models.netpol.model over the repository's manifests, apart
from the implementation's known deviations (platform/kind/netpol-deviations.yaml, reported); on a
mismatch the verdict names the cause (policies deleted or edited in the cluster, or the
implementation) and prints expected, observed and differing cells as grids per port. Then one
allow rule is removed from the live cluster: the matrix must change exactly as the model predicts
for the mutated policies within a bound, and return when the rule is restored. Last, a broken
platform: a whole NetworkPolicy deleted live must turn the verdict red, naming that policy.
"""

import copy
import functools
import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import yaml

from verification.cluster import cni, ownership
from verification.cluster.cluster import Cluster, schedulable
from verification.e2e import diagnostics
from verification.e2e.concurrent import APP_OBJECTS, CPU, PLATFORM_TRAFFIC, Lanes, Spec
from verification.e2e.stack import HARNESS_POLICIES, Stack
from verification.errors import UserError
from verification.models.netpol import generated as gen
from verification.models.netpol.model import Model, Port, Workload, load_workloads, namespace_labels_from, parse_policy
from verification.paths import INTENT, MANIFESTS
from verification.probes.netpol import ProbePods, await_matrix
from verification.verdicts.netpol import (
    Deviation,
    class_deviations,
    judge,
    load_avoided,
    load_classes,
    load_deviations,
    matrix_verdict,
    policy_drift,
    tolerating,
)
from verification.verdicts.verdict import Verdict
from verification.yamlio import load_manifests, strip_source

JOB_TIMEOUT = 1800.0  # seconds a test waits for its job (the job's own waits are shorter)
SETTLE_BOUND = cni.POLICY_SETTLE_SECONDS  # for the CNI to program new probe pods
CHANGE_BOUND = 60  # seconds for a changed policy to show in the matrix
MUTATED_NAMESPACE = "test"


JOB_ORDER = 1  # first: the probe pods carry the apps' labels, so the apps' own runs wait for them
GENERATED_ORDER = 4  # the generated cases: after the blue-green runs and the alert faults are submitted
PROBES = "netpol: platform probe pods"
GENERATED_PROBES = "netpol: generated-case probe pods"


def _deviations() -> list[Deviation]:
    """The implementation's known deviations (platform/kind/netpol-deviations.yaml); one line if malformed."""
    try:
        return load_deviations()
    except UserError as exc:
        pytest.fail(str(exc), pytrace=False)


def _probes(stack: Stack, workloads: list[Workload]) -> ProbePods:
    pods = ProbePods(stack.cluster, workloads)
    try:
        seconds = pods.create()
    except AssertionError as exc:
        pods.delete()
        raise AssertionError(f"probe pods did not start: {exc}") from None
    print(f"\n{2 * len(workloads)} probe pods running after {seconds:.0f}s")
    return pods


@pytest.fixture(autouse=True)
def touched(request: pytest.FixtureRequest) -> None:
    """A failing test's diagnostics cover the probe pods' namespaces."""
    diagnostics.touch(request, *sorted({w.namespace for w in load_workloads(INTENT / "workloads.yaml")}))


def jobs(lanes: Lanes, stack: Stack, config: pytest.Config, artifacts: Path, items: list[pytest.Item]) -> list[Spec]:
    """The platform matrix and its two changes on one set of probe pods, holding the platform's
    traffic (the pods carry the apps' labels); then the generated cases, in namespaces of their own."""
    objects = load_manifests([MANIFESTS])
    workloads = load_workloads(INTENT / "workloads.yaml")
    tests = {
        "test_observed_matrix_equals_model": _observed_matrix_equals_model,
        "test_removing_an_allow_rule_changes_the_matrix_as_modelled": _removing_an_allow_rule,
        "test_broken_platform_policy_deleted_live_turns_the_verdict_red": _policy_deleted,
    }
    platform = [item for item in items if item.name in tests]
    generated = [item for item in items if item.name == "test_generated_cases_equal_model"]
    specs = []
    hold = (PLATFORM_TRAFFIC,), (APP_OBJECTS,)  # exclusive, shared
    if platform:
        specs.append(Spec(PROBES, functools.partial(_probes, stack, workloads), *hold))
        for item in platform:
            run = lanes.passing(PROBES, tests[item.name], stack, objects, workloads, artifacts)
            specs.append(Spec(item.nodeid, run, *hold, after=(PROBES,)))
        # Gone, not only deleted, before the apps' traffic is free: tearing 44 pods down beside a
        # blue-green run's first seconds stalled the node (the CNI's health said 500).
        gone = functools.partial(ProbePods.delete, wait=True)
        specs.append(Spec("netpol: delete the platform probe pods", lanes.passing(PROBES, gone), *hold,
                          after=tuple(s.name for s in specs)))  # fmt: skip
    for item in generated:
        # After the platform's probe pods (the generated cases' universe counts every pod of the
        # cluster), and after the blue-green runs, which share the cores with nothing this heavy.
        run = functools.partial(_generated_cases, stack.cluster, artifacts, config)
        specs.append(Spec(item.nodeid, run, exclusive=(CPU,), shared=(PLATFORM_TRAFFIC,), order=GENERATED_ORDER))
    return specs


def _await(lanes: Lanes, request: pytest.FixtureRequest) -> None:
    lanes.result(request.node.nodeid, JOB_TIMEOUT)


def test_observed_matrix_equals_model(lanes: Lanes, request: pytest.FixtureRequest) -> None:
    _await(lanes, request)


def test_removing_an_allow_rule_changes_the_matrix_as_modelled(lanes: Lanes, request: pytest.FixtureRequest) -> None:
    _await(lanes, request)


def test_broken_platform_policy_deleted_live_turns_the_verdict_red(
    lanes: Lanes, request: pytest.FixtureRequest
) -> None:
    """Deliberately broken platform: one NetworkPolicy deleted from the cluster (see _policy_deleted)."""
    _await(lanes, request)


def test_generated_cases_equal_model(lanes: Lanes, request: pytest.FixtureRequest) -> None:
    _await(lanes, request)


def _table(objects: list[dict[str, Any]], workloads: list[Workload]) -> dict[str, dict[str, bool]]:
    return Model.from_objects(objects).truth_table(workloads).as_table()


def _predicted(
    baseline: dict[str, dict[str, bool]], before: dict[str, dict[str, bool]], after: dict[str, dict[str, bool]]
) -> tuple[dict[str, dict[str, bool]], int]:
    """The live matrix expected after a change, and how many cells the model changes.

    `baseline` is the live matrix observed just before the change, with the model's changed cells
    (`before` -> `after`) applied: a cell where the cluster already disagrees with the model
    (reported by the matrix test) does not hide the change."""
    predicted = {src: dict(row) for src, row in baseline.items()}
    changed = [(s, d) for s, row in before.items() for d, v in row.items() if after[s][d] != v]
    for src, dst in changed:
        predicted[src][dst] = after[src][dst]
    return predicted, len(changed)


def _save(artifacts: Path, name: str, table: dict[str, dict[str, bool]]) -> None:
    (artifacts / name).write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")


def live_objects(stack: Stack) -> list[dict[str, Any]]:
    """The cluster's NetworkPolicies and Namespaces (what the implementation enforces), apart from
    the policies of the suite's own scratch namespaces: tests running meanwhile (a default deny in
    a throw-away namespace) are not the platform's drift, and select none of its pods."""
    items: list[dict[str, Any]] = json.loads(
        stack.kubectl("get", "networkpolicies,namespaces", "-A", "-o", "json").stdout
    )["items"]
    labels = {i["metadata"]["name"]: i["metadata"].get("labels") or {} for i in items if i["kind"] == "Namespace"}
    scratch = {name for name, found in labels.items() if found.get(ownership.SCRATCH) == "true"}
    return [i for i in items if not (i["kind"] == "NetworkPolicy" and i["metadata"]["namespace"] in scratch)]


def verdict(
    stack: Stack,
    objects: list[dict[str, Any]],
    workloads: list[Workload],
    observed: dict[str, dict[str, bool]],
    deviations: list[Deviation],
) -> Verdict:
    live = live_objects(stack)
    drift = policy_drift(objects, live, harness=list(HARNESS_POLICIES))
    return judge(_table(objects, workloads), observed, workloads, deviations=deviations, drift=drift,
                 live_objects=live)[0]  # fmt: skip


def _observed_matrix_equals_model(
    probes: ProbePods, stack: Stack, objects: list[dict[str, Any]], workloads: list[Workload], artifacts: Path
) -> None:
    deviations = _deviations()
    expected = _table(objects, workloads)
    cells = sum(len(row) for row in expected.values())
    # Known deviations are part of what "settled" means; the verdict below judges them.
    target = tolerating(expected, deviations)
    observed, seconds, rounds, equal = await_matrix(
        probes, target, timeout=SETTLE_BOUND, what="the live matrix to equal the model"
    )
    _save(artifacts, "netpol-expected.json", expected)
    _save(artifacts, "netpol-observed.json", observed)
    allowed = sum(v for row in expected.values() for v in row.values())
    print(f"\n{cells} cells ({allowed} allowed), {rounds} probe round(s), {seconds:.1f}s until settled={equal}")
    result = verdict(stack, objects, workloads, observed, deviations)
    print("\n".join(result.notes))
    assert result.ok, result.render()


def _ingress_rule_removals(objects: list[dict[str, Any]]) -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
    """(policy name, rule index, mutated objects) for each ingress rule of the test namespace."""
    for i, obj in enumerate(objects):
        if obj.get("kind") != "NetworkPolicy" or obj["metadata"].get("namespace") != MUTATED_NAMESPACE:
            continue
        for r in range(len(obj["spec"].get("ingress") or [])):
            mutated = copy.deepcopy(objects)
            del mutated[i]["spec"]["ingress"][r]
            yield obj["metadata"]["name"], r, mutated


def _policy(objects: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return strip_source(
        next(
            o
            for o in objects
            if o.get("kind") == "NetworkPolicy"
            and o["metadata"]["name"] == name
            and o["metadata"].get("namespace") == MUTATED_NAMESPACE
        )
    )


def _removing_an_allow_rule(
    probes: ProbePods, stack: Stack, objects: list[dict[str, Any]], workloads: list[Workload], artifacts: Path
) -> None:
    before = _table(objects, workloads)
    choice = next(
        ((name, r, mutated, after) for name, r, mutated in _ingress_rule_removals(objects)
         if (after := _table(mutated, workloads)) != before),
        None,
    )  # fmt: skip
    assert choice, f"no ingress rule in namespace {MUTATED_NAMESPACE} changes the model when removed"
    name, rule, mutated, after = choice
    baseline = probes.observe()
    predicted, changed = _predicted(baseline, before, after)
    print(f"\nremoving ingress rule #{rule} of {MUTATED_NAMESPACE}/{name}: the model changes {changed} cells")
    original, broken = _policy(objects, name), _policy(mutated, name)
    stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(broken))
    try:
        begun = time.monotonic()
        observed, seconds, rounds, equal = await_matrix(
            probes, predicted, timeout=CHANGE_BOUND, what=f"the matrix without rule #{rule} of {name}"
        )
        _save(artifacts, "netpol-observed-mutated.json", observed)
        print(f"matrix changed as modelled after {seconds:.1f}s ({rounds} rounds; bound {CHANGE_BOUND}s): {equal}")
        assert equal, (
            f"after removing ingress rule #{rule} of {MUTATED_NAMESPACE}/{name} the live matrix did not change as "
            f"the model predicts within {CHANGE_BOUND}s (expected: the matrix before, with the model's "
            f"{changed} changed cells):\n"
            + matrix_verdict(
                f"the model's matrix without rule #{rule} of {name}", predicted, observed, workloads
            ).render()
        )
    finally:
        stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(original))
    observed, seconds, rounds, equal = await_matrix(
        probes, baseline, timeout=CHANGE_BOUND, what=f"the matrix with rule #{rule} of {name} restored"
    )
    print(f"restored after {seconds:.1f}s ({time.monotonic() - begun:.1f}s since the removal): {equal}")
    assert equal, matrix_verdict("after restoring the rule, the matrix before", baseline, observed, workloads).render()


def _deletions(objects: list[dict[str, Any]], workloads: list[Workload]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """(policy name, objects without it) for each policy of the test namespace whose loss the model sees."""
    before = _table(objects, workloads)
    for i, obj in enumerate(objects):
        if obj.get("kind") == "NetworkPolicy" and obj["metadata"].get("namespace") == MUTATED_NAMESPACE:
            rest = objects[:i] + objects[i + 1 :]
            if _table(rest, workloads) != before:
                yield obj["metadata"]["name"], rest


def _policy_deleted(
    probes: ProbePods, stack: Stack, objects: list[dict[str, Any]], workloads: list[Workload], artifacts: Path
) -> None:
    """Deliberately broken platform: one NetworkPolicy deleted from the cluster.

    The matrix test's verdict must fail and name the deleted policy as the cause; the deletion
    is awaited as the model of the remaining policies predicts, then the policy is restored.
    """
    deviations = _deviations()
    name, rest = next(_deletions(objects, workloads), (None, None))
    assert name and rest, f"no NetworkPolicy in namespace {MUTATED_NAMESPACE} whose deletion the model sees"
    baseline = probes.observe()
    predicted, _changed = _predicted(baseline, _table(objects, workloads), _table(rest, workloads))
    original = _policy(objects, name)
    stack.kubectl("-n", MUTATED_NAMESPACE, "delete", "networkpolicy", name)
    try:
        observed, seconds, _rounds, equal = await_matrix(
            probes, predicted, timeout=CHANGE_BOUND, what=f"the matrix without NetworkPolicy {name}"
        )
        _save(artifacts, "netpol-observed-policy-deleted.json", observed)
        deleted = f"{MUTATED_NAMESPACE}/{name} deleted"
        assert equal, matrix_verdict(f"the model's matrix with {deleted}", predicted, observed, workloads).render()
        broken = verdict(stack, objects, workloads, observed, deviations)
        text = broken.render()
        print(f"\nverdict with {deleted} (after {seconds:.1f}s):\n{text}")
        assert not broken.ok, f"the verdict stayed green with NetworkPolicy {deleted}"
        named = f"NetworkPolicy {MUTATED_NAMESPACE}/{name} " in text and "missing from the cluster" in text
        assert named, f"the red verdict does not name the deleted policy:\n{text}"
    finally:
        stack.kubectl("apply", "--server-side", "--force-conflicts", "-f", "-", input=json.dumps(original))
    _observed, seconds, _rounds, equal = await_matrix(
        probes, baseline, timeout=CHANGE_BOUND, what=f"the matrix with {name} restored"
    )
    assert equal, f"after restoring {MUTATED_NAMESPACE}/{name} the live matrix is not what it was"


# ---------------------------------------------------------------- generated cases
# verification/models/netpol/generated.py: seeded NetworkPolicy cases over lanes of namespaces
# npg-<lane>-{x,y,z} with pods a/b. Each round applies one case per lane (a lane's cells depend on
# its own policies only), probes every lane's sources to its own destinations, and compares each
# lane with the model of its case. Mismatches are collected over every case and printed as grids
# with the case's policies; known deviations of the implementation are reported, never skipped.
# How many and from which: --netpol-cases and --netpol-offset (the root conftest.py).
# 12 probe pods per lane; the kubelet runs at most 110 pods per node and the stack holds ~25: at 8
# lanes (96 pods) the live run left 6 probe pods Pending on the one-node cluster.
GENERATED_LANES = int(os.environ.get("NETPOL_GENERATED_LANES", "6"))
GENERATED_PARALLEL = 12  # probe execs at once: each mostly waits for its 1 s timeouts (18 made rounds slower)
GENERATED_SETTLE = 30  # seconds for a batch's policies to show (two equal rounds in a row)


def _lanes_that_fit(cluster: Cluster) -> int:
    """GENERATED_LANES, or fewer when the schedulable nodes' free pod slots do not hold them: the
    matrix's 44 probe pods are still running (module fixture) and with them 6 lanes left 26 pods
    Pending. A tainted control-plane's slots do not count (on 2 nodes they left 21 Pending)."""
    free, _ = schedulable(cluster)
    nodes = [n for n in json.loads(cluster.kubectl("get", "nodes", "-o", "json").stdout)["items"]
             if n["metadata"]["name"] in free]  # fmt: skip
    slots = sum(int(node["status"]["allocatable"]["pods"]) for node in nodes)
    pods = json.loads(cluster.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
    used = sum(1 for pod in pods if pod["status"].get("phase") not in ("Succeeded", "Failed")
               and pod["spec"].get("nodeName") in (*free, None))  # fmt: skip
    pods_per_lane = 2 * len(gen.workloads(1))
    # 12: room for the stack's restarts and the blue-green runs' new pods, which run meanwhile
    lanes = min(GENERATED_LANES, (slots - used - 12) // pods_per_lane)
    if lanes < 1:
        raise UserError(f"no room for a generated-case lane: {used} of {slots} pod slots used on {len(nodes)} node(s)")
    return lanes


@contextmanager
def _generated_probes(cluster: Cluster) -> Iterator[ProbePods]:
    lanes = _lanes_that_fit(cluster)
    namespaces = gen.namespace_objects(lanes)
    names = [n["metadata"]["name"] for n in namespaces]
    for space in namespaces:  # no generated policy selects on this key; a killed run's lanes go first
        space["metadata"]["labels"][ownership.SCRATCH] = "true"
    cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": namespaces}))
    pods = ProbePods(
        cluster,
        gen.workloads(lanes),
        scope=lambda s, d: gen.lane_of(s.key) == gen.lane_of(d.key),
        parallel=GENERATED_PARALLEL,
    )
    try:
        seconds = pods.create(timeout=360)
        print(f"\n{2 * len(pods.workloads)} generated-case probe pods running after {seconds:.0f}s")
        yield pods
    finally:
        cluster.kubectl("delete", "namespace", *names, "--ignore-not-found", "--wait=false", check=False)


def _settle(
    probes: ProbePods, target: dict[str, dict[str, bool]]
) -> tuple[list[dict[str, dict[str, bool]]], float, bool]:
    """Probe until two rounds in a row equal `target` (a round equal in passing is not settled), or
    GENERATED_SETTLE seconds; returns every round observed, the seconds and whether it settled."""
    begun = time.monotonic()
    rounds: list[dict[str, dict[str, bool]]] = []
    while True:
        rounds.append(probes.observe())
        if rounds[-2:] == [target, target]:
            return rounds, time.monotonic() - begun, True
        if time.monotonic() - begun >= GENERATED_SETTLE:
            return rounds, time.monotonic() - begun, False
        time.sleep(1)


def _seen(rounds: list[dict[str, dict[str, bool]]], want: dict[str, dict[str, bool]], lane: int) -> str:
    """What the probe rounds of a batch showed for one lane: how long its cells held their last
    values and how many differed from `want` in each round, so a difference that stayed the same
    round after round (the implementation) reads apart from one still changing (timing)."""
    cells = [gen.lane_table(r, lane) for r in rounds]
    held = next((n for n in range(1, len(cells)) if cells[-1 - n] != cells[-1]), len(cells))
    differ = [sum(c[s][t] != v for s, row in want.items() for t, v in row.items()) for c in cells]
    return (
        f"{len(cells)} probe rounds; its cells held their last values over the last {held}; "
        f"cells differing from the model per round: {' '.join(map(str, differ))}"
    )


def _bystanders(cluster: Cluster, lanes: set[str]) -> tuple[list[Workload], list[dict[str, Any]]]:
    """Every pod outside the lanes that a NetworkPolicy controller sees (an address, not the host's
    network, still running) as a workload of its own, with its named container ports; and the
    Namespace objects outside the lanes."""
    pods = json.loads(cluster.kubectl("get", "pods", "-A", "-o", "json").stdout)["items"]
    found = [
        Workload(
            pod["metadata"]["namespace"],
            pod["metadata"]["name"],
            dict(pod["metadata"].get("labels") or {}),
            tuple(
                Port(port["containerPort"], port.get("protocol", "TCP"), port.get("name"))
                for container in pod["spec"]["containers"]
                for port in container.get("ports") or []
            ),
        )
        for pod in pods
        if pod["metadata"]["namespace"] not in lanes
        and pod["status"].get("podIP")
        and not pod["spec"].get("hostNetwork")
        and pod["status"].get("phase") not in ("Succeeded", "Failed")
    ]
    spaces = json.loads(cluster.kubectl("get", "namespaces", "-o", "json").stdout)["items"]
    return found, [n for n in spaces if n["metadata"]["name"] not in lanes]


def _delete_generated(cluster: Cluster) -> None:
    cluster.kubectl("delete", "networkpolicy", "-A", "-l", f"{gen.GENERATED_LABEL}=true", "--wait=true", timeout=60)


def _generated_cases(cluster: Cluster, artifacts: Path, pytestconfig: pytest.Config) -> None:
    deviations = _deviations()
    with _generated_probes(cluster) as probes:
        _run_generated(cluster, probes, deviations, artifacts, pytestconfig)


def _run_generated(
    cluster: Cluster,
    generated_probes: ProbePods,
    deviations: list[Deviation],
    artifacts: Path,
    pytestconfig: pytest.Config,
) -> None:
    lanes = len(generated_probes.workloads) // len(gen.workloads(1))  # what fitted on the nodes
    offset, count = pytestconfig.getoption("--netpol-offset"), pytestconfig.getoption("--netpol-cases")
    cases = gen.generate(offset + count, lanes)[offset:]
    addresses = generated_probes.addresses()
    workloads = gen.workloads(lanes, {k: v[0] for k, v in addresses.items()})
    classes = load_classes()
    # The classes ask which pods a rule's selectors select cluster-wide (the CNI resolves
    # named ports on them): every other pod and namespace of the cluster, as found now.
    bystanders, spaces = _bystanders(cluster, {w.namespace for w in workloads})
    hazards = [h for check in load_avoided() for h in cni.AVOIDED[check]([*workloads, *bystanders], workloads)]
    assert not hazards, "the generated universe meets an order-dependent behaviour of the CNI:\n" + "\n".join(hazards)
    namespace_labels = namespace_labels_from([*gen.namespace_objects(lanes), *spaces])
    results: list[dict[str, Any]] = []
    failures: list[str] = []
    known_cells = 0
    by_class: dict[str, int] = {}
    cells = 0
    begun = time.monotonic()
    for number, batch in enumerate(gen.batches(cases, lanes)):
        policies = {c.number: [gen.resolve(p, addresses) for p in c.policies] for c in batch}
        _delete_generated(cluster)
        items = [p for c in batch for p in policies[c.number]]
        cluster.kubectl("apply", "-f", "-", input=json.dumps({"apiVersion": "v1", "kind": "List", "items": items}))
        model = Model([parse_policy(p) for p in items], namespace_labels)
        full = model.truth_table(workloads).as_table()
        expected = {s: row for c in batch for s, row in gen.lane_table(full, c.lane).items()}
        # The implementation's documented behaviours (classes) predict cells the model denies.
        known = [*deviations, *class_deviations(model, [*workloads, *bystanders], expected, classes)]
        target = tolerating(expected, known)
        rounds, seconds, settled = _settle(generated_probes, target)
        observed = rounds[-1]
        for case in batch:
            want = gen.lane_table(expected, case.lane)
            have = gen.lane_table(observed, case.lane)
            lane_workloads = [w for w in workloads if gen.lane_of(w.key) == case.lane]
            result, seen = judge(want, have, lane_workloads, deviations=known, policies=f"{case.name}'s")
            for d in seen:
                by_class[d.implementation] = by_class.get(d.implementation, 0) + 1
            n = sum(len(row) for row in want.values())
            cells += n
            known_cells += len(seen)
            results.append({
                "case": case.name, "lane": case.lane, "cells": n, "ok": result.ok, "settled_seconds": round(seconds, 1),
                "features": sorted(case.features()), "policies": policies[case.number],
                "known": [d.cell for d in seen],
                "unexplained": [f"{s} -> {t}" for s, row in want.items() for t in row if have[s][t] != target[s][t]],
            })  # fmt: skip
            if not result.ok:
                failures.append(
                    f"{case.name} (lane {case.lane}, batch {number}; settled={settled} after {seconds:.0f}s: "
                    f"{_seen(rounds, gen.lane_table(target, case.lane), case.lane)}):\n"
                    + yaml.safe_dump_all(policies[case.number], sort_keys=False)
                    + result.render()
                )
    _delete_generated(cluster)
    (artifacts / "netpol-generated.jsonl").write_text("".join(json.dumps(r) + "\n" for r in results))
    mismatching = sum(not r["ok"] for r in results)
    print(
        f"\ngenerated NetworkPolicy cases {cases[0].name}..{cases[-1].name}: {len(cases)} cases "
        f"in {len(gen.batches(cases, lanes))} batches of {lanes} lanes, "
        f"{cells} cells, {mismatching} cases with mismatches "
        f"({sum(len(r['unexplained']) for r in results)} cells unexplained, {known_cells} known deviations), "
        f"{time.monotonic() - begun:.0f}s"
    )
    for name, count in sorted(by_class.items()):
        print(f"  known deviation {name}: {count} cells (platform/kind/netpol-deviations.yaml)")
    features = sorted({f for c in cases for f in c.features()})
    print(f"  features exercised: {', '.join(features)}")
    assert not failures, f"{len(failures)} generated cases differ from the model:\n\n" + "\n\n".join(failures[:10])
