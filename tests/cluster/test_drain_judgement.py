"""The drain e2e's judgement (verification/e2e/test_drain_live.py), without a cluster: which nodes
count as schedulable, when a colour fell below its PodDisruptionBudget, when a drain had to wait."""

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from verification.cluster import cluster as providers
from verification.e2e import test_drain_live as drain
from verification.load import Event, LoadConfig, LoadResult, Record

S = 1_000_000_000
BUDGETS = {"a-blue": 1, "a-green": 1}


def sample(t: int, blue: list[str], green: list[str]) -> drain.Sample:
    nodes = {"a-blue": sorted(blue), "a-green": sorted(green)}
    return drain.Sample(t * S, {k: len(v) for k, v in nodes.items()}, nodes)


def drained(node: str, start: int, seconds: float, before: drain.Sample, output: str = "") -> drain.Drain:
    return drain.Drain(node, start * S, seconds, 0, output, before)


REFUSED = (  # what kubectl drain prints when the eviction API answers 429 for a budget
    'error when evicting pods/"a-blue-x" -n "test" (will retry after 5s): '
    "Cannot evict pod as it would violate the pod's disruption budget."
)


def test_a_colour_below_its_budget_during_a_drain_is_named() -> None:
    before = sample(0, ["w1", "w2"], ["w1", "w2"])
    samples = [before, sample(1, ["w2"], ["w2"]), sample(2, [], ["w2"]), sample(9, [], [])]  # t=9: after the drain
    problems = drain.budget_problems(samples, BUDGETS, [drained("w1", 0, 5, before)])
    assert problems == ["a-blue: 0 healthy pod(s) during a drain, its budget demands 1 (1 of 3 samples below; then: -)"]


def test_pods_spread_over_nodes_need_no_wait_and_hold_the_budget() -> None:
    before = sample(0, ["w1", "w2"], ["w1", "w2"])
    one = drained("w1", 0, 5, before)
    assert one.cornered(BUDGETS) == []
    assert drain.budget_problems([before, sample(1, ["w2"], ["w2"])], BUDGETS, [one]) == []


def test_a_drain_that_held_every_pod_of_a_colour_must_have_waited() -> None:
    before = sample(0, ["w2", "w2"], ["w1", "w2"])
    quiet = drained("w2", 0, 5, before)
    assert quiet.cornered(BUDGETS) == ["a-blue"]
    problems = drain.budget_problems([before, sample(1, ["w2"], ["w1"])], BUDGETS, [quiet])
    assert len(problems) == 1 and "drain of w2: it held more pods of a-blue" in problems[0]
    waited = drained("w2", 0, 5, before, REFUSED)
    assert waited.refused == 1
    assert drain.budget_problems([before, sample(1, ["w2"], ["w1"])], BUDGETS, [waited]) == []


def test_no_sample_during_the_drains_is_not_a_pass() -> None:
    before = sample(0, ["w1", "w2"], ["w1", "w2"])
    problems = drain.budget_problems([sample(20, ["w2"], ["w2"])], BUDGETS, [drained("w1", 1, 5, before)])
    assert problems == ["no sample of the pods was taken while a node drained: nothing shows the budgets held"]


def _pod(name: str, labels: dict[str, str], node: str, ready: bool, deleting: bool = False) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "labels": labels}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status = {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}
    return {"metadata": meta, "spec": {"nodeName": node}, "status": status}


class FakeStack:
    namespace = "test"

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(list(args), 0, json.dumps(self.answer), "")


def test_healthy_pods_are_counted_as_the_disruption_controller_does(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(drain, "APPS", ("a",))
    blue = {"app.kubernetes.io/name": "a", "color": "blue"}
    pods = [
        _pod("a-blue-1", blue, "w1", ready=True),
        _pod("a-blue-2", blue, "w2", ready=True, deleting=True),  # evicted, still Ready: not counted
        _pod("a-blue-3", blue, "w2", ready=False),
        _pod("other", {"app.kubernetes.io/name": "b", "color": "blue"}, "w1", ready=True),
    ]
    seen = drain.observe(FakeStack({"items": pods}))  # type: ignore[arg-type]  # the kubectl it calls only
    assert seen.healthy == {"a-blue": 1, "a-green": 0}
    assert seen.nodes == {"a-blue": ["w1"], "a-green": []}
    assert seen.unhealthy == {"a-blue": ["a-blue-2 on w2: terminating", "a-blue-3 on w2: not Ready"], "a-green": []}


def test_schedulable_nodes_leave_out_tainted_and_cordoned_ones() -> None:
    def node(name: str, taints: list[dict[str, str]] | None = None, cordoned: bool = False) -> dict[str, Any]:
        return {"metadata": {"name": name}, "spec": {"taints": taints or [], "unschedulable": cordoned}}

    items = [
        node("cp", [{"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}]),
        node("w1"),
        node("w2", cordoned=True),
        node("w3", [{"key": "x", "effect": "PreferNoSchedule"}]),
    ]
    assert providers.schedulable(FakeStack({"items": items})) == (["w1", "w3"], 4)  # type: ignore[arg-type]


def test_timeline_text_shows_the_bins_around_events_and_failures() -> None:
    start = 1_000 * S

    def rec(seq: int, at: float, version: str | None, status: int | None = 200) -> Record:
        return Record(seq, start + int(at * S), start + int(at * S), 1_000_000, status, None, version)

    records = [rec(i, i * 0.5, "1" if i < 40 else "2") for i in range(80)]
    records.append(rec(80, 30.2, None, status=None))
    result = LoadResult(LoadConfig("http://x/", 2, 40), records, [Event("switch", start + 20 * S)], start)
    text = drain.timeline_text(result, around_s=1)
    rows = {line.split()[0]: line for line in text.splitlines()[1:]}
    assert sorted(rows, key=float) == ["19", "20", "21", "29", "30", "31"]
    assert rows["20"].split()[-1] == "switch"
    assert rows["30"].split()[1:] == ["0", "2", "1"]  # version 1: 0/s, version 2: 2/s, failed: 1/s


def test_drain_module_skips_with_the_option_named(monkeypatch: pytest.MonkeyPatch) -> None:
    """On one node the test is skipped, and the reason says how to run it."""
    from verification.cluster.cluster import Cluster

    cluster = Cluster("platform-e2e", Path("k"), "kind", "build")
    items = {"items": [{"metadata": {"name": "cp"}, "spec": {}}]}
    monkeypatch.setattr(Cluster, "kubectl", lambda self, *a, **k: subprocess.CompletedProcess(a, 0, json.dumps(items)))
    with pytest.raises(pytest.skip.Exception, match=r"has 1 of 1 node\(s\): run with --nodes 3"):
        drain.workers.__wrapped__(cluster)  # type: ignore[attr-defined]  # the fixture's function
