"""A node drained during a blue-green switch, under load, on a cluster of several nodes.

Needs two schedulable nodes: `--nodes 3` (one control-plane, which keeps its NoSchedule taint,
and two workers); on fewer the test is skipped and says why (a skip is not a pass). Only on a
kind cluster the suite made: it drains nodes, which a cluster built elsewhere may not allow.

One app runs under load (the other under light load) while the orchestrator (verification.bluegreen)
switches it to a new version; the moment the flip reaches the cluster, the node holding a pod of
the colour that was active is drained (`kubectl drain --ignore-daemonsets --delete-emptydir-data`).
Once the evicted pods run again elsewhere the node is uncordoned, and the other worker, which then
holds every pod of both colours, is drained too: now only the PodDisruptionBudgets keep a colour
from losing both pods at once, so the drain must wait for each replacement (kubectl prints the
refused evictions). Asserted: zero failed requests on both apps; at every sample (every ~0.5 s)
each colour kept at least the healthy pods its PodDisruptionBudget demands (ready, not
terminating: the disruption controller's own count); a drain that would otherwise have evicted a
colour's last healthy pods waited. On failure the request timeline is printed around each event.
"""

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from verification.bluegreen.orchestrator import Outcome, connect
from verification.cluster.cluster import Cluster, schedulable
from verification.e2e.concurrent import EVERYTHING, Lanes
from verification.e2e.stack import APPS, PROFILE, Stack
from verification.errors import VerificationError
from verification.load import LoadConfig, LoadResult, LoadRun, background
from verification.load.plot import timeline
from verification.models.delivery import chart

RATE = 40  # requests per second on the app switched (2 shared cores)
OTHER_RATE = 10
DRAIN_TIMEOUT = 180  # seconds kubectl drain may take (--timeout), each drain
SAMPLE_SECONDS = 0.5
PDB_REFUSED = "would violate the pod's disruption budget"
RUN_ID = int(time.time()) % 100000


@pytest.fixture
def workers(cluster: Cluster) -> list[str]:
    """The schedulable nodes, or a skip saying what is missing (asked before the stack deploys)."""
    if cluster.provider != "kind":
        reason = "drains nodes: only on a kind cluster the suite made (--cluster kind --nodes 3)"
        print(f"\nSKIPPED: {reason}")
        pytest.skip(reason)
    free, total = schedulable(cluster)
    if len(free) < 2:
        reason = (
            f"a drain needs 2 schedulable nodes to move pods to; cluster {cluster.name!r} has {len(free)} "
            f"of {total} node(s): run with --nodes 3 (one control-plane, two workers) and a --cluster-name "
            "of its own"
        )
        print(f"\nSKIPPED: {reason}")
        pytest.skip(reason)
    return free


@dataclass
class Sample:
    time_ns: int
    healthy: dict[str, int]  # "<app>-<colour>" -> pods Ready and not terminating
    nodes: dict[str, list[str]]  # "<app>-<colour>" -> nodes of those pods
    # "<app>-<colour>" -> its other pods, "name on node: terminating|not Ready": why a colour is short
    unhealthy: dict[str, list[str]] = field(default_factory=dict)


def _healthy(pod: dict[str, Any]) -> bool:
    """As the disruption controller counts a pod for its budget: Ready and not being deleted."""
    if pod["metadata"].get("deletionTimestamp"):
        return False
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod.get("status", {}).get("conditions") or [])


def observe(stack: Stack) -> Sample:
    pods = json.loads(stack.kubectl("-n", stack.namespace, "get", "pods", "-o", "json").stdout)["items"]
    healthy = {f"{app}-{color}": 0 for app in APPS for color in chart.COLORS}
    nodes: dict[str, list[str]] = {key: [] for key in healthy}
    unhealthy: dict[str, list[str]] = {key: [] for key in healthy}
    for pod in pods:
        labels = pod["metadata"].get("labels") or {}
        key = f"{labels.get('app.kubernetes.io/name')}-{labels.get('color')}"
        if key not in healthy:
            continue
        node = pod["spec"].get("nodeName", "unscheduled")
        if _healthy(pod):
            healthy[key] += 1
            nodes[key].append(node)
        else:
            why = "terminating" if pod["metadata"].get("deletionTimestamp") else "not Ready"
            unhealthy[key].append(f"{pod['metadata']['name']} on {node}: {why}")
    return Sample(time.time_ns(), healthy, {k: sorted(v) for k, v in nodes.items()}, unhealthy)


def budgets(stack: Stack) -> dict[str, int]:
    """<app>-<colour> -> healthy pods its PodDisruptionBudget demands (status.desiredHealthy)."""
    items = json.loads(stack.kubectl("-n", stack.namespace, "get", "pdb", "-o", "json").stdout)["items"]
    return {i["metadata"]["name"]: int(i.get("status", {}).get("desiredHealthy", 0)) for i in items}


@dataclass
class Sampler:
    """Samples the healthy pods of every colour in a thread until stopped."""

    stack: Stack
    samples: list[Sample] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                self.samples.append(observe(self.stack))
            except Exception as exc:  # noqa: BLE001 - kept and reported; a sample lost is not a pass
                self.errors.append(str(exc)[:200])
            self._stop.wait(SAMPLE_SECONDS)

    def stop(self) -> None:
        self._stop.set()


@dataclass
class Drain:
    node: str
    started_ns: int = 0
    seconds: float = 0.0
    returncode: int | None = None
    output: str = ""
    before: Sample | None = None  # where the pods were when the drain began

    @property
    def refused(self) -> int:
        """Evictions the API server refused for a PodDisruptionBudget (kubectl retries them)."""
        return self.output.count(PDB_REFUSED)

    def cornered(self, desired: dict[str, int]) -> list[str]:
        """Colours with more healthy pods on this node, when it began, than their budgets let go at
        once: kubectl evicts a node's pods together, so the eviction API must refuse some of them."""
        if self.before is None:
            return []
        return [k for k, nodes in self.before.nodes.items() if nodes.count(self.node) > len(nodes) - desired.get(k, 0)]

    def run(self, stack: Stack) -> None:
        try:
            self._run(stack)
        except Exception as exc:  # noqa: BLE001 - in a thread: kept for the verdict, never lost
            self.returncode, self.output = -1, f"{self.output}\n{type(exc).__name__}: {exc}"

    def _run(self, stack: Stack) -> None:
        self.before = observe(stack)
        self.started_ns = time.time_ns()
        begun = time.monotonic()
        proc = stack.kubectl(
            "drain",
            self.node,
            "--ignore-daemonsets",
            "--delete-emptydir-data",
            f"--timeout={DRAIN_TIMEOUT}s",
            check=False,
            timeout=DRAIN_TIMEOUT + 30,
        )
        self.seconds = time.monotonic() - begun
        self.returncode = proc.returncode
        self.output = proc.stdout + proc.stderr


def _uncordon(stack: Stack, node: str) -> None:
    stack.kubectl("uncordon", node, check=False)


def _rolled_out(stack: Stack) -> None:
    for app in APPS:
        for color in chart.COLORS:
            stack.kubectl(
                "-n", stack.namespace, "rollout", "status", f"deployment/{app}-{color}", "--timeout=180s", timeout=200
            )


def budget_problems(samples: list[Sample], desired: dict[str, int], drains: list[Drain]) -> list[str]:
    """Colours that fell below their budget while a node drained; drains that should have waited."""
    problems = []
    windows = [(d.started_ns, d.started_ns + int(d.seconds * 1e9)) for d in drains]
    during = [s for s in samples if any(a <= s.time_ns <= b for a, b in windows)]
    if not during:
        problems.append("no sample of the pods was taken while a node drained: nothing shows the budgets held")
    for key, want in sorted(desired.items()):
        low = [s for s in during if s.healthy.get(key, 0) < want]
        if low:
            worst = min(low, key=lambda s: s.healthy[key])
            problems.append(
                f"{key}: {worst.healthy[key]} healthy pod(s) during a drain, its budget demands {want} "
                f"({len(low)} of {len(during)} samples below; then: {', '.join(worst.unhealthy.get(key, [])) or '-'})"
            )
    for drain in drains:
        cornered = drain.cornered(desired)
        if cornered and not drain.refused:
            problems.append(
                f"drain of {drain.node}: it held more pods of {', '.join(cornered)} than their "
                "budgets let go at once, yet no eviction was refused (the budget did not wait)"
            )
    return problems


def timeline_text(result: LoadResult, around_s: float = 3.0) -> str:
    """The request timeline (1 s bins) around each event and each failure: what the PNG shows."""
    data = timeline(result.records, result.events, start_ns=result.started_ns, bin_s=1.0)
    versions = sorted(data.by_version)
    keep = {t for t, _ in data.events} | {data.t[i] for i, f in enumerate(data.failed) if f}
    lines = ["  t(s)  " + "  ".join(f"{v:>10}" for v in versions) + "   failed  events"]
    for i, t in enumerate(data.t):
        if not any(abs(t - k) <= around_s for k in keep):
            continue
        names = [n for et, n in data.events if t <= et < t + data.bin_s]
        counts = "  ".join(f"{data.by_version[v][i]:>10.0f}" for v in versions)
        lines.append(f"{t:6.0f}  {counts}   {data.failed[i]:6.0f}  {', '.join(names)}")
    return "\n".join(lines)


def _node_of_active_pod(sample: Sample, app: str, active: str) -> str:
    nodes = sample.nodes[f"{app}-{active}"]
    assert nodes, f"no healthy pod of {app}-{active} to drain the node of"
    return nodes[0]


AFTER_JOBS = True  # runs once every job has finished (verification/e2e/conftest.py)


@pytest.fixture
def alone(lanes: Lanes, request: pytest.FixtureRequest) -> Iterator[None]:
    """A drain moves every pod of a node: no job runs meanwhile."""
    with lanes.hold(request.node.nodeid, exclusive=[EVERYTHING]):
        yield


@pytest.fixture
def sampler(stack: Stack, alone: None) -> Iterator[Sampler]:
    found = Sampler(stack)
    thread = threading.Thread(target=found.run, name="pdb-sampler", daemon=True)
    thread.start()
    yield found
    found.stop()
    thread.join(10)


def _scenario(stack: Stack, app: str, version: str, workers: list[str], load: LoadRun, drains: list[Drain]) -> Outcome:
    """Deploy to the idle colour, switch, and drain while the flip lands; then drain the other worker."""
    threads: list[threading.Thread] = []
    was_active: list[str] = []

    def on_event(name: str) -> None:
        load.mark(name)
        if name == "switch" and not drains:  # the flip reached the cluster: drain now
            drain = Drain(_node_of_active_pod(observe(stack), app, was_active[0]))
            drains.append(drain)
            load.mark(f"drain {drain.node}")
            threads.append(threading.Thread(target=drain.run, args=(stack,), name="drain", daemon=True))
            threads[-1].start()

    orch = connect(
        app, PROFILE, namespace=stack.namespace, kubeconfig=stack.kubeconfig, url=stack.url(app), on_event=on_event
    )
    load.dwell(time.time_ns() + 1_000_000_000, "1 s of load before the deploy")
    load.mark("deploy")
    state = orch.state()
    tag = state.colours[state.active or "blue"].tag or "1.0.0"
    orch.deploy(version, tag, stack.digest(app, tag))
    was_active.append(orch.state().active or "")
    outcome = orch.switch(expect_version=version)
    assert threads, "the switch never signalled its flip: no node was drained"
    threads[0].join(DRAIN_TIMEOUT + 60)
    first = drains[0]
    load.mark(f"drained {first.node}")
    if first.returncode != 0:
        return outcome  # the verdict reports it; a second drain would prove nothing more
    _rolled_out(stack)  # the evicted pods run again on the other node(s)
    _uncordon(stack, first.node)
    load.mark(f"uncordon {first.node}")
    # With two workers the other one now holds every pod of both apps: only the budgets keep each
    # colour serving while it drains (budget_problems checks that it had to wait).
    second = Drain(next(n for n in workers if n != first.node))
    drains.append(second)
    load.mark(f"drain {second.node}")
    second.run(stack)
    load.mark(f"drained {second.node}")
    _rolled_out(stack)
    _uncordon(stack, second.node)
    load.mark(f"uncordon {second.node}")
    bound = orch.convergence_bound()
    load.dwell(time.time_ns() + int((bound + 1) * 1e9), f"{bound + 1:.0f}s of load after the drains")
    load.mark("end")
    return outcome


@pytest.mark.parametrize("app", APPS[:1])
def test_node_drained_during_switch_loses_no_request(
    workers: list[str], stack: Stack, sampler: Sampler, app: str, artifacts: Path
) -> None:
    out = artifacts / "drain"
    other = next(a for a in APPS if a != app)
    desired = budgets(stack)
    assert desired, "no PodDisruptionBudget in the app namespace"
    drains: list[Drain] = []
    outcome: Outcome | None = None
    aborted = ""
    main_cfg = LoadConfig(stack.url(app) + "/", rate=RATE, duration=900, concurrency=16, keepalive=True)
    other_cfg = LoadConfig(stack.url(other) + "/", rate=OTHER_RATE, duration=900, concurrency=4, keepalive=True)
    try:
        with (
            background(other_cfg, out / f"other-{other}", stop_on_exit=True) as other_load,
            background(main_cfg, out / app, stop_on_exit=True) as load,
        ):
            try:
                outcome = _scenario(stack, app, f"1.{RUN_ID}.7", workers, load, drains)
            except (VerificationError, AssertionError) as exc:  # judged below with the request log
                aborted = f"the scenario stopped: {exc}"
                load.mark("aborted")
    finally:
        for drain in drains:
            _uncordon(stack, drain.node)
    sampler.stop()
    result, other_result = load.result, other_load.result
    assert result is not None and other_result is not None
    summary, other_summary = result.summary(), other_result.summary()
    lowest = {k: min((x.healthy[k] for x in sampler.samples), default=-1) for k in desired}
    switched = f"{outcome.active_before} -> {outcome.active_after} in {outcome.seconds:.1f}s" if outcome else "none"
    report = [
        f"{app}: {summary.sent} requests, {summary.failed} failed, versions {summary.by_version}, latency "
        f"{summary.latency_ms}; switch {switched}",
        f"{other} (other app): {other_summary.sent} requests, {other_summary.failed} failed",
    ]
    for d in drains:
        report.append(
            f"drain {d.node}: exit {d.returncode} in {d.seconds:.1f}s, {d.refused} eviction(s) refused for a "
            f"PodDisruptionBudget, budget-bound colours {d.cornered(desired) or 'none'}; healthy pods' nodes "
            f"before: {d.before and d.before.nodes}"
        )
    report.append(
        f"pod samples: {len(sampler.samples)} ({len(sampler.errors)} failed to read); lowest healthy "
        "(-1: never sampled) / budget: " + ", ".join(f"{k} {lowest[k]}/{v}" for k, v in desired.items())
    )
    report.append(f"files: {result.files.get('plot')}")
    print("\n" + "\n".join(report))
    problems = [aborted] if aborted else []
    problems += [
        f"drain of {d.node} failed (exit {d.returncode}): {d.output.strip()[-600:]}"
        for d in drains
        if d.returncode != 0
    ]
    if summary.failed:
        problems.append(f"{app}: {summary.failed} failed requests ({summary.errors_by_kind})")
    if other_summary.failed:
        problems.append(f"{other}: {other_summary.failed} failed requests ({other_summary.errors_by_kind})")
    problems += budget_problems(sampler.samples, desired, drains)
    record = [
        {
            "node": d.node,
            "seconds": round(d.seconds, 1),
            "exit": d.returncode,
            "refused": d.refused,
            "cornered": d.cornered(desired),
            "pods_before": d.before and d.before.nodes,
            "output": d.output,
        }
        for d in drains
    ]
    (out / "drains.json").write_text(json.dumps(record, indent=1) + "\n")
    (out / "pod-samples.jsonl").write_text("".join(json.dumps(vars(x)) + "\n" for x in sampler.samples))
    if problems:
        print(f"\n{app} request timeline around the events and failures:\n{timeline_text(result)}")
        print(f"\n{other} request timeline:\n{timeline_text(other_result)}")
    assert not problems, "\n".join(problems)
