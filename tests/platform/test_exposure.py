"""Exposure model: node ports counted like the API server does, quotas equal to the need."""

from typing import Any

from verification.models.workloads import exposure


def _service(kind: str, ports: int, ns: str = "edge", **extra: Any) -> dict[str, Any]:
    meta = {"name": "s", "namespace": ns, "annotations": extra.pop("annotations", {})}
    return {
        "kind": "Service",
        "metadata": meta,
        "spec": {"type": kind, "ports": [{"port": p} for p in range(ports)], **extra},
    }


def _quota(ns: str, nodeports: str, lbs: str = "0") -> dict[str, Any]:
    hard = {"services.nodeports": nodeports, "services.loadbalancers": lbs}
    return {
        "kind": "ResourceQuota",
        "metadata": {"name": "compute", "namespace": ns, "annotations": {}},
        "spec": {"hard": hard},
    }


def test_node_ports_per_type() -> None:
    assert exposure.node_ports(_service("ClusterIP", 2)) == 0
    assert exposure.node_ports(_service("NodePort", 2)) == 2
    assert exposure.node_ports(_service("LoadBalancer", 2)) == 2
    assert exposure.node_ports(_service("LoadBalancer", 2, allocateLoadBalancerNodePorts=False)) == 0


def test_quota_must_equal_the_need() -> None:
    edge = _service("LoadBalancer", 2, annotations={exposure.EXPOSURE_ANNOTATION: "the edge"})
    assert exposure.check_production([edge, _quota("edge", "2", "1"), _quota("apps", "0")]) == []
    (spare,) = exposure.check_production([edge, _quota("edge", "2", "1"), _quota("apps", "4")])
    assert "quota apps/compute allows services.nodeports=4, its exposed Services need 0" in spare
    (short,) = exposure.check_production([edge, _quota("edge", "1", "1")])
    assert "allows services.nodeports=1, its exposed Services need 2" in short


def test_exposed_service_needs_a_reason_and_quota_keys_are_required() -> None:
    problems = exposure.check_production([_service("NodePort", 1, ns="apps"), _quota("apps", "1")])
    assert any("without annotation platform.io/exposure" in p for p in problems)
    unlimited = {
        "kind": "ResourceQuota",
        "metadata": {"name": "q", "namespace": "x", "annotations": {}},
        "spec": {"hard": {}},
    }
    assert any("does not limit services.nodeports" in p for p in exposure.check_production([unlimited]))


def test_overlay_equals_the_profile_need() -> None:
    rendered = [
        _service("NodePort", 2, ns="test"),
        _service("NodePort", 2, ns="test"),
        _service("ClusterIP", 2, ns="test"),
    ]
    assert exposure.check_overlay({"namespace": "test", "quota": {"services.nodeports": "4"}}, "o", rendered) == []
    (problem,) = exposure.check_overlay({"namespace": "test", "quota": {"services.nodeports": "6"}}, "o", rendered)
    assert "quota services.nodeports=6 in test, the profile's Services need 4" in problem
    assert exposure.check_overlay({"namespace": "test"}, "o", rendered)  # no overlay: the need is unmet
