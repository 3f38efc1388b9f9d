"""Check `allowPrivilegeEscalation` (restricted), from v1.8; from v1.25 Windows pods are exempt.

Every container (init, regular, ephemeral) must set securityContext.allowPrivilegeEscalation to
false; absent (nil) fails like true.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_allowPrivilegeEscalation.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_where,
    forbidden,
    is_windows,
)


def check_1_8(pod: Pod) -> CheckResult:
    bad = containers_where(pod.spec, lambda sc: sc.get("allowPrivilegeEscalation") is not False)
    if bad:
        return forbidden(
            "allowPrivilegeEscalation != false",
            f"{containers_phrase(bad)} must set securityContext.allowPrivilegeEscalation=false",
        )
    return ALLOWED


def check_1_25(pod: Pod) -> CheckResult:
    return ALLOWED if is_windows(pod.spec) else check_1_8(pod)


CHECK = Check(
    id="allowPrivilegeEscalation",
    level="restricted",
    versions=(VersionedCheck(v(8), check_1_8), VersionedCheck(v(25), check_1_25)),
    upstream=f"{UPSTREAM}/check_allowPrivilegeEscalation.go",
)
