"""Capacity of each colour while Kubernetes changes it: rollouts, voluntary evictions, shutdown.

The blue-green promise (zero failed requests) needs more than the switch itself:
- a rollout of a colour (a chart change rolls both) never takes a serving pod away before its
  replacement is ready: RollingUpdate with maxUnavailable 0;
- a node drain never evicts every pod of a colour: its PodDisruptionBudget allows fewer
  disruptions than the colour has replicas (and a colour has at least 2 replicas);
- a pod on its way out tells keep-alive clients to leave: it drains (DRAIN_DELAY_SECONDS > 0,
  answering with `Connection: close`), and a connection opened just before endpoint removal is
  closed by age (MAX_CONNECTION_AGE_SECONDS) before the process exits after preStop + drain.
"""

import math
from collections.abc import Mapping
from typing import Any

from verification.models.delivery.chart import Render, colour_deployments, containers, pod_labels, selects

MIN_REPLICAS = 2


def _spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("spec") or {}


def _scaled(value: Any, replicas: int, *, round_up: bool) -> int:
    """An int-or-percent field of a Deployment or PDB, as Kubernetes resolves it for `replicas`."""
    if isinstance(value, str) and value.endswith("%"):
        exact = replicas * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def check_rollout(r: Render) -> list[str]:
    found = []
    for deployment in r.of_kind("Deployment"):
        name = f"Deployment {deployment['metadata']['name']}"
        spec = _spec(deployment)
        replicas = int(spec.get("replicas", 1))
        strategy = spec.get("strategy") or {}
        if strategy.get("type", "RollingUpdate") != "RollingUpdate":
            found.append(f"{name}: strategy {strategy.get('type')} stops every pod before starting new ones")
            continue
        rolling = strategy.get("rollingUpdate") or {}
        unavailable = _scaled(rolling.get("maxUnavailable", "25%"), replicas, round_up=False)
        if unavailable > 0:
            found.append(
                f"{name}: rollingUpdate.maxUnavailable {rolling.get('maxUnavailable', '25%')} takes {unavailable} "
                "serving pod(s) away before their replacements are ready; use maxUnavailable 0 with maxSurge >= 1"
            )
    return found


def check_disruption_budget(r: Render) -> list[str]:
    found = []
    budgets = r.of_kind("PodDisruptionBudget")
    for color, deployment in colour_deployments(r).items():
        if deployment is None:
            continue
        name = f"Deployment {deployment['metadata']['name']}"
        replicas = int(_spec(deployment).get("replicas", 1))
        if replicas < MIN_REPLICAS:
            found.append(f"{name}: {replicas} replica(s); a colour needs {MIN_REPLICAS} to survive one eviction")
        covering = [
            b for b in budgets if selects((_spec(b).get("selector") or {}).get("matchLabels"), pod_labels(deployment))
        ]
        for budget in covering:
            spec = _spec(budget)
            if "minAvailable" in spec:
                allowed = replicas - _scaled(spec["minAvailable"], replicas, round_up=True)
                what = f"minAvailable {spec['minAvailable']}"
            else:
                allowed = _scaled(spec.get("maxUnavailable", 1), replicas, round_up=True)
                what = f"maxUnavailable {spec.get('maxUnavailable')}"
            if allowed >= replicas:
                found.append(
                    f"PodDisruptionBudget {budget['metadata']['name']}: {what} lets a drain evict all {replicas} "
                    f"pod(s) of the {color} colour at once"
                )
    return found


def _env_int(container: Mapping[str, Any], name: str) -> int | None:
    # The kubelet lets the last entry of a name win.
    for entry in reversed(container.get("env") or []):
        if entry.get("name") == name:
            try:
                return int(str(entry.get("value")))
            except ValueError:
                return None
    return None


def check_drain(r: Render) -> list[str]:
    found = []
    for deployment in r.of_kind("Deployment"):
        name = f"Deployment {deployment['metadata']['name']}"
        for container in containers(deployment):
            drain = _env_int(container, "DRAIN_DELAY_SECONDS")
            age = _env_int(container, "MAX_CONNECTION_AGE_SECONDS")
            pre_stop = int(
                (((container.get("lifecycle") or {}).get("preStop") or {}).get("sleep") or {}).get("seconds", 0)
            )
            if drain is None or age is None:
                continue  # the runtime contract check names a missing or malformed variable
            if pre_stop <= 0:
                found.append(
                    f"{name}: no preStop sleep: SIGTERM arrives while endpoint removal is still propagating, "
                    "so requests keep arriving at a pod that is already shutting down"
                )
            if drain <= 0:
                found.append(
                    f"{name}: DRAIN_DELAY_SECONDS {drain}: the app exits at SIGTERM without telling keep-alive "
                    "clients to leave (Connection: close), so their next request fails"
                )
            if pre_stop + drain < age:
                found.append(
                    f"{name}: preStop {pre_stop}s + drain {drain}s < MAX_CONNECTION_AGE_SECONDS {age}: a connection "
                    "opened just before endpoint removal is still open when the process exits"
                )
    return found


def violations(r: Render) -> list[str]:
    return [f"{r.label}: {v}" for check in (check_rollout, check_disruption_budget, check_drain) for v in check(r)]
