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
    containers,
    containers_phrase,
    forbidden,
    name,
    security_context,
)

REASON = "runAsNonRoot != true"


def check_1_0(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    setters = []
    pod_value = security_context(pod.spec).get("runAsNonRoot")
    if pod_value is False:
        setters.append("pod")
    explicit, implicit = [], []
    for c in containers(pod.spec):
        value = security_context(c).get("runAsNonRoot")
        if value is None:
            if pod_value is not True:
                implicit.append(name(c))
        elif value is False:
            explicit.append(name(c))
    if explicit:
        setters.append(containers_phrase(explicit))
    if setters:
        return forbidden(REASON, f"{' and '.join(setters)} must not set securityContext.runAsNonRoot=false")
    if implicit:
        return forbidden(REASON, f"pod or {containers_phrase(implicit)} must set securityContext.runAsNonRoot=true")
    return ALLOWED


CHECK = Check("runAsNonRoot", "restricted", (VersionedCheck(v(0), check_1_0),))
