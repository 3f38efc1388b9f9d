"""How many objects of each kind each namespace holds: taken before and after a run on a cluster
the suite did not create, the two censuses show whether it was left as found.

Kinds that change by themselves on any live cluster are not counted (VOLATILE): events, leases
renewed by controllers, and the review objects that are never stored.
"""

import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from verification.cluster.cluster import Cluster
from verification.errors import UserError

VOLATILE = frozenset(
    {
        "events",
        "events.events.k8s.io",
        "leases.coordination.k8s.io",
        "endpointslices.discovery.k8s.io",  # mirrors Endpoints, rewritten on every pod change
    }
)
CLUSTER_SCOPE = "(cluster)"  # the namespace column of cluster-scoped kinds

Census = dict[str, int]  # "kind namespace" -> count


def count(items: list[Mapping[str, object]]) -> Census:
    """Objects (as `kubectl get -o json` lists them) counted per kind and namespace."""
    counts: Counter[str] = Counter()
    for item in items:
        meta = item.get("metadata")
        namespace = meta.get("namespace") if isinstance(meta, dict) else None
        counts[f"{item.get('kind')} {namespace or CLUSTER_SCOPE}"] += 1
    return dict(sorted(counts.items()))


def take(cluster: Cluster) -> Census:
    """Every listable, non-volatile object of the cluster, counted (one `kubectl get`)."""
    listable = cluster.kubectl("api-resources", "--verbs=list", "-o", "name", timeout=60).stdout
    kinds = ",".join(sorted(k for k in listable.split() if k not in VOLATILE))
    out = cluster.kubectl("get", kinds, "--all-namespaces", "-o", "json", timeout=300).stdout
    return count(json.loads(out).get("items") or [])


def diff(before: Mapping[str, int], after: Mapping[str, int]) -> list[str]:
    """`kind namespace: before -> after` for each count that changed, sorted."""
    return [
        f"{key}: {before.get(key, 0)} -> {after.get(key, 0)}"
        for key in sorted(set(before) | set(after))
        if before.get(key, 0) != after.get(key, 0)
    ]


def render(census: Mapping[str, int]) -> str:
    width = max((len(k) for k in census), default=10)
    return "\n".join(f"{key:{width}}  {n}" for key, n in census.items())


def load(path: Path) -> Census:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise UserError(f"{path}: not a census written by `cluster census --out` ({type(exc).__name__})") from None
    if not isinstance(data, dict) or not all(isinstance(v, int) for v in data.values()):
        raise UserError(f"{path}: not a census written by `cluster census --out` (expected kind -> count)")
    return {str(k): int(v) for k, v in data.items()}
