"""Who is published outside the cluster: NodePort and LoadBalancer Services, and the quotas.

Production (the manifests plus the environments' renders): a Service reachable from outside the
cluster says why (annotation platform.io/exposure), and each namespace quota allows exactly the
node ports and load balancers its exposed Services need: no spare allowance that lets anyone who
may create Services open a port on every node. A test profile's allowances live in its own
overlay (platform/environments/<profile>/overlay/allowances.yaml), sized to what its renders need.
"""

from collections.abc import Iterable
from typing import Any

from verification.yamlio import source_of

EXPOSURE_ANNOTATION = "platform.io/exposure"
EXPOSED_TYPES = ("NodePort", "LoadBalancer")
QUOTA_KEYS = ("services.nodeports", "services.loadbalancers")


def node_ports(service: dict[str, Any]) -> int:
    """Node ports a Service allocates: one per port for NodePort and (by default) LoadBalancer."""
    spec = service.get("spec") or {}
    if spec.get("type") == "NodePort":
        return len(spec.get("ports") or [])
    if spec.get("type") == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts", True):
        return len(spec.get("ports") or [])
    return 0


def needs(services: Iterable[dict[str, Any]]) -> dict[str, dict[str, int]]:
    """Namespace -> quota key -> what its exposed Services need."""
    out: dict[str, dict[str, int]] = {}
    for service in services:
        ns = service["metadata"].get("namespace", "")
        need = out.setdefault(ns, dict.fromkeys(QUOTA_KEYS, 0))
        need["services.nodeports"] += node_ports(service)
        need["services.loadbalancers"] += (service.get("spec") or {}).get("type") == "LoadBalancer"
    return out


def _services(objects: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o.get("kind") == "Service"]


def check_production(objects: list[dict[str, Any]]) -> list[str]:
    problems = []
    services = _services(objects)
    for service in services:
        meta = service["metadata"]
        kind = (service.get("spec") or {}).get("type", "ClusterIP")
        if kind in EXPOSED_TYPES and not str((meta.get("annotations") or {}).get(EXPOSURE_ANNOTATION, "")).strip():
            problems.append(
                f"{source_of(service)}: Service {meta.get('namespace')}/{meta['name']} is a {kind} (published on "
                f"every node) without annotation {EXPOSURE_ANNOTATION} saying why"
            )
    needed = needs(services)
    for quota in (o for o in objects if o.get("kind") == "ResourceQuota"):
        ns = quota["metadata"].get("namespace", "")
        hard = (quota.get("spec") or {}).get("hard") or {}
        for key in QUOTA_KEYS:
            want = needed.get(ns, {}).get(key, 0)
            if key not in hard:
                problems.append(f"{source_of(quota)}: quota {ns}/{quota['metadata']['name']} does not limit {key}")
            elif int(str(hard[key])) != want:
                problems.append(
                    f"{source_of(quota)}: quota {ns}/{quota['metadata']['name']} allows {key}={hard[key]}, its "
                    f"exposed Services need {want}: a spare allowance lets anyone who may create Services "
                    "publish a port on every node (test profiles raise it in their own overlay)"
                )
    return problems


def check_overlay(overlay: dict[str, Any], where: str, profile_objects: list[dict[str, Any]]) -> list[str]:
    """A profile's quota overlay is exactly what its renders need in its namespace."""
    ns = overlay.get("namespace")
    quota = overlay.get("quota") or {}
    needed = needs(_services(profile_objects)).get(str(ns), dict.fromkeys(QUOTA_KEYS, 0))
    problems = []
    for key in sorted(set(quota) | {k for k, v in needed.items() if v}):
        have = int(str(quota.get(key, 0)))
        if have != needed.get(key, 0):
            problems.append(f"{where}: quota {key}={have} in {ns}, the profile's Services need {needed.get(key, 0)}")
    return problems
