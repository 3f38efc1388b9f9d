"""Check `hostPorts` (baseline), from v1.0: every containers[*].ports[*].hostPort must be unset or 0.

Init, regular and ephemeral containers alike.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_hostPorts.go
"""

from collections.abc import Mapping
from typing import Any

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_with,
    forbidden,
    is_zero,
    pluralize,
)


def _host_ports(container: Mapping[str, Any]) -> list[str]:
    return [
        str(p["hostPort"])
        for p in container.get("ports") or []
        if p.get("hostPort") is not None and not is_zero(p["hostPort"])
    ]


def check_1_0(pod: Pod) -> CheckResult:
    bad, ports = containers_with(pod.spec, _host_ports)
    if bad:
        return forbidden(
            "hostPort",
            f"{containers_phrase(bad)} {pluralize('uses', 'use', len(bad))} "
            f"{pluralize('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
        )
    return ALLOWED


CHECK = Check("hostPorts", "baseline", (VersionedCheck(v(0), check_1_0),))
