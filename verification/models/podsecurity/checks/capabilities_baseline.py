"""Check `capabilities_baseline` (baseline), from v1.0; replaced at restricted by capabilities_restricted.

securityContext.capabilities.add of every container may hold only the default set below.
Upstream: https://github.com/kubernetes/pod-security-admission/blob/v0.33.13/policy/check_capabilities_baseline.go
"""

from verification.models.podsecurity.check import Check, VersionedCheck, v
from verification.models.podsecurity.result import (
    ALLOWED,
    CheckResult,
    Pod,
    added_capabilities,
    containers_phrase,
    containers_with,
    forbidden,
    join_quote,
)

ID = "capabilities_baseline"
ALLOWED_1_0 = frozenset({
    "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
    "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
})  # fmt: skip


def check_1_0(pod: Pod) -> CheckResult:
    bad, added = containers_with(pod.spec, lambda c: added_capabilities(c, ALLOWED_1_0))
    if bad:
        return forbidden(
            "non-default capabilities",
            f"{containers_phrase(bad)} must not include {join_quote(sorted(added))} in "
            "securityContext.capabilities.add",
        )
    return ALLOWED


CHECK = Check(ID, "baseline", (VersionedCheck(v(0), check_1_0),))
