"""Namespace guardrails against what the charts render: the quota and LimitRange must admit the apps
at a rollout's peak, from the requests and limits every container states.

A quota that is too small is no guardrail but an outage: a rollout's surge pods are refused and
the deploy hangs; a LimitRange max below a container's limit refuses the pod outright. (Exposure
allowances, services.nodeports and services.loadbalancers, are models/workloads/exposure.py's.)
"""

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from verification.models.delivery.chart import Render, containers

COMPUTE_KEYS = ("pods", "requests.cpu", "requests.memory", "limits.cpu", "limits.memory")
_SUFFIX = {
    "m": 1e-3,
    "": 1.0,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
}
_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)(m|k|M|G|T|Ki|Mi|Gi|Ti)?$")


def quantity(value: Any) -> float:
    """A Kubernetes quantity (`500m`, `1`, `64Mi`, `2Gi`) as a number (cores, bytes, count)."""
    found = _QUANTITY.match(str(value).strip())
    if not found:
        raise ValueError(f"not a Kubernetes quantity: {value!r}")
    return float(found[1]) * _SUFFIX[found[2] or ""]


def _surge(deployment: Mapping[str, Any]) -> int:
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    strategy = spec.get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    surge = (strategy.get("rollingUpdate") or {}).get("maxSurge", "25%")
    if isinstance(surge, str) and surge.endswith("%"):
        return math.ceil(replicas * int(surge[:-1]) / 100)  # Kubernetes rounds maxSurge up
    return int(surge)


def peak_demand(renders: Iterable[Render]) -> dict[str, float]:
    """Pods and compute of every Deployment at full surge (a chart change rolls both colours at once)."""
    demand = dict.fromkeys(COMPUTE_KEYS, 0.0)
    for render in renders:
        for deployment in render.of_kind("Deployment"):
            pods = int((deployment.get("spec") or {}).get("replicas", 1)) + _surge(deployment)
            demand["pods"] += pods
            for container in containers(deployment):
                resources = container.get("resources") or {}
                for kind in ("requests", "limits"):
                    for resource in ("cpu", "memory"):
                        value = (resources.get(kind) or {}).get(resource)
                        if value is not None:
                            demand[f"{kind}.{resource}"] += pods * quantity(value)
    return demand


def _of(objects: Sequence[Mapping[str, Any]], kind: str, namespace: str) -> list[Mapping[str, Any]]:
    return [o for o in objects if o.get("kind") == kind and (o.get("metadata") or {}).get("namespace") == namespace]


def _format(key: str, value: float) -> str:
    if key.endswith("memory"):
        return f"{value / 2**20:.0f}Mi"
    if key.endswith("cpu"):
        return f"{value * 1000:.0f}m"
    return f"{value:.0f}"


def check_namespace(objects: Sequence[Mapping[str, Any]], namespace: str, renders: Sequence[Render]) -> list[str]:
    """`renders`: every release of ONE profile deployed into `namespace` (both apps, one render each)."""
    found: list[str] = []
    hard: dict[str, Any] = {}
    for quota in _of(objects, "ResourceQuota", namespace):
        hard.update((quota.get("spec") or {}).get("hard") or {})
    demand = peak_demand(renders)
    profile = ", ".join(sorted({f"{r.app} ({r.env})" for r in renders}))
    for key in COMPUTE_KEYS:
        if key in hard and quantity(hard[key]) < demand[key]:
            found.append(
                f"namespace {namespace}: ResourceQuota {key} {hard[key]} is below the {_format(key, demand[key])} "
                f"that {profile} need at a rollout's peak (replicas + maxSurge of both colours): pods are refused"
            )
    every = [(d, c) for render in renders for d in render.of_kind("Deployment") for c in containers(d)]
    for limit_range in _of(objects, "LimitRange", namespace):
        for item in (limit_range.get("spec") or {}).get("limits") or []:
            if item.get("type") == "Container":
                found += [p for d, c in every for p in _limit_range_refusals(namespace, item, d, c)]
    return found


def _limit_range_refusals(
    namespace: str, item: Mapping[str, Any], deployment: Mapping[str, Any], container: Mapping[str, Any]
) -> list[str]:
    found = []
    resources = container.get("resources") or {}
    where = f"Deployment {deployment['metadata']['name']} container {container.get('name')}"
    for resource, bound in (item.get("max") or {}).items():
        for kind in ("limits", "requests"):
            value = (resources.get(kind) or {}).get(resource)
            if value is not None and quantity(value) > quantity(bound):
                found.append(
                    f"namespace {namespace}: LimitRange max {resource} {bound} is below {where}'s "
                    f"{kind} {value}: the pod is refused"
                )
    for resource, bound in (item.get("min") or {}).items():
        value = (resources.get("requests") or {}).get(resource)
        if value is not None and quantity(value) < quantity(bound):
            found.append(f"namespace {namespace}: LimitRange min {resource} {bound} is above {where}'s request {value}")
    return found
