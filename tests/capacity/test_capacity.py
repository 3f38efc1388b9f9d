"""The capacity model on hand-written renders and namespaces (figures checked by hand)."""

from typing import Any

import pytest

from verification.models.delivery.chart import Render
from verification.models.workloads import capacity


def _deployment(name: str, replicas: int = 2, surge: Any = 1, strategy: str = "RollingUpdate") -> dict[str, Any]:
    spec: dict[str, Any] = {"replicas": replicas, "strategy": {"type": strategy}}
    if strategy == "RollingUpdate":
        spec["strategy"]["rollingUpdate"] = {"maxSurge": surge, "maxUnavailable": 0}
    resources = {"requests": {"cpu": "100m", "memory": "96Mi"}, "limits": {"cpu": "1", "memory": "256Mi"}}
    spec["template"] = {"spec": {"containers": [{"name": "app", "resources": resources}]}}
    return {"kind": "Deployment", "metadata": {"name": name}, "spec": spec}


def _render(*objects: dict[str, Any], env: str = "staging") -> Render:
    return Render("app", env, "blue", "staging", tuple(objects))


def _quota(**hard: str) -> dict[str, Any]:
    hard = {k.replace("_", "."): v for k, v in hard.items()}
    return {"kind": "ResourceQuota", "metadata": {"name": "q", "namespace": "staging"}, "spec": {"hard": hard}}


@pytest.mark.parametrize(
    ("text", "value"),
    [("500m", 0.5), ("1", 1.0), ("2.5", 2.5), ("64Mi", 64 * 2**20), ("2Gi", 2 * 2**30), ("1k", 1000.0), ("0", 0.0)],
)
def test_quantity(text: str, value: float) -> None:
    assert capacity.quantity(text) == value


def test_quantity_rejects_what_kubernetes_rejects() -> None:
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        capacity.quantity("1.2.3")


def test_peak_demand_counts_replicas_plus_surge_of_every_deployment() -> None:
    render = _render(
        _deployment("app-blue"), _deployment("app-green", surge="25%"), _deployment("x", 3, strategy="Recreate")
    )
    demand = capacity.peak_demand([render])
    # blue 2+1, green 2+ceil(0.5)=3, x 3+0: 9 pods at 100m/96Mi requests and 1/256Mi limits
    assert demand["pods"] == 9
    assert demand["requests.cpu"] == pytest.approx(0.9)
    assert demand["requests.memory"] == 9 * 96 * 2**20
    assert demand["limits.cpu"] == pytest.approx(9.0)
    assert demand["limits.memory"] == 9 * 256 * 2**20


def test_quota_below_the_peak_is_named_per_key() -> None:
    render = _render(_deployment("app-blue"), _deployment("app-green"))  # 6 pods: 600m, 576Mi, 6 cores, 1536Mi
    objects = [_quota(requests_cpu="500m", requests_memory="1Gi", limits_cpu="6", limits_memory="1Gi", pods="6")]
    problems = capacity.check_namespace(objects, "staging", [render])
    assert [p.split(":")[1].split(" is below")[0].strip() for p in problems] == [
        "ResourceQuota requests.cpu 500m",
        "ResourceQuota limits.memory 1Gi",
    ]
    assert "600m that app (staging) need" in problems[0]


def test_limit_range_max_below_a_limit_and_min_above_a_request() -> None:
    limit_range = {
        "kind": "LimitRange",
        "metadata": {"name": "l", "namespace": "staging"},
        "spec": {"limits": [{"type": "Container", "max": {"memory": "128Mi", "cpu": "2"}, "min": {"cpu": "200m"}}]},
    }
    problems = capacity.check_namespace([limit_range], "staging", [_render(_deployment("app-blue"))])
    assert problems == [
        "namespace staging: LimitRange max memory 128Mi is below Deployment app-blue container app's limits 256Mi: "
        "the pod is refused",
        "namespace staging: LimitRange min cpu 200m is above Deployment app-blue container app's request 100m",
    ]
