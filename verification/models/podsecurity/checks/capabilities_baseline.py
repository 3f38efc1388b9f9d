"""Check `capabilities_baseline` (baseline), from v1.0; replaced at restricted by capabilities_restricted.

securityContext.capabilities.add of every container may hold only the default set below.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_capabilities_baseline.go
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

ID = "capabilities_baseline"
ALLOWED_1_0 = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip


def check_1_0(pod: Pod) -> CheckResult:
    bad, added = [], set()
    for c in containers(pod.spec):
        extra = [
            cap for cap in (security_context(c).get("capabilities") or {}).get("add") or [] if cap not in ALLOWED_1_0
        ]
        if extra:
            bad.append(name(c))
            added.update(extra)
    if bad:
        return forbidden(
            "non-default capabilities",
            f"{containers_phrase(bad)} must not include {join_quote(sorted(added))} in "
            "securityContext.capabilities.add",
        )
    return ALLOWED


CHECK = Check(
    id=ID,
    level="baseline",
    versions=(VersionedCheck(v(0), check_1_0),),
    upstream=f"{UPSTREAM}/check_capabilities_baseline.go",
)
