"""Check `runAsUser` (restricted), from v1.23: neither the pod nor any container may set runAsUser: 0.

Unset is allowed (the image's user, which runAsNonRoot then guards).
Relaxed for hostUsers: false only when the API server enables UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_runAsUser.go
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
    security_context,
)


def check_1_23(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    setters = ["pod"] if is_zero(security_context(pod.spec).get("runAsUser")) else []
    bad = [name(c) for c in containers(pod.spec) if is_zero(security_context(c).get("runAsUser"))]
    if bad:
        setters.append(containers_phrase(bad))
    return forbidden("runAsUser=0", f"{' and '.join(setters)} must not set runAsUser=0") if setters else ALLOWED


CHECK = Check(
    id="runAsUser",
    level="restricted",
    versions=(VersionedCheck(v(23), check_1_23),),
    upstream=f"{UPSTREAM}/check_runAsUser.go",
)
