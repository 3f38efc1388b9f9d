"""Check `hostPorts` (baseline), from v1.0: every containers[*].ports[*].hostPort must be unset or 0.

Init, regular and ephemeral containers alike.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_hostPorts.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    is_zero,
    name,
    pluralize,
)


def check_1_0(pod: Pod) -> CheckResult:
    bad, ports = [], set()
    for c in containers(pod.spec):
        used = [str(p["hostPort"]) for p in c.get("ports") or [] if p.get("hostPort") is not None
                and not is_zero(p["hostPort"])]  # fmt: skip
        if used:
            bad.append(name(c))
            ports.update(used)
    if bad:
        return forbidden(
            "hostPort",
            f"{containers_phrase(bad)} {pluralize('uses', 'use', len(bad))} "
            f"{pluralize('hostPort', 'hostPorts', len(ports))} {', '.join(sorted(ports))}",
        )
    return ALLOWED


CHECK = Check(
    id="hostPorts",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_hostPorts.go",
)
