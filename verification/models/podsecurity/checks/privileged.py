"""Check `privileged` (baseline), from v1.0: no container may set securityContext.privileged=true.

Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_privileged.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_where,
    forbidden,
)


def check_1_0(pod: Pod) -> CheckResult:
    bad = containers_where(pod.spec, lambda sc: sc.get("privileged") is True)
    if bad:
        return forbidden("privileged", f"{containers_phrase(bad)} must not set securityContext.privileged=true")
    return ALLOWED


CHECK = Check("privileged", "baseline", (VersionedCheck(v(0), check_1_0),))
