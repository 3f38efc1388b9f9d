"""Check `procMount` (baseline), from v1.0: securityContext.procMount must be unset or "Default".

Relaxed (all values) for hostUsers: false only when the API server enables
UserNamespacesPodSecurityStandards.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_procMount.go
"""

from verification.models.podsecurity.check import UPSTREAM, Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    containers,
    containers_phrase,
    forbidden,
    join_quote,
    name,
    security_context,
)


def check_1_0(pod: Pod) -> CheckResult:
    if pod.user_namespace_relaxed:
        return ALLOWED
    bad, kinds = [], set()
    for c in containers(pod.spec):
        mount = security_context(c).get("procMount")
        if mount is not None and mount != "Default":
            bad.append(name(c))
            kinds.add(str(mount))
    if bad:
        return forbidden(
            "procMount",
            f"{containers_phrase(bad)} must not set securityContext.procMount to {join_quote(sorted(kinds))}",
        )
    return ALLOWED


CHECK = Check(
    id="procMount",
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_procMount.go",
)
