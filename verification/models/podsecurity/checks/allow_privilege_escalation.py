"""Check `allowPrivilegeEscalation` (restricted), from v1.8; from v1.25 Windows pods are exempt.

Every container (init, regular, ephemeral) must set securityContext.allowPrivilegeEscalation to
false; absent (nil) fails like true.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_allowPrivilegeEscalation.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v, windows_exempt
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_where,
    forbidden,
)


def check_1_8(pod: Pod) -> CheckResult:
    bad = containers_where(pod.spec, lambda sc: sc.get("allowPrivilegeEscalation") is not False)
    if bad:
        return forbidden(
            "allowPrivilegeEscalation != false",
            f"{containers_phrase(bad)} must set securityContext.allowPrivilegeEscalation=false",
        )
    return ALLOWED


CHECK = Check(
    "allowPrivilegeEscalation",
    "restricted",
    (VersionedCheck(v(8), check_1_8), VersionedCheck(v(25), windows_exempt(check_1_8))),
)
