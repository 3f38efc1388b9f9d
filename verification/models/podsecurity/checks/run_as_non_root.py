"""Check `runAsNonRoot` (restricted), from v1.0.

An explicit runAsNonRoot: false anywhere (pod or any container) fails, whatever the other level
says. A container that leaves it unset passes only when the pod sets it to true.
Relaxed for hostUsers: false only when the API server enables UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_runAsNonRoot.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers_phrase,
    containers_where,
    forbidden,
    pod_or_containers,
    security_context,
)

REASON = "runAsNonRoot != true"


def check_1_0(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    setters = pod_or_containers(pod.spec, lambda sc: sc.get("runAsNonRoot") is False)
    if setters:
        return forbidden(REASON, f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false")
    # a container that leaves it unset inherits the pod's value: only pod-level true covers it
    implicit = containers_where(pod.spec, lambda sc: sc.get("runAsNonRoot") is None)
    if implicit and security_context(pod.spec).get("runAsNonRoot") is not True:
        return forbidden(REASON, f"pod or {containers_phrase(implicit)} must set securityContext.runAsNonRoot=true")
    return ALLOWED


CHECK = Check("runAsNonRoot", "restricted", (VersionedCheck(v(0), check_1_0),))
